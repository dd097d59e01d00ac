"""``eksplatform prescale send``: publish a pre-scale event, or print its plan (``--dry-run``).

For push tooling and game days::

    eksplatform prescale send --contract stack-output.json --push-id evening-1 \\
        --send-in 10m --duration 30m --multiplier 0.5 --service news/news-feed
    eksplatform prescale send ... --dry-run --hpas build/services --replicas news/news-feed=12

The contract file is the cluster stack's outputs as JSON (``pulumi stack output --json`` or the
offline preview's ``stack-output.json``): the topic ARN and region come from it, so no
kubeconfig or cluster access is needed. The event is checked against the versioned JSON Schema
(``prescale-event.v1.schema.json``) and by the same parser the Lambda runs, so what this command
accepts the pre-scaler accepts.

``--dry-run`` publishes nothing: it plans each HPA exactly as the Lambda would
(:mod:`eksplatform.cluster.prescaler_lambda.plan`) from HPAs read without a kubeconfig: the
manifests the offline preview renders (a build directory) or a saved
``kubectl get hpa -A -l eksplatform.io/prescale=true -o json``; ``--replicas ns/name=N`` gives
the current replica counts (default: each HPA's ``status.currentReplicas``, else its floor).

Exit status: 0 published (or planned), 1 publishing failed, 2 bad input (nothing published).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import yaml

from ..cli import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_OK
from .prescaler_lambda import events, plan

_DURATION = re.compile(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?")


class BadInputError(Exception):
    """Bad arguments or files: the message says which and how to fix them."""


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="<action>", required=True)
    send = sub.add_parser(
        "send",
        help="publish a pre-scale event (or print its plan with --dry-run)",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    send.add_argument("--contract", required=True, type=Path, help="cluster stack outputs (JSON)")
    send.add_argument("--push-id", required=True, help="unique id of the push")
    when = send.add_mutually_exclusive_group(required=True)
    when.add_argument("--send-time", help="when the push goes out, RFC 3339 (2026-12-01T18:00:00Z)")
    when.add_argument("--send-in", help="or how long from now, like 10m or 1h30m")
    send.add_argument("--duration", required=True, help="the push window, like 30m (60s-6h)")
    size = send.add_mutually_exclusive_group(required=True)
    size.add_argument("--multiplier", type=float, help="push size relative to a full push (0-1]")
    size.add_argument("--target-rps", type=float, help="or the expected peak requests/second")
    send.add_argument(
        "--service",
        action="append",
        default=[],
        help="namespace/name or name of a labelled HPA (repeat); default: all labelled",
    )
    send.add_argument("--requested-by", help="who sends it (for the audit log line)")
    send.add_argument("--dry-run", action="store_true", help="print the plan, publish nothing")
    send.add_argument(
        "--hpas",
        type=Path,
        help="with --dry-run: a preview build directory or a kubectl HPA list (JSON/YAML)",
    )
    send.add_argument(
        "--replicas",
        action="append",
        default=[],
        help="with --dry-run: current replicas, ns/name=N (repeat)",
    )
    send.add_argument("--endpoint-url", help="SNS endpoint override (tests, LocalStack)")


def run(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    try:
        contract = _contract(args.contract)
        event = build_event(args, now)
        problems = schema_errors(event)
        if problems:
            raise BadInputError("the event breaks the schema:\n" + "\n".join(problems))
        try:
            parsed = events.parse_push_event(
                event,
                now=now,
                max_lead_seconds=86400,
                full_push_rps=args.target_rps,  # the cluster's rate is unknown here: just check
            )
        except events.EventRejectedError as rejected:
            raise BadInputError("\n".join(f"  - {p}" for p in rejected.problems)) from None
        if args.dry_run:
            if args.target_rps is not None:
                raise BadInputError(
                    "--dry-run with --target-rps: the multiplier depends on the cluster's "
                    "fullPushRequestsPerSecond; plan with --multiplier instead"
                )
            print(json.dumps(event, indent=2, sort_keys=True))
            print(render_plan(parsed, _load_hpas(args.hpas), _replicas(args.replicas), now))
            return EXIT_OK
        topic = str(contract.get("prescaleTopicArn") or "")
        if not topic:
            raise BadInputError(
                f"{args.contract}: prescaleTopicArn is empty or missing: the cluster runs no "
                "pre-scaler (platform:preScaler.enabled) or the contract predates it"
            )
    except BadInputError as err:
        print(f"eksplatform prescale send: {err}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return publish(topic, str(contract.get("region") or ""), event, args.endpoint_url)


def publish(topic: str, region: str, event: dict[str, Any], endpoint_url: str | None) -> int:
    import boto3
    import botocore.exceptions

    client = boto3.client("sns", region_name=region or None, endpoint_url=endpoint_url)
    try:
        answer = client.publish(TopicArn=topic, Message=json.dumps(event, sort_keys=True))
    except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as err:
        print(f"eksplatform prescale send: publishing to {topic} failed: {err}", file=sys.stderr)
        return EXIT_FAILED
    print(f"published pre-scale event {event['pushId']} to {topic}: {answer['MessageId']}")
    return EXIT_OK


# --- the event ----------------------------------------------------------------------------------


def parse_duration(text: str, what: str) -> int:
    """``90s``, ``10m``, ``1h30m`` in seconds."""
    m = _DURATION.fullmatch(text.strip())
    if not text.strip() or m is None or not any(m.groups()):
        raise BadInputError(f"{what}: got {text!r}: write a duration like 90s, 10m or 1h30m")
    hours, minutes, seconds = (int(g or 0) for g in m.groups())
    return hours * 3600 + minutes * 60 + seconds


def build_event(args: argparse.Namespace, now: datetime) -> dict[str, Any]:
    if args.send_time is not None:
        send_time = args.send_time
    else:
        moment = now + timedelta(seconds=parse_duration(args.send_in, "--send-in"))
        send_time = moment.strftime("%Y-%m-%dT%H:%M:%SZ")
    event: dict[str, Any] = {
        "schemaVersion": events.SCHEMA_VERSION,
        "pushId": args.push_id,
        "sendTime": send_time,
        "durationSeconds": parse_duration(args.duration, "--duration"),
        "services": list(args.service) if args.service else "all",
    }
    if args.multiplier is not None:
        event["multiplier"] = args.multiplier
    else:
        event["targetRate"] = {"requestsPerSecond": args.target_rps}
    if args.requested_by:
        event["requestedBy"] = args.requested_by
    return event


def schema() -> dict[str, Any]:
    text = resources.files(events.__package__ or "").joinpath(events.SCHEMA_FILE).read_text()
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def schema_errors(event: Any) -> list[str]:
    """Every way ``event`` breaks the JSON Schema, as ``  - path: message`` lines."""
    validator = jsonschema.Draft202012Validator(schema())
    found = sorted(validator.iter_errors(event), key=lambda e: list(map(str, e.absolute_path)))
    return [f"  - {e.json_path.removeprefix('$.') or 'event'}: {e.message}" for e in found]


# --- dry run ------------------------------------------------------------------------------------


def _contract(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise BadInputError(f"--contract {path}: not a readable JSON file: {err}") from None
    if not isinstance(loaded, dict):
        raise BadInputError(f"--contract {path}: expected the stack outputs as a JSON object")
    return loaded


def _replicas(pairs: Sequence[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or "/" not in key or not value.isdigit():
            raise BadInputError(f"--replicas: got {pair!r}: write namespace/name=N")
        found[key] = int(value)
    return found


def _load_hpas(path: Path | None) -> list[dict[str, Any]]:
    if path is None:
        raise BadInputError(
            "--dry-run needs --hpas: a preview build directory (make preview) or a saved "
            "`kubectl get hpa -A -l eksplatform.io/prescale=true -o json`"
        )
    if path.is_dir():
        found = []
        for file in sorted(path.rglob("HorizontalPodAutoscaler/*.yaml")):
            found.append(yaml.safe_load(file.read_text()))
        return [h for h in found if _labelled(h)]
    try:
        loaded = yaml.safe_load(path.read_text())  # JSON is YAML
    except (OSError, yaml.YAMLError) as err:
        raise BadInputError(f"--hpas {path}: not readable: {err}") from None
    items = loaded.get("items", [loaded]) if isinstance(loaded, dict) else None
    if not isinstance(items, list):
        raise BadInputError(f"--hpas {path}: expected an HPA or a list of HPAs")
    return [h for h in items if isinstance(h, dict) and _labelled(h)]


def _labelled(hpa: dict[str, Any]) -> bool:
    labels = hpa.get("metadata", {}).get("labels") or {}
    return bool(labels.get(plan.PRESCALE_LABEL) == "true")


def render_plan(
    event: events.PushEvent,
    hpa_objects: Sequence[dict[str, Any]],
    replicas: dict[str, int],
    now: datetime,
) -> str:
    """The plan per HPA, as the Lambda would compute it, as a table."""
    hpas = [plan.Hpa.from_json(h) for h in hpa_objects]
    unknown_replicas = sorted(set(replicas) - {h.key for h in hpas})
    if unknown_replicas:
        raise BadInputError(
            f"--replicas names {', '.join(unknown_replicas)}, which no labelled HPA in --hpas is"
        )
    chosen, unknown = plan.select(hpas, event.services)
    if unknown:
        raise BadInputError("\n".join(f"  - {k}: {v}" for k, v in unknown.items()))
    rows = [("HPA", "current", "factor", "floor", "max", "added pods", "note")]
    added_cpu = added_memory = 0
    for hpa in chosen:
        current = replicas.get(hpa.key, hpa.current_replicas or hpa.min_replicas)
        live = plan.Hpa(**{**hpa.__dict__, "current_replicas": current})
        try:
            change = plan.plan_raise(
                live,
                push_id=event.push_id,
                until=event.until,
                multiplier=event.multiplier,
                now=now,
            )
            factor = str(live.factor())
        except ValueError as err:
            raise BadInputError(f"{hpa.key}: {err}") from None
        added = max(0, change.min_replicas[1] - current)
        requests = live.pod_requests()
        if requests:
            added_cpu += added * requests[0]
            added_memory += added * requests[1]
        rows.append(
            (
                hpa.key,
                str(current),
                factor,
                str(change.min_replicas[1]),
                str(live.max_replicas),
                str(added),
                change.note,
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append(
        f"pre-scale {event.push_id}: multiplier {float(event.multiplier):g}, window until "
        f"{event.until:%Y-%m-%dT%H:%M:%SZ}; the added pods request {added_cpu}m CPU and "
        f"{added_memory / 2**30:.1f}Gi memory (the headroom grows by that share times "
        "platform:preScaler.headroomRatio)"
    )
    return "\n".join(lines)
