# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Condition operators on keys that are not in the request context (issue 15, IAM gaps).

IAM User Guide, "IAM JSON policy elements: Condition operators"
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html):
an absent key makes a condition false, except that a negated operator (StringNotEquals,
ArnNotLike...) is then true; ``...IfExists`` is true and ``Null`` tests presence. The emulator
applies this to the keys its service contexts set whenever AWS sends them (aws:SourceArn,
aws:SourceAccount, sts:ExternalId, kms:ViaService, kms:EncryptionContext:*); a key it does
not model stays unknown (the statement does not apply).
"""

import pytest

from local_aws.services import s3_policy, trust

UNKNOWN = s3_policy._UNKNOWN  # pylint: disable=protected-access
LAMBDA_CONTEXT = {}  # Lambda sends no condition keys when it assumes an execution role
LOGS_CONTEXT = {"aws:sourcearn": "arn:aws:logs:us-east-1:111111111111:*", "aws:sourceaccount": "111111111111"}


@pytest.mark.parametrize("operator,key,expected,result", [
    # negated operators on an absent key: true
    ("StringNotEquals", "aws:SourceAccount", "999999999999", True),
    ("StringNotLike", "aws:SourceArn", "arn:aws:logs:*", True),
    ("ArnNotLike", "aws:SourceArn", "arn:aws:logs:*:999999999999:*", True),
    ("ArnNotEquals", "aws:SourceArn", "arn:aws:logs:us-east-1:999999999999:*", True),
    ("StringNotEqualsIgnoreCase", "sts:ExternalId", "secret", True),
    ("NumericNotEquals", "kms:EncryptionContext:aws:s3:arn", "1", True),
    # positive operators on an absent key: false
    ("StringEquals", "aws:SourceAccount", "111111111111", False),
    ("ArnLike", "aws:SourceArn", "arn:aws:logs:*", False),
    ("StringLike", "kms:ViaService", "s3.*.amazonaws.com", False),
    ("Bool", "kms:EncryptionContext:aws:s3:arn", "true", False),
    # ...IfExists: true on an absent key
    ("StringEqualsIfExists", "aws:SourceAccount", "111111111111", True),
    ("ArnNotLikeIfExists", "aws:SourceArn", "arn:aws:logs:*", True),
    # Null: "true" holds when the key is absent, "false" when it is present
    ("Null", "aws:SourceAccount", "true", True),
    ("Null", "aws:SourceAccount", "false", False),
    ("Null", "sts:ExternalId", True, True),
    # set operators: ForAllValues is true and ForAnyValue false for an absent key
    ("ForAllValues:StringEquals", "kms:EncryptionContext:aws:s3:arn", ["arn:aws:s3:::a"], True),
    ("ForAnyValue:StringEquals", "kms:EncryptionContext:aws:s3:arn", ["arn:aws:s3:::a"], False),
    ("ForAnyValue:StringNotEquals", "kms:EncryptionContext:aws:s3:arn", ["arn:aws:s3:::a"], False),
])
def test_a_key_the_service_does_not_send(operator, key, expected, result):
    assert s3_policy.condition_holds(operator, key, expected, LAMBDA_CONTEXT) is result


@pytest.mark.parametrize("operator,expected,result", [
    ("StringNotEquals", "111111111111", False),
    ("StringNotEquals", "999999999999", True),
    ("StringNotEqualsIfExists", "111111111111", False),
    ("Null", "true", False),
    ("Null", "false", True),
    ("ForAllValues:StringEquals", ["111111111111"], True),
    ("ForAnyValue:StringEquals", ["999999999999"], False),
])
def test_a_key_the_service_sends(operator, expected, result):
    assert s3_policy.condition_holds(operator, "aws:SourceAccount", expected, LOGS_CONTEXT) is result


@pytest.mark.parametrize("operator", ["StringNotEquals", "ArnNotLike", "StringEquals", "Null", "ForAllValues:StringEquals"])
def test_a_key_the_emulator_does_not_model_stays_unknown(operator):
    # aws:PrincipalArn is in every signed request on AWS; where the emulator's context lacks it,
    # it cannot tell the caller, so it neither grants nor denies on it.
    assert s3_policy.condition_holds(operator, "aws:PrincipalArn", "arn:aws:iam::1:role/x", LAMBDA_CONTEXT) is UNKNOWN
    # Without an explicit context (moto's own bucket-policy path) every missing key is unknown.
    assert s3_policy.condition_holds(operator, "aws:SourceAccount", "1", None) is UNKNOWN


def _trust(condition, effect="Allow"):
    return {"Version": "2012-10-17", "Statement": [{
        "Effect": effect, "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole",
        "Condition": condition}]}


def test_a_trust_policy_with_a_negated_condition_on_a_key_lambda_does_not_send_lets_lambda_assume_the_role():
    assert trust.document_allows(_trust({"StringNotEquals": {"aws:SourceAccount": "999999999999"}}),
                                 "lambda", "us-east-1", LAMBDA_CONTEXT)
    assert not trust.document_allows(_trust({"StringEquals": {"aws:SourceAccount": "111111111111"}}),
                                     "lambda", "us-east-1", LAMBDA_CONTEXT)
    assert trust.document_allows(_trust({"Null": {"aws:SourceArn": "true"}}), "lambda", "us-east-1", LAMBDA_CONTEXT)


def test_a_deny_with_a_negated_condition_on_an_absent_key_applies():
    document = _trust({"StringEquals": {"aws:SourceAccount": "111111111111"}})
    document["Statement"][0]["Condition"] = {}
    document["Statement"].append({"Effect": "Deny", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole",
                                  "Condition": {"StringNotEquals": {"sts:ExternalId": "expected"}}})
    document["Statement"][0]["Principal"] = {"Service": "logs.amazonaws.com"}
    # CloudWatch Logs sends aws:SourceArn/aws:SourceAccount but no sts:ExternalId: the Deny applies.
    assert not trust.document_allows(document, "logs", "us-east-1", {"aws:SourceAccount": "111111111111"})
