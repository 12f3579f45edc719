# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kinesis PutRecord / PutRecords size limits.

What moto 5.2.5 does: PutRecord accepts a record of any size; PutRecords refuses a record
whose data plus partition key is over 1 MiB and a request over 5 MB (AWS's former limit),
and checks the total before the records. This module replaces its PutRecords.

What AWS documents (Kinesis API Reference, PutRecord, PutRecords and
PutRecordsRequestEntry; Kinesis Developer Guide, "Quotas and limits"):

* a record is its data blob **before base64 encoding plus its partition key**; "the
  total size must not exceed the maximum record size", which is the stream's
  ``MaxRecordSizeInKiB`` (default 1,024 KiB = 1 MiB; UpdateMaxRecordSize raises it up
  to 10 MiB, which moto does not implement, so here it is always 1 MiB);
* PutRecords takes at most 500 records and at most 10 MiB for the entire request,
  including partition keys.

Answers (AWS's wording as its clients report it):

* a record over the limit: ``ValidationException`` ``1 validation error detected: Value
  'java.nio.HeapByteBuffer[pos=0 lim=N cap=N]' at 'data' failed to satisfy constraint:
  Member must have length less than or equal to 1048576`` (PutRecords: ``at
  'records.<n>.member.data'``, n from 1, one entry per record, "N validation errors");
* more than 500 records: moto's ``ValidationException`` (kept);
* a PutRecords request over 10 MiB: ``InvalidArgumentException`` ``Records size exceeds
  10 MB limit`` (AWS's wording for its former 5 MB limit, with the documented limit).

The limits apply in the backend, so every writer the emulator implements (the API, and
CloudWatch Logs delivering a subscription) is held to them.
"""

import base64

from local_aws import faults

MAX_RECORD_BYTES = 1024 * 1024          # the stream's MaxRecordSizeInKiB default (1 MiB)
MAX_REQUEST_BYTES = 10 * 1024 * 1024    # PutRecords: 10 MiB including partition keys


def _size(data, partition_key):
    raw = base64.b64decode(data) if isinstance(data, str) else (data or b"")
    return len(raw) + len((partition_key or "").encode("utf-8"))


def _validation(errors):
    from moto.core.exceptions import JsonRESTError  # pylint: disable=import-outside-toplevel
    return JsonRESTError("ValidationException", "%d validation error%s detected: %s"
                         % (len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))


def _record_error(size, where):
    return ("Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at '%s' failed to satisfy constraint: "
            "Member must have length less than or equal to %d" % (size, size, where, MAX_RECORD_BYTES))


def check_record(data, partition_key):
    """PutRecord: refuse a record over the maximum record size."""
    size = _size(data, partition_key)
    if size > MAX_RECORD_BYTES:
        raise _validation([_record_error(size, "data")])


def check_records(records):
    """PutRecords: per-record sizes first (model validation), then the request total."""
    from moto.kinesis.exceptions import TooManyRecords  # pylint: disable=import-outside-toplevel
    from moto.core.exceptions import JsonRESTError  # pylint: disable=import-outside-toplevel

    if len(records) > 500:
        raise TooManyRecords()
    sizes = [_size(r.get("Data", ""), r.get("PartitionKey")) for r in records]
    errors = [_record_error(size, "records.%d.member.data" % (i + 1)) for i, size in enumerate(sizes) if size > MAX_RECORD_BYTES]
    if errors:
        raise _validation(errors)
    if sum(sizes) > MAX_REQUEST_BYTES:
        raise JsonRESTError("InvalidArgumentException", "Records size exceeds 10 MB limit")


def install():
    from moto.kinesis.models import KinesisBackend  # pylint: disable=import-outside-toplevel

    if getattr(KinesisBackend, "_logvault_limits", False):
        return
    KinesisBackend._logvault_limits = True  # pylint: disable=protected-access
    original_put_record = KinesisBackend.put_record

    def put_record(self, stream_arn, stream_name, partition_key, explicit_hash_key, data):
        check_record(data, partition_key)
        return original_put_record(self, stream_arn, stream_name, partition_key, explicit_hash_key, data)

    def put_records(self, stream_arn, stream_name, records):
        # moto's own put_records, without its 5 MB total (checked before the records), with the
        # per-record faults of LOGVAULT_AWS_FAULTS (``kinesis:PutRecords:<code>:<rate>:record``).
        check_records(records)
        stream = self.describe_stream(stream_arn=stream_arn, stream_name=stream_name)
        response = {"FailedRecordCount": 0, "Records": []}
        for record in records:
            injected = faults.record_fault("kinesis", "PutRecords")  # LOGVAULT_AWS_FAULTS ...:record
            if injected is not None:
                response["FailedRecordCount"] += 1
                response["Records"].append({"ErrorCode": injected[0], "ErrorMessage": injected[1]})
                continue
            sequence_number, shard_id = stream.put_record(record.get("PartitionKey"), record.get("ExplicitHashKey"),
                                                          record.get("Data"))
            response["Records"].append({"SequenceNumber": sequence_number, "ShardId": shard_id})
        self._send_stream_metrics(stream.stream_name,  # pylint: disable=protected-access
                                  incoming_bytes=sum(_size(r.get("Data", ""), r.get("PartitionKey")) for r in records),
                                  incoming_records=len(records))
        return response

    KinesisBackend.put_record = put_record
    KinesisBackend.put_records = put_records
