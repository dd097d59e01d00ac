"""Tests for eksplatform.preview.kube_schema (bundled Kubernetes OpenAPI schema validation)."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from eksplatform.preview.kube_schema import (
    KubeSchemaValidator,
    SchemaError,
    UnsupportedKubernetesVersionError,
)

VERSIONS = [v for v in ("1.31", "1.29") if v in KubeSchemaValidator.supported_versions()]
CONTAINER = "spec.template.spec.containers"


def _probe(path: str) -> dict[str, Any]:
    return {
        "httpGet": {"path": path, "port": "http"},
        "initialDelaySeconds": 5,
        "periodSeconds": 10,
        "failureThreshold": 3,
    }


def _container(name: str, port: int) -> dict[str, Any]:
    return {
        "name": name,
        "image": f"123456789012.dkr.ecr.eu-west-1.amazonaws.com/{name}:1.2.3",
        "imagePullPolicy": "IfNotPresent",
        "args": ["--port", str(port)],
        "ports": [{"name": "http", "containerPort": port, "protocol": "TCP"}],
        "env": [
            {"name": "LOG_LEVEL", "value": "info"},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {
            "requests": {"cpu": "100m", "memory": "128Mi"},
            "limits": {"cpu": 1, "memory": "256Mi"},
        },
        "livenessProbe": _probe("/healthz"),
        "readinessProbe": _probe("/ready"),
        "startupProbe": {"tcpSocket": {"port": port}, "periodSeconds": 2, "failureThreshold": 30},
        "securityContext": {
            "runAsNonRoot": True,
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],
    }


def deployment() -> dict[str, Any]:
    """A realistic Deployment: 2 containers + a native sidecar (initContainer, restartPolicy Always)."""
    sidecar = _container("envoy", 9901)
    sidecar["restartPolicy"] = "Always"
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": "orders",
            "namespace": "shop",
            "labels": {"app.kubernetes.io/name": "orders", "app.kubernetes.io/part-of": "shop"},
            "annotations": {"pulumi.com/skipAwait": "false"},
        },
        "spec": {
            "replicas": 3,
            "revisionHistoryLimit": 5,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": 0},
            },
            "template": {
                "metadata": {"labels": {"app.kubernetes.io/name": "orders"}},
                "spec": {
                    "serviceAccountName": "orders",
                    "terminationGracePeriodSeconds": 30,
                    "securityContext": {
                        "runAsUser": 10001,
                        "fsGroup": 10001,
                        "seccompProfile": {"type": "RuntimeDefault"},
                    },
                    "topologySpreadConstraints": [
                        {
                            "maxSkew": 1,
                            "topologyKey": "topology.kubernetes.io/zone",
                            "whenUnsatisfiable": "ScheduleAnyway",
                            "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "orders"}},
                        }
                    ],
                    "initContainers": [sidecar],
                    "containers": [_container("app", 8080), _container("worker", 8081)],
                    "volumes": [{"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}}],
                },
            },
        },
    }


def _valid_objects() -> dict[str, dict[str, Any]]:
    labels = {"app.kubernetes.io/name": "orders"}
    pod_spec = {
        "restartPolicy": "OnFailure",
        "containers": [{"name": "job", "image": "busybox:1.36", "command": ["true"]}],
    }
    return {
        "Deployment": deployment(),
        "Service": {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {
                "type": "NodePort",
                "selector": labels,
                "ports": [
                    {"name": "http", "port": 80, "targetPort": "http", "nodePort": 30080},
                    {"name": "admin", "port": 9901, "targetPort": 9901, "protocol": "TCP"},
                ],
            },
        },
        "ConfigMap": {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "orders-config", "namespace": "shop"},
            "data": {"envoy.yaml": "static_resources: {}\n", "LOG_LEVEL": "info"},
        },
        "HorizontalPodAutoscaler": {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {
                "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "orders"},
                "minReplicas": 3,
                "maxReplicas": 12,
                "metrics": [
                    {
                        "type": "Resource",
                        "resource": {
                            "name": "cpu",
                            "target": {"type": "Utilization", "averageUtilization": 70},
                        },
                    }
                ],
                "behavior": {
                    "scaleDown": {
                        "stabilizationWindowSeconds": 300,
                        "policies": [{"type": "Pods", "value": 1, "periodSeconds": 60}],
                    }
                },
            },
        },
        "PodDisruptionBudget": {
            "apiVersion": "policy/v1",
            "kind": "PodDisruptionBudget",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {"minAvailable": "50%", "selector": {"matchLabels": labels}},
        },
        "CronJob": {
            "apiVersion": "batch/v1",
            "kind": "CronJob",
            "metadata": {"name": "cleanup", "namespace": "shop"},
            "spec": {
                "schedule": "*/15 * * * *",
                "concurrencyPolicy": "Forbid",
                "successfulJobsHistoryLimit": 1,
                "jobTemplate": {
                    "spec": {"backoffLimit": 2, "template": {"spec": pod_spec}},
                },
            },
        },
        "DaemonSet": {
            "apiVersion": "apps/v1",
            "kind": "DaemonSet",
            "metadata": {"name": "node-agent", "namespace": "kube-system"},
            "spec": {
                "selector": {"matchLabels": {"app": "node-agent"}},
                "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
                "template": {
                    "metadata": {"labels": {"app": "node-agent"}},
                    "spec": {
                        "hostNetwork": True,
                        "tolerations": [{"operator": "Exists"}],
                        "containers": [{"name": "agent", "image": "agent:1"}],
                    },
                },
            },
        },
        "ServiceAccount": {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": {
                "name": "orders",
                "namespace": "shop",
                "annotations": {
                    "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/orders"
                },
            },
            "automountServiceAccountToken": False,
        },
        "ClusterRole": {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": {"name": "pod-reader"},
            "rules": [
                {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
            ],
        },
        "NetworkPolicy": {
            "apiVersion": "networking.k8s.io/v1",
            "kind": "NetworkPolicy",
            "metadata": {"name": "orders", "namespace": "shop"},
            "spec": {
                "podSelector": {"matchLabels": labels},
                "policyTypes": ["Ingress"],
                "ingress": [
                    {
                        "from": [{"namespaceSelector": {"matchLabels": {"team": "shop"}}}],
                        "ports": [{"protocol": "TCP", "port": "http"}, {"port": 9901}],
                    }
                ],
            },
        },
        "Namespace": {
            "apiVersion": "v1",
            "kind": "Namespace",
            "metadata": {
                "name": "shop",
                "labels": {"pod-security.kubernetes.io/enforce": "restricted"},
            },
        },
    }


@pytest.fixture(scope="module")
def v131() -> KubeSchemaValidator:
    return KubeSchemaValidator.for_version("1.31")


# ------------------------------------------------------------------------------ valid objects


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("kind", sorted(_valid_objects()))
def test_valid_objects_pass(version: str, kind: str) -> None:
    validator = KubeSchemaValidator.for_version(version)
    obj = _valid_objects()[kind]
    assert validator.has_schema(obj["apiVersion"], obj["kind"])
    assert validator.validate(obj) == []


def test_both_versions_are_bundled() -> None:
    assert VERSIONS == ["1.31", "1.29"]


def test_validate_does_not_mutate_the_object(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    before = copy.deepcopy(obj)
    v131.validate(obj)
    assert obj == before


# ------------------------------------------------------------------------------------- errors


def test_string_where_integer_required(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    assert v131.validate(obj) == [
        SchemaError(f"{CONTAINER}[0].ports[0].containerPort", 'expected integer, got string "http"')
    ]


def test_unknown_field_typo_is_rejected_in_strict_mode(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["replica"] = 3
    [error] = v131.validate(obj)
    assert error.path == "spec.replica"
    assert "unknown field 'replica'" in error.message
    assert "DeploymentSpec" in error.message
    assert "did you mean 'replicas'?" in error.message


def test_unknown_field_in_metadata_and_top_level(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["metadata"]["label"] = {"a": "b"}
    obj["specs"] = {}
    errors = v131.validate(obj)
    assert [e.path for e in errors] == ["metadata.label", "specs"]
    assert errors[0].message == "unknown field 'label' (ObjectMeta); did you mean 'labels'?"
    assert "did you mean 'spec'?" in errors[1].message


def test_non_strict_flavour_accepts_unknown_fields() -> None:
    lax = KubeSchemaValidator.for_version("1.31", strict=False)
    obj = deployment()
    obj["spec"]["replica"] = 3
    assert lax.validate(obj) == []
    obj["spec"]["replicas"] = "three"
    assert lax.validate(obj) == [
        SchemaError("spec.replicas", 'expected integer, got string "three"')
    ]


def test_missing_required_field(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    del obj["spec"]["template"]["spec"]["containers"][1]["name"]
    assert v131.validate(obj) == [
        SchemaError(f"{CONTAINER}[1].name", "required field is missing (Container)")
    ]


def test_missing_required_top_level_spec_fields(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    del obj["spec"]["selector"]
    del obj["spec"]["template"]
    assert v131.validate(obj) == [
        SchemaError("spec.selector", "required field is missing (DeploymentSpec)"),
        SchemaError("spec.template", "required field is missing (DeploymentSpec)"),
    ]


def test_two_errors_in_one_object_are_both_reported_sorted(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "http"
    obj["spec"]["replica"] = 3
    errors = v131.validate(obj)
    assert [e.path for e in errors] == [
        "spec.replica",
        f"{CONTAINER}[0].ports[0].containerPort",
    ]
    assert errors == sorted(errors)


def test_many_errors_across_containers(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    spec = obj["spec"]["template"]["spec"]
    spec["initContainers"][0]["restartPolicy"] = 1
    spec["containers"][0]["resources"]["limits"]["memory"] = ["256Mi"]
    spec["containers"][1]["livenessProbe"]["periodSeconds"] = "10s"
    spec["containers"][1]["securityContext"]["runAsNonroot"] = True
    assert v131.validate(obj) == [
        SchemaError(
            f"{CONTAINER}[0].resources.limits.memory",
            "expected string or number (Quantity), got an array",
        ),
        SchemaError(
            f"{CONTAINER}[1].livenessProbe.periodSeconds", 'expected integer, got string "10s"'
        ),
        SchemaError(
            f"{CONTAINER}[1].securityContext.runAsNonroot",
            "unknown field 'runAsNonroot' (SecurityContext); did you mean 'runAsNonRoot'?",
        ),
        SchemaError(
            "spec.template.spec.initContainers[0].restartPolicy", "expected string, got integer 1"
        ),
    ]


def test_map_keys_with_dots_are_quoted_in_paths(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["metadata"]["labels"]["app.kubernetes.io/version"] = 2
    assert v131.validate(obj) == [
        SchemaError(
            'metadata.labels["app.kubernetes.io/version"]', "expected string, got integer 2"
        )
    ]


# ---------------------------------------------------------------------- int-or-string, nulls


@pytest.mark.parametrize("value", ["25%", 1, 0, None])
def test_int_or_string_accepts_int_string_and_null(v131: KubeSchemaValidator, value: Any) -> None:
    obj = deployment()
    obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = value
    assert v131.validate(obj) == []


@pytest.mark.parametrize(
    ("value", "got"), [(1.5, "number 1.5"), (True, "boolean true"), ({}, "an object")]
)
def test_int_or_string_rejects_other_types_with_one_clear_error(
    v131: KubeSchemaValidator, value: Any, got: str
) -> None:
    obj = deployment()
    obj["spec"]["strategy"]["rollingUpdate"]["maxSurge"] = value
    assert v131.validate(obj) == [
        SchemaError(
            "spec.strategy.rollingUpdate.maxSurge",
            f"expected string or integer (IntOrString), got {got}",
        )
    ]


@pytest.mark.parametrize("value", ["500m", 1, 0.5, "1Gi"])
def test_quantity_accepts_strings_and_numbers(v131: KubeSchemaValidator, value: Any) -> None:
    obj = deployment()
    obj["spec"]["template"]["spec"]["containers"][0]["resources"]["requests"]["cpu"] = value
    assert v131.validate(obj) == []


def test_optional_fields_accept_null_required_ones_do_not(v131: KubeSchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["replicas"] = None
    obj["metadata"]["annotations"] = None
    assert v131.validate(obj) == []
    obj["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = None
    assert v131.validate(obj) == [
        SchemaError(f"{CONTAINER}[0].ports[0].containerPort", "expected integer, got null")
    ]


# ------------------------------------------------------------------- enum-ish values, kinds


def test_wrong_kind_case_in_builtin_group_is_an_error(v131: KubeSchemaValidator) -> None:
    # apiVersion and kind are the only enums the bundled schemas carry.
    obj = deployment()
    obj["kind"] = "deployment"
    assert not v131.has_schema("apps/v1", "deployment")
    assert v131.validate(obj) == [
        SchemaError(
            "kind",
            "apps/v1 has no kind 'deployment' in Kubernetes 1.31; did you mean 'Deployment'?",
        )
    ]


def test_kind_in_wrong_builtin_group_names_the_right_one(v131: KubeSchemaValidator) -> None:
    obj = _valid_objects()["Service"]
    obj["apiVersion"] = "apps/v1"
    [error] = v131.validate(obj)
    assert error.path == "kind"
    assert "Service is served by v1" in error.message


def test_removed_builtin_api_version_is_an_error_not_a_custom_resource(
    v131: KubeSchemaValidator,
) -> None:
    obj = _valid_objects()["PodDisruptionBudget"]
    obj["apiVersion"] = "policy/v1beta1"
    assert not v131.has_schema("policy/v1beta1", "PodDisruptionBudget")
    [error] = v131.validate(obj)
    assert error.path == "apiVersion"
    assert "'policy/v1beta1' is not served by Kubernetes 1.31" in error.message
    assert "PodDisruptionBudget is served by policy/v1" in error.message


def test_known_limitation_schema_has_no_enums_for_string_fields(
    v131: KubeSchemaValidator,
) -> None:
    """The bundled schemas carry enums only for apiVersion/kind: ``type: NodePorts`` passes.

    Pinned so that a kubernetes-validate upgrade that adds enums is noticed (then assert the error).
    """
    obj = _valid_objects()["Service"]
    obj["spec"]["type"] = "NodePorts"
    obj["spec"]["ports"][0]["protocol"] = "tcp"
    assert v131.validate(obj) == []


# ---------------------------------------------------------------------------- custom resources


@pytest.mark.parametrize(
    ("api_version", "kind"),
    [
        ("autoscaling.k8s.io/v1", "VerticalPodAutoscaler"),
        ("karpenter.sh/v1", "NodePool"),
        ("karpenter.k8s.aws/v1", "EC2NodeClass"),
    ],
)
def test_custom_resources_are_not_errors(
    v131: KubeSchemaValidator, api_version: str, kind: str
) -> None:
    obj = {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": "x"},
        "spec": {"anything": ["goes", 1]},
    }
    assert v131.validate(obj) == []
    assert v131.has_schema(api_version, kind) is False


def test_has_schema_for_builtin_kinds(v131: KubeSchemaValidator) -> None:
    assert v131.has_schema("apps/v1", "Deployment")
    assert v131.has_schema("v1", "Service")
    assert v131.has_schema("autoscaling/v2", "HorizontalPodAutoscaler")
    assert not v131.has_schema("autoscaling.k8s.io/v1", "HorizontalPodAutoscaler")


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (
            {"kind": "Deployment"},
            [SchemaError("apiVersion", "required field is missing")],
        ),
        (
            {"apiVersion": "apps/v1"},
            [SchemaError("kind", "required field is missing")],
        ),
        (
            {"apiVersion": "", "kind": 3},
            [
                SchemaError("apiVersion", 'expected a non-empty string, got string ""'),
                SchemaError("kind", "expected a non-empty string, got integer 3"),
            ],
        ),
    ],
)
def test_missing_or_bad_api_version_and_kind(
    v131: KubeSchemaValidator, obj: dict[str, Any], expected: list[SchemaError]
) -> None:
    assert v131.validate(obj) == expected


def test_non_dict_is_a_type_error(v131: KubeSchemaValidator) -> None:
    with pytest.raises(TypeError, match="must be a dict"):
        v131.validate(["not", "a", "manifest"])  # type: ignore[arg-type]


# ------------------------------------------------------------------------------------ versions


def test_unsupported_version_raises_a_clear_error() -> None:
    with pytest.raises(UnsupportedKubernetesVersionError) as caught:
        KubeSchemaValidator.for_version("1.12")
    message = str(caught.value)
    assert "'1.12'" in message
    assert "supported versions: " in message
    assert "1.31" in message
    assert caught.value.supported == tuple(KubeSchemaValidator.supported_versions())
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize("bad", ["latest", "1", "1.31-eks", ""])
def test_malformed_version_raises_value_error(bad: str) -> None:
    with pytest.raises(ValueError, match="invalid Kubernetes version"):
        KubeSchemaValidator.for_version(bad)


def test_supported_versions_sorted_numerically() -> None:
    versions = KubeSchemaValidator.supported_versions()
    assert "1.31" in versions
    assert versions == sorted(versions, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert KubeSchemaValidator.supported_versions(strict=False) == versions


def test_for_version_is_cached_per_version_and_flavour() -> None:
    strict = KubeSchemaValidator.for_version("1.31")
    assert KubeSchemaValidator.for_version("v1.31") is strict
    assert KubeSchemaValidator.for_version("1.31.7") is strict
    lax = KubeSchemaValidator.for_version("1.31", strict=False)
    assert lax is not strict
    assert (strict.version, strict.strict, lax.strict) == ("1.31", True, False)


def test_schema_error_str() -> None:
    assert str(SchemaError("spec.replica", "unknown field")) == "spec.replica: unknown field"
    assert str(SchemaError("", "boom")) == "(object): boom"
