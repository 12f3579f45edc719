# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alerts Lambda's deployed zip on the local AWS emulator (issue 10).

CloudTrail-shaped events are put into a member account's log group, which is subscribed to the
central destination; they travel to the hub Kinesis stream, the event source mapping runs the
zip (handler + the collection's filter-pattern engine + rules.json, packed as the role packs
it), and the alerts are read through SQS queues subscribed to the SNS topics of two outputs: a
rule routed to the output ``pager`` reaches its queue and no other; the others go to the
default output. A threshold rule fires once at N and is suppressed afterwards.

Searchable alerts (issue 18): with ``settings.search`` the sent alert is also put into a search
Firehose stream, which the emulator delivers to the OpenSearch TEST DOUBLE (tests/opensearch_stub),
where the query of the shipped dashboard's "alerts that fired" saved search finds it.
"""

import json
import os
import time

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLE = os.path.join(REPO, "roles", "stream_alerts")
CENTRAL, MEMBER = "123456789012", "111111111111"


def _package(tmp_path, rules, outputs=None, routes=None, settings=None):
    """What tasks/package.yml does: handler + engine + validated rules, zipped by logvault.aws.lambda_package."""
    from ansible_collections.logvault.aws.plugins.filter.validate_alert_rules import validate_alert_rules  # pylint: disable=import-outside-toplevel
    from ansible_collections.logvault.aws.plugins.modules import lambda_package  # pylint: disable=import-outside-toplevel

    document = {"version": 1, "rules": validate_alert_rules(rules, outputs=["default"] + sorted(outputs or {})),
                "outputs": outputs or {}, "routes": routes or {}}
    if settings:
        document["settings"] = settings
    (tmp_path / "rules.json").write_text(json.dumps(document, indent=4, sort_keys=True) + "\n")
    src = [
        {"src": os.path.join(ROLE, "files", "alerts_lambda", "logvault_alerts.py"), "dest": "logvault_alerts.py"},
        {"src": os.path.join(REPO, "plugins", "module_utils", "cwl_filter_pattern.py"), "dest": "cwl_filter_pattern.py"},
        {"src": str(tmp_path / "rules.json"), "dest": "rules.json"},
    ]
    members = lambda_package.collect(src)
    assert sorted(members) == ["cwl_filter_pattern.py", "logvault_alerts.py", "rules.json"]
    first = lambda_package.build(members)
    assert lambda_package.build(lambda_package.collect(list(reversed(src)))) == first
    return first


def _cloudtrail(event_name, event_source, **fields):
    event = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "AssumedRole", "principalId": "AROAEXAMPLE:alice", "arn": "arn:aws:sts::%s:assumed-role/Admin/alice" % MEMBER,
                         "accountId": MEMBER, "accessKeyId": "ASIAEXAMPLE"},
        "eventTime": "2026-11-27T07:15:02Z", "eventSource": event_source, "eventName": event_name, "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10", "userAgent": "aws-cli/2.17.0", "requestParameters": {}, "responseElements": None,
        "requestID": "7f0d5d0b-8d7c-4c44-9a0f-5c8b1b8e8e10", "eventID": "2b7f6e7a-4c1e-4f63-9d1a-1e2f3a4b5c6d", "readOnly": False,
        "eventType": "AwsApiCall", "managementEvent": True, "recipientAccountId": MEMBER, "eventCategory": "Management",
    }
    event.update(fields)
    return json.dumps(event)


def _alerts(sqs, queue):
    out = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not messages:
            return out
        for message in messages:
            out.append(json.loads(json.loads(message["Body"])["Message"]))
            sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])


def test_cloudtrail_events_in_a_member_log_group_raise_alerts_through_sns(
        local_aws, aws_client, unique, kinesis_stream, destination, allow, log_group, tmp_path, grant):
    lam, iam, ddb = aws_client("lambda"), aws_client("iam"), aws_client("dynamodb")
    sns, sqs, s3 = aws_client("sns"), aws_client("sqs"), aws_client("s3")
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        import yaml  # pylint: disable=import-outside-toplevel

        cis = yaml.safe_load(handle)["stream_alerts_cis_rules"]
    burst = {
        "name": "denied-burst", "severity": "high", "description": "5 denied calls by one principal",
        "match": {"accounts": [MEMBER], "log_groups": ["aws-cloudtrail-logs-*"], "filter_pattern": '{ $.errorCode = "AccessDenied" }'},
        "threshold": {"count": 5, "window_seconds": 86400, "group_by": "$.userIdentity.arn"}, "suppress_for": 3600}
    rules = [dict(rule, outputs=["pager"]) if rule["name"] == "root_account_usage" else rule
             for rule in cis if rule["name"] not in ("iam_policy_changes", "unauthorized_api_calls")] + [burst]

    stream = unique("hub")
    stream_arn = kinesis_stream(stream)
    dlq_bucket = unique("dlq")
    s3.create_bucket(Bucket=dlq_bucket)
    table = unique("alerts-state")
    ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
    ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires_at"})
    topic = sns.create_topic(Name=unique("alerts"))["TopicArn"]
    queue = sqs.create_queue(QueueName=unique("alerts-inbox"))["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=queue_arn)
    pager_topic = sns.create_topic(Name=unique("alerts-pager"))["TopicArn"]
    pager_queue = sqs.create_queue(QueueName=unique("pager-inbox"))["QueueUrl"]
    sns.subscribe(TopicArn=pager_topic, Protocol="sqs",
                  Endpoint=sqs.get_queue_attributes(QueueUrl=pager_queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"])
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                     "Action": "sts:AssumeRole", "Condition": {"StringEquals": {"aws:SourceAccount": CENTRAL}}}]}
    role = grant(iam.create_role(RoleName=unique("alerts-role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    function_name = unique("logvault-alerts")
    function_arn = lam.create_function(
        FunctionName=function_name, Runtime="python3.12", Role=role, Handler="logvault_alerts.handler",
        Code={"ZipFile": _package(tmp_path, rules, outputs={"pager": {"topic_arn": pager_topic, "format": "json"}},
                                  routes={"severity": {}, "default": ["default"]})}, Timeout=60, MemorySize=512,
        Environment={"Variables": {"LOGVAULT_ALERTS_TABLE": table, "LOGVAULT_ALERTS_TOPIC_ARN": topic}})["FunctionArn"]
    mapping = lam.create_event_source_mapping(
        FunctionName=function_arn, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100,
        FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=True, MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % dlq_bucket}})

    destination_arn = destination(unique("dest"), stream_arn, allow(MEMBER, actions=("logs:PutSubscriptionFilter",)))
    group = unique("aws-cloudtrail-logs")
    logs = log_group(group, account_id=MEMBER, stream="%s_CloudTrail_us-east-1" % MEMBER)
    logs.put_subscription_filter(logGroupName=group, filterName="to-central", filterPattern="", destinationArn=destination_arn)
    # One UTC day is the threshold window: every event of this test is in today's window.
    day_start_ms = int(time.time() // 86400 * 86400 * 1000)
    clock = [max(day_start_ms, int(time.time() * 1000) - 3600 * 1000)]

    def put(messages):
        events = []
        for message in messages:
            clock[0] += 1
            events.append({"timestamp": clock[0], "message": message})
        logs.put_log_events(logGroupName=group, logStreamName="%s_CloudTrail_us-east-1" % MEMBER, logEvents=events)
        local_aws.flush()
        local_aws.flush()
        return _alerts(sqs, queue)

    try:
        root = _cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True,
                           userIdentity={"type": "Root", "principalId": MEMBER, "arn": "arn:aws:iam::%s:root" % MEMBER, "accountId": MEMBER})
        quiet = _cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)
        policy = _cloudtrail("PutRolePolicy", "iam.amazonaws.com")  # its rule is switched off
        assert put([quiet, root, quiet, policy, quiet]) == []  # nothing on the default output
        first = _alerts(sqs, pager_queue)  # the routed rule's alert is on its own output only
        assert [a["rule"] for a in first] == ["root_account_usage"]
        alert = first[0]
        assert alert["severity"] == "critical" and alert["account"] == MEMBER and alert["region"] == "us-east-1"
        assert alert["log_group"] == group and alert["count"] == 1
        assert json.loads(alert["samples"][0]["message"])["userIdentity"]["type"] == "Root"
        assert "| filter userIdentity.type = \"Root\"" in alert["insights"]["query"]

        denied = _cloudtrail("GetObject", "s3.amazonaws.com", errorCode="AccessDenied", errorMessage="Access Denied")
        assert put([denied] * 3) == []
        assert put([denied, quiet]) == []
        burst = put([denied] * 2)  # 4 -> 6: crosses 5 once
        assert [(a["rule"], a["window_count"]) for a in burst] == [("denied-burst", 6)]
        assert burst[0]["group"] == "%s:arn:aws:sts::%s:assumed-role/Admin/alice" % (MEMBER, MEMBER)
        assert put([denied] * 5) == []  # suppressed afterwards
        assert _alerts(sqs, pager_queue) == []  # the default output's alerts never reached the routed one
        # the mapping kept nothing back: no failed batch went to the dead-letter bucket
        assert s3.list_objects_v2(Bucket=dlq_bucket).get("KeyCount", 0) == 0
        emf = [json.loads(e["message"]) for e in aws_client("logs").filter_log_events(
            logGroupName="/aws/lambda/%s" % function_name)["events"] if e["message"].startswith('{"_aws"')]
        assert sum(line["Notifications"] for line in emf) == 2
        assert sum(line["ControlMessages"] for line in emf) == 1
        assert all(line["Failures"] == 0 and line["MalformedRecords"] == 0 for line in emf)
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])
        logs.delete_subscription_filter(logGroupName=group, filterName="to-central")


def _load(name, *path):
    import importlib.util  # pylint: disable=import-outside-toplevel

    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, *path))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _stub():
    return _load("logvault_tests_opensearch_stub", "tests", "opensearch_stub", "server.py")


def _send(*args, **kwargs):
    """A SigV4-signed request to the test double (the data-plane tests' helper)."""
    return _load("logvault_tests_stub_dataplane_helpers", "tests", "unit", "plugins", "module_utils",
                 "test_opensearch_stub_dataplane.py").send(*args, **kwargs)


def _alerts_panel_query():
    """The query of the saved search behind the dashboard's "alerts that fired" panel, as shipped."""
    import jinja2  # pylint: disable=import-outside-toplevel

    with open(os.path.join(REPO, "roles", "central_account", "templates", "dashboards", "logvault.ndjson.j2"), encoding="utf-8") as handle:
        text = jinja2.Template(handle.read()).render(central_account_opensearch_index_prefix="logs")
    objects = {o["id"]: o for o in (json.loads(line) for line in text.splitlines() if line.strip())}
    panel = objects["logvault-alerts"]
    (ref,) = panel["references"]
    source = json.loads(objects[ref["id"]]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert source["query"]["language"] == "kuery"
    return source["query"]["query"]


def test_a_sent_alert_is_searchable_in_the_dashboards_alerts_panel(
        local_aws, aws_client, unique, kinesis_stream, destination, allow, log_group, tmp_path, grant, monkeypatch):
    from ansible_collections.logvault.aws.plugins.modules import opensearch_index_template  # pylint: disable=import-outside-toplevel

    stub = _stub().start({"testing": "testing"})
    lam, iam, ddb, sns, s3, fh = (aws_client(name) for name in ("lambda", "iam", "dynamodb", "sns", "s3", "firehose"))
    try:
        # The emulator's search streams deliver a signed _bulk to the test double (docs/local-aws.md).
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_URL", stub.endpoint)
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_CA", stub.ca_path)
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_CREDENTIAL", "testing:testing")
        status, dummy = _send(stub, "PUT", "/_index_template/logs", {
            "index_patterns": ["logs-*"], "template": {"mappings": opensearch_index_template.log_document_mappings()}})
        assert status == 200
        bucket = unique("search-backup")
        s3.create_bucket(Bucket=bucket)
        firehose_role = grant(iam.create_role(RoleName=unique("search-firehose"), AssumeRolePolicyDocument=json.dumps({
            "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "firehose.amazonaws.com"},
                                                    "Action": "sts:AssumeRole"}]}))["Role"]["Arn"])
        search_stream = unique("search")
        fh.create_delivery_stream(DeliveryStreamName=search_stream, DeliveryStreamType="DirectPut",
                                  AmazonopensearchserviceDestinationConfiguration={
                                      "RoleARN": firehose_role, "DomainARN": "arn:aws:es:us-east-1:%s:domain/logs" % CENTRAL,
                                      "IndexName": "logs", "IndexRotationPeriod": "OneDay", "S3BackupMode": "FailedDocumentsOnly",
                                      "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
                                      "S3Configuration": {"RoleARN": firehose_role, "BucketARN": "arn:aws:s3:::%s" % bucket}})

        with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
            import yaml  # pylint: disable=import-outside-toplevel

            rules = [r for r in yaml.safe_load(handle)["stream_alerts_cis_rules"] if r["name"] == "root_account_usage"]
        stream_arn = kinesis_stream(unique("hub"))
        table = unique("alerts-state")
        ddb.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                         AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST")
        topic = sns.create_topic(Name=unique("alerts"))["TopicArn"]
        trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                         "Action": "sts:AssumeRole"}]}
        role = grant(iam.create_role(RoleName=unique("alerts-role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
        function_arn = lam.create_function(
            FunctionName=unique("logvault-alerts"), Runtime="python3.12", Role=role, Handler="logvault_alerts.handler",
            Code={"ZipFile": _package(tmp_path, rules, settings={"search": {"stream": search_stream, "log_group": "logvault/alerts"}})},
            Timeout=60, MemorySize=512, Environment={"Variables": {"LOGVAULT_ALERTS_TABLE": table, "LOGVAULT_ALERTS_TOPIC_ARN": topic}},
        )["FunctionArn"]
        mapping = lam.create_event_source_mapping(FunctionName=function_arn, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON",
                                                  BatchSize=100, FunctionResponseTypes=["ReportBatchItemFailures"])
        destination_arn = destination(unique("dest"), stream_arn, allow(MEMBER, actions=("logs:PutSubscriptionFilter",)))
        group = unique("aws-cloudtrail-logs")
        logs = log_group(group, account_id=MEMBER, stream="%s_CloudTrail_us-east-1" % MEMBER)
        logs.put_subscription_filter(logGroupName=group, filterName="to-central", filterPattern="", destinationArn=destination_arn)
        try:
            root = _cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True,
                               userIdentity={"type": "Root", "principalId": MEMBER, "arn": "arn:aws:iam::%s:root" % MEMBER, "accountId": MEMBER})
            quiet = _cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)
            now = int(time.time() * 1000)
            logs.put_log_events(logGroupName=group, logStreamName="%s_CloudTrail_us-east-1" % MEMBER,
                                logEvents=[{"timestamp": now, "message": quiet}, {"timestamp": now + 1, "message": root}])
            for _pass in range(3):  # hub -> alerts Lambda -> search stream -> the double
                local_aws.flush()
            query = _alerts_panel_query()
            status, found = _send(stub, "POST", "/logs-*/_search", {"query": {"query_string": {"query": query}}, "size": 10})
            assert status == 200, found
            (hit,) = found["hits"]["hits"]
            alert = hit["_source"]
            assert alert["log_group"] == "logvault/alerts" and alert["log_stream"] == "root_account_usage"
            assert alert["account_id"] == MEMBER and alert["fields"]["severity"] == "critical"
            assert alert["message"] == "[CRITICAL] root_account_usage in %s" % MEMBER
            assert len(alert["fields"]["sample_ids"]) == 1
            # Only the alert is in search here: the member's events go to the hub, not to this stream,
            # and the alert document never enters the hub, so it raises no alert of its own.
            assert [source["log_group"] for dummy_index, dummy_id, source in stub.documents("logs-*")] == ["logvault/alerts"]
        finally:
            lam.delete_event_source_mapping(UUID=mapping["UUID"])
            logs.delete_subscription_filter(logGroupName=group, filterName="to-central")
    finally:
        stub.stop()
