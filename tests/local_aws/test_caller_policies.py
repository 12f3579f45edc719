# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callers' identity policies (issue 15 gap; issue 13 item 5; local_aws/services/caller_policies.py):
a request signed with an assumed role's credentials is allowed with the permission and refused
without it, with each service's AccessDenied answer; iam:PassRole is required where the
service requires it of the caller."""

import io
import json
import zipfile

import boto3
import pytest
from botocore.exceptions import ClientError

from local_aws.services import caller_policies

REGION = "us-east-1"


def _policy(*statements):
    return {"Version": "2012-10-17", "Statement": list(statements)}


def _allow(actions, resource="*", **extra):
    return dict({"Effect": "Allow", "Action": actions, "Resource": resource}, **extra)


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setenv(caller_policies.SETTING, "1")


@pytest.fixture()
def as_role(local_aws, aws_client, unique):
    """Factory: a role with these statements, and a client factory signed with its session."""

    def factory(*statements, account="123456789012"):
        iam = aws_client("iam", account_id=account)
        name = unique("caller")
        arn = iam.create_role(RoleName=name, AssumeRolePolicyDocument=json.dumps(_policy()))["Role"]["Arn"]
        if statements:
            iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(_policy(*statements)))
        creds = boto3.client("sts", endpoint_url=local_aws.endpoint, region_name=REGION, aws_access_key_id="testing",
                             aws_secret_access_key="testing").assume_role(RoleArn=arn, RoleSessionName="deployer")[
            "Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=REGION)
        return arn, lambda service: session.client(service, endpoint_url=local_aws.endpoint)

    return factory


def _denied(caught, code, action):
    error = caught.value.response["Error"]
    assert error["Code"] == code, error
    assert "is not authorized to perform: %s" % action in error["Message"], error
    assert ":assumed-role/" in error["Message"]


def test_logs_allowed_on_the_resource_and_refused_elsewhere(as_role, unique):
    prefix = unique("/allowed")
    dummy, client = as_role(_allow("logs:CreateLogGroup", "arn:aws:logs:*:*:log-group:%s*" % prefix))
    logs = client("logs")
    logs.create_log_group(logGroupName=prefix + "/a")
    with pytest.raises(ClientError) as caught:
        logs.create_log_group(logGroupName=unique("/other"))
    _denied(caught, "AccessDeniedException", "logs:CreateLogGroup")
    with pytest.raises(ClientError) as caught:
        logs.describe_log_groups()
    _denied(caught, "AccessDeniedException", "logs:DescribeLogGroups")
    assert caller_policies.denials()[-1]["action"] == "logs:DescribeLogGroups"


def test_switch_off_allows_everything(as_role, unique, monkeypatch):
    dummy, client = as_role()
    monkeypatch.setenv(caller_policies.SETTING, "0")
    client("logs").create_log_group(logGroupName=unique("/off"))


def test_plain_key_and_roles_unknown_to_iam_are_not_evaluated(local_aws, aws_client, unique):
    aws_client("logs").create_log_group(logGroupName=unique("/plain"))
    # local_aws.client() assumes logvault-test, which the emulator's IAM does not hold
    aws_client("logs", account_id="111111111111").create_log_group(logGroupName=unique("/unknown-role"))


def test_explicit_deny_wins(as_role, unique):
    dummy, client = as_role(_allow("logs:*"), {"Effect": "Deny", "Action": "logs:CreateLogGroup", "Resource": "*"})
    with pytest.raises(ClientError) as caught:
        client("logs").create_log_group(logGroupName=unique("/denied"))
    _denied(caught, "AccessDeniedException", "logs:CreateLogGroup")
    assert "explicit deny" in caught.value.response["Error"]["Message"]


def test_iam_query_protocol_answers_access_denied(as_role, unique):
    dummy, client = as_role(_allow(["iam:CreateRole", "iam:GetRole"], "arn:aws:iam::*:role/lvcaller-*"))
    iam = client("iam")
    iam.create_role(RoleName=unique("lvcaller"), AssumeRolePolicyDocument=json.dumps(_policy()))
    with pytest.raises(ClientError) as caught:
        iam.create_role(RoleName=unique("other"), AssumeRolePolicyDocument=json.dumps(_policy()))
    _denied(caught, "AccessDenied", "iam:CreateRole")
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_s3_bucket_and_object_resources(as_role, aws_client, unique):
    bucket = unique("caller-bucket")
    aws_client("s3").create_bucket(Bucket=bucket)
    dummy, client = as_role(_allow("s3:PutObject", "arn:aws:s3:::%s/allowed/*" % bucket),
                            _allow("s3:ListBucket", "arn:aws:s3:::%s" % bucket))
    s3 = client("s3")
    s3.put_object(Bucket=bucket, Key="allowed/x", Body=b"x")
    s3.list_objects_v2(Bucket=bucket)
    with pytest.raises(ClientError) as caught:
        s3.put_object(Bucket=bucket, Key="elsewhere/x", Body=b"x")
    _denied(caught, "AccessDenied", "s3:PutObject")
    with pytest.raises(ClientError) as caught:
        s3.get_bucket_policy(Bucket=bucket)
    _denied(caught, "AccessDenied", "s3:GetBucketPolicy")


def test_rest_json_lambda_and_kinesis_json(as_role, unique):
    dummy, client = as_role(_allow("kinesis:DescribeStreamSummary", "arn:aws:kinesis:*:*:stream/nothing"))
    with pytest.raises(ClientError) as caught:
        client("lambda").get_function(FunctionName=unique("fn"))
    _denied(caught, "AccessDeniedException", "lambda:GetFunction")
    with pytest.raises(ClientError) as caught:
        client("kinesis").describe_stream_summary(StreamName=unique("s"))
    _denied(caught, "AccessDeniedException", "kinesis:DescribeStreamSummary")
    assert "stream/lv" in caught.value.response["Error"]["Message"] or "stream/" in caught.value.response["Error"]["Message"]


def test_get_function_has_the_tags_only_for_a_caller_allowed_list_tags(as_role, aws_client, unique):
    """Lambda API reference, GetFunction: "Lambda returns tag data only if you have explicit allow permissions
    for lambda:ListTags"."""
    from local_aws import server  # pylint: disable=import-outside-toplevel
    assert server._OMIT_FUNCTION_TAGS == caller_policies.OMIT_TAGS  # pylint: disable=protected-access
    role = aws_client("iam").create_role(RoleName=unique("fn-role"), AssumeRolePolicyDocument=json.dumps(_policy(
        {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"})))["Role"]["Arn"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    name = unique("tagged")
    aws_client("lambda").create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                                         Code={"ZipFile": buf.getvalue()}, Tags={"team": "logs"})
    dummy, reader = as_role(_allow("lambda:GetFunction"))
    answer = reader("lambda").get_function(FunctionName=name)
    assert "Tags" not in answer and answer["Configuration"]["FunctionName"] == name
    dummy, tagger = as_role(_allow(["lambda:GetFunction", "lambda:ListTags"], "arn:aws:lambda:*:*:function:%s" % name))
    assert tagger("lambda").get_function(FunctionName=name)["Tags"] == {"team": "logs"}
    dummy, elsewhere = as_role(_allow("lambda:GetFunction"), _allow("lambda:ListTags", "arn:aws:lambda:*:*:function:other"))
    assert "Tags" not in elsewhere("lambda").get_function(FunctionName=name)


def test_sns_and_cloudwatch_answers(as_role):
    dummy, client = as_role()
    with pytest.raises(ClientError) as caught:
        client("sns").list_topics()
    _denied(caught, "AuthorizationError", "sns:ListTopics")
    with pytest.raises(ClientError) as caught:
        client("cloudwatch").describe_alarms()
    # JSON protocol (botocore prefers it to query): the Common Errors page's AccessDeniedException
    _denied(caught, "AccessDeniedException", "cloudwatch:DescribeAlarms")


def test_put_destination_needs_pass_role(as_role, aws_client, unique, monkeypatch):
    monkeypatch.setenv("LOGVAULT_AWS_SERVICE_ROLE_POLICIES", "0")
    kinesis = aws_client("kinesis")
    stream = unique("dest-stream")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]["StreamARN"]
    target_role = aws_client("iam").create_role(RoleName=unique("lv-cwl"), AssumeRolePolicyDocument=json.dumps(_policy(
        {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"})))["Role"]["Arn"]
    dummy, client = as_role(_allow("logs:PutDestination"))
    with pytest.raises(ClientError) as caught:
        client("logs").put_destination(destinationName=unique("d"), targetArn=stream_arn, roleArn=target_role)
    _denied(caught, "AccessDeniedException", "iam:PassRole")
    assert target_role in caught.value.response["Error"]["Message"]

    dummy, client = as_role(_allow("logs:PutDestination"), _allow("iam:PassRole", target_role, Condition={
        "StringEquals": {"iam:PassedToService": "logs.amazonaws.com"}}))
    client("logs").put_destination(destinationName=unique("d"), targetArn=stream_arn, roleArn=target_role)

    dummy, client = as_role(_allow("logs:PutDestination"), _allow("iam:PassRole", target_role, Condition={
        "StringEquals": {"iam:PassedToService": "firehose.amazonaws.com"}}))
    with pytest.raises(ClientError) as caught:
        client("logs").put_destination(destinationName=unique("d"), targetArn=stream_arn, roleArn=target_role)
    _denied(caught, "AccessDeniedException", "iam:PassRole")


def test_pass_role_inside_firehose_destinations_and_account_policies():
    params = {"DeliveryStreamName": "s", "ExtendedS3DestinationConfiguration": {
        "RoleARN": "arn:aws:iam::1:role/a", "ProcessingConfiguration": {"Processors": []}},
        "KinesisStreamSourceConfiguration": {"RoleARN": "arn:aws:iam::1:role/b"}}
    assert caller_policies.passed_roles("firehose:CreateDeliveryStream", params, "1") == [
        "arn:aws:iam::1:role/a", "arn:aws:iam::1:role/b"]
    document = json.dumps({"DestinationArn": "arn:aws:logs:us-east-1:2:destination:d", "RoleArn": "arn:aws:iam::1:role/c"})
    assert caller_policies.passed_roles("logs:PutAccountPolicy", {"policyDocument": document}, "1") == [
        "arn:aws:iam::1:role/c"]
    assert caller_policies.passed_roles("iam:AddRoleToInstanceProfile", {"RoleName": "r"}, "1") == [
        "arn:aws:iam::1:role/r"]
    assert caller_policies.passed_roles("logs:PutDestinationPolicy", {"roleArn": "x"}, "1") == []


@pytest.mark.parametrize("signing, operation, action", [
    ("logs", "PutDestination", "logs:PutDestination"),
    ("s3", "HeadBucket", "s3:ListBucket"),
    ("s3", "PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
    ("lambda", "Invoke", "lambda:InvokeFunction"),
    ("monitoring", "PutMetricAlarm", "cloudwatch:PutMetricAlarm"),
])
def test_iam_action_names(signing, operation, action):
    assert caller_policies.iam_action(signing, operation) == action


@pytest.mark.parametrize("action, params, resource", [
    ("logs:PutSubscriptionFilter", {"logGroupName": "/g"}, "arn:aws:logs:us-east-1:1:log-group:/g"),
    ("logs:PutDestinationPolicy", {"destinationName": "d"}, "arn:aws:logs:us-east-1:1:destination:d"),
    ("logs:DescribeLogGroups", {}, "arn:aws:logs:us-east-1:1:log-group::log-stream:"),  # what AWS evaluates, prefix or not
    ("iam:PutRolePolicy", {"RoleName": "r"}, "arn:aws:iam::1:role/r"),
    ("iam:AttachRolePolicy", {"RoleName": "r", "PolicyArn": "arn:aws:iam::1:policy/p"}, "arn:aws:iam::1:role/r"),
    ("iam:CreatePolicy", {"PolicyName": "p"}, "arn:aws:iam::1:policy/p"),
    ("kinesis:CreateStream", {"StreamName": "s"}, "arn:aws:kinesis:us-east-1:1:stream/s"),
    ("firehose:DescribeDeliveryStream", {"DeliveryStreamName": "f"}, "arn:aws:firehose:us-east-1:1:deliverystream/f"),
    ("lambda:GetFunction", {"FunctionName": "arn:aws:lambda:us-east-1:1:function:f:3"},
     "arn:aws:lambda:us-east-1:1:function:f"),
    ("dynamodb:DescribeTable", {"TableName": "t"}, "arn:aws:dynamodb:us-east-1:1:table/t"),
    ("sns:GetTopicAttributes", {"TopicArn": "arn:aws:sns:us-east-1:1:t"}, "arn:aws:sns:us-east-1:1:t"),
    ("events:PutRule", {"Name": "r"}, "arn:aws:events:us-east-1:1:rule/r"),
    ("es:DescribeDomain", {"DomainName": "d"}, "arn:aws:es:us-east-1:1:domain/d"),
    ("kms:DescribeKey", {"KeyId": "alias/a"}, None),  # no such alias: the action only (KMS answers NotFound)
    ("kms:CreateAlias", {"AliasName": "alias/a", "TargetKeyId": "k"}, "arn:aws:kms:us-east-1:1:alias/a"),
])
def test_resources_of_actions(action, params, resource):
    assert caller_policies.resource_of(action, params, "us-east-1", "1") == resource


def test_an_alias_names_its_key(as_role, aws_client, unique):
    kms = aws_client("kms")
    key = kms.create_key()["KeyMetadata"]["Arn"]
    alias = "alias/" + unique("lv")
    kms.create_alias(AliasName=alias, TargetKeyId=key)
    dummy, client = as_role(_allow("kms:DescribeKey", key))
    assert client("kms").describe_key(KeyId=alias)["KeyMetadata"]["Arn"] == key
    dummy, client = as_role(_allow("kms:DescribeKey", "arn:aws:kms:*:*:" + alias))
    with pytest.raises(ClientError) as caught:
        client("kms").describe_key(KeyId=alias)
    _denied(caught, "AccessDeniedException", "kms:DescribeKey")


def test_subscription_filter_account_policies_need_the_filter_permission(as_role):
    # CloudWatch Logs API reference, DescribeAccountPolicies / PutAccountPolicy
    dummy, client = as_role(_allow("logs:DescribeAccountPolicies"))
    with pytest.raises(ClientError) as caught:
        client("logs").describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")
    _denied(caught, "AccessDeniedException", "logs:DescribeSubscriptionFilters")
    dummy, client = as_role(_allow(["logs:DescribeAccountPolicies", "logs:DescribeSubscriptionFilters"]))
    client("logs").describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")


def test_describe_log_groups_is_evaluated_on_the_account_wide_arn_aws_names(as_role, unique):
    # AWS evaluates DescribeLogGroups on arn:aws:logs:REGION:ACCOUNT:log-group::log-stream: (the
    # resource its AccessDenied answers name), whatever prefix is asked for: a grant on a pattern of
    # group names never allows it, a grant on log-group:* does.
    prefix = unique("/scoped")
    dummy, client = as_role(_allow("logs:DescribeLogGroups", "arn:aws:logs:*:*:log-group:%s*" % prefix))
    with pytest.raises(ClientError) as caught:
        client("logs").describe_log_groups(logGroupNamePrefix=prefix)
    _denied(caught, "AccessDeniedException", "logs:DescribeLogGroups")
    assert caller_policies.denials()[-1]["resource"] == "arn:aws:logs:%s:123456789012:log-group::log-stream:" % REGION
    dummy, client = as_role(_allow("logs:DescribeLogGroups", "arn:aws:logs:*:*:log-group:*"))
    assert client("logs").describe_log_groups(logGroupNamePrefix=prefix)["logGroups"] == []
