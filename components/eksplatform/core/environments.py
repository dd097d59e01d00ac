"""One classification of environments, shared by the cluster and every ServiceStack.

The cluster stack's ``platform:environment`` (default: the stack name) and a service's view of
it (the contract's ``environment``) are classified by the same function, so "is this
production?" never has two answers: production gets the stricter defaults (deletion protection,
two or more replicas, HTTPS-only ALBs, private API endpoint).
"""

from __future__ import annotations

PRODUCTION_ENVIRONMENTS = frozenset({"prod", "production"})
"""Environment names treated as production."""


def is_production(environment: str) -> bool:
    """True for production environments (:data:`PRODUCTION_ENVIRONMENTS`)."""
    return environment in PRODUCTION_ENVIRONMENTS
