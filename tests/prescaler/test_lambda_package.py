"""The function's archive as Lambda runs it: only the standard library, boto3/botocore and the
package itself are imported, and the real entry point (``prescaler_lambda.handler.handler``)
works from an unpacked archive, in a fresh interpreter without the rest of eksplatform on its
path, with credentials and a Scheduler endpoint from the environment (as in Lambda) against the
fake API server and Scheduler on 127.0.0.1."""

from __future__ import annotations

import ast
import base64
import json
import os
import subprocess
import sys
import urllib.parse
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pulumi
from eksplatform.cluster.prescaler import HANDLER, LAMBDA_FILES, lambda_archive

from tests.prescaler.conftest import DLQ_ARN, SCHEDULER_ROLE, iso, sns
from tests.prescaler.fakes import FakeCluster, FakeScheduler, serve

ALLOWED_TOP_LEVEL = {"boto3", "botocore"}


def _unpack(tmp: Path) -> Path:
    archive = lambda_archive()
    for name, asset in archive.assets.items():
        assert isinstance(asset, pulumi.StringAsset)
        target = tmp / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(asset.text)
    return tmp


def test_archive_holds_the_package_and_imports_nothing_else(tmp_path: Path) -> None:
    root = _unpack(tmp_path)
    package = root / "prescaler_lambda"
    assert sorted(p.name for p in package.iterdir()) == sorted(LAMBDA_FILES)
    assert HANDLER == "prescaler_lambda.handler.handler"
    for source in package.glob("*.py"):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in sys.stdlib_module_names or top in ALLOWED_TOP_LEVEL, (source, name)


DRIVER = """
import json, sys
sys.path = [sys.argv[1]] + [p for p in sys.path if "components" not in p]
import prescaler_lambda.handler as entry

class Context:
    invoked_function_arn = "arn:aws:lambda:eu-west-1:123456789012:function:eks-test-prescaler"
    def get_remaining_time_in_millis(self):
        return 20000

event = json.loads(sys.stdin.read())
result = entry.handler(event, Context())
leaked = sorted(m for m in sys.modules if m.startswith("eksplatform"))
print(json.dumps({"result": result, "leaked": leaked}))
"""


def test_the_entry_point_runs_from_the_archive(tmp_path: Path) -> None:
    root = _unpack(tmp_path / "code")
    cluster, scheduler = FakeCluster(), FakeScheduler()
    cluster.add_deployment("overprovisioning", "headroom", replicas=2)
    cluster.add_service("news", "feed", min_replicas=4, max_replicas=100, factor=10, baseline=4)
    now = datetime.now(UTC).replace(microsecond=0)
    event = {
        "schemaVersion": 1,
        "pushId": "archive-test",
        "sendTime": iso(now + timedelta(minutes=10)),
        "durationSeconds": 900,
        "multiplier": 0.5,
        "services": ["news/feed"],
    }
    with serve(cluster) as kube_url, serve(scheduler) as scheduler_url:
        env = {
            "PATH": os.environ.get("PATH", ""),
            "AWS_REGION": "eu-west-1",
            "AWS_ACCESS_KEY_ID": "AKIDTESTONLY",
            "AWS_SECRET_ACCESS_KEY": "not-a-secret",
            "AWS_SESSION_TOKEN": "session",
            "AWS_ENDPOINT_URL_SCHEDULER": scheduler_url,
            "PRESCALER_CLUSTER_NAME": "eks-test",
            "PRESCALER_CLUSTER_ENDPOINT": kube_url,
            "PRESCALER_CLUSTER_CA": "",
            "PRESCALER_SCHEDULE_GROUP": "eks-test-prescaler",
            "PRESCALER_SCHEDULER_ROLE_ARN": SCHEDULER_ROLE,
            "PRESCALER_DEAD_LETTER_ARN": DLQ_ARN,
            "PRESCALER_MAX_LEAD_SECONDS": "86400",
            "PRESCALER_BUDGET_MARGIN_SECONDS": "5",
            "PRESCALER_HEADROOM_NAMESPACE": "overprovisioning",
            "PRESCALER_HEADROOM_DEPLOYMENT": "headroom",
            "PRESCALER_HEADROOM_BASELINE": "2",
            "PRESCALER_HEADROOM_CPU_MILLIS": "500",
            "PRESCALER_HEADROOM_MEMORY_BYTES": str(2**30),
            "PRESCALER_HEADROOM_RATIO": "1",
            "PRESCALER_HEADROOM_MAX_REPLICAS": "60",
        }
        done = subprocess.run(
            [sys.executable, "-c", DRIVER, str(root)],
            input=json.dumps(sns(event)),
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    assert done.returncode == 0, done.stderr
    *log, last = done.stdout.strip().splitlines()
    assert json.loads(last) == {"result": {"outcome": "applied", "changed": 1}, "leaked": []}
    (summary,) = [json.loads(line) for line in log]
    assert summary["changed"] == [
        {"hpa": "news/feed", "minReplicas": [4, 20], "note": "raised", "floor": 20}
    ]
    assert cluster.hpa("news/feed")["spec"]["minReplicas"] == 20
    # the API server received EKS tokens presigned with the role's (here: env) credentials
    assert cluster.tokens and len(set(cluster.tokens)) == 1  # one token per invocation
    url = base64.urlsafe_b64decode(cluster.tokens[0].removeprefix("k8s-aws-v1.") + "==").decode()
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(url).query))
    assert url.startswith("https://sts.eu-west-1.amazonaws.com/?Action=GetCallerIdentity&")
    assert query["X-Amz-SignedHeaders"] == "host;x-k8s-aws-id"
    assert query["X-Amz-Credential"].startswith("AKIDTESTONLY/")
    assert query["X-Amz-Security-Token"] == "session"
    assert sorted(scheduler.schedules) == [
        "eks-test-prescaler/check-archive-test",
        "eks-test-prescaler/restore-archive-test",
    ]
