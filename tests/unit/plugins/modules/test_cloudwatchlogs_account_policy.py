# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_account_policy, run in-process with a botocore Stubber (moto has no account
policies), so every test states exactly which calls the module makes and with which arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber


from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_account_policy as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
DEST = "arn:aws:logs:us-east-1:123456789012:destination:logvault"
OTHER = "arn:aws:logs:us-east-1:123456789012:destination:other"
ROLE = "arn:aws:iam::123456789012:role/cwl"
TYPE = "SUBSCRIPTION_FILTER_POLICY"


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def env(monkeypatch):
    set_test_credentials(monkeypatch)


@pytest.fixture
def stubbed(env):
    """Stubber-backed logs client handed to the module instead of a real one (a test double)."""
    client = boto3.client("logs", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self, service, retry_decorator=None, **kwargs):
        assert service == "logs"
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    with stubber, mock.patch.object(AnsibleAWSModule, "client", fake_client), mock.patch.object(cloud.time, "sleep"):
        yield stubber
    stubber.assert_no_pending_responses()


def stored(document, criteria=None, name="logvault"):
    policy = {"policyName": name, "policyDocument": json.dumps(document), "policyType": TYPE, "scope": "ALL",
              "lastUpdatedTime": 1764230400000, "accountId": "111111111111"}
    if criteria:
        policy["selectionCriteria"] = criteria
    return policy


def expect_describe(stubber, policies):
    """Every subscription filter policy of the account is read (AWS allows one per account and Region)."""
    stubber.add_response("describe_account_policies", {"accountPolicies": policies}, {"policyType": TYPE})


def args(**extra):
    base = dict(policy_name="logvault", destination_arn=DEST, excluded_log_groups=["/aws/lambda/logvault-transform", "/logvault/own"])
    base.update(extra)
    return dict((k, v) for k, v in base.items() if v is not None)


CRITERIA = 'LogGroupName NOT IN ["/aws/lambda/logvault-transform", "/logvault/own"]'
DOCUMENT = {"DestinationArn": DEST, "FilterPattern": ""}


def test_four_step_cycle(stubbed):
    # 1. check mode, nothing there: changed, no write
    expect_describe(stubbed, [])
    first = run(args(), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["excluded_log_groups"] == ["/aws/lambda/logvault-transform", "/logvault/own"]
    # 2. real: exactly one PutAccountPolicy with canonical JSON and rendered criteria
    expect_describe(stubbed, [])
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(DOCUMENT, CRITERIA)}, {
        "policyName": "logvault", "policyType": TYPE, "scope": "ALL",
        "policyDocument": '{"DestinationArn":"%s","FilterPattern":""}' % DEST, "selectionCriteria": CRITERIA,
    })
    second = run(args())
    assert second["changed"] is True
    assert second["account_policy"]["policy_document"] == DOCUMENT
    assert second["account_policy"]["selection_criteria"] == CRITERIA
    assert second["account_policy"]["account_id"] == "111111111111"
    # 3. and 4. the stored policy (formatted differently, groups in another order): no change, no write
    reordered = 'LogGroupName NOT IN ["/logvault/own","/aws/lambda/logvault-transform"]'
    for check_mode in (True, False):
        expect_describe(stubbed, [stored({"FilterPattern": "", "DestinationArn": DEST}, reordered)])
        result = run(args(excluded_log_groups=["/logvault/own", "/aws/lambda/logvault-transform", "/logvault/own"]), check_mode=check_mode)
        assert result["changed"] is False


@pytest.mark.parametrize("change,key,value", [
    ({"destination_arn": OTHER}, "DestinationArn", OTHER),
    ({"filter_pattern": "ERROR"}, "FilterPattern", "ERROR"),
    ({"distribution": "Random"}, "Distribution", "Random"),
    ({"role_arn": ROLE}, "RoleArn", ROLE),
])
def test_document_changes_are_updates(stubbed, change, key, value):
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    result = run(args(**change), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["policy_document"].get(key) != value
    assert result["diff"]["after"]["policy_document"][key] == value


def test_unset_options_keep_existing_values(stubbed):
    existing = dict(DOCUMENT, RoleArn=ROLE, Distribution="Random")
    expect_describe(stubbed, [stored(existing, CRITERIA)])
    assert run(args(excluded_log_groups=None))["changed"] is False


def test_excluded_groups_change_and_removal(stubbed):
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(args(excluded_log_groups=["/logvault/own"]), check_mode=True)["changed"] is True
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(DOCUMENT)}, {
        "policyName": "logvault", "policyType": TYPE, "scope": "ALL",
        "policyDocument": '{"DestinationArn":"%s","FilterPattern":""}' % DEST,
    })
    result = run(args(excluded_log_groups=[]))
    assert result["changed"] is True and result["account_policy"]["excluded_log_groups"] == []


def test_absent(stubbed):
    expect_describe(stubbed, [])
    assert run(dict(policy_name="logvault", state="absent"))["changed"] is False
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(dict(policy_name="logvault", state="absent"), check_mode=True)["changed"] is True
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    stubbed.add_response("delete_account_policy", {}, {"policyName": "logvault", "policyType": TYPE})
    result = run(dict(policy_name="logvault", state="absent"), diff=True)
    assert result["changed"] is True and result["diff"]["before"]["policy_document"] == DOCUMENT


def test_describe_follows_next_token_and_matches_the_exact_name(stubbed):
    stubbed.add_response("describe_account_policies", {"accountPolicies": [stored(DOCUMENT, name="logvault-old")], "nextToken": "n1"},
                         {"policyType": TYPE})
    stubbed.add_response("describe_account_policies", {"accountPolicies": [stored(DOCUMENT, CRITERIA)]},
                         {"policyType": TYPE, "nextToken": "n1"})
    assert run(args())["changed"] is False


# --- issue 14 -------------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_policy_of_another_name_fails_before_any_write(stubbed, check_mode):
    expect_describe(stubbed, [stored(DOCUMENT, name="legacy-splunk")])
    result = run(args(), check_mode=check_mode)
    assert result["failed"] is True
    assert "legacy-splunk" in result["msg"] and "one account-level subscription filter policy" in result["msg"]
    assert result["parameter"] == "policy_name"


NOT_DELIVERED = "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state."


def test_could_not_deliver_test_message_is_retried_while_the_role_propagates(stubbed):
    expect_describe(stubbed, [])
    for dummy in range(2):
        stubbed.add_client_error("put_account_policy", "InvalidParameterException", NOT_DELIVERED, 400)
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(dict(DOCUMENT, RoleArn=ROLE), CRITERIA)})
    result = run(args(role_arn=ROLE))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True


def test_other_invalid_parameter_errors_of_put_account_policy_fail_at_once(stubbed):
    expect_describe(stubbed, [])
    stubbed.add_client_error("put_account_policy", "InvalidParameterException", "Invalid selection criteria.", 400)
    result = run(args(role_arn=ROLE))
    assert result["failed"] is True and "Invalid selection criteria." in result["msg"]


def test_throttling_is_retried(stubbed):
    stubbed.add_client_error("describe_account_policies", "ThrottlingException", "Rate exceeded", 400)
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(args())["changed"] is False


def test_aws_errors_are_reported_with_the_verb(stubbed):
    expect_describe(stubbed, [])
    stubbed.add_client_error("put_account_policy", "LimitExceededException", "Only one subscription filter policy per account", 400)
    result = run(args())
    assert result["failed"] is True and result["msg"].startswith("Failed to create account policy logvault")


@pytest.mark.parametrize("bad,param", [
    ({"policy_name": "aws/reserved"}, "policy_name"),
    ({"policy_name": "a:b"}, "policy_name"),
    ({"destination_arn": "arn:aws:sns:us-east-1:123456789012:topic"}, "destination_arn"),
    ({"role_arn": "role/cwl"}, "role_arn"),
    ({"filter_pattern": "{ $.a = 1"}, "filter_pattern"),
    ({"excluded_log_groups": ["/ok", "not ok"]}, "excluded_log_groups"),
    ({"excluded_log_groups": ["/g/%0200d" % i for i in range(130)]}, "excluded_log_groups"),
    ({"region": "us-east"}, "region"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(env, bad, param):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = run(args(**bad))
    assert result["failed"] is True
    assert "'%s'" % param in result["msg"], result["msg"]
    assert result["parameter"] == param
    client.assert_not_called()


def test_destination_required_when_present(env):
    assert "destination_arn" in run(dict(policy_name="logvault"))["msg"]
