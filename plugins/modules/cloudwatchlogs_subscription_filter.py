#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_subscription_filter
version_added: 0.1.0
short_description: Subscribe many CloudWatch Logs log groups to a destination in one task
description:
  - Creates, updates or deletes one named subscription filter on many log groups at once,
    with a bounded pool of parallel workers.
  - Neither C(amazon.aws) nor C(community.aws) has a subscription filter module. This one
    exists because onboarding an account means subscribing hundreds of log groups, which
    one task per group makes far too slow.
  - Log groups are chosen with O(log_groups) and/or O(log_group_prefix) (discovered with a
    paginated C(DescribeLogGroups)), minus O(exclude).
  - Each log group is read first and written only when it differs, so a second run makes no
    write call. Throttling (C(ThrottlingException), C(OperationAbortedException),
    C(ServiceUnavailableException)) is retried with jittered exponential backoff.
  - C(LimitExceededException) is a quota (for example the two filters per log group), not
    throttling (U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html#API_PutSubscriptionFilter_Errors)),
    so the group fails at once, with a message naming it, and is not retried.
  - AWS allows two subscription filters per log group. A group that already has two other
    filters fails, with a message naming them, unless O(replace) names the one to replace.
  - One group's failure does not stop the others; the task fails after every group has been
    handled, and RV(results) tells what happened to each.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  filter_name:
    description:
      - Name of the subscription filter (1 to 512 characters, no V(:) or V(*)).
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the filter on every selected group.
      - V(absent) deletes the filter from every selected group (offboarding). Groups that
        do not have it, or do not exist, are unchanged.
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
      - Do the work in each of these regions in one module run, instead of the one region of O(region).
        The module makes the same calls as a task looped over the regions, in one process, with one client
        and one thread per region (CloudWatch Logs has no multi-region call); O(max_concurrency) applies per region.
      - Log groups are selected in each region. Check mode, diff and errors are per region. When a region fails,
        the others are still done and the task fails with a message naming every region that failed
        (RV(regions) has each region's result).
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
      - IAM role CloudWatch Logs assumes to write to a Kinesis or Firehose stream in the same
        account. Required with such a stream (AWS refuses the request without one), unless the existing
        filter has one; otherwise each log group fails naming this option, and nothing is written.
      - Not needed with a cross-account destination. Refused with a Lambda function, before any AWS call, since
        CloudWatch Logs invokes the function under its resource policy and AWS refuses a role
        (C(roleArn) in U(https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html)).
      - When not given, the role of an existing filter is kept, except when the filter moves to a Lambda function.
    type: str
  filter_pattern:
    description:
      - CloudWatch Logs filter pattern selecting the events to send. V("") sends every event.
      - Its syntax is checked (balanced braces and quotes, operators, ...) before any AWS call.
    type: str
    default: ""
  distribution:
    description:
      - How events are spread over the shards of a Kinesis stream.
      - When not given, an existing filter keeps its distribution and a new one gets AWS's
        default, V(ByLogStream).
    type: str
    choices: ['Random', 'ByLogStream']
  log_groups:
    description:
      - Names of the log groups to manage.
      - At least one of O(log_groups) and O(log_group_prefix) is required; when both are given
        the union is used.
    type: list
    elements: str
  log_group_prefix:
    description:
      - Select every log group whose name starts with this prefix. V("") selects every log
        group of the account and region.
    type: str
  exclude:
    description:
      - Log group names or shell-style globs (V(*), V(?), V([...])) to leave out of the selection.
    type: list
    elements: str
    default: []
  replace:
    description:
      - Name of another subscription filter that may be deleted to make room, on groups that
        already have two other filters. Groups with room are never touched this way.
      - The named filter is deleted first, then this filter is put. If the put fails, the group
        is reported as failed and is left with one filter fewer.
    type: str
  apply_on_transformed_logs:
    description:
      - C(applyOnTransformedLogs) of C(PutSubscriptionFilter). V(true) applies the filter to the
        transformed log events of a group that has a log transformer.
      - When not given, an existing filter keeps its value (a new one gets AWS's default, V(false)).
    type: bool
  field_selection_criteria:
    description:
      - C(fieldSelectionCriteria) of C(PutSubscriptionFilter), which selects the events the filter processes
        by system fields, for example V(@aws.region NOT IN ["cn-north-1"]). At most 2,000 characters.
      - When not given, an existing filter keeps its value. V("") removes it.
    type: str
  emit_system_fields:
    description:
      - C(emitSystemFields) of C(PutSubscriptionFilter), the system fields added to the events sent.
      - When not given, an existing filter keeps its value. V([]) removes them.
    type: list
    elements: str
    choices: ['@aws.account', '@aws.region', '@source.log']
  max_concurrency:
    description:
      - Number of log groups handled in parallel (1 to 5).
      - CloudWatch Logs' request quotas are per account and Region; they are listed on
        U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html) and in
        Service Quotas (service code C(logs)). The cap of 5 is a conservative choice, no higher than
        the 5 transactions per second that page gives for the control-plane calls it lists; the
        C(PutSubscriptionFilter) figure itself was not confirmed from AWS's text.
      - Every request that is throttled (C(ThrottlingException)) is retried with jittered backoff,
        so a lower quota costs time, never a log group.
    type: int
    default: 5
notes:
  - PutSubscriptionFilter replaces the whole filter. Options that are not given are read from the
    existing filter and sent again, so an update never resets C(roleArn), C(distribution),
    C(applyOnTransformedLogs), C(fieldSelectionCriteria) or C(emitSystemFields).
  - With a role, CloudWatch Logs tests delivery before saving the filter. A role created a moment
    before is not usable yet (IAM is eventually consistent,
    U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency))
    and AWS answers C(InvalidParameterException) "Could not deliver test message to specified ...";
    that code with that message is retried for about two minutes. Any other C(InvalidParameterException) fails at once.
  - Check mode makes no write call and predicts the action of every group exactly.
    With C(--diff) the module returns, for the groups that change, the filter before and after.
seealso:
  - name: PutSubscriptionFilter API
    description: The CloudWatch Logs API this module calls.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html
  - module: logvault.aws.cloudwatchlogs_destination
  - module: logvault.aws.cloudwatchlogs_account_policy
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Subscribe every application log group to the central destination
  logvault.aws.cloudwatchlogs_subscription_filter:
    filter_name: logvault
    destination_arn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    log_group_prefix: /app/
    exclude:
      - /app/debug-*
    max_concurrency: 5
  register: subscribed

- name: Show what happened to each log group
  ansible.builtin.debug:
    msg: "{{ subscribed.counts }}"

- name: Subscribe two named groups, replacing an old filter where a group is full
  logvault.aws.cloudwatchlogs_subscription_filter:
    filter_name: logvault
    destination_arn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
    filter_pattern: '{ $.level = "ERROR" || $.level = "WARN" }'
    distribution: Random
    log_groups:
      - /aws/lambda/orders
      - /aws/lambda/payments
    replace: legacy-splunk

- name: Offboard the account (remove the filter from every group)
  logvault.aws.cloudwatchlogs_subscription_filter:
    filter_name: logvault
    state: absent
    log_group_prefix: ""

- name: Remove the filter from every group of two regions, in one module run
  logvault.aws.cloudwatchlogs_subscription_filter:
    filter_name: logvault
    state: absent
    log_group_prefix: ""
    regions: [us-east-1, eu-west-1]
"""

RETURN = r"""
results:
  description: One entry per selected log group, in name order.
  returned: when O(regions) is not given
  type: list
  elements: dict
  contains:
    log_group_name:
      description: The log group.
      returned: always
      type: str
      sample: /app/orders
    action:
      description:
        - What was done (or, in check mode, what would be done).
        - One of V(created), V(updated), V(unchanged), V(deleted) and V(failed).
      returned: always
      type: str
      sample: created
    msg:
      description: Why the group failed.
      type: str
      returned: when the group failed
      sample: "the log group already has 2 subscription filters (a, b), the most AWS allows; set replace to one of them"
    error_code:
      description: The AWS error code, when an AWS call failed.
      type: str
      returned: when an AWS call for this group failed
      sample: AccessDeniedException
    replaced:
      description: Name of the filter deleted to make room (see O(replace)).
      type: str
      returned: when a filter was replaced
      sample: legacy-splunk
    subscription_filter:
      description: The filter on this group after the task; empty when there is none.
      returned: always
      type: dict
      sample:
        filter_name: logvault
        destination_arn: arn:aws:logs:us-east-1:123456789012:destination:logvault-us-east-1
        filter_pattern: ""
        distribution: ByLogStream
counts:
  description: Number of log groups per action (with O(regions), the sum over the regions).
  returned: always
  type: dict
  sample: {created: 998, updated: 1, unchanged: 1, deleted: 0, failed: 0}
write_calls:
  description:
    - Number of write API calls (C(PutSubscriptionFilter), C(DeleteSubscriptionFilter)) made,
      including calls that failed. A call retried after throttling counts once.
    - Always 0 in check mode and on an idempotent run.
  returned: always
  type: int
  sample: 998
log_groups:
  description: Names of the selected log groups, after O(exclude).
  returned: when O(regions) is not given
  type: list
  elements: str
  sample: [/app/orders, /app/payments]
regions:
  description:
    - With O(regions), each region's result, by region name, with the keys the task returns without O(regions)
      (C(changed), C(results), C(counts), C(write_calls), C(log_groups)). A region that failed also has C(failed),
      C(msg), and C(error_code) when an AWS call failed. With C(--diff), the task's diff lists each changed region.
  returned: when O(regions) is given
  type: dict
  sample:
    us-east-1: {changed: true, counts: {created: 2, updated: 0, unchanged: 0, deleted: 0, failed: 0}, write_calls: 2,
                log_groups: [/app/orders, /app/payments], results: []}
"""

import fnmatch
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import FIELD_SELECTION_CRITERIA_MAX_CHARS
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import SYSTEM_FIELDS
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import parse_arn
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import plan_log_group
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_filter_name
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_filter_pattern
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_log_group_name
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_role_for
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions

ACTIONS = ("created", "updated", "unchanged", "deleted", "failed")
# Throttling only. LimitExceededException is a quota (two filters per group) and is never retried.
RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]
# A conservative cap: CloudWatch Logs' quotas page gives 5 transactions per second per account and
# Region for the control-plane calls it lists; the PutSubscriptionFilter row was not confirmed
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html). Throttling
# is retried with backoff, so a lower quota only costs time.
MAX_CONCURRENCY = 5
SHOWN_KEYS = ("filterName", "logGroupName", "destinationArn", "roleArn", "filterPattern", "distribution", "creationTime",
              "applyOnTransformedLogs", "fieldSelectionCriteria", "emitSystemFields")
# Jittered backoff for bulk work (workers share the account's API rate), plus the bounded
# retry of "Could not deliver test message" while a new role propagates.
retry = propagation_retry("logs", RETRY_CODES)


@retry
def _describe_log_groups(client, **kwargs):
    return client.get_paginator("describe_log_groups").paginate(**kwargs).build_full_result()


@retry
def _describe_subscription_filters(client, **kwargs):
    return client.get_paginator("describe_subscription_filters").paginate(**kwargs).build_full_result()


def validate_params(module):
    params = module.params
    try:
        validate_filter_name(params["filter_name"], "filter_name")
        if params["region"] is not None:
            validate_region(params["region"], "region")
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
            if params["destination_arn"] is not None:
                raise ValidationError("destination_arn", "is for one region; with regions, give destination_arns (region: ARN)")
        elif params["destination_arns"] is not None:
            raise ValidationError("destination_arns", "needs regions (the regions to manage)")
        if params["state"] == "present":
            if params["regions"] is None and params["destination_arn"] is None:
                raise ValidationError("destination_arn", "is required when state is present")
            for region in params["regions"] or []:
                arn = (params["destination_arns"] or {}).get(region)
                if arn is None:
                    raise ValidationError("destination_arns", "has no destination ARN for region %s (state is present)" % region)
                parse_arn(arn, "destination_arns", ["logs-destination", "kinesis-stream", "firehose", "lambda"])
                if arn.split(":")[3] != region:
                    raise ValidationError("destination_arns", "maps region %s to %s, a destination of another region" % (region, arn))
        if params["destination_arn"] is not None:
            parse_arn(params["destination_arn"], "destination_arn", ["logs-destination", "kinesis-stream", "firehose", "lambda"])
        if params["role_arn"] is not None:
            parse_arn(params["role_arn"], "role_arn", ["iam-role"])
            validate_role_for(params, params["regions"])
        validate_filter_pattern(params["filter_pattern"], "filter_pattern")
        for name in params["log_groups"] or []:
            validate_log_group_name(name, "log_groups")
        if params["log_group_prefix"]:
            validate_log_group_name(params["log_group_prefix"], "log_group_prefix")
        for pattern in params["exclude"] or []:
            if not isinstance(pattern, str) or not pattern:
                raise ValidationError("exclude", "%r is not a log group name or glob" % (pattern,))
        if params["replace"] is not None:
            validate_filter_name(params["replace"], "replace")
            if params["replace"] == params["filter_name"]:
                raise ValidationError("replace", "must name another filter than filter_name (%r)" % params["filter_name"])
        criteria = params["field_selection_criteria"]
        if criteria is not None and len(criteria) > FIELD_SELECTION_CRITERIA_MAX_CHARS:
            raise ValidationError("field_selection_criteria", "has %d characters; AWS allows at most %d"
                                  % (len(criteria), FIELD_SELECTION_CRITERIA_MAX_CHARS))
        for field in params["emit_system_fields"] or []:
            if field not in SYSTEM_FIELDS:
                raise ValidationError("emit_system_fields", "%r is not one of %s" % (field, ", ".join(SYSTEM_FIELDS)))
        if not 1 <= params["max_concurrency"] <= MAX_CONCURRENCY:
            raise ValidationError(
                "max_concurrency",
                "%s is not between 1 and %d (CloudWatch Logs allows 5 PutSubscriptionFilter requests per second per account and Region)"
                % (params["max_concurrency"], MAX_CONCURRENCY),
            )
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)


def select_log_groups(module, client):
    """Names of the selected log groups; raises RegionError."""
    params = module.params
    names = []
    seen = set()
    for name in params["log_groups"] or []:
        if name not in seen:
            seen.add(name)
            names.append(name)
    if params["log_group_prefix"] is not None:
        kwargs = {}
        if params["log_group_prefix"]:
            kwargs["logGroupNamePrefix"] = params["log_group_prefix"]
        try:
            found = _describe_log_groups(client, **kwargs)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to describe log groups", error=e)
        for group in found.get("logGroups", []):
            if group["logGroupName"] not in seen:
                seen.add(group["logGroupName"])
                names.append(group["logGroupName"])
    excluded = params["exclude"] or []
    return sorted(name for name in names if not any(fnmatch.fnmatchcase(name, pattern) for pattern in excluded))


def shown(subscription_filter):
    if not subscription_filter:
        return {}
    return camel_dict_to_snake_dict(dict((k, v) for k, v in subscription_filter.items() if k in SHOWN_KEYS))


class Worker:
    """Plans and applies the filter on one log group at a time; safe to share between threads."""

    def __init__(self, module, client, destination_arn=None):
        self.module = module
        self.client = client
        self.destination_arn = destination_arn if destination_arn is not None else module.params["destination_arn"]
        self.write_calls = 0
        self._lock = threading.Lock()

    def _count_write(self):
        with self._lock:
            self.write_calls += 1

    def __call__(self, group):
        params = self.module.params
        result = {"log_group_name": group}
        try:
            existing = _describe_subscription_filters(self.client, logGroupName=group).get("subscriptionFilters", [])
        except is_boto3_error_code("ResourceNotFoundException"):
            if params["state"] == "absent":
                result.update(action="unchanged", subscription_filter={})
            else:
                result.update(action="failed", msg="the log group does not exist", error_code="ResourceNotFoundException")
            return result, None
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            return self._failed(result, e, "describe the subscription filters"), None

        plan = plan_log_group(
            existing, params["state"], params["filter_name"],
            destination_arn=self.destination_arn, filter_pattern=params["filter_pattern"],
            role_arn=params["role_arn"], distribution=params["distribution"], replace=params["replace"],
            apply_on_transformed_logs=params["apply_on_transformed_logs"],
            field_selection_criteria=params["field_selection_criteria"],
            emit_system_fields=params["emit_system_fields"],
        )
        result["action"] = plan["action"]
        if plan["action"] == "failed":
            result["msg"] = plan["msg"]
            result["subscription_filter"] = {}
            return result, None
        if plan.get("replaced"):
            result["replaced"] = plan["replaced"]
        if not self.module.check_mode:
            for name in plan["delete"]:
                try:
                    self._count_write()
                    self.client.delete_subscription_filter(aws_retry=True, logGroupName=group, filterName=name)
                except is_boto3_error_code("ResourceNotFoundException"):
                    pass
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                    return self._failed(result, e, "delete subscription filter %s" % name), None
            if plan["put"]:
                after = plan["after"]
                kwargs = dict(
                    logGroupName=group, filterName=after["filterName"], filterPattern=after["filterPattern"],
                    destinationArn=after["destinationArn"], distribution=after["distribution"],
                )
                for key in ("roleArn", "applyOnTransformedLogs", "fieldSelectionCriteria", "emitSystemFields"):
                    if after.get(key):
                        kwargs[key] = after[key]
                try:
                    self._count_write()
                    self.client.put_subscription_filter(aws_retry=True, **kwargs)
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    return self._failed(result, e, "put subscription filter %s" % after["filterName"]), None
        after = dict(plan["after"], logGroupName=group) if plan["after"] else None
        result["subscription_filter"] = shown(after)
        diff = None
        if plan["action"] != "unchanged":
            diff = (shown(plan["before"]), shown(after))
        return result, diff

    @staticmethod
    def _failed(result, error, what):
        code = None
        if isinstance(error, botocore.exceptions.ClientError):
            code = error.response.get("Error", {}).get("Code")
            message = error.response.get("Error", {}).get("Message") or str(error)
        else:
            message = str(error)
        if code == "LimitExceededException":
            message = "%s (LimitExceededException: a CloudWatch Logs quota of log group %s is reached, for example its two " \
                      "subscription filters; not retried)" % (message, result["log_group_name"])
        result.update(action="failed", msg="Failed to %s: %s" % (what, message), subscription_filter={})
        if code:
            result["error_code"] = code
        return result


def manage(module, client, destination_arn=None):
    """One region: (output dict, message of the failed groups or None); raises RegionError."""
    groups = select_log_groups(module, client)
    worker = Worker(module, client, destination_arn)
    if groups:
        with ThreadPoolExecutor(max_workers=min(module.params["max_concurrency"], len(groups))) as pool:
            outcomes = list(pool.map(worker, groups))
    else:
        outcomes = []

    results = [outcome[0] for outcome in outcomes]
    counts = dict((action, 0) for action in ACTIONS)
    for item in results:
        counts[item["action"]] += 1
    changed = any(counts[action] for action in ("created", "updated", "deleted"))
    output = dict(changed=changed, results=results, counts=counts, write_calls=worker.write_calls, log_groups=groups)
    if module._diff:
        before = {}
        after = {}
        for item, diff in outcomes:
            if diff is not None:
                before[item["log_group_name"]] = diff[0]
                after[item["log_group_name"]] = diff[1]
        output["diff"] = dict(before=before, after=after)
    failed = [item for item in results if item["action"] == "failed"]
    message = None
    if failed:
        first = failed[0]
        message = "%d of %d log groups failed; first: %s: %s" % (len(failed), len(results), first["log_group_name"], first["msg"])
    return output, message


def run_many_regions(module):
    """Every region of O(regions) in one run: one client and one thread per region."""
    regions = module.params["regions"]
    arns = module.params["destination_arns"] or {}
    try:
        clients = regional_clients(module, "logs", regions, retry_decorator=retry,
                                   config=dict(max_pool_connections=max(10, module.params["max_concurrency"])))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    def work(client, region):
        output, message = manage(module, client, arns.get(region))
        if message:
            raise RegionError(message, output=output)
        return output

    outcomes = run_regions(clients, work)
    per_region = {}
    diffs = []
    for region in regions:
        outcome = outcomes[region]
        if isinstance(outcome, RegionError):
            empty = dict(changed=False, results=[], counts=dict((a, 0) for a in ACTIONS), write_calls=0, log_groups=[])
            entry = dict(outcome.extra.get("output") or empty)
            diff = entry.pop("diff", None)
            entry.update(failed=True, msg=outcome.describe())
            if outcome.error_code():
                entry["error_code"] = outcome.error_code()
        else:
            entry = outcome
            diff = entry.pop("diff", None)
        per_region[region] = entry
        if diff is not None and (diff["before"] or diff["after"]):
            diffs.append(dict(diff, before_header="%s (before)" % region, after_header="%s (after)" % region))
    counts = dict((action, sum(r["counts"][action] for r in per_region.values())) for action in ACTIONS)
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region, counts=counts,
                  write_calls=sum(r["write_calls"] for r in per_region.values()))
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(outcomes, "Subscription filter %s" % module.params["filter_name"])
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        filter_name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        destination_arn=dict(type="str"),
        regions=dict(type="list", elements="str"),
        destination_arns=dict(type="dict"),
        role_arn=dict(type="str"),
        filter_pattern=dict(type="str", default=""),
        distribution=dict(type="str", choices=["Random", "ByLogStream"]),
        log_groups=dict(type="list", elements="str"),
        log_group_prefix=dict(type="str"),
        exclude=dict(type="list", elements="str", default=[]),
        replace=dict(type="str"),
        apply_on_transformed_logs=dict(type="bool"),
        field_selection_criteria=dict(type="str"),
        emit_system_fields=dict(type="list", elements="str", choices=list(SYSTEM_FIELDS)),
        max_concurrency=dict(type="int", default=MAX_CONCURRENCY),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_one_of=[("log_groups", "log_group_prefix")],
    )
    validate_params(module)

    if module.params["regions"] is not None:
        run_many_regions(module)

    concurrency = module.params["max_concurrency"]
    try:
        client = module.client(
            "logs",
            retry_decorator=retry,
            config=dict(max_pool_connections=max(10, concurrency)),
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    try:
        output, message = manage(module, client)
    except RegionError as e:
        module.fail_json_aws(e.error, msg=e.msg)
    if message:
        module.fail_json(msg=message, **output)
    module.exit_json(**output)


if __name__ == "__main__":
    main()
