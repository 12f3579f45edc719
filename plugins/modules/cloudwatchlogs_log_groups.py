#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_groups
version_added: 0.1.0
short_description: Create CloudWatch Logs log groups, with retention and tags, in many regions in one task
description:
  - Makes sure each listed log group exists in each region of O(regions), with its retention and tags.
    It does what M(amazon.aws.cloudwatchlogs_log_group) with O(amazon.aws.cloudwatchlogs_log_group#module:state=present)
    does for one group in one region, for every group and region in one module run, with one boto3 session, one client
    and one thread per region (CloudWatch Logs has no multi-region call). A task looped over groups and regions starts
    one Python process per group and region on the control node, which is the limit at organization scale.
  - A missing group is created (C(CreateLogGroup) with its KMS key and tags), then its retention is set
    (C(PutRetentionPolicy)). An existing group gets its retention and tags corrected
    (C(PutRetentionPolicy), C(TagResource), C(UntagResource)); its KMS key is not changed, as
    M(amazon.aws.cloudwatchlogs_log_group) does not change it.
  - Log groups are never deleted.
  - With O(account_policy), the same run also manages the account-level subscription filter policy of each region,
    after the region's log groups, as M(logvault.aws.cloudwatchlogs_account_policy) does. The account's log groups and
    the policy that subscribes them then take one module run (docs/organization-scale.md).
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  log_groups:
    description:
      - The log groups.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the log group (1 to 512 letters, digits, V(.), V(-), V(_), V(/) or V(#)).
        type: str
        required: true
      retention_days:
        description:
          - Days to keep the events; one of the values C(PutRetentionPolicy) accepts.
          - When not given, the retention is not managed (a new group keeps its events forever).
        type: int
      kms_key_arn:
        description: KMS key to encrypt a new group with. Not changed on an existing group.
        type: str
      tags:
        description: Tags of this group, on top of O(tags).
        type: dict
      regions:
        description: Manage the group only in these of O(regions). When not given, in every region.
        type: list
        elements: str
  regions:
    description:
      - The regions. When not given, the one region of O(region).
      - Check mode, diff and errors are per region. When a region fails, the others are still done and the task
        fails with a message naming every region that failed (RV(regions) has each region's result).
    type: list
    elements: str
  tags:
    description: Tags of every group; a group's own O(log_groups[].tags) win.
    type: dict
    default: {}
  purge_tags:
    description: Remove the tags of an existing group that are not given, as M(amazon.aws.cloudwatchlogs_log_group) does by default.
    type: bool
    default: true
  account_policy:
    description:
      - The account-level subscription filter policy (C(SUBSCRIPTION_FILTER_POLICY)) of each region of O(regions),
        managed after that region's log groups with the calls and rules of M(logvault.aws.cloudwatchlogs_account_policy).
        Its suboptions are that module's options with O(regions) (O(logvault.aws.cloudwatchlogs_account_policy#module:destination_arn)
        is not available; give O(account_policy.destination_arns)).
      - A region whose log groups failed is not given the policy. A region whose policy failed keeps its log groups, and
        RV(regions) reports them.
      - With O(account_policy.all_or_nothing=true) and O(account_policy.state=present), every region's policies are read
        first, and when a region has a subscription filter policy of another name or cannot be read, nothing is written
        in any region, log groups included.
      - When not given, no account policy is read or written.
    type: dict
    suboptions:
      policy_name:
        description: Name of the account policy. Must not start with V(aws/).
        type: str
        required: true
      state:
        description: V(present) creates or updates the policy in every region, V(absent) deletes it.
        type: str
        choices: ['present', 'absent']
        default: present
      destination_arns:
        description:
          - The destination of each region, as a mapping of region name to ARN (a CloudWatch Logs destination, or a
            Kinesis data stream, Firehose delivery stream or Lambda function of the same account). Required for every
            region when O(account_policy.state=present); other keys are ignored.
        type: dict
      role_arn:
        description:
          - IAM role CloudWatch Logs assumes to deliver (a same-account stream, or a destination that needs one).
            Required with a same-account Kinesis or Firehose stream, refused with a Lambda function
            (see M(logvault.aws.cloudwatchlogs_account_policy)).
            When not given, the role of an existing policy is kept, except when the policy moves to a Lambda function.
        type: str
      filter_pattern:
        description: CloudWatch Logs filter pattern selecting the events to send. V("") sends every event.
        type: str
        default: ""
      distribution:
        description:
          - How events are spread over the shards of a Kinesis stream. When not given, an existing policy keeps its
            distribution and a new one has none.
        type: str
        choices: ['Random', 'ByLogStream']
      excluded_log_groups:
        description:
          - Log group names the policy does not apply to. When not given, the selection criteria of an existing
            policy are kept. V([]) removes them.
        type: list
        elements: str
      all_or_nothing:
        description:
          - With O(account_policy.state=present), read every region's policies before any write, and write nothing
            (neither log groups nor policy) in any region when one region has a subscription filter policy of
            another name, cannot be read, or would be written with a role AWS refuses (see
            O(account_policy.role_arn)). The other regions are then reported with C(skipped).
        type: bool
        default: false
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff) the module returns,
    for each group that changes, its retention and tags before and after, by region.
  - Retention values are those of C(PutRetentionPolicy)
    (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutRetentionPolicy.html)).
  - A region's groups are read with C(DescribeLogGroups), once for every folder (the name up to its last C(/)) that
    two or more of them share, with the folder as C(logGroupNamePrefix); for example C(/logvault/fluentd) and
    C(/logvault/canary) take one call. A group that the answer's first page (up to 50 groups, the API's default)
    does not settle, because the folder holds more groups than that, and a group alone in its folder are read with
    their own name as the prefix
    (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_DescribeLogGroups.html)).
  - Tags are read with C(ListTagsForResource) and written with C(TagResource) and C(UntagResource), the calls AWS
    recommends instead of the deprecated C(ListTagsLogGroup), C(TagLogGroup) and C(UntagLogGroup)
    (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_TagResource.html)).
seealso:
  - module: amazon.aws.cloudwatchlogs_log_group
  - module: logvault.aws.cloudwatchlogs_account_policy
  - name: CreateLogGroup API
    description: The CloudWatch Logs API that creates a log group.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: fluentd's group in three regions, and an application group in one
  logvault.aws.cloudwatchlogs_log_groups:
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    tags:
      logvault:managed-by: logvault.aws
    log_groups:
      - name: /logvault/fluentd
        retention_days: 14
      - name: /app/orders
        retention_days: 90
        regions: [eu-west-1]
        tags:
          team: orders

- name: The account's log groups and the account policy that subscribes them, in every region or in none
  logvault.aws.cloudwatchlogs_log_groups:
    regions: [us-east-1, eu-west-1]
    log_groups:
      - name: /logvault/fluentd
        retention_days: 14
    account_policy:
      policy_name: logvault
      destination_arns:
        us-east-1: arn:aws:logs:us-east-1:123456789012:destination:logvault-central
        eu-west-1: arn:aws:logs:eu-west-1:123456789012:destination:logvault-central
      excluded_log_groups: [/logvault/fluentd]
      all_or_nothing: true
  register: logs
"""

RETURN = r"""
regions:
  description: Each region's result, by region name.
  returned: always
  type: dict
  contains:
    changed:
      description:
        - Whether a group of this region was (or, in check mode, would be) created or changed.
        - For a region that failed, whether something was written in it before the failure (a group before the
          one that failed, part of that group, or the region's log groups when only its account policy failed).
      type: bool
      returned: always
    log_groups:
      description:
        - One entry per group managed in this region, with C(log_group_name), C(action)
          (V(created), V(updated) or V(unchanged)), C(retention_in_days) and C(tags) after the task.
        - For a region that failed at a group, the groups before it.
      type: list
      elements: dict
      returned: when the region succeeded, or when it failed after its first group
    account_policy:
      description:
        - The region's account policy after the task, as M(logvault.aws.cloudwatchlogs_account_policy) returns it
          (C(policy_name), C(policy_document), C(selection_criteria), C(excluded_log_groups), ...). Empty when
          O(account_policy.state=absent).
      type: dict
      returned: with O(account_policy), when the region succeeded
    account_policy_changed:
      description: Whether the region's account policy was (or, in check mode, would be) written or deleted.
      type: bool
      returned: with O(account_policy), when the region succeeded
    skipped:
      description: With O(account_policy.all_or_nothing=true), nothing was written in this region because another region cannot be.
      type: bool
      returned: when the region was skipped
    failed:
      description: The region failed.
      type: bool
      returned: when the region failed
    msg:
      description: Why the region failed (or was skipped).
      type: str
      returned: when the region failed or was skipped
    error_code:
      description: The AWS error code of the failure.
      type: str
      returned: when the region failed on an AWS error
    other_policies:
      description: The subscription filter policies of another name that keep the account policy out of this region.
      type: list
      elements: str
      returned: when the region failed because of them
  sample:
    us-east-1:
      changed: true
      log_groups:
        - {log_group_name: /logvault/fluentd, action: created, retention_in_days: 14, tags: {"logvault:managed-by": logvault.aws}}
other_policies_by_region:
  description: With O(account_policy), the subscription filter policies of another name that stop it, by region.
  returned: when a region has one
  type: dict
  sample: {eu-west-1: [legacy-splunk]}
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.logvault.aws.plugins.module_utils import account_policy
from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import LogvaultRetry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_log_group_name
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions

# PutRetentionPolicy's retentionInDays (API reference, Request Parameters).
RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]
# LogvaultRetry: its backoff state is per call, so the region threads do not reset each other's waits.
retry = LogvaultRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)
# DescribeLogGroups' limit: up to 50 groups a page when not given (API reference, Request Parameters).
DESCRIBE_LIMIT = 50
KMS_KEY_ARN = re.compile(r"^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key/[A-Za-z0-9-]+$")


@retry
def _describe_log_groups(client, name):
    return client.get_paginator("describe_log_groups").paginate(logGroupNamePrefix=name).build_full_result()


@retry
def _describe_page(client, prefix):
    return client.describe_log_groups(logGroupNamePrefix=prefix, limit=DESCRIBE_LIMIT)


def describe_together(client, names):
    """{name: the group, or None when it does not exist} for the names that share a folder (the name up to its last
    '/') with another: one DescribeLogGroups call per folder, its first page only. A name that the page does not
    settle (it is not on it and the answer has a nextToken) is left out, as is a name alone in its folder: the caller
    reads those on their own. Raises RegionError naming the names of a folder that could not be read."""
    folders = {}
    for name in names:
        folder = name[:name.rfind("/") + 1]
        if folder:
            folders.setdefault(folder, []).append(name)
    settled = {}
    for folder, members in folders.items():
        if len(members) < 2:
            continue
        try:
            page = _describe_page(client, folder)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to describe log groups %s (prefix %s)" % (", ".join(members), folder), error=e)
        groups = dict((g["logGroupName"], g) for g in page.get("logGroups", []))
        for name in members:
            if name in groups:
                settled[name] = groups[name]
            elif not page.get("nextToken"):
                settled[name] = None
    return settled


def _arn(group):
    """The log group's ARN without the ':*' that DescribeLogGroups appends (TagResource wants it without)."""
    arn = group.get("logGroupArn") or group.get("arn") or ""
    return arn[:-2] if arn.endswith(":*") else arn


def validate_params(module):
    params = module.params
    try:
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
        elif params["region"] is not None:
            validate_region(params["region"], "region")
        seen = set()
        for group in params["log_groups"]:
            validate_log_group_name(group["name"], "log_groups")
            if group["name"] in seen:
                raise ValidationError("log_groups", "lists %s twice" % group["name"])
            seen.add(group["name"])
            if group["retention_days"] is not None and group["retention_days"] not in RETENTION_DAYS:
                raise ValidationError("log_groups", "retention_days of %s is %s; PutRetentionPolicy accepts %s"
                                      % (group["name"], group["retention_days"], ", ".join(str(d) for d in RETENTION_DAYS)))
            if group["kms_key_arn"] is not None and not KMS_KEY_ARN.match(group["kms_key_arn"]):
                raise ValidationError("log_groups", "kms_key_arn of %s is %r, not a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)"
                                      % (group["name"], group["kms_key_arn"]))
            for region in group["regions"] or []:
                validate_region(region, "log_groups")
        if params["account_policy"] is not None:
            account_policy.validate(params["account_policy"], [r for r in (params["regions"] or [module.region]) if r], "account_policy.")
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)


def _read(client, name, known=None):
    """(the group or None, its tags); ``known``: groups describe_together settled."""
    if known is not None and name in known:
        found = known[name]
    else:
        found = next((g for g in _describe_log_groups(client, name).get("logGroups", []) if g["logGroupName"] == name), None)
    if found is None:
        return None, {}
    tags = client.list_tags_for_resource(aws_retry=True, resourceArn=_arn(found)).get("tags", {})
    return found, tags


def manage_group(module, client, group, tags, known=None):
    name = group["name"]
    retention = group["retention_days"]
    try:
        found, current_tags = _read(client, name, known)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        raise RegionError("Failed to describe log group %s" % name, error=e)
    entry = {"log_group_name": name}
    if found is None:
        entry.update(action="created", retention_in_days=retention, tags=tags)
        if not module.check_mode:
            request = {"logGroupName": name}
            if group["kms_key_arn"]:
                request["kmsKeyId"] = group["kms_key_arn"]
            if tags:
                request["tags"] = tags
            try:
                client.create_log_group(aws_retry=True, **request)
            except is_boto3_error_code("ResourceAlreadyExistsException"):
                raise RegionError("Log group %s was created by someone else during the task; run it again" % name)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                raise RegionError("Failed to create log group %s" % name, error=e)
            if retention is not None:
                try:
                    client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=retention)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    # The group exists now: the region changed.
                    raise RegionError("Created log group %s, but failed to set its retention" % name, error=e, changed=True)
        return entry, ({}, {"retention_in_days": retention, "tags": tags})

    before = {"retention_in_days": found.get("retentionInDays"), "tags": current_tags}
    to_add, to_remove = compare_aws_tags(current_tags, tags, module.params["purge_tags"])
    new_retention = retention is not None and retention != found.get("retentionInDays")
    after_tags = dict((k, v) for k, v in current_tags.items() if k not in to_remove)
    after_tags.update(to_add)
    after = {"retention_in_days": retention if new_retention else found.get("retentionInDays"), "tags": after_tags}
    changed = bool(to_add or to_remove or new_retention)
    entry.update(action="updated" if changed else "unchanged", **after)
    if changed and not module.check_mode:
        arn = _arn(found)
        wrote = []
        try:
            if new_retention:
                wrote.append(client.put_retention_policy(aws_retry=True, logGroupName=name, retentionInDays=retention))
            if to_remove:
                wrote.append(client.untag_resource(aws_retry=True, resourceArn=arn, tagKeys=to_remove))
            if to_add:
                wrote.append(client.tag_resource(aws_retry=True, resourceArn=arn, tags=to_add))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to update log group %s" % name, error=e, changed=bool(wrote))
    return entry, ((before, after) if changed else None)


def manage_region(module, client, region, reads=None):
    """The region's log groups, then (with O(account_policy)) its account policy; raises RegionError."""
    entries = []
    before = {}
    after = {}
    groups = [g for g in module.params["log_groups"] if g["regions"] is None or region in g["regions"]]
    known = describe_together(client, [g["name"] for g in groups])  # before any write: a failure leaves the region unchanged
    for group in groups:
        tags = dict(module.params["tags"] or {})
        tags.update(group["tags"] or {})
        try:
            entry, diff = manage_group(module, client, group, dict((k, str(v)) for k, v in tags.items()), known)
        except RegionError as e:
            # The region changed when this group was partly written, or when a group before it was.
            e.extra.update(log_groups=entries, changed=bool(e.extra.get("changed")) or any(x["action"] != "unchanged" for x in entries))
            raise
        entries.append(entry)
        if diff is not None:
            before[group["name"]], after[group["name"]] = diff
    result = dict(changed=any(e["action"] != "unchanged" for e in entries), log_groups=entries)
    diffs = []
    if module._diff and result["changed"]:
        diffs.append(dict(before=before, after=after, before_header="%s (before)" % region, after_header="%s (after)" % region))
    policy = module.params["account_policy"]
    if policy is not None:
        arn = (policy["destination_arns"] or {}).get(region)
        try:
            outcome = account_policy.manage(policy, client, arn, module.check_mode, module._diff,
                                            (reads or {}).get(region), prefix="account_policy.")
        except RegionError as e:
            # The log groups are done: the region's result keeps them (and whether they changed).
            e.extra.update(log_groups=entries, changed=result["changed"])
            raise
        result.update(account_policy=outcome["account_policy"], account_policy_changed=outcome["changed"])
        result["changed"] = result["changed"] or outcome["changed"]
        if outcome.get("diff") is not None and outcome["changed"]:
            diffs.append(dict(outcome["diff"], before_header="%s account policy (before)" % region,
                              after_header="%s account policy (after)" % region))
    if diffs:
        result["diffs"] = diffs
    return result


def skipped_region():
    """A region not written because another region's account policy cannot be (all_or_nothing)."""
    return dict(changed=False, skipped=True, log_groups=[], account_policy={}, account_policy_changed=False,
                msg=account_policy.SKIPPED_MESSAGE)


def main():
    argument_spec = dict(
        log_groups=dict(type="list", elements="dict", required=True, options=dict(
            name=dict(type="str", required=True),
            retention_days=dict(type="int"),
            kms_key_arn=dict(type="str", no_log=False),
            tags=dict(type="dict"),
            regions=dict(type="list", elements="str"),
        )),
        regions=dict(type="list", elements="str"),
        tags=dict(type="dict", default={}),
        purge_tags=dict(type="bool", default=True),
        account_policy=dict(type="dict", options=account_policy.OPTIONS),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    regions = module.params["regions"] or [module.region]
    if regions == [None]:
        module.fail_json(msg="Give regions, or region (or AWS_REGION)", parameter="regions")
    policy = module.params["account_policy"]
    try:
        # With an account policy, its retries (it may wait for a new delivery role to propagate).
        clients = regional_clients(module, "logs", regions, retry_decorator=account_policy.retry_decorator() if policy else retry)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    # account_policy.all_or_nothing: every region's policy is read first; one region in the way stops every write.
    reads, blocked = account_policy.read_all(policy, clients, prefix="account_policy.") if policy else (None, False)
    if blocked:
        outcomes = dict((region, read if isinstance(read, RegionError) else skipped_region()) for region, read in reads.items())
    else:
        outcomes = run_regions(clients, lambda client, region: manage_region(module, client, region, reads))
    per_region = {}
    diffs = []
    others = {}
    for region in regions:
        outcome = outcomes[region]
        if isinstance(outcome, RegionError):
            per_region[region] = account_policy.region_failure(outcome)
            per_region[region].update((key, outcome.extra[key]) for key in ("log_groups", "changed") if key in outcome.extra)
            if "other_policies" in per_region[region]:
                others[region] = per_region[region]["other_policies"]
            continue
        diffs.extend(outcome.pop("diffs", []))
        per_region[region] = outcome
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region)
    if others:
        result["other_policies_by_region"] = others
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(outcomes, "Log groups" if policy is None else "Log groups and account policy %s" % policy["policy_name"])
    if failure:
        parameter = account_policy.failure_parameter(outcomes)
        if parameter:
            result["parameter"] = parameter
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
