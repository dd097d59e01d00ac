"""The public, typed arguments of :class:`~eksplatform.service.ServiceStack`.

Only ``team``, ``image`` and ``port`` are required; every other field has the default its
docstring states (the service's ``name`` is the ServiceStack's resource name, the ``cluster`` is
the contract of the stack named by the stack config's ``clusterStack``). Nested settings are
their own frozen dataclasses so a service program changes one value without restating the rest::

    ServiceStackArgs(
        team="news", image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2",
        port=8080,
        autoscaling=Autoscaling(min_replicas=3, max_replicas=30),
        ingress=Ingress(public=True, certificate_arn="arn:aws:acm:..."),
    )

Every value is checked by :func:`eksplatform.service.validate.plan_service` before anything is
registered. The classes never raise on a misspelt, missing or positional argument: they record it
(:func:`~eksplatform.service.shapes.keyword_arguments`) and the validation reports every one under
its field path, with the closest valid name.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import pulumi
import pulumi_kubernetes as k8s

from ..core.contract import ClusterOutputs
from ..envoy import EscapedSlashes, Protocol, RetryPolicy
from .shapes import keyword_arguments

ResourceName = Literal["cpu", "memory"]
VpaUpdateMode = Literal["Off", "Initial", "Recreate", "InPlaceOrRecreate"]


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Resources:
    """Requests (and optional limits) of the app container."""

    cpu: str = "250m"
    """CPU request (``"250m"``, ``"0.5"``). Default: "250m"."""
    memory: str = "256Mi"
    """Memory request (``"256Mi"``, ``"1Gi"``). Default: "256Mi"."""
    memory_limit: str | None = None
    """Memory limit, at least the request. Default: equal to ``memory`` (no overcommit)."""
    cpu_limit: str | None = None
    """CPU limit, at least the request. Default: None (no CPU limit: throttling adds latency even
    on an idle node)."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class MetricTarget:
    """A custom (``Pods``) or external (``External``) metric the HPA also scales on."""

    name: str
    """Metric name as the metrics adapter serves it (e.g. ``requests_per_second`` or
    ``datadogmetric@news:feed-rps``). Required."""
    average_value: str
    """Target value per pod, a Kubernetes quantity (``"100"``, ``"500m"``). Required."""
    type: Literal["Pods", "External"] = "Pods"
    """``Pods`` (a per-pod custom metric) or ``External`` (a metric from outside the cluster).
    Default: "Pods"."""
    selector: Mapping[str, str] = field(default_factory=dict)
    """Label selector narrowing the metric series. Default: none."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Autoscaling:
    """HorizontalPodAutoscaler (autoscaling/v2). Behaviour: scale up fast, scale down slowly."""

    min_replicas: int = 2
    """Fewest pods, 1 or more (2+ in prod). Default: 2."""
    max_replicas: int = 10
    """Most pods, at least ``min_replicas``. Default: 10."""
    cpu_target_percent: int | None = 70
    """Average CPU utilisation target, % of the request (1-100). None: not a metric.
    Default: 70."""
    memory_target_percent: int | None = None
    """Average memory utilisation target, % of the request (1-100). None: not a metric. Most
    runtimes never give memory back, so memory targets tend to only scale up. Default: None."""
    metrics: Sequence[MetricTarget] = ()
    """Custom / external metrics. Default: none."""
    scale_up_stabilization_s: int = 0
    """Scale-up stabilisation window, seconds (0-3600). Default: 0 (react at once)."""
    scale_up_percent: int = 100
    """Scale up by at most this % of the current pods per 15 s (or ``scale_up_pods``, whichever
    is larger). Default: 100 (double)."""
    scale_up_pods: int = 4
    """...or by at most this many pods per 15 s. Default: 4."""
    scale_down_stabilization_s: int = 300
    """Scale-down stabilisation window, seconds (0-3600). Default: 300."""
    scale_down_percent: int = 10
    """Scale down by at most this % of the pods per minute. Default: 10."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Vpa:
    """VerticalPodAutoscaler (``autoscaling.k8s.io/v1``), for fixed-count services.

    Needs the cluster's VPA add-on. Refused together with an HPA that scales on the same
    resource (both would fight over the same signal)."""

    update_mode: VpaUpdateMode = "Recreate"
    """``Off`` (recommend only), ``Initial`` (at pod creation), ``Recreate`` (evict to resize,
    respecting the PDB) or ``InPlaceOrRecreate``. Default: "Recreate"."""
    controlled_resources: tuple[ResourceName, ...] = ("cpu", "memory")
    """Resources the VPA sets. Default: ("cpu", "memory")."""
    min_cpu: str | None = None
    """Lowest CPU request it may set. Default: None (the VPA's own floor)."""
    max_cpu: str | None = None
    """Highest CPU request it may set. Default: None."""
    min_memory: str | None = None
    """Lowest memory request it may set. Default: None."""
    max_memory: str | None = None
    """Highest memory request it may set. Default: None."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Probes:
    """The app container's probes (HTTP GET on the app port unless ``port`` is set)."""

    readiness_path: str = "/ready"
    """Readiness path; also the path Envoy health-checks the app on. Default: "/ready"."""
    liveness_path: str = "/healthz"
    """Liveness path. Default: "/healthz"."""
    startup_path: str | None = None
    """Startup path. Default: ``liveness_path``."""
    port: int | None = None
    """Port the probes call. Default: the app's ``port``."""
    startup_timeout_s: int = 120
    """Longest the app may take to start before it is restarted, seconds (10-3600).
    Default: 120."""
    period_s: int = 10
    """Readiness and liveness period, seconds (1-300). Default: 10."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Dependency:
    """Another service this one calls through its Envoy sidecar.

    The app calls ``http://127.0.0.1:<egress_port>``; Envoy forwards to
    ``<service>.<namespace>.svc.cluster.local:<port>`` with timeouts, retries, circuit breakers.
    """

    name: str
    """The other service's name (its ServiceStack ``name``). Required."""
    team: str | None = None
    """The other service's team; its namespace comes from the cluster contract. Default: this
    service's team (unless ``namespace`` is set)."""
    namespace: str | None = None
    """Explicit namespace (wins over ``team``). Default: the team's namespace."""
    port: int = 80
    """The other Service's port. Default: 80 (a ServiceStack's Service port)."""
    egress_port: int | None = None
    """Local port the app calls for this dependency. Default: 15101 + its index."""
    protocol: Protocol = "http1"
    """"http1" or "http2" (gRPC). Default: "http1"."""
    timeout_s: float = 5.0
    """Whole-call timeout including retries, seconds. Default: 5s."""
    idle_timeout_s: float = 30.0
    """How long Envoy keeps an idle connection to it, seconds; below its server's keep-alive
    (a ServiceStack's Envoy: 75 s). Default: 30s."""
    max_concurrent_streams: int = 100
    """"http2" only: the server's stream limit per connection; Envoy uses half of it per
    connection and opens more connections. Default: 100."""
    retries: RetryPolicy = field(default_factory=RetryPolicy)
    """Retry policy. Default: ``RetryPolicy()`` (idempotent methods: 2 retries, 2s per try;
    other methods only when never processed; Retry-After up to 2s; 20% budget)."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class EnvoyOptions:
    """The Envoy sidecar's settings other than dependencies (see :mod:`eksplatform.envoy`)."""

    ingress_port: int = 15001
    """Envoy's ingress port: the Kubernetes Service's target port. Default: 15001."""
    admin_port: int = 15000
    """Admin port (127.0.0.1 only). Default: 15000."""
    stats_port: int = 15090
    """Prometheus stats and /ready port. Default: 15090."""
    app_protocol: Protocol = "http1"
    """Protocol Envoy speaks to the app. Default: "http1"."""
    request_timeout_s: float = 15.0
    """Route timeout of ingress requests, seconds. Default: 15s."""
    request_receive_timeout_s: float = 10.0
    """Time a client has to send the whole request, body included; slower ones get 408.
    Default: 10s."""
    stream_idle_timeout_s: float | None = None
    """A request without a byte either way this long is cut. Default: None, the longer of
    ``request_receive_timeout_s`` and ``request_timeout_s``."""
    idle_timeout_s: float = 75.0
    """Downstream idle timeout, seconds; above the ALB's idle timeout. Default: 75s."""
    app_idle_timeout_s: float = 1.0
    """How long Envoy keeps an idle connection to the app, seconds; below the app server's
    keep-alive (gunicorn 2 s, Node.js 5 s). Default: 1s."""
    buffer_limit_kib: int = 32
    """Per-connection buffer limit, KiB (4-1024); larger request bodies are not retried.
    Default: 32."""
    max_concurrent_streams: int = 100
    """HTTP/2 streams per caller connection. Default: 100."""
    max_downstream_connections: int | None = None
    """Cap on ingress connections. Default: None, derived from ``memory`` (487 at 128Mi)."""
    escaped_slashes: EscapedSlashes = "unescape_and_redirect"
    """``%2F`` / ``%5C`` in paths: "unescape_and_redirect", "reject", "unescape_and_forward"
    or "keep". Default: "unescape_and_redirect"."""
    drain_time_s: int = 5
    """Graceful drain of the ingress when the pod stops, seconds; at most ``prestop_sleep_s``.
    Default: 5."""
    concurrency: int = 2
    """Worker threads. Default: 2."""
    dogstatsd: bool = True
    """Send Envoy stats to the node's Datadog agent (DogStatsD on the node IP). Default: True."""
    cpu: str = "100m"
    """Sidecar CPU request. Default: "100m"."""
    memory: str | None = None
    """Sidecar memory request and limit; Envoy's heap and connection caps are derived from it.
    Default: None, 128Mi (measured: :mod:`eksplatform.envoy.memory`)."""
    image: str | None = None
    """Envoy image. Default: :data:`eksplatform.envoy.ENVOY_IMAGE`."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Ingress:
    """An ALB in front of the service (HTTPS, HTTP redirected), reaching pods via node ports."""

    public: bool = False
    """Internet-facing (public subnets) or internal (private subnets). Default: False."""
    certificate_arn: str | None = None
    """ACM certificate of the HTTPS listener. Required in prod; elsewhere None serves plain
    HTTP on port 80. Default: None."""
    allowed_cidrs: Sequence[str] | None = None
    """Client CIDRs allowed on 80/443. Default: 0.0.0.0/0 when public, the VPC CIDR when
    internal."""
    ssl_policy: str = "ELBSecurityPolicy-TLS13-1-2-2021-06"
    """TLS policy of the HTTPS listener (TLS 1.3 + 1.2). Default: that."""
    idle_timeout_s: int = 60
    """ALB idle timeout, seconds; below Envoy's ``idle_timeout_s``. Default: 60."""
    deregistration_delay_s: int = 20
    """Target group deregistration delay, seconds (0-3600); covers Envoy's drain. Default: 20."""
    deletion_protection: bool | None = None
    """ALB deletion protection. Default: on in prod, off elsewhere."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Alarms:
    """CloudWatch alarms on the ALB, notifying the team's SNS topic (only with ``ingress``)."""

    error_rate_percent: float = 5.0
    """ALB + target 5xx as % of requests, per period. Default: 5%."""
    p99_latency_s: float = 1.0
    """Target response time p99, seconds. Default: 1s."""
    unhealthy_hosts: int = 1
    """Alarm when at least this many targets are unhealthy. Default: 1."""
    period_s: int = 60
    """Period, seconds (a multiple of 60). Default: 60."""
    evaluation_periods: int = 5
    """Periods evaluated. Default: 5."""
    datapoints_to_alarm: int = 3
    """Breaching periods (of ``evaluation_periods``) that fire the alarm. Default: 3."""


MonitorWindow = Literal[5, 10, 15, 30, 60, 120, 240, 1440]
"""Evaluation windows of the monitors, minutes (Datadog's ``last_5m`` ... ``last_1d``)."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class QueueMonitor:
    """The SQS queue a worker drains: monitors on its oldest message's age and/or its depth,
    read from Datadog's AWS integration (``aws.sqs.*``, about 10 minutes behind)."""

    name: pulumi.Input[str]
    """The queue's name (an Output of the program's ``aws.sqs.Queue`` is fine). Required."""
    max_age_s: int | None = 1800
    """Alert when the oldest message has waited longer, seconds (60-1209600). None: no age
    monitor. Default: 1800 (30 minutes)."""
    max_depth: int | None = None
    """Alert when more messages than this are waiting (visible), 1-100000000. None: no depth
    monitor. Default: None."""
    window_min: MonitorWindow = 15
    """Evaluation window, minutes. Default: 15."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Monitors:
    """Datadog monitors of the service (pulumi-datadog), notifying the team's channels from the
    cluster contract (``teamMonitorChannels``). See :mod:`eksplatform.service.monitors` for the
    queries."""

    http: bool = True
    """Error rate and p99 latency of the Envoy ingress listener (every request the service
    serves, ALB or in-cluster). False for a service nothing calls (a queue worker).
    Default: True."""
    error_rate_percent: float = 5.0
    """Alert when 5xx responses exceed this share of the requests, % (0-100, above 0).
    Default: 5."""
    p99_latency_ms: int = 1000
    """Alert when the slowest pod's p99 request time exceeds this, ms (1-600000).
    Default: 1000."""
    http_window_min: MonitorWindow = 5
    """Evaluation window of the error rate and latency, minutes. Default: 5."""
    restarts: int = 3
    """Alert when a pod's containers restart this many times within ``restarts_window_min``
    (1-100). Default: 3."""
    restarts_window_min: MonitorWindow = 15
    """Window of the restart and OOM kill monitors, minutes. Default: 15."""
    oom_kills: bool = True
    """Alert when a container's last exit was an OOM kill. Default: True."""
    replicas_window_min: MonitorWindow = 10
    """Alert when fewer pods are available than the floor (the HPA's current ``minReplicas``,
    which follows the pre-scaler, or ``replicas``) for this long, minutes. Default: 10."""
    queue: QueueMonitor | None = None
    """The queue the service drains (workers). Default: None."""
    runbook_url: str | None = None
    """An https URL every monitor's message links to. Default: None."""
    priority: int | None = None
    """Datadog priority of every monitor, 1 (P1, highest) to 5. Default: None (unset)."""
    notify: Sequence[str] = ()
    """Handles notified besides the team's channels (``@slack-feed-dev``). Default: none."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class PreScaling:
    """Opt in to the push pre-scaler: it raises the HPA's floor before a push goes out."""

    factor: int = 10
    """How many times the current replicas the pre-scaler may ask for (2-100). Default: 10."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class CanaryHeader:
    """A request header that sends a request to the canary whatever the weight (testers,
    synthetic checks). The ALB compares the name and value case-insensitively."""

    name: str
    """HTTP header name (RFC 7230 token characters, 1-40; not ``Host``), e.g. ``x-canary``.
    Required."""
    value: str
    """The exact value (1-128 visible ASCII characters; ``*`` and ``?`` are refused: the ALB
    reads them as wildcards). Required."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class CanaryAnalysis:
    """Thresholds ``eksplatform canary analyze`` judges the canary's target group by, against
    the stable one over the same window (ALB metrics in CloudWatch)."""

    window_minutes: int = 10
    """Length of the window analysed, minutes (1-180). Default: 10."""
    min_requests: int = 200
    """Fewest canary requests in the window for a verdict; fewer: inconclusive (1-1000000000).
    Default: 200."""
    max_error_rate_percent: float = 5.0
    """Highest canary 5xx rate (target 5xx and connection errors, % of its requests), absolute
    (0-100]. Default: 5."""
    max_error_rate_increase: float = 1.0
    """Highest canary 5xx rate above the stable one, percentage points [0-100]. Default: 1."""
    max_p99_latency_s: float = 1.0
    """Highest canary target response time p99, seconds, absolute (0-600]. Default: 1."""
    max_p99_latency_ratio: float = 1.5
    """Highest canary p99 as a multiple of the stable p99 [1-100]. Default: 1.5."""
    min_healthy_hosts: int = 1
    """Fewest healthy targets of the canary's target group in the window (1-1000); also what
    ``step`` and ``promote`` require of the target group that gains traffic. Default: 1."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class Canary:
    """A canary release on the service's ALB: a second Deployment (the same pod but for the
    image and the overrides) behind its own Service and target group, sent ``weight`` % of the
    ALB's requests (and every request carrying ``header``). See :mod:`eksplatform.service.canary`.

    Usually read from the stack config (``canary`` and ``canaryPolicy`` keys) with
    :func:`~eksplatform.service.canary_config`, which ``eksplatform canary`` edits."""

    image: str
    """The canary's image, pinned like ``image`` and different from it (in the same repository
    when this stack manages the ECR repository). Required."""
    weight: int = 0
    """Share of the ALB's requests sent to the canary, % (0-100). 0 keeps it warm (running,
    healthy, reachable with ``header``) without traffic. Default: 0."""
    header: CanaryHeader | None = None
    """Requests carrying this header always go to the canary. Default: None."""
    env: Mapping[str, str] = field(default_factory=dict)
    """Environment variables set or overridden in the canary only (plain strings). Default:
    none."""
    config_files: Mapping[str, str] = field(default_factory=dict)
    """Config files added or replaced in the canary only. Default: none."""
    schedule: Sequence[int] = (5, 25, 50, 100)
    """The weights ``eksplatform canary step`` moves through: rising, 1-100, ending at 100.
    Default: (5, 25, 50, 100)."""
    analysis: CanaryAnalysis = field(default_factory=CanaryAnalysis)
    """Thresholds of ``eksplatform canary analyze``. Default: ``CanaryAnalysis()``."""
    ramp_down_wait_s: int = 60
    """``eksplatform canary promote``: seconds between two weight decreases, for the stable
    HPA to scale up (0-3600). Default: 60."""
    promoting: bool = False
    """Set by ``eksplatform canary promote``: the stable Deployment runs this image already and
    the weight goes down the schedule; the image may then equal ``image``. Default: False."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class IamStatement:
    """One statement of the service role's inline policy."""

    actions: Sequence[str]
    """IAM actions, e.g. ``("dynamodb:GetItem", "dynamodb:Query")``. Required."""
    resources: Sequence[pulumi.Input[str]]
    """Resource ARNs (Outputs allowed). ``"*"`` only for read-only actions. Required."""
    effect: Literal["Allow", "Deny"] = "Allow"
    """Default: "Allow"."""
    conditions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    """IAM condition block, e.g. ``{"StringEquals": {"aws:ResourceTag/team": "news"}}``.
    Default: none."""


@keyword_arguments
@dataclass(frozen=True, kw_only=True)
class ServiceStackArgs:
    """Everything a :class:`~eksplatform.service.ServiceStack` builds from."""

    # --- required ---------------------------------------------------------------------------
    team: str
    """Owning team: one of the cluster's teams (the contract's ``teamNamespaces``). Required."""
    image: str
    """``registry/repository:tag`` or ``...@sha256:<digest>``; no tag and ``latest`` are
    refused. Required."""
    port: int
    """Port the app listens on (Envoy reaches it on 127.0.0.1). Required."""

    # --- identity and cluster -----------------------------------------------------------------
    name: str | None = None
    """Service name: a DNS label (1-40 chars, lowercase letter first). Names the Deployment,
    Service, ServiceAccount and the AWS resources. Default: the ServiceStack's resource name."""
    cluster: ClusterOutputs | None = None
    """The cluster contract. Default: read from the cluster stack named by this stack's config
    ``clusterStack`` (``org/eks-platform/<stack>``), one StackReference per program."""

    # --- workload -----------------------------------------------------------------------------
    version: str | None = None
    """Datadog ``version`` and ``app.kubernetes.io/version``. Default: the image tag (or the
    first 12 hex digits of the digest)."""
    command: Sequence[str] | None = None
    """Container command. Default: the image's entrypoint."""
    args: Sequence[str] | None = None
    """Container args. Default: the image's cmd."""
    env: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Environment variables: strings, or Outputs of this program (a queue URL, a table name);
    a changed value rolls the pods. Default: none."""
    secrets: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    """Secret environment variables: env name -> value (a Pulumi secret, e.g.
    ``config.require_secret(...)``). Stored in a Kubernetes Secret; always marked secret.
    Default: none."""
    config_files: Mapping[str, str] = field(default_factory=dict)
    """File name -> content, mounted read-only under ``config_mount_path``. Default: none."""
    config_mount_path: str = "/etc/app"
    """Where ``config_files`` are mounted. Default: "/etc/app"."""
    resources: Resources = field(default_factory=Resources)
    """App container resources. Default: ``Resources()`` (250m, 256Mi, limit = request)."""
    probes: Probes = field(default_factory=Probes)
    """Default: ``Probes()`` (/ready, /healthz, startup up to 120s)."""
    replicas: int = 2
    """Fixed pod count, used only when ``autoscaling`` is None. Default: 2."""
    autoscaling: Autoscaling | None = field(default_factory=Autoscaling)
    """HPA settings; None for a fixed count (``replicas``). Default: ``Autoscaling()``
    (2-10 pods, 70% CPU)."""
    vpa: Vpa | None = None
    """VerticalPodAutoscaler. Default: None."""
    prescaling: PreScaling | None = None
    """Opt in to push pre-scaling (needs ``autoscaling``). Default: None (off)."""
    prestop_sleep_s: int = 5
    """The app's preStop sleep, seconds: endpoints and the ALB stop sending first. Default: 5."""
    shutdown_timeout_s: int = 20
    """Time the app needs after SIGTERM to finish in-flight work, seconds. Default: 20."""
    run_as_user: int = 65532
    """Non-root uid of the app. Default: 65532 (distroless ``nonroot``)."""
    read_only_root_filesystem: bool = True
    """Default: True (a writable ``/tmp`` emptyDir is mounted)."""
    automount_service_account_token: bool = False
    """Mount a Kubernetes API token in the pods. Default: False (AWS credentials come from
    EKS Pod Identity, which does not need it)."""
    namespace: str | None = None
    """The team's namespace, stated explicitly; any other namespace is refused (a service
    deploys only into its team's namespace). Default: the team's namespace from the contract."""
    service_port: int = 80
    """Port of the Kubernetes Service (other services call it). Default: 80."""
    node_port: int | None = None
    """NodePort of the Service, 30000-32767; the ALB target group always follows the port the
    Service really has. Default: None (the API server allocates a free one, so services of
    independent repos never clash)."""

    # --- Envoy ----------------------------------------------------------------------------------
    dependencies: Sequence[Dependency] = ()
    """Services called through Envoy. Default: none."""
    envoy: EnvoyOptions = field(default_factory=EnvoyOptions)
    """Sidecar settings. Default: ``EnvoyOptions()``."""

    # --- AWS ------------------------------------------------------------------------------------
    iam_statements: Sequence[IamStatement] = ()
    """The service role's inline policy; the cluster's permissions boundary always caps it.
    Default: none (the role can do nothing)."""
    ingress: Ingress | None = None
    """ALB in front of the service. Default: None (no ALB, in-cluster only)."""
    alarms: Alarms = field(default_factory=Alarms)
    """Alarm thresholds (alarms exist only with ``ingress``). Default: ``Alarms()``."""
    canary: Canary | None = None
    """A canary release on the ALB (needs ``ingress``). Default: None (no canary; a canary
    removed here is deleted cleanly, the stable resources untouched). Programs pass
    ``canary_config()``, what the stack config's ``canary`` key says."""
    monitors: Monitors | None = field(default_factory=Monitors)
    """Datadog monitors: error rate and p99 latency (Envoy ingress), restarts, OOM kills,
    replicas below the floor, and the queue when given. The cluster must run the Datadog agent
    (contract ``datadogSite``). None: no monitors (the ``svc-alarms`` guardrail then wants an
    alarm of the program's own). Default: ``Monitors()``."""
    ecr: bool | None = None
    """Create the ECR repository of ``image``. Default: True when the image is in an ECR
    registry (``<account>.dkr.ecr.<region>.amazonaws.com``), False otherwise."""
    ecr_keep_images: int = 30
    """ECR lifecycle: keep this many most recent images. Default: 30."""
    datadog_tags: Mapping[str, str] = field(default_factory=dict)
    """Extra Datadog tags (pods) and AWS tags (resources). Default: none."""
    tags: Mapping[str, str] = field(default_factory=dict)
    """Extra AWS tags (never override the company tags). Default: none."""
    kubernetes_provider: k8s.Provider | None = None
    """Provider for the Kubernetes objects. Default: ``cluster.kubernetes_provider()``, the one
    provider every ServiceStack of the program shares for that cluster."""
