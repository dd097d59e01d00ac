"""The platform team's components: what ``cluster/__main__.py`` composes, one module per
component (network, control plane, node pools, EKS add-ons, interruption handling, autoscaler,
priorities, VPA, headroom, team namespaces, descheduler, log shipping, service platform) plus the
typed stack configuration (:mod:`.config`). Service repos never import from here."""

from ..core.contract import CONTRACT_VERSION, ClusterOutputs
from ..core.tags import Tags
from .autoscaler import AutoscalerConfig, ClusterAutoscaler, ClusterAutoscalerArgs
from .config import ClusterConfig, load_cluster_config, parse_cluster_config
from .control_plane import ControlPlane, ControlPlaneArgs
from .descheduler import Descheduler, DeschedulerArgs, DeschedulerConfig
from .eks_addons import EksAddons, EksAddonsArgs, EksAddonsConfig
from .fluentd import LoggingConfig, LogShipping, LogShippingArgs
from .headroom import Headroom, HeadroomArgs, HeadroomConfig
from .interruption import InterruptionHandler, InterruptionHandlerArgs, InterruptionHandlerConfig
from .network import Network, NetworkArgs
from .node_pools import (
    CAPACITY_TYPE_LABEL,
    NODE_POOL_LABEL,
    NodePoolConfig,
    NodePools,
    NodePoolsArgs,
)
from .priority import PriorityClasses, PriorityClassesArgs
from .service_platform import ServicePlatform, ServicePlatformArgs
from .teams import TeamConfig, TeamNamespaces, TeamNamespacesArgs
from .vpa import Vpa, VpaArgs, VpaConfig

__all__ = [
    "CAPACITY_TYPE_LABEL",
    "CONTRACT_VERSION",
    "NODE_POOL_LABEL",
    "AutoscalerConfig",
    "ClusterAutoscaler",
    "ClusterAutoscalerArgs",
    "ClusterConfig",
    "ClusterOutputs",
    "ControlPlane",
    "ControlPlaneArgs",
    "Descheduler",
    "DeschedulerArgs",
    "DeschedulerConfig",
    "EksAddons",
    "EksAddonsArgs",
    "EksAddonsConfig",
    "Headroom",
    "HeadroomArgs",
    "HeadroomConfig",
    "InterruptionHandler",
    "InterruptionHandlerArgs",
    "InterruptionHandlerConfig",
    "LogShipping",
    "LogShippingArgs",
    "LoggingConfig",
    "Network",
    "NetworkArgs",
    "NodePoolConfig",
    "NodePools",
    "NodePoolsArgs",
    "PriorityClasses",
    "PriorityClassesArgs",
    "ServicePlatform",
    "ServicePlatformArgs",
    "Tags",
    "TeamConfig",
    "TeamNamespaces",
    "TeamNamespacesArgs",
    "Vpa",
    "VpaArgs",
    "VpaConfig",
    "load_cluster_config",
    "parse_cluster_config",
]
