"""eksplatform: typed Pulumi components for running microservices on AWS EKS.

The cluster program (``cluster/``) composes the cluster components and exports a
:class:`ClusterOutputs`; service programs rebuild it from a StackReference.
"""

from .autoscaler import AutoscalerConfig, ClusterAutoscaler, ClusterAutoscalerArgs
from .config import ClusterConfig, load_cluster_config, parse_cluster_config
from .contract import CONTRACT_VERSION, ClusterFacts, ClusterOutputs
from .control_plane import ControlPlane, ControlPlaneArgs
from .descheduler import Descheduler, DeschedulerArgs, DeschedulerConfig
from .eks_addons import EksAddons, EksAddonsArgs, EksAddonsConfig
from .envoy import (
    CircuitBreakers,
    DogStatsd,
    EnvoyDependency,
    EnvoySettings,
    OutlierDetection,
    RetryPolicy,
    build_bootstrap,
    config_map_data,
    render_bootstrap_yaml,
    shutdown_budget_seconds,
    sidecar_container,
    validate_envoy_settings,
)
from .errors import Problem, Problems, ValidationError
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
from .service import ServiceStack, ServiceStackArgs
from .tags import Tags
from .teams import TeamConfig, TeamNamespaces, TeamNamespacesArgs
from .vpa import VpaConfig

__all__ = [
    "CAPACITY_TYPE_LABEL",
    "CONTRACT_VERSION",
    "NODE_POOL_LABEL",
    "AutoscalerConfig",
    "CircuitBreakers",
    "ClusterAutoscaler",
    "ClusterAutoscalerArgs",
    "ClusterConfig",
    "ClusterFacts",
    "ClusterOutputs",
    "ControlPlane",
    "ControlPlaneArgs",
    "Descheduler",
    "DeschedulerArgs",
    "DeschedulerConfig",
    "DogStatsd",
    "EksAddons",
    "EksAddonsArgs",
    "EksAddonsConfig",
    "EnvoyDependency",
    "EnvoySettings",
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
    "OutlierDetection",
    "PriorityClasses",
    "PriorityClassesArgs",
    "Problem",
    "Problems",
    "RetryPolicy",
    "ServiceStack",
    "ServiceStackArgs",
    "Tags",
    "TeamConfig",
    "TeamNamespaces",
    "TeamNamespacesArgs",
    "ValidationError",
    "VpaConfig",
    "build_bootstrap",
    "config_map_data",
    "load_cluster_config",
    "parse_cluster_config",
    "render_bootstrap_yaml",
    "shutdown_budget_seconds",
    "sidecar_container",
    "validate_envoy_settings",
]
