#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lambda_event_source_mapping
version_added: 0.1.0
short_description: Manage the event source mapping of a Lambda function on a Kinesis or DynamoDB stream
description:
  - Creates, updates and deletes the event source mapping of one Lambda function on one
    Kinesis data stream or DynamoDB stream, with its batching and error-handling settings.
  - Exactly one mapping per function and event source is managed. When AWS already has
    more than one, the module fails and names them (their UUIDs) instead of guessing.
  - Options that are not given are left as they are on an existing mapping; a new mapping
    gets AWS's defaults for them.
  - All input is validated before any AWS call; errors name the parameter.
  - C(amazon.aws.lambda_event) (amazon.aws 10.1.2) cannot manage this mapping the way the
    logvault pipeline needs it; see the notes.
author:
  - logvault.aws maintainers (@logvault)
options:
  function_name:
    description:
      - Name or unqualified ARN of the Lambda function.
    required: true
    type: str
  event_source_arn:
    description:
      - ARN of the Kinesis data stream or of the DynamoDB stream.
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the mapping, V(absent) deletes it.
    choices: ['present', 'absent']
    default: present
    type: str
  enabled:
    description:
      - Whether the mapping reads the stream.
    type: bool
    default: true
  starting_position:
    description:
      - Where a new mapping starts reading the stream.
      - Used when the mapping is created; V(TRIM_HORIZON) when not given.
      - AWS cannot change it on an existing mapping. When it is given and differs from the
        existing mapping's, the module fails naming this parameter (delete the mapping with
        O(state=absent) and create it again).
    choices: ['TRIM_HORIZON', 'LATEST']
    type: str
  batch_size:
    description:
      - Maximum number of records in one invocation (1 to 10000; AWS's default is 100).
    type: int
  maximum_batching_window_in_seconds:
    description:
      - How long to gather records before invoking the function (0 to 300; AWS's default is 0).
    type: int
  parallelization_factor:
    description:
      - Number of batches processed at the same time from each shard (1 to 10; AWS's default is 1).
    type: int
  bisect_batch_on_function_error:
    description:
      - Split a batch in two and retry each half when the function returns an error.
    type: bool
  maximum_retry_attempts:
    description:
      - How often a failed batch is retried before it is discarded (0 to 10000), or V(-1) to
        retry until the records expire (AWS's default).
    type: int
  maximum_record_age_in_seconds:
    description:
      - Records older than this are discarded (60 to 604800), or V(-1) to keep them as long as
        the stream does (AWS's default).
    type: int
  function_response_types:
    description:
      - V(ReportBatchItemFailures) lets the function report the records that failed
        (C(batchItemFailures)), so that only those and the ones after them are retried.
      - An empty list turns it off.
    type: list
    elements: str
    choices: ['ReportBatchItemFailures']
  on_failure_destination_arn:
    description:
      - ARN of the S3 bucket, SQS queue or SNS topic that receives the description (S3 also
        the records) of each discarded batch.
      - An empty string removes the destination.
    type: str
  wait:
    description:
      - Wait until the mapping is no longer C(Creating), C(Enabling), C(Disabling), C(Updating)
        or C(Deleting) after a change (and before updating a mapping in one of those states).
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait at most, when O(wait=true).
    type: int
    default: 300
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. When the function
    does not exist yet (C(ResourceNotFoundException) from C(ListEventSourceMappings)), there is
    no mapping, so check mode reports the creation; in normal mode creating a mapping for a
    function that does not exist fails and says so.
  - With C(--diff) the module returns the managed settings before and after.
  - C(CreateEventSourceMapping) checks that the function's execution role can read the stream. A role (or role
    policy) created a moment before is not usable yet (IAM is eventually consistent,
    U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)),
    and Lambda answers C(InvalidParameterValueException) with "cannot be assumed by Lambda", "The provided execution
    role does not have permissions to call ..." or "Cannot access stream ... Please ensure the role can perform the
    GetRecords, GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM." (see the execution
    role requirements in U(https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html)). That code with those
    messages is retried for about two minutes; any other C(InvalidParameterValueException) fails at once.
  - Why not C(amazon.aws.lambda_event)? In amazon.aws 10.1.2 its C(source_params)
    accepts only C(source_arn), C(enabled), C(batch_size), C(starting_position),
    C(function_response_types) and C(maximum_batching_window_in_seconds). It cannot set
    C(BisectBatchOnFunctionError), C(MaximumRetryAttempts), C(MaximumRecordAgeInSeconds),
    C(ParallelizationFactor) or C(DestinationConfig) (the on-failure destination), and on an
    existing mapping it updates only C(BatchSize) and C(Enabled), so a changed
    C(FunctionResponseTypes) or batching window is never applied. It also refuses a stream
    batch size below 100 and sets a batching window of 1 second whenever the batch size is
    above 10. C(community.aws) 10.0.0 has no event source mapping module.
seealso:
  - name: CreateEventSourceMapping API
    description: The Lambda API this module calls, with the meaning and limits of each setting.
    link: https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html
  - module: amazon.aws.lambda
  - module: amazon.aws.lambda_event
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Map the transform Lambda to the hub stream with finite retries and an on-failure bucket
  logvault.aws.lambda_event_source_mapping:
    function_name: logvault-transform
    event_source_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    starting_position: TRIM_HORIZON
    batch_size: 500
    maximum_batching_window_in_seconds: 5
    parallelization_factor: 1
    bisect_batch_on_function_error: true
    function_response_types: [ReportBatchItemFailures]
    maximum_retry_attempts: 5
    maximum_record_age_in_seconds: 86400
    on_failure_destination_arn: arn:aws:s3:::logvault-dead-letter

- name: Pause the mapping, leaving every other setting as it is
  logvault.aws.lambda_event_source_mapping:
    function_name: logvault-transform
    event_source_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    enabled: false

- name: Remove the on-failure destination and retry until the records expire
  logvault.aws.lambda_event_source_mapping:
    function_name: logvault-transform
    event_source_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    on_failure_destination_arn: ""
    maximum_retry_attempts: -1

- name: Delete the mapping
  logvault.aws.lambda_event_source_mapping:
    function_name: logvault-transform
    event_source_arn: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    state: absent
"""

RETURN = r"""
event_source_mapping:
  description:
    - The mapping after the task. Empty when O(state=absent).
    - Settings AWS did not return are shown with AWS's default value.
  returned: always
  type: dict
  contains:
    uuid:
      description: Identifier of the mapping. Not known in check mode before creation.
      type: str
      returned: when the mapping exists
      sample: 7c0b6a36-3f5a-4f4e-8d0a-1a2b3c4d5e6f
    state:
      description: C(Enabled), C(Disabled), C(Creating), C(Updating) ...
      type: str
      returned: when the mapping exists
      sample: Enabled
    function_arn:
      description: ARN of the function. Not known in check mode before creation.
      type: str
      returned: when the mapping exists
      sample: arn:aws:lambda:us-east-1:123456789012:function:logvault-transform
    event_source_arn:
      description: ARN of the stream.
      type: str
      returned: when the mapping exists
      sample: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    enabled:
      description: Whether the mapping reads the stream.
      type: bool
      returned: when the mapping exists
      sample: true
    starting_position:
      description: Where the mapping started reading.
      type: str
      returned: when the mapping exists
      sample: TRIM_HORIZON
    batch_size:
      description: Maximum number of records in one invocation.
      type: int
      returned: when the mapping exists
      sample: 500
    maximum_batching_window_in_seconds:
      description: Batching window.
      type: int
      returned: when the mapping exists
      sample: 5
    parallelization_factor:
      description: Concurrent batches per shard.
      type: int
      returned: when the mapping exists
      sample: 1
    bisect_batch_on_function_error:
      description: Whether failed batches are split in two.
      type: bool
      returned: when the mapping exists
      sample: true
    maximum_retry_attempts:
      description: Retries of a failed batch, C(-1) for unlimited.
      type: int
      returned: when the mapping exists
      sample: 5
    maximum_record_age_in_seconds:
      description: Maximum age of a record, C(-1) for unlimited.
      type: int
      returned: when the mapping exists
      sample: 86400
    function_response_types:
      description: Function response types (sorted).
      type: list
      elements: str
      returned: when the mapping exists
      sample: [ReportBatchItemFailures]
    on_failure_destination_arn:
      description: On-failure destination; empty when there is none.
      type: str
      returned: when the mapping exists
      sample: arn:aws:s3:::logvault-dead-letter
    last_processing_result:
      description: Result of the last invocation, as AWS reports it.
      type: str
      returned: when AWS reports it
      sample: OK
"""

import re
import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import validate_region

RETRY_CODES = ["TooManyRequestsException", "ServiceException", "ResourceInUseException"]

# The same rules as the roles' former helper script files/aws_settings.py (event-source-mapping), removed when this module replaced it.
STREAM_ARN = re.compile(r"^arn:aws[a-z-]*:(kinesis:[a-z0-9-]+:[0-9]{12}:stream/[A-Za-z0-9_.-]+"
                        r"|dynamodb:[a-z0-9-]+:[0-9]{12}:table/[A-Za-z0-9_.-]+/stream/.+)$")
DESTINATION_ARN = re.compile(r"^arn:aws[a-z-]*:(s3:::[a-z0-9.-]{3,63}|sqs:[a-z0-9-]+:[0-9]{12}:.+|sns:[a-z0-9-]+:[0-9]{12}:.+)$")
FUNCTION = re.compile(r"^(arn:aws[a-z-]*:lambda:[a-z0-9-]+:[0-9]{12}:function:)?[A-Za-z0-9_-]{1,64}$")

# option -> (API field, low, high, special value allowed besides the range, AWS default)
INT_SETTINGS = {
    "batch_size": ("BatchSize", 1, 10000, None, 100),
    "maximum_batching_window_in_seconds": ("MaximumBatchingWindowInSeconds", 0, 300, None, 0),
    "parallelization_factor": ("ParallelizationFactor", 1, 10, None, 1),
    "maximum_retry_attempts": ("MaximumRetryAttempts", 0, 10000, -1, -1),
    "maximum_record_age_in_seconds": ("MaximumRecordAgeInSeconds", 60, 604800, -1, -1),
}
BUSY = ("Creating", "Enabling", "Disabling", "Updating", "Deleting")
MANAGED = sorted(list(INT_SETTINGS) + ["bisect_batch_on_function_error", "enabled", "function_response_types", "on_failure_destination_arn"])


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params

    def fail(param, message):
        module.fail_json(msg=str(ValidationError(param, message)) + ". Nothing was changed.", parameter=param)

    if params["region"] is not None:
        try:
            validate_region(params["region"], "region")
        except ValidationError as e:
            module.fail_json(msg=str(e), parameter=e.param)
    if not FUNCTION.match(params["function_name"] or ""):
        fail("function_name", "must be a Lambda function name (1 to 64 letters, digits, '-' or '_') or an unqualified function ARN, got %r"
             % params["function_name"])
    if not STREAM_ARN.match(params["event_source_arn"] or ""):
        fail("event_source_arn", "must be the ARN of a Kinesis data stream or of a DynamoDB stream, got %r" % params["event_source_arn"])
    for name, (_field, low, high, special, _default) in INT_SETTINGS.items():
        value = params[name]
        if value is not None and value != special and not low <= value <= high:
            fail(name, "must be an integer between %d and %d%s, got %r" % (low, high, "" if special is None else " (or %d)" % special, value))
    destination = params["on_failure_destination_arn"]
    if destination and not DESTINATION_ARN.match(destination):
        fail("on_failure_destination_arn", "must be the ARN of an S3 bucket, an SQS queue or an SNS topic (or empty to remove it), got %r"
             % destination)
    if params["wait_timeout"] is not None and params["wait_timeout"] < 0:
        fail("wait_timeout", "must be 0 or more seconds, got %r" % params["wait_timeout"])


@AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES)
def _list_mappings(client, **kwargs):
    paginator = client.get_paginator("list_event_source_mappings")
    return paginator.paginate(**kwargs).build_full_result()


def _same_function(mapping, function_name):
    """Whether a mapping (API dict) belongs to the unqualified function ``function_name``."""
    arn = mapping.get("FunctionArn") or ""
    if function_name.startswith("arn:"):
        return arn == function_name
    parts = arn.split(":")
    return len(parts) == 7 and parts[5] == "function" and parts[6] == function_name


def find_mapping(module, client):
    """The one mapping of the function on the source, or None. Fails when there are several."""
    params = module.params
    try:
        found = _list_mappings(client, FunctionName=params["function_name"], EventSourceArn=params["event_source_arn"])
    except is_boto3_error_code("ResourceNotFoundException"):
        return None  # the function does not exist (yet), so it has no mapping
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list the event source mappings of %s on %s" % (params["function_name"], params["event_source_arn"]))
    mappings = [m for m in found.get("EventSourceMappings", [])
                if m.get("EventSourceArn") == params["event_source_arn"] and _same_function(m, params["function_name"])]
    if len(mappings) > 1:
        module.fail_json(
            msg="function %s has %d event source mappings on %s (%s); this module manages exactly one: delete the extra ones first"
            % (params["function_name"], len(mappings), params["event_source_arn"], ", ".join(sorted(m["UUID"] for m in mappings))),
            uuids=sorted(m["UUID"] for m in mappings))
    return mappings[0] if mappings else None


def get_mapping(module, client, uuid):
    try:
        mapping = client.get_event_source_mapping(aws_retry=True, UUID=uuid)
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read event source mapping %s" % uuid)
    mapping.pop("ResponseMetadata", None)
    return mapping


def wait_for(module, client, mapping, gone=False):
    """Poll until the mapping is stable (or gone). Returns the last mapping read."""
    if not module.params["wait"] or mapping is None:
        return mapping
    deadline = time.time() + module.params["wait_timeout"]
    uuid = mapping["UUID"]
    while True:
        if mapping is None or (mapping.get("State") not in BUSY and not gone):
            return mapping
        if time.time() >= deadline:
            module.fail_json(msg="event source mapping %s is still %s after wait_timeout=%d seconds"
                             % (uuid, mapping.get("State"), module.params["wait_timeout"]), parameter="wait_timeout")
        time.sleep(3)
        mapping = get_mapping(module, client, uuid)


def settings_of(mapping):
    """The managed settings of an API mapping, AWS's defaults filled in."""
    settings = dict((name, mapping.get(spec[0], spec[4])) for name, spec in INT_SETTINGS.items())
    settings["bisect_batch_on_function_error"] = bool(mapping.get("BisectBatchOnFunctionError", False))
    settings["function_response_types"] = sorted(mapping.get("FunctionResponseTypes") or [])
    settings["on_failure_destination_arn"] = ((mapping.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination") or ""
    # A mapping that is Updating is counted as enabled (AWS does not say); the module waits
    # for a stable state before it compares, unless wait=false.
    settings["enabled"] = mapping.get("State") in ("Enabled", "Enabling", "Creating", "Updating")
    return settings


def wanted_settings(module, current):
    want = dict(current)
    for name in MANAGED:
        value = module.params[name]
        if value is not None:
            want[name] = sorted(set(value)) if name == "function_response_types" else value
    return want


def describe(mapping, settings):
    """The module's view of a mapping (snake_case)."""
    if mapping is None:
        return {}
    result = dict(settings)
    result.update(
        uuid=mapping.get("UUID"),
        state=mapping.get("State"),
        function_arn=mapping.get("FunctionArn"),
        event_source_arn=mapping.get("EventSourceArn"),
        starting_position=mapping.get("StartingPosition"),
    )
    if mapping.get("LastProcessingResult"):
        result["last_processing_result"] = mapping["LastProcessingResult"]
    return dict((k, v) for k, v in result.items() if v is not None)


def api_arguments(before, after):
    """UpdateEventSourceMapping arguments for the settings that differ."""
    api = {}
    for name, spec in INT_SETTINGS.items():
        if after[name] != before.get(name):
            api[spec[0]] = after[name]
    if after["bisect_batch_on_function_error"] != before.get("bisect_batch_on_function_error"):
        api["BisectBatchOnFunctionError"] = after["bisect_batch_on_function_error"]
    if after["function_response_types"] != before.get("function_response_types"):
        api["FunctionResponseTypes"] = after["function_response_types"]
    if after["on_failure_destination_arn"] != before.get("on_failure_destination_arn"):
        on_failure = {"Destination": after["on_failure_destination_arn"]} if after["on_failure_destination_arn"] else {}
        api["DestinationConfig"] = {"OnFailure": on_failure}
    if after["enabled"] != before.get("enabled"):
        api["Enabled"] = after["enabled"]
    return api


def result_with_diff(module, changed, before, after, mapping):
    result = dict(changed=changed, event_source_mapping=mapping)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


def function_exists(client, name):
    try:
        client.get_function(aws_retry=True, FunctionName=name)
    except is_boto3_error_code("ResourceNotFoundException"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError):  # pylint: disable=duplicate-except
        return True  # unknown: do not claim it is missing
    return True


def ensure_absent(module, client):
    current = find_mapping(module, client)
    if current is None:
        result_with_diff(module, False, {}, {}, {})
    current = wait_for(module, client, current)
    before = settings_of(current)
    if not module.check_mode:
        try:
            client.delete_event_source_mapping(aws_retry=True, UUID=current["UUID"])
        except is_boto3_error_code("ResourceNotFoundException"):
            pass
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            module.fail_json_aws(e, msg="Failed to delete event source mapping %s" % current["UUID"])
        wait_for(module, client, get_mapping(module, client, current["UUID"]), gone=True)
    result_with_diff(module, True, before, {}, {})


def create(module, client):
    params = module.params
    defaults = dict((name, spec[4]) for name, spec in INT_SETTINGS.items())
    defaults.update(bisect_batch_on_function_error=False, function_response_types=[], on_failure_destination_arn="", enabled=True)
    after = wanted_settings(module, defaults)
    position = params["starting_position"] or "TRIM_HORIZON"
    if module.check_mode:
        predicted = dict(after, event_source_arn=params["event_source_arn"], starting_position=position,
                         state="Enabled" if after["enabled"] else "Disabled")
        if params["function_name"].startswith("arn:"):
            predicted["function_arn"] = params["function_name"]
        result_with_diff(module, True, {}, after, predicted)

    api = {"Enabled": after["enabled"]}
    for name, spec in INT_SETTINGS.items():
        if params[name] is not None:
            api[spec[0]] = params[name]
    if params["bisect_batch_on_function_error"] is not None:
        api["BisectBatchOnFunctionError"] = params["bisect_batch_on_function_error"]
    if after["function_response_types"]:
        api["FunctionResponseTypes"] = after["function_response_types"]
    if after["on_failure_destination_arn"]:
        api["DestinationConfig"] = {"OnFailure": {"Destination": after["on_failure_destination_arn"]}}
    try:
        created = client.create_event_source_mapping(
            aws_retry=True, FunctionName=params["function_name"], EventSourceArn=params["event_source_arn"], StartingPosition=position, **api)
    except is_boto3_error_code("ResourceNotFoundException") as e:
        if not function_exists(client, params["function_name"]):
            module.fail_json(msg="Cannot create the event source mapping: the Lambda function %s does not exist (create it first)"
                             % params["function_name"], parameter="function_name")
        module.fail_json_aws(e, msg="Failed to create the event source mapping of %s on %s" % (params["function_name"], params["event_source_arn"]))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to create the event source mapping of %s on %s" % (params["function_name"], params["event_source_arn"]))
    created.pop("ResponseMetadata", None)
    mapping = wait_for(module, client, get_mapping(module, client, created["UUID"]) or created)
    result_with_diff(module, True, {}, after, describe(mapping, settings_of(mapping)))


def ensure_present(module, client):
    params = module.params
    current = find_mapping(module, client)
    if current is None:
        create(module, client)
    current = wait_for(module, client, current)
    if params["starting_position"] and current.get("StartingPosition") and current["StartingPosition"] != params["starting_position"]:
        module.fail_json(
            msg="starting_position cannot be changed on an existing event source mapping: %s has %s, the task asks for %s. "
                "Delete the mapping (state=absent) and create it again, or leave starting_position out"
                % (current["UUID"], current["StartingPosition"], params["starting_position"]),
            parameter="starting_position")
    before = settings_of(current)
    after = wanted_settings(module, before)
    api = api_arguments(before, after)
    if not api:
        result_with_diff(module, False, before, after, describe(current, before))
    if module.check_mode:
        predicted = dict(current)
        if "Enabled" in api:
            predicted["State"] = "Enabled" if after["enabled"] else "Disabled"
        result_with_diff(module, True, before, after, describe(predicted, after))
    try:
        client.update_event_source_mapping(aws_retry=True, UUID=current["UUID"], **api)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to update event source mapping %s" % current["UUID"])
    mapping = get_mapping(module, client, current["UUID"]) or current
    mapping = wait_for(module, client, mapping)
    result_with_diff(module, True, before, after, describe(mapping, settings_of(mapping)))


def main():
    argument_spec = dict(
        function_name=dict(type="str", required=True),
        event_source_arn=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        enabled=dict(type="bool", default=True),
        starting_position=dict(type="str", choices=["TRIM_HORIZON", "LATEST"]),
        batch_size=dict(type="int"),
        maximum_batching_window_in_seconds=dict(type="int"),
        parallelization_factor=dict(type="int"),
        bisect_batch_on_function_error=dict(type="bool"),
        maximum_retry_attempts=dict(type="int"),
        maximum_record_age_in_seconds=dict(type="int"),
        function_response_types=dict(type="list", elements="str", choices=["ReportBatchItemFailures"]),
        on_failure_destination_arn=dict(type="str"),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=300),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)

    try:
        # Throttling, and the execution role's IAM propagation on create (about two minutes).
        client = module.client("lambda", retry_decorator=propagation_retry("lambda", RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to AWS Lambda")

    if module.params["state"] == "absent":
        ensure_absent(module, client)
    ensure_present(module, client)


if __name__ == "__main__":
    main()
