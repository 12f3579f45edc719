# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Bucket-policy conditions are evaluated (local_aws/services/s3_policy.py)."""

import json

import botocore.exceptions
import pytest

from local_aws.services import s3_policy


def _policy(bucket, effect, condition=None, action="s3:*"):
    statement = {
        "Sid": "Rule",
        "Effect": effect,
        "Principal": "*",
        "Action": action,
        "Resource": ["arn:aws:s3:::%s" % bucket, "arn:aws:s3:::%s/*" % bucket],
    }
    if condition:
        statement["Condition"] = condition
    return json.dumps({"Version": "2012-10-17", "Statement": [statement]})


@pytest.fixture()
def bucket(aws_client, unique):
    name = unique("policy")
    aws_client("s3").create_bucket(Bucket=name)
    return name


def test_tls_only_policy_allows_requests_through_the_emulator(aws_client, bucket):
    s3 = aws_client("s3")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, "Deny", {"Bool": {"aws:SecureTransport": "false"}}))
    s3.put_object(Bucket=bucket, Key="k", Body=b"archived")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"archived"


def test_a_deny_whose_condition_holds_still_denies(aws_client, bucket):
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=_policy(bucket, "Deny", {"Bool": {"aws:SecureTransport": "true"}}, action="s3:GetObject"),
    )
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_an_unconditional_deny_denies(aws_client, bucket):
    s3 = aws_client("s3")
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    s3.put_bucket_policy(Bucket=bucket, Policy=_policy(bucket, "Deny", action="s3:GetObject"))
    with pytest.raises(botocore.exceptions.ClientError) as err:
        s3.get_object(Bucket=bucket, Key="k")
    assert err.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


@pytest.mark.parametrize("operator,key,expected,result", [
    ("Bool", "aws:SecureTransport", "false", False),
    ("Bool", "aws:SecureTransport", "true", True),
    ("Bool", "aws:SecureTransport", ["false", "true"], True),
    ("NumericLessThan", "s3:TlsVersion", "1.2", False),
    ("NumericGreaterThanEquals", "s3:TlsVersion", "1.2", True),
    ("StringNotEquals", "aws:SecureTransport", "false", True),
    ("StringLikeIfExists", "aws:PrincipalArn", "arn:aws:iam::*:role/x", True),
])
def test_condition_operators(operator, key, expected, result):
    assert s3_policy.condition_holds(operator, key, expected) is result


def test_conditions_the_emulator_cannot_evaluate_never_apply():
    assert s3_policy.condition_holds("ArnNotLike", "aws:PrincipalArn", "arn:aws:iam::1:role/glass") is s3_policy._UNKNOWN
    assert s3_policy.condition_holds("DateGreaterThan", "aws:CurrentTime", "2020-01-01T00:00:00Z") is s3_policy._UNKNOWN
    assert s3_policy.statement_conditions_hold({"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::1:role/glass"}}) is False
    assert s3_policy.statement_conditions_hold(None) is True
