# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Subscription delivery: payload format, event ids, partition keys, filter patterns,
CONTROL_MESSAGE, flush."""

import gzip
import io
import json
import re
import urllib.request
import zipfile

import botocore.exceptions
import pytest

from local_aws.services import logs as logs_patch

CENTRAL, MEMBER = "123456789012", "111111111111"
ROLE = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"


@pytest.fixture()
def subscribed(unique, kinesis_stream, log_group):
    """A same-account log group subscribed directly to a Kinesis stream."""

    def factory(pattern="", distribution=None, streams=("stream-1",)):
        stream = unique("direct")
        arn = kinesis_stream(stream)
        group = unique("/direct")
        logs = log_group(group, stream=streams[0])
        for extra in streams[1:]:
            logs.create_log_stream(logGroupName=group, logStreamName=extra)
        kwargs = {"distribution": distribution} if distribution else {}
        logs.put_subscription_filter(logGroupName=group, filterName="direct", filterPattern=pattern,
                                     destinationArn=arn, roleArn=ROLE, **kwargs)
        return stream, group

    return factory


def _data(records):
    return [r for r in records if r["payload"]["messageType"] == "DATA_MESSAGE"]


def test_direct_kinesis_subscription_payload(local_aws, subscribed, put_events, read_stream):
    stream, group = subscribed()
    timestamps = put_events(group, ["first", "second"])
    local_aws.flush()
    records = read_stream(stream)
    assert [r["payload"]["messageType"] for r in records] == ["CONTROL_MESSAGE", "DATA_MESSAGE"]
    payload = records[1]["payload"]
    assert sorted(payload) == ["logEvents", "logGroup", "logStream", "messageType", "owner", "subscriptionFilters"]
    assert payload["owner"] == CENTRAL
    assert payload["logGroup"] == group
    assert payload["logStream"] == "stream-1"
    assert payload["subscriptionFilters"] == ["direct"]
    assert [sorted(e) for e in payload["logEvents"]] == [["id", "message", "timestamp"]] * 2
    assert [(e["timestamp"], e["message"]) for e in payload["logEvents"]] == list(zip(timestamps, ["first", "second"]))


def test_control_message_shape_and_count(local_aws, subscribed, read_stream):
    stream = subscribed()[0]
    local_aws.flush()
    records = read_stream(stream)
    assert len(records) == 1
    control = records[0]["payload"]
    assert control["messageType"] == "CONTROL_MESSAGE"
    assert control["owner"] == "CloudwatchLogs"
    assert control["logGroup"] == "" and control["logStream"] == ""
    assert control["subscriptionFilters"] == []
    assert len(control["logEvents"]) == 1
    event = control["logEvents"][0]
    assert event["message"] == "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
    assert isinstance(event["id"], str) and isinstance(event["timestamp"], int)


def test_event_ids_are_unique_increasing_digit_strings(local_aws, subscribed, put_events, read_stream, aws_client):
    stream, group = subscribed()
    put_events(group, ["a", "b", "c"])
    put_events(group, ["d"])
    local_aws.flush()
    ids = [e["id"] for r in _data(read_stream(stream)) for e in r["payload"]["logEvents"]]
    assert len(ids) == 4
    assert all(re.fullmatch(r"[0-9]{56}", i) for i in ids), ids
    assert ids == sorted(ids) and len(set(ids)) == 4
    # FilterLogEvents reports the same ids.
    found = aws_client("logs").filter_log_events(logGroupName=group)["events"]
    assert [e["eventId"] for e in found] == ids


def test_by_log_stream_keeps_a_stream_on_one_partition_key(local_aws, subscribed, put_events, read_stream):
    stream, group = subscribed(streams=("s1", "s2"))
    put_events(group, ["one"], stream="s1")
    put_events(group, ["two"], stream="s1")
    put_events(group, ["three"], stream="s2")
    local_aws.flush()
    keys = {}
    for record in _data(read_stream(stream)):
        keys.setdefault(record["payload"]["logStream"], set()).add(record["partition_key"])
    assert len(keys["s1"]) == 1 and len(keys["s2"]) == 1
    assert keys["s1"] != keys["s2"]


def test_random_distribution_varies_the_partition_key(local_aws, subscribed, put_events, read_stream):
    stream, group = subscribed(distribution="Random")
    for i in range(4):
        put_events(group, ["m%d" % i])
    local_aws.flush()
    keys = [r["partition_key"] for r in _data(read_stream(stream))]
    assert len(keys) == 4 and len(set(keys)) == 4


@pytest.mark.parametrize("pattern, messages, delivered", [
    ("", ["a", "b"], ["a", "b"]),
    ("ERROR", ["ERROR disk", "INFO ok", "an ERROR"], ["ERROR disk", "an ERROR"]),
    ('"disk full"', ["disk full now", "disk is full"], ["disk full now"]),
    ("ERROR -health", ["ERROR health check", "ERROR db"], ["ERROR db"]),
    ('{ $.level = "error" }', ['{"level": "error"}', '{"level": "info"}', "not json"], ['{"level": "error"}']),
    ('{ $.status >= 500 && $.path = "/login" }',
     ['{"status": 503, "path": "/login"}', '{"status": 200, "path": "/login"}', '{"status": 500, "path": "/"}'],
     ['{"status": 503, "path": "/login"}']),
    ('{ $.user = "root" || $.latency > 1.5 }',
     ['{"user": "root", "latency": 0}', '{"user": "bob", "latency": 2}', '{"user": "bob", "latency": 1}'],
     ['{"user": "root", "latency": 0}', '{"user": "bob", "latency": 2}']),
])
def test_filter_patterns_select_what_is_delivered(local_aws, subscribed, put_events, read_stream, pattern, messages, delivered):
    stream, group = subscribed(pattern=pattern)
    put_events(group, messages)
    local_aws.flush()
    got = [e["message"] for r in _data(read_stream(stream)) for e in r["payload"]["logEvents"]]
    assert got == delivered


def test_batch_with_no_match_sends_nothing(local_aws, subscribed, put_events, read_stream):
    stream, group = subscribed(pattern="NEVERMATCHES")
    put_events(group, ["a", "b"])
    local_aws.flush()
    assert _data(read_stream(stream)) == []


@pytest.mark.parametrize("pattern", ['{ $.a = ', '"unterminated', "{ $.a = 1 } extra"])
def test_invalid_pattern_is_rejected_and_nothing_changes(unique, kinesis_stream, log_group, read_stream, local_aws, pattern):
    stream = unique("bad")
    arn = kinesis_stream(stream)
    group = unique("/bad")
    logs = log_group(group)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern=pattern, destinationArn=arn, roleArn=ROLE)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "filterPattern" in err.value.response["Error"]["Message"]
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    local_aws.flush()
    assert read_stream(stream) == []


def test_invalid_distribution_is_rejected(unique, kinesis_stream, log_group):
    arn = kinesis_stream(unique("dist"))
    group = unique("/dist")
    logs = log_group(group)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=arn, roleArn=ROLE,
                                     distribution="Sideways")
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert "distribution" in err.value.response["Error"]["Message"]
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_missing_stream_is_rejected(unique, log_group):
    group = unique("/missing")
    logs = log_group(group)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                     destinationArn="arn:aws:kinesis:us-east-1:%s:stream/%s" % (CENTRAL, unique("none")), roleArn=ROLE)
    assert err.value.response["Error"]["Code"] == "InvalidParameterException"
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []


def test_delivery_waits_in_a_queue_until_a_poller_runs(subscribed, put_events, read_stream):
    stream, group = subscribed()
    from local_aws import hooks
    with hooks._PASS_LOCK:  # holds off the background thread for the duration of the block
        put_events(group, ["queued"])
        assert logs_patch.pending() >= 1
        assert _data(read_stream(stream)) == []
        handled = logs_patch.deliver_pending()
    assert handled >= 1
    assert [e["message"] for r in _data(read_stream(stream)) for e in r["payload"]["logEvents"]] == ["queued"]


def test_http_flush_delivers(local_aws, subscribed, put_events, read_stream):
    stream, group = subscribed()
    from local_aws import hooks
    with hooks._PASS_LOCK:
        put_events(group, ["over http"])
    request = urllib.request.Request(local_aws.endpoint + "/_logvault/flush", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=30) as resp:
        body = json.loads(resp.read().decode("utf-8"))
    assert body["settled"] is True
    assert [e["message"] for r in _data(read_stream(stream)) for e in r["payload"]["logEvents"]] == ["over http"]


def test_large_batches_are_split_under_the_record_limit(monkeypatch):
    monkeypatch.setattr(logs_patch, "MAX_RECORD", 400)
    events = [{"id": str(i), "timestamp": i, "message": "%032x" % (i * 7919 ** 5)} for i in range(40)]
    chunks = logs_patch._chunks({"messageType": "DATA_MESSAGE"}, events)
    assert len(chunks) > 1
    assert all(len(c) <= 400 for c in chunks)
    decoded = [e for c in chunks for e in json.loads(gzip.decompress(c))["logEvents"]]
    assert decoded == events


def test_cross_account_delivery_via_destination_to_firehose_stream_is_gzip(unique, aws_client, destination, allow, log_group, put_events, local_aws):
    # Destination -> Firehose (S3, uncompressed): each S3 object is the raw gzip record(s).
    bucket = unique("fh")
    aws_client("s3").create_bucket(Bucket=bucket)
    name = unique("fh")
    firehose = aws_client("firehose")
    firehose.create_delivery_stream(
        DeliveryStreamName=name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={"RoleARN": "arn:aws:iam::%s:role/fh" % CENTRAL, "BucketARN": "arn:aws:s3:::%s" % bucket,
                                            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 1}})
    fh_arn = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]["DeliveryStreamARN"]
    arn = destination(unique("dest"), fh_arn, allow(MEMBER))
    group = unique("/fh")
    log_group(group, account_id=MEMBER).put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=arn)
    put_events(group, ["to firehose"], account_id=MEMBER)
    local_aws.flush()
    s3 = aws_client("s3")
    bodies = [s3.get_object(Bucket=bucket, Key=o["Key"])["Body"].read() for o in s3.list_objects_v2(Bucket=bucket).get("Contents", [])]
    messages = []
    decoder = json.JSONDecoder()
    for body in bodies:
        # Each Firehose record is one gzip member; S3 holds them back to back.
        text = gzip.decompress(body).decode("utf-8")
        pos = 0
        while pos < len(text):
            doc, pos = decoder.raw_decode(text, pos)
            messages.append(doc)
    types = sorted(m["messageType"] for m in messages)
    assert types == ["CONTROL_MESSAGE", "DATA_MESSAGE"], messages
    data = [m for m in messages if m["messageType"] == "DATA_MESSAGE"][0]
    assert data["owner"] == MEMBER and data["logEvents"][0]["message"] == "to firehose"
    control = [m for m in messages if m["messageType"] == "CONTROL_MESSAGE"][0]
    assert control["logEvents"][0]["message"] == "CWL CONTROL MESSAGE: Checking health of destination Firehose."


LAMBDA_CODE = '''
import base64, gzip, json, os
import boto3

def handler(event, context):
    payload = json.loads(gzip.decompress(base64.b64decode(event["awslogs"]["data"])))
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=payload["logEvents"][0]["id"], Body=json.dumps(payload))
    return {"ok": True}
'''


def test_direct_lambda_subscription_gets_the_awslogs_event(local_aws, aws_client, unique, log_group, put_events, grant):
    bucket = unique("lambda-sub")
    aws_client("s3").create_bucket(Bucket=bucket)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", LAMBDA_CODE)
    role = aws_client("iam").create_role(RoleName=unique("fn"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    grant(role)
    fn = aws_client("lambda").create_function(
        FunctionName=unique("sub"), Runtime="python3.11", Handler="handler.handler", Timeout=30,
        Role=role, Code={"ZipFile": buf.getvalue()},
        Environment={"Variables": {"BUCKET": bucket}})
    group = unique("/lambda")
    log_group(group).put_subscription_filter(logGroupName=group, filterName="to-lambda", filterPattern="ERROR",
                                             destinationArn=fn["FunctionArn"])
    put_events(group, ["INFO fine", "ERROR broken"])
    local_aws.flush()
    s3 = aws_client("s3")
    objects = s3.list_objects_v2(Bucket=bucket).get("Contents", [])
    assert len(objects) == 1
    payload = json.loads(s3.get_object(Bucket=bucket, Key=objects[0]["Key"])["Body"].read())
    assert payload["messageType"] == "DATA_MESSAGE"
    assert payload["owner"] == CENTRAL and payload["logGroup"] == group
    assert payload["subscriptionFilters"] == ["to-lambda"]
    assert [e["message"] for e in payload["logEvents"]] == ["ERROR broken"]
    assert re.fullmatch(r"[0-9]{56}", payload["logEvents"][0]["id"])


def test_a_subscription_loop_keeps_flush_bounded(local_aws, unique, log_group, put_events, aws_client):
    # A log group subscribed to itself (moto's log-group target) re-ingests every batch:
    # the recursion AWS warns about. Each pass delivers what was queued before it.
    group = unique("/loop")
    logs = log_group(group)
    arn = "arn:aws:logs:us-east-1:%s:log-group:%s:*" % (CENTRAL, group)
    logs.put_subscription_filter(logGroupName=group, filterName="self", filterPattern="", destinationArn=arn)
    from local_aws import hooks
    try:
        with hooks._PASS_LOCK:
            put_events(group, ["echo"])
            summary = local_aws.flush(max_passes=5)
        assert summary["settled"] is False
        assert summary["passes"] == 5
        assert summary["by_poller"]["local_aws.services.logs.deliver_pending"] == 5
    finally:
        logs.delete_subscription_filter(logGroupName=group, filterName="self")
    assert local_aws.flush()["settled"] is True
    assert len(aws_client("logs").filter_log_events(logGroupName=group)["events"]) >= 6


def test_a_throttled_destination_stream_gets_the_batch_again_and_nothing_is_lost(
        local_aws, subscribed, put_events, read_stream, monkeypatch):
    """Issue 15 (chaos): LOGVAULT_AWS_FAULTS kinesis:PutRecord on subscription delivery. AWS: "If the
    destination service returns a retryable error such as a throttling exception ..., CloudWatch Logs
    continues to retry delivery for up to 24 hours" (Subscriptions.html)."""
    from local_aws import faults  # pylint: disable=import-outside-toplevel
    stream, group = subscribed()
    local_aws.flush()  # the CONTROL_MESSAGE
    retries = logs_patch.delivery_retries()
    monkeypatch.setenv("LOGVAULT_AWS_FAULTS", "kinesis:PutRecord:ProvisionedThroughputExceededException:1")
    faults.reset()
    try:
        put_events(group, ["held", "back"])
        local_aws.flush(max_passes=3)
        assert _data(read_stream(stream)) == []  # every attempt throttled: nothing put, nothing dropped
        assert logs_patch.pending() == 1
        assert logs_patch.delivery_retries() >= retries + 3
    finally:
        monkeypatch.delenv("LOGVAULT_AWS_FAULTS")
        faults.reset()
    local_aws.flush()
    (record,) = _data(read_stream(stream))
    assert [e["message"] for e in record["payload"]["logEvents"]] == ["held", "back"]
    assert logs_patch.pending() == 0
