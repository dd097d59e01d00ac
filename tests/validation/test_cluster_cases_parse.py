"""The same bad stack files as :mod:`tests.validation.test_cluster_bad_inputs`, read and
validated without running the program (the stack file read as the Pulumi CLI reads it, then
:func:`~eksplatform.cluster.config.parse_cluster_config`): the exact problems again, in
milliseconds, so the mutation run (``make mutation``) can use every case on every mutant."""

from __future__ import annotations

from pathlib import Path

import pytest
from eksplatform.cluster.config import parse_cluster_config
from eksplatform.core.errors import ValidationError
from eksplatform.preview.project import ProjectError, load_stack

from tests.conftest import make_workspace
from tests.validation.cluster_cases import CASES
from tests.validation.test_cluster_bad_inputs import expected_message, stack_text

ZONES = ("eu-west-1a", "eu-west-1b", "eu-west-1c", "eu-west-1d")
"""What the offline preview's region answers (four zones)."""


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "ws"
    make_workspace(path)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_cluster_config_is_refused_with_the_exact_message(root: Path, name: str) -> None:
    case = CASES[name]
    (root / "Pulumi.dev.yaml").write_text(stack_text(case))
    try:
        spec = load_stack(root, "dev")
    except ProjectError as exc:
        assert str(exc) == expected_message(case)
        return
    with pytest.raises(ValidationError) as info:
        parse_cluster_config(
            spec.config,
            stack="dev",
            source="Pulumi.dev.yaml",
            project=spec.project,
            secret_keys=spec.secret_keys,
            stack_file=spec.source,
            available_zones=lambda region: [z.replace("eu-west-1", region) for z in ZONES],
        )
    assert str(info.value) == expected_message(case)
