# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 item 5, against the local AWS emulator with callers' identity policies enforced
(LOGVAULT_AWS_CALLER_POLICIES=1, docs/local-aws.md "Callers' identity policies"):

1. ``deployer.yml`` creates the deployer role in every account of the inventory through
   OrganizationAccountAccessRole, from the shipped CloudFormation template: the central policy
   in the central account, the member policy in a member account, trusted by the control
   node's principal only;
2. ``central.yml`` and ``members.yml`` then run **as those roles**, and the emulator allows each
   of their requests only when the shipped policy allows its action on its resource (and
   iam:PassRole for each role handed to a service): both pass;
3. a second ``deployer.yml`` changes nothing;
4. with one action removed from the member role's policy, ``members.yml`` fails with the
   service's AccessDenied naming that action (the test can fail).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import sys
from urllib.parse import unquote

import pytest
import yaml

from local_aws.services import caller_policies

CENTRAL, MEMBER = "123456789012", "111111111111"
REGION = "us-east-1"
CONTROL_NODE = "arn:aws:iam::123456789012:role/ansible-control-node"
DEPLOYER = "logvault-deployer"
# An action members.yml calls on every run (the preflight reads the account's policies).
REMOVED = "logs:DescribeAccountPolicies"


@pytest.fixture()
def enforced(monkeypatch):
    monkeypatch.setenv(caller_policies.SETTING, "1")


class _EmulatorKeys(dict):
    """TEST DOUBLE glue: the OpenSearch stand-in verifies SigV4 with the secret of any access
    key the emulator of this process issued (the deployer's and the master role's sessions),
    as the real domain accepts any valid AWS credentials."""

    def _secret(self, key):
        from moto.iam.models import get_account_id_from, iam_backends  # pylint: disable=import-outside-toplevel

        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        found = iam_backends[get_account_id_from(key)]["global"].access_keys.get(key)
        return getattr(found, "secret_access_key", None)

    def __contains__(self, key):
        return self._secret(key) is not None

    def __getitem__(self, key):
        secret = self._secret(key)
        if secret is None:
            raise KeyError(key)
        return secret


@pytest.fixture()
def opensearch(helpers):
    path = os.path.join(helpers.REPO, "tests", "opensearch_stub", "server.py")
    spec = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stub = module.OpenSearchStub({"testing": "testing"})
    stub.credentials = _EmulatorKeys(testing="testing")
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def _inventory(tmp_path, endpoint, opensearch):
    inventory = tmp_path / "hosts.yml"
    role = "arn:aws:iam::%s:role/" + DEPLOYER
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "logvault_name_prefix": "logvault", "logvault_regions": [REGION], "logvault_local_aws": True,
                 "logvault_aws_endpoint_url": endpoint,
                 # the data plane of the OpenSearch test double (inventories/local does the same)
                 "central_account_opensearch_endpoint_override": opensearch.endpoint,
                 "central_account_opensearch_ca_path": opensearch.ca_path,
                 "central_account_search_backup_mode": "AllDocuments",
                 "central_account_opensearch_public": True},
        "children": {
            # The deployer writes the OpenSearch security configuration as the master role, so it is
            # listed next to the break-glass role, as inventories/example does (docs/first-run.md).
            "central": {"hosts": {"security": {
                "logvault_account_id": CENTRAL, "logvault_assume_role_arn": role % CENTRAL,
                "central_account_opensearch_master_principal_arns": [
                    "arn:aws:iam::%s:role/logvault-break-glass" % CENTRAL, role % CENTRAL]}}},
            "members": {"hosts": {"team-a": {"logvault_account_id": MEMBER, "logvault_assume_role_arn": role % MEMBER}}}}}}))
    return inventory


def _iam(helpers, endpoint, account):
    return helpers.client(endpoint, "iam", account, role="OrganizationAccountAccessRole")


def _document(value):
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _shipped(helpers, kind):
    with open(os.path.join(helpers.REPO, "deployer", "%s-policy.json" % kind), encoding="utf-8") as handle:
        return json.load(handle)


def test_playbooks_run_as_the_shipped_deployer_roles(enforced, emulator, opensearch, installed_collection, helpers,
                                                     tmp_path):
    inventory = _inventory(tmp_path, emulator.endpoint, opensearch)
    trusted = "logvault_deployer_trusted_principal_arn=%s" % CONTROL_NODE
    result = helpers.playbook(tmp_path, inventory, "deployer.yml", "-e", trusted)
    assert result.returncode == 0
    for account, kind in ((CENTRAL, "central"), (MEMBER, "member")):
        iam = _iam(helpers, emulator.endpoint, account)
        role = iam.get_role(RoleName=DEPLOYER)["Role"]
        assert [s["Principal"] for s in _document(role["AssumeRolePolicyDocument"])["Statement"]] == [{"AWS": CONTROL_NODE}]
        assert iam.list_role_policies(RoleName=DEPLOYER)["PolicyNames"] == [DEPLOYER]
        assert iam.list_attached_role_policies(RoleName=DEPLOYER)["AttachedPolicies"] == []
        inline = _document(iam.get_role_policy(RoleName=DEPLOYER, PolicyName=DEPLOYER)["PolicyDocument"])
        assert inline == _shipped(helpers, kind), "account %s did not get the %s policy" % (account, kind)

    # site.yml's default plays (central.yml, alerts.yml, members.yml) as the deployer roles,
    # every request evaluated
    for name in ("central.yml", "alerts.yml", "members.yml"):
        result = helpers.playbook(tmp_path, inventory, name)
        assert result.returncode == 0, "%s as the deployer role: %s" % (name, caller_policies.denials()[-3:])
    assert caller_policies.denials() == []
    if os.environ.get("LOGVAULT_DEPLOYER_EVALUATED"):  # what the roles did, for tools/deployer_policy.py's tables
        with open(os.environ["LOGVAULT_DEPLOYER_EVALUATED"], "w", encoding="utf-8") as handle:
            json.dump(sorted([list(k) + [v] for k, v in caller_policies.evaluated().items()], key=str), handle, indent=1)
    logs = helpers.client(emulator.endpoint, "logs", MEMBER, role=DEPLOYER)
    assert [p["policyName"] for p in logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")[
        "accountPolicies"]] != []

    again = helpers.playbook(tmp_path, inventory, "deployer.yml", "-e", trusted)
    assert again.returncode == 0
    assert "changed=0" in helpers.recap(again)

    # one action less: members.yml stops with the service's AccessDenied naming it
    iam = _iam(helpers, emulator.endpoint, MEMBER)
    policy = _shipped(helpers, "member")
    for statement in policy["Statement"]:
        if isinstance(statement["Action"], list) and REMOVED in statement["Action"]:
            statement["Action"].remove(REMOVED)
            break
    else:
        pytest.fail("the member policy has no %s" % REMOVED)
    iam.put_role_policy(RoleName=DEPLOYER, PolicyName=DEPLOYER, PolicyDocument=json.dumps(policy))
    failed = helpers.playbook(tmp_path, inventory, "members.yml")
    assert failed.returncode != 0
    assert "AccessDeniedException" in failed.stdout and REMOVED in failed.stdout
    assert [d["action"] for d in caller_policies.denials()] == [REMOVED]
