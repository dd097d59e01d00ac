"""eksplatform: typed Pulumi components for running microservices on AWS EKS.

The library has one package per audience (see the README's "Architecture" section):

* :mod:`eksplatform.service`: what service repos import (``ServiceStack``, its arguments, the
  cluster contract). The only public API; every other package is the platform team's.
* :mod:`eksplatform.cluster`: the platform team's components, composed by ``cluster/``.
* :mod:`eksplatform.preview`: the offline preview engine (Pulumi mocks, rendering, schema check).
* :mod:`eksplatform.core`: the small shared core (errors, settings, tags, Kubernetes helpers,
  the contract) both audiences build on; :mod:`eksplatform.envoy`, the sidecar config builder.

Importing this package imports nothing else: a program pays only for what it uses.
"""

__version__ = "0.2.0"
