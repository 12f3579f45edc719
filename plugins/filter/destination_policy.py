# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: destination_policy
short_description: Build the access policy of a CloudWatch Logs destination
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Returns the access policy (a dict) that lets the listed AWS accounts, and/or every
    principal of an AWS Organization, subscribe log groups to one CloudWatch Logs destination.
  - The policy allows C(logs:PutSubscriptionFilter) (per-group subscription filters) and
    C(logs:PutAccountPolicy) (account-level subscription filter policies) on exactly that
    destination and nothing else.
  - Account ids are validated (12 digits), deduplicated and sorted, so the result is stable.
  - An organization is granted with C(Principal "*") and the condition
    C(StringEquals aws:PrincipalOrgID).
  - Fails when the policy would exceed AWS's limit of 5,120 characters (compact JSON) and
    suggests the organization form. Every error names the filter and the argument at fault.
  - M(logvault.aws.cloudwatchlogs_destination) builds the same policy from its
    O(logvault.aws.cloudwatchlogs_destination#module:allowed_accounts) and
    O(logvault.aws.cloudwatchlogs_destination#module:organization_id) options.
positional: accounts, organization_id
options:
  _input:
    description: ARN of the destination (C(arn:aws:logs:REGION:ACCOUNT:destination:NAME)).
    type: string
    required: true
  accounts:
    description: 12-digit ids of the accounts allowed to subscribe.
    type: list
    elements: string
    default: []
  organization_id:
    description: Id of the AWS Organization (C(o-...)) whose principals may subscribe.
    type: string
"""

EXAMPLES = r"""
- name: Build the policy for two member accounts
  ansible.builtin.set_fact:
    access_policy: >-
      {{ 'arn:aws:logs:us-east-1:123456789012:destination:logvault'
         | logvault.aws.destination_policy(['222222222222', '111111111111']) }}
  # {"Version": "2012-10-17", "Statement": [{"Sid": "AllowAccountsToSubscribe",
  #   "Effect": "Allow", "Principal": {"AWS": ["111111111111", "222222222222"]},
  #   "Action": ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"],
  #   "Resource": "arn:aws:logs:us-east-1:123456789012:destination:logvault"}]}

- name: Allow every account of the organization
  ansible.builtin.set_fact:
    access_policy: >-
      {{ destination_arn | logvault.aws.destination_policy(organization_id='o-a1b2c3d4e5') }}
"""

RETURN = r"""
_value:
  description: The access policy document (C(Version) and C(Statement)), ready for C(PutDestinationPolicy).
  type: dictionary
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import build_destination_policy


def destination_policy(destination_arn, accounts=None, organization_id=None):
    """Return the access policy dict of ``destination_arn`` for ``accounts`` and/or ``organization_id``."""
    try:
        return build_destination_policy(destination_arn, accounts or [], organization_id)
    except ValidationError as e:
        argument = "input (the destination ARN)" if e.param == "destination_arn" else e.param
        raise AnsibleFilterError("destination_policy: invalid %s: %s" % (argument, e.message))


class FilterModule(object):
    """The destination_policy filter."""

    def filters(self):
        return {"destination_policy": destination_policy}
