"""The preview engine on small programs: config errors, invalid objects, secrets, references."""

from __future__ import annotations

import json
import os
from pathlib import Path

import yaml
from eksplatform.preview import cli
from eksplatform.preview.engine import (
    EXIT_INVALID_CONFIG,
    EXIT_INVALID_OBJECTS,
    EXIT_PROGRAM_FAILED,
    Workspace,
    run_preview,
    write_result,
)

from tests.conftest import REPO, make_workspace, write_program

K8S_PROGRAM = """
import pulumi
import pulumi_kubernetes as k8s

cfg = pulumi.Config()
token = cfg.require_secret("token")
replicas = cfg.require_int("replicas")
k8s.core.v1.Secret("creds", metadata={"namespace": "apps"}, string_data={"token": token})
k8s.apps.v1.Deployment(
    "web",
    metadata={"namespace": "apps", "name": "web"},
    spec={
        "replicas": replicas,
        "selector": {"match_labels": {"app": "web"}},
        "template": {
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{
                "name": "web", "image": "registry.example.com/web:1.0.0",
                "ports": [{"container_port": PORT}],
            }]},
        },
    },
)
k8s.core.v1.Namespace("apps", metadata={"name": "apps"})
pulumi.export("token", token)
"""


def _program(tmp_path: Path, port: str = "8080") -> Workspace:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "web",
        project="web",
        main=K8S_PROGRAM.replace("PORT", port),
        stacks={"dev": "config:\n  web:replicas: 2\n  web:token:\n    secure: AAABAJ0x\n"},
    )
    return ws


def test_kubernetes_objects_render_as_kubectl_takes_them(tmp_path: Path) -> None:
    ws = _program(tmp_path)
    result = run_preview(ws, "services/web", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    out = write_result(ws, result)
    manifests = out / "manifests"
    deployment = yaml.safe_load((manifests / "namespaces/apps/Deployment/web.yaml").read_text())
    assert deployment["apiVersion"] == "apps/v1" and deployment["kind"] == "Deployment"
    assert deployment["spec"]["replicas"] == 2 and isinstance(deployment["spec"]["replicas"], int)
    port = deployment["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"]
    assert port == 8080 and isinstance(port, int)
    namespace = yaml.safe_load((manifests / "cluster/Namespace/apps.yaml").read_text())
    assert "namespace" not in namespace["metadata"]
    secret_files = list((manifests / "namespaces/apps/Secret").iterdir())
    assert len(secret_files) == 1 and secret_files[0].name.startswith("creds-")  # auto-named
    secret = yaml.safe_load(secret_files[0].read_text())
    assert secret["stringData"]["token"] == "offline-secret-placeholder"


def test_secure_config_is_a_marked_placeholder_kept_secret(tmp_path: Path) -> None:
    ws = _program(tmp_path)
    result = run_preview(ws, "services/web", "dev")
    assert result.plain_outputs()["token"] == "[secret web:token: unknown offline]"
    out = write_result(ws, result)
    text = (out / "preview.json").read_text()
    assert "unknown offline" not in text
    assert json.loads(text)["outputs"]["token"] == "[secret]"
    # stack-output.json is what `pulumi stack output --json` prints: secrets as "[secret]"
    assert json.loads((out / "stack-output.json").read_text()) == {"token": "[secret]"}


def test_invalid_kubernetes_object_fails_with_its_path(tmp_path: Path) -> None:
    ws = _program(tmp_path, port='"http"')
    result = run_preview(ws, "services/web", "dev")
    assert result.exit_code == EXIT_INVALID_OBJECTS
    errors = [d for d in result.diagnostics if d.severity == "error"]
    assert [e.message for e in errors] == [
        "Deployment apps/web (apps/v1) is invalid for Kubernetes 1.31: "
        "spec.template.spec.containers[0].ports[0].containerPort: expected integer, "
        'got string "http"'
    ]
    assert errors[0].urn.endswith("kubernetes:apps/v1:Deployment::web")


def test_bad_stack_file_exits_2_and_registers_nothing(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    stack = tmp_path / "ws" / "Pulumi.prod.yaml"
    stack.write_text(
        "config:\n"
        "  aws:region: eu-west-1\n"
        "  platform:kubernetesVersion: '1.27'\n"
        "  platform:colour: blue\n"
        "  platform:network:\n"
        "    cidr: 10.0.0.0/8\n"
        "    azCount: 0\n"
        "    natGateways: 3\n"
    )
    result = run_preview(ws, "cluster", "prod")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.resources == []
    assert [d.message for d in result.diagnostics] == [
        "Pulumi.prod.yaml: invalid stack configuration: 5 problems:\n"
        "  - platform:kubernetesVersion: got '1.27': must be 1.29 or newer: the Envoy sidecar "
        "runs as a native sidecar, on by default only from 1.29\n"
        "  - platform:network.cidr: got '10.0.0.0/8': the VPC must be a /16 to /20 (AWS allows "
        "/16 at most; pods need room)\n"
        "  - platform:network.azCount: got 0: must be 1 to 6 (3 is the production norm)\n"
        "  - platform:network.natGateways: got 3: Input should be 'perAz' or 'single'\n"
        "  - platform:colour: got 'blue': unknown key; allowed keys here: aws:allowedAccountIds, "
        "aws:region, platform:autoscaler, platform:clusterName, platform:controlPlane, "
        "platform:costCentre, platform:datadog, platform:datadogApiKey, platform:datadogAppKey, "
        "platform:descheduler, platform:eksAddons, platform:environment, "
        "platform:headroom, platform:interruptionHandler, platform:kubernetesVersion, "
        "platform:logging, platform:network, platform:nodeAccess, platform:nodePools, "
        "platform:ownerTeam, platform:papertrailToken, platform:preScaler, "
        "platform:servicePlatform, platform:tags, platform:teams, platform:vpa"
    ]
    out = write_result(ws, result)
    assert json.loads((out / "preview.json").read_text())["steps"] == []
    assert not (out / "stack-output.json").exists()


def test_program_exception_is_reported_without_pulumi_internals(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "boom",
        project="boom",
        main="import pulumi\nraise KeyError('nope')\n",
        stacks={"dev": "config: {}\n"},
    )
    result = run_preview(ws, "services/boom", "dev")
    assert result.exit_code == EXIT_PROGRAM_FAILED
    message = result.diagnostics[-1].message
    assert message.startswith("program failed: KeyError: 'nope'")
    assert "site-packages" not in message


STAGING_CONFIG = "config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ['111111111111']\n"
"""A service stack beside the staging cluster: its region and account."""

SERVICE_PROGRAM = """
import pulumi
from eksplatform.service import ClusterOutputs

cluster = ClusterOutputs.from_stack_reference(f"organization/eks-platform/{pulumi.get_stack()}")
pulumi.export("seenCluster", cluster.cluster_name)
pulumi.export("seenSubnets", cluster.private_subnet_ids)
pulumi.export("seenKubeconfig", cluster.kubeconfig)
"""


def test_stack_reference_is_answered_from_the_cluster_preview(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=SERVICE_PROGRAM,
        stacks={"staging": STAGING_CONFIG},
    )
    # the cluster stack has no preview yet: the engine synthesizes it first
    contract = ws.out_dir("cluster", "staging") / "stack-output.json"
    assert not contract.exists()
    result = run_preview(ws, "services/svc", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    cluster = json.loads(contract.read_text())
    seen = result.plain_outputs()
    assert seen["seenCluster"] == "eks-staging"
    assert seen["seenSubnets"] == cluster["privateSubnetIds"]
    # secrets cross as `pulumi stack output --json` prints them, and stay secret
    assert cluster["kubeconfig"] == "[secret]"
    assert result.outputs["seenKubeconfig"]["value"] == "[secret]"
    assert write_result(ws, result).joinpath("preview.json").read_text().count("[secret]") >= 1
    assert result.kubernetes_version == "1.31"  # learned from the cluster contract


def test_a_stale_cluster_preview_is_previewed_again(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=SERVICE_PROGRAM,
        stacks={"staging": STAGING_CONFIG},
    )
    outputs = ws.out_dir("cluster", "staging") / "stack-output.json"
    assert run_preview(ws, "services/svc", "staging").ok
    first = outputs.stat().st_mtime_ns
    # unchanged sources: the contract is reused as it is
    assert run_preview(ws, "services/svc", "staging").ok
    assert outputs.stat().st_mtime_ns == first
    # the cluster's stack file changes after the preview: the contract is rebuilt first
    stack_file = ws.root / "Pulumi.staging.yaml"
    stack_file.write_text(stack_file.read_text().replace("10.20.0.0/16", "10.30.0.0/16"))
    os.utime(stack_file, ns=(first + 10**9, first + 10**9))
    assert run_preview(ws, "services/svc", "staging").ok
    assert outputs.stat().st_mtime_ns > first
    assert json.loads(outputs.read_text())["vpcCidr"] == "10.30.0.0/16"


def test_cli_exit_codes_and_summary(tmp_path: Path, capsys: object) -> None:
    ws = _program(tmp_path)
    code = cli.main(["--root", str(ws.root), "--program", "services/web"])
    out = capsys.readouterr().out  # type: ignore[attr-defined]
    assert code == 0
    assert "== services/web (dev)" in out and "Kubernetes objects: 3 rendered, 0 invalid" in out
    assert "token: [secret]" in out
    assert cli.main(["--root", str(ws.root), "--program", "services/nope"]) == EXIT_INVALID_CONFIG
    assert (
        cli.main(
            [
                "--root",
                str(REPO),
                "--program",
                "cluster",
                "--stack",
                "qa",
                "--build-dir",
                str(tmp_path / "b"),
            ]
        )
        == EXIT_INVALID_CONFIG
    )


EKS_PROGRAM = """
import pulumi
import pulumi_eks as eks

cluster = eks.Cluster("c", name="demo", version="1.31", vpc_id="vpc-1",
                      private_subnet_ids=["subnet-1"], skip_default_node_group=True,
                      create_oidc_provider=True, authentication_mode=eks.AuthenticationMode.API)
pulumi.export("oidcArn", cluster.core.apply(lambda c: c.oidc_provider.arn))
pulumi.export("sgId", cluster.core.apply(lambda c: c.cluster_security_group.id))
pulumi.export("eksArn", cluster.eks_cluster.apply(lambda c: c.arn))
pulumi.export("providerUrn", cluster.core.apply(lambda c: c.provider.urn))
pulumi.export("issuer", cluster.oidc_provider_url)
"""


def test_pulumi_eks_cluster_resource_outputs_are_real_references(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "eks",
        project="eksdemo",
        main=EKS_PROGRAM,
        stacks={
            "dev": "config:\n  aws:region: us-west-2\n  aws:allowedAccountIds: ['333333333333']\n"
        },
    )
    result = run_preview(ws, "services/eks", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    out = result.plain_outputs()
    assert out["oidcArn"] == ("arn:aws:iam::333333333333:oidc-provider/" + out["issuer"])
    assert out["issuer"].startswith("oidc.eks.us-west-2.amazonaws.com/id/")
    assert out["eksArn"] == "arn:aws:eks:us-west-2:333333333333:cluster/demo"
    assert out["sgId"] == result.by_type("aws:ec2/securityGroup:SecurityGroup")[0].id
    assert out["providerUrn"].endswith("eks:index:Cluster$pulumi:providers:kubernetes::c-eks-k8s")


def test_component_method_calls_are_answered(tmp_path: Path) -> None:
    program = EKS_PROGRAM + 'pulumi.export("kc", cluster.get_kubeconfig())\n'
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "eks",
        project="eksdemo",
        main=program,
        stacks={"dev": "config:\n  aws:region: us-west-2\n"},
    )
    result = run_preview(ws, "services/eks", "dev")
    assert result.ok, [d.message for d in result.diagnostics]
    kubeconfig = json.loads(result.plain_outputs()["kc"])
    assert kubeconfig["clusters"][0]["name"] == "demo"
    assert kubeconfig["users"][0]["user"]["exec"]["args"][-3] == "demo"


def test_contract_version_mismatch_is_a_clear_error(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    fake_cluster = "import pulumi\npulumi.export('contractVersion', 99)\n" + "".join(
        f"pulumi.export({n!r}, 'x')\n" for n in ("clusterName", "kubeconfig")
    )
    write_program(
        tmp_path / "ws" / "services" / "fake",
        project="eks-platform",
        main=fake_cluster,
        stacks={"staging": "config: {}\n"},
    )
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=SERVICE_PROGRAM,
        stacks={"staging": STAGING_CONFIG},
    )
    result = run_preview(ws, "services/svc", "staging")
    assert result.exit_code == EXIT_PROGRAM_FAILED
    assert result.diagnostics[-1].message == (
        "the cluster stack exports contract version 99, this library expects 1: upgrade eksplatform"
    )


KNOWN_CONTRACT_PROGRAM = """
import pulumi
from eksplatform.core.contract import known_contract

contract = known_contract(f"organization/eks-platform/{pulumi.get_stack()}")
pulumi.export("knownBeforeRegistration", contract["clusterName"])
"""


def test_the_contract_is_known_before_the_program_registers_anything(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws")
    write_program(
        tmp_path / "ws" / "services" / "svc",
        project="svc",
        main=KNOWN_CONTRACT_PROGRAM,
        stacks={"staging": STAGING_CONFIG},
    )
    result = run_preview(ws, "services/svc", "staging")
    assert result.ok, [d.message for d in result.diagnostics]
    assert result.plain_outputs()["knownBeforeRegistration"] == "eks-staging"
    assert result.resources == []
    # outside a preview run nothing is known: `pulumi up` reads the reference while it runs
    from eksplatform.core.contract import known_contract

    assert known_contract("organization/eks-platform/staging") is None


VALIDATES_LATE_PROGRAM = """
import pulumi
import pulumi_aws as aws
from eksplatform.core.errors import Problems

aws.sqs.Queue("early")
problems = Problems()
problems.add("name", "x", "too late")
problems.raise_if_any("Late")
"""


def test_registrations_before_a_validation_error_are_reported(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path / "ws", with_cluster=False)
    write_program(
        tmp_path / "ws" / "services" / "late",
        project="late",
        main=VALIDATES_LATE_PROGRAM,
        stacks={"dev": "config:\n  aws:region: eu-west-1\n"},
    )
    result = run_preview(ws, "services/late", "dev")
    assert result.exit_code == EXIT_INVALID_CONFIG
    assert result.registered_before_error == [
        "urn:pulumi:dev::late::pulumi:pulumi:Stack$aws:sqs/queue:Queue::early"
    ]
    assert result.resources == []
    errors = [d.message for d in result.diagnostics if d.severity == "error"]
    assert errors[-1] == (
        "1 resource was registered before the validation error (under `pulumi up` they "
        "would already be on their way to AWS): "
        "urn:pulumi:dev::late::pulumi:pulumi:Stack$aws:sqs/queue:Queue::early; "
        "validate before registering anything"
    )
