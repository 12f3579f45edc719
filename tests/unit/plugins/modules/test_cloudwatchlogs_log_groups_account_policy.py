# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_log_groups with option account_policy (issue 17: the log groups and the account-level
subscription filter policy of every region in one module run), in-process against the local AWS emulator
(local_aws, started in this process on a free port: moto has no account policies)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import pytest

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_log_groups as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ACCOUNT = "123456789012"
TYPE = "SUBSCRIPTION_FILTER_POLICY"
# CloudWatch Logs needs a role to deliver to a Kinesis stream of the same account (PutAccountPolicy, RoleArn:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutAccountPolicy.html).
ROLE = "arn:aws:iam::%s:role/logvault-cwl-to-kinesis" % ACCOUNT
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
GROUPS = [{"name": "/logvault/fluentd", "retention_days": 14}, {"name": "/logvault/canary", "retention_days": 1}]


def stream(region):
    return "arn:aws:kinesis:%s:%s:stream/logvault-local" % (region, ACCOUNT)


@pytest.fixture(scope="module")
def emulator():
    from local_aws import server  # pylint: disable=import-outside-toplevel

    emu = server.start(port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def aws(emulator, monkeypatch):
    """A fresh emulator state with a Kinesis stream per region (the policy's destination); logs clients by region."""
    from local_aws import server  # pylint: disable=import-outside-toplevel

    server.reset_state()
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "0")
    iam = boto3.client("iam", region_name="us-east-1", endpoint_url=emulator.endpoint)
    iam.create_role(RoleName="logvault-cwl-to-kinesis", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="logvault-cwl-to-kinesis", PolicyName="put-records", PolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kinesis:PutRecord", "Resource": [stream(r) for r in REGIONS]}]}))
    clients = {}
    for region in REGIONS:
        boto3.client("kinesis", region_name=region, endpoint_url=emulator.endpoint).create_stream(StreamName="logvault-local", ShardCount=1)
        clients[region] = boto3.client("logs", region_name=region, endpoint_url=emulator.endpoint)
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("one session, a client per region expected")):
        yield emulator.endpoint, clients


def args(endpoint, **policy):
    spec = dict(policy_name="logvault", destination_arns=dict((r, stream(r)) for r in REGIONS), role_arn=ROLE,
                excluded_log_groups=["/logvault/fluentd"])
    spec.update(policy)
    return dict(regions=REGIONS, endpoint_url=endpoint, log_groups=GROUPS, tags={"logvault:managed-by": "logvault.aws"},
                account_policy=dict((k, v) for k, v in spec.items() if v is not None))


def run(arguments, check_mode=False, diff=False):
    return run_module(module_under_test, arguments, check_mode=check_mode, diff=diff)


def groups(client):
    return sorted(g["logGroupName"] for g in client.describe_log_groups()["logGroups"])


def policies(client):
    return dict((p["policyName"], p) for p in client.describe_account_policies(policyType=TYPE).get("accountPolicies", []))


def put_other(client, region, name="legacy-splunk"):
    client.put_account_policy(policyName=name, policyType=TYPE, scope="ALL",
                              policyDocument=json.dumps({"DestinationArn": stream(region), "RoleArn": ROLE, "FilterPattern": ""}))


def test_groups_and_policy_in_one_run_check_mode_first_run_and_rerun(aws):
    endpoint, clients = aws
    predicted = run(args(endpoint), check_mode=True, diff=True)
    assert predicted.get("failed") is not True, predicted.get("msg")
    assert predicted["changed"] is True
    assert all(r["account_policy_changed"] and r["changed"] for r in predicted["regions"].values())
    assert [d["before_header"] for d in predicted["diff"]] == [h for r in REGIONS for h in ("%s (before)" % r, "%s account policy (before)" % r)]
    assert all(groups(c) == [] and policies(c) == {} for c in clients.values()), "check mode wrote"

    first = run(args(endpoint))
    assert first.get("failed") is not True, first.get("msg")
    for region, client in clients.items():
        assert groups(client) == ["/logvault/canary", "/logvault/fluentd"]
        stored = policies(client)["logvault"]
        assert json.loads(stored["policyDocument"])["DestinationArn"] == stream(region)
        assert stored["selectionCriteria"] == 'LogGroupName NOT IN ["/logvault/fluentd"]'
        assert first["regions"][region]["account_policy"]["excluded_log_groups"] == ["/logvault/fluentd"]
        assert [e["action"] for e in first["regions"][region]["log_groups"]] == ["created", "created"]

    for check_mode in (True, False):
        again = run(args(endpoint), check_mode=check_mode, diff=True)
        assert again["changed"] is False, again
        assert not any(r["account_policy_changed"] for r in again["regions"].values())
        assert again["diff"] == []


def test_a_policy_change_alone_is_reported_as_the_policy_s(aws):
    endpoint, clients = aws
    run(args(endpoint))
    changed = run(args(endpoint, filter_pattern="ERROR"), diff=True)
    assert changed["changed"] is True
    assert all(r["account_policy_changed"] and all(e["action"] == "unchanged" for e in r["log_groups"]) for r in changed["regions"].values())
    assert [d["after"]["policy_document"]["FilterPattern"] for d in changed["diff"]] == ["ERROR"] * 3
    assert all(json.loads(policies(c)["logvault"]["policyDocument"])["FilterPattern"] == "ERROR" for c in clients.values())


@pytest.mark.parametrize("check_mode", [True, False])
def test_all_or_nothing_writes_nothing_anywhere_when_another_policy_is_in_one_region(aws, check_mode):
    endpoint, clients = aws
    put_other(clients["eu-west-1"], "eu-west-1")
    result = run(args(endpoint, all_or_nothing=True), check_mode=check_mode)
    assert result["failed"] is True
    assert result["parameter"] == "account_policy.policy_name"
    assert "eu-west-1" in result["msg"] and "legacy-splunk" in result["msg"]
    assert result["other_policies_by_region"] == {"eu-west-1": ["legacy-splunk"]}
    assert result["changed"] is False
    assert result["regions"]["eu-west-1"]["other_policies"] == ["legacy-splunk"]
    for region in ("us-east-1", "ap-southeast-2"):
        assert result["regions"][region]["skipped"] is True and result["regions"][region]["log_groups"] == []
    assert all(groups(c) == [] for c in clients.values()), "a log group was written"
    assert [sorted(policies(c)) for c in clients.values()] == [[], ["legacy-splunk"], []]


def test_without_all_or_nothing_the_other_regions_are_done_and_the_blocked_one_keeps_its_groups(aws):
    endpoint, clients = aws
    put_other(clients["eu-west-1"], "eu-west-1")
    result = run(args(endpoint))
    assert result["failed"] is True and result["changed"] is True
    blocked = result["regions"]["eu-west-1"]
    assert blocked["failed"] is True and blocked["changed"] is True and blocked["other_policies"] == ["legacy-splunk"]
    assert [e["action"] for e in blocked["log_groups"]] == ["created", "created"]
    assert groups(clients["eu-west-1"]) == ["/logvault/canary", "/logvault/fluentd"]
    assert sorted(policies(clients["eu-west-1"])) == ["legacy-splunk"]
    for region in ("us-east-1", "ap-southeast-2"):
        assert sorted(policies(clients[region])) == ["logvault"] and result["regions"][region]["account_policy_changed"] is True


def test_state_absent_removes_the_policy_and_keeps_the_groups(aws):
    endpoint, clients = aws
    run(args(endpoint))
    removed = run(args(endpoint, state="absent", destination_arns=None, role_arn=None))
    assert removed["changed"] is True
    assert all(r["account_policy"] == {} and r["account_policy_changed"] for r in removed["regions"].values())
    assert all(policies(c) == {} and len(groups(c)) == 2 for c in clients.values())
    assert run(args(endpoint, state="absent", destination_arns=None, role_arn=None))["changed"] is False


@pytest.mark.parametrize("policy, param, words", [
    (dict(destination_arns={"us-east-1": stream("us-east-1")}), "account_policy.destination_arns", "no destination ARN for region eu-west-1"),
    (dict(destination_arns=dict((r, stream("us-east-1")) for r in REGIONS)), "account_policy.destination_arns", "another region"),
    (dict(policy_name="aws/reserved"), "account_policy.policy_name", "aws/"),
    (dict(filter_pattern='{ $.x = '), "account_policy.filter_pattern", ""),
    (dict(role_arn="arn:aws:iam::123456789012:user/someone"), "account_policy.role_arn", ""),
])
def test_bad_account_policy_input_names_the_suboption_before_any_aws_call(aws, policy, param, words):
    endpoint, clients = aws
    with mock.patch.object(module_under_test, "regional_clients", side_effect=AssertionError("an AWS client before validation")):
        result = run(args(endpoint, **policy))
    assert result["failed"] is True
    assert result["parameter"] == param
    assert param in result["msg"] and words in result["msg"]
    assert all(groups(c) == [] for c in clients.values())


def test_without_account_policy_no_account_policy_is_read(aws):
    endpoint, clients = aws
    put_other(clients["eu-west-1"], "eu-west-1")
    arguments = args(endpoint)
    del arguments["account_policy"]
    with mock.patch.object(module_under_test.account_policy, "get_policies", side_effect=AssertionError("read an account policy")):
        result = run(arguments)
    assert result.get("failed") is not True and result["changed"] is True
    assert all("account_policy" not in r for r in result["regions"].values())


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_stream_without_a_role_fails_naming_the_suboption_and_writes_no_policy(aws, check_mode):
    # PutAccountPolicy onto a Kinesis stream of the same account needs RoleArn; AWS refuses it without one.
    endpoint, clients = aws
    result = run(args(endpoint, role_arn=None), check_mode=check_mode)
    assert result["failed"] is True
    assert result["parameter"] == "account_policy.role_arn"
    assert "account_policy.role_arn is required with %s" % stream("eu-west-1") in result["msg"], result["msg"]
    assert all(policies(c) == {} for c in clients.values()), "a policy was written"


@pytest.mark.parametrize("check_mode", [True, False])
def test_all_or_nothing_a_stream_without_a_role_writes_nothing_anywhere(aws, check_mode):
    """The role AWS would refuse is known from the first pass (the read of every region), so with all_or_nothing no
    log group is written either."""
    endpoint, clients = aws
    result = run(args(endpoint, role_arn=None, all_or_nothing=True), check_mode=check_mode)
    assert result["failed"] is True and result["changed"] is False
    assert result["parameter"] == "account_policy.role_arn"
    assert "account_policy.role_arn is required with %s" % stream("us-east-1") in result["msg"], result["msg"]
    assert all(groups(c) == [] and policies(c) == {} for c in clients.values()), "something was written"
