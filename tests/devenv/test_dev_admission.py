"""The developer namespace boundary, evaluated like the API server does (CEL, ``cel-python``):
a team creates, changes and deletes only its own developer namespaces, with the platform's
labels, quota and limits; its service accounts there carry its own team prefix (the staging
roles' IRSA trust); the janitor deletes developer namespaces only. Without developer
environments the team namespace boundary is exactly what it was."""

from __future__ import annotations

from typing import Any

import pytest
from eksplatform.cluster.dev_environments import (
    JANITOR_USER,
    DevEnvironmentsConfig,
    janitor_scope_policy,
    namespaces_policy,
    pods_need_quota_policy,
    quota_policy,
    service_accounts_policy,
)
from eksplatform.guardrails.admission import namespace_boundary

from tests.guardrails.celeval import Request, admit

GROUPS = {"news": "eksplatform:team:news", "media": "eksplatform:team:media"}
NEWS = ("system:authenticated", "eksplatform:team:news")
MEDIA = ("system:authenticated", "eksplatform:team:media")
BOUNDARY = namespace_boundary(GROUPS).manifest()
OFFER = DevEnvironmentsConfig().offer(True)


def _ns(name: str, **labels: str) -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def _dev_labels(developer: str, team: str, **extra: str) -> dict[str, str]:
    return {
        "eksplatform.io/developer": developer,
        "eksplatform.io/team": team,
        "eksplatform.io/expires-at": "20261211T100000Z",
        "pod-security.kubernetes.io/enforce": "restricted",
        **extra,
    }


def _namespace_request(
    obj: dict[str, Any] | None,
    groups: tuple[str, ...] = NEWS,
    operation: str = "CREATE",
    old: dict[str, Any] | None = None,
) -> Request:
    name = (obj or old or {}).get("metadata", {}).get("name", "")
    return Request(
        "",
        "v1",
        "namespaces",
        "Namespace",
        operation=operation,
        # the API server's request namespace of a Namespace is its own name, except on create
        namespace="" if operation == "CREATE" else name,
        object=obj,
        old_object=old,
        groups=groups,
        name=name,
    )


def _allowed(policy: dict[str, Any], req: Request) -> bool:
    return admit(policy, req).allowed


def test_a_team_creates_its_own_developer_namespace_only() -> None:
    own = _ns("dev-alice", **_dev_labels("alice", "news"))
    assert _allowed(BOUNDARY, _namespace_request(own))
    assert _allowed(namespaces_policy().policy, _namespace_request(own))
    # another team's label, a missing developer label, a namespace that is not dev-*
    for obj in (
        _ns("dev-alice", **_dev_labels("alice", "media")),
        _ns("dev-alice", **{"eksplatform.io/team": "news"}),
        _ns("payments", **_dev_labels("payments", "news")),
    ):
        decision = admit(BOUNDARY, _namespace_request(obj))
        assert not decision.allowed
        assert decision.messages == [
            "namespaces and their labels belong to the platform; a team creates, changes and "
            "deletes only its own developer namespaces (dev-<developer>, labelled "
            "eksplatform.io/developer and eksplatform.io/team with its team)"
        ]


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (
            _dev_labels("bob", "news"),
            "a namespace named dev-<developer> is a developer namespace: label it "
            "eksplatform.io/developer=<developer> (the name after 'dev-')",
        ),
        (
            _dev_labels("alice", "news", **{"eksplatform.io/expires-at": "2026-12-11T10:00:00Z"}),
            "a developer namespace expires: label it eksplatform.io/expires-at=<YYYYMMDDTHHMMSSZ, "
            "UTC> (eksplatform dev extend sets it)",
        ),
        (
            _dev_labels("alice", "news", **{"pod-security.kubernetes.io/enforce": "baseline"}),
            "a developer namespace enforces Pod Security 'restricted': label it "
            "pod-security.kubernetes.io/enforce",
        ),
    ],
)
def test_a_developer_namespace_carries_the_platforms_labels(
    labels: dict[str, str], message: str
) -> None:
    decision = admit(namespaces_policy().policy, _namespace_request(_ns("dev-alice", **labels)))
    assert decision.messages == [message]


def test_developer_and_team_labels_never_change_and_extending_is_fine() -> None:
    old = _ns("dev-alice", **_dev_labels("alice", "news"))
    extended = _ns(
        "dev-alice",
        **_dev_labels("alice", "news", **{"eksplatform.io/expires-at": "20261212T100000Z"}),
    )
    assert _allowed(
        namespaces_policy().policy, _namespace_request(extended, operation="UPDATE", old=old)
    )
    assert _allowed(BOUNDARY, _namespace_request(extended, operation="UPDATE", old=old))
    moved = _ns("dev-alice", **_dev_labels("alice", "news", **{"eksplatform.io/team": "media"}))
    # to another team: the boundary (not the team's any more) and the label rule both refuse
    assert not _allowed(BOUNDARY, _namespace_request(moved, operation="UPDATE", old=old))
    assert admit(
        namespaces_policy().policy,
        _namespace_request(moved, groups=(*NEWS, *MEDIA), operation="UPDATE", old=old),
    ).messages == [
        "the eksplatform.io/developer and eksplatform.io/team labels of a developer namespace "
        "never change"
    ]


def test_a_team_deletes_its_own_developer_namespaces_only() -> None:
    own = _ns("dev-alice", **_dev_labels("alice", "news"))
    theirs = _ns("dev-bob", **_dev_labels("bob", "media"))
    assert _allowed(BOUNDARY, _namespace_request(None, operation="DELETE", old=own))
    assert not _allowed(BOUNDARY, _namespace_request(None, operation="DELETE", old=theirs))
    assert not _allowed(BOUNDARY, _namespace_request(None, operation="DELETE", old=_ns("news")))


def _in_namespace(
    resource: str,
    kind: str,
    namespace: str,
    labels: dict[str, str],
    obj: dict[str, Any],
    *,
    groups: tuple[str, ...] = NEWS,
    operation: str = "CREATE",
    group: str = "",
) -> Request:
    return Request(
        group,
        "v1",
        resource,
        kind,
        operation=operation,
        namespace=namespace,
        name=obj.get("metadata", {}).get("name", ""),
        object=obj if operation != "DELETE" else None,
        old_object=obj if operation == "DELETE" else None,
        groups=groups,
        namespace_labels=labels,
    )


def test_inside_developer_namespaces_a_team_writes_only_in_its_own() -> None:
    deployment = {"metadata": {"name": "news-feed"}}
    own = _dev_labels("alice", "news")
    other = _dev_labels("bob", "media")
    assert _allowed(
        BOUNDARY,
        _in_namespace("deployments", "Deployment", "dev-alice", own, deployment, group="apps"),
    )
    decision = admit(
        BOUNDARY,
        _in_namespace("deployments", "Deployment", "dev-bob", other, deployment, group="apps"),
    )
    assert decision.messages == [
        "a team identity changes objects in its own namespace only, not in dev-bob"
    ]
    # a team namespace stays the platform's for quota and limits, as before
    quota = {"metadata": {"name": "team-quota"}, "spec": {"hard": {"pods": "1000"}}}
    assert not _allowed(
        BOUNDARY,
        _in_namespace(
            "resourcequotas", "ResourceQuota", "news", {"eksplatform.io/team": "news"}, quota
        ),
    )


def _quota(**hard: str) -> dict[str, Any]:
    base = {
        "requests.cpu": "4",
        "requests.memory": "8Gi",
        "limits.memory": "8Gi",
        "pods": "20",
        "services": "10",
        "services.nodeports": "0",
        "services.loadbalancers": "0",
    }
    return {"metadata": {"name": "dev-quota"}, "spec": {"hard": {**base, **hard}}}


def test_a_developer_namespaces_quota_is_the_platforms() -> None:
    labels = _dev_labels("alice", "news")
    policy = quota_policy(OFFER).policy

    def decide(obj: dict[str, Any], operation: str = "CREATE") -> list[str]:
        req = _in_namespace(
            "resourcequotas", "ResourceQuota", "dev-alice", labels, obj, operation=operation
        )
        assert _allowed(BOUNDARY, req) or operation == "DELETE"
        return admit(policy, req).messages

    assert decide(_quota()) == []
    assert decide(_quota(**{"requests.cpu": "4000m", "requests.memory": "8192Mi"})) == []  # same
    wanted = (
        "a developer namespace's quota is the platform's (platform:devEnvironments.quota): "
        "limits.memory=8Gi, pods=20, requests.cpu=4, requests.memory=8Gi, services=10, "
        "services.loadbalancers=0, services.nodeports=0"
    )
    assert decide(_quota(**{"requests.cpu": "64"})) == [wanted]
    assert decide(_quota(**{"pods": "21"})) == [wanted]
    extra = _quota()
    extra["spec"]["hard"]["count/jobs.batch"] = "5"
    assert decide(extra) == [wanted]
    renamed = _quota()
    renamed["metadata"]["name"] = "more"
    assert (
        "a developer namespace has one ResourceQuota dev-quota and one LimitRange dev-limits"
        in decide(renamed)
    )
    assert decide(_quota(), "DELETE") == [
        "the quota and limits of a developer namespace stay until the namespace goes "
        "(eksplatform dev down)"
    ]


def _limits(**changes: Any) -> dict[str, Any]:
    item = {
        "type": "Container",
        "defaultRequest": {"cpu": "50m", "memory": "128Mi"},
        "default": {"memory": "128Mi"},
        "max": {"memory": "4Gi"},
        **changes,
    }
    return {"metadata": {"name": "dev-limits"}, "spec": {"limits": [item]}}


def test_a_developer_namespaces_limits_are_the_platforms() -> None:
    labels = _dev_labels("alice", "news")
    policy = quota_policy(OFFER).policy

    def decide(obj: dict[str, Any]) -> list[str]:
        return admit(
            policy, _in_namespace("limitranges", "LimitRange", "dev-alice", labels, obj)
        ).messages

    assert decide(_limits()) == []
    wanted = (
        "a developer namespace's limits are the platform's (platform:devEnvironments.limitRange): "
        "defaultLimitMemory=128Mi, defaultRequestCpu=50m, defaultRequestMemory=128Mi, maxMemory=4Gi"
    )
    assert decide(_limits(max={"memory": "64Gi"})) == [wanted]
    assert decide(_limits(min={"memory": "1Mi"})) == [wanted]


def test_service_accounts_in_a_developer_namespace_carry_its_team_prefix() -> None:
    policy = service_accounts_policy().policy
    labels = _dev_labels("alice", "news")
    ok = _in_namespace(
        "serviceaccounts",
        "ServiceAccount",
        "dev-alice",
        labels,
        {"metadata": {"name": "news.news-feed"}},
    )
    assert _allowed(policy, ok)
    # media's worker name in news's developer namespace: media's role trusts media.<service>
    borrowed = _in_namespace(
        "serviceaccounts",
        "ServiceAccount",
        "dev-alice",
        labels,
        {"metadata": {"name": "media.transcode-worker"}},
        groups=(*NEWS,),
    )
    assert admit(policy, borrowed).messages == [
        "in a developer namespace, service accounts are named <team>.<service> for the "
        "namespace's team (news): the staging roles trust exactly that name"
    ]
    # team namespaces are not matched (the trust names dev-* only)
    team_ns = _in_namespace(
        "serviceaccounts",
        "ServiceAccount",
        "news",
        {"eksplatform.io/team": "news"},
        {"metadata": {"name": "anything"}},
    )
    assert not admit(policy, team_ns).matched


def test_pods_in_a_developer_namespace_need_its_quota() -> None:
    manifests = pods_need_quota_policy()
    assert manifests.binding["spec"]["paramRef"] == {
        "name": "dev-quota",
        "parameterNotFoundAction": "Deny",  # no quota in the pod's namespace: denied
    }
    assert manifests.policy["spec"]["paramKind"] == {"apiVersion": "v1", "kind": "ResourceQuota"}
    pod = _in_namespace(
        "pods", "Pod", "dev-alice", _dev_labels("alice", "news"), {"metadata": {"name": "p"}}
    )
    assert admit(manifests.policy, Request(**{**pod.__dict__, "params": _quota()})).allowed
    assert not admit(manifests.policy, Request(**{**pod.__dict__, "params": {"spec": {}}})).allowed


def test_the_janitor_deletes_developer_namespaces_only() -> None:
    policy = janitor_scope_policy().policy

    def delete(obj: dict[str, Any], user: str = JANITOR_USER) -> Any:
        return admit(
            policy,
            Request(
                "",
                "v1",
                "namespaces",
                "Namespace",
                operation="DELETE",
                old_object=obj,
                username=user,
                name=obj["metadata"]["name"],
            ),
        )

    assert delete(_ns("dev-alice", **_dev_labels("alice", "news"))).allowed
    assert delete(_ns("news", **{"eksplatform.io/team": "news"})).messages == [
        "the developer namespace janitor deletes only namespaces named dev-<developer> that "
        "carry eksplatform.io/developer, not news"
    ]
    assert not delete(_ns("dev-ops")).allowed
    assert not delete(_ns("payments", **{"eksplatform.io/developer": "payments"})).allowed
    assert not delete(_ns("news"), user="alice").matched  # other users: not this policy's


def test_without_developer_environments_the_boundary_is_unchanged() -> None:
    plain = namespace_boundary().manifest()
    assert "variables" not in plain["spec"]
    own = _ns("dev-alice", **_dev_labels("alice", "news"))
    # Every failing validation is listed (the API server's response quotes the first).
    assert admit(plain, _namespace_request(own)).messages == [
        "namespaces and their labels belong to the platform: ask the platform team",
        "a team identity changes objects in its own namespace only, not in cluster scope",
    ]
    assert admit(plain, _namespace_request(None, operation="DELETE", old=own)).messages == [
        "namespaces and their labels belong to the platform: ask the platform team",
        "a team identity changes objects in its own namespace only, not in dev-alice",
    ]
    deployment = _in_namespace(
        "deployments",
        "Deployment",
        "dev-alice",
        _dev_labels("alice", "news"),
        {"metadata": {"name": "news-feed"}},
        group="apps",
    )
    assert admit(plain, deployment).messages == [
        "a team identity changes objects in its own namespace only, not in dev-alice"
    ]
