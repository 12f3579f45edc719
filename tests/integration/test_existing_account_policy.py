# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 item 6, against the local AWS emulator: a member account that already ships its
logs elsewhere has an account-level subscription filter policy of another name, and AWS
allows one per account and Region. ``members.yml`` must stop in preflight, before any write,
naming that policy and pointing at the per-group mode; with
``member_account_subscription_mode: log_groups`` the same account is onboarded beside it.

Issue 13 item 9, on the same account (so that members.yml runs once more, not in a scenario
of its own): ``fleet.yml``'s attach step against a real ``amazon.aws.aws_ec2`` inventory pointed
at the emulator (its ``endpoint_url`` option, amazon.aws 10.1.2) over two tagged instances of
the member account: the one with no instance profile gets ``logvault-fluentd``; the one whose
instance profile has the role ``web`` keeps it and is named, and that role got the fleet
policy from members.yml (``member_account_fleet_policy_roles``); ``--check`` predicts the
change without making it; a second run changes nothing.

The central destination is made with boto3 as in test_organization_onboarding.py; only
members.yml and fleet.yml run through ansible-playbook (one account, one region)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

import yaml

from ansible_collections.logvault.aws.plugins.filter.destination_policy import destination_policy

CENTRAL, MEMBER = "123456789012", "111111111111"
REGION = "us-east-1"
ROLE = "logvault-admin"
OTHER = "datadog-forwarder"


def _destination(helpers, endpoint, name):
    kinesis = helpers.client(endpoint, "kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    iam = helpers.client(endpoint, "iam")
    role_arn = iam.create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    # The emulator evaluates the destination's role (service roles, on by default): it may put
    # records into the stream, as central_account's PutIntoTheHubStream statement allows.
    iam.put_role_policy(
        RoleName=name, PolicyName=name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": stream_arn}]}),
    )
    logs = helpers.client(endpoint, "logs")
    arn = helpers.put_destination_when_propagated(logs, destinationName=name, targetArn=stream_arn, roleArn=role_arn)
    logs.put_destination_policy(destinationName=name, accessPolicy=json.dumps(destination_policy(arn, [MEMBER])))
    return arn


def _inventory_file(tmp_path, name):
    inventory = tmp_path / "inventory"
    inventory.mkdir(exist_ok=True)
    return inventory / name


def _run(helpers, tmp_path, endpoint, extra_member_vars):
    inventory = _inventory_file(tmp_path, "hosts.yml")
    member = {"logvault_account_id": MEMBER, "logvault_assume_role_arn": "arn:aws:iam::%s:role/%s" % (MEMBER, ROLE)}
    member.update(extra_member_vars)
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "logvault_name_prefix": "logvault", "logvault_regions": [REGION],
                 "logvault_aws_endpoint_url": endpoint},
        "children": {"central": {"hosts": {"security": {"logvault_account_id": CENTRAL}}},
                     "members": {"hosts": {"team-a": member}}}}}))
    result = helpers.playbook(tmp_path, inventory, "members.yml", "--limit", "team-a")
    return result.returncode, result.stdout + result.stderr


def _instances(helpers, endpoint):
    """Two instances of the member account tagged for the fleet: one without an instance profile,
    one whose profile holds the role ``web`` (which members.yml gave the fleet policy)."""
    iam = helpers.client(endpoint, "iam", MEMBER, role=ROLE)
    iam.create_instance_profile(InstanceProfileName="web")
    iam.add_role_to_instance_profile(InstanceProfileName="web", RoleName="web")
    ec2 = helpers.client(endpoint, "ec2", MEMBER, role=ROLE)
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    tags = [{"ResourceType": "instance", "Tags": [{"Key": "logvault-fleet", "Value": "true"}]}]
    bare = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=tags)["Instances"][0]["InstanceId"]
    web = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1, TagSpecifications=tags,
                            IamInstanceProfile={"Name": "web"})["Instances"][0]["InstanceId"]
    ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)  # not tagged: not in the fleet
    return ec2, bare, web


def _profiles(ec2):
    return dict((a["InstanceId"], a["IamInstanceProfile"]["Arn"])
                for a in ec2.describe_iam_instance_profile_associations()["IamInstanceProfileAssociations"]
                if a["State"] in ("associating", "associated"))


def _fleet(helpers, tmp_path, endpoint, *args):
    _inventory_file(tmp_path, "fleet.aws_ec2.yml").write_text(yaml.safe_dump({
        "plugin": "amazon.aws.aws_ec2",
        "endpoint_url": endpoint,
        "access_key": "testing",
        "secret_key": "testing",
        "assume_role_arn": "arn:aws:iam::%s:role/%s" % (MEMBER, ROLE),
        "regions": [REGION],
        "filters": {"tag:logvault-fleet": "true"},
        "hostnames": ["instance-id"],
        "groups": {"fleet": "true"},
    }))
    # Only the attach step: the second play (fluentd on the hosts) needs SSH to the instances.
    result = helpers.playbook(tmp_path, tmp_path / "inventory", "fleet.yml", "--tags", "logvault_fleet_profile",
                              "-e", "logvault_fleet_attach_instance_profile=true", *args)
    assert result.returncode == 0
    return result


def test_another_account_policy_stops_preflight_before_any_write(emulator, installed_collection, helpers, tmp_path):
    endpoint = emulator.endpoint
    _destination(helpers, endpoint, "logvault-central")
    other = _destination(helpers, endpoint, "elsewhere")
    logs = helpers.client(endpoint, "logs", MEMBER, role=ROLE)
    logs.put_account_policy(policyName=OTHER, policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
                            policyDocument=json.dumps({"DestinationArn": other, "FilterPattern": ""}))
    iam = helpers.client(endpoint, "iam", MEMBER, role=ROLE)
    roles_before = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    groups_before = sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"])

    rc, out = _run(helpers, tmp_path, endpoint, {})
    assert rc != 0
    assert "member_account (host team-a): the account already has an account-level subscription filter policy" in out
    assert "(%s: %s)" % (REGION, OTHER) in out
    assert "member_account_subscription_mode to log_groups" in out
    assert "Nothing was changed" in out
    # Before any write: no role, no log group, no policy of ours.
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == roles_before
    assert sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]) == groups_before
    policies = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    assert [p["policyName"] for p in policies] == [OTHER]

    # The per-group mode works beside the other policy. The instances' existing role "web"
    # gets the fleet policy (issue 13 item 9), whose groups include those of logvault_fleet_sources.
    logs.create_log_group(logGroupName="/app/orders")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    rc, out = _run(helpers, tmp_path, endpoint, {
        "member_account_subscription_mode": "log_groups",
        "member_account_subscribe_log_groups": ["/app/orders"],
        "member_account_fleet_policy_roles": ["web"],
        "logvault_fleet_sources": [{"name": "app", "paths": ["/var/log/app.log"], "log_group": "/logvault/hosts/app",
                                    "parser": "json"}]})
    assert rc == 0
    attached = iam.list_attached_role_policies(RoleName="web")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["logvault-fluentd-fleet"]
    version = iam.get_policy(PolicyArn=attached[0]["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attached[0]["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert "arn:aws:logs:%s:%s:log-group:/logvault/hosts/app" % (REGION, MEMBER) in document["Statement"][0]["Resource"]
    assert "/logvault/hosts/app" in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    filters = logs.describe_subscription_filters(logGroupName="/app/orders")["subscriptionFilters"]
    assert [f["destinationArn"].rsplit(":", 1)[1] for f in filters] == ["logvault-central"]
    policies = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    assert [p["policyName"] for p in policies] == [OTHER]

    # fleet.yml's attach step over an amazon.aws.aws_ec2 inventory (issue 13 item 9)
    ec2, bare, web = _instances(helpers, endpoint)
    before = _profiles(ec2)
    assert set(before) == {web}
    predicted = _fleet(helpers, tmp_path, endpoint, "--check")
    assert "changed=1" in helpers.recap(predicted).split(bare)[1].splitlines()[0]
    assert _profiles(ec2) == before, "check mode attached a profile"
    applied = _fleet(helpers, tmp_path, endpoint)
    profiles = _profiles(ec2)
    assert profiles[bare] == "arn:aws:iam::%s:instance-profile/logvault/logvault-fluentd" % MEMBER
    assert profiles[web] == before[web]
    assert "%s keeps its instance profile %s" % (web, before[web]) in applied.stdout
    assert len(profiles) == 2, "an instance outside the fleet's tag was changed"
    again = _fleet(helpers, tmp_path, endpoint)
    assert "changed=0" in helpers.recap(again).split(bare)[1].splitlines()[0]
    assert "changed=0" in helpers.recap(again).split(web)[1].splitlines()[0]
