# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One EventBridge Scheduler schedule with one target, in one region: shared by the modules
``scheduler_schedule`` (the schedule alone) and ``lambda_function`` (option ``schedule``: the
function and the schedule that invokes it, in one module run).

A schedule is described by a ``spec`` dict with the options of ``scheduler_schedule``: ``name``,
``group_name``, ``state``, ``schedule_expression``, ``schedule_expression_timezone``,
``description``, ``enabled``, ``flexible_time_window_minutes`` and ``target`` (``arn``,
``role_arn``, ``input``, ``maximum_retry_attempts``, ``maximum_event_age_in_seconds``).
Nothing here exits the module: bad input raises ValidationError, a failed region RegionError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError

# The client these functions are given (tools/deployer_policy.py reads this file's calls as this service's only).
SERVICE = "scheduler"
NAME = re.compile(r"^[0-9a-zA-Z\-_.]{1,64}$")
RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
TARGET_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$")
RETRY_CODES = ["ThrottlingException", "InternalServerException"]
# Replaced in target.arn by the name of the schedule's region.
REGION_PLACEHOLDER = "{region}"

# The target options (scheduler_schedule's target; lambda_function's schedule has them minus arn).
TARGET_OPTIONS = dict(
    role_arn=dict(type="str", required=True),
    input=dict(type="json"),
    maximum_retry_attempts=dict(type="int", default=185),
    maximum_event_age_in_seconds=dict(type="int", default=86400),
)
# The schedule's own options, but name (required in one module, defaulted in the other) and target.
SCHEDULE_OPTIONS = dict(
    group_name=dict(type="str", default="default"),
    schedule_expression=dict(type="str"),
    schedule_expression_timezone=dict(type="str", default="UTC"),
    description=dict(type="str", default=""),
    enabled=dict(type="bool", default=True),
    flexible_time_window_minutes=dict(type="int", default=0),
)


def validate(spec, regions, prefix=""):
    """Check a schedule's spec before any AWS call; raise ValidationError naming the parameter (``prefix`` + its name).

    ``regions`` are the regions the schedule will be in ([None] when no region is set)."""
    if not NAME.match(spec["name"]):
        raise ValidationError(prefix + "name", "must be 1 to 64 letters, digits, '.', '-' or '_', got %r" % spec["name"])
    if not NAME.match(spec["group_name"]):
        raise ValidationError(prefix + "group_name", "must be 1 to 64 letters, digits, '.', '-' or '_', got %r" % spec["group_name"])
    if spec["state"] == "absent":
        return
    expression = spec["schedule_expression"] or ""
    if len(expression) > 256 or not (expression.startswith(("rate(", "cron(", "at(")) and expression.endswith(")")):
        raise ValidationError(prefix + "schedule_expression", "must be rate(...), cron(...) or at(...) of at most 256 characters, got %r" % expression)
    if expression.startswith("rate("):
        match = RATE.match(expression)
        if not match or int(match.group(1)) < 1:
            raise ValidationError(prefix + "schedule_expression", "must be rate(<positive integer> minute(s)|hour(s)|day(s)), got %r" % expression)
    if len(spec["description"]) > 512:
        raise ValidationError(prefix + "description", "must be at most 512 characters, got %d" % len(spec["description"]))
    window = spec["flexible_time_window_minutes"]
    if window < 0 or window > 1440:
        raise ValidationError(prefix + "flexible_time_window_minutes", "must be 0 (off) or 1 to 1440, got %d" % window)
    target = spec["target"]
    target_prefix = prefix + "target." if "arn" in target else prefix
    if target.get("arn") is not None:
        if REGION_PLACEHOLDER not in target["arn"]:
            if not TARGET_ARN.match(target["arn"]):
                raise ValidationError(target_prefix + "arn", "must be an ARN, got %r" % target["arn"])
        else:
            if regions == [None]:
                raise ValidationError(target_prefix + "arn", "contains %s, but no region is set (give regions, or region or AWS_REGION)"
                                      % REGION_PLACEHOLDER)
            for region in regions:
                arn = target_arn(spec, region)
                if not TARGET_ARN.match(arn):
                    raise ValidationError(target_prefix + "arn", "must be an ARN once %s is replaced, got %r for region %s"
                                          % (REGION_PLACEHOLDER, arn, region))
    if not ROLE_ARN.match(target["role_arn"] or ""):
        raise ValidationError(target_prefix + "role_arn", "must be the ARN of an IAM role, got %r" % target["role_arn"])
    if target["input"] is not None and len(target["input"]) > 8192:
        raise ValidationError(target_prefix + "input", "must be at most 8,192 characters, got %d" % len(target["input"]))
    if not 0 <= target["maximum_retry_attempts"] <= 185:
        raise ValidationError(target_prefix + "maximum_retry_attempts", "must be 0 to 185, got %d" % target["maximum_retry_attempts"])
    if not 60 <= target["maximum_event_age_in_seconds"] <= 86400:
        raise ValidationError(target_prefix + "maximum_event_age_in_seconds", "must be 60 to 86400, got %d" % target["maximum_event_age_in_seconds"])


def target_arn(spec, region):
    """target.arn of the schedule in ``region`` ({region} replaced); None when state=absent."""
    if spec["state"] == "absent":
        return None
    arn = spec["target"]["arn"]
    return arn.replace(REGION_PLACEHOLDER, region) if REGION_PLACEHOLDER in arn else arn


def same_input(left, right):
    """Inputs are equal as JSON when both parse (key order ignored), else as text."""
    if left is None or right is None:
        return left == right
    try:
        return json.dumps(json.loads(left), sort_keys=True) == json.dumps(json.loads(right), sort_keys=True)
    except ValueError:
        return left == right


def view(schedule):
    """A GetSchedule answer in the modules' form."""
    if not schedule:
        return {}
    target = schedule.get("Target") or {}
    retry = target.get("RetryPolicy") or {}
    window = schedule.get("FlexibleTimeWindow") or {}
    result = {
        "name": schedule["Name"],
        "arn": schedule.get("Arn"),
        "group_name": schedule.get("GroupName") or "default",
        "schedule_expression": schedule.get("ScheduleExpression"),
        "schedule_expression_timezone": schedule.get("ScheduleExpressionTimezone") or "UTC",
        "description": schedule.get("Description") or "",
        "state": schedule.get("State") or "ENABLED",
        "flexible_time_window_minutes": int(window.get("MaximumWindowInMinutes") or 0) if window.get("Mode") == "FLEXIBLE" else 0,
        "target": {
            "arn": target.get("Arn"),
            "role_arn": target.get("RoleArn"),
            "input": target.get("Input"),
            "maximum_retry_attempts": retry.get("MaximumRetryAttempts", 185),
            "maximum_event_age_in_seconds": retry.get("MaximumEventAgeInSeconds", 86400),
        },
    }
    # Fields the modules do not manage; their presence is a difference (UpdateSchedule drops them).
    result["unmanaged"] = sorted(k for k in ("KmsKeyArn", "StartDate", "EndDate") if schedule.get(k))
    result["unmanaged"] += sorted(k for k in target if k not in ("Arn", "RoleArn", "Input", "RetryPolicy") and target[k])
    return result


def wanted(spec, arn, arn_of_target):
    target = spec["target"]
    return {
        "name": spec["name"],
        "arn": arn,
        "group_name": spec["group_name"],
        "schedule_expression": spec["schedule_expression"],
        "schedule_expression_timezone": spec["schedule_expression_timezone"],
        "description": spec["description"],
        "state": "ENABLED" if spec["enabled"] else "DISABLED",
        "flexible_time_window_minutes": spec["flexible_time_window_minutes"],
        "target": {
            "arn": arn_of_target,
            "role_arn": target["role_arn"],
            "input": target["input"],
            "maximum_retry_attempts": target["maximum_retry_attempts"],
            "maximum_event_age_in_seconds": target["maximum_event_age_in_seconds"],
        },
        "unmanaged": [],
    }


def differs(before, after):
    if not before:
        return True
    for key in ("schedule_expression", "schedule_expression_timezone", "description", "state",
                "flexible_time_window_minutes", "unmanaged"):
        if before[key] != after[key]:
            return True
    b_target, a_target = before["target"], after["target"]
    for key in ("arn", "role_arn", "maximum_retry_attempts", "maximum_event_age_in_seconds"):
        if b_target[key] != a_target[key]:
            return True
    return not same_input(b_target["input"], a_target["input"])


def request(after):
    target = after["target"]
    api_target = {
        "Arn": target["arn"],
        "RoleArn": target["role_arn"],
        "RetryPolicy": {
            "MaximumRetryAttempts": target["maximum_retry_attempts"],
            "MaximumEventAgeInSeconds": target["maximum_event_age_in_seconds"],
        },
    }
    if target["input"] is not None:
        api_target["Input"] = target["input"]
    window = after["flexible_time_window_minutes"]
    result = {
        "Name": after["name"],
        "GroupName": after["group_name"],
        "ScheduleExpression": after["schedule_expression"],
        "ScheduleExpressionTimezone": after["schedule_expression_timezone"],
        "State": after["state"],
        "FlexibleTimeWindow": {"Mode": "FLEXIBLE", "MaximumWindowInMinutes": window} if window else {"Mode": "OFF"},
        "Target": api_target,
    }
    if after["description"]:
        result["Description"] = after["description"]
    return result


def get_schedule(spec, client):
    """The schedule as GetSchedule returns it, or None; raises RegionError."""
    try:
        schedule = client.get_schedule(aws_retry=True, Name=spec["name"], GroupName=spec["group_name"])
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise RegionError("Failed to get schedule %s" % spec["name"], error=e)
    schedule.pop("ResponseMetadata", None)
    return schedule


def manage(spec, check_mode, client, arn_of_target):
    """One region: {changed, before, after} (modules' form; after is {} when state=absent, and its arn is None
    in check mode before creation). Never exits: raises RegionError (it also runs in a region's thread)."""
    name, group = spec["name"], spec["group_name"]
    current = get_schedule(spec, client)
    before = view(current)
    if spec["state"] == "absent":
        changed = current is not None
        if changed and not check_mode:
            try:
                client.delete_schedule(aws_retry=True, Name=name, GroupName=group)
            except is_boto3_error_code("ResourceNotFoundException"):
                pass
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                raise RegionError("Failed to delete schedule %s" % name, error=e)
        return dict(changed=changed, before=before, after={})

    after = wanted(spec, before.get("arn"), arn_of_target)
    changed = differs(before, after)
    if changed and not check_mode:
        try:
            if current is None:
                after["arn"] = client.create_schedule(aws_retry=True, **request(after))["ScheduleArn"]
            else:
                client.update_schedule(aws_retry=True, **request(after))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to %s schedule %s" % ("create" if current is None else "update", name), error=e)
    return dict(changed=changed, before=before, after=after)


def retrying(clients):
    """{region: Scheduler client} (made by the module: regional_clients(module, "scheduler", ...)), each retrying
    throttling, and the role check while a new role propagates (about two minutes), with its own decorator: a
    decorator's backoff iterator is shared by every call it wraps, and the regions' threads retry at the same time
    (a shared one would reset and advance the others' waits)."""
    return dict((region, RetryingBotoClientWrapper(client, propagation_retry("scheduler", RETRY_CODES)))
                for region, client in clients.items())


def predicted_arn(spec, partition, account, region):
    return "arn:%s:scheduler:%s:%s:schedule/%s/%s" % (partition, region, account, spec["group_name"], spec["name"])


def public(value):
    return dict((k, v) for k, v in value.items() if k != "unmanaged") if value else {}
