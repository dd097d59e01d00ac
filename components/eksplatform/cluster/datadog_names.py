"""Names, ports and images of the Datadog objects (shared by :mod:`.datadog` and its parts)."""

from __future__ import annotations

NAMESPACE = "datadog"
AGENT = "datadog-agent"
CLUSTER_AGENT = "datadog-cluster-agent"
METRICS_SERVICE = "datadog-cluster-agent-metrics-api"
API_KEY_SECRET = "datadog-api-key"
APP_KEY_SECRET = "datadog-app-key"
TOKEN_SECRET = "datadog-cluster-agent-token"
CONFD_CONFIGMAP = "datadog-cluster-agent-confd"
AGENT_IMAGE = "public.ecr.aws/datadog/agent"
CLUSTER_AGENT_IMAGE = "public.ecr.aws/datadog/cluster-agent"
AGENT_HEALTH_PORT = 5555
CLUSTER_AGENT_HEALTH_PORT = 5556
KUBELET_PORT = 10250
APISERVICE = "v1beta1.external.metrics.k8s.io"
HISTOGRAM_PERCENTILES = ("0.95", "0.99")
"""Percentiles the agent computes for DogStatsD histograms and timers: the latency monitors read
``<metric>.99percentile`` (the agent's default is 0.95 only)."""
HPA_CONTROLLER = ("kube-system", "horizontal-pod-autoscaler")
"""The service account the HPA controller reads metrics as (kube-controller-manager runs its
controllers with their own service accounts)."""
CLUSTER_AGENT_UID = 65532
"""The Cluster Agent runs as this uid in group 0: its image keeps its files group-root
readable and writable so any uid in the root group can run it."""
