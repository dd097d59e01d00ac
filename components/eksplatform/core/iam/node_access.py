"""The IAM actions that reach the nodes: the one list both the ServiceStack checks and the
permissions boundary refuse (a node runs every team's pods and holds the node role)."""

NODE_ACCESS_ACTIONS: tuple[str, ...] = (
    "ssm:SendCommand",
    "ssm:StartSession",
    "ssm:ResumeSession",
    "ssm:StartAutomationExecution",
    "ssm:StartChangeRequestExecution",
    "ssm:CreateAssociation",
    "ssm:CreateAssociationBatch",
    "ssm:UpdateAssociation",
    "ssm:StartAssociationsOnce",
    "ssm:RegisterTaskWithMaintenanceWindow",
    "ssm:UpdateMaintenanceWindowTask",
    "ssm:CreateActivation",
    "ssm:GetCommandInvocation",
    "ssmmessages:*",
    "ec2messages:*",
    "ssm-guiconnect:*",
    "ec2-instance-connect:*",
)
"""Everything that runs code on, or opens a shell to, an instance (a node runs every team's
pods and holds the node role)."""
