#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_events
version_added: 0.1.0
short_description: Write log events to a CloudWatch Logs log stream
description:
  - Writes one or more log events to a log stream with C(PutLogEvents), creating the
    log stream (and, if asked, the log group) when it does not exist.
  - The C(logvault.aws.verify) playbook uses it to write canary events into every member
    account and region, then looks for them in the central archive and search.
  - Neither the amazon.aws nor the community.aws collection has a module that writes log events.
  - Writing events is never idempotent; the module always reports a change unless
    O(messages) is empty. In check mode nothing is written and C(changed) is predicted.
author:
  - logvault.aws maintainers (@logvault)
options:
  log_group_name:
    description:
      - Name of the log group (1 to 512 characters of V([.-_/#A-Za-z0-9])).
    required: true
    type: str
  log_stream_name:
    description:
      - Name of the log stream (1 to 512 characters, no V(:) or V(*)).
    required: true
    type: str
  messages:
    description:
      - The messages to write, one log event each, in this order.
      - Each message is at most 256 KiB minus the 26 bytes of per-event overhead that AWS counts.
    required: true
    type: list
    elements: str
  timestamp:
    description:
      - Timestamp of the events in milliseconds since the epoch. Defaults to now.
    type: int
  create_log_group:
    description:
      - Create the log group when it does not exist.
    type: bool
    default: false
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Write a canary event
  logvault.aws.cloudwatchlogs_log_events:
    log_group_name: /logvault/canary
    log_stream_name: verify
    messages:
      - '{"logvault_canary": "run-42-111111111111-us-east-1"}'
    create_log_group: true
    region: us-east-1
"""

RETURN = r"""
log_group_name:
  description: The log group written to.
  returned: always
  type: str
  sample: /logvault/canary
log_stream_name:
  description: The log stream written to.
  returned: always
  type: str
  sample: verify
timestamp:
  description: Timestamp of the events, in milliseconds since the epoch.
  returned: always
  type: int
  sample: 1795000000000
events_written:
  description: How many events were written (0 in check mode).
  returned: always
  type: int
  sample: 1
created:
  description: What was created (C(log_group), C(log_stream)); in check mode, what would be.
  returned: always
  type: list
  elements: str
  sample: ["log_stream"]
"""

import re
import time

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

LOG_GROUP_RE = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
LOG_STREAM_RE = re.compile(r"^[^:*]{1,512}$")
MAX_EVENT_BYTES = 256 * 1024 - 26
# PutLogEvents takes at most 10,000 events and 1,048,576 bytes (message bytes + 26 per event).
MAX_BATCH_EVENTS = 10000
MAX_BATCH_BYTES = 1048576


def validate(module):
    params = module.params
    if not LOG_GROUP_RE.match(params["log_group_name"]):
        module.fail_json(msg="log_group_name must be 1-512 characters of [.-_/#A-Za-z0-9], got %r" % params["log_group_name"])
    if not LOG_STREAM_RE.match(params["log_stream_name"]):
        module.fail_json(msg="log_stream_name must be 1-512 characters without ':' or '*', got %r" % params["log_stream_name"])
    for index, message in enumerate(params["messages"]):
        size = len(message.encode("utf-8"))
        if size == 0:
            module.fail_json(msg="messages[%d] is empty; CloudWatch Logs rejects empty events" % index)
        if size > MAX_EVENT_BYTES:
            module.fail_json(msg="messages[%d] is %d bytes, over the %d-byte event limit" % (index, size, MAX_EVENT_BYTES))
    if params["timestamp"] is not None and params["timestamp"] < 0:
        module.fail_json(msg="timestamp must be milliseconds since the epoch, got %d" % params["timestamp"])


def batches(events):
    batch, size = [], 0
    for event in events:
        event_size = len(event["message"].encode("utf-8")) + 26
        if batch and (len(batch) >= MAX_BATCH_EVENTS or size + event_size > MAX_BATCH_BYTES):
            yield batch
            batch, size = [], 0
        batch.append(event)
        size += event_size
    if batch:
        yield batch


def missing_resources(module, client):
    group, stream = module.params["log_group_name"], module.params["log_stream_name"]
    try:
        found = client.describe_log_streams(
            aws_retry=True, logGroupName=group, logStreamNamePrefix=stream, limit=50
        ).get("logStreams", [])
    except is_boto3_error_code("ResourceNotFoundException"):
        if not module.params["create_log_group"]:
            module.fail_json(msg="log_group_name %s does not exist; set create_log_group to create it" % group)
        return ["log_group", "log_stream"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe log streams of %s" % group)
    if any(s["logStreamName"] == stream for s in found):
        return []
    return ["log_stream"]


RETRY_CODES = ["ThrottlingException", "ServiceUnavailableException"]


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            log_group_name=dict(type="str", required=True),
            log_stream_name=dict(type="str", required=True),
            messages=dict(type="list", elements="str", required=True),
            timestamp=dict(type="int"),
            create_log_group=dict(type="bool", default=False),
        ),
        supports_check_mode=True,
    )
    validate(module)
    params = module.params
    timestamp = params["timestamp"] if params["timestamp"] is not None else int(time.time() * 1000)
    # CloudWatch Logs throttles with ThrottlingException, which AWSRetry's defaults do not include.
    client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    created = missing_resources(module, client)
    result = dict(
        log_group_name=params["log_group_name"],
        log_stream_name=params["log_stream_name"],
        timestamp=timestamp,
        created=created,
        events_written=0,
        changed=bool(params["messages"]) or bool(created),
    )
    if module.check_mode:
        module.exit_json(**result)
    try:
        if "log_group" in created:
            client.create_log_group(aws_retry=True, logGroupName=params["log_group_name"])
        if "log_stream" in created:
            client.create_log_stream(
                aws_retry=True, logGroupName=params["log_group_name"], logStreamName=params["log_stream_name"]
            )
        events = [dict(timestamp=timestamp, message=m) for m in params["messages"]]
        for batch in batches(events):
            response = client.put_log_events(
                aws_retry=True,
                logGroupName=params["log_group_name"],
                logStreamName=params["log_stream_name"],
                logEvents=batch,
            )
            rejected = response.get("rejectedLogEventsInfo")
            if rejected:
                module.fail_json(msg="CloudWatch Logs rejected events: %s" % rejected, **result)
            result["events_written"] += len(batch)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to put log events into %s" % params["log_group_name"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
