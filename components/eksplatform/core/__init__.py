"""The shared core both audiences build on: one error type (:mod:`.errors`), the settings base
(:mod:`.settings`), the tag merge rule (:mod:`.tags`), Kubernetes building blocks (:mod:`.kube`),
EKS Pod Identity trust (:mod:`.pod_identity`) and the cluster contract (:mod:`.contract`).

Nothing here imports :mod:`eksplatform.cluster` or :mod:`eksplatform.service`."""
