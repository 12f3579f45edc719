# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Transform Lambda: documents, guards, malformed input, observability, configuration."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import json

import pytest

from transform_fixtures import (FakeContext, FakeFirehose, FakeS3, STREAM_ARN, SHARD, control_payload, kinesis_record,
                                log_event, request_size, sequence, subscription_payload)

LIMIT = 1000 * 1024


def _run(make_transformer, records, transport=None, **kwargs):
    firehose, s3 = FakeFirehose(), FakeS3()
    transformer, lines = make_transformer(transport(firehose) if transport else firehose, s3, **kwargs)
    answer = transformer.handle({"Records": records}, FakeContext())
    # One invocation line, then one line per member account (ACCOUNT_METRICS).
    assert len(lines) >= 1 and all('"Account":' in line for line in lines[1:])
    return answer, firehose, s3, json.loads(lines[0])


def test_one_document_per_event_with_metadata(make_transformer, transport):
    events = [
        log_event("3681", '{"level":"ERROR","user":"émilie","n":3,"@timestamp":"fake","message":"inner"}', 1764227295123),
        log_event("3682", "GET /index.html 200 — 李雷 ✓ 🚀", 1764227296007),
        log_event("3683", "", 0),
        log_event("3684", '  {"spaced": [1, 2.5, null, true]}\t', 1764227295999),
        log_event("3685", '{"broken": ', 1764227295999),
        log_event("3686", "[1, 2, 3]", 1764227295999),
        log_event("3687", '{"pretty": {\n  "a": 1\n}}', 1764227295999),
    ]
    answer, firehose, _s3, _metrics = _run(make_transformer, transport=transport, records=[kinesis_record(0, subscription_payload(
        events, log_group="/app/orders", log_stream="i-0abc/app.log", owner="111111111111", filters=["f1", "f2"]))])
    assert answer == {"batchItemFailures": []}
    docs = firehose.documents("search")
    assert [d["event_id"] for d in docs] == ["3681", "3682", "3683", "3684", "3685", "3686", "3687"]
    for doc in docs:
        assert doc["account_id"] == "111111111111"
        assert doc["region"] == "eu-west-3"
        assert doc["log_group"] == "/app/orders"
        assert doc["log_stream"] == "i-0abc/app.log"
        assert doc["subscription_filters"] == ["f1", "f2"]
    first, plain, empty, spaced, broken, array, pretty = docs
    # message keys live under "fields" and never overwrite the metadata
    assert first["@timestamp"] == "2025-11-27T07:08:15.123Z"
    assert first["message"] == events[0]["message"]
    assert first["fields"] == {"level": "ERROR", "user": "émilie", "n": 3, "@timestamp": "fake", "message": "inner"}
    assert plain["message"] == "GET /index.html 200 — 李雷 ✓ 🚀" and "fields" not in plain
    assert plain["@timestamp"] == "2025-11-27T07:08:16.007Z"
    assert empty["message"] == "" and empty["@timestamp"] == "1970-01-01T00:00:00.000Z" and "fields" not in empty
    assert spaced["fields"] == {"spaced": [1, 2.5, None, True]}
    assert "fields" not in broken and "fields" not in array
    assert pretty["fields"] == {"pretty": {"a": 1}}
    # one Firehose record per document for search; multi-byte UTF-8 stays UTF-8 (not \\u escapes)
    assert len(firehose.delivered["search"]) == 7
    assert "李雷 ✓ 🚀".encode("utf-8") in firehose.delivered["search"][1]
    # the archive gets the same documents as NDJSON lines in one packed record
    assert len(firehose.delivered["archive"]) == 1
    assert firehose.documents("archive") == docs


def test_documents_are_single_ndjson_lines(make_transformer):
    message = '{"a": "line\\nbreak"}'
    _answer, firehose, _s3, _m = _run(make_transformer, [kinesis_record(0, subscription_payload([
        log_event(1, message), log_event(2, "multi\nline\r\nplain")]))])
    archive = firehose.delivered["archive"][0]
    assert archive.count(b"\n") == 2
    assert [d["message"] for d in firehose.documents("archive")] == [message, "multi\nline\r\nplain"]


def test_json_messages_with_non_json_constants_are_plain_text(make_transformer):
    _answer, firehose, _s3, _m = _run(make_transformer, [kinesis_record(0, subscription_payload([
        log_event(1, '{"x": NaN}'), log_event(2, '{"x": 1} trailing')]))])
    docs = firehose.documents("search")
    assert all("fields" not in doc for doc in docs)


def test_lone_surrogates_still_give_valid_utf8_json(make_transformer, transport):
    payload = subscription_payload([log_event(1, "bad \ud800 half"), log_event(2, '{"k": "\\udc00"}')])
    raw = gzip.compress(json.dumps(payload).encode("ascii"))  # json.dumps escapes the surrogates
    record = kinesis_record(0, data=base64.b64encode(raw).decode())
    _answer, firehose, _s3, _m = _run(make_transformer, transport=transport, records=[record])
    data = firehose.delivered["search"]
    assert all(d.decode("utf-8") for d in data)
    docs = firehose.documents("search")
    assert docs[0]["message"] == "bad \ud800 half"
    assert docs[1]["fields"] == {"k": "\udc00"}


def test_control_messages_and_empty_data_messages(make_transformer):
    answer, firehose, _s3, metrics = _run(make_transformer, [
        kinesis_record(0, control_payload()), kinesis_record(1, subscription_payload([]))])
    assert answer == {"batchItemFailures": []}
    assert firehose.calls == []
    assert (metrics["Records"], metrics["ControlMessages"], metrics["Events"], metrics["Documents"]) == (2, 1, 0, 0)


CENTRAL = STREAM_ARN.split(":")[4]  # the hub stream lives in the central account


def test_recursion_guard_drops_and_counts_pipeline_log_groups(make_transformer):
    records = [
        kinesis_record(0, subscription_payload([log_event(1, "self")], log_group="/aws/lambda/logvault-transform",
                                               owner=CENTRAL)),
        kinesis_record(1, subscription_payload([log_event(2, "a"), log_event(3, "b")], log_group="/logvault/firehose",
                                               owner=CENTRAL)),
        kinesis_record(2, subscription_payload([log_event(4, "kept")], log_group="/aws/lambda/logvault-transform-2",
                                               owner=CENTRAL)),
    ]
    answer, firehose, _s3, metrics = _run(make_transformer, records)
    assert answer == {"batchItemFailures": []}
    assert [d["event_id"] for d in firehose.documents("search")] == ["4"]
    assert metrics["RecursionDrops"] == 3 and metrics["Events"] == 4 and metrics["Documents"] == 1
    assert metrics["recursion_drops_by_log_group"] == {"/aws/lambda/logvault-transform": 1, "/logvault/firehose": 2}


def test_recursion_guard_never_drops_a_member_accounts_groups(make_transformer):
    """A member account's own /aws/lambda/logvault-* group is a member log like any other."""
    excluded = ["/aws/lambda/logvault-*", "/aws/kinesisfirehose/logvault-*"]
    records = [
        kinesis_record(0, subscription_payload([log_event(1, "member")], log_group="/aws/lambda/logvault-orders-api",
                                               owner="111111111111")),
        kinesis_record(1, subscription_payload([log_event(2, "member fh")], log_group="/aws/kinesisfirehose/logvault-x",
                                               owner="222222222222")),
        kinesis_record(2, subscription_payload([log_event(3, "central")], log_group="/aws/lambda/logvault-orders-api",
                                               owner=CENTRAL)),
    ]
    answer, firehose, _s3, metrics = _run(make_transformer, records, excluded_log_groups=excluded)
    assert answer == {"batchItemFailures": []}
    assert [d["event_id"] for d in firehose.documents("search")] == ["1", "2"]
    assert [d["event_id"] for d in firehose.documents("archive")] == ["1", "2"]
    assert metrics["RecursionDrops"] == 1
    # an explicit central account id wins over the stream's account
    _answer, firehose, _s3, metrics = _run(make_transformer, records, excluded_log_groups=excluded,
                                           central_account_id="111111111111")
    assert [d["event_id"] for d in firehose.documents("search")] == ["2", "3"]
    assert metrics["recursion_drops_by_log_group"] == {"/aws/lambda/logvault-orders-api": 1}


@pytest.mark.parametrize("message, json_message", [
    ("x" * (LIMIT + 10), False),
    ("é" * (LIMIT // 2 + 10), False),
    ("\u0001" * (LIMIT // 5), False),
    ('{"blob": "%s"}' % ("y" * (LIMIT - 600)), True),
])
def test_oversized_documents_are_truncated_and_flagged(make_transformer, message, json_message, transport):
    answer, firehose, _s3, metrics = _run(make_transformer, transport=transport, records=[kinesis_record(0, subscription_payload([
        log_event(1, message), log_event(2, "small")]))])
    assert answer == {"batchItemFailures": []}
    big, small = firehose.documents("search")
    sizes = [len(d) for d in firehose.delivered["search"]]
    assert sizes[0] <= LIMIT and sizes[0] > LIMIT - 200
    assert big["truncated"] is True
    assert big["original_size"] > LIMIT
    assert message.startswith(big["message"])
    assert "fields" not in big
    assert big["log_group"] == "/app/orders" and big["event_id"] == "1"
    assert "truncated" not in small
    assert metrics["Truncations"] == 1
    assert all(len(d) <= LIMIT for d in firehose.delivered["archive"])
    assert [d["event_id"] for d in firehose.documents("archive")] == ["1", "2"]
    if json_message:
        # dropping "fields" was enough: the message is kept whole
        assert big["original_size"] > len(message) * 2 and big["message"] == message
    else:
        assert len(big["message"]) < len(message)


def test_truncate_document_respects_any_limit(transform):
    head = '{"@timestamp":"2025-11-27T07:08:15.123Z","event_id":"1","message":'
    tail = ',"account_id":"1","region":"r","log_group":"g","log_stream":"s","subscription_filters":[]'
    for limit in (400, 401, 405, 1000):
        doc = transform.truncate_document(head, "ab\u0001é🚀" * 200, tail, 99999, limit)
        assert len(doc) <= limit
        assert json.loads(doc)["truncated"] is True
        assert len(doc) > limit - 7  # the cut is tight: at most one escaped character is lost


# mtime=0: the gzip header holds the time of compression, and these values are part of the test ids, which the two
# pytest-xdist workers must collect alike (with the time, a collection that straddles a second failed the run).
@pytest.mark.parametrize("data, reason", [
    ("not base64 !!!", "not-base64"),
    ("YWJjé", "not-base64"),  # not ASCII
    ("YWJ", "not-base64"),  # bad padding
    (base64.b64encode(b"plain bytes, not gzip").decode(), "not-gzip"),
    (base64.b64encode(gzip.compress(b"\x00{not json", mtime=0)).decode(), "not-json"),
    (base64.b64encode(gzip.compress(b'["a", "list"]', mtime=0)).decode(), "not-subscription"),
    (base64.b64encode(gzip.compress(b'{"messageType": "DATA_MESSAGE", "logGroup": "/g"}', mtime=0)).decode(), "not-subscription"),
    (base64.b64encode(gzip.compress(json.dumps(subscription_payload([{"id": "1", "message": "no timestamp"}])).encode(), mtime=0)).decode(),
     "not-subscription"),
    (base64.b64encode(gzip.compress(b'{"a": 1}', mtime=0)[:-6]).decode(), "not-gzip"),
])
def test_malformed_records_go_raw_to_the_dead_letter_bucket(make_transformer, data, reason):
    good = [kinesis_record(0, subscription_payload([log_event(1, "before")])), kinesis_record(1, data=data),
            kinesis_record(2, subscription_payload([log_event(2, "after")]))]
    answer, firehose, s3, metrics = _run(make_transformer, good, dlq_prefix="dlq/malformed/")
    assert answer == {"batchItemFailures": []}
    assert [d["message"] for d in firehose.documents("search")] == ["before", "after"]
    key = "dlq/malformed/logvault-hub/%s/%s" % (SHARD, sequence(1))
    assert list(s3.objects) == [key]
    stored = s3.objects[key]
    assert stored["Bucket"] == "dlq-bucket"
    expected = data.encode() if reason == "not-base64" else base64.b64decode(data)
    assert stored["Body"] == expected
    assert stored["Metadata"]["reason"] == reason
    assert stored["Metadata"]["sequence-number"] == sequence(1)
    assert stored["Metadata"]["event-source-arn"] == STREAM_ARN
    assert metrics["MalformedRecords"] == 1


def test_dead_letter_objects_can_name_a_kms_key(make_transformer):
    _answer, _fh, s3, _m = _run(make_transformer, [kinesis_record(0, data="@@@")], dlq_kms_key_id="alias/logvault")
    assert len(s3.objects) == 1
    stored = list(s3.objects.values())[0]
    assert stored["ServerSideEncryption"] == "aws:kms" and stored["SSEKMSKeyId"] == "alias/logvault"


def test_concatenated_gzip_members_are_one_payload(make_transformer):
    text = json.dumps(subscription_payload([log_event(1, "m1"), log_event(2, "m2")])).encode()
    raw = gzip.compress(text[:40]) + gzip.compress(text[40:])
    _answer, firehose, s3, _m = _run(make_transformer, [kinesis_record(0, data=base64.b64encode(raw).decode())])
    assert [d["message"] for d in firehose.documents("search")] == ["m1", "m2"] and not s3.objects


def test_invocation_log_line_is_embedded_metric_format(make_transformer):
    records = [kinesis_record(0, control_payload()),
               kinesis_record(1, subscription_payload([log_event(1, "a"), log_event(2, '{"b": 1}')])),
               kinesis_record(2, subscription_payload([log_event(3, "x")], log_group="/logvault/self", owner=CENTRAL)),
               kinesis_record(3, data="???")]
    _answer, _firehose, _s3, line = _run(make_transformer, records)
    directive = line["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "LogVault/Transform"
    assert directive["Dimensions"] == [["FunctionName"]]
    names = [metric["Name"] for metric in directive["Metrics"]]
    for name in names:
        assert isinstance(line[name], int), name
    assert set(names) >= {"Records", "Events", "Documents", "ControlMessages", "RecursionDrops", "Truncations",
                          "MalformedRecords", "Retries", "Failures"}
    assert line["FunctionName"] == "logvault-transform-test"
    assert (line["Records"], line["Events"], line["Documents"], line["ControlMessages"], line["RecursionDrops"],
            line["MalformedRecords"], line["Failures"], line["Retries"]) == (4, 3, 2, 1, 1, 1, 0, 0)
    assert line["PutRecordBatchCalls"] == 2 and line["ArchiveRecords"] == 1
    assert line["request_id"] == "req-1" and line["lowest_failed_sequence_number"] is None
    assert isinstance(line["_aws"]["Timestamp"], int)


def test_empty_event(make_transformer):
    answer, firehose, _s3, metrics = _run(make_transformer, [])
    assert answer == {"batchItemFailures": []} and firehose.calls == [] and metrics["Records"] == 0


def test_iso_timestamp(transform):
    assert transform.iso_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert transform.iso_timestamp(1764227295001) == "2025-11-27T07:08:15.001Z"
    assert transform.iso_timestamp(-1) == "1969-12-31T23:59:59.999Z"
    assert transform.iso_timestamp(253402300799999) == "9999-12-31T23:59:59.999Z"
    with pytest.raises(ValueError):
        transform.iso_timestamp(253402300800000)


ENV = {"LOGVAULT_SEARCH_STREAM": "s", "LOGVAULT_ARCHIVE_STREAM": "a", "LOGVAULT_DLQ_BUCKET": "b"}


def test_config_from_environment(transform):
    config = transform.Config.from_environ(dict(ENV, LOGVAULT_EXCLUDED_LOG_GROUPS=" /aws/lambda/x , /logvault/* ,",
                                                LOGVAULT_MAX_WORKERS="4", LOGVAULT_BACKOFF_BASE_MS="50"))
    assert (config.search_stream, config.archive_stream, config.dlq_bucket) == ("s", "a", "b")
    assert config.excluded_exact == frozenset(["/aws/lambda/x"]) and config.excluded_prefixes == ("/logvault/",)
    assert config.max_workers == 4 and config.backoff_base == 0.05 and config.dlq_prefix == "malformed/"
    own = transform.Config.from_environ(dict(ENV, LOGVAULT_EXCLUDED_LOG_GROUPS="/x",
                                             AWS_LAMBDA_LOG_GROUP_NAME="/aws/lambda/logvault-transform"))
    assert own.excluded_exact == frozenset(["/x", "/aws/lambda/logvault-transform"])
    defaults = transform.Config.from_environ(ENV)
    assert defaults.excluded_exact == frozenset() and defaults.excluded_prefixes == ()
    # max_attempts 0: retries are bounded by the invocation's deadline only
    assert (defaults.max_workers, defaults.max_attempts, defaults.time_reserve) == (8, 0, 2.0)
    assert (defaults.min_call, defaults.call_timeout, defaults.central_account_id) == (0.25, 30.0, None)


@pytest.mark.parametrize("override, name", [
    ({"LOGVAULT_SEARCH_STREAM": ""}, "LOGVAULT_SEARCH_STREAM"),
    ({"LOGVAULT_ARCHIVE_STREAM": " "}, "LOGVAULT_ARCHIVE_STREAM"),
    ({"LOGVAULT_DLQ_BUCKET": ""}, "LOGVAULT_DLQ_BUCKET"),
    ({"LOGVAULT_MAX_WORKERS": "0"}, "LOGVAULT_MAX_WORKERS"),
    ({"LOGVAULT_MAX_WORKERS": "many"}, "LOGVAULT_MAX_WORKERS"),
    ({"LOGVAULT_MAX_ATTEMPTS": "-1"}, "LOGVAULT_MAX_ATTEMPTS"),
    ({"LOGVAULT_CENTRAL_ACCOUNT_ID": "12345"}, "LOGVAULT_CENTRAL_ACCOUNT_ID"),
    ({"LOGVAULT_MIN_CALL_MS": "0"}, "LOGVAULT_MIN_CALL_MS"),
    ({"LOGVAULT_CALL_TIMEOUT_MS": "5"}, "LOGVAULT_CALL_TIMEOUT_MS"),
    ({"LOGVAULT_OVERSIZED_PREFIX": "/o/"}, "LOGVAULT_OVERSIZED_PREFIX"),
    ({"LOGVAULT_EXCLUDED_LOG_GROUPS": "/a*b"}, "LOGVAULT_EXCLUDED_LOG_GROUPS"),
    ({"LOGVAULT_EXCLUDED_LOG_GROUPS": "*"}, "LOGVAULT_EXCLUDED_LOG_GROUPS"),
    ({"LOGVAULT_DLQ_PREFIX": "/x/"}, "LOGVAULT_DLQ_PREFIX"),
    ({"LOGVAULT_FIREHOSE_CLIENT": "fast"}, "LOGVAULT_FIREHOSE_CLIENT"),
    ({"LOGVAULT_BACKOFF_BASE_MS": "500", "LOGVAULT_BACKOFF_MAX_MS": "100"}, "LOGVAULT_BACKOFF_MAX_MS"),
])
def test_bad_configuration_names_the_variable(transform, override, name):
    with pytest.raises(transform.ConfigError, match=name):
        transform.Config.from_environ(dict(ENV, **override))


def test_handler_reads_its_configuration_from_the_environment(transform, monkeypatch):
    monkeypatch.setattr(transform, "_TRANSFORMER", None)
    monkeypatch.delenv("LOGVAULT_SEARCH_STREAM", raising=False)
    with pytest.raises(transform.ConfigError, match="LOGVAULT_SEARCH_STREAM"):
        transform.handler({"Records": []}, FakeContext())


def test_handler_builds_boto3_clients_once_from_the_environment(transform, monkeypatch):
    built = []

    def fake_client(service, config=None):
        built.append((service, config))
        return FakeFirehose() if service == "firehose" else FakeS3()

    monkeypatch.setattr(transform, "_TRANSFORMER", None)
    monkeypatch.setattr(transform.boto3, "client", fake_client)
    for name, value in dict(ENV, LOGVAULT_MAX_WORKERS="3", LOGVAULT_FIREHOSE_CLIENT="boto3").items():
        monkeypatch.setenv(name, value)
    record = kinesis_record(0, subscription_payload([log_event(1, "hello")]))
    try:
        assert transform.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
        assert transform.handler({"Records": [record]}, FakeContext()) == {"batchItemFailures": []}
        assert [service for service, _config in built] == ["firehose", "s3"]
        config = built[0][1]
        assert config.max_pool_connections == 5
        assert config.retries == {"total_max_attempts": 1, "mode": "standard"}  # this module owns the retries
        firehose = transform._TRANSFORMER.firehose
        assert [d["message"] for d in firehose.documents("s")] == ["hello", "hello"]
    finally:
        if transform._TRANSFORMER is not None:
            transform._TRANSFORMER.close()


def test_the_lean_firehose_client_is_the_default(transform, monkeypatch):
    for name, value in dict(ENV, AWS_DEFAULT_REGION="eu-west-3", AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="s").items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("LOGVAULT_FIREHOSE_CLIENT", raising=False)
    transformer = transform.Transformer.from_environment()
    try:
        assert isinstance(transformer.firehose, transform.LeanFirehose)
    finally:
        transformer.close()
    monkeypatch.setenv("LOGVAULT_FIREHOSE_CLIENT", "boto3")
    transformer = transform.Transformer.from_environment()
    try:
        assert not isinstance(transformer.firehose, transform.LeanFirehose)
        assert transformer.firehose.meta.service_model.service_name == "firehose"
    finally:
        transformer.close()


def _sizes(firehose, stream):
    return [[len(d) for d in datas] for name, datas in firehose.calls if name == stream]


def test_search_calls_hold_at_most_500_documents_packed_across_records(make_transformer, transport):
    records = [kinesis_record(i, subscription_payload([log_event("%d-%d" % (i, j), "m") for j in range(167)]))
               for i in range(3)]
    _answer, firehose, _s3, metrics = _run(make_transformer, transport=transport, records=records)
    # largest first: calls run concurrently, so the second may be recorded first
    assert sorted((len(call) for call in _sizes(firehose, "search")), reverse=True) == [500, 1]
    assert metrics["PutRecordBatchCalls"] == 3


def test_search_calls_stay_under_4_mb_once_base64_encoded(make_transformer, transport):
    """The 4 MB limit is on the entire request, where every record is base64-encoded
    (PutRecordBatch API reference): six near-limit documents need three calls, not two."""
    big = "b" * (LIMIT - 400)
    records = [kinesis_record(i, subscription_payload([log_event(i, big)])) for i in range(6)]
    _answer, firehose, _s3, _m = _run(make_transformer, transport=transport, records=records)
    calls = _sizes(firehose, "search")
    assert [len(call) for call in calls] == [2, 2, 2]
    assert all(request_size(stream, datas) <= 4000000 for stream, datas in firehose.calls)
    # archive: one near-limit document per record, two such records per call
    assert [len(call) for call in _sizes(firehose, "archive")] == [2, 2, 2]


def test_archive_calls_carry_three_packed_records(make_transformer, transport):
    message = "a" * 1800
    records = [kinesis_record(i, subscription_payload([log_event("%d-%d" % (i, j), message) for j in range(100)]))
               for i in range(40)]
    _answer, firehose, _s3, _m = _run(make_transformer, transport=transport, records=records)
    archive = sorted((datas for stream, datas in firehose.calls if stream == "archive"), key=len, reverse=True)
    assert [len(datas) for datas in archive[:-1]] == [3] * (len(archive) - 1)
    sizes = sorted((request_size("archive", datas) for datas in archive), reverse=True)
    assert all(3850000 < size <= 4000000 for size in sizes[:-1]) and sizes[-1] <= 4000000


def test_archive_records_are_packed_close_to_1000_kib(make_transformer, transport):
    message = "a" * 1800
    records = [kinesis_record(i, subscription_payload([log_event("%d-%d" % (i, j), message) for j in range(100)]))
               for i in range(20)]
    _answer, firehose, _s3, metrics = _run(make_transformer, transport=transport, records=records)
    # largest first: calls run concurrently, so the last (partial) record may be sent before others
    sizes = sorted((size for call in _sizes(firehose, "archive") for size in call), reverse=True)
    total = sum(sizes)
    target = 975000  # three such records fit one request once base64-encoded
    assert all(size <= target for size in sizes)
    assert len(sizes) == -(-total // target)  # as few records as the bytes allow
    assert all(size > target - 2100 for size in sizes[:-1])
    assert metrics["ArchiveRecords"] == len(sizes)
    assert len(firehose.documents("archive")) == 2000


def test_archive_records_hold_at_most_500_lines(make_transformer, transport):
    """The archive stream deaggregates each record for dynamic partitioning, and AWS caps
    deaggregation at 500 JSON objects per record (Firehose developer guide, "Apply dynamic
    partitioning to aggregated data"): small events close a record at 500 lines, long before
    it reaches 975,000 bytes."""
    records = [kinesis_record(i, subscription_payload([log_event("%d-%d" % (i, j), "m") for j in range(300)]))
               for i in range(4)]
    _answer, firehose, _s3, metrics = _run(make_transformer, transport=transport, records=records)
    lines = sorted((data.count(b"\n") for stream, datas in firehose.calls if stream == "archive" for data in datas),
                   reverse=True)
    assert lines == [500, 500, 200]
    assert metrics["ArchiveRecords"] == 3
    assert len(firehose.documents("archive")) == 1200


def test_per_account_volume_lines(make_transformer):
    """One EMF line per owner account: AccountEvents and AccountBytes (issue 20), counted per
    log-data message; the invocation line stays the first."""
    firehose, s3 = FakeFirehose(), FakeS3()
    transformer, lines = make_transformer(firehose, s3)
    records = [kinesis_record(0, subscription_payload([log_event("1", "a"), log_event("2", "bb")], owner="111111111111")),
               kinesis_record(1, subscription_payload([log_event("3", "ccc")], owner="222222222222")),
               kinesis_record(2, subscription_payload([log_event("4", "dddd")], owner="111111111111"))]
    transformer.handle({"Records": records}, FakeContext())
    invocation = json.loads(lines[0])
    assert invocation["FunctionName"] and invocation["Events"] == 4
    accounts = dict((doc["Account"], doc) for doc in map(json.loads, lines[1:]))
    assert sorted(accounts) == ["111111111111", "222222222222"]
    assert accounts["111111111111"]["AccountEvents"] == 3 and accounts["222222222222"]["AccountEvents"] == 1
    directive = accounts["111111111111"]["_aws"]["CloudWatchMetrics"][0]
    assert directive["Dimensions"] == [["Account"]] and directive["Namespace"] == invocation["_aws"]["CloudWatchMetrics"][0]["Namespace"]
    assert [m["Name"] for m in directive["Metrics"]] == ["AccountEvents", "AccountBytes"]
    search_stream = [name for name in firehose.delivered if "search" in name][0]
    sent = sum(len(data) for data in firehose.delivered[search_stream])
    assert accounts["111111111111"]["AccountBytes"] + accounts["222222222222"]["AccountBytes"] == sent


def test_account_lines_keep_the_busiest_and_sum_the_rest():
    from transform_fixtures import load_transform  # pylint: disable=import-outside-toplevel
    module = load_transform()
    by_account = dict(("%012d" % i, [i, 10 * i]) for i in range(1, 6))
    lines = module.account_lines(by_account, limit=2)
    assert lines == [("000000000005", (5, 50)), ("000000000004", (4, 40)), ("other", (6, 60))]
