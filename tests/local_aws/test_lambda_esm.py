# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lambda without Docker and Kinesis -> Lambda event source mappings (issue 3, part 4;
scenario steps 5 and 6), through boto3 against the running emulator."""

import base64
import gzip
import io
import json
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import lambda_esm

# The test functions. Each is deployed as its own zip, built here in memory.

RECORDER = '''
import base64, gzip, json, os
import boto3

def handler(event, context):
    """Write what was received to S3 (decoding CloudWatch Logs payloads), then succeed
    -- or fail the way the test asks: raise on a poison record, or report it."""
    records = event["Records"]
    datas = [base64.b64decode(r["kinesis"]["data"]) for r in records]
    mode = os.environ.get("MODE", "ok")
    poison = [r["kinesis"]["sequenceNumber"] for r, d in zip(records, datas) if d.startswith(b"poison")]
    if poison and mode == "raise":
        raise RuntimeError("poison record(s) %s" % poison)
    if poison and mode == "report":
        return {"batchItemFailures": [{"itemIdentifier": s} for s in poison]}
    if mode == "report-unknown":
        return {"batchItemFailures": [{"itemIdentifier": "999999999"}]}
    decoded = []
    for data in datas:
        if data[:2] == b"\\x1f\\x8b":
            decoded.append(json.loads(gzip.decompress(data)))
        else:
            decoded.append(data.decode("utf-8"))
    body = {
        "sequenceNumbers": [r["kinesis"]["sequenceNumber"] for r in records],
        "decoded": decoded,
        "event": event,
        "env": {k: os.environ.get(k) for k in ("AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "GREETING",
                                               "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER")},
        "account": boto3.client("sts").get_caller_identity()["Account"],
        "remaining_ms": context.get_remaining_time_in_millis(),
    }
    key = "received/%s/%s.json" % (records[0]["kinesis"]["sequenceNumber"].zfill(8), context.aws_request_id)
    boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key=key, Body=json.dumps(body).encode("utf-8"))
    if mode == "report":
        return {"batchItemFailures": []}
    return None
'''

INVOKE_TARGET = '''
import os, time
import boto3

def handler(event, context):
    if event.get("raise"):
        raise ValueError("asked to fail: %s" % event["raise"])
    if event.get("sleep"):
        time.sleep(event["sleep"])
    print("hello from", context.function_name)
    return {
        "echo": event,
        "account": boto3.client("sts").get_caller_identity()["Account"],
        "greeting": os.environ.get("GREETING"),
        "endpoint": os.environ.get("AWS_ENDPOINT_URL"),
        "region": os.environ.get("AWS_REGION"),
        "function": context.function_name,
        "arn": context.invoked_function_arn,
    }
'''


def _zip(source, name="app.py"):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, source)
    return buf.getvalue()


@pytest.fixture()
def pipeline(aws_client, unique, grant):
    """A bucket, a stream and a factory for (function, mapping) pairs on that stream.

    Mappings and streams are deleted afterwards: the session's emulator is shared."""
    created = []

    class Pipeline(object):
        def __init__(self, account_id="123456789012"):
            created.append(self)
            self.mappings = []
            self.account_id = account_id
            self.lam = aws_client("lambda", account_id)
            self.s3 = aws_client("s3", account_id)
            self.kinesis = aws_client("kinesis", account_id)
            self.sqs = aws_client("sqs", account_id)
            self.iam = aws_client("iam", account_id)
            self.bucket = unique("received")
            self.s3.create_bucket(Bucket=self.bucket)
            self.stream = unique("stream")
            self.kinesis.create_stream(StreamName=self.stream, ShardCount=1)
            self.stream_arn = self.kinesis.describe_stream(StreamName=self.stream)["StreamDescription"]["StreamARN"]
            self.role = self.iam.create_role(RoleName=unique("fn-role"), AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }))["Role"]["Arn"]
            grant(self.role, account_id=account_id)

        def function(self, mode="ok", source=RECORDER, timeout=30, env=None):
            variables = {"BUCKET": self.bucket, "MODE": mode, "GREETING": "bonjour"}
            variables.update(env or {})
            return self.lam.create_function(
                FunctionName=unique("fn"), Runtime="python3.11", Role=self.role, Handler="app.handler",
                Code={"ZipFile": _zip(source)}, Timeout=timeout, Environment={"Variables": variables},
            )["FunctionArn"]

        def mapping(self, function_arn, **settings):
            settings.setdefault("StartingPosition", "TRIM_HORIZON")
            mapping = self.lam.create_event_source_mapping(FunctionName=function_arn, EventSourceArn=self.stream_arn, **settings)
            self.mappings.append(mapping["UUID"])
            return mapping

        def put(self, datas):
            seqs = []
            for data in datas:
                seqs.append(self.kinesis.put_record(StreamName=self.stream, Data=data, PartitionKey="pk")["SequenceNumber"])
            return seqs

        def received(self):
            """Every successful invocation's document, oldest batch first."""
            docs = []
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix="received/"):
                for obj in page.get("Contents", []):
                    body = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
                    docs.append(json.loads(body))
            return docs

        def processed(self):
            return [seq for doc in self.received() for seq in doc["sequenceNumbers"]]

    yield Pipeline
    for p in created:
        for mapping_uuid in p.mappings:
            try:
                p.lam.delete_event_source_mapping(UUID=mapping_uuid)
            except ClientError:
                pass
        try:
            p.kinesis.delete_stream(StreamName=p.stream, EnforceConsumerDeletion=True)
        except ClientError:
            pass


def _objects(s3, bucket, prefix=""):
    out = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out.append((obj["Key"], s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()))
    return out


# --------------------------------------------------------------------------- Invoke

def test_invoke_runs_the_zip_with_its_environment_and_account_credentials(aws_client, pipeline, member_account_ids, local_aws):
    member = pipeline(member_account_ids[0])
    arn = member.function(source=INVOKE_TARGET)
    assert arn.split(":")[4] == member_account_ids[0]
    resp = member.lam.invoke(FunctionName=arn, Payload=json.dumps({"hello": "world"}), LogType="Tail")
    assert resp["StatusCode"] == 200
    assert "FunctionError" not in resp
    result = json.loads(resp["Payload"].read())
    assert result["echo"] == {"hello": "world"}
    assert result["account"] == member_account_ids[0]  # credentials of the function's own account
    assert result["greeting"] == "bonjour"
    assert result["endpoint"] == local_aws.endpoint
    assert result["region"] == "us-east-1"
    assert result["arn"] == arn
    assert "hello from" in base64.b64decode(resp["LogResult"]).decode()
    # Lambda's log group gets START/END/REPORT plus the function's output.
    events = aws_client("logs", member_account_ids[0]).filter_log_events(
        logGroupName="/aws/lambda/%s" % arn.rsplit(":", 1)[-1])["events"]
    messages = [e["message"] for e in events]
    assert any(m.startswith("START RequestId") for m in messages)
    assert any("hello from" in m for m in messages)


def test_invoke_reports_unhandled_errors_and_timeouts(pipeline):
    p = pipeline()
    arn = p.function(source=INVOKE_TARGET, timeout=1)
    resp = p.lam.invoke(FunctionName=arn, Payload=json.dumps({"raise": "boom"}))
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(resp["Payload"].read())
    assert error["errorType"] == "ValueError"
    assert error["errorMessage"] == "asked to fail: boom"
    assert error["stackTrace"]

    started = time.time()
    resp = p.lam.invoke(FunctionName=arn, Payload=json.dumps({"sleep": 10}))
    assert time.time() - started < 9
    assert resp["FunctionError"] == "Unhandled"
    error = json.loads(resp["Payload"].read())
    assert "Task timed out after 1.00 seconds" in error["errorMessage"]


def test_invoke_dry_run_and_bad_handler(pipeline):
    p = pipeline()
    arn = p.function(source=INVOKE_TARGET)
    assert p.lam.invoke(FunctionName=arn, InvocationType="DryRun")["StatusCode"] == 204
    broken = p.lam.create_function(FunctionName=arn.rsplit(":", 1)[-1] + "-broken", Runtime="python3.11", Role=p.role,
                                   Handler="nosuchmodule.handler", Code={"ZipFile": _zip(INVOKE_TARGET)})["FunctionArn"]
    resp = p.lam.invoke(FunctionName=broken, Payload=b"{}")
    assert resp["FunctionError"] == "Unhandled"
    assert json.loads(resp["Payload"].read())["errorType"] == "Runtime.ImportModuleError"


def test_event_invocations_run_on_flush_and_layers_are_importable(pipeline, local_aws, unique):
    p = pipeline()
    layer = io.BytesIO()
    with zipfile.ZipFile(layer, "w") as archive:
        archive.writestr("python/shared_helper.py", "def tag():\n    return 'from-layer'\n")
    layer_arn = p.lam.publish_layer_version(LayerName=unique("layer"), Content={"ZipFile": layer.getvalue()},
                                            CompatibleRuntimes=["python3.11"])["LayerVersionArn"]
    source = (
        "import json, os, boto3, shared_helper\n"
        "def handler(event, context):\n"
        "    boto3.client('s3').put_object(Bucket=os.environ['BUCKET'], Key='received/async.json',\n"
        "        Body=json.dumps({'sequenceNumbers': [], 'tag': shared_helper.tag(), 'event': event}).encode())\n"
    )
    fn = p.lam.create_function(FunctionName=unique("async"), Runtime="python3.11", Role=p.role, Handler="app.handler",
                               Code={"ZipFile": _zip(source)}, Layers=[layer_arn], Timeout=30,
                               Environment={"Variables": {"BUCKET": p.bucket}})["FunctionArn"]
    resp = p.lam.invoke(FunctionName=fn, InvocationType="Event", Payload=json.dumps({"async": True}))
    assert resp["StatusCode"] == 202
    local_aws.flush()
    (doc,) = p.received()
    assert doc["tag"] == "from-layer"
    assert doc["event"] == {"async": True}


# --------------------------------------------------------------------------- scenario step 5

def test_step5_mapping_runs_the_zip_and_writes_what_it_received_to_s3(pipeline, local_aws):
    p = pipeline()
    # CloudWatch Logs subscription payloads, as they arrive on the central stream.
    payloads = []
    for i in range(3):
        doc = {"messageType": "DATA_MESSAGE", "owner": "111111111111", "logGroup": "/app/web", "logStream": "i-%d" % i,
               "subscriptionFilters": ["to-central"], "logEvents": [{"id": str(i), "timestamp": 1700000000000 + i, "message": "event %d" % i}]}
        payloads.append(gzip.compress(json.dumps(doc).encode()))
    seqs = p.put(payloads)
    arn = p.function()
    mapping = p.mapping(arn, BatchSize=100)
    assert mapping["State"] in ("Creating", "Enabled")
    local_aws.flush()
    docs = p.received()
    assert [s for d in docs for s in d["sequenceNumbers"]] == seqs
    doc = docs[0]
    assert [d["logEvents"][0]["message"] for d in doc["decoded"]] == ["event 0", "event 1", "event 2"]
    record = doc["event"]["Records"][0]
    assert record["eventSource"] == "aws:kinesis"
    assert record["eventVersion"] == "1.0"
    assert record["eventName"] == "aws:kinesis:record"
    assert record["eventSourceARN"] == p.stream_arn
    assert record["awsRegion"] == "us-east-1"
    assert record["invokeIdentityArn"] == p.role
    assert record["eventID"] == "shardId-000000000000:%s" % seqs[0]
    assert record["kinesis"]["kinesisSchemaVersion"] == "1.0"
    assert record["kinesis"]["partitionKey"] == "pk"
    assert record["kinesis"]["sequenceNumber"] == seqs[0]
    assert base64.b64decode(record["kinesis"]["data"]) == payloads[0]
    assert abs(record["kinesis"]["approximateArrivalTimestamp"] - time.time()) < 120
    assert doc["env"]["AWS_ENDPOINT_URL"] == local_aws.endpoint
    assert doc["env"]["AWS_DEFAULT_REGION"] == "us-east-1"
    assert doc["env"]["GREETING"] == "bonjour"
    assert doc["env"]["_HANDLER"] == "app.handler"
    assert doc["account"] == "123456789012"
    assert 0 < doc["remaining_ms"] <= 30000
    described = p.lam.get_event_source_mapping(UUID=mapping["UUID"])
    assert described["LastProcessingResult"] == "OK"


def test_steps_1_to_5_member_log_events_reach_the_lambda(pipeline, aws_client, local_aws, unique, member_account_ids):
    """The whole chain: member log group -> central destination -> stream -> mapping -> Lambda -> S3."""
    p = pipeline()
    member = member_account_ids[0]
    central_logs = aws_client("logs")
    destination = central_logs.put_destination(
        destinationName=unique("dest"), targetArn=p.stream_arn, roleArn=p.role)["destination"]["arn"]
    central_logs.put_destination_policy(destinationName=destination.rsplit(":", 1)[-1], accessPolicy=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"AWS": member}, "Action": "logs:PutSubscriptionFilter",
                       "Resource": destination}],
    }))
    p.mapping(p.function(), BatchSize=100)
    logs = aws_client("logs", member)
    group = unique("/app/e2e")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s1")
    logs.put_subscription_filter(logGroupName=group, filterName="to-central", filterPattern="", destinationArn=destination)
    now = int(time.time() * 1000)
    logs.put_log_events(logGroupName=group, logStreamName="s1", logEvents=[
        {"timestamp": now, "message": "login failed for alice"}, {"timestamp": now + 1, "message": "login ok for bob"}])
    local_aws.flush()
    decoded = [d for doc in p.received() for d in doc["decoded"]]
    data = [d for d in decoded if d["messageType"] == "DATA_MESSAGE"]
    assert [e["message"] for d in data for e in d["logEvents"]] == ["login failed for alice", "login ok for bob"]
    assert data[0]["owner"] == member
    assert data[0]["logGroup"] == group
    assert [d["messageType"] for d in decoded].count("CONTROL_MESSAGE") == 1


def test_batch_size_splits_the_stream_into_batches(pipeline, local_aws):
    p = pipeline()
    seqs = p.put([b"r%d" % i for i in range(7)])
    p.mapping(p.function(), BatchSize=3)
    local_aws.flush()
    docs = sorted(p.received(), key=lambda d: int(d["sequenceNumbers"][0]))
    assert [d["sequenceNumbers"] for d in docs] == [seqs[0:3], seqs[3:6], seqs[6:7]]


def test_latest_skips_existing_records_and_trim_horizon_reads_them(pipeline, local_aws):
    p = pipeline()
    old = p.put([b"old-1", b"old-2"])
    latest = p.mapping(p.function(), StartingPosition="LATEST")
    p2 = pipeline()
    p2.stream, p2.stream_arn = p.stream, p.stream_arn
    p2.mapping(p2.function(), StartingPosition="TRIM_HORIZON")
    new = p.put([b"new-1"])
    local_aws.flush()
    assert p.processed() == new
    assert p2.processed() == old + new
    assert p.lam.get_event_source_mapping(UUID=latest["UUID"])["StartingPosition"] == "LATEST"


def test_batching_window_waits_and_flush_ignores_it(pipeline, local_aws):
    p = pipeline()
    p.mapping(p.function(), BatchSize=100, MaximumBatchingWindowInSeconds=300)
    seqs = p.put([b"a", b"b"])
    lambda_esm.poll(force=False)  # what the background poller does: wait for the window
    assert p.processed() == []
    local_aws.flush()  # flush delivers now
    assert p.processed() == seqs


def test_background_poller_delivers_without_flush(pipeline):
    p = pipeline()
    p.mapping(p.function())
    seqs = p.put([b"async-1", b"async-2"])
    deadline = time.time() + 60
    while p.processed() != seqs and time.time() < deadline:
        time.sleep(0.5)
    assert p.processed() == seqs


def test_disabled_mapping_does_not_poll_until_enabled(pipeline, local_aws):
    p = pipeline()
    mapping = p.mapping(p.function(), Enabled=False)
    seqs = p.put([b"x"])
    local_aws.flush()
    assert p.processed() == []
    assert p.lam.get_event_source_mapping(UUID=mapping["UUID"])["State"] == "Disabled"
    p.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    local_aws.flush()
    assert p.processed() == seqs


# --------------------------------------------------------------------------- scenario step 6

def _failure_documents(p, mapping_uuid):
    docs = []
    for key, body in _objects(p.s3, p.dlq, "aws/lambda/%s/" % mapping_uuid):
        docs.append((key, json.loads(body)))
    return docs


def test_step6_failing_batch_is_retried_bisected_and_kept_in_s3_with_nothing_lost(pipeline, local_aws, unique):
    p = pipeline()
    p.dlq = unique("dlq")
    p.s3.create_bucket(Bucket=p.dlq)
    datas = [b"good-%d" % i for i in range(10)]
    datas[6] = b"poison-6"
    seqs = p.put(datas)
    fn = p.function(mode="raise")
    mapping = p.mapping(fn, BatchSize=10, BisectBatchOnFunctionError=True, MaximumRetryAttempts=2,
                        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % p.dlq}})
    local_aws.flush()

    processed = p.processed()
    failures = _failure_documents(p, mapping["UUID"])
    assert len(failures) == 1
    key, doc = failures[0]
    # Key layout: aws/lambda/<ESM-UUID>/<shardID>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>
    parts = key.split("/")
    assert parts[:4] == ["aws", "lambda", mapping["UUID"], "shardId-000000000000"]
    assert len(parts) == 8 and len(parts[4]) == 4 and len(parts[5]) == 2 and len(parts[6]) == 2
    assert parts[7][:10] == "-".join(parts[4:7]) and parts[7][10] == "T" and parts[7][13] == "."
    # Bisection isolated the poison record: only it was discarded.
    info = doc["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == seqs[6]
    assert info["batchSize"] == 1
    assert info["shardId"] == "shardId-000000000000"
    assert info["streamArn"] == p.stream_arn
    assert info["approximateArrivalOfFirstRecord"].endswith("Z")
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["functionArn"] == fn
    # 1 call for the whole batch, 2 bisections above it, then 1 + 2 retries for the record itself.
    assert doc["requestContext"]["approximateInvokeCount"] == 6
    assert doc["responseContext"] == {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"}
    assert doc["version"] == "1.0"
    payload = json.loads(doc["payload"])  # S3 keeps the whole invocation record
    assert [base64.b64decode(r["kinesis"]["data"]) for r in payload["Records"]] == [b"poison-6"]
    # Nothing lost: every input is either processed or inside a failure record.
    in_failures = [r["kinesis"]["sequenceNumber"] for _key, d in failures for r in json.loads(d["payload"])["Records"]]
    assert sorted(set(processed) | set(in_failures), key=int) == seqs
    assert set(processed) == set(seqs) - {seqs[6]}
    # ... and processing continued after the discarded batch.
    more = p.put([b"after"])
    local_aws.flush()
    assert more[0] in p.processed()


def test_step6_reported_item_failures_checkpoint_and_sqs_gets_metadata(pipeline, local_aws, unique):
    p = pipeline()
    queue_url = p.sqs.create_queue(QueueName=unique("dlq"))["QueueUrl"]
    queue_arn = p.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    datas = [b"good-%d" % i for i in range(6)]
    datas[3] = b"poison-3"
    datas[5] = b"poison-5"  # two reported failures: the LOWEST one is the checkpoint
    seqs = p.put(datas)
    fn = p.function(mode="report")
    mapping = p.mapping(fn, BatchSize=6, FunctionResponseTypes=["ReportBatchItemFailures"], MaximumRetryAttempts=1,
                        DestinationConfig={"OnFailure": {"Destination": queue_arn}})
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    local_aws.flush()
    # The records before the lowest reported failure were checkpointed once: no invocation
    # reported them as failed, and the retry started at the failed sequence number.
    messages = p.sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    assert len(messages) == 1
    doc = json.loads(messages[0]["Body"])
    assert "payload" not in doc  # SQS gets the metadata only
    assert set(doc) == {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo"}
    info = doc["KinesisBatchInfo"]
    assert info["startSequenceNumber"] == seqs[3]
    assert info["endSequenceNumber"] == seqs[5]
    assert info["batchSize"] == 3
    assert set(info) == {"shardId", "startSequenceNumber", "endSequenceNumber", "approximateArrivalOfFirstRecord",
                         "approximateArrivalOfLastRecord", "batchSize", "streamArn"}
    assert doc["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert doc["requestContext"]["approximateInvokeCount"] == 2
    assert set(doc["requestContext"]) == {"requestId", "functionArn", "condition", "approximateInvokeCount"}
    # A report is not a function error.
    assert "functionError" not in doc["responseContext"]
    # The function only reports; it never wrote a batch containing the poison record.
    assert p.processed() == []
    state = lambda_esm.mapping_state(mapping["UUID"])
    assert state.discarded == [{"shardId": "shardId-000000000000", "condition": "RetryAttemptsExhausted",
                                "sequenceNumbers": seqs[3:]}]
    assert state.shards["shardId-000000000000"].checkpoint == int(seqs[-1])


def test_report_with_unknown_identifier_fails_the_whole_batch(pipeline, local_aws, unique):
    p = pipeline()
    p.dlq = unique("dlq")
    p.s3.create_bucket(Bucket=p.dlq)
    seqs = p.put([b"a", b"b", b"c"])
    mapping = p.mapping(p.function(mode="report-unknown"), FunctionResponseTypes=["ReportBatchItemFailures"],
                        MaximumRetryAttempts=0, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % p.dlq}})
    local_aws.flush()
    failures = _failure_documents(p, mapping["UUID"])
    assert len(failures) == 1
    assert failures[0][1]["KinesisBatchInfo"]["batchSize"] == 3
    assert [r["kinesis"]["sequenceNumber"] for r in json.loads(failures[0][1]["payload"])["Records"]] == seqs


def test_maximum_record_age_discards_old_records_to_on_failure(pipeline, local_aws, unique):
    from moto.kinesis.models import kinesis_backends

    p = pipeline()
    p.dlq = unique("dlq")
    p.s3.create_bucket(Bucket=p.dlq)
    mapping = p.mapping(p.function(), Enabled=False, MaximumRecordAgeInSeconds=60,
                        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % p.dlq}})
    old = p.put([b"old-1", b"old-2"])
    # Age the first two records by two minutes (test manipulation of the emulator's state).
    shard = kinesis_backends["123456789012"]["us-east-1"].streams[p.stream].shards["shardId-000000000000"]
    for seq in old:
        shard.records[int(seq)].created_at -= 120
    new = p.put([b"new-1"])
    p.lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=True)
    local_aws.flush()
    assert p.processed() == new
    failures = _failure_documents(p, mapping["UUID"])
    assert len(failures) == 1
    doc = failures[0][1]
    assert doc["requestContext"]["condition"] == "RecordAgeExceeded"
    assert doc["requestContext"]["approximateInvokeCount"] == 0
    assert [r["kinesis"]["sequenceNumber"] for r in json.loads(doc["payload"])["Records"]] == old


def test_infinite_retries_block_the_shard_without_blocking_flush(pipeline, local_aws):
    p = pipeline()
    seqs = p.put([b"poison", b"good"])
    mapping = p.mapping(p.function(mode="raise"))  # MaximumRetryAttempts defaults to -1 (infinite)
    summary = local_aws.flush()
    assert summary["settled"] is True
    assert p.processed() == []
    state = lambda_esm.mapping_state(mapping["UUID"])
    assert state.shards["shardId-000000000000"].checkpoint == 0
    assert [str(r.sequence_number) for r in state.shards["shardId-000000000000"].pending[0].records] == seqs
    assert p.lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "PROBLEM: Function call failed"


@pytest.mark.parametrize("settings, message", [
    ({"StartingPosition": None}, "StartingPosition is required"),
    ({"StartingPosition": "EARLIEST"}, "StartingPosition must be one of"),
    ({"MaximumRecordAgeInSeconds": 30}, "MaximumRecordAgeInSeconds must be -1 or between 60 and 604800"),
    ({"FunctionResponseTypes": ["ReportItemFailures"]}, "FunctionResponseTypes may only contain"),
    ({"DestinationConfig": {"OnFailure": {"Destination": "arn:aws:lambda:us-east-1:123456789012:function:x"}}},
     "DestinationConfig.OnFailure.Destination must be"),
])
def test_invalid_mapping_settings_are_rejected_before_anything_is_stored(pipeline, settings, message):
    p = pipeline()
    fn = p.function()
    params = {"FunctionName": fn, "EventSourceArn": p.stream_arn, "StartingPosition": "TRIM_HORIZON"}
    params.update(settings)
    params = {k: v for k, v in params.items() if v is not None}
    with pytest.raises(ClientError) as caught:
        p.lam.create_event_source_mapping(**params)
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"
    assert message in caught.value.response["Error"]["Message"]
    assert p.lam.list_event_source_mappings(FunctionName=fn)["EventSourceMappings"] == []


def test_a_throttled_get_records_is_read_again_from_the_same_position(pipeline, local_aws, monkeypatch):
    """Issue 15 (chaos): LOGVAULT_AWS_FAULTS kinesis:GetRecords throttles the mapping's reads; the
    records stay in the shard and the next poll reads them from the same checkpoint."""
    from local_aws import faults  # pylint: disable=import-outside-toplevel
    from local_aws.services import lambda_esm  # pylint: disable=import-outside-toplevel
    p = pipeline()
    seqs = p.put([b"one", b"two", b"three"])
    throttled = lambda_esm.throttled_reads()
    monkeypatch.setenv("LOGVAULT_AWS_FAULTS", "kinesis:GetRecords:ProvisionedThroughputExceededException:1")
    faults.reset()
    try:
        p.mapping(p.function(), BatchSize=100)
        local_aws.flush(max_passes=3)
        assert p.received() == []
        assert lambda_esm.throttled_reads() >= throttled + 3
    finally:
        monkeypatch.delenv("LOGVAULT_AWS_FAULTS")
        faults.reset()
    local_aws.flush()
    assert [s for d in p.received() for s in d["sequenceNumbers"]] == seqs
