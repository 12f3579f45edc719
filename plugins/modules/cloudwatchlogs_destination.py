#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_destination
version_added: 0.1.0
short_description: Manage a CloudWatch Logs destination and its access policy
description:
  - Creates, updates and deletes a CloudWatch Logs destination, the cross-account
    target that other accounts' subscription filters and account-level subscription
    filter policies send log events to.
  - Manages the destination's access policy (who may subscribe) and its tags.
  - Neither C(amazon.aws) nor C(community.aws) has a module for CloudWatch Logs
    destinations; this one exists because the logvault pipeline needs one destination
    per region in the central account.
  - The access policy is given in full with O(access_policy), or built from
    O(allowed_accounts) and/or O(organization_id) exactly as the
    P(logvault.aws.destination_policy#filter) filter builds it.
  - Policies are compared by meaning (canonical JSON, sorted lists, account root ARNs
    equal to bare account ids), so reformatting a policy does not report a change.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the destination (1 to 512 characters, no V(:) or V(*)).
    required: true
    type: str
    aliases: ['destination_name']
  state:
    description:
      - V(present) creates or updates the destination, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
  regions:
    description:
      - Manage the destination (same name, target, role, policy and tags) in each of these regions in one module
        run, instead of the one region of O(region). One boto3 session, one client and one thread per region;
        CloudWatch Logs has no multi-region call, so the API calls are those of a task looped over the regions,
        but the regions wait for a new role to propagate at the same time instead of one after the other.
      - A policy built from O(allowed_accounts) or O(organization_id) names each region's own destination ARN.
      - Check mode, diff and errors are per region. When a region fails, the others are still done and the task
        fails with a message naming every region that failed (RV(regions) has each region's result).
    type: list
    elements: str
  target_arn:
    description:
      - ARN of the Kinesis data stream or Firehose delivery stream that receives the events.
      - Required when O(state=present).
    type: str
  role_arn:
    description:
      - ARN of the IAM role that CloudWatch Logs assumes to put records into O(target_arn).
      - Required when O(state=present).
    type: str
  access_policy:
    description:
      - The full access policy, as a dict or a JSON string.
      - Mutually exclusive with O(allowed_accounts) and O(organization_id).
      - When none of O(access_policy), O(allowed_accounts) and O(organization_id) is
        given, an existing access policy is left as it is.
      - AWS limits the policy to 5,120 characters; the module measures it as compact JSON.
    type: json
  allowed_accounts:
    description:
      - 12-digit ids of the accounts allowed to subscribe (C(logs:PutSubscriptionFilter)
        and C(logs:PutAccountPolicy) on this destination).
      - Deduplicated and sorted. Can be combined with O(organization_id).
    type: list
    elements: str
  organization_id:
    description:
      - Allow every principal of this AWS Organization (C(aws:PrincipalOrgID)) to subscribe.
    type: str
  force_update:
    description:
      - Passed as C(forceUpdate) to C(PutDestinationPolicy). Set it when you replace a
        policy that lists accounts with one that grants an organization, after the
        senders' subscription filters have been updated.
    type: bool
    default: false
  tags:
    description:
      - Tags of the destination. When not given, tags are left alone.
    type: dict
    aliases: ['resource_tags']
  purge_tags:
    description:
      - Remove tags that are not in O(tags). Ignored when O(tags) is not given.
    type: bool
    default: true
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly.
    With C(--diff) the module returns the destination before and after.
  - When the destination does not exist yet in check mode, its ARN (needed for a policy
    built from O(allowed_accounts)) is predicted from the caller's account id (C(sts:GetCallerIdentity)).
  - C(PutDestination) tests delivery to O(target_arn) with O(role_arn). A role created a moment before is not
    usable yet (IAM is eventually consistent,
    U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)),
    and AWS answers C(InvalidParameterException) "Could not deliver test message to specified ...". That code with
    that message is retried for about two minutes; any other C(InvalidParameterException) fails at once.
  - O(force_update) is C(forceUpdate) of C(PutDestinationPolicy)
    (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestinationPolicy.html)),
    needed to change a destination whose policy lists accounts to one that grants an organization.
seealso:
  - name: PutDestination API
    description: The CloudWatch Logs API this module calls.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutDestination.html
  - module: logvault.aws.cloudwatchlogs_subscription_filter
  - module: logvault.aws.cloudwatchlogs_account_policy
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the regional destination that two member accounts may subscribe to
  logvault.aws.cloudwatchlogs_destination:
    name: logvault-us-east-1
    target_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    role_arn: arn:aws:iam::123456789012:role/logvault-cwl-to-kinesis
    allowed_accounts:
      - "111111111111"
      - "222222222222"
    tags:
      project: logvault

- name: Allow the whole organization instead of listing accounts
  logvault.aws.cloudwatchlogs_destination:
    name: logvault-us-east-1
    target_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    role_arn: arn:aws:iam::123456789012:role/logvault-cwl-to-kinesis
    organization_id: o-a1b2c3d4e5
    force_update: true

- name: Give the access policy in full
  logvault.aws.cloudwatchlogs_destination:
    name: logvault-us-east-1
    target_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    role_arn: arn:aws:iam::123456789012:role/logvault-cwl-to-kinesis
    access_policy: >-
      {{ 'arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1'
         | logvault.aws.destination_policy(['111111111111']) }}

- name: Delete the destination
  logvault.aws.cloudwatchlogs_destination:
    name: logvault-us-east-1
    state: absent

- name: One destination in each of three regions, in one module run
  logvault.aws.cloudwatchlogs_destination:
    name: logvault
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    target_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    role_arn: arn:aws:iam::123456789012:role/logvault-cwl-to-kinesis
    organization_id: o-a1b2c3d4e5
"""

RETURN = r"""
regions:
  description:
    - With O(regions), each region's result by region name, with the keys the task returns without O(regions)
      (RV(ignore:changed) and RV(destination)), or C(failed) and C(msg) for a region that failed.
  returned: when O(regions) is given
  type: dict
  sample:
    eu-west-1: {changed: false, destination: {arn: "arn:aws:logs:eu-west-1:123456789012:destination:logvault"}}
destination:
  description: The destination after the task. Empty when O(state=absent).
  returned: when O(regions) is not given
  type: dict
  contains:
    arn:
      description: ARN of the destination.
      type: str
      returned: when the destination exists
      sample: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    destination_name:
      description: Name of the destination.
      type: str
      returned: when the destination exists
      sample: logvault-us-east-1
    target_arn:
      description: ARN of the Kinesis or Firehose stream that receives the events.
      type: str
      returned: when the destination exists
      sample: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    role_arn:
      description: ARN of the role CloudWatch Logs uses to write to the target.
      type: str
      returned: when the destination exists
      sample: arn:aws:iam::123456789012:role/logvault-cwl-to-kinesis
    access_policy:
      description: The access policy as a dict; empty when the destination has none.
      type: dict
      returned: when the destination exists
      sample:
        Version: "2012-10-17"
        Statement:
          - Sid: AllowAccountsToSubscribe
            Effect: Allow
            Principal: {AWS: ["111111111111"]}
            Action: ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"]
            Resource: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    creation_time:
      description: Creation time in milliseconds since the epoch. Not known in check mode before creation.
      type: int
      returned: when the destination exists
      sample: 1764230400000
    tags:
      description: Tags of the destination.
      type: dict
      returned: when the destination exists
      sample: {project: logvault}
"""

import copy
import threading

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import build_destination_policy
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import canonical_json
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import check_destination_policy_size
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import load_policy
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import parse_arn
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import policies_equal
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_account_ids
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_destination_name
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_organization_id
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions

RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]


@AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)
def _describe_destinations(client, **kwargs):
    paginator = client.get_paginator("describe_destinations")
    return paginator.paginate(**kwargs).build_full_result()


def get_destination(client, name):
    try:
        found = _describe_destinations(client, DestinationNamePrefix=name)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise RegionError("Failed to describe destination %s" % name, error=e)
    for destination in found.get("destinations", []):
        if destination.get("destinationName") == name:
            return destination
    return None


def get_tags(client, arn):
    try:
        return client.list_tags_for_resource(aws_retry=True, resourceArn=arn).get("tags", {})
    except is_boto3_error_code("ResourceNotFoundException"):
        return {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise RegionError("Failed to list tags of destination %s" % arn, error=e)


class CallerAccount(object):
    """The caller's account id from sts:GetCallerIdentity, asked at most once (by any region's thread)."""

    def __init__(self, module):
        self.module = module
        self.lock = threading.Lock()
        self.account = None

    def get(self):
        with self.lock:
            if self.account is None:
                try:
                    sts = self.module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
                    self.account = sts.get_caller_identity(aws_retry=True)["Account"]
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    raise RegionError("Failed to get the caller's account id", error=e)
            return self.account


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params
    try:
        validate_destination_name(params["name"], "name")
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
        elif params["region"] is not None:
            validate_region(params["region"], "region")
        if params["target_arn"] is not None:
            parse_arn(params["target_arn"], "target_arn", ["kinesis-stream", "firehose"])
        if params["role_arn"] is not None:
            parse_arn(params["role_arn"], "role_arn", ["iam-role"])
        if params["allowed_accounts"] is not None:
            validate_account_ids(params["allowed_accounts"], "allowed_accounts")
        if params["organization_id"] is not None:
            validate_organization_id(params["organization_id"], "organization_id")
        if params["access_policy"] is not None:
            check_destination_policy_size(load_policy(params["access_policy"], "access_policy"), "access_policy")
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)
    if params["state"] == "present" and (params["allowed_accounts"] is not None or params["organization_id"] is not None):
        # Build the policy once per region with a stand-in ARN of the same length to catch an empty
        # account list or a policy over AWS's size limit before calling AWS.
        for region in params["regions"] or [params["region"] or "us-east-1"]:
            stand_in = "arn:aws:logs:%s:000000000000:destination:%s" % (region, params["name"])
            try:
                wanted_policy(module, stand_in)
            except ValidationError as e:
                module.fail_json(msg=str(e), parameter=e.param)


def wanted_policy(module, arn):
    """The access policy to put, or None to leave it alone; raises ValidationError naming the parameter."""
    params = module.params
    if params["access_policy"] is not None:
        return load_policy(params["access_policy"], "access_policy")
    if params["allowed_accounts"] is None and params["organization_id"] is None:
        return None
    try:
        return build_destination_policy(arn, params["allowed_accounts"] or [], params["organization_id"])
    except ValidationError as e:
        param = {"accounts": "allowed_accounts"}.get(e.param, e.param)
        raise ValidationError(param, e.message)


def parse_policy(text):
    if not text:
        return {}
    return load_policy(text, "access_policy")


def describe(destination, tags):
    """The module's view of a destination (snake_case, policy as a dict)."""
    if destination is None:
        return {}
    result = {
        "arn": destination.get("arn"),
        "destination_name": destination.get("destinationName"),
        "target_arn": destination.get("targetArn"),
        "role_arn": destination.get("roleArn"),
        "access_policy": parse_policy(destination.get("accessPolicy")),
        "tags": tags or {},
    }
    if destination.get("creationTime") is not None:
        result["creation_time"] = destination["creationTime"]
    return result


def ensure_absent(module, client, name):
    current = get_destination(client, name)
    if current is None:
        return dict(changed=False, destination={})
    before = describe(current, get_tags(client, current["arn"]))
    if not module.check_mode:
        try:
            client.delete_destination(aws_retry=True, destinationName=name)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            raise RegionError("Failed to delete destination %s" % name, error=e)
    result = dict(changed=True, destination={})
    if module._diff:
        result["diff"] = dict(before=before, after={})
    return result


def tag_changes(current_tags, wanted_tags, purge):
    """amazon.aws's compare_aws_tags (it never purges reserved aws:* tags); tags not given: no change."""
    if wanted_tags is None:
        return {}, []
    to_set, to_remove = compare_aws_tags(current_tags, dict((str(k), str(v)) for k, v in wanted_tags.items()), purge)
    return to_set, sorted(to_remove)


def ensure_present(module, client, name, region, caller):
    params = module.params
    current = get_destination(client, name)
    current_tags = get_tags(client, current["arn"]) if current else {}
    before = describe(current, current_tags)

    if current:
        arn = current["arn"]
    elif not module.check_mode:
        arn = None
    else:
        partition = parse_arn(params["role_arn"], "role_arn", ["iam-role"])["partition"]
        arn = "arn:%s:logs:%s:%s:destination:%s" % (partition, region, caller.get(), name)

    write_destination = current is None or current.get("targetArn") != params["target_arn"] or current.get("roleArn") != params["role_arn"]
    to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    changed = write_destination or bool(to_set) or bool(to_remove)

    destination = copy.deepcopy(current) if current else {"destinationName": name}
    if write_destination and not module.check_mode:
        kwargs = dict(destinationName=name, targetArn=params["target_arn"], roleArn=params["role_arn"])
        if current is None and params["tags"]:
            kwargs["tags"] = dict((str(k), str(v)) for k, v in params["tags"].items())
        try:
            destination = client.put_destination(aws_retry=True, **kwargs)["destination"]
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to %s destination %s" % ("create" if current is None else "update", name), error=e)
        arn = destination["arn"]
        if current is None:
            current_tags = get_tags(client, arn)
            to_set, to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    destination.update(targetArn=params["target_arn"], roleArn=params["role_arn"], arn=arn)
    if current is not None and "accessPolicy" in current and not destination.get("accessPolicy"):
        destination["accessPolicy"] = current["accessPolicy"]

    try:
        policy = wanted_policy(module, arn)
    except ValidationError as e:
        raise RegionError(str(e), parameter=e.param)
    current_policy = parse_policy((current or {}).get("accessPolicy")) or None
    if policy is not None and not policies_equal(current_policy, policy):
        changed = True
        if not module.check_mode:
            try:
                client.put_destination_policy(
                    aws_retry=True, destinationName=name, accessPolicy=canonical_json(policy), forceUpdate=params["force_update"]
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                raise RegionError("Failed to put the access policy of destination %s" % name, error=e)
        destination["accessPolicy"] = canonical_json(policy)

    if not module.check_mode:
        try:
            if to_remove:
                client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_remove)
            if to_set:
                client.tag_resource(aws_retry=True, resourceArn=arn, tags=to_set)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to tag destination %s" % name, error=e)
    tags = dict(current_tags)
    for key in to_remove:
        tags.pop(key, None)
    tags.update(to_set)

    if changed and not module.check_mode:
        refreshed = get_destination(client, name)
        if refreshed is not None:
            destination = refreshed
    after = describe(destination, tags)
    result = dict(changed=changed, destination=after)
    if module._diff:
        diff_before = dict(before)
        diff_before.pop("creation_time", None)
        diff_after = dict(after)
        diff_after.pop("creation_time", None)
        result["diff"] = dict(before=diff_before, after=diff_after)
    return result


def manage_region(module, client, region, caller):
    name = module.params["name"]
    if module.params["state"] == "absent":
        return ensure_absent(module, client, name)
    return ensure_present(module, client, name, region, caller)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["destination_name"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        regions=dict(type="list", elements="str"),
        target_arn=dict(type="str"),
        role_arn=dict(type="str"),
        access_policy=dict(type="json"),
        allowed_accounts=dict(type="list", elements="str"),
        organization_id=dict(type="str"),
        force_update=dict(type="bool", default=False),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["target_arn", "role_arn"])],
        mutually_exclusive=[("access_policy", "allowed_accounts"), ("access_policy", "organization_id")],
    )
    validate_params(module)
    regions = module.params["regions"]
    caller = CallerAccount(module)

    if regions is None:
        try:
            # Throttling, and "Could not deliver test message" while a new role propagates (about two minutes).
            client = module.client("logs", retry_decorator=propagation_retry("logs", RETRY_CODES))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")
        try:
            module.exit_json(**manage_region(module, client, module.region, caller))
        except RegionError as e:
            if e.error is not None:
                module.fail_json_aws(e.error, msg=e.msg)
            module.fail_json(msg=e.msg, **e.extra)

    try:
        clients = regional_clients(module, "logs", regions, retry_decorator=propagation_retry("logs", RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")
    outcomes = run_regions(clients, lambda client, region: manage_region(module, client, region, caller))
    per_region = {}
    diffs = []
    for region in regions:
        outcome = outcomes[region]
        if isinstance(outcome, RegionError):
            per_region[region] = dict(changed=False, failed=True, msg=outcome.describe())
            continue
        diff = outcome.pop("diff", None)
        if diff is not None:
            diff.update(before_header="%s (before)" % region, after_header="%s (after)" % region)
            diffs.append(diff)
        per_region[region] = outcome
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region)
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(outcomes, "Destination %s" % module.params["name"])
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
