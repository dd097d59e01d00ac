"""The cluster contract: what the cluster stack hands to every service program.

``cluster/`` builds one :class:`ClusterOutputs` and calls :meth:`ClusterOutputs.export`; a service
program rebuilds it from the cluster stack with one call::

    cluster = ClusterOutputs.from_stack_reference("organization/eks-platform/prod")

(a ServiceStack does it for the program when ``cluster`` is not given: it reads the stack config's
``clusterStack``). Output names are camelCase (``clusterName``) and are API: renaming one breaks
every service repo, so add fields, never rename; :data:`CONTRACT_VERSION` goes up when a field
changes meaning.

Design decision: **the contract's plain values travel with it when they are known.** Checks that
must run before anything is registered (is the team one of the cluster's? is this prod? is the
certificate in the cluster's region?) need plain values, but a StackReference's values only
arrive while ``pulumi up`` runs. :meth:`ClusterOutputs.from_stack_reference` therefore asks
:func:`known_contract` (the offline preview answers it from the cluster's outputs or a contract
file) and keeps the answer in :attr:`ClusterOutputs.known`; components check against it before
registering anything. When it is None (``pulumi up``), components gate every child on the same
checks run over the resolved Outputs, so a mismatch still fails before a child is sent. The cost:
every check is written once but runs in two places, and under ``pulumi up`` a contract mismatch is
reported by the engine as a failed component rather than before the program's first resource.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from .tags import Tags

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
    """Deprecated: plain values a program states about the cluster stack, for checks that must
    run before any resource is registered.

    No longer needed: the contract's own values are checked before registration when they are
    known (the offline preview, :attr:`ClusterOutputs.known`) and before any child is sent under
    ``pulumi up``. Programs that still pass facts keep working (they are checked against the
    contract as before) and get a deprecation warning; remove ``facts=`` (and the
    ``ClusterFacts`` import) to silence it. They will be removed in the next major version.

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
    # --- Datadog -----------------------------------------------------------------------------
    datadog_site: pulumi.Output[str]
    """The Datadog site the cluster's agents send to (``datadoghq.com``, ``datadoghq.eu``...):
    service monitors live in that site's organisation (the service program's Datadog provider
    must point at ``https://api.<site>/``); ``""`` when the cluster runs no Datadog agent, and
    for a cluster stack older than this field."""
    team_monitor_channels: pulumi.Output[dict[str, str]]
    """Team name -> the Datadog notification handles its services' monitors notify,
    space-separated as a monitor message takes them (``"@slack-news-alerts @pagerduty-news"``;
    default: the team's alert e-mails as ``@<email>``)."""
    # --- not exported ----------------------------------------------------------------------------
    facts: ClusterFacts | None = field(default=None, compare=False)
    """Deprecated (see :class:`ClusterFacts`): plain facts the program states; not a stack
    output. Default: None."""
    known: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    """The contract's plain values (camelCase output names, as ``pulumi stack output --json``
    gives them) when they are known before registration: from :func:`known_contract` in the
    offline preview, or :meth:`from_values`. Not a stack output. Default: None (``pulumi up``:
    only the Outputs exist)."""
    stack_reference: str | None = field(default=None, compare=False)
    """``org/project/stack`` of the cluster stack this contract was read from. Not a stack
    output. Default: None (built from values)."""
    _provider: k8s.Provider | None = field(default=None, init=False, repr=False, compare=False)
    _version: pulumi.Output[Any] | None = field(default=None, init=False, repr=False, compare=False)

    def kubernetes_provider(
        self,
        name: str = "cluster-k8s",
        *,
        after: pulumi.Input[list[pulumi.Resource]] | None = None,
    ) -> k8s.Provider:
        """The program's Kubernetes provider for this cluster, created on first use (from
        ``kubeconfig``, server-side apply) and shared by every component that deploys into it:
        one provider plugin per program, not one per service. ``name`` names it on creation;
        give each cluster its own when a program deploys into two. ``after`` (used on creation
        only) makes its registration wait, e.g. for the first user's validation gate."""
        if self._provider is None:
            provider = k8s.Provider(
                name,
                kubeconfig=self.kubeconfig,
                enable_server_side_apply=True,
                opts=pulumi.ResourceOptions(depends_on=after) if after is not None else None,
            )
            object.__setattr__(self, "_provider", provider)  # frozen: memoized once
        assert self._provider is not None
        return self._provider

    def company_tags(self, team: str, **component: str) -> pulumi.Output[dict[str, str]]:
        """The company tags (team, the cluster's environment and cost centre, managed-by) plus
        ``component`` tags, for a team's own resources beside its ServiceStack (a table, a
        queue): nothing the contract knows is restated in the program."""

        def merged(values: list[Any]) -> dict[str, str]:
            tags = Tags(team=team, environment=str(values[0]), cost_centre=str(values[1]))
            return tags.merged(component)

        return pulumi.Output.all(self.environment, self.cost_centre).apply(merged)

    def export(self) -> None:
        """Export every field as a stack output (camelCase names) plus ``contractVersion``."""
        pulumi.export("contractVersion", CONTRACT_VERSION)
        for f in _output_fields():
            pulumi.export(_camel(f.name), getattr(self, f.name))

    @staticmethod
    def output_names() -> list[str]:
        return ["contractVersion"] + [_camel(f.name) for f in _output_fields()]

    @property
    def contract_version(self) -> pulumi.Output[Any] | None:
        """The cluster stack's ``contractVersion`` Output (None when built from values)."""
        return self._version

    @classmethod
    def from_stack_reference(
        cls,
        ref: str | pulumi.StackReference,
        opts: pulumi.ResourceOptions | None = None,
        *,
        facts: ClusterFacts | None = None,
    ) -> ClusterOutputs:
        """Rebuild the contract from the cluster stack (``org/project/stack`` or a reference).

        When the stack's outputs are known before registration (:func:`known_contract`), they are
        kept in :attr:`known` and the contract version is checked at once. ``facts`` is
        deprecated (see :class:`ClusterFacts`)."""
        name = ref if isinstance(ref, str) else None
        known = known_contract(name) if name is not None else None
        if known is not None:
            check_contract_version(known.get("contractVersion"))
        stack_ref = (
            ref
            if isinstance(ref, pulumi.StackReference)
            else pulumi.StackReference(f"cluster-{ref.rsplit('/', 1)[-1]}", ref, opts=opts)
        )
        values: dict[str, Any] = {"facts": facts, "known": known, "stack_reference": name}
        for f in _output_fields():
            values[f.name] = stack_ref.get_output(_camel(f.name))
        version = stack_ref.get_output("contractVersion")
        version.apply(check_contract_version)
        values["kubeconfig"] = pulumi.Output.secret(values["kubeconfig"])
        contract = cls(**values)
        object.__setattr__(contract, "_version", version)  # frozen: set once here
        return contract

    @classmethod
    def from_values(
        cls, values: Mapping[str, Any], *, stack_reference: str | None = None
    ) -> ClusterOutputs:
        """The contract from plain values (camelCase output names, the shape of
        ``pulumi stack output --json`` or a contract file), known before registration.

        Every field must be present but those added after contract version 1, which a
        contract file from an older cluster stack lacks (:data:`ADDED_OUTPUTS`: absent reads
        as their "not provided" value); ``kubeconfig`` is marked secret."""
        values = {**ADDED_OUTPUTS, **values}
        missing = [n for n in cls.output_names() if n != "contractVersion" and n not in values]
        if missing:
            raise ValueError(f"contract values lack {', '.join(missing)}")
        fields_: dict[str, Any] = {
            f.name: pulumi.Output.from_input(values[_camel(f.name)]) for f in _output_fields()
        }
        fields_["kubeconfig"] = pulumi.Output.secret(values["kubeconfig"])
        return cls(**fields_, known=dict(values), stack_reference=stack_reference)


ADDED_OUTPUTS: Mapping[str, Any] = {"datadogSite": "", "teamMonitorChannels": {}}
"""Outputs added after contract version 1 and what their absence means (no Datadog agent, no
monitor channels): readers treat a missing one like this value."""


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


_NOT_EXPORTED = ("facts", "known", "stack_reference", "_provider", "_version")


def _output_fields() -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(ClusterOutputs) if f.name not in _NOT_EXPORTED]


def check_contract_version(version: Any) -> None:
    """Raise a RunError unless ``version`` (the stack's ``contractVersion``) is this library's."""
    if version is None:
        raise pulumi.RunError(
            "the cluster stack exports no contractVersion: is the reference "
            "pointing at the platform's cluster stack?"
        )
    # Numbers cross a StackReference as floats (3.0); anything else is not our contract.
    if isinstance(version, bool) or not isinstance(version, (int, float)):
        raise pulumi.RunError(
            f"the cluster stack exports contractVersion {version!r}, not a number: is the "
            "reference pointing at the platform's cluster stack?"
        )
    if version != CONTRACT_VERSION:
        shown = int(version) if float(version).is_integer() else version
        raise pulumi.RunError(
            f"the cluster stack exports contract version {shown}, this "
            f"library expects {CONTRACT_VERSION}: upgrade eksplatform"
        )
