# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service roles evaluated (issue 15 item 2; local_aws/services/service_roles.py): each rule
allows with the permission and refuses without it, with AWS's answer."""

import io
import json
import logging
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import service_roles

LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions, resource="*", **extra):
    return dict({"Effect": "Allow", "Action": actions, "Resource": resource}, **extra)


def _role(aws_client, unique, *statements, trust=None):
    iam = aws_client("iam")
    role = iam.create_role(RoleName=unique("sr"), AssumeRolePolicyDocument=json.dumps(trust or {}))["Role"]
    if statements:
        iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=json.dumps(_policy(*statements)))
    return role["Arn"]


def _set_policy(aws_client, role_arn, *statements):
    aws_client("iam").put_role_policy(RoleName=role_arn.rsplit("/", 1)[-1], PolicyName="p",
                                      PolicyDocument=json.dumps(_policy(*statements)))


def _error(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setenv(service_roles.SETTING, "1")


# --------------------------------------------------------------------------- evaluation

STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/s"


@pytest.mark.parametrize("statements, action, resource, verdict", [
    ([_allow("kinesis:PutRecord", STREAM)], "kinesis:PutRecord", STREAM, service_roles.ALLOW),
    ([_allow("Kinesis:Put*", STREAM)], "kinesis:PutRecord", STREAM, service_roles.ALLOW),   # actions: any case
    ([_allow("kinesis:PutRecord", STREAM.upper())], "kinesis:PutRecord", STREAM, service_roles.IMPLICIT_DENY),  # ARNs: exact case
    ([_allow("kinesis:PutRecords", STREAM)], "kinesis:PutRecord", STREAM, service_roles.IMPLICIT_DENY),
    ([_allow("kinesis:*", STREAM + "-other")], "kinesis:PutRecord", STREAM, service_roles.IMPLICIT_DENY),
    ([_allow("kinesis:*"), {"Effect": "Deny", "Action": "kinesis:PutRecord", "Resource": STREAM}],
     "kinesis:PutRecord", STREAM, service_roles.EXPLICIT_DENY),
    ([_allow("kinesis:*"), {"Effect": "Deny", "NotAction": "kinesis:PutRecord", "Resource": "*"}],
     "kinesis:PutRecord", STREAM, service_roles.ALLOW),
    ([{"Effect": "Allow", "Action": "kinesis:PutRecord", "NotResource": STREAM}], "kinesis:PutRecord", STREAM,
     service_roles.IMPLICIT_DENY),
    ([{"Effect": "Allow", "Action": "kinesis:PutRecord", "NotResource": STREAM + "-x"}], "kinesis:PutRecord", STREAM,
     service_roles.ALLOW),
    # conditions: evaluated against the context the service sends; an unknown key does not hold
    ([_allow("kms:GenerateDataKey", Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}})],
     "kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/k", service_roles.ALLOW),
    ([_allow("kms:GenerateDataKey", Condition={"StringEquals": {"kms:ViaService": "kinesis.us-east-1.amazonaws.com"}})],
     "kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/k", service_roles.IMPLICIT_DENY),
    ([_allow("kms:GenerateDataKey", Condition={"StringEquals": {"aws:SourceVpce": "vpce-1"}})],
     "kms:GenerateDataKey", "arn:aws:kms:us-east-1:123456789012:key/k", service_roles.IMPLICIT_DENY),
    ([], "kinesis:PutRecord", STREAM, service_roles.IMPLICIT_DENY),
])
def test_evaluation(statements, action, resource, verdict):
    context = {"kms:ViaService": "s3.us-east-1.amazonaws.com"}
    assert service_roles.evaluate_documents([_policy(*statements)], action, resource, context) == verdict


def test_managed_policies_count_and_unknown_roles_are_not_evaluated(aws_client, unique):
    iam = aws_client("iam")
    role = _role(aws_client, unique)
    assert service_roles.evaluate(role, "kinesis:PutRecord", STREAM) == service_roles.IMPLICIT_DENY
    policy = iam.create_policy(PolicyName=unique("sr"), PolicyDocument=json.dumps(_policy(_allow("kinesis:PutRecord", STREAM))))
    iam.attach_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyArn=policy["Policy"]["Arn"])
    assert service_roles.evaluate(role, "kinesis:PutRecord", STREAM) == service_roles.ALLOW
    assert service_roles.evaluate("arn:aws:iam::123456789012:role/never-created", "kinesis:PutRecord", STREAM) == service_roles.ALLOW


def test_switch_off_allows(aws_client, unique, monkeypatch):
    role = _role(aws_client, unique)
    monkeypatch.setenv(service_roles.SETTING, "0")
    assert service_roles.denied(role, "kinesis:PutRecord", STREAM, "test") is None
    monkeypatch.setenv(service_roles.SETTING, "1")
    assert service_roles.denied(role, "kinesis:PutRecord", STREAM, "test") == ("kinesis:PutRecord", service_roles.IMPLICIT_DENY)


# --------------------------------------------------------------------------- CloudWatch Logs

def test_subscription_filter_test_message_needs_put_record(aws_client, unique, kinesis_stream, log_group):
    stream_arn = kinesis_stream(unique("sr"))
    group = unique("/sr/")
    log_group(group)
    role = _role(aws_client, unique, _allow("kinesis:PutRecords", stream_arn))
    logs = aws_client("logs")
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn,
                                     roleArn=role)
    assert _error(caught) == ("InvalidParameterException", "Could not deliver test message to specified Kinesis stream. "
                                                           "Check if the given kinesis stream is in ACTIVE state.")
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    _set_policy(aws_client, role, _allow(["kinesis:PutRecord", "kinesis:PutRecords"], stream_arn))
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn, roleArn=role)


def test_destination_role_is_used_for_every_delivery(local_aws, aws_client, unique, kinesis_stream, log_group,
                                                     put_events, read_stream, member_account_ids, allow):
    member = member_account_ids[0]
    stream = unique("sr")
    stream_arn = kinesis_stream(stream)
    role = _role(aws_client, unique, _allow("kinesis:DescribeStream", stream_arn))
    name = unique("sr")
    logs = aws_client("logs")
    destination = logs.put_destination(destinationName=name, targetArn=stream_arn, roleArn=role)["destination"]["arn"]
    logs.put_destination_policy(destinationName=name, accessPolicy=json.dumps(allow(member)(destination)))
    group = unique("/sr/")
    log_group(group, account_id=member)
    member_logs = aws_client("logs", account_id=member)
    # the test message goes through the destination's role
    with pytest.raises(ClientError) as caught:
        member_logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=destination)
    assert _error(caught) == ("InvalidParameterException",
                              "Could not deliver test message to specified destination. Check if the destination is valid.")
    _set_policy(aws_client, role, _allow("kinesis:PutRecord", stream_arn))
    member_logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=destination)
    put_events(group, ["delivered"], account_id=member)
    local_aws.flush()
    data = [r["payload"] for r in read_stream(stream)]
    assert [e["message"] for d in data if d["messageType"] == "DATA_MESSAGE" for e in d["logEvents"]] == ["delivered"]
    # The role loses kinesis:PutRecord: the next batch is not delivered (AWS drops it after
    # retrying; the AWS/Logs DeliveryErrors metric counts it).
    _set_policy(aws_client, role, _allow("kinesis:DescribeStream", stream_arn))
    put_events(group, ["refused"], account_id=member)
    local_aws.flush()
    data = [r["payload"] for r in read_stream(stream)]
    assert [e["message"] for d in data if d["messageType"] == "DATA_MESSAGE" for e in d["logEvents"]] == ["delivered"]
    failed = [b for b in service_roles.failed_log_batches() if b["logGroup"] == group]
    assert [e["message"] for b in failed for e in b["events"]] == ["refused"]
    assert failed[0]["role"] == role and failed[0]["target"] == stream_arn


# --------------------------------------------------------------------------- Firehose

def _s3_keys(s3, bucket, prefix=""):
    return [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix=prefix).get("Contents", [])]


def test_firehose_writes_to_s3_only_with_put_object(local_aws, aws_client, unique):
    s3, firehose, logs = aws_client("s3"), aws_client("firehose"), aws_client("logs")
    bucket, name, group = unique("sr-fh"), unique("sr-fh"), unique("/aws/kinesisfirehose/sr-")
    s3.create_bucket(Bucket=bucket)
    logs.create_log_group(logGroupName=group)
    role = _role(aws_client, unique, _allow("logs:PutLogEvents", "arn:aws:logs:us-east-1:123456789012:log-group:%s:*" % group))
    firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % bucket, "Prefix": "ok/",
        "CloudWatchLoggingOptions": {"Enabled": True, "LogGroupName": group, "LogStreamName": "DestinationDelivery"}})
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"one\n"})
    local_aws.flush()
    assert _s3_keys(s3, bucket) == []
    events = logs.get_log_events(logGroupName=group, logStreamName="DestinationDelivery")["events"]
    error = json.loads(events[-1]["message"])
    assert error["errorCode"] == "S3.AccessDenied" and error["destination"] == "arn:aws:s3:::%s" % bucket
    # Firehose retries: once the role may write, the same records arrive.
    _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
    local_aws.flush()
    keys = _s3_keys(s3, bucket, "ok/")
    assert len(keys) == 1 and s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read() == b"one\n"


def test_firehose_needs_the_kms_key(local_aws, aws_client, unique):
    s3, firehose, kms = aws_client("s3"), aws_client("firehose"), aws_client("kms")
    bucket, name = unique("sr-kms"), unique("sr-kms")
    s3.create_bucket(Bucket=bucket)
    key = kms.create_key()["KeyMetadata"]["Arn"]
    role = _role(aws_client, unique, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
    firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % bucket,
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}})
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"secret\n"})
    local_aws.flush()
    assert _s3_keys(s3, bucket) == []
    assert service_roles.denials()[-1]["action"] == "kms:GenerateDataKey"
    # scoped to S3 with kms:ViaService, as AWS's Firehose policy example does
    _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket),
                _allow("kms:GenerateDataKey", key, Condition={"StringEquals": {"kms:ViaService": "s3.us-east-1.amazonaws.com"}}))
    local_aws.flush()
    assert len(_s3_keys(s3, bucket)) == 1


PROCESSOR = '''
import base64
def handler(event, context):
    return {"records": [{"recordId": r["recordId"], "result": "Ok", "data": r["data"]} for r in event["records"]]}
'''


def _zip(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


def test_firehose_needs_invoke_function_for_its_processor(local_aws, aws_client, unique, grant):
    s3, firehose, lam = aws_client("s3"), aws_client("firehose"), aws_client("lambda")
    bucket, name = unique("sr-proc"), unique("sr-proc")
    s3.create_bucket(Bucket=bucket)
    fn_role = grant(_role(aws_client, unique, trust=LAMBDA_TRUST))
    fn = lam.create_function(FunctionName=unique("sr-proc"), Runtime="python3.11", Role=fn_role, Handler="app.handler",
                             Code={"ZipFile": _zip(PROCESSOR)}, Timeout=30)["FunctionArn"]
    role = _role(aws_client, unique, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
    firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % bucket, "Prefix": "ok/",
        "ErrorOutputPrefix": "failed/!{firehose:error-output-type}/",
        "ProcessingConfiguration": {"Enabled": True, "Processors": [
            {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": fn}]}]}})
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"x\n"})
    local_aws.flush()
    keys = _s3_keys(s3, bucket)
    assert len(keys) == 1 and keys[0].startswith("failed/processing-failed/")
    line = json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())
    assert line["errorCode"] == "Lambda.InvokeAccessDenied" and line["lambdaArn"] == fn
    _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket),
                _allow(["lambda:InvokeFunction", "lambda:GetFunctionConfiguration"], fn + "*"))
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b"y\n"})
    local_aws.flush()
    ok = _s3_keys(s3, bucket, "ok/")
    assert len(ok) == 1 and s3.get_object(Bucket=bucket, Key=ok[0])["Body"].read() == b"y\n"


# --------------------------------------------------------------------------- Lambda

READER = '''
import os
import boto3
def handler(event, context):
    try:
        boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="k/" + context.aws_request_id, Body=b"x")
    except Exception as exc:
        return {"error": exc.response["Error"]["Code"], "message": exc.response["Error"]["Message"]}
    return {"ok": True}
'''

KINESIS_READ = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"]


def test_function_calls_use_the_execution_role(aws_client, unique):
    s3, lam = aws_client("s3"), aws_client("lambda")
    bucket = unique("sr-own")
    s3.create_bucket(Bucket=bucket)
    role = _role(aws_client, unique, _allow("s3:GetObject", "arn:aws:s3:::%s/*" % bucket), trust=LAMBDA_TRUST)
    fn = lam.create_function(FunctionName=unique("sr-own"), Runtime="python3.11", Role=role, Handler="app.handler",
                             Code={"ZipFile": _zip(READER)}, Timeout=30, Environment={"Variables": {"BUCKET": bucket}})
    out = json.loads(lam.invoke(FunctionName=fn["FunctionName"])["Payload"].read())
    assert out["error"] == "AccessDenied"
    assert out["message"].startswith("User: arn:aws:sts::123456789012:assumed-role/%s/" % role.rsplit("/", 1)[-1])
    assert "is not authorized to perform: s3:PutObject on resource: arn:aws:s3:::%s/k/" % bucket in out["message"]
    assert _s3_keys(s3, bucket) == []
    _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
    assert json.loads(lam.invoke(FunctionName=fn["FunctionName"])["Payload"].read()) == {"ok": True}
    assert len(_s3_keys(s3, bucket)) == 1


def test_mapping_needs_the_execution_role_to_read_the_stream(local_aws, aws_client, unique, kinesis_stream):
    s3, lam, kinesis = aws_client("s3"), aws_client("lambda"), aws_client("kinesis")
    bucket, stream = unique("sr-esm"), unique("sr-esm")
    s3.create_bucket(Bucket=bucket)
    stream_arn = kinesis_stream(stream)
    role = _role(aws_client, unique, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket), trust=LAMBDA_TRUST)
    fn = lam.create_function(FunctionName=unique("sr-esm"), Runtime="python3.11", Role=role, Handler="app.handler",
                             Code={"ZipFile": _zip(READER)}, Timeout=30, Environment={"Variables": {"BUCKET": bucket}})
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(FunctionName=fn["FunctionArn"], EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON")
    assert _error(caught) == ("InvalidParameterValueException", (
        "Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, "
        "DescribeStream, ListShards, and ListStreams Actions on your stream in IAM." % stream_arn))
    _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket), _allow(KINESIS_READ, stream_arn))
    mapping = lam.create_event_source_mapping(FunctionName=fn["FunctionArn"], EventSourceArn=stream_arn,
                                              StartingPosition="TRIM_HORIZON")
    try:
        # The role loses read access after the mapping exists: the mapping stops making progress.
        _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
        kinesis.put_record(StreamName=stream, Data=b"r", PartitionKey="p")
        local_aws.flush()
        assert _s3_keys(s3, bucket) == []
        result = lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"]
        assert result.startswith("PROBLEM:") and "kinesis:GetShardIterator" in result
        _set_policy(aws_client, role, _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket), _allow(KINESIS_READ, stream_arn))
        local_aws.flush()
        assert len(_s3_keys(s3, bucket)) == 1
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


FAILING = '''
def handler(event, context):
    raise RuntimeError("always")
'''


def test_on_failure_destination_needs_the_execution_role(local_aws, aws_client, unique, kinesis_stream):
    s3, lam, kinesis = aws_client("s3"), aws_client("lambda"), aws_client("kinesis")
    bucket, stream = unique("sr-dlq"), unique("sr-dlq")
    s3.create_bucket(Bucket=bucket)
    stream_arn = kinesis_stream(stream)
    role = _role(aws_client, unique, _allow(KINESIS_READ, stream_arn), trust=LAMBDA_TRUST)
    fn = lam.create_function(FunctionName=unique("sr-dlq"), Runtime="python3.11", Role=role, Handler="app.handler",
                             Code={"ZipFile": _zip(FAILING)}, Timeout=30)
    mapping = lam.create_event_source_mapping(
        FunctionName=fn["FunctionArn"], EventSourceArn=stream_arn, StartingPosition="TRIM_HORIZON", MaximumRetryAttempts=0,
        DestinationConfig={"OnFailure": {"Destination": "arn:aws:s3:::%s" % bucket}})
    try:
        kinesis.put_record(StreamName=stream, Data=b"r", PartitionKey="p")
        local_aws.flush()
        assert _s3_keys(s3, bucket) == []
        assert any(d["where"] == "Lambda on-failure destination" and d["action"] == "s3:PutObject"
                   for d in service_roles.denials() if d["role"] == role)
        _set_policy(aws_client, role, _allow(KINESIS_READ, stream_arn), _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket))
        local_aws.flush()
        keys = _s3_keys(s3, bucket, "aws/lambda/")
        assert len(keys) == 1
        assert json.loads(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read())["KinesisBatchInfo"]["streamArn"] == stream_arn
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


PRINTER = '''
def handler(event, context):
    print("hello")
    return None
'''


def test_function_logs_need_the_execution_role(aws_client, unique):
    lam, logs = aws_client("lambda"), aws_client("logs")
    name = unique("sr-logs")
    group = "/aws/lambda/%s" % name
    role = _role(aws_client, unique, _allow("s3:GetObject", "*"), trust=LAMBDA_TRUST)
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip(PRINTER)}, Timeout=30)
    lam.invoke(FunctionName=name)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] == []
    _set_policy(aws_client, role, _allow(["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
                                         "arn:aws:logs:us-east-1:123456789012:log-group:%s:*" % group))
    lam.invoke(FunctionName=name)
    messages = [e["message"] for e in logs.filter_log_events(logGroupName=group)["events"]]
    assert "hello" in messages


def test_a_denial_that_repeats_is_logged_once_and_listed_every_time(caplog):
    """The same kind of denial (a canary's role that may not create its Lambda log group, at every firing, in every
    account and region) is one WARNING line, then DEBUG; another kind (another action, role name or group) is a
    WARNING of its own; denials() lists each one."""
    service_roles.reset()
    role = "arn:aws:iam::111111111111:role/logvault/logvault-canary"
    group = "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/logvault-canary:*"
    same_kind = [(role, group), (role, group), (role, group.replace("us-east-1", "ap-northeast-2")),
                 (role.replace("111111111111", "222222222222"), group.replace("111111111111", "222222222222"))]
    other_kinds = [(role.replace("logvault-canary", "other"), group), (role, group.replace("logvault-canary", "other"))]
    with caplog.at_level(logging.DEBUG, logger="local_aws.service_roles"):
        for who, what in same_kind + other_kinds:
            service_roles._record(who, "logs:CreateLogGroup", what, service_roles.IMPLICIT_DENY, "Lambda function logs")
        service_roles._record(role, "logs:PutLogEvents", group, service_roles.IMPLICIT_DENY, "Lambda function logs")
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 4, warnings
    assert warnings[0].startswith("Lambda function logs: role %s may not logs:CreateLogGroup on %s (ImplicitDeny)" % (role, group))
    assert warnings[0].endswith("(once for this role and resource in any account and region)")
    assert "role/logvault/other" in warnings[1] and "/aws/lambda/other" in warnings[2] and "logs:PutLogEvents" in warnings[3]
    again = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert len(again) == 3 and all(m.endswith("(again)") for m in again)
    assert "ap-northeast-2" in again[1] and "222222222222" in again[2]
    assert len(service_roles.denials()) == 7
    service_roles.reset()
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="local_aws.service_roles"):
        service_roles._record(role, "logs:CreateLogGroup", group, service_roles.IMPLICIT_DENY, "Lambda function logs")
    assert len(caplog.records) == 1, "reset() forgets what was logged"
