"""``eksplatform canary``: canary releases on a service's ALB, driven from its stack file.

``stackfile`` (round-trip YAML 1.2 editing of ``Pulumi.<stack>.yaml``), ``aws`` (target group
lookup, health, deregistration delay, throttling retries), ``analysis`` (CloudWatch figures and
the verdict), ``cli`` (the commands and their state machine). The resources are ServiceStack's
(:mod:`eksplatform.service.canary`).
"""
