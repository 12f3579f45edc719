# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""iam_roles, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.modules import iam_managed_policy as amazon_iam_managed_policy
from ansible_collections.amazon.aws.plugins.modules import iam_policy as amazon_iam_policy
from ansible_collections.amazon.aws.plugins.modules import iam_role as amazon_iam_role
from ansible_collections.logvault.aws.plugins.modules import iam_roles as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

ACCOUNT = "123456789012"
EC2_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
LAMBDA_TRUST = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
SHIP = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Action": ["logs:PutLogEvents", "logs:CreateLogStream"], "Resource": "arn:aws:logs:*:*:log-group:/logvault/*"}]}
READ = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "logs:FilterLogEvents", "Resource": "*"}]}
READER_ARN = "arn:aws:iam::%s:policy/reader" % ACCOUNT


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff)


@pytest.fixture
def iam(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("iam", region_name="us-east-1")


def estate(state="present"):
    """An account's IAM as member_account manages it: a fleet role with an instance profile and an inline
    policy, a function role, and a reader policy attached to the function role."""
    return dict(
        managed_policies=[dict(name="reader", description="read logs", document=READ, state=state)],
        roles=[
            dict(name="fleet", path="/logvault/", description="fluentd hosts", assume_role_policy_document=EC2_TRUST,
                 inline_policies={"fleet-ship-logs": SHIP}, instance_profile=True, tags={"team": "sec"}, max_session_duration=7200,
                 state=state),
            dict(name="canary", path="/logvault/", description="canary", assume_role_policy_document=json.dumps(LAMBDA_TRUST),
                 inline_policies={"canary": json.dumps(SHIP)}, managed_policy_arns=[READER_ARN], tags={}, state=state),
        ],
    )


def _inline(iam, role, name):
    return iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]


def test_create_in_check_mode_then_for_real_then_nothing_to_do(iam):
    predicted = run(estate(), check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert [r["changed"] for r in predicted["roles"]] == [True, True]
    assert predicted["diff"]["after"]["roles"]["fleet"]["inline_policies"] == {"fleet-ship-logs": SHIP}
    assert predicted["diff"]["after"]["roles"]["fleet"]["max_session_duration"] == 7200
    assert "max_session_duration" not in predicted["diff"]["after"]["roles"]["canary"]
    assert predicted["diff"]["before"]["roles"]["fleet"] == {}
    assert iam.list_roles()["Roles"] == [] and iam.list_policies(Scope="Local")["Policies"] == [], "check mode wrote"

    created = run(estate())
    assert created["changed"] is True
    assert created["managed_policies"] == [dict(name="reader", arn=READER_ARN, changed=True)]
    fleet = iam.get_role(RoleName="fleet")["Role"]
    assert created["roles"][0]["arn"] == fleet["Arn"] == "arn:aws:iam::%s:role/logvault/fleet" % ACCOUNT
    assert fleet["AssumeRolePolicyDocument"] == EC2_TRUST and fleet["Description"] == "fluentd hosts"
    assert fleet["Tags"] == [{"Key": "team", "Value": "sec"}]
    assert fleet["MaxSessionDuration"] == 7200 and iam.get_role(RoleName="canary")["Role"]["MaxSessionDuration"] == 3600
    assert _inline(iam, "fleet", "fleet-ship-logs") == SHIP and _inline(iam, "canary", "canary") == SHIP
    profile = iam.get_instance_profile(InstanceProfileName="fleet")["InstanceProfile"]
    assert profile["Path"] == "/logvault/" and [r["RoleName"] for r in profile["Roles"]] == ["fleet"]
    assert [p["PolicyArn"] for p in iam.list_attached_role_policies(RoleName="canary")["AttachedPolicies"]] == [READER_ARN]
    assert iam.list_instance_profiles_for_role(RoleName="canary")["InstanceProfiles"] == []

    assert run(estate(), check_mode=True)["changed"] is False
    again = run(estate(), diff=True)
    assert again["changed"] is False and again["diff"]["after"] == {"roles": {}, "managed_policies": {}}
    assert [r["changed"] for r in again["roles"]] == [False, False]


def test_every_drift_is_found_in_check_mode_and_corrected(iam):
    run(estate())
    other = iam.create_policy(PolicyName="other", PolicyDocument=json.dumps(READ))["Policy"]["Arn"]
    drifts = [
        lambda: iam.update_assume_role_policy(RoleName="fleet", PolicyDocument=json.dumps(LAMBDA_TRUST)),
        lambda: iam.put_role_policy(RoleName="fleet", PolicyName="fleet-ship-logs", PolicyDocument=json.dumps(READ)),
        lambda: iam.delete_role_policy(RoleName="canary", PolicyName="canary"),
        lambda: iam.update_role(RoleName="fleet", Description="changed", MaxSessionDuration=7200),
        lambda: iam.update_role(RoleName="fleet", Description="fluentd hosts", MaxSessionDuration=43200),
        lambda: iam.tag_role(RoleName="canary", Tags=[{"Key": "extra", "Value": "1"}]),
        lambda: iam.untag_role(RoleName="fleet", TagKeys=["team"]),
        lambda: iam.detach_role_policy(RoleName="canary", PolicyArn=READER_ARN),
        lambda: iam.attach_role_policy(RoleName="fleet", PolicyArn=other),
        lambda: iam.remove_role_from_instance_profile(InstanceProfileName="fleet", RoleName="fleet"),
        lambda: iam.create_policy_version(PolicyArn=READER_ARN, PolicyDocument=json.dumps(SHIP), SetAsDefault=True),
    ]
    for index, drift in enumerate(drifts):
        drift()
        predicted = run(estate(), check_mode=True, diff=True)
        assert predicted["changed"] is True, "drift %d not found" % index
        assert predicted["diff"]["before"] != predicted["diff"]["after"]
        assert run(estate())["changed"] is True, "drift %d not corrected" % index
        assert run(estate(), check_mode=True)["changed"] is False, "drift %d still there" % index
    assert _inline(iam, "fleet", "fleet-ship-logs") == SHIP
    assert iam.get_role(RoleName="fleet")["Role"]["AssumeRolePolicyDocument"] == EC2_TRUST
    assert iam.get_role(RoleName="fleet")["Role"]["MaxSessionDuration"] == 7200
    versions = iam.list_policy_versions(PolicyArn=READER_ARN)["Versions"]
    assert len(versions) == 1 and versions[0]["IsDefaultVersion"]
    assert iam.get_policy_version(PolicyArn=READER_ARN, VersionId=versions[0]["VersionId"])["PolicyVersion"]["Document"] == READ


def test_other_inline_policies_are_left_alone_and_a_reordered_document_is_no_change(iam):
    run(estate())
    iam.put_role_policy(RoleName="fleet", PolicyName="added-by-someone", PolicyDocument=json.dumps(READ))
    reordered = estate()
    statement = dict(SHIP["Statement"][0], Action=list(reversed(SHIP["Statement"][0]["Action"])))
    reordered["roles"][0]["inline_policies"] = {"fleet-ship-logs": dict(SHIP, Statement=[statement])}
    assert run(reordered)["changed"] is False
    assert sorted(iam.list_role_policies(RoleName="fleet")["PolicyNames"]) == ["added-by-someone", "fleet-ship-logs"]


def test_a_policy_with_old_versions_is_left_with_one(iam):
    run(estate())
    for _index in range(4):
        iam.create_policy_version(PolicyArn=READER_ARN, PolicyDocument=json.dumps(SHIP))
    assert run(estate(), check_mode=True)["changed"] is True
    assert len(iam.list_policy_versions(PolicyArn=READER_ARN)["Versions"]) == 5, "check mode wrote"
    changed = estate()
    changed["managed_policies"][0]["document"] = SHIP
    assert run(changed)["changed"] is True  # five versions already: the old ones go before the new one
    versions = iam.list_policy_versions(PolicyArn=READER_ARN)["Versions"]
    assert len(versions) == 1
    assert iam.get_policy_version(PolicyArn=READER_ARN, VersionId=versions[0]["VersionId"])["PolicyVersion"]["Document"] == SHIP


def test_removal_detaches_and_deletes_everything_and_check_mode_predicts_it(iam):
    run(estate())
    iam.create_role(RoleName="someone-else", AssumeRolePolicyDocument=json.dumps(EC2_TRUST))
    iam.attach_role_policy(RoleName="someone-else", PolicyArn=READER_ARN)
    iam.put_role_policy(RoleName="fleet", PolicyName="added-by-someone", PolicyDocument=json.dumps(READ))
    absent = estate("absent")
    for role in absent["roles"]:
        del role["assume_role_policy_document"]
    predicted = run(absent, check_mode=True, diff=True)
    assert predicted["changed"] is True and set(predicted["diff"]["before"]["roles"]) == {"fleet", "canary"}
    assert len(iam.list_roles()["Roles"]) == 3, "check mode wrote"
    removed = run(absent)
    assert removed["changed"] is True and [r["arn"] for r in removed["roles"]] == ["", ""]
    assert [r["RoleName"] for r in iam.list_roles()["Roles"]] == ["someone-else"]
    assert iam.list_instance_profiles()["InstanceProfiles"] == []
    assert iam.list_policies(Scope="Local")["Policies"] == []
    assert iam.list_attached_role_policies(RoleName="someone-else")["AttachedPolicies"] == []
    assert run(absent)["changed"] is False and run(absent, check_mode=True)["changed"] is False


def test_roles_and_policies_made_by_the_amazon_aws_modules_are_taken_over_without_a_change(iam):
    """member_account managed these with amazon.aws.iam_role, iam_policy and iam_managed_policy before:
    an estate they built must converge with changed=0 under this module."""
    run_module(amazon_iam_managed_policy, dict(name="reader", description="read logs", policy=json.dumps(READ), only_version=True))
    for role in estate()["roles"]:
        run_module(amazon_iam_role, dict(
            name=role["name"], path=role["path"], description=role["description"], tags=role["tags"],
            assume_role_policy_document=json.dumps(json.loads(json.dumps(role["assume_role_policy_document"])))
            if isinstance(role["assume_role_policy_document"], dict) else role["assume_role_policy_document"],
            create_instance_profile=role.get("instance_profile", False), purge_policies=True,
            max_session_duration=role.get("max_session_duration"),
            managed_policies=role.get("managed_policy_arns", [])))
        for name, document in role["inline_policies"].items():
            run_module(amazon_iam_policy, dict(iam_type="role", iam_name=role["name"], policy_name=name,
                                               policy_json=document if isinstance(document, str) else json.dumps(document)))
    result = run(estate(), check_mode=True, diff=True)
    assert result["changed"] is False, result["diff"]


@pytest.mark.parametrize("mutate, parameter", [
    (lambda a: a["roles"][1].update(name="bad name"), "roles[1].name"),
    (lambda a: a["roles"][1].update(name="FLEET"), "roles[1].name"),
    (lambda a: a["roles"][0].update(path="logvault"), "roles[0].path"),
    (lambda a: a["roles"][0].update(assume_role_policy_document=None), "roles[0].assume_role_policy_document"),
    (lambda a: a["roles"][0].update(assume_role_policy_document="[1, 2]"), "roles[0].assume_role_policy_document"),
    (lambda a: a["roles"][0].update(inline_policies={"ok": "{not json"}), "roles[0].inline_policies.ok"),
    (lambda a: a["roles"][0].update(inline_policies={"bad name": SHIP}), "roles[0].inline_policies"),
    (lambda a: a["roles"][1].update(managed_policy_arns=["reader"]), "roles[1].managed_policy_arns"),
    (lambda a: a["managed_policies"][0].update(document=None), "managed_policies[0].document"),
    (lambda a: a["managed_policies"][0].update(name="x" * 129), "managed_policies[0].name"),
])
def test_bad_input_is_refused_naming_the_parameter_before_any_call(iam, mutate, parameter):
    args = copy.deepcopy(estate())
    mutate(args)
    result = run(args)
    assert result["failed"] is True and result["parameter"] == parameter, result
    assert parameter.split(".")[0].split("[")[0] in result["msg"]
    assert iam.list_roles()["Roles"] == [] and iam.list_policies(Scope="Local")["Policies"] == []


def _settings(iam, name):
    role = iam.get_role(RoleName=name)["Role"]
    return role.get("Description"), role["MaxSessionDuration"]


def test_max_session_duration_is_predicted_in_check_mode_then_changed_then_left_alone(iam):
    run(estate())
    longer = estate()
    longer["roles"][0]["max_session_duration"] = 43200
    predicted = run(longer, check_mode=True, diff=True)
    assert predicted["changed"] is True and [r["changed"] for r in predicted["roles"]] == [True, False]
    assert predicted["diff"]["before"]["roles"]["fleet"]["max_session_duration"] == 7200
    assert predicted["diff"]["after"]["roles"]["fleet"]["max_session_duration"] == 43200
    assert _settings(iam, "fleet") == ("fluentd hosts", 7200), "check mode wrote"

    assert run(longer)["changed"] is True
    assert _settings(iam, "fleet") == ("fluentd hosts", 43200)
    assert run(longer, check_mode=True)["changed"] is False
    again = run(longer, diff=True)
    assert again["changed"] is False and again["diff"]["after"]["roles"] == {}


def test_a_setting_that_is_not_given_is_kept_when_the_other_changes(iam):
    """UpdateRole applies the default of one hour to a MaxSessionDuration it is not given
    (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html): a new description must not
    shorten the sessions of a role whose duration the task does not manage, and the reverse."""
    iam.create_role(RoleName="other", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST), Description="old", MaxSessionDuration=10800)
    role = dict(name="other", assume_role_policy_document=LAMBDA_TRUST)
    assert run(dict(roles=[dict(role, description="new")]))["changed"] is True
    assert _settings(iam, "other") == ("new", 10800)
    assert run(dict(roles=[dict(role, max_session_duration=14400)]))["changed"] is True
    assert _settings(iam, "other") == ("new", 14400)
    assert run(dict(roles=[dict(role, description="new", max_session_duration=14400)]))["changed"] is False


def test_a_role_without_a_description_gets_no_empty_one_when_its_duration_changes(iam):
    iam.create_role(RoleName="bare", AssumeRolePolicyDocument=json.dumps(LAMBDA_TRUST))
    assert run(dict(roles=[dict(name="bare", assume_role_policy_document=LAMBDA_TRUST, max_session_duration=3600)]))["changed"] is False
    assert run(dict(roles=[dict(name="bare", assume_role_policy_document=LAMBDA_TRUST, max_session_duration=7200)]))["changed"] is True
    assert _settings(iam, "bare") == (None, 7200)


@pytest.mark.parametrize("duration", [3599, 43201, -1])
def test_a_max_session_duration_out_of_range_names_the_parameter_and_changes_nothing(iam, duration):
    args = estate()
    args["roles"].append(dict(name="third", assume_role_policy_document=LAMBDA_TRUST, max_session_duration=duration))
    result = run(args)
    assert result["failed"] is True and result["parameter"] == "roles[2].max_session_duration", result
    assert "roles[2].max_session_duration" in result["msg"] and str(duration) in result["msg"]
    assert iam.list_roles()["Roles"] == [] and iam.list_policies(Scope="Local")["Policies"] == []


def test_central_roles_made_by_amazon_aws_iam_role_and_iam_policy_are_taken_over_without_a_change(iam):
    """central_account managed its roles with amazon.aws.iam_role (max_session_duration 3600, tags with purge_tags, and
    create_instance_profile left to its default, true) and amazon.aws.iam_policy before: an account it built must
    converge with changed=0 when roles/central_account/tasks/iam_roles.yml gives the same roles to this module."""
    roles = [dict(name="logvault-transform", description="transform", trust=LAMBDA_TRUST, policy=SHIP),
             dict(name="logvault-search-admin", description="master role", trust=EC2_TRUST)]
    for role in roles:
        built = run_module(amazon_iam_role, dict(name=role["name"], description=role["description"],
                                                 assume_role_policy_document=json.dumps(role["trust"]), max_session_duration=3600,
                                                 tags={"owner": "security"}, purge_tags=True, state="present"))
        assert built["changed"] is True, built
        if "policy" in role:
            run_module(amazon_iam_policy, dict(iam_type="role", iam_name=role["name"], policy_name=role["name"],
                                               policy_json=json.dumps(role["policy"]), state="present"))
    args = dict(roles=[dict(name=role["name"], description=role["description"], assume_role_policy_document=role["trust"],
                            inline_policies={role["name"]: role["policy"]} if "policy" in role else {},
                            max_session_duration=3600, tags={"owner": "security"}) for role in roles])
    predicted = run(args, check_mode=True, diff=True)
    assert predicted["changed"] is False, predicted["diff"]
    assert run(args)["changed"] is False
    # iam_role gave each role an instance profile; the module leaves it as it is
    assert [p["InstanceProfileName"] for p in iam.list_instance_profiles_for_role(RoleName="logvault-transform")["InstanceProfiles"]] \
        == ["logvault-transform"]
