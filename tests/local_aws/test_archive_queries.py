# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The archive can be read back (issue 19), offline.

The transform Lambda's code (in process) writes canaries of three accounts over two days to
an archive Firehose stream configured like the role configures it (prefix, error prefix and
jq query from defaults/main.yml, processors from tasks/firehose.yml built by the module's own
helper). The emulator delivers them with dynamic partitioning. Then DuckDB reads the objects
through the Glue table's definition (files/athena/archive_table.yml) and runs every named
query's SQL (files/athena/queries/), checking that each returns its canaries.
"""

import base64
import gzip
import importlib.util
import json
import os
import re
import sys
import uuid

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(REPO, "tools"))
import archive_duckdb  # noqa: E402  pylint: disable=wrong-import-position

duckdb = pytest.importorskip("duckdb", reason="duckdb is pinned in requirements-test.txt")

A, B, C = "111111111111", "222222222222", "333333333333"
DAY1, DAY2 = "2026-12-02", "2026-12-03"
DATABASE, TABLE = "logvault_archive", "logs"


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _role_archive_stream(role_arn, bucket):
    """The ExtendedS3DestinationConfiguration the role's task asks for, built by the module's helper."""
    defaults = archive_duckdb.role_defaults()
    with open(os.path.join(REPO, "roles", "central_account", "tasks", "firehose.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    task = [t for t in tasks if "archive Firehose stream" in t["name"]][0]
    processors = json.loads(json.dumps(task["vars"]["_central_account_archive_processors"]).replace(
        "{{ central_account_archive_partition_query }}", defaults["central_account_archive_partition_query"].replace('"', '\\"')))
    assert "{{" not in json.dumps(processors)
    fh = _load("logvault_fh_utils", os.path.join(REPO, "plugins", "module_utils", "firehose.py"))
    return {
        "RoleARN": role_arn, "BucketARN": "arn:aws:s3:::%s" % bucket,
        "Prefix": defaults["central_account_archive_prefix"], "ErrorOutputPrefix": defaults["central_account_archive_error_prefix"],
        "CompressionFormat": "GZIP", "FileExtension": ".ndjson.gz",
        "BufferingHints": {"SizeInMBs": defaults["central_account_archive_buffer_mib"], "IntervalInSeconds": 900},
        "DynamicPartitioningConfiguration": fh.build_dynamic_partitioning(
            {"enabled": True, "retry_duration": defaults["central_account_archive_partition_retry_seconds"]}),
        "ProcessingConfiguration": fh.build_processing(processors),
    }


def _millis(stamp):
    import datetime  # pylint: disable=import-outside-toplevel
    return int(datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


CANARIES = [
    # (account, log group, event id, ISO time, message)
    (A, "/app/orders", "1001", DAY1 + "T23:59:59.999Z", "canary-a-late request_id=req-42 ok"),
    (A, "/app/orders", "1002", DAY2 + "T00:00:00.000Z", '{"level":"INFO","canary":"a-json"}'),
    (A, "/app/payments", "1003", DAY2 + "T10:00:00.000Z", "canary-a-payments"),
    (B, "/app/orders", "2001", DAY2 + "T10:30:00.000Z", "canary-b request_id=req-42 failed"),
    (B, "/app/orders", "2002", DAY2 + "T18:00:00.000Z", "canary-b-evening"),
    (C, "/app/other", "3001", DAY2 + "T11:00:00.000Z", "canary-c"),
]


def _kinesis_event(records):
    out = []
    for index, (account, group, events) in enumerate(records):
        payload = {"messageType": "DATA_MESSAGE", "owner": account, "logGroup": group, "logStream": "canary",
                   "subscriptionFilters": ["logvault-all"],
                   "logEvents": [{"id": eid, "timestamp": _millis(stamp), "message": message} for eid, stamp, message in events]}
        out.append({"kinesis": {"data": base64.b64encode(gzip.compress(json.dumps(payload).encode())).decode(),
                                "sequenceNumber": "4959%020d" % index, "partitionKey": "p"},
                    "eventSource": "aws:kinesis", "eventID": "shardId-000000000000:%d" % index,
                    "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/hub"})
    return {"Records": out}


class _Context(object):
    function_name = "logvault-transform"

    @staticmethod
    def get_remaining_time_in_millis():
        return 60000


@pytest.fixture(scope="module")
def archive(local_aws, aws_client, tmp_path_factory, grant):
    s3, fh, iam = aws_client("s3"), aws_client("firehose"), aws_client("iam")
    suffix = uuid.uuid4().hex[:8]
    bucket, dlq, search, stream = "archive-q-" + suffix, "dlq-q-" + suffix, "search-q-" + suffix, "archive-q-" + suffix
    for name in (bucket, dlq, search):
        s3.create_bucket(Bucket=name)
    role = grant(iam.create_role(RoleName="archive-q-" + suffix, AssumeRolePolicyDocument="{}")["Role"]["Arn"])
    fh.create_delivery_stream(DeliveryStreamName=search, ExtendedS3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % search})
    fh.create_delivery_stream(DeliveryStreamName=stream, ExtendedS3DestinationConfiguration=_role_archive_stream(role, bucket))

    transform = _load("logvault_transform_archive_q", os.path.join(
        REPO, "roles", "central_account", "files", "transform_lambda", "logvault_transform.py"))
    environ = {"LOGVAULT_SEARCH_STREAM": search, "LOGVAULT_ARCHIVE_STREAM": stream, "LOGVAULT_DLQ_BUCKET": dlq,
               "AWS_LAMBDA_LOG_GROUP_NAME": "/aws/lambda/logvault-transform"}
    saved = dict(os.environ)
    os.environ.update({"AWS_ENDPOINT_URL": local_aws.endpoint, "AWS_ACCESS_KEY_ID": "testing",
                       "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"})
    try:
        transformer = transform.Transformer.from_environment(environ)
        grouped = {}
        for account, group, eid, stamp, message in CANARIES:
            grouped.setdefault((account, group), []).append((eid, stamp, message))
        event = _kinesis_event([(account, group, events) for (account, group), events in grouped.items()])
        for dummy in range(2):  # at least once: the same batch delivered twice (a Lambda retry)
            result = transformer.handle(event, _Context())
            assert result == {"batchItemFailures": []}
        transformer.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    local_aws.flush()
    root = tmp_path_factory.mktemp("archive")
    keys = archive_duckdb.download(s3, bucket, "", str(root))
    return {"keys": keys, "root": str(root), "s3": s3, "bucket": bucket}


def test_every_canary_sits_under_its_own_account_and_event_day(archive):
    assert not [k for k in archive["keys"] if k.startswith("errors/")], archive["keys"]
    seen = []
    for key in archive["keys"]:
        match = re.match(r"^logs/account_id=(\d{12})/dt=(\d{4}-\d{2}-\d{2})/[^/]+\.ndjson\.gz$", key)
        assert match, key
        with open(os.path.join(archive["root"], key), "rb") as handle:
            lines = gzip.decompress(handle.read()).decode().splitlines()
        for line in lines:
            doc = json.loads(line)
            assert (doc["account_id"], doc["@timestamp"][:10]) == match.groups(), (key, doc)
            seen.append(doc["event_id"])
    assert sorted(seen) == sorted([c[2] for c in CANARIES] * 2)  # delivered twice: at least once


@pytest.fixture(scope="module")
def db(archive):
    table_def = archive_duckdb.definition()
    prefix = archive_duckdb.role_defaults()["central_account_archive_prefix"]
    template = archive_duckdb.location_template(prefix, table_def["partition_keys"])
    assert template == "logs/account_id=${account}/dt=${dt}/"
    connection = duckdb.connect()
    archive_duckdb.create_view(connection, archive["root"], table_def, template, DATABASE, TABLE)
    yield connection, dict((q["name"], archive_duckdb.render(q["sql"], DATABASE, TABLE)) for q in table_def["named_queries"])
    connection.close()


def _ids(connection, sql, params):
    return [row[1] for row in connection.execute(sql, params).fetchall()]


def test_table_columns_and_partitions(db):
    connection, _queries = db
    rows = connection.execute('SELECT ts, event_id, account_id, region, log_group, subscription_filters, fields, truncated, '
                              'account, dt FROM "%s"."%s" WHERE event_id = \'1002\' LIMIT 1' % (DATABASE, TABLE)).fetchall()
    ts, eid, account_id, region, group, filters, fields, truncated, account, dt = rows[0]
    assert (ts, eid, account_id, region, group) == (DAY2 + "T00:00:00.000Z", "1002", A, "us-east-1", "/app/orders")
    assert filters == ["logvault-all"] and truncated is None
    assert json.loads(fields) == {"level": "INFO", "canary": "a-json"}
    assert (account, dt) == (A, DAY2)


def test_named_query_account_day(db):
    connection, queries = db
    assert _ids(connection, queries["account-day"], [A, DAY2]) == ["1002", "1002", "1003", "1003"]
    assert _ids(connection, queries["account-day"], [A, DAY1]) == ["1001", "1001"]  # event day, not arrival day
    assert _ids(connection, queries["account-day"], [C, DAY1]) == []


def test_named_query_log_group_time_range(db):
    connection, queries = db
    params = ["/app/orders", DAY1, DAY2, DAY1 + "T23:00:00.000Z", DAY2 + "T18:00:00.000Z"]
    assert _ids(connection, queries["log-group-time-range"], params) == ["1001", "1001", "1002", "1002", "2001", "2001"]


def test_named_query_request_id_across_accounts(db):
    connection, queries = db
    rows = connection.execute(queries["request-id-across-accounts"], ["req-42", DAY1, DAY2]).fetchall()
    assert sorted(set((row[1], row[2]) for row in rows)) == [("1001", A), ("2001", B)]


def test_named_query_dedupe_by_event_id(db):
    connection, queries = db
    assert _ids(connection, queries["dedupe-by-event-id"], [DAY1, DAY2]) == sorted(
        [c[2] for c in CANARIES], key=lambda eid: [c[3] for c in CANARIES if c[2] == eid][0])


def test_translation_helpers():
    assert archive_duckdb.table_root("logs/account_id=!{partitionKeyFromQuery:account_id}/dt=!{partitionKeyFromQuery:dt}/") == "logs/"
    keys = [{"name": "account", "firehose_key": "account_id"}, {"name": "dt"}]
    with pytest.raises(ValueError):
        archive_duckdb.location_template("logs/!{timestamp:yyyy}/!{partitionKeyFromQuery:account_id}/", keys)
    with pytest.raises(ValueError):
        archive_duckdb.location_template("logs/!{partitionKeyFromQuery:region}/", keys)
    glob, regex, columns = archive_duckdb.glob_and_regex("logs/account_id=${account}/dt=${dt}/")
    assert glob == "logs/account_id=*/dt=*/*" and columns == ["account", "dt"]
    assert re.search(regex, "/tmp/x/logs/account_id=1/dt=2026-12-03/f.gz").groups() == ("1", "2026-12-03")
    assert archive_duckdb.render('FROM "${database}"."${table}"', "d", "t") == 'FROM "d"."t"'
