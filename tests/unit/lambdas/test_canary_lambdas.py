# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The member canary Lambda and the central canary monitor, against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import gzip
import importlib
import json
import os
import sys
import time

import boto3
import pytest
from moto import mock_aws

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
REGION = "us-east-1"
A, B = "111111111111", "222222222222"


def _load(folder, name):
    path = os.path.join(REPO, "roles", folder)
    if path not in sys.path:
        sys.path.insert(0, path)
    return importlib.import_module(name)


class FakeContext(object):
    """TEST DOUBLE of the Lambda context."""
    invoked_function_arn = "arn:aws:lambda:us-east-1:%s:function:logvault-canary" % A


@pytest.fixture
def aws(monkeypatch):
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"),
                       ("AWS_DEFAULT_REGION", REGION), ("AWS_REGION", REGION)):
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield


def test_canary_writes_one_event_with_its_schedule(aws, monkeypatch):
    canary = _load("member_account/files/canary_lambda", "logvault_canary")
    canary._LOGS.clear()  # pylint: disable=protected-access
    logs = boto3.client("logs", region_name=REGION)
    logs.create_log_group(logGroupName="/logvault/canary")
    monkeypatch.setenv("CANARY_LOG_GROUP", "/logvault/canary")
    first = canary.handler({"scheduled_time": "2026-12-03T19:30:00Z", "execution_id": "exec-1"}, FakeContext())
    canary.handler({"scheduled_time": "2026-12-03T19:35:00Z", "execution_id": "exec-2"}, FakeContext())
    events = logs.filter_log_events(logGroupName="/logvault/canary")["events"]
    documents = [json.loads(e["message"]) for e in events]
    assert [d["canary_id"] for d in documents] == ["exec-1", "exec-2"], "same day: the stream is reused"
    assert documents[0] == first
    assert first["account"] == A and first["region"] == REGION and first["logvault_canary"] == 1
    assert first["scheduled_time"] == "2026-12-03T19:30:00Z"


def _iso(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _doc(account, region, scheduled, canary_id):
    canary = {"logvault_canary": 1, "canary_id": canary_id, "account": account, "region": region,
              "scheduled_time": _iso(scheduled), "written_time": _iso(scheduled)}
    return json.dumps({"@timestamp": _iso(scheduled), "message": json.dumps(canary), "account_id": account, "region": region})


def _put(s3, bucket, key, lines):
    s3.put_object(Bucket=bucket, Key=key, Body=gzip.compress(("\n".join(lines) + "\n").encode("utf-8")))


def _metrics(cw, name):
    result = {}
    for metric in cw.list_metrics(Namespace="Logvault/Canary", MetricName=name)["Metrics"]:
        dims = dict((d["Name"], d["Value"]) for d in metric["Dimensions"])
        stats = cw.get_metric_statistics(Namespace="Logvault/Canary", MetricName=name, Dimensions=metric["Dimensions"],
                                         StartTime=datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1),
                                         EndTime=datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=5),
                                         Period=3600, Statistics=["Maximum"])["Datapoints"]
        result[tuple(sorted(dims.items()))] = max(p["Maximum"] for p in stats)
    return result


def test_monitor_publishes_latency_per_path_and_unhealthy_per_account_and_region(aws, monkeypatch):
    monitor = _load("central_account/files/canary_monitor", "logvault_canary_monitor")
    s3 = boto3.client("s3", region_name=REGION)
    s3.create_bucket(Bucket="archive")
    s3.create_bucket(Bucket="dead-letter")
    now = time.time()
    day = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime("%Y-%m-%d")
    hour = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc).strftime("%Y/%m/%d/%H")
    # A delivered in both regions and both paths; B only reached the archive (search missing);
    # noise: verify.yml's canary (a string marker) and an ordinary event.
    _put(s3, "archive", "logs/account_id=%s/dt=%s/a.gz" % (A, day),
         [_doc(A, REGION, now - 30, "a1"), _doc(A, "eu-west-1", now - 30, "a2"),
          json.dumps({"message": json.dumps({"logvault_canary": "logvault-canary-x", "account": A})}),
          json.dumps({"message": "hello"})])
    _put(s3, "archive", "logs/account_id=%s/dt=%s/b.gz" % (B, day), [_doc(B, REGION, now - 30, "b1")])
    _put(s3, "dead-letter", "search-failed/%s/s.gz" % hour, [_doc(A, REGION, now - 30, "a1"), _doc(A, "eu-west-1", now - 30, "a2")])
    for key, value in (("ACCOUNTS", "%s,%s" % (A, B)), ("REGIONS", "us-east-1,eu-west-1"), ("ARCHIVE_BUCKET", "archive"),
                       ("ARCHIVE_PREFIX", "logs/"), ("SEARCH_BUCKET", "dead-letter"), ("SEARCH_PREFIX", "search-failed/"),
                       ("INTERVAL_SECONDS", "300"), ("MISSING_AFTER_SECONDS", "900"), ("LATENCY_THRESHOLD_SECONDS", "900")):
        monkeypatch.setenv(key, value)
    result = monitor.handler({}, None)
    assert result["canaries"] == {"archive": 3, "search": 2}
    assert result["accounts"]["%s/us-east-1" % A].startswith("ok")
    assert result["accounts"]["%s/us-east-1" % B] == "missing" and result["accounts"]["%s/eu-west-1" % B] == "missing"
    cw = boto3.client("cloudwatch", region_name=REGION)
    latency = _metrics(cw, "CanaryLatency")
    assert set(latency) == {
        (("Account", A), ("Path", "archive"), ("Region", REGION)), (("Account", A), ("Path", "archive"), ("Region", "eu-west-1")),
        (("Account", A), ("Path", "search"), ("Region", REGION)), (("Account", A), ("Path", "search"), ("Region", "eu-west-1")),
        (("Account", B), ("Path", "archive"), ("Region", REGION))}
    assert all(25 <= v <= 120 for v in latency.values()), latency
    unhealthy = _metrics(cw, "CanaryUnhealthy")
    assert unhealthy == {(("Account", A), ("Region", REGION)): 0, (("Account", A), ("Region", "eu-west-1")): 0,
                         (("Account", B), ("Region", REGION)): 1, (("Account", B), ("Region", "eu-west-1")): 1}


def test_late_and_old_canaries(aws):
    monitor = _load("central_account/files/canary_monitor", "logvault_canary_monitor")
    now = 1_800_000_000.0
    canary = {"canary_id": "x", "account": A, "region": REGION, "scheduled_time": _iso(now - 1000)}
    paths = {"archive": {"x": (canary, now - 10)}, "search": {"x": (canary, now - 5)}}
    datums, report = monitor.measure(paths, [A], [REGION], now, 300, 1200, 900)
    assert report == {"%s/%s" % (A, REGION): "late (995 s)"}
    assert [d["Value"] for d in datums if d["MetricName"] == "CanaryUnhealthy"] == [1]
    _datums, report = monitor.measure(paths, [A], [REGION], now, 300, 900, 2000)
    assert report == {"%s/%s" % (A, REGION): "missing"}, "scheduled before the missing window"
    day = monitor._day  # pylint: disable=protected-access
    assert monitor.days_between(now - 86400 * 2, now) == [day(now - 86400 * 2), day(now - 86400), day(now)]
