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
# Modules whose calls need no IAM permission or are not AWS calls.
NOT_AWS = {"amazon.aws.sts_assume_role"}  # run with the control node's credentials, to become the deployer
# Services by the name modules give module.client(); IAM prefix when it differs from it.
IAM_PREFIX = {"es": "es", "opensearch": "es", "cloudwatch": "cloudwatch", "monitoring": "cloudwatch",
              "events": "events", "logs": "logs"}
# S3 operations whose IAM action has another name (Amazon S3 API permissions reference,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "HeadObject": "s3:GetObject", "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration", "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketMetricsConfiguration": "s3:GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "s3:GetMetricsConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy", "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite", "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketCors": "s3:GetBucketCORS", "PutBucketCors": "s3:PutBucketCORS",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketInventoryConfiguration": "s3:GetInventoryConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketReplication": "s3:GetReplicationConfiguration", "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock", "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteObjects": "s3:DeleteObject", "CopyObject": "s3:GetObject", "GetObjectAttributes": "s3:GetObject",
    "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "RestoreObject": "s3:RestoreObject", "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging", "DeleteObjectTagging": "s3:DeleteObjectTagging",
    "GetBucketAnalyticsConfiguration": "s3:GetAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "s3:GetIntelligentTieringConfiguration",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration", "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
}
# Lambda operations with a version suffix in botocore (ListFunctions20150331 is not an operation name;
# botocore names are clean), and other services whose IAM action differs from the operation.
OTHER_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
}
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
CLIENT = re.compile(r"""\bclient\(\s*["']([a-z0-9-]+)["']""")
CALL = re.compile(r"\.([a-z][a-z0-9_]*)\(")
PAGINATOR = re.compile(r"""get_paginator\(\s*["']([a-z0-9_]+)["']""")
WAITER = re.compile(r"""get_waiter\(\s*["']([a-z0-9_]+)["']""")
IMPORT = re.compile(r"from ansible_collections\.([a-z_]+)\.([a-z_]+)\.plugins\.module_utils\.([a-z0-9_.]+) import")


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


def modules_of(deployer):
    """Sorted FQCNs of the AWS modules that a deployer's roles and playbooks run."""
    found = set()
    files = []
    for role in DEPLOYERS[deployer]["roles"]:
        files += glob.glob(os.path.join(ROOT, "roles", role, "tasks", "*.yml"))
    files += [os.path.join(ROOT, "playbooks", p) for p in DEPLOYERS[deployer]["playbooks"]]
    for path in files:
        with open(path, encoding="utf-8") as handle:
            found.update(MODULE.findall(handle.read()))
    return sorted(found - NOT_AWS)


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
    for namespace, name, dotted in IMPORT.findall(text):
        texts += _sources(_util_path(namespace, name, dotted, collections), collections, seen)
    return texts


def actions_of_module(fqcn, models, collections):
    """IAM actions of the API calls in one module (and the module_utils it imports)."""
    texts = _sources(_module_path(fqcn, collections), collections)
    services = set()
    for text in texts[:1]:
        # Doctest examples (">>> client = boto3.client('ec2')") are not the module's clients.
        services.update(CLIENT.findall("\n".join(l for l in text.splitlines() if ">>>" not in l)))
    called = set()
    for text in texts:
        called.update(CALL.findall(text))
        called.update(PAGINATOR.findall(text))
        called.update(WAITER.findall(text))
    actions = set()
    for service in services:
        for snake, (prefix, operation) in models.operations(service).items():
            if snake in called:
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
    return dict((fqcn, sorted(actions_of_module(fqcn, models, collections))) for fqcn in modules_of(deployer))


def policy(deployer, by_module=None):
    """The deployer's identity policy: every derived action, one statement per service."""
    by_module = by_module if by_module is not None else derive(deployer)
    actions = set(IMPLICIT[deployer])
    for module_actions in by_module.values():
        actions.update(module_actions)
    by_service = {}
    for action in sorted(actions):
        by_service.setdefault(action.split(":")[0], []).append(action)
    statements = []
    for service in sorted(by_service):
        statement = {"Sid": "Logvault" + re.sub(r"[^A-Za-z0-9]", "", service.title()), "Effect": "Allow",
                     "Action": by_service[service], "Resource": "*"}
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


def rendered():
    """{relative path: text} of every generated file."""
    policies = dict((kind, policy(kind)) for kind in DEPLOYERS)
    files = {}
    for kind, document in policies.items():
        files["deployer/%s-policy.json" % kind] = json.dumps(document, indent=2, sort_keys=True) + "\n"
    files["deployer/logvault-deployer.cfn.yml"] = "---\n" + yaml.dump(stackset_template(policies), Dumper=_IndentedDumper,
                                                                         sort_keys=False, width=120)
    return files


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 when the shipped files differ from the derived ones")
    args = parser.parse_args(argv)
    stale = []
    for relative, text in sorted(rendered().items()):
        path = os.path.join(ROOT, relative)
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
