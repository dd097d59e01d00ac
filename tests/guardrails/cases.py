"""Per rule: a compliant and a violating resource (or stack), and the exact violations.

Properties are what the Pulumi engine hands a policy: camelCase inputs (resource rules) or
outputs (stack rules). Every test of the three places a rule runs (CrossGuard through the policy
SDK's own analyzer, the offline evaluation, admission CEL) reads these cases, so a rule cannot
pass one place and fail another unseen.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

TAGS = {"team": "news", "environment": "prod", "cost-centre": "media", "managed-by": "pulumi"}
PLATFORM_TAGS = {**TAGS, "team": "platform"}
ACCOUNT = "222222222222"
BOUNDARY = f"arn:aws:iam::{ACCOUNT}:policy/eksplatform/eks-prod-service-boundary"
DIGEST = "sha256:" + "a" * 64
ECR = f"{ACCOUNT}.dkr.ecr.eu-west-1.amazonaws.com"


def urn(type_token: str, name: str, stack: str = "prod", project: str = "svc") -> str:
    return f"urn:pulumi:{stack}::{project}::{type_token}::{name}"


@dataclass(frozen=True)
class Case:
    """One rule, one resource type: a compliant and a violating resource."""

    rule: str
    type: str
    good: dict[str, Any]
    bad: dict[str, Any]
    details: tuple[str, ...]
    """The violations of ``bad`` (each without the rule's ``; fix: ...``)."""
    label: str = ""
    stack: str = "prod"
    project: str = "svc"
    """Pulumi project of both resources (the platform's is ``eks-platform``)."""

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.label or self.type.rsplit(':', 1)[-1]}"

    @property
    def urn(self) -> str:
        return urn(self.type, "r", self.stack, self.project)


@dataclass(frozen=True)
class StackCase:
    """One stack rule: a compliant and a violating stack (lists of (type, name, outputs))."""

    rule: str
    good: list[tuple[str, str, dict[str, Any]]]
    bad: list[tuple[str, str, dict[str, Any]]]
    violations: tuple[tuple[str, str], ...]
    """(resource name, detail) of each violation of ``bad``."""
    label: str = ""

    @property
    def id(self) -> str:
        return f"{self.rule}-{self.label}" if self.label else self.rule


def _with(base: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``base`` with ``path`` (dotted; ``[i]`` for list items) set to ``value``
    (``...``: removed)."""
    out = copy.deepcopy(base)
    parts = path.replace("[", ".[").split(".")
    node: Any = out
    for part in parts[:-1]:
        node = node[int(part[1:-1])] if part.startswith("[") else node.setdefault(part, {})
    last = parts[-1]
    key: Any = int(last[1:-1]) if last.startswith("[") else last
    if value is ...:
        del node[key]
    else:
        node[key] = value
    return out


# --- Kubernetes objects ---------------------------------------------------------------------

SECURE = {
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "runAsUser": 65532,
    "seccompProfile": {"type": "RuntimeDefault"},
}
CONTAINER = {
    "name": "app",
    "image": f"{ECR}/news/feed:1.4.2",
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"memory": "256Mi"}},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": 8080}},
    "securityContext": SECURE,
}
LABELS = {"app.kubernetes.io/name": "feed", "team": "news"}
DEPLOYMENT: dict[str, Any] = {
    "apiVersion": "apps/v1",
    "kind": "Deployment",
    "metadata": {"name": "feed", "namespace": "news", "labels": LABELS},
    "spec": {
        "replicas": 2,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "feed"}},
        "template": {
            "metadata": {"labels": LABELS},
            "spec": {
                "automountServiceAccountToken": False,
                "containers": [CONTAINER],
                "volumes": [{"name": "tmp", "emptyDir": {}}],
            },
        },
    },
}
DEPLOY = "kubernetes:apps/v1:Deployment"
CRONJOB: dict[str, Any] = {
    "apiVersion": "batch/v1",
    "kind": "CronJob",
    "metadata": {"name": "report", "namespace": "news", "labels": LABELS},
    "spec": {
        "schedule": "0 3 * * *",
        "jobTemplate": {
            "spec": {
                "template": {
                    "metadata": {"labels": LABELS},
                    "spec": {
                        "restartPolicy": "Never",
                        "containers": [{**CONTAINER, "name": "report"}],
                    },
                }
            }
        },
    },
}
POD: dict[str, Any] = {
    "apiVersion": "v1",
    "kind": "Pod",
    "metadata": {"name": "debug", "namespace": "news", "labels": LABELS},
    "spec": {"containers": [CONTAINER]},
}
C = "spec.template.spec.containers[0]"

KUBE_CASES: list[Case] = [
    Case(
        "k8s-resources",
        DEPLOY,
        DEPLOYMENT,
        _with(DEPLOYMENT, f"{C}.resources", {"requests": {"cpu": "1"}}),
        ("container 'app' has no requests.memory, limits.memory",),
    ),
    Case(
        "k8s-resources",
        "kubernetes:batch/v1:CronJob",
        CRONJOB,
        _with(CRONJOB, "spec.jobTemplate.spec.template.spec.containers[0].resources", ...),
        ("container 'report' has no requests.cpu, requests.memory, limits.memory",),
    ),
    Case(
        "k8s-probes",
        DEPLOY,
        DEPLOYMENT,
        _with(DEPLOYMENT, f"{C}.livenessProbe", ...),
        ("container 'app' has no livenessProbe",),
    ),
    Case(
        "k8s-probes",
        "kubernetes:core/v1:Pod",
        POD,
        _with(
            _with(POD, "spec.containers[0].readinessProbe", ...),
            "spec.containers[0].livenessProbe",
            ...,
        ),
        ("container 'app' has no readinessProbe or livenessProbe",),
    ),
    Case(
        "k8s-image-registry",
        DEPLOY,
        _with(DEPLOYMENT, f"{C}.image", "envoyproxy/envoy:v1.40.0"),
        _with(DEPLOYMENT, f"{C}.image", "ghcr.io/news/feed:1.4.2"),
        (
            "image 'ghcr.io/news/feed:1.4.2' is not from an allowed registry "
            "(*.dkr.ecr.*.amazonaws.com/, public.ecr.aws/, registry.k8s.io/, "
            "docker.io/envoyproxy/, docker.io/fluent/)",
        ),
    ),
    Case(
        "k8s-image-registry",
        DEPLOY,
        _with(DEPLOYMENT, f"{C}.image", "registry.k8s.io/pause:3.10"),
        _with(DEPLOYMENT, f"{C}.image", "registry.k8s.io.evil.example/pause:3.10"),
        (
            "image 'registry.k8s.io.evil.example/pause:3.10' is not from an allowed registry "
            "(*.dkr.ecr.*.amazonaws.com/, public.ecr.aws/, registry.k8s.io/, "
            "docker.io/envoyproxy/, docker.io/fluent/)",
        ),
        label="lookalike-host",
    ),
    Case(
        "k8s-image-pinned",
        DEPLOY,
        _with(DEPLOYMENT, f"{C}.image", f"{ECR}/news/feed@{DIGEST}"),
        _with(DEPLOYMENT, f"{C}.image", f"{ECR}/news/feed:latest"),
        (f"image '{ECR}/news/feed:latest' uses the moving tag 'latest'",),
    ),
    Case(
        "k8s-image-pinned",
        DEPLOY,
        _with(DEPLOYMENT, f"{C}.image", f"{ECR}/news/feed:latest@{DIGEST}"),
        _with(DEPLOYMENT, f"{C}.image", "localhost:5000/news/feed"),
        ("image 'localhost:5000/news/feed' has no tag or digest",),
        label="registry-port",
    ),
    Case(
        "k8s-pod-security",
        DEPLOY,
        DEPLOYMENT,
        _with(
            _with(
                _with(DEPLOYMENT, f"{C}.securityContext", {"privileged": True, "runAsUser": 0}),
                "spec.template.spec.hostNetwork",
                True,
            ),
            "spec.template.spec.volumes",
            [{"name": "host", "hostPath": {"path": "/"}}],
        ),
        (
            "hostNetwork is true",
            "volume 'host' is of type hostPath",
            "container 'app' does not set allowPrivilegeEscalation: false",
            "container 'app' does not drop ALL capabilities",
            "container 'app' is privileged",
            "container 'app' does not set runAsNonRoot: true",
            "container 'app' runs as user 0",
            "container 'app' has seccompProfile None, not RuntimeDefault",
        ),
    ),
    Case(
        "k8s-pod-security",
        DEPLOY,
        # Pod-level settings are inherited by the container.
        _with(
            _with(
                DEPLOYMENT,
                f"{C}.securityContext",
                {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
            ),
            "spec.template.spec.securityContext",
            {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        ),
        _with(
            _with(
                DEPLOYMENT,
                f"{C}.securityContext",
                {
                    "allowPrivilegeEscalation": False,
                    "capabilities": {"drop": ["ALL"], "add": ["NET_ADMIN"]},
                },
            ),
            f"{C}.ports",
            [{"containerPort": 8080, "hostPort": 8080}],
        ),
        (
            "container 'app' adds capabilities NET_ADMIN",
            "container 'app' does not set runAsNonRoot: true",
            "container 'app' has seccompProfile None, not RuntimeDefault",
            "container 'app' uses hostPort 8080",
        ),
        label="inherited",
    ),
    Case(
        "k8s-labels",
        DEPLOY,
        DEPLOYMENT,
        _with(
            _with(DEPLOYMENT, "metadata.labels", {"team": "news"}),
            "spec.template.metadata.labels",
            {},
        ),
        (
            "the object has no app.kubernetes.io/name label",
            "the pod template has no app.kubernetes.io/name, team label",
        ),
    ),
    Case(
        "k8s-no-loadbalancer-service",
        "kubernetes:core/v1:Service",
        {"metadata": {"name": "feed", "namespace": "news"}, "spec": {"type": "NodePort"}},
        {"metadata": {"name": "feed", "namespace": "news"}, "spec": {"type": "LoadBalancer"}},
        ("the Service is of type LoadBalancer (a cloud load balancer outside ServiceStack)",),
    ),
    Case(
        "k8s-no-default-namespace",
        "kubernetes:core/v1:ConfigMap",
        {"metadata": {"name": "c", "namespace": "news"}, "data": {}},
        {"metadata": {"name": "c"}, "data": {}},
        ("the ConfigMap has no metadata.namespace, so it lands in the 'default' namespace",),
    ),
    Case(
        "k8s-no-default-namespace",
        DEPLOY,
        DEPLOYMENT,
        _with(DEPLOYMENT, "metadata.namespace", "default"),
        ("the Deployment is in the 'default' namespace",),
        label="explicit",
    ),
    Case(
        "k8s-hpa-min-replicas",
        "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
        {
            "metadata": {"name": "feed", "namespace": "news"},
            "spec": {"minReplicas": 2, "maxReplicas": 5},
        },
        {"metadata": {"name": "feed", "namespace": "news"}, "spec": {"maxReplicas": 5}},
        ("minReplicas is 1; 'prod' runs at least 2 (one pod per zone failure)",),
    ),
]
"""Kubernetes rules; every one has a CEL form too."""

# --- AWS resources --------------------------------------------------------------------------

LAUNCH_TEMPLATE = {
    "namePrefix": "eks-prod-general-",
    "metadataOptions": {"httpTokens": "required", "httpPutResponseHopLimit": 1},
    "blockDeviceMappings": [
        {"deviceName": "/dev/xvda", "ebs": {"encrypted": "true", "volumeSize": 50}}
    ],
    "tags": PLATFORM_TAGS,
}
ASG = {
    "namePrefix": "eks-prod-general-a-",
    "mixedInstancesPolicy": {
        "instancesDistribution": {
            "onDemandBaseCapacity": 1,
            "onDemandPercentageAboveBaseCapacity": 30,
        },
        "launchTemplate": {
            "overrides": [{"instanceType": t} for t in ("m6i.xlarge", "m6a.xlarge", "m5.xlarge")]
        },
    },
    "tags": [{"key": k, "value": v, "propagateAtLaunch": True} for k, v in PLATFORM_TAGS.items()],
}
EKS = {
    "name": "eks-prod",
    "encryptionConfig": {
        "resources": ["secrets"],
        "provider": {"keyArn": f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/k"},
    },
    "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]},
    "enabledClusterLogTypes": ["api", "audit", "authenticator"],
    "tags": PLATFORM_TAGS,
}
ROLE = {
    "assumeRolePolicy": "{}",
    "permissionsBoundary": BOUNDARY,
    "tags": TAGS,
}


def _policy(*actions: Any, effect: str = "Allow", key: str = "Action") -> str:
    import json

    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [{"Effect": effect, key: list(actions), "Resource": "*"}],
        }
    )


AWS_CASES: list[Case] = [
    Case(
        "aws-required-tags",
        "aws:sqs/queue:Queue",
        {"name": "jobs", "tags": TAGS},
        {"name": "jobs", "tags": {"team": "news", "environment": " ", "cost-centre": None}},
        (
            "aws:sqs/queue:Queue has no value for the required tag(s) environment, cost-centre, managed-by",
        ),
    ),
    Case(
        "aws-required-tags",
        "aws:autoscaling/group:Group",
        ASG,
        _with(ASG, "tags", [{"key": "team", "value": "platform", "propagateAtLaunch": True}]),
        (
            "aws:autoscaling/group:Group has no value for the required tag(s) environment, "
            "cost-centre, managed-by",
        ),
        label="asg-tag-list",
    ),
    Case(
        "aws-name-limits",
        "aws:lb/loadBalancer:LoadBalancer",
        {"name": "a" * 32, "tags": TAGS},
        {"name": "a" * 33, "tags": TAGS},
        (
            f"name {'a' * 33!r} is not a valid load balancer name: it is 33 characters long; 1-32 allowed",
        ),
    ),
    Case(
        "aws-name-limits",
        "aws:s3/bucket:Bucket",
        {"bucketPrefix": "prod-news-" + "x" * 27, "tags": TAGS},
        {"bucketPrefix": "prod-news-" + "x" * 28, "tags": TAGS},
        (
            f"bucketPrefix {'prod-news-' + 'x' * 28!r} gives no valid S3 bucket name: it is 38 "
            "characters long as a prefix; the provider appends 26 and 63 are allowed, so a prefix "
            "may have at most 37",
        ),
        label="prefix",
    ),
    Case(
        "aws-naming-convention",
        "aws:secretsmanager/secret:Secret",
        {"name": "news/feed/api-key", "tags": TAGS},
        {"name": "media/feed/api-key", "tags": TAGS},
        ("name 'media/feed/api-key' does not start with 'news/' (convention '{team}/')",),
    ),
    Case(
        "aws-naming-convention",
        "aws:s3/bucket:Bucket",
        {"bucket": "eks-prod-alb-logs", "tags": PLATFORM_TAGS},
        {"bucket": "news-uploads", "tags": TAGS},
        (
            "bucket 'news-uploads' does not start with 'prod-news-' (convention '{environment}-{team}-')",
        ),
        label="bucket",
        project="eks-platform",
    ),
    Case(
        "aws-naming-convention",
        "aws:ecr/repository:Repository",
        {"name": "news/feed", "tags": TAGS},
        {"name": "eks-prod/feed", "tags": PLATFORM_TAGS},
        ("name 'eks-prod/feed' does not start with 'platform/' (convention '{team}/')",),
        label="platform-tag-in-a-service-project",
    ),
    Case(
        "aws-no-world-ingress",
        "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
        {
            "cidrIpv4": "0.0.0.0/0",
            "ipProtocol": "tcp",
            "fromPort": 443,
            "toPort": 443,
            "tags": TAGS,
        },
        {"cidrIpv6": "::/0", "ipProtocol": "tcp", "fromPort": 20, "toPort": 25, "tags": TAGS},
        ("rule opens ports 20-25 (SSH) to ::/0; SSH is never open to the internet",),
    ),
    Case(
        "aws-no-world-ingress",
        "aws:ec2/securityGroup:SecurityGroup",
        {
            "ingress": [
                {"protocol": "tcp", "fromPort": 5432, "toPort": 5432, "cidrBlocks": ["10.0.0.0/8"]}
            ],
            "tags": TAGS,
        },
        {
            "ingress": [
                {
                    "protocol": "-1",
                    "fromPort": 0,
                    "toPort": 0,
                    "cidrBlocks": ["0.0.0.0/1", "128.0.0.0/1"],
                }
            ],
            "tags": TAGS,
        },
        (
            "ingress[0] opens ports 0-65535 (SSH) to 0.0.0.0/1, 128.0.0.0/1; SSH is never open to the internet",
        ),
        label="inline-split-world",
    ),
    Case(
        "aws-no-world-ingress",
        "aws:ec2/securityGroupRule:SecurityGroupRule",
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 80,
            "toPort": 80,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        {
            "type": "ingress",
            "protocol": "tcp",
            "fromPort": 8080,
            "toPort": 8080,
            "cidrBlocks": ["0.0.0.0/0"],
        },
        ("rule opens port 8080 (tcp) to 0.0.0.0/0; only TCP 80, 443 may be",),
        label="legacy-rule",
    ),
    Case(
        "aws-role-boundary",
        "aws:iam/role:Role",
        ROLE,
        _with(ROLE, "permissionsBoundary", f"arn:aws:iam::{ACCOUNT}:policy/team-made-boundary"),
        (
            f"service role (team 'news') has the boundary 'arn:aws:iam::{ACCOUNT}:policy/team-made-"
            "boundary', not the cluster's service boundary (pattern "
            "'arn:aws[a-z-]*:iam::\\\\d{12}:policy/eksplatform/.+-service-boundary')",
        ),
    ),
    Case(
        "aws-role-boundary",
        "aws:iam/role:Role",
        {"assumeRolePolicy": "{}", "tags": PLATFORM_TAGS},
        {"assumeRolePolicy": "{}", "tags": {"team": None}},
        ("service role (no team tag) has no permissions boundary",),
        label="untagged",
        project="eks-platform",
    ),
    Case(
        "aws-role-boundary",
        "aws:iam/role:Role",
        ROLE,
        {"assumeRolePolicy": "{}", "tags": PLATFORM_TAGS},
        ("service role (team 'platform') has no permissions boundary",),
        label="platform-tag-in-a-service-project",
    ),
    Case(
        "aws-iam-no-wildcard-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {"role": "r", "policy": _policy("sqs:SendMessage", "iam:Get*")},
        {"role": "r", "policy": _policy("sqs:SendMessage", "IAM:*", "*:*")},
        (
            "Statement[0] allows 'IAM:*': every IAM action (permission management)",
            "Statement[0] allows '*:*': every action of every service",
        ),
    ),
    Case(
        "aws-iam-no-wildcard-actions",
        "aws:iam/policy:Policy",
        {"policy": _policy("*", effect="Deny")},
        {"policy": _policy("s3:GetObject", key="NotAction")},
        ("Statement[0] allows NotAction: every action but a few",),
        label="notaction",
    ),
    Case(
        "aws-iam-no-wildcard-actions",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/ReadOnlyAccess"},
        {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ("attaches the AWS managed policy AdministratorAccess: every action of every service",),
        label="managed-attachment",
    ),
    Case(
        "aws-iam-no-wildcard-actions",
        "aws:iam/role:Role",
        ROLE,
        {**ROLE, "managedPolicyArns": ["arn:aws:iam::aws:policy/IAMFullAccess"]},
        (
            "managedPolicyArns[0] attaches the AWS managed policy IAMFullAccess: every IAM "
            "action (permission management)",
        ),
        label="managed-on-role",
    ),
    Case(
        "aws-eks-secrets-encryption",
        "aws:eks/cluster:Cluster",
        EKS,
        _with(EKS, "encryptionConfig", ...),
        ("the cluster does not encrypt Kubernetes secrets with a KMS key",),
    ),
    Case(
        "aws-eks-endpoint",
        "aws:eks/cluster:Cluster",
        EKS,
        _with(EKS, "vpcConfig.publicAccessCidrs", ["203.0.113.0/24", "0.0.0.0/0"]),
        ("the public API endpoint is open to 0.0.0.0/0",),
    ),
    Case(
        "aws-eks-logs",
        "aws:eks/cluster:Cluster",
        EKS,
        _with(EKS, "enabledClusterLogTypes", ["api"]),
        ("control plane logs audit, authenticator are off",),
    ),
    Case(
        "aws-imdsv2",
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        _with(LAUNCH_TEMPLATE, "metadataOptions.httpTokens", "optional"),
        ("metadataOptions.httpTokens is 'optional': IMDSv1 answers without a token",),
    ),
    Case(
        "aws-encrypted-volumes",
        "aws:ec2/launchTemplate:LaunchTemplate",
        LAUNCH_TEMPLATE,
        _with(LAUNCH_TEMPLATE, "blockDeviceMappings[0].ebs.encrypted", "false"),
        ("blockDeviceMappings[0] (/dev/xvda) is not encrypted",),
    ),
    Case(
        "aws-encrypted-volumes",
        "aws:ec2/instance:Instance",
        {
            "metadataOptions": {"httpTokens": "required"},
            "rootBlockDevice": {"encrypted": True},
            "tags": TAGS,
        },
        {
            "metadataOptions": {"httpTokens": "required"},
            "ebsBlockDevices": [{"deviceName": "/dev/sdf"}],
            "tags": TAGS,
        },
        (
            "rootBlockDevice is not set: the AMI's default may be unencrypted",
            "ebsBlockDevices[0] is not encrypted",
        ),
        label="instance",
    ),
    Case(
        "aws-lb-http-redirect",
        "aws:lb/listener:Listener",
        {
            "protocol": "HTTP",
            "port": 80,
            "defaultActions": [
                {
                    "type": "redirect",
                    "redirect": {"protocol": "HTTPS", "port": "443", "statusCode": "HTTP_301"},
                }
            ],
            "tags": TAGS,
        },
        {
            "protocol": "HTTP",
            "port": 80,
            "defaultActions": [
                {"type": "redirect", "redirect": {"protocol": "HTTP", "port": "8080"}}
            ],
            "tags": TAGS,
        },
        ("the HTTP listener's defaultActions[0] is 'redirect', not a redirect to HTTPS",),
    ),
    Case(
        "aws-ecr-scan-immutable",
        "aws:ecr/repository:Repository",
        {
            "name": "news/feed",
            "imageScanningConfiguration": {"scanOnPush": True},
            "imageTagMutability": "IMMUTABLE",
            "tags": TAGS,
        },
        {"name": "news/feed", "tags": TAGS},
        (
            "images are not scanned on push",
            "imageTagMutability is 'MUTABLE': a pushed tag can be overwritten",
        ),
    ),
    Case(
        "aws-spot-share",
        "aws:autoscaling/group:Group",
        ASG,
        _with(
            ASG, "mixedInstancesPolicy.instancesDistribution.onDemandPercentageAboveBaseCapacity", 0
        ),
        ("spot share above the base is 100%, outside 50-90% for 'prod'",),
    ),
    Case(
        "aws-instance-types",
        "aws:autoscaling/group:Group",
        ASG,
        _with(
            ASG,
            "mixedInstancesPolicy.launchTemplate.overrides",
            [{"instanceType": "m6i.xlarge"}, {"instanceType": "m6i.xlarge"}],
        ),
        ("1 instance type(s) (m6i.xlarge); at least 3 keep spot capacity available",),
    ),
]
"""AWS resource rules."""

RESOURCE_CASES = AWS_CASES + KUBE_CASES

# --- stack rules ----------------------------------------------------------------------------

_BUCKET = (
    "aws:s3/bucket:Bucket",
    "logs",
    {"bucket": "prod-news-logs", "id": "prod-news-logs", "tags": TAGS},
)
_PAB = (
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    "logs",
    {
        "bucket": "prod-news-logs",
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    },
)
_SSE = (
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
    "logs",
    {
        "bucket": "prod-news-logs",
        "rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms"}}],
    },
)
_LB = ("aws:lb/loadBalancer:LoadBalancer", "alb", {"securityGroups": ["sg-alb"], "id": "arn:lb"})
_WORLD_443 = (
    "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
    "in-443",
    {
        "securityGroupId": "sg-alb",
        "cidrIpv4": "0.0.0.0/0",
        "ipProtocol": "tcp",
        "fromPort": 443,
        "toPort": 443,
    },
)
_PDB = (
    "kubernetes:policy/v1:PodDisruptionBudget",
    "feed",
    {
        "metadata": {"name": "feed", "namespace": "news"},
        "spec": {
            "maxUnavailable": 1,
            "selector": {"matchLabels": {"app.kubernetes.io/name": "feed"}},
        },
    },
)
_HPA = (
    "kubernetes:autoscaling/v2:HorizontalPodAutoscaler",
    "feed",
    {
        "metadata": {"name": "feed", "namespace": "news"},
        "spec": {"minReplicas": 3, "scaleTargetRef": {"kind": "Deployment", "name": "feed"}},
    },
)
_ALARM = (
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "feed-5xx",
    {"alarmActions": ["arn:aws:sns:eu-west-1:1:news-alerts"], "tags": {**TAGS, "service": "feed"}},
)
_ONE = _with(DEPLOYMENT, "spec.replicas", 1)

STACK_CASES: list[StackCase] = [
    StackCase(
        "aws-s3-public-access",
        [_BUCKET, _PAB],
        [_BUCKET, (_PAB[0], _PAB[1], {**_PAB[2], "restrictPublicBuckets": False})],
        (
            (
                "logs",
                "public access block of bucket 'prod-news-logs' leaves restrictPublicBuckets off",
            ),
            ("logs", "bucket 'prod-news-logs' has no public access block with all four flags on"),
        ),
    ),
    StackCase(
        "aws-s3-encryption",
        [_BUCKET, _SSE],
        [_BUCKET],
        (("logs", "bucket 'prod-news-logs' has no default encryption configuration"),),
    ),
    StackCase(
        "aws-world-ingress-lb-only",
        [_LB, _WORLD_443],
        [_LB, (_WORLD_443[0], _WORLD_443[1], {**_WORLD_443[2], "securityGroupId": "sg-nodes"})],
        (
            (
                "in-443",
                "rule opens 0.0.0.0/0 on security group sg-nodes, which no load balancer of this stack uses",
            ),
        ),
    ),
    StackCase(
        "k8s-pdb-multi-replica",
        [(DEPLOY, "feed", DEPLOYMENT), _PDB],
        [(DEPLOY, "feed", _ONE), _HPA],
        (
            (
                "feed",
                "Deployment news/feed runs 3 replicas and no PodDisruptionBudget selects its pods",
            ),
        ),
    ),
    StackCase(
        "svc-alarms",
        [(DEPLOY, "feed", DEPLOYMENT), _ALARM],
        [
            (DEPLOY, "feed", DEPLOYMENT),
            (
                "aws:cloudwatch/metricAlarm:MetricAlarm",
                "feed-5xx",
                {"tags": {**TAGS, "service": "feed"}},
            ),
        ],
        (
            (
                "feed",
                "service 'feed' has no CloudWatch alarm with an action (tag service=feed) and no "
                "Datadog monitor tagged service:feed",
            ),
        ),
    ),
]
