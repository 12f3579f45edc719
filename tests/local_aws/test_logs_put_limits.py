# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PutLogEvents limits that moto did not check (API_PutLogEvents): 10,000 events, 1,048,576
bytes (UTF-8 messages + 26 per event), and the valid events of a batch within 24 hours.
A refused batch stores nothing."""

import time

import botocore.exceptions
import pytest

HOUR = 3600 * 1000


def _error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


def _stored(logs, group):
    return len(logs.get_log_events(logGroupName=group, logStreamName="stream-1", startFromHead=True)["events"])


@pytest.fixture()
def group(unique, log_group):
    name = unique("/limits")
    return name, log_group(name)


def _put(logs, name, events):
    return logs.put_log_events(logGroupName=name, logStreamName="stream-1", logEvents=events)


def test_at_most_10000_events(group):
    name, logs = group
    now = int(time.time() * 1000)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        _put(logs, name, [{"timestamp": now, "message": "x"}] * 10001)
    assert _error(excinfo)[0] == "InvalidParameterException" and "less than or equal to 10000" in _error(excinfo)[1]
    assert _stored(logs, name) == 0
    _put(logs, name, [{"timestamp": now, "message": "x"}] * 10000)
    assert _stored(logs, name) == 10000


def test_at_most_1048576_bytes_with_26_per_event(group):
    name, logs = group
    now = int(time.time() * 1000)
    exact = [{"timestamp": now, "message": "é" * ((262144 - 26) // 2)} for dummy in range(4)]   # 2 bytes per character
    assert sum(len(e["message"].encode("utf-8")) + 26 for e in exact) == 1048576
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        _put(logs, name, exact + [{"timestamp": now, "message": "y"}])
    assert _error(excinfo) == ("InvalidParameterException", "Upload too large: 1048603 bytes exceeds limit of 1048576")
    assert _stored(logs, name) == 0
    _put(logs, name, exact)
    assert _stored(logs, name) == 4


def test_the_valid_events_span_at_most_24_hours(group):
    name, logs = group
    now = int(time.time() * 1000)
    with pytest.raises(botocore.exceptions.ClientError) as excinfo:
        _put(logs, name, [{"timestamp": now - 25 * HOUR, "message": "a"}, {"timestamp": now, "message": "b"}])
    assert _error(excinfo) == ("InvalidParameterException",
                               "The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")
    assert _stored(logs, name) == 0
    _put(logs, name, [{"timestamp": now - 23 * HOUR, "message": "a"}, {"timestamp": now, "message": "b"}])
    # an event older than 14 days is rejected, not counted in the span
    answer = _put(logs, name, [{"timestamp": now - 15 * 24 * HOUR, "message": "old"}, {"timestamp": now, "message": "c"}])
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0}
    assert _stored(logs, name) == 3


# --- events older than the log group's retention (API_PutLogEvents: "Events older than 14 days or preceding the log
# group's retention period are rejected while processing remaining valid events") --------------------------------

DAY = 24 * HOUR
ROLE = "arn:aws:iam::123456789012:role/CWLtoKinesisRole"


def test_events_older_than_the_retention_are_rejected_as_expired_and_not_stored(group):
    name, logs = group
    logs.put_retention_policy(logGroupName=name, retentionInDays=3)
    now = int(time.time() * 1000)
    events = [{"timestamp": now - 15 * DAY, "message": "too old"},
              {"timestamp": now - 5 * DAY, "message": "expired 1"},
              {"timestamp": now - 4 * DAY, "message": "expired 2"},
              {"timestamp": now - 2 * DAY, "message": "kept"},
              {"timestamp": now + 3 * HOUR, "message": "too new"}]
    answer = _put(logs, name, events)
    assert answer["rejectedLogEventsInfo"] == {"tooOldLogEventEndIndex": 0, "expiredLogEventEndIndex": 2,
                                               "tooNewLogEventStartIndex": 4}
    stored = logs.get_log_events(logGroupName=name, logStreamName="stream-1", startFromHead=True)["events"]
    assert [e["message"] for e in stored] == ["kept"]


def test_without_a_shorter_retention_the_14_days_apply(group):
    name, logs = group
    now = int(time.time() * 1000)
    answer = _put(logs, name, [{"timestamp": now - 5 * DAY, "message": "five days"}])
    assert "rejectedLogEventsInfo" not in answer
    logs.put_retention_policy(logGroupName=name, retentionInDays=30)
    answer = _put(logs, name, [{"timestamp": now - 13 * DAY, "message": "thirteen days"}])
    assert "rejectedLogEventsInfo" not in answer
    assert _stored(logs, name) == 2


def test_expired_events_do_not_count_for_the_24_hour_span(group):
    name, logs = group
    logs.put_retention_policy(logGroupName=name, retentionInDays=1)
    now = int(time.time() * 1000)
    answer = _put(logs, name, [{"timestamp": now - 2 * DAY, "message": "expired"}, {"timestamp": now, "message": "kept"}])
    assert answer["rejectedLogEventsInfo"] == {"expiredLogEventEndIndex": 0}
    assert _stored(logs, name) == 1


def test_expired_events_are_not_delivered_to_a_subscription(local_aws, unique, kinesis_stream, group, read_stream):
    name, logs = group
    stream = unique("expired")
    logs.put_subscription_filter(logGroupName=name, filterName="f", filterPattern="", destinationArn=kinesis_stream(stream),
                                 roleArn=ROLE)
    logs.put_retention_policy(logGroupName=name, retentionInDays=1)
    now = int(time.time() * 1000)
    _put(logs, name, [{"timestamp": now - 2 * DAY, "message": "expired"}, {"timestamp": now, "message": "kept"}])
    local_aws.flush()
    delivered = [e["message"] for r in read_stream(stream) if r["payload"]["messageType"] == "DATA_MESSAGE"
                 for e in r["payload"]["logEvents"]]
    assert delivered == ["kept"]
