# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Derive the IAM actions that the deployer role needs from what the collection calls.

For each deployer (central, member), the AWS modules that its roles and playbooks run are
read from their task files; in each module's source, and in the module_utils it imports,
every boto3 client method (``client.put_account_policy(...)``) and paginator
(``get_paginator("describe_account_policies")``) that is an operation of a service the module
opens a client for is an API call. botocore's service models turn an operation into its
IAM action (``logs:PutAccountPolicy``; S3 and a few others have their own names, in
``S3_ACTIONS``); ``IMPLICIT`` adds the actions AWS checks without an API of that name
(``iam:PassRole``). The result over-approximates what a run calls (a module's code path for
a feature the roles do not use is included), never under-approximates it.

    python tools/deployer_policy.py            # write deployer/*.json and the StackSet template
    python tools/deployer_policy.py --check    # exit 1 when the shipped files differ
    python tools/deployer_policy.py --prefix acme-logs --output /tmp/acme   # another logvault_name_prefix

tests/unit/test_deployer_policies.py runs the check.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import argparse
import glob
import importlib.util
import json
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "deployer")

# What each deployer runs: roles (their tasks) and playbooks (their own tasks).
DEPLOYERS = {
    "central": {
        "roles": ["central_account", "stream_alerts", "cloudtrail"],
        "playbooks": ["verify.yml", "redrive.yml", "tasks/redrive_object.yml", "restore.yml", "alerts.yml", "central.yml", "dashboard.yml"],
    },
    "member": {
        "roles": ["member_account", "cloudtrail"],
        "playbooks": ["verify.yml", "members.yml", "offboard_member.yml", "fleet.yml"],
    },
}
# Code paths of a module that only a parameter takes, and the operations that only that path calls:
# when no task of a deployer passes the parameter to the module, those operations are not the
# module's actions for that deployer (another module that calls them still brings them in). A task
# whose arguments cannot be read (a templated string) counts as passing it, so this never drops an
# action a run can call. logvault.aws.iam_roles manages customer managed policies only for
# managed_policies: central_account gives it roles only, and the central policy must fit IAM's
# 10,240 characters (see policy()).
PARAMETER_PATHS = {
    ("logvault.aws.iam_roles", "managed_policies"): {
        "iam": ["create_policy", "create_policy_version", "set_default_policy_version", "delete_policy_version",
                "delete_policy", "get_policy", "get_policy_version", "list_policy_versions", "list_entities_for_policy",
                "detach_group_policy", "detach_user_policy"],
        "sts": ["get_caller_identity"],
    },
    # module_utils/account_policy.py: only with account_policy (member_account), not for the central account's log groups.
    ("logvault.aws.cloudwatchlogs_log_groups", "account_policy"): {
        "logs": ["describe_account_policies", "put_account_policy", "delete_account_policy"],
    },
}
# Modules whose calls need no IAM permission or are not AWS calls.
NOT_AWS = {"amazon.aws.sts_assume_role"}  # run with the control node's credentials, to become the deployer
# Services by the name modules give module.client(); IAM prefix when it differs from it.
IAM_PREFIX = {"es": "es", "opensearch": "es", "cloudwatch": "cloudwatch", "monitoring": "cloudwatch",
              "events": "events", "logs": "logs"}
# Operations whose IAM action has another name (S3's, Lambda's Invoke): the same table the
# emulator uses to name a caller's action (local_aws/services/caller_policies.py), so that the
# derived policy and the emulator's evaluation agree.
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)
from local_aws.services.caller_policies import OTHER_ACTIONS, S3_ACTIONS  # noqa: E402  pylint: disable=wrong-import-position

# Actions that AWS checks without an API of that name.
IMPLICIT = {
    "central": [
        # A role handed to a service (Lambda, Firehose, CloudWatch Logs destinations, CloudTrail):
        # IAM User Guide, "Grant a user permissions to pass a role to an AWS service".
        "iam:PassRole",
        # The first OpenSearch domain in a VPC creates the service-linked role, and CreateDomain with
        # VPC options reads the VPC, subnets and security groups (OpenSearch Service Developer Guide,
        # "Launching your Amazon OpenSearch Service domains within a VPC", prerequisites).
        "iam:CreateServiceLinkedRole", "ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
        # The OpenSearch data plane (ISM policy, index template, role mapping) is called over HTTPS with
        # SigV4, as the deployer or the role it assumes for it (central_account_opensearch_data_plane_role_arn):
        # es:ESHttp* per method (OpenSearch Service Developer Guide, "Identity and Access Management").
        "es:ESHttpGet", "es:ESHttpPut", "es:ESHttpDelete", "sts:AssumeRole",
    ],
    "member": ["iam:PassRole"],
}
MODULE = re.compile(r"^\s*-?\s*((?:amazon\.aws|community\.aws|logvault\.aws)\.[a-z0-9_]+)\s*:", re.M)
CLIENT = re.compile(r"""\b(?:client\(|regional_clients\(\s*module,)\s*["']([a-z0-9-]+)["']""")  # regional_clients: module_utils/multi_region
# client.put_role_policy(...), and a method wrapped by a handler: handler(...)(client.attach_role_policy)(...)
CALL = re.compile(r"\.([a-z][a-z0-9_]*)\)?\(")
PAGINATOR = re.compile(r"""get_paginator\(\s*["']([a-z0-9_]+)["']""")
WAITER = re.compile(r"""get_waiter\(\s*["']([a-z0-9_]+)["']""")
# An operation named in a string and called through a helper (amazon.aws lambda_info's
# _paginate(client, "list_functions")): every snake_case string that is an operation name.
NAMED = re.compile(r"""["']([a-z][a-z0-9]*(?:_[a-z0-9]+)+)["']""")
# from ...module_utils.cloudwatchlogs import X, and from ...module_utils import scheduler
SERVICE = re.compile(r"""^SERVICE = ["']([a-z0-9-]+)["']""", re.M)
IMPORT = re.compile(r"from ansible_collections\.([a-z_]+)\.([a-z_]+)\.plugins\.module_utils(?:\.([a-z0-9_.]+) import|\s+import\s+([a-z0-9_]+)\b)")


def _site_packages_collections():
    spec = importlib.util.find_spec("ansible_collections.amazon.aws")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("amazon.aws is not importable; run with the project's venv")
    return os.path.dirname(os.path.dirname(list(spec.submodule_search_locations)[0]))


def _module_path(fqcn, collections):
    namespace, name, module = fqcn.split(".")
    if (namespace, name) == ("logvault", "aws"):
        return os.path.join(ROOT, "plugins", "modules", module + ".py")
    return os.path.join(collections, namespace, name, "plugins", "modules", module + ".py")


def _util_path(namespace, name, dotted, collections):
    base = ROOT if (namespace, name) == ("logvault", "aws") else os.path.join(collections, namespace, name)
    path = os.path.join(base, "plugins", "module_utils", *dotted.split("."))
    return path + ".py" if os.path.isfile(path + ".py") else os.path.join(path, "__init__.py")


def _plays_for(path, deployer):
    """The text of the plays of a playbook that run on this deployer's hosts: ``hosts: central``
    runs as the central deployer; ``members`` and ``fleet`` (whose AWS calls are made in a member
    account) as the member deployer. A task file (no plays) belongs to the deployer that lists it."""
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    plays = yaml.safe_load(text)
    if not isinstance(plays, list) or not all(isinstance(p, dict) and "hosts" in p for p in plays):
        return text
    wanted = ("central",) if deployer == "central" else ("members", "fleet")
    return "\n".join(yaml.safe_dump(play) for play in plays
                     if any(group in str(play["hosts"]).split(":") for group in wanted))


def modules_of(deployer):
    """Sorted FQCNs of the AWS modules that a deployer's roles and playbooks run (a playbook's
    plays are attributed to the deployer of the hosts they run on, see _plays_for)."""
    found = set()
    for role in DEPLOYERS[deployer]["roles"]:
        for path in glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml")):
            with open(path, encoding="utf-8") as handle:
                found.update(MODULE.findall(handle.read()))
    for playbook in DEPLOYERS[deployer]["playbooks"]:
        found.update(MODULE.findall(_plays_for(os.path.join(ROOT, "playbooks", playbook), deployer)))
    return sorted(found - NOT_AWS)


def _task_files(deployer):
    """(path, parsed YAML) of the task files and playbook plays a deployer runs (see modules_of)."""
    files = []
    for role in DEPLOYERS[deployer]["roles"]:
        for path in sorted(glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml"))):
            with open(path, encoding="utf-8") as handle:
                files.append((path, yaml.safe_load(handle)))
    for playbook in DEPLOYERS[deployer]["playbooks"]:
        path = os.path.join(ROOT, "playbooks", playbook)
        files.append((path, yaml.safe_load(_plays_for(path, deployer))))
    return files


def passes(deployer, fqcn, parameter):
    """Whether a task of the deployer passes ``parameter`` to ``fqcn`` (or arguments that cannot be read)."""
    stack = [data for dummy, data in _task_files(deployer)]
    while stack:
        node = stack.pop()
        if isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, dict):
            if fqcn in node and (not isinstance(node[fqcn], dict) or parameter in node[fqcn]):
                return True
            stack.extend(node.values())
    return False


class Models(object):
    """botocore service models: operation names by service, and IAM prefixes."""

    def __init__(self):
        import botocore.session  # pylint: disable=import-outside-toplevel
        from botocore import xform_name  # pylint: disable=import-outside-toplevel

        self._session = botocore.session.get_session()
        self._xform = xform_name
        self._cache = {}

    def operations(self, service):
        """snake_case name -> (IAM prefix, OperationName) for one service."""
        if service not in self._cache:
            model = self._session.get_service_model(service)
            prefix = IAM_PREFIX.get(service) or model.signing_name or model.endpoint_prefix
            self._cache[service] = dict((self._xform(op), (prefix, op)) for op in model.operation_names)
        return self._cache[service]


def _sources(path, collections, seen=None):
    """The module's source and the module_utils it imports (recursively, within collections)."""
    seen = set() if seen is None else seen
    if path in seen or not os.path.isfile(path):
        return []
    seen.add(path)
    with open(path, encoding="utf-8") as handle:
        text = handle.read()
    texts = [text]
    for namespace, name, dotted, util in IMPORT.findall(text):
        texts += _sources(_util_path(namespace, name, dotted or util, collections), collections, seen)
    return texts


def actions_of_module(fqcn, models, collections, not_taken=None):
    """IAM actions of the API calls in one module (and the module_utils it imports), but for the
    operations of ``not_taken`` ({service: [snake_case operation]}, see PARAMETER_PATHS)."""
    texts = _sources(_module_path(fqcn, collections), collections)
    services = set()
    for text in texts[:1]:
        # Doctest examples (">>> client = boto3.client('ec2')") are not the module's clients.
        services.update(CLIENT.findall("\n".join(l for l in text.splitlines() if ">>>" not in l)))
    # A module_utils file that declares SERVICE = "<client name>" holds the calls of that one service (and that
    # service's calls are only there): module_utils/scheduler.py for lambda_function's schedule, so that Lambda's
    # tag_resource() is not read as scheduler:TagResource.
    owned = dict((match.group(1), text) for match, text in ((SERVICE.search(text), text) for text in texts[1:]) if match)
    actions = set()
    for service in services:
        called = set()
        for text in [owned[service]] if service in owned else texts:
            called.update(CALL.findall(text))
            called.update(PAGINATOR.findall(text))
            called.update(WAITER.findall(text))
            called.update(NAMED.findall(text))
        for snake, (prefix, operation) in models.operations(service).items():
            if snake in called and snake not in (not_taken or {}).get(service, ()):
                actions.add(_action(prefix, operation))
    return actions


def _action(prefix, operation):
    if prefix == "s3":
        return S3_ACTIONS.get(operation, "s3:" + operation)
    name = "%s:%s" % (prefix, operation)
    return OTHER_ACTIONS.get(name, name)


def derive(deployer):
    """{module FQCN: sorted IAM actions} for one deployer."""
    models = Models()
    collections = _site_packages_collections()
    derived = {}
    for fqcn in modules_of(deployer):
        not_taken = {}
        for (module, parameter), operations in sorted(PARAMETER_PATHS.items()):
            if module == fqcn and not passes(deployer, fqcn, parameter):
                for service, names in operations.items():
                    not_taken.setdefault(service, []).extend(names)
        derived[fqcn] = sorted(actions_of_module(fqcn, models, collections, not_taken))
    return derived


# ---- Resources (issue 13 item 5): each action on the resource types the Service Authorization
# Reference lists for it (https://docs.aws.amazon.com/service-authorization/latest/reference/,
# one page per service: "Actions, resources, and condition keys for <service>"), narrowed to the
# names the roles give their resources: every name starts with logvault_name_prefix. The shipped
# files are for the default prefix; the StackSet template substitutes its NamePrefix parameter.
PREFIX = "logvault"

# Actions for which the Service Authorization Reference gives no resource type (the "Resource
# types" column is empty), so a statement can only name "*". docs/deployer.md lists them.
NO_RESOURCE = {
    "cloudtrail:DescribeTrails", "cloudtrail:ListTrails",
    "cloudwatch:DescribeAlarms",
    "ec2:DescribeIamInstanceProfileAssociations", "ec2:DescribeInstances", "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets", "ec2:DescribeVpcs",
    "es:ListDomainNames",
    "events:ListRules",
    "iam:ListAccountAliases", "iam:ListInstanceProfiles", "iam:ListPolicies", "iam:ListRoles", "iam:ListUsers",
    "kinesis:ListStreams",
    "kms:CreateKey", "kms:ListAliases", "kms:ListKeys",
    "lambda:CreateEventSourceMapping", "lambda:ListEventSourceMappings", "lambda:ListFunctions",
    "lambda:ListLayerVersions",
    "logs:DeleteAccountPolicy", "logs:DeleteResourcePolicy", "logs:DescribeAccountPolicies",
    "logs:DescribeDestinations", "logs:DescribeResourcePolicies", "logs:PutAccountPolicy", "logs:PutResourcePolicy",
    "s3:ListAllMyBuckets",
    "sns:ListSubscriptions", "sns:ListTopics",
    "sts:GetCallerIdentity",
}


def _iam(kind, prefix):
    return ["arn:aws:iam::*:%s/%s-*" % (kind, prefix), "arn:aws:iam::*:%s/%s/*" % (kind, prefix)]


def _log_groups(deployer, prefix):
    if deployer == "member":
        # member_account subscribes the account's own log groups (any name: the account policy's
        # selection, member_account_subscribe_log_groups) and creates the fleet's groups
        # (logvault_fleet_sources, any name): every log group of the account.
        return ["arn:aws:logs:*:*:log-group:*"]
    return ["arn:aws:logs:*:*:log-group:/aws/kinesisfirehose/%s-*" % prefix,
            "arn:aws:logs:*:*:log-group:/aws/lambda/%s-*" % prefix,
            "arn:aws:logs:*:*:log-group:/aws/opensearch/%s-*" % prefix,
            "arn:aws:logs:*:*:log-group:/%s/*" % prefix,
            "arn:aws:logs:*:*:log-group:aws-cloudtrail-logs-%s*" % prefix]


def scope(action, deployer, prefix=PREFIX):
    """``(resources, condition or None)`` of one action (see PREFIX and NO_RESOURCE)."""
    if action in NO_RESOURCE:
        return ["*"], None
    service, name = action.split(":", 1)
    p = prefix
    if service == "iam":
        if name == "CreateServiceLinkedRole":
            return ["arn:aws:iam::*:role/aws-service-role/opensearchservice.amazonaws.com/*"], None
        if name in ("AttachRolePolicy", "DetachRolePolicy") and deployer == "member":
            # the fleet policy, on roles that instances already have (member_account_fleet_policy_roles,
            # any name): only the collection's own managed policies (condition key iam:PolicyARN)
            return ["arn:aws:iam::*:role/*"], {"ArnLike": {"iam:PolicyARN": _iam("policy", p)}}
        if deployer == "member" and name in ("GetRole", "ListAttachedRolePolicies", "ListRolePolicies",
                                             "ListInstanceProfilesForRole", "ListRoleTags", "GetRolePolicy"):
            return ["arn:aws:iam::*:role/*"], None  # reading those roles
        if "InstanceProfile" in name and "ForRole" not in name:
            return _iam("instance-profile", p), None
        if "User" in name or name in ("ListAccessKeys", "ListMFADevices"):
            return _iam("user", p), None
        if "Group" in name:
            return _iam("group", p), None
        if "Role" in name:
            return _iam("role", p), None
        if "Polic" in name:
            return _iam("policy", p), None
    if service == "sts":
        return _iam("role", p), None  # AssumeRole: the domain's master role for the data plane
    if service == "athena":
        return ["arn:aws:athena:*:*:workgroup/%s-*" % p], None
    if service == "cloudtrail":
        return ["arn:aws:cloudtrail:*:*:trail/%s-*" % p], None
    if service == "cloudwatch":
        if "Dashboard" in name:
            # the health dashboard (playbooks/dashboard.yml): resource type dashboard, a global ARN
            return ["arn:aws:cloudwatch::*:dashboard/%s-*" % p], None
        return ["arn:aws:cloudwatch:*:*:alarm:%s-*" % p], None
    if service == "dynamodb":
        return ["arn:aws:dynamodb:*:*:table/%s-*" % p], None
    if service == "ec2":
        return ["arn:aws:ec2:*:*:instance/*"], None  # AssociateIamInstanceProfile: the fleet's instances
    if service == "es":
        return ["arn:aws:es:*:*:domain/%s-*" % p], None  # the domain and (ESHttp*) its paths
    if service == "events":
        return ["arn:aws:events:*:*:rule/%s-*" % p], None
    if service == "firehose":
        return ["arn:aws:firehose:*:*:deliverystream/%s-*" % p], None
    if service == "glue":
        db = p.replace("-", "_")
        return ["arn:aws:glue:*:*:catalog", "arn:aws:glue:*:*:database/%s_*" % db,
                "arn:aws:glue:*:*:table/%s_*/*" % db], None
    if service == "kinesis":
        return ["arn:aws:kinesis:*:*:stream/%s-*" % p], None
    if service == "kms":
        # Keys have generated ids: any key of the account; aliases by name.
        if "Alias" in name:
            return ["arn:aws:kms:*:*:alias/%s-*" % p, "arn:aws:kms:*:*:key/*"], None
        return ["arn:aws:kms:*:*:key/*"], None
    if service == "lambda":
        if "EventSourceMapping" in name:
            return ["arn:aws:lambda:*:*:event-source-mapping:*"], None
        return ["arn:aws:lambda:*:*:function:%s-*" % p], None
    if service == "logs":
        if name == "DescribeLogGroups":
            # AWS evaluates DescribeLogGroups on arn:aws:logs:REGION:ACCOUNT:log-group::log-stream:
            # (the resource its AccessDenied answers name), which no pattern on a group's name
            # matches: every log group of the account.
            return ["arn:aws:logs:*:*:log-group:*"], None
        if "Destination" in name or name in ("ListTagsForResource", "TagResource", "UntagResource"):
            return ["arn:aws:logs:*:*:destination:%s-*" % p] + _log_groups(deployer, p), None
        return _log_groups(deployer, p), None
    if service == "s3":
        if "Object" in name and "Bucket" not in name:
            return ["arn:aws:s3:::%s-*/*" % p], None
        return ["arn:aws:s3:::%s-*" % p], None
    if service == "scheduler":
        # the canary's and the canary monitor's schedules (resource type schedule, in any group)
        return ["arn:aws:scheduler:*:*:schedule/*/%s-*" % p], None
    if service == "sns":
        return ["arn:aws:sns:*:*:%s-*" % p], None
    raise SystemExit("tools/deployer_policy.py: no resource scope for %s; add it to scope()" % action)


def policy(deployer, by_module=None, prefix=PREFIX):
    """The deployer's identity policy: every derived action, on its resources (see scope()),
    one statement per service and resource set."""
    by_module = by_module if by_module is not None else derive(deployer)
    actions = set(IMPLICIT[deployer])
    for module_actions in by_module.values():
        actions.update(module_actions)
    groups = {}
    for action in sorted(actions):
        resources, condition = scope(action, deployer, prefix)
        key = (action.split(":")[0], json.dumps(resources), json.dumps(condition, sort_keys=True))
        groups.setdefault(key, []).append(action)
    statements = []
    for (dummy, resources, condition), group in sorted(groups.items()):
        # No Sid: the central policy must fit the 10,240 characters of a role's inline policies.
        statement = {"Effect": "Allow", "Action": group, "Resource": json.loads(resources)}
        if len(statement["Resource"]) == 1:
            statement["Resource"] = statement["Resource"][0]
        if condition != "null":
            statement["Condition"] = json.loads(condition)
        statements.append(statement)
    return {"Version": "2012-10-17", "Statement": statements}


def stackset_template(policies):
    """CloudFormation template of the deployer role, for a StackSet over the organization."""
    return {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Description": "logvault.aws deployer role (generated by tools/deployer_policy.py; do not edit by hand)",
        "Parameters": {
            "DeployerKind": {"Type": "String", "AllowedValues": ["central", "member"], "Default": "member",
                             "Description": "central for the security account, member for every other account"},
            "TrustedPrincipalArn": {"Type": "String",
                                    "Description": "ARN of the role or user that runs ansible-playbook (the control node)"},
            "RoleName": {"Type": "String", "Default": "logvault-deployer"},
        },
        "Conditions": {"IsCentral": {"Fn::Equals": [{"Ref": "DeployerKind"}, "central"]}},
        "Resources": {
            "DeployerRole": {
                "Type": "AWS::IAM::Role",
                "Properties": {
                    "RoleName": {"Ref": "RoleName"},
                    "Description": "logvault.aws: the control node assumes it to run the collection's playbooks",
                    "MaxSessionDuration": 3600,
                    "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": [{
                        "Sid": "TheControlNodeOnly", "Effect": "Allow",
                        "Principal": {"AWS": {"Ref": "TrustedPrincipalArn"}}, "Action": "sts:AssumeRole"}]},
                    "Policies": [{"PolicyName": "logvault-deployer",
                                  "PolicyDocument": {"Fn::If": ["IsCentral", policies["central"], policies["member"]]}}],
                },
            },
        },
        "Outputs": {"DeployerRoleArn": {"Value": {"Fn::GetAtt": ["DeployerRole", "Arn"]}}},
    }


class _IndentedDumper(yaml.SafeDumper):
    """Lists indented under their key, as yamllint (ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super(_IndentedDumper, self).increase_indent(flow, False)


def rendered(prefix=PREFIX):
    """{relative path: text} of every generated file."""
    policies = dict((kind, policy(kind, prefix=prefix)) for kind in DEPLOYERS)
    files = {}
    for kind, document in policies.items():
        files["deployer/%s-policy.json" % kind] = json.dumps(document, indent=2, sort_keys=True) + "\n"
    files["deployer/logvault-deployer.cfn.yml"] = "---\n" + yaml.dump(stackset_template(policies), Dumper=_IndentedDumper,
                                                                         sort_keys=False, width=120)
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped files differ from the derived ones")
    parser.add_argument("--prefix", default=PREFIX,
                        help="logvault_name_prefix of your inventory (default %(default)s: the shipped files)")
    parser.add_argument("--output", default=ROOT,
                        help="directory that receives deployer/*.json and the template (default: this repository)")
    args = parser.parse_args(argv)
    if args.prefix != PREFIX and os.path.abspath(args.output) == ROOT:
        parser.error("--prefix %s: write the files elsewhere with --output DIR (the shipped files are for %s)"
                     % (args.prefix, PREFIX))
    stale = []
    for relative, text in sorted(rendered(args.prefix).items()):
        path = os.path.join(args.output, relative)
        current = open(path, encoding="utf-8").read() if os.path.isfile(path) else None
        if current != text:
            stale.append(relative)
            if not args.check:
                os.makedirs(os.path.dirname(path), exist_ok=True)
                with open(path, "w", encoding="utf-8") as handle:
                    handle.write(text)
    if args.check and stale:
        print("stale (run python tools/deployer_policy.py): %s" % ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
