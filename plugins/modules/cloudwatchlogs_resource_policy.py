#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_resource_policy
version_added: 0.1.0
short_description: Manage an account-scoped CloudWatch Logs resource policy
description:
  - Creates, updates or deletes a CloudWatch Logs resource policy (C(PutResourcePolicy),
    C(DescribeResourcePolicies), C(DeleteResourcePolicy)) of the account scope, the policy
    that lets an AWS service such as OpenSearch Service (C(es.amazonaws.com)) create log
    streams and put log events in this account's log groups.
  - The policy is compared by meaning (sorted keys, C(Action)/C(Resource) and principal and
    condition values as sorted lists), so reformatting it does not report a change.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  policy_name:
    description:
      - Name of the resource policy (1 to 256 characters).
    required: true
    type: str
  policy_document:
    description:
      - The policy document. Required with O(state=present).
      - AWS accepts only C(logs:PutLogEvents) and C(logs:CreateLogStream) for AWS service
        principals; the module refuses other actions and principals other than C(Service).
      - At most 51,200 characters as compact JSON (C(PolicyDocument) in botocore's CloudWatch Logs
        service model).
    type: dict
  state:
    description:
      - V(present) creates or updates the policy, V(absent) deletes it.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the policy before and after.
  - An account has at most 10 account-scoped resource policies per region (PutResourcePolicy,
    CloudWatch Logs API reference). That is a hard quota, not throttling, so
    C(LimitExceededException) fails the task at once naming the policy; throttling,
    C(OperationAbortedException) and C(ServiceUnavailableException) are retried with
    amazon.aws's jittered backoff.
  - Resource-scoped policies (C(resourceArn)) are out of scope.
seealso:
  - name: PutResourcePolicy (CloudWatch Logs API reference)
    description: Supported actions and principals, and the limit of 10 policies per account.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html
  - name: Monitoring OpenSearch logs with Amazon CloudWatch Logs
    description: The resource policy OpenSearch Service needs to publish its logs.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/createdomain-configure-slow-logs.html
  - module: logvault.aws.opensearch_domain_log_publishing
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Let OpenSearch Service write the domain's audit and error logs
  logvault.aws.cloudwatchlogs_resource_policy:
    policy_name: logvault-opensearch-logs
    policy_document:
      Version: "2012-10-17"
      Statement:
        - Sid: OpenSearchLogs
          Effect: Allow
          Principal: {Service: es.amazonaws.com}
          Action: [logs:CreateLogStream, logs:PutLogEvents]
          Resource: arn:aws:logs:us-east-1:123456789012:log-group:/aws/opensearch/logvault-search/*
          Condition:
            StringEquals: {aws:SourceAccount: "123456789012"}
            ArnLike: {aws:SourceArn: arn:aws:es:us-east-1:123456789012:domain/logvault-search}

- name: Remove it
  logvault.aws.cloudwatchlogs_resource_policy:
    policy_name: logvault-opensearch-logs
    state: absent
"""

RETURN = r"""
policy_name:
  description: Name of the policy.
  returned: always
  type: str
  sample: logvault-opensearch-logs
policy_document:
  description: The policy after the task (empty when absent).
  returned: always
  type: dict
  sample: {"Version": "2012-10-17", "Statement": []}
"""

import json

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import canonical_json
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import policies_equal

RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]
POLICY_MAX_CHARS = 51200
ACTIONS = ("logs:CreateLogStream", "logs:PutLogEvents")


def _as_list(value):
    return value if isinstance(value, list) else [value]


def policy_problem(policy):
    """Why the document is refused, or None."""
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return "must be a policy document with at least one statement in 'Statement'"
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            return "Statement[%d] must be a dict, got %r" % (index, statement)
        if statement.get("Effect") not in ("Allow", "Deny"):
            return "Statement[%d].Effect must be Allow or Deny, got %r" % (index, statement.get("Effect"))
        principal = statement.get("Principal")
        if not isinstance(principal, dict) or set(principal) != {"Service"}:
            return ("Statement[%d].Principal must name AWS service principals only ({'Service': ...}); CloudWatch Logs "
                    "resource policies apply only to them, got %r" % (index, principal))
        for action in _as_list(statement.get("Action")):
            if action not in ACTIONS:
                return "Statement[%d].Action %r is not one of %s, the only actions AWS accepts here" % (
                    index, action, ", ".join(ACTIONS))
        if not statement.get("Resource"):
            return "Statement[%d] has no Resource" % index
    size = len(canonical_json(policy))
    if size > POLICY_MAX_CHARS:
        return "is %d characters as compact JSON, more than the %d AWS accepts" % (size, POLICY_MAX_CHARS)
    return None


@AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)
def _describe(client, **kwargs):
    # botocore has no paginator for DescribeResourcePolicies, so follow nextToken here.
    policies = []
    while True:
        page = client.describe_resource_policies(**kwargs)
        policies.extend(page.get("resourcePolicies") or [])
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return policies
        kwargs["nextToken"] = token


def current_policy(module, client, name):
    """The named account-scoped policy document, or None when there is none."""
    try:
        policies = _describe(client)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the CloudWatch Logs resource policies")
    for policy in policies:
        if policy.get("policyName") == name and not policy.get("resourceArn"):
            return json.loads(policy.get("policyDocument") or "{}")
    return None


def main():
    argument_spec = dict(
        policy_name=dict(type="str", required=True),
        policy_document=dict(type="dict"),
        state=dict(type="str", choices=["present", "absent"], default="present"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True,
                              required_if=[("state", "present", ["policy_document"])])
    name = module.params["policy_name"]
    document = module.params["policy_document"]
    state = module.params["state"]
    if not name or len(name) > 256:
        module.fail_json(msg="policy_name must be 1 to 256 characters, got %r" % name, parameter="policy_name")
    if state == "present":
        problem = policy_problem(document)
        if problem:
            module.fail_json(msg="policy_document %s" % problem, parameter="policy_document")

    try:
        client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    before = current_policy(module, client, name)
    if state == "absent":
        changed = before is not None
        if changed and not module.check_mode:
            try:
                client.delete_resource_policy(aws_retry=True, policyName=name)
            except is_boto3_error_code("ResourceNotFoundException"):
                pass
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete the CloudWatch Logs resource policy %s" % name)
        after = {}
    else:
        changed = before is None or not policies_equal(before, document)
        if changed and not module.check_mode:
            try:
                client.put_resource_policy(aws_retry=True, policyName=name, policyDocument=canonical_json(document))
            except is_boto3_error_code("LimitExceededException") as e:
                module.fail_json_aws(e, msg="CloudWatch Logs resource policy %s: the account already has the most account-"
                                            "scoped resource policies AWS allows in this region (10); nothing was written"
                                            % name)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to put the CloudWatch Logs resource policy %s" % name)
        after = document if changed else before

    result = dict(changed=changed, policy_name=name, policy_document=after)
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
