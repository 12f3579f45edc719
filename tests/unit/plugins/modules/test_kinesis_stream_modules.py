# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""kinesis_stream_info and kinesis_stream_mode, run in-process (main() with patched
module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import botocore
import pytest
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.module_utils import kinesis as kinesis_utils
from ansible_collections.logvault.aws.plugins.modules import kinesis_stream_info
from ansible_collections.logvault.aws.plugins.modules import kinesis_stream_mode
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import ModuleExit, run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
ARN = "arn:aws:kinesis:us-east-1:123456789012:stream/hub"


def run(module, args, check_mode=False, diff=False):
    """Run ``module``'s main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


def info(args=None, **kwargs):
    return run(kinesis_stream_info, args or {}, **kwargs)


def mode(args, **kwargs):
    return run(kinesis_stream_mode, args, **kwargs)


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("kinesis", region_name=REGION)


def create(client, name="hub", shards=1, on_demand=False):
    kwargs = dict(StreamName=name)
    if on_demand:
        kwargs["StreamModeDetails"] = {"StreamMode": "ON_DEMAND"}
    else:
        kwargs["ShardCount"] = shards
    client.create_stream(**kwargs)


def summary(client, name="hub"):
    return client.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]


# ------------------------------------------------------------------ kinesis_stream_info


def test_info_missing_stream_is_empty(aws):
    result = info({"name": "hub"})
    assert result["changed"] is False
    assert result["streams"] == []


def test_info_describes_a_provisioned_encrypted_stream(aws):
    create(aws, shards=2)
    aws.increase_stream_retention_period(StreamName="hub", RetentionPeriodHours=168)
    aws.start_stream_encryption(StreamName="hub", EncryptionType="KMS", KeyId="alias/logvault")
    aws.add_tags_to_stream(StreamName="hub", Tags={"project": "logvault", "team": "sec"})
    result = info({"name": "hub"}, check_mode=True)
    assert result["changed"] is False
    assert result["streams"] == [{
        "name": "hub",
        "arn": ARN,
        "status": "ACTIVE",
        "stream_mode": "PROVISIONED",
        "open_shard_count": 2,
        "retention_period_hours": 168,
        "encryption_type": "KMS",
        "key_id": "alias/logvault",
        "tags": {"project": "logvault", "team": "sec"},
    }]


def test_info_on_demand_stream(aws):
    create(aws, on_demand=True)
    stream = info({"name": "hub"})["streams"][0]
    assert stream["stream_mode"] == "ON_DEMAND"
    assert stream["open_shard_count"] == summary(aws)["OpenShardCount"]
    assert stream["encryption_type"] == "NONE" and stream["key_id"] is None and stream["tags"] == {}


def test_info_lists_every_stream_across_pages(aws):
    # The emulator pages ListStreams by 10 names; 23 streams need three pages.
    names = ["s%02d" % i for i in range(23)]
    for name in reversed(names):
        create(aws, name)
    result = info()
    assert [s["name"] for s in result["streams"]] == names
    assert all(s["stream_mode"] == "PROVISIONED" for s in result["streams"])


def test_info_reads_every_tag_page(aws):
    create(aws)
    tags = dict(("key%02d" % i, "v%d" % i) for i in range(25))
    for start in range(0, 25, 10):
        aws.add_tags_to_stream(StreamName="hub", Tags=dict(sorted(tags.items())[start:start + 10]))
    assert info({"name": "hub"})["streams"][0]["tags"] == tags
    real_client = AnsibleAWSModule.client
    pages = []

    def client(self, *args, **kwargs):
        wrapped = real_client(self, *args, **kwargs)
        original = wrapped.list_tags_for_stream

        def spy(**params):
            page = original(**params)
            pages.append(len(page["Tags"]))
            return page

        wrapped.list_tags_for_stream = spy
        return wrapped

    with mock.patch.object(kinesis_utils, "TAG_PAGE_SIZE", 10), mock.patch.object(AnsibleAWSModule, "client", client):
        assert info({"name": "hub"})["streams"][0]["tags"] == tags
    assert len(pages) >= 3 and pages[0] == 10


@pytest.mark.parametrize("name", ["bad name", "", "x" * 129, "hub/1"])
def test_info_bad_name_fails_before_any_aws_call(aws, name):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = info({"name": name})
    assert result["failed"] is True
    assert "'name'" in result["msg"] and result["parameter"] == "name"
    client.assert_not_called()


# ------------------------------------------------------------------ kinesis_stream_mode


def test_mode_four_step_cycle_and_back(aws):
    create(aws, shards=2)
    first = mode({"name": "hub", "mode": "ON_DEMAND"}, check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"]["before"]["stream_mode"] == "PROVISIONED"
    assert first["diff"]["after"]["stream_mode"] == "ON_DEMAND"
    assert summary(aws)["StreamModeDetails"]["StreamMode"] == "PROVISIONED", "check mode wrote"

    second = mode({"name": "hub", "mode": "ON_DEMAND"})
    assert second["changed"] is True
    assert second["stream"]["stream_mode"] == "ON_DEMAND" and second["stream"]["status"] == "ACTIVE"
    assert second["stream"]["arn"] == ARN
    assert summary(aws)["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"

    third = mode({"name": "hub", "mode": "ON_DEMAND"}, check_mode=True)
    assert third["changed"] is False
    fourth = mode({"name": "hub", "mode": "ON_DEMAND"})
    assert fourth["changed"] is False
    assert fourth["stream"] == second["stream"]

    back = mode({"name": "hub", "mode": "PROVISIONED"})
    assert back["changed"] is True and back["stream"]["stream_mode"] == "PROVISIONED"
    assert summary(aws)["StreamModeDetails"]["StreamMode"] == "PROVISIONED"
    assert mode({"name": "hub", "mode": "PROVISIONED"})["changed"] is False


def test_mode_calls_update_stream_mode_with_the_arn_only_when_it_differs(aws):
    create(aws)
    real_client = AnsibleAWSModule.client
    calls = []

    def client(self, *args, **kwargs):
        wrapped = real_client(self, *args, **kwargs)
        original = wrapped.update_stream_mode

        def spy(**params):
            calls.append(params)
            return original(**params)

        wrapped.update_stream_mode = spy
        return wrapped

    with mock.patch.object(AnsibleAWSModule, "client", client):
        mode({"name": "hub", "mode": "PROVISIONED"})
        mode({"name": "hub", "mode": "ON_DEMAND"}, check_mode=True)
        assert calls == []
        mode({"name": "hub", "mode": "ON_DEMAND"})
    assert calls == [{"StreamARN": ARN, "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}]


def test_mode_missing_stream_in_check_mode_assumes_a_provisioned_creation(aws):
    result = mode({"name": "hub", "mode": "ON_DEMAND"}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["stream"] == {"name": "hub", "stream_mode": "ON_DEMAND"}
    assert result["diff"]["before"] == {}
    assert mode({"name": "hub", "mode": "PROVISIONED"}, check_mode=True)["changed"] is False
    assert aws.list_streams()["StreamNames"] == []


def test_mode_missing_stream_fails_clearly(aws):
    result = mode({"name": "hub", "mode": "ON_DEMAND"})
    assert result["failed"] is True
    assert "hub does not exist" in result["msg"]
    assert aws.list_streams()["StreamNames"] == []


def test_mode_limit_exceeded_is_explained_and_not_retried(aws):
    create(aws)
    real_client = AnsibleAWSModule.client
    calls = []

    def refuse(**params):
        # Test double: AWS's answer to a third switch within 24 hours.
        calls.append(params)
        raise botocore.exceptions.ClientError(
            {"Error": {"Code": "LimitExceededException", "Message": "Rate exceeded for stream hub"}}, "UpdateStreamMode"
        )

    def client(self, *args, **kwargs):
        wrapped = real_client(self, *args, **kwargs)
        wrapped.update_stream_mode = refuse
        return wrapped

    with mock.patch.object(AnsibleAWSModule, "client", client):
        result = mode({"name": "hub", "mode": "ON_DEMAND"})
    assert result["failed"] is True
    assert "two capacity mode switches per stream in 24 hours" in result["msg"]
    assert len(calls) == 1
    assert summary(aws)["StreamModeDetails"]["StreamMode"] == "PROVISIONED"


@pytest.mark.parametrize("args, param", [
    ({"name": "bad name", "mode": "ON_DEMAND"}, "name"),
    ({"name": "x" * 129, "mode": "ON_DEMAND"}, "name"),
    ({"name": "hub", "mode": "ON_DEMAND", "wait_timeout": 0}, "wait_timeout"),
])
def test_mode_bad_input_fails_naming_the_parameter_before_any_aws_call(aws, args, param):
    create(aws)
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = mode(args)
    assert result["failed"] is True
    assert "'%s'" % param in result["msg"] and result["parameter"] == param
    client.assert_not_called()
    assert summary(aws)["StreamModeDetails"]["StreamMode"] == "PROVISIONED"


@pytest.mark.parametrize("value", ["on_demand", "ONDEMAND", ""])
def test_mode_rejects_unknown_modes(aws, value):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = mode({"name": "hub", "mode": value})
    assert result["failed"] is True and "mode" in result["msg"]
    client.assert_not_called()


class _FakeModule(object):
    """Test double of AnsibleAWSModule: fail_json raises."""

    def fail_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json_aws(self, exception, msg):
        raise ModuleExit(dict(msg=msg, exception=exception))


def test_wait_for_mode_waits_for_active_in_the_new_mode():
    states = iter([("UPDATING", "PROVISIONED"), ("ACTIVE", "PROVISIONED"), ("ACTIVE", "ON_DEMAND")])
    seen = []

    def describe(**kwargs):
        # Test double of DescribeStreamSummary: a switch that takes three polls.
        status, current = next(states)
        seen.append(status)
        return {"StreamDescriptionSummary": {"StreamStatus": status, "StreamModeDetails": {"StreamMode": current}}}

    client = mock.Mock(describe_stream_summary=describe)
    found = kinesis_utils.wait_for_mode(_FakeModule(), client, "hub", "ON_DEMAND", timeout=30, sleep=0)
    assert found["StreamModeDetails"]["StreamMode"] == "ON_DEMAND"
    assert seen == ["UPDATING", "ACTIVE", "ACTIVE"]


def test_wait_for_mode_times_out():
    def describe(**kwargs):
        # Test double of DescribeStreamSummary: a stream stuck in UPDATING.
        return {"StreamDescriptionSummary": {"StreamStatus": "UPDATING"}}

    client = mock.Mock(describe_stream_summary=describe)
    with pytest.raises(ModuleExit) as failure:
        kinesis_utils.wait_for_mode(_FakeModule(), client, "hub", None, timeout=0, sleep=0)
    assert "Timed out after 0 seconds" in failure.value.args[0]["msg"]
    assert "UPDATING" in failure.value.args[0]["msg"]
