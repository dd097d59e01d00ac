"""The service's ECR repository: scan on push, immutable tags, KMS encryption, lifecycle policy.

Created only when the image lives in an ECR registry (``ServiceStackArgs.ecr``); its name is the
image's repository path, so CI pushes exactly where the Deployment pulls from.
"""

from __future__ import annotations

import json

import pulumi
import pulumi_aws as aws


def lifecycle_policy(keep_images: int) -> str:
    """Expire untagged images after a week; keep the ``keep_images`` most recent images."""
    return json.dumps(
        {
            "rules": [
                {
                    "rulePriority": 1,
                    "description": "Expire untagged images after 7 days",
                    "selection": {
                        "tagStatus": "untagged",
                        "countType": "sinceImagePushed",
                        "countUnit": "days",
                        "countNumber": 7,
                    },
                    "action": {"type": "expire"},
                },
                {
                    "rulePriority": 2,
                    "description": f"Keep the {keep_images} most recent images",
                    "selection": {
                        "tagStatus": "any",
                        "countType": "imageCountMoreThan",
                        "countNumber": keep_images,
                    },
                    "action": {"type": "expire"},
                },
            ]
        },
        sort_keys=True,
    )


def build_repository(
    name: str,
    *,
    repository: str,
    keep_images: int,
    tags: pulumi.Input[dict[str, str]],
    opts: pulumi.ResourceOptions,
) -> aws.ecr.Repository:
    repo = aws.ecr.Repository(
        f"{name}-ecr",
        name=repository,
        image_tag_mutability="IMMUTABLE",
        image_scanning_configuration=aws.ecr.RepositoryImageScanningConfigurationArgs(
            scan_on_push=True
        ),
        encryption_configurations=[
            aws.ecr.RepositoryEncryptionConfigurationArgs(encryption_type="KMS")
        ],
        force_delete=False,
        tags=tags,
        opts=opts,
    )
    aws.ecr.LifecyclePolicy(
        f"{name}-ecr-lifecycle",
        repository=repo.name,
        policy=lifecycle_policy(keep_images),
        opts=opts,
    )
    return repo
