# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault.aws.aws_organizations against moto's AWS Organizations (in-process, mock_aws):
OUs, a suspended account, 300 accounts (several pages), tags, rules, caching, retries,
constructed options, and ansible-doc. The plugin is loaded through Ansible's plugin loader
so that its documented options and defaults are the ones tested.

Ansible's collection loader must own the ``ansible_collections`` package before any plugin of
the collection is loaded, but other unit test files import ``ansible_collections`` as a plain
namespace package at collection time. So each test that parses runs in a forked child
(``@forked``): the child drops its copy of ``ansible_collections.*``, installs the collection
loader and runs the test body; the parent's modules are untouched. The moto state built by the
fixtures is inherited through fork."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import os
import pickle
import subprocess
import sys
import traceback
from unittest import mock

import boto3
import botocore
import pytest
from ansible.errors import AnsibleError
from ansible.inventory.data import InventoryData
from ansible.parsing.dataloader import DataLoader
from ansible.plugins.loader import init_plugin_loader, inventory_loader
from moto import mock_aws

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PYTEST_ROOT = os.path.join(REPO, "build", "pytest-root")
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
PLUGIN = "logvault.aws.aws_organizations"
MANAGEMENT = "123456789012"  # moto's default account: the management account of the organization


def forked(test):
    """Run the test body in a forked child that owns Ansible's collection loader."""

    @functools.wraps(test)
    def wrapper(*args, **kwargs):
        read_end, write_end = os.pipe()
        pid = os.fork()
        if pid == 0:  # child
            os.close(read_end)
            failure = None
            try:
                for name in [m for m in sys.modules if m == "ansible_collections" or m.startswith("ansible_collections.")]:
                    del sys.modules[name]
                init_plugin_loader([PYTEST_ROOT])
                test(*args, **kwargs)
            except BaseException:  # pylint: disable=broad-except
                failure = traceback.format_exc()
            with os.fdopen(write_end, "wb") as pipe:
                pipe.write(pickle.dumps(failure))
            os._exit(0)  # pylint: disable=protected-access
        os.close(write_end)
        with os.fdopen(read_end, "rb") as pipe:
            data = pipe.read()
        dummy, status = os.waitpid(pid, 0)
        assert data, "the forked test died without a result (wait status %s)" % status
        failure = pickle.loads(data)
        if failure:
            pytest.fail(failure, pytrace=False)

    return wrapper


@pytest.fixture
def org(monkeypatch):
    for key, value in dict(
        AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1"
    ).items():
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(key, raising=False)
    with mock_aws():
        client = boto3.client("organizations", region_name="us-east-1")
        client.create_organization(FeatureSet="ALL")
        yield Org(client)


class Org:
    """Builds an organization in moto (a test helper, not a double of the plugin)."""

    def __init__(self, client):
        self.client = client
        self.root = client.list_roots()["Roots"][0]["Id"]
        self.id = client.describe_organization()["Organization"]["Id"]

    def ou(self, name, parent=None):
        return self.client.create_organizational_unit(ParentId=parent or self.root, Name=name)["OrganizationalUnit"]["Id"]

    def account(self, name, ou=None, tags=None):
        account_id = self.client.create_account(AccountName=name, Email=name.replace(" ", "") + "@example.com")[
            "CreateAccountStatus"
        ]["AccountId"]
        if ou:
            self.client.move_account(AccountId=account_id, SourceParentId=self.root, DestinationParentId=ou)
        if tags:
            self.client.tag_resource(ResourceId=account_id, Tags=[{"Key": k, "Value": v} for k, v in tags.items()])
        return account_id


def parse(tmp_path, config=None, cache=True, name="org.aws_organizations.yml"):
    path = tmp_path / name
    path.write_text(json.dumps(dict({"plugin": PLUGIN}, **(config or {}))))
    plugin = inventory_loader.get(PLUGIN)
    inventory = InventoryData()
    plugin.parse(inventory, DataLoader(), str(path), cache=cache)
    if plugin.get_option("cache"):
        plugin.update_cache_if_changed()  # as ansible's InventoryManager does after parse()
    return inventory, plugin


def hosts_by_account(inventory):
    return {h.vars["logvault_account_id"]: h for h in inventory.hosts.values()}


def group_names(host):
    return sorted(g.name for g in host.groups)


@forked
def test_ous_become_nested_groups_and_hostvars(org, tmp_path):
    workloads = org.ou("Workloads")
    prod = org.ou("Prod", parent=workloads)
    app = org.account("Prod App", ou=prod)
    shared = org.account("Shared", ou=workloads)

    inventory, plugin = parse(tmp_path)
    hosts = hosts_by_account(inventory)

    assert set(hosts) == {MANAGEMENT, app, shared}
    assert hosts[app].name == "prod-app"
    assert hosts[app].vars["logvault_ou_path"] == "/Workloads/Prod"
    assert hosts[app].vars["logvault_ou_ids"] == [org.root, workloads, prod]
    assert group_names(hosts[app]) == ["members", "ou_workloads", "ou_workloads_prod"]  # with its ancestor
    assert group_names(hosts[shared]) == ["members", "ou_workloads"]
    assert group_names(hosts[MANAGEMENT]) == ["members", "ou_root"]
    # A child OU's group is a child of its parent's, so --limit ou_workloads includes Prod.
    assert "ou_workloads_prod" in [g.name for g in inventory.groups["ou_workloads"].child_groups]
    assert sorted(h.name for h in inventory.groups["ou_workloads"].get_hosts()) == ["prod-app", "shared"]
    # One call per OU instead of one per account: no ListParents when the walk saw every account.
    assert "list_parents" not in plugin.api_calls


@forked
def test_hostvars_role_arn_and_organization_id(org, tmp_path):
    member = org.account("Member One")
    inventory, dummy = parse(tmp_path, {"account_role_arn_template": "arn:{partition}:iam::{account_id}:role/custom"})
    host = hosts_by_account(inventory)[member]

    assert host.vars["logvault_account_id"] == member
    assert isinstance(host.vars["logvault_account_id"], str) and len(member) == 12
    assert host.vars["logvault_assume_role_arn"] == "arn:aws:iam::%s:role/custom" % member
    assert host.vars["logvault_organization_id"] == org.id
    assert host.vars["ansible_connection"] == "local"
    assert host.vars["logvault_account_email"] == "MemberOne@example.com"


@forked
def test_empty_template_and_no_organization_id(org, tmp_path):
    member = org.account("Member One")
    inventory, dummy = parse(tmp_path, {"account_role_arn_template": "", "set_organization_id": False})
    host = hosts_by_account(inventory)[member]
    assert "logvault_assume_role_arn" not in host.vars
    assert "logvault_organization_id" not in host.vars


@forked
def test_bad_template_names_the_option(org, tmp_path):
    org.account("Member One")
    with pytest.raises(AnsibleError, match="account_role_arn_template"):
        parse(tmp_path, {"account_role_arn_template": "arn:aws:iam::{account}:role/x"})


@forked
def test_suspended_account_is_not_a_host(org, tmp_path):
    kept = org.account("Kept")
    closed = org.account("Closed")
    org.client.close_account(AccountId=closed)
    assert org.client.describe_account(AccountId=closed)["Account"]["State"] in ("SUSPENDED", "PENDING_CLOSURE")

    inventory, dummy = parse(tmp_path)
    assert set(hosts_by_account(inventory)) == {MANAGEMENT, kept}


@pytest.mark.parametrize(
    "account,expected",
    [
        ({"State": "ACTIVE", "Status": "SUSPENDED"}, "ACTIVE"),
        ({"State": "PENDING_CLOSURE"}, "PENDING_CLOSURE"),
        ({"State": "CLOSED"}, "CLOSED"),
        ({"Status": "ACTIVE"}, "ACTIVE"),
        ({}, ""),
    ],
)
def test_account_state_prefers_state_over_retired_status(account, expected):
    from ansible_collections.logvault.aws.plugins.inventory.aws_organizations import account_state

    assert account_state(account) == expected


@forked
def test_300_accounts_are_read_across_pages(org, tmp_path):
    created = {org.account("acct-%03d" % i) for i in range(300)}
    calls = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self, operation, params):
        calls.append(operation)
        return real(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", spy):
        inventory, dummy = parse(tmp_path, {"read_tags": False})

    hosts = hosts_by_account(inventory)
    assert set(hosts) == created | {MANAGEMENT}
    assert len(inventory.groups["members"].get_hosts()) == 301
    assert calls.count("ListAccounts") >= 3, "ListAccounts was not paginated: %s" % calls.count("ListAccounts")
    assert calls.count("ListAccountsForParent") >= 2
    assert "ListTagsForResource" not in calls


@forked
def test_tags_become_groups_and_hostvars(org, tmp_path):
    prod = org.account("Prod", tags={"env": "prod", "team": "Payments Core"})
    dev = org.account("Dev", tags={"env": "dev"})
    inventory, dummy = parse(tmp_path)
    hosts = hosts_by_account(inventory)

    assert hosts[prod].vars["logvault_account_tags"] == {"env": "prod", "team": "Payments Core"}
    assert "tag_env_prod" in group_names(hosts[prod])
    assert "tag_team_Payments_Core" in group_names(hosts[prod])
    assert "tag_env_dev" in group_names(hosts[dev])

    inventory, dummy = parse(tmp_path, {"tag_groups": ["env"]})
    assert "tag_team_Payments_Core" not in inventory.groups
    inventory, dummy = parse(tmp_path, {"group_by_tags": False})
    assert not [g for g in inventory.groups if g.startswith("tag_")]


@forked
def test_rules_choose_central_members_and_excluded(org, tmp_path):
    security_ou = org.ou("Security")
    sandbox = org.ou("Sandbox")
    workloads = org.ou("Workloads")
    central = org.account("Log Archive", ou=security_ou, tags={"logvault-role": "central"})
    sandbox_account = org.account("Playground", ou=sandbox)
    skipped = org.account("Legacy", ou=workloads, tags={"logvault": "skip"})
    by_id = org.account("Excluded By Id", ou=workloads)
    member = org.account("App", ou=workloads)
    outside = org.account("Not Selected")

    inventory, dummy = parse(
        tmp_path,
        {
            "central": {"tags": {"logvault-role": "central"}},
            "members": {"ous": ["/Workloads"], "account_ids": [MANAGEMENT]},
            "exclude": {"ous": [sandbox], "tags": {"logvault": ["skip", "never"]}, "account_ids": [by_id]},
        },
    )
    hosts = hosts_by_account(inventory)
    assert [h.vars["logvault_account_id"] for h in inventory.groups["central"].get_hosts()] == [central]
    assert sorted(h.vars["logvault_account_id"] for h in inventory.groups["members"].get_hosts()) == sorted(
        [member, MANAGEMENT]
    )
    for gone in (sandbox_account, skipped, by_id, outside):
        assert gone not in hosts


@forked
def test_exclude_by_ou_path_covers_children(org, tmp_path):
    sandbox = org.ou("Sandbox")
    deep = org.ou("Team A", parent=sandbox)
    nested = org.account("Nested", ou=deep)
    near = org.ou("Sandboxes")  # a sibling whose name starts like the excluded path
    kept = org.account("Kept", ou=near)
    inventory, dummy = parse(tmp_path, {"exclude": {"ous": ["/Sandbox"]}})
    hosts = hosts_by_account(inventory)
    assert nested not in hosts
    assert kept in hosts


@forked
def test_central_must_match_exactly_one(org, tmp_path):
    org.account("A", tags={"role": "central"})
    org.account("B", tags={"role": "central"})
    with pytest.raises(AnsibleError, match="central must match exactly one.*matched 2"):
        parse(tmp_path, {"central": {"tags": {"role": "central"}}})
    with pytest.raises(AnsibleError, match="matched 0"):
        parse(tmp_path, {"central": {"name": "nobody"}})


@forked
def test_central_by_account_id_is_not_a_member(org, tmp_path):
    member = org.account("Member")
    inventory, dummy = parse(tmp_path, {"central": {"account_id": MANAGEMENT}})
    assert [h.vars["logvault_account_id"] for h in inventory.groups["central"].get_hosts()] == [MANAGEMENT]
    assert [h.vars["logvault_account_id"] for h in inventory.groups["members"].get_hosts()] == [member]


@forked
def test_invalid_account_id_fails_before_any_aws_call(org, tmp_path):
    calls = []
    real = botocore.client.BaseClient._make_api_call

    def spy(self, operation, params):
        calls.append(operation)
        return real(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", spy):
        with pytest.raises(AnsibleError, match=r"exclude\.account_ids.*12-digit"):
            parse(tmp_path, {"exclude": {"account_ids": ["1234"]}, "assume_role_arn": "arn:aws:iam::123456789012:role/r"})
    assert calls == []


@forked
def test_colliding_names_get_the_account_id(org, tmp_path):
    one = org.account("Same Name")
    two = org.account("same-name")
    inventory, dummy = parse(tmp_path)
    hosts = hosts_by_account(inventory)
    assert hosts[one].name == "same-name-%s" % one
    assert hosts[two].name == "same-name-%s" % two
    inventory, dummy = parse(tmp_path, {"hostnames": "id"})
    assert hosts_by_account(inventory)[one].name == one


@forked
def test_compose_keyed_groups_and_groups(org, tmp_path):
    prod = org.account("Prod", tags={"env": "prod"})
    inventory, dummy = parse(
        tmp_path,
        {
            "compose": {"logvault_regions": "['us-east-1', 'eu-west-1']"},
            "keyed_groups": [{"key": "logvault_account_tags.env | default('none')", "prefix": "env"}],
            "groups": {"production": "logvault_account_tags.env | default('') == 'prod'"},
        },
    )
    host = hosts_by_account(inventory)[prod]
    assert host.vars["logvault_regions"] == ["us-east-1", "eu-west-1"]
    assert "env_prod" in group_names(host)
    assert "production" in group_names(host)
    assert "env_none" in group_names(hosts_by_account(inventory)[MANAGEMENT])


@forked
def test_cache_serves_the_last_read_and_refresh_picks_up_a_new_account(org, tmp_path):
    """Issue 17 item 4: an account created after the last run appears once the cache is refreshed."""
    config = {
        "cache": True,
        "cache_plugin": "ansible.builtin.jsonfile",
        "cache_connection": str(tmp_path / "cache"),
        "cache_timeout": 3600,
    }
    first = org.account("First")
    inventory, plugin = parse(tmp_path, config)
    assert set(hosts_by_account(inventory)) == {MANAGEMENT, first}
    assert plugin.api_calls

    new = org.account("Joined Later", tags={"env": "prod"})
    inventory, plugin = parse(tmp_path, config, cache=True)
    assert set(hosts_by_account(inventory)) == {MANAGEMENT, first}, "the cache was not used"
    assert plugin.api_calls == {}

    inventory, plugin = parse(tmp_path, config, cache=False)  # --flush-cache / refresh
    hosts = hosts_by_account(inventory)
    assert set(hosts) == {MANAGEMENT, first, new}
    assert hosts[new].name == "joined-later"
    assert hosts[new].vars["logvault_organization_id"] == org.id


@forked
def test_throttling_is_retried(org, tmp_path):
    member = org.account("Member")
    real = botocore.client.BaseClient._make_api_call
    throttled = []

    def throttle_once(self, operation, params):
        if operation == "ListAccounts" and not throttled:
            throttled.append(operation)
            raise botocore.exceptions.ClientError(
                {"Error": {"Code": "TooManyRequestsException", "Message": "Rate exceeded"}}, operation
            )
        return real(self, operation, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", throttle_once), mock.patch(
        "ansible_collections.amazon.aws.plugins.module_utils.cloud.time.sleep"
    ) as sleep:
        inventory, dummy = parse(tmp_path)
    assert throttled == ["ListAccounts"]
    assert sleep.called
    assert member in hosts_by_account(inventory)


@forked
def test_access_denied_says_who_may_read(org, tmp_path):
    def deny(self, operation, params):
        raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, operation)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", deny):
        with pytest.raises(AnsibleError, match="management account or a delegated administrator"):
            parse(tmp_path, {"read_tags": False})


@forked
def test_file_name_must_end_with_the_suffix(tmp_path):
    plugin = inventory_loader.get(PLUGIN)
    good = tmp_path / "prod.aws_organizations.yml"
    bad = tmp_path / "prod.aws_ec2.yml"
    good.write_text("plugin: %s\n" % PLUGIN)
    bad.write_text("plugin: %s\n" % PLUGIN)
    assert plugin.verify_file(str(good))
    assert not plugin.verify_file(str(bad))


def test_ansible_doc_renders():
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=PYTEST_ROOT, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    result = subprocess.run(
        [ANSIBLE_DOC, "-t", "inventory", "--json", PLUGIN], env=env, capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr and "[ERROR]" not in result.stderr, result.stderr
    doc = json.loads(result.stdout)[PLUGIN]["doc"]
    options = doc["options"]
    for option in ("account_role_arn_template", "central", "members", "exclude", "compose", "keyed_groups", "cache",
                   "assume_role_arn", "endpoint_url", "region"):
        assert option in options, option
    assert options["account_role_arn_template"]["default"] == "arn:{partition}:iam::{account_id}:role/logvault-deployer"
