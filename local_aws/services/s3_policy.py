# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 bucket policies: evaluate the Condition block instead of ignoring it.

What moto 5.2.5 does: ``FakeBucket.get_permission`` evaluates a bucket policy with
moto's IAM statement matcher, which only knows the ``StringEquals`` condition operator
and *ignores every other operator*. A statement like the TLS-only rule every hardened
bucket carries::

    {"Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": [...],
     "Condition": {"Bool": {"aws:SecureTransport": "false"}}}

therefore denies every GetObject/PutObject, although the condition is false for any
request that arrives over TLS.

What AWS does (IAM User Guide, "IAM JSON policy elements: Condition operators" and
"AWS global condition context keys"): a statement applies only when all of its
conditions hold. The emulator stands in for AWS's HTTPS endpoints, so requests carry
``aws:SecureTransport = true`` (and ``s3:TlsVersion = 1.3``).

What this patch does: a statement applies when its Action, Resource and Principal
match as moto matches them and every condition holds, evaluated with the operators
below against that request context. A condition on a key the emulator does not know
(for example ``aws:PrincipalArn``, which S3 here cannot tell) makes the statement not
apply: the emulator does not evaluate IAM beyond what docs/local-aws.md lists, and it
never guesses a Deny.
"""

import fnmatch
import json

# The request context of every S3 request served by the emulator.
REQUEST_CONTEXT = {
    "aws:securetransport": "true",
    "s3:tlsversion": "1.3",
}

_UNKNOWN = object()


def _listify(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _string_equals(actual, expected):
    return actual == expected


def _string_like(actual, expected):
    return fnmatch.fnmatchcase(actual, expected)


def _bool(actual, expected):
    return actual.lower() == str(expected).lower()


def _numeric(compare):
    def check(actual, expected):
        try:
            return compare(float(actual), float(expected))
        except ValueError:
            return False
    return check


_OPERATORS = {
    "StringEquals": (_string_equals, False),
    "StringNotEquals": (_string_equals, True),
    "StringEqualsIgnoreCase": (lambda a, e: a.lower() == str(e).lower(), False),
    "StringNotEqualsIgnoreCase": (lambda a, e: a.lower() == str(e).lower(), True),
    "StringLike": (_string_like, False),
    "StringNotLike": (_string_like, True),
    "ArnEquals": (_string_equals, False),
    "ArnNotEquals": (_string_equals, True),
    "ArnLike": (_string_like, False),
    "ArnNotLike": (_string_like, True),
    "Bool": (_bool, False),
    "NumericEquals": (_numeric(lambda a, e: a == e), False),
    "NumericNotEquals": (_numeric(lambda a, e: a == e), True),
    "NumericLessThan": (_numeric(lambda a, e: a < e), False),
    "NumericLessThanEquals": (_numeric(lambda a, e: a <= e), False),
    "NumericGreaterThan": (_numeric(lambda a, e: a > e), False),
    "NumericGreaterThanEquals": (_numeric(lambda a, e: a >= e), False),
}


# Keys that are in a request's context only when the request carries them ("AWS global
# condition context keys": e.g. aws:SourceAccount "is only available when the call to your
# resource is made directly by an AWS service principal"), and that every context the
# emulator builds for a service (trust policies, service roles, key and resource policies)
# sets whenever AWS would. In such a context their absence is the absence AWS sees. Any other
# key missing from a context is one the emulator does not model (aws:PrincipalArn where the
# caller is unknown, S3 request headers...): the condition is unknown, the statement does
# not apply, and the emulator never guesses a Deny from it.
SENT_ONLY_SOMETIMES = ("aws:sourcearn", "aws:sourceaccount", "sts:externalid", "kms:viaservice")
SENT_ONLY_SOMETIMES_PREFIXES = ("kms:encryptioncontext:",)


def _absence_is_known(key, explicit_context):
    key = key.lower()
    return explicit_context and (key in SENT_ONLY_SOMETIMES or key.startswith(SENT_ONLY_SOMETIMES_PREFIXES))


def _absent(base, qualifier, if_exists, expected):
    """A condition on a key that is not in the request context, as the IAM User Guide's
    "Condition operators" page says: "If the key that you specify in a policy condition is not
    present in the request context, the values do not match and the condition is false. If the
    policy condition requires that the key is not matched, such as StringNotLike or ArnNotLike,
    and the right key is not present, the condition is true. This logic applies to all
    condition operators except ...IfExists and Null check." ForAllValues is true for an
    absent key and ForAnyValue false ("Set operators for multivalued context keys")."""
    if base == "Null":
        return any(str(value).lower() == "true" for value in _listify(expected))
    if if_exists:
        return True
    if qualifier == "forallvalues":
        return True
    if qualifier == "foranyvalue":
        return False
    return _OPERATORS[base][1]  # negated operators hold, the others do not


def condition_holds(operator, key, expected, context=None):
    """True/False when the emulator can evaluate the condition, _UNKNOWN otherwise.

    ``context`` is the request context the emulator built for a service's request; without
    one, the default S3 context applies and every key missing from it is unknown.
    """
    explicit_context = context is not None
    context = REQUEST_CONTEXT if context is None else context
    qualifier, _, name = operator.rpartition(":")
    qualifier = qualifier.lower()
    if qualifier not in ("", "forallvalues", "foranyvalue"):
        return _UNKNOWN
    if_exists = name.endswith("IfExists")
    base = name[:-len("IfExists")] if if_exists else name
    if base not in _OPERATORS and base != "Null":
        return _UNKNOWN
    actual = context.get(key.lower())
    if actual is None:
        if _absence_is_known(key, explicit_context):
            return _absent(base, qualifier, if_exists, expected)
        return True if if_exists and base != "Null" else _UNKNOWN
    if base == "Null":
        return any(str(value).lower() == "false" for value in _listify(expected))
    check, negated = _OPERATORS[base]
    matched = any(check(actual, value) for value in _listify(expected))
    return not matched if negated else matched


def statement_conditions_hold(condition_block, context=None):
    for operator, pairs in (condition_block or {}).items():
        for key, expected in pairs.items():
            result = condition_holds(operator, key, expected, context)
            if result is _UNKNOWN or result is False:
                return False
    return True


def install():
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult  # pylint: disable=import-outside-toplevel
    from moto.s3.models import FakeBucket  # pylint: disable=import-outside-toplevel

    if getattr(FakeBucket.get_permission, "_logvault_patched", False):
        return

    def get_permission(self, action, resource):
        if self.policy is None:
            return PermissionResult.NEUTRAL
        document = json.loads(self.policy.decode() if isinstance(self.policy, bytes) else self.policy)
        result = PermissionResult.NEUTRAL
        for statement in _listify(document.get("Statement")):
            if not statement_conditions_hold(statement.get("Condition")):
                continue
            # moto's matcher for Action/Resource/Principal, now without the conditions.
            stripped = dict((k, v) for k, v in statement.items() if k != "Condition")
            verdict = IAMPolicyStatement(stripped).is_action_permitted(action, resource)
            if verdict == PermissionResult.DENIED:
                return verdict
            if verdict == PermissionResult.PERMITTED:
                result = verdict
        return result

    get_permission._logvault_patched = True  # pylint: disable=protected-access
    FakeBucket.get_permission = get_permission
