# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service rules moto lacks (docs/local-aws.md, "Service rules"): Kinesis and Firehose
size limits, UpdateTimeToLive once an hour, Object Lock integrity headers."""

import hashlib
import base64

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

from local_aws.services import dynamodb_ttl

MIB = 1024 * 1024


def _error(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


# --------------------------------------------------------------------------- Kinesis

@pytest.fixture()
def stream(aws_client, kinesis_stream, unique):
    name = unique("limits")
    kinesis_stream(name)
    return name


def test_kinesis_put_record_counts_data_plus_partition_key(aws_client, stream):
    kinesis = aws_client("kinesis")
    # exactly 1 MiB with the partition key: accepted
    kinesis.put_record(StreamName=stream, Data=b"x" * (MIB - 2), PartitionKey="pk")
    with pytest.raises(ClientError) as caught:
        kinesis.put_record(StreamName=stream, Data=b"x" * (MIB - 1), PartitionKey="pk")
    code, message = _error(caught)
    assert code == "ValidationException"
    assert message == ("1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1048577 cap=1048577]' "
                       "at 'data' failed to satisfy constraint: Member must have length less than or equal to 1048576")


def test_kinesis_put_records_limits(aws_client, stream):
    kinesis = aws_client("kinesis")
    with pytest.raises(ClientError) as caught:
        kinesis.put_records(StreamName=stream, Records=[{"Data": b"x", "PartitionKey": "p"}] * 501)
    assert _error(caught)[0] == "ValidationException"
    big = {"Data": b"x" * MIB, "PartitionKey": "p"}
    with pytest.raises(ClientError) as caught:
        kinesis.put_records(StreamName=stream, Records=[{"Data": b"ok", "PartitionKey": "p"}, big, big])
    code, message = _error(caught)
    assert code == "ValidationException"
    assert message.startswith("2 validation errors detected: ")
    assert "at 'records.2.member.data'" in message and "at 'records.3.member.data'" in message
    # 11 records just under 1 MiB each: every record is fine, the request is over 10 MiB
    record = {"Data": b"x" * (MIB - 1), "PartitionKey": "p"}
    with pytest.raises(ClientError) as caught:
        kinesis.put_records(StreamName=stream, Records=[record] * 11)
    assert _error(caught) == ("InvalidArgumentException", "Records size exceeds 10 MB limit")
    result = kinesis.put_records(StreamName=stream, Records=[record] * 10)
    assert result["FailedRecordCount"] == 0


# --------------------------------------------------------------------------- Firehose

@pytest.fixture()
def delivery_stream(aws_client, unique):
    s3 = aws_client("s3")
    bucket = unique("fh-limits")
    s3.create_bucket(Bucket=bucket)
    name = unique("fh-limits")
    aws_client("firehose").create_delivery_stream(DeliveryStreamName=name, S3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::%s" % bucket})
    return name


def test_firehose_batch_limits_follow_aws_definition(aws_client, delivery_stream):
    firehose = aws_client("firehose")
    with pytest.raises(ClientError) as caught:
        firehose.put_record_batch(DeliveryStreamName=delivery_stream, Records=[{"Data": b"x"}] * 501)
    code, message = _error(caught)
    assert code == "ValidationException"
    assert message.endswith("at 'records' failed to satisfy constraint: Member must have length less than or equal to 500")
    with pytest.raises(ClientError) as caught:
        firehose.put_record_batch(DeliveryStreamName=delivery_stream,
                                  Records=[{"Data": b"a"}, {"Data": b"x" * 1024001}])
    assert _error(caught) == ("ValidationException", (
        "1 validation error detected: Value 'java.nio.HeapByteBuffer[pos=0 lim=1024001 cap=1024001]' at "
        "'records.2.member.data' failed to satisfy constraint: Member must have length less than or equal to 1024000"))
    with pytest.raises(ClientError) as caught:
        firehose.put_record(DeliveryStreamName=delivery_stream, Record={"Data": b"x" * 1024001})
    assert "at 'record.data'" in _error(caught)[1]
    # 1,000 KiB records: four fit in 4 MiB of data, five do not
    record = {"Data": b"x" * 1024000}
    assert firehose.put_record_batch(DeliveryStreamName=delivery_stream, Records=[record] * 4)["FailedPutCount"] == 0
    with pytest.raises(ClientError) as caught:
        firehose.put_record_batch(DeliveryStreamName=delivery_stream, Records=[record] * 5)
    assert _error(caught) == ("InvalidArgumentException", "Records size exceeds 4 MB limit")


# --------------------------------------------------------------------------- DynamoDB TTL

def test_update_time_to_live_not_refused_when_switched_off(aws_client, unique, monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS", "0")
    dynamodb = aws_client("dynamodb")
    table = unique("ttl")
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    for enabled in (True, False, True):
        dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": enabled, "AttributeName": "e"})


def test_update_time_to_live_refused_within_an_hour(aws_client, unique, monkeypatch):
    dynamodb = aws_client("dynamodb")
    table = unique("ttl")
    dynamodb.create_table(TableName=table, BillingMode="PAY_PER_REQUEST",
                          AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                          KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    clock = {"now": 1_000_000.0}
    monkeypatch.setattr(dynamodb_ttl, "now", lambda: clock["now"])
    monkeypatch.setenv("LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS", str(dynamodb_ttl.AWS_INTERVAL_SECONDS))
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": "expires"})
    clock["now"] += 3599
    with pytest.raises(ClientError) as caught:
        dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert _error(caught) == ("ValidationException", "Time to live has been modified multiple times within a fixed interval")
    status = dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"]
    assert status == "ENABLED"
    clock["now"] += 1
    dynamodb.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": "expires"})
    assert dynamodb.describe_time_to_live(TableName=table)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"


# --------------------------------------------------------------------------- S3 Object Lock

@pytest.fixture()
def locked_bucket(aws_client, unique):
    s3 = aws_client("s3")
    name = unique("locked")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)
    s3.put_object_lock_configuration(Bucket=name, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "GOVERNANCE", "Days": 1}}})
    return name


def _s3_without_checksums(local_aws):
    """A client that sends no checksum unless the operation requires one (the behaviour of
    botocore before 1.36, e.g. the boto3 of older Lambda runtimes)."""
    return boto3.client("s3", endpoint_url=local_aws.endpoint, region_name="us-east-1",
                        aws_access_key_id="testing", aws_secret_access_key="testing",
                        config=botocore.config.Config(request_checksum_calculation="when_required"))


def test_object_lock_put_needs_md5_or_checksum(aws_client, local_aws, locked_bucket):
    bare = _s3_without_checksums(local_aws)
    with pytest.raises(ClientError) as caught:
        bare.put_object(Bucket=locked_bucket, Key="a", Body=b"data")
    assert _error(caught) == ("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required "
                                                "for Put Object requests with Object Lock parameters")
    md5 = base64.b64encode(hashlib.md5(b"data").digest()).decode()
    bare.put_object(Bucket=locked_bucket, Key="a", Body=b"data", ContentMD5=md5)
    # current SDKs send a CRC32 (in a trailer over HTTP): accepted
    aws_client("s3").put_object(Bucket=locked_bucket, Key="b", Body=b"data")
    assert aws_client("s3").head_object(Bucket=locked_bucket, Key="b")["ObjectLockMode"] == "GOVERNANCE"


def test_object_lock_parameters_need_a_checksum_on_any_bucket(aws_client, local_aws, unique):
    s3 = aws_client("s3")
    name = unique("lockable")
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True)   # no default retention
    bare = _s3_without_checksums(local_aws)
    bare.put_object(Bucket=name, Key="plain", Body=b"data")            # no lock parameters: fine
    with pytest.raises(ClientError) as caught:
        bare.put_object(Bucket=name, Key="held", Body=b"data", ObjectLockLegalHoldStatus="ON")
    assert _error(caught)[0] == "InvalidRequest"


def test_object_lock_upload_part_needs_a_checksum(aws_client, local_aws, locked_bucket):
    bare = _s3_without_checksums(local_aws)
    upload = bare.create_multipart_upload(Bucket=locked_bucket, Key="multi")["UploadId"]
    with pytest.raises(ClientError) as caught:
        bare.upload_part(Bucket=locked_bucket, Key="multi", UploadId=upload, PartNumber=1, Body=b"part")
    assert _error(caught) == ("InvalidRequest", "Content-MD5 OR x-amz-checksum- HTTP header is required "
                                                "for Put Part requests with Object Lock parameters")
    aws_client("s3").upload_part(Bucket=locked_bucket, Key="multi", UploadId=upload, PartNumber=1, Body=b"part")
