# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 17 item 4, against the local AWS emulator: an account created in the organization
after the last run is picked up by the logvault.aws.aws_organizations inventory, and because
the destination admits the organization (logvault_organization_id, aws:PrincipalOrgID),
``members.yml --limit <new account>`` onboards it alone: the destination policy is not
touched and no other account is.

The central account's destination is created here with boto3 and the collection's
``destination_policy`` filter, the way the central_account role would (the role itself is
tested by molecule); only members.yml runs through ansible-playbook, with the installed
collection, so this stays cheap (one account, one region).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml

from ansible_collections.logvault.aws.plugins.filter.destination_policy import destination_policy

BIN = os.path.dirname(sys.executable)
CENTRAL = "123456789012"  # the emulator's plain credentials; the organization's management account
REGION = "us-east-1"
ROLE = "logvault-admin"


def _central_destination(helpers, endpoint, organization_id):
    """What central_account leaves in the security account: stream, role, destination, policy."""
    kinesis = helpers.client(endpoint, "kinesis")
    kinesis.create_stream(StreamName="logvault-hub", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="logvault-hub")["StreamDescription"]["StreamARN"]
    role_arn = helpers.client(endpoint, "iam").create_role(
        RoleName="logvault-cwl-to-kinesis",
        AssumeRolePolicyDocument=json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"},
                                                     "Action": "sts:AssumeRole"}]}
        ),
    )["Role"]["Arn"]
    # central_account's PutIntoTheHubStream statement: the emulator evaluates the destination's role
    helpers.client(endpoint, "iam").put_role_policy(
        RoleName="logvault-cwl-to-kinesis", PolicyName="logvault-cwl-to-kinesis",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": stream_arn}]}),
    )
    logs = helpers.client(endpoint, "logs")
    arn = helpers.put_destination_when_propagated(logs, destinationName="logvault-central", targetArn=stream_arn,
                                                  roleArn=role_arn)
    logs.put_destination_policy(
        destinationName="logvault-central",
        accessPolicy=json.dumps(destination_policy(arn, organization_id=organization_id)),
    )
    return logs


def _account_policies(helpers, endpoint, account):
    return helpers.client(endpoint, "logs", account, role=ROLE).describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")[
        "accountPolicies"
    ]


def _inventory(tmp_path, endpoint):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True)
    (inventory / "organization.aws_organizations.yml").write_text(yaml.safe_dump({
        "plugin": "logvault.aws.aws_organizations",
        "endpoint_url": endpoint,
        "access_key": "testing",
        "secret_key": "testing",
        "region": REGION,
        "central": {"account_id": CENTRAL},
        "account_role_arn_template": "arn:{partition}:iam::{account_id}:role/" + ROLE,
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "inventory-cache"),
        "cache_timeout": 3600,
    }))
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_python_interpreter": sys.executable,
        "logvault_name_prefix": "logvault",
        "logvault_regions": [REGION],
        "logvault_local_aws": True,
        "logvault_aws_endpoint_url": endpoint,
    }))
    return str(inventory)


def _hosts(inventory, env, *extra):
    result = subprocess.run(
        [os.path.join(BIN, "ansible-inventory"), "-i", inventory, "--list"] + list(extra),
        env=env, capture_output=True, text=True, timeout=300, check=False,
    )
    assert result.returncode == 0, result.stderr
    # Inventory plugin values are not trusted templates: ansible-inventory shows them wrapped.
    data = json.loads(result.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d) if len(d) == 1 else d)
    return dict(data["_meta"]["hostvars"]), data


def test_new_account_is_onboarded_alone(emulator, installed_collection, helpers, tmp_path):
    endpoint = emulator.endpoint
    org = helpers.client(endpoint, "organizations")
    organization_id = org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    old = org.create_account(AccountName="Old Member", Email="old@example.com")["CreateAccountStatus"]["AccountId"]
    logs = _central_destination(helpers, endpoint, organization_id)
    policy_before = logs.describe_destinations()["destinations"][0]["accessPolicy"]

    env = helpers.ansible_env(tmp_path)
    inventory = _inventory(tmp_path, endpoint)
    hosts, dummy = _hosts(inventory, env)  # "the last run": fills the inventory cache
    assert sorted(hv["logvault_account_id"] for hv in hosts.values()) == sorted([CENTRAL, old])

    new = org.create_account(AccountName="New Team", Email="new@example.com")["CreateAccountStatus"]["AccountId"]
    hosts, dummy = _hosts(inventory, env)
    assert new not in [hv["logvault_account_id"] for hv in hosts.values()], "the inventory cache was not used"
    hosts, data = _hosts(inventory, env, "--flush-cache")
    assert hosts["new-team"]["logvault_account_id"] == new
    assert hosts["new-team"]["logvault_organization_id"] == organization_id
    assert "new-team" in data["members"]["hosts"]

    result = helpers.playbook(tmp_path, inventory, "members.yml", "--limit", "new-team")
    assert result.returncode == 0
    assert "new-team" in result.stdout and "old-member" not in result.stdout

    policies = _account_policies(helpers, endpoint, new)
    assert len(policies) == 1
    assert "logvault-central" in policies[0]["policyDocument"]
    assert _account_policies(helpers, endpoint, old) == [], "an account outside --limit was changed"
    assert logs.describe_destinations()["destinations"][0]["accessPolicy"] == policy_before
    assert "aws:PrincipalOrgID" in policy_before
