# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_domain_log_publishing and cloudwatchlogs_resource_policy, run in-process against moto
(issue 14: OpenSearch audit and error log publishing)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_resource_policy as resource_policy
from ansible_collections.logvault.aws.plugins.modules import opensearch_domain_log_publishing as log_publishing
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
DOMAIN = "logvault-search"
AUDIT = "arn:aws:logs:us-east-1:%s:log-group:/aws/opensearch/%s/audit" % (ACCOUNT, DOMAIN)
ERROR = "arn:aws:logs:us-east-1:%s:log-group:/aws/opensearch/%s/error" % (ACCOUNT, DOMAIN)
LOGS = {"AUDIT_LOGS": {"log_group_arn": AUDIT}, "ES_APPLICATION_LOGS": {"log_group_arn": ERROR}}
POLICY = {"Version": "2012-10-17", "Statement": [{
    "Sid": "OpenSearchLogs", "Effect": "Allow", "Principal": {"Service": "es.amazonaws.com"},
    "Action": ["logs:CreateLogStream", "logs:PutLogEvents"], "Resource": [AUDIT + ":*", ERROR + ":*"],
    "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                  "ArnLike": {"aws:SourceArn": "arn:aws:es:us-east-1:%s:domain/%s" % (ACCOUNT, DOMAIN)}}}]}


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("opensearch", region_name=REGION), boto3.client("logs", region_name=REGION)


def publish(args, check_mode=False, diff=False):
    return run_module(log_publishing, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


def put_policy(args, check_mode=False, diff=False):
    return run_module(resource_policy, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


def _published(client):
    return client.describe_domain_config(DomainName=DOMAIN)["DomainConfig"].get("LogPublishingOptions", {}).get("Options") or {}


def test_log_publishing_four_step_cycle(aws):
    opensearch = aws[0]
    opensearch.create_domain(DomainName=DOMAIN, AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False})
    first = publish(dict(domain_name=DOMAIN, logs=LOGS), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"]["after"]["AUDIT_LOGS"] == {"CloudWatchLogsLogGroupArn": AUDIT, "Enabled": True}
    assert not _published(opensearch).get("AUDIT_LOGS"), "check mode wrote"
    second = publish(dict(domain_name=DOMAIN, logs=LOGS))
    assert second["changed"] is True
    stored = _published(opensearch)
    assert stored["AUDIT_LOGS"] == {"CloudWatchLogsLogGroupArn": AUDIT, "Enabled": True}
    assert stored["ES_APPLICATION_LOGS"] == {"CloudWatchLogsLogGroupArn": ERROR, "Enabled": True}
    assert publish(dict(domain_name=DOMAIN, logs=LOGS), check_mode=True)["changed"] is False
    assert publish(dict(domain_name=DOMAIN, logs=LOGS))["changed"] is False


def test_a_changed_log_group_or_a_disabled_type_is_a_change_and_other_types_are_left_alone(aws):
    opensearch = aws[0]
    opensearch.create_domain(DomainName=DOMAIN, AdvancedSecurityOptions={"Enabled": True})
    publish(dict(domain_name=DOMAIN, logs=LOGS))
    other = ERROR.replace("/error", "/error2")
    result = publish(dict(domain_name=DOMAIN, logs={"ES_APPLICATION_LOGS": {"log_group_arn": other}}), diff=True)
    assert result["changed"] is True
    assert _published(opensearch)["ES_APPLICATION_LOGS"]["CloudWatchLogsLogGroupArn"] == other
    assert _published(opensearch)["AUDIT_LOGS"]["Enabled"] is True
    assert publish(dict(domain_name=DOMAIN, logs={"AUDIT_LOGS": {"enabled": False}}))["changed"] is True
    assert _published(opensearch)["AUDIT_LOGS"]["Enabled"] is False
    assert publish(dict(domain_name=DOMAIN, logs={"AUDIT_LOGS": {"enabled": False}}))["changed"] is False


def test_audit_logs_need_fine_grained_access_control(aws):
    # https://docs.aws.amazon.com/opensearch-service/latest/developerguide/audit-logs.html
    opensearch = aws[0]
    opensearch.create_domain(DomainName=DOMAIN)
    result = publish(dict(domain_name=DOMAIN, logs=LOGS))
    assert result["failed"] and result["parameter"] == "logs" and "fine-grained access control" in result["msg"]
    assert not _published(opensearch).get("ES_APPLICATION_LOGS"), "wrote before failing"
    assert publish(dict(domain_name=DOMAIN, logs={"ES_APPLICATION_LOGS": {"log_group_arn": ERROR}}))["changed"] is True


@pytest.mark.parametrize("logs, text", [
    ({"AUDIT_LOGS": {}}, "log_group_arn is required"),
    ({"AUDIT_LOGS": {"log_group_arn": AUDIT + ":*"}}, "without ':*'"),
    ({"AUDIT_LOGS": {"log_group_arn": "arn:aws:s3:::bucket"}}, "must be a log group ARN"),
    ({}, "at least one"),
])
def test_log_publishing_input_is_validated_before_any_call(logs, text):
    result = publish(dict(domain_name=DOMAIN, logs=logs))
    assert result["failed"] and result["parameter"] == "logs" and text in result["msg"]


def test_a_missing_domain_predicts_a_change_in_check_mode_and_fails_otherwise(aws):
    assert publish(dict(domain_name=DOMAIN, logs=LOGS), check_mode=True)["changed"] is True
    result = publish(dict(domain_name=DOMAIN, logs=LOGS))
    assert result["failed"] and "does not exist" in result["msg"]


def _policies(logs):
    return {p["policyName"]: json.loads(p["policyDocument"]) for p in logs.describe_resource_policies()["resourcePolicies"]}


def test_resource_policy_four_step_cycle_and_removal(aws):
    logs = aws[1]
    first = put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=POLICY), check_mode=True, diff=True)
    assert first["changed"] is True and first["diff"] == {"before": {}, "after": POLICY}
    assert _policies(logs) == {}, "check mode wrote"
    assert put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=POLICY))["changed"] is True
    assert _policies(logs)["logvault-opensearch-logs"] == POLICY
    reordered = json.loads(json.dumps(POLICY))
    reordered["Statement"][0]["Action"] = ["logs:PutLogEvents", "logs:CreateLogStream"]
    assert put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=reordered), check_mode=True)["changed"] is False
    assert put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=reordered))["changed"] is False
    widened = json.loads(json.dumps(POLICY))
    widened["Statement"][0]["Resource"].append("arn:aws:logs:us-east-1:%s:log-group:other:*" % ACCOUNT)
    assert put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=widened))["changed"] is True
    assert put_policy(dict(policy_name="logvault-opensearch-logs", state="absent"), check_mode=True)["changed"] is True
    assert "logvault-opensearch-logs" in _policies(logs)
    assert put_policy(dict(policy_name="logvault-opensearch-logs", state="absent"))["changed"] is True
    assert _policies(logs) == {}
    assert put_policy(dict(policy_name="logvault-opensearch-logs", state="absent"))["changed"] is False


@pytest.mark.parametrize("change, text", [
    ({"Principal": {"AWS": "arn:aws:iam::123456789012:root"}}, "AWS service principals only"),
    ({"Action": ["logs:*"]}, "is not one of"),
    ({"Resource": []}, "has no Resource"),
])
def test_resource_policy_refuses_what_aws_does_not_accept(change, text):
    # https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutResourcePolicy.html
    document = json.loads(json.dumps(POLICY))
    document["Statement"][0].update(change)
    result = put_policy(dict(policy_name="p", policy_document=document))
    assert result["failed"] and result["parameter"] == "policy_document" and text in result["msg"]


def test_resource_policy_limit_is_a_hard_quota_not_retried(aws, monkeypatch):
    logs = aws[1]
    for index in range(10):
        logs.put_resource_policy(policyName="other-%d" % index, policyDocument=json.dumps(POLICY))
    calls = []
    original = resource_policy.AWSRetry.jittered_backoff

    def counting(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(resource_policy.AWSRetry, "jittered_backoff", counting)
    result = put_policy(dict(policy_name="logvault-opensearch-logs", policy_document=POLICY))
    assert result["failed"] and "(10)" in result["msg"] and "logvault-opensearch-logs" in result["msg"]
    assert all("LimitExceededException" not in (c.get("catch_extra_error_codes") or []) for c in calls)
