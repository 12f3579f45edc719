# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_log_stream, run in-process (main() with patched module args) against moto.

Includes the assertions of the former tests/local_aws/test_central_settings_events_logs.py
(the central_account role's script that this module replaces)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_log_stream as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
GROUP = "/aws/kinesisfirehose/lv-search"
ARGS = {"log_group_name": GROUP, "log_stream_names": ["DestinationDelivery", "BackupDelivery"]}


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def logs(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("logs", region_name=REGION)


def streams(logs, group=GROUP):
    return sorted(s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"])


def test_check_mode_before_the_group_exists_predicts_the_creation(logs):
    result = run(ARGS, check_mode=True, diff=True)
    assert result["changed"] is True and "failed" not in result
    assert result["created"] == ["BackupDelivery", "DestinationDelivery"]
    assert result["diff"] == {"before": {"log_stream_names": []},
                              "after": {"log_stream_names": ["BackupDelivery", "DestinationDelivery"]}}
    assert logs.describe_log_groups()["logGroups"] == []
    absent = run(dict(ARGS, state="absent"), check_mode=True)
    assert absent["changed"] is False and absent["deleted"] == []


def test_four_step_cycle(logs):
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="other")
    first = run(ARGS, check_mode=True)
    assert first["changed"] is True and first["created"] == ["BackupDelivery", "DestinationDelivery"]
    assert streams(logs) == ["other"], "check mode wrote"
    second = run(ARGS)
    assert second["changed"] is True and second["created"] == ["BackupDelivery", "DestinationDelivery"]
    third = run(ARGS, check_mode=True)
    fourth = run(ARGS)
    assert third["changed"] is False and fourth["changed"] is False
    assert fourth["created"] == [] and fourth["log_stream_names"] == ["BackupDelivery", "DestinationDelivery"]
    assert streams(logs) == ["BackupDelivery", "DestinationDelivery", "other"]


def test_only_missing_streams_are_created_and_prefixes_do_not_count(logs):
    logs.create_log_group(logGroupName=GROUP)
    logs.create_log_stream(logGroupName=GROUP, logStreamName="DestinationDelivery")
    logs.create_log_stream(logGroupName=GROUP, logStreamName="BackupDelivery-old")
    result = run(ARGS, diff=True)
    assert result["changed"] is True and result["created"] == ["BackupDelivery"]
    assert result["diff"]["before"] == {"log_stream_names": ["DestinationDelivery"]}
    assert streams(logs) == ["BackupDelivery", "BackupDelivery-old", "DestinationDelivery"]


def test_single_name_and_absent(logs):
    logs.create_log_group(logGroupName=GROUP)
    run(ARGS)
    args = {"log_group_name": GROUP, "log_stream_name": "BackupDelivery", "state": "absent"}
    first = run(args, check_mode=True)
    assert first["changed"] is True and first["deleted"] == ["BackupDelivery"]
    assert streams(logs) == ["BackupDelivery", "DestinationDelivery"], "check mode wrote"
    second = run(args)
    assert second["changed"] is True and second["log_stream_names"] == []
    assert [run(args, check_mode=True)["changed"], run(args)["changed"]] == [False, False]
    assert streams(logs) == ["DestinationDelivery"]


def test_real_run_fails_without_the_group(logs):
    present = run(ARGS)
    assert present["failed"] is True
    assert "does not exist" in present["msg"] and GROUP in present["msg"]
    assert logs.describe_log_groups()["logGroups"] == []
    absent = run(dict(ARGS, state="absent"))
    assert absent["changed"] is False and "failed" not in absent


@pytest.mark.parametrize("args,param", [
    (dict(ARGS, log_stream_names=["a:b"]), "log_stream_names"),
    (dict(ARGS, log_stream_names=["a*"]), "log_stream_names"),
    (dict(ARGS, log_stream_names=["x" * 513]), "log_stream_names"),
    (dict(ARGS, log_stream_names=[]), "log_stream_names"),
    (dict(ARGS, log_group_name="bad group"), "log_group_name"),
    (dict(ARGS, log_group_name=""), "log_group_name"),
])
def test_bad_input_fails_before_any_aws_call(logs, args, param):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(args)
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith(param + " "), result["msg"]
