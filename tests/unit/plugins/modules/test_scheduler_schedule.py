# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""scheduler_schedule, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import botocore
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.logvault.aws.plugins.modules import scheduler_schedule as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:lv-canary"
ROLE = "arn:aws:iam::123456789012:role/lv-canary-scheduler"
ARN = "arn:aws:scheduler:us-east-1:123456789012:schedule/default/lv-canary"
REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
FUNCTION_OF_REGION = "arn:aws:lambda:{region}:123456789012:function:lv-canary"
WRITES = ("CreateSchedule", "UpdateSchedule", "DeleteSchedule")


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


# --- regions: the schedule of every region in one module run ---------------------------------------------------


@pytest.fixture
def regional(monkeypatch):
    """moto's Scheduler client of each region of REGIONS."""
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield dict((r, boto3.client("scheduler", region_name=r)) for r in REGIONS)


@pytest.fixture
def api_calls():
    """(region, operation) of every AWS call the module makes, in order (the test's own calls are left out)."""
    calls = []
    original = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        calls.append((self.meta.region_name, operation))
        return original(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", record):
        yield calls


def many(**extra):
    return schedule(**dict(dict(regions=REGIONS, target=dict(schedule()["target"], arn=FUNCTION_OF_REGION)), **extra))


def arn_in(region):
    return "arn:aws:scheduler:%s:123456789012:schedule/default/lv-canary" % region


def stored(regional):
    """{region: (target ARN, state)} of the schedules that exist."""
    found = {}
    for region, client in regional.items():
        if client.list_schedules()["Schedules"]:
            got = client.get_schedule(Name="lv-canary")
            found[region] = (got["Target"]["Arn"], got["State"])
    return found


def test_regions_four_step_cycle_each_region_gets_its_own_target(regional, api_calls):
    first = run(many(), check_mode=True, diff=True)
    assert first["changed"] is True and "schedule" not in first
    assert stored(regional) == {}, "check mode wrote"
    assert not [c for c in api_calls if c[1] in WRITES]
    assert [c[1] for c in api_calls].count("GetCallerIdentity") == 1, "the account is read once for all regions"
    assert [d["before_header"] for d in first["diff"]] == ["%s (before)" % r for r in REGIONS]
    assert [d["after_header"] for d in first["diff"]] == ["%s (after)" % r for r in REGIONS]
    assert all(d["before"] == {} for d in first["diff"])

    second = run(many(), diff=True)
    third = run(many(), check_mode=True, diff=True)
    fourth = run(many())
    assert [r["changed"] for r in (first, second, third, fourth)] == [True, True, False, False]
    for result in (first, second, third, fourth):
        assert sorted(result["regions"]) == sorted(REGIONS)
        for region in REGIONS:
            entry = result["regions"][region]
            assert entry["schedule"]["arn"] == arn_in(region), "predicted in check mode, read back after"
            assert entry["schedule"]["target"]["arn"] == FUNCTION_OF_REGION.format(region=region)
    assert third["diff"] == []
    assert stored(regional) == dict((r, (FUNCTION_OF_REGION.format(region=r), "ENABLED")) for r in REGIONS)


def test_regions_drift_in_one_region_changes_only_that_region(regional, api_calls):
    run(many())
    drifted = regional["eu-west-1"].get_schedule(Name="lv-canary")
    regional["eu-west-1"].update_schedule(Name="lv-canary", ScheduleExpression="rate(1 hour)", State="DISABLED",
                                          FlexibleTimeWindow={"Mode": "OFF"}, Target=drifted["Target"])
    del api_calls[:]
    predicted = run(many(), check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert dict((r, v["changed"]) for r, v in predicted["regions"].items()) == {"us-east-1": False, "eu-west-1": True, "ap-southeast-2": False}
    assert [(d["before_header"], d["before"]["state"], d["after"]["state"]) for d in predicted["diff"]] == [
        ("eu-west-1 (before)", "DISABLED", "ENABLED")]
    assert stored(regional)["eu-west-1"][1] == "DISABLED", "check mode wrote"
    assert "GetCallerIdentity" not in [c[1] for c in api_calls], "every schedule exists: its ARN is known"

    del api_calls[:]
    applied = run(many())
    assert applied["changed"] is True and [c for c in api_calls if c[1] in WRITES] == [("eu-west-1", "UpdateSchedule")]
    assert regional["eu-west-1"].get_schedule(Name="lv-canary")["ScheduleExpression"] == "rate(5 minutes)"
    assert run(many())["changed"] is False


def test_regions_absent_deletes_in_every_region(regional):
    run(many())
    regional["ap-southeast-2"].delete_schedule(Name="lv-canary")
    absent = dict(name="lv-canary", state="absent", regions=REGIONS)
    predicted = run(absent, check_mode=True, diff=True)
    assert dict((r, v["changed"]) for r, v in predicted["regions"].items()) == {"us-east-1": True, "eu-west-1": True, "ap-southeast-2": False}
    assert [(d["before_header"], d["after"]) for d in predicted["diff"]] == [("us-east-1 (before)", {}), ("eu-west-1 (before)", {})]
    assert sorted(stored(regional)) == ["eu-west-1", "us-east-1"], "check mode wrote"
    deleted = run(absent)
    assert deleted["changed"] is True and all(v == {"changed": v["changed"], "schedule": {}} for v in deleted["regions"].values())
    assert stored(regional) == {}
    assert run(absent)["changed"] is False


def test_regions_one_region_failing_names_it_and_the_others_are_still_done(regional):
    original = botocore.client.BaseClient._make_api_call

    def denied_in_eu_west_1(self, operation, params):
        if self.meta.service_model.service_name == "scheduler" and self.meta.region_name == "eu-west-1":
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "denied by a service control policy in eu-west-1"}}, operation)
        return original(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", denied_in_eu_west_1):
        result = run(many())
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("Schedule lv-canary failed in 1 of 3 regions: eu-west-1: Failed to get schedule lv-canary: "), result["msg"]
    assert "denied by a service control policy in eu-west-1" in result["msg"]
    assert result["regions"]["eu-west-1"]["failed"] is True and result["regions"]["eu-west-1"]["error_code"] == "AccessDeniedException"
    assert result["regions"]["us-east-1"] == {"changed": True, "schedule": result["regions"]["us-east-1"]["schedule"]}
    assert sorted(stored(regional)) == ["ap-southeast-2", "us-east-1"]


def test_regions_role_propagation_is_retried_in_that_region(regional, api_calls):
    original = botocore.client.BaseClient._make_api_call
    refused = []

    def role_not_yet_assumable(self, operation, params):
        if operation == "CreateSchedule" and self.meta.region_name == "eu-west-1" and not refused:
            refused.append(operation)
            raise botocore.exceptions.ClientError({"Error": {
                "Code": "ValidationException",
                "Message": "The execution role you provide must allow AWS EventBridge Scheduler to assume the role."}}, operation)
        return original(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", role_not_yet_assumable), \
            mock.patch.object(cloud.time, "sleep") as sleep:
        result = run(many())
    assert result["changed"] is True and "failed" not in result, result
    assert sleep.call_count == 1 and 1 <= sleep.call_args.args[0] <= 2
    # The refused call does not reach api_calls (it is patched under this one): refused once, then created.
    assert refused == ["CreateSchedule"] and api_calls.count(("eu-west-1", "CreateSchedule")) == 1
    assert sorted(stored(regional)) == sorted(REGIONS)


@pytest.mark.parametrize("extra,param,text", [
    ({"regions": ["us-east-1", "nowhere"]}, "regions", "'nowhere' is not an AWS region name"),
    ({"regions": ["us-east-1", "us-east-1"]}, "regions", "twice"),
    ({"regions": []}, "regions", "at least one region"),
    ({"target": dict(schedule()["target"], arn="arn:aws:{region}")}, "target.arn", "'arn:aws:us-east-1' for region us-east-1"),
    ({"regions": REGIONS, "name": "bad name"}, "name", "bad name"),
])
def test_regions_bad_input_fails_naming_the_parameter_and_writes_nothing(regional, api_calls, extra, param, text):
    result = run(many(**extra))
    assert result["failed"] is True and result["parameter"] == param and text in result["msg"], result
    assert api_calls == [] and stored(regional) == {}


def test_regions_absent_validates_regions_too(regional, api_calls):
    result = run(dict(name="lv-canary", state="absent", regions=["us-east-1", "eu-west-1", "EU-WEST-2"]))
    assert result["failed"] is True and result["parameter"] == "regions" and "EU-WEST-2" in result["msg"]
    assert api_calls == []


def test_region_placeholder_with_one_region(scheduler):
    result = run(schedule(target=dict(schedule()["target"], arn=FUNCTION_OF_REGION)))
    assert result["changed"] is True and "regions" not in result and result["schedule"]["arn"] == ARN
    assert scheduler.get_schedule(Name="lv-canary")["Target"]["Arn"] == FUNCTION
