"""``eksplatform dev extend`` / ``dev down`` against the fake Kubernetes API on 127.0.0.1, through
a kubeconfig, and their refusals (exit 2: nothing changed)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from eksplatform import cli
from eksplatform.core import devenv

from tests.devenv.fakekube import TOKEN, FakeCluster, serve

NOW = datetime(2026, 12, 10, 12, 30, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(devenv, "utc_now", lambda: NOW)


def _kubeconfig(tmp_path: Path, url: str, token: str = TOKEN) -> Path:
    path = tmp_path / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "current-context": "staging",
                "contexts": [{"name": "staging", "context": {"cluster": "c", "user": "u"}}],
                "clusters": [{"name": "c", "cluster": {"server": url}}],
                "users": [{"name": "u", "user": {"token": token}}],
            }
        )
    )
    return path


def _contract(tmp_path: Path, max_ttl: int = 72) -> Path:
    offer = devenv.DevOffer(enabled=True, max_ttl_hours=max_ttl, default_ttl_hours=24)
    path = tmp_path / "contract-staging.json"
    path.write_text(json.dumps({"devEnvironments": offer.to_contract()}))
    return path


def _cluster() -> FakeCluster:
    c = FakeCluster()
    c.add("dev-alice", {devenv.DEVELOPER_LABEL: "alice", devenv.EXPIRES_LABEL: "20261210T180000Z"})
    c.add("news", {"eksplatform.io/team": "news"})
    return c


def test_extend_moves_the_expiry_label(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cluster = _cluster()
    with serve(cluster) as url:
        code = cli.main(
            [
                "dev",
                "extend",
                "--stack",
                "dev-alice",
                "--expires",
                "48h",
                "--kubeconfig",
                str(_kubeconfig(tmp_path, url)),
                "--contract",
                str(_contract(tmp_path)),
            ]
        )
    assert code == 0
    labels = cluster.namespaces["dev-alice"]["metadata"]["labels"]
    assert labels[devenv.EXPIRES_LABEL] == "20261212T130000Z"  # 12:30 + 48 h, next whole hour
    assert capsys.readouterr().out == "dev-alice now expires at 2026-12-12T13:00:00Z\n"
    assert (
        "PATCH",
        "/api/v1/namespaces/dev-alice?fieldManager=eksplatform-dev",
    ) in cluster.requests


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        (
            "73h",
            "eksplatform dev extend: 1 problem:\n  - --expires: got '73h': is beyond the "
            "cluster's maximum of 72 hours from now (platform:devEnvironments.maxTtlHours): "
            "give at most '72h', and extend it later with 'eksplatform dev extend'",
        ),
        (
            "2026-12-10T12:00:00Z",
            "eksplatform dev extend: 1 problem:\n  - --expires: got '2026-12-10T12:00:00Z': is "
            "in the past (2026-12-10T12:00:00Z, now 2026-12-10T12:30:00Z): give a time ahead, or "
            "a duration such as '24h'",
        ),
        (
            "tomorrow",
            "eksplatform dev extend: 1 problem:\n  - --expires: got 'tomorrow': must be a "
            "duration from now such as '36h' or '3d', or an RFC 3339 time such as "
            "'2026-12-24T18:00:00Z'",
        ),
    ],
)
def test_extend_refuses_a_bad_expiry(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], expires: str, message: str
) -> None:
    cluster = _cluster()
    with serve(cluster) as url:
        code = cli.main(
            [
                "dev",
                "extend",
                "--stack",
                "dev-alice",
                "--expires",
                expires,
                "--kubeconfig",
                str(_kubeconfig(tmp_path, url)),
                "--contract",
                str(_contract(tmp_path)),
            ]
        )
    assert code == 2
    assert capsys.readouterr().err.strip() == message
    assert cluster.requests == []  # refused before asking the cluster anything


def test_extend_at_the_maximum_is_accepted(tmp_path: Path) -> None:
    cluster = _cluster()
    with serve(cluster) as url:
        code = cli.main(
            [
                "dev",
                "extend",
                "--stack",
                "dev-alice",
                "--expires",
                "72h",
                "--kubeconfig",
                str(_kubeconfig(tmp_path, url)),
                "--contract",
                str(_contract(tmp_path)),
            ]
        )
    assert code == 0


def test_down_deletes_only_a_developer_namespace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cluster = _cluster()
    with serve(cluster) as url:
        config = str(_kubeconfig(tmp_path, url))
        assert (
            cli.main(["dev", "down", "--stack", "dev-alice", "--kubeconfig", config, "--dry-run"])
            == 0
        )
        assert cluster.deleted == []
        assert cli.main(["dev", "down", "--stack", "dev-alice", "--kubeconfig", config]) == 0
        assert cluster.deleted == ["dev-alice"]
        # A namespace named dev-* without its developer label is not a developer's to delete.
        cluster.add("dev-ops", {"eksplatform.io/team": "platform"})
        assert cli.main(["dev", "down", "--stack", "dev-ops", "--kubeconfig", config]) == 2
    assert cluster.deleted == ["dev-alice"]
    err = capsys.readouterr().err
    assert (
        "namespace dev-ops is not a developer namespace (no eksplatform.io/developer label naming its developer): not touched"
        in err
    )


def test_a_stack_that_is_not_a_developer_stack_is_refused(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["dev", "down", "--stack", "dev-Alice_B"]) == 2
    assert capsys.readouterr().err.strip() == (
        "eksplatform dev down: 1 problem:\n  - --stack: got 'dev-Alice_B': the developer name "
        "'Alice_B' is not a DNS label (lowercase letters, digits and '-', starting and ending "
        "with a letter or digit): the namespace 'dev-<developer>' must be one"
    )
    assert cli.main(["dev", "down", "--stack", "staging"]) == 2
