# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The central_account role's rendered policies allow exactly the requests the pipeline's
services make, evaluated as the emulator evaluates them (issue 15 items 2, 4, 5:
local_aws/services/service_roles.py, kms_policies.py, resource_policies.py) -- and refuse
what they must refuse. The request context is the one AWS documents per service
(docs/local-aws.md, "Service roles evaluated", "KMS key policies", "Resource policies that deny").
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
sys.path.insert(0, HERE)
if REPO not in sys.path:
    sys.path.insert(0, REPO)

from test_role_policies import _load, _trust, render, templar  # noqa: E402  pylint: disable=wrong-import-position

kms_policies = pytest.importorskip("local_aws.services.kms_policies")  # the emulator is part of the repository
resource_policies = pytest.importorskip("local_aws.services.resource_policies")
service_roles = pytest.importorskip("local_aws.services.service_roles")

ACCOUNT = "123456789012"
REGION = "us-east-1"
ALLOW, IMPLICIT, EXPLICIT = service_roles.ALLOW, service_roles.IMPLICIT_DENY, service_roles.EXPLICIT_DENY


def _r(name):
    return render("central_account", name)


def _role(key):
    return "%s%s" % (_r("_central_account_role_arn_prefix"), _r("_central_account_roles")[key])


def _identity(policy_var, action, resource, context=None):
    return service_roles.evaluate_documents([_r(policy_var)], action, resource, context)


def _key(action, role_policy_var, role_key, context):
    """Key policy and role policy together, as kms_policies.evaluate does for a role."""
    caller = {"arn": _role(role_key), "account": ACCOUNT}
    verdict, via = kms_policies.key_policy_verdict(_r("_central_account_key_policy"), action, caller,
                                                   dict(context, **{"kms:CallerAccount": ACCOUNT}))
    iam = _identity(role_policy_var, action, _r("_central_account_key_arn"), context)
    if verdict != ALLOW:
        return verdict
    return ALLOW if via == "direct" or iam == ALLOW else iam


def test_cloudwatch_logs_may_put_into_the_encrypted_hub_stream():
    stream = _r("_central_account_stream_arn")
    assert _identity("_central_account_cwl_policy", "kinesis:PutRecord", stream) == ALLOW
    assert _key("kms:GenerateDataKey", "_central_account_cwl_policy", "cwl_to_kinesis",
                kms_policies.kinesis_context(REGION, stream)) == ALLOW
    # ... and nowhere else
    assert _identity("_central_account_cwl_policy", "kinesis:PutRecord", stream + "-other") == IMPLICIT
    assert _key("kms:GenerateDataKey", "_central_account_cwl_policy", "cwl_to_kinesis",
                kms_policies.kinesis_context(REGION, stream + "-other")) == IMPLICIT


def test_the_transform_mapping_may_read_and_decrypt_the_hub_stream():
    stream = _r("_central_account_stream_arn")
    for action in service_roles.ESM_CREATE_ACTIONS + service_roles.ESM_READ_ACTIONS:
        assert _identity("_central_account_transform_policy", action, stream) == ALLOW, action
    assert _key("kms:Decrypt", "_central_account_transform_policy", "transform", kms_policies.kinesis_context(REGION, stream)) == ALLOW


def test_the_transform_function_may_write_both_streams_and_dead_letters():
    for stream in ("_central_account_archive_firehose_arn", "_central_account_search_firehose_arn"):
        assert _identity("_central_account_transform_policy", "firehose:PutRecordBatch", _r(stream)) == ALLOW
    bucket = _r("_central_account_dead_letter_bucket_arn")
    assert _identity("_central_account_transform_policy", "s3:PutObject", bucket + "/malformed/x") == ALLOW
    # the buckets use S3 Bucket Keys: the encryption context is the bucket ARN
    name = bucket.split(":::")[1]
    assert _key("kms:GenerateDataKey", "_central_account_transform_policy", "transform",
                kms_policies.s3_context(REGION, name, "malformed/x", bucket_key_enabled=True)) == ALLOW
    group = _r("_central_account_function_log_group_arn")
    assert _identity("_central_account_transform_policy", "logs:PutLogEvents", group + ":log-stream:2026/01/01/[$LATEST]x") == ALLOW


def test_the_archive_firehose_may_write_the_archive_and_its_error_log_only():
    bucket = _r("_central_account_archive_bucket_arn")
    name = bucket.split(":::")[1]
    assert _identity("_central_account_archive_firehose_policy", "s3:PutObject", bucket + "/logs/x.gz") == ALLOW
    assert _key("kms:GenerateDataKey", "_central_account_archive_firehose_policy", "archive_firehose",
                kms_policies.s3_context(REGION, name, "logs/x.gz", bucket_key_enabled=True)) == ALLOW
    assert _identity("_central_account_archive_firehose_policy", "s3:PutObject",
                     _r("_central_account_dead_letter_bucket_arn") + "/x") == IMPLICIT
    stream = "%s:log-stream:%s" % (_r("_central_account_archive_firehose_log_group_arn"),
                                   _r("_central_account_firehose_log_streams")["destination"])
    assert _identity("_central_account_archive_firehose_policy", "logs:PutLogEvents", stream) == ALLOW


def test_cloudwatch_logs_may_encrypt_the_pipeline_log_groups_and_no_other():
    policy = _r("_central_account_key_policy")
    caller = {"service": "logs.%s.amazonaws.com" % REGION}
    group = _r("_central_account_function_log_group_arn")
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert kms_policies.key_policy_verdict(policy, action, caller, {"kms:EncryptionContext:aws:logs:arn": group})[0] == ALLOW
    assert kms_policies.key_policy_verdict(policy, "kms:GenerateDataKey", caller,
                                           {"kms:EncryptionContext:aws:logs:arn": group + "-other"})[0] == IMPLICIT


def test_cloudwatch_alarms_may_publish_to_the_encrypted_alarm_topic():
    topic = _r("_central_account_topic_arn")
    alarm = "arn:aws:cloudwatch:%s:%s:alarm:%sarchive-delivery-failed" % (REGION, ACCOUNT, _r("_central_account_alarm_prefix"))

    class Topic(object):
        arn = topic
        policy = __import__("json").dumps(_r("_central_account_topic_policy"))

    assert resource_policies.topic_allows(Topic, "cloudwatch.amazonaws.com", alarm, ACCOUNT)
    assert not resource_policies.topic_allows(Topic, "cloudwatch.amazonaws.com", alarm.replace(":alarm:", ":alarm:other-"), ACCOUNT)
    assert not resource_policies.topic_allows(Topic, "events.amazonaws.com", alarm, ACCOUNT)
    for action in ("kms:GenerateDataKey", "kms:Decrypt"):
        assert kms_policies.key_policy_verdict(_r("_central_account_key_policy"), action, {"service": "cloudwatch.amazonaws.com"},
                                               {"kms:EncryptionContext:aws:sns:topicArn": topic})[0] == ALLOW


@pytest.mark.parametrize("action, principal, denied", [
    ("s3:PutObject", "archive_firehose", False),            # TLS-only never denies the emulator's (HTTPS) requests
    ("s3:DeleteObject", "archive_firehose", True),           # only break-glass deletes
    ("s3:PutObjectRetention", "transform", True),
    ("s3:GetObject", "transform", False),
])
def test_the_archive_bucket_policy_denies_what_it_must(action, principal, denied):
    bucket = _r("_central_account_archive_bucket_arn")
    # the policy is a variable of the task that puts it (roles/central_account/tasks/buckets.yml)
    task = [t for t in _load("central_account", "tasks", "buckets.yml") if "_central_account_bucket_policy" in (t.get("vars") or {})][0]
    policy = templar("central_account", _central_account_bucket_arn=bucket).template(
        _trust(task["vars"]["_central_account_bucket_policy"]))
    resource = bucket + "/logs/x.gz"
    assert resource_policies.bucket_policy_denies(policy, action, resource, _role(principal), ACCOUNT) is denied
    # the break-glass role may delete
    assert resource_policies.bucket_policy_denies(policy, "s3:DeleteObject", resource,
                                                  "arn:aws:iam::%s:role/logvault-break-glass" % ACCOUNT, ACCOUNT) is False
