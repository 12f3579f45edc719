#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings that amazon.aws 10.1.2 / community.aws 10.0.0 modules cannot manage.

Used by the role logvault.aws.central_account through ansible.builtin.command, because
roles inside a collection cannot ship modules. Each subcommand reads what exists,
compares it with what is wanted, writes only when they differ (never with --check),
and prints one JSON object: {"changed", "before", "after", "result"}.

    aws_settings.py [--check] event-source-mapping '<json>'
    aws_settings.py [--check] sns-topic-encryption '<json>'
    aws_settings.py [--check] opensearch-access-policy '<json>'
    aws_settings.py [--check] events-rule '<json>'
    aws_settings.py [--check] log-streams '<json>'

Credentials, region and endpoint come from the standard AWS environment variables
(AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_DEFAULT_REGION,
AWS_ENDPOINT_URL). Bad input exits with status 2 and a message naming the parameter,
before any AWS call.
"""

from __future__ import absolute_import, division, print_function

import json
import re
import sys
import time

STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:(kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+"
                        r"|dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+)$")
DESTINATION_ARN = re.compile(r"^arn:aws[a-z-]*:(s3:::[a-z0-9.-]{3,63}|sqs:[a-z0-9-]+:[0-9]{12}:.+|sns:[a-z0-9-]+:[0-9]{12}:.+)$")
FUNCTION = re.compile(r"^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}$")
TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
KEY = re.compile(r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/.+|alias/.+|[0-9a-f-]{36}|mrk-[0-9a-f]{32})?$")

# option -> (API field, low, high, special value allowed besides the range)
ESM_FIELDS = {
    "batch_size": ("BatchSize", 1, 10000, None),
    "maximum_batching_window_in_seconds": ("MaximumBatchingWindowInSeconds", 0, 300, None),
    "parallelization_factor": ("ParallelizationFactor", 1, 10, None),
    "maximum_retry_attempts": ("MaximumRetryAttempts", 0, 10000, -1),
    "maximum_record_age_in_seconds": ("MaximumRecordAgeInSeconds", 60, 604800, -1),
}
ESM_BOOLS = {"bisect_batch_on_function_error": "BisectBatchOnFunctionError"}
ESM_BUSY = ("Creating", "Enabling", "Disabling", "Updating")


class InputError(Exception):
    """Bad input; the message names the parameter."""


def _client(service):
    import boto3  # pylint: disable=import-outside-toplevel
    from botocore.config import Config  # pylint: disable=import-outside-toplevel

    return boto3.client(service, config=Config(retries={"mode": "standard", "max_attempts": 10}))


def _error_code(exc):
    return getattr(exc, "response", {}).get("Error", {}).get("Code", "")


# ---------------------------------------------------------------- event source mapping
def esm_validate(args):
    if args.get("state", "present") not in ("present", "absent"):
        raise InputError("state must be present or absent, got %r" % args.get("state"))
    if not FUNCTION.match(str(args.get("function_name", ""))):
        raise InputError("function_name must be a Lambda function name or ARN, got %r" % args.get("function_name"))
    if not STREAM_ARN.match(str(args.get("event_source_arn", ""))):
        raise InputError("event_source_arn must be the ARN of a Kinesis or DynamoDB stream, got %r" % args.get("event_source_arn"))
    for name, (_field, low, high, special) in ESM_FIELDS.items():
        value = args.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or (value != special and not low <= value <= high):
            raise InputError("%s must be an integer between %d and %d%s, got %r" % (
                name, low, high, "" if special is None else " (or %d)" % special, value))
    for name in list(ESM_BOOLS) + ["enabled"]:
        if args.get(name) is not None and not isinstance(args[name], bool):
            raise InputError("%s must be a boolean, got %r" % (name, args[name]))
    types = args.get("function_response_types")
    if types is not None and (not isinstance(types, list) or any(t != "ReportBatchItemFailures" for t in types)):
        raise InputError("function_response_types must be a list of ReportBatchItemFailures, got %r" % (types,))
    destination = args.get("on_failure_destination_arn")
    if destination and not DESTINATION_ARN.match(destination):
        raise InputError("on_failure_destination_arn must be the ARN of an S3 bucket, SQS queue or SNS topic, got %r" % destination)
    if args.get("starting_position", "TRIM_HORIZON") not in ("TRIM_HORIZON", "LATEST"):
        raise InputError("starting_position must be TRIM_HORIZON or LATEST, got %r" % args.get("starting_position"))


def esm_settings(mapping):
    """The settings managed here, read from an API mapping."""
    settings = {name: mapping.get(field) for name, (field, _l, _h, _s) in ESM_FIELDS.items()}
    settings.update({name: mapping.get(field) for name, field in ESM_BOOLS.items()})
    settings["function_response_types"] = sorted(mapping.get("FunctionResponseTypes") or [])
    settings["on_failure_destination_arn"] = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
    settings["enabled"] = mapping.get("State") in ("Enabled", "Enabling", "Creating", "Updating")
    return settings


def esm_wanted(args, current):
    want = dict(current)
    for name in list(ESM_FIELDS) + list(ESM_BOOLS) + ["function_response_types", "on_failure_destination_arn", "enabled"]:
        if args.get(name) is not None:
            want[name] = sorted(args[name]) if name == "function_response_types" else args[name]
    return want


def esm_api_arguments(want):
    api = {field: want[name] for name, (field, _l, _h, _s) in ESM_FIELDS.items() if want.get(name) is not None}
    api.update({field: want[name] for name, field in ESM_BOOLS.items() if want.get(name) is not None})
    api["FunctionResponseTypes"] = want.get("function_response_types") or []
    api["DestinationConfig"] = {"OnFailure": {"Destination": want.get("on_failure_destination_arn") or ""}}
    api["Enabled"] = bool(want.get("enabled", True))
    return api


def esm_wait(client, uuid, timeout=300):
    deadline = time.time() + timeout
    while True:
        mapping = client.get_event_source_mapping(UUID=uuid)
        mapping.pop("ResponseMetadata", None)
        if mapping.get("State") not in ESM_BUSY or time.time() > deadline:
            return mapping
        time.sleep(3)


def event_source_mapping(args, check):
    esm_validate(args)
    client = _client("lambda")
    try:
        pages = client.get_paginator("list_event_source_mappings").paginate(
            FunctionName=args["function_name"], EventSourceArn=args["event_source_arn"])
        mappings = pages.build_full_result()["EventSourceMappings"]
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        mappings = []  # the function does not exist (yet)
    if len(mappings) > 1:
        raise RuntimeError("function %s has %d event source mappings on %s; expected at most one"
                           % (args["function_name"], len(mappings), args["event_source_arn"]))
    mapping = mappings[0] if mappings else None

    if args.get("state", "present") == "absent":
        if mapping is None:
            return {"changed": False, "before": {}, "after": {}, "result": {}}
        if not check:
            client.delete_event_source_mapping(UUID=mapping["UUID"])
        return {"changed": True, "before": esm_settings(mapping), "after": {}, "result": {}}

    if mapping is None:
        after = esm_wanted(args, {})
        if check:
            return {"changed": True, "before": {}, "after": after, "result": {}}
        api = esm_api_arguments(after)
        if not api["DestinationConfig"]["OnFailure"]["Destination"]:
            del api["DestinationConfig"]
        created = client.create_event_source_mapping(
            FunctionName=args["function_name"], EventSourceArn=args["event_source_arn"],
            StartingPosition=args.get("starting_position", "TRIM_HORIZON"), **api)
        return {"changed": True, "before": {}, "after": after, "result": esm_wait(client, created["UUID"])}

    before = esm_settings(mapping)
    after = esm_wanted(args, before)
    if before == after or check:
        return {"changed": before != after, "before": before, "after": after, "result": mapping}
    esm_wait(client, mapping["UUID"])
    client.update_event_source_mapping(UUID=mapping["UUID"], **esm_api_arguments(after))
    return {"changed": True, "before": before, "after": after, "result": esm_wait(client, mapping["UUID"])}


# ---------------------------------------------------------------- SNS topic encryption
def sns_topic_encryption(args, check):
    topic_arn = str(args.get("topic_arn", ""))
    key = args.get("kms_master_key_id")
    if not TOPIC_ARN.match(topic_arn):
        raise InputError("topic_arn must be the ARN of an SNS topic, got %r" % topic_arn)
    if not isinstance(key, str) or not KEY.match(key):
        raise InputError("kms_master_key_id must be a KMS key ARN, key id or alias (or empty), got %r" % (key,))
    client = _client("sns")
    try:
        current = client.get_topic_attributes(TopicArn=topic_arn)["Attributes"].get("KmsMasterKeyId", "")
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) != "NotFound" or not check:
            raise
        current = ""  # check mode: the task that creates the topic did not run
    changed = current != key
    if changed and not check:
        client.set_topic_attributes(TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=key)
    return {"changed": changed, "before": {"kms_master_key_id": current}, "after": {"kms_master_key_id": key},
            "result": {"topic_arn": topic_arn, "kms_master_key_id": key}}


# ---------------------------------------------------------------- OpenSearch access policy
def _canonical(value):
    """Policy value in a canonical form: sorted lists, one-element lists as scalars."""
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list):
        items = sorted((_canonical(v) for v in value), key=lambda v: json.dumps(v, sort_keys=True))
        return items[0] if len(items) == 1 else items
    return value


def opensearch_access_policy(args, check):
    domain = str(args.get("domain_name", ""))
    policy = args.get("policy")
    if not re.match(r"^[a-z][a-z0-9-]{2,27}$", domain):
        raise InputError("domain_name must be 3-28 lowercase letters, digits or '-', starting with a letter, got %r" % domain)
    if not isinstance(policy, dict) or not policy.get("Statement"):
        raise InputError("policy must be an IAM policy document with a Statement, got %r" % (policy,))
    for statement in policy["Statement"]:
        principal = statement.get("Principal")
        aws = principal.get("AWS") if isinstance(principal, dict) else None
        if principal == "*" or "*" in (aws if isinstance(aws, list) else [aws]):
            raise InputError("policy must name its principals; '*' would make the domain public")
    client = _client("opensearch")
    try:
        raw = client.describe_domain_config(DomainName=domain)["DomainConfig"]["AccessPolicies"]["Options"]
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) != "ResourceNotFoundException" or not check:
            raise
        raw = ""  # check mode: the task that creates the domain did not run
    current = json.loads(raw) if raw else {}
    changed = _canonical(current) != _canonical(policy)
    if changed and not check:
        client.update_domain_config(DomainName=domain, AccessPolicies=json.dumps(policy, sort_keys=True))
    return {"changed": changed, "before": current, "after": policy, "result": {"domain_name": domain}}


# ---------------------------------------------------------------- EventBridge rule
# amazon.aws.cloudwatchevent_rule 10.1.2 has no check mode (Ansible skips it in --check
# instead of predicting) and compares the event pattern as a string.
RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
TARGET_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{12}:.+$")


def _rule_validate(args):
    name = str(args.get("name", ""))
    if not RULE_NAME.match(name):
        raise InputError("name must be 1-64 letters, digits, '.', '-' or '_', got %r" % name)
    if args.get("state", "present") not in ("present", "absent"):
        raise InputError("state must be present or absent, got %r" % (args.get("state"),))
    if args.get("state", "present") == "absent":
        return name
    pattern = args.get("event_pattern")
    if not isinstance(pattern, dict) or not pattern:
        raise InputError("event_pattern must be a non-empty JSON object, got %r" % (pattern,))
    if not isinstance(args.get("description", ""), str) or len(args.get("description", "")) > 512:
        raise InputError("description must be a string of at most 512 characters")
    targets = args.get("targets")
    if not isinstance(targets, list) or not targets or len(targets) > 5:
        raise InputError("targets must be a list of 1 to 5 targets, got %r" % (targets,))
    for target in targets:
        if not isinstance(target, dict) or set(target) != {"id", "arn"}:
            raise InputError("every target must have exactly the keys id and arn, got %r" % (target,))
        if not RULE_NAME.match(str(target["id"])):
            raise InputError("targets.id must be 1-64 letters, digits, '.', '-' or '_', got %r" % (target["id"],))
        if not TARGET_ARN.match(str(target["arn"])):
            raise InputError("targets.arn must be an ARN, got %r" % (target["arn"],))
    return name


def _rule_targets(client, name):
    targets, token = [], None
    while True:
        page = client.list_targets_by_rule(Rule=name, **({"NextToken": token} if token else {}))
        targets.extend(page.get("Targets", []))
        token = page.get("NextToken")
        if not token:
            return targets


def events_rule(args, check):
    """An enabled rule on the default event bus with an event pattern and plain targets (id, arn)."""
    name = _rule_validate(args)
    client = _client("events")
    try:
        rule = client.describe_rule(Name=name)
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) != "ResourceNotFoundException":
            raise
        rule = None
    targets = _rule_targets(client, name) if rule else []
    before = {} if rule is None else {
        "event_pattern": json.loads(rule["EventPattern"]) if rule.get("EventPattern") else None,
        "description": rule.get("Description", ""),
        "state": rule.get("State"),
        "targets": sorted(({k[0].lower() + k[1:]: v for k, v in t.items()} for t in targets), key=lambda t: t.get("id", "")),
    }
    if args.get("state", "present") == "absent":
        changed = rule is not None
        if changed and not check:
            if targets:
                client.remove_targets(Rule=name, Ids=[t["Id"] for t in targets])
            client.delete_rule(Name=name)
        return {"changed": changed, "before": before, "after": {}, "result": {"name": name}}
    want_targets = sorted(({"id": t["id"], "arn": t["arn"]} for t in args["targets"]), key=lambda t: t["id"])
    after = {"event_pattern": args["event_pattern"], "description": args.get("description", ""), "state": "ENABLED",
             "targets": want_targets}
    rule_changed = rule is None or (
        _canonical(before["event_pattern"]) != _canonical(after["event_pattern"])
        or before["description"] != after["description"] or before["state"] != "ENABLED"
        or bool(rule.get("ScheduleExpression")) or bool(rule.get("RoleArn")))
    current = {t["Id"]: t for t in targets}
    # A target with anything besides Id and Arn (input, transformer, role) is replaced.
    to_put = [t for t in want_targets if current.get(t["id"]) != {"Id": t["id"], "Arn": t["arn"]}]
    to_remove = sorted(set(current) - set(t["id"] for t in want_targets))
    changed = rule_changed or bool(to_put) or bool(to_remove)
    arn = rule["Arn"] if rule else None
    if changed and not check:
        if rule_changed:
            request = {"Name": name, "EventPattern": json.dumps(args["event_pattern"], sort_keys=True),
                       "State": "ENABLED", "Description": after["description"]}
            arn = client.put_rule(**request)["RuleArn"]
        if to_remove:
            client.remove_targets(Rule=name, Ids=to_remove)
        if to_put:
            result = client.put_targets(Rule=name, Targets=[{"Id": t["id"], "Arn": t["arn"]} for t in to_put])
            if result.get("FailedEntryCount"):
                raise RuntimeError("PutTargets failed for rule %s: %s" % (name, result.get("FailedEntries")))
    return {"changed": changed, "before": before, "after": after, "result": {"name": name, "arn": arn}}


# ---------------------------------------------------------------- CloudWatch Logs log streams
# No module of amazon.aws 10.1.2 / community.aws 10.0.0 creates a log stream; Firehose does
# not create the streams named in CloudWatchLoggingOptions itself when they are set by API.
LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
LOG_STREAM = re.compile(r"^[^:*]{1,512}$")


def log_streams(args, check):
    group = str(args.get("log_group_name", ""))
    names = args.get("log_stream_names")
    if not LOG_GROUP.match(group):
        raise InputError("log_group_name must be 1-512 characters of letters, digits and ._-/#, got %r" % group)
    if not isinstance(names, list) or not names or not all(isinstance(n, str) and LOG_STREAM.match(n) for n in names):
        raise InputError("log_stream_names must be a non-empty list of names without ':' or '*', got %r" % (names,))
    client = _client("logs")
    existing = set()
    try:
        for name in names:
            found = client.describe_log_streams(logGroupName=group, logStreamNamePrefix=name).get("logStreams", [])
            existing.update(s["logStreamName"] for s in found if s["logStreamName"] == name)
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) != "ResourceNotFoundException" or not check:
            raise
        existing = set()  # check mode: the task that creates the log group did not run
    missing = sorted(set(names) - existing)
    if missing and not check:
        for name in missing:
            client.create_log_stream(logGroupName=group, logStreamName=name)
    return {"changed": bool(missing), "before": {"log_stream_names": sorted(existing)},
            "after": {"log_stream_names": sorted(set(names))}, "result": {"log_group_name": group, "created": missing}}


COMMANDS = {
    "event-source-mapping": event_source_mapping,
    "events-rule": events_rule,
    "log-streams": log_streams,
    "opensearch-access-policy": opensearch_access_policy,
    "sns-topic-encryption": sns_topic_encryption,
}


def main(argv):
    check = "--check" in argv
    argv = [a for a in argv if a != "--check"]
    if len(argv) != 2 or argv[0] not in COMMANDS:
        sys.stderr.write("usage: aws_settings.py [--check] {%s} '<json>'\n" % ",".join(sorted(COMMANDS)))
        return 2
    try:
        args = json.loads(argv[1])
        if not isinstance(args, dict):
            raise InputError("the arguments must be a JSON object")
        output = COMMANDS[argv[0]](args, check)
    except (InputError, ValueError) as exc:
        sys.stderr.write("aws_settings %s: %s. Nothing was changed.\n" % (argv[0], exc))
        return 2
    print(json.dumps(output, sort_keys=True, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
