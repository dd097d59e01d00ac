"""A new service repo: what ``eksplatform new-service`` checks and writes.

Order of work: read every option and contract file and collect every problem
(:func:`plan`, which raises one :class:`~eksplatform.core.errors.ValidationError`), render every
file in memory (:func:`render`), and only then write them (:func:`write`) into a directory that
is new or empty. Bad input writes nothing.

Design decision: the stack files take ``aws:region`` and ``aws:allowedAccountIds`` from the
cluster's contract file (``--contract STACK=FILE``, what ``pulumi stack output --json`` prints
for the cluster stack), which also proves the team exists and gives its namespace; without a
contract they must be given (``--region``, ``--account``), never guessed. The cost: a new repo
needs the platform's contract files (or the values) up front, the same files its offline
preview needs anyway.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from .. import __version__
from ..core.datadog import SITES, api_url
from ..core.errors import MISSING, Problems
from ..service.validate import NAME_MAX, parse_image

STACKS = ("staging", "prod")
"""The stacks every service repo starts with, named after the cluster's environments."""
DEFAULT_PORT = 8080
DEFAULT_PLATFORM_REPO = "platform/eks-platform"
"""Where the platform pipeline publishes the contract files (``OWNER/NAME`` on GitHub)."""
DEFAULT_CLUSTER_STACK = "organization/eks-platform/{stack}"
INITIAL_TAG = "0.1.0"
"""Tag of the default image: CI replaces it with the tag it built."""

_DNS_LABEL = re.compile(r"[a-z]([a-z0-9-]*[a-z0-9])?")
_STACK_PART = re.compile(r"[A-Za-z0-9_.-]+")
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")
_ACCOUNT = re.compile(r"[0-9]{12}")
_GITHUB_REPO = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
_GIT_URL = re.compile(r"git\+(https|ssh)://([^\s@#/]+@)?[^\s@#]+")
"""A git URL pip installs from; a ``user@`` only before the host, so no ``@tag`` at the end."""
_FIELD = re.compile(r"\[\[([a-z_]+)\]\]")


@dataclass(frozen=True, kw_only=True)
class StackPlan:
    """One stack file of the new repo."""

    stack: str
    cluster_stack: str
    """``org/project/stack`` of the platform's cluster stack."""
    region: str
    account: str
    image: str
    contract: Path | None
    """The cluster's contract file, copied to ``contracts/contract-<stack>.json``."""
    datadog_site: str = ""
    """The cluster's Datadog site (contract ``datadogSite``; ``""``: none or not known): the
    monitors' provider must use its API."""


@dataclass(frozen=True, kw_only=True)
class ServiceRepo:
    """Everything the new repo is rendered from (valid by construction: see :func:`plan`)."""

    directory: Path
    name: str
    team: str
    namespace: str
    """The team's namespace (from the contracts; the team name when none was given)."""
    port: int
    platform_repo: str
    library_requirement: str
    """The ``requirements.txt`` line that installs eksplatform at this release."""
    stacks: tuple[StackPlan, ...]


def _pairs(problems: Problems, option: str, values: Sequence[str], meaning: str) -> dict[str, str]:
    """``STACK=VALUE`` options, keyed by stack; problems for malformed, unknown, repeated."""
    found: dict[str, str] = {}
    for value in values:
        stack, sep, rest = value.partition("=")
        if not sep or not rest:
            problems.add(option, value, f"must be STACK={meaning} (STACK: {', '.join(STACKS)})")
        elif stack not in STACKS:
            problems.add(
                option, value, f"unknown stack {stack!r}: a new repo has {', '.join(STACKS)}"
            )
        elif stack in found:
            problems.add(option, value, f"{stack} is given twice: give it once")
        else:
            found[stack] = rest
    return found


def _read_contract(problems: Problems, value: str, stack: str, path: Path) -> dict[str, Any]:
    """A cluster contract file, or {} with a problem naming what is wrong."""
    option = "--contract"
    fix = f"write it with `pulumi stack output --json --stack <cluster stack> > {path}`"
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        problems.add(option, value, f"{path}: no such file: {fix}")
        return {}
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        problems.add(option, value, f"{path}: not a JSON file ({exc}): {fix}")
        return {}
    if not isinstance(data, dict):
        problems.add(option, value, f"{path}: not a JSON object of stack outputs: {fix}")
        return {}
    wanted = {
        "region": str,
        "accountId": str,
        "environment": str,
        "teamNamespaces": dict,
    }
    absent = [k for k, t in wanted.items() if not isinstance(data.get(k), t)]
    if absent:
        problems.add(
            option,
            value,
            f"{path}: lacks the cluster contract outputs {', '.join(absent)}: is it the output "
            "of the platform's cluster stack?",
        )
        return {}
    if data["environment"] != stack:
        problems.add(
            option,
            value,
            f"{path} is the contract of the {data['environment']!r} cluster, not {stack!r}: "
            f"give the {stack} cluster's",
        )
        return {}
    return data


def plan(
    directory: Path,
    *,
    name: str,
    team: str,
    contracts: Sequence[str] = (),
    cluster_stacks: Sequence[str] = (),
    region: str | None = None,
    accounts: Sequence[str] = (),
    image: str | None = None,
    port: str = str(DEFAULT_PORT),
    platform_repo: str = DEFAULT_PLATFORM_REPO,
    library_url: str | None = None,
) -> ServiceRepo:
    """Check every option (all problems at once) and return what to render.

    Options are as the user typed them (strings), so each problem quotes the value received."""
    problems = Problems()
    _check_directory(problems, directory)
    if not isinstance(name, str) or not _DNS_LABEL.fullmatch(name) or len(name) > NAME_MAX:
        problems.add(
            "--name",
            name,
            f"must be a DNS label of 1-{NAME_MAX} lowercase letters, digits or '-', starting "
            "with a letter and not ending with '-' (it names the Pulumi project, the "
            "Deployment and the AWS resources)",
        )
    if not isinstance(team, str) or not _DNS_LABEL.fullmatch(team) or len(team) > 63:
        problems.add(
            "--team",
            team,
            "must be a team of the cluster: a DNS label of 1-63 lowercase letters, digits or "
            "'-', starting with a letter",
        )
    port_number = int(port) if re.fullmatch(r"[0-9]{1,5}", port) else 0
    if not 1 <= port_number <= 65535:
        problems.add("--port", port, "must be the port the app listens on, 1-65535")
    if not _GITHUB_REPO.fullmatch(platform_repo):
        problems.add(
            "--platform-repo", platform_repo, "must be OWNER/NAME of the platform repo on GitHub"
        )
    if library_url is not None and not _GIT_URL.fullmatch(library_url):
        problems.add(
            "--library-url",
            library_url,
            "must be the platform repo's git URL, git+https://HOST/PATH or git+ssh://HOST/PATH, "
            "without a tag or #fragment (the release tag is added)",
        )
    if image is not None:
        ref = parse_image(image)
        if ref is None or (ref.tag is None and ref.digest is None) or ref.tag == "latest":
            problems.add(
                "--image",
                image,
                "must be registry/repository:tag (a version tag, not 'latest') or "
                "registry/repository@sha256:<digest>",
            )
    if region is not None and not _REGION.fullmatch(region):
        problems.add("--region", region, "must be an AWS region code such as 'eu-west-1'")

    given_contracts = _pairs(problems, "--contract", contracts, "FILE")
    given_stacks = _pairs(problems, "--cluster-stack", cluster_stacks, "ORG/PROJECT/STACK")
    given_accounts = _pairs(problems, "--account", accounts, "ACCOUNT_ID")
    for stack, ref_name in given_stacks.items():
        parts = ref_name.split("/")
        if len(parts) != 3 or not all(_STACK_PART.fullmatch(p) for p in parts):
            problems.add(
                "--cluster-stack",
                f"{stack}={ref_name}",
                "must name the cluster stack as ORG/PROJECT/STACK, "
                "e.g. organization/eks-platform/" + stack,
            )
    for stack, account in given_accounts.items():
        if not _ACCOUNT.fullmatch(account):
            problems.add("--account", f"{stack}={account}", "must be a 12-digit AWS account ID")

    namespaces: dict[str, str] = {}
    stacks: list[StackPlan] = []
    for stack in STACKS:
        contract: dict[str, Any] = {}
        path = Path(given_contracts[stack]) if stack in given_contracts else None
        if path is not None:
            contract = _read_contract(problems, f"{stack}={path}", stack, path)
        stack_region = _agreeing(
            problems, "--region", region, contract.get("region"), stack, "region"
        )
        stack_account = _agreeing(
            problems,
            "--account",
            given_accounts.get(stack),
            contract.get("accountId"),
            stack,
            "account",
        )
        if contract and isinstance(team, str):
            teams: Mapping[str, Any] = contract["teamNamespaces"]
            if team in teams:
                namespaces[stack] = str(teams[team])
            else:
                known = ", ".join(sorted(teams)) or "none"
                problems.add(
                    "--team",
                    team,
                    f"is not a team of the {stack} cluster (its teams: {known}): ask the "
                    "platform team to add it to platform:teams, or fix the name",
                )
        if (stack_region is None or stack_account is None) and path is None:
            problems.add(
                "--contract",
                MISSING,
                f"the {stack} stack needs the cluster's region and account: pass "
                f"--contract {stack}=FILE (the output of `pulumi stack output --json --stack "
                f"<the {stack} cluster stack>`), or --region and --account {stack}=ACCOUNT_ID",
            )
        default_image = (
            f"{stack_account}.dkr.ecr.{stack_region}.amazonaws.com/{team}/{name}:{INITIAL_TAG}"
        )
        stacks.append(
            StackPlan(
                stack=stack,
                cluster_stack=given_stacks.get(stack, DEFAULT_CLUSTER_STACK.format(stack=stack)),
                region=stack_region or "",
                account=stack_account or "",
                image=image or default_image,
                contract=path,
                datadog_site=_datadog_site(problems, stack, contract),
            )
        )
    if len(set(namespaces.values())) > 1:
        problems.add(
            "--team",
            team,
            f"deploys to different namespaces per cluster ({namespaces}): one program needs "
            "one; ask the platform team to align them",
        )
    problems.raise_if_any("eksplatform new-service")
    library = (
        f"eksplatform @ {library_url}@v{__version__}#subdirectory=components"
        if library_url
        else f"eksplatform=={__version__}"
    )
    return ServiceRepo(
        directory=directory,
        name=name,
        team=team,
        namespace=next(iter(namespaces.values()), team),
        port=port_number,
        platform_repo=platform_repo,
        library_requirement=library,
        stacks=tuple(stacks),
    )


def _datadog_site(problems: Problems, stack: str, contract: Mapping[str, Any]) -> str:
    site = contract.get("datadogSite", "")
    if site == "" or site in SITES:
        return str(site)
    problems.add(
        "--contract",
        f"{stack}=...",
        f"its datadogSite {site!r} is not a Datadog site ({', '.join(SITES)}): is it the "
        "platform's cluster contract?",
    )
    return ""


def datadog_lines(site: str) -> str:
    """The stack file's Datadog provider lines: its API for the cluster's site, and how to set
    the keys (secrets are never written by a generator)."""
    how = (
        "  # The monitors' Datadog provider: set its keys as secrets (or from a Pulumi ESC\n"
        "  # environment): pulumi config set --secret datadog:apiKey <key>, and datadog:appKey.\n"
    )
    if not site:
        return how + "  # For a Datadog site other than datadoghq.com, also set datadog:apiUrl.\n"
    return how + f"  datadog:apiUrl: {api_url(site)}\n"


def _check_directory(problems: Problems, directory: Path) -> None:
    if directory.exists() and not directory.is_dir():
        problems.add("DIR", str(directory), "is a file: give a new or empty directory")
    elif directory.is_dir() and any(directory.iterdir()):
        problems.add(
            "DIR",
            str(directory),
            "exists and is not empty: give a new or empty directory (nothing is overwritten)",
        )


def _agreeing(
    problems: Problems,
    option: str,
    given: str | None,
    from_contract: Any,
    stack: str,
    what: str,
) -> str | None:
    """The value for one stack: the option, the contract's, or both when they agree."""
    if given is not None and isinstance(from_contract, str) and given != from_contract:
        shown = given if option == "--region" else f"{stack}={given}"
        problems.add(
            option,
            shown,
            f"the {stack} cluster's {what} is {from_contract!r} (its contract): a service "
            "deploys where its cluster is; drop the option or fix it",
        )
        return None
    if given is not None:
        return given
    return from_contract if isinstance(from_contract, str) else None


# --- rendering ---------------------------------------------------------------------------------


def template(name: str) -> str:
    """The text of one template (package data)."""
    return resources.files(__package__).joinpath("templates", name).read_text(encoding="utf-8")


def fill(text: str, values: Mapping[str, str]) -> str:
    """Replace each ``[[field]]``; a field without a value is a bug in this module, not input."""
    missing = sorted(set(_FIELD.findall(text)) - set(values))
    if missing:
        raise KeyError(f"template fields without a value: {', '.join(missing)}")
    return _FIELD.sub(lambda m: values[m.group(1)], text)


def constraints_text() -> str:
    """This release's constraints file (shipped in the package)."""
    return resources.files("eksplatform").joinpath("constraints.txt").read_text(encoding="utf-8")


def render(repo: ServiceRepo) -> dict[str, str]:
    """Relative path -> text of every file of the new repo (contract copies excluded)."""
    by_stack = {s.stack: s for s in repo.stacks}
    org = by_stack["staging"].cluster_stack.split("/")[0]
    values = {
        "name": repo.name,
        "team": repo.team,
        "version": __version__,
        "port": str(repo.port),
        "library_requirement": repo.library_requirement,
        "platform_repo": repo.platform_repo,
        "org": org,
    }
    for s in repo.stacks:
        values[f"cluster_stack_{s.stack}"] = s.cluster_stack
        values[f"region_{s.stack}"] = s.region
    files = {
        "__main__.py": fill(template("main.py.tmpl"), values),
        "Pulumi.yaml": fill(template("Pulumi.yaml.tmpl"), values),
        "requirements.txt": fill(template("requirements.txt.tmpl"), values),
        "constraints.txt": constraints_text(),
        ".gitignore": template("gitignore.tmpl"),
        "README.md": fill(template("README.md.tmpl"), values),
        ".github/workflows/preview.yml": fill(template("preview.yml.tmpl"), values),
    }
    for s in repo.stacks:
        stack_values = values | {
            "stack": s.stack,
            "cluster_stack": s.cluster_stack,
            "region": s.region,
            "account": s.account,
            "image": s.image,
            "datadog": datadog_lines(s.datadog_site),
        }
        files[f"Pulumi.{s.stack}.yaml"] = fill(template("stack.yaml.tmpl"), stack_values)
    return files


def write(repo: ServiceRepo, files: Mapping[str, str]) -> list[Path]:
    """Write the rendered files and copy the contract files; returns the paths written."""
    written: list[Path] = []
    repo.directory.mkdir(parents=True, exist_ok=True)
    for rel, text in sorted(files.items()):
        path = repo.directory / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    for s in repo.stacks:
        if s.contract is not None:
            target = repo.directory / "contracts" / f"contract-{s.stack}.json"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(s.contract.read_bytes())
            written.append(target)
    return written
