# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transform Lambda fault injection with botocore's Stubber on real boto3 clients.

One pool worker keeps the order of calls deterministic, so the Stubber's queue of
expected responses matches the calls: search batches and archive batches are sent in
the order they are closed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.exceptions import ConnectTimeoutError, ReadTimeoutError
from botocore.stub import Stubber

from transform_fixtures import FakeContext, kinesis_record, log_event, sequence, subscription_payload


@pytest.fixture
def clients():
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1")
    firehose, s3 = session.client("firehose"), session.client("s3")
    sent = []
    firehose.meta.events.register("provide-client-params.firehose.PutRecordBatch",
                                  lambda params, **_kw: sent.append(params))
    with Stubber(firehose) as fh_stub, Stubber(s3) as s3_stub:
        yield firehose, s3, fh_stub, s3_stub, sent
        fh_stub.assert_no_pending_responses()
        s3_stub.assert_no_pending_responses()


def _ok(count):
    return {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": [{"RecordId": "r%d" % i} for i in range(count)]}


def _partial(codes):
    answers = [{"ErrorCode": code, "ErrorMessage": "injected"} if code else {"RecordId": "r%d" % i} for i, code in enumerate(codes)]
    return {"FailedPutCount": sum(1 for code in codes if code), "Encrypted": False, "RequestResponses": answers}


def _records(count, events_per_record=1):
    return [kinesis_record(i, subscription_payload([log_event("%d-%d" % (i, j), "m%d-%d" % (i, j))
                                                    for j in range(events_per_record)])) for i in range(count)]


def _messages(params):
    return [json.loads(line)["message"] for entry in params["Records"] for line in entry["Data"].decode().splitlines()]


def test_only_failed_entries_are_retried(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, sent = clients
    transformer, lines = make_transformer(firehose, s3, max_workers=1)
    stub.add_response("put_record_batch", _partial([None, "ServiceUnavailableException", None, "InternalFailure"]))
    stub.add_response("put_record_batch", _partial([None, "ServiceUnavailableException"]))
    stub.add_response("put_record_batch", _ok(1))
    stub.add_response("put_record_batch", _ok(1))  # archive: one packed record
    answer = transformer.handle({"Records": _records(4)}, FakeContext(clock))
    assert answer == {"batchItemFailures": []}
    assert [p["DeliveryStreamName"] for p in sent] == ["search", "search", "search", "archive"]
    assert _messages(sent[0]) == ["m0-0", "m1-0", "m2-0", "m3-0"]
    assert _messages(sent[1]) == ["m1-0", "m3-0"]
    assert _messages(sent[2]) == ["m3-0"]
    assert _messages(sent[3]) == ["m0-0", "m1-0", "m2-0", "m3-0"]
    metrics = json.loads(lines[0])
    assert metrics["Retries"] == 3 and metrics["Failures"] == 0 and metrics["PutRecordBatchCalls"] == 4
    assert metrics["errors"] == {"ServiceUnavailableException": 2, "InternalFailure": 1}
    # jittered exponential backoff: rand() is 0.5 in these tests, base 100 ms
    assert clock.sleeps == [0.05, 0.1]


def test_whole_call_throttling_is_retried(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, sent = clients
    transformer, lines = make_transformer(firehose, s3, max_workers=1)
    stub.add_client_error("put_record_batch", "ServiceUnavailableException", "Slow down.", 400)
    stub.add_client_error("put_record_batch", "ThrottlingException", "Rate exceeded", 400)
    stub.add_response("put_record_batch", _ok(3))
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(3)}, FakeContext(clock))
    assert answer == {"batchItemFailures": []}
    assert [len(p["Records"]) for p in sent] == [3, 3, 3, 1]
    assert json.loads(lines[0])["Retries"] == 6


def test_timeouts_are_retried(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, sent = clients
    raised = []

    def time_out(**_kwargs):
        if len(raised) < 2:
            raised.append(1)
            if len(raised) == 1:
                raise ReadTimeoutError(endpoint_url="https://firehose.us-east-1.amazonaws.com")
            raise ConnectTimeoutError(endpoint_url="https://firehose.us-east-1.amazonaws.com")

    firehose.meta.events.register("before-parameter-build.firehose.PutRecordBatch", time_out)
    transformer, lines = make_transformer(firehose, s3, max_workers=1)
    stub.add_response("put_record_batch", _ok(2))
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(2)}, FakeContext(clock))
    assert answer == {"batchItemFailures": []}
    assert len(sent) == 4
    assert json.loads(lines[0])["errors"] == {"ReadTimeoutError": 1, "ConnectTimeoutError": 1}


def test_total_failure_reports_the_lowest_failed_sequence_number(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, _sent = clients
    transformer, lines = make_transformer(firehose, s3, max_workers=1, max_attempts=3)
    # search: records 0..4 in one call; 2 and 4 fail every time. archive: everything fails.
    stub.add_response("put_record_batch", _partial([None, None, "ServiceUnavailableException", None, "InternalFailure"]))
    stub.add_response("put_record_batch", _partial(["ServiceUnavailableException", "ServiceUnavailableException"]))
    stub.add_response("put_record_batch", _partial(["InternalFailure", "InternalFailure"]))
    for _attempt in range(3):
        stub.add_client_error("put_record_batch", "ServiceUnavailableException", "down", 500)
    answer = transformer.handle({"Records": _records(5)}, FakeContext(clock))
    # the archive record packs records 0..4, so the lowest failed record is 0
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}
    metrics = json.loads(lines[0])
    assert metrics["Failures"] == 3 and metrics["lowest_failed_sequence_number"] == sequence(0)


def test_search_only_failure_maps_back_to_its_record(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, _sent = clients
    transformer, _lines = make_transformer(firehose, s3, max_workers=1, max_attempts=2)
    stub.add_response("put_record_batch", _partial([None, None, None, "InternalFailure", None, "InternalFailure"]))
    stub.add_response("put_record_batch", _partial([None, "InternalFailure"]))
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(3, events_per_record=2)}, FakeContext(clock))
    # failing documents: event 1 of record 1 and event 1 of record 2 -> record 2 is the lowest still failing
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(2)}]}


def test_non_retryable_errors_fail_without_retrying(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, sent = clients
    transformer, lines = make_transformer(firehose, s3, max_workers=1)
    stub.add_client_error("put_record_batch", "ResourceNotFoundException", "no such stream", 400)
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(2)}, FakeContext(clock))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}
    assert len(sent) == 2 and clock.sleeps == []
    assert json.loads(lines[0])["errors"] == {"ResourceNotFoundException": 1}


def test_retries_stop_when_the_invocation_runs_out_of_time(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, _sent = clients
    # 2.5 s left, 2 s reserved: 0.5 s for calls and backoff; a call needs 0.25 s (min_call) left.
    transformer, lines = make_transformer(firehose, s3, max_workers=1, backoff_base_ms=100, backoff_max_ms=400)
    for _attempt in range(3):
        stub.add_client_error("put_record_batch", "ServiceUnavailableException", "down", 500)
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(1)}, FakeContext(clock, remaining_ms=2500))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}
    assert clock.sleeps == [0.05, 0.1]  # a third sleep (0.2 s) would leave less than min_call
    assert json.loads(lines[0])["Failures"] == 1


def test_a_response_without_per_entry_answers_is_a_failure(make_transformer, clients, clock):
    firehose, s3, stub, _s3_stub, _sent = clients
    transformer, _lines = make_transformer(firehose, s3, max_workers=1, max_attempts=1)
    stub.add_response("put_record_batch", {"FailedPutCount": 1, "RequestResponses": [{"RecordId": "a"}, {"RecordId": "b"}]})
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": _records(1)}, FakeContext(clock))
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(0)}]}


def test_dead_letter_write_failures_are_retried_then_reported(make_transformer, clients, clock):
    firehose, s3, stub, s3_stub, _sent = clients
    transformer, lines = make_transformer(firehose, s3, max_workers=1, max_attempts=2)
    records = _records(2)
    records.insert(1, kinesis_record(5, data="not base64 at all"))
    records.append(kinesis_record(6, data="also broken"))
    expected = {"Bucket": "dlq-bucket", "Key": "malformed/logvault-hub/shardId-000000000004/%s" % sequence(5),
                "Body": b"not base64 at all", "ContentType": "application/octet-stream", "ChecksumAlgorithm": "SHA256",
                "Metadata": {"reason": "not-base64", "shard-id": "shardId-000000000004", "sequence-number": sequence(5),
                             "event-source-arn": "arn:aws:kinesis:eu-west-3:123456789012:stream/logvault-hub"}}
    s3_stub.add_client_error("put_object", "SlowDown", "slow down", 503, expected_params=expected)
    s3_stub.add_response("put_object", {"ETag": '"1"'}, expected_params=expected)
    s3_stub.add_client_error("put_object", "AccessDenied", "denied", 403)
    stub.add_response("put_record_batch", _ok(2))
    stub.add_response("put_record_batch", _ok(1))
    answer = transformer.handle({"Records": records}, FakeContext(clock))
    # the second malformed record (sequence(6), the last one) could not be stored
    assert answer == {"batchItemFailures": [{"itemIdentifier": sequence(6)}]}
    metrics = json.loads(lines[0])
    assert metrics["MalformedRecords"] == 2 and metrics["Failures"] == 1 and metrics["Retries"] == 1
