"""eksplatform: typed Pulumi components for running microservices on AWS EKS.

The cluster program (``cluster/``) composes the cluster components and exports a
:class:`ClusterOutputs`; service programs rebuild it from a StackReference.
"""

from .config import ClusterConfig, load_cluster_config, parse_cluster_config
from .contract import CONTRACT_VERSION, ClusterOutputs
from .control_plane import ControlPlane, ControlPlaneArgs
from .errors import Problem, Problems, ValidationError
from .network import Network, NetworkArgs
from .tags import Tags

__all__ = [
    "CONTRACT_VERSION",
    "ClusterConfig",
    "ClusterOutputs",
    "ControlPlane",
    "ControlPlaneArgs",
    "Network",
    "NetworkArgs",
    "Problem",
    "Problems",
    "Tags",
    "ValidationError",
    "load_cluster_config",
    "parse_cluster_config",
]
