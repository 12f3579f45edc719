# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The deployer's least-privilege policies (issue 13 item 5).

Every AWS API that the modules of the central (central_account, stream_alerts, cloudtrail and
the central playbooks) and member (member_account, cloudtrail, fleet profile, verify) roles
call, read from the modules' sources and mapped to IAM actions through botocore's service
models (tools/deployer_policy.py), is allowed by the shipped policy; the shipped policy allows
nothing else; the StackSet template carries exactly these policies."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import fnmatch
import json
import os
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tools"))

import deployer_policy  # noqa: E402  pylint: disable=wrong-import-position,import-error


def _shipped(kind):
    with open(os.path.join(ROOT, "deployer", "%s-policy.json" % kind), encoding="utf-8") as handle:
        return json.load(handle)


def _allowed(document, action):
    return any(
        statement["Effect"] == "Allow" and any(fnmatch.fnmatchcase(action, pattern) for pattern in statement["Action"])
        for statement in document["Statement"]
    )


def _resources(statement):
    return statement["Resource"] if isinstance(statement["Resource"], list) else [statement["Resource"]]


# Resources that are not narrowed to the prefix, and why (docs/deployer.md, "Resources").
ACCOUNT_WIDE = {
    "arn:aws:kms:*:*:key/*": "keys have generated ids",
    "arn:aws:lambda:*:*:event-source-mapping:*": "mappings have generated ids",
    "arn:aws:ec2:*:*:instance/*": "the fleet's instances",
    "arn:aws:iam::*:role/*": "member: reading, and attaching the fleet policy to, the roles instances already have",
    "arn:aws:logs:*:*:log-group:*": "member: the account's own log groups are subscribed",
    "arn:aws:glue:*:*:catalog": "the account's Data Catalog",
    "arn:aws:iam::*:role/aws-service-role/opensearchservice.amazonaws.com/*": "the OpenSearch service-linked role",
}


@pytest.fixture(scope="module")
def derived():
    return dict((kind, deployer_policy.derive(kind)) for kind in deployer_policy.DEPLOYERS)


@pytest.mark.parametrize("kind", sorted(deployer_policy.DEPLOYERS))
def test_every_api_the_roles_call_is_allowed(derived, kind):
    document = _shipped(kind)
    missing = sorted("%s (%s)" % (action, module) for module, actions in derived[kind].items()
                     for action in actions if not _allowed(document, action))
    assert missing == [], "deployer/%s-policy.json denies: %s" % (kind, ", ".join(missing))


@pytest.mark.parametrize("kind", sorted(deployer_policy.DEPLOYERS))
def test_the_policy_allows_nothing_else(derived, kind):
    needed = set(deployer_policy.IMPLICIT[kind])
    for actions in derived[kind].values():
        needed.update(actions)
    allowed = set(a for s in _shipped(kind)["Statement"] for a in s["Action"])
    assert sorted(allowed - needed) == [], "allowed but never called"
    assert not any("*" in a for a in allowed), "wildcard actions are not least privilege"


@pytest.mark.parametrize("kind", sorted(deployer_policy.DEPLOYERS))
def test_resources_are_scoped(kind):
    """'*' only for the actions without a resource type; every other resource names the prefix
    or is one of the account-wide resources above (the test fails on an unexplained widening)."""
    for statement in _shipped(kind)["Statement"]:
        resources = _resources(statement)
        if resources == ["*"]:
            assert set(statement["Action"]) <= deployer_policy.NO_RESOURCE, statement["Action"]
            continue
        for resource in resources:
            assert "logvault" in resource or resource in ACCOUNT_WIDE, (kind, resource, statement["Action"])


def test_a_widened_resource_fails_the_check(monkeypatch):
    real = deployer_policy.scope

    def widened(action, deployer, prefix=deployer_policy.PREFIX):
        return (["*"], None) if action == "logs:PutDestination" else real(action, deployer, prefix)

    monkeypatch.setattr(deployer_policy, "scope", widened)
    document = deployer_policy.policy("central")
    assert any(_resources(s) == ["*"] and not set(s["Action"]) <= deployer_policy.NO_RESOURCE for s in document["Statement"])


def test_attaching_a_role_policy_is_conditioned_on_the_collections_policies():
    (statement,) = [s for s in _shipped("member")["Statement"] if "iam:AttachRolePolicy" in s["Action"]]
    assert _resources(statement) == ["arn:aws:iam::*:role/*"]
    policies = ["arn:aws:iam::*:policy/logvault-*", "arn:aws:iam::*:policy/logvault/*"]
    assert statement["Condition"] == {"ArnLike": {"iam:PolicyARN": policies}}


def test_plays_are_attributed_to_the_deployer_of_their_hosts(derived):
    """verify.yml's domain lookup runs on the central host: the member deployer does not get it."""
    member = set(a for actions in derived["member"].values() for a in actions)
    central = set(a for actions in derived["central"].values() for a in actions)
    assert "es:DescribeDomain" in central and not any(a.startswith("es:") for a in member)
    assert "logs:PutLogEvents" in member  # verify.yml's canary play runs on the members


def test_the_modules_that_matter_are_seen(derived):
    """The derivation finds the calls that onboarding depends on (a broken parser would find nothing)."""
    member = set(a for actions in derived["member"].values() for a in actions)
    central = set(a for actions in derived["central"].values() for a in actions)
    assert {"logs:PutAccountPolicy", "logs:DescribeAccountPolicies", "logs:PutSubscriptionFilter", "iam:CreateRole",
            "iam:PutRolePolicy", "iam:CreatePolicy", "ec2:AssociateIamInstanceProfile", "logs:PutLogEvents"} <= member
    assert {"logs:PutDestination", "logs:PutDestinationPolicy", "kinesis:CreateStream", "firehose:CreateDeliveryStream",
            "lambda:CreateFunction", "lambda:CreateEventSourceMapping", "es:CreateDomain", "kms:CreateKey",
            "s3:PutBucketPolicy", "s3:PutBucketObjectLockConfiguration", "dynamodb:UpdateTimeToLive",
            "lambda:InvokeFunction", "s3:RestoreObject"} <= central
    assert "logs:PutAccountPolicy" not in central and "es:CreateDomain" not in member


def test_the_schedule_of_lambda_function_is_read_from_module_utils_scheduler(derived):
    """lambda_function manages the canary's schedule with module_utils/scheduler.py (imported as a module); its
    Scheduler calls are seen, and Lambda's tag_resource()/untag_resource() are not read as Scheduler's."""
    member = set(derived["member"]["logvault.aws.lambda_function"])
    assert {"scheduler:CreateSchedule", "scheduler:UpdateSchedule", "scheduler:DeleteSchedule", "scheduler:GetSchedule"} <= member
    assert {"lambda:TagResource", "lambda:UntagResource"} <= member
    assert not {"scheduler:TagResource", "scheduler:UntagResource"} & member


def test_the_shipped_files_are_the_derived_ones():
    assert deployer_policy.main(["--check"]) == 0, "run: python tools/deployer_policy.py"


def test_the_stackset_template_carries_the_policies():
    with open(os.path.join(ROOT, "deployer", "logvault-deployer.cfn.yml"), encoding="utf-8") as handle:
        template = yaml.safe_load(handle)
    role = template["Resources"]["DeployerRole"]["Properties"]
    central, member = role["Policies"][0]["PolicyDocument"]["Fn::If"][1:]
    assert central == _shipped("central") and member == _shipped("member")
    trust = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust == [{"Sid": "TheControlNodeOnly", "Effect": "Allow", "Principal": {"AWS": {"Ref": "TrustedPrincipalArn"}},
                      "Action": "sts:AssumeRole"}]


@pytest.mark.parametrize("kind", sorted(deployer_policy.DEPLOYERS))
def test_the_policy_fits_an_inline_role_policy(kind):
    # IAM quotas: the inline policies of a role total at most 10,240 characters, whitespace not counted
    # (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
    assert len(json.dumps(_shipped(kind), separators=(",", ":"))) <= 10240


def _central_iam_roles_task(arguments):
    return [("roles/central_account/tasks/iam_roles.yml", [{"name": "IAM", "logvault.aws.iam_roles": arguments}])]


@pytest.mark.parametrize("arguments", [
    {"roles": [], "managed_policies": [{"name": "logvault-extra", "document": "{}"}]},
    "{{ arguments_that_cannot_be_read }}",
])
def test_a_central_task_that_manages_policies_with_iam_roles_brings_in_their_actions(monkeypatch, arguments):
    """central_account gives logvault.aws.iam_roles roles only, so the module's managed-policy path is not in the
    central policy (which must fit 10,240 characters); a task that passes managed_policies (or arguments that
    cannot be read) brings its actions back."""
    assert not deployer_policy.passes("central", "logvault.aws.iam_roles", "managed_policies")
    path_only = {"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
                 "iam:DeletePolicyVersion"}
    assert not path_only & set(a for actions in deployer_policy.derive("central").values() for a in actions)
    real = deployer_policy._task_files  # pylint: disable=protected-access
    monkeypatch.setattr(deployer_policy, "_task_files", lambda deployer: real(deployer) + _central_iam_roles_task(arguments))
    assert deployer_policy.passes("central", "logvault.aws.iam_roles", "managed_policies")
    assert path_only <= set(deployer_policy.derive("central")["logvault.aws.iam_roles"])


def test_the_member_deployer_keeps_the_managed_policy_actions_of_iam_roles(derived):
    """member_account manages its fleet and reader policies with logvault.aws.iam_roles (managed_policies)."""
    assert deployer_policy.passes("member", "logvault.aws.iam_roles", "managed_policies")
    assert {"iam:CreatePolicy", "iam:CreatePolicyVersion", "iam:SetDefaultPolicyVersion", "iam:DeletePolicy",
            "iam:DeletePolicyVersion", "sts:GetCallerIdentity"} <= set(derived["member"]["logvault.aws.iam_roles"])


def test_the_central_deployer_may_manage_log_groups_but_not_account_policies(derived):
    """central_account manages its Firehose and OpenSearch log groups with logvault.aws.cloudwatchlogs_log_groups without
    account_policy, so the module's account-policy path (module_utils/account_policy.py) stays out of the central policy;
    member_account passes account_policy and keeps it."""
    account_policy = {"logs:PutAccountPolicy", "logs:DeleteAccountPolicy", "logs:DescribeAccountPolicies"}
    assert not deployer_policy.passes("central", "logvault.aws.cloudwatchlogs_log_groups", "account_policy")
    assert {"logs:CreateLogGroup", "logs:PutRetentionPolicy"} <= set(derived["central"]["logvault.aws.cloudwatchlogs_log_groups"])
    assert not account_policy & set(derived["central"]["logvault.aws.cloudwatchlogs_log_groups"])
    assert not any(_allowed(_shipped("central"), action) for action in account_policy)
    assert account_policy <= set(derived["member"]["logvault.aws.cloudwatchlogs_log_groups"])
