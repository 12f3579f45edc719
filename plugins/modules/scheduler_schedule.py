#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: scheduler_schedule
version_added: 0.1.0
short_description: Manage an Amazon EventBridge Scheduler schedule with one target
description:
  - Creates, updates and deletes an EventBridge Scheduler schedule (C(CreateSchedule), C(UpdateSchedule),
    C(DeleteSchedule)) that invokes one target with a role.
  - C(UpdateSchedule) replaces the whole schedule with what it is given, so an update always sends every
    managed field (U(https://docs.aws.amazon.com/scheduler/latest/APIReference/API_UpdateSchedule.html)).
  - The target's O(target.input) is compared as JSON (key order ignored). Scheduler's context attributes
    such as C(<aws.scheduler.scheduled-time>) are kept as text, and Scheduler replaces them at each
    invocation (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html)).
  - With O(regions), one module run manages the same schedule in each of these regions, with one boto3 session and a
    client and a thread per region (Scheduler has no multi-region call, so the API calls are those of a task looped over
    the regions, without one Python process per region on the control node).
  - All input is validated before any AWS call; errors name the parameter.
  - C(CreateSchedule) and C(UpdateSchedule) refuse a role that Scheduler cannot assume (C(ValidationException)
    "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."); right after the
    role was created that is IAM's eventual consistency, so exactly that answer is retried for about two minutes.
  - Neither amazon.aws 10.1.2 nor community.aws 10.0.0 has a module for EventBridge Scheduler.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the schedule (1 to 64 letters, digits, V(.), V(-) or V(_)).
    required: true
    type: str
  group_name:
    description:
      - The schedule group (it must exist; V(default) always does).
    default: default
    type: str
  regions:
    description:
      - Manage the schedule (same name, group, expression, target, ...) in each of these regions in one module run,
        instead of the one region of O(region). V(state=absent) deletes it in each of them.
      - Check mode, diff and errors are per region. When a region fails, the others are still done and the task
        fails with a message naming every region that failed (RV(regions) has each region's result).
      - The schedule group O(group_name) must exist in every region.
      - O(region) is not used when this is given.
    type: list
    elements: str
  state:
    description:
      - V(present) creates or updates the schedule, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
  schedule_expression:
    description:
      - C(rate(value unit)), C(cron(...)) or C(at(...)) (at most 256 characters), for example V(rate(5 minutes)).
      - A rate's unit is C(minute), C(minutes), C(hour), C(hours), C(day) or C(days); the smallest rate is one minute
        (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/schedule-types.html)).
      - Required when O(state=present).
    type: str
  schedule_expression_timezone:
    description:
      - Time zone of a C(cron) or C(at) expression.
    default: UTC
    type: str
  description:
    description:
      - Description of the schedule (at most 512 characters).
    default: ""
    type: str
  enabled:
    description:
      - V(true) sets the schedule's state to C(ENABLED), V(false) to C(DISABLED).
    default: true
    type: bool
  flexible_time_window_minutes:
    description:
      - V(0) invokes at the scheduled time (C(FlexibleTimeWindow) mode C(OFF)); 1 to 1440 lets Scheduler invoke
        within that many minutes after it (mode C(FLEXIBLE)).
    default: 0
    type: int
  target:
    description:
      - The target Scheduler invokes. Required when O(state=present).
    type: dict
    suboptions:
      arn:
        description:
          - ARN of the target (for example a Lambda function).
          - The text V({region}) in it is replaced by the name of the region the schedule is in (each region of
            O(regions), or O(region)), for a target that has one ARN per region such as
            V(arn:aws:lambda:{region}:111111111111:function:logvault-canary). The ARN is validated after the
            replacement. Without V({region}) every region's schedule invokes the same ARN.
        required: true
        type: str
      role_arn:
        description:
          - The role Scheduler assumes to invoke the target. Its trust policy names the principal
            C(scheduler.amazonaws.com) (U(https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role)).
        required: true
        type: str
      input:
        description:
          - Text passed to the target (a Lambda function gets it as its event), at most 8,192 characters.
            A dict is sent as JSON.
        type: json
      maximum_retry_attempts:
        description: Retries of a failed invocation (0 to 185).
        default: 185
        type: int
      maximum_event_age_in_seconds:
        description: How long Scheduler keeps retrying an invocation (60 to 86400 seconds).
        default: 86400
        type: int
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly; with C(--diff) the module
    returns the schedule before and after (with O(regions), one diff per changed region, headed with its name).
  - In check mode, the ARN of a schedule that does not exist yet is built from the caller's account, read with one
    C(sts:GetCallerIdentity) call (one for all regions).
  - Schedules have no tags (only schedule groups have).
seealso:
  - name: CreateSchedule API
    description: The Scheduler API this module calls to create the schedule.
    link: https://docs.aws.amazon.com/scheduler/latest/APIReference/API_CreateSchedule.html
  - name: Setting up the execution role
    description: The trust and permission policies of the role Scheduler assumes.
    link: https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Invoke the canary function every five minutes
  logvault.aws.scheduler_schedule:
    name: logvault-canary
    schedule_expression: rate(5 minutes)
    description: logvault pipeline canary
    target:
      arn: arn:aws:lambda:eu-west-1:111111111111:function:logvault-canary
      role_arn: arn:aws:iam::111111111111:role/logvault-canary-scheduler
      input:
        scheduled_time: <aws.scheduler.scheduled-time>
        execution_id: <aws.scheduler.execution-id>
      maximum_retry_attempts: 0
      maximum_event_age_in_seconds: 300

- name: Delete the schedule
  logvault.aws.scheduler_schedule:
    name: logvault-canary
    state: absent

- name: Invoke each region's canary function, in three regions in one module run
  logvault.aws.scheduler_schedule:
    name: logvault-canary
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    schedule_expression: rate(5 minutes)
    target:
      arn: "arn:aws:lambda:{region}:111111111111:function:logvault-canary"
      role_arn: arn:aws:iam::111111111111:role/logvault-canary-scheduler
  register: canary_schedules

- name: Delete the schedule in the three regions
  logvault.aws.scheduler_schedule:
    name: logvault-canary
    regions: [us-east-1, eu-west-1, ap-southeast-2]
    state: absent
"""

RETURN = r"""
schedule:
  description: The schedule after the task; empty when O(state=absent).
  returned: when O(regions) is not given
  type: dict
  contains:
    name:
      description: Name of the schedule.
      type: str
      returned: when the schedule exists
      sample: logvault-canary
    arn:
      description: ARN of the schedule (built from the caller's account in check mode before creation).
      type: str
      returned: when the schedule exists
      sample: arn:aws:scheduler:eu-west-1:111111111111:schedule/default/logvault-canary
    group_name:
      description: The schedule group.
      type: str
      returned: when the schedule exists
      sample: default
    schedule_expression:
      description: The expression.
      type: str
      returned: when the schedule exists
      sample: rate(5 minutes)
    schedule_expression_timezone:
      description: Its time zone.
      type: str
      returned: when the schedule exists
      sample: UTC
    description:
      description: The description.
      type: str
      returned: when the schedule exists
      sample: logvault pipeline canary
    state:
      description: C(ENABLED) or C(DISABLED).
      type: str
      returned: when the schedule exists
      sample: ENABLED
    flexible_time_window_minutes:
      description: 0 when the window is C(OFF).
      type: int
      returned: when the schedule exists
      sample: 0
    target:
      description: The target with C(arn), C(role_arn), C(input), C(maximum_retry_attempts) and C(maximum_event_age_in_seconds).
      type: dict
      returned: when the schedule exists
      sample: {arn: "arn:aws:lambda:eu-west-1:111111111111:function:logvault-canary"}
regions:
  description:
    - With O(regions), each region's result, by region name. A region that succeeded has C(changed) and
      C(schedule) (as RV(schedule)); a region that failed has C(changed) (V(false)), C(failed), C(msg) and,
      when AWS gave one, C(error_code). With C(--diff), the task's diff lists each changed region.
  returned: when O(regions) is given
  type: dict
  sample:
    us-east-1:
      changed: true
      schedule: {name: logvault-canary, arn: "arn:aws:scheduler:us-east-1:111111111111:schedule/default/logvault-canary"}
    eu-west-1: {changed: false, failed: true, msg: "Failed to get schedule logvault-canary: ...", error_code: AccessDeniedException}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils import scheduler
from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import region_failure_message
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import regional_clients
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import validate_regions


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params
    try:
        if params["regions"] is not None:
            validate_regions(params["regions"], "regions", validate_region)
        scheduler.validate(params, params["regions"] or [module.region])
    except ValidationError as e:
        module.fail_json(msg="%s %s" % (e.param, e.message), parameter=e.param)


def caller_identity(module, **client_params):
    """(partition, account id) of the credentials, from one GetCallerIdentity call."""
    try:
        sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff(), **client_params)
        identity = sts.get_caller_identity(aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to get the caller's account id")
    return identity["Arn"].split(":")[1], identity["Account"]


def run_many_regions(module):
    """Every region of O(regions) in one run: one boto3 session, and a client and a thread per region."""
    params = module.params
    regions = params["regions"]
    try:
        clients = scheduler.retrying(regional_clients(module, "scheduler", regions))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to EventBridge Scheduler")

    outcomes = run_regions(clients, lambda client, region: scheduler.manage(params, module.check_mode, client, scheduler.target_arn(params, region)))
    # In check mode a schedule to create has no ARN yet: build it from the account, read once for all regions.
    unknown = [region for region in regions
               if not isinstance(outcomes[region], RegionError) and outcomes[region]["after"] and not outcomes[region]["after"]["arn"]]
    if unknown:
        partition, account = caller_identity(module, region=regions[0])
        for region in unknown:
            outcomes[region]["after"]["arn"] = scheduler.predicted_arn(params, partition, account, region)

    per_region = {}
    diffs = []
    for region in regions:
        outcome = outcomes[region]
        if isinstance(outcome, RegionError):
            per_region[region] = dict(changed=False, failed=True, msg=outcome.describe())
            if outcome.error_code():
                per_region[region]["error_code"] = outcome.error_code()
            continue
        per_region[region] = dict(changed=outcome["changed"], schedule=scheduler.public(outcome["after"]))
        if outcome["changed"]:
            diffs.append(dict(before=scheduler.public(outcome["before"]), after=scheduler.public(outcome["after"]),
                              before_header="%s (before)" % region, after_header="%s (after)" % region))
    result = dict(changed=any(r["changed"] for r in per_region.values()), regions=per_region)
    if module._diff:
        result["diff"] = diffs
    failure = region_failure_message(outcomes, "Schedule %s" % module.params["name"])
    if failure:
        module.fail_json(msg=failure, **result)
    module.exit_json(**result)


def main():
    target_options = dict(arn=dict(type="str", required=True), **scheduler.TARGET_OPTIONS)
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        target=dict(type="dict", options=target_options),
        regions=dict(type="list", elements="str"),
        **scheduler.SCHEDULE_OPTIONS
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["schedule_expression", "target"])],
    )
    validate_params(module)
    if module.params["regions"] is not None:
        run_many_regions(module)

    try:
        client = module.client("scheduler", retry_decorator=propagation_retry("scheduler", scheduler.RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to EventBridge Scheduler")

    try:
        outcome = scheduler.manage(module.params, module.check_mode, client, scheduler.target_arn(module.params, module.region))
    except RegionError as e:
        module.fail_json_aws(e.error, msg=e.msg)
    after = outcome["after"]
    if after and not after["arn"]:
        partition, account = caller_identity(module)
        after["arn"] = scheduler.predicted_arn(module.params, partition, account, module.region)
    result = dict(changed=outcome["changed"], schedule=scheduler.public(after))
    if module._diff:
        result["diff"] = dict(before=scheduler.public(outcome["before"]), after=scheduler.public(after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
