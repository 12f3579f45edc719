# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: aws_organizations
short_description: One inventory host per ACTIVE account of an AWS Organization
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Reads the accounts of an AWS Organization and yields one host per account whose state is
    C(ACTIVE), in the inventory model of logvault.aws (see C(docs/inventory-organizations.md)).
    Accounts that are C(SUSPENDED), C(PENDING_CLOSURE), C(CLOSED) or C(PENDING_ACTIVATION)
    are left out.
  - Every host gets C(logvault_account_id) (the 12-digit account id, as a string),
    C(logvault_assume_role_arn) (from O(account_role_arn_template)), C(logvault_account_name),
    C(logvault_account_email), C(logvault_account_arn), C(logvault_ou_path) (for example
    C(/Workloads/Prod); C(/) for the root), C(logvault_ou_ids) (root first),
    C(logvault_account_tags) (a dict), C(ansible_connection=local) and, with
    O(set_organization_id), C(logvault_organization_id).
  - Groups. O(central) chooses the one account of group C(central); every other account that
    O(members) admits and O(exclude) does not reject is in group C(members). Excluded accounts
    are not inventory hosts at all. Every host is also in one group per organizational unit of
    its path (O(ou_group_prefix); a child OU's group is a child group of its parent's, so
    C(--limit ou_workloads) includes C(ou_workloads_prod)), in C(<ou_group_prefix>root) when
    it sits at the root, and in one group per tag (C(tag_<key>_<value>), see O(tag_groups)).
  - Reads with C(ListAccounts), C(ListRoots), C(ListOrganizationalUnitsForParent) and
    C(ListAccountsForParent) (one call per OU and page instead of one per account),
    C(ListParents) for an account the OU walk did not see (it moved or joined meanwhile),
    C(ListTagsForResource) per account and C(DescribeOrganization). Every list goes through
    botocore's paginator; throttling (C(TooManyRequestsException)) is retried with jittered
    backoff (amazon.aws C(AWSRetry)).
  - Only the management account or a delegated administrator for AWS Organizations may call
    these actions; use O(assume_role_arn) to read from another account.
    See U(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_delegate_policies.html).
  - The configuration file must end with C(aws_organizations.yml) or C(aws_organizations.yaml).
notes:
  - "IAM permissions of the reading principal: C(organizations:DescribeOrganization),
    C(organizations:ListAccounts), C(organizations:ListRoots),
    C(organizations:ListOrganizationalUnitsForParent), C(organizations:ListAccountsForParent),
    C(organizations:ListParents), C(organizations:ListTagsForResource)."
  - The account state comes from the C(State) field of the C(Account) object; C(Status) is read
    only when C(State) is absent (AWS retires C(Status) on September 9, 2026).
    See U(https://docs.aws.amazon.com/organizations/latest/APIReference/API_Account.html).
  - Use O(cache) on large organizations; Organizations throttles its read APIs per account.
    See U(https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html).
extends_documentation_fragment:
  - inventory_cache
  - constructed
  - amazon.aws.boto3
  - amazon.aws.common.plugins
  - amazon.aws.region.plugins
  - amazon.aws.assume_role.plugins
options:
  plugin:
    description: The name of this plugin; it must always be set to V(logvault.aws.aws_organizations).
    type: str
    required: true
    choices: [logvault.aws.aws_organizations]
  account_role_arn_template:
    description:
      - The role the control node assumes in each account, becomes C(logvault_assume_role_arn).
      - Python C(str.format) fields C({account_id}) and C({partition}) (from the account ARN) are replaced.
      - An empty string sets no C(logvault_assume_role_arn), for an inventory that runs with the
        account's own credentials.
    type: str
    default: "arn:{partition}:iam::{account_id}:role/logvault-deployer"
  hostnames:
    description:
      - How a host is named. V(name) is the account name in lower case with every run of
        characters other than C(a-z), C(0-9), C(.), C(_) and C(-) replaced by C(-).
        Accounts whose names collide (or give an empty name) are all named C(<name>-<account id>).
      - V(id) names each host by its account id.
    type: str
    choices: [name, id]
    default: name
  central:
    description:
      - The rule that chooses the central (security) account. Exactly one ACTIVE, not excluded
        account must match, otherwise the inventory fails and names the candidates.
      - Leave it empty for an inventory of member accounts only (then there is no group C(central)).
      - Several keys must all match.
    type: dict
    default: {}
    suboptions:
      account_id:
        description: The account id (12 digits).
        type: str
      name:
        description: The account name, exactly.
        type: str
      tags:
        description: Tags the account must carry, key to value.
        type: dict
  members:
    description:
      - Which accounts other than the central one are in group C(members). An account is admitted
        when it matches any of the given lists; when all lists are empty every account is admitted.
    type: dict
    default: {}
    suboptions:
      account_ids:
        description: Account ids.
        type: list
        elements: str
        default: []
      ous:
        description:
          - Organizational units, each an OU id (C(ou-...)) or a path from the root
            (C(/Workloads)). An account matches when it sits in the OU or below it.
        type: list
        elements: str
        default: []
      tags:
        description:
          - Tag key to a value or a list of values. An account matches when one of its tags
            has one of the values.
        type: dict
        default: {}
  exclude:
    description:
      - Accounts that are not inventory hosts at all, even when O(central) or O(members) match them.
        An account is excluded when it matches any of the lists (same meaning as in O(members)).
    type: dict
    default: {}
    suboptions:
      account_ids:
        description: Account ids.
        type: list
        elements: str
        default: []
      ous:
        description: OU ids or paths from the root; accounts in them or below them are excluded.
        type: list
        elements: str
        default: []
      tags:
        description: Tag key to a value or a list of values.
        type: dict
        default: {}
  ou_group_prefix:
    description: Prefix of the OU groups. The rest of the name is the OU path, lower case, joined with C(_).
    type: str
    default: ou_
  tag_groups:
    description:
      - Tag keys whose values become groups C(tag_<key>_<value>). V([]) means every tag key.
    type: list
    elements: str
    default: []
  group_by_tags:
    description: Whether to make the tag groups at all.
    type: bool
    default: true
  read_tags:
    description:
      - Whether to read the tags of each account (one C(ListTagsForResource) call per account).
        Without tags, O(central), O(members) and O(exclude) rules on tags match nothing.
    type: bool
    default: true
  set_organization_id:
    description:
      - Whether to set C(logvault_organization_id) on every host, so that the central destinations
        admit every account of the organization (C(aws:PrincipalOrgID)) and a new account is
        onboarded with C(members.yml --limit <new account>) alone.
    type: bool
    default: true
  max_concurrency:
    description: How many C(ListTagsForResource) calls run at the same time.
    type: int
    default: 4
"""

EXAMPLES = r"""
# organization.aws_organizations.yml, read from the management account (or a delegated
# administrator through assume_role_arn)
plugin: logvault.aws.aws_organizations
assume_role_arn: arn:aws:iam::999999999999:role/logvault-org-reader
account_role_arn_template: "arn:aws:iam::{account_id}:role/logvault-deployer"
central:
  tags:
    logvault-role: central
exclude:
  ous: [/Sandbox]
  tags:
    logvault: skip
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: ~/.cache/logvault-organizations
cache_timeout: 3600
keyed_groups:
  - key: logvault_account_tags.environment | default('none')
    prefix: env
compose:
  logvault_regions: "['us-east-1', 'eu-west-1']"
"""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

try:
    import botocore
except ImportError:
    pass  # handled by AWSInventoryBase.require_aws_sdk

from ansible.errors import AnsibleError
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.plugin_utils.inventory import AWSInventoryBase

ACCOUNT_ID = re.compile(r"^\d{12}$")
OU_ID = re.compile(r"^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$")
ACTIVE = "ACTIVE"


@AWSRetry.jittered_backoff()
def _paginate(client, operation, result_key, **params):
    return client.get_paginator(operation).paginate(**params).build_full_result().get(result_key, [])


@AWSRetry.jittered_backoff()
def _describe_organization(client):
    return client.describe_organization()["Organization"]


def slug(text):
    """An account or OU name as a lower-case, group- and host-safe word."""
    return re.sub(r"[^a-z0-9._-]+", "-", str(text).lower()).strip("-")


def account_state(account):
    """State of an Organizations Account object (State, else the retired Status)."""
    return account.get("State") or account.get("Status") or ""


def _in_ou(record, ou):
    if ou.startswith("ou-") or ou.startswith("r-"):
        return ou in record["ou_ids"]
    path = "/" + "/".join(p for p in ou.split("/") if p)
    if path == "/":
        return True
    return record["ou_path"] == path or record["ou_path"].startswith(path + "/")


def _tag_matches(record, tags):
    for key, wanted in (tags or {}).items():
        values = wanted if isinstance(wanted, list) else [wanted]
        if key in record["tags"] and record["tags"][key] in [str(v) for v in values]:
            return True
    return False


def matches_any(record, rule):
    """True when the record matches one of the lists of a members/exclude rule."""
    rule = rule or {}
    if record["id"] in [str(a) for a in rule.get("account_ids") or []]:
        return True
    if any(_in_ou(record, ou) for ou in rule.get("ous") or []):
        return True
    return _tag_matches(record, rule.get("tags"))


def rule_is_empty(rule):
    rule = rule or {}
    return not any(rule.get(k) for k in ("account_ids", "ous", "tags"))


def matches_central(record, rule):
    """True when the record matches every key given in the central rule."""
    if rule.get("account_id") and record["id"] != str(rule["account_id"]):
        return False
    if rule.get("name") and record["name"] != rule["name"]:
        return False
    for key, value in (rule.get("tags") or {}).items():
        if record["tags"].get(key) != str(value):
            return False
    return True


def host_names(records, style):
    """Map account id -> inventory host name."""
    if style == "id":
        return {r["id"]: r["id"] for r in records}
    counts = {}
    for r in records:
        counts[slug(r["name"])] = counts.get(slug(r["name"]), 0) + 1
    names = {}
    for r in records:
        base = slug(r["name"])
        names[r["id"]] = base if base and counts[base] == 1 else "{0}-{1}".format(base or "account", r["id"])
    return names


def classify(records, central_rule, members_rule, exclude_rule):
    """Split records into (central record or None, member records, excluded records).

    Fails when the central rule is set and does not match exactly one kept account.
    """
    kept = [r for r in records if not matches_any(r, exclude_rule)]
    excluded = [r for r in records if matches_any(r, exclude_rule)]
    central = None
    if central_rule and any(v for v in central_rule.values()):
        found = [r for r in kept if matches_central(r, central_rule)]
        if len(found) != 1:
            raise AnsibleError(
                "logvault.aws.aws_organizations: option central must match exactly one ACTIVE account that is not "
                "excluded; it matched {0}: {1}".format(len(found), ", ".join(r["id"] for r in found) or "none")
            )
        central = found[0]
    members = [
        r
        for r in kept
        if (central is None or r["id"] != central["id"]) and (rule_is_empty(members_rule) or matches_any(r, members_rule))
    ]
    return central, members, excluded


class InventoryModule(AWSInventoryBase):
    NAME = "logvault.aws.aws_organizations"
    INVENTORY_FILE_SUFFIXES = ("aws_organizations.yml", "aws_organizations.yaml")

    def __init__(self):
        super().__init__()
        self.api_calls = {}
        self._calls_lock = threading.Lock()

    def _set_frozen_credentials(self):
        # Called by AWSInventoryBase.parse() right after the configuration is read and before
        # the first AWS call (sts:AssumeRole): validate the options first.
        self._validate()
        super()._set_frozen_credentials()

    # --- reading -------------------------------------------------------------------------
    def _count(self, operation):
        with self._calls_lock:
            self.api_calls[operation] = self.api_calls.get(operation, 0) + 1

    def _call(self, operation, function, *args, **kwargs):
        self._count(operation)
        try:
            return function(*args, **kwargs)
        except is_boto3_error_code("AWSOrganizationsNotInUseException") as e:
            self.fail_aws("The account is not a member of an organization", exception=e)
        except is_boto3_error_code("AccessDeniedException") as e:  # pylint: disable=duplicate-except
            self.fail_aws(
                "Access denied calling organizations:{0}; read from the management account or a delegated "
                "administrator (option assume_role_arn)".format(operation),
                exception=e,
            )
        except (botocore.exceptions.BotoCoreError, botocore.exceptions.ClientError) as e:  # pylint: disable=duplicate-except
            self.fail_aws("Failed to call organizations:{0}".format(operation), exception=e)

    def _list(self, client, operation, result_key, **params):
        return self._call(operation, _paginate, client, operation, result_key, **params)

    def _walk_ous(self, client):
        """Return {account id: (ou_path, [root id, ou ids...])} and {parent id: (path, ids)}."""
        where = {}
        parents = {}
        roots = self._list(client, "list_roots", "Roots")
        queue = [(root["Id"], "/", [root["Id"]]) for root in roots]
        while queue:
            parent_id, path, ids = queue.pop(0)
            parents[parent_id] = (path, ids)
            for account in self._list(client, "list_accounts_for_parent", "Accounts", ParentId=parent_id):
                where[account["Id"]] = (path, ids)
            for ou in self._list(client, "list_organizational_units_for_parent", "OrganizationalUnits", ParentId=parent_id):
                child_path = path.rstrip("/") + "/" + ou["Name"]
                queue.append((ou["Id"], child_path, ids + [ou["Id"]]))
        return where, parents

    def _tags(self, client, account_id):
        tags = self._list(client, "list_tags_for_resource", "Tags", ResourceId=account_id)
        return {t["Key"]: t["Value"] for t in tags}

    def _query(self):
        region = self.region or "us-east-1"
        client = self.client("organizations", region=region)
        organization = self._call("describe_organization", _describe_organization, client)
        accounts = [a for a in self._list(client, "list_accounts", "Accounts") if account_state(a) == ACTIVE]
        where, parents = self._walk_ous(client)
        records = []
        for account in accounts:
            if account["Id"] not in where:
                # Joined or moved after the walk: ask for its parent (one level) directly.
                found = self._list(client, "list_parents", "Parents", ChildId=account["Id"])
                where[account["Id"]] = parents.get(found[0]["Id"], ("/", [found[0]["Id"]])) if found else ("/", [])
            path, ids = where[account["Id"]]
            records.append(
                {
                    "id": account["Id"],
                    "arn": account.get("Arn", ""),
                    "name": account.get("Name", ""),
                    "email": account.get("Email", ""),
                    "state": account_state(account),
                    "ou_path": path,
                    "ou_ids": list(ids),
                    "tags": {},
                }
            )
        if self.get_option("read_tags") and records:
            with ThreadPoolExecutor(max_workers=max(1, self.get_option("max_concurrency"))) as pool:
                for record, tags in zip(records, pool.map(lambda r: self._tags(client, r["id"]), records)):
                    record["tags"] = tags
        records.sort(key=lambda r: r["id"])
        return {"organization_id": organization.get("Id", ""), "accounts": records}

    # --- building ------------------------------------------------------------------------
    def _ou_groups(self, record):
        prefix = self.get_option("ou_group_prefix")
        parts = [p for p in record["ou_path"].split("/") if p]
        if not parts:
            return [self.inventory.add_group(prefix + "root")]
        groups = []
        for depth in range(1, len(parts) + 1):
            name = prefix + "_".join(re.sub(r"[^a-z0-9]+", "_", p.lower()).strip("_") for p in parts[:depth])
            groups.append(self.inventory.add_group(name))
            if len(groups) > 1:
                self.inventory.add_child(groups[-2], groups[-1])
        return groups[-1:]

    def _role_arn(self, record):
        template = self.get_option("account_role_arn_template")
        if not template:
            return ""
        partition = record["arn"].split(":")[1] if record["arn"].count(":") >= 2 else "aws"
        try:
            return template.format(account_id=record["id"], partition=partition)
        except (KeyError, IndexError, ValueError) as e:
            raise AnsibleError(
                "logvault.aws.aws_organizations: option account_role_arn_template {0!r} is not a valid template "
                "(fields: account_id, partition): {1}".format(template, to_native(e))
            ) from e

    def _populate(self, results):
        central, members, excluded = classify(
            results["accounts"], self.get_option("central"), self.get_option("members"), self.get_option("exclude")
        )
        hosts = ([central] if central else []) + members
        names = host_names(hosts, self.get_option("hostnames"))
        strict = self.get_option("strict")
        if central:
            self.inventory.add_group("central")
        self.inventory.add_group("members")
        tag_keys = self.get_option("tag_groups")
        for record in hosts:
            host = names[record["id"]]
            self.inventory.add_host(host, group="central" if central and record is central else "members")
            hostvars = {
                "ansible_connection": "local",
                "logvault_account_id": record["id"],
                "logvault_account_name": record["name"],
                "logvault_account_email": record["email"],
                "logvault_account_arn": record["arn"],
                "logvault_ou_path": record["ou_path"],
                "logvault_ou_ids": record["ou_ids"],
                "logvault_account_tags": record["tags"],
            }
            role_arn = self._role_arn(record)
            if role_arn:
                hostvars["logvault_assume_role_arn"] = role_arn
            if self.get_option("set_organization_id") and results["organization_id"]:
                hostvars["logvault_organization_id"] = results["organization_id"]
            for key, value in hostvars.items():
                self.inventory.set_variable(host, key, value)
            for group in self._ou_groups(record):
                self.inventory.add_host(host, group=group)
            if self.get_option("group_by_tags"):
                for key, value in sorted(record["tags"].items()):
                    if tag_keys and key not in tag_keys:
                        continue
                    group = self.inventory.add_group(self._sanitize_group_name("tag_{0}_{1}".format(key, value)))
                    self.inventory.add_host(host, group=group)
            self._set_composite_vars(self.get_option("compose"), hostvars, host, strict=strict)
            self._add_host_to_composed_groups(self.get_option("groups"), hostvars, host, strict=strict)
            self._add_host_to_keyed_groups(self.get_option("keyed_groups"), hostvars, host, strict=strict)
        if excluded:
            self.debug("aws_organizations: excluded accounts " + ", ".join(r["id"] for r in excluded))

    def _validate(self):
        for option in ("members", "exclude"):
            for account_id in (self.get_option(option) or {}).get("account_ids") or []:
                if not ACCOUNT_ID.match(str(account_id)):
                    self.fail_aws("option {0}.account_ids: {1!r} is not a 12-digit account id".format(option, account_id))
        central_id = (self.get_option("central") or {}).get("account_id")
        if central_id and not ACCOUNT_ID.match(str(central_id)):
            self.fail_aws("option central.account_id: {0!r} is not a 12-digit account id".format(central_id))
        if self.get_option("max_concurrency") < 1:
            self.fail_aws("option max_concurrency must be at least 1")

    def parse(self, inventory, loader, path, cache=True):
        super().parse(inventory, loader, path, cache=cache)
        result_was_cached, results = self.get_cached_result(path, cache)
        if not result_was_cached:
            results = self._query()
        self._populate(results)
        self.update_cached_result(path, cache, results)
