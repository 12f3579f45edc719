# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection through LOGVAULT_AWS_FAULTS (local_aws/faults.py)."""

import io
import json
import zipfile

import boto3
import botocore.config
import pytest
from botocore.exceptions import ClientError

import local_aws as package
from local_aws import faults

NO_RETRY = botocore.config.Config(retries={"total_max_attempts": 1, "mode": "standard"})


@pytest.fixture()
def inject(monkeypatch):
    """Set LOGVAULT_AWS_FAULTS (and the seed) for one test; every sequence starts afresh."""
    def set_faults(spec, seed="0"):
        monkeypatch.setenv("LOGVAULT_AWS_FAULTS", spec)
        monkeypatch.setenv("LOGVAULT_AWS_FAULTS_SEED", seed)
        faults.reset()
    yield set_faults
    monkeypatch.delenv("LOGVAULT_AWS_FAULTS", raising=False)
    faults.reset()


def _client(local_aws, service, account_id="123456789012"):
    creds = package.credentials(account_id, endpoint=local_aws.endpoint)
    return boto3.client(service, endpoint_url=local_aws.endpoint, region_name="us-east-1", config=NO_RETRY, **creds)


def _code(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["ResponseMetadata"]["HTTPStatusCode"]


@pytest.mark.parametrize("spec, fragment", [
    ("firehose:PutRecordBatch:ThrottlingException", "service:Operation:ErrorCode:rate[:record]"),
    ("firehose:PutRecordBatch:ThrottlingException:often", "is not a number"),
    ("firehose:PutRecordBatch:ThrottlingException:1.5", "between 0 and 1"),
    ("kinesis:PutRecord:Timeout:1", "lambda:Invoke only"),
    ("kinesis:PutRecord:ProvisionedThroughputExceededException:1:record", "kinesis:PutRecords only"),
])
def test_malformed_specs_name_the_variable(spec, fragment):
    with pytest.raises(ValueError) as caught:
        faults.parse(spec)
    assert "LOGVAULT_AWS_FAULTS" in str(caught.value) and fragment in str(caught.value)


def test_json_protocol_fault_only_hits_the_named_operation(local_aws, aws_client, unique, inject):
    name = unique("faulty")
    aws_client("kinesis").create_stream(StreamName=name, ShardCount=1)
    inject("kinesis:PutRecords:ProvisionedThroughputExceededException:1, firehose:*:ServiceUnavailableException:1")
    kinesis = _client(local_aws, "kinesis")
    with pytest.raises(ClientError) as caught:
        kinesis.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "p"}])
    assert _code(caught) == ("ProvisionedThroughputExceededException", 400)
    assert "Injected fault (LOGVAULT_AWS_FAULTS)" in caught.value.response["Error"]["Message"]
    kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p")          # another operation: served
    with pytest.raises(ClientError) as caught:
        _client(local_aws, "firehose").list_delivery_streams()
    assert _code(caught) == ("ServiceUnavailableException", 503)


def test_rest_and_query_protocols(local_aws, aws_client, unique, inject):
    bucket = unique("faulty")
    aws_client("s3").create_bucket(Bucket=bucket)
    inject("s3:PutObject:SlowDown:1 sts:AssumeRole:Throttling:1 lambda:ListFunctions:TooManyRequestsException:1")
    s3 = _client(local_aws, "s3")
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert _code(caught) == ("SlowDown", 503)
    s3.list_objects_v2(Bucket=bucket)                                          # GetObject/List...: served
    with pytest.raises(ClientError) as caught:
        _client(local_aws, "sts").assume_role(RoleArn="arn:aws:iam::111111111111:role/x", RoleSessionName="faulty")
    assert _code(caught) == ("Throttling", 400)
    with pytest.raises(ClientError) as caught:
        _client(local_aws, "lambda").list_functions()
    assert _code(caught) == ("TooManyRequestsException", 429)


def _outcomes(local_aws, name, count):
    kinesis = _client(local_aws, "kinesis")
    outcomes = []
    for number in range(count):
        try:
            kinesis.put_record(StreamName=name, Data=b"%d" % number, PartitionKey="p")
            outcomes.append(True)
        except ClientError:
            outcomes.append(False)
    return outcomes


def test_rate_is_deterministic_under_a_seed(local_aws, aws_client, unique, inject):
    name = unique("seeded")
    aws_client("kinesis").create_stream(StreamName=name, ShardCount=1)
    inject("kinesis:PutRecord:ProvisionedThroughputExceededException:0.5", seed="7")
    first = _outcomes(local_aws, name, 40)
    inject("kinesis:PutRecord:ProvisionedThroughputExceededException:0.5", seed="7")
    assert _outcomes(local_aws, name, 40) == first
    assert 5 < first.count(False) < 35          # about half fail
    inject("kinesis:PutRecord:ProvisionedThroughputExceededException:0.5", seed="8")
    assert _outcomes(local_aws, name, 40) != first
    inject("kinesis:PutRecord:ProvisionedThroughputExceededException:0")
    assert all(_outcomes(local_aws, name, 5))


def test_lambda_timeout_fault(aws_client, unique, inject):
    role = aws_client("iam").create_role(RoleName=unique("fn-role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    source = "def handler(event, context):\n    return {'ran': True}\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    name = unique("timeout")
    lam = aws_client("lambda")
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role,
                        Handler="app.handler", Code={"ZipFile": buf.getvalue()}, Timeout=7)
    inject("lambda:Invoke:Timeout:1")
    result = lam.invoke(FunctionName=name, Payload=b"{}")
    assert result["FunctionError"] == "Unhandled"
    error = json.loads(result["Payload"].read())
    assert error["errorType"] == "Sandbox.Timedout"
    assert error["errorMessage"].endswith("Task timed out after 7.00 seconds")
    inject("lambda:Invoke:Timeout:0")
    assert json.loads(lam.invoke(FunctionName=name, Payload=b"{}")["Payload"].read()) == {"ran": True}


def test_per_record_faults_are_reported_in_the_response(local_aws, aws_client, unique, inject):
    stream = unique("partial")
    aws_client("kinesis").create_stream(StreamName=stream, ShardCount=1)
    bucket = unique("partial")
    aws_client("s3").create_bucket(Bucket=bucket)
    delivery = unique("partial")
    aws_client("firehose").create_delivery_stream(DeliveryStreamName=delivery, S3DestinationConfiguration={
        "RoleARN": "arn:aws:iam::123456789012:role/firehose", "BucketARN": "arn:aws:s3:::%s" % bucket})
    inject("kinesis:PutRecords:ProvisionedThroughputExceededException:0.5:record "
           "firehose:PutRecordBatch:ServiceUnavailableException:0.5:record", seed="3")
    kinesis = _client(local_aws, "kinesis")
    result = kinesis.put_records(StreamName=stream, Records=[{"Data": b"%d" % i, "PartitionKey": "p"} for i in range(20)])
    failed = [r for r in result["Records"] if "ErrorCode" in r]
    assert 0 < result["FailedRecordCount"] == len(failed) < 20
    assert {r["ErrorCode"] for r in failed} == {"ProvisionedThroughputExceededException"}
    assert all("SequenceNumber" in r for r in result["Records"] if "ErrorCode" not in r)
    batch = _client(local_aws, "firehose").put_record_batch(DeliveryStreamName=delivery,
                                                            Records=[{"Data": b"%d" % i} for i in range(20)])
    assert 0 < batch["FailedPutCount"] < 20
    pattern = ["ErrorCode" in r for r in batch["RequestResponses"]]
    inject("firehose:PutRecordBatch:ServiceUnavailableException:0.5:record", seed="3")
    again = _client(local_aws, "firehose").put_record_batch(DeliveryStreamName=delivery,
                                                            Records=[{"Data": b"%d" % i} for i in range(20)])
    assert ["ErrorCode" in r for r in again["RequestResponses"]] == pattern


def test_health_reports_how_often_each_fault_fired(local_aws, aws_client, unique, inject):
    name = unique("fired")
    aws_client("kinesis").create_stream(StreamName=name, ShardCount=1)
    inject("kinesis:PutRecord:ProvisionedThroughputExceededException:1 sqs:SendMessage:ThrottlingException:1")
    kinesis = _client(local_aws, "kinesis")
    for attempt in range(2):
        with pytest.raises(ClientError):
            kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="p%d" % attempt)
    import urllib.request  # pylint: disable=import-outside-toplevel
    with urllib.request.urlopen(local_aws.endpoint + "/_logvault/health") as response:
        fired = json.loads(response.read())["faults_fired"]
    assert fired == {"kinesis:PutRecord:ProvisionedThroughputExceededException:1": 2, "sqs:SendMessage:ThrottlingException:1": 0}
