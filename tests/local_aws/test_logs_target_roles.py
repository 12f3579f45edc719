# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``roleArn`` by subscription target, as AWS checks it (moto accepted any combination).

A Kinesis or Firehose stream of the caller's own account is written by CloudWatch Logs
with the role the caller passes, so the role is required; a Lambda function is invoked
under its resource policy, so a role is refused; a logical destination needs none from
its own account. Pages: API_PutSubscriptionFilter (roleArn), AWS::Logs::SubscriptionFilter
(RoleArn: "For Lambda and CloudWatch Logs destinations, don't specify this property"),
API_PutAccountPolicy (the subscription filter policy's RoleArn). The messages are AWS's
answers as users reported them (AWS does not document the wording).
"""

import io
import json
import zipfile

import botocore.exceptions
import pytest

CENTRAL = "123456789012"
ROLE = "arn:aws:iam::%s:role/CWLtoKinesisRole" % CENTRAL
TYPE = "SUBSCRIPTION_FILTER_POLICY"


def _error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def _filters(logs, group):
    return logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]


@pytest.fixture()
def stream(unique, kinesis_stream):
    name = unique("direct")
    return name, kinesis_stream(name)


def test_kinesis_without_role_is_refused_and_nothing_is_created(unique, stream, log_group, read_stream):
    group = unique("/direct")
    logs = log_group(group)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream[1])
    assert _error(excinfo) == ("InvalidParameterException", "destinationArn for vendor kinesis cannot be used without roleArn")
    assert _filters(logs, group) == []
    assert read_stream(stream[0]) == []  # no CONTROL_MESSAGE either


def test_kinesis_with_role_is_accepted(unique, stream, log_group, read_stream):
    group = unique("/direct")
    logs = log_group(group)
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=stream[1], roleArn=ROLE)
    assert [(f["destinationArn"], f["roleArn"]) for f in _filters(logs, group)] == [(stream[1], ROLE)]
    assert [r["payload"]["messageType"] for r in read_stream(stream[0])] == ["CONTROL_MESSAGE"]


def test_firehose_without_role_is_refused(unique, log_group):
    group = unique("/direct")
    logs = log_group(group)
    target = "arn:aws:firehose:us-east-1:%s:deliverystream/%s" % (CENTRAL, unique("fh"))
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=target)
    assert _error(excinfo) == ("InvalidParameterException", "destinationArn for vendor firehose cannot be used without roleArn")
    assert _filters(logs, group) == []


def test_lambda_with_role_is_refused(aws_client, unique, log_group):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("handler.py", "def handler(event, context):\n    return None\n")
    role = aws_client("iam").create_role(RoleName=unique("fn"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    function = aws_client("lambda").create_function(
        FunctionName=unique("sub"), Runtime="python3.11", Handler="handler.handler", Role=role,
        Code={"ZipFile": buf.getvalue()})
    group = unique("/direct")
    logs = log_group(group)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="",
                                     destinationArn=function["FunctionArn"], roleArn=ROLE)
    assert _error(excinfo) == ("InvalidParameterException", "destinationArn for vendor lambda cannot be used with roleArn")
    assert _filters(logs, group) == []
    logs.put_subscription_filter(logGroupName=group, filterName="f", filterPattern="", destinationArn=function["FunctionArn"])
    assert [f["destinationArn"] for f in _filters(logs, group)] == [function["FunctionArn"]]


def test_account_policy_onto_kinesis_needs_the_documents_role(aws_client, unique, stream):
    logs = aws_client("logs", region="us-east-1")
    name = unique("policy")
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        logs.put_account_policy(policyName=name, policyType=TYPE,
                                policyDocument=json.dumps({"DestinationArn": stream[1]}))
    assert _error(excinfo) == ("InvalidParameterException", "destinationArn for vendor kinesis cannot be used without roleArn")
    assert logs.describe_account_policies(policyType=TYPE)["accountPolicies"] == []
    logs.put_account_policy(policyName=name, policyType=TYPE,
                            policyDocument=json.dumps({"DestinationArn": stream[1], "RoleArn": ROLE}))
    try:
        assert [p["policyName"] for p in logs.describe_account_policies(policyType=TYPE)["accountPolicies"]] == [name]
    finally:
        logs.delete_account_policy(policyName=name, policyType=TYPE)
