# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sns_topic_encryption, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from unittest import mock

import boto3
import pytest
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import sns_topic_encryption as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
OTHER_KEY = "alias/aws/sns"
TOPIC = "arn:aws:sns:us-east-1:123456789012:alarms"


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def sns(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("sns", region_name=REGION)


def _key(sns, arn=TOPIC):
    return sns.get_topic_attributes(TopicArn=arn)["Attributes"].get("KmsMasterKeyId", "")


def test_four_step_cycle(sns):
    sns.create_topic(Name="alarms")
    first = run(dict(topic_arn=TOPIC, kms_master_key_id=KEY), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"] == {"before": {"kms_master_key_id": ""}, "after": {"kms_master_key_id": KEY}}
    assert _key(sns) == "", "check mode wrote"

    second = run(dict(topic_arn=TOPIC, kms_master_key_id=KEY))
    assert second["changed"] is True
    assert second["topic_arn"] == TOPIC and second["kms_master_key_id"] == KEY
    assert _key(sns) == KEY

    assert run(dict(topic_arn=TOPIC, kms_master_key_id=KEY), check_mode=True)["changed"] is False
    assert run(dict(topic_arn=TOPIC, kms_master_key_id=KEY))["changed"] is False


def test_name_resolves_to_the_callers_topic_and_key_changes(sns):
    sns.create_topic(Name="alarms")
    run(dict(name="alarms", kms_master_key_id=KEY))
    result = run(dict(name="alarms", kms_master_key_id=OTHER_KEY), diff=True)
    assert result["changed"] is True and result["topic_arn"] == TOPIC
    assert result["diff"]["before"] == {"kms_master_key_id": KEY}
    assert _key(sns) == OTHER_KEY


def test_empty_key_removes_the_encryption(sns):
    sns.create_topic(Name="alarms")
    run(dict(topic_arn=TOPIC, kms_master_key_id=KEY))
    assert run(dict(topic_arn=TOPIC, kms_master_key_id=""), check_mode=True)["changed"] is True
    assert _key(sns) == KEY
    assert run(dict(topic_arn=TOPIC, kms_master_key_id=""))["changed"] is True
    assert _key(sns) == ""
    assert run(dict(topic_arn=TOPIC, kms_master_key_id=""))["changed"] is False


def test_missing_topic(sns):
    check = run(dict(topic_arn=TOPIC, kms_master_key_id=KEY), check_mode=True)
    assert check["changed"] is True and "failed" not in check
    assert run(dict(topic_arn=TOPIC, kms_master_key_id=""), check_mode=True)["changed"] is False
    real = run(dict(topic_arn=TOPIC, kms_master_key_id=KEY))
    assert real["failed"] is True
    assert "does not exist" in real["msg"] and TOPIC in real["msg"]
    assert sns.list_topics()["Topics"] == []


@pytest.mark.parametrize("args,param", [
    (dict(topic_arn="arn:aws:sqs:us-east-1:123456789012:alarms", kms_master_key_id=KEY), "topic_arn"),
    (dict(topic_arn="alarms", kms_master_key_id=KEY), "topic_arn"),
    (dict(name="bad name", kms_master_key_id=KEY), "name"),
    (dict(name="alarms", kms_master_key_id="not a key"), "kms_master_key_id"),
    (dict(name="alarms", kms_master_key_id="arn:aws:s3:::bucket"), "kms_master_key_id"),
])
def test_bad_input_fails_before_any_aws_call(sns, args, param):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(args)
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith(param + " ")


@pytest.mark.parametrize("key", [KEY, "alias/aws/sns", "arn:aws:kms:us-east-1:123456789012:alias/logvault",
                                 "1234abcd-12ab-34cd-56ef-1234567890ab", "mrk-" + "a" * 32, ""])
def test_key_forms_are_accepted(sns, key):
    sns.create_topic(Name="alarms")
    assert "failed" not in run(dict(topic_arn=TOPIC, kms_master_key_id=key), check_mode=True)


def test_name_and_topic_arn_are_exclusive(sns):
    result = run(dict(name="alarms", topic_arn=TOPIC, kms_master_key_id=KEY))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]
