"""The bad service inputs the tests feed in, grouped by the classes of issues 10, 11 and 13, each
with the exact problems it must produce.

A case is one stack of one scratch program (:data:`CASE_PROGRAM`), previewed offline: the stack
file (the platform keys and the program's own config), the contract the program builds (plain
values, known before registration, like a contract file) and the ServiceStack arguments (the
valid :func:`good_args` with the case's changes, or a whole argument object). Shared by the pure
validation tests and the preview tests, so both prove the same list.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pulumi
from eksplatform.core.contract import ClusterOutputs
from eksplatform.service import (
    Alarms,
    Autoscaling,
    Dependency,
    EnvoyOptions,
    IamStatement,
    Ingress,
    MetricTarget,
    PreScaling,
    Probes,
    Resources,
    ServiceStack,
    ServiceStackArgs,
    Vpa,
    load_config,
    setting,
)

from tests.service.programs import ACCOUNT, CERT, ECR_IMAGE, STACK_CONFIG, contract_values

OTHER_REGION_CERT = CERT.replace("eu-west-1", "us-east-1")
OTHER_ACCOUNT_CERT = CERT.replace(ACCOUNT, "999999999999")
CONFIG_CLUSTER = "  svc:clusterStack: organization/eks-platform/prod\n"


def good_args(cluster: Any) -> ServiceStackArgs:
    """A valid prod service; every case changes one thing."""
    return ServiceStackArgs(name="feed", team="news", image=ECR_IMAGE, port=8080, cluster=cluster)


def apply_case(args: ServiceStackArgs, changes: dict[str, Any]) -> ServiceStackArgs:
    """``args`` with a case's changes."""
    changes = dict(changes)
    return dataclasses.replace(args, **changes)


@dataclass(frozen=True)
class Config:
    """The scratch program's own stack config (read with load_config)."""

    image: str
    min_replicas: int = 2
    max_replicas: int = setting(default=10, minimum=1, maximum=100)
    public: bool = False
    ratio: float = 0.5
    signing_key: pulumi.Output[str] | None = None


@dataclass(frozen=True)
class Case:
    group: str
    """The class of problem (issue 10's classes, issue 11's namespace/secret/ARN classes and
    issue 13's API classes)."""
    expected: list[str]
    """The exact problems (``str(Problem)``), in order."""
    changes: dict[str, Any] = field(default_factory=dict)
    """Changes to :func:`good_args`."""
    args: Callable[[Any], Any] | None = None
    """The whole ServiceStack argument object instead (given the contract)."""
    resource_name: str = "feed"
    contract: dict[str, Any] = field(default_factory=dict)
    """Changes to the contract's values."""
    stack: str = STACK_CONFIG
    """The stack file (platform keys and the program's own config)."""
    use_config: bool = False
    """Read the image (and the rest of :class:`Config`) with load_config."""
    twice: dict[str, Any] | None = None
    """A second ServiceStack in the same program: (resource name, changes to good_args)."""

    @property
    def subject(self) -> str:
        return self.expected_subject or f"ServiceStack {self.resource_name!r}"

    expected_subject: str | None = None


def _config_case(expected: list[str], stack_config: str) -> Case:
    return Case(
        "service stack config",
        expected,
        stack=STACK_CONFIG + CONFIG_CLUSTER + stack_config,
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    )


DNS40 = "must be a DNS label: 1-40 lowercase letters, digits or '-', starting with a letter"
DNS63 = "must be a DNS label: 1-63 lowercase letters, digits or '-', starting with a letter"
ALB_FIX = "shorten the ServiceStack's resource name (its first argument)"

CASES: dict[str, Case] = {
    # --- patterns match the whole value: a trailing newline never passes ----------------------
    "name-newline": Case("patterns", [f"name: got 'feed\\n': {DNS40}"], {"name": "feed\n"}),
    "name-not-dns": Case("patterns", [f"name: got 'Feed_API': {DNS40}"], {"name": "Feed_API"}),
    "name-too-long": Case("patterns", [f"name: got '{'a' * 41}': {DNS40}"], {"name": "a" * 41}),
    "team-newline": Case("patterns", [f"team: got 'news\\n': {DNS63}"], {"team": "news\n"}),
    "team-not-dns": Case("patterns", [f"team: got 'News': {DNS63}"], {"team": "News"}),
    "image-newline": Case(
        "patterns",
        [
            f"image: got '{ECR_IMAGE}\\n': must be 'registry/repository:tag' or "
            "'registry/repository@sha256:<64 hex>' (e.g. "
            "'123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2')"
        ],
        {"image": ECR_IMAGE + "\n"},
    ),
    "image-no-registry": Case(
        "patterns",
        [
            "image: got 'feed:1.4.2': must be 'registry/repository:tag' or "
            "'registry/repository@sha256:<64 hex>' (e.g. "
            "'123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2')"
        ],
        {"image": "feed:1.4.2"},
    ),
    "image-no-tag": Case(
        "patterns",
        [
            "image: got 'registry.example.com/news/feed': has no tag: pin a version tag or a "
            "digest (never a moving tag)"
        ],
        {"image": "registry.example.com/news/feed"},
    ),
    "image-latest": Case(
        "patterns",
        [
            "image: got 'registry.example.com/news/feed:latest': 'latest' is a moving tag "
            "(rollbacks and pod restarts get other code): pin a version tag or a digest"
        ],
        {"image": "registry.example.com/news/feed:latest"},
    ),
    "version-newline": Case(
        "patterns",
        [
            "version: got '1.4.2\\n': must be a label value: letters, digits, '-', '_', '.', "
            "alphanumeric at both ends"
        ],
        {"version": "1.4.2\n"},
    ),
    "probe-path-newline": Case(
        "patterns",
        [
            "probes.readiness_path: got '/ready\\n': must be a URL path starting with '/' "
            "without spaces, '?' or '#'"
        ],
        {"probes": Probes(readiness_path="/ready\n")},
    ),
    "probe-path-relative": Case(
        "patterns",
        [
            "probes.liveness_path: got 'healthz': must be a URL path starting with '/' without "
            "spaces, '?' or '#'"
        ],
        {"probes": Probes(liveness_path="healthz")},
    ),
    "env-name-newline": Case(
        "patterns",
        [
            "env['LOG_LEVEL\\n']: got 'LOG_LEVEL\\n': must be an environment variable name: "
            "[A-Za-z_][A-Za-z0-9_]*"
        ],
        {"env": {"LOG_LEVEL\n": "info"}},
    ),
    "env-name-dash": Case(
        "patterns",
        [
            "env['MY-VAR']: got 'MY-VAR': must be an environment variable name: [A-Za-z_][A-Za-z0-9_]*"
        ],
        {"env": {"MY-VAR": "1"}},
    ),
    "mount-path-newline": Case(
        "patterns",
        ["config_mount_path: got '/etc/app\\n': must be an absolute directory such as '/etc/app'"],
        {"config_files": {"app.yaml": "x"}, "config_mount_path": "/etc/app\n"},
    ),
    "mount-path-dotdot": Case(
        "patterns",
        ["config_mount_path: got '/etc/../var': must be an absolute directory such as '/etc/app'"],
        {"config_files": {"app.yaml": "x"}, "config_mount_path": "/etc/../var"},
    ),
    "config-file-slash": Case(
        "patterns",
        [
            "config_files['conf/app.yaml']: got 'conf/app.yaml': must be a file name of letters, "
            "digits, '-', '_' or '.' (no '/')"
        ],
        {"config_files": {"conf/app.yaml": "x"}},
    ),
    "dependency-name-newline": Case(
        "patterns",
        [f"dependencies[0].name: got 'users\\n': {DNS63}"],
        {"dependencies": [Dependency(name="users\n")]},
    ),
    "metric-name-newline": Case(
        "patterns",
        [
            "autoscaling.metrics[0].name: got 'rps\\n': must name the metric as the metrics "
            "adapter serves it: letters, digits and _.:@/- (e.g. 'requests_per_second')"
        ],
        {"autoscaling": Autoscaling(metrics=[MetricTarget(name="rps\n", average_value="10")])},
    ),
    "certificate-newline": Case(
        "patterns",
        [
            f"ingress.certificate_arn: got '{CERT}\\n': must be an ACM certificate ARN: "
            "arn:aws:acm:<region>:<account>:certificate/<uuid>"
        ],
        {"ingress": Ingress(certificate_arn=CERT + "\n")},
    ),
    "cidr-newline": Case(
        "patterns",
        [
            "ingress.allowed_cidrs[0]: got '10.0.0.0/8\\n': must be an IPv4 CIDR with no host "
            "bits set, e.g. '10.0.0.0/8'"
        ],
        {"ingress": Ingress(certificate_arn=CERT, allowed_cidrs=["10.0.0.0/8\n"])},
    ),
    # --- quantities with sane bounds ----------------------------------------------------------
    "cpu-zero": Case(
        "quantities",
        [
            "resources.cpu: got '0': is no CPU at all: request at least '1m' (typically '100m' or more)"
        ],
        {"resources": Resources(cpu="0")},
    ),
    "cpu-2000-cores": Case(
        "quantities",
        [
            "resources.cpu: got '2000': is 2000 cores; one container gets at most 64 cores (no "
            "node is larger): request less and scale out with replicas"
        ],
        {"resources": Resources(cpu="2000")},
    ),
    "cpu-sub-millicore": Case(
        "quantities",
        [
            "resources.cpu: got '0.0005': is 0.5m, finer than Kubernetes' 1m: request at least "
            "'1m' (typically '100m' or more)"
        ],
        {"resources": Resources(cpu="0.0005")},
    ),
    "cpu-unit": Case(
        "quantities",
        ["resources.cpu: got '100x': write millicores like '250m' or cores like '0.5'"],
        {"resources": Resources(cpu="100x")},
    ),
    "memory-100m": Case(
        "quantities",
        [
            "resources.memory: got '100m': is 0.1 bytes: 'm' means thousandths; write mebibytes like '100Mi'"
        ],
        {"resources": Resources(memory="100m")},
    ),
    "memory-too-small": Case(
        "quantities",
        [
            "resources.memory: got '8Mi': is 8Mi, below the 16Mi minimum: the container would be "
            "OOM-killed at start; raise it"
        ],
        {"resources": Resources(memory="8Mi")},
    ),
    "memory-too-large": Case(
        "quantities",
        [
            "resources.memory: got '1Ti': is 1024Gi, above the 512Gi maximum of one container "
            "(no node is larger): request less and scale out with replicas"
        ],
        {"resources": Resources(memory="1Ti")},
    ),
    "memory-words": Case(
        "quantities",
        ["resources.memory: got 'lots': write it like '128Mi' or '1Gi'"],
        {"resources": Resources(memory="lots")},
    ),
    "memory-limit-below": Case(
        "quantities",
        [
            "resources.memory_limit: got '128Mi': is below the request (256Mi): raise it to at "
            "least the request, or leave it None (limit = request)"
        ],
        {"resources": Resources(memory="256Mi", memory_limit="128Mi")},
    ),
    "cpu-request-above-limit": Case(
        "quantities",
        [
            "resources.cpu_limit: got '100m': is below the request (250m): raise it to at least "
            "the request, or leave it None (no CPU limit)"
        ],
        {"resources": Resources(cpu="250m", cpu_limit="100m")},
    ),
    "envoy-memory-small": Case(
        "quantities",
        [
            "envoy.memory: got '16Mi': must be 90Mi to 64Gi: Envoy's binary takes 52 MiB, a 12 MiB "
            "margin, and a sidecar with 0 dependencies 10 MiB of heap idle plus 16 MiB to serve"
        ],
        {"envoy": EnvoyOptions(memory="16Mi")},
    ),
    "vpa-min-above-max": Case(
        "quantities",
        ["vpa.min_memory: got '4Gi': is above vpa.max_memory ('2Gi')"],
        {"autoscaling": None, "vpa": Vpa(min_memory="4Gi", max_memory="2Gi")},
    ),
    "vpa-bad-quantity": Case(
        "quantities",
        ["vpa.min_cpu: got '1x': write millicores like '250m' or cores like '0.5'"],
        {"autoscaling": None, "vpa": Vpa(min_cpu="1x")},
    ),
    "metric-target-zero": Case(
        "quantities",
        [
            "autoscaling.metrics[0].average_value: got '0': must be more than 0 (an HPA cannot "
            "aim at zero per pod)"
        ],
        {"autoscaling": Autoscaling(metrics=[MetricTarget(name="rps", average_value="0")])},
    ),
    "min-above-max": Case(
        "quantities",
        [
            "autoscaling.min_replicas: got 5: is above autoscaling.max_replicas (3): lower it "
            "or raise the max"
        ],
        {"autoscaling": Autoscaling(min_replicas=5, max_replicas=3)},
    ),
    "port-zero": Case("quantities", ["port: got 0: must be an integer port 1-65535"], {"port": 0}),
    "port-envoy-ingress": Case(
        "quantities",
        [
            "port: got 15001: collides with envoy.ingress_port (15001): the app and Envoy share "
            "the pod's network; pick another port"
        ],
        {"port": 15001},
    ),
    "node-port-range": Case(
        "quantities",
        ["node_port: got 8080: must be an integer from 30000 to 32767"],
        {"node_port": 8080},
    ),
    "alarms-datapoints": Case(
        "quantities",
        ["alarms.datapoints_to_alarm: got 3: must not exceed alarms.evaluation_periods (2)"],
        {"alarms": Alarms(evaluation_periods=2, datapoints_to_alarm=3)},
    ),
    "run-as-root": Case(
        "quantities",
        [
            "run_as_user: got 0: must be a non-root uid (1 to 2147483647): Pod Security "
            "'restricted' refuses root"
        ],
        {"run_as_user": 0},
    ),
    # --- reserved environment variables and tags: refused, never dropped or duplicated -----------
    "env-datadog": Case(
        "reserved names and tags",
        [
            "env['DD_ENV']: got 'DD_ENV': is reserved: the platform sets Datadog's DD_* variables "
            "(DD_ENV, DD_SERVICE, DD_VERSION, DD_AGENT_HOST) from the pod's labels and node; set "
            "tags with datadog_tags and the version with version="
        ],
        {"env": {"DD_ENV": "prod"}},
    ),
    "secret-datadog": Case(
        "reserved names and tags",
        [
            "secrets['DD_API_KEY']: got 'DD_API_KEY': is reserved: the platform sets Datadog's "
            "DD_* variables (DD_ENV, DD_SERVICE, DD_VERSION, DD_AGENT_HOST) from the pod's labels "
            "and node; set tags with datadog_tags and the version with version="
        ],
        {"secrets": {"DD_API_KEY": "x"}},
    ),
    "env-pod-identity": Case(
        "reserved names and tags",
        [
            "env['AWS_CONTAINER_CREDENTIALS_FULL_URI']: got 'AWS_CONTAINER_CREDENTIALS_FULL_URI': "
            "is reserved: EKS Pod Identity sets it to hand the pod its role's credentials; "
            "remove it"
        ],
        {"env": {"AWS_CONTAINER_CREDENTIALS_FULL_URI": "http://169.254.170.23/x"}},
    ),
    "env-static-credentials": Case(
        "reserved names and tags",
        [
            "secrets['AWS_SECRET_ACCESS_KEY']: got 'AWS_SECRET_ACCESS_KEY': is refused: static "
            "AWS credentials take precedence over the pod's role and its permissions boundary; "
            "grant the access with iam_statements instead"
        ],
        {"secrets": {"AWS_SECRET_ACCESS_KEY": "x"}},
    ),
    "env-also-secret": Case(
        "reserved names and tags",
        [
            "secrets['TOKEN']: got 'TOKEN': is also in env: a variable comes from one place; "
            "remove one of them"
        ],
        {"env": {"TOKEN": "x"}, "secrets": {"TOKEN": "y"}},
    ),
    "tag-company": Case(
        "reserved names and tags",
        ["tags['team']: got 'other': is a company tag the platform sets: remove it"],
        {"tags": {"team": "other"}},
    ),
    "tag-platform": Case(
        "reserved names and tags",
        ["tags['service']: got 'other': is set by ServiceStack on every resource: remove it"],
        {"tags": {"service": "other"}},
    ),
    "tag-aws-prefix": Case(
        "reserved names and tags",
        ["tags['aws:owner']: got 'me': the 'aws:' prefix is reserved by AWS: rename the key"],
        {"tags": {"aws:owner": "me"}},
    ),
    "datadog-tag-env": Case(
        "reserved names and tags",
        [
            "datadog_tags['env']: got 'prod': is reserved: the platform sets Datadog's env, "
            "service and version tags (and Datadog reserves host, device, source); remove it"
        ],
        {"datadog_tags": {"env": "prod"}},
    ),
    "datadog-tag-company": Case(
        "reserved names and tags",
        ["datadog_tags['cost-centre']: got 'cc-1': is a company tag the platform sets: remove it"],
        {"datadog_tags": {"cost-centre": "cc-1"}},
    ),
    "datadog-tag-uppercase": Case(
        "reserved names and tags",
        [
            "datadog_tags['Product']: got 'feed': must be a Datadog tag key: a lowercase letter, "
            "then lowercase letters, digits or _.:/- (Datadog lowercases keys, so 'Product' would "
            "become another tag)"
        ],
        {"datadog_tags": {"Product": "feed"}},
    ),
    "tags-disagree": Case(
        "reserved names and tags",
        [
            "datadog_tags['product']: got 'feed': disagrees with tags['product'] ('news'): both "
            "become AWS tags; give the key once"
        ],
        {"tags": {"product": "news"}, "datadog_tags": {"product": "feed"}},
    ),
    "too-many-tags": Case(
        "reserved names and tags",
        [
            "tags: got 45: tags and datadog_tags give 45 AWS tags; with the platform's 6 a "
            "resource may carry 50: keep at most 44"
        ],
        {"tags": {f"k{i}": "v" for i in range(45)}},
    ),
    # --- derived physical names against the rule of the service that receives them -------------
    "alb-name-too-long": Case(
        "derived names",
        [
            "resource_name: got 'news-feed-international': derives the load balancer name "
            "'news-feed-international-alb', which is 35 characters long with Pulumi's 8-character "
            f"random suffix; 32 allowed, so the name itself may have at most 24; {ALB_FIX}",
            "resource_name: got 'news-feed-international': derives the target group name "
            "'news-feed-international-tg', which is 34 characters long with Pulumi's 8-character "
            f"random suffix; 32 allowed, so the name itself may have at most 24; {ALB_FIX}",
        ],
        {"name": "feed", "ingress": Ingress(certificate_arn=CERT)},
        resource_name="news-feed-international",
    ),
    "role-name-too-long": Case(
        "derived names",
        [
            f"resource_name: got '{'s' * 52}': derives the IAM role name '{'s' * 52}-role', which "
            "is 65 characters long with Pulumi's 8-character random suffix; 64 allowed, so the "
            f"name itself may have at most 56; {ALB_FIX}",
        ],
        {"name": "feed"},
        resource_name="s" * 52,
    ),
    "alb-name-internal": Case(
        "derived names",
        [
            "resource_name: got 'internal-feed': derives the load balancer name "
            "'internal-feed-alb', which starts with 'internal-', reserved by AWS; "
            f"{ALB_FIX}",
        ],
        {"name": "feed", "ingress": Ingress(certificate_arn=CERT)},
        resource_name="internal-feed",
    ),
    "resource-name-underscore": Case(
        "derived names",
        [
            f"name: got 'news_feed': {DNS40} (name defaults to the ServiceStack's resource name)",
            "resource_name: got 'news_feed': derives the load balancer name 'news_feed-alb', "
            "which does not match the rule: letters, digits and '-', not starting or ending with "
            f"'-'; {ALB_FIX}",
            "resource_name: got 'news_feed': derives the target group name 'news_feed-tg', which "
            "does not match the rule: letters, digits and '-', not starting or ending with '-'; "
            f"{ALB_FIX}",
        ],
        {"name": None, "ingress": Ingress(certificate_arn=CERT)},
        resource_name="news_feed",
    ),
    "ecr-repository-short": Case(
        "derived names",
        [
            f"image: got '{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/a:1.0': derives the ECR "
            "repository name 'a', which is 1 characters long; 2-256 allowed; rename the image's "
            "repository, or set ecr=False",
        ],
        {"image": f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com/a:1.0"},
    ),
    # --- two ServiceStacks of one program --------------------------------------------------------
    "twice-same-resource-name": Case(
        "cross-object",
        [
            "resource_name: got 'feed': is already the name of another ServiceStack in this "
            "program (Pulumi would refuse the duplicate URN): give each ServiceStack its own "
            "resource name",
            "name: got 'feed': is already a service of team 'news' in this program (ServiceStack "
            "'feed'): their Kubernetes objects would overwrite each other; rename one",
        ],
        twice={"resource_name": "feed", "changes": {}},
    ),
    "twice-same-service": Case(
        "cross-object",
        [
            "name: got 'feed': is already a service of team 'news' in this program (ServiceStack "
            "'feed-v1'): their Kubernetes objects would overwrite each other; rename one",
        ],
        twice={"resource_name": "feed-v1", "changes": {}},
    ),
    "twice-same-node-port": Case(
        "cross-object",
        [
            "node_port: got 31000: is already the node port of ServiceStack 'other' in this "
            "program: leave node_port None (the API server allocates a free one) or pick another",
        ],
        {"node_port": 31000},
        twice={"resource_name": "other", "changes": {"name": "other", "node_port": 31000}},
    ),
    # --- the API: misspelt, missing, positional and mistyped arguments ---------------------------
    "misspelt-argument": Case(
        "arguments",
        [
            "min_replica: got 3: ServiceStackArgs has no argument 'min_replica': did you mean "
            "autoscaling=Autoscaling(min_replicas=...)? (arguments: "
            "team, image, port, name, cluster, version, command, args, env, secrets, "
            "config_files, config_mount_path, resources, probes, replicas, autoscaling, vpa, "
            "prescaling, prestop_sleep_s, shutdown_timeout_s, run_as_user, "
            "read_only_root_filesystem, automount_service_account_token, namespace, "
            "service_port, node_port, dependencies, envoy, iam_statements, ingress, alarms, canary, monitors, ecr, "
            "ecr_keep_images, datadog_tags, tags, kubernetes_provider)",
        ],
        {"min_replica": 3},
    ),
    "misspelt-nested-arguments": Case(
        "arguments",
        [
            "autoscaling.min_replica: got 3: Autoscaling has no argument 'min_replica': did you "
            "mean 'min_replicas'? (arguments: min_replicas, max_replicas, cpu_target_percent, "
            "memory_target_percent, metrics, scale_up_stabilization_s, scale_up_percent, "
            "scale_up_pods, scale_down_stabilization_s, scale_down_percent)",
            "autoscaling.maxReplicas: got 30: Autoscaling has no argument 'maxReplicas': did you "
            "mean 'max_replicas'? (arguments: min_replicas, max_replicas, cpu_target_percent, "
            "memory_target_percent, metrics, scale_up_stabilization_s, scale_up_percent, "
            "scale_up_pods, scale_down_stabilization_s, scale_down_percent)",
            "ingress.certificate: got 'x': Ingress has no argument 'certificate': did you mean "
            "'certificate_arn'? (arguments: public, certificate_arn, allowed_cidrs, ssl_policy, "
            "idle_timeout_s, deregistration_delay_s, deletion_protection)",
        ],
        {
            "autoscaling": Autoscaling(min_replica=3, maxReplicas=30),  # type: ignore[call-arg]
            "ingress": Ingress(certificate_arn=CERT, certificate="x"),  # type: ignore[call-arg]
        },
    ),
    "misspelt-top-level": Case(
        "arguments",
        [
            "dependancies: got 'users': ServiceStackArgs has no argument "
            "'dependancies': did you mean 'dependencies'? (arguments: team, image, port, name, "
            "cluster, version, command, args, env, secrets, config_files, config_mount_path, "
            "resources, probes, replicas, autoscaling, vpa, prescaling, prestop_sleep_s, "
            "shutdown_timeout_s, run_as_user, read_only_root_filesystem, "
            "automount_service_account_token, namespace, service_port, node_port, dependencies, "
            "envoy, iam_statements, ingress, alarms, canary, monitors, ecr, ecr_keep_images, datadog_tags, tags, "
            "kubernetes_provider)",
        ],
        {"dependancies": "users"},
    ),
    "missing-required": Case(
        "arguments",
        [
            "team: missing: ServiceStackArgs requires it: give team=...",
            "port: missing: ServiceStackArgs requires it: give port=...",
        ],
        args=lambda cluster: ServiceStackArgs(image=ECR_IMAGE, cluster=cluster),  # type: ignore[call-arg]
    ),
    "positional-argument": Case(
        "arguments",
        ["resources[0]: got '500m': Resources takes keyword arguments only: write name=value"],
        {"resources": Resources("500m")},  # type: ignore[call-arg]
    ),
    "wrong-types": Case(
        "arguments",
        [
            "port: got '8080': must be an integer",
            "env: got ['LOG_LEVEL=info']: must be a mapping of strings to strings or pulumi "
            "Outputs of them",
            "autoscaling: got 5: must be an Autoscaling or None",
            "ingress: got True: must be an Ingress or None",
        ],
        {"port": "8080", "env": ["LOG_LEVEL=info"], "autoscaling": 5, "ingress": True},
    ),
    "wrong-nested-types": Case(
        "arguments",
        [
            "resources.cpu: got 0.5: must be a string",
            "dependencies: got 'users': must be a list of Dependency objects",
            "alarms.period_s: got 60.0: must be an integer",
        ],
        {
            "resources": Resources(cpu=0.5),  # type: ignore[arg-type]
            "dependencies": "users",
            "alarms": Alarms(period_s=60.0),  # type: ignore[arg-type]
        },
    ),
    "not-args": Case(
        "arguments",
        ["args: got {'team': 'news'}: must be ServiceStackArgs(team=..., image=..., port=...)"],
        args=lambda cluster: {"team": "news"},
    ),
    # --- the cluster contract: teams, namespaces, production, region and account ---------------
    "team-not-in-cluster": Case(
        "contract",
        [
            "team: got 'payments': is not a team of the cluster contract (teams: news, search): "
            "fix the name, or ask the platform team to add it to platform:teams of the cluster "
            "stack",
        ],
        {"team": "payments", "ingress": Ingress(certificate_arn=CERT)},
    ),
    "namespace-kube-system": Case(
        "contract",
        [
            "namespace: got 'kube-system': is a system namespace: a service deploys only into "
            "its team's namespace; remove namespace=",
        ],
        {"namespace": "kube-system"},
    ),
    "namespace-other-team": Case(
        "contract",
        [
            "namespace: got 'search-apps': is not the namespace of team 'news' ('news' in the "
            "cluster contract): a service deploys only into its team's namespace; remove "
            "namespace=",
        ],
        {"namespace": "search-apps"},
    ),
    "dependency-team-unknown": Case(
        "contract",
        [
            "dependencies[0].team: got 'payments': is not a team of the cluster contract (teams: "
            "news, search): fix the name, or set the dependency's namespace",
        ],
        {"dependencies": [Dependency(name="billing", team="payments")]},
    ),
    "no-alert-topic": Case(
        "contract",
        [
            "team: got 'news': the cluster contract exports no alert topic for this team "
            "(teamAlertTopicArns: search), and the ALB's alarms need one: ask the platform team "
            "to add the team to the service platform",
        ],
        {"ingress": Ingress(certificate_arn=CERT)},
        contract={
            "teamAlertTopicArns": {"search": f"arn:aws:sns:eu-west-1:{ACCOUNT}:search-alerts"}
        },
    ),
    "prod-one-replica": Case(
        "contract",
        ["replicas: got 1: prod runs at least 2 pods (one per zone failure; 'prod' is production)"],
        {"autoscaling": None, "replicas": 1},
    ),
    "prod-min-one": Case(
        "contract",
        [
            "autoscaling.min_replicas: got 1: prod runs at least 2 pods (one per zone failure; "
            "'prod' is production)"
        ],
        {"autoscaling": Autoscaling(min_replicas=1)},
    ),
    "prod-no-certificate": Case(
        "contract",
        [
            "ingress.certificate_arn: got None: prod ALBs serve HTTPS only ('prod' is "
            "production): give the ACM certificate ARN of the service's domain"
        ],
        {"ingress": Ingress(public=True)},
    ),
    "region-differs": Case(
        "contract",
        [
            "aws:region: got 'us-east-1': the cluster contract is in eu-west-1: a service's AWS "
            "resources live in its cluster's region; set 'aws:region: eu-west-1' in the "
            "service's stack file",
        ],
        stack=f'config:\n  aws:region: us-east-1\n  aws:allowedAccountIds: ["{ACCOUNT}"]\n',
    ),
    "account-differs": Case(
        "contract",
        [
            "aws:allowedAccountIds: got ['999999999999']: the cluster contract is in account "
            f"{ACCOUNT}: a service deploys only into its cluster's account; set "
            f"'aws:allowedAccountIds: [\"{ACCOUNT}\"]' in the service's stack file",
        ],
        stack='config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ["999999999999"]\n',
    ),
    "certificate-other-region": Case(
        "contract",
        [
            f"ingress.certificate_arn: got '{OTHER_REGION_CERT}': is a certificate of region "
            "us-east-1, but the ALB is in the cluster's region eu-west-1: an ALB uses "
            "certificates of its own region only; request or import the certificate in eu-west-1",
        ],
        {"ingress": Ingress(certificate_arn=OTHER_REGION_CERT)},
    ),
    "certificate-other-account": Case(
        "contract",
        [
            f"ingress.certificate_arn: got '{OTHER_ACCOUNT_CERT}': is a certificate of account "
            f"999999999999, but the cluster is in account {ACCOUNT}: use a certificate of the "
            "cluster's account",
        ],
        {"ingress": Ingress(certificate_arn=OTHER_ACCOUNT_CERT)},
    ),
    "ecr-other-account": Case(
        "contract",
        [
            "image: got '999999999999.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2': its ECR "
            f"registry is in account 999999999999 but the cluster is in {ACCOUNT}: set ecr=False "
            "(the repository is managed elsewhere)",
        ],
        {"image": "999999999999.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2"},
    ),
    "no-region": Case(
        "contract",
        [
            "aws:region: missing: the service stack must set the cluster's region (else the AWS "
            "provider picks one from the environment): add 'aws:region: <region>' under config: "
            "in Pulumi.no-region.yaml (pulumi config set aws:region <region> -s no-region)",
        ],
        stack=f'config:\n  aws:allowedAccountIds: ["{ACCOUNT}"]\n',
    ),
    "no-account": Case(
        "contract",
        [
            "aws:allowedAccountIds: missing: the service stack must pin the cluster's AWS account "
            "(else any credentials deploy it anywhere): add 'aws:allowedAccountIds: "
            '["<12-digit account id>"]\' under config: in Pulumi.no-account.yaml (quote the id: '
            "YAML reads a leading zero or a long number differently)",
        ],
        stack="config:\n  aws:region: eu-west-1\n",
    ),
    "secret-config-in-env": Case(
        "contract",
        [
            "env['SIGNING_KEY']: got [secret]: is a Pulumi secret: in env it would be written in "
            "clear into the Deployment; pass it in secrets= (a Kubernetes Secret) instead",
        ],
        stack=STACK_CONFIG
        + CONFIG_CLUSTER
        + f"  svc:image: {ECR_IMAGE}\n  svc:signingKey:\n    secure: AAABAKx1\n",
        use_config=True,
    ),
    # --- the service's own stack config (load_config) ----------------------------------------------
    "config-missing": _config_case(
        [
            "svc:image: missing: the program requires it: set it in Pulumi.config-missing.yaml: "
            "pulumi config set image <value> -s config-missing",
        ],
        "",
    ),
    "config-not-int": _config_case(
        [
            "svc:minReplicas: got 'six': must be a whole number: fix it in "
            "Pulumi.config-not-int.yaml: pulumi config set minReplicas <integer> -s config-not-int",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:minReplicas: six\n",
    ),
    "config-float-for-int": _config_case(
        [
            "svc:minReplicas: got '2.5': must be a whole number: fix it in "
            "Pulumi.config-float-for-int.yaml: pulumi config set minReplicas <integer> -s "
            "config-float-for-int",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:minReplicas: 2.5\n",
    ),
    "config-below-minimum": _config_case(
        [
            "svc:maxReplicas: got '0': must be from 1 to 100: fix it in "
            "Pulumi.config-below-minimum.yaml: pulumi config set maxReplicas <integer> -s "
            "config-below-minimum",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:maxReplicas: 0\n",
    ),
    "config-yaml11-bool": _config_case(
        [
            "svc:public: got 'yes': must be true or false (YAML 1.2, which Pulumi reads, takes "
            "'yes' as a string, not a boolean): fix it in Pulumi.config-yaml11-bool.yaml: pulumi "
            "config set public true|false -s config-yaml11-bool",
        ],
        f'  svc:image: {ECR_IMAGE}\n  svc:public: "yes"\n',
    ),
    "config-not-float": _config_case(
        [
            "svc:ratio: got 'half': must be a number: fix it in Pulumi.config-not-float.yaml: "
            "pulumi config set ratio <number> -s config-not-float",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:ratio: half\n",
    ),
    "config-secret-in-clear": _config_case(
        [
            "svc:signingKey: got <a plain-text value, not shown>: is a secret but "
            "Pulumi.config-secret-in-clear.yaml holds it in clear text: encrypt it with pulumi "
            "config set --secret signingKey <value> -s config-secret-in-clear",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:signingKey: hunter2\n",
    ),
    "config-plain-read-of-secret": _config_case(
        [
            "svc:image: got '[secret]': is encrypted (secure:) in "
            "Pulumi.config-plain-read-of-secret.yaml but the program reads it as plain text, "
            "which would reveal it: declare the field pulumi.Output[str], or store it in clear "
            "with pulumi config set image <value> -s config-plain-read-of-secret",
        ],
        "  svc:image:\n    secure: AAABAKx1\n",
    ),
    "config-unknown-key": _config_case(
        [
            "svc:minReplica: got '3': the program does not read this key: did you mean "
            "'minReplicas'? (keys it reads: canary, canaryPolicy, clusterStack, image, maxReplicas, minReplicas, "
            "public, ratio, signingKey); remove it from Pulumi.config-unknown-key.yaml or fix "
            "its name",
        ],
        f"  svc:image: {ECR_IMAGE}\n  svc:minReplica: 3\n",
    ),
    "config-everything-at-once": _config_case(
        [
            "svc:image: missing: the program requires it: set it in "
            "Pulumi.config-everything-at-once.yaml: pulumi config set image <value> -s "
            "config-everything-at-once",
            "svc:minReplicas: got 'two': must be a whole number: fix it in "
            "Pulumi.config-everything-at-once.yaml: pulumi config set minReplicas <integer> -s "
            "config-everything-at-once",
            "svc:Public: got 'true': the program does not read this key: did you mean 'public'? "
            "(keys it reads: canary, canaryPolicy, clusterStack, image, maxReplicas, minReplicas, public, ratio, "
            "signingKey); remove it from Pulumi.config-everything-at-once.yaml or fix its name",
        ],
        "  svc:minReplicas: two\n  svc:Public: true\n",
    ),
    "config-no-cluster-stack": Case(
        "service stack config",
        [
            "svc:clusterStack: missing: the service stack must name its cluster stack: add "
            "'clusterStack: <organization>/eks-platform/<stack>' under config: in "
            "Pulumi.config-no-cluster-stack.yaml (pulumi config set clusterStack "
            "<organization>/eks-platform/<stack> -s config-no-cluster-stack)",
        ],
        stack=STACK_CONFIG + f"  svc:image: {ECR_IMAGE}\n",
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    ),
    "config-bad-cluster-stack": Case(
        "service stack config",
        [
            "svc:clusterStack: got 'prod': must be '<organization>/<project>/<stack>' such as "
            "'organization/eks-platform/config-bad-cluster-stack': fix it in "
            "Pulumi.config-bad-cluster-stack.yaml",
        ],
        stack=STACK_CONFIG + f"  svc:clusterStack: prod\n  svc:image: {ECR_IMAGE}\n",
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    ),
    "config-bad-region": Case(
        "service stack config",
        [
            "aws:region: got 'EU-WEST-1': must be an AWS region such as 'eu-west-1': fix it in "
            "Pulumi.config-bad-region.yaml",
        ],
        stack=f'config:\n  aws:region: EU-WEST-1\n  aws:allowedAccountIds: ["{ACCOUNT}"]\n'
        + CONFIG_CLUSTER
        + f"  svc:image: {ECR_IMAGE}\n",
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    ),
    "config-account-lost-zero": Case(
        "service stack config",
        [
            "aws:allowedAccountIds[0]: got 12345678901: has fewer than 12 digits: a leading zero "
            "was lost because the id is not quoted: add 'aws:allowedAccountIds: [\"<12-digit "
            "account id>\"]' under config: in Pulumi.config-account-lost-zero.yaml (quote the "
            "id: YAML reads a leading zero or a long number differently)",
        ],
        stack="config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: [12345678901]\n"
        + CONFIG_CLUSTER
        + f"  svc:image: {ECR_IMAGE}\n",
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    ),
    "config-account-not-list": Case(
        "service stack config",
        [
            f"aws:allowedAccountIds: got '{ACCOUNT}': must be a non-empty list of account ids: "
            "add 'aws:allowedAccountIds: [\"<12-digit account id>\"]' under config: in "
            "Pulumi.config-account-not-list.yaml (quote the id: YAML reads a leading zero or a "
            "long number differently)",
        ],
        stack=f'config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: "{ACCOUNT}"\n'
        + CONFIG_CLUSTER
        + f"  svc:image: {ECR_IMAGE}\n",
        use_config=True,
        expected_subject="Pulumi.{stack}.yaml: invalid service configuration",
    ),
    # --- a few checks from before this suite, kept at their edge ------------------------------------
    "hpa-no-metric": Case(
        "values",
        [
            "autoscaling.cpu_target_percent: got None: the HPA scales on nothing: set "
            "cpu_target_percent, memory_target_percent or metrics, or use autoscaling=None "
            "with a fixed replicas count"
        ],
        {"autoscaling": Autoscaling(cpu_target_percent=None)},
    ),
    "hpa-vpa-same-metric": Case(
        "values",
        [
            "vpa.controlled_resources: got ('cpu', 'memory'): the HPA also scales on cpu "
            "(autoscaling.cpu_target_percent=70): HPA and VPA would fight over it; drop 'cpu' "
            "here, or scale the HPA on another metric"
        ],
        {"vpa": Vpa()},
    ),
    "prescaling-without-hpa": Case(
        "values",
        [
            "prescaling: got PreScaling(factor=10): pre-scaling raises the HPA's floor: it needs "
            "autoscaling (not None)"
        ],
        {"autoscaling": None, "prescaling": PreScaling()},
    ),
    "dependency-self": Case(
        "values",
        [
            "dependencies[0].name: got 'feed': is this service itself: call your own code "
            "directly, not through Envoy"
        ],
        {"dependencies": [Dependency(name="feed")]},
    ),
    "ingress-old-tls": Case(
        "values",
        [
            "ingress.ssl_policy: got 'ELBSecurityPolicy-2016-08': must be a TLS 1.3 policy: one "
            "of ELBSecurityPolicy-TLS13-1-2-2021-06, ELBSecurityPolicy-TLS13-1-2-FIPS-2023-04, "
            "ELBSecurityPolicy-TLS13-1-2-PQ-2025-09, ELBSecurityPolicy-TLS13-1-2-Res-2021-06, "
            "ELBSecurityPolicy-TLS13-1-3-2021-06, ELBSecurityPolicy-TLS13-1-3-FIPS-2023-04, "
            "ELBSecurityPolicy-TLS13-1-3-PQ-2025-09"
        ],
        {"ingress": Ingress(certificate_arn=CERT, ssl_policy="ELBSecurityPolicy-2016-08")},
    ),
    "ingress-idle-above-envoy": Case(
        "values",
        [
            "ingress.idle_timeout_s: got 80: must be below envoy.idle_timeout_s (75.0): the ALB "
            "must close idle connections before Envoy does, or clients get 502s"
        ],
        {"ingress": Ingress(certificate_arn=CERT, idle_timeout_s=80)},
    ),
    "iam-star": Case(
        "values",
        [
            "iam_statements[0].actions[0]: got '*': must be one IAM action 'service:Action' (no "
            "'*' for every service)",
        ],
        {"iam_statements": [IamStatement(actions=["*"], resources=["*"])]},
    ),
    "ecr-not-ecr": Case(
        "values",
        [
            "ecr: got True: the image is not in an ECR registry (ghcr.io): use an "
            "'<account>.dkr.ecr.<region>.amazonaws.com/...' image or leave ecr None"
        ],
        {"image": "ghcr.io/news/feed:1.4.2", "ecr": True},
    ),
}
"""Case name (also its stack name) -> the case."""


def expected_message(name: str) -> str:
    """The whole error the preview must print for case ``name``."""
    case = CASES[name]
    count = len(case.expected)
    subject = case.subject.format(stack=name)
    header = f"{subject}: {count} problem{'s' if count > 1 else ''}:"
    return "\n".join([header, *(f"  - {p}" for p in case.expected)])


def case_args(case: Case, cluster: Any) -> Any:
    if case.args is not None:
        return case.args(cluster)
    return apply_case(good_args(cluster), case.changes)


def run_case(name: str) -> None:
    """The scratch program's body: build the case's contract and ServiceStack(s)."""
    case = CASES[name]
    cluster = ClusterOutputs.from_values(contract_values("prod", **case.contract))
    if case.twice is not None:
        first = apply_case(good_args(cluster), case.twice["changes"])
        ServiceStack(case.twice["resource_name"], first)
    args = case_args(case, cluster)
    if case.use_config:
        config = load_config(Config)
        env = {"SIGNING_KEY": config.signing_key} if config.signing_key is not None else {}
        args = dataclasses.replace(args, image=config.image, env=env)
    ServiceStack(case.resource_name, args)


CASE_PROGRAM = """
import pulumi
from tests.service.bad_inputs import run_case

run_case(pulumi.get_stack())
"""
