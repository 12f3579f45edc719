# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cwl_decode filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.filter.cwl_decode import FilterModule

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


@pytest.mark.parametrize("data,words", [
    ("", ["empty"]),
    ("@@@ not base64 @@@", ["base64"]),
    (base64.b64encode(b"plain text, not gzip").decode(), ["not gzip"]),
    (base64.b64encode(gzip.compress(b"not json")).decode(), ["not JSON"]),
    (base64.b64encode(gzip.compress(b"[1, 2]")).decode(), ["not an object"]),
    (gzip.compress(b'{"messageType": "DATA_MESSAGE"}')[:-12], ["corrupt or truncated"]),
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
