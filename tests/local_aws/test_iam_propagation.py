# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM eventual consistency (local_aws/services/strict_iam_propagation.py)."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError

from local_aws.services import strict_iam_propagation as propagation

TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"Service": [
    "logs.amazonaws.com", "firehose.amazonaws.com", "lambda.amazonaws.com"]}}]}
POLICY = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]})


@pytest.fixture()
def clock(monkeypatch):
    """The module's clock, moved by the test; propagation window 30 s."""
    state = {"now": 5_000_000.0}
    monkeypatch.setattr(propagation, "now", lambda: state["now"])
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "30")
    return state


def _error(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _role(aws_client, unique):
    iam = aws_client("iam")
    role = iam.create_role(RoleName=unique("prop"), AssumeRolePolicyDocument=json.dumps(TRUST))["Role"]
    # what the services need once the role propagated (roles' identity policies are evaluated)
    iam.put_role_policy(RoleName=role["RoleName"], PolicyName="put", PolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": ["kinesis:PutRecord", "s3:PutObject"],
                                                "Resource": "*"}]}))
    return role


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


def test_off_when_set_to_zero(aws_client, unique, monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "0")
    role = _role(aws_client, unique)
    aws_client("lambda").create_function(FunctionName=unique("fn"), Runtime="python3.12", Role=role["Arn"],
                                         Handler="app.handler", Code={"ZipFile": _zip()})


def test_the_offline_suite_is_strict_by_default(monkeypatch):
    from local_aws import settings  # pylint: disable=import-outside-toplevel
    for name in ("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "LOGVAULT_AWS_TRUST_POLICIES",
                 "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    assert 5 <= settings.get_float("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS") <= 8
    assert settings.get("LOGVAULT_AWS_TRUST_POLICIES") == "1"
    assert settings.get_float("LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS") == 3600


def test_a_role_used_at_once_is_refused_with_the_defaults(aws_client, unique, monkeypatch):
    monkeypatch.delenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", raising=False)
    role = _role(aws_client, unique)
    with pytest.raises(ClientError) as caught:
        aws_client("lambda").create_function(FunctionName=unique("fn"), Runtime="python3.12", Role=role["Arn"],
                                             Handler="app.handler", Code={"ZipFile": _zip()})
    assert caught.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_firehose_refuses_a_new_role_until_it_propagated(aws_client, unique, clock):
    s3 = aws_client("s3")
    bucket = unique("prop")
    s3.create_bucket(Bucket=bucket)
    role = _role(aws_client, unique)
    firehose = aws_client("firehose")
    config = {"RoleARN": role["Arn"], "BucketARN": "arn:aws:s3:::%s" % bucket}
    name = unique("prop")
    with pytest.raises(ClientError) as caught:
        firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=config)
    assert _error(caught) == ("InvalidArgumentException",
                              "Firehose is unable to assume role %s. Please check the role provided." % role["Arn"])
    assert name not in firehose.list_delivery_streams()["DeliveryStreamNames"]
    clock["now"] += 30
    firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=config)
    # a policy change opens the window again
    aws_client("iam").put_role_policy(RoleName=role["RoleName"], PolicyName="p", PolicyDocument=POLICY)
    with pytest.raises(ClientError) as caught:
        firehose.create_delivery_stream(DeliveryStreamName=name + "-2", ExtendedS3DestinationConfiguration=config)
    assert _error(caught)[0] == "InvalidArgumentException"


def test_cloudwatch_logs_refuses_a_new_role(aws_client, unique, clock, kinesis_stream, log_group):
    role = _role(aws_client, unique)
    stream = unique("prop")
    stream_arn = kinesis_stream(stream)
    logs = aws_client("logs")
    with pytest.raises(ClientError) as caught:
        logs.put_destination(destinationName=unique("prop"), targetArn=stream_arn, roleArn=role["Arn"])
    assert _error(caught) == ("InvalidParameterException",
                              "Could not deliver test message to specified destination. Check if the destination is valid.")
    group = unique("/prop/")
    log_group(group)
    with pytest.raises(ClientError) as caught:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn,
                                     roleArn=role["Arn"])
    assert _error(caught) == ("InvalidParameterException", "Could not deliver test message to specified Kinesis stream. "
                                                           "Check if the given kinesis stream is in ACTIVE state.")
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    with pytest.raises(ClientError) as caught:
        logs.put_account_policy(policyName=unique("prop"), policyType="SUBSCRIPTION_FILTER_POLICY",
                                policyDocument=json.dumps({"DestinationArn": stream_arn, "RoleArn": role["Arn"]}),
                                selectionCriteria='LogGroupName NOT IN ["%s"]' % group)
    assert _error(caught)[0] == "InvalidParameterException"
    clock["now"] += 31
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream_arn,
                                 roleArn=role["Arn"])
    logs.put_destination(destinationName=unique("prop"), targetArn=stream_arn, roleArn=role["Arn"])


def test_lambda_refuses_a_new_execution_role(aws_client, unique, clock, kinesis_stream):
    role = _role(aws_client, unique)
    lam = aws_client("lambda")
    name = unique("fn")
    spec = dict(FunctionName=name, Runtime="python3.12", Role=role["Arn"], Handler="app.handler", Code={"ZipFile": _zip()})
    with pytest.raises(ClientError) as caught:
        lam.create_function(**spec)
    assert _error(caught) == ("InvalidParameterValueException", "The role defined for the function cannot be assumed by Lambda.")
    clock["now"] += 31
    lam.create_function(**spec)
    stream_arn = kinesis_stream(unique("prop"))
    iam = aws_client("iam")
    policy = iam.create_policy(PolicyName=unique("kinesis-read"), PolicyDocument=POLICY)["Policy"]["Arn"]
    iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=policy)
    with pytest.raises(ClientError) as caught:
        lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST")
    assert _error(caught) == ("InvalidParameterValueException", (
        "Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, DescribeStream, "
        "ListShards, and ListStreams Actions on your stream in IAM." % stream_arn))
    clock["now"] += 31
    lam.create_event_source_mapping(FunctionName=name, EventSourceArn=stream_arn, StartingPosition="LATEST")
