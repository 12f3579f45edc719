# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The central_account role's settings script (roles/central_account/files/aws_settings.py),
subcommands ``events-rule`` and ``log-streams``, against the emulator: the emulator's
EventBridge (moto events: PutRule, DescribeRule, PutTargets, ListTargetsByRule,
RemoveTargets, DeleteRule) needs no patch for them. Each case runs the four steps
(check: changed, real: changed, check: unchanged, real: unchanged) and bad input."""

import json
import os
import subprocess
import sys

SCRIPT = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                      "roles", "central_account", "files", "aws_settings.py")


def _run(endpoint, command, args, check=False):
    env = dict(os.environ, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
               AWS_DEFAULT_REGION="us-east-1", AWS_REGION="us-east-1", AWS_ENDPOINT_URL=endpoint)
    env.pop("AWS_SESSION_TOKEN", None)
    env.pop("AWS_PROFILE", None)
    argv = [sys.executable, SCRIPT] + (["--check"] if check else []) + [command, json.dumps(args)]
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=120, check=False)
    return proc.returncode, (json.loads(proc.stdout) if proc.returncode == 0 else None), proc.stderr


def _four_steps(endpoint, command, args):
    results = [_run(endpoint, command, args, check=True), _run(endpoint, command, args),
               _run(endpoint, command, args, check=True), _run(endpoint, command, args)]
    for rc, _out, err in results:
        assert rc == 0, err
    return [out["changed"] for _rc, out, _err in results], results[-1][1]


def _rule(name, key_arn, topic_arn):
    return {
        "name": name,
        "description": "test rule",
        "event_pattern": {
            "source": ["aws.kms"],
            "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": ["DisableKey", "ScheduleKeyDeletion"],
                       "requestParameters": {"keyId": [key_arn, key_arn.split("/")[-1]]}},
        },
        "targets": [{"id": "key-alarm-topic", "arn": topic_arn}],
    }


def test_events_rule_four_steps_and_read_back(local_aws, aws_client, unique):
    name = unique("lv-rule")
    key_arn = "arn:aws:kms:us-east-1:123456789012:key/0f1e2d3c-0000-4000-8000-00000000abcd"
    topic_arn = "arn:aws:sns:us-east-1:123456789012:%s" % unique("topic")
    args = _rule(name, key_arn, topic_arn)
    changes, last = _four_steps(local_aws.endpoint, "events-rule", args)
    assert changes == [True, True, False, False]
    events = aws_client("events")
    rule = events.describe_rule(Name=name)
    assert rule["State"] == "ENABLED" and rule["Description"] == "test rule"
    assert json.loads(rule["EventPattern"]) == args["event_pattern"]
    assert last["result"]["arn"] == rule["Arn"] == "arn:aws:events:us-east-1:123456789012:rule/%s" % name
    assert events.list_targets_by_rule(Rule=name)["Targets"] == [{"Id": "key-alarm-topic", "Arn": topic_arn}]


def test_events_rule_detects_drift_of_pattern_targets_and_state(local_aws, aws_client, unique):
    name = unique("lv-rule")
    topic_arn = "arn:aws:sns:us-east-1:123456789012:%s" % unique("topic")
    args = _rule(name, "arn:aws:kms:us-east-1:123456789012:key/abc", topic_arn)
    assert _run(local_aws.endpoint, "events-rule", args)[1]["changed"] is True
    events = aws_client("events")
    # List order inside the pattern does not matter: still unchanged.
    reordered = json.loads(json.dumps(args))
    reordered["event_pattern"]["detail"]["eventName"].reverse()
    assert _run(local_aws.endpoint, "events-rule", reordered, check=True)[1]["changed"] is False
    # Someone disables the rule, adds a target and gives the wanted target an input.
    events.disable_rule(Name=name)
    events.put_targets(Rule=name, Targets=[{"Id": "key-alarm-topic", "Arn": topic_arn, "Input": "{}"},
                                           {"Id": "extra", "Arn": "arn:aws:sqs:us-east-1:123456789012:q"}])
    _rc, out, _err = _run(local_aws.endpoint, "events-rule", args, check=True)
    assert out["changed"] is True
    assert events.describe_rule(Name=name)["State"] == "DISABLED"  # check mode wrote nothing
    assert _run(local_aws.endpoint, "events-rule", args)[1]["changed"] is True
    assert events.describe_rule(Name=name)["State"] == "ENABLED"
    assert events.list_targets_by_rule(Rule=name)["Targets"] == [{"Id": "key-alarm-topic", "Arn": topic_arn}]
    assert _run(local_aws.endpoint, "events-rule", args)[1]["changed"] is False


def test_events_rule_absent(local_aws, aws_client, unique):
    name = unique("lv-rule")
    args = _rule(name, "arn:aws:kms:us-east-1:123456789012:key/abc", "arn:aws:sns:us-east-1:123456789012:t")
    assert _run(local_aws.endpoint, "events-rule", args)[1]["changed"] is True
    absent = {"name": name, "state": "absent"}
    changes, _last = _four_steps(local_aws.endpoint, "events-rule", absent)
    assert changes == [True, True, False, False]
    names = [r["Name"] for r in aws_client("events").list_rules(NamePrefix=name)["Rules"]]
    assert names == []


def test_events_rule_bad_input_names_the_parameter(local_aws, unique):
    good = _rule(unique("lv-rule"), "arn:aws:kms:us-east-1:123456789012:key/abc", "arn:aws:sns:us-east-1:123456789012:t")
    for field, value, word in (("name", "has space", "name"), ("event_pattern", {}, "event_pattern"),
                               ("targets", [], "targets"), ("targets", [{"id": "x", "arn": "not-an-arn"}], "targets.arn"),
                               ("state", "gone", "state")):
        rc, _out, err = _run(local_aws.endpoint, "events-rule", dict(good, **{field: value}))
        assert rc == 2 and word in err and "Nothing was changed" in err, (field, err)


def test_log_streams_four_steps(local_aws, aws_client, unique):
    group = "/aws/kinesisfirehose/%s" % unique("lv")
    args = {"log_group_name": group, "log_stream_names": ["DestinationDelivery", "BackupDelivery"]}
    # Check mode before the log group exists predicts the creation.
    rc, out, err = _run(local_aws.endpoint, "log-streams", args, check=True)
    assert rc == 0 and out["changed"] is True, err
    logs = aws_client("logs")
    logs.create_log_group(logGroupName=group)
    changes, last = _four_steps(local_aws.endpoint, "log-streams", args)
    assert changes == [True, True, False, False]
    assert last["result"]["created"] == []
    names = sorted(s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"])
    assert names == ["BackupDelivery", "DestinationDelivery"]


def test_log_streams_real_run_fails_without_the_group_and_bad_input(local_aws, unique):
    args = {"log_group_name": "/aws/kinesisfirehose/%s" % unique("missing"), "log_stream_names": ["DestinationDelivery"]}
    rc, _out, err = _run(local_aws.endpoint, "log-streams", args)
    assert rc != 0 and "ResourceNotFoundException" in err
    rc, _out, err = _run(local_aws.endpoint, "log-streams", dict(args, log_stream_names=["a:b"]))
    assert rc == 2 and "log_stream_names" in err
