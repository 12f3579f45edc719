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
