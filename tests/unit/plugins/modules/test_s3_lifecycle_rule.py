# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_lifecycle_rule, run in-process against moto: one rule managed, the others kept,
check mode predicts without writing."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import s3_lifecycle_rule as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ARGS = dict(bucket="results", rule_id="restore-expire", prefix="restore/", expiration_days=14)
OTHER = {"ID": "keep-me", "Status": "Enabled", "Filter": {"Prefix": "athena/"}, "Expiration": {"Days": 30}}


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def s3(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        client.create_bucket(Bucket="results")
        yield client


def _rules(s3):
    try:
        return {rule["ID"]: rule for rule in s3.get_bucket_lifecycle_configuration(Bucket="results")["Rules"]}
    except s3.exceptions.ClientError:
        return {}


def test_check_mode_predicts_then_the_rule_is_written_once(s3):
    check = run(ARGS, check_mode=True, diff=True)
    assert check["changed"] is True and _rules(s3) == {}, "check mode wrote"
    assert check["diff"]["after"]["Days"] == 14 and check["diff"]["before"] == {}
    first = run(ARGS)
    assert first["changed"] is True
    rule = _rules(s3)["restore-expire"]
    assert rule["Expiration"] == {"Days": 14} and rule["Filter"] == {"Prefix": "restore/"} and rule["Status"] == "Enabled"
    assert run(ARGS, check_mode=True)["changed"] is False
    assert run(ARGS)["changed"] is False


def test_other_rules_are_kept_and_a_change_is_predicted(s3):
    s3.put_bucket_lifecycle_configuration(Bucket="results", LifecycleConfiguration={"Rules": [OTHER]})
    assert run(ARGS)["changed"] is True
    assert sorted(_rules(s3)) == ["keep-me", "restore-expire"]
    assert _rules(s3)["keep-me"]["Expiration"] == {"Days": 30}
    longer = dict(ARGS, expiration_days=30)
    assert run(longer, check_mode=True)["changed"] is True
    assert _rules(s3)["restore-expire"]["Expiration"] == {"Days": 14}
    assert run(longer)["changed"] is True and _rules(s3)["restore-expire"]["Expiration"] == {"Days": 30}


def test_absent_removes_only_the_rule_and_the_last_one_deletes_the_configuration(s3):
    s3.put_bucket_lifecycle_configuration(Bucket="results", LifecycleConfiguration={"Rules": [OTHER]})
    run(ARGS)
    absent = dict(bucket="results", rule_id="restore-expire", state="absent")
    assert run(absent, check_mode=True)["changed"] is True and "restore-expire" in _rules(s3)
    assert run(absent)["changed"] is True and sorted(_rules(s3)) == ["keep-me"]
    assert run(absent)["changed"] is False
    assert run(dict(absent, rule_id="keep-me"))["changed"] is True
    assert _rules(s3) == {}


def test_check_mode_on_a_bucket_not_created_yet_predicts_a_change(s3):
    assert run(dict(ARGS, bucket="not-yet"), check_mode=True)["changed"] is True
    assert run(dict(ARGS, bucket="not-yet"))["failed"] is True


@pytest.mark.parametrize("args, name", [
    (dict(ARGS, expiration_days=None), "expiration_days"),
    (dict(ARGS, expiration_days=0), "expiration_days"),
    (dict(ARGS, rule_id=""), "rule_id"),
    (dict(ARGS, abort_incomplete_multipart_upload_days=0), "abort_incomplete_multipart_upload_days"),
])
def test_input_is_validated_before_any_call(args, name):
    with mock.patch.object(module_under_test.AnsibleAWSModule, "client", side_effect=AssertionError("AWS called")):
        result = run(args)
    assert result["failed"] is True and name in result["msg"]
