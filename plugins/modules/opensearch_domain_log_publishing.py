#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_domain_log_publishing
version_added: 0.1.0
short_description: Publish an OpenSearch Service domain's logs to CloudWatch Logs
description:
  - Sets the C(LogPublishingOptions) of an existing OpenSearch Service domain with
    C(UpdateDomainConfig), comparing them with C(DescribeDomainConfig) first and writing only
    when a listed log type differs. C(community.aws.opensearch) 10.0.0 does not manage them.
  - Log types not listed in O(logs) are left as they are.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  domain_name:
    description:
      - Name of the domain (3 to 28 lowercase letters, digits or V(-), starting with a letter).
    required: true
    type: str
  logs:
    description:
      - The log types to set, keyed by type.
    required: true
    type: dict
    suboptions:
      AUDIT_LOGS:
        description: Audit logs. Enabling them needs fine-grained access control on the domain.
        type: dict
        suboptions: &log_option
          log_group_arn:
            description:
              - ARN of the CloudWatch Logs log group (C(arn:PARTITION:logs:REGION:ACCOUNT:log-group:NAME),
                without a trailing C(:*)). Required when O(logs.AUDIT_LOGS.enabled=true).
            type: str
          enabled:
            description: Whether the domain publishes this log type.
            type: bool
            default: true
      ES_APPLICATION_LOGS:
        description: Error (application) logs.
        type: dict
        suboptions: *log_option
      INDEX_SLOW_LOGS:
        description: Index slow logs.
        type: dict
        suboptions: *log_option
      SEARCH_SLOW_LOGS:
        description: Search slow logs.
        type: dict
        suboptions: *log_option
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the log publishing options before and after.
  - Audit logs need fine-grained access control (the audit logs page of the OpenSearch Service
    developer guide, "If your Amazon OpenSearch Service domain uses fine-grained access control,
    you can enable audit logs"); the module fails before any write, naming O(logs), when
    C(AUDIT_LOGS) is to be enabled on a domain without it.
  - Publishing is the first of two steps for audit logs. The second, turning audit logging on
    and choosing its categories in OpenSearch Dashboards or the security plugin's
    C(_plugins/_security/api/audit/config) REST API, is not done by this module.
  - OpenSearch Service must be allowed to write to the log groups by a CloudWatch Logs
    resource policy (M(logvault.aws.cloudwatchlogs_resource_policy)) before this module runs;
    AWS refuses the update otherwise.
  - Throttling is retried with amazon.aws's jittered backoff. In check mode a domain that does
    not exist yet counts as publishing nothing; outside check mode it fails the task.
seealso:
  - name: Monitoring audit logs in Amazon OpenSearch Service
    description: Audit logs need fine-grained access control; enabling them is a two-step process.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/audit-logs.html
  - name: Monitoring OpenSearch logs with Amazon CloudWatch Logs
    description: Error and slow logs, and the resource policy they need.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/createdomain-configure-slow-logs.html
  - module: logvault.aws.cloudwatchlogs_resource_policy
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Publish the domain's audit and error logs
  logvault.aws.opensearch_domain_log_publishing:
    domain_name: logvault-search
    logs:
      AUDIT_LOGS:
        log_group_arn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/opensearch/logvault-search/audit
      ES_APPLICATION_LOGS:
        log_group_arn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/opensearch/logvault-search/error

- name: Stop publishing the search slow logs
  logvault.aws.opensearch_domain_log_publishing:
    domain_name: logvault-search
    logs:
      SEARCH_SLOW_LOGS:
        enabled: false
"""

RETURN = r"""
domain_name:
  description: Name of the domain.
  returned: always
  type: str
  sample: logvault-search
log_publishing_options:
  description: The domain's log publishing options after the task, as AWS names them.
  returned: always
  type: dict
  sample:
    AUDIT_LOGS:
      CloudWatchLogsLogGroupArn: arn:aws:logs:us-east-1:123456789012:log-group:/aws/opensearch/logvault-search/audit
      Enabled: true
"""

import copy
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")
LOG_TYPES = ("AUDIT_LOGS", "ES_APPLICATION_LOGS", "INDEX_SLOW_LOGS", "SEARCH_SLOW_LOGS")
LOG_GROUP_ARN = re.compile(r"^arn:aws(?:-cn|-us-gov|-iso|-iso-[a-z])?:logs:[a-z0-9-]+:[0-9]{12}:log-group:[.\-_/#A-Za-z0-9]{1,512}$")


def wanted_options(logs):
    """{type: {'CloudWatchLogsLogGroupArn': ..., 'Enabled': ...}} for the listed types; raises ValueError."""
    wanted = {}
    for log_type, option in logs.items():
        if option is None:
            continue
        arn = option.get("log_group_arn")
        enabled = option.get("enabled", True)
        if enabled and not arn:
            raise ValueError("logs.%s.log_group_arn is required when the log type is enabled" % log_type)
        if arn and not LOG_GROUP_ARN.match(arn):
            raise ValueError("logs.%s.log_group_arn must be a log group ARN (arn:aws:logs:REGION:ACCOUNT:log-group:NAME, "
                             "without ':*'), got %r" % (log_type, arn))
        entry = {"Enabled": bool(enabled)}
        if arn:
            entry["CloudWatchLogsLogGroupArn"] = arn
        wanted[log_type] = entry
    return wanted


def differs(current, entry):
    """Whether one log type's current option differs from the wanted entry."""
    if bool(current.get("Enabled")) != entry["Enabled"]:
        return True
    # A disabled type without a log group keeps whatever group it had.
    return "CloudWatchLogsLogGroupArn" in entry and current.get("CloudWatchLogsLogGroupArn") != entry["CloudWatchLogsLogGroupArn"]


def read_domain(module, client, domain):
    """(log publishing options, fine-grained access control enabled), or None when the domain does not exist."""
    try:
        config = client.describe_domain_config(aws_retry=True, DomainName=domain)["DomainConfig"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the configuration of OpenSearch domain %s" % domain)
    options = (config.get("LogPublishingOptions") or {}).get("Options") or {}
    fgac = bool(((config.get("AdvancedSecurityOptions") or {}).get("Options") or {}).get("Enabled"))
    return options, fgac


def main():
    log_option = dict(type="dict", options=dict(log_group_arn=dict(type="str"), enabled=dict(type="bool", default=True)))
    argument_spec = dict(
        domain_name=dict(type="str", required=True),
        logs=dict(type="dict", required=True, options={log_type: copy.deepcopy(log_option) for log_type in LOG_TYPES}),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    domain = module.params["domain_name"]
    if not DOMAIN_NAME.match(domain):
        module.fail_json(msg="domain_name must be 3 to 28 lowercase letters, digits or '-', starting with a letter, got %r"
                             % domain, parameter="domain_name")
    try:
        wanted = wanted_options(module.params["logs"])
    except ValueError as e:
        module.fail_json(msg=str(e), parameter="logs")
    if not wanted:
        module.fail_json(msg="logs must set at least one of %s" % ", ".join(LOG_TYPES), parameter="logs")

    try:
        client = module.client("opensearch", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to OpenSearch Service")

    found = read_domain(module, client, domain)
    if found is None:
        if not module.check_mode:
            module.fail_json(msg="OpenSearch domain %s does not exist; create it first (community.aws.opensearch)" % domain,
                             domain_name=domain)
        found = ({}, True)  # check mode: the task that creates the domain did not run
    before, fgac = found
    if wanted.get("AUDIT_LOGS", {}).get("Enabled") and not fgac:
        module.fail_json(msg="logs.AUDIT_LOGS: OpenSearch domain %s does not use fine-grained access control, which audit "
                             "logs need; enable it (advanced_security_options) first. Nothing was changed." % domain,
                         parameter="logs")

    update = {t: e for t, e in wanted.items() if differs(before.get(t) or {}, e)}
    after = copy.deepcopy(before)
    for log_type, entry in update.items():
        after[log_type] = dict(after.get(log_type) or {}, **entry)
    if update and not module.check_mode:
        try:
            # Every type the domain has, not only the changed ones: whether AWS merges the map or
            # replaces it is not documented, and the whole map is right in both cases.
            client.update_domain_config(aws_retry=True, DomainName=domain, LogPublishingOptions=after)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to update the log publishing options of OpenSearch domain %s (a CloudWatch "
                                        "Logs resource policy must let es.amazonaws.com write to %s)"
                                        % (domain, ", ".join(sorted(update))))

    result = dict(changed=bool(update), domain_name=domain, log_publishing_options=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
