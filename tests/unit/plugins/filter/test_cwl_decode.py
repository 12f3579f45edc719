# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cwl_decode filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json
import time

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.filter.cwl_decode import FilterModule
from ansible_collections.logvault.aws.plugins.filter.destination_policy import destination_policy

PAYLOAD = {
    "messageType": "DATA_MESSAGE",
    "owner": "111111111111",
    "logGroup": "/app/orders",
    "logStream": "i-0abc",
    "subscriptionFilters": ["logvault"],
    "logEvents": [
        {"id": "37851010432658312359183478961418153223474153522790547456", "timestamp": 1764230400000, "message": "user login failed"},
        {"id": "37851010432658312359183478961418153223474153522790547457", "timestamp": 1764230400001, "message": "{\"level\": \"ERROR\", \"é\": 1}"},
    ],
}
CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
           "subscriptionFilters": [], "logEvents": [{"id": "", "timestamp": 1, "message": "CWL CONTROL MESSAGE: Checking health of destination"}]}


@pytest.fixture
def cwl_decode():
    return FilterModule().filters()["cwl_decode"]


def _gzip(obj):
    return gzip.compress(json.dumps(obj).encode("utf-8"))


def test_base64_string(cwl_decode):
    assert cwl_decode(base64.b64encode(_gzip(PAYLOAD)).decode("ascii")) == PAYLOAD


def test_raw_gzip_bytes(cwl_decode):
    assert cwl_decode(_gzip(PAYLOAD)) == PAYLOAD
    assert cwl_decode(bytearray(_gzip(CONTROL))) == CONTROL


def test_base64_bytes_without_padding_and_with_line_breaks(cwl_decode):
    text = base64.b64encode(_gzip(CONTROL)).rstrip(b"=")
    wrapped = b"\n".join(text[i:i + 60] for i in range(0, len(text), 60))
    assert cwl_decode(wrapped) == CONTROL
    assert cwl_decode(wrapped.decode("ascii")) == CONTROL


def test_event_ids_stay_strings(cwl_decode):
    events = cwl_decode(base64.b64encode(_gzip(PAYLOAD)).decode())["logEvents"]
    assert all(isinstance(event["id"], str) for event in events)


# mtime=0: the values are part of the test ids, which both pytest-xdist workers must collect alike
# (a gzip header holds the time of compression, so two workers a second apart collected different ids).
@pytest.mark.parametrize("data,words", [
    ("", ["empty"]),
    ("@@@ not base64 @@@", ["base64"]),
    (base64.b64encode(b"plain text, not gzip").decode(), ["not gzip"]),
    (base64.b64encode(gzip.compress(b"not json", mtime=0)).decode(), ["not JSON"]),
    (base64.b64encode(gzip.compress(b"[1, 2]", mtime=0)).decode(), ["not an object"]),
    (gzip.compress(b'{"messageType": "DATA_MESSAGE"}', mtime=0)[:-12], ["corrupt or truncated"]),
    (12345, ["expected a base64 string or gzip bytes", "int"]),
    (None, ["NoneType"]),
])
def test_bad_input_names_the_filter_and_the_step(cwl_decode, data, words):
    with pytest.raises(AnsibleFilterError) as info:
        cwl_decode(data)
    message = str(info.value)
    assert message.startswith("cwl_decode: ")
    for word in words:
        assert word in message


def test_decodes_real_cross_account_records_from_the_local_emulator(cwl_decode, monkeypatch):
    """End to end: a member account's events reach the central stream through a destination;
    every record read back from Kinesis decodes (raw bytes and base64 text alike)."""
    try:
        from local_aws.server import start
    except ImportError as exc:  # the emulator is a package at the repository root
        pytest.fail("the local AWS emulator (local_aws/) cannot be imported: %s" % exc)
    central, member, region = "123456789012", "111111111111", "us-east-1"
    # The destination's role is a name only (a test double): no trust, propagation or
    # service-role check.
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "0")
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "0")
    monkeypatch.setenv("LOGVAULT_AWS_SERVICE_ROLE_POLICIES", "0")
    with start(port=0) as emu:
        kinesis = emu.client("kinesis", account_id=central)
        kinesis.create_stream(StreamName="hub", ShardCount=1)
        logs = emu.client("logs", account_id=central)
        arn = logs.put_destination(destinationName="lv", targetArn="arn:aws:kinesis:%s:%s:stream/hub" % (region, central),
                                   roleArn="arn:aws:iam::%s:role/cwl" % central)["destination"]["arn"]
        logs.put_destination_policy(destinationName="lv", accessPolicy=json.dumps(destination_policy(arn, [member])))
        member_logs = emu.client("logs", account_id=member)
        member_logs.create_log_group(logGroupName="/app/orders")
        member_logs.create_log_stream(logGroupName="/app/orders", logStreamName="i-0abc")
        member_logs.put_subscription_filter(logGroupName="/app/orders", filterName="logvault", filterPattern="", destinationArn=arn)
        now = int(time.time() * 1000)
        member_logs.put_log_events(logGroupName="/app/orders", logStreamName="i-0abc",
                                   logEvents=[{"timestamp": now, "message": "login failed"}, {"timestamp": now + 1, "message": "é ok"}])
        emu.flush()
        shard = kinesis.describe_stream(StreamName="hub")["StreamDescription"]["Shards"][0]["ShardId"]
        iterator = kinesis.get_shard_iterator(StreamName="hub", ShardId=shard, ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
        records = kinesis.get_records(ShardIterator=iterator)["Records"]
    payloads = [cwl_decode(record["Data"]) for record in records]
    assert payloads == [cwl_decode(base64.b64encode(record["Data"]).decode("ascii")) for record in records]
    data = [p for p in payloads if p["messageType"] == "DATA_MESSAGE"]
    assert len(data) == 1
    assert data[0]["owner"] == member
    assert data[0]["logGroup"] == "/app/orders" and data[0]["logStream"] == "i-0abc"
    assert data[0]["subscriptionFilters"] == ["logvault"]
    assert [e["message"] for e in data[0]["logEvents"]] == ["login failed", "é ok"]
    assert all(isinstance(e["id"], str) for e in data[0]["logEvents"])
