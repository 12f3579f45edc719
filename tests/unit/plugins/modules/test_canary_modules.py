# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_log_events and pipeline_canary_info, run in-process against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gzip
import time
from unittest import mock

import boto3
import pytest
from moto import mock_aws


from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_log_events
from ansible_collections.logvault.aws.plugins.modules import pipeline_canary_info
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"


def run(module, args, check_mode=False):
    return run_module(module, args, check_mode=check_mode, defaults={"region": REGION})


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("logs", region_name=REGION), boto3.client("s3", region_name=REGION)


def events(logs, group, stream):
    return [e["message"] for e in logs.get_log_events(logGroupName=group, logStreamName=stream)["events"]]


def write(**extra):
    args = dict(log_group_name="/logvault/canary", log_stream_name="verify", messages=["canary-1"], create_log_group=True)
    args.update(extra)
    return args


# cloudwatchlogs_log_events

def test_check_mode_predicts_creation_and_writes_nothing(aws):
    logs = aws[0]
    result = run(cloudwatchlogs_log_events, write(), check_mode=True)
    assert result["changed"] is True
    assert result["created"] == ["log_group", "log_stream"]
    assert result["events_written"] == 0
    assert logs.describe_log_groups()["logGroups"] == []


def test_writes_events_and_creates_only_what_is_missing(aws):
    logs = aws[0]
    first = run(cloudwatchlogs_log_events, write(messages=["a", "b"]))
    assert "failed" not in first
    assert (first["changed"], first["created"], first["events_written"]) == (True, ["log_group", "log_stream"], 2)
    second = run(cloudwatchlogs_log_events, write(messages=["c"]))
    assert (second["created"], second["events_written"]) == ([], 1)
    third = run(cloudwatchlogs_log_events, write(log_stream_name="other", messages=["d"]))
    assert third["created"] == ["log_stream"]
    assert events(logs, "/logvault/canary", "verify") == ["a", "b", "c"]
    assert events(logs, "/logvault/canary", "other") == ["d"]


def test_events_that_cloudwatch_logs_rejects_fail_the_task(aws):
    # More than 14 days old: PutLogEvents answers 200 with rejectedLogEventsInfo.
    result = run(cloudwatchlogs_log_events, write(timestamp=1500000000000))
    assert result["failed"] is True
    assert "rejected" in result["msg"]


def test_missing_log_group_fails_without_create_log_group(aws):
    logs = aws[0]
    result = run(cloudwatchlogs_log_events, write(create_log_group=False))
    assert result["failed"] is True
    assert "log_group_name" in result["msg"] and "create_log_group" in result["msg"]
    assert logs.describe_log_groups()["logGroups"] == []


@pytest.mark.parametrize("args,parameter", [
    (dict(log_group_name="bad name!"), "log_group_name"),
    (dict(log_stream_name="a:b"), "log_stream_name"),
    (dict(messages=["ok", ""]), "messages[1]"),
    (dict(messages=["x" * (256 * 1024)]), "messages[0]"),
    (dict(timestamp=-1), "timestamp"),
])
def test_bad_input_names_the_parameter_and_calls_nothing(aws, args, parameter):
    with mock.patch.object(boto3.session.Session, "client", side_effect=AssertionError("no AWS call expected")):
        result = run(cloudwatchlogs_log_events, write(**args))
    assert result["failed"] is True
    assert result["msg"].startswith(parameter)


def test_throttling_of_put_log_events_is_retried(aws):
    """A test double around botocore's _make_api_call: PutLogEvents is throttled once, then moto answers."""
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call
    calls = []

    def throttled_once(self, name, params):
        if name == "PutLogEvents":
            calls.append(name)
            if len(calls) == 1:
                raise ClientError({"Error": {"Code": "ThrottlingException", "Message": "Rate exceeded"}}, name)
        return original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", throttled_once), mock.patch("time.sleep") as sleep:
        result = run(cloudwatchlogs_log_events, write(messages=["a"]))
    assert result.get("failed") is not True, result.get("msg")
    assert result["events_written"] == 1 and len(calls) == 2 and sleep.call_count == 1


def test_batches_respect_the_put_log_events_limits():
    batch_sizes = [len(b) for b in cloudwatchlogs_log_events.batches([{"message": "x" * 1000}] * 2500)]
    # 1,026 bytes per event: 1,022 events (1,048,572 bytes) fit under 1,048,576 bytes.
    assert batch_sizes == [1022, 1022, 456]


# pipeline_canary_info

def put(s3, bucket, key, text, compress=False):
    body = text.encode()
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(body) if compress else body)


def test_finds_markers_in_gzip_archive_and_plain_search_backup(aws):
    s3 = aws[1]
    for bucket in ("archive", "backup"):
        s3.create_bucket(Bucket=bucket)
    put(s3, "archive", "logs/2026/a.ndjson.gz", '{"message": "m-1"}\n{"message": "m-2"}\n', compress=True)
    put(s3, "backup", "search-failed/x", '{"message": "m-1"}\n')
    put(s3, "backup", "elsewhere/y", '{"message": "m-2"}\n')
    result = run(pipeline_canary_info, dict(
        markers=["m-1", "m-2"], archive=dict(bucket="archive", prefix="logs/"),
        search_backup=dict(bucket="backup", prefix="search-failed/"), timeout=0,
    ))
    assert result["changed"] is False
    assert result["missing"] == ["m-2"]
    assert [(r["marker"], r["archive"], r["search"]) for r in result["results"]] == [("m-1", True, True), ("m-2", True, False)]
    assert result["objects_read"] == 2


def test_objects_older_than_the_canary_are_not_read(aws):
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    put(s3, "archive", "logs/old", "m-1")
    future = int((datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)).timestamp() * 1000)
    result = run(pipeline_canary_info, dict(markers=["m-1"], since=future, archive=dict(bucket="archive"), timeout=0))
    assert result["missing"] == ["m-1"]


def test_waits_until_a_marker_arrives(aws):
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    calls = []
    real_sleep = pipeline_canary_info.time.sleep

    def arrive_later(seconds):
        calls.append(seconds)
        put(s3, "archive", "logs/late", "m-late")
        real_sleep(0)

    with mock.patch.object(pipeline_canary_info.time, "sleep", side_effect=arrive_later):
        result = run(pipeline_canary_info, dict(markers=["m-late"], archive=dict(bucket="archive"), timeout=30, interval=1))
    assert result["missing"] == []
    assert calls == [1]


@pytest.mark.parametrize("args,text", [
    (dict(markers=[]), "markers"),
    (dict(markers=["m"], interval=0), "interval"),
    (dict(markers=["m"]), "archive, search_backup and opensearch"),
    (dict(markers=["m"], opensearch=dict(endpoint="http://plain.example.com")), "opensearch.endpoint"),
])
def test_canary_info_bad_input(aws, args, text):
    result = run(pipeline_canary_info, args)
    assert result["failed"] is True
    assert text in result["msg"]


# --- issue 14: a bounded listing ------------------------------------------------------------


def _listed(s3_calls):
    return [c for c in s3_calls if c[0] == "ListObjectsV2"]


def _recording():
    """A test double around botocore's _make_api_call that records each S3 call and its parameters."""
    import botocore.client

    original = botocore.client.BaseClient._make_api_call
    calls = []

    def record(self, name, params):
        calls.append((name, dict(params)))
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", record), calls


def test_listing_starts_after_the_hour_of_since_and_old_objects_are_not_read(aws):
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    put(s3, "archive", "logs/2026/12/01/08/archive-1-2026-12-01-08-00-00-old", "m-1")
    put(s3, "archive", "logs/2026/12/03/11/archive-1-2026-12-03-11-59-00-new", "m-1")
    since = int(datetime.datetime(2026, 12, 3, 12, 2, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    patch, calls = _recording()
    with patch, mock.patch.object(pipeline_canary_info.time, "sleep"):
        result = run(pipeline_canary_info, dict(markers=["m-1"], since=since, archive=dict(bucket="archive", prefix="logs/"), timeout=0))
    # 12:02 less the 5-minute grace is 11:57, so the listing starts after logs/2026/12/03/11/.
    assert [c[1].get("StartAfter") for c in _listed(calls)] == ["logs/2026/12/03/11/"]
    assert result["objects_read"] == 1
    assert not any(c[0] == "GetObject" and c[1]["Key"].endswith("-old") for c in calls)


def test_without_since_the_listing_starts_at_the_canary_start(aws):
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    put(s3, "archive", "logs/2020/01/01/00/archive-old", "m-1")
    patch, calls = _recording()
    with patch:
        result = run(pipeline_canary_info, dict(markers=["m-1"], archive=dict(bucket="archive", prefix="logs/"), timeout=0))
    expected = time.strftime("logs/%Y/%m/%d/%H/", time.gmtime(time.time() - 300))
    assert [c[1].get("StartAfter") for c in _listed(calls)] == [expected]
    assert result["objects_read"] == 0 and result["missing"] == ["m-1"]


def test_dated_keys_false_lists_the_whole_prefix(aws):
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    patch, calls = _recording()
    with patch:
        run(pipeline_canary_info, dict(markers=["m-1"], archive=dict(bucket="archive", prefix="x/", dated_keys=False), timeout=0))
    assert [c[1].get("StartAfter") for c in _listed(calls)] == [None]


def test_partitioned_archive_lists_only_the_canary_accounts_partitions_of_the_day(aws):
    """Issue 19: the archive is partitioned by account and day; the canary lists
    logs/account_id=<id>/dt=<day>/ for its accounts and days, not the whole archive."""
    s3 = aws[1]
    s3.create_bucket(Bucket="archive")
    today = time.strftime("%Y-%m-%d", time.gmtime())
    put(s3, "archive", "logs/account_id=111111111111/dt=%s/a.gz" % today, '{"message": "m-1"}\n', compress=True)
    put(s3, "archive", "logs/account_id=222222222222/dt=%s/b.gz" % today, '{"message": "m-2"}\n', compress=True)
    put(s3, "archive", "logs/account_id=333333333333/dt=%s/c.gz" % today, '{"message": "m-1 elsewhere"}\n')
    put(s3, "archive", "logs/account_id=111111111111/dt=2020-01-01/old.gz", '{"message": "old"}\n')
    patch, calls = _recording()
    with patch:
        result = run(pipeline_canary_info, dict(markers=["m-1", "m-2"], archive=dict(
            bucket="archive", prefix="logs/", accounts=["111111111111", "222222222222"]), timeout=0))
    assert result["missing"] == []
    prefixes = [c[1]["Prefix"] for c in _listed(calls)]
    assert {"logs/account_id=111111111111/dt=%s/" % today, "logs/account_id=222222222222/dt=%s/" % today} <= set(prefixes)
    assert all(p.startswith(("logs/account_id=111111111111/dt=", "logs/account_id=222222222222/dt=")) for p in prefixes)
    assert not any(c[1].get("StartAfter") for c in _listed(calls))
    assert result["objects_read"] == 2  # neither the other account's partition nor an old day


def test_partition_prefixes_cover_every_day_from_since_to_now(aws):  # pylint: disable=unused-argument
    since = int(datetime.datetime(2026, 12, 3, 0, 2, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    now = int(datetime.datetime(2026, 12, 4, 0, 1, tzinfo=datetime.timezone.utc).timestamp() * 1000)
    # 00:02 less the 5-minute grace is the day before; the look runs past midnight
    assert pipeline_canary_info.partition_prefixes("logs/", ["111111111111"], since, now) == [
        "logs/account_id=111111111111/dt=2026-12-02/", "logs/account_id=111111111111/dt=2026-12-03/",
        "logs/account_id=111111111111/dt=2026-12-04/"]


@pytest.mark.parametrize("accounts", [[], ["12345"], ["11111111111a"]])
def test_partition_accounts_are_validated(aws, accounts):  # pylint: disable=unused-argument
    result = run(pipeline_canary_info, dict(markers=["m"], archive=dict(bucket="archive", accounts=accounts), timeout=0))
    assert result["failed"] is True and "archive.accounts" in result["msg"]
