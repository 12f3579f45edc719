# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cwl_decode
short_description: Decode a CloudWatch Logs subscription record into its payload
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - CloudWatch Logs delivers subscription data to Kinesis, Firehose and Lambda as gzip-compressed
    JSON, base64-encoded in Kinesis records and in the C(awslogs.data) field of Lambda events.
  - This filter turns such a record into the payload dict, with C(messageType)
    (C(DATA_MESSAGE) or C(CONTROL_MESSAGE)), C(owner), C(logGroup), C(logStream),
    C(subscriptionFilters) and C(logEvents) (each with C(id), C(timestamp), C(message)).
  - The input is a base64 string (as found in C(records[].data) of C(GetRecords) results
    or in C(awslogs.data)) or the raw gzip bytes. Base64 without padding or with line
    breaks is accepted.
  - Input that is not base64, not gzip or not a JSON object fails with an error that names
    the filter and says which step failed.
options:
  _input:
    description: The record, as a base64 string or gzip bytes.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Read one record of the hub stream and decode it
  ansible.builtin.debug:
    msg: "{{ (record.Data | logvault.aws.cwl_decode).logEvents | map(attribute='message') | list }}"

- name: Decode the awslogs.data field of a Lambda test event
  ansible.builtin.set_fact:
    payload: "{{ lambda_event.awslogs.data | logvault.aws.cwl_decode }}"
  # payload.messageType == "DATA_MESSAGE"; payload.logGroup == "/app/orders"
"""

RETURN = r"""
_value:
  description: The subscription payload.
  type: dictionary
  sample:
    messageType: DATA_MESSAGE
    owner: "111111111111"
    logGroup: /app/orders
    logStream: i-0abc
    subscriptionFilters: [logvault]
    logEvents:
      - id: "37851010432658312359183478961418153223474153522790547456"
        timestamp: 1764230400000
        message: "user login failed"
"""

import base64
import binascii
import gzip
import json
import zlib

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_bytes

GZIP_MAGIC = b"\x1f\x8b"


def _unbase64(text):
    cleaned = b"".join(text.split())
    cleaned += b"=" * (-len(cleaned) % 4)
    try:
        return base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError) as e:
        raise AnsibleFilterError("cwl_decode: the input is neither gzip data nor valid base64: %s" % e)


def cwl_decode(data):
    """Return the payload dict of a CloudWatch Logs subscription record (base64 text or gzip bytes)."""
    if isinstance(data, bytearray):
        data = bytes(data)
    if isinstance(data, str):
        data = to_bytes(data, errors="surrogate_or_strict")
    if not isinstance(data, bytes):
        raise AnsibleFilterError("cwl_decode: expected a base64 string or gzip bytes, got %s" % type(data).__name__)
    if not data:
        raise AnsibleFilterError("cwl_decode: the input is empty")
    compressed = data if data.startswith(GZIP_MAGIC) else _unbase64(data)
    if not compressed.startswith(GZIP_MAGIC):
        raise AnsibleFilterError("cwl_decode: the decoded input is not gzip data (CloudWatch Logs subscription records are gzip-compressed)")
    try:
        text = gzip.decompress(compressed)
    except (OSError, EOFError, zlib.error) as e:
        raise AnsibleFilterError("cwl_decode: the gzip data is corrupt or truncated: %s" % e)
    try:
        payload = json.loads(text.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise AnsibleFilterError("cwl_decode: the decompressed record is not JSON: %s" % e)
    if not isinstance(payload, dict):
        raise AnsibleFilterError("cwl_decode: the decompressed record is JSON but not an object")
    return payload


class FilterModule(object):
    """The cwl_decode filter."""

    def filters(self):
        return {"cwl_decode": cwl_decode}
