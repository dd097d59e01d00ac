"""eksplatform: typed Pulumi components for running microservices on AWS EKS.

The cluster program (``cluster/``) composes the cluster components and exports a
:class:`ClusterOutputs`; service programs rebuild it from a StackReference.
"""

from .config import ClusterConfig, load_cluster_config, parse_cluster_config
from .contract import CONTRACT_VERSION, ClusterOutputs
from .control_plane import ControlPlane, ControlPlaneArgs
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
from .network import Network, NetworkArgs
from .tags import Tags

__all__ = [
    "CONTRACT_VERSION",
    "CircuitBreakers",
    "ClusterConfig",
    "ClusterOutputs",
    "ControlPlane",
    "ControlPlaneArgs",
    "DogStatsd",
    "EnvoyDependency",
    "EnvoySettings",
    "Network",
    "NetworkArgs",
    "OutlierDetection",
    "Problem",
    "Problems",
    "RetryPolicy",
    "Tags",
    "ValidationError",
    "build_bootstrap",
    "config_map_data",
    "load_cluster_config",
    "parse_cluster_config",
    "render_bootstrap_yaml",
    "shutdown_budget_seconds",
    "sidecar_container",
    "validate_envoy_settings",
]
