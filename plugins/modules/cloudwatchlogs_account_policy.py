#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_account_policy
version_added: 0.1.0
short_description: Manage the account-level CloudWatch Logs subscription filter policy
description:
  - Creates, updates and deletes an account-level C(SUBSCRIPTION_FILTER_POLICY). It subscribes
    every current and future log group of the account and region to one destination, except
    the groups listed in O(excluded_log_groups).
  - Neither C(amazon.aws) nor C(community.aws) manages CloudWatch Logs account policies. The
    logvault pipeline uses this one to onboard a whole member account in one call while
    keeping the pipeline's own log groups out (no log recursion).
  - O(excluded_log_groups) is rendered as the selection criteria
    C(LogGroupName NOT IN ["a", "b"]); AWS limits that string to 25 KB (25,600 bytes, UTF-8),
    which is checked before any AWS call.
  - The policy document is compared as canonical JSON and the excluded groups as a sorted
    set, so a second run makes no write call.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  policy_name:
    description:
      - Name of the account policy. Must not start with V(aws/).
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the policy, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
  destination_arn:
    description:
      - Where the events go. A CloudWatch Logs destination ARN (cross-account), or a Kinesis
        data stream, Firehose delivery stream or Lambda function ARN in the same account.
      - Required when O(state=present), unless O(regions) is given (then use O(destination_arns)).
    type: str
  regions:
    description:
      - Manage the policy in each of these regions in one module run, instead of the one region of O(region).
        The module makes the same calls as a task looped over the regions, in one process, with one client
        and one thread per region (CloudWatch Logs has no multi-region call).
      - Check mode, diff and errors are per region. When a region fails, the others are still done and
        the task fails with a message naming every region that failed (RV(regions) has each region's result).
      - O(region) is not used when this is given.
    type: list
    elements: str
  destination_arns:
    description:
      - With O(regions), the destination of each region, as a mapping of region name to ARN (destinations are
        regional). Required for every region of O(regions) when O(state=present); other keys are ignored.
    type: dict
  role_arn:
    description:
      - IAM role CloudWatch Logs assumes to write to a same-account Kinesis or Firehose stream.
        Required with such a stream (AWS refuses the policy without one), unless the existing policy has one;
        otherwise the region fails naming this option, and nothing is written.
      - Not needed for a cross-account destination. Refused with a Lambda function, before any AWS call
        (CloudWatch Logs invokes the function under its resource policy).
      - When not given, the role of an existing policy is kept, except when the policy moves to a Lambda function.
    type: str
  filter_pattern:
    description:
      - CloudWatch Logs filter pattern selecting the events to send. V("") sends every event.
      - Its syntax is checked before any AWS call.
    type: str
    default: ""
  distribution:
    description:
      - How events are spread over the shards of a Kinesis stream.
      - When not given, an existing policy keeps its distribution and a new one has none (AWS's default).
    type: str
    choices: ['Random', 'ByLogStream']
  all_or_nothing:
    description:
      - With O(regions) and O(state=present), read every region first, and write in none of them when any region
        has a subscription filter policy of another name, cannot be read, or would be written with a role AWS
        refuses (see O(role_arn)). The task then fails naming those
        regions (RV(regions) has C(other_policies) for each region in the way), and the other regions are reported
        with C(skipped) and no change. CloudWatch Logs allows one account-level subscription filter policy per
        account and Region (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html)),
        so such a region could never be onboarded, and V(true) keeps the account from being onboarded in only some
        regions.
      - It makes no more calls than V(false). Each region is read once (C(DescribeAccountPolicies)), then written.
      - V(false) writes every region that can be written, and fails naming the others.
    type: bool
    default: false
  excluded_log_groups:
    description:
      - Log group names the policy does not apply to, for example the pipeline's own groups.
      - When not given, the selection criteria of an existing policy are kept. V([]) removes them.
    type: list
    elements: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly.
    With C(--diff) the module returns the policy before and after.
  - A log group can have one account-level subscription filter besides its two own filters.
  - An account can have only one account-level subscription filter policy per Region
    (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html)).
    The module therefore reads every C(SUBSCRIPTION_FILTER_POLICY) of the account, not only O(policy_name);
    when one of another name exists, both check mode and a real run fail before any write, naming it.
  - With O(role_arn), CloudWatch Logs tests delivery before saving the policy. A role created a moment before is
    not usable yet (IAM is eventually consistent,
    U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency))
    and AWS answers C(InvalidParameterException) "Could not deliver test message to specified ...". That code with
    that message is retried for about two minutes; any other C(InvalidParameterException) fails at once.
seealso:
  - name: PutAccountPolicy API
    description: The CloudWatch Logs API this module calls.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html
  - module: logvault.aws.cloudwatchlogs_destination
  - module: logvault.aws.cloudwatchlogs_subscription_filter
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Send every log group of this account to the central destination, except the pipeline's own
  logvault.aws.cloudwatchlogs_account_policy:
    policy_name: logvault
    destination_arn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    excluded_log_groups:
      - /aws/lambda/logvault-transform
      - /aws/kinesisfirehose/logvault-archive

- name: Send only error events, spread randomly over the shards
  logvault.aws.cloudwatchlogs_account_policy:
    policy_name: logvault
    destination_arn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    filter_pattern: '?ERROR ?Error ?error'
    distribution: Random

- name: Offboard the account
  logvault.aws.cloudwatchlogs_account_policy:
    policy_name: logvault
    state: absent

- name: The same policy in three regions, in one module run
  logvault.aws.cloudwatchlogs_account_policy:
    policy_name: logvault
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    destination_arns:
      us-east-1: arn:aws:logs:us-east-1:123456789012:destination:logvault-central
      eu-west-1: arn:aws:logs:eu-west-1:123456789012:destination:logvault-central
      ap-southeast-2: arn:aws:logs:ap-southeast-2:123456789012:destination:logvault-central
  register: policies
"""

RETURN = r"""
account_policy:
  description: The policy after the task. Empty when O(state=absent).
  returned: when O(regions) is not given
  type: dict
  contains:
    policy_name:
      description: Name of the policy.
      returned: when the policy exists
      type: str
      sample: logvault
    policy_type:
      description: Always C(SUBSCRIPTION_FILTER_POLICY).
      returned: when the policy exists
      type: str
      sample: SUBSCRIPTION_FILTER_POLICY
    policy_document:
      description: The policy document as a dict.
      returned: when the policy exists
      type: dict
      sample:
        DestinationArn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
        FilterPattern: ""
    selection_criteria:
      description: The selection criteria string; empty when every log group is selected.
      returned: when the policy exists
      type: str
      sample: 'LogGroupName NOT IN ["/aws/lambda/logvault-transform"]'
    excluded_log_groups:
      description: The excluded log group names, sorted.
      returned: when the policy exists
      type: list
      elements: str
      sample: [/aws/lambda/logvault-transform]
    scope:
      description: Always C(ALL).
      returned: when the policy exists
      type: str
      sample: ALL
    account_id:
      description: The account the policy belongs to. Not known in check mode before creation.
      returned: when known
      type: str
      sample: "111111111111"
    last_updated_time:
      description: Last update in milliseconds since the epoch. Not known in check mode.
      returned: when known
      type: int
      sample: 1764230400000
regions:
  description:
    - With O(regions), each region's result, by region name. A region that succeeded has C(changed) and
      C(account_policy) (as RV(account_policy)); a region that failed has C(failed), C(msg), and C(error_code)
      and C(other_policies) when known. With O(all_or_nothing=true), a region that was not written because another
      region failed has C(changed) (V(false)), C(skipped) (V(true)), C(account_policy) (V({})) and C(msg).
      With C(--diff), the task's diff lists each changed region.
  returned: when O(regions) is given
  type: dict
  sample:
    us-east-1: {changed: false, account_policy: {policy_name: logvault, scope: ALL}}
    eu-west-1: {changed: false, failed: true, msg: "Failed to describe account policy logvault: ...", error_code: AccessDeniedException}
other_policies:
  description: Without O(regions), the subscription filter policies of another name that stop this one.
  returned: when the task fails because of them
  type: list
  elements: str
  sample: [legacy-splunk]
other_policies_by_region:
  description: With O(regions), the subscription filter policies of another name that stop this one, by region.
  returned: when O(regions) is given and a region has one
  type: dict
  sample: {eu-west-1: [legacy-splunk]}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils import account_policy
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions


def validate_params(module):
    params = module.params
    try:
        if params["region"] is not None:
            validate_region(params["region"], "region")
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
            if params["destination_arn"] is not None:
                raise ValidationError("destination_arn", "is for one region; with regions, give destination_arns (region: ARN)")
        elif params["destination_arns"] is not None:
            raise ValidationError("destination_arns", "needs regions (the regions to manage)")
        if params["state"] == "present" and params["regions"] is None and params["destination_arn"] is None:
            raise ValidationError("destination_arn", "is required when state is present")
        account_policy.validate(params, params["regions"])
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)


def run_one_region(module, client):
    try:
        result = account_policy.manage(module.params, client, module.params["destination_arn"], module.check_mode, module._diff)
    except RegionError as e:
        if e.error is not None:
            module.fail_json_aws(e.error, msg=e.msg, **e.extra)
        module.fail_json(msg=e.msg, **e.extra)
    module.exit_json(**result)


def run_many_regions(module):
    """Every region of O(regions) in one run: one client and one thread per region."""
    regions = module.params["regions"]
    arns = module.params["destination_arns"] or {}
    try:
        clients = regional_clients(module, "logs", regions, retry_decorator=account_policy.retry_decorator())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    params = module.params
    # With all_or_nothing, every region is read before any is written; one region in the way (or unreadable) stops them all.
    reads, blocked = account_policy.read_all(params, clients)
    if blocked:
        outcomes = dict(reads)
        for region, read in reads.items():
            if not isinstance(read, RegionError):
                outcomes[region] = dict(changed=False, skipped=True, account_policy={}, msg=account_policy.SKIPPED_MESSAGE)
    else:
        outcomes = run_regions(clients, lambda client, region: account_policy.manage(
            params, client, arns.get(region), module.check_mode, module._diff, (reads or {}).get(region)))
    per_region = {}
    diffs = []
    others = {}
    for region in regions:
        outcome = outcomes[region]
        if isinstance(outcome, RegionError):
            per_region[region] = account_policy.region_failure(outcome)
            if "other_policies" in per_region[region]:
                others[region] = per_region[region]["other_policies"]
            continue
        diff = outcome.pop("diff", None)
        per_region[region] = outcome
        if diff is not None and outcome["changed"]:
            diffs.append(dict(diff, before_header="%s (before)" % region, after_header="%s (after)" % region))
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region)
    if others:
        result["other_policies_by_region"] = others
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(outcomes, "Account policy %s" % module.params["policy_name"])
    if failure:
        parameter = account_policy.failure_parameter(outcomes)
        if parameter:
            result["parameter"] = parameter
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


def main():
    argument_spec = dict(account_policy.OPTIONS, destination_arn=dict(type="str"), regions=dict(type="list", elements="str"))
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
    )
    validate_params(module)

    if module.params["regions"] is not None:
        run_many_regions(module)

    try:
        client = module.client("logs", retry_decorator=account_policy.retry_decorator())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")
    run_one_region(module, client)


if __name__ == "__main__":
    main()
