"""Source of the developer namespace janitor (a CronJob in the cluster).

Standard library only: :mod:`.janitor` is shipped as one file in a ConfigMap and run by a pinned
Python image (:mod:`eksplatform.cluster.dev_environments`). Nothing here imports the rest of
``eksplatform``; ``eksplatform dev`` reuses its small Kubernetes client.
"""
