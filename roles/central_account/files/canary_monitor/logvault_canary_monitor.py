# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault canary monitor: how long each member canary took to reach the archive and search.

Handler: ``logvault_canary_monitor.handler``. Standard library and the runtime's boto3 only.
EventBridge Scheduler invokes it every ``INTERVAL_SECONDS`` (docs/health.md).

Each member account and region runs a canary function that writes one canary event
(``{"logvault_canary": 1, "canary_id", "account", "region", "scheduled_time", ...}``) into a
subscribed log group. Each run of this monitor:

* lists the archive's partitions of the expected accounts for the days of the look-back
  window (``<ARCHIVE_PREFIX>account_id=<id>/dt=<yyyy-MM-dd>/``, one ListObjectsV2 per account
  and day, as ``logvault.aws.pipeline_canary_info`` does with ``archive.accounts``), and reads
  the objects written in the window;
* reads search: the search Firehose stream's S3 backup (``SEARCH_BUCKET``/``SEARCH_PREFIX``,
  with ``S3BackupMode`` AllDocuments, as in the local emulator), listed from the window's first
  hour (Firehose's ``YYYY/MM/DD/HH/`` key path); or, with ``OPENSEARCH_ENDPOINT``, the domain
  (a SigV4-signed ``_search`` as the monitor's role, which the domain must map to a read role);
* publishes in namespace ``NAMESPACE`` (default ``Logvault/Canary``) with one PutMetricData
  call per 1,000 datums
  (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricData.html):

  - ``CanaryLatency`` (seconds; dimensions ``Account``, ``Region``, ``Path`` = ``archive`` or
    ``search``), once per canary that arrived since the previous run, with the canary's
    ``scheduled_time`` as timestamp: arrival (the S3 object's LastModified) minus scheduled time.
    OpenSearch keeps no arrival time, so on a domain the search latency is an upper bound:
    the time of the first run that found the canary, measured once per canary (when its scheduled
    time is between two and one intervals ago);
  - ``CanaryUnhealthy`` (0 or 1; dimensions ``Account``, ``Region``) for every expected account
    and region: 1 when no canary scheduled in the last ``MISSING_AFTER_SECONDS`` reached both
    paths, or when the newest one that did took longer than ``LATENCY_THRESHOLD_SECONDS`` on
    either. One alarm per account and region watches it (TreatMissingData breaching, so a
    monitor that stops publishing fires them all).
"""

import datetime
import gzip
import json
import os
import time
import urllib.request

import boto3

MAX_DATUMS = 1000
# Every metric this function publishes, with its dimension names (tests/unit/test_health_dashboard.py
# checks the health dashboard against this).
METRICS = {
    "CanaryLatency": ("Account", "Region", "Path"),
    "CanaryUnhealthy": ("Account", "Region"),
}
MAX_OBJECTS = 2000


def _env_list(name):
    return [v.strip() for v in os.environ.get(name, "").split(",") if v.strip()]


def _epoch(text):
    text = str(text).replace("Z", "+00:00")
    when = datetime.datetime.fromisoformat(text)
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    return when.timestamp()


def _day(epoch):
    return datetime.datetime.fromtimestamp(epoch, tz=datetime.timezone.utc).strftime("%Y-%m-%d")


def days_between(start, end):
    days, day = [], start
    while True:
        days.append(_day(day))
        if _day(day) == _day(end):
            return days
        day += 86400
        if day > end:
            day = end


def canaries_in_text(text):
    """The canary documents in an NDJSON text (archive or search backup objects)."""
    found = []
    for line in text.splitlines():
        if "logvault_canary" not in line or "scheduled_time" not in line:
            continue
        try:
            document = json.loads(line)
            message = document.get("message")
            canary = json.loads(message) if isinstance(message, str) else message
        except (ValueError, TypeError, AttributeError):
            continue
        if isinstance(canary, dict) and canary.get("logvault_canary") == 1 and canary.get("canary_id") and canary.get("scheduled_time"):
            found.append(canary)
    return found


def _read(s3, bucket, key):
    body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    return body.decode("utf-8", errors="replace")


def _objects(s3, bucket, prefix, since, start_after=None):
    """Objects under ``prefix`` written at or after ``since`` (bounded to MAX_OBJECTS)."""
    paginator = s3.get_paginator("list_objects_v2")
    kwargs = {"Bucket": bucket, "Prefix": prefix}
    if start_after:
        kwargs["StartAfter"] = start_after
    count = 0
    for page in paginator.paginate(**kwargs):
        for obj in page.get("Contents", []):
            if obj["LastModified"].timestamp() >= since:
                count += 1
                if count > MAX_OBJECTS:
                    return
                yield obj


def arrivals_in_s3(s3, bucket, keys_and_times):
    """{canary_id: (canary, arrival epoch)} from the objects, first arrival kept."""
    found = {}
    for key, arrival in keys_and_times:
        for canary in canaries_in_text(_read(s3, bucket, key)):
            known = found.get(canary["canary_id"])
            if known is None or arrival < known[1]:
                found[canary["canary_id"]] = (canary, arrival)
    return found


def archive_arrivals(s3, bucket, prefix, accounts, since, now):
    listed = []
    for account in accounts:
        for day in days_between(since, now):
            for obj in _objects(s3, bucket, "%saccount_id=%s/dt=%s/" % (prefix, account, day), since):
                listed.append((obj["Key"], obj["LastModified"].timestamp()))
    return arrivals_in_s3(s3, bucket, listed)


def search_backup_arrivals(s3, bucket, prefix, since):
    start_after = prefix + datetime.datetime.fromtimestamp(since - 3600, tz=datetime.timezone.utc).strftime("%Y/%m/%d/%H/")
    listed = [(obj["Key"], obj["LastModified"].timestamp()) for obj in _objects(s3, bucket, prefix, since, start_after)]
    return arrivals_in_s3(s3, bucket, listed)


def opensearch_arrivals(endpoint, index, since, now, interval, region):
    """Canaries found in the domain; arrival = now (OpenSearch keeps no arrival time)."""
    from botocore.auth import SigV4Auth  # pylint: disable=import-outside-toplevel
    from botocore.awsrequest import AWSRequest  # pylint: disable=import-outside-toplevel

    query = {"size": 1000, "_source": ["message"], "query": {"bool": {"filter": [
        {"match_phrase": {"message": "logvault_canary"}},
        {"range": {"@timestamp": {"gte": int(since * 1000), "format": "epoch_millis"}}}]}}}
    url = endpoint.rstrip("/") + "/%s/_search" % index
    if "://" not in url:
        url = "https://" + url
    body = json.dumps(query).encode("utf-8")
    request = AWSRequest(method="POST", url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(boto3.Session().get_credentials(), "es", region).add_auth(request)
    prepared = urllib.request.Request(url, data=body, headers=dict(request.headers.items()), method="POST")
    with urllib.request.urlopen(prepared, timeout=20) as response:  # nosec B310: the domain's https endpoint
        hits = json.loads(response.read().decode("utf-8")).get("hits", {}).get("hits", [])
    found = {}
    for hit in hits:
        for canary in canaries_in_text(json.dumps(hit.get("_source", {}))):
            scheduled = _epoch(canary["scheduled_time"])
            if now - 2 * interval <= scheduled < now - interval:
                found[canary["canary_id"]] = (canary, now)
    return found


def _dimensions(metric, *values):
    return [{"Name": name, "Value": value} for name, value in zip(METRICS[metric], values)]


def measure(paths, accounts, regions, now, interval, missing_after, threshold, resolution=60):
    """The datums for ``paths`` = {"archive": arrivals, "search": arrivals}."""
    datums = []
    newest = {}
    for path, arrivals in sorted(paths.items()):
        for canary, arrival in arrivals.values():
            scheduled = _epoch(canary["scheduled_time"])
            key = (str(canary["account"]), str(canary["region"]))
            latency = max(0.0, arrival - scheduled)
            if arrival >= now - interval:
                datums.append({
                    "MetricName": "CanaryLatency", "Unit": "Seconds", "Value": round(latency, 3),
                    "Timestamp": datetime.datetime.fromtimestamp(scheduled, tz=datetime.timezone.utc),
                    "Dimensions": _dimensions("CanaryLatency", key[0], key[1], path)})
            newest.setdefault(key, {}).setdefault(canary["canary_id"], {})[path] = (scheduled, latency)
    when = datetime.datetime.fromtimestamp(now, tz=datetime.timezone.utc)
    report = {}
    for account in accounts:
        for region in regions:
            both = [(by_path["archive"][0], max(by_path["archive"][1], by_path["search"][1]))
                    for by_path in newest.get((account, region), {}).values()
                    if "archive" in by_path and "search" in by_path and by_path["archive"][0] >= now - missing_after]
            if not both:
                unhealthy, reason = 1, "missing"
            else:
                scheduled, latency = max(both)
                unhealthy = 1 if latency > threshold else 0
                reason = "late (%.0f s)" % latency if unhealthy else "ok (%.0f s)" % latency
            report["%s/%s" % (account, region)] = reason
            datums.append({"MetricName": "CanaryUnhealthy", "Unit": "Count", "Value": unhealthy, "Timestamp": when,
                           "StorageResolution": resolution,
                           "Dimensions": _dimensions("CanaryUnhealthy", account, region)})
    return datums, report


def publish(cloudwatch, namespace, datums):
    for start in range(0, len(datums), MAX_DATUMS):
        cloudwatch.put_metric_data(Namespace=namespace, MetricData=datums[start:start + MAX_DATUMS])


def handler(event, context):  # pylint: disable=unused-argument
    now = time.time()
    interval = float(os.environ.get("INTERVAL_SECONDS", "300"))
    missing_after = float(os.environ.get("MISSING_AFTER_SECONDS", str(3 * interval)))
    threshold = float(os.environ.get("LATENCY_THRESHOLD_SECONDS", "900"))
    accounts, regions = _env_list("ACCOUNTS"), _env_list("REGIONS")
    since = now - missing_after - interval
    s3 = boto3.client("s3")
    paths = {"archive": archive_arrivals(s3, os.environ["ARCHIVE_BUCKET"], os.environ.get("ARCHIVE_PREFIX", "logs/"),
                                         accounts, since, now)}
    if os.environ.get("OPENSEARCH_ENDPOINT"):
        paths["search"] = opensearch_arrivals(os.environ["OPENSEARCH_ENDPOINT"], os.environ.get("OPENSEARCH_INDEX", "logs-*"),
                                              since, now, interval, os.environ.get("AWS_REGION", "us-east-1"))
    else:
        paths["search"] = search_backup_arrivals(s3, os.environ["SEARCH_BUCKET"], os.environ.get("SEARCH_PREFIX", ""), since)
    resolution = 1 if os.environ.get("STORAGE_RESOLUTION") == "1" else 60
    datums, report = measure(paths, accounts, regions, now, interval, missing_after, threshold, resolution)
    publish(boto3.client("cloudwatch"), os.environ.get("NAMESPACE", "Logvault/Canary"), datums)
    result = {"datums": len(datums), "canaries": dict((p, len(a)) for p, a in paths.items()), "accounts": report}
    print(json.dumps(result, sort_keys=True))
    return result
