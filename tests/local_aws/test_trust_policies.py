# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Trust policies with the documented context (local_aws/services/trust.py)."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import trust


@pytest.fixture()
def strict(monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "1")
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "0")  # trust alone, not propagation


def _trust(service, condition=None, effect="Allow"):
    statement = {"Effect": effect, "Action": "sts:AssumeRole", "Principal": {"Service": service}}
    if condition:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def _role(aws_client, unique, document):
    iam = aws_client("iam")
    role = iam.create_role(RoleName=unique("trust"), AssumeRolePolicyDocument=json.dumps(document))["Role"]
    # what the services need once they assumed the role (roles' identity policies are evaluated)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "s3:PutObject"],
                                                "Resource": "*"}]}))
    return role["Arn"]


def _code(caught):
    return caught.value.response["Error"]["Code"]


@pytest.mark.parametrize("document, context, allowed", [
    (_trust("firehose.amazonaws.com"), {"sts:ExternalId": "123456789012"}, True),
    (_trust("firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": "123456789012"}}), {"sts:ExternalId": "123456789012"}, True),
    (_trust("firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": "999999999999"}}), {"sts:ExternalId": "123456789012"}, False),
    # a key the service does not send: the condition does not hold
    (_trust("firehose.amazonaws.com", {"StringEquals": {"aws:SourceAccount": "123456789012"}}), {"sts:ExternalId": "123456789012"}, False),
    (_trust("lambda.amazonaws.com"), {"sts:ExternalId": "123456789012"}, False),   # wrong principal
    (_trust(["lambda.amazonaws.com", "firehose.amazonaws.com"]), {}, True),
    ({"Version": "2012-10-17", "Statement": [_trust("firehose.amazonaws.com")["Statement"][0],
                                             _trust("firehose.amazonaws.com", effect="Deny")["Statement"][0]]}, {}, False),
])
def test_trust_evaluation(aws_client, unique, document, context, allowed):
    role = _role(aws_client, unique, document)
    assert trust.assume_allowed(role, "firehose", "us-east-1", context) is allowed


def test_missing_role_cannot_be_assumed():
    assert trust.assume_allowed("arn:aws:iam::123456789012:role/does-not-exist", "lambda", "us-east-1", {}) is False


def test_firehose_refuses_a_role_it_cannot_assume(aws_client, unique, strict):
    bucket = unique("trust")
    aws_client("s3").create_bucket(Bucket=bucket)
    wrong = _role(aws_client, unique, _trust("lambda.amazonaws.com"))
    firehose = aws_client("firehose")
    with pytest.raises(ClientError) as caught:
        firehose.create_delivery_stream(DeliveryStreamName=unique("trust"), ExtendedS3DestinationConfiguration={
            "RoleARN": wrong, "BucketARN": "arn:aws:s3:::%s" % bucket})
    assert _code(caught) == "InvalidArgumentException"
    assert caught.value.response["Error"]["Message"] == (
        "Firehose is unable to assume role %s. Please check the role provided." % wrong)
    right = _role(aws_client, unique, _trust("firehose.amazonaws.com", {"StringEquals": {"sts:ExternalId": "123456789012"}}))
    firehose.create_delivery_stream(DeliveryStreamName=unique("trust"), ExtendedS3DestinationConfiguration={
        "RoleARN": right, "BucketARN": "arn:aws:s3:::%s" % bucket})


def test_logs_sees_source_arn_and_account(aws_client, unique, strict, kinesis_stream, log_group):
    stream_arn = kinesis_stream(unique("trust"))
    group = unique("/trust/")
    log_group(group)
    logs = aws_client("logs")
    # conditioned on the account's logs ARNs, as AWS's example: allowed
    good = _role(aws_client, unique, _trust("logs.amazonaws.com", {
        "StringLike": {"aws:SourceArn": "arn:aws:logs:us-east-1:123456789012:*"}}))
    logs.put_subscription_filter(logGroupName=group, filterName="ok", filterPattern="", destinationArn=stream_arn, roleArn=good)
    # conditioned on a key CloudWatch Logs does not send: refused
    bad = _role(aws_client, unique, _trust("logs.amazonaws.com", {"StringEquals": {"sts:ExternalId": "123456789012"}}))
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="bad", filterPattern="", destinationArn=stream_arn,
                                     roleArn=bad)
    assert _code(caught) == "InvalidParameterException"
    with pytest.raises(ClientError) as caught:
        logs.put_destination(destinationName=unique("trust"), targetArn=stream_arn, roleArn=bad)
    assert _code(caught) == "InvalidParameterException"
    logs.put_destination(destinationName=unique("trust"), targetArn=stream_arn, roleArn=good)


def test_lambda_refuses_a_role_without_its_principal(aws_client, unique, strict):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    role = _role(aws_client, unique, _trust("lambda.amazonaws.com", {"StringEquals": {"aws:SourceAccount": "123456789012"}}))
    with pytest.raises(ClientError) as caught:
        aws_client("lambda").create_function(FunctionName=unique("trust"), Runtime="python3.12", Role=role,
                                             Handler="app.handler", Code={"ZipFile": buf.getvalue()})
    assert caught.value.response["Error"]["Message"] == "The role defined for the function cannot be assumed by Lambda."
