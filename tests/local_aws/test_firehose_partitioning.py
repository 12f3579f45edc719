# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firehose dynamic partitioning (issue 19): deaggregation, jq keys, partitionKeyFromQuery."""

import base64
import gzip
import json
import re

import pytest
from botocore.exceptions import ClientError

from local_aws.services import firehose_partitioning as fp

QUERY = '{account_id: .account_id, dt: ."@timestamp"[0:10]}'
PREFIX = "logs/account_id=!{partitionKeyFromQuery:account_id}/dt=!{partitionKeyFromQuery:dt}/"
ERRORS = "errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"


def _processors(query=QUERY, deaggregation="JSON"):
    processors = [{"Type": "MetadataExtraction", "Parameters": [
        {"ParameterName": "MetadataExtractionQuery", "ParameterValue": query},
        {"ParameterName": "JsonParsingEngine", "ParameterValue": "JQ-1.6"}]}]
    if deaggregation:
        processors.insert(0, {"Type": "RecordDeAggregation", "Parameters": [
            {"ParameterName": "SubRecordType", "ParameterValue": deaggregation}]})
    processors.append({"Type": "AppendDelimiterToRecord", "Parameters": []})
    return {"Enabled": True, "Processors": processors}


@pytest.fixture()
def env(aws_client, unique, grant):
    class Env(object):
        firehose = aws_client("firehose")
        s3 = aws_client("s3")
        bucket = unique("dp-bucket")
        name = unique("dp")

        def config(self, **extra):
            config = {"RoleARN": self.role, "BucketARN": "arn:aws:s3:::%s" % self.bucket, "Prefix": PREFIX,
                      "ErrorOutputPrefix": ERRORS, "CompressionFormat": "GZIP",
                      "BufferingHints": {"SizeInMBs": 64, "IntervalInSeconds": 900},
                      "DynamicPartitioningConfiguration": {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}},
                      "ProcessingConfiguration": _processors()}
            config.update(extra)
            return config

        def objects(self, prefix=""):
            out = {}
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                for obj in page.get("Contents", []):
                    out[obj["Key"]] = gzip.decompress(self.s3.get_object(Bucket=self.bucket, Key=obj["Key"])["Body"].read())
            return out

    e = Env()
    e.role = grant(aws_client("iam").create_role(RoleName=unique("dp-role"), AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    e.s3.create_bucket(Bucket=e.bucket)
    yield e
    try:
        e.firehose.delete_delivery_stream(DeliveryStreamName=e.name)
    except ClientError:
        pass


def _doc(account, stamp, n):
    return json.dumps({"@timestamp": stamp, "event_id": "e%d" % n, "account_id": account, "message": "m%d" % n},
                      separators=(",", ":"))


def test_packed_ndjson_records_are_split_per_account_and_event_day(env, local_aws):
    env.firehose.create_delivery_stream(DeliveryStreamName=env.name, ExtendedS3DestinationConfiguration=env.config())
    described = env.firehose.describe_delivery_stream(DeliveryStreamName=env.name)["DeliveryStreamDescription"]
    extended = described["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert extended["DynamicPartitioningConfiguration"]["Enabled"] is True
    # Two packed records as the transform Lambda writes them: NDJSON lines of several accounts and days.
    first = "\n".join([_doc("111111111111", "2026-12-03T10:00:00.000Z", 1), _doc("222222222222", "2026-12-03T10:00:01.000Z", 2),
                       _doc("111111111111", "2026-12-02T23:59:59.999Z", 3)]) + "\n"
    second = _doc("111111111111", "2026-12-03T11:00:00.000Z", 4) + _doc("222222222222", "2026-12-03T11:00:00.000Z", 5)
    resp = env.firehose.put_record_batch(DeliveryStreamName=env.name, Records=[{"Data": first.encode()}, {"Data": second.encode()}])
    assert resp["FailedPutCount"] == 0
    local_aws.flush()
    objects = env.objects("logs/")
    by_partition = {}
    for key, body in objects.items():
        match = re.match(r"^logs/account_id=(\d{12})/dt=(\d{4}-\d{2}-\d{2})/%s-1-" % re.escape(env.name), key)
        assert match, key
        by_partition.setdefault(match.groups(), []).extend(json.loads(line)["event_id"] for line in body.decode().splitlines())
        assert body.endswith(b"\n") and b"\n\n" not in body  # AppendDelimiterToRecord: one event per line
    assert {k: sorted(v) for k, v in by_partition.items()} == {
        ("111111111111", "2026-12-03"): ["e1", "e4"],
        ("111111111111", "2026-12-02"): ["e3"],
        ("222222222222", "2026-12-03"): ["e2", "e5"],
    }
    assert len(objects) == 3  # one object per partition, not per record
    assert env.objects("errors/") == {}


def test_records_without_keys_go_to_partitioning_failed(env, local_aws):
    env.firehose.create_delivery_stream(DeliveryStreamName=env.name, ExtendedS3DestinationConfiguration=env.config())
    good = _doc("111111111111", "2026-12-03T10:00:00.000Z", 1)
    no_account = json.dumps({"@timestamp": "2026-12-03T10:00:00.000Z", "event_id": "x"})
    env.firehose.put_record_batch(DeliveryStreamName=env.name, Records=[
        {"Data": (good + "\n" + no_account + "\n").encode()}, {"Data": b"not json\n"}])
    local_aws.flush()
    assert [json.loads(b)["event_id"] for b in env.objects("logs/").values()] == ["e1"]
    errors = env.objects("errors/")
    assert len(errors) == 1
    key, body = next(iter(errors.items()))
    assert key.startswith("errors/partitioning-failed/"), key
    lines = [json.loads(line) for line in body.decode().splitlines()]
    assert [line["errorCode"] for line in lines] == [fp.ERROR_CODE, fp.ERROR_CODE]
    raw = sorted(base64.b64decode(line["rawData"]) for line in lines)
    assert raw == sorted([b"not json\n", no_account.encode()])


@pytest.mark.parametrize("change, message", [
    ({"BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 60}}, "at least 64"),
    ({"ErrorOutputPrefix": None}, "ErrorOutputPrefix is required"),
    ({"Prefix": "logs/!{partitionKeyFromQuery:region}/"}, "does not define"),
    ({"Prefix": "logs/!{timestamp:yyyy}/"}, "must use !{partitionKeyFromQuery"),
    ({"ProcessingConfiguration": _processors(query='{a: .x | ascii_downcase}')}, "jq subset"),
    ({"ProcessingConfiguration": {"Enabled": False, "Processors": []}}, "no MetadataExtraction"),
    ({"ProcessingConfiguration": _processors(deaggregation="XML")}, "SubRecordType"),
    ({"DynamicPartitioningConfiguration": {"Enabled": False}}, "dynamic partitioning must be enabled"),
])
def test_invalid_partitioning_configurations_are_rejected(env, change, message):
    config = env.config(**change)
    config = dict((k, v) for k, v in config.items() if v is not None)
    with pytest.raises(ClientError) as caught:
        env.firehose.create_delivery_stream(DeliveryStreamName=env.name, ExtendedS3DestinationConfiguration=config)
    assert caught.value.response["Error"]["Code"] == "InvalidArgumentException"
    assert message in caught.value.response["Error"]["Message"]


def test_partitioning_is_enabled_only_at_creation_and_never_disabled(env):
    plain = env.config(Prefix="logs/", ErrorOutputPrefix=None, DynamicPartitioningConfiguration=None, ProcessingConfiguration=None)
    env.firehose.create_delivery_stream(DeliveryStreamName=env.name,
                                        ExtendedS3DestinationConfiguration=dict((k, v) for k, v in plain.items() if v is not None))
    desc = env.firehose.describe_delivery_stream(DeliveryStreamName=env.name)["DeliveryStreamDescription"]
    with pytest.raises(ClientError) as caught:
        env.firehose.update_destination(
            DeliveryStreamName=env.name, CurrentDeliveryStreamVersionId=desc["VersionId"],
            DestinationId=desc["Destinations"][0]["DestinationId"],
            ExtendedS3DestinationUpdate={"DynamicPartitioningConfiguration": {"Enabled": True}})
    assert "only be enabled when the delivery stream is created" in caught.value.response["Error"]["Message"]


@pytest.mark.parametrize("query, document, expected", [
    (QUERY, {"account_id": "1", "@timestamp": "2026-12-03T10:00:00Z"}, {"account_id": "1", "dt": "2026-12-03"}),
    ('{"k": .a.b, n: .["x y"]}', {"a": {"b": "v"}, "x y": 5}, {"k": "v", "n": "5"}),
    ("{t: .flag}", {"flag": True}, {"t": "true"}),
])
def test_jq_subset(query, document, expected):
    assert fp.evaluate_query(fp.parse_query(query), document) == expected


def test_deaggregation_cap_and_delimited():
    assert fp.deaggregate(b'{"a":1}{"a":2}\n{"a":3}', {"SubRecordType": "JSON"}) == [b'{"a":1}', b'{"a":2}', b'{"a":3}']
    assert fp.deaggregate(b"a##b##", {"SubRecordType": "DELIMITED", "Delimiter": base64.b64encode(b"##").decode()}) == [b"a", b"b"]
    with pytest.raises(fp.PartitioningError, match="capped at 500"):
        fp.deaggregate(b'{"a":1}' * 501, {"SubRecordType": "JSON"})
    with pytest.raises(fp.PartitioningError, match="JSON objects"):
        fp.deaggregate(b'[{"a":1}]', {"SubRecordType": "JSON"})
