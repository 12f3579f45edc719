# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alerts Lambda's handler with DynamoDB, SNS and SQS from moto (in process): notifications,
thresholds, suppression, scoping, failures and the Logs Insights query."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from alerts_fixtures import (MEMBER, TRAIL_GROUP, cloudtrail, console_login, data_message, event, kinesis_record, load_alerts,
                             role_defaults, root_identity, write_rules)

REGION = "us-east-1"
ROOT_EVENT = cloudtrail("DescribeInstances", "ec2.amazonaws.com", userIdentity=root_identity(), readOnly=True)
DENIED = cloudtrail("DescribeInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation", readOnly=True)
QUIET = cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)


class Clock:
    """Test double: a settable wall clock (epoch seconds)."""

    def __init__(self, now=1764227702.0):
        self.now = now

    def __call__(self):
        return self.now


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
        sqs = boto3.client("sqs", region_name=REGION)
        topic = sns.create_topic(Name="alerts")["TopicArn"]
        queue = sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
        yield {"dynamodb": ddb, "sns": sns, "sqs": sqs, "topic": topic, "queue": queue}


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def make(alerts, aws, clock, tmp_path):
    def build(rules, sns=None):
        lines = []
        alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, rules)), "alerts-state", aws["topic"], aws["dynamodb"],
                                 sns or aws["sns"], region=REGION, clock=clock, log=lines.append)
        return alerter, lines
    return build


def received(aws):
    out = []
    while True:
        answer = aws["sqs"].receive_message(QueueUrl=aws["queue"], MaxNumberOfMessages=10, WaitTimeSeconds=0)
        messages = answer.get("Messages", [])
        if not messages:
            return out
        for message in messages:
            envelope = json.loads(message["Body"])
            out.append({"subject": envelope.get("Subject"), "body": json.loads(envelope["Message"])})
            aws["sqs"].delete_message(QueueUrl=aws["queue"], ReceiptHandle=message["ReceiptHandle"])


def cis(*names):
    return [rule for rule in role_defaults()["stream_alerts_cis_rules"] if rule["name"] in names]


def emf(lines):
    found = [json.loads(line) for line in lines if line.startswith('{"_aws"')]
    assert len(found) == 1, lines
    return found[0]


def test_notification_carries_rule_account_region_group_counts_samples_and_query(make, aws):
    alerter, lines = make(cis("root_account_usage"))
    messages = [ROOT_EVENT] * 7 + [QUIET] * 3
    answer = alerter.handle(event([data_message(messages)]))
    assert answer == {"batchItemFailures": []}
    [alert] = received(aws)
    body = alert["body"]
    assert alert["subject"] == "[CRITICAL] root_account_usage in %s" % MEMBER
    assert body["rule"] == "root_account_usage" and body["severity"] == "critical"
    assert body["description"].startswith("CIS 4.3")
    assert body["account"] == MEMBER and body["accounts"] == [MEMBER]
    assert body["region"] == REGION
    assert body["log_group"] == TRAIL_GROUP and body["log_groups"] == [TRAIL_GROUP]
    assert body["count"] == 7
    assert len(body["samples"]) == 5
    assert json.loads(body["samples"][0]["message"])["userIdentity"]["type"] == "Root"
    assert body["samples"][0]["log_stream"] == "111111111111_CloudTrail_us-east-1"
    assert body["first_event"] == "2025-11-27T07:15:02.000Z" and body["last_event"] == "2025-11-27T07:15:02.006Z"
    insights = body["insights"]
    assert insights["query"] == (
        'fields @timestamp, @logStream, @message\n'
        '| filter userIdentity.type = "Root" and not ispresent(userIdentity.invokedBy) and eventType != "AwsServiceEvent"\n'
        '| sort @timestamp asc\n| limit 1000')
    assert insights["exact"] is True
    assert insights["log_group_names"] == [TRAIL_GROUP]
    assert insights["start_time"] == 1764227702 and insights["end_time"] == 1764227703
    assert insights["cli"].startswith("aws logs start-query --region us-east-1 --start-time 1764227702 --end-time 1764227703 "
                                      "--log-group-names '%s' --query-string 'fields" % TRAIL_GROUP)
    metrics = emf(lines)
    assert (metrics["Events"], metrics["Matches"], metrics["Notifications"], metrics["Failures"]) == (10, 7, 1, 0)


def test_threshold_fires_once_at_n_then_is_suppressed_in_the_window(make, aws):
    rule = {"name": "denied-burst", "severity": "high", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'},
            "threshold": {"count": 5, "window_seconds": 300, "group_by": "$.userIdentity.arn"}}
    alerter, _lines = make([rule])
    for batch in ([DENIED] * 3, [DENIED] * 1):  # 3, then 4: below N
        assert alerter.handle(event([data_message(batch)])) == {"batchItemFailures": []}
    assert received(aws) == []
    alerter.handle(event([data_message([DENIED] * 2)]))  # 4 -> 6 crosses N = 5
    [alert] = received(aws)
    assert alert["body"]["count"] == 2 and alert["body"]["window_count"] == 6
    assert alert["body"]["threshold"] == {"count": 5, "window_seconds": 300}
    assert alert["body"]["group"] == "%s:arn:aws:sts::%s:assumed-role/Admin/alice" % (MEMBER, MEMBER)
    assert alert["body"]["insights"]["start_time"] == 1764227700 - 1764227700 % 300
    for _batch in range(3):
        alerter.handle(event([data_message([DENIED] * 4)]))
    assert received(aws) == []
    # another group (another principal) has its own counter
    other = cloudtrail("DescribeInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                       userIdentity=root_identity())
    alerter.handle(event([data_message([other] * 5)]))
    assert [a["body"]["group"] for a in received(aws)] == ["%s:arn:aws:iam::%s:root" % (MEMBER, MEMBER)]
    # the next window counts again
    alerter.handle(event([data_message([DENIED] * 5, start_ms=1764227702000 + 300000)]))
    assert len(received(aws)) == 1
    item = aws["dynamodb"].scan(TableName="alerts-state")["Items"][0]
    assert int(item["expires_at"]["N"]) > 1764227702


def test_suppress_for_drops_repeats_until_it_expires(make, aws, clock):
    rule = dict(cis("root_account_usage")[0], suppress_for=600)
    alerter, lines = make([rule])
    alerter.handle(event([data_message([ROOT_EVENT])]))
    alerter.handle(event([data_message([ROOT_EVENT])]))
    assert len(received(aws)) == 1
    assert emf(lines[-1:])["Suppressed"] == 1
    clock.now += 601
    alerter.handle(event([data_message([ROOT_EVENT])]))
    assert len(received(aws)) == 1


def test_accounts_and_log_group_globs_scope_a_rule(make, aws):
    rule = {"name": "app-errors", "severity": "low",
            "match": {"accounts": ["222222222222"], "log_groups": ["/app/*"], "filter_pattern": "ERROR -healthcheck"}}
    alerter, _lines = make([rule])
    alerter.handle(event([
        data_message(["ERROR db down"], log_group="/app/orders", owner=MEMBER),
        data_message(["ERROR db down"], log_group="/infra/orders", owner="222222222222"),
        data_message(["ERROR healthcheck failed", "INFO ok"], log_group="/app/orders", owner="222222222222"),
        data_message(["ERROR db down", "ERROR disk full"], log_group="/app/payments", owner="222222222222"),
    ]))
    [alert] = received(aws)
    assert alert["body"]["log_group"] == "/app/payments" and alert["body"]["count"] == 2
    assert alert["body"]["insights"]["query"].splitlines()[1] == '| filter @message like "ERROR" and not @message like "healthcheck"'


def test_control_messages_and_malformed_records_are_skipped(make, aws):
    alerter, lines = make(cis("root_account_usage"))
    records = [kinesis_record({"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
                               "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE"}]}, 0),
               kinesis_record(None, 1, raw=b"not gzip"),
               kinesis_record(None, 2, raw=gzip.compress(b"[1, 2]")),
               kinesis_record(data_message([ROOT_EVENT]), 3)]
    assert alerter.handle({"Records": records}) == {"batchItemFailures": []}
    assert len(received(aws)) == 1
    metrics = emf(lines)
    assert (metrics["ControlMessages"], metrics["MalformedRecords"], metrics["Notifications"]) == (1, 2, 1)


class FailingSns:
    """Test double: an SNS client whose publish fails ``failures`` times, then delegates."""

    def __init__(self, real, failures):
        self.real = real
        self.failures = failures

    def publish(self, **kwargs):
        if self.failures:
            self.failures -= 1
            raise ClientError({"Error": {"Code": "KMSAccessDenied", "Message": "test double"}}, "Publish")
        return self.real.publish(**kwargs)


def test_failed_publish_reports_the_lowest_record_and_undoes_its_counters(make, aws):
    rule = {"name": "denied", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'},
            "threshold": {"count": 3, "window_seconds": 300, "group_by": "account"}, "suppress_for": 3600}
    alerter, lines = make([rule], sns=FailingSns(aws["sns"], failures=1))
    batch = event([data_message([QUIET]), data_message([DENIED] * 2), data_message([DENIED] * 2)])
    answer = alerter.handle(batch)
    assert answer == {"batchItemFailures": [{"itemIdentifier": batch["Records"][1]["kinesis"]["sequenceNumber"]}]}
    assert emf(lines)["Failures"] == 1
    assert received(aws) == []
    # the retry (same records, from the failed one) counts them again and notifies once
    assert alerter.handle({"Records": batch["Records"][1:]}) == {"batchItemFailures": []}
    [alert] = received(aws)
    assert alert["body"]["window_count"] == 4 and alert["body"]["group"] == MEMBER


def test_several_rules_share_one_parse_and_report_each(make, aws):
    alerter, _lines = make(cis("console_signin_without_mfa", "console_auth_failures", "root_account_usage"))
    alerter.handle(event([data_message([console_login(mfa="No"),
                                        console_login(success=False, error_message="Failed authentication"), QUIET])]))
    assert sorted(a["body"]["rule"] for a in received(aws)) == ["console_auth_failures", "console_signin_without_mfa"]


def test_configuration_errors_are_clear(alerts, tmp_path, monkeypatch):
    monkeypatch.delenv("LOGVAULT_ALERTS_TABLE", raising=False)
    with pytest.raises(alerts.ConfigError, match="LOGVAULT_ALERTS_TABLE"):
        alerts.Alerter.from_environment({"LOGVAULT_ALERTS_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:a"})
    bad = tmp_path / "rules.json"
    bad.write_text(json.dumps({"rules": [{"name": "x", "match": {"filter_pattern": "{ $.a = "}}]}))
    with pytest.raises(alerts.ConfigError, match=r"rule 'x': filter_pattern invalid filter pattern at position \d+"):
        alerts.load_rules(str(bad))


def test_insights_translation_of_cis_patterns(alerts, tmp_path):
    rules = {r.name: r for r in alerts.load_rules(write_rules(tmp_path, role_defaults()["stream_alerts_cis_rules"]))}
    query = alerts.insights_query(rules["unauthorized_api_calls"], ["g"], 0, 1000, REGION)["query"]
    assert query.splitlines()[1] == (
        '| filter ( ( errorCode like /^.*UnauthorizedOperation$/ ) or ( errorCode like /^AccessDenied.*$/ ) ) '
        'and ( sourceIPAddress != "delivery.logs.amazonaws.com" ) and ( eventName != "HeadBucket" )')
    for rule in rules.values():
        assert alerts.insights_query(rule, ["g"], 0, 1000, REGION)["exact"] is True, rule.name
    regex_rule = alerts.Rule({"name": "re", "match": {"filter_pattern": "%ERR[0-9]+%"}})
    assert alerts.insights_query(regex_rule, ["g"], 0, 1, REGION)["exact"] is False


# ----------------------------------------------------------------- outputs and routing (issue 20)
def _output_queue(aws, name):
    """A topic for the output ``name`` with an SQS queue subscribed; returns (topic arn, queue url)."""
    topic = aws["sns"].create_topic(Name="alerts-%s" % name)["TopicArn"]
    queue = aws["sqs"].create_queue(QueueName="inbox-%s" % name)["QueueUrl"]
    arn = aws["sqs"].get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws["sns"].subscribe(TopicArn=topic, Protocol="sqs", Endpoint=arn)
    return topic, queue


def _drain(aws, queue):
    return received(dict(aws, queue=queue))


def test_routed_rules_reach_their_own_outputs_and_no_other(alerts, aws, clock, tmp_path):
    pager_topic, pager = _output_queue(aws, "pager")
    chat_topic, chat = _output_queue(aws, "chat")
    rules = [dict(cis("root_account_usage")[0], outputs=["pager"]),           # names its output
             cis("console_signin_without_mfa")[0],                             # high: routed by severity
             {"name": "denied", "severity": "low", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'}}]
    outputs = {"pager": {"topic_arn": pager_topic, "format": "json"}, "chat": {"topic_arn": chat_topic, "format": "chatbot"}}
    routes = {"severity": {"high": ["chat", "default"]}, "default": ["default"]}
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, rules)), "alerts-state", aws["topic"], aws["dynamodb"],
                             aws["sns"], region=REGION, clock=clock, log=lambda line: None, outputs=outputs, routes=routes)
    assert alerter.handle(event([data_message([ROOT_EVENT])])) == {"batchItemFailures": []}
    assert [a["body"]["rule"] for a in _drain(aws, pager)] == ["root_account_usage"]
    assert _drain(aws, chat) == [] and received(aws) == []

    alerter.handle(event([data_message([console_login(mfa="No")])]))
    [notice] = _drain(aws, chat)
    assert notice["body"]["version"] == "1.0" and notice["body"]["source"] == "custom"
    assert notice["body"]["content"]["textType"] == "client-markdown"
    assert "console_signin_without_mfa" in notice["body"]["content"]["title"]
    assert notice["body"]["metadata"]["additionalContext"]["account"] == MEMBER
    assert [a["body"]["rule"] for a in received(aws)] == ["console_signin_without_mfa"]
    assert _drain(aws, pager) == []

    alerter.handle(event([data_message([DENIED])]))  # low: no severity route, the default outputs
    assert [a["body"]["rule"] for a in received(aws)] == ["denied"]
    assert _drain(aws, pager) == [] and _drain(aws, chat) == []


def test_without_outputs_every_alert_goes_to_the_single_topic(alerts, aws, clock, tmp_path):
    """Backward compatibility: a rules.json of earlier releases (no outputs, no routes)."""
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, cis("root_account_usage"))), "alerts-state", aws["topic"],
                             aws["dynamodb"], aws["sns"], region=REGION, clock=clock, log=lambda line: None)
    assert alerter.targets == {"root_account_usage": [("default", {"topic_arn": aws["topic"], "format": "json"})]}
    alerter.handle(event([data_message([ROOT_EVENT])]))
    assert [a["body"]["rule"] for a in received(aws)] == ["root_account_usage"]


def test_unknown_output_is_a_configuration_error(alerts, aws, tmp_path):
    rules = alerts.load_rules(write_rules(tmp_path, [dict(cis("root_account_usage")[0], outputs=["pager"])]))
    with pytest.raises(alerts.ConfigError, match="rule 'root_account_usage' names the output 'pager', which is not defined"):
        alerts.Alerter(rules, "alerts-state", aws["topic"], aws["dynamodb"], aws["sns"])
    with pytest.raises(alerts.ConfigError, match="format 'slack' is not one of json, chatbot"):
        alerts.resolve_outputs(aws["topic"], {"x": {"topic_arn": aws["topic"], "format": "slack"}})


def test_a_failed_output_fails_the_batch_after_the_others_were_sent(alerts, aws, clock, tmp_path):
    pager_topic, pager = _output_queue(aws, "pager")
    outputs = {"pager": {"topic_arn": pager_topic, "format": "json"},
               "gone": {"topic_arn": "arn:aws:sns:%s:123456789012:deleted" % REGION, "format": "json"}}
    rules = [dict(cis("root_account_usage")[0], outputs=["gone", "pager"])]
    lines = []
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, rules)), "alerts-state", aws["topic"], aws["dynamodb"],
                             aws["sns"], region=REGION, clock=clock, log=lines.append, outputs=outputs)
    answer = alerter.handle(event([data_message([ROOT_EVENT])]))
    assert len(answer["batchItemFailures"]) == 1
    assert [a["body"]["rule"] for a in _drain(aws, pager)] == ["root_account_usage"]
    assert any('"output": "gone"' in line for line in lines)


# ----------------------------------------------------------------- alert content (issue 20 item 5)
def test_alert_names_its_scope_carries_n_samples_and_a_dashboards_discover_link(alerts, aws, clock, tmp_path):
    from urllib.parse import unquote  # pylint: disable=import-outside-toplevel

    settings = {"max_samples": 2, "dashboards": {"url": "https://search.example.com/_dashboards/", "index_pattern_id": "logvault-logs",
                                                 "index_pattern": "logs-*"}}
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, cis("root_account_usage"))), "alerts-state", aws["topic"],
                             aws["dynamodb"], aws["sns"], region=REGION, clock=clock, log=lambda line: None, settings=settings)
    alerter.handle(event([data_message([ROOT_EVENT] * 4)]))
    [alert] = received(aws)
    body = alert["body"]
    assert (body["rule"], body["account"], body["region"], body["log_group"]) == ("root_account_usage", MEMBER, REGION, TRAIL_GROUP)
    assert body["count"] == 4 and len(body["samples"]) == 2
    link = body["links"]["dashboards"]
    assert link["query"] == ('(account_id:"%s") and (log_group.keyword:"%s") and '
                             '(fields.userIdentity.type:"Root" and not fields.userIdentity.invokedBy:* and '
                             'not fields.eventType:"AwsServiceEvent")' % (MEMBER, TRAIL_GROUP))
    assert link["exact"] is True and link["language"] == "kuery"
    assert (link["from"], link["to"]) == ("2025-11-27T07:15:02.000Z", "2025-11-27T07:15:03.003Z")
    url = unquote(link["url"])
    assert url.startswith("https://search.example.com/_dashboards/app/discover#/?_g=(filters:!(),time:(from:'2025-11-27T07:15:02.000Z',"
                          "to:'2025-11-27T07:15:03.003Z'))&_a=(columns:!(_source),index:'logvault-logs',query:(language:kuery,query:'")
    assert "query:'%s')" % link["query"] in url
    assert body["insights"]["query"]  # kept next to the link


def test_dql_translation_of_the_cis_patterns_and_of_terms(alerts, tmp_path):
    rules = {r.name: r for r in alerts.load_rules(write_rules(tmp_path, role_defaults()["stream_alerts_cis_rules"]))}
    condition, exact = alerts.dql_condition(rules["unauthorized_api_calls"])
    assert condition == ('( ( fields.errorCode.keyword:*UnauthorizedOperation ) or ( fields.errorCode.keyword:AccessDenied* ) ) and '
                         '( not fields.sourceIPAddress:"delivery.logs.amazonaws.com" ) and ( not fields.eventName:"HeadBucket" )')
    assert exact is True
    for rule in rules.values():
        assert alerts.dql_condition(rule)[1] is True, rule.name
    terms = alerts.Rule({"name": "t", "match": {"filter_pattern": 'ERROR -"health check"'}})
    assert alerts.dql_condition(terms) == ('message:"ERROR" and not message:"health check"', False)
    assert alerts.dql_condition(alerts.Rule({"name": "re", "match": {"filter_pattern": "%ERR[0-9]+%"}})) == (None, False)
    # without a Dashboards URL the link holds the query and the range, and no URL
    link = alerts.dashboards_link({}, terms, ["111111111111"], ["/app"], 0, 999)
    assert link["url"] is None and link["query"].startswith('(account_id:"111111111111") and (log_group.keyword:"/app")')


def test_max_samples_is_bounded(alerts, aws, tmp_path):
    rules = alerts.load_rules(write_rules(tmp_path, cis("root_account_usage")))
    with pytest.raises(alerts.ConfigError, match="settings.max_samples must be between 0 and 50"):
        alerts.Alerter(rules, "alerts-state", aws["topic"], aws["dynamodb"], aws["sns"], settings={"max_samples": 51})
