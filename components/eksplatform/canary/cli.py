"""``eksplatform canary``: move a canary release through its schedule by editing the service's
stack file, so that ``pulumi up`` applies each step (printed, or run with ``--apply``).

    eksplatform canary start    --stack prod --image <registry>/<repo>:<new tag>   # weight 0, warm
    eksplatform canary analyze  --stack prod [--json]       # pass / fail / inconclusive, figures
    eksplatform canary step     --stack prod [--apply]      # next weight after a passing analysis
    eksplatform canary promote  --stack prod [--apply]      # canary image -> stable, drain, remove
    eksplatform canary rollback --stack prod [--apply]      # weight 0 at once, drain, remove

Run in the service program's directory (or ``--dir``); the stack file's ``<project>:canary`` and
``<project>:canaryPolicy`` keys are the release (:mod:`eksplatform.service.canary_config`), its
``<project>:image`` the stable image (``--image-key``). Every command reads and checks them
first, with the messages ServiceStack gives, and changes nothing on bad input.

**Each command is one step of a state machine kept in the stack file**, so a CI job (or a
person) can stop between two runs and the next run knows where the release stands:

* ``start`` writes the block at weight 0 (the canary runs, gets no traffic but the header's);
* ``step`` needs the analysis window to have passed since the last change, a passing analysis
  (at weight 0: no failing one) and the canary target group's healthy targets
  (``minHealthyHosts``), then writes the next weight of the schedule;
* ``promote`` (after a passing analysis) makes the canary's image the stable one
  (``promoting: true``, ``previousImage``), then on each run brings the weight down the schedule,
  ``rampDownWaitSeconds`` apart, each time only if the stable target group has healthy targets,
  so the stable HPA takes the traffic back gradually; at 0 the canary is ``draining``;
* ``rollback`` sets the weight to 0 and drops the header at once (restoring the stable image
  when a promotion had started): ``draining``;
* a ``draining`` canary is removed (its block deleted) by ``promote`` or ``rollback`` once the
  canary target group's deregistration delay (read from AWS) has passed since the traffic
  stopped, so in-flight requests finish before its targets and pods go.

Traffic never moves to a target group without healthy targets: ``step`` checks the canary's,
``promote`` and ``rollback`` the stable one's, before writing the weight (``rollback --force``
skips it: the canary may be what broke the stable pods' dependencies). Every change records
``changedAt``. With ``--apply`` the command runs ``pulumi up --yes --stack <stack>`` after each
edit and waits where a run would exit 4, so ``promote --apply`` and ``rollback --apply`` go all
the way to the canary's removal.

Exit status: 0 done (or printed); 1 an AWS call or ``pulumi up`` failed; 2 bad input (stack
file, arguments, a command that does not apply to the release's state: nothing changed);
3 the analysis failed (roll back); 4 not yet (analysis inconclusive, or a wait is not over:
run again later); 5 the target group that would gain traffic has no healthy targets (nothing
changed).
"""

from __future__ import annotations

import argparse
import json
import shlex
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from ruamel.yaml.comments import CommentedMap

from ..core.errors import Problems
from ..service.canary_checks import stable_image_problems
from ..service.canary_config import (
    CANARY_KEY,
    POLICY_KEY,
    ParsedCanary,
    config_field,
    parse_canary,
)
from . import aws
from .analysis import Verdict, analyze, render
from .stackfile import StackFile, StackFileError

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_ANALYSIS_FAILED = 3
EXIT_NOT_YET = 4
EXIT_UNHEALTHY = 5


class BadInputError(Exception):
    """Bad arguments or stack file (exit 2, nothing changed)."""


class NotYetError(Exception):
    """A wait is not over (exit 4); ``seconds`` left."""

    def __init__(self, message: str, seconds: float) -> None:
        super().__init__(message)
        self.seconds = seconds


class UnhealthyError(Exception):
    """A target group that would gain traffic has no healthy targets (exit 5)."""


class AnalysisError(Exception):
    """The analysis failed (exit 3) or was inconclusive (exit 4)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.result)
        self.verdict = verdict


class PulumiError(Exception):
    """``pulumi up`` failed (exit 1)."""


class Clock:
    """Wall-clock time and sleeping (tests replace :data:`CLOCK`)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


CLOCK = Clock()
make_clients = aws.make_clients
"""How the commands get their AWS clients (tests replace it with stubbed ones)."""


def _timestamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- the release as the stack file says ----------------------------------------------------------


@dataclass
class Release:
    """The stack file and its canary, read and checked."""

    file: StackFile
    image_key: str
    stable_image: str
    parsed: ParsedCanary

    @property
    def project(self) -> str:
        return self.file.project

    @property
    def running(self) -> bool:
        return self.parsed.canary is not None

    def field(self, path: str) -> str:
        return config_field(path, self.project)

    def require_canary(self, command: str) -> None:
        if self.parsed.canary is None:
            raise BadInputError(
                f"{self.file.path.name}: no canary runs ({self.file.key(CANARY_KEY)} is not "
                f"set): nothing to {command}; start one with 'eksplatform canary start --image "
                "<image>'"
            )


def load(args: argparse.Namespace) -> Release:
    """Read the stack file and check its canary like ServiceStack does."""
    sf = StackFile(Path(args.dir), args.stack)
    image = sf.plain(args.image_key)
    if not isinstance(image, str):
        raise BadInputError(
            f"{sf.path.name}: {sf.key(args.image_key)} (the stable image) is "
            f"{'missing' if image is None else repr(image)}: the commands read the stable image "
            "there; give --image-key if the program reads it from another key"
        )
    parsed = parse_canary(sf.plain(CANARY_KEY), sf.plain(POLICY_KEY), project=sf.project)
    problems = Problems()
    for p in parsed.problems:
        problems.add(p.field, p.value, p.message)
    if parsed.canary is not None and not parsed.shape_problems:
        extra = Problems()
        stable_image_problems(extra, parsed.canary, image)
        for p in extra:
            problems.add(config_field(p.field, sf.project), p.value, p.message)
        c, s = parsed.canary, parsed.state
        if s.draining and (c.weight != 0 or c.header is not None):
            problems.add(
                f"{sf.key(CANARY_KEY)}.draining",
                True,
                "is set but the canary still gets traffic (weight above 0 or a header): "
                "run 'eksplatform canary rollback' to stop it, or remove draining",
            )
    if list(problems):
        raise BadInputError(_render(f"{sf.path.name}: invalid canary configuration", problems))
    return Release(sf, args.image_key, image, parsed)


def _render(subject: str, problems: Problems) -> str:
    items = list(problems)
    noun = "problem" if len(items) == 1 else "problems"
    return "\n".join([f"{subject}: {len(items)} {noun}:", *(f"  - {p}" for p in items)])


def _groups(args: argparse.Namespace, rel: Release, clients: aws.Clients) -> aws.TargetGroups:
    """The service's target groups, looked up once per command."""
    if clients.target_groups is None:
        clients.target_groups = aws.find_target_groups(
            clients,
            service=args.service or rel.project,
            namespace=args.namespace,
            environment=args.environment,
            stable_arn=args.stable_target_group,
            canary_arn=args.canary_target_group,
        )
    return clients.target_groups


def _region(rel: Release) -> str:
    region = rel.file.plain("aws:region")
    if not isinstance(region, str):
        raise BadInputError(f"{rel.file.path.name}: aws:region is not set")
    return region


# --- running pulumi up ----------------------------------------------------------------------------


def pulumi_command(args: argparse.Namespace) -> list[str]:
    cmd = [args.pulumi, "up", "--yes", "--stack", args.stack]
    if args.policy_pack:
        cmd += ["--policy-pack", args.policy_pack]
    return cmd


def _apply_or_print(args: argparse.Namespace, rel: Release, what: str) -> None:
    print(f"{rel.file.path}: {what}")
    cmd = pulumi_command(args)
    if not args.apply:
        print(f"next: cd {shlex.quote(str(rel.file.program_dir))} && {shlex.join(cmd)}")
        return
    print(f"running: {shlex.join(cmd)} (in {rel.file.program_dir})", flush=True)
    try:
        done = subprocess.run(cmd, cwd=rel.file.program_dir, timeout=args.pulumi_timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise PulumiError(f"pulumi up did not run to the end: {exc}") from None
    if done.returncode != 0:
        raise PulumiError(
            f"pulumi up exited {done.returncode}; {rel.file.path.name} already says: {what}. "
            "Fix the cause and run pulumi up again, or run 'eksplatform canary rollback'"
        )


# --- the commands -----------------------------------------------------------------------------------


def _analysis(args: argparse.Namespace, rel: Release, clients: aws.Clients) -> Verdict:
    rel.require_canary("analyze")
    groups = _groups(args, rel, clients)
    if groups.canary_arn is None:
        raise aws.AwsError(
            f"no canary target group is tagged service={args.service or rel.project}: has "
            "pulumi up created the canary yet?"
        )
    assert rel.parsed.canary is not None
    return analyze(clients, groups, rel.parsed.canary.analysis, CLOCK.now())


def cmd_analyze(args: argparse.Namespace) -> int:
    rel = load(args)
    verdict = _analysis(args, rel, make_clients(_region(rel)))
    if args.json:
        print(json.dumps(verdict.as_json(), indent=2, sort_keys=True))
    else:
        print(render(verdict, f"canary analysis of {rel.project} ({args.stack})"))
    return {"pass": EXIT_OK, "fail": EXIT_ANALYSIS_FAILED}.get(verdict.result, EXIT_NOT_YET)


def cmd_start(args: argparse.Namespace) -> int:
    rel = load(args)
    if rel.parsed.canary is not None:
        raise BadInputError(
            f"{rel.file.path.name}: a canary runs already ({rel.parsed.canary.image}, weight "
            f"{rel.parsed.canary.weight}): promote it or roll it back first"
        )
    block = CommentedMap()
    block["image"] = args.image
    block["weight"] = 0
    if args.header is not None:
        name, sep, value = args.header.partition("=")
        header = CommentedMap()
        header["name"] = name
        if sep:
            header["value"] = value
        header.fa.set_flow_style()
        block["header"] = header
    block["changedAt"] = _timestamp(CLOCK.now())
    plain = {k: (dict(v) if isinstance(v, CommentedMap) else v) for k, v in block.items()}
    candidate = parse_canary(plain, rel.file.plain(POLICY_KEY), project=rel.project)
    problems = Problems()
    for p in candidate.problems:
        problems.add(p.field, p.value, p.message)
    if candidate.canary is not None and not candidate.shape_problems:
        extra = Problems()
        stable_image_problems(extra, candidate.canary, rel.stable_image)
        for p in extra:
            problems.add(rel.field(p.field), p.value, p.message)
    if list(problems):
        raise BadInputError(_render("eksplatform canary start: refused", problems))
    rel.file.set(CANARY_KEY, block)
    rel.file.save()
    _apply_or_print(args, rel, f"canary {args.image} started at weight 0")
    print("then: 'eksplatform canary step' once the canary is healthy")
    return EXIT_OK


def _next_weight(schedule: tuple[int, ...] | list[int], weight: int) -> int | None:
    higher = [w for w in schedule if w > weight]
    return min(higher) if higher else None


def cmd_step(args: argparse.Namespace) -> int:
    rel = load(args)
    rel.require_canary("step")
    c, s = rel.parsed.canary, rel.parsed.state
    assert c is not None
    if c.promoting or s.draining:
        raise BadInputError(
            f"{rel.file.path.name}: the canary is "
            f"{'being promoted' if c.promoting else 'draining'}: run 'eksplatform canary "
            f"{'promote' if c.promoting else 'rollback'}' to finish it"
        )
    target = _next_weight(list(c.schedule), c.weight)
    if target is None:
        raise BadInputError(
            f"{rel.file.path.name}: the canary is at weight {c.weight}, the end of the schedule "
            f"{list(c.schedule)}: promote it ('eksplatform canary promote')"
        )
    window = timedelta(minutes=c.analysis.window_minutes)
    now = CLOCK.now()
    if s.changed_at is not None and now - s.changed_at < window and c.weight > 0:
        left = (s.changed_at + window - now).total_seconds()
        raise NotYetError(
            f"the weight changed at {_timestamp(s.changed_at)}: the analysis window "
            f"({c.analysis.window_minutes} min) must hold the current weight only; run step "
            f"again after {_timestamp(s.changed_at + window)}",
            left,
        )
    clients = make_clients(_region(rel))
    verdict = _analysis(args, rel, clients)
    print(render(verdict, f"canary analysis of {rel.project} ({args.stack})"))
    if verdict.result == "fail" or (verdict.result == "inconclusive" and c.weight > 0):
        raise AnalysisError(verdict)
    _require_healthy(args, rel, clients, canary=True)
    section = rel.file.section(CANARY_KEY)
    section["weight"] = target
    section["changedAt"] = _timestamp(now)
    rel.file.save()
    _apply_or_print(args, rel, f"canary weight {c.weight} -> {target}")
    return EXIT_OK


def _require_healthy(
    args: argparse.Namespace, rel: Release, clients: aws.Clients, *, canary: bool
) -> None:
    """The target group about to gain traffic has at least ``minHealthyHosts`` healthy targets."""
    c = rel.parsed.canary
    assert c is not None
    groups = _groups(args, rel, clients)
    arn = groups.canary_arn if canary else groups.stable_arn
    which = "canary" if canary else "stable"
    if arn is None:
        raise aws.AwsError(
            f"no canary target group is tagged service={args.service or rel.project}: has "
            "pulumi up created the canary yet?"
        )
    healthy = aws.healthy_targets(clients, arn)
    need = c.analysis.min_healthy_hosts
    print(f"{which} target group: {healthy} healthy target(s) (at least {need} needed)")
    if healthy < need:
        raise UnhealthyError(
            f"the {which} target group {arn} has {healthy} healthy target(s), fewer than "
            f"minHealthyHosts {need}: no traffic is moved to it; check its pods "
            f"(kubectl get pods -l app.kubernetes.io/instance=...) and the target health, then "
            "run the command again"
        )


def _wait_or_raise(args: argparse.Namespace, until: datetime, why: str) -> None:
    now = CLOCK.now()
    if now >= until:
        return
    left = (until - now).total_seconds()
    if not args.apply:
        raise NotYetError(f"{why}: run the command again after {_timestamp(until)}", left)
    print(f"waiting {left:.0f} s: {why}", flush=True)
    CLOCK.sleep(left)


def _finish(args: argparse.Namespace, rel: Release, clients: aws.Clients) -> None:
    """Remove a draining canary once the deregistration delay has passed since it stopped."""
    s = rel.parsed.state
    groups = _groups(args, rel, clients)
    delay = aws.deregistration_delay(clients, groups.canary_arn) if groups.canary_arn else 0
    since = s.changed_at or CLOCK.now()
    _wait_or_raise(
        args,
        since + timedelta(seconds=delay),
        f"the canary's traffic stopped at {_timestamp(since)}; its target group's "
        f"deregistration delay ({delay} s) lets in-flight requests finish",
    )
    rel.file.delete(CANARY_KEY)
    rel.file.save()
    _apply_or_print(args, rel, "canary removed (its traffic had stopped and drained)")


def _reload(args: argparse.Namespace) -> Release:
    return load(args)


def cmd_promote(args: argparse.Namespace) -> int:
    rel = load(args)
    rel.require_canary("promote")
    clients = make_clients(_region(rel))
    while rel.parsed.canary is not None:
        c, s = rel.parsed.canary, rel.parsed.state
        if s.draining:
            _finish(args, rel, clients)
        elif c.promoting:
            _ramp_down(args, rel, clients)
        else:
            verdict = _analysis(args, rel, clients)
            print(render(verdict, f"canary analysis of {rel.project} ({args.stack})"))
            if verdict.result != "pass":
                raise AnalysisError(verdict)
            section = rel.file.section(CANARY_KEY)
            section["promoting"] = True
            section["previousImage"] = rel.stable_image
            section["changedAt"] = _timestamp(CLOCK.now())
            rel.file.set(rel.image_key, c.image)
            rel.file.save()
            _apply_or_print(
                args,
                rel,
                f"stable image {rel.stable_image} -> {c.image} (the canary's); the weight "
                f"({c.weight}) comes down next",
            )
        if not args.apply:
            break
        rel = _reload(args)
    return EXIT_OK


def _ramp_down(args: argparse.Namespace, rel: Release, clients: aws.Clients) -> None:
    c, s = rel.parsed.canary, rel.parsed.state
    assert c is not None
    if s.changed_at is not None:
        _wait_or_raise(
            args,
            s.changed_at + timedelta(seconds=c.ramp_down_wait_s),
            f"the traffic last moved at {_timestamp(s.changed_at)}; the stable HPA gets "
            f"rampDownWaitSeconds ({c.ramp_down_wait_s}) to scale up",
        )
    _require_healthy(args, rel, clients, canary=False)
    lower = [w for w in c.schedule if w < c.weight]
    target = max(lower) if lower else 0
    section = rel.file.section(CANARY_KEY)
    section["weight"] = target
    section["changedAt"] = _timestamp(CLOCK.now())
    what = f"canary weight {c.weight} -> {target} (promotion)"
    if target == 0:
        section.pop("header", None)
        section["draining"] = True
        what += "; the canary gets no traffic now and drains"
    rel.file.save()
    _apply_or_print(args, rel, what)


def cmd_rollback(args: argparse.Namespace) -> int:
    rel = load(args)
    rel.require_canary("roll back")
    clients = make_clients(_region(rel))
    while rel.parsed.canary is not None:
        c, s = rel.parsed.canary, rel.parsed.state
        if s.draining:
            _finish(args, rel, clients)
        else:
            if args.force:
                print("--force: the stable target group's health is not checked")
            else:
                _require_healthy(args, rel, clients, canary=False)
            section = rel.file.section(CANARY_KEY)
            what = f"canary weight {c.weight} -> 0 at once"
            if c.promoting:
                previous = rel.parsed.state.previous_image
                if previous is not None:
                    rel.file.set(rel.image_key, previous)
                    what += f"; stable image back to {previous}"
                section.pop("promoting", None)
                section.pop("previousImage", None)
            section["weight"] = 0
            section.pop("header", None)
            section["draining"] = True
            section["changedAt"] = _timestamp(CLOCK.now())
            rel.file.save()
            _apply_or_print(args, rel, what + "; the canary drains, then goes")
        if not args.apply:
            break
        rel = _reload(args)
    return EXIT_OK


_COMMANDS = {
    "analyze": (cmd_analyze, "judge the canary against the stable target group (CloudWatch)"),
    "start": (cmd_start, "start a canary at weight 0 (warm, no traffic but the header's)"),
    "step": (cmd_step, "after a passing analysis, move to the next weight of the schedule"),
    "promote": (cmd_promote, "make the canary's image the stable one, drain and remove it"),
    "rollback": (cmd_rollback, "send the canary no traffic at once, drain and remove it"),
}


def configure(parser: argparse.ArgumentParser) -> None:
    """Options of ``eksplatform canary`` (see :mod:`eksplatform.cli`)."""
    parser.description = __doc__.split("\n\n", 1)[0] if __doc__ else None
    sub = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    for name, (_, summary) in _COMMANDS.items():
        p = sub.add_parser(
            name,
            help=summary,
            description=f"{summary}. " + _EXIT_HELP,
        )
        p.add_argument("--stack", required=True, help="the stack (Pulumi.<stack>.yaml)")
        p.add_argument("--dir", default=".", help="the service program's directory (default .)")
        p.add_argument(
            "--image-key", default="image", help="config key of the stable image (default image)"
        )
        p.add_argument("--service", help="the service's name tag (default: the project name)")
        p.add_argument("--namespace", help="narrow the target group lookup to this namespace")
        p.add_argument("--environment", help="narrow the target group lookup to this environment")
        p.add_argument("--stable-target-group", help="the stable target group's ARN (no lookup)")
        p.add_argument("--canary-target-group", help="the canary target group's ARN (no lookup)")
        if name == "analyze":
            p.add_argument("--json", action="store_true", help="the verdict and figures as JSON")
            continue
        if name == "start":
            p.add_argument("--image", required=True, help="the canary's image (pinned)")
            p.add_argument("--header", help="NAME=VALUE: requests with it go to the canary")
        if name == "rollback":
            p.add_argument(
                "--force",
                action="store_true",
                help="stop the canary's traffic even when the stable target group is unhealthy",
            )
        p.add_argument(
            "--apply", action="store_true", help="run pulumi up after each edit (and wait)"
        )
        p.add_argument("--pulumi", default="pulumi", help="the pulumi executable")
        p.add_argument("--policy-pack", help="pulumi up --policy-pack (the guardrails)")
        p.add_argument("--pulumi-timeout", type=float, default=3600.0, help="seconds per pulumi up")


_EXIT_HELP = (
    "Exit status: 0 done; 1 an AWS call or pulumi up failed; 2 bad input (nothing changed); "
    "3 the analysis failed (roll back); 4 not yet (inconclusive analysis or a wait not over: "
    "run again later); 5 the target group that would gain traffic has no healthy targets."
)


def run(args: argparse.Namespace) -> int:
    handler = _COMMANDS[args.action][0]
    try:
        return handler(args)
    except (BadInputError, StackFileError) as exc:
        print(f"eksplatform canary {args.action}: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except AnalysisError as exc:
        v = exc.verdict
        if v.result == "fail":
            print(
                f"eksplatform canary {args.action}: the analysis failed: roll back "
                "('eksplatform canary rollback')",
                file=sys.stderr,
            )
            return EXIT_ANALYSIS_FAILED
        print(
            f"eksplatform canary {args.action}: the analysis is inconclusive: run it again later",
            file=sys.stderr,
        )
        return EXIT_NOT_YET
    except NotYetError as exc:
        print(f"eksplatform canary {args.action}: not yet: {exc}", file=sys.stderr)
        return EXIT_NOT_YET
    except UnhealthyError as exc:
        print(f"eksplatform canary {args.action}: {exc}", file=sys.stderr)
        return EXIT_UNHEALTHY
    except (aws.AwsError, PulumiError) as exc:
        print(f"eksplatform canary {args.action}: {exc}", file=sys.stderr)
        return EXIT_FAILED
