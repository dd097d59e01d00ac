"""Bad cluster stack files, grouped by the classes of issue 10, each with the exact problems the
cluster program must report (exit 2, nothing registered).

A case is the YAML appended under ``config:`` of a small valid stack (:data:`BASE`, stack
``dev`` of the real project); ``problems`` are the lines the message must list, in order. A case
whose ``header`` is set fails before the program runs (the stack file itself cannot be read the
way the Pulumi CLI reads it) and its whole message is ``header``.
"""

from __future__ import annotations

from dataclasses import dataclass

BASE = "config:\n  aws:region: eu-west-1\n  aws:allowedAccountIds: ['111111111111']\n"
"""The valid stack every case extends (everything else at its default)."""

ACCOUNT = "111111111111"
LONG = "c" * 90
"""A cluster name EKS accepts (100 at most) that leaves little room for derived names."""
LABEL_KEY = f"{'a' * 40}.{'b' * 40}.example.com/tier"
"""A valid Kubernetes label key (DNS labels of 40) too long for an AWS tag key once prefixed."""
TAINT_KEY = f"{'t' * 40}.{'u' * 40}.io/batch"
TOP_LEVEL_KEYS = (
    "aws:allowedAccountIds, aws:region, platform:autoscaler, platform:clusterName, "
    "platform:controlPlane, platform:costCentre, platform:datadog, platform:datadogApiKey, "
    "platform:datadogAppKey, platform:descheduler, platform:devEnvironments, platform:eksAddons, "
    "platform:environment, platform:headroom, platform:interruptionHandler, "
    "platform:kubernetesVersion, platform:logging, platform:network, platform:nodeAccess, "
    "platform:nodePools, platform:ownerTeam, platform:papertrailToken, platform:preScaler, "
    "platform:servicePlatform, platform:tags, platform:teams, platform:vpa"
)
"""Every top-level key of the cluster stack, as the unknown-key message lists them (written out:
a new key must be added here on purpose)."""


@dataclass(frozen=True)
class Case:
    group: str
    """The class of issue 10 the case belongs to."""
    yaml: str
    """Lines appended under ``config:`` (two-space indented); a key of :data:`BASE` written
    here replaces the base's line."""
    problems: tuple[str, ...] = ()
    """The problem lines, in order."""
    header: str = ""
    """The whole message, for stack files the CLI itself refuses."""


def _arn(role: str, account: str = ACCOUNT, partition: str = "aws") -> str:
    return f"arn:{partition}:iam::{account}:role/{role}"


SECURITY = "security defaults and dangerous values"
YAML = "YAML read as the Pulumi CLI reads it"
PATTERNS = "patterns that match too much"
NAMES = "derived names past AWS limits"
SENSE = "cross-field and cross-object sense"
DROPS = "silent drops"
EXIT = "exit codes and secure values"
RANGES = "meaningful ranges at their edges"

CASES: dict[str, Case] = {
    # --- security defaults and dangerous values ------------------------------------------------
    "public-endpoint-open-to-all": Case(
        SECURITY,
        "  platform:controlPlane: {endpointPublicAccess: true, publicAccessCidrs: [0.0.0.0/0]}\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['0.0.0.0/0']: 0.0.0.0/0 opens the API "
            "server to the whole internet; list the CIDRs of your offices and CI runners, or set "
            "endpointPublicAccess: false",
        ),
    ),
    "public-endpoint-open-to-all-ipv6": Case(
        SECURITY,
        "  platform:controlPlane: {endpointPublicAccess: true, publicAccessCidrs: ['::/0']}\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['::/0']: ::/0 opens the API server to "
            "the whole internet; list the CIDRs of your offices and CI runners, or set "
            "endpointPublicAccess: false",
        ),
    ),
    "public-endpoint-two-halves-of-the-internet": Case(
        SECURITY,
        "  platform:controlPlane:\n"
        "    endpointPublicAccess: true\n"
        "    publicAccessCidrs: [0.0.0.0/1, 128.0.0.0/1]\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['0.0.0.0/1', '128.0.0.0/1']: "
            "0.0.0.0/1 admits 2,147,483,648 addresses (a public /8 or wider counts as the "
            "internet); list the CIDRs of your offices and CI runners; 128.0.0.0/1 admits "
            "2,147,483,648 addresses (a public /8 or wider counts as the internet); list the CIDRs "
            "of your offices and CI runners",
        ),
    ),
    "public-endpoint-a-public-slash-8": Case(
        SECURITY,
        "  platform:controlPlane: {endpointPublicAccess: true, publicAccessCidrs: [12.0.0.0/8]}\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['12.0.0.0/8']: 12.0.0.0/8 admits "
            "16,777,216 addresses (a public /8 or wider counts as the internet); list the CIDRs of "
            "your offices and CI runners",
        ),
    ),
    "public-endpoint-private-range": Case(
        SECURITY,
        "  platform:controlPlane:\n"
        "    endpointPublicAccess: true\n"
        "    publicAccessCidrs: [203.0.113.0/24, 10.0.0.0/8]\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['203.0.113.0/24', '10.0.0.0/8']: "
            "10.0.0.0/8 is a range that never reaches the public endpoint (10.0.0.0/8: the "
            "private endpoint serves it); list public CIDRs only",
        ),
    ),
    "public-endpoint-ipv6-range": Case(
        SECURITY,
        "  platform:controlPlane:\n"
        "    endpointPublicAccess: true\n"
        "    publicAccessCidrs: ['2001:db8::/32']\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['2001:db8::/32']: 2001:db8::/32 is "
            "IPv6; EKS takes IPv4 CIDR blocks for the public endpoint",
        ),
    ),
    "public-endpoint-without-cidrs": Case(
        SECURITY,
        "  platform:controlPlane: {endpointPublicAccess: true}\n",
        (
            "platform:controlPlane.publicAccessCidrs: missing: endpointPublicAccess is true but "
            "no CIDRs are listed; list the CIDRs allowed to reach the API server, or set "
            "endpointPublicAccess: false",
        ),
    ),
    "public-endpoint-cidr-listed-twice": Case(
        SECURITY,
        "  platform:controlPlane:\n"
        "    endpointPublicAccess: true\n"
        "    publicAccessCidrs: [203.0.113.0/24, 203.0.113.0/24]\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['203.0.113.0/24', '203.0.113.0/24']: "
            "203.0.113.0/24 listed twice",
        ),
    ),
    "public-endpoint-41-cidrs": Case(
        SECURITY,
        "  platform:controlPlane:\n"
        "    endpointPublicAccess: true\n"
        f"    publicAccessCidrs: [{', '.join(f'198.51.100.{i}/32' for i in range(41))}]\n",
        (
            "platform:controlPlane.publicAccessCidrs: got ['198.51.100.0/32', '198.51.100.1/32', "
            "'198.51.100.2/32', '198.51.100.3/32', '198.51.100.4/32', '198.51.100.5/32', '1...: 41 "
            "blocks; EKS accepts at most 40",
        ),
    ),
    "admin-role-of-another-account": Case(
        SECURITY,
        f"  platform:controlPlane: {{adminRoleArns: [{_arn('admin', '999999999999')}]}}\n",
        (
            "platform:controlPlane.adminRoleArns[0]: got "
            "'arn:aws:iam::999999999999:role/admin': is a role of account 999999999999, not of "
            "this stack's account 111111111111 (aws:allowedAccountIds); grant access to roles of "
            "this account only",
        ),
    ),
    "admin-role-of-another-partition": Case(
        SECURITY,
        f"  platform:controlPlane: {{adminRoleArns: [{_arn('admin', partition='aws-cn')}]}}\n",
        (
            "platform:controlPlane.adminRoleArns[0]: got "
            "'arn:aws-cn:iam::111111111111:role/admin': is in partition aws-cn but the region's "
            "partition is aws; write arn:aws:iam::...",
        ),
    ),
    "admin-role-listed-twice": Case(
        SECURITY,
        f"  platform:controlPlane: {{adminRoleArns: [{_arn('admin')}, {_arn('admin')}]}}\n",
        (
            "platform:controlPlane.adminRoleArns: got ['arn:aws:iam::111111111111:role/admin', "
            "'arn:aws:iam::111111111111:role/admin']: lists "
            "arn:aws:iam::111111111111:role/admin twice; EKS allows one access entry per role",
        ),
    ),
    "admin-role-not-an-arn": Case(
        SECURITY,
        "  platform:controlPlane: {adminRoleArns: [platform-admin]}\n",
        (
            "platform:controlPlane.adminRoleArns: got ['platform-admin']: not IAM role ARNs: "
            "'platform-admin'; write each like arn:aws:iam::123456789012:role/platform-admin",
        ),
    ),
    "team-role-of-another-account": Case(
        SECURITY,
        f"  platform:teams: [{{name: news, roleArns: [{_arn('dev', '222222222222')}]}}]\n",
        (
            "platform:teams[0].roleArns[0]: got 'arn:aws:iam::222222222222:role/dev': is a role "
            "of account 222222222222, not of this stack's account 111111111111 "
            "(aws:allowedAccountIds); grant access to roles of this account only",
        ),
    ),
    "two-allowed-accounts": Case(
        SECURITY,
        "  aws:allowedAccountIds: ['111111111111', '222222222222']\n",
        (
            "aws:allowedAccountIds: got ['111111111111', '222222222222']: list exactly one "
            "account id: the program derives every ARN and policy of the stack from it (use one "
            "stack per account)",
        ),
    ),
    "allowed-accounts-not-a-list": Case(
        SECURITY,
        "  aws:allowedAccountIds: '111111111111'\n",
        (
            "aws:allowedAccountIds: got '111111111111': write it as a list of one account id, "
            'like ["111111111111"]',
        ),
    ),
    "allowed-accounts-empty": Case(
        SECURITY,
        "  aws:allowedAccountIds: []\n",
        (
            "aws:allowedAccountIds: got []: list exactly one account id: the program derives "
            "every ARN and policy of the stack from it (use one stack per account)",
        ),
    ),
    "log-type-misspelt": Case(
        SECURITY,
        "  platform:controlPlane: {logTypes: [api, audits]}\n",
        (
            "platform:controlPlane.logTypes: got ['api', 'audits']: unknown log types 'audits'; "
            "allowed: api, audit, authenticator, controllerManager, scheduler",
        ),
    ),
    "log-type-twice": Case(
        SECURITY,
        "  platform:controlPlane: {logTypes: [audit, audit]}\n",
        ("platform:controlPlane.logTypes: got ['audit', 'audit']: lists a log type twice",),
    ),
    "log-retention-not-offered": Case(
        SECURITY,
        "  platform:controlPlane: {logRetentionDays: 100}\n",
        (
            "platform:controlPlane.logRetentionDays: got 100: CloudWatch accepts only 1, 3, 5, "
            "7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, "
            "3288, 3653",
        ),
    ),
    "flow-log-traffic-type": Case(
        SECURITY,
        "  platform:network: {flowLogs: {trafficType: all}}\n",
        (
            "platform:network.flowLogs.trafficType: got 'all': Input should be 'ALL', 'ACCEPT' "
            "or 'REJECT'",
        ),
    ),
    # --- YAML read as the Pulumi CLI reads it --------------------------------------------------
    "account-id-with-a-leading-zero": Case(
        YAML,
        "  aws:allowedAccountIds: [012345670123]\n",
        (
            "aws:allowedAccountIds[0]: got 012345670123: written 012345670123 without quotes, "
            "which the Pulumi CLI reads as the number 1402433619 (a leading zero means octal to "
            "it; YAML 1.2 reads 12345670123): quote it ('012345670123') if it is an id or a "
            "name, or drop the leading zero if it is a number",
        ),
    ),
    "port-with-a-leading-zero": Case(
        YAML,
        "  platform:logging:\n"
        "    output: papertrail\n"
        "    papertrail: {host: logs.example.com, port: 0443}\n"
        "  platform:papertrailToken: {secure: v1:AAAA}\n",
        (
            "platform:logging.papertrail.port: got 0443: written 0443 without quotes, which the "
            "Pulumi CLI reads as the number 291 (a leading zero means octal to it; YAML 1.2 reads "
            "443): quote it ('0443') if it is an id or a name, or drop the leading zero if it is "
            "a number",
        ),
    ),
    "count-with-a-leading-zero": Case(
        YAML,
        "  platform:network: {azCount: 03}\n",
        (
            "platform:network.azCount: got 03: written 03 without quotes, which the Pulumi CLI "
            "reads as the number 3 (a leading zero means octal to it; YAML 1.2 reads 3): quote it "
            "('03') if it is an id or a name, or drop the leading zero if it is a number",
        ),
    ),
    "yes-is-not-a-boolean": Case(
        YAML,
        "  platform:controlPlane: {deletionProtection: yes}\n",
        (
            "platform:controlPlane.deletionProtection: got yes: not a boolean: write true or "
            "false; YAML 1.2 (what the Pulumi CLI reads) keeps yes as text; only true and false "
            "are booleans",
        ),
    ),
    "on-is-not-a-boolean": Case(
        YAML,
        "  platform:network: {interfaceEndpoints: on}\n",
        (
            "platform:network.interfaceEndpoints: got on: not a boolean: write true or false; "
            "YAML 1.2 (what the Pulumi CLI reads) keeps on as text; only true and false are "
            "booleans",
        ),
    ),
    "off-is-not-a-boolean": Case(
        YAML,
        "  platform:network: {flowLogs: {enabled: off}}\n",
        (
            "platform:network.flowLogs.enabled: got off: not a boolean: write true or false; "
            "YAML 1.2 (what the Pulumi CLI reads) keeps off as text; only true and false are "
            "booleans",
        ),
    ),
    "one-is-not-a-boolean": Case(
        YAML,
        "  platform:vpa: {enabled: 1}\n",
        ("platform:vpa.enabled: got 1: not a boolean: write true or false",),
    ),
    "true-is-not-a-number": Case(
        YAML,
        "  platform:headroom: {replicas: true}\n",
        ("platform:headroom.replicas: got True: a number is expected, not a boolean",),
    ),
    "version-read-as-a-number": Case(
        YAML,
        "  platform:vpa: {chartVersion: 1.10}\n",
        (
            "platform:vpa.chartVersion: got 1.10: text is expected, not a number; written 1.10 "
            'without quotes, which YAML reads as the number 1.1; quote it ("1.10") to keep the '
            "text",
        ),
    ),
    "sexagesimal-duration": Case(
        YAML,
        "  platform:autoscaler: {scanInterval: 1:30}\n",
        (
            "platform:autoscaler.scanInterval: got 1:30: not a duration; write it like 10s, 10m "
            "or 1h30m; the Pulumi CLI reads 1:30 as text (YAML 1.1 tools read it as a base-60 "
            "number)",
        ),
    ),
    "duplicate-key-in-the-stack-file": Case(
        YAML,
        "  platform:network: {cidr: 10.1.0.0/16}\n  platform:network: {cidr: 10.2.0.0/16}\n",
        header="Pulumi.dev.yaml: line 5: mapping key 'platform:network' already defined at line 4",
    ),
    "duplicate-nested-key": Case(
        YAML,
        "  platform:headroom:\n    replicas: 2\n    replicas: 3\n",
        header="Pulumi.dev.yaml: line 6: mapping key 'replicas' already defined at line 5",
    ),
    "infinity-in-the-stack-file": Case(
        YAML,
        "  platform:autoscaler: {scaleDownUtilizationThreshold: .inf}\n",
        header="Pulumi.dev.yaml: line 4: .inf is not a number JSON can hold; Pulumi cannot store "
        "it as config",
    ),
    "text-where-a-number-is-expected": Case(
        YAML,
        "  platform:network: {azCount: three}\n",
        ("platform:network.azCount: got 'three': must be a whole number, like 3",),
    ),
    # --- patterns that match too much ----------------------------------------------------------
    "region-with-a-trailing-newline": Case(
        PATTERNS,
        '  aws:region: "eu-west-1\\n"\n',
        ("aws:region: got 'eu-west-1\\n': not an AWS region name; write it like eu-west-1",),
    ),
    "cluster-name-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:clusterName: "eks-dev\\n"\n',
        (
            "platform:clusterName: got 'eks-dev\\n': EKS cluster names are 1-100 letters, digits, "
            "'-' and '_', starting with a letter",
        ),
    ),
    "environment-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:environment: "prod\\n"\n',
        (
            "platform:environment: got 'prod\\n': use lowercase letters, digits and '-', "
            "starting with a letter (at most 32 characters)",
        ),
    ),
    "pool-name-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:nodePools: [{name: "general\\n"}]\n',
        (
            "platform:nodePools[0].name: got 'general\\n': use lowercase letters, digits and '-', "
            "starting with a letter (at most 24 characters)",
        ),
    ),
    "team-name-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:teams: [{name: "news\\n"}]\n',
        (
            "platform:teams[0].name: got 'news\\n': use lowercase letters, digits and '-', "
            "starting with a letter (at most 40 characters)",
        ),
    ),
    "role-arn-with-a-trailing-newline": Case(
        PATTERNS,
        f'  platform:controlPlane: {{adminRoleArns: ["{_arn("admin")}\\n"]}}\n',
        (
            "platform:controlPlane.adminRoleArns: got ['arn:aws:iam::111111111111:role/admin\\n']: "
            "not IAM role ARNs: 'arn:aws:iam::111111111111:role/admin\\n'; write each like "
            "arn:aws:iam::123456789012:role/platform-admin",
        ),
    ),
    "image-tag-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:autoscaler: {imageTag: "v1.31.3\\n"}\n',
        (
            "platform:autoscaler.imageTag: got 'v1.31.3\\n': write a release tag like v1.31.3 "
            "(v1.<minor>.<patch>)",
        ),
    ),
    "addon-version-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:eksAddons: {coredns: "v1.11.4-eksbuild.2\\n"}\n',
        (
            "platform:eksAddons.coredns: got 'v1.11.4-eksbuild.2\\n': not an EKS add-on "
            "version; write it like v1.19.3-eksbuild.1 (aws eks describe-addon-versions lists "
            "them)",
        ),
    ),
    "handler-tag-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:interruptionHandler: {imageTag: "v1.25.2\\n"}\n',
        (
            "platform:interruptionHandler.imageTag: got 'v1.25.2\\n': write a release tag like "
            "v1.25.2",
        ),
    ),
    "cpu-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:headroom: {cpu: "500m\\n"}\n',
        ("platform:headroom.cpu: got '500m\\n': remove the spaces around the quantity",),
    ),
    "log-host-with-a-trailing-newline": Case(
        PATTERNS,
        "  platform:logging:\n"
        "    output: papertrail\n"
        '    papertrail: {host: "logs.example.com\\n", port: 443}\n'
        "  platform:papertrailToken: {secure: v1:AAAA}\n",
        (
            "platform:logging.papertrail.host: got 'logs.example.com\\n': not a host name; write "
            "it like logs.collector.solarwinds.com",
        ),
    ),
    "tag-key-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:tags: {"product\\n": news}\n',
        (
            "platform:tags: got {'product\\n': 'news'}: the key 'product\\n' does not match the "
            "rule: letters, digits, spaces and _.:/=+-@ (the rule every tagging service shares)",
        ),
    ),
    "namespace-with-a-trailing-newline": Case(
        PATTERNS,
        '  platform:descheduler: {excludedNamespaces: ["batch\\n"]}\n',
        (
            "platform:descheduler.excludedNamespaces: got ['batch\\n']: not namespace names: "
            "'batch\\n'; lowercase letters, digits and '-'",
        ),
    ),
    "fluentd-image-tag-ending-in-a-dash": Case(
        PATTERNS,
        "  platform:logging: {output: cloudwatch, imageTag: v1.19.3-debian-cloudwatch-}\n",
        (
            "platform:logging.imageTag: got 'v1.19.3-debian-cloudwatch-': write a fluentd v1 tag "
            "like v1.19.3-debian-cloudwatch-1.1: letters, digits, '.', '_' and '-', at most 63 "
            "characters, ending in a letter or digit (it is also the pods' "
            "app.kubernetes.io/version label)",
        ),
    ),
    "fluentd-image-tag-longer-than-a-label": Case(
        PATTERNS,
        f"  platform:logging: {{output: cloudwatch, imageTag: v1.19.3-debian-cloudwatch-1.{'1' * 37}}}\n",
        (
            f"platform:logging.imageTag: got 'v1.19.3-debian-cloudwatch-1.{'1' * 37}': write a "
            "fluentd v1 tag like v1.19.3-debian-cloudwatch-1.1: letters, digits, '.', '_' and '-', "
            "at most 63 characters, ending in a letter or digit (it is also the pods' "
            "app.kubernetes.io/version label)",
        ),
    ),
    "descheduler-schedule-with-a-line-break": Case(
        PATTERNS,
        '  platform:descheduler: {schedule: "15 3,15 * * *\\n"}\n',
        (
            "platform:descheduler.schedule: got '15 3,15 * * *\\n': has a line break around it: "
            "write the schedule alone, like '15 3,15 * * *'",
        ),
    ),
    # --- derived names past AWS limits ---------------------------------------------------------
    "launch-template-prefix-too-long": Case(
        NAMES,
        f"  platform:clusterName: {LONG}\n  platform:nodePools: [{{name: general-purpose}}]\n",
        (
            f"platform:nodePools[0].name: got 'general-purpose': derives the launch template "
            f"name '{LONG}-general-purpose-', which is 107 characters long as a prefix; the "
            "provider appends 26 and 128 are allowed, so a prefix may have at most 102; shorten "
            "platform:nodePools[0].name or the cluster name",
        ),
    ),
    "cluster-name-upper-case-breaks-the-bucket": Case(
        NAMES,
        "  platform:clusterName: EKS-Dev\n",
        (
            "platform:clusterName: got 'EKS-Dev': derives the S3 bucket name "
            "'EKS-Dev-alb-logs-', which does not match the rule: lowercase letters, digits, '.' "
            "and '-', starting and ending with a letter or digit; shorten or rename "
            "platform:clusterName",
        ),
    ),
    "cluster-name-underscore-breaks-the-bucket": Case(
        NAMES,
        "  platform:clusterName: eks_dev\n",
        (
            "platform:clusterName: got 'eks_dev': derives the S3 bucket name 'eks_dev-alb-logs-', "
            "which does not match the rule: lowercase letters, digits, '.' and '-', starting and "
            "ending with a letter or digit; shorten or rename platform:clusterName",
        ),
    ),
    "cluster-name-101-characters": Case(
        NAMES,
        f"  platform:clusterName: {'c' * 101}\n",
        (
            f"platform:clusterName: got '{'c' * 101}': EKS cluster names are 1-100 letters, "
            "digits, '-' and '_', starting with a letter",
        ),
    ),
    "cluster-name-with-a-dot": Case(
        NAMES,
        "  platform:clusterName: eks.dev\n",
        (
            "platform:clusterName: got 'eks.dev': EKS cluster names are 1-100 letters, digits, "
            "'-' and '_', starting with a letter",
        ),
    ),
    "cluster-name-starting-with-a-digit": Case(
        NAMES,
        "  platform:clusterName: 1eks\n",
        (
            "platform:clusterName: got '1eks': EKS cluster names are 1-100 letters, digits, '-' "
            "and '_', starting with a letter",
        ),
    ),
    "environment-33-characters": Case(
        NAMES,
        f"  platform:environment: {'e' * 33}\n",
        (
            f"platform:environment: got '{'e' * 33}': use lowercase letters, digits and '-', "
            "starting with a letter (at most 32 characters)",
        ),
    ),
    "log-group-reserved-prefix": Case(
        NAMES,
        "  platform:logging: {cloudwatch: {logGroupName: aws/containers}}\n",
        (
            "platform:logging.cloudwatch.logGroupName: got 'aws/containers': not a valid "
            "CloudWatch Logs log group name: starts with 'aws/', reserved by AWS",
        ),
    ),
    "log-group-with-a-colon": Case(
        NAMES,
        "  platform:logging: {cloudwatch: {logGroupName: '/eks/dev:containers'}}\n",
        (
            "platform:logging.cloudwatch.logGroupName: got '/eks/dev:containers': 1-512 of "
            "letters, digits, '_', '-', '.', '/', '#'",
        ),
    ),
    "node-label-key-too-long-for-a-tag": Case(
        NAMES,
        f"  platform:nodePools: [{{name: general, labels: {{{LABEL_KEY}: web}}}}]\n",
        (
            f"platform:nodePools[0].labels: got '{LABEL_KEY}': derives the AWS tag key "
            f"'k8s.io/cluster-autoscaler/node-template/label/{LABEL_KEY}', which is 144 "
            "characters long; 1-128 allowed; shorten the label key (the Cluster Autoscaler reads "
            "node templates from these tags)",
        ),
    ),
    "taint-key-too-long-for-a-tag": Case(
        NAMES,
        "  platform:nodePools:\n"
        "    - {name: general}\n"
        f"    - {{name: batch, taints: [{{key: {TAINT_KEY}}}]}}\n",
        (
            f"platform:nodePools[1].taints: got '{TAINT_KEY}': derives the AWS tag key "
            f"'k8s.io/cluster-autoscaler/node-template/taint/{TAINT_KEY}', which is 136 "
            "characters long; 1-128 allowed; shorten the taint key (the Cluster Autoscaler reads "
            "node templates from these tags)",
        ),
    ),
    "too-many-tags": Case(
        NAMES,
        f"  platform:tags: {{{', '.join(f'k{i}: v' for i in range(38))}}}\n",
        (
            "platform:tags: got {'k0': 'v', 'k1': 'v', 'k10': 'v', 'k11': 'v', 'k12': 'v', 'k13': "
            "'v', 'k14': 'v', 'k15': 'v', 'k16': 'v', 'k17': 'v'...: 38 tags; at most 37 fit "
            "beside the platform's own (AWS allows 50 per resource)",
        ),
    ),
    "tags-and-labels-past-fifty-on-a-group": Case(
        NAMES,
        f"  platform:tags: {{{', '.join(f'k{i}: v' for i in range(30))}}}\n"
        f"  platform:nodePools: [{{name: general, labels: "
        f"{{{', '.join(f'l{i}: v' for i in range(8))}}}}}]\n",
        (
            "platform:nodePools[0]: got 'general': its Auto Scaling groups would carry 51 tags "
            "(30 from platform:tags, 8 labels, 0 taints, the rest the platform's); AWS allows 50: "
            "drop labels, taints or platform:tags",
        ),
    ),
    "tag-value-too-long": Case(
        NAMES,
        f"  platform:tags: {{product: {'v' * 257}}}\n",
        (
            f"platform:tags: got {{'product': '{'v' * 104}...: the value of 'product' is 257 "
            "characters long; 0-256 allowed",
        ),
    ),
    # --- cross-field and cross-object sense ----------------------------------------------------
    "every-pool-tainted": Case(
        SENSE,
        "  platform:nodePools:\n"
        "    - {name: gpu, taints: [{key: example.com/gpu, value: 'true'}]}\n"
        "    - {name: batch, taints: [{key: example.com/batch, effect: NoExecute}]}\n",
        (
            "platform:nodePools: got ['gpu', 'batch']: no pool can run the platform's own pods "
            "from the start (CoreDNS, the Cluster Autoscaler, VPA, metrics-server): 'gpu' is "
            "tainted (example.com/gpu=true:NoSchedule); 'batch' is tainted "
            "(example.com/batch=:NoExecute); give one pool without NoSchedule/NoExecute taints a "
            "minSize of 1 or more (the autoscaler cannot add the first node for itself)",
        ),
    ),
    "only-pool-scales-from-zero": Case(
        SENSE,
        "  platform:nodePools: [{name: general, minSize: 0, onDemandBaseCapacity: 0}]\n",
        (
            "platform:nodePools: got ['general']: no pool can run the platform's own pods from "
            "the start (CoreDNS, the Cluster Autoscaler, VPA, metrics-server): 'general' starts "
            "with no node (minSize 0); give one pool without NoSchedule/NoExecute taints a "
            "minSize of 1 or more (the autoscaler cannot add the first node for itself)",
        ),
    ),
    "critical-addons-pool-only": Case(
        SENSE,
        "  platform:nodePools: [{name: system, taints: [{key: CriticalAddonsOnly}]}]\n",
        (
            "platform:nodePools: got ['system']: no pool can run the platform's own pods from "
            "the start (CoreDNS, the Cluster Autoscaler, VPA, metrics-server): 'system' is "
            "tainted (CriticalAddonsOnly=:NoSchedule); give one pool without NoSchedule/NoExecute "
            "taints a minSize of 1 or more (the autoscaler cannot add the first node for itself)",
        ),
    ),
    "pool-max-size-zero": Case(
        SENSE,
        "  platform:nodePools: [{name: general}, {name: spare, minSize: 0, maxSize: 0, "
        "onDemandBaseCapacity: 0}]\n",
        (
            "platform:nodePools[1].maxSize: got 0: must be 1 or more: a pool of at most 0 nodes "
            "never runs anything",
        ),
    ),
    "duplicate-taints": Case(
        SENSE,
        "  platform:nodePools:\n"
        "    - {name: general}\n"
        "    - name: batch\n"
        "      taints: [{key: example.com/batch}, {key: example.com/batch, value: x}]\n",
        (
            "platform:nodePools[1].taints: got [{'key': 'example.com/batch'}, {'key': "
            "'example.com/batch', 'value': 'x'}]: repeats example.com/batch:NoSchedule: "
            "Kubernetes keeps one taint per key and effect; remove the duplicate",
        ),
    ),
    "headroom-pod-wider-than-every-node": Case(
        SENSE,
        "  platform:headroom: {cpu: '8'}\n",
        (
            "platform:headroom.cpu: got '8': a headroom pause pod would never schedule: a node "
            "of a pool that admits it offers at most 3.69 CPU (m6i.xlarge of pool 'general', "
            "after the kubelet's reservation and the DaemonSets); lower it or add a pool of "
            "larger nodes",
        ),
    ),
    "headroom-pod-taller-than-every-node": Case(
        SENSE,
        "  platform:headroom: {memory: 16Gi}\n",
        (
            "platform:headroom.memory: got '16Gi': a headroom pause pod would never schedule: a "
            "node of a pool that admits it offers at most 15.3Gi (m6i.xlarge of pool 'general', "
            "after the kubelet's reservation and the DaemonSets); lower it or add a pool of "
            "larger nodes",
        ),
    ),
    "headroom-more-pods-than-the-pools-hold": Case(
        SENSE,
        "  platform:nodePools: [{name: general, maxSize: 2}]\n"
        "  platform:headroom: {replicas: 100, cpu: '1'}\n",
        (
            "platform:headroom.replicas: got 100: at most 18 pause pods of 1 CPU / 1Gi fit on "
            "every untainted node the pools may ever have (maxSize per zone); lower replicas or "
            "raise maxSize",
        ),
    ),
    "autoscaler-memory-beyond-every-node": Case(
        SENSE,
        "  platform:autoscaler: {memory: 32Gi}\n",
        (
            "platform:autoscaler.memory: got '32Gi': the Cluster Autoscaler pod would never "
            "schedule: a node of a pool that admits it offers at most 15.3Gi (m6i.xlarge of pool "
            "'general', after the kubelet's reservation and the DaemonSets); lower it or add a "
            "pool of larger nodes",
        ),
    ),
    "vpa-recommender-beyond-every-node": Case(
        SENSE,
        "  platform:nodePools: [{name: small, instanceTypes: [t3.medium, t3a.medium]}]\n"
        "  platform:vpa: {recommender: {memory: 4Gi}}\n",
        (
            "platform:vpa.recommender.memory: got '4Gi': the VPA recommender pod would never "
            "schedule: a node of a pool that admits it offers at most 3.3Gi (t3.medium of pool "
            "'small', after the kubelet's reservation and the DaemonSets); lower it or add a pool "
            "of larger nodes",
        ),
    ),
    "heartbeat-shorter-than-the-drain": Case(
        SENSE,
        "  platform:interruptionHandler: {lifecycleHeartbeatTimeoutSeconds: 60}\n",
        (
            "platform:interruptionHandler.lifecycleHeartbeatTimeoutSeconds: got 60: is shorter "
            "than nodeTerminationGracePeriodSeconds (120): the Auto Scaling group would terminate "
            "the instance while the handler still drains it; make it at least the drain budget",
        ),
    ),
    "pod-grace-above-the-nodes": Case(
        SENSE,
        "  platform:interruptionHandler: {podTerminationGracePeriodSeconds: 300}\n",
        (
            "platform:interruptionHandler.podTerminationGracePeriodSeconds: got 300: is longer "
            "than nodeTerminationGracePeriodSeconds (120): a pod would still be stopping when "
            "the node's drain budget runs out; lower it or raise the node's",
        ),
    ),
    "cron-february-30": Case(
        SENSE,
        "  platform:descheduler: {schedule: '0 3 30 2 *'}\n",
        (
            "platform:descheduler.schedule: got '0 3 30 2 *': never runs: day 30 of FEB never "
            "comes; pick a day the month has",
        ),
    ),
    "cron-april-31": Case(
        SENSE,
        "  platform:descheduler: {schedule: '15 3 31 APR,JUN *'}\n",
        (
            "platform:descheduler.schedule: got '15 3 31 APR,JUN *': never runs: day 31 of APR, "
            "JUN never comes; pick a day the month has",
        ),
    ),
    "zero-cpu": Case(
        SENSE,
        "  platform:autoscaler: {cpu: '0'}\n",
        ("platform:autoscaler.cpu: got '0': must be more than 0 (a pod asks for at least 1m)",),
    ),
    "memory-in-millibytes": Case(
        SENSE,
        "  platform:vpa: {updater: {memory: 100m}}\n",
        (
            "platform:vpa.updater.memory: got '100m': the m suffix means thousandths of a byte; "
            "write Mi (mebibytes), like 100Mi",
        ),
    ),
    "two-thousand-cores": Case(
        SENSE,
        "  platform:interruptionHandler: {cpu: '2000'}\n",
        (
            "platform:interruptionHandler.cpu: got '2000': is 2000 cores, more than any node "
            "offers (at most 192); did you mean millicores, like 2000m?",
        ),
    ),
    "fractional-millicore": Case(
        SENSE,
        "  platform:headroom: {cpu: 0.1m}\n",
        (
            "platform:headroom.cpu: got '0.1m': is below 1m, the smallest CPU amount Kubernetes "
            "schedules; write at least 1m",
        ),
    ),
    "memory-below-a-mebibyte": Case(
        SENSE,
        "  platform:interruptionHandler: {memory: 512Ki}\n",
        (
            "platform:interruptionHandler.memory: got '512Ki': is 524288 bytes; no container "
            "starts with less than 1Mi: write it like 256Mi",
        ),
    ),
    "fluentd-request-above-limit": Case(
        SENSE,
        "  platform:logging: {resources: {cpu: '2', cpuLimit: '1'}}\n",
        (
            "platform:logging.resources.cpu: got '2': is above cpuLimit (1): Kubernetes refuses a "
            "request above its limit; lower it or raise cpuLimit",
        ),
    ),
    "fluentd-buffer-larger-than-the-disk": Case(
        SENSE,
        "  platform:logging: {buffer: {totalLimitSize: 40GB}}\n",
        (
            "platform:logging.buffer.totalLimitSize: got '40GB': the buffer could fill the root "
            "volume of pool 'general' (50 GiB, of which at most 25.0Gi are free once the AMI's "
            "20 GiB and the kubelet's 10% eviction margin are taken); lower it or raise that "
            "pool's rootVolumeSizeGib",
        ),
    ),
    "fluentd-larger-than-a-small-node": Case(
        SENSE,
        "  platform:nodePools:\n"
        "    - {name: general}\n"
        "    - {name: small, instanceTypes: [t3.medium, t3a.medium], minSize: 0}\n"
        "  platform:logging: {resources: {memory: 6Gi}}\n",
        (
            "platform:logging.resources.memory: got '6Gi': fluentd runs on every node, but "
            "t3.medium of pool 'small' offers at most 3.7Gi; lower it",
        ),
    ),
    "kube-proxy-of-another-minor": Case(
        SENSE,
        "  platform:eksAddons: {kubeProxy: v1.30.6-eksbuild.3}\n",
        (
            "platform:eksAddons.kubeProxy: got 'v1.30.6-eksbuild.3': kube-proxy must match the "
            "cluster's minor version 1.35; pick a v1.35.x build from aws eks "
            "describe-addon-versions --addon-name kube-proxy --kubernetes-version 1.35",
        ),
    ),
    "support-type-unknown": Case(
        RANGES,
        "  platform:controlPlane: {supportType: FOREVER}\n",
        (
            "platform:controlPlane.supportType: got 'FOREVER': Input should be 'STANDARD' or "
            "'EXTENDED'",
        ),
    ),
    "minor-eks-does-not-offer": Case(
        SENSE,
        "  platform:kubernetesVersion: '1.37'\n",
        (
            "platform:kubernetesVersion: got '1.37': EKS does not offer Kubernetes 1.37 (EKS "
            "release calendar: 1.29, 1.30, 1.31, 1.32, 1.33, 1.34, 1.35, 1.36); pick one of those",
        ),
    ),
    "new-minor-with-old-add-ons": Case(
        SENSE,
        # Unset add-on versions follow the minor; one pinned for the old minor does not.
        "  platform:kubernetesVersion: '1.33'\n"
        "  platform:eksAddons: {kubeProxy: v1.31.3-eksbuild.2}\n",
        (
            "platform:eksAddons.kubeProxy: got 'v1.31.3-eksbuild.2': kube-proxy must match the "
            "cluster's minor version 1.33; pick a v1.33.x build from aws eks "
            "describe-addon-versions --addon-name kube-proxy --kubernetes-version 1.33",
        ),
    ),
    "team-named-like-the-platform": Case(
        SENSE,
        "  platform:teams: [{name: eks}]\n",
        (
            "platform:teams[0].name: got 'eks': is reserved (the platform's or AWS's own names: "
            "amazon, autoscaler, aws, default, eks, kube, logging, network, nodes, nth, platform, "
            "services): pick another name",
        ),
    ),
    "team-named-like-the-owner-team": Case(
        SENSE,
        "  platform:ownerTeam: sre\n  platform:teams: [{name: sre}]\n",
        (
            "platform:teams[0].name: got 'sre': is reserved (the platform's or AWS's own names: "
            "amazon, autoscaler, aws, default, eks, kube, logging, network, nodes, nth, platform, "
            "services, sre): pick another name",
        ),
    ),
    "team-inside-another-teams-names": Case(
        SENSE,
        "  platform:teams: [{name: news}, {name: news-archive}]\n",
        (
            "platform:teams[1].name: got 'news-archive': starts with team 'news' and a dash: the "
            "permissions boundary's name patterns of 'news' (news-*) would cover this team's "
            "resources; rename one of them",
        ),
    ),
    "team-takes-kube-system": Case(
        SENSE,
        "  platform:teams: [{name: news, namespace: kube-system}]\n",
        (
            "platform:teams[0].namespace: got 'kube-system': is a system or platform namespace; "
            "reserved: default, kube-node-lease, kube-public, kube-system, logging, "
            "overprovisioning, vpa-system and every kube-* name",
        ),
    ),
    "team-takes-logging": Case(
        SENSE,
        "  platform:teams: [{name: news, namespace: logging}]\n",
        (
            "platform:teams[0].namespace: got 'logging': is a system or platform namespace; "
            "reserved: default, kube-node-lease, kube-public, kube-system, logging, "
            "overprovisioning, vpa-system and every kube-* name",
        ),
    ),
    "team-takes-a-kube-prefix": Case(
        SENSE,
        "  platform:teams: [{name: news, namespace: kube-news}]\n",
        (
            "platform:teams[0].namespace: got 'kube-news': is a system or platform namespace; "
            "reserved: default, kube-node-lease, kube-public, kube-system, logging, "
            "overprovisioning, vpa-system and every kube-* name",
        ),
    ),
    "team-named-like-a-platform-namespace": Case(
        SENSE,
        "  platform:teams: [{name: vpa-system}]\n",
        (
            "platform:teams[0].name: got 'vpa-system': is a system or platform namespace and the "
            "namespace defaults to the name; rename the team or set namespace",
        ),
    ),
    "ingress-from-an-unknown-namespace": Case(
        SENSE,
        "  platform:teams: [{name: news, allowIngressFrom: [media]}]\n",
        (
            "platform:teams[0].allowIngressFrom[0]: got 'media': is not the namespace of another "
            "team of this stack (the egress side is built from that team's policies); teams' "
            "namespaces: none",
        ),
    ),
    "ingress-from-itself": Case(
        SENSE,
        "  platform:teams: [{name: news, allowIngressFrom: [news]}]\n",
        (
            "platform:teams[0].allowIngressFrom[0]: got 'news': is the team's own namespace, whose "
            "pods already reach each other; remove it",
        ),
    ),
    "two-teams-one-namespace": Case(
        SENSE,
        "  platform:teams: [{name: news}, {name: media, namespace: news}]\n",
        (
            "platform:teams[1].namespace: got 'news': teams[0] already has this namespace; give "
            "each team its own namespace",
        ),
    ),
    "team-default-request-beyond-every-node": Case(
        SENSE,
        "  platform:teams: [{name: news, quota: {requestsMemory: 128Gi, limitsMemory: 128Gi}, "
        "limitRange: {defaultRequestMemory: 20Gi, defaultLimitMemory: 20Gi, maxMemory: 32Gi}}]\n",
        (
            "platform:teams[0].limitRange.defaultRequestMemory: got '20Gi': no node offers that "
            "much (15.3Gi at most): every pod left to the defaults would stay pending; lower it",
        ),
    ),
    "team-quota-of-zero-cpu": Case(
        SENSE,
        "  platform:teams: [{name: news, quota: {requestsCpu: '0'}}]\n",
        (
            "platform:teams[0].quota.requestsCpu: got '0': must be at least 1m: a quota of 0 CPU "
            "admits no pod",
        ),
    ),
    "vpc-overlaps-the-service-range": Case(
        SENSE,
        "  platform:network: {cidr: 172.20.0.0/16}\n",
        (
            "platform:network.cidr: got '172.20.0.0/16': overlaps the cluster's Kubernetes "
            "service range 172.20.0.0/16: Service IPs would shadow VPC addresses; pick another "
            "range, like 10.0.0.0/16",
        ),
    ),
    "zones-of-another-region": Case(
        SENSE,
        "  platform:network: {azCount: 2, availabilityZones: [us-east-1a, us-east-1b]}\n",
        (
            "platform:network.availabilityZones: got ['us-east-1a', 'us-east-1b']: 'us-east-1a', "
            "'us-east-1b' are not zones of eu-west-1",
        ),
    ),
    "zone-not-available": Case(
        SENSE,
        "  platform:network: {azCount: 2, availabilityZones: [eu-west-1a, eu-west-1e]}\n",
        (
            "platform:network.availabilityZones: got ['eu-west-1a', 'eu-west-1e']: 'eu-west-1e' "
            "not available in eu-west-1 (available: eu-west-1a, eu-west-1b, eu-west-1c, "
            "eu-west-1d)",
        ),
    ),
    "more-zones-than-the-region-has": Case(
        SENSE,
        "  platform:network: {azCount: 5}\n",
        (
            "platform:network.azCount: got 5: the region has only 4 available zones (eu-west-1a, "
            "eu-west-1b, eu-west-1c, eu-west-1d); lower azCount",
        ),
    ),
    "thresholds-above-targets": Case(
        SENSE,
        "  platform:descheduler: {lowNodeUtilization: {thresholds: {cpu: 70}}}\n",
        (
            "platform:descheduler.lowNodeUtilization.thresholds: got {'cpu': 70}: each threshold "
            "must be below its targetThresholds value (cpu 70 >= 60); lower the threshold or "
            "raise the target",
        ),
    ),
    "on-demand-base-above-max": Case(
        SENSE,
        "  platform:nodePools: [{name: general, onDemandBaseCapacity: 12, maxSize: 10}]\n",
        (
            "platform:nodePools[0].onDemandBaseCapacity: got 12: is above maxSize (10), so the "
            "group could never run spot; lower it or raise maxSize",
        ),
    ),
    "mixed-instance-shapes": Case(
        SENSE,
        "  platform:nodePools: [{name: general, instanceTypes: [m6i.xlarge, m6i.2xlarge]}]\n",
        (
            "platform:nodePools[0].instanceTypes: got ['m6i.xlarge', 'm6i.2xlarge']: all types "
            "must have the shape of the first (m6i.xlarge: 4 vCPU/16 GiB) because the Cluster "
            "Autoscaler plans with it; but m6i.2xlarge is 8 vCPU/32 GiB: move them to a pool of "
            "their own",
        ),
    ),
    "scale-down-threshold-zero": Case(
        SENSE,
        "  platform:autoscaler: {scaleDownUtilizationThreshold: 0}\n",
        (
            "platform:autoscaler.scaleDownUtilizationThreshold: got 0: must be above 0 and at "
            "most 1 (a fraction of the node's allocatable; 0.5 is usual; to stop scale-down set "
            "scaleDownEnabled: false)",
        ),
    ),
    # --- silent drops --------------------------------------------------------------------------
    "company-tag-team": Case(
        DROPS,
        "  platform:tags: {team: media}\n",
        (
            "platform:tags: got {'team': 'media'}: 'team' is a company tag the platform sets "
            "(from platform:ownerTeam); remove it here and set platform:ownerTeam",
        ),
    ),
    "company-tag-other-case": Case(
        DROPS,
        "  platform:tags: {Environment: prod}\n",
        (
            "platform:tags: got {'Environment': 'prod'}: 'Environment' is a company tag the "
            "platform sets (from platform:environment); remove it here and set "
            "platform:environment",
        ),
    ),
    "company-tag-managed-by": Case(
        DROPS,
        "  platform:tags: {managed-by: terraform}\n",
        (
            "platform:tags: got {'managed-by': 'terraform'}: 'managed-by' is a company tag the "
            "platform sets (from nothing: the platform sets it); remove it here",
        ),
    ),
    "owner-tag": Case(
        DROPS,
        "  platform:tags: {eksplatform-owner: news}\n",
        (
            "platform:tags: got {'eksplatform-owner': 'news'}: 'eksplatform-owner' is a company "
            "tag the platform sets (from nothing: it marks the platform's own resources, which "
            "service roles may never touch); remove it here",
        ),
    ),
    "autoscaler-discovery-tag": Case(
        DROPS,
        "  platform:tags: {k8s.io/cluster-autoscaler/enabled: 'false'}\n",
        (
            "platform:tags: got {'k8s.io/cluster-autoscaler/enabled': 'false'}: "
            "'k8s.io/cluster-autoscaler/enabled': k8s.io/cluster-autoscaler/* tags are the "
            "platform's own (the Cluster Autoscaler finds and sizes the node groups by it); "
            "remove it here",
        ),
    ),
    "cluster-ownership-tag": Case(
        DROPS,
        "  platform:tags: {kubernetes.io/cluster/other: owned}\n",
        (
            "platform:tags: got {'kubernetes.io/cluster/other': 'owned'}: "
            "'kubernetes.io/cluster/other': kubernetes.io/cluster/* tags are the platform's own "
            "(EKS and the load balancer controller find the cluster's subnets and nodes by it); "
            "remove it here",
        ),
    ),
    "name-tag": Case(
        DROPS,
        "  platform:tags: {Name: my-cluster}\n",
        (
            "platform:tags: got {'Name': 'my-cluster'}: 'Name' is a company tag the platform "
            "sets (from nothing: each resource gets its own Name tag); remove it here",
        ),
    ),
    "key-without-a-namespace": Case(
        DROPS,
        "  clusterName: eks-dev-blue\n",
        (
            "eks-platform:clusterName: got 'eks-dev-blue': a key without a namespace belongs to "
            "the project (eks-platform); the cluster program reads the platform namespace: write "
            "platform:clusterName",
        ),
    ),
    "unknown-top-level-key": Case(
        DROPS,
        "  platform:nodepools: [{name: general}]\n",
        (
            "platform:nodepools: got [{'name': 'general'}]: unknown key; allowed keys here: "
            f"{TOP_LEVEL_KEYS}; did you mean platform:nodePools?",
        ),
    ),
    "unknown-nested-key": Case(
        DROPS,
        "  platform:controlPlane: {publicAccessCidr: [203.0.113.0/24]}\n",
        (
            "platform:controlPlane.publicAccessCidr: got ['203.0.113.0/24']: unknown key; allowed "
            "keys here: adminRoleArns, deletionProtection, endpointPublicAccess, logRetentionDays, "
            "logTypes, publicAccessCidrs, supportType; did you mean publicAccessCidrs?",
        ),
    ),
    "iam-delegated-to-services": Case(
        DROPS,
        "  platform:servicePlatform: {allowedServices: [s3, iam]}\n",
        (
            "platform:servicePlatform.allowedServices: got ['s3', 'iam']: 'iam' cannot be "
            "allowed: give IAM service prefixes like 'dynamodb'; iam, sts, organizations and "
            "account are never delegated",
        ),
    ),
    "service-prefix-upper-case": Case(
        DROPS,
        "  platform:servicePlatform: {allowedServices: [DynamoDB]}\n",
        (
            "platform:servicePlatform.allowedServices: got ['DynamoDB']: 'DynamoDB' cannot be "
            "allowed: give IAM service prefixes like 'dynamodb'; iam, sts, organizations and "
            "account are never delegated",
        ),
    ),
    # --- exit codes and secure values ----------------------------------------------------------
    "papertrail-without-token": Case(
        EXIT,
        "  platform:logging: {output: papertrail, papertrail: {host: logs.example.com, port: 443}}\n",
        (
            "platform:papertrailToken: missing: logging.output is papertrail: set the token as a "
            "secret with `pulumi config set --secret platform:papertrailToken <token>`",
        ),
    ),
    "papertrail-token-in-plain-text": Case(
        EXIT,
        "  platform:logging: {output: papertrail, papertrail: {host: logs.example.com, port: 443}}\n"
        "  platform:papertrailToken: pt-0123456789\n",
        (
            "platform:papertrailToken: got [not shown]: is in plain text in the stack file; "
            "encrypt it with `pulumi config set --secret platform:papertrailToken <token>` (and "
            "rotate the token: it is in the file's history)",
        ),
    ),
    "papertrail-token-secure-misspelt": Case(
        EXIT,
        "  platform:logging: {output: papertrail, papertrail: {host: logs.example.com, port: 443}}\n"
        "  platform:papertrailToken: {secret: v1:AAAA}\n",
        (
            "platform:papertrailToken: got [not shown]: a secure value is written `secure: "
            "<ciphertext>`, as `pulumi config set --secret platform:papertrailToken <token>` "
            "writes it",
        ),
    ),
    "papertrail-token-key-misspelt": Case(
        EXIT,
        "  platform:logging: {output: papertrail, papertrail: {host: logs.example.com, port: 443}}\n"
        "  platform:papertrailtoken: {secure: v1:AAAA}\n",
        (
            "platform:papertrailtoken: got [secret]: unknown key; allowed keys here: "
            f"{TOP_LEVEL_KEYS}; did you mean platform:papertrailToken?",
            "platform:papertrailToken: missing: logging.output is papertrail: set the token as a "
            "secret with `pulumi config set --secret platform:papertrailToken <token>`",
        ),
    ),
    "papertrail-token-without-namespace": Case(
        EXIT,
        "  platform:logging: {output: papertrail, papertrail: {host: logs.example.com, port: 443}}\n"
        "  papertrailToken: {secure: v1:AAAA}\n",
        (
            "eks-platform:papertrailToken: got [secret]: a key without a namespace belongs to the "
            "project (eks-platform); the cluster program reads the platform namespace: write "
            "platform:papertrailToken",
            "platform:papertrailToken: missing: logging.output is papertrail: set the token as a "
            "secret with `pulumi config set --secret platform:papertrailToken <token>`",
        ),
    ),
    "papertrail-without-host-and-port": Case(
        EXIT,
        "  platform:logging: {output: papertrail}\n  platform:papertrailToken: {secure: v1:AAAA}\n",
        (
            "platform:logging.papertrail: missing: output is papertrail but host and port are "
            "not set; copy them from the Papertrail log destination (e.g. host: "
            "logs.collector.solarwinds.com, port: 443)",
        ),
    ),
    "region-missing": Case(
        EXIT,
        "  aws:region: ''\n",
        ("aws:region: got '': not an AWS region name; write it like eu-west-1",),
    ),
    "empty-section": Case(
        EXIT,
        "  platform:network:\n",
        (
            "platform:network: got '': is empty; remove the key to keep its default, or give it "
            "a value",
        ),
    ),
    "empty-cluster-name": Case(
        EXIT,
        "  platform:clusterName: ''\n",
        (
            "platform:clusterName: got '': is empty; remove the key to keep its default, or give "
            "it a value",
        ),
    ),
    "null-nested-value": Case(
        EXIT,
        "  platform:network: {cidr: ~}\n",
        (
            "platform:network.cidr: got ~: is empty; remove the key to keep its default, or give "
            "it a value",
        ),
    ),
    "nothing-for-a-required-key": Case(
        EXIT,
        "  platform:nodePools: [{name: }]\n",
        ("platform:nodePools[0].name: got (nothing): is empty; give it a value",),
    ),
    # --- meaningful ranges at their edges ------------------------------------------------------
    "vpc-a-slash-15": Case(
        RANGES,
        "  platform:network: {cidr: 10.0.0.0/15}\n",
        (
            "platform:network.cidr: got '10.0.0.0/15': the VPC must be a /16 to /20 (AWS allows "
            "/16 at most; pods need room)",
        ),
    ),
    "vpc-a-slash-21": Case(
        RANGES,
        "  platform:network: {cidr: 10.0.0.0/21}\n",
        (
            "platform:network.cidr: got '10.0.0.0/21': the VPC must be a /16 to /20 (AWS allows "
            "/16 at most; pods need room)",
        ),
    ),
    "seven-zones": Case(
        RANGES,
        "  platform:network: {azCount: 7}\n",
        ("platform:network.azCount: got 7: must be 1 to 6 (3 is the production norm)",),
    ),
    "pool-min-above-max": Case(
        RANGES,
        "  platform:nodePools: [{name: general, minSize: 11}]\n",
        ("platform:nodePools[0].minSize: got 11: is above maxSize (10); make minSize <= maxSize",),
    ),
    "root-volume-19-gib": Case(
        RANGES,
        "  platform:nodePools: [{name: general, rootVolumeSizeGib: 19}]\n",
        (
            "platform:nodePools[0].rootVolumeSizeGib: got 19: must be 20 to 16384 (the AMI's own "
            "snapshot is 20 GiB)",
        ),
    ),
    "handler-replicas-six": Case(
        RANGES,
        "  platform:interruptionHandler: {replicas: 6}\n",
        (
            "platform:interruptionHandler.replicas: got 6: must be 1 to 5 (2 keeps one handler "
            "through a zone loss)",
        ),
    ),
    "queue-retention-59": Case(
        RANGES,
        "  platform:interruptionHandler: {queueMessageRetentionSeconds: 59}\n",
        (
            "platform:interruptionHandler.queueMessageRetentionSeconds: got 59: SQS keeps "
            "messages 60 to 1209600 seconds (14 days)",
        ),
    ),
    "autoscaler-replicas-four": Case(
        RANGES,
        "  platform:autoscaler: {replicas: 4}\n",
        (
            "platform:autoscaler.replicas: got 4: must be 1 to 3 (one leader; the others are "
            "warm standbys)",
        ),
    ),
    "descheduler-deadline-59": Case(
        RANGES,
        "  platform:descheduler: {activeDeadlineSeconds: 59}\n",
        ("platform:descheduler.activeDeadlineSeconds: got 59: must be 60 to 86400 seconds",),
    ),
    "alb-log-retention-3651": Case(
        RANGES,
        "  platform:servicePlatform: {albLogRetentionDays: 3651}\n",
        ("platform:servicePlatform.albLogRetentionDays: got 3651: must be 1 to 3650 days",),
    ),
    "kubernetes-1-28": Case(
        RANGES,
        "  platform:kubernetesVersion: '1.28'\n",
        (
            "platform:kubernetesVersion: got '1.28': must be 1.29 or newer: the Envoy sidecar "
            "runs as a native sidecar, on by default only from 1.29",
        ),
    ),
    "every-problem-at-once": Case(
        RANGES,
        "  platform:network: {azCount: 0}\n"
        "  platform:tags: {team: media}\n"
        "  platform:headroom: {cpu: '0'}\n"
        "  platform:nodePools: [{name: general, minSize: 0, onDemandBaseCapacity: 0}]\n",
        (
            "platform:tags: got {'team': 'media'}: 'team' is a company tag the platform sets "
            "(from platform:ownerTeam); remove it here and set platform:ownerTeam",
            "platform:network.azCount: got 0: must be 1 to 6 (3 is the production norm)",
            "platform:headroom.cpu: got '0': must be more than 0 (a pod asks for at least 1m)",
            "platform:nodePools: got ['general']: no pool can run the platform's own pods from "
            "the start (CoreDNS, the Cluster Autoscaler, VPA, metrics-server): 'general' starts "
            "with no node (minSize 0); give one pool without NoSchedule/NoExecute taints a "
            "minSize of 1 or more (the autoscaler cannot add the first node for itself)",
        ),
    ),
    # --- checks that lived only in a component's constructor (refused there after the earlier
    # components had registered their resources), now rules of the config pass ---------------
    "boundary-past-the-iam-policy-size-limit": Case(
        NAMES,
        "  platform:servicePlatform:\n"
        "    allowedServices: [cloudwatch, dynamodb, events, execute-api, firehose, kinesis, kms,\n"
        "      logs, s3, secretsmanager, sns, sqs, ssm, xray, glue, quicksight, redshift]\n",
        (
            "platform:servicePlatform.allowedServices: got ['cloudwatch', 'dynamodb', 'events', "
            "'execute-api', 'firehose', 'kinesis', 'kms', 'logs', 's3', 'secretsmanager', 'sn...: "
            "the permissions boundary would be 6259 characters, over IAM's limit of 6144 for a "
            "managed policy: allow fewer services",
        ),
    ),
    "fluentd-size-ending-in-a-newline": Case(
        PATTERNS,
        '  platform:logging: {buffer: {totalLimitSize: "1GB\\n"}}\n',
        (
            "platform:logging.buffer.totalLimitSize: got '1GB\\n': spans lines (fluent.conf "
            "takes each parameter on one line); remove the line break",
        ),
    ),
    "fluentd-size-ending-in-a-carriage-return": Case(
        PATTERNS,
        '  platform:logging: {buffer: {chunkLimitSize: "8MB\\r"}}\n',
        (
            "platform:logging.buffer.chunkLimitSize: got '8MB\\r': spans lines (fluent.conf "
            "takes each parameter on one line); remove the line break",
        ),
    ),
    "team-takes-the-datadog-namespace": Case(
        SENSE,
        "  platform:teams: [{name: news, namespace: datadog}]\n",
        (
            "platform:teams[0].namespace: got 'datadog': is the Datadog agents' "
            "(platform:datadog) namespace: the team's quota, policies and pods would land among "
            "the platform's; pick another namespace",
        ),
    ),
    "team-named-like-the-dev-environments-namespace": Case(
        SENSE,
        "  platform:teams: [{name: devenv-system}]\n",
        (
            "platform:teams[0].name: got 'devenv-system': is the developer environments' "
            "janitor's (platform:devEnvironments) namespace and the namespace defaults to the "
            "name; rename the team or set namespace",
        ),
    ),
}
