#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatch_metric_alarms
version_added: 0.1.0
short_description: Manage many CloudWatch metric alarms of one region in one task, and delete those no longer listed
description:
  - Makes sure each alarm of O(alarms) exists in the region with exactly the given settings, as a static-threshold
    alarm on one metric (C(PutMetricAlarm)). With O(purge_prefix), the metric alarms whose name starts with it and
    that are not listed are deleted (C(DeleteAlarms)).
  - It does what M(amazon.aws.cloudwatch_metric_alarm) does for one alarm, for every listed alarm in one module run
    and one boto3 client. M(amazon.aws.cloudwatch_metric_alarm) manages one alarm per run, so a task looped over
    hundreds of alarms starts hundreds of Python processes on the control node, and it never deletes the alarms
    that are no longer in the loop. community.aws 10.0.0 has no module for many alarms (its
    C(cloudwatch_metric_alarm) redirects to amazon.aws). The options of an alarm are named like those of
    M(amazon.aws.cloudwatch_metric_alarm), so a looped task becomes one task by moving the loop into O(alarms).
  - The current alarms are read with C(DescribeAlarms) (metric alarms only), by O(purge_prefix) when it is given,
    else by name in batches of 100 (the most C(AlarmNames) takes). Each listed alarm is compared field by field
    with what is there, and only the alarms that are missing or differ are written, one C(PutMetricAlarm) each.
    C(PutMetricAlarm) replaces the whole configuration of an existing alarm
    (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)), so every option
    is sent; an empty O(alarms[].description) and an O(alarms[].unit) or O(alarms[].datapoints_to_alarm) not given
    are left out of the call, which removes them from the alarm. Dimensions and actions are sent in the order given,
    and the other fields as M(amazon.aws.cloudwatch_metric_alarm) sends them, so that module finds an alarm written
    by this one unchanged when given the same options in the same order (it compares dimensions and actions in order).
  - Alarms to purge are deleted after every listed alarm was written, at most 100 names per C(DeleteAlarms) call,
    the API's limit (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html)).
    Composite alarms and log alarms are never read nor deleted.
  - When a C(PutMetricAlarm) or C(DeleteAlarms) call fails, the task fails naming the alarm (or the alarms of the
    C(DeleteAlarms) call). The alarms written before stay written; running the task again converges.
  - All input is validated before any AWS call, against the limits of C(PutMetricAlarm); errors name the parameter
    (for example V(alarms[3].period)).
  - Throttling is retried with jittered backoff.
author:
  - logvault.aws maintainers (@logvault)
options:
  alarms:
    description:
      - The metric alarms. Names are unique in the list.
      - An empty list is allowed; with O(purge_prefix) it deletes every metric alarm under the prefix.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the alarm, unique in the region (1 to 255 characters, no ASCII control characters).
          - With O(purge_prefix), it must start with O(purge_prefix).
        type: str
        required: true
      description:
        description: Description of the alarm (at most 1,024 characters).
        type: str
        default: ""
      namespace:
        description: Namespace of the metric (1 to 255 characters, not starting with V(:)), for example V(AWS/Lambda).
        type: str
        required: true
      metric_name:
        description: Name of the metric (1 to 255 characters).
        type: str
        required: true
      statistic:
        description: Statistic of the metric compared with O(alarms[].threshold).
        type: str
        required: true
        choices: ['SampleCount', 'Average', 'Sum', 'Minimum', 'Maximum']
      comparison:
        description:
          - How the statistic is compared with O(alarms[].threshold).
          - The anomaly detection operators of C(PutMetricAlarm) (C(LessThanLowerOrGreaterThanUpperThreshold),
            C(LessThanLowerThreshold), C(GreaterThanUpperThreshold)) need a metric math band and are not supported,
            as in M(amazon.aws.cloudwatch_metric_alarm).
        type: str
        required: true
        choices: ['GreaterThanOrEqualToThreshold', 'GreaterThanThreshold', 'LessThanThreshold', 'LessThanOrEqualToThreshold']
      threshold:
        description: The value the statistic is compared with. Compared as a number (V(1) and V(1.0) are the same).
        type: float
        required: true
      dimensions:
        description:
          - Dimensions of the metric, name to value (at most 30). Names are 1 to 255 ASCII characters, values 1 to
            1,024; numbers are sent as text.
          - Compared as a mapping, so their order does not matter.
        type: dict
        default: {}
      period:
        description:
          - Seconds of each evaluated period. V(10), V(20), V(30) or a multiple of V(60)
            (U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html)).
          - O(alarms[].period) times O(alarms[].evaluation_periods) is at most 86,400 seconds (one day) when the period
            is shorter than one hour, and at most 604,800 seconds (seven days) otherwise, as the API reference says.
        type: int
        required: true
      evaluation_periods:
        description: Number of most recent periods evaluated (at least 1).
        type: int
        required: true
      datapoints_to_alarm:
        description:
          - Number of breaching periods among O(alarms[].evaluation_periods) that set the alarm to C(ALARM) (an
            "M out of N" alarm); 1 to O(alarms[].evaluation_periods).
          - When not given, O(alarms[].evaluation_periods), the default of CloudWatch; an alarm whose C(DatapointsToAlarm)
            is absent or equal to its C(EvaluationPeriods) is the same.
        type: int
      treat_missing_data:
        description: How the alarm treats missing data points.
        type: str
        default: missing
        choices: ['breaching', 'notBreaching', 'ignore', 'missing']
      alarm_actions:
        description:
          - ARNs of the actions run when the alarm goes to C(ALARM) (at most 5, each listed once).
          - Compared as a set (order does not matter), because CloudWatch runs every action of a state and the order is
            not part of the alarm's behaviour.
        type: list
        elements: str
        default: []
      ok_actions:
        description: ARNs of the actions run when the alarm goes to C(OK) (at most 5, each listed once; compared as a set).
        type: list
        elements: str
        default: []
      insufficient_data_actions:
        description:
          - ARNs of the actions run when the alarm goes to C(INSUFFICIENT_DATA) (at most 5, each listed once;
            compared as a set).
        type: list
        elements: str
        default: []
      actions_enabled:
        description:
          - Whether the actions run when the alarm changes state.
          - M(amazon.aws.cloudwatch_metric_alarm) has no such option and ignores C(ActionsEnabled) when comparing;
            this module compares and sets it.
        type: bool
        default: true
      unit:
        description:
          - Unit of the metric's data points. When not given, the alarm has no unit (AWS recommends none, so that
            every unit published for the metric is evaluated).
        type: str
        choices: ['Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits',
                  'Kilobits', 'Megabits', 'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second',
                  'Megabytes/Second', 'Gigabytes/Second', 'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second',
                  'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None']
  purge_prefix:
    description:
      - Delete the metric alarms of the region whose name starts with this text and that are not in O(alarms)
        (1 to 255 characters). Every alarm of O(alarms) must start with it.
      - When not given, no alarm is deleted.
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) and RV(alarms) exactly. With C(--diff) the module
    returns, by alarm name, the alarms that are created, updated or deleted, before and after.
  - C(PutMetricAlarm) replaces the whole configuration of an alarm. An existing alarm that uses settings this module
    has no option for (C(ExtendedStatistic), C(EvaluateLowSampleCountPercentile), C(Metrics), C(ThresholdMetricId),
    C(EvaluationCriteria)) differs and is rewritten without them. The newer settings C(EvaluationWindow),
    C(EvaluationInterval), C(WarmUpConfiguration) and C(ActionConfiguration) are not compared (it is not documented
    whether AWS returns defaults for them); they are dropped when the alarm is written for another difference.
  - The tags of an existing alarm are kept (C(PutMetricAlarm) ignores C(Tags) on an update, and this module sends none).
  - A deleted alarm is gone with its history of states; an alarm deleted by someone else between the read and
    C(DeleteAlarms) is not an error.
  - AWS permissions used are C(cloudwatch:DescribeAlarms), C(cloudwatch:PutMetricAlarm) and C(cloudwatch:DeleteAlarms)
    (the last only with O(purge_prefix)).
seealso:
  - module: amazon.aws.cloudwatch_metric_alarm
  - name: PutMetricAlarm API
    description: The CloudWatch API that creates or replaces a metric alarm, and its limits.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html
  - name: DescribeAlarms API
    description: The CloudWatch API that reads the alarms.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: One canary alarm per member account and region, and none for accounts no longer listed
  logvault.aws.cloudwatch_metric_alarms:
    region: eu-west-1
    purge_prefix: logvault-canary-
    alarms: "{{ canary_alarms | from_yaml }}"
  vars:
    accounts: ["111111111111", "222222222222"]
    regions: [eu-west-1, us-east-1]
    canary_alarms: |
      {% for account, region in accounts | product(regions) %}
      - name: logvault-canary-{{ account }}-{{ region }}
        description: The canary of account {{ account }} in {{ region }} is missing or late
        namespace: Logvault/Canary
        metric_name: CanaryUnhealthy
        statistic: Maximum
        comparison: GreaterThanOrEqualToThreshold
        threshold: 1
        dimensions: {Account: "{{ account }}", Region: "{{ region }}"}
        period: 600
        evaluation_periods: 1
        treat_missing_data: breaching
        alarm_actions: [arn:aws:sns:eu-west-1:111111111111:logvault-alerts]
        ok_actions: [arn:aws:sns:eu-west-1:111111111111:logvault-alerts]
      {% endfor %}

- name: Two alarms on the transform function, written only when they differ
  logvault.aws.cloudwatch_metric_alarms:
    alarms:
      - name: logvault-transform-errors
        description: The transform Lambda failed
        namespace: AWS/Lambda
        metric_name: Errors
        statistic: Sum
        comparison: GreaterThanThreshold
        threshold: 0
        dimensions:
          FunctionName: logvault-transform
        period: 300
        evaluation_periods: 3
        datapoints_to_alarm: 2
        treat_missing_data: notBreaching
        alarm_actions: [arn:aws:sns:eu-west-1:111111111111:logvault-alerts]
        ok_actions: [arn:aws:sns:eu-west-1:111111111111:logvault-alerts]
      - name: logvault-transform-iterator-age
        namespace: AWS/Lambda
        metric_name: IteratorAge
        statistic: Maximum
        comparison: GreaterThanOrEqualToThreshold
        threshold: 600000
        unit: Milliseconds
        dimensions:
          FunctionName: logvault-transform
        period: 60
        evaluation_periods: 15
        alarm_actions: [arn:aws:sns:eu-west-1:111111111111:logvault-alerts]
"""

RETURN = r"""
alarms:
  description:
    - The names of the alarms by what the task did (or, in check mode, would do) to them. C(created), C(updated) and
      C(unchanged) are in the order of O(alarms); C(deleted) is sorted.
  returned: always
  type: dict
  contains:
    created:
      description: Alarms that did not exist.
      type: list
      elements: str
      returned: always
    updated:
      description: Alarms that existed with other settings and were written.
      type: list
      elements: str
      returned: always
    unchanged:
      description: Alarms that already had the given settings.
      type: list
      elements: str
      returned: always
    deleted:
      description: Metric alarms under O(purge_prefix) that are not in O(alarms); empty without O(purge_prefix).
      type: list
      elements: str
      returned: always
  sample:
    created: [logvault-canary-222222222222-eu-west-1]
    updated: []
    unchanged: [logvault-canary-111111111111-eu-west-1]
    deleted: [logvault-canary-333333333333-eu-west-1]
counts:
  description: The number of alarms of each list of RV(alarms).
  returned: always
  type: dict
  contains:
    created:
      description: Number of alarms created.
      type: int
      returned: always
    updated:
      description: Number of alarms updated.
      type: int
      returned: always
    unchanged:
      description: Number of alarms unchanged.
      type: int
      returned: always
    deleted:
      description: Number of alarms deleted.
      type: int
      returned: always
  sample: {created: 1, updated: 0, unchanged: 1, deleted: 1}
"""

import math

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError

# Limits of PutMetricAlarm, DescribeAlarms and DeleteAlarms: botocore's model of CloudWatch 2010-08-01
# (shapes AlarmName, AlarmDescription, Namespace, MetricName, Dimensions, DimensionName, DimensionValue,
# ResourceList, ResourceName, AlarmNames, AlarmNamePrefix) and the API reference
# (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html,
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_Dimension.html,
# https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html).
NAME_MAX = 255
DESCRIPTION_MAX = 1024
NAMESPACE_MAX = 255
METRIC_NAME_MAX = 255
DIMENSIONS_MAX = 30
DIMENSION_NAME_MAX = 255
DIMENSION_VALUE_MAX = 1024
ACTIONS_MAX = 5
ACTION_ARN_MAX = 1024
NAMES_PER_CALL = 100  # AlarmNames of DescribeAlarms and DeleteAlarms
# Period: "Valid values are 10, 20, 30, and any multiple of 60"; Period x EvaluationPeriods at most seven days,
# and at most one day when the period is shorter than one hour (PutMetricAlarm, Request Parameters).
HIGH_RESOLUTION_PERIODS = (10, 20, 30)
MAX_EVALUATION_SECONDS = 604800
MAX_EVALUATION_SECONDS_SHORT_PERIOD = 86400
ACTION_LISTS = (("alarm_actions", "AlarmActions"), ("ok_actions", "OKActions"), ("insufficient_data_actions", "InsufficientDataActions"))
# Settings of another kind of alarm (percentile, metric math, anomaly band, PromQL): this module does not manage
# them, so an alarm that has one differs (PutMetricAlarm without them replaces them).
UNMANAGED = ("ExtendedStatistic", "EvaluateLowSampleCountPercentile", "Metrics", "ThresholdMetricId", "EvaluationCriteria")
RETRY_CODES = ["ThrottlingException"]
retry = AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)


def _has_control_character(text):
    return any(ord(c) < 32 or ord(c) == 127 for c in text)


def _validate_text(value, param, what, low, high, ascii_only=False):
    if not low <= len(value) <= high:
        raise ValidationError(param, "%s must be %d to %d characters, got %d" % (what, low, high, len(value)))
    if _has_control_character(value):
        raise ValidationError(param, "%s must not contain ASCII control characters, got %r" % (what, value))
    if ascii_only and any(ord(c) > 127 for c in value):
        raise ValidationError(param, "%s must be ASCII, got %r" % (what, value))


def _dimension_value(value, param, label):
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise ValidationError(param, "%s must be text or a number, got %s %r" % (label, type(value).__name__, value))
    text = value if isinstance(value, str) else str(value)
    _validate_text(text, param, label, 1, DIMENSION_VALUE_MAX, ascii_only=True)
    if not text.strip():
        raise ValidationError(param, "%s must have a character that is not white space" % label)
    return text


def validate_alarm(alarm, index, purge_prefix):
    """Check one alarm; return its dimensions as name -> text."""
    param = "alarms[%d]" % index
    name = alarm["name"]
    _validate_text(name, param + ".name", "the name", 1, NAME_MAX)
    label = "alarm %s" % name
    if purge_prefix is not None and not name.startswith(purge_prefix):
        raise ValidationError(param + ".name", "%s does not start with purge_prefix %r; only alarms under purge_prefix may be listed"
                              % (label, purge_prefix))
    if len(alarm["description"]) > DESCRIPTION_MAX:
        raise ValidationError(param + ".description", "the description of %s must be at most %d characters, got %d"
                              % (label, DESCRIPTION_MAX, len(alarm["description"])))
    _validate_text(alarm["namespace"], param + ".namespace", "the namespace of %s" % label, 1, NAMESPACE_MAX)
    if alarm["namespace"].startswith(":"):
        raise ValidationError(param + ".namespace", "the namespace of %s must not start with ':'" % label)
    _validate_text(alarm["metric_name"], param + ".metric_name", "the metric name of %s" % label, 1, METRIC_NAME_MAX)
    if not math.isfinite(alarm["threshold"]):
        raise ValidationError(param + ".threshold", "the threshold of %s must be a finite number, got %r" % (label, alarm["threshold"]))

    dimensions = {}
    given = alarm["dimensions"] or {}
    if len(given) > DIMENSIONS_MAX:
        raise ValidationError(param + ".dimensions", "%s has %d dimensions; PutMetricAlarm takes at most %d" % (label, len(given), DIMENSIONS_MAX))
    for key, value in given.items():
        _validate_text(key, param + ".dimensions", "dimension name %r of %s" % (key, label), 1, DIMENSION_NAME_MAX, ascii_only=True)
        if key.startswith(":") or not key.strip():
            raise ValidationError(param + ".dimensions", "dimension name %r of %s must not start with ':' and must not be blank" % (key, label))
        dimensions[key] = _dimension_value(value, param + ".dimensions", "the value of dimension %s of %s" % (key, label))

    period = alarm["period"]
    if period not in HIGH_RESOLUTION_PERIODS and (period < 60 or period % 60):
        raise ValidationError(param + ".period", "the period of %s must be 10, 20, 30 or a multiple of 60 seconds, got %d" % (label, period))
    evaluation_periods = alarm["evaluation_periods"]
    if evaluation_periods < 1:
        raise ValidationError(param + ".evaluation_periods", "evaluation_periods of %s must be at least 1, got %d" % (label, evaluation_periods))
    limit = MAX_EVALUATION_SECONDS_SHORT_PERIOD if period < 3600 else MAX_EVALUATION_SECONDS
    if period * evaluation_periods > limit:
        raise ValidationError(param + ".evaluation_periods", "period x evaluation_periods of %s is %d seconds; CloudWatch allows at most %d %s"
                              % (label, period * evaluation_periods, limit,
                                 "when the period is shorter than one hour" if period < 3600 else "(seven days)"))
    datapoints = alarm["datapoints_to_alarm"]
    if datapoints is not None and not 1 <= datapoints <= evaluation_periods:
        raise ValidationError(param + ".datapoints_to_alarm", "datapoints_to_alarm of %s must be 1 to evaluation_periods (%d), got %d"
                              % (label, evaluation_periods, datapoints))

    for option, _key in ACTION_LISTS:
        actions = alarm[option]
        if len(actions) > ACTIONS_MAX:
            raise ValidationError("%s.%s" % (param, option), "%s has %d %s; PutMetricAlarm takes at most %d"
                                  % (label, len(actions), option, ACTIONS_MAX))
        if len(set(actions)) != len(actions):
            raise ValidationError("%s.%s" % (param, option), "%s of %s lists an action twice" % (option, label))
        for action in actions:
            _validate_text(action, "%s.%s" % (param, option), "an action of %s" % label, 1, ACTION_ARN_MAX)
            if not action.startswith("arn:"):
                raise ValidationError("%s.%s" % (param, option), "%s of %s must be ARNs, got %r" % (option, label, action))
    return dimensions


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter. Return each alarm's dimensions."""
    params = module.params
    purge_prefix = params["purge_prefix"]
    try:
        if purge_prefix is not None:
            _validate_text(purge_prefix, "purge_prefix", "purge_prefix", 1, NAME_MAX)
        seen = {}
        dimensions = []
        for index, alarm in enumerate(params["alarms"]):
            dimensions.append(validate_alarm(alarm, index, purge_prefix))
            if alarm["name"] in seen:
                raise ValidationError("alarms[%d].name" % index, "alarm %s is listed twice (also alarms[%d])" % (alarm["name"], seen[alarm["name"]]))
            seen[alarm["name"]] = index
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)
    return dimensions


def wanted(alarm, dimensions):
    """The alarm of the task in the form of view()."""
    return {
        "description": alarm["description"],
        "namespace": alarm["namespace"],
        "metric_name": alarm["metric_name"],
        "statistic": alarm["statistic"],
        "comparison": alarm["comparison"],
        "threshold": float(alarm["threshold"]),
        "dimensions": dimensions,
        "period": alarm["period"],
        "evaluation_periods": alarm["evaluation_periods"],
        "datapoints_to_alarm": alarm["datapoints_to_alarm"] or alarm["evaluation_periods"],
        "treat_missing_data": alarm["treat_missing_data"],
        "alarm_actions": sorted(alarm["alarm_actions"]),
        "ok_actions": sorted(alarm["ok_actions"]),
        "insufficient_data_actions": sorted(alarm["insufficient_data_actions"]),
        "actions_enabled": alarm["actions_enabled"],
        "unit": alarm["unit"],
    }


def view(alarm):
    """A MetricAlarm of DescribeAlarms, normalised like wanted(): dimensions as a mapping, action lists sorted,
    the defaults of CloudWatch filled in (DatapointsToAlarm = EvaluationPeriods, TreatMissingData missing)."""
    threshold = alarm.get("Threshold")
    result = {
        "description": alarm.get("AlarmDescription") or "",
        "namespace": alarm.get("Namespace"),
        "metric_name": alarm.get("MetricName"),
        "statistic": alarm.get("Statistic"),
        "comparison": alarm.get("ComparisonOperator"),
        "threshold": float(threshold) if threshold is not None else None,
        "dimensions": dict((d["Name"], d["Value"]) for d in alarm.get("Dimensions") or []),
        "period": alarm.get("Period"),
        "evaluation_periods": alarm.get("EvaluationPeriods"),
        "datapoints_to_alarm": alarm.get("DatapointsToAlarm") or alarm.get("EvaluationPeriods"),
        "treat_missing_data": alarm.get("TreatMissingData") or "missing",
        "alarm_actions": sorted(alarm.get("AlarmActions") or []),
        "ok_actions": sorted(alarm.get("OKActions") or []),
        "insufficient_data_actions": sorted(alarm.get("InsufficientDataActions") or []),
        "actions_enabled": alarm.get("ActionsEnabled", True),
        "unit": alarm.get("Unit"),
    }
    unmanaged = sorted(key for key in UNMANAGED if alarm.get(key))
    if unmanaged:
        result["unmanaged_settings"] = unmanaged
    return result


def request(alarm, dimensions):
    """PutMetricAlarm's parameters for one alarm of the task. Every managed field is sent (the call replaces the
    alarm); dimensions and actions go in the order given, and DatapointsToAlarm, AlarmDescription and Unit only when
    given, as amazon.aws.cloudwatch_metric_alarm sends them, so that module finds the alarm unchanged too."""
    result = {
        "AlarmName": alarm["name"],
        "ActionsEnabled": alarm["actions_enabled"],
        "Namespace": alarm["namespace"],
        "MetricName": alarm["metric_name"],
        "Statistic": alarm["statistic"],
        "ComparisonOperator": alarm["comparison"],
        "Threshold": float(alarm["threshold"]),
        "Dimensions": [{"Name": key, "Value": value} for key, value in dimensions.items()],
        "Period": alarm["period"],
        "EvaluationPeriods": alarm["evaluation_periods"],
        "TreatMissingData": alarm["treat_missing_data"],
        "AlarmActions": alarm["alarm_actions"],
        "OKActions": alarm["ok_actions"],
        "InsufficientDataActions": alarm["insufficient_data_actions"],
    }
    for option, key in (("datapoints_to_alarm", "DatapointsToAlarm"), ("description", "AlarmDescription"), ("unit", "Unit")):
        if alarm[option]:
            result[key] = alarm[option]
    return result


@retry
def _describe_alarms(client, **kwargs):
    return client.get_paginator("describe_alarms").paginate(AlarmTypes=["MetricAlarm"], **kwargs).build_full_result()


def read_alarms(module, client, names):
    """The metric alarms of the region that matter to the task, by name: those under purge_prefix (which holds
    every listed name), else the listed ones, read by name in batches of 100."""
    prefix = module.params["purge_prefix"]
    found = {}
    try:
        if prefix is not None:
            for alarm in _describe_alarms(client, AlarmNamePrefix=prefix).get("MetricAlarms", []):
                if alarm["AlarmName"].startswith(prefix):
                    found[alarm["AlarmName"]] = alarm
        else:
            for start in range(0, len(names), NAMES_PER_CALL):
                batch = names[start:start + NAMES_PER_CALL]
                for alarm in _describe_alarms(client, AlarmNames=batch).get("MetricAlarms", []):
                    if alarm["AlarmName"] in batch:
                        found[alarm["AlarmName"]] = alarm
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to describe metric alarms")
    return found


def main():
    alarm_options = dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        namespace=dict(type="str", required=True),
        metric_name=dict(type="str", required=True),
        statistic=dict(type="str", required=True, choices=["SampleCount", "Average", "Sum", "Minimum", "Maximum"]),
        comparison=dict(type="str", required=True, choices=["GreaterThanOrEqualToThreshold", "GreaterThanThreshold",
                                                            "LessThanThreshold", "LessThanOrEqualToThreshold"]),
        threshold=dict(type="float", required=True),
        dimensions=dict(type="dict", default={}),
        period=dict(type="int", required=True),
        evaluation_periods=dict(type="int", required=True),
        datapoints_to_alarm=dict(type="int"),
        treat_missing_data=dict(type="str", default="missing", choices=["breaching", "notBreaching", "ignore", "missing"]),
        alarm_actions=dict(type="list", elements="str", default=[]),
        ok_actions=dict(type="list", elements="str", default=[]),
        insufficient_data_actions=dict(type="list", elements="str", default=[]),
        actions_enabled=dict(type="bool", default=True),
        unit=dict(type="str", choices=[
            "Seconds", "Microseconds", "Milliseconds", "Bytes", "Kilobytes", "Megabytes", "Gigabytes", "Terabytes", "Bits",
            "Kilobits", "Megabits", "Gigabits", "Terabits", "Percent", "Count", "Bytes/Second", "Kilobytes/Second",
            "Megabytes/Second", "Gigabytes/Second", "Terabytes/Second", "Bits/Second", "Kilobits/Second", "Megabits/Second",
            "Gigabits/Second", "Terabits/Second", "Count/Second", "None"]),
    )
    argument_spec = dict(
        alarms=dict(type="list", elements="dict", required=True, options=alarm_options),
        purge_prefix=dict(type="str"),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    dimensions = validate_params(module)
    try:
        client = module.client("cloudwatch", retry_decorator=retry)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch")

    alarms = module.params["alarms"]
    names = [alarm["name"] for alarm in alarms]
    current = read_alarms(module, client, names)

    outcome = dict(created=[], updated=[], unchanged=[], deleted=[])
    before, after, writes = {}, {}, []
    for alarm, alarm_dimensions in zip(alarms, dimensions):
        name = alarm["name"]
        target = wanted(alarm, alarm_dimensions)
        if name not in current:
            outcome["created"].append(name)
        else:
            found = view(current[name])
            if found == target:
                outcome["unchanged"].append(name)
                continue
            outcome["updated"].append(name)
            before[name] = found
        after[name] = target
        writes.append((alarm, alarm_dimensions))
    listed = set(names)
    outcome["deleted"] = sorted(name for name in current if name not in listed) if module.params["purge_prefix"] is not None else []
    for name in outcome["deleted"]:
        before[name] = view(current[name])

    if not module.check_mode:
        for done, (alarm, alarm_dimensions) in enumerate(writes):
            name = alarm["name"]
            try:
                client.put_metric_alarm(aws_retry=True, **request(alarm, alarm_dimensions))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to put metric alarm %s (%d of the %d alarms to write were written before; they stay written)"
                                     % (name, done, len(writes)), changed=done > 0)
        for start in range(0, len(outcome["deleted"]), NAMES_PER_CALL):
            batch = outcome["deleted"][start:start + NAMES_PER_CALL]
            try:
                client.delete_alarms(aws_retry=True, AlarmNames=batch)
            except is_boto3_error_code("ResourceNotFound"):
                pass  # deleted by someone else since the read; the others of the batch are still deleted (API reference)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete metric alarms %s" % ", ".join(batch), changed=bool(writes) or start > 0)

    result = dict(
        changed=bool(writes or outcome["deleted"]),
        alarms=outcome,
        counts=dict((key, len(value)) for key, value in outcome.items()),
    )
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
