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


# The central account's archive rule (roles/central_account/tasks/buckets.yml): transitions of
# current objects and noncurrent versions, no expiration.
ARCHIVE = dict(bucket="results", rule_id="archive-transition-never-expire", prefix="",
               transitions=[dict(days=180, storage_class="glacier")],
               noncurrent_version_transitions=[dict(noncurrent_days=180, storage_class="glacier")],
               abort_incomplete_multipart_upload_days=7)
# The same rule as community.aws.s3_lifecycle (10.0.0) wrote it before the role used this module
# (its build_rule(): Filter.Prefix, Status, ID, AbortIncompleteMultipartUpload, Transitions,
# NoncurrentVersionTransitions with the storage class upper-cased).
ARCHIVE_AS_COMMUNITY_WROTE_IT = {
    "Filter": {"Prefix": ""}, "Status": "Enabled", "ID": "archive-transition-never-expire",
    "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7},
    "Transitions": [{"Days": 180, "StorageClass": "GLACIER"}],
    "NoncurrentVersionTransitions": [{"NoncurrentDays": 180, "StorageClass": "GLACIER"}],
}


def test_transitions_and_noncurrent_versions_without_expiration(s3):
    check = run(ARCHIVE, check_mode=True, diff=True)
    assert check["changed"] is True and _rules(s3) == {}, "check mode wrote"
    assert check["diff"]["after"]["Transitions"] == [{"Days": 180, "StorageClass": "GLACIER"}]
    assert run(ARCHIVE)["changed"] is True
    rule = _rules(s3)["archive-transition-never-expire"]
    assert rule["Transitions"] == [{"Days": 180, "StorageClass": "GLACIER"}]
    assert rule["NoncurrentVersionTransitions"] == [{"NoncurrentDays": 180, "StorageClass": "GLACIER"}]
    assert rule["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert "Expiration" not in rule and "NoncurrentVersionExpiration" not in rule
    assert run(ARCHIVE, check_mode=True)["changed"] is False
    assert run(ARCHIVE)["changed"] is False


def test_the_rule_community_s3_lifecycle_wrote_is_not_changed(s3):
    s3.put_bucket_lifecycle_configuration(Bucket="results", LifecycleConfiguration={"Rules": [ARCHIVE_AS_COMMUNITY_WROTE_IT, OTHER]})
    assert run(ARCHIVE, check_mode=True)["changed"] is False
    assert run(ARCHIVE)["changed"] is False


def test_a_drifted_transition_is_predicted_with_its_diff_and_put_back(s3):
    drifted = dict(ARCHIVE_AS_COMMUNITY_WROTE_IT, Transitions=[{"Days": 1, "StorageClass": "GLACIER"}])
    s3.put_bucket_lifecycle_configuration(Bucket="results", LifecycleConfiguration={"Rules": [drifted, OTHER]})
    check = run(ARCHIVE, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["Transitions"] == [{"Days": 1, "StorageClass": "GLACIER"}]
    assert check["diff"]["after"]["Transitions"] == [{"Days": 180, "StorageClass": "GLACIER"}]
    assert _rules(s3)["archive-transition-never-expire"]["Transitions"][0]["Days"] == 1, "check mode wrote"
    assert run(ARCHIVE)["changed"] is True
    assert _rules(s3)["archive-transition-never-expire"]["Transitions"] == [{"Days": 180, "StorageClass": "GLACIER"}]
    assert _rules(s3)["keep-me"] == OTHER


def test_noncurrent_version_transition_and_storage_class_changes_are_detected(s3):
    run(ARCHIVE)
    deeper = dict(ARCHIVE, noncurrent_version_transitions=[dict(noncurrent_days=180, storage_class="DEEP_ARCHIVE")])
    assert run(deeper, check_mode=True)["changed"] is True
    assert run(deeper)["changed"] is True
    assert _rules(s3)["archive-transition-never-expire"]["NoncurrentVersionTransitions"] == [
        {"NoncurrentDays": 180, "StorageClass": "DEEP_ARCHIVE"}]
    no_noncurrent = dict(ARCHIVE, noncurrent_version_transitions=None)
    assert run(no_noncurrent)["changed"] is True
    assert "NoncurrentVersionTransitions" not in _rules(s3)["archive-transition-never-expire"]


def test_the_order_of_transitions_does_not_matter(s3):
    two = dict(ARCHIVE, transitions=[dict(days=30, storage_class="standard_ia"), dict(days=180, storage_class="glacier")])
    assert run(two)["changed"] is True
    assert run(dict(two, transitions=list(reversed(two["transitions"]))))["changed"] is False


@pytest.mark.parametrize("args, name", [
    (dict(ARGS, expiration_days=None), "expiration_days"),
    (dict(ARCHIVE, transitions=[dict(days=-1, storage_class="glacier")]), "transitions[0].days"),
    (dict(ARCHIVE, transitions=[dict(days=180, storage_class="tape")]), "transitions[0].storage_class"),
    (dict(ARCHIVE, noncurrent_version_transitions=[dict(noncurrent_days=0, storage_class="glacier")]),
     "noncurrent_version_transitions[0].noncurrent_days"),
    (dict(ARCHIVE, noncurrent_version_transitions=[dict(noncurrent_days=1, storage_class="")]),
     "noncurrent_version_transitions[0].storage_class"),
    (dict(bucket="results", rule_id="nothing"), "at least one action"),
    (dict(ARGS, expiration_days=0), "expiration_days"),
    (dict(ARGS, rule_id=""), "rule_id"),
    (dict(ARGS, abort_incomplete_multipart_upload_days=0), "abort_incomplete_multipart_upload_days"),
])
def test_input_is_validated_before_any_call(args, name):
    with mock.patch.object(module_under_test.AnsibleAWSModule, "client", side_effect=AssertionError("AWS called")):
        result = run(args)
    assert result["failed"] is True and name in result["msg"]
