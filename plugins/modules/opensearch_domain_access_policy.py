#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_domain_access_policy
version_added: 0.1.0
short_description: Keep an OpenSearch Service domain's access policy to named principals
description:
  - Sets the resource-based access policy (C(AccessPolicies)) of an existing OpenSearch
    Service domain, comparing it by meaning first and writing only when it differs.
  - Refuses a policy that allows a wildcard principal (V(*) as the whole principal or as an
    C(AWS) value, or any principal value containing V(*)) or that allows with
    C(NotPrincipal), because the domain must never be public. Deny statements may name V(*).
  - Exists because C(community.aws.opensearch) 10.0.0 compares access policies inverted.
    C(set_access_policy()) in C(plugins/modules/opensearch.py) calls
    C(if not compare_policies(current_access_policy, access_policy_opt)), but amazon.aws's
    C(compare_policies()) returns V(true) when the policies B(differ). So it reports a
    change (and rewrites) when the policies are equal, and skips the update when they
    differ. Give C(community.aws.opensearch) the policy only when it creates the domain, and
    keep it in line with this module.
  - Policies are compared as canonical JSON (sorted keys, C(Action)/C(Resource) and
    principal/condition values as sorted lists, account root ARNs equal to bare account
    ids), so reformatting a policy does not report a change.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  domain_name:
    description:
      - Name of the domain (3 to 28 lowercase letters, digits or V(-), starting with a letter).
    required: true
    type: str
  policy:
    description:
      - The access policy document, with at least one statement in C(Statement).
    required: true
    type: dict
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the policy before and after.
  - In check mode a domain that does not exist yet (the task that would create it did not run)
    counts as having no policy, so the module predicts a change. Outside check mode a missing
    domain fails the task.
  - There is no O(ignore:state=absent) - a domain always has an access policy, and removing it
    is not something this collection wants to offer.
seealso:
  - name: Identity and Access Management in Amazon OpenSearch Service
    description: Resource-based access policies of a domain.
    link: https://docs.aws.amazon.com/opensearch-service/latest/developerguide/ac.html
  - module: community.aws.opensearch
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Keep the domain's access policy to two named roles
  logvault.aws.opensearch_domain_access_policy:
    domain_name: logvault
    policy:
      Version: "2012-10-17"
      Statement:
        - Sid: NamedPrincipalsOnly
          Effect: Allow
          Principal:
            AWS:
              - arn:aws:iam::123456789012:role/logvault-search-admin
              - arn:aws:iam::123456789012:role/logvault-search-firehose
          Action: es:ESHttp*
          Resource: arn:aws:es:us-east-1:123456789012:domain/logvault/*
"""

RETURN = r"""
domain_name:
  description: Name of the domain.
  returned: always
  type: str
  sample: logvault
policy:
  description: The access policy after the task.
  returned: always
  type: dict
  sample:
    Version: "2012-10-17"
    Statement:
      - Sid: NamedPrincipalsOnly
        Effect: Allow
        Principal: {AWS: arn:aws:iam::123456789012:role/logvault-search-admin}
        Action: es:ESHttp*
        Resource: arn:aws:es:us-east-1:123456789012:domain/logvault/*
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import canonical_json
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import policies_equal

DOMAIN_NAME = re.compile(r"^[a-z][a-z0-9-]{2,27}$")


def _values(principal):
    """Every principal value of a Principal element (a string or a dict of strings/lists)."""
    if isinstance(principal, dict):
        out = []
        for value in principal.values():
            out.extend(value if isinstance(value, list) else [value])
        return out
    return principal if isinstance(principal, list) else [principal]


def policy_problem(policy):
    """Why the policy is refused, or None."""
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    if not isinstance(statements, list) or not statements:
        return "must be an access policy document with at least one statement in 'Statement'"
    for index, statement in enumerate(statements):
        if not isinstance(statement, dict):
            return "Statement[%d] must be a dict, got %r" % (index, statement)
        effect = statement.get("Effect")
        if effect not in ("Allow", "Deny"):
            return "Statement[%d].Effect must be Allow or Deny, got %r" % (index, effect)
        if effect != "Allow":
            continue
        if "NotPrincipal" in statement:
            return "Statement[%d] allows with NotPrincipal, which would open the domain to everyone else" % index
        if "Principal" not in statement:
            return "Statement[%d] has no Principal; a domain policy must name its principals" % index
        for value in _values(statement["Principal"]):
            if not isinstance(value, str) or "*" in value:
                return ("Statement[%d] allows the principal %r; the domain must never be public, name the principals"
                        % (index, value))
    return None


def current_policy(module, client, domain):
    """The domain's policy ({} when it has none), or None when the domain does not exist."""
    try:
        config = client.describe_domain_config(aws_retry=True, DomainName=domain)["DomainConfig"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the configuration of OpenSearch domain %s" % domain)
    raw = (config.get("AccessPolicies") or {}).get("Options") or ""
    return json.loads(raw) if raw else {}


def main():
    argument_spec = dict(
        domain_name=dict(type="str", required=True),
        policy=dict(type="dict", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    domain = module.params["domain_name"]
    policy = module.params["policy"]
    if not DOMAIN_NAME.match(domain):
        module.fail_json(msg="domain_name must be 3 to 28 lowercase letters, digits or '-', starting with a letter, got %r"
                             % domain, parameter="domain_name")
    problem = policy_problem(policy)
    if problem:
        module.fail_json(msg="policy %s" % problem, parameter="policy")

    try:
        client = module.client("opensearch", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to OpenSearch Service")

    before = current_policy(module, client, domain)
    if before is None:
        if not module.check_mode:
            module.fail_json(msg="OpenSearch domain %s does not exist; create it first (community.aws.opensearch)" % domain,
                             domain_name=domain)
        before = {}  # check mode: the task that creates the domain did not run

    changed = not before or not policies_equal(before, policy)
    if changed and not module.check_mode:
        try:
            client.update_domain_config(aws_retry=True, DomainName=domain, AccessPolicies=canonical_json(policy))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to update the access policy of OpenSearch domain %s" % domain)

    result = dict(changed=changed, domain_name=domain, policy=policy if changed else before)
    if module._diff:
        result["diff"] = dict(before=before, after=policy)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
