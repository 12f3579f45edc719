# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection (issue 16), the transform half (the alerts half is in
test_alerts_faults.py): both Lambdas against TEST DOUBLES under random throttling,
timeouts, S3 and DynamoDB errors and poison records, driven the way an event source
mapping drives them (retry from the reported sequence number, then hand the rest to the
on-failure destination). Every event must be accounted for, and no threshold alert may be
lost or fired early."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json
import random

import pytest
from botocore.exceptions import ClientError, ReadTimeoutError

from transform_fixtures import (FakeClock, FakeContext, FakeFirehose, FakeS3, kinesis_record, log_event, sequence,
                                subscription_payload)

SEEDS = [1, 2, 3, 4]
POISON = [gzip.compress(("[" * 100000 + "]" * 100000).encode()), b"not gzip", gzip.compress(b" " * (8 * 1024 * 1024))]


def drive(handle, records, max_retries):
    """The event source mapping: invoke, retry from the reported record, bisect nothing;
    after ``max_retries`` retries the rest of the batch goes to the on-failure destination."""
    on_failure = []
    position = 0
    retries = 0
    while position < len(records):
        batch = records[position:]
        answer = handle({"Records": batch})
        failures = answer["batchItemFailures"]
        if not failures:
            return on_failure
        failed = [r["kinesis"]["sequenceNumber"] for r in batch].index(failures[0]["itemIdentifier"])
        position += failed
        retries += 1
        if retries > max_retries:
            on_failure.extend(records[position:])
            return on_failure
    return on_failure


class ChaosFirehose(FakeFirehose):
    """TEST DOUBLE: a Firehose that throttles entries, fails whole calls and times out at random."""

    def __init__(self, rng, rate):
        super().__init__(fail=lambda *_a: "ServiceUnavailableException" if rng.random() < rate else None)
        self.rng = rng
        self.rate = rate

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803
        roll = self.rng.random()
        if roll < self.rate / 3:
            raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "chaos"},
                               "ResponseMetadata": {"HTTPStatusCode": 400}}, "PutRecordBatch")
        if roll < self.rate / 2:
            raise ReadTimeoutError(endpoint_url="https://firehose.chaos")
        return super().put_record_batch(DeliveryStreamName, Records)


class ChaosS3(FakeS3):
    """TEST DOUBLE: S3 that slows down at random."""

    def __init__(self, rng, rate):
        def fail(_params):
            if rng.random() < rate:
                raise ClientError({"Error": {"Code": "SlowDown", "Message": "chaos"},
                                   "ResponseMetadata": {"HTTPStatusCode": 503}}, "PutObject")
        super().__init__(fail=fail)


def _transform_workload(rng):
    records, events, poison = [], {}, set()
    for index in range(40):
        roll = rng.random()
        if roll < 0.08:
            raw = rng.choice(POISON)
            records.append(kinesis_record(index, data=base64.b64encode(raw).decode()))
            poison.add(index)
            continue
        batch = []
        for position in range(rng.randint(1, 30)):
            event_id = "r%de%d" % (index, position)
            size = rng.choice([10, 200, 5000]) if rng.random() > 0.02 else 300000
            message = ("\u0001" if size == 300000 else "m") * size
            batch.append(log_event(event_id, message))
            events[event_id] = index
        records.append(kinesis_record(index, subscription_payload(batch)))
    return records, events, poison


# Every seed through the boto3-shaped client; two of them also over the wire to a LeanFirehose
# (the Lambda's default transport), which costs more (each request is decoded back).
@pytest.mark.parametrize("seed, transport", [(seed, "records") for seed in SEEDS] + [(2, "lean"), (3, "lean")],
                         indirect=["transport"])
def test_transform_accounts_for_every_event_under_faults(make_transformer, seed, transport):
    rng = random.Random(seed)
    records, events, poison = _transform_workload(rng)
    firehose, s3 = ChaosFirehose(rng, rate=0.3), ChaosS3(rng, rate=0.2)
    clock = FakeClock()
    # transport: the chaos either answers a boto3-shaped call or comes back over the wire to a LeanFirehose
    transformer, _lines = make_transformer(transport(firehose), s3, max_workers=3)
    transformer.clock, transformer.sleep = clock, clock.sleep
    # a short invocation: 4 s, 2 s reserved, so the deadline is really reached sometimes
    on_failure = drive(lambda event: transformer.handle(event, FakeContext(clock, remaining_ms=4000)), records,
                       max_retries=3)
    discarded = {[r["kinesis"]["sequenceNumber"] for r in records].index(r["kinesis"]["sequenceNumber"])
                 for r in on_failure}
    search = {d["event_id"]: d for d in firehose.documents("search")}
    archive = {d["event_id"]: d for d in firehose.documents("archive")}
    dead = {obj["Metadata"]["sequence-number"]: obj for obj in s3.objects.values()
            if obj["Metadata"]["reason"] != "oversized-event"}
    whole = {json.loads(obj["Body"])["event_id"]: json.loads(obj["Body"]) for obj in s3.objects.values()
             if obj["Metadata"]["reason"] == "oversized-event"}
    for event_id, index in events.items():
        if index in discarded:
            continue  # kept whole by the on-failure destination (the redrive feeds it back)
        assert event_id in search and event_id in archive, (seed, event_id)
        doc = archive[event_id]
        if doc.get("truncated"):
            assert whole[event_id]["message"] == "\u0001" * 300000, (seed, event_id)
        else:
            assert len(doc["message"]) in (10, 200, 5000), (seed, event_id)
    for index in poison:
        if index not in discarded:
            assert sequence(index) in dead, (seed, index)
            assert dead[sequence(index)]["Metadata"]["reason"] in ("too-deep", "too-large", "not-gzip")
