# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Inline policies of an IAM role created by CloudFormation, read back as JSON.

What moto 5.2.5 does: ``Role.create_from_cloudformation_json`` hands the ``PolicyDocument``
of each ``Policies`` entry (a mapping in the template) to ``Role.put_policy`` as it is, and
GetRolePolicy then returns ``str(dict)``: Python's repr, with single quotes, which no JSON
parser reads.

What AWS does (IAM API Reference, "GetRolePolicy"): ``PolicyDocument`` is the policy as
URL-encoded JSON, whichever way the policy was put (PutRolePolicy or CloudFormation's
``AWS::IAM::Role`` ``Policies``, whose ``PolicyDocument`` is a JSON object).

Why it matters: playbooks/deployer.yml creates the deployer role from
deployer/logvault-deployer.cfn.yml, and its test reads the role's inline policy back.

What this patch does: a policy document that is not a string is serialized as JSON before
moto stores it, so GetRolePolicy returns JSON as for PutRolePolicy.
"""

import json


def install():
    from moto.iam.models import Role  # pylint: disable=import-outside-toplevel

    original = Role.put_policy
    if getattr(original, "_logvault_patched", False):
        return

    def put_policy(self, policy_name, policy_json):
        if not isinstance(policy_json, str):
            policy_json = json.dumps(policy_json)
        return original(self, policy_name, policy_json)

    put_policy._logvault_patched = True  # pylint: disable=protected-access
    Role.put_policy = put_policy
