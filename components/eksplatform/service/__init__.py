"""ServiceStack: the per-service component service repos import.

Files by concern: ``args`` (typed arguments and their defaults), ``validate`` (every check, the
derived plan), ``workload`` (Kubernetes objects), ``iam`` (role), ``ingress`` (ALB, target group,
security groups, ASG attachments), ``alarms`` (CloudWatch), ``monitors`` (Datadog), ``ecr``
(repository), ``canary`` (a canary release on the ALB; ``canary_checks``, ``canary_config``),
``stack`` (the ComponentResource wiring them).

The public API of the library: service repos import from here only. Shortest real use (a service
repo's ``__main__.py``; its ``Pulumi.<stack>.yaml`` sets ``clusterStack``, ``aws:region``,
``aws:allowedAccountIds`` and ``image``)::

    @dataclass(frozen=True)
    class Config:
        image: str

    config = load_config(Config)
    ServiceStack("feed", ServiceStackArgs(team="news", image=config.image, port=8080))

Design choices a newcomer asks about:

* **Checks before registration need plain values.** The contract's fields are Outputs (from a
  StackReference they only exist while ``pulumi up`` runs). The offline preview knows them
  before the program runs (:func:`~eksplatform.core.contract.known_contract`), so every check,
  the contract's included, runs before anything is registered; under ``pulumi up`` the same
  contract checks run once the reference resolves, and the component and every child wait for
  them (see :mod:`.stack`).
* **Node port.** The API server allocates it; the ALB target group follows the port the
  Service got, so services of independent repos cannot clash (see :mod:`.workload`).
* **Argument mistakes** (a misspelt keyword, a missing one, a wrong type) are reported with the
  field path and the closest valid name, all at once (see :mod:`.shapes`).
* **ASG attachments** are created inside an ``apply`` over the contract's ASG list, whose
  length is unknown until it resolves (see :func:`.ingress.attach_to_node_pools`).
* **EKS Pod Identity** rather than IRSA, like the platform's add-ons (see :mod:`.iam`).
"""

from ..core.contract import CONTRACT_VERSION, ClusterFacts, ClusterOutputs
from ..core.environments import is_production
from ..core.errors import Problem, ValidationError
from ..core.tags import Tags
from ..envoy import RetryPolicy
from .args import (
    Alarms,
    Autoscaling,
    Canary,
    CanaryAnalysis,
    CanaryHeader,
    Dependency,
    EnvoyOptions,
    IamStatement,
    Ingress,
    MetricTarget,
    Monitors,
    PreScaling,
    Probes,
    QueueMonitor,
    Resources,
    ServiceStackArgs,
    Vpa,
)
from .canary_config import canary_config
from .config import cluster_contract, load_config, setting
from .stack import TOKEN, ServiceStack
from .validate import ServicePlan, plan_service

__all__ = [
    "CONTRACT_VERSION",
    "TOKEN",
    "Alarms",
    "Autoscaling",
    "Canary",
    "CanaryAnalysis",
    "CanaryHeader",
    "ClusterFacts",
    "ClusterOutputs",
    "Dependency",
    "EnvoyOptions",
    "IamStatement",
    "Ingress",
    "MetricTarget",
    "Monitors",
    "PreScaling",
    "Probes",
    "Problem",
    "QueueMonitor",
    "Resources",
    "RetryPolicy",
    "ServicePlan",
    "ServiceStack",
    "ServiceStackArgs",
    "Tags",
    "ValidationError",
    "Vpa",
    "canary_config",
    "cluster_contract",
    "is_production",
    "load_config",
    "plan_service",
    "setting",
]
