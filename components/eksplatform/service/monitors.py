"""Datadog monitors nobody can forget: every service, its worker queue included.

Each ServiceStack gets, through the Pulumi Datadog provider (``pulumi-datadog``), one monitor per
signal below, tagged ``service:<name>`` (what the ``svc-alarms`` guardrail looks for), ``team``,
``env`` and ``kube_namespace``, notifying the team's channels from the cluster contract
(``teamMonitorChannels``) plus ``Monitors.notify``, and linking the runbook when one is given.
``<env>``, ``<ns>`` and ``<svc>`` below are the cluster's environment, the team namespace and the
service name:

========================  ===================================================================
error rate                ``envoy.http.downstream_rq_xx`` with ``envoy.response_code_class:5``
                          over ``envoy.http.downstream_rq_completed``, Envoy's ingress listener
                          (``envoy.http_conn_manager_prefix:ingress_http``), as a percentage
p99 latency               ``envoy.http.downstream_rq_time.99percentile``, the slowest pod
restarts                  ``change()`` of ``kubernetes.containers.restarts`` per pod (kubelet)
OOM kills                 ``kubernetes.containers.last_state.terminated`` with
                          ``reason:oomkilled`` per pod and container (kubelet)
replicas below the floor  ``kubernetes_state.deployment.replicas_available`` minus the HPA's
                          ``kubernetes_state.hpa.min_replicas`` (or the Deployment's
                          ``replicas_desired`` for a fixed count) below 0 (Cluster Agent)
queue age / depth         ``aws.sqs.approximate_age_of_oldest_message`` /
                          ``approximate_number_of_messages_visible`` of the declared queue
                          (Datadog's AWS integration; evaluated 15 minutes late, as its data is)
========================  ===================================================================

Where the tags come from: Envoy's DogStatsD sink names ``service`` and ``kube_namespace`` itself
(:func:`eksplatform.service.contract_checks.service_context`; the agent cannot attribute UDP
packets to a pod) and the node agent adds ``env`` to every DogStatsD metric; the kubelet check
tags containers from the pods' ``tags.datadoghq.com/*`` labels; the Cluster Agent's
kube-state-metrics check carries ``env`` on every metric; the AWS integration tags SQS metrics
with ``queuename`` (lowercased), ``aws_account`` and ``region``. The percentile exists because
the cluster's agents compute 0.99 for histograms (:mod:`eksplatform.cluster.datadog`).

Design decisions and their costs:

* **The set of monitors depends on the arguments only** (``http``, ``oom_kills``, HPA or not,
  the queue), never on the contract, so under ``pulumi up`` the same monitors are registered
  with their text from the gate's resolved contract: no resource is created inside an
  ``apply``. The cost: a cluster without a Datadog agent is an error (``monitors=None`` opts
  out) rather than a silent "no monitors".
* **Latency is the worst pod's p99** (``max`` across pods of each pod's own percentile): a
  fleet-wide p99 would need distributions, paid per metric; one slow pod is worth a page.
* **No-data never alerts** (``notify_no_data`` off): a service without traffic is not down.
  The cost: a broken agent is caught by the platform's own agent health, not by these.
* **The provider is the program's default Datadog provider**: ``datadog:apiKey`` and
  ``datadog:appKey`` as secrets in the stack config (``pulumi config set --secret``) or from a
  Pulumi ESC environment that sets them, and ``datadog:apiUrl`` for a site other than
  datadoghq.com (the contract's ``datadogSite``). :func:`provider_config_problems` checks them
  before anything is registered: a key in clear text or an ``apiUrl`` of another site is an
  error (a missing key is the provider's to refuse: the offline preview needs none).
"""

from __future__ import annotations

import os
import re
import urllib.parse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pulumi
from pulumi.runtime import config as runtime_config

from ..core import naming
from ..core.datadog import HANDLE, api_url
from ..core.errors import Problem, Problems
from .args import Monitors, QueueMonitor
from .checks import is_int

if TYPE_CHECKING:
    # Imported where monitors are built: the Datadog SDK loads every resource module up front
    # (seconds), which a service without ``monitors=`` and every validation never use.
    import pulumi_datadog as datadog

WINDOWS = {5: "5m", 10: "10m", 15: "15m", 30: "30m", 60: "1h", 120: "2h", 240: "4h", 1440: "1d"}
"""Evaluation windows (minutes) and how a query writes them."""
SQS_EVALUATION_DELAY_S = 900
"""The AWS integration's data arrives up to about 15 minutes late (CloudWatch polling)."""
INGRESS = "envoy.http_conn_manager_prefix:ingress_http"
"""Envoy's ingress listener (its stat prefix, :data:`eksplatform.envoy.INGRESS_STAT_PREFIX`)."""
API_KEY = "datadog:apiKey"
APP_KEY = "datadog:appKey"
API_URL = "datadog:apiUrl"


@dataclass(frozen=True)
class MonitorContext:
    """The plain values the monitors' text is made of."""

    service: str
    team: str
    environment: str
    namespace: str
    channels: str
    """The team's handles from the contract (space-separated)."""
    account_id: str
    region: str
    autoscaled: bool
    """The Deployment has an HPA (the floor is its ``minReplicas``)."""


@dataclass(frozen=True)
class MonitorSpec:
    """One monitor, as plain data (what tests assert and the builder registers)."""

    key: str
    """Logical name suffix (``error-rate``)."""
    name: str
    query: str
    message: str
    critical: float
    tags: tuple[str, ...]
    evaluation_delay: int | None = None


def monitor_keys(monitors: Monitors) -> list[str]:
    """Which monitors the arguments ask for, in order (independent of the contract)."""
    keys: list[str] = []
    if monitors.http:
        keys += ["error-rate", "p99-latency"]
    keys.append("restarts")
    if monitors.oom_kills:
        keys.append("oom-kills")
    keys.append("replicas")
    if monitors.queue is not None:
        if monitors.queue.max_age_s is not None:
            keys.append("queue-age")
        if monitors.queue.max_depth is not None:
            keys.append("queue-depth")
    return keys


def _number(value: float) -> str:
    return f"{value:g}"


def monitor_specs(
    monitors: Monitors, ctx: MonitorContext, queue_name: str | None = None
) -> list[MonitorSpec]:
    """Every monitor of the service, in :func:`monitor_keys` order. ``queue_name`` is the
    queue's resolved name (``monitors.queue.name`` may be an Output)."""
    svc, ns, env = ctx.service, ctx.namespace, ctx.environment
    pods = f"env:{env},kube_namespace:{ns},service:{svc}"
    handles = " ".join(dict.fromkeys([*ctx.channels.split(), *monitors.notify]))
    tags = (
        f"env:{env}",
        f"kube_namespace:{ns}",
        f"service:{svc}",
        f"team:{ctx.team}",
        "managed-by:eksplatform",
    )
    runbook = f"\nRunbook: {monitors.runbook_url}" if monitors.runbook_url else ""

    def message(what: str) -> str:
        return f"{svc} (team {ctx.team}, {env}, namespace {ns}): {what}.{runbook}\n\n{handles}"

    def title(what: str) -> str:
        return f"[{env}] {ns}/{svc}: {what}"

    specs: dict[str, MonitorSpec] = {}
    if monitors.http:
        w = WINDOWS[monitors.http_window_min]
        ingress = f"{pods},{INGRESS}"
        pct = _number(monitors.error_rate_percent)
        specs["error-rate"] = MonitorSpec(
            key="error-rate",
            name=title(f"5xx above {pct}% of requests"),
            query=(
                f"sum(last_{w}):sum:envoy.http.downstream_rq_xx{{{ingress},"
                "envoy.response_code_class:5}.as_count() / "
                f"sum:envoy.http.downstream_rq_completed{{{ingress}}}.as_count() * 100 > {pct}"
            ),
            message=message(
                f"5xx responses are above {pct}% of the requests its Envoy ingress served "
                f"(last {w})"
            ),
            critical=monitors.error_rate_percent,
            tags=tags,
        )
        ms = monitors.p99_latency_ms
        specs["p99-latency"] = MonitorSpec(
            key="p99-latency",
            name=title(f"p99 latency above {ms} ms"),
            query=(
                f"avg(last_{w}):max:envoy.http.downstream_rq_time.99percentile{{{ingress}}} > {ms}"
            ),
            message=message(
                f"the slowest pod's p99 request time at its Envoy ingress is above {ms} ms "
                f"(last {w})"
            ),
            critical=ms,
            tags=tags,
        )
    w = WINDOWS[monitors.restarts_window_min]
    specs["restarts"] = MonitorSpec(
        key="restarts",
        name=title(f"{monitors.restarts}+ container restarts in {w}"),
        query=(
            f"change(max(last_{w}),last_{w}):sum:kubernetes.containers.restarts{{{pods}}} "
            f"by {{pod_name}} >= {monitors.restarts}"
        ),
        message=message(
            f"a pod's containers restarted {monitors.restarts} or more times in {w} "
            "(crashes or failed liveness probes)"
        ),
        critical=monitors.restarts,
        tags=tags,
    )
    if monitors.oom_kills:
        specs["oom-kills"] = MonitorSpec(
            key="oom-kills",
            name=title("container OOM-killed"),
            query=(
                f"max(last_{w}):max:kubernetes.containers.last_state.terminated{{{pods},"
                "reason:oomkilled} by {pod_name,kube_container_name} >= 1"
            ),
            message=message(
                "a container was killed for exceeding its memory limit (its last exit was "
                "OOMKilled); raise its memory or find the leak"
            ),
            critical=1,
            tags=tags,
        )
    w = WINDOWS[monitors.replicas_window_min]
    deployment = f"env:{env},kube_namespace:{ns},kube_deployment:{svc}"
    if ctx.autoscaled:
        floor = (
            "sum:kubernetes_state.hpa.min_replicas"
            f"{{env:{env},kube_namespace:{ns},horizontalpodautoscaler:{svc}}}"
        )
        what = "the HPA's minReplicas"
    else:
        floor = f"sum:kubernetes_state.deployment.replicas_desired{{{deployment}}}"
        what = "its replicas"
    specs["replicas"] = MonitorSpec(
        key="replicas",
        name=title("replicas below the floor"),
        query=(
            f"min(last_{w}):sum:kubernetes_state.deployment.replicas_available{{{deployment}}} "
            f"- {floor} < 0"
        ),
        message=message(f"fewer pods are available than {what} for {w}"),
        critical=0,
        tags=tags,
    )
    queue = monitors.queue
    if queue is not None:
        qname = (queue_name if queue_name is not None else str(queue.name)).lower()
        sqs = f"aws_account:{ctx.account_id},region:{ctx.region},queuename:{qname}"
        w = WINDOWS[queue.window_min]
        if queue.max_age_s is not None:
            specs["queue-age"] = MonitorSpec(
                key="queue-age",
                name=title(f"queue {qname}: oldest message older than {queue.max_age_s} s"),
                query=(
                    f"max(last_{w}):max:aws.sqs.approximate_age_of_oldest_message{{{sqs}}} "
                    f"> {queue.max_age_s}"
                ),
                message=message(
                    f"the oldest message of queue {qname} has waited more than "
                    f"{queue.max_age_s} s: the workers are stuck or too few"
                ),
                critical=queue.max_age_s,
                tags=tags,
                evaluation_delay=SQS_EVALUATION_DELAY_S,
            )
        if queue.max_depth is not None:
            specs["queue-depth"] = MonitorSpec(
                key="queue-depth",
                name=title(f"queue {qname}: more than {queue.max_depth} messages waiting"),
                query=(
                    f"max(last_{w}):max:aws.sqs.approximate_number_of_messages_visible{{{sqs}}} "
                    f"> {queue.max_depth}"
                ),
                message=message(
                    f"more than {queue.max_depth} messages wait in queue {qname}: the workers "
                    "fall behind"
                ),
                critical=queue.max_depth,
                tags=tags,
                evaluation_delay=SQS_EVALUATION_DELAY_S,
            )
    return [specs[k] for k in monitor_keys(monitors)]


# --- checks ----------------------------------------------------------------------------------


def _positive(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_monitors(problems: Problems, monitors: Monitors | None) -> None:
    """The thresholds and texts of ``monitors`` (its types are checked by the shape pass)."""
    if monitors is None:
        return
    m = monitors
    if _positive(m.error_rate_percent) and not 0 < m.error_rate_percent <= 100:
        problems.add(
            "monitors.error_rate_percent",
            m.error_rate_percent,
            "must be above 0 and at most 100 (a percentage of the requests)",
        )
    if is_int(m.p99_latency_ms) and not 1 <= m.p99_latency_ms <= 600_000:
        problems.add(
            "monitors.p99_latency_ms", m.p99_latency_ms, "must be 1 to 600000 ms (10 minutes)"
        )
    if is_int(m.restarts) and not 1 <= m.restarts <= 100:
        problems.add("monitors.restarts", m.restarts, "must be 1 to 100 restarts")
    for field in ("http_window_min", "restarts_window_min", "replicas_window_min"):
        _check_window(problems, f"monitors.{field}", getattr(m, field))
    if m.runbook_url is not None:
        problem = runbook_problem(m.runbook_url)
        if problem:
            problems.add("monitors.runbook_url", m.runbook_url, problem)
    if m.priority is not None and is_int(m.priority) and not 1 <= m.priority <= 5:
        problems.add("monitors.priority", m.priority, "must be 1 (P1, highest) to 5")
    for i, handle in enumerate(m.notify):
        if isinstance(handle, str) and not HANDLE.fullmatch(handle):
            problems.add(
                f"monitors.notify[{i}]",
                handle,
                "is not a Datadog notification handle: write it like @slack-feed-dev, "
                "@pagerduty-feed or @someone@example.com",
            )
    if m.queue is not None:
        _check_queue(problems, m.queue)


def _check_window(problems: Problems, field: str, value: Any) -> None:
    if is_int(value) and value not in WINDOWS:
        problems.add(
            field,
            value,
            f"must be one of {', '.join(map(str, WINDOWS))} minutes (Datadog's evaluation windows)",
        )


def _check_queue(problems: Problems, q: QueueMonitor) -> None:
    if isinstance(q.name, str):
        problem = naming.explicit_name_problem("monitors.queue.name", q.name, naming.SQS_QUEUE)
        if problem is not None:
            problems.add(problem.field, problem.value, problem.message)
    if q.max_age_s is not None and is_int(q.max_age_s) and not 60 <= q.max_age_s <= 1_209_600:
        problems.add(
            "monitors.queue.max_age_s",
            q.max_age_s,
            "must be 60 to 1209600 seconds (SQS keeps a message 14 days at most)",
        )
    if q.max_depth is not None and is_int(q.max_depth) and not 1 <= q.max_depth <= 100_000_000:
        problems.add("monitors.queue.max_depth", q.max_depth, "must be 1 to 100000000 messages")
    if q.max_age_s is None and q.max_depth is None:
        problems.add(
            "monitors.queue",
            q,
            "watches nothing: give max_age_s (the oldest message's age) or max_depth, or both",
        )
    _check_window(problems, "monitors.queue.window_min", q.window_min)


_URL_TEXT = re.compile(r"[!-~]{1,2000}")
"""Printable ASCII without spaces (a URL in a monitor message ends at the first space)."""


def runbook_problem(url: Any) -> str | None:
    """Why ``url`` is not a usable runbook link (None when it is)."""
    if not isinstance(url, str) or not _URL_TEXT.fullmatch(url):
        return "must be an https URL of at most 2000 characters, without spaces"
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        return "must be an https URL with a host, like https://runbooks.example.com/feed"
    return None


def queue_name_problem(name: str) -> Problem | None:
    """A resolved queue name (an Output) against SQS's rule (in ServiceStack's gate:
    :mod:`.output_checks`)."""
    return naming.explicit_name_problem("monitors.queue.name", name, naming.SQS_QUEUE)


def provider_config_problems(site: str | None) -> list[Problem]:
    """The program's Datadog provider configuration against the cluster's site: a key stored
    in clear text, or an ``apiUrl`` of another site. A key that is not set is left to the
    provider, which refuses to start without it (the offline preview needs none)."""
    problems: list[Problem] = []
    secret = set(runtime_config.get_config_secret_keys_env())
    for key in (API_KEY, APP_KEY):
        raw = runtime_config.get_config(key)
        if raw is not None and not (runtime_config.is_config_secret(key) or key in secret):
            problems.append(
                Problem(
                    key,
                    "[hidden]",
                    "is stored in clear text in the stack file: rotate the key, then "
                    f"`pulumi config set --secret {key} <key>`",
                )
            )
    if site:
        expected = api_url(site)
        configured = runtime_config.get_config(API_URL) or os.environ.get("DD_HOST")
        if configured is None and site != "datadoghq.com":
            problems.append(
                Problem(
                    API_URL,
                    None,
                    f"the cluster's agents send to the Datadog site {site}: the monitors must "
                    f"be created there; `pulumi config set {API_URL} {expected}`",
                )
            )
        elif configured is not None and str(configured).rstrip("/") != expected.rstrip("/"):
            problems.append(
                Problem(
                    API_URL,
                    configured,
                    f"is not the API of the cluster's Datadog site {site} (the monitors would "
                    f"watch another organisation): set it to {expected}",
                )
            )
    return problems


# --- resources -------------------------------------------------------------------------------


def _inputs(spec: MonitorSpec) -> dict[str, Any]:
    return {
        "name": spec.name,
        "query": spec.query,
        "message": spec.message,
        "critical": _number(spec.critical),
        "tags": list(spec.tags),
        "evaluation_delay": spec.evaluation_delay,
    }


def build_monitors(
    prefix: str,
    monitors: Monitors,
    ctx: pulumi.Input[MonitorContext],
    *,
    opts: pulumi.ResourceOptions,
) -> list[datadog.Monitor]:
    """One ``datadog.Monitor`` per :func:`monitor_keys` entry. ``ctx`` is plain when the
    contract was known before registration, else the gate's Output (see the module
    docstring): the monitors are the same, only their text waits."""
    import pulumi_datadog as datadog

    keys = monitor_keys(monitors)
    declared = monitors.queue.name if monitors.queue is not None else None
    # Checked already: a plain name before registration, an Output in ServiceStack's gate,
    # which ``ctx`` comes from (see .output_checks).
    queue_name: pulumi.Output[Any] = pulumi.Output.from_input(declared)

    def resolved(values: list[Any]) -> list[dict[str, Any]]:
        context, qname = values
        return [_inputs(s) for s in monitor_specs(monitors, context, qname)]

    all_inputs = pulumi.Output.all(ctx, queue_name).apply(resolved)
    created = []
    for i, key in enumerate(keys):
        item: pulumi.Output[dict[str, Any]] = all_inputs.apply(
            lambda specs, i=i: specs[i]  # type: ignore[misc]
        )
        created.append(
            datadog.Monitor(
                f"{prefix}-monitor-{key}",
                name=item.apply(lambda x: str(x["name"])),
                type="query alert",
                query=item.apply(lambda x: str(x["query"])),
                message=item.apply(lambda x: str(x["message"])),
                monitor_thresholds=datadog.MonitorMonitorThresholdsArgs(
                    critical=item.apply(lambda x: str(x["critical"]))
                ),
                tags=item.apply(lambda x: list(x["tags"])),
                priority=str(monitors.priority) if monitors.priority is not None else None,
                evaluation_delay=item.apply(lambda x: x["evaluation_delay"]),
                notify_no_data=False,
                require_full_window=False,
                include_tags=True,
                opts=opts,
            )
        )
    return created
