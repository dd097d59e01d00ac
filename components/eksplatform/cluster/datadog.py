"""Datadog: the node agent on every node and the Cluster Agent, as typed objects of our own.

Why not Datadog's Helm chart: a chart is one opaque resource offline (the VPA shows it), so the
offline preview could neither render, schema-check nor scan what it runs, and CI cannot fetch
charts. Every object here is built from data in :mod:`.datadog_access` (host access, RBAC) and
:mod:`.datadog_config` (the ``platform:datadog`` section). The cost: Datadog's chart changes are
not picked up by bumping a version; a new agent release is a tag bump here, and a new feature
is code.

Created, in the namespace ``datadog``:

* the Namespace: Pod Security ``enforce: privileged`` because the node agent mounts host paths
  and binds a host port (both forbidden by "baseline"); ``warn: baseline`` and ``audit:
  restricted`` keep the exception visible. Only the two agents run there; every other namespace
  keeps its own level. The Cluster Agent's pod passes "restricted" anyway;
* the Secrets: ``datadog-api-key`` (the Pulumi secret ``platform:datadogApiKey``, nowhere else),
  ``datadog-app-key`` (only with external metrics) and ``datadog-cluster-agent-token``, the shared
  secret node agents present to the Cluster Agent. The token is derived, not generated:
  HMAC-SHA256 of the cluster name keyed with the API key, so it is stable across runs without a
  random resource, and rotates with the API key;
* the node agent DaemonSet (every node, tolerates every taint, ``system-node-critical``):
  DogStatsD on host port 8125/UDP for the Envoy sidecars (non-local traffic accepted; ``env``
  and ``kube_cluster_name`` added to every DogStatsD metric; histograms report the 95th and
  99th percentiles, which the service monitors' latency query reads), the kubelet and container
  checks. Log collection is off: fluentd (:mod:`.fluentd`) ships every container's logs, and two
  shippers would pay twice for the same lines. APM, process collection, remote configuration
  and Kubernetes event collection are off (each would need more access than listed). Its host
  access, every item with its reason, is :data:`.datadog_access.HOST_ACCESS`;
* the Cluster Agent Deployment (``system-cluster-critical``, zone spread, PDB, restricted pod):
  kube-state-metrics (``kubernetes_state_core``) for the collectors in
  :data:`.datadog_access.KSM_COLLECTORS`, metadata for the node agents, leader election on a
  Lease, and, with an application key, the external metrics provider: the APIService
  ``v1beta1.external.metrics.k8s.io`` in front of its port 8443, ``system:auth-delegator`` and
  the ``extension-apiserver-authentication`` reader (an aggregated API server authenticates the
  API server's requests), and read access to ``external.metrics.k8s.io`` for the HPA controller
  only. HPAs name Datadog metrics directly (``metric.name`` plus a tag selector); the
  ``DatadogMetric`` CRD is not installed (its schema would be upstream's to vendor);
* NetworkPolicies: default deny in the namespace, then the node agent may receive DogStatsD
  from the VPC (pods and nodes), reach its kubelet (10250), the Cluster Agent (5005), DNS and
  HTTPS (Datadog's intake, the API server); the Cluster Agent may receive the node agents'
  metadata requests and the API server's metrics requests (8443, from the control plane's
  network interfaces in the VPC) and reach DNS and HTTPS.

The APIService skips TLS verification of the Cluster Agent (``insecureSkipTLSVerify``): the
Cluster Agent serves a certificate it generates at start, which no caBundle can name in advance;
EKS's metrics-server APIService does the same. The NetworkPolicy limits who reaches the port.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.meta.v1 import LabelSelectorArgs, ObjectMetaArgs
from pulumi_kubernetes.networking.v1 import (
    IPBlockArgs,
    NetworkPolicyEgressRuleArgs,
    NetworkPolicyIngressRuleArgs,
    NetworkPolicyPeerArgs,
    NetworkPolicyPortArgs,
    NetworkPolicySpecArgs,
)

from ..core import kube
from ..core.errors import Problems
from ..core.settings import DNS_LABEL
from .datadog_access import (
    CLUSTER_AGENT_PORT,
    DOGSTATSD_PORT,
    METRICS_API_PORT,
)
from .datadog_cluster_agent import build_cluster_agent
from .datadog_config import DatadogConfig
from .datadog_names import (
    AGENT,
    AGENT_IMAGE,
    API_KEY_SECRET,
    APP_KEY_SECRET,
    CLUSTER_AGENT,
    CLUSTER_AGENT_IMAGE,
    KUBELET_PORT,
    NAMESPACE,
    TOKEN_SECRET,
)
from .datadog_node_agent import build_node_agent, dns_ports, tcp_port

_TOKEN = "eksplatform:addons:Datadog"


def image(repository: str, tag: str, digest: str | None) -> str:
    """``repository:tag`` or ``repository:tag@digest``."""
    return f"{repository}:{tag}" + (f"@{digest}" if digest else "")


def cluster_agent_token(api_key: str, cluster_name: str) -> str:
    """The node agents' shared secret with the Cluster Agent (see the module docstring)."""
    digest = hmac.new(api_key.encode(), f"eksplatform:{cluster_name}".encode(), hashlib.sha256)
    return digest.hexdigest()


@dataclass(frozen=True, kw_only=True)
class DatadogArgs:
    """Inputs of :class:`Datadog`."""

    cluster_name: str
    """Physical EKS cluster name (``kube_cluster_name`` tag, token derivation)."""
    environment: str
    """``env`` tag of every metric."""
    kubernetes_version: str
    """``1.MINOR`` of the control plane: picks the kubelet permissions."""
    vpc_cidr: str
    """Where DogStatsD traffic and the API server's requests come from."""
    provider: k8s.Provider
    """Provider of the cluster (``ControlPlane.provider``)."""
    api_key: pulumi.Input[str]
    """The Datadog API key (a Pulumi secret): only ever in the Secret ``datadog-api-key``."""
    app_key: pulumi.Input[str] | None = None
    """The Datadog application key (a secret), needed for external metrics. Default: None."""
    external_metrics: bool = False
    """Serve ``external.metrics.k8s.io`` (needs ``app_key``). Default: False."""
    config: DatadogConfig = field(default_factory=DatadogConfig)
    """Default: :class:`DatadogConfig` defaults."""
    depends_on: Sequence[pulumi.Resource] = ()
    """What the pods wait for (the priority classes). Default: none."""


def validate_datadog_args(args: DatadogArgs) -> None:
    """Every problem with the args at once, before anything is registered."""
    problems = Problems()
    if not DNS_LABEL.fullmatch(args.environment):
        problems.add("environment", args.environment, "must be a DNS label like prod")
    try:
        minor = int(args.kubernetes_version.split(".")[1])
        if args.kubernetes_version != f"1.{minor}":
            raise ValueError
    except (IndexError, ValueError):
        problems.add(
            "kubernetes_version", args.kubernetes_version, 'write it as "1.MINOR", like "1.31"'
        )
    if args.external_metrics and args.app_key is None:
        problems.add(
            "app_key",
            None,
            "external_metrics needs the application key (the Cluster Agent reads metrics "
            "back from Datadog with it)",
        )
    problems.raise_if_any(f"Datadog '{args.cluster_name}'")


class Datadog(pulumi.ComponentResource):
    """The Datadog node agent and Cluster Agent (see the module docstring)."""

    namespace: pulumi.Output[str]
    agent_image: str
    cluster_agent_image: str
    external_metrics: bool
    """Whether ``external.metrics.k8s.io`` is served (the contract's ``metricsApis``)."""

    def __init__(
        self, name: str, args: DatadogArgs, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        validate_datadog_args(args)
        super().__init__(_TOKEN, name, None, opts)
        cfg = args.config
        minor = int(args.kubernetes_version.split(".")[1])
        self.agent_image = image(AGENT_IMAGE, cfg.agent.image_tag, cfg.agent.image_digest)
        self.cluster_agent_image = image(
            CLUSTER_AGENT_IMAGE, cfg.cluster_agent.image_tag, cfg.cluster_agent.image_digest
        )
        self.external_metrics = args.external_metrics
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.provider)

        def labels(app: str, component: str, tag: str) -> dict[str, str]:
            return kube.recommended_labels(
                app, component=component, part_of="eksplatform", version=tag
            )

        ns_labels = labels("datadog", "monitoring", cfg.agent.image_tag)
        namespace = k8s.core.v1.Namespace(
            f"{name}-ns",
            metadata=ObjectMetaArgs(
                name=NAMESPACE,
                labels={
                    **ns_labels,
                    # host paths and a host port need "privileged"; see the module docstring
                    **kube.pod_security_labels(
                        "privileged", warn="baseline", audit="restricted", version="latest"
                    ),
                },
            ),
            opts=k8s_opts,
        )
        in_ns = pulumi.ResourceOptions(parent=self, provider=args.provider, depends_on=[namespace])

        def meta(object_name: str, object_labels: dict[str, str]) -> ObjectMetaArgs:
            return ObjectMetaArgs(name=object_name, namespace=NAMESPACE, labels=object_labels)

        # --- secrets: the keys (Pulumi secrets) only ever land here --------------------------
        api_key: pulumi.Output[str] = pulumi.Output.secret(args.api_key)
        api_secret = k8s.core.v1.Secret(
            f"{name}-api-key",
            metadata=meta(API_KEY_SECRET, ns_labels),
            type="Opaque",
            string_data={"api-key": api_key},
            opts=in_ns,
        )
        # apply keeps the secret marking of the key it derives from
        token = api_key.apply(lambda key: cluster_agent_token(key, args.cluster_name))
        token_secret = k8s.core.v1.Secret(
            f"{name}-token",
            metadata=meta(TOKEN_SECRET, ns_labels),
            type="Opaque",
            string_data={"token": token},
            opts=in_ns,
        )
        app_secret = None
        if args.external_metrics:
            assert args.app_key is not None
            app_secret = k8s.core.v1.Secret(
                f"{name}-app-key",
                metadata=meta(APP_KEY_SECRET, ns_labels),
                type="Opaque",
                string_data={"app-key": pulumi.Output.secret(args.app_key)},
                opts=in_ns,
            )

        dca_labels = labels(CLUSTER_AGENT, "cluster-agent", cfg.cluster_agent.image_tag)
        dca_selector = kube.selector_labels(dca_labels)
        agent_labels = labels(AGENT, "node-agent", cfg.agent.image_tag)
        agent_selector = kube.selector_labels(agent_labels)

        build_cluster_agent(
            self,
            self.cluster_agent_image,
            name,
            args,
            dca_labels,
            api_secret=api_secret,
            app_secret=app_secret,
            token_secret=token_secret,
            in_ns=in_ns,
        )
        build_node_agent(
            self,
            self.agent_image,
            name,
            args,
            minor,
            agent_labels,
            api_secret=api_secret,
            token_secret=token_secret,
            in_ns=in_ns,
        )
        self._network_policies(name, args, ns_labels, agent_selector, dca_selector, in_ns=in_ns)

        self.namespace = namespace.metadata.apply(lambda m: str(m.name))
        self.register_outputs(
            {
                "namespace": self.namespace,
                "agentImage": self.agent_image,
                "clusterAgentImage": self.cluster_agent_image,
                "externalMetrics": self.external_metrics,
            }
        )

    # --- the node agent ----------------------------------------------------------------------

    def _network_policies(
        self,
        name: str,
        args: DatadogArgs,
        labels: dict[str, str],
        agent_selector: dict[str, str],
        dca_selector: dict[str, str],
        *,
        in_ns: pulumi.ResourceOptions,
    ) -> None:
        vpc = NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr=args.vpc_cidr))
        anywhere = NetworkPolicyPeerArgs(ip_block=IPBlockArgs(cidr="0.0.0.0/0"))
        agents = NetworkPolicyPeerArgs(pod_selector=LabelSelectorArgs(match_labels=agent_selector))
        cluster_agents = NetworkPolicyPeerArgs(
            pod_selector=LabelSelectorArgs(match_labels=dca_selector)
        )
        dns = NetworkPolicyEgressRuleArgs(ports=dns_ports())
        https = NetworkPolicyEgressRuleArgs(to=[anywhere], ports=[tcp_port(443)])
        dca_ingress = [
            NetworkPolicyIngressRuleArgs(from_=[agents], ports=[tcp_port(CLUSTER_AGENT_PORT)])
        ]
        if args.external_metrics:
            # the API server's requests come from the control plane's interfaces in the VPC
            dca_ingress.append(
                NetworkPolicyIngressRuleArgs(from_=[vpc], ports=[tcp_port(METRICS_API_PORT)])
            )
        policies = {
            "default-deny": NetworkPolicySpecArgs(
                pod_selector=LabelSelectorArgs(), policy_types=["Ingress", "Egress"]
            ),
            "node-agent": NetworkPolicySpecArgs(
                pod_selector=LabelSelectorArgs(match_labels=agent_selector),
                policy_types=["Ingress", "Egress"],
                ingress=[
                    NetworkPolicyIngressRuleArgs(
                        from_=[vpc],
                        ports=[NetworkPolicyPortArgs(protocol="UDP", port=DOGSTATSD_PORT)],
                    )
                ],
                egress=[
                    dns,
                    https,
                    NetworkPolicyEgressRuleArgs(to=[vpc], ports=[tcp_port(KUBELET_PORT)]),
                    NetworkPolicyEgressRuleArgs(
                        to=[cluster_agents], ports=[tcp_port(CLUSTER_AGENT_PORT)]
                    ),
                ],
            ),
            "cluster-agent": NetworkPolicySpecArgs(
                pod_selector=LabelSelectorArgs(match_labels=dca_selector),
                policy_types=["Ingress", "Egress"],
                ingress=dca_ingress,
                egress=[dns, https],
            ),
        }
        for policy_name, spec in policies.items():
            k8s.networking.v1.NetworkPolicy(
                f"{name}-{policy_name}",
                metadata=ObjectMetaArgs(name=policy_name, namespace=NAMESPACE, labels=labels),
                spec=spec,
                opts=in_ns,
            )
