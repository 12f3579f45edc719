# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""eventbridge_rule, run in-process (main() with patched module args) against moto.

Includes the assertions of the former tests/local_aws/test_central_settings_events_logs.py
(the central_account role's script that this module replaces)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json
from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import eventbridge_rule as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
KEY_ARN = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-0000-4000-8000-00000000abcd"
TOPIC = "arn:aws:sns:us-east-1:123456789012:key-alarms"
QUEUE = "arn:aws:sqs:us-east-1:123456789012:q"
RULE_ARN = "arn:aws:events:us-east-1:123456789012:rule/lv-rule"


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def events(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("events", region_name=REGION)


def rule(**extra):
    args = {
        "name": "lv-rule",
        "description": "test rule",
        "event_pattern": {
            "source": ["aws.kms"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": ["DisableKey", "ScheduleKeyDeletion"],
                       "requestParameters": {"keyId": [KEY_ARN, KEY_ARN.rsplit("/", maxsplit=1)[-1]]}},
        },
        "targets": [{"id": "key-alarm-topic", "arn": TOPIC}],
    }
    args.update(extra)
    return args


def four_steps(args):
    return [run(args, check_mode=True, diff=True), run(args, diff=True), run(args, check_mode=True), run(args)]


def test_four_step_cycle_and_read_back(events):
    first, second, third, fourth = four_steps(rule())
    assert [r["changed"] for r in (first, second, third, fourth)] == [True, True, False, False]
    assert first["diff"]["before"] == {}
    assert first["rule"]["arn"] == RULE_ARN, "check mode predicts the ARN"
    assert first["rule"] == second["rule"] == fourth["rule"]
    stored = events.describe_rule(Name="lv-rule")
    assert stored["State"] == "ENABLED" and stored["Description"] == "test rule"
    assert json.loads(stored["EventPattern"]) == rule()["event_pattern"]
    assert second["rule"]["arn"] == stored["Arn"] == RULE_ARN
    assert events.list_targets_by_rule(Rule="lv-rule")["Targets"] == [{"Id": "key-alarm-topic", "Arn": TOPIC}]
    assert fourth["rule"]["targets"] == [{"id": "key-alarm-topic", "arn": TOPIC}]


def test_check_mode_on_a_fresh_account_writes_nothing(events):
    result = run(rule(), check_mode=True)
    assert result["changed"] is True and "failed" not in result
    assert events.list_rules()["Rules"] == []


def test_pattern_compared_as_canonical_json(events):
    run(rule())
    reordered = rule()
    reordered["event_pattern"]["detail"]["eventName"].reverse()
    reordered["event_pattern"] = dict(reversed(list(reordered["event_pattern"].items())))
    assert run(reordered, check_mode=True)["changed"] is False
    assert run(reordered)["changed"] is False
    # A JSON string is accepted for event_pattern and compared by meaning too.
    assert run(rule(event_pattern=json.dumps(rule()["event_pattern"], indent=2)))["changed"] is False
    changed = rule()
    changed["event_pattern"]["detail"]["eventName"].append("PutKeyPolicy")
    result = run(changed, check_mode=True, diff=True)
    assert result["changed"] is True
    assert "PutKeyPolicy" in result["diff"]["after"]["event_pattern"]["detail"]["eventName"]
    assert "PutKeyPolicy" not in events.describe_rule(Name="lv-rule")["EventPattern"], "check mode wrote"
    assert run(changed)["changed"] is True
    assert "PutKeyPolicy" in json.loads(events.describe_rule(Name="lv-rule")["EventPattern"])["detail"]["eventName"]


def test_drift_of_state_and_targets_is_repaired(events):
    run(rule())
    # Someone disables the rule, adds a target and gives the wanted target an input.
    events.disable_rule(Name="lv-rule")
    events.put_targets(Rule="lv-rule", Targets=[{"Id": "key-alarm-topic", "Arn": TOPIC, "Input": "{}"},
                                                {"Id": "extra", "Arn": QUEUE}])
    check = run(rule(), check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["state"] == "DISABLED"
    assert events.describe_rule(Name="lv-rule")["State"] == "DISABLED", "check mode wrote"
    assert len(events.list_targets_by_rule(Rule="lv-rule")["Targets"]) == 2, "check mode wrote"
    assert run(rule())["changed"] is True
    assert events.describe_rule(Name="lv-rule")["State"] == "ENABLED"
    assert events.list_targets_by_rule(Rule="lv-rule")["Targets"] == [{"Id": "key-alarm-topic", "Arn": TOPIC}]
    assert run(rule())["changed"] is False


def test_disabled_description_and_target_fields(events):
    run(rule())
    update = rule(enabled=False, description="", targets=[
        {"id": "key-alarm-topic", "arn": TOPIC, "input": {"b": 1, "a": [2, 1]}},
        {"id": "queue", "arn": QUEUE, "role_arn": "arn:aws:iam::123456789012:role/events-to-sqs"},
    ])
    assert run(update, check_mode=True)["changed"] is True
    result = run(update)
    assert result["changed"] is True
    stored = events.describe_rule(Name="lv-rule")
    assert stored["State"] == "DISABLED" and not stored.get("Description")
    targets = sorted(events.list_targets_by_rule(Rule="lv-rule")["Targets"], key=lambda t: t["Id"])
    assert json.loads(targets[0]["Input"]) == {"b": 1, "a": [2, 1]}
    assert targets[1]["RoleArn"] == "arn:aws:iam::123456789012:role/events-to-sqs"
    assert result["rule"]["state"] == "DISABLED" and result["rule"]["description"] == ""
    assert run(update, check_mode=True)["changed"] is False
    assert run(update)["changed"] is False
    # Omitted description and targets are kept.
    kept = dict(update)
    del kept["description"]
    del kept["targets"]
    assert run(kept, check_mode=True)["changed"] is False
    # An empty list removes every target.
    assert run(dict(update, targets=[]))["changed"] is True
    assert events.list_targets_by_rule(Rule="lv-rule")["Targets"] == []


def test_schedule_expression_and_rule_role_are_removed(events):
    events.put_rule(Name="lv-rule", ScheduleExpression="rate(5 minutes)", EventPattern=json.dumps(rule()["event_pattern"]),
                    State="ENABLED", Description="test rule")
    events.put_targets(Rule="lv-rule", Targets=[{"Id": "key-alarm-topic", "Arn": TOPIC}])
    assert run(rule(), check_mode=True)["changed"] is True
    assert run(rule())["changed"] is True
    assert not events.describe_rule(Name="lv-rule").get("ScheduleExpression")
    assert run(rule())["changed"] is False


def test_tags(events):
    run(rule(tags={"project": "logvault"}))
    assert events.list_tags_for_resource(ResourceARN=RULE_ARN)["Tags"] == [{"Key": "project", "Value": "logvault"}]
    assert run(rule(tags={"project": "logvault"}))["changed"] is False
    assert run(rule())["changed"] is False, "tags not given are left alone"
    check = run(rule(tags={"owner": "sec"}), check_mode=True)
    assert check["changed"] is True and check["rule"]["tags"] == {"owner": "sec"}
    assert run(rule(tags={"owner": "sec"}))["changed"] is True
    assert events.list_tags_for_resource(ResourceARN=RULE_ARN)["Tags"] == [{"Key": "owner", "Value": "sec"}]
    result = run(rule(tags={"project": "x"}, purge_tags=False))
    assert result["changed"] is True and result["rule"]["tags"] == {"owner": "sec", "project": "x"}


def test_custom_event_bus(events):
    events.create_event_bus(Name="lv-bus")
    args = rule(event_bus_name="lv-bus")
    check = run(args, check_mode=True)
    assert check["changed"] is True
    assert check["rule"]["arn"] == "arn:aws:events:us-east-1:123456789012:rule/lv-bus/lv-rule"
    assert run(args)["changed"] is True
    assert events.list_rules(EventBusName="lv-bus")["Rules"][0]["Name"] == "lv-rule"
    assert events.list_rules()["Rules"] == []
    assert run(args)["changed"] is False
    assert run(dict(name="lv-rule", event_bus_name="lv-bus", state="absent"))["changed"] is True
    assert events.list_rules(EventBusName="lv-bus")["Rules"] == []


def test_absent_four_steps(events):
    run(rule())
    absent = {"name": "lv-rule", "state": "absent"}
    first = run(absent, check_mode=True, diff=True)
    assert first["changed"] is True and first["diff"]["after"] == {}
    assert first["diff"]["before"]["targets"] == [{"id": "key-alarm-topic", "arn": TOPIC}]
    assert events.list_rules()["Rules"] != [], "check mode wrote"
    assert [r["changed"] for r in (run(absent), run(absent, check_mode=True), run(absent))] == [True, False, False]
    assert events.list_rules(NamePrefix="lv-rule")["Rules"] == []


def _bad(**changes):
    args = copy.deepcopy(rule())
    args.update(changes)
    return args


@pytest.mark.parametrize("args,param", [
    (_bad(name="has space"), "name"),
    (_bad(name="x" * 65), "name"),
    (_bad(event_pattern={}), "event_pattern"),
    (_bad(event_pattern={"detail": {"x": ["y" * 4100]}}), "event_pattern"),
    (_bad(description="d" * 513), "description"),
    (_bad(event_bus_name="bad bus"), "event_bus_name"),
    (_bad(targets=[{"id": "x", "arn": "not-an-arn"}]), "targets.arn"),
    (_bad(targets=[{"id": "bad id", "arn": TOPIC}]), "targets.id"),
    (_bad(targets=[{"id": "x", "arn": TOPIC}, {"id": "x", "arn": QUEUE}]), "targets.id"),
    (_bad(targets=[{"id": "t%d" % i, "arn": TOPIC} for i in range(6)]), "targets"),
    (_bad(targets=[{"id": "x", "arn": TOPIC, "role_arn": "arn:aws:iam::123456789012:user/u"}]), "targets.role_arn"),
    (_bad(targets=[{"id": "x", "arn": TOPIC, "input": "{not json"}]), "targets.input"),
    ({"name": "bad name", "state": "absent"}, "name"),
])
def test_bad_input_fails_before_any_aws_call(events, args, param):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(args)
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith(param + " "), result["msg"]


def test_bad_state_and_missing_pattern_fail_before_any_aws_call(events):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        gone = run(_bad(state="gone"))
        missing = run({"name": "lv-rule", "targets": []})
    assert not client.called
    assert gone["failed"] is True and "state" in gone["msg"]
    assert missing["failed"] is True and "event_pattern" in missing["msg"]


# --- issue 14: order-sensitive arrays and the size that AWS measures -----------------------


def test_numeric_matcher_order_is_a_change(events):
    run(rule(event_pattern={"source": ["aws.kms"], "detail": {"count": [{"numeric": [">", 0, "<=", 5]}]}}))
    swapped = rule(event_pattern={"source": ["aws.kms"], "detail": {"count": [{"numeric": [">", 5, "<=", 0]}]}})
    assert run(swapped, check_mode=True)["changed"] is True
    assert run(swapped)["changed"] is True
    stored = json.loads(events.describe_rule(Name="lv-rule")["EventPattern"])
    assert stored["detail"]["count"] == [{"numeric": [">", 5, "<=", 0]}]
    assert run(swapped)["changed"] is False


def test_target_input_list_order_is_a_change(events):
    run(rule(targets=[{"id": "t", "arn": TOPIC, "input": '{"steps": ["disable", "alert"]}'}]))
    swapped = rule(targets=[{"id": "t", "arn": TOPIC, "input": '{"steps": ["alert", "disable"]}'}])
    assert run(swapped, check_mode=True)["changed"] is True
    assert run(swapped)["changed"] is True
    assert json.loads(events.list_targets_by_rule(Rule="lv-rule")["Targets"][0]["Input"]) == {"steps": ["alert", "disable"]}
    reformatted = rule(targets=[{"id": "t", "arn": TOPIC, "input": '{ "steps" : ["alert","disable"] }'}])
    assert run(reformatted)["changed"] is False


def test_the_pattern_sent_is_the_pattern_measured(events):
    # 4,096 characters as compact JSON: accepted, and sent exactly in that form.
    filler = 4096 - len(json.dumps({"source": ["aws.kms"], "detail": {"k": [""]}}, separators=(",", ":")))
    pattern = {"source": ["aws.kms"], "detail": {"k": ["y" * filler]}}
    assert len(json.dumps(pattern, sort_keys=True, separators=(",", ":"))) == 4096
    assert run(rule(event_pattern=pattern))["changed"] is True
    assert len(events.describe_rule(Name="lv-rule")["EventPattern"]) == 4096
