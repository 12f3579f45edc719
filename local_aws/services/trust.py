# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Role trust policies, evaluated the way a service's sts:AssumeRole is (switch:
``LOGVAULT_AWS_TRUST_POLICIES``, default in ``local_aws/settings.py``).

A service may assume a role when the role exists, a statement of its trust policy allows
``sts:AssumeRole`` to the service principal with conditions that hold, and no statement
denies it (IAM User Guide, "Policy evaluation logic" and "Role trust policies"). The
conditions see **only the context keys the service sends**; a condition on any other key
does not hold, so the statement does not apply (an Allow then does not allow), as on AWS.
Condition operators are those of ``local_aws.services.s3_policy``.

Context the emulator sends, per service (documented trust-policy conditions of each
service's role page):

* CloudWatch Logs (``logs.amazonaws.com``): ``aws:SourceAccount`` (the account of the
  resource being configured) and ``aws:SourceArn`` (the ARN of that resource: the log
  group ``arn:aws:logs:<region>:<account>:log-group:<name>``, the destination
  ``...:destination:<name>``, or for an account policy ``arn:aws:logs:<region>:<account>:*``
  as written in AWS's example); "Step 1: Create a destination" / "CreateSubscriptionFilter-IAMrole".
* Firehose (``firehose.amazonaws.com``): ``sts:ExternalId`` = the delivery stream's account
  ("Grant Firehose access to an Amazon S3 destination").
* Lambda (``lambda.amazonaws.com``): no context key ("Lambda execution role").
"""

import fnmatch
import json
from urllib.parse import unquote

from local_aws import settings
from local_aws.services import s3_policy

PRINCIPALS = {
    "logs": ("logs.amazonaws.com",),
    "firehose": ("firehose.amazonaws.com",),
    "lambda": ("lambda.amazonaws.com",),
}


def enabled():
    return settings.get("LOGVAULT_AWS_TRUST_POLICIES").lower() in ("1", "true", "yes", "on")


def _role(role_arn):
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    try:
        return iam_backends[parts[4]]["global"].get_role(parts[5].rsplit("/", 1)[-1])
    except Exception:  # pylint: disable=broad-except
        return None


def _matches(patterns, value):
    return any(p == "*" or fnmatch.fnmatchcase(value.lower(), str(p).lower()) for p in s3_policy._listify(patterns))  # pylint: disable=protected-access


def _principal_matches(principal, service, region):
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    names = [str(n) for n in s3_policy._listify(principal.get("Service"))]  # pylint: disable=protected-access
    accepted = set(PRINCIPALS[service]) | {"%s.%s.amazonaws.com" % (service, region)}
    return any(n in accepted for n in names) or principal.get("AWS") == "*"


def assume_allowed(role_arn, service, region, context):
    """True when ``service`` may assume ``role_arn`` with ``context`` (keys as AWS spells them)."""
    role = _role(role_arn)
    if role is None:
        return False
    document = role.assume_role_policy_document
    if isinstance(document, str):
        try:
            document = json.loads(document)
        except ValueError:
            document = json.loads(unquote(document))
    return document_allows(document, service, region, context)


def document_allows(document, service, region, context):
    """True when the trust policy ``document`` (a dict) lets ``service`` assume the role."""
    lowered = dict((k.lower(), v) for k, v in context.items())
    allowed = False
    for statement in s3_policy._listify(document.get("Statement")):  # pylint: disable=protected-access
        if "Action" not in statement or not _matches(statement["Action"], "sts:AssumeRole"):
            continue
        if not _principal_matches(statement.get("Principal"), service, region):
            continue
        if not s3_policy.statement_conditions_hold(statement.get("Condition"), lowered):
            continue
        if statement.get("Effect") == "Deny":
            return False
        if statement.get("Effect") == "Allow":
            allowed = True
    return allowed


def refused(role_arn, service, region, context):
    """True when the switch is on and ``service`` may not assume ``role_arn``."""
    return enabled() and not assume_allowed(role_arn, service, region, context)
