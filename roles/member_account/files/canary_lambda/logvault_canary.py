# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault canary Lambda: one canary event per scheduled invocation.

Handler: ``logvault_canary.handler``. Standard library and the runtime's boto3 only.

EventBridge Scheduler invokes it (docs/health.md) with the input
``{"scheduled_time": "<aws.scheduler.scheduled-time>", "execution_id": "<aws.scheduler.execution-id>"}``,
whose context attributes Scheduler replaces. It writes one log event into the canary log group
(``CANARY_LOG_GROUP``), which the pipeline subscribes like any other group; the central canary
monitor finds it in the archive and in search and measures the delivery latency from
``scheduled_time``.

The event is one JSON object::

    {"logvault_canary": 1, "canary_id": "...", "account": "...", "region": "...",
     "scheduled_time": "2026-12-03T19:30:00Z", "written_time": "2026-12-03T19:30:01.250Z"}

The execution role may only create streams in and write to that group (PutLogEvents); the
function's own log output therefore goes nowhere, which is why it prints nothing.
"""

import datetime
import json
import os
import time
import uuid

import boto3

_LOGS = {}


def _client():
    if "client" not in _LOGS:
        _LOGS["client"] = boto3.client("logs")
    return _LOGS["client"]


def _iso(epoch, millis=False):
    when = datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc)
    if millis:
        return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def canary_event(event, account, region, now):
    """The canary document for one invocation (``event`` is Scheduler's input)."""
    event = event if isinstance(event, dict) else {}
    return {
        "logvault_canary": 1,
        "canary_id": str(event.get("execution_id") or uuid.uuid4()),
        "account": account,
        "region": region,
        "scheduled_time": str(event.get("scheduled_time") or _iso(now)),
        "written_time": _iso(now, millis=True),
    }


def handler(event, context):
    now = time.time()
    group = os.environ["CANARY_LOG_GROUP"]
    account = context.invoked_function_arn.split(":")[4]
    region = os.environ.get("AWS_REGION") or context.invoked_function_arn.split(":")[3]
    document = canary_event(event, account, region, now)
    stream = "canary/" + _iso(now)[:10]
    client = _client()
    try:
        client.create_log_stream(logGroupName=group, logStreamName=stream)
    except client.exceptions.ResourceAlreadyExistsException:
        pass
    client.put_log_events(logGroupName=group, logStreamName=stream,
                          logEvents=[{"timestamp": int(now * 1000), "message": json.dumps(document, sort_keys=True)}])
    return document
