# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Shared helpers for the CloudWatch Logs modules and filters of logvault.aws.

Everything here is pure Python (no AWS call), so the modules can validate their
input completely before they create a client, and the filters can reuse the same
rules on the controller:

* validation of account ids, regions, ARNs, names and filter patterns, raising
  :class:`ValidationError` which always names the offending parameter;
* the destination access policy builder used by the ``destination_policy`` filter
  and by ``cloudwatchlogs_destination``'s ``allowed_accounts``/``organization_id``;
* canonical JSON and policy normalisation, so that policies are compared by meaning
  and not by formatting;
* the ``LogGroupName NOT IN [...]`` selection criteria of account policies;
* the per-log-group planner of ``cloudwatchlogs_subscription_filter``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import re


# AWS limits (CloudWatch Logs API reference).
DESTINATION_POLICY_MAX_CHARS = 5120
SELECTION_CRITERIA_MAX_BYTES = 25 * 1024
FILTER_PATTERN_MAX_CHARS = 1024
NAME_MAX_CHARS = 512
FILTERS_PER_LOG_GROUP = 2
DISTRIBUTIONS = ("Random", "ByLogStream")
DEFAULT_DISTRIBUTION = "ByLogStream"
SUBSCRIBE_ACTIONS = ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"]
FIELD_SELECTION_CRITERIA_MAX_CHARS = 2000
SYSTEM_FIELDS = ("@aws.account", "@aws.region", "@source.log")

_PARTITION = r"aws(?:-cn|-us-gov|-iso|-iso-[a-z])?"
_REGION = r"[a-z]{2}(?:-gov|-iso|-isob)?-[a-z]+-[0-9]{1,2}"
_ACCOUNT = r"[0-9]{12}"
ACCOUNT_ID_RE = re.compile(r"^%s$" % _ACCOUNT)
REGION_RE = re.compile(r"^%s$" % _REGION)
ORGANIZATION_ID_RE = re.compile(r"^o-[a-z0-9]{10,32}$")
DESTINATION_NAME_RE = re.compile(r"^[^:*]{1,512}$")
FILTER_NAME_RE = re.compile(r"^[^:*]{1,512}$")
LOG_GROUP_NAME_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
POLICY_NAME_RE = re.compile(r"^[^:*]{1,256}$")

# One regular expression per kind of ARN the modules accept.
ARN_KINDS = {
    "logs-destination": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>logs):(?P<region>%s):(?P<account_id>%s):destination:(?P<name>[^:*]{1,512})$"
        % (_PARTITION, _REGION, _ACCOUNT)
    ),
    "kinesis-stream": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>kinesis):(?P<region>%s):(?P<account_id>%s):stream/(?P<name>[a-zA-Z0-9_.-]{1,128})$"
        % (_PARTITION, _REGION, _ACCOUNT)
    ),
    "firehose": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>firehose):(?P<region>%s):(?P<account_id>%s):deliverystream/(?P<name>[a-zA-Z0-9_.-]{1,64})$"
        % (_PARTITION, _REGION, _ACCOUNT)
    ),
    "lambda": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>lambda):(?P<region>%s):(?P<account_id>%s):function:(?P<name>[a-zA-Z0-9_-]{1,64})(?::[a-zA-Z0-9$_-]+)?$"
        % (_PARTITION, _REGION, _ACCOUNT)
    ),
    "iam-role": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>iam)::(?P<account_id>%s):role/(?P<name>(?:[\x21-\x7E]{1,512}/)?[\w+=,.@-]{1,64})$"
        % (_PARTITION, _ACCOUNT)
    ),
    "kms-key": re.compile(
        r"^arn:(?P<partition>%s):(?P<service>kms):(?P<region>%s):(?P<account_id>%s):key/(?P<name>[a-zA-Z0-9-]{1,2048})$"
        % (_PARTITION, _REGION, _ACCOUNT)
    ),
}
ARN_KIND_DESCRIPTIONS = {
    "logs-destination": "a CloudWatch Logs destination ARN (arn:aws:logs:REGION:ACCOUNT:destination:NAME)",
    "kinesis-stream": "a Kinesis data stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)",
    "firehose": "a Firehose delivery stream ARN (arn:aws:firehose:REGION:ACCOUNT:deliverystream/NAME)",
    "lambda": "a Lambda function ARN (arn:aws:lambda:REGION:ACCOUNT:function:NAME)",
    "iam-role": "an IAM role ARN (arn:aws:iam::ACCOUNT:role/NAME)",
    "kms-key": "a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)",
}


# roleArn by target. CloudWatch Logs writes to a Kinesis or Firehose stream of the caller's own
# account with the role the request names, and invokes a Lambda function under the function's
# resource policy; a logical destination brings its own role. AWS refuses a stream without a role
# and a function with one (InvalidParameterException "destinationArn for vendor kinesis cannot be
# used without roleArn", "... vendor lambda cannot be used with roleArn"). Pages:
# https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutSubscriptionFilter.html (roleArn),
# https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/aws-resource-logs-subscriptionfilter.html (RoleArn).
ROLE_REQUIRED_SERVICES = ("kinesis", "firehose")
ROLE_REFUSED_SERVICES = ("lambda",)


def _arn_service(arn):
    parts = arn.split(":") if isinstance(arn, str) else []
    return parts[2] if len(parts) > 2 else None


def role_to_send(role_arn, existing_role, destination_arn):
    """The role a subscription to ``destination_arn`` is written with: ``role_arn`` when given, else the
    existing one, except for a Lambda function (a filter moved from a stream to a function drops its role)."""
    if role_arn is not None:
        return role_arn
    if _arn_service(destination_arn) in ROLE_REFUSED_SERVICES:
        return None
    return existing_role


def role_problem(destination_arn, role_arn):
    """Why AWS would refuse ``destination_arn`` with ``role_arn`` (words to follow the option's name), or None."""
    service = _arn_service(destination_arn)
    if service in ROLE_REQUIRED_SERVICES and not role_arn:
        return ("is required with %s: CloudWatch Logs writes to a Kinesis or Firehose stream of this account "
                "with that role, and AWS refuses the request without one" % destination_arn)
    if service in ROLE_REFUSED_SERVICES and role_arn:
        return ("must not be given with the Lambda function %s: CloudWatch Logs invokes it under the "
                "function's resource policy, and AWS refuses a role" % destination_arn)
    return None


def validate_role_for(spec, regions, param="role_arn"):
    """Refuse a given ``spec["role_arn"]`` that AWS would refuse with one of the destinations of ``spec``
    (``destination_arn``, and ``destination_arns`` of the managed ``regions``): a Lambda function."""
    role_arn = spec.get("role_arn")
    if role_arn is None:
        return
    arns = [spec["destination_arn"]] if spec.get("destination_arn") is not None else []
    arns += [arn for region, arn in sorted((spec.get("destination_arns") or {}).items()) if region in (regions or [])]
    for arn in arns:
        problem = role_problem(arn, role_arn)
        if problem:
            raise ValidationError(param, problem)


class ValidationError(ValueError):
    """Bad input. ``param`` is the name of the parameter (or filter argument) at fault."""

    def __init__(self, param, message):
        self.param = param
        self.message = message
        super(ValidationError, self).__init__("Invalid value for parameter '%s': %s" % (param, message))


def _text(value, param):
    if not isinstance(value, str):
        raise ValidationError(param, "expected a string, got %s %r" % (type(value).__name__, value))
    return value


def validate_account_id(value, param):
    """Return the 12-digit account id as a string. Integers are accepted when they have 12 digits."""
    if isinstance(value, bool):
        raise ValidationError(param, "%r is not a 12-digit AWS account id" % (value,))
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str) or not ACCOUNT_ID_RE.match(value):
        raise ValidationError(param, "%r is not a 12-digit AWS account id" % (value,))
    return value


def validate_account_ids(values, param):
    """Validate, deduplicate and sort a list of account ids."""
    if values is None:
        return []
    if isinstance(values, (str, int)):
        values = [values]
    if not isinstance(values, (list, tuple, set)):
        raise ValidationError(param, "expected a list of 12-digit AWS account ids, got %s" % type(values).__name__)
    return sorted(set(validate_account_id(v, param) for v in values))


def validate_region(value, param):
    if not isinstance(value, str) or not REGION_RE.match(value):
        raise ValidationError(param, "%r is not an AWS region name (for example us-east-1)" % (value,))
    return value


def validate_organization_id(value, param):
    if not isinstance(value, str) or not ORGANIZATION_ID_RE.match(value):
        raise ValidationError(param, "%r is not an AWS Organizations id (o- followed by 10 to 32 lowercase letters or digits)" % (value,))
    return value


def parse_arn(value, param, kinds):
    """Validate ``value`` as one of the ARN ``kinds`` (keys of ARN_KINDS); return its parts plus ``kind``."""
    _text(value, param)
    for kind in kinds:
        match = ARN_KINDS[kind].match(value)
        if match:
            parts = match.groupdict()
            parts.setdefault("region", "")
            parts["kind"] = kind
            return parts
    expected = " or ".join(ARN_KIND_DESCRIPTIONS[k] for k in kinds)
    raise ValidationError(param, "%r is not %s" % (value, expected))


def _validate_name(value, param, regex, what):
    _text(value, param)
    if not regex.match(value):
        raise ValidationError(param, "%r is not a valid %s" % (value, what))
    return value


def validate_destination_name(value, param):
    return _validate_name(value, param, DESTINATION_NAME_RE, "destination name (1 to 512 characters, no ':' or '*')")


def validate_filter_name(value, param):
    return _validate_name(value, param, FILTER_NAME_RE, "subscription filter name (1 to 512 characters, no ':' or '*')")


def validate_log_group_name(value, param):
    return _validate_name(value, param, LOG_GROUP_NAME_RE, "log group name (1 to 512 characters of A-Z a-z 0-9 . - _ / #)")


def validate_policy_name(value, param):
    _validate_name(value, param, POLICY_NAME_RE, "policy name (1 to 256 characters, no ':' or '*')")
    if value.startswith("aws/"):
        raise ValidationError(param, "%r starts with 'aws/', which AWS reserves" % value)
    return value


def validate_filter_pattern(value, param):
    """Check the pattern's syntax with the shared filter-pattern engine (balanced braces, quotes, ...)."""
    if value is None:
        return ""
    _text(value, param)
    if len(value) > FILTER_PATTERN_MAX_CHARS:
        raise ValidationError(param, "the pattern has %d characters; AWS allows at most %d" % (len(value), FILTER_PATTERN_MAX_CHARS))
    if not value:
        return value  # the empty pattern matches every event
    # Imported here, not at the top: the engine is 1,500 lines that every module run importing this
    # file would compile from the module's zip (twice, on Python 3.11's zipimport), and most runs
    # pass the empty pattern.
    from ansible_collections.logvault.aws.plugins.module_utils.cwl_filter_pattern import (  # pylint: disable=import-outside-toplevel
        FilterPatternError, validate_pattern)
    try:
        validate_pattern(value)
    except FilterPatternError as exc:
        position = getattr(exc, "position", None)
        where = " at position %s" % position if position is not None else ""
        reason = getattr(exc, "reason", None) or str(exc)
        raise ValidationError(param, "%r is not a valid CloudWatch Logs filter pattern%s: %s" % (value, where, reason))
    return value


def canonical_json(value):
    """Compact JSON with sorted keys: the form the modules send and compare."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"))


def load_policy(value, param):
    """Accept a policy as a dict or a JSON string; return a dict."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError as exc:
            raise ValidationError(param, "not valid JSON: %s" % exc)
    if not isinstance(value, dict):
        raise ValidationError(param, "expected a policy document (a dict with Version and Statement)")
    if "Statement" not in value:
        raise ValidationError(param, "the policy document has no 'Statement'")
    return value


_ROOT_ARN_RE = re.compile(r"^arn:%s:iam::(%s):root$" % (_PARTITION, _ACCOUNT))
_LIST_KEYS = ("Action", "NotAction", "Resource", "NotResource")


def _as_sorted_list(value):
    if isinstance(value, (list, tuple)):
        items = list(value)
    else:
        items = [value]
    unique = dict((canonical_json(item), item) for item in items)
    return [unique[key] for key in sorted(unique)]


def _normalize_principal(principal):
    if not isinstance(principal, dict):
        return principal
    result = {}
    for key, value in principal.items():
        values = _as_sorted_list(value)
        if key == "AWS":
            values = _as_sorted_list([_ROOT_ARN_RE.sub(r"\1", v) if isinstance(v, str) else v for v in values])
        result[key] = values
    return result


def _normalize_condition(condition):
    if not isinstance(condition, dict):
        return condition
    return dict(
        (operator, dict((key, _as_sorted_list(value)) for key, value in (clauses or {}).items()) if isinstance(clauses, dict) else clauses)
        for operator, clauses in condition.items()
    )


def normalize_policy(policy):
    """Return an equivalent policy in a canonical shape, for comparison only.

    Statement becomes a list; Action/Resource and principal/condition values become
    sorted lists; account root ARNs become bare account ids ("arn:aws:iam::1...:root"
    and "1..." grant the same thing). The Sid and statement order are kept.
    """
    if isinstance(policy, str):
        policy = json.loads(policy)
    if not isinstance(policy, dict):
        return policy
    result = dict(policy)
    statements = policy.get("Statement")
    if isinstance(statements, dict):
        statements = [statements]
    normalized = []
    for statement in statements or []:
        if not isinstance(statement, dict):
            normalized.append(statement)
            continue
        item = dict(statement)
        for key in _LIST_KEYS:
            if key in item:
                item[key] = _as_sorted_list(item[key])
        for key in ("Principal", "NotPrincipal"):
            if key in item:
                item[key] = _normalize_principal(item[key])
        if "Condition" in item:
            item["Condition"] = _normalize_condition(item["Condition"])
        normalized.append(item)
    result["Statement"] = normalized
    return result


def policies_equal(first, second):
    if first is None or second is None:
        return first is None and second is None
    return canonical_json(normalize_policy(first)) == canonical_json(normalize_policy(second))


def build_destination_policy(destination_arn, accounts=None, organization_id=None):
    """The access policy of a destination: who may subscribe to it.

    Allows ``logs:PutSubscriptionFilter`` and ``logs:PutAccountPolicy`` on exactly
    ``destination_arn``, to the listed accounts (validated, deduplicated, sorted) and/or
    to every principal of the organization (``"*"`` with ``aws:PrincipalOrgID``).
    Raises ValidationError naming ``destination_arn``, ``accounts`` or ``organization_id``.
    """
    parse_arn(destination_arn, "destination_arn", ["logs-destination"])
    account_ids = validate_account_ids(accounts, "accounts")
    if organization_id is not None and organization_id != "":
        validate_organization_id(organization_id, "organization_id")
    else:
        organization_id = None
    if not account_ids and not organization_id:
        raise ValidationError("accounts", "give at least one account id in accounts, or an organization_id")
    statements = []
    if account_ids:
        statements.append({
            "Sid": "AllowAccountsToSubscribe",
            "Effect": "Allow",
            "Principal": {"AWS": account_ids},
            "Action": list(SUBSCRIBE_ACTIONS),
            "Resource": destination_arn,
        })
    if organization_id:
        statements.append({
            "Sid": "AllowOrganizationToSubscribe",
            "Effect": "Allow",
            "Principal": "*",
            "Action": list(SUBSCRIBE_ACTIONS),
            "Resource": destination_arn,
            "Condition": {"StringEquals": {"aws:PrincipalOrgID": [organization_id]}},
        })
    policy = {"Version": "2012-10-17", "Statement": statements}
    size = len(canonical_json(policy))
    if size > DESTINATION_POLICY_MAX_CHARS:
        raise ValidationError(
            "accounts",
            "the access policy for %d accounts would be %d characters, over AWS's limit of %d; "
            "use organization_id (aws:PrincipalOrgID) instead of listing accounts" % (len(account_ids), size, DESTINATION_POLICY_MAX_CHARS),
        )
    return policy


def check_destination_policy_size(policy, param):
    size = len(canonical_json(policy))
    if size > DESTINATION_POLICY_MAX_CHARS:
        raise ValidationError(
            param,
            "the access policy is %d characters (compact JSON), over AWS's limit of %d; "
            "grant the organization (aws:PrincipalOrgID) instead of listing accounts" % (size, DESTINATION_POLICY_MAX_CHARS),
        )
    return policy


# --- account policy selection criteria ----------------------------------------------

_SELECTION_RE = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s+(\[.*\])\s*$", re.S)


def render_selection_criteria(excluded, param="excluded_log_groups"):
    """``LogGroupName NOT IN ["a", "b"]`` for the sorted unique names, or None when there are none."""
    names = sorted(set(validate_log_group_name(name, param) for name in (excluded or [])))
    if not names:
        return None
    rendered = "LogGroupName NOT IN %s" % json.dumps(names)
    size = len(rendered.encode("utf-8"))
    if size > SELECTION_CRITERIA_MAX_BYTES:
        raise ValidationError(
            param,
            "the selection criteria for %d log groups would be %d bytes, over AWS's limit of %d bytes (25 KB); "
            "exclude fewer groups (name the pipeline's own groups only)" % (len(names), size, SELECTION_CRITERIA_MAX_BYTES),
        )
    return rendered


def parse_selection_criteria(value):
    """The sorted excluded names of a ``LogGroupName NOT IN [...]`` string; None if empty.

    A string of any other form is returned unchanged so that it compares unequal.
    """
    if not value:
        return None
    match = _SELECTION_RE.match(value)
    if not match:
        return value
    try:
        names = json.loads(match.group(1))
    except ValueError:
        return value
    if not isinstance(names, list):
        return value
    return sorted(set(names)) or None


# --- subscription filter planning ----------------------------------------------------


def desired_subscription_filter(existing, filter_name, destination_arn, filter_pattern, role_arn, distribution,
                                apply_on_transformed_logs=None, field_selection_criteria=None, emit_system_fields=None):
    """What the filter should be once written. Unset options keep the existing value.

    PutSubscriptionFilter replaces the whole filter: a field left out of the request is
    reset, so the existing applyOnTransformedLogs, fieldSelectionCriteria and
    emitSystemFields are carried over when the caller does not set them.
    """
    existing = existing or {}
    wanted = {
        "filterName": filter_name,
        "destinationArn": destination_arn,
        "filterPattern": filter_pattern if filter_pattern is not None else "",
        "distribution": distribution or existing.get("distribution") or DEFAULT_DISTRIBUTION,
    }
    role = role_to_send(role_arn, existing.get("roleArn"), destination_arn)
    if role:
        wanted["roleArn"] = role
    transformed = apply_on_transformed_logs if apply_on_transformed_logs is not None else existing.get("applyOnTransformedLogs")
    if transformed:
        wanted["applyOnTransformedLogs"] = True
    criteria = field_selection_criteria if field_selection_criteria is not None else existing.get("fieldSelectionCriteria")
    if criteria:
        wanted["fieldSelectionCriteria"] = criteria
    fields = emit_system_fields if emit_system_fields is not None else existing.get("emitSystemFields")
    if fields:
        wanted["emitSystemFields"] = sorted(set(fields))
    return wanted


def subscription_filter_differs(existing, wanted):
    """True when PutSubscriptionFilter would change ``existing`` into ``wanted``."""
    if existing is None:
        return True
    if existing.get("destinationArn") != wanted.get("destinationArn"):
        return True
    if (existing.get("filterPattern") or "") != (wanted.get("filterPattern") or ""):
        return True
    if (existing.get("distribution") or DEFAULT_DISTRIBUTION) != (wanted.get("distribution") or DEFAULT_DISTRIBUTION):
        return True
    if bool(existing.get("applyOnTransformedLogs")) != bool(wanted.get("applyOnTransformedLogs")):
        return True
    if (existing.get("fieldSelectionCriteria") or "") != (wanted.get("fieldSelectionCriteria") or ""):
        return True
    if sorted(set(existing.get("emitSystemFields") or [])) != sorted(set(wanted.get("emitSystemFields") or [])):
        return True
    return (existing.get("roleArn") or None) != (wanted.get("roleArn") or None)


def plan_log_group(existing_filters, state, filter_name, destination_arn=None, filter_pattern="", role_arn=None,
                   distribution=None, replace=None, apply_on_transformed_logs=None, field_selection_criteria=None,
                   emit_system_fields=None):
    """Decide what to do with one log group.

    ``existing_filters`` is DescribeSubscriptionFilters' list for the group. Returns a
    dict with ``action`` (created, updated, unchanged, deleted, failed), ``before``
    (the current filter or None), ``after`` (the filter once done, or None),
    ``delete`` (filter names to delete first), ``put`` (True when PutSubscriptionFilter
    is needed) and ``msg`` for failures.
    """
    current = None
    others = []
    for item in existing_filters or []:
        if item.get("filterName") == filter_name:
            current = item
        else:
            others.append(item.get("filterName"))
    plan = {"action": "unchanged", "before": current, "after": current, "delete": [], "put": False}
    if state == "absent":
        if current is not None:
            plan.update(action="deleted", after=None, delete=[filter_name])
        return plan
    wanted = desired_subscription_filter(current, filter_name, destination_arn, filter_pattern, role_arn, distribution,
                                         apply_on_transformed_logs, field_selection_criteria, emit_system_fields)
    problem = role_problem(wanted["destinationArn"], wanted.get("roleArn"))
    if problem and subscription_filter_differs(current, wanted):
        plan.update(action="failed", msg="role_arn " + problem)
        return plan
    if current is not None:
        if subscription_filter_differs(current, wanted):
            plan.update(action="updated", after=wanted, put=True)
        return plan
    if len(others) >= FILTERS_PER_LOG_GROUP:
        if replace and replace in others:
            plan.update(action="created", after=wanted, put=True, delete=[replace], replaced=replace)
            return plan
        hint = "set replace to one of them" if not replace else "replace=%r is not one of them" % replace
        plan.update(
            action="failed",
            msg="the log group already has %d subscription filters (%s), the most AWS allows; %s"
            % (len(others), ", ".join(sorted(others)), hint),
            others=sorted(others),
        )
        return plan
    plan.update(action="created", after=wanted, put=True)
    return plan
