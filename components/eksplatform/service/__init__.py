"""ServiceStack: the per-service component service repos import.

Files by concern: ``args`` (typed arguments and their defaults), ``validate`` (every check, the
derived plan), ``workload`` (Kubernetes objects), ``iam`` (role), ``ingress`` (ALB, target group,
security groups, ASG attachments), ``alarms`` (CloudWatch), ``ecr`` (repository), ``stack`` (the
ComponentResource wiring them).

The public API of the library: service repos import from here only. Shortest real use (a service
repo's ``__main__.py``)::

    cluster = ClusterOutputs.from_stack_reference(
        f"acme/eks-platform/{pulumi.get_stack()}",
        facts=ClusterFacts(environment=pulumi.get_stack(), team_namespaces={"news": "news"}),
    )
    ServiceStack("feed", ServiceStackArgs(
        name="feed", team="news", port=8080, cluster=cluster,
        image="123456789012.dkr.ecr.eu-west-1.amazonaws.com/news/feed:1.4.2",
    ))

Design choices a newcomer asks about:

* **Checks before registration need plain values.** The contract's fields are Outputs (from a
  StackReference they only exist while the program runs), so "is the team known?" and "is this
  prod?" are checked against ``cluster.facts`` (:class:`~eksplatform.core.contract.ClusterFacts`),
  stated by the program; the facts are then verified against the contract when it resolves,
  and every child waits on that verification (see :mod:`.stack`).
* **Node port.** The ALB target group's port must equal the Service's node port, so the node
  port is chosen here, not by Kubernetes: derived from a hash of ``namespace/name`` into
  30000-32767 (stable across runs), overridable with ``node_port`` when two services clash
  (Kubernetes refuses the second Service with "provided port is already allocated").
* **ASG attachments** are created inside an ``apply`` over the contract's ASG list, whose
  length is unknown until it resolves (see :func:`.ingress.attach_to_node_pools`).
* **EKS Pod Identity** rather than IRSA, like the platform's add-ons (see :mod:`.iam`).
"""

from ..core.contract import CONTRACT_VERSION, ClusterFacts, ClusterOutputs
from ..core.errors import Problem, ValidationError
from ..core.tags import Tags
from ..envoy import RetryPolicy
from .args import (
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
    ServiceStackArgs,
    Vpa,
)
from .stack import TOKEN, ServiceStack
from .validate import ServicePlan, derive_node_port, plan_service

__all__ = [
    "CONTRACT_VERSION",
    "TOKEN",
    "Alarms",
    "Autoscaling",
    "ClusterFacts",
    "ClusterOutputs",
    "Dependency",
    "EnvoyOptions",
    "IamStatement",
    "Ingress",
    "MetricTarget",
    "PreScaling",
    "Probes",
    "Problem",
    "Resources",
    "RetryPolicy",
    "ServicePlan",
    "ServiceStack",
    "ServiceStackArgs",
    "Tags",
    "ValidationError",
    "Vpa",
    "derive_node_port",
    "plan_service",
]
