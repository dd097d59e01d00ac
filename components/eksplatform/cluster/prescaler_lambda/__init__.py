"""Source of the push pre-scaler's Lambda function, shipped as package data and zipped by Pulumi.

Standard library and boto3 only (what the Lambda Python runtime provides): no packaging step.
Nothing here imports the rest of ``eksplatform``; the zip holds this package alone
(:data:`eksplatform.cluster.prescaler.LAMBDA_FILES`).
"""
