# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transform Lambda under faults (issue 16): retries bounded by the deadline only, no call
started that cannot finish, finish() bounded, poison records, oversized events kept whole,
public credentials and the boto3 fallback, dead letters with a checksum (Object Lock)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json
import threading
import types

import pytest
from botocore.exceptions import ReadTimeoutError

from transform_fixtures import (FakeContext, FakeFirehose, FakeS3, kinesis_record, log_event, sequence,
                                subscription_payload)


def _records(count):
    return [kinesis_record(i, subscription_payload([log_event("e%d" % i, "m%d" % i)])) for i in range(count)]


def test_throttling_is_retried_until_the_deadline_not_for_8_attempts(make_transformer, clock):
    # Every entry is throttled 20 times, then accepted: far more than 8 attempts, well within 60 s.
    firehose = FakeFirehose(fail=lambda _stream, _data, attempt, _call: "ThrottlingException" if attempt <= 20 else None)
    transformer, lines = make_transformer(firehose)
    answer = transformer.handle({"Records": _records(3)}, FakeContext(clock, remaining_ms=120000))
    assert answer == {"batchItemFailures": []}
    assert sorted(d["event_id"] for d in firehose.documents("search")) == ["e0", "e1", "e2"]
    assert json.loads(lines[0])["Failures"] == 0


class TimedFirehose(FakeFirehose):
    """TEST DOUBLE: a Firehose that never answers. Each call takes its whole read timeout on
    the fake clock (the timeout given, or the transport's 8 s when none is given) and then
    raises ReadTimeoutError, as botocore does."""

    def __init__(self, clock, default_timeout=8.0):
        super().__init__()
        self.clock = clock
        self.default_timeout = default_timeout
        self.timeouts = []

    def _hang(self, timeout):
        self.timeouts.append(timeout)
        self.clock.sleep(timeout)
        raise ReadTimeoutError(endpoint_url="https://firehose.test")

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803
        self._hang(self.default_timeout)

    def put_record_batch_within(self, DeliveryStreamName, Records, timeout):  # noqa: N803
        self._hang(timeout)


def test_no_call_outlives_the_invocation(make_transformer, clock):
    """3 s left: the handler must return within them (returning after 8 s is a Lambda
    timeout: the whole batch runs again and a retry is used up)."""
    firehose = TimedFirehose(clock)
    transformer, lines = make_transformer(firehose, max_workers=1)
    started = clock()
    answer = transformer.handle({"Records": _records(2)}, FakeContext(clock, remaining_ms=3000))
    assert clock() - started <= 3.0
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}
    assert firehose.timeouts and all(timeout <= 1.0 for timeout in firehose.timeouts)
    assert json.loads(lines[0])["errors"].get("DeadlineReached")


def test_each_call_timeout_is_capped_at_the_time_left(make_transformer, clock):
    firehose = TimedFirehose(clock)
    transformer, _lines = make_transformer(firehose, max_workers=1, call_timeout_ms=30000)
    started = clock()
    transformer.handle({"Records": _records(1)}, FakeContext(clock, remaining_ms=12000))
    # 12 s - 2 s reserve = 10 s: the first call may take them all, and nothing runs past them
    assert firehose.timeouts[0] == pytest.approx(10.0)
    assert clock() - started <= 10.0 + 1e-6


def test_no_call_starts_with_less_than_min_call_left(make_transformer, clock):
    firehose = TimedFirehose(clock)
    transformer, _lines = make_transformer(firehose, max_workers=1, min_call_ms=500)
    answer = transformer.handle({"Records": _records(1)}, FakeContext(clock, remaining_ms=2400))
    assert firehose.timeouts == [] and firehose.calls == []
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}


class HangingFirehose(FakeFirehose):
    """TEST DOUBLE: a client that ignores timeouts and blocks until released (a stuck socket)."""

    def __init__(self):
        super().__init__()
        self.release = threading.Event()

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803
        self.release.wait(30)
        return super().put_record_batch(DeliveryStreamName, Records)


def test_finish_does_not_wait_past_the_deadline(make_transformer, clock):
    firehose = HangingFirehose()
    transformer, lines = make_transformer(firehose, max_workers=2, time_reserve_ms=100, min_call_ms=1)
    answers = []
    worker = threading.Thread(target=lambda: answers.append(
        transformer.handle({"Records": _records(2)}, FakeContext(clock, remaining_ms=300))))
    worker.start()
    worker.join(10)
    finished = not worker.is_alive()
    firehose.release.set()
    worker.join()
    assert finished, "handle() waited for a stuck call past the deadline"
    assert answers == [{"batchItemFailures": [{"itemIdentifier": sequence(0)}]}]
    metrics = json.loads(lines[0])
    assert metrics["errors"]["DeadlineExceeded"] == 2 and metrics["Failures"] == 3  # 2 search + 1 archive entries


def _nested(depth):
    return "[" * depth + "]" * depth


# mtime=0: the values are part of the test ids, which both pytest-xdist workers must collect alike.
@pytest.mark.parametrize("raw, reason", [
    (gzip.compress(_nested(200000).encode(), mtime=0), "too-deep"),
    (gzip.compress(('{"messageType":"DATA_MESSAGE","logGroup":"/g","owner":"1","logStream":"s","logEvents":[],'
                    '"subscriptionFilters":%s}' % _nested(200000)).encode(), mtime=0), "too-deep"),
    (gzip.compress(b"0" * (8 * 1024 * 1024), mtime=0), "too-large"),  # a gzip bomb: 8 MiB from about 8 KiB
    (gzip.compress(b" " * (4 * 1024 * 1024), mtime=0) + gzip.compress(b" " * (4 * 1024 * 1024), mtime=0), "too-large"),
])
def test_poison_records_go_to_the_dead_letter_bucket(make_transformer, transform, raw, reason):
    records = [kinesis_record(0, subscription_payload([log_event(1, "before")])),
               kinesis_record(1, data=base64.b64encode(raw).decode()),
               kinesis_record(2, subscription_payload([log_event(2, "after")]))]
    firehose, s3 = FakeFirehose(), FakeS3()
    transformer, lines = make_transformer(firehose, s3)
    answer = transformer.handle({"Records": records}, FakeContext())
    assert answer == {"batchItemFailures": []}
    assert [d["message"] for d in firehose.documents("search")] == ["before", "after"]
    [stored] = list(s3.objects.values())
    assert stored["Metadata"]["reason"] == reason and stored["Body"] == raw
    assert json.loads(lines[0])["MalformedRecords"] == 1
    assert transform.MAX_PAYLOAD_BYTES < 8 * 1024 * 1024


def test_gunzip_bounded_accepts_the_largest_cloudwatch_payload(transform):
    text = b"x" * transform.MAX_PAYLOAD_BYTES
    assert transform.gunzip_bounded(gzip.compress(text)) == text
    with pytest.raises(transform.MalformedRecord, match="more than"):
        transform.gunzip_bounded(gzip.compress(text + b"x"))


def test_oversized_events_are_kept_whole_beside_the_archive(make_transformer):
    """A 256 KiB event of control characters grows 6 times once escaped: the whole
    document goes to S3, and both outputs carry a cut copy that points to it."""
    message = "\u0001" * (256 * 1024)
    firehose, s3 = FakeFirehose(), FakeS3()
    transformer, lines = make_transformer(firehose, s3)
    answer = transformer.handle({"Records": [kinesis_record(0, subscription_payload([log_event(7, message)]))]},
                                FakeContext())
    assert answer == {"batchItemFailures": []}
    [search] = firehose.documents("search")
    [archive] = firehose.documents("archive")
    assert search == archive
    assert search["truncated"] is True and len(search["message"]) < len(message)
    uri = search["full_document"]
    assert uri.startswith("s3://dlq-bucket/oversized/logvault-hub/shardId-000000000004/%s/" % sequence(0))
    stored = s3.objects[uri.split("/", 3)[3]]
    whole = json.loads(stored["Body"])
    assert whole["message"] == message and whole["event_id"] == "7"
    assert search["original_size"] == len(stored["Body"])
    assert stored["Metadata"]["reason"] == "oversized-event" and stored["ContentType"] == "application/json"
    assert stored["ChecksumAlgorithm"] == "SHA256"
    assert json.loads(lines[0])["OversizedEvents"] == 1


def test_a_failed_oversized_write_fails_its_record(make_transformer):
    def deny(params):
        raise_denied = params["Key"].startswith("oversized/")
        if raise_denied:
            from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel
            raise ClientError({"Error": {"Code": "AccessDenied", "Message": "test double"}}, "PutObject")

    records = [kinesis_record(0, subscription_payload([log_event(1, "small")])),
               kinesis_record(1, subscription_payload([log_event(2, "\u0001" * (256 * 1024))]))]
    transformer, _lines = make_transformer(FakeFirehose(), FakeS3(fail=deny))
    answer = transformer.handle({"Records": records}, FakeContext())
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(1)}]}


def test_dead_letters_carry_a_checksum_for_object_lock_buckets(make_transformer):
    s3 = FakeS3()
    transformer, _lines = make_transformer(FakeFirehose(), s3)
    transformer.handle({"Records": [kinesis_record(0, data="@@@")]}, FakeContext())
    [stored] = list(s3.objects.values())
    assert stored["ChecksumAlgorithm"] == "SHA256"


def test_lean_client_needs_no_private_botocore_attribute(transform, monkeypatch):
    """Only public API: the client's meta (endpoint, region) and boto3.Session().get_credentials()."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "AKIDPUBLIC")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "secret")
    client = types.SimpleNamespace(meta=types.SimpleNamespace(endpoint_url="https://firehose.eu-west-3.amazonaws.com",
                                                              region_name="eu-west-3"))
    lean = transform.LeanFirehose(client)
    assert lean._credentials.get_frozen_credentials().access_key == "AKIDPUBLIC"  # pylint: disable=protected-access


def test_the_boto3_client_is_used_when_the_lean_client_cannot_start(transform, monkeypatch):
    for name, value in {"LOGVAULT_SEARCH_STREAM": "s", "LOGVAULT_ARCHIVE_STREAM": "a", "LOGVAULT_DLQ_BUCKET": "b",
                        "AWS_DEFAULT_REGION": "eu-west-3", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "s"}.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOGVAULT_FIREHOSE_CLIENT", raising=False)

    def broken(*_args, **_kwargs):
        raise AttributeError("'RequestSigner' object has no attribute '_credentials'")

    monkeypatch.setattr(transform.LeanFirehose, "__init__", broken)
    transformer = transform.Transformer.from_environment()
    try:
        assert not isinstance(transformer.firehose, transform.LeanFirehose)
        assert transformer.firehose.meta.service_model.service_name == "firehose"
    finally:
        transformer.close()
