#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: iam_roles
version_added: 0.1.0
short_description: Manage several IAM roles, their inline and attached policies, and customer managed policies in one task
description:
  - Makes sure each role of O(roles) exists with its trust policy, description, tags, inline policies, attached
    managed policies and instance profile, or does not exist; and each policy of O(managed_policies) exists with
    one version holding its document, or does not exist.
  - It does for a whole account, in one module run, what M(amazon.aws.iam_role), M(amazon.aws.iam_policy) and
    M(amazon.aws.iam_managed_policy) (with O(amazon.aws.iam_managed_policy#module:only_version=true)) do for one
    role or policy each. At organization scale each task is one Python process on the control node (an import of
    boto3 and a client), and a member account's IAM was 8 to 10 of them; no module of amazon.aws or community.aws
    manages several roles in one run.
  - Policies are managed before the roles (so that a role can attach a policy created in the same task); roles are
    removed before the policies.
  - All input is validated before any AWS call; errors name the parameter (for example V(roles[1].name)).
author:
  - logvault.aws maintainers (@logvault)
options:
  roles:
    description: The roles.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the role, 1 to 64 letters, digits or characters of V(+=,.@_-).
        type: str
        required: true
      path:
        description:
          - Path of a new role (V(/) or V(/.../), at most 512 characters). AWS cannot change the path of an existing
            role; a different path gives a warning, as M(amazon.aws.iam_role) does.
        type: str
        default: /
      description:
        description: Description of the role (at most 1,000 characters). When not given, it is not managed.
        type: str
      max_session_duration:
        description:
          - The maximum session duration of the role, in seconds, from V(3600) (one hour) to V(43200) (12 hours), as
            C(CreateRole) and C(UpdateRole) accept it
            (U(https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html),
            U(https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html)); a value out of that range fails
            before any AWS call.
          - It is set when the role is created, and changed with C(UpdateRole) when it differs. When not given, it is
            not managed (a new role gets AWS's default of one hour).
        type: int
      assume_role_policy_document:
        description: The trust policy (a dict or a JSON string). Required when O(roles[].state=present).
        type: json
      inline_policies:
        description:
          - Inline policies of the role, by policy name (a dict or a JSON string each). Each is put when it is missing
            or differs (compared as M(amazon.aws.iam_policy) does).
          - Other inline policies of the role are left alone, as M(amazon.aws.iam_policy) leaves them.
        type: dict
        default: {}
      managed_policy_arns:
        description:
          - ARNs of the managed policies attached to the role. Others are detached, as M(amazon.aws.iam_role) does with
            O(amazon.aws.iam_role#module:purge_policies=true).
        type: list
        elements: str
        default: []
      instance_profile:
        description:
          - V(true) makes sure an instance profile named as the role (with the role's path) holds the role; with
            O(roles[].state=absent) that instance profile is deleted too. V(false) leaves instance profiles alone
            (a role that is removed is still taken out of every instance profile first, as AWS requires).
        type: bool
        default: false
      tags:
        description: Tags of the role; other tags are removed. When not given, tags are not managed.
        type: dict
      state:
        description: V(present) or V(absent).
        type: str
        choices: [present, absent]
        default: present
  managed_policies:
    description: Customer managed policies of the account.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the policy, 1 to 128 letters, digits or characters of V(+=,.@_-).
        type: str
        required: true
      path:
        description: Path of the policy (part of its ARN).
        type: str
        default: /
      description:
        description:
          - Description of a new policy. AWS cannot change the description of an existing policy; a different one gives a
            warning, as M(amazon.aws.iam_managed_policy) does.
        type: str
      document:
        description: The policy document (a dict or a JSON string). Required when O(managed_policies[].state=present).
        type: json
      state:
        description:
          - V(present) makes sure the policy's default version holds O(managed_policies[].document) and that it is its
            only version. V(absent) detaches the policy from every user, group and role, then deletes it.
        type: str
        choices: [present, absent]
        default: present
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly, a new role's inline policies included.
    With C(--diff) the module returns each role and policy that changes, before and after.
  - IAM is global; O(region) only chooses the STS endpoint that tells the account of a managed policy's ARN (the
    caller's, C(sts:GetCallerIdentity), which needs no permission).
  - Policy documents are compared as amazon.aws compares them (C(compare_policies)), so a reordered document is not a
    change.
  - A managed policy keeps at most five versions
    (U(https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_managed-versioning.html)); the module deletes
    the versions that are not the default one before it creates a new default version, so the limit is never reached.
  - Requests are retried with backoff on throttling, and on C(NoSuchEntity) right after a role or policy was created, since
    IAM is eventually consistent
    (U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)).
  - C(UpdateRole) sets both the description and the maximum session duration of a role, and AWS documents that a
    maximum session duration it is not given is set back to one hour
    (U(https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html)). When either changes, the module
    therefore sends both, the one it does not manage with the value the role has, so that neither is reset.
  - A role that is removed is first taken out of its instance profiles, its managed policies are detached and its
    inline policies deleted, as C(DeleteRole) requires
    (U(https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteRole.html)).
seealso:
  - module: amazon.aws.iam_role
  - module: amazon.aws.iam_policy
  - module: amazon.aws.iam_managed_policy
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The fleet role with its inline policy and instance profile, and a reader policy, in one task
  logvault.aws.iam_roles:
    managed_policies:
      - name: logvault-log-reader
        description: read-only access to the team's log groups
        document: "{{ reader_policy }}"
    roles:
      - name: logvault-fleet
        path: /logvault/
        description: fluentd hosts ship their logs
        assume_role_policy_document: "{{ ec2_trust_policy }}"
        inline_policies:
          logvault-fleet-ship-logs: "{{ ship_logs_policy }}"
        instance_profile: true
        tags:
          owner: security

- name: A Lambda execution role whose sessions last at most one hour
  logvault.aws.iam_roles:
    roles:
      - name: logvault-transform
        description: the transform Lambda reads the hub stream
        assume_role_policy_document: "{{ lambda_trust_policy }}"
        inline_policies:
          logvault-transform: "{{ transform_policy }}"
        max_session_duration: 3600

- name: Remove them
  logvault.aws.iam_roles:
    roles:
      - name: logvault-fleet
        instance_profile: true
        state: absent
    managed_policies:
      - name: logvault-log-reader
        state: absent
"""

RETURN = r"""
roles:
  description: Each role of O(roles), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the role.
      type: str
      returned: always
      sample: logvault-fleet
    arn:
      description: ARN of the role; empty when it does not exist (removed, or not created in check mode).
      type: str
      returned: always
      sample: arn:aws:iam::111111111111:role/logvault/logvault-fleet
    changed:
      description: Whether the task changed (or in check mode would change) this role.
      type: bool
      returned: always
      sample: false
managed_policies:
  description: Each policy of O(managed_policies), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the policy.
      type: str
      returned: always
      sample: logvault-log-reader
    arn:
      description: ARN of the policy, also when it does not exist (the ARN it has or would have).
      type: str
      returned: always
      sample: arn:aws:iam::111111111111:policy/logvault-log-reader
    changed:
      description: Whether the task changed (or in check mode would change) this policy.
      type: bool
      returned: always
      sample: true
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.policy import compare_policies
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

ROLE_NAME = re.compile(r"^[\w+=,.@-]{1,64}$")
POLICY_NAME = re.compile(r"^[\w+=,.@-]{1,128}$")
PATH = re.compile(r"^/([\x21-\x7e]*/)?$")
# MaxSessionDuration of CreateRole and UpdateRole: "Valid Range: Minimum value of 3600. Maximum value of 43200."
# (https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html)
SESSION_DURATION = (3600, 43200)
ARN = re.compile(r"^arn:aws[a-z-]*:iam::(\d{12}|aws):policy/.+$")
# Right after CreateRole/CreatePolicy, IAM may still answer NoSuchEntity (eventual consistency).
FRESH = AWSRetry.jittered_backoff(retries=8, delay=1, max_delay=10, catch_extra_error_codes=["NoSuchEntity"])


class ParameterError(Exception):
    def __init__(self, param, message):
        super(ParameterError, self).__init__(message)
        self.param = param


def _document(value, param):
    """A policy document given as a dict or a JSON string, as a dict."""
    if isinstance(value, dict):
        return value
    try:
        document = json.loads(value)
    except (TypeError, ValueError) as e:
        raise ParameterError(param, "%s must be a policy document (a dict or a JSON object), got %r (%s)" % (param, value, e))
    if not isinstance(document, dict):
        raise ParameterError(param, "%s must be a policy document (a JSON object), got %r" % (param, value))
    return document


def validate(params):
    """The roles and policies, normalised; raises ParameterError naming the parameter."""
    roles, policies, names = [], [], set()
    for index, role in enumerate(params["roles"]):
        where = "roles[%d]" % index
        if not ROLE_NAME.match(role["name"] or ""):
            raise ParameterError(where + ".name", "%s.name must be 1 to 64 letters, digits or +=,.@_-, got %r" % (where, role["name"]))
        if role["name"].lower() in names:
            raise ParameterError(where + ".name", "%s.name %r is given twice (role names are case-insensitive)" % (where, role["name"]))
        names.add(role["name"].lower())
        if not PATH.match(role["path"] or "") or len(role["path"]) > 512:
            raise ParameterError(where + ".path", "%s.path must be / or /.../ (at most 512 characters), got %r" % (where, role["path"]))
        if role["description"] is not None and len(role["description"]) > 1000:
            raise ParameterError(where + ".description", "%s.description must be at most 1,000 characters" % where)
        duration = role["max_session_duration"]
        if duration is not None and not SESSION_DURATION[0] <= duration <= SESSION_DURATION[1]:
            raise ParameterError(where + ".max_session_duration", "%s.max_session_duration must be %d to %d seconds (1 to 12 hours), got %r"
                                 % (where, SESSION_DURATION[0], SESSION_DURATION[1], duration))
        item = dict(role)
        if role["state"] == "present":
            if role["assume_role_policy_document"] is None:
                raise ParameterError(where + ".assume_role_policy_document",
                                     "%s.assume_role_policy_document is required when state is present" % where)
            item["assume_role_policy_document"] = _document(role["assume_role_policy_document"], where + ".assume_role_policy_document")
        inline = {}
        for name, document in (role["inline_policies"] or {}).items():
            if not POLICY_NAME.match(name):
                raise ParameterError(where + ".inline_policies",
                                     "%s.inline_policies: policy name %r must be 1 to 128 letters, digits or +=,.@_-" % (where, name))
            inline[name] = _document(document, "%s.inline_policies.%s" % (where, name))
        item["inline_policies"] = inline
        for arn in role["managed_policy_arns"]:
            if not ARN.match(arn or ""):
                raise ParameterError(where + ".managed_policy_arns",
                                     "%s.managed_policy_arns must hold policy ARNs (arn:aws:iam::<account>:policy/...), got %r" % (where, arn))
        if role["tags"] is not None:
            item["tags"] = dict((str(k), str(v)) for k, v in role["tags"].items())
        roles.append(item)
    names = set()
    for index, policy in enumerate(params["managed_policies"]):
        where = "managed_policies[%d]" % index
        if not POLICY_NAME.match(policy["name"] or ""):
            raise ParameterError(where + ".name", "%s.name must be 1 to 128 letters, digits or +=,.@_-, got %r" % (where, policy["name"]))
        if (policy["path"], policy["name"].lower()) in names:
            raise ParameterError(where + ".name", "%s.name %r is given twice" % (where, policy["name"]))
        names.add((policy["path"], policy["name"].lower()))
        if not PATH.match(policy["path"] or "") or len(policy["path"]) > 512:
            raise ParameterError(where + ".path", "%s.path must be / or /.../ (at most 512 characters), got %r" % (where, policy["path"]))
        item = dict(policy)
        if policy["state"] == "present":
            if policy["document"] is None:
                raise ParameterError(where + ".document", "%s.document is required when state is present" % where)
            item["document"] = _document(policy["document"], where + ".document")
        policies.append(item)
    return roles, policies


class Account(object):
    """The IAM calls of one module run."""

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.check_mode = module.check_mode

    def fail(self, error, message):
        self.module.fail_json_aws(error, msg=message)

    # ----- managed policies -------------------------------------------------------------
    def policy_arn_prefix(self):
        """arn:<partition>:iam::<caller's account>:policy (sts:GetCallerIdentity needs no permission)."""
        identity = self.module.client("sts", retry_decorator=AWSRetry.jittered_backoff()).get_caller_identity(aws_retry=True)
        return "arn:%s:iam::%s:policy" % (identity["Arn"].split(":")[1], identity["Account"])

    def get_policy(self, arn):
        try:
            return self.client.get_policy(aws_retry=True, PolicyArn=arn)["Policy"]
        except is_boto3_error_code("NoSuchEntity"):
            return None

    @AWSRetry.jittered_backoff()
    def listed(self, operation, **params):
        """Every page of a List operation, merged; retried on throttling like the single calls."""
        return self.client.get_paginator(operation).paginate(**params).build_full_result()

    def policy_versions(self, arn):
        return self.listed("list_policy_versions", PolicyArn=arn)["Versions"]

    def manage_policy(self, policy, arn):
        """(changed, before, after) of one managed policy."""
        existing = self.get_policy(arn)
        if policy["state"] == "absent":
            if existing is None:
                return False, {}, {}
            if not self.check_mode:
                self.delete_policy(arn)
            return True, {"name": policy["name"], "arn": arn}, {}
        after = {"name": policy["name"], "arn": arn, "document": policy["document"]}
        if existing is None:
            if not self.check_mode:
                params = dict(PolicyName=policy["name"], Path=policy["path"], PolicyDocument=json.dumps(policy["document"]))
                if policy["description"]:
                    params["Description"] = policy["description"]
                self.client.create_policy(aws_retry=True, **params)
            return True, {}, after
        if policy["description"] is not None and (existing.get("Description") or "") != policy["description"]:
            self.module.warn("IAM cannot change the description of policy %s (%r); it is left as it is" % (arn, existing.get("Description")))
        default = existing["DefaultVersionId"]
        current = self.client.get_policy_version(aws_retry=True, PolicyArn=arn, VersionId=default)["PolicyVersion"]["Document"]
        before = {"name": policy["name"], "arn": arn, "document": current}
        others = [v["VersionId"] for v in self.policy_versions(arn) if not v["IsDefaultVersion"]]
        differs = compare_policies(current, policy["document"])
        if not differs and not others:
            return False, before, after
        if not self.check_mode:
            for version in others:  # older versions first: never more than the five AWS allows
                FRESH(self.client.delete_policy_version)(PolicyArn=arn, VersionId=version)
            if differs:
                # Two calls, as amazon.aws.iam_managed_policy makes them (and the deployer policy allows):
                # CreatePolicyVersion, then SetDefaultPolicyVersion; then the old default goes.
                created = FRESH(self.client.create_policy_version)(PolicyArn=arn, PolicyDocument=json.dumps(policy["document"]))
                FRESH(self.client.set_default_policy_version)(PolicyArn=arn, VersionId=created["PolicyVersion"]["VersionId"])
                FRESH(self.client.delete_policy_version)(PolicyArn=arn, VersionId=default)
        return True, before, after

    def delete_policy(self, arn):
        entities = self.listed("list_entities_for_policy", PolicyArn=arn)
        for group in entities.get("PolicyGroups", []):
            self.client.detach_group_policy(aws_retry=True, GroupName=group["GroupName"], PolicyArn=arn)
        for user in entities.get("PolicyUsers", []):
            self.client.detach_user_policy(aws_retry=True, UserName=user["UserName"], PolicyArn=arn)
        for role in entities.get("PolicyRoles", []):
            self.client.detach_role_policy(aws_retry=True, RoleName=role["RoleName"], PolicyArn=arn)
        for version in self.policy_versions(arn):
            if not version["IsDefaultVersion"]:
                self.client.delete_policy_version(aws_retry=True, PolicyArn=arn, VersionId=version["VersionId"])
        self.client.delete_policy(aws_retry=True, PolicyArn=arn)

    # ----- roles ------------------------------------------------------------------------
    def get_role(self, name):
        try:
            return self.client.get_role(aws_retry=True, RoleName=name)["Role"]
        except is_boto3_error_code("NoSuchEntity"):
            return None

    def inline_policies(self, name):
        return self.listed("list_role_policies", RoleName=name)["PolicyNames"]

    def attached(self, name):
        return sorted(p["PolicyArn"] for p in self.listed("list_attached_role_policies", RoleName=name)["AttachedPolicies"])

    def profiles(self, name):
        return self.listed("list_instance_profiles_for_role", RoleName=name)["InstanceProfiles"]

    def manage_role(self, role):
        """(changed, arn, before, after) of one role."""
        existing = self.get_role(role["name"])
        if role["state"] == "absent":
            if existing is None:
                return False, "", {}, {}
            if not self.check_mode:
                self.delete_role(role)
            return True, "", {"name": role["name"], "arn": existing["Arn"]}, {}
        after = {
            "name": role["name"],
            "path": role["path"],
            "assume_role_policy_document": role["assume_role_policy_document"],
            "inline_policies": role["inline_policies"],
            "managed_policy_arns": sorted(role["managed_policy_arns"]),
        }
        if role["description"] is not None:
            after["description"] = role["description"]
        if role["max_session_duration"] is not None:
            after["max_session_duration"] = role["max_session_duration"]
        if role["tags"] is not None:
            after["tags"] = role["tags"]
        if role["instance_profile"]:
            after["instance_profile"] = role["name"]
        if existing is None:
            arn = ""
            if not self.check_mode:
                arn = self.create_role(role)
            return True, arn, {}, after
        return self.update_role(role, existing, after)

    def create_role(self, role):
        params = dict(RoleName=role["name"], Path=role["path"], AssumeRolePolicyDocument=json.dumps(role["assume_role_policy_document"]))
        if role["description"] is not None:
            params["Description"] = role["description"]
        if role["max_session_duration"] is not None:
            params["MaxSessionDuration"] = role["max_session_duration"]
        if role["tags"]:
            params["Tags"] = ansible_dict_to_boto3_tag_list(role["tags"])
        arn = self.client.create_role(aws_retry=True, **params)["Role"]["Arn"]
        for name, document in sorted(role["inline_policies"].items()):
            FRESH(self.client.put_role_policy)(RoleName=role["name"], PolicyName=name, PolicyDocument=json.dumps(document))
        for policy_arn in role["managed_policy_arns"]:
            FRESH(self.client.attach_role_policy)(RoleName=role["name"], PolicyArn=policy_arn)
        if role["instance_profile"]:
            self.ensure_profile(role, [])
        return arn

    def update_role(self, role, existing, after):
        name = role["name"]
        check = self.check_mode
        before = {
            "name": name,
            "path": existing["Path"],
            "assume_role_policy_document": existing.get("AssumeRolePolicyDocument") or {},
            "inline_policies": {},
            "managed_policy_arns": self.attached(name),
        }
        changed = False
        if existing["Path"] != role["path"]:
            self.module.warn("IAM cannot change the path of role %s (%s, not %s); it is left as it is" % (name, existing["Path"], role["path"]))
            after["path"] = existing["Path"]
        if compare_policies(before["assume_role_policy_document"], role["assume_role_policy_document"]):
            changed = True
            if not check:
                self.client.update_assume_role_policy(aws_retry=True, RoleName=name, PolicyDocument=json.dumps(role["assume_role_policy_document"]))
        changed = self.update_settings(role, existing, before) or changed
        if role["tags"] is not None:
            before["tags"] = boto3_tag_list_to_ansible_dict(existing.get("Tags") or [])
            add, remove = compare_aws_tags(before["tags"], role["tags"], purge_tags=True)
            changed = changed or bool(remove or add)
            if remove and not check:
                self.client.untag_role(aws_retry=True, RoleName=name, TagKeys=remove)
            if add and not check:
                self.client.tag_role(aws_retry=True, RoleName=name, Tags=ansible_dict_to_boto3_tag_list(add))
        if role["inline_policies"]:
            names = set(self.inline_policies(name))
            for policy_name, document in sorted(role["inline_policies"].items()):
                current = None
                if policy_name in names:
                    current = self.client.get_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name)["PolicyDocument"]
                    before["inline_policies"][policy_name] = current
                if current is None or compare_policies(current, document):
                    changed = True
                    if not check:
                        self.client.put_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name, PolicyDocument=json.dumps(document))
        wanted = set(role["managed_policy_arns"])
        for policy_arn in sorted(set(before["managed_policy_arns"]) - wanted):
            changed = True
            if not check:
                self.client.detach_role_policy(aws_retry=True, RoleName=name, PolicyArn=policy_arn)
        for policy_arn in sorted(wanted - set(before["managed_policy_arns"])):
            changed = True
            if not check:
                FRESH(self.client.attach_role_policy)(RoleName=name, PolicyArn=policy_arn)
        if role["instance_profile"]:
            profiles = self.profiles(name)
            if any(p["InstanceProfileName"] == name for p in profiles):
                before["instance_profile"] = name
            else:
                changed = self.ensure_profile(role, profiles) or changed
        return changed, existing["Arn"], before, after

    def update_settings(self, role, existing, before):
        """The description and maximum session duration (UpdateRole); returns whether either changes."""
        current = {"Description": existing.get("Description") or "", "MaxSessionDuration": existing.get("MaxSessionDuration") or 3600}
        wanted = dict(current)
        if role["description"] is not None:
            before["description"] = current["Description"]
            wanted["Description"] = role["description"]
        if role["max_session_duration"] is not None:
            before["max_session_duration"] = current["MaxSessionDuration"]
            wanted["MaxSessionDuration"] = role["max_session_duration"]
        if wanted == current:
            return False
        if not self.check_mode:
            # Both in one call: UpdateRole applies the default of one hour to a MaxSessionDuration it is not given
            # (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html). A role without a
            # description is sent none, so that it does not get an empty one.
            if "Description" not in existing and role["description"] is None:
                del wanted["Description"]
            self.client.update_role(aws_retry=True, RoleName=role["name"], **wanted)
        return True

    def ensure_profile(self, role, profiles):
        """Make the instance profile named as the role hold it; returns whether that changes anything."""
        name = role["name"]
        if any(p["InstanceProfileName"] == name for p in profiles):
            return False
        try:
            profile = self.client.get_instance_profile(aws_retry=True, InstanceProfileName=name)["InstanceProfile"]
        except is_boto3_error_code("NoSuchEntity"):
            profile = None
        if profile is not None and profile.get("Roles"):
            self.module.warn("instance profile %s already holds role %s (a profile holds one role); role %s is not added to it"
                             % (name, profile["Roles"][0]["RoleName"], name))
            return False
        if not self.check_mode:
            if profile is None:
                self.client.create_instance_profile(aws_retry=True, InstanceProfileName=name, Path=role["path"])
            FRESH(self.client.add_role_to_instance_profile)(InstanceProfileName=name, RoleName=name)
        return True

    def delete_role(self, role):
        name = role["name"]
        for profile in self.profiles(name):
            self.client.remove_role_from_instance_profile(aws_retry=True, InstanceProfileName=profile["InstanceProfileName"], RoleName=name)
            if role["instance_profile"] and profile["InstanceProfileName"] == name:
                self.client.delete_instance_profile(aws_retry=True, InstanceProfileName=name)
        for policy_arn in self.attached(name):
            self.client.detach_role_policy(aws_retry=True, RoleName=name, PolicyArn=policy_arn)
        for policy_name in self.inline_policies(name):
            self.client.delete_role_policy(aws_retry=True, RoleName=name, PolicyName=policy_name)
        self.client.delete_role(aws_retry=True, RoleName=name)


def main():
    role_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        max_session_duration=dict(type="int"),
        assume_role_policy_document=dict(type="json"),
        inline_policies=dict(type="dict", default={}),
        managed_policy_arns=dict(type="list", elements="str", default=[]),
        instance_profile=dict(type="bool", default=False),
        tags=dict(type="dict"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    policy_spec = dict(
        name=dict(type="str", required=True),
        path=dict(type="str", default="/"),
        description=dict(type="str"),
        document=dict(type="json"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    argument_spec = dict(
        roles=dict(type="list", elements="dict", default=[], options=role_spec),
        managed_policies=dict(type="list", elements="dict", default=[], options=policy_spec),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    try:
        roles, policies = validate(module.params)
    except ParameterError as e:
        module.fail_json(msg=str(e), parameter=e.param)

    try:
        client = module.client("iam", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to IAM")
    account = Account(module, client)
    result = dict(changed=False, roles=[], managed_policies=[])
    diff = dict(before=dict(roles={}, managed_policies={}), after=dict(roles={}, managed_policies={}))
    current = None

    def record(kind, name, changed, before, after):
        result["changed"] = result["changed"] or changed
        if changed:
            diff["before"][kind][name] = before
            diff["after"][kind][name] = after

    try:
        arns = {}
        if policies:
            current = "the ARNs of managed_policies (sts:GetCallerIdentity)"
            prefix = account.policy_arn_prefix()
            for policy in policies:
                arns[policy["name"]] = "%s%s%s" % (prefix, policy["path"], policy["name"])
        present = [p for p in policies if p["state"] == "present"]
        absent = [p for p in policies if p["state"] == "absent"]
        outcome = {}
        for policy in present:
            current = "managed policy %s" % policy["name"]
            outcome[policy["name"]] = account.manage_policy(policy, arns[policy["name"]])
        for role in roles:
            current = "role %s" % role["name"]
            changed, arn, before, after = account.manage_role(role)
            record("roles", role["name"], changed, before, after)
            result["roles"].append(dict(name=role["name"], arn=arn, changed=changed))
        for policy in absent:
            current = "managed policy %s" % policy["name"]
            outcome[policy["name"]] = account.manage_policy(policy, arns[policy["name"]])
        for policy in policies:
            changed, before, after = outcome[policy["name"]]
            record("managed_policies", policy["name"], changed, before, after)
            result["managed_policies"].append(dict(name=policy["name"], arn=arns[policy["name"]], changed=changed))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to manage %s" % current, **result)
    if module._diff:
        result["diff"] = diff
    module.exit_json(**result)


if __name__ == "__main__":
    main()
