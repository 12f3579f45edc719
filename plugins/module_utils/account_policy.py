# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The account-level CloudWatch Logs subscription filter policy of one region: shared by the modules
``cloudwatchlogs_account_policy`` (the policy alone) and ``cloudwatchlogs_log_groups`` (option
``account_policy``: the account's log groups and the policy that subscribes them, in one module run).

A policy is described by a ``spec`` dict with the options of ``cloudwatchlogs_account_policy``:
``policy_name``, ``state``, ``role_arn``, ``filter_pattern``, ``distribution`` and
``excluded_log_groups`` (and, with several regions, ``destination_arns`` and ``all_or_nothing``).
Nothing here exits the module: bad input raises ValidationError, a failed region RegionError.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import canonical_json
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import parse_arn
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import parse_selection_criteria
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import render_selection_criteria
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import role_problem
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import role_to_send
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_filter_pattern
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_policy_name
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_role_for
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import RegionError
from ansible_collections.logvault.aws.plugins.module_utils.multi_region import run_regions

POLICY_TYPE = "SUBSCRIPTION_FILTER_POLICY"
SCOPE = "ALL"
RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]
DESTINATION_KINDS = ["logs-destination", "kinesis-stream", "firehose", "lambda"]

# The policy's options with several regions (cloudwatchlogs_account_policy has them, and destination_arn and
# regions for one region; cloudwatchlogs_log_groups's account_policy has exactly these).
OPTIONS = dict(
    policy_name=dict(type="str", required=True),
    state=dict(type="str", default="present", choices=["present", "absent"]),
    destination_arns=dict(type="dict"),
    role_arn=dict(type="str"),
    filter_pattern=dict(type="str", default=""),
    distribution=dict(type="str", choices=["Random", "ByLogStream"]),
    excluded_log_groups=dict(type="list", elements="str"),
    all_or_nothing=dict(type="bool", default=False),
)


def retry_decorator():
    """Throttling, and "Could not deliver test message" while a new role propagates (about two minutes)."""
    return propagation_retry("logs", RETRY_CODES)


def validate(spec, regions, prefix=""):
    """Check ``spec`` before any AWS call; ``regions`` are the regions it is put in (None: one region,
    with spec["destination_arn"]). ``prefix`` is put before the option names in errors."""
    validate_policy_name(spec["policy_name"], prefix + "policy_name")
    if regions is not None and spec["state"] == "present":
        for region in regions:
            arn = (spec["destination_arns"] or {}).get(region)
            if arn is None:
                raise ValidationError(prefix + "destination_arns", "has no destination ARN for region %s (state is present)" % region)
            parse_arn(arn, prefix + "destination_arns", DESTINATION_KINDS)
            if arn.split(":")[3] != region:
                raise ValidationError(prefix + "destination_arns", "maps region %s to %s, a destination of another region" % (region, arn))
    if spec.get("destination_arn") is not None:
        parse_arn(spec["destination_arn"], prefix + "destination_arn", DESTINATION_KINDS)
    if spec["role_arn"] is not None:
        parse_arn(spec["role_arn"], prefix + "role_arn", ["iam-role"])
        validate_role_for(spec, regions, prefix + "role_arn")
    validate_filter_pattern(spec["filter_pattern"], prefix + "filter_pattern")
    if spec["excluded_log_groups"] is not None:
        render_selection_criteria(spec["excluded_log_groups"], prefix + "excluded_log_groups")


@AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)
def _describe_account_policies(client, **kwargs):
    # botocore has no paginator for DescribeAccountPolicies, so follow nextToken here.
    policies = []
    while True:
        page = client.describe_account_policies(**kwargs)
        policies.extend(page.get("accountPolicies", []))
        token = page.get("nextToken")
        if not token or token == kwargs.get("nextToken"):
            return policies
        kwargs["nextToken"] = token


def get_policies(client, name):
    """(the policy called ``name`` or None, sorted names of the account's other subscription filter policies).

    Every SUBSCRIPTION_FILTER_POLICY is read, not only ``name``: AWS allows one per account and Region.
    """
    try:
        policies = _describe_account_policies(client, policyType=POLICY_TYPE)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None, []
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        raise RegionError("Failed to describe account policy %s" % name, error=e)
    found = None
    others = set()
    for policy in policies:
        if policy.get("policyType", POLICY_TYPE) != POLICY_TYPE:
            continue
        if policy.get("policyName") == name:
            found = policy
        else:
            others.add(policy.get("policyName"))
    return found, sorted(others)


def get_policy(client, name):
    return get_policies(client, name)[0]


def load_document(text):
    if not text:
        return {}
    try:
        document = json.loads(text)
    except ValueError:
        return {"_unparsed": text}
    return document if isinstance(document, dict) else {"_unparsed": text}


def wanted_document(spec, destination_arn, current_document):
    document = {"DestinationArn": destination_arn, "FilterPattern": spec["filter_pattern"] or ""}
    role = role_to_send(spec["role_arn"], current_document.get("RoleArn"), destination_arn)
    if role:
        document["RoleArn"] = role
    distribution = spec["distribution"] or current_document.get("Distribution")
    if distribution:
        document["Distribution"] = distribution
    return document


def describe(policy_name, document, selection_criteria, extra=None):
    excluded = parse_selection_criteria(selection_criteria)
    result = {
        "policy_name": policy_name,
        "policy_type": POLICY_TYPE,
        "policy_document": document,
        "selection_criteria": selection_criteria or "",
        "excluded_log_groups": excluded if isinstance(excluded, list) else [],
        "scope": SCOPE,
    }
    extra = extra or {}
    if extra.get("accountId"):
        result["account_id"] = extra["accountId"]
    if extra.get("lastUpdatedTime") is not None:
        result["last_updated_time"] = extra["lastUpdatedTime"]
    return result


def ensure_absent(spec, client, check_mode, diff):
    """One region's result dict; raises RegionError."""
    name = spec["policy_name"]
    current = get_policy(client, name)
    if current is None:
        return dict(changed=False, account_policy={})
    if not check_mode:
        try:
            client.delete_account_policy(aws_retry=True, policyName=name, policyType=POLICY_TYPE)
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            raise RegionError("Failed to delete account policy %s" % name, error=e)
    result = dict(changed=True, account_policy={})
    if diff:
        before = describe(name, load_document(current.get("policyDocument")), current.get("selectionCriteria"))
        result["diff"] = dict(before=before, after={})
    return result


def check_others(name, current, others, prefix=""):
    """Raise RegionError when another subscription filter policy keeps ``name`` from being put in the region.
    ``prefix`` goes before the options' names (``account_policy.`` in cloudwatchlogs_log_groups)."""
    if current is None and others:
        raise RegionError(
            "The account already has the subscription filter policy %s in this Region; CloudWatch Logs allows one "
            "account-level subscription filter policy per account and Region, so PutAccountPolicy for %r would fail. "
            "Delete it (state=absent) or manage it under its own name (%spolicy_name=%s)."
            % (", ".join(repr(o) for o in others), name, prefix, others[0]),
            parameter=prefix + "policy_name",
            other_policies=others,
        )


def read_region(client, spec, destination_arn, prefix=""):
    """all_or_nothing's first pass: (the policy or None, other names); raises RegionError when another policy is in
    the way, or when the role the policy would be written with is one AWS refuses (role_problem)."""
    current, others = get_policies(client, spec["policy_name"])
    check_others(spec["policy_name"], current, others, prefix)
    plan(spec, destination_arn, current, prefix)
    return current, others


def plan(spec, destination_arn, current, prefix=""):
    """What a present policy becomes in a region where ``current`` (DescribeAccountPolicies' entry, or None) is:
    (current document, current criteria, document, criteria, changed). Raises RegionError, naming role_arn, when the
    write would be refused for its role."""
    current_document = load_document((current or {}).get("policyDocument"))
    current_criteria = (current or {}).get("selectionCriteria") or None
    document = wanted_document(spec, destination_arn, current_document)
    if spec["excluded_log_groups"] is None:
        criteria = current_criteria
    else:
        criteria = render_selection_criteria(spec["excluded_log_groups"], "excluded_log_groups")
    changed = (
        current is None
        or canonical_json(current_document) != canonical_json(document)
        or parse_selection_criteria(current_criteria) != parse_selection_criteria(criteria)
        or (current.get("scope") or SCOPE) != SCOPE
    )
    problem = role_problem(destination_arn, document.get("RoleArn")) if changed else None
    if problem:
        raise RegionError(prefix + "role_arn " + problem, parameter=prefix + "role_arn")
    return current_document, current_criteria, document, criteria, changed


def ensure_present(spec, client, destination_arn, check_mode, diff, read=None, prefix=""):
    """One region's result dict; raises RegionError. ``read`` is what get_policies() gave, when already read."""
    name = spec["policy_name"]
    current, others = read if read is not None else get_policies(client, name)
    check_others(name, current, others, prefix)
    current_document, current_criteria, document, criteria, changed = plan(spec, destination_arn, current, prefix)
    written = current
    if changed and not check_mode:
        kwargs = dict(policyName=name, policyDocument=canonical_json(document), policyType=POLICY_TYPE, scope=SCOPE)
        if criteria:
            kwargs["selectionCriteria"] = criteria
        try:
            written = client.put_account_policy(aws_retry=True, **kwargs).get("accountPolicy") or {}
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            raise RegionError("Failed to %s account policy %s" % ("create" if current is None else "update", name), error=e)
    elif changed:
        written = {}
    after = describe(name, document, criteria, written)
    result = dict(changed=changed, account_policy=after)
    if diff:
        before = describe(name, current_document, current_criteria) if current is not None else {}
        diff_after = dict(after)
        diff_after.pop("last_updated_time", None)
        result["diff"] = dict(before=before, after=diff_after)
    return result


def manage(spec, client, destination_arn, check_mode, diff, read=None, prefix=""):
    """One region's result dict (changed, account_policy, and diff when asked); raises RegionError.
    ``prefix`` goes before the options' names in messages and ``parameter``."""
    if spec["state"] == "absent":
        return ensure_absent(spec, client, check_mode, diff)
    return ensure_present(spec, client, destination_arn, check_mode, diff, read, prefix)


def read_all(spec, clients, prefix=""):
    """all_or_nothing's first pass over every region, or None when it does not apply.

    Returns (reads, failed): ``reads`` maps each region to read_region()'s result or its RegionError,
    ``failed`` tells whether any region is in the way (then nothing may be written in any region).
    """
    if not (spec["all_or_nothing"] and spec["state"] == "present"):
        return None, False
    arns = spec["destination_arns"] or {}
    reads = run_regions(clients, lambda client, region: read_region(client, spec, arns.get(region), prefix))
    return reads, any(isinstance(read, RegionError) for read in reads.values())


SKIPPED_MESSAGE = "Not written: another region cannot be (all_or_nothing)"


def failure_parameter(outcomes):
    """The option at fault when every failed region names the same one (``parameter`` of its RegionError), else None."""
    named = set(o.extra.get("parameter") for o in outcomes.values() if isinstance(o, RegionError))
    return named.pop() if len(named) == 1 else None


def region_failure(outcome):
    """The result of a region that failed (a RegionError): changed, failed, msg, error_code and other_policies when known."""
    entry = dict(changed=False, failed=True, msg=outcome.describe())
    if outcome.error_code():
        entry["error_code"] = outcome.error_code()
    if outcome.extra.get("other_policies"):
        entry["other_policies"] = outcome.extra["other_policies"]
    return entry
