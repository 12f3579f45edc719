# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CIS AWS Foundations rules of role stream_alerts: for each, a CloudTrail event shaped as
AWS sends it that must fire (that rule and no other), and near-misses that must not fire it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest

from alerts_fixtures import (DELETE, MEMBER, REPO, cloudtrail, console_login, data_message, event, load_alerts, role_defaults,
                             root_identity, write_rules)

# rule -> (the event that must fire it, [(why, a near-miss that must not)])
CASES = {
    "unauthorized_api_calls": (
        cloudtrail("DescribeInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                   errorMessage="You are not authorized to perform this operation.", readOnly=True),
        [("no error", cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)),
         ("throttled, not denied", cloudtrail("DescribeInstances", "ec2.amazonaws.com", errorCode="Client.RequestLimitExceeded")),
         ("denied HeadBucket (excluded)", cloudtrail("HeadBucket", "s3.amazonaws.com", errorCode="AccessDenied")),
         ("denied call by log delivery (excluded)", cloudtrail("PutObject", "s3.amazonaws.com", errorCode="AccessDenied",
                                                               sourceIPAddress="delivery.logs.amazonaws.com")),
         ("error code that only contains the word", cloudtrail("GetObject", "s3.amazonaws.com", errorCode="NotAccessDenied"))]),
    "console_signin_without_mfa": (
        console_login(mfa="No"),
        [("with MFA", console_login(mfa="Yes")),
         ("failed sign-in", console_login(success=False, mfa="No", error_message="Failed authentication")),
         ("federated (assumed role) sign-in", console_login(mfa="No", identity_type="AssumedRole"))]),
    "root_account_usage": (
        cloudtrail("DescribeInstances", "ec2.amazonaws.com", userIdentity=root_identity(), readOnly=True),
        [("an IAM role", cloudtrail("DescribeInstances", "ec2.amazonaws.com", readOnly=True)),
         ("root identity invoked by an AWS service", cloudtrail("GetBucketAcl", "s3.amazonaws.com", readOnly=True,
                                                                userIdentity=root_identity(invoked_by="config.amazonaws.com"))),
         ("AWS service event about root", cloudtrail("CredentialChallenge", "signin.amazonaws.com", userIdentity=root_identity(),
                                                     eventType="AwsServiceEvent"))]),
    "iam_policy_changes": (
        cloudtrail("AttachRolePolicy", "iam.amazonaws.com",
                   requestParameters={"roleName": "app", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
        [("read of a policy", cloudtrail("GetRolePolicy", "iam.amazonaws.com", readOnly=True)),
         ("role creation is not a policy change", cloudtrail("CreateRole", "iam.amazonaws.com")),
         ("AWS Organizations' CreatePolicy (an SCP; Security Hub's eventSource clause)",
          cloudtrail("CreatePolicy", "organizations.amazonaws.com", requestParameters={"name": "deny-leave", "type": "SERVICE_CONTROL_POLICY"})),
         ("name with a suffix", cloudtrail("AttachRolePolicyVersion", "iam.amazonaws.com"))]),
    "cloudtrail_changes": (
        cloudtrail("StopLogging", "cloudtrail.amazonaws.com", requestParameters={"name": "org-trail"}),
        [("status read", cloudtrail("GetTrailStatus", "cloudtrail.amazonaws.com", readOnly=True)),
         ("describe", cloudtrail("DescribeTrails", "cloudtrail.amazonaws.com", readOnly=True))]),
    "console_auth_failures": (
        console_login(success=False, mfa="No", error_message="Failed authentication"),
        [("successful sign-in with MFA", console_login(mfa="Yes")),
         ("another failure message", console_login(success=False, mfa="No", error_message="No username found in supplied account")),
         ("failed authentication of an API call", cloudtrail("GetCallerIdentity", "sts.amazonaws.com", errorMessage="Failed authentication"))]),
    "cmk_disable_or_deletion": (
        cloudtrail("ScheduleKeyDeletion", "kms.amazonaws.com",
                   requestParameters={"keyId": "1234abcd-12ab-34cd-56ef-1234567890ab", "pendingWindowInDays": 7}),
        [("key rotation disabled", cloudtrail("DisableKeyRotation", "kms.amazonaws.com")),
         ("deletion cancelled", cloudtrail("CancelKeyDeletion", "kms.amazonaws.com")),
         ("DisableKey of another service", cloudtrail("DisableKey", "payment-cryptography.amazonaws.com"))]),
    "s3_bucket_policy_changes": (
        cloudtrail("PutBucketPolicy", "s3.amazonaws.com", requestParameters={"bucketName": "data", "bucketPolicy": {}}),
        [("policy read", cloudtrail("GetBucketPolicy", "s3.amazonaws.com", readOnly=True)),
         ("object ACL", cloudtrail("PutObjectAcl", "s3.amazonaws.com")),
         ("tags", cloudtrail("PutBucketTagging", "s3.amazonaws.com"))]),
    "config_changes": (
        cloudtrail("StopConfigurationRecorder", "config.amazonaws.com", requestParameters={"configurationRecorderName": "default"}),
        [("recorder started", cloudtrail("StartConfigurationRecorder", "config.amazonaws.com")),
         ("describe", cloudtrail("DescribeConfigurationRecorders", "config.amazonaws.com", readOnly=True)),
         ("same name from another service", cloudtrail("PutDeliveryChannel", "example.amazonaws.com"))]),
    "security_group_changes": (
        cloudtrail("AuthorizeSecurityGroupIngress", "ec2.amazonaws.com", requestParameters={"groupId": "sg-0123456789abcdef0"}),
        [("describe", cloudtrail("DescribeSecurityGroups", "ec2.amazonaws.com", readOnly=True)),
         ("rule descriptions", cloudtrail("UpdateSecurityGroupRuleDescriptionsIngress", "ec2.amazonaws.com"))]),
    "nacl_changes": (
        cloudtrail("ReplaceNetworkAclEntry", "ec2.amazonaws.com", requestParameters={"networkAclId": "acl-0123456789abcdef0"}),
        [("describe", cloudtrail("DescribeNetworkAcls", "ec2.amazonaws.com", readOnly=True))]),
    "network_gateway_changes": (
        cloudtrail("AttachInternetGateway", "ec2.amazonaws.com", requestParameters={"internetGatewayId": "igw-0123456789abcdef0"}),
        [("NAT gateway", cloudtrail("CreateNatGateway", "ec2.amazonaws.com")),
         ("describe", cloudtrail("DescribeInternetGateways", "ec2.amazonaws.com", readOnly=True))]),
    "route_table_changes": (
        cloudtrail("CreateRoute", "ec2.amazonaws.com",
                   requestParameters={"routeTableId": "rtb-0123456789abcdef0", "destinationCidrBlock": "0.0.0.0/0"}),
        [("API Gateway's CreateRoute", cloudtrail("CreateRoute", "apigateway.amazonaws.com")),
         ("describe", cloudtrail("DescribeRouteTables", "ec2.amazonaws.com", readOnly=True))]),
    "vpc_changes": (
        cloudtrail("CreateVpcPeeringConnection", "ec2.amazonaws.com", requestParameters={"vpcId": "vpc-0123456789abcdef0"}),
        [("VPC endpoint", cloudtrail("CreateVpcEndpoint", "ec2.amazonaws.com")),
         ("describe", cloudtrail("DescribeVpcs", "ec2.amazonaws.com", readOnly=True))]),
    "organizations_changes": (
        cloudtrail("LeaveOrganization", "organizations.amazonaws.com"),
        [("list", cloudtrail("ListAccounts", "organizations.amazonaws.com", readOnly=True)),
         ("IAM's CreatePolicy", cloudtrail("CreatePolicy", "iam.amazonaws.com")),
         ("a name Organizations does not have", cloudtrail("CreateAccountAssignment", "sso.amazonaws.com"))]),
}


@pytest.fixture(scope="module")
def alerts():
    return load_alerts()


@pytest.fixture(scope="module")
def cis_rules():
    return role_defaults()["stream_alerts_cis_rules"]


@pytest.fixture
def alerter(alerts, cis_rules, tmp_path):
    rules = alerts.load_rules(write_rules(tmp_path, cis_rules))
    return alerts.Alerter(rules, "table", "arn:aws:sns:us-east-1:123456789012:alerts", dynamodb=None, sns=None,
                          region="us-east-1", log=lambda line: None)


def fired(alerter, message):
    stats = dict.fromkeys((key for key, _name in alerter_metrics(alerter)), 0)
    hits = alerter.evaluate(event([data_message([message])])["Records"], stats)
    return sorted({key[0] for key in hits})


def alerter_metrics(alerter):
    return importlib.import_module(type(alerter).__module__).METRICS


def test_every_cis_rule_has_cases(cis_rules):
    assert sorted(rule["name"] for rule in cis_rules) == sorted(CASES)
    assert len(cis_rules) == 15


def test_the_role_and_the_benchmark_use_the_same_patterns(cis_rules):
    spec = importlib.util.spec_from_file_location("bench_filter_pattern", os.path.join(REPO, "bench", "filter_pattern.py"))
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    assert {rule["name"]: rule["match"]["filter_pattern"] for rule in cis_rules} == bench.CIS_RULES


@pytest.mark.parametrize("rule", sorted(CASES))
def test_cis_rule_fires_on_its_event_and_only_that_rule(alerter, rule):
    assert fired(alerter, CASES[rule][0]) == [rule]


@pytest.mark.parametrize("rule,why,message", [(rule, why, message) for rule, (_hit, misses) in sorted(CASES.items())
                                              for why, message in misses])
def test_cis_rule_ignores_near_misses(alerter, rule, why, message):
    assert rule not in fired(alerter, message), why


def test_application_logs_fire_nothing(alerter):
    for message in ['{"level":"INFO","eventName":"ConsoleLogin","msg":"user opened the login page"}',
                    "GET /api/StopLogging 200", "errorCode=AccessDenied from 10.0.0.1",
                    {"eventName": "DeleteVpc", "eventSource": "app.example.com", "note": "our own job name"}]:
        if isinstance(message, dict):
            # Same names as CloudTrail, but an application's log: vpc_changes has no eventSource clause (as in
            # Security Hub's pattern), so it fires; this documents that behaviour.
            assert fired(alerter, message) == ["vpc_changes"]
        else:
            assert fired(alerter, message) == []


def test_cis_rules_can_be_disabled_one_by_one(alerts, cis_rules, tmp_path):
    kept = [rule for rule in cis_rules if rule["name"] != "unauthorized_api_calls"]
    alerter = alerts.Alerter(alerts.load_rules(write_rules(tmp_path, kept)), "t", "arn:aws:sns:us-east-1:123456789012:a", None, None,
                             log=lambda line: None)
    assert fired(alerter, CASES["unauthorized_api_calls"][0]) == []
    assert fired(alerter, CASES["root_account_usage"][0]) == ["root_account_usage"]


def test_fixtures_are_shaped_like_cloudtrail():
    login = console_login()
    assert login["eventType"] == "AwsConsoleSignIn" and "tlsDetails" not in login and login["recipientAccountId"] == MEMBER
    assert cloudtrail("X", "ec2.amazonaws.com", requestID=DELETE).get("requestID") is None
