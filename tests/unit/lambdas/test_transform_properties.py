# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transform Lambda property tests (hypothesis).

Batch shapes and sizes are drawn near every limit (500 records and 4 MiB per
PutRecordBatch call, 1,000 KiB per Firehose record, archive packing) with injected
per-entry failures, whole-call failures and a finite attempt budget. Whatever happens,
every input event is accounted for exactly once: it is delivered once to search and
once to the archive, or its Kinesis record is inside the reported failure range
(at or after the lowest failed sequence number), which Lambda will retry.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import zlib

from botocore.exceptions import ClientError
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from transform_fixtures import (FakeClock, FakeContext, FakeFirehose, FakeS3, control_payload, kinesis_record, lean_over,
                                load_transform, log_event, sequence, subscription_payload)

LIMIT = 1000 * 1024
transform = load_transform()

# Message sizes in bytes of the final document that sit on either side of the limits.
SIZES = st.one_of(
    st.integers(0, 300),
    st.sampled_from([LIMIT - 400, LIMIT - 290, LIMIT - 280, LIMIT - 1, LIMIT, LIMIT + 1, 2 * LIMIT]),
    st.integers(LIMIT // 5 - 50, LIMIT // 5 + 50),  # five of these are close to one archive record
    st.integers(8000, 8400),  # mid-sized: with the near-limit sizes they fill calls towards 4 MiB
)
MESSAGE_KIND = st.sampled_from(["ascii", "utf8", "json"])


def _message(kind, size, salt):
    if kind == "json":
        return '{"k": "%s", "n": %d}' % ("j" * max(0, size - 20), salt)
    if kind == "utf8":
        return ("é🚀" * (size // 6 + 1))[: max(0, size // 3)]
    return "m%d-" % salt + "x" * size


RECORD = st.one_of(
    st.tuples(st.just("data"), st.lists(st.tuples(MESSAGE_KIND, SIZES), min_size=0, max_size=6)),
    st.tuples(st.just("many"), st.integers(1, 260)),
    st.tuples(st.just("control"), st.none()),
    st.tuples(st.just("malformed"), st.sampled_from(["not base64", "bm90IGd6aXA="])),
    st.tuples(st.just("excluded"), st.integers(1, 3)),
)


class FlakyFirehose(FakeFirehose):
    """TEST DOUBLE: FakeFirehose that also fails whole calls, deterministically from ``salt``."""

    def __init__(self, fail, call_failure_rate, salt):
        super().__init__(fail)
        self.call_failure_rate = call_failure_rate
        self.salt = salt
        self.call_counter = 0

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803
        with self.lock:
            self.call_counter += 1
            number = self.call_counter
        if zlib.crc32(b"%d-%d" % (self.salt, number)) % 100 < self.call_failure_rate:
            raise ClientError({"Error": {"Code": "ServiceUnavailableException", "Message": "injected"},
                               "ResponseMetadata": {"HTTPStatusCode": 500}}, "PutRecordBatch")
        return super().put_record_batch(DeliveryStreamName, Records)


def _build(shapes):
    records, expected = [], []
    for index, (kind, spec) in enumerate(shapes):
        ids = []
        if kind == "data":
            events = []
            # CloudWatch Logs sends at most 1,048,576 bytes of messages (+ 26 bytes per event)
            # in one payload (PutLogEvents quota): larger specs are cut to what it can send.
            budget = 1048576
            for position, (message_kind, size) in enumerate(spec):
                message = _message(message_kind, size, position)
                cost = len(message.encode("utf-8")) + 26
                if cost > budget:
                    continue
                budget -= cost
                ids.append("r%de%d" % (index, position))
                events.append(log_event(ids[-1], message, 1764227295000 + position))
            records.append(kinesis_record(index, subscription_payload(events, log_group="/app/%d" % (index % 3))))
        elif kind == "many":
            events = [log_event("r%de%d" % (index, p), "event %d of a busy stream" % p) for p in range(spec)]
            ids = [e["id"] for e in events]
            records.append(kinesis_record(index, subscription_payload(events)))
        elif kind == "control":
            records.append(kinesis_record(index, control_payload()))
        elif kind == "malformed":
            records.append(kinesis_record(index, data=spec))
        else:
            events = [log_event("r%dx%d" % (index, p), "self") for p in range(spec)]
            records.append(kinesis_record(index, subscription_payload(events, log_group="/logvault/transform",
                                                                      owner="123456789012")))  # the central account
        expected.append((kind, ids))
    return records, expected


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(
    shapes=st.lists(RECORD, min_size=0, max_size=12),
    entry_failure_rate=st.sampled_from([0, 0, 5, 30, 100]),
    permanent_failure_rate=st.sampled_from([0, 0, 2, 20]),
    call_failure_rate=st.sampled_from([0, 10, 50]),
    max_attempts=st.integers(1, 4),
    workers=st.integers(1, 4),
    salt=st.integers(0, 2 ** 16),
    lean=st.booleans(),
)
def test_every_event_is_delivered_once_or_inside_the_failure_range(
        shapes, entry_failure_rate, permanent_failure_rate, call_failure_rate, max_attempts, workers, salt, lean):
    def fail(_stream, data, attempt, _call):
        key = zlib.crc32(data[:200] + data[-200:] + b"%d" % salt)
        if key % 100 < permanent_failure_rate:
            return "InternalFailure"
        if zlib.crc32(b"%d-%d" % (key, attempt)) % 100 < entry_failure_rate:
            return "ServiceUnavailableException"
        return None

    records, expected = _build(shapes)
    firehose, s3, clock, lines = FlakyFirehose(fail, call_failure_rate, salt), FakeS3(), FakeClock(), []
    config = transform.Config("search", "archive", "dlq", excluded_log_groups=["/logvault/*"], max_workers=workers,
                              max_attempts=max_attempts)
    # lean: through a real LeanFirehose (base64 text shared by search and archive) over the decoding wire
    client = lean_over(transform, firehose) if lean else firehose
    transformer = transform.Transformer(config, client, s3, sleep=clock.sleep, clock=clock, rand=lambda: 0.5,
                                        log=lines.append)
    try:
        answer = transformer.handle({"Records": records}, FakeContext(clock, remaining_ms=120000))
    finally:
        transformer.close()

    failures = answer["batchItemFailures"]
    assert len(failures) <= 1
    boundary = len(records)
    if failures:
        boundary = [sequence(i) for i in range(len(records))].index(failures[0]["itemIdentifier"])
    search = [doc["event_id"] for doc in firehose.documents("search")]
    archive = [doc["event_id"] for doc in firehose.documents("archive")]
    assert len(search) == len(set(search)), "a document was delivered twice to search"
    assert len(archive) == len(set(archive)), "a document was delivered twice to the archive"
    search, archive = set(search), set(archive)
    for index, (kind, ids) in enumerate(expected):
        if kind == "excluded":
            assert not any(i.startswith("r%dx" % index) for i in search | archive)
        if index >= boundary:
            continue  # inside the failure range: Lambda retries from the boundary
        for event_id in ids:
            assert event_id in search, (index, event_id, "missing from search")
            assert event_id in archive, (index, event_id, "missing from the archive")
        if kind == "malformed":
            assert any(key.endswith("/" + sequence(index)) for key in s3.objects)
    if entry_failure_rate == 0 and permanent_failure_rate == 0 and call_failure_rate == 0:
        assert failures == []
    metrics = json.loads(lines[0])
    assert metrics["Records"] == len(records)
    assert metrics["Events"] == sum(len(ids) for kind, ids in expected) + sum(
        spec for kind, spec in shapes if kind == "excluded")
    assert metrics["Documents"] == sum(len(ids) for _kind, ids in expected)
    assert metrics["MalformedRecords"] == sum(1 for kind, _ids in expected if kind == "malformed")
    assert metrics["ControlMessages"] == sum(1 for kind, _ids in expected if kind == "control")
    assert (metrics["Failures"] > 0) == bool(failures)
    if not failures:
        truncated = sum(1 for doc in firehose.documents("search") if doc.get("truncated"))
        assert metrics["Truncations"] == truncated


@settings(max_examples=200, deadline=None)
@given(message=st.text(), tail_field=st.text(max_size=40), limit=st.integers(300, 3000))
def test_truncated_documents_fit_and_stay_valid_json(message, tail_field, limit):
    head = '{"@timestamp":"2025-11-27T07:08:15.123Z","event_id":"1","message":'
    tail = ',"log_group":%s' % json.dumps(tail_field, ensure_ascii=False)
    doc = transform.truncate_document(head, message, tail, 123456, limit)
    assert len(doc) <= limit
    parsed = json.loads(doc)
    assert parsed["truncated"] is True and parsed["original_size"] == 123456
    assert message.startswith(parsed["message"])
    assert parsed["log_group"] == tail_field
