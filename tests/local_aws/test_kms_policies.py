# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS key policies evaluated with the caller's IAM policy (issue 15 item 4;
local_aws/services/kms_policies.py): allowed and refused, with each service's answer."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import kms_policies, service_roles

ACCOUNT = "123456789012"
ROOT = "arn:aws:iam::%s:root" % ACCOUNT
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
KEY = "arn:aws:kms:us-east-1:%s:key/k" % ACCOUNT
STREAM = "arn:aws:kinesis:us-east-1:%s:stream/hub" % ACCOUNT


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setenv(kms_policies.SETTING, "1")
    monkeypatch.setenv(service_roles.SETTING, "1")


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _admin():
    return {"Sid": "Admin", "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": ["kms:Describe*", "kms:PutKeyPolicy"],
            "Resource": "*"}


def _kinesis_statement(stream_arn):
    # the statement the central_account role renders (KinesisStreamOfThisPipeline)
    return {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
            "Condition": {"StringEquals": {"kms:CallerAccount": ACCOUNT, "kms:ViaService": "kinesis.us-east-1.amazonaws.com",
                                           "kms:EncryptionContext:aws:kinesis:arn": stream_arn}}}


CALLER = {"arn": "arn:aws:iam::%s:role/r" % ACCOUNT, "account": ACCOUNT}


@pytest.mark.parametrize("statements, caller, context, expected", [
    # the account principal enables IAM: the key policy says "via account"
    ([_kinesis_statement(STREAM)], CALLER, dict(kms_policies.kinesis_context("us-east-1", STREAM), **{"kms:CallerAccount": ACCOUNT}),
     (service_roles.ALLOW, "account")),
    # another stream's encryption context, or another service
    ([_kinesis_statement(STREAM)], CALLER, dict(kms_policies.kinesis_context("us-east-1", STREAM + "-x"), **{"kms:CallerAccount": ACCOUNT}),
     (service_roles.IMPLICIT_DENY, None)),
    ([_kinesis_statement(STREAM)], CALLER, dict(kms_policies.s3_context("us-east-1", "b", "k"), **{"kms:CallerAccount": ACCOUNT}),
     (service_roles.IMPLICIT_DENY, None)),
    # the role itself
    ([{"Effect": "Allow", "Principal": {"AWS": CALLER["arn"]}, "Action": "kms:GenerateDataKey", "Resource": "*"}], CALLER, {},
     (service_roles.ALLOW, "direct")),
    # an explicit deny wins
    ([{"Effect": "Allow", "Principal": {"AWS": CALLER["arn"]}, "Action": "kms:*", "Resource": "*"},
      {"Effect": "Deny", "Principal": "*", "Action": "kms:GenerateDataKey", "Resource": "*"}], CALLER, {},
     (service_roles.EXPLICIT_DENY, None)),
    # a service principal with the encryption context of its resource
    ([{"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
       "Resource": "*", "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:1:log-group:g"}}}],
     {"service": "logs.us-east-1.amazonaws.com"}, {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:1:log-group:g"},
     (service_roles.ALLOW, "direct")),
    ([{"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": "kms:GenerateDataKey*",
       "Resource": "*"}], {"service": "cloudwatch.amazonaws.com"}, {}, (service_roles.IMPLICIT_DENY, None)),
])
def test_key_policy_evaluation(statements, caller, context, expected):
    assert kms_policies.key_policy_verdict(_policy(*statements), "kms:GenerateDataKey", caller, context) == expected


def _key(aws_client, *statements):
    return aws_client("kms").create_key(Policy=json.dumps(_policy(_admin(), *statements)))["KeyMetadata"]["Arn"]


def _role(aws_client, unique, *statements, trust=None):
    iam = aws_client("iam")
    role = iam.create_role(RoleName=unique("kp"), AssumeRolePolicyDocument=json.dumps(trust or {}))["Role"]
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=json.dumps(_policy(*statements)))
    return role["Arn"]


def _allow(actions, resource):
    return {"Effect": "Allow", "Action": actions, "Resource": resource}


def _error(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def test_account_principal_needs_the_role_policy_too(aws_client, unique):
    key = _key(aws_client, {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:Decrypt", "Resource": "*"})
    without = _role(aws_client, unique, _allow("s3:GetObject", "*"))
    with_it = _role(aws_client, unique, _allow("kms:Decrypt", key))
    assert kms_policies.evaluate(key, "kms:Decrypt", kms_policies.role_caller(without), {}) == service_roles.IMPLICIT_DENY
    assert kms_policies.evaluate(key, "kms:Decrypt", kms_policies.role_caller(with_it), {}) == service_roles.ALLOW


# --------------------------------------------------------------------------- encrypted log groups

def test_encrypted_log_group_needs_the_logs_principal(aws_client, unique):
    logs = aws_client("logs")
    group = unique("/kp/")
    arn = "arn:aws:logs:us-east-1:%s:log-group:%s" % (ACCOUNT, group)
    refused = _key(aws_client)
    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName=group, kmsKeyId=refused)
    assert _error(caught) == ("AccessDeniedException",
                              "The specified KMS key does not exist or is not allowed to be used with Arn '%s'" % arn)
    other = _key(aws_client, {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                              "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*",
                              "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn + "-other"}}})
    with pytest.raises(ClientError):
        logs.create_log_group(logGroupName=group, kmsKeyId=other)
    allowed = _key(aws_client, {"Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"},
                                "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:GenerateDataKey*"], "Resource": "*",
                                "Condition": {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": arn}}})
    logs.create_log_group(logGroupName=group, kmsKeyId=allowed)
    assert logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"][0]["kmsKeyId"] == allowed


# --------------------------------------------------------------------------- Kinesis with a CMK

def _encrypted_stream(aws_client, unique, key):
    kinesis = aws_client("kinesis")
    name = unique("kp")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId=key)
    return name, kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]


def test_cloudwatch_logs_needs_the_stream_key(aws_client, unique, log_group):
    key = _key(aws_client)
    name, stream_arn = _encrypted_stream(aws_client, unique, key)
    role = _role(aws_client, unique, _allow("kinesis:PutRecord", stream_arn), _allow("kms:GenerateDataKey", key))
    group = unique("/kp/")
    log_group(group)
    logs = aws_client("logs")
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn, roleArn=role)
    assert _error(caught) == ("InvalidParameterException", "Could not deliver test message to specified Kinesis stream. "
                                                           "Check if the given kinesis stream is in ACTIVE state.")
    aws_client("kms").put_key_policy(KeyId=key, PolicyName="default",
                                     Policy=json.dumps(_policy(_admin(), _kinesis_statement(stream_arn))))
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn, roleArn=role)
    assert name


READER = '''
def handler(event, context):
    return None
'''


def _zip(source):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", source)
    return buf.getvalue()


def test_mapping_needs_decrypt_on_the_stream_key(local_aws, aws_client, unique):
    key = _key(aws_client)
    name, stream_arn = _encrypted_stream(aws_client, unique, key)
    aws_client("kms").put_key_policy(KeyId=key, PolicyName="default",
                                     Policy=json.dumps(_policy(_admin(), _kinesis_statement(stream_arn))))
    read = ["kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"]
    role = _role(aws_client, unique, _allow(read, stream_arn), trust=LAMBDA_TRUST)
    lam = aws_client("lambda")
    fn = lam.create_function(FunctionName=unique("kp"), Runtime="python3.11", Role=role, Handler="app.handler",
                             Code={"ZipFile": _zip(READER)}, Timeout=30)
    mapping = lam.create_event_source_mapping(FunctionName=fn["FunctionArn"], EventSourceArn=stream_arn,
                                              StartingPosition="TRIM_HORIZON")
    try:
        aws_client("kinesis").put_record(StreamName=name, Data=b"r", PartitionKey="p")
        local_aws.flush()
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"].startswith("PROBLEM:")
        aws_client("iam").put_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName="p", PolicyDocument=json.dumps(
            _policy(_allow(read, stream_arn), _allow("kms:Decrypt", key))))
        local_aws.flush()
        assert lam.get_event_source_mapping(UUID=mapping["UUID"])["LastProcessingResult"] == "OK"
    finally:
        lam.delete_event_source_mapping(UUID=mapping["UUID"])


# --------------------------------------------------------------------------- SNS with a CMK, S3 SSE-KMS

PUBLISHER = '''
import os
import boto3
def handler(event, context):
    out = {}
    try:
        boto3.client("sns").publish(TopicArn=os.environ["TOPIC"], Message="m")
        out["sns"] = "ok"
    except Exception as exc:
        out["sns"] = [exc.response["Error"]["Code"], exc.response["Error"]["Message"]]
    try:
        boto3.client("s3").put_object(Bucket=os.environ["BUCKET"], Key="k", Body=b"x")
        out["s3"] = "ok"
    except Exception as exc:
        out["s3"] = [exc.response["Error"]["Code"], exc.response["Error"]["Message"]]
    return out
'''


def test_function_needs_the_topic_and_bucket_keys(aws_client, unique):
    key = _key(aws_client)
    topic = aws_client("sns").create_topic(Name=unique("kp"), Attributes={"KmsMasterKeyId": key})["TopicArn"]
    bucket = unique("kp")
    s3 = aws_client("s3")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_encryption(Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": [{
        "ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key}}]})
    role = _role(aws_client, unique, _allow("sns:Publish", topic), _allow("s3:PutObject", "arn:aws:s3:::%s/*" % bucket),
                 _allow(["kms:GenerateDataKey", "kms:Decrypt"], key), trust=LAMBDA_TRUST)
    lam = aws_client("lambda")
    fn = lam.create_function(FunctionName=unique("kp"), Runtime="python3.11", Role=role, Handler="app.handler",
                             Code={"ZipFile": _zip(PUBLISHER)}, Timeout=30,
                             Environment={"Variables": {"TOPIC": topic, "BUCKET": bucket}})["FunctionName"]
    out = json.loads(lam.invoke(FunctionName=fn)["Payload"].read())
    assert out["sns"][0] == "KMSAccessDenied" and "kms:GenerateDataKey on resource: %s" % key in out["sns"][1]
    assert out["s3"][0] == "AccessDenied" and "kms:GenerateDataKey on resource: %s" % key in out["s3"][1]
    aws_client("kms").put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps(_policy(_admin(), {
        "Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*",
        "Condition": {"StringEquals": {"kms:ViaService": ["sns.us-east-1.amazonaws.com", "s3.us-east-1.amazonaws.com"]}}})))
    assert json.loads(lam.invoke(FunctionName=fn)["Payload"].read()) == {"sns": "ok", "s3": "ok"}
