"""parliament, run as its CLI runs it with ``--include-community-auditors``, made fast enough for
the test suite.

parliament looks an action up by scanning its whole action list each time
(``parliament.statement.get_privilege_info``) and its four community auditors each recompute the
policy's allowed actions: a statement with ``Action: "*"`` (the boundary's denies) took 10-17 s.
Two shims, neither changing a result: the same look-up through an index built once (returning
the same dict objects, filled in the same way), and ``Policy.get_allowed_actions`` memoized per
policy object for the auditors that call it with the same argument. Findings are cached per
document text, so a policy that appears in several previews is analysed once.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from typing import Any

import parliament
import parliament.policy
import parliament.statement
from parliament import analyze_policy_string, enhance_finding

SEVERITIES = ("MUTE", "INFO", "LOW", "MEDIUM", "HIGH", "CRITICAL")

_INDEX: dict[tuple[str, str], tuple[dict[str, Any], dict[str, Any]]] = {}
for _service in parliament.iam_definition:
    for _privilege in _service["privileges"]:
        _INDEX.setdefault((_service["prefix"], _privilege["privilege"]), (_service, _privilege))


def _get_privilege_info(service: str, action: str) -> dict[str, Any]:
    found = _INDEX.get((service, action))
    if found is None:
        raise parliament.UnknownActionException(f"Unknown action {service}:{action}")
    service_info, privilege_info = found
    privilege_info["service_resources"] = service_info["resources"]
    privilege_info["service_conditions"] = service_info["conditions"]
    return privilege_info


_original_allowed = parliament.policy.Policy.get_allowed_actions


def _allowed_actions(self: Any, raise_exceptions: bool = True) -> Any:
    cache = self.__dict__.setdefault("_eksplatform_allowed", {})
    if raise_exceptions not in cache:
        cache[raise_exceptions] = _original_allowed(self, raise_exceptions)
    return list(cache[raise_exceptions])


parliament.statement.get_privilege_info = _get_privilege_info
parliament.policy.Policy.get_allowed_actions = _allowed_actions
parliament.override_config(str(files("parliament") / "community_auditors" / "config_override.yaml"))


@functools.cache
def findings(document: str) -> tuple[Any, ...]:
    """parliament's findings (severity, title filled in) for one policy document."""
    policy = analyze_policy_string(document, include_community_auditors=True)
    return tuple(enhance_finding(f) for f in policy.findings)
