"""The cluster contract: what the cluster stack hands to every service program.

``cluster/`` builds one :class:`ClusterOutputs` and calls :meth:`ClusterOutputs.export`; a service
program rebuilds it from the cluster stack with one call::

    cluster = ClusterOutputs.from_stack_reference("organization/eks-platform/prod")

Output names are camelCase (``clusterName``) and are API: renaming one breaks every service repo,
so add fields, never rename; :data:`CONTRACT_VERSION` goes up when a field changes meaning.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

CONTRACT_VERSION = 1
"""Bumped when an existing field changes meaning; service programs check it."""

RESOURCE_METRICS_API = "metrics.k8s.io"
"""Served by metrics-server: CPU and memory (HPA ``Resource`` metrics)."""
CUSTOM_METRICS_API = "custom.metrics.k8s.io"
"""Per-pod custom metrics (HPA ``Pods`` metrics): needs an adapter (Prometheus adapter...)."""
EXTERNAL_METRICS_API = "external.metrics.k8s.io"
"""Metrics from outside the cluster (HPA ``External`` metrics): needs an adapter (the Datadog
Cluster Agent registers it)."""
METRICS_API_OF_TYPE = {
    "Resource": RESOURCE_METRICS_API,
    "Pods": CUSTOM_METRICS_API,
    "Object": CUSTOM_METRICS_API,
    "External": EXTERNAL_METRICS_API,
}
"""The metrics API an HPA metric of each ``type`` is read from."""


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(p[:1].upper() + p[1:] for p in rest)


@dataclass(frozen=True, kw_only=True)
class ClusterFacts:
    """Plain values a program already knows about the cluster stack, for checks that must run
    before any resource is registered.

    Every :class:`ClusterOutputs` field is an Output; from a StackReference its value only exists
    asynchronously (``pulumi up`` reads the cluster stack while the program runs), so no check on
    it can happen before registration. Components that must refuse bad input up front (a
    ServiceStack for a team the cluster does not have, a prod ALB without a certificate) check
    against these facts instead, and also verify, when the contract resolves, that the facts match
    the cluster (a mismatch fails the run before any of their resources is registered).

    A service program states them (usually from its stack: the environment is its stack name,
    the team is its own); a program building ClusterOutputs directly fills them from its config.
    """

    environment: str
    """The cluster stack's ``environment`` (``staging``, ``prod``); must equal
    ``ClusterOutputs.environment``. Required."""
    team_namespaces: Mapping[str, str] = field(default_factory=dict)
    """Team -> namespace for the teams the program deploys for (a subset of the cluster's
    ``team_namespaces`` is enough). Default: none."""


@dataclass(frozen=True, kw_only=True)
class ClusterOutputs:
    """Typed hand-off from the cluster stack to service stacks (every field an Output)."""

    cluster_name: pulumi.Output[str]
    """EKS cluster name."""
    region: pulumi.Output[str]
    """AWS region of the cluster."""
    account_id: pulumi.Output[str]
    """AWS account of the cluster."""
    environment: pulumi.Output[str]
    """``staging``, ``prod``...: the ``environment`` tag and Datadog ``env``."""
    kubernetes_version: pulumi.Output[str]
    """``1.MINOR`` of the control plane."""
    endpoint: pulumi.Output[str]
    """API server URL."""
    certificate_authority: pulumi.Output[str]
    """Base64 PEM of the cluster CA."""
    kubeconfig: pulumi.Output[str]
    """JSON kubeconfig (secret)."""
    oidc_provider_arn: pulumi.Output[str]
    """IAM OIDC provider ARN (IRSA trust)."""
    oidc_provider_url: pulumi.Output[str]
    """OIDC issuer without ``https://`` (IRSA condition keys)."""
    vpc_id: pulumi.Output[str]
    vpc_cidr: pulumi.Output[str]
    availability_zones: pulumi.Output[list[str]]
    public_subnet_ids: pulumi.Output[list[str]]
    """For internet-facing ALBs."""
    private_subnet_ids: pulumi.Output[list[str]]
    """For internal ALBs, nodes and pods."""
    cluster_security_group_id: pulumi.Output[str]
    node_security_group_id: pulumi.Output[str]
    """Security group of the nodes: a service's ALB rule targets it."""
    cost_centre: pulumi.Output[str]
    """Company ``cost-centre`` tag of the stack."""
    # --- compute (node pools) -------------------------------------------------------------------
    node_pool_asg_names: pulumi.Output[list[str]]
    """Every node pool Auto Scaling group (one per pool per zone): a service's ALB target group
    (type instance) attaches to each."""
    capacity_type_label: pulumi.Output[str]
    """Node label key whose value is ``spot`` or ``on-demand`` on every node."""
    node_pool_label: pulumi.Output[str]
    """Node label key whose value is the node's pool name."""
    # --- add-ons ---------------------------------------------------------------------------------
    headroom_namespace: pulumi.Output[str]
    """Namespace of the overprovisioning (headroom) Deployment."""
    headroom_deployment_name: pulumi.Output[str]
    """Stable name of the headroom Deployment: the push pre-scaler scales it."""
    headroom_labels: pulumi.Output[dict[str, str]]
    """Labels of the headroom pods."""
    team_namespaces: pulumi.Output[dict[str, str]]
    """Team name -> its namespace (a ServiceStack deploys into its team's namespace)."""
    # --- service platform ------------------------------------------------------------------------
    permissions_boundary_arn: pulumi.Output[str]
    """Permissions boundary every service IAM role must carry."""
    alb_log_bucket: pulumi.Output[str]
    """S3 bucket for ALB access logs."""
    team_alert_topic_arns: pulumi.Output[dict[str, str]]
    """Team name -> SNS topic its services' alarms notify."""
    # --- push pre-scaler and metrics ---------------------------------------------------------
    prescale_topic_arn: pulumi.Output[str]
    """SNS topic push senders publish pre-scale events to (``eksplatform prescale send``);
    ``""`` when the cluster runs no pre-scaler (``platform:preScaler.enabled: false``)."""
    metrics_apis: pulumi.Output[list[str]]
    """Kubernetes metrics APIs the cluster serves: ``metrics.k8s.io`` (metrics-server: CPU and
    memory, HPA ``Resource`` metrics); ``custom.metrics.k8s.io`` (``Pods`` metrics) and
    ``external.metrics.k8s.io`` (``External`` metrics) once an adapter that serves them is
    installed. ServiceStack refuses HPA metrics of an API not listed; a cluster stack older
    than this field served ``metrics.k8s.io`` only."""
    # --- not exported ----------------------------------------------------------------------------
    facts: ClusterFacts | None = field(default=None, compare=False)
    """Plain facts for checks before registration (see :class:`ClusterFacts`); not a stack
    output. Default: None (components that need them say so)."""
    _provider: k8s.Provider | None = field(default=None, init=False, repr=False, compare=False)

    def kubernetes_provider(self, name: str = "cluster-k8s") -> k8s.Provider:
        """The program's Kubernetes provider for this cluster, created on first use (from
        ``kubeconfig``, server-side apply) and shared by every component that deploys into it:
        one provider plugin per program, not one per service. ``name`` names it on creation;
        give each cluster its own when a program deploys into two."""
        if self._provider is None:
            provider = k8s.Provider(name, kubeconfig=self.kubeconfig, enable_server_side_apply=True)
            object.__setattr__(self, "_provider", provider)  # frozen: memoized once
        assert self._provider is not None
        return self._provider

    def export(self) -> None:
        """Export every field as a stack output (camelCase names) plus ``contractVersion``."""
        pulumi.export("contractVersion", CONTRACT_VERSION)
        for f in _output_fields():
            pulumi.export(_camel(f.name), getattr(self, f.name))

    @staticmethod
    def output_names() -> list[str]:
        return ["contractVersion"] + [_camel(f.name) for f in _output_fields()]

    @classmethod
    def from_stack_reference(
        cls,
        ref: str | pulumi.StackReference,
        opts: pulumi.ResourceOptions | None = None,
        *,
        facts: ClusterFacts | None = None,
    ) -> ClusterOutputs:
        """Rebuild the contract from the cluster stack (``org/project/stack`` or a reference),
        with the plain ``facts`` the program knows (see :class:`ClusterFacts`)."""
        stack_ref = (
            ref
            if isinstance(ref, pulumi.StackReference)
            else pulumi.StackReference(f"cluster-{ref.rsplit('/', 1)[-1]}", ref, opts=opts)
        )
        values: dict[str, Any] = {"facts": facts}
        for f in _output_fields():
            values[f.name] = stack_ref.get_output(_camel(f.name))
        version = stack_ref.get_output("contractVersion")
        version.apply(_check_version)
        values["kubeconfig"] = pulumi.Output.secret(values["kubeconfig"])
        return cls(**values)


# --- contracts known before the program runs -------------------------------------------------

ContractResolver = Callable[[str], Mapping[str, Any]]
"""``stack reference name -> that stack's outputs`` (plain values, secrets unwrapped or not)."""

_resolver: ContractResolver | None = None


def set_contract_resolver(resolver: ContractResolver | None) -> None:
    """Install (or remove, with None) the source of contracts known before registration.

    The offline preview installs one for each run: it answers a StackReference from a contract
    file or another program's offline outputs, so the values exist before the program registers
    anything. Under ``pulumi up`` there is none: a StackReference's values arrive while the
    program runs, and checks that need them gate every child on their result instead."""
    global _resolver
    _resolver = resolver


def known_contract(stack_reference: str) -> Mapping[str, Any] | None:
    """The outputs of ``stack_reference`` when they are known now (offline preview), else None.

    Lets a component check its arguments against the real contract before it registers
    anything. An error from the resolver propagates: the reference cannot be answered."""
    return None if _resolver is None else _resolver(stack_reference)


def _output_fields() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(ClusterOutputs) if f.name not in ("facts", "_provider")]


def _check_version(version: Any) -> None:
    if version is None:
        raise pulumi.RunError(
            "the cluster stack exports no contractVersion: is the reference "
            "pointing at the platform's cluster stack?"
        )
    if int(version) != CONTRACT_VERSION:  # numbers cross a StackReference as floats
        raise pulumi.RunError(
            f"the cluster stack exports contract version {int(version)}, this "
            f"library expects {CONTRACT_VERSION}: upgrade eksplatform"
        )
