# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The transform Lambda's deployed zip on the local AWS emulator (issue 7).

Member account log group -> subscription filter -> central destination -> Kinesis ->
event source mapping (ReportBatchItemFailures, bisect) -> the zip built from
roles/central_account/files/transform_lambda -> Firehose ``search`` (OpenSearch
destination, S3 backup AllDocuments) and Firehose ``archive`` (extended S3, GZIP).
Raw records put on the stream add a control message, a malformed record and a
recursion-guarded log group. Firehose partial failures are injected on ``search``.
"""

import base64
import gzip
import io
import json
import os
import zipfile

import pytest

from local_aws.services import firehose as firehose_service

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAMBDA_DIR = os.path.join(REPO, "roles", "central_account", "files", "transform_lambda")
CENTRAL, MEMBER = "123456789012", "111111111111"


def _zip_lambda_dir():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(os.listdir(LAMBDA_DIR)):
            if name.endswith(".py"):
                archive.write(os.path.join(LAMBDA_DIR, name), name)
    data = buf.getvalue()
    assert "logvault_transform.py" in zipfile.ZipFile(io.BytesIO(data)).namelist()
    return data


def _payload(events, group, stream="raw-stream", owner=MEMBER, message_type="DATA_MESSAGE"):
    body = {"messageType": message_type, "owner": owner, "logGroup": group, "logStream": stream,
            "subscriptionFilters": ["raw"], "logEvents": events}
    return gzip.compress(json.dumps(body).encode("utf-8"))


def _objects(s3, bucket, prefix):
    out = {}
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            out[obj["Key"]] = s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
    return out


def _ndjson(objects):
    docs = []
    for key in sorted(objects):
        text = gzip.decompress(objects[key]).decode("utf-8")
        assert text.endswith("\n"), key
        docs.extend(json.loads(line) for line in text.splitlines())
    return docs


def test_deployed_zip_delivers_to_search_backup_and_archive(local_aws, aws_client, unique, kinesis_stream, destination,
                                                            allow, log_group, put_events, grant):
    s3, lam, iam = aws_client("s3"), aws_client("lambda"), aws_client("iam")
    fh, kinesis = aws_client("firehose"), aws_client("kinesis")
    stream = unique("hub")
    stream_arn = kinesis_stream(stream)
    search_bucket, archive_bucket, dlq_bucket = unique("search-backup"), unique("archive"), unique("dlq")
    for bucket in (search_bucket, archive_bucket, dlq_bucket):
        s3.create_bucket(Bucket=bucket)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = grant(iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"])
    search, archive = unique("search"), unique("archive")
    fh.create_delivery_stream(
        DeliveryStreamName=search,
        AmazonopensearchserviceDestinationConfiguration={
            "RoleARN": role, "DomainARN": "arn:aws:es:us-east-1:%s:domain/logvault" % CENTRAL, "IndexName": "logs",
            "IndexRotationPeriod": "OneDay", "S3BackupMode": "AllDocuments",
            "S3Configuration": {"RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % search_bucket, "Prefix": "backup/",
                                "ErrorOutputPrefix": "failed/", "CompressionFormat": "GZIP"}},
        # the first PutRecordBatch on search answers 200 with entries 1 and 3 failed
        Tags=[{"Key": firehose_service.FAILURE_TAG, "Value": "1+3"}])
    fh.create_delivery_stream(
        DeliveryStreamName=archive,
        ExtendedS3DestinationConfiguration={
            "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % archive_bucket, "CompressionFormat": "GZIP",
            "Prefix": "logs/!{timestamp:yyyy/MM/dd}/", "ErrorOutputPrefix": "errors/!{firehose:error-output-type}/",
            "BufferingHints": {"SizeInMBs": 128, "IntervalInSeconds": 900}})
    function_name = unique("logvault-transform")
    function_arn = lam.create_function(
        FunctionName=function_name, Runtime="python3.12", Role=role, Handler="logvault_transform.handler",
        Code={"ZipFile": _zip_lambda_dir()}, Timeout=60, MemorySize=1024,
        Environment={"Variables": {
            "LOGVAULT_SEARCH_STREAM": search, "LOGVAULT_ARCHIVE_STREAM": archive, "LOGVAULT_DLQ_BUCKET": dlq_bucket,
            "LOGVAULT_EXCLUDED_LOG_GROUPS": "/aws/lambda/%s,/logvault/*" % function_name,
            "LOGVAULT_MAX_WORKERS": "4", "LOGVAULT_BACKOFF_BASE_MS": "10"}})["FunctionArn"]

    # Real subscription payloads: a member account's log group through the central destination.
    destination_arn = destination(unique("dest"), stream_arn, allow(MEMBER, actions=("logs:PutSubscriptionFilter",)))
    group = unique("/app/orders")
    logs = log_group(group, account_id=MEMBER)
    logs.put_subscription_filter(logGroupName=group, filterName="to-central", filterPattern="", destinationArn=destination_arn)
    messages = ['{"level":"INFO","msg":"order 1 paid","user":"józef"}', "GET /health 200 — ✓", " ",
                '{"level":"ERROR","account_id":"999999999999","log_group":"spoofed"}']
    put_events(group, messages, account_id=MEMBER)
    # Raw records: a malformed one, a recursion-guarded group, and a large batch of events.
    bad_sequence = kinesis.put_record(StreamName=stream, Data=b"definitely not gzip", PartitionKey="bad")["SequenceNumber"]
    kinesis.put_record(StreamName=stream, PartitionKey="self", Data=_payload(
        [{"id": "s1", "timestamp": 1764227295000, "message": "the pipeline's own log"}], "/logvault/transform",
        owner=CENTRAL))  # the recursion guard only drops the central account's own groups
    bulk = [{"id": "b%d" % i, "timestamp": 1764227295000 + i, "message": "bulk event %d" % i} for i in range(700)]
    kinesis.put_record(StreamName=stream, PartitionKey="bulk", Data=_payload(bulk, "/app/bulk"))

    mapping = lam.create_event_source_mapping(
        FunctionName=function_arn, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=100,
        FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=True, MaximumRetryAttempts=3,
        MaximumRecordAgeInSeconds=3600, DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % dlq_bucket}})
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    local_aws.flush()
    local_aws.flush()

    search_docs = _ndjson(_objects(s3, search_bucket, "backup/"))
    archive_docs = _ndjson(_objects(s3, archive_bucket, "logs/"))
    assert _objects(s3, search_bucket, "failed/") == {}
    assert _objects(s3, archive_bucket, "errors/") == {}

    member_docs = [d for d in search_docs if d["log_group"] == group]
    assert [d["message"] for d in member_docs] == messages
    for doc in member_docs:
        assert doc["account_id"] == MEMBER and doc["region"] == "us-east-1"
        assert doc["log_stream"] == "stream-1" and doc["subscription_filters"] == ["to-central"]
        assert doc["@timestamp"].endswith("Z") and len(doc["@timestamp"]) == 24
    assert member_docs[0]["fields"] == {"level": "INFO", "msg": "order 1 paid", "user": "józef"}
    assert member_docs[3]["fields"]["account_id"] == "999999999999" and member_docs[3]["account_id"] == MEMBER
    assert "fields" not in member_docs[1]

    # every event exactly once in each output (the injected failures were retried, only them)
    expected_ids = sorted([d["event_id"] for d in member_docs] + ["b%d" % i for i in range(700)])
    assert sorted(d["event_id"] for d in search_docs) == expected_ids
    assert sorted(d["event_id"] for d in archive_docs) == expected_ids
    assert not [d for d in search_docs + archive_docs if d["log_group"].startswith("/logvault/")]

    # the malformed record is kept raw in the dead-letter bucket, under its shard and sequence number
    dead = _objects(s3, dlq_bucket, "malformed/")
    assert list(dead) == ["malformed/%s/shardId-000000000000/%s" % (stream, bad_sequence)]
    assert list(dead.values()) == [b"definitely not gzip"]

    # one EMF line per invocation in the function's log group; the retries are counted. The
    # per-account volume lines (dimension Account: AccountEvents, AccountBytes) are checked too.
    events = aws_client("logs").filter_log_events(logGroupName="/aws/lambda/%s" % function_name)["events"]
    emf = [json.loads(e["message"]) for e in events if e["message"].startswith('{"_aws"')]
    lines = [line for line in emf if "Account" not in line]
    per_account = [line for line in emf if "Account" in line]
    assert lines, [e["message"] for e in events]
    assert sum(line["AccountEvents"] for line in per_account if line["Account"] == MEMBER) == len(expected_ids)
    assert sum(line["Retries"] for line in lines) == 2
    assert sum(line["MalformedRecords"] for line in lines) == 1
    assert sum(line["RecursionDrops"] for line in lines) == 1
    assert sum(line["ControlMessages"] for line in lines) == 1
    assert sum(line["Documents"] for line in lines) == len(expected_ids)
    assert all(line["Failures"] == 0 for line in lines)
    assert base64  # (kept for readers decoding records by hand)


def test_lean_firehose_client_against_the_emulator(local_aws, aws_client, unique, grant):
    """LeanFirehose speaks the same PutRecordBatch as boto3: records arrive, errors keep their AWS code."""
    import sys  # pylint: disable=import-outside-toplevel

    if LAMBDA_DIR not in sys.path:
        sys.path.insert(0, LAMBDA_DIR)
    import logvault_transform  # pylint: disable=import-outside-toplevel

    import botocore.exceptions  # pylint: disable=import-outside-toplevel

    fh, s3, iam = aws_client("firehose"), aws_client("s3"), aws_client("iam")
    bucket, name = unique("lean"), unique("lean")
    s3.create_bucket(Bucket=bucket)
    role = grant(iam.create_role(RoleName=unique("lean-role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    fh.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % bucket},
        Tags=[{"Key": firehose_service.FAILURE_TAG, "Value": "1"}])
    import local_aws as package  # pylint: disable=import-outside-toplevel
    from botocore.credentials import Credentials  # pylint: disable=import-outside-toplevel

    creds = package.credentials(CENTRAL, endpoint=local_aws.endpoint, region=fh.meta.region_name)
    lean = logvault_transform.LeanFirehose(fh, credentials=Credentials(
        creds["aws_access_key_id"], creds["aws_secret_access_key"], creds.get("aws_session_token")))
    answer = lean.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"a\n"}, {"Data": "é\n".encode()}])
    assert answer["FailedPutCount"] == 1
    assert "RecordId" in answer["RequestResponses"][0]
    assert answer["RequestResponses"][1]["ErrorCode"] == "ServiceUnavailableException"
    assert lean.put_record_batch(DeliveryStreamName=name, Records=[{"Data": "é\n".encode()}])["FailedPutCount"] == 0
    with pytest.raises(botocore.exceptions.ClientError) as caught:
        lean.put_record_batch(DeliveryStreamName=unique("missing"), Records=[{"Data": b"x"}])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    local_aws.flush()
    assert list(_objects(s3, bucket, "").values()) == ["a\né\n".encode("utf-8")]


def test_search_outage_loses_nothing(local_aws, aws_client, unique, kinesis_stream, grant):
    """The search stream does not exist: every batch reports its first record as failed, the
    mapping retries, then hands the whole range to the on-failure bucket; the archive still
    gets every event (at least once). Nothing is lost silently."""
    s3, lam, iam, fh, kinesis = (aws_client(name) for name in ("s3", "lambda", "iam", "firehose", "kinesis"))
    stream = unique("hub")
    stream_arn = kinesis_stream(stream)
    archive_bucket, dlq_bucket = unique("archive"), unique("dlq")
    for bucket in (archive_bucket, dlq_bucket):
        s3.create_bucket(Bucket=bucket)
    role = grant(iam.create_role(RoleName=unique("role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    archive, search = unique("archive"), unique("missing-search")
    fh.create_delivery_stream(DeliveryStreamName=archive, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % archive_bucket, "CompressionFormat": "GZIP", "Prefix": "logs/"})
    function_arn = lam.create_function(
        FunctionName=unique("logvault-transform"), Runtime="python3.12", Role=role, Handler="logvault_transform.handler",
        Code={"ZipFile": _zip_lambda_dir()}, Timeout=60,
        Environment={"Variables": {"LOGVAULT_SEARCH_STREAM": search, "LOGVAULT_ARCHIVE_STREAM": archive,
                                   "LOGVAULT_DLQ_BUCKET": dlq_bucket, "LOGVAULT_MAX_ATTEMPTS": "2",
                                   "LOGVAULT_BACKOFF_BASE_MS": "1"}})["FunctionArn"]
    sequences, event_ids = [], []
    for i in range(5):
        events = [{"id": "o%d-%d" % (i, j), "timestamp": 1764227295000 + j, "message": "outage %d %d" % (i, j)} for j in range(3)]
        event_ids.extend(e["id"] for e in events)
        sequences.append(kinesis.put_record(StreamName=stream, PartitionKey="k", Data=_payload(events, "/app/outage"))["SequenceNumber"])
    mapping = lam.create_event_source_mapping(
        FunctionName=function_arn, EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", BatchSize=10,
        FunctionResponseTypes=["ReportBatchItemFailures"], BisectBatchOnFunctionError=True, MaximumRetryAttempts=1,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % dlq_bucket}})
    local_aws.flush()
    local_aws.flush()

    kept = set()
    on_failure = _objects(s3, dlq_bucket, "aws/lambda/%s/" % mapping["UUID"])
    for key, body in on_failure.items():
        # AWS's documented shape and name: aws/lambda/<uuid>/<shard>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<uuid>
        document = json.loads(body)
        assert set(document) >= {"requestContext", "responseContext", "version", "timestamp", "KinesisBatchInfo", "payload"}
        assert document["requestContext"]["functionArn"] == function_arn
        assert key.split("/")[3] == document["KinesisBatchInfo"]["shardId"] and len(key.split("/")) == 8
        kept.update(r["kinesis"]["sequenceNumber"] for r in json.loads(document["payload"])["Records"])
    assert kept == set(sequences)
    archived = [d["event_id"] for d in _ndjson(_objects(s3, archive_bucket, "logs/"))]
    assert set(archived) == set(event_ids)
    assert not _objects(s3, dlq_bucket, "malformed/")

    # The outage ends; playbooks/redrive.yml feeds the discarded batches through the function again.
    lam.update_event_source_mapping(UUID=mapping["UUID"], Enabled=False)
    search_bucket = unique("search-backup")
    s3.create_bucket(Bucket=search_bucket)
    fh.create_delivery_stream(DeliveryStreamName=search, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % search_bucket, "CompressionFormat": "GZIP", "Prefix": "docs/"})
    check = _redrive(local_aws, dlq_bucket, "--check")
    assert "would be redriven (check mode): %d" % len(on_failure) in check, check
    assert "%d on-failure object(s) in range" % len(on_failure) in check, check
    assert all(not s3.get_object_tagging(Bucket=dlq_bucket, Key=key)["TagSet"] for key in on_failure)
    assert "0 on-failure object(s) in range" in _redrive(local_aws, dlq_bucket, "-e", "redrive_until=2000-01-01")
    out = _redrive(local_aws, dlq_bucket)
    assert "redriven now: %d" % len(on_failure) in out, out
    for key in on_failure:
        tags = {t["Key"]: t["Value"] for t in s3.get_object_tagging(Bucket=dlq_bucket, Key=key)["TagSet"]}
        assert "logvault-redriven" in tags
    assert set(_objects(s3, dlq_bucket, "aws/lambda/")) == set(on_failure)  # marked, never deleted
    local_aws.flush()
    assert {d["event_id"] for d in _ndjson(_objects(s3, search_bucket, "docs/"))} == set(event_ids)
    assert "redriven now: 0" in _redrive(local_aws, dlq_bucket)  # each object once


def _redrive(local_aws, dlq_bucket, *extra):
    """Run playbooks/redrive.yml against the emulator with the installed collection (make collection)."""
    import subprocess  # pylint: disable=import-outside-toplevel
    import sys  # pylint: disable=import-outside-toplevel

    collections = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
    if not os.path.isfile(os.path.join(collections, "ansible_collections", "logvault", "aws", "MANIFEST.json")):
        pytest.fail("the collection is not installed: run make collection")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=collections, ANSIBLE_NOCOLOR="1", AWS_ACCESS_KEY_ID="testing",
               AWS_SECRET_ACCESS_KEY="testing", ANSIBLE_STDOUT_CALLBACK="default")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i",
               os.path.join(REPO, "inventories", "local"), os.path.join(REPO, "playbooks", "redrive.yml"),
               "-e", "logvault_aws_endpoint_url=%s" % local_aws.endpoint,
               "-e", "central_account_dead_letter_bucket_name=%s" % dlq_bucket] + list(extra)
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    return done.stdout
