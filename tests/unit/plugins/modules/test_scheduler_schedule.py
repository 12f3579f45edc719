# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scheduler_schedule, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import scheduler_schedule as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:lv-canary"
ROLE = "arn:aws:iam::123456789012:role/lv-canary-scheduler"
ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/lv-canary"


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def scheduler(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("scheduler", region_name=REGION)


def schedule(**extra):
    args = {
        "name": "lv-canary",
        "schedule_expression": "rate(5 minutes)",
        "description": "canary",
        "target": {"arn": FUNCTION, "role_arn": ROLE, "input": json.dumps({"b": 1, "t": "<aws.scheduler.scheduled-time>"}),
                   "maximum_retry_attempts": 0, "maximum_event_age_in_seconds": 300},
    }
    args.update(extra)
    return args


def test_four_step_cycle_and_read_back(scheduler):
    args = schedule()
    results = [run(args, check_mode=True, diff=True), run(args, diff=True), run(args, check_mode=True), run(args)]
    assert [r["changed"] for r in results] == [True, True, False, False]
    assert results[0]["diff"]["before"] == {}
    assert results[0]["schedule"]["arn"] == results[1]["schedule"]["arn"] == ARN
    stored = scheduler.get_schedule(Name="lv-canary")
    assert stored["ScheduleExpression"] == "rate(5 minutes)" and stored["State"] == "ENABLED"
    assert stored["FlexibleTimeWindow"] == {"Mode": "OFF"}
    assert stored["Target"]["RoleArn"] == ROLE and stored["Target"]["Arn"] == FUNCTION
    assert stored["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 300}
    assert json.loads(stored["Target"]["Input"]) == {"b": 1, "t": "<aws.scheduler.scheduled-time>"}


def test_check_mode_writes_nothing(scheduler):
    assert run(schedule(), check_mode=True)["changed"] is True
    assert scheduler.list_schedules()["Schedules"] == []


def test_input_compared_as_json(scheduler):
    run(schedule())
    reordered = schedule(target=dict(schedule()["target"], input=json.dumps({"t": "<aws.scheduler.scheduled-time>", "b": 1}, indent=2)))
    assert run(reordered, check_mode=True)["changed"] is False
    changed = schedule(target=dict(schedule()["target"], input=json.dumps({"b": 2})))
    result = run(changed, check_mode=True, diff=True)
    assert result["changed"] is True
    assert json.loads(result["diff"]["before"]["target"]["input"])["b"] == 1


@pytest.mark.parametrize("field,value", [
    ("schedule_expression", "rate(5 minutes)"), ("schedule_expression", "rate(1 hour)"),
    ("enabled", False), ("flexible_time_window_minutes", 15), ("description", "other"),
])
def test_each_field_is_updated(scheduler, field, value):
    run(schedule())
    if field == "schedule_expression" and value == "rate(5 minutes)":
        assert run(schedule(**{field: value}))["changed"] is False
        return
    first = run(schedule(**{field: value}), check_mode=True)
    second = run(schedule(**{field: value}))
    third = run(schedule(**{field: value}))
    assert (first["changed"], second["changed"], third["changed"]) == (True, True, False)
    stored = scheduler.get_schedule(Name="lv-canary")
    assert stored["Target"]["RetryPolicy"]["MaximumRetryAttempts"] == 0, "UpdateSchedule gets every field"


def test_absent(scheduler):
    run(schedule())
    assert run({"name": "lv-canary", "state": "absent"}, check_mode=True)["changed"] is True
    assert scheduler.list_schedules()["Schedules"]
    assert run({"name": "lv-canary", "state": "absent"})["changed"] is True
    assert run({"name": "lv-canary", "state": "absent"})["changed"] is False
    assert scheduler.list_schedules()["Schedules"] == []


@pytest.mark.parametrize("args,param", [
    (schedule(name="bad name"), "name"),
    (schedule(schedule_expression="every 5 minutes"), "schedule_expression"),
    (schedule(schedule_expression="rate(5 fortnights)"), "schedule_expression"),
    (schedule(flexible_time_window_minutes=2000), "flexible_time_window_minutes"),
    (schedule(target=dict(schedule()["target"], role_arn="lv-role")), "target.role_arn"),
    (schedule(target=dict(schedule()["target"], arn="lv-canary")), "target.arn"),
    (schedule(target=dict(schedule()["target"], maximum_retry_attempts=186)), "target.maximum_retry_attempts"),
    (schedule(target=dict(schedule()["target"], maximum_event_age_in_seconds=30)), "target.maximum_event_age_in_seconds"),
])
def test_validation_names_the_parameter_before_any_call(args, param, monkeypatch):
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail differently
    result = run(args)
    assert result["failed"] and result["parameter"] == param, result
