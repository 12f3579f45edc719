# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: assume_role
short_description: Assume an IAM role on the control node and return its temporary credentials
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Calls STS C(AssumeRole) (U(https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html)) with the
    control node's own credentials (the environment, C(AWS_PROFILE) or O(profile), the instance's role; the boto3
    chain) and returns the role's temporary credentials in the form of M(amazon.aws.sts_assume_role)'s result
    (C(sts_creds) and C(sts_user)), so that they can be given to modules with C(module_defaults).
  - It does what M(amazon.aws.sts_assume_role) does, without a module run. A lookup runs in the Ansible worker on the
    control node; a module run is one more Python process that imports Ansible's module code and boto3 (about 0.6 s of
    CPU). The member_account role assumes one role per account, and at organization scale (hundreds of accounts)
    that process was one of the few left per account (docs/organization-scale.md).
  - Throttling and transient errors are retried by botocore (retry mode V(standard), O(max_attempts) attempts,
    U(https://boto3.amazonaws.com/v1/documentation/api/latest/guide/retries.html)). Any other error fails the task
    with a message that names the role and AWS's error code; nothing is changed by this lookup.
  - Module defaults (C(module_defaults)) do not apply to lookups; give O(profile), O(region) and O(endpoint_url) here.
options:
  _terms:
    description: ARN of the role to assume (one).
    type: list
    elements: string
    required: true
  role_session_name:
    description: The session name (2 to 64 letters, digits or V(+=,.@-)); CloudTrail records it.
    type: string
    required: true
  duration_seconds:
    description: Lifetime of the credentials, 900 to 43200 seconds (at most the role's maximum session duration).
    type: integer
    default: 3600
  region:
    description: The region of the STS endpoint. Defaults to boto3's region (C(AWS_REGION), the profile), else V(us-east-1).
    type: string
  endpoint_url:
    description: Another STS endpoint, for example the local AWS emulator.
    type: string
  profile:
    description: The AWS profile of the control node's credentials. Defaults to boto3's (C(AWS_PROFILE), else the default chain).
    type: string
  max_attempts:
    description: Attempts of each call, retries included (botocore's retry mode V(standard)).
    type: integer
    default: 10
notes:
  - The credentials are secrets; use the lookup in a task with C(no_log=true) (the role's C(set_fact) has it).
  - The lookup needs boto3 on the control node, as the modules of this collection do.
"""

EXAMPLES = r"""
- name: Assume the deployer role of the member account (no module run)
  ansible.builtin.set_fact:
    member_sts: >-
      {{ lookup('logvault.aws.assume_role', 'arn:aws:iam::111111111111:role/logvault-deployer',
                role_session_name='logvault-member-111111111111', region='us-east-1') }}
  no_log: true

- name: Use them
  logvault.aws.cloudwatchlogs_log_groups:
    access_key: "{{ member_sts.sts_creds.access_key }}"
    secret_key: "{{ member_sts.sts_creds.secret_key }}"
    session_token: "{{ member_sts.sts_creds.session_token }}"
    regions: [us-east-1]
    log_groups: [{name: /app/web}]
"""

RETURN = r"""
_raw:
  description: One dict, in the form of M(amazon.aws.sts_assume_role)'s result.
  type: list
  elements: dict
  contains:
    sts_creds:
      description: C(access_key), C(secret_key), C(session_token) and C(expiration) (ISO 8601).
      type: dict
    sts_user:
      description: C(arn) (the assumed-role ARN, which names the account) and C(assumed_role_id).
      type: dict
    changed:
      description: Always V(false).
      type: bool
"""

import re

try:
    import boto3
    import botocore
    import botocore.config
    import botocore.exceptions
    HAS_BOTO3 = True
except ImportError:
    HAS_BOTO3 = False

from ansible.errors import AnsibleLookupError
from ansible.module_utils.common.text.converters import to_native
from ansible.plugins.lookup import LookupBase

ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
# AssumeRole's RoleSessionName and DurationSeconds (API reference, Request Parameters).
SESSION_NAME = re.compile(r"^[\w+=,.@-]{2,64}$")
DURATION_SECONDS = (900, 43200)


def _validate(terms, options):
    """The role ARN, after every option was checked; errors name the option."""
    if len(terms) != 1:
        raise AnsibleLookupError("logvault.aws.assume_role: give exactly one role ARN, got %d" % len(terms))
    role_arn = terms[0]
    if not isinstance(role_arn, str) or not ROLE_ARN.match(role_arn):
        raise AnsibleLookupError("logvault.aws.assume_role: %r is not the ARN of an IAM role (arn:aws:iam::ACCOUNT:role/NAME)" % (role_arn,))
    if not SESSION_NAME.match(options["role_session_name"] or ""):
        raise AnsibleLookupError("logvault.aws.assume_role: role_session_name must be 2 to 64 letters, digits or '+=,.@-', got %r"
                                 % (options["role_session_name"],))
    if not DURATION_SECONDS[0] <= options["duration_seconds"] <= DURATION_SECONDS[1]:
        raise AnsibleLookupError("logvault.aws.assume_role: duration_seconds must be %d to %d, got %d"
                                 % (DURATION_SECONDS + (options["duration_seconds"],)))
    if options["max_attempts"] < 1:
        raise AnsibleLookupError("logvault.aws.assume_role: max_attempts must be at least 1, got %d" % options["max_attempts"])
    return role_arn


def assume_role(role_arn, options):
    """AssumeRole with the control node's credentials; the result in amazon.aws.sts_assume_role's form."""
    session = boto3.session.Session(profile_name=options["profile"] or None)
    config = botocore.config.Config(retries={"mode": "standard", "max_attempts": options["max_attempts"]},
                                    user_agent_extra="logvault.aws")
    region = options["region"] or session.region_name or "us-east-1"
    try:
        sts = session.client("sts", region_name=region, endpoint_url=options["endpoint_url"] or None, config=config)
        response = sts.assume_role(RoleArn=role_arn, RoleSessionName=options["role_session_name"],
                                   DurationSeconds=options["duration_seconds"])
    except botocore.exceptions.ClientError as e:
        error = e.response.get("Error", {})
        raise AnsibleLookupError("logvault.aws.assume_role: could not assume %s (%s): %s"
                                 % (role_arn, error.get("Code"), error.get("Message")))
    except botocore.exceptions.BotoCoreError as e:
        raise AnsibleLookupError("logvault.aws.assume_role: could not assume %s: %s" % (role_arn, to_native(e)))
    credentials = response["Credentials"]
    expiration = credentials["Expiration"]
    return {
        "changed": False,
        "sts_creds": {
            "access_key": credentials["AccessKeyId"],
            "secret_key": credentials["SecretAccessKey"],
            "session_token": credentials["SessionToken"],
            "expiration": expiration.isoformat() if hasattr(expiration, "isoformat") else str(expiration),
        },
        "sts_user": {
            "arn": response["AssumedRoleUser"]["Arn"],
            "assumed_role_id": response["AssumedRoleUser"]["AssumedRoleId"],
        },
    }


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        self.set_options(var_options=variables, direct=kwargs)
        options = dict((name, self.get_option(name)) for name in (
            "role_session_name", "duration_seconds", "region", "endpoint_url", "profile", "max_attempts"))
        role_arn = _validate(terms, options)
        if not HAS_BOTO3:
            raise AnsibleLookupError("logvault.aws.assume_role: boto3 is required on the control node")
        return [assume_role(role_arn, options)]
