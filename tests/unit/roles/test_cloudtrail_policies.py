# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The policies of role cloudtrail, rendered from its defaults and vars as Ansible renders them,
against the forms the CloudTrail user guide documents:
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-s3-bucket-policy-for-cloudtrail.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/create-kms-key-policy-for-cloudtrail.html
https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-required-policy-for-cloudwatch-logs.html
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible.parsing.dataloader import DataLoader
from ansible.template import Templar, trust_as_template

ROLE = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles", "cloudtrail")
ACCOUNT = "111111111111"
TRAIL = "arn:aws:cloudtrail:eu-west-1:%s:trail/logvault-trail" % ACCOUNT
GROUP = "arn:aws:logs:eu-west-1:%s:log-group:aws-cloudtrail-logs-logvault" % ACCOUNT


def render(expression, **extra):
    loader = DataLoader()
    variables = {}
    for part in ("defaults", "vars"):
        variables.update(loader.load_from_file(os.path.join(ROLE, part, "main.yml"), trusted_as_template=True))
    variables.update({"logvault_account_id": ACCOUNT, "logvault_regions": ["eu-west-1"]})
    variables.update(extra)
    value = Templar(loader=loader, variables=variables).template(trust_as_template("{{ %s | to_json }}" % expression))
    return json.loads(value)


def statement(policy, sid):
    [found] = [s for s in policy["Statement"] if s.get("Sid") == sid]
    return found


def test_bucket_policy_lets_this_trail_only_check_the_acl_and_write_under_its_prefix():
    policy = render("_cloudtrail_bucket_policy")
    acl = statement(policy, "AWSCloudTrailAclCheck")
    assert acl["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and acl["Action"] == "s3:GetBucketAcl"
    assert acl["Resource"] == "arn:aws:s3:::logvault-cloudtrail-%s-eu-west-1" % ACCOUNT
    assert acl["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL}}
    write = statement(policy, "AWSCloudTrailWrite")
    assert write["Action"] == "s3:PutObject"
    assert write["Resource"] == "arn:aws:s3:::logvault-cloudtrail-%s-eu-west-1/cloudtrail/AWSLogs/%s/*" % (ACCOUNT, ACCOUNT)
    assert write["Condition"] == {"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control", "aws:SourceArn": TRAIL}}
    assert statement(policy, "DenyInsecureTransport")["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def test_an_empty_key_prefix_writes_under_awslogs():
    policy = render("_cloudtrail_bucket_policy", cloudtrail_s3_key_prefix="")
    assert statement(policy, "AWSCloudTrailWrite")["Resource"].endswith("-eu-west-1/AWSLogs/%s/*" % ACCOUNT)


def test_key_policy_follows_the_cloudtrail_and_cloudwatch_logs_pages():
    policy = render("_cloudtrail_key_policy")
    encrypt = statement(policy, "AllowCloudTrailToEncryptLogs")
    assert encrypt["Principal"] == {"Service": "cloudtrail.amazonaws.com"} and encrypt["Action"] == "kms:GenerateDataKey*"
    assert encrypt["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL},
                                    "StringLike": {"kms:EncryptionContext:aws:cloudtrail:arn": "arn:aws:cloudtrail:*:%s:trail/*" % ACCOUNT}}
    assert statement(policy, "AllowCloudTrailToDescribeKey")["Condition"] == {"StringEquals": {"aws:SourceArn": TRAIL}}
    decrypt = statement(policy, "AllowPrincipalsOfTheAccountToDecryptLogFiles")
    assert decrypt["Condition"]["StringEquals"] == {"kms:CallerAccount": ACCOUNT}
    logs = statement(policy, "CloudWatchLogsOfTheTrailLogGroup")
    assert logs["Principal"] == {"Service": "logs.eu-west-1.amazonaws.com"}
    assert logs["Condition"] == {"ArnEquals": {"kms:EncryptionContext:aws:logs:arn": GROUP}}
    # No statement grants a wildcard principal.
    assert all(s["Principal"] != "*" and s["Principal"] != {"AWS": "*"} for s in policy["Statement"])


@pytest.mark.parametrize("multi_region,stream", [(True, "%s_CloudTrail_*" % ACCOUNT), (False, "%s_CloudTrail_eu-west-1*" % ACCOUNT)])
def test_delivery_role_may_write_the_trails_streams_of_its_group_only(multi_region, stream):
    policy = render("_cloudtrail_role_policy", cloudtrail_multi_region=multi_region)
    assert [s["Action"] for s in policy["Statement"]] == [["logs:CreateLogStream"], ["logs:PutLogEvents"]]
    assert {r for s in policy["Statement"] for r in s["Resource"]} == {GROUP + ":log-stream:" + stream}
    assert render("_cloudtrail_trust_policy")["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "cloudtrail.amazonaws.com"}, "Action": "sts:AssumeRole"}]
