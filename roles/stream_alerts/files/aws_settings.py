#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings that amazon.aws 10.1.2 / community.aws 10.0.0 modules cannot manage.

Used by the roles logvault.aws.central_account and stream_alerts (a copy per role) through ansible.builtin.command, because
roles inside a collection cannot ship modules. Each subcommand reads what exists,
compares it with what is wanted, writes only when they differ (never with --check),
and prints one JSON object: {"changed", "before", "after", "result"}.

    aws_settings.py [--check] event-source-mapping '<json>'
    aws_settings.py [--check] sns-topic-encryption '<json>'
    aws_settings.py [--check] dynamodb-table '<json>'   (this copy only: community.aws 10.0.0's dynamodb_table
                                                       needs TableId, which moto's DescribeTable omits)
    aws_settings.py [--check] dynamodb-ttl '<json>'     (this copy only: community.aws.dynamodb_ttl has no check mode)

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


# ---------------------------------------------------------------- DynamoDB table
def dynamodb_table(args, check):
    """A PAY_PER_REQUEST table with one string hash key ``pk`` and tags (purged)."""
    table = str(args.get("table_name", ""))
    tags = args.get("tags") or {}
    if not TABLE.match(table):
        raise InputError("table_name must be a DynamoDB table name, got %r" % table)
    if not isinstance(tags, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in tags.items()):
        raise InputError("tags must be a dict of strings, got %r" % (tags,))
    client = _client("dynamodb")
    after = {"hash_key": "pk", "billing_mode": "PAY_PER_REQUEST", "tags": dict(sorted(tags.items()))}
    try:
        current = client.describe_table(TableName=table)["Table"]
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) not in ("ResourceNotFoundException", "ResourceNotFound"):
            raise
        current = None
    if current is None:
        if not check:
            client.create_table(TableName=table, KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                                AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}], BillingMode="PAY_PER_REQUEST",
                                Tags=[{"Key": k, "Value": v} for k, v in sorted(tags.items())])
            client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 2, "MaxAttempts": 150})
        return {"changed": True, "before": {}, "after": after, "result": {"table_name": table}}
    keys = [(k["AttributeName"], k["KeyType"]) for k in current.get("KeySchema", [])]
    if keys != [("pk", "HASH")]:
        raise RuntimeError("table %s exists with the key schema %s, not a hash key pk; choose another table name" % (table, keys))
    pages = client.get_paginator("list_tags_of_resource").paginate(ResourceArn=current["TableArn"]) if client.can_paginate(
        "list_tags_of_resource") else [client.list_tags_of_resource(ResourceArn=current["TableArn"])]
    existing = {}
    for page in pages:
        existing.update({t["Key"]: t["Value"] for t in page.get("Tags", [])})
    billing = (current.get("BillingModeSummary") or {}).get("BillingMode", "PROVISIONED")
    before = {"hash_key": "pk", "billing_mode": billing, "tags": dict(sorted(existing.items()))}
    changed = before != after
    if changed and not check:
        if billing != "PAY_PER_REQUEST":
            client.update_table(TableName=table, BillingMode="PAY_PER_REQUEST")
        stale = sorted(set(existing) - set(tags))
        if stale:
            client.untag_resource(ResourceArn=current["TableArn"], TagKeys=stale)
        wanted = [{"Key": k, "Value": v} for k, v in sorted(tags.items()) if existing.get(k) != v]
        if wanted:
            client.tag_resource(ResourceArn=current["TableArn"], Tags=wanted)
    return {"changed": changed, "before": before, "after": after, "result": {"table_name": table, "table_arn": current["TableArn"]}}


# ---------------------------------------------------------------- DynamoDB time to live
TABLE = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
ATTRIBUTE = re.compile(r"^.{1,255}$")


def dynamodb_ttl(args, check):
    table = str(args.get("table_name", ""))
    attribute = args.get("attribute_name")
    if not TABLE.match(table):
        raise InputError("table_name must be a DynamoDB table name, got %r" % table)
    if not isinstance(attribute, str) or not ATTRIBUTE.match(attribute):
        raise InputError("attribute_name must be an attribute name, got %r" % (attribute,))
    client = _client("dynamodb")
    try:
        current = client.describe_time_to_live(TableName=table)["TimeToLiveDescription"]
    except Exception as exc:  # pylint: disable=broad-except
        if _error_code(exc) not in ("ResourceNotFoundException", "ResourceNotFound") or not check:
            raise
        current = {}  # check mode: the task that creates the table did not run
    before = {"enabled": current.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"), "attribute_name": current.get("AttributeName", "")}
    after = {"enabled": True, "attribute_name": attribute}
    changed = before != after
    if changed and not check:
        if before["enabled"]:  # another attribute: TTL must be disabled first
            client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": False, "AttributeName": before["attribute_name"]})
        client.update_time_to_live(TableName=table, TimeToLiveSpecification={"Enabled": True, "AttributeName": attribute})
    return {"changed": changed, "before": before, "after": after, "result": {"table_name": table, "attribute_name": attribute}}


COMMANDS = {
    "dynamodb-table": dynamodb_table,
    "dynamodb-ttl": dynamodb_ttl,
    "event-source-mapping": event_source_mapping,
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
