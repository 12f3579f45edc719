# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Searchable alerts (issue 18, the dashboard's "alerts that fired"): after its notifications the
alerts Lambda puts one compact document per sent alert into the search Firehose stream, in one
PutRecordBatch per invocation, under the fixed log group ``logvault/alerts``; never when nothing
was sent; a failed put is counted and logged but fails nothing (the alerts are on SNS already).
DynamoDB and SNS come from moto; Firehose is a recording TEST DOUBLE (ScriptedFirehose)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from alerts_fixtures import MEMBER, TRAIL_GROUP, cloudtrail, data_message, event, load_alerts, role_defaults, root_identity, write_rules

REGION = "us-east-1"
CENTRAL = "123456789012"
ROOT_EVENT = cloudtrail("DescribeInstances", "ec2.amazonaws.com", userIdentity=root_identity(), readOnly=True)
QUIET = cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)
SEARCH = {"stream": "logvault-search", "log_group": "logvault/alerts"}


class ScriptedFirehose:
    """TEST DOUBLE of a boto3 Firehose client: records every PutRecordBatch call; ``answers`` is
    a list of callables (records -> response, or raise) used one per call, then success."""

    def __init__(self, answers=()):
        self.calls = []
        self.answers = list(answers)

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803  pylint: disable=invalid-name
        self.calls.append((DeliveryStreamName, list(Records)))
        if self.answers:
            return self.answers.pop(0)(Records)
        return {"FailedPutCount": 0, "Encrypted": True, "RequestResponses": [{"RecordId": "r%d" % n} for n in range(len(Records))]}


def _partial(records):
    """The first record is refused (ServiceUnavailableException per record, as PutRecordBatch answers)."""
    responses = [{"RecordId": "r%d" % n} for n in range(len(records))]
    responses[0] = {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
    return {"FailedPutCount": 1, "RequestResponses": responses}


def _throttled(records):
    raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "Slow down."}}, "PutRecordBatch")


@pytest.fixture(scope="module")
def alerts():
    return load_alerts()


@pytest.fixture
def aws(monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        ddb.create_table(TableName="alerts-state", KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        sns = boto3.client("sns", region_name=REGION)
        yield {"dynamodb": ddb, "sns": sns, "topic": sns.create_topic(Name="alerts")["TopicArn"]}


def _cis(*names):
    return [rule for rule in role_defaults()["stream_alerts_cis_rules"] if rule["name"] in names]


def _make(alerts, aws, tmp_path, firehose, search=None, rules=None):
    lines = []
    settings = {"search": SEARCH if search is None else search}
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, rules or _cis("root_account_usage", "console_login_without_mfa"))),
                             "alerts-state", aws["topic"], aws["dynamodb"], aws["sns"], region=REGION,
                             clock=lambda: 1764227800.0, log=lines.append, settings=settings, firehose=firehose)
    return alerter, lines


def _emf(lines):
    (found,) = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    return found


def _documents(call):
    return [json.loads(record["Data"].decode("utf-8")) for record in call[1]]


def test_each_sent_alert_is_one_document_in_one_put_per_invocation(alerts, aws, tmp_path):
    firehose = ScriptedFirehose()
    alerter, lines = _make(alerts, aws, tmp_path, firehose)
    other = "222222222222"
    records = [data_message([ROOT_EVENT] * 3 + [QUIET]),
               data_message([ROOT_EVENT], owner=other, log_group="aws-cloudtrail-logs-222222222222-org"),
               data_message([QUIET] * 5)]
    assert alerter.handle(event(records)) == {"batchItemFailures": []}
    assert len(firehose.calls) == 1  # once per invocation, whatever the number of alerts
    stream, entries = firehose.calls[0]
    assert stream == "logvault-search" and len(entries) == 2
    assert all(record["Data"].endswith(b"\n") for record in entries)
    docs = sorted(_documents(firehose.calls[0]), key=lambda d: d["account_id"])
    first = docs[0]
    assert set(first) == {"@timestamp", "event_id", "message", "account_id", "region", "log_group", "log_stream", "fields"}
    assert first["log_group"] == "logvault/alerts" and first["log_stream"] == "root_account_usage"
    assert first["account_id"] == MEMBER and first["region"] == REGION
    assert first["message"] == "[CRITICAL] root_account_usage in %s" % MEMBER
    assert first["@timestamp"] == "2025-11-27T07:16:40.000Z"
    fields = first["fields"]
    assert fields["rule"] == "root_account_usage" and fields["severity"] == "critical" and fields["count"] == 3
    assert fields["log_groups"] == [TRAIL_GROUP] and fields["accounts"] == [MEMBER] and fields["outputs"] == ["default"]
    assert fields["sample_ids"] == [e["id"] for e in records[0]["logEvents"][:3]]
    assert fields["first_event"] == "2025-11-27T07:15:02.000Z"
    assert "message" not in json.dumps(fields["sample_ids"])  # ids only, never the events' text
    assert docs[1]["account_id"] == other
    metrics = _emf(lines)
    assert metrics["Notifications"] == 2 and metrics["AlertsIndexed"] == 2 and metrics["AlertIndexFailures"] == 0


def test_nothing_is_put_when_no_alert_was_sent(alerts, aws, tmp_path):
    firehose = ScriptedFirehose()
    alerter, lines = _make(alerts, aws, tmp_path, firehose)
    alerter.handle(event([data_message([QUIET] * 10)]))
    assert firehose.calls == [] and _emf(lines)["AlertsIndexed"] == 0


def test_off_without_a_search_stream(alerts, aws, tmp_path):
    firehose = ScriptedFirehose()
    alerter, dummy = _make(alerts, aws, tmp_path, firehose, search={})
    alerter.handle(event([data_message([ROOT_EVENT])]))
    assert firehose.calls == []


def test_the_same_alert_sent_again_has_the_same_event_id(alerts, aws, tmp_path):
    """A retried batch sends the alert again: the indices' ingest pipeline sets _id from account,
    log group and event_id, so its document overwrites itself."""
    firehose = ScriptedFirehose()
    alerter, dummy = _make(alerts, aws, tmp_path, firehose)
    batch = event([data_message([ROOT_EVENT] * 2)])
    alerter.handle(batch)
    alerter.handle(batch)
    (first,), (second,) = _documents(firehose.calls[0]), _documents(firehose.calls[1])
    assert first["event_id"] == second["event_id"] and len(first["event_id"]) == 32
    alerter.handle(event([data_message([ROOT_EVENT] * 2, start_ms=1764227802000)]))  # another alert
    assert _documents(firehose.calls[2])[0]["event_id"] != first["event_id"]


def test_refused_records_are_put_once_more(alerts, aws, tmp_path):
    firehose = ScriptedFirehose([_partial])
    alerter, lines = _make(alerts, aws, tmp_path, firehose)
    alerter.handle(event([data_message([ROOT_EVENT]), data_message([ROOT_EVENT], owner="222222222222")]))
    assert [len(call[1]) for call in firehose.calls] == [2, 1]
    assert firehose.calls[1][1][0] == firehose.calls[0][1][0]  # the refused one
    assert _emf(lines)["AlertsIndexed"] == 2


def test_a_failed_put_fails_nothing_and_is_counted(alerts, aws, tmp_path):
    firehose = ScriptedFirehose([_throttled, _throttled])
    alerter, lines = _make(alerts, aws, tmp_path, firehose)
    assert alerter.handle(event([data_message([ROOT_EVENT])])) == {"batchItemFailures": []}
    assert len(firehose.calls) == 2
    metrics = _emf(lines)
    assert metrics["Notifications"] == 1 and metrics["AlertsIndexed"] == 0 and metrics["AlertIndexFailures"] == 1
    assert any("alerts could not be indexed" in line and "ServiceUnavailableException" in line for line in lines)


def test_an_alert_that_failed_to_publish_is_not_indexed(alerts, aws, tmp_path):
    class RefusingSns:
        """TEST DOUBLE: SNS that refuses every publish."""

        def publish(self, **kwargs):
            raise ClientError({"Error": {"Code": "KMSAccessDenied", "Message": "no"}}, "Publish")

    firehose = ScriptedFirehose()
    alerter, dummy = _make(alerts, aws, tmp_path, firehose)
    alerter.sns = RefusingSns()
    assert alerter.handle(event([data_message([ROOT_EVENT])]))["batchItemFailures"]
    assert firehose.calls == []


def test_batches_stay_within_put_record_batch_limits(alerts, aws, tmp_path):
    firehose = ScriptedFirehose()
    rules = [{"name": "every-%d" % n, "severity": "low", "match": {"filter_pattern": '{ $.eventName = "DescribeInstances" }'}}
             for n in range(3)]
    alerter, dummy = _make(alerts, aws, tmp_path, firehose, rules=rules)
    # 3 rules x 200 log groups = 600 alerts: two calls of at most 500 records.
    alerter.handle(event([data_message([QUIET], log_group="group-%03d" % n) for n in range(200)]))
    assert [len(call[1]) for call in firehose.calls] == [500, 100]


def test_from_environment_creates_the_firehose_client_only_when_a_stream_is_set(alerts, tmp_path, monkeypatch):
    for name, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", REGION)):
        monkeypatch.setenv(name, value)
    path = tmp_path / "rules.json"
    for settings, expected in (({"search": SEARCH}, "firehose"), ({}, None)):
        path.write_text(json.dumps({"version": 1, "rules": [], "settings": settings}))
        alerter = alerts.Alerter.from_environment({"LOGVAULT_ALERTS_TABLE": "t", "LOGVAULT_ALERTS_RULES_FILE": str(path),
                                                   "LOGVAULT_ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:%s:alerts" % CENTRAL})
        assert (alerter.firehose.meta.service_model.service_name if alerter.firehose else None) == expected
        assert alerter.central_account == CENTRAL


def test_the_alerts_role_may_put_into_the_search_stream_only():
    from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import render, statement  # pylint: disable=import-outside-toplevel

    policy = render("stream_alerts", "_stream_alerts_policy", logvault_central_account_id=CENTRAL,
                    __stream_alerts_stream_kms_info={"kms_keys": [{"key_arn": "arn:aws:kms:us-east-1:%s:key/hub" % CENTRAL}]})
    found = statement(policy, "IndexAlertsInSearch")
    assert found["Action"] == ["firehose:PutRecordBatch"]
    assert found["Resource"] == "arn:aws:firehose:us-east-1:%s:deliverystream/logvault-search" % CENTRAL
    assert [s for s in policy["Statement"] if any(a.startswith("firehose:") for a in s["Action"])] == [found]
    settings = render("stream_alerts", "_stream_alerts_settings", logvault_central_account_id=CENTRAL)
    assert settings["search"] == SEARCH
    off = render("stream_alerts", "_stream_alerts_policy", logvault_central_account_id=CENTRAL, stream_alerts_search_firehose_name="",
                 __stream_alerts_stream_kms_info={"kms_keys": []})
    assert "IndexAlertsInSearch" not in [s.get("Sid") for s in off["Statement"]]


def test_fields_carry_no_null_values(alerts, aws, tmp_path):
    """The index template maps fields as flat_object: a rule without threshold has no window_count."""
    firehose = ScriptedFirehose()
    alerter, dummy = _make(alerts, aws, tmp_path, firehose)
    alerter.handle(event([data_message([ROOT_EVENT])]))
    (doc,) = _documents(firehose.calls[0])
    assert "window_count" not in doc["fields"] and None not in doc["fields"].values()
