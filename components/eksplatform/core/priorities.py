"""Names and values of the cluster's PriorityClasses: a fact both audiences rely on.

:mod:`eksplatform.cluster.priority` creates the objects; service pods and platform add-ons name
them. From highest to lowest (the built-in ``system-node-critical`` and
``system-cluster-critical`` sit above all of these):

=====================  ==========  =========================================================
``platform-critical``   1000000    platform add-ons that are not system-critical (VPA, ...)
``service-default``     1000       every service's pods (the cluster's global default)
``overprovisioning``    -5         headroom pause pods: preempted by anything real, yet at or
                                   above the Cluster Autoscaler's expendable cutoff (-10) so
                                   the autoscaler still adds nodes for them
=====================  ==========  =========================================================
"""

SYSTEM_NODE_CRITICAL = "system-node-critical"
"""Built-in; for DaemonSets every node needs (log shipping, CNI)."""
SYSTEM_CLUSTER_CRITICAL = "system-cluster-critical"
"""Built-in; for add-ons the cluster cannot run without (autoscaler, interruption handler)."""

PLATFORM_CRITICAL = "platform-critical"
PLATFORM_CRITICAL_VALUE = 1_000_000
SERVICE_DEFAULT = "service-default"
SERVICE_DEFAULT_VALUE = 1000
OVERPROVISIONING = "overprovisioning"
OVERPROVISIONING_VALUE = -5

EXPENDABLE_PODS_PRIORITY_CUTOFF = -10
"""Cluster Autoscaler's ``--expendable-pods-priority-cutoff``: pods below it never trigger a
scale-up. The autoscaler is started with this value and headroom pods sit at or above it."""
