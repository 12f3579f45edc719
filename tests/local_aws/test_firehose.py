# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firehose delivery (issue 3, part 5), through boto3 against the running emulator."""

import datetime
import gzip
import io
import json
import re
import time
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import firehose, firehose_prefix

ACCOUNT = "123456789012"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

PROCESSOR = '''
import base64

def handler(event, context):
    out = []
    for record in event["records"]:
        data = base64.b64decode(record["data"])
        if data.startswith(b"bad"):
            out.append({"recordId": record["recordId"], "result": "ProcessingFailed", "data": record["data"]})
        elif data.startswith(b"drop"):
            out.append({"recordId": record["recordId"], "result": "Dropped", "data": record["data"]})
        else:
            out.append({"recordId": record["recordId"], "result": "Ok",
                        "data": base64.b64encode(data.upper()).decode()})
    return {"records": out}
'''


@pytest.fixture()
def fh(aws_client, unique, grant):
    class Env(object):
        firehose = aws_client("firehose")
        s3 = aws_client("s3")
        iam = aws_client("iam")
        kms = aws_client("kms")
        lam = aws_client("lambda")
        bucket = unique("fh-bucket")

        def objects(self, prefix=""):
            out = {}
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    out[obj["Key"]] = self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read()
            return out

        def put(self, name, datas):
            return self.firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": d} for d in datas])

    env = Env()
    env.role = grant(env.iam.create_role(RoleName=unique("fh-role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    env.s3.create_bucket(Bucket=env.bucket)
    env.name = unique("fh")
    yield env
    for name in (env.name, env.name + "-plain"):
        try:
            env.firehose.delete_delivery_stream(DeliveryStreamName=name)
        except ClientError:
            pass


def _s3_config(env, **extra):
    config = {"RoleARN": env.role, "BucketARN": "arn:aws:s3:::%s" % env.bucket,
              "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900}}
    config.update(extra)
    return config


def test_gzip_and_prefix_expressions(fh, local_aws):
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name, DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=_s3_config(
            fh, CompressionFormat="GZIP",
            Prefix="archive/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/",
            ErrorOutputPrefix="errors/!{firehose:error-output-type}/!{timestamp:yyyy}/"))
    before = datetime.datetime.now(datetime.timezone.utc)
    resp = fh.put(fh.name, [b'{"n":1}\n', b'{"n":2}\n', b'{"n":3}\n'])
    assert resp["FailedPutCount"] == 0
    assert len(resp["RequestResponses"]) == 3 and all(r["RecordId"] for r in resp["RequestResponses"])
    firehose.poll(force=False)  # what the background poller does: 900 s / 64 MB, nothing is due yet
    assert fh.objects() == {}
    local_aws.flush()
    objects = fh.objects()
    assert len(objects) == 1
    key, body = next(iter(objects.items()))
    when = before
    pattern = r"^archive/year=%04d/month=%02d/day=%02d/hour=\d{2}/%s-1-%04d-%02d-%02d-\d{2}-\d{2}-\d{2}-%s\.gz$" % (
        when.year, when.month, when.day, re.escape(fh.name), when.year, when.month, when.day, UUID)
    assert re.match(pattern, key), key
    assert body[:2] == b"\x1f\x8b"
    assert gzip.decompress(body) == b'{"n":1}\n{"n":2}\n{"n":3}\n'


def test_default_prefix_and_uncompressed(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, S3DestinationConfiguration=_s3_config(fh))
    fh.put(fh.name, [b"a", b"b"])
    local_aws.flush()
    (key, body), = fh.objects().items()
    assert re.match(r"^\d{4}/\d{2}/\d{2}/\d{2}/%s-1-\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}-%s$" % (re.escape(fh.name), UUID), key), key
    assert body == b"ab"


def test_prefix_without_expression_gets_the_default_time_prefix(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name,
                                       ExtendedS3DestinationConfiguration=_s3_config(fh, Prefix="plain/"))
    fh.put(fh.name, [b"x"])
    local_aws.flush()
    (key, _body), = fh.objects().items()
    assert re.match(r"^plain/\d{4}/\d{2}/\d{2}/\d{2}/%s-1-" % re.escape(fh.name), key), key


def test_error_output_prefix_receives_processing_failures(fh, local_aws, unique):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("proc.py", PROCESSOR)
    fn = fh.lam.create_function(FunctionName=unique("proc"), Runtime="python3.11", Role=fh.role, Handler="proc.handler",
                                Code={"ZipFile": buf.getvalue()}, Timeout=30)["FunctionArn"]
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name,
        ExtendedS3DestinationConfiguration=_s3_config(
            fh, Prefix="ok/!{timestamp:yyyy}/", ErrorOutputPrefix="failed/!{firehose:error-output-type}/!{timestamp:yyyy}/!{firehose:random-string}/",
            ProcessingConfiguration={"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
                {"ParameterName": "LambdaArn", "ParameterValue": fn}]}]}))
    fh.put(fh.name, [b"good-1\n", b"bad-2\n", b"drop-3\n", b"good-4\n"])
    local_aws.flush()
    year = datetime.datetime.now(datetime.timezone.utc).year
    ok = fh.objects("ok/")
    assert list(ok.values()) == [b"GOOD-1\nGOOD-4\n"]
    assert all(k.startswith("ok/%d/%s-1-" % (year, fh.name)) for k in ok)
    failed = fh.objects("failed/")
    assert len(failed) == 1
    key, body = next(iter(failed.items()))
    assert re.match(r"^failed/processing-failed/%d/[A-Za-z0-9]{11}/%s-1-" % (year, re.escape(fh.name)), key), key
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert len(lines) == 1
    assert lines[0]["errorCode"] == "Lambda.ProcessingFailedStatus"
    assert lines[0]["lambdaArn"] == fn
    assert set(lines[0]) == {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaArn"}
    import base64  # pylint: disable=import-outside-toplevel
    assert base64.b64decode(lines[0]["rawData"]) == b"bad-2\n"


@pytest.mark.parametrize("config, message", [
    ({"Prefix": "p/!{timestamp:yyyy}/"}, "ErrorOutputPrefix cannot be null or empty when Prefix contains expressions"),
    ({"Prefix": "p/!{firehose:error-output-type}/", "ErrorOutputPrefix": "e/"}, "only allowed in ErrorOutputPrefix"),
    ({"Prefix": "p/!{partitionKeyFromQuery:id}/", "ErrorOutputPrefix": "e/"}, "dynamic partitioning"),
    ({"Prefix": "p/!{nope:x}/", "ErrorOutputPrefix": "e/"}, "unknown expression namespace"),
    ({"Prefix": "p/!{timestamp:yyyy/", "ErrorOutputPrefix": "e/"}, "malformed expression"),
])
def test_invalid_prefixes_are_rejected(fh, config, message):
    with pytest.raises(ClientError) as caught:
        fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, ExtendedS3DestinationConfiguration=_s3_config(fh, **config))
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert message in caught.value.response["Error"]["Message"]
    assert fh.name not in fh.firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]


def _opensearch_config(fh, mode):
    return {
        "RoleARN": fh.role,
        "DomainARN": "arn:aws:es:us-east-1:%s:domain/logs" % ACCOUNT,
        "IndexName": "logs",
        "IndexRotationPeriod": "OneDay",
        "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5},
        "RetryOptions": {"DurationInSeconds": 300},
        "S3BackupMode": mode,
        "S3Configuration": {"RoleARN": fh.role, "BucketARN": "arn:aws:s3:::%s" % fh.bucket, "Prefix": "backup/",
                            "ErrorOutputPrefix": "search-failed/", "CompressionFormat": "GZIP"},
    }


def test_opensearch_destination_all_documents_backup(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name,
                                       AmazonopensearchserviceDestinationConfiguration=_opensearch_config(fh, "AllDocuments"))
    desc = fh.firehose.describe_delivery_stream(DeliveryStreamName=fh.name)["DeliveryStreamDescription"]
    dest = desc["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    assert dest["DomainARN"].endswith(":domain/logs")
    assert dest["RoleARN"] == fh.role
    assert dest["IndexName"] == "logs"
    assert dest["IndexRotationPeriod"] == "OneDay"
    assert dest["S3BackupMode"] == "AllDocuments"
    assert dest["BufferingHints"] == {"IntervalInSeconds": 60, "SizeInMBs": 5}
    assert dest["RetryOptions"] == {"DurationInSeconds": 300}
    assert dest["CloudWatchLoggingOptions"] == {"Enabled": False}
    assert dest["ProcessingConfiguration"]["Enabled"] is False
    s3 = dest["S3DestinationDescription"]
    assert s3["BucketARN"] == "arn:aws:s3:::%s" % fh.bucket
    assert s3["CompressionFormat"] == "GZIP"
    assert s3["EncryptionConfiguration"] == {"NoEncryptionConfig": "NoEncryption"}
    assert desc["Destinations"][0]["DestinationId"] == "destinationId-000000000001"
    fh.put(fh.name, [b'{"doc":1}\n', b'{"doc":2}\n'])
    local_aws.flush()
    objects = fh.objects()
    assert len(objects) == 1
    key, body = next(iter(objects.items()))
    assert re.match(r"^backup/\d{4}/\d{2}/\d{2}/\d{2}/%s-1-.*\.gz$" % re.escape(fh.name), key), key
    assert gzip.decompress(body) == b'{"doc":1}\n{"doc":2}\n'


def test_opensearch_destination_failed_documents_only_delivers_nothing_to_s3(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name,
                                       AmazonopensearchserviceDestinationConfiguration=_opensearch_config(fh, "FailedDocumentsOnly"))
    resp = fh.put(fh.name, [b'{"doc":1}\n'])
    assert resp["FailedPutCount"] == 0
    local_aws.flush()
    assert fh.objects() == {}


def test_opensearch_update_destination(fh):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name,
                                       AmazonopensearchserviceDestinationConfiguration=_opensearch_config(fh, "AllDocuments"))
    fh.firehose.update_destination(
        DeliveryStreamName=fh.name, CurrentDeliveryStreamVersionId="1", DestinationId="destinationId-000000000001",
        AmazonopensearchserviceDestinationUpdate={"IndexName": "logs-v2", "BufferingHints": {"IntervalInSeconds": 120, "SizeInMBs": 10}})
    desc = fh.firehose.describe_delivery_stream(DeliveryStreamName=fh.name)["DeliveryStreamDescription"]
    assert desc["VersionId"] == "2"
    dest = desc["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    assert dest["IndexName"] == "logs-v2"
    assert dest["BufferingHints"] == {"IntervalInSeconds": 120, "SizeInMBs": 10}
    assert dest["S3BackupMode"] == "AllDocuments"
    with pytest.raises(ClientError) as caught:
        fh.firehose.update_destination(
            DeliveryStreamName=fh.name, CurrentDeliveryStreamVersionId="2", DestinationId="destinationId-000000000001",
            ExtendedS3DestinationUpdate={"BucketARN": "arn:aws:s3:::%s" % fh.bucket})
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"


def test_opensearch_config_is_validated(fh):
    config = _opensearch_config(fh, "SomeDocuments")
    with pytest.raises(ClientError) as caught:
        fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, AmazonopensearchserviceDestinationConfiguration=config)
    assert "S3BackupMode must be FailedDocumentsOnly or AllDocuments" in caught.value.response["Error"]["Message"]
    config = _opensearch_config(fh, "AllDocuments")
    del config["DomainARN"]
    with pytest.raises(ClientError) as caught:
        fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, AmazonopensearchserviceDestinationConfiguration=config)
    assert "needs DomainARN or ClusterEndpoint" in caught.value.response["Error"]["Message"]


def test_customer_managed_key_encryption_is_stored_and_described(fh):
    key_arn = fh.kms.create_key()["KeyMetadata"]["Arn"]
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name, ExtendedS3DestinationConfiguration=_s3_config(fh),
        DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": key_arn})
    desc = fh.firehose.describe_delivery_stream(DeliveryStreamName=fh.name)["DeliveryStreamDescription"]
    assert desc["DeliveryStreamEncryptionConfiguration"] == {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": key_arn, "Status": "ENABLED"}
    assert fh.put(fh.name, [b"x"])["Encrypted"] is True
    fh.firehose.stop_delivery_stream_encryption(DeliveryStreamName=fh.name)
    desc = fh.firehose.describe_delivery_stream(DeliveryStreamName=fh.name)["DeliveryStreamDescription"]
    assert desc["DeliveryStreamEncryptionConfiguration"]["Status"] == "DISABLED"
    with pytest.raises(ClientError) as caught:
        fh.firehose.start_delivery_stream_encryption(
            DeliveryStreamName=fh.name, DeliveryStreamEncryptionConfigurationInput={"KeyType": "CUSTOMER_MANAGED_CMK"})
    assert "KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK" in caught.value.response["Error"]["Message"]
    other = fh.name + "-plain"
    fh.firehose.create_delivery_stream(DeliveryStreamName=other, ExtendedS3DestinationConfiguration=_s3_config(fh))
    desc = fh.firehose.describe_delivery_stream(DeliveryStreamName=other)["DeliveryStreamDescription"]
    assert desc["DeliveryStreamEncryptionConfiguration"] == {"Status": "DISABLED"}
    ext = desc["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert ext["CompressionFormat"] == "UNCOMPRESSED"
    assert ext["S3BackupMode"] == "Disabled"


def test_kms_encryption_configuration_is_applied_to_objects(fh, local_aws):
    key_arn = fh.kms.create_key()["KeyMetadata"]["Arn"]
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name,
        ExtendedS3DestinationConfiguration=_s3_config(fh, EncryptionConfiguration={"KMSEncryptionConfig": {"AWSKMSKeyARN": key_arn}}))
    fh.put(fh.name, [b"secret"])
    local_aws.flush()
    (key, body), = fh.objects().items()
    assert body == b"secret"
    head = fh.s3.head_object(Bucket=fh.bucket, Key=key)
    assert head["ServerSideEncryption"] == "aws:kms"
    assert head["SSEKMSKeyId"] == key_arn


def test_injected_partial_failures_keep_the_aws_response_shape(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, S3DestinationConfiguration=_s3_config(fh))
    firehose.inject_failures(fh.name, [[1, 3]])
    resp = fh.put(fh.name, [b"r0", b"r1", b"r2", b"r3", b"r4"])
    assert resp["FailedPutCount"] == 2
    entries = resp["RequestResponses"]
    assert [("RecordId" in e) for e in entries] == [True, False, True, False, True]
    assert entries[1] == {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}
    # The hook is consumed: retrying the failed records succeeds.
    retry = fh.put(fh.name, [b"r1", b"r3"])
    assert retry["FailedPutCount"] == 0
    local_aws.flush()
    assert list(fh.objects().values()) == [b"r0r2r4r1r3"]


def test_failure_hook_through_a_stream_tag(fh, local_aws):
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name, S3DestinationConfiguration=_s3_config(fh),
        Tags=[{"Key": firehose.FAILURE_TAG, "Value": "0 all"}])
    first = fh.put(fh.name, [b"a", b"b"])
    assert first["FailedPutCount"] == 1 and "ErrorCode" in first["RequestResponses"][0]
    second = fh.put(fh.name, [b"c", b"d"])
    assert second["FailedPutCount"] == 2
    third = fh.put(fh.name, [b"e"])
    assert third["FailedPutCount"] == 0
    tags = fh.firehose.list_tags_for_delivery_stream(DeliveryStreamName=fh.name)["Tags"]
    assert firehose.FAILURE_TAG not in [t["Key"] for t in tags]
    local_aws.flush()
    assert list(fh.objects().values()) == [b"be"]


def test_size_hint_triggers_delivery_before_the_interval(fh):
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name,
        ExtendedS3DestinationConfiguration=_s3_config(fh, BufferingHints={"SizeInMBs": 1, "IntervalInSeconds": 900}))
    fh.put(fh.name, [b"x" * 1000])
    firehose.poll(force=False)
    assert fh.objects() == {}
    fh.put(fh.name, [b"y" * 600 * 1024, b"z" * 600 * 1024])
    # Delivered without flush(): by this poll, or by the background poller (it may be
    # writing the object at this very moment, hence the short wait).
    firehose.poll(force=False)
    deadline = time.time() + 10
    while not fh.objects() and time.time() < deadline:
        time.sleep(0.2)
    (body,) = fh.objects().values()
    assert len(body) == 1000 + 2 * 600 * 1024


def test_put_record_single_and_oversized_batch(fh, local_aws):
    fh.firehose.create_delivery_stream(DeliveryStreamName=fh.name, S3DestinationConfiguration=_s3_config(fh))
    resp = fh.firehose.put_record(DeliveryStreamName=fh.name, Record={"Data": b"one"})
    assert resp["RecordId"] and resp["Encrypted"] is False
    with pytest.raises(ClientError) as caught:
        fh.put(fh.name, [b"x"] * 501)
    assert caught.value.response["Error"]["Code"] == "ValidationException"
    with pytest.raises(ClientError) as caught:
        fh.put(fh.name + "-missing", [b"x"])
    assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
    local_aws.flush()
    assert list(fh.objects().values()) == [b"one"]


@pytest.mark.parametrize("pattern, expected", [
    ("yyyy/MM/dd/HH", "2024/03/07/05"),
    ("yyyy-MM-dd'T'HH:mm:ss.SSS", "2024-03-07T05:09:02.123"),
    ("yy-M-d-H", "24-3-7-5"),
    ("EEE, dd MMM yyyy", "Thu, 07 Mar 2024"),
    ("D", "67"),
])
def test_java_datetime_patterns(pattern, expected):
    when = datetime.datetime(2024, 3, 7, 5, 9, 2, 123456, tzinfo=datetime.timezone.utc)
    assert firehose_prefix.format_java(pattern, when) == expected


def test_delivery_to_an_object_lock_bucket_with_a_tls_only_policy(fh, local_aws, unique):
    """Firehose writes like an AWS service (over TLS, with its own permissions): the
    archive bucket's TLS-only policy does not block it, and the bucket's default
    retention and KMS key apply to the delivered object."""
    from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel

    bucket = unique("archive")
    key_arn = fh.kms.create_key()["KeyMetadata"]["Arn"]
    fh.s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    fh.s3.put_object_lock_configuration(Bucket=bucket, ObjectLockConfiguration={
        "ObjectLockEnabled": "Enabled", "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 10}}})
    fh.s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [
        {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}]})
    fh.s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Deny", "Principal": "*", "Action": "s3:*",
        "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
        "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}))
    fh.firehose.create_delivery_stream(
        DeliveryStreamName=fh.name,
        ExtendedS3DestinationConfiguration=dict(_s3_config(fh), BucketARN="arn:aws:s3:::%s" % bucket, CompressionFormat="GZIP"))
    fh.put(fh.name, [b'{"archived":true}\n'])
    local_aws.flush()
    keys = list(s3_backends[ACCOUNT]["aws"].buckets[bucket].keys.values())
    assert len(keys) == 1
    assert gzip.decompress(keys[0].value) == b'{"archived":true}\n'
    assert keys[0].lock_mode == "COMPLIANCE"
    assert keys[0].lock_until > datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert keys[0].encryption == "aws:kms"
    assert keys[0].kms_key_id == key_arn


@pytest.mark.parametrize("prefix, error_type, expected", [
    (None, None, "2024/03/07/05/"),
    ("", None, "2024/03/07/05/"),
    ("plain/", None, "plain/2024/03/07/05/"),
    ("p/!{timestamp:yyyy}/x/", None, "p/2024/x/"),
    (None, "processing-failed", "processing-failed/2024/03/07/05/"),
    ("errors/", "processing-failed", "errors/processing-failed/2024/03/07/05/"),
    ("e/!{firehose:error-output-type}/", "processing-failed", "e/processing-failed/"),
])
def test_prefix_evaluation_rules(prefix, error_type, expected):
    when = datetime.datetime(2024, 3, 7, 5, 9, 2, tzinfo=datetime.timezone.utc)
    assert firehose_prefix.evaluate(prefix, when, error_type) == expected


def test_random_string_expression():
    when = datetime.datetime(2024, 3, 7, 5, 9, 2, tzinfo=datetime.timezone.utc)
    first = firehose_prefix.evaluate("r/!{firehose:random-string}/", when)
    second = firehose_prefix.evaluate("r/!{firehose:random-string}/", when)
    assert re.fullmatch(r"r/[A-Za-z0-9]{11}/", first)
    assert first != second
