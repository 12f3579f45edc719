# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The alerts Lambda under faults (issue 16): no threshold alert lost or fired early,
long group values, retried records counted once, SNS size, poison records."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import gzip
import json
import random

import pytest

from botocore.exceptions import ClientError

from alerts_fixtures import MEMBER, cloudtrail, data_message, event, kinesis_record
from alerts_fixtures import kinesis_record as alerts_record
from test_alerts_handler import DENIED, QUIET, FailingSns, alerts, aws, clock, emf, make, received  # noqa: F401  pylint: disable=unused-import
from test_fault_injection import drive

DENIED_RULE = {"name": "denied", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'},
               "threshold": {"count": 3, "window_seconds": 300, "group_by": "account"}}


class BrokenDynamoDB:
    """TEST DOUBLE: the real (moto) DynamoDB client, whose writes fail while ``broken`` is set."""

    def __init__(self, real):
        self.real = real
        self.broken = False

    def __getattr__(self, name):
        method = getattr(self.real, name)
        if name in ("get_item",):
            return method

        def call(**kwargs):
            if self.broken:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "test double"}},
                                  name)
            return method(**kwargs)
        return call


class BreakingSns:
    """TEST DOUBLE: an SNS client whose first publish runs ``during`` (another shard's batch
    arriving meanwhile), then fails; later publishes go to the real topic."""

    def __init__(self, real, during=None, on_fail=None):
        self.real = real
        self.during = during
        self.on_fail = on_fail
        self.failed = False

    def publish(self, **kwargs):
        if not self.failed:
            self.failed = True
            if self.during:
                self.during()
            if self.on_fail:
                self.on_fail()
            raise ClientError({"Error": {"Code": "KMSThrottlingException", "Message": "test double"}}, "Publish")
        return self.real.publish(**kwargs)


def _shard(batch, shard):
    for record in batch["Records"]:
        record["eventID"] = "%s:%s" % (shard, record["kinesis"]["sequenceNumber"])
    return batch


def test_failed_publish_and_failed_undo_do_not_lose_the_alert(make, aws):
    broken = BrokenDynamoDB(aws["dynamodb"])
    sns = BreakingSns(aws["sns"], on_fail=lambda: setattr(broken, "broken", True))
    alerter, _lines = make([DENIED_RULE], sns=sns)
    alerter.dynamodb = broken
    batch = event([data_message([DENIED] * 4)])
    assert alerter.handle(batch)["batchItemFailures"]
    broken.broken = False  # DynamoDB is back; the mapping retries the batch
    assert alerter.handle(batch) == {"batchItemFailures": []}
    [alert] = received(aws)
    assert alert["body"]["window_count"] == 4
    assert alerter.handle(event([data_message([DENIED] * 2)])) == {"batchItemFailures": []}
    assert received(aws) == []  # once per window


def test_two_shards_counting_one_window_lose_no_alert(make, aws):
    """Shard B crosses N and its publish fails while shard A adds to the same window."""
    holder = {}

    def shard_a_arrives():
        holder["a"] = holder["alerter"].handle(_shard(event([data_message([DENIED])]), "shardId-A"))

    alerter, _lines = make([DENIED_RULE], sns=BreakingSns(aws["sns"], during=shard_a_arrives))
    holder["alerter"] = alerter
    alerter.sns.real = aws["sns"]
    assert alerter.handle(_shard(event([data_message([DENIED] * 2)]), "shardId-A")) == {"batchItemFailures": []}
    batch_b = _shard(event([data_message([DENIED] * 2)]), "shardId-B")
    assert alerter.handle(batch_b)["batchItemFailures"]  # 2 + 2 = 4 >= 3, the publish failed
    assert holder["a"] == {"batchItemFailures": []}     # A saw 5, B holds the flag: A does not alert
    assert received(aws) == []
    assert alerter.handle(batch_b) == {"batchItemFailures": []}  # B's retry
    [alert] = received(aws)
    assert alert["body"]["window_count"] == 5


def test_retried_records_are_counted_once(make, aws):
    """A threshold of 5 must not fire on 3 events because the batch was retried."""
    other = {"name": "any-denied", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'}}
    rule = dict(DENIED_RULE, threshold={"count": 5, "window_seconds": 300, "group_by": "account"})
    alerter, lines = make([rule, other], sns=FailingSns(aws["sns"], failures=1))
    batch = event([data_message([DENIED] * 3)])
    assert alerter.handle(batch)["batchItemFailures"]  # the rule without threshold failed to publish
    assert alerter.handle(batch) == {"batchItemFailures": []}
    assert [a["body"]["rule"] for a in received(aws)] == ["any-denied"]
    assert emf(lines[-1:])["AlreadyCounted"] == 3
    item = [i for i in aws["dynamodb"].scan(TableName="alerts-state")["Items"] if i["pk"]["S"].startswith("window#")]
    assert [int(i["count"]["N"]) for i in item] == [3]
    # a bisected batch: the second half again, then a new record: only the new one counts
    alerter.handle({"Records": batch["Records"]})
    assert [a["body"]["rule"] for a in received(aws)] == ["any-denied"]  # at least once for rules without threshold
    alerter.handle(event([data_message([DENIED] * 2)]))
    [alert] = [a for a in received(aws) if a["body"]["rule"] == "denied"]
    assert alert["body"]["window_count"] == 5


def test_a_long_group_value_is_hashed_into_the_key(make, aws):
    agent = "Mozilla/5.0 " + "A" * 4000
    rule = {"name": "by-agent", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'},
            "threshold": {"count": 2, "window_seconds": 300, "group_by": "$.userAgent"}, "suppress_for": 60}
    other = {"name": "any-denied", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'}}
    alerter, _lines = make([rule, other])
    crafted = cloudtrail("DescribeInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                         userAgent=agent)
    assert alerter.handle(event([data_message([crafted] * 2)])) == {"batchItemFailures": []}
    alerts_sent = {a["body"]["rule"]: a["body"] for a in received(aws)}
    assert sorted(alerts_sent) == ["any-denied", "by-agent"]
    assert alerts_sent["by-agent"]["group"].startswith("%s:Mozilla/5.0 AAAA" % MEMBER)
    for item in aws["dynamodb"].scan(TableName="alerts-state")["Items"]:
        assert len(item["pk"]["S"].encode()) < 2048
    window = [i for i in aws["dynamodb"].scan(TableName="alerts-state")["Items"] if i["pk"]["S"].startswith("window#")]
    assert window[0]["group"]["S"].startswith("%s:Mozilla/5.0 AAAA" % MEMBER)


class RecordingSns:
    """TEST DOUBLE: records what is published, then passes it on."""

    def __init__(self, real):
        self.real = real
        self.sent = []

    def publish(self, **kwargs):
        self.sent.append(kwargs)
        return self.real.publish(**kwargs)


def test_sns_message_fits_256_kib_whatever_the_lists(make, aws):
    """400 long log group names in one window: about 500 KB of names without any sample."""
    rule = {"name": "any", "match": {"filter_pattern": "ERROR"},
            "threshold": {"count": 1, "window_seconds": 300, "group_by": "account"}}
    sns = RecordingSns(aws["sns"])
    alerter, _lines = make([rule], sns=sns)
    groups = ["/app/%03d/%s" % (i, "g" * 500) for i in range(400)]
    batch = event([data_message(["ERROR " + "x" * 3000], log_group=group) for group in groups])
    assert alerter.handle(batch) == {"batchItemFailures": []}
    [sent] = sns.sent
    size = len(sent["Message"].encode("utf-8"))
    assert size <= 256 * 1024
    body = json.loads(sent["Message"])
    assert body["log_groups_total"] == 400 and body["count"] == 400 and body["lists_truncated"] is True
    assert 0 < len(body["log_groups"]) <= 50 and len(body["insights"]["log_group_names"]) <= 50
    [alert] = received(aws)
    assert alert["body"]["rule"] == "any"


def test_poison_records_are_counted_not_fatal(make, aws):
    rule = {"name": "any", "match": {"filter_pattern": "ERROR"},
            "threshold": {"count": 2, "window_seconds": 300, "group_by": "log_group"}}
    alerter, lines = make([rule])
    deep = gzip.compress(("[" * 200000 + "]" * 200000).encode())
    bomb = gzip.compress(b" " * (8 * 1024 * 1024))
    payload = data_message(["ERROR one", "ERROR two"])
    payload["logEvents"][0]["timestamp"] = "soon"
    payload["logEvents"][1]["timestamp"] = None
    records = [kinesis_record(None, 0, raw=deep), kinesis_record(None, 1, raw=bomb), kinesis_record(payload, 2)]
    assert alerter.handle({"Records": records}) == {"batchItemFailures": []}
    metrics = emf(lines)
    assert metrics["MalformedRecords"] == 2 and metrics["BadTimestamps"] == 2
    [alert] = received(aws)
    assert alert["body"]["count"] == 2


# ------------------------------------------------------------------ fault injection
DEEP = gzip.compress(("[" * 100000 + "]" * 100000).encode())


class ChaosDynamoDB:
    """TEST DOUBLE: the (moto) DynamoDB client whose writes fail at random."""

    def __init__(self, real, rng, rate):
        self.real, self.rng, self.rate = real, rng, rate

    def __getattr__(self, name):
        method = getattr(self.real, name)

        def call(**kwargs):
            if name != "get_item" and self.rng.random() < self.rate:
                raise ClientError({"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "chaos"}}, name)
            return method(**kwargs)
        return call


class ChaosSns:
    """TEST DOUBLE: SNS whose publish fails at random (after the message left, sometimes)."""

    def __init__(self, real, rng, rate):
        self.real, self.rng, self.rate = real, rng, rate

    def publish(self, **kwargs):
        if self.rng.random() < self.rate:
            raise ClientError({"Error": {"Code": "Throttling", "Message": "chaos"}}, "Publish")
        return self.real.publish(**kwargs)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_alerts_lose_no_threshold_alert_and_never_fire_early(make, aws, seed):
    rng = random.Random(seed)
    rule = {"name": "denied", "match": {"filter_pattern": '{ $.errorCode = "*UnauthorizedOperation" }'},
            "threshold": {"count": 6, "window_seconds": 300, "group_by": "account"}}
    alerter, _lines = make([rule])
    alerter.dynamodb = ChaosDynamoDB(aws["dynamodb"], rng, 0.15)
    alerter.sns = ChaosSns(aws["sns"], rng, 0.3)
    accounts = ["1111111111%02d" % i for i in range(4)]
    matches = dict.fromkeys(accounts, 0)
    shards = {}
    for index in range(60):
        account = rng.choice(accounts)
        denied = rng.randint(0, 2)
        if rng.random() < 0.1:
            record = alerts_record(None, index, raw=DEEP)
        else:
            record = alerts_record(data_message([DENIED] * denied + [QUIET], owner=account), index)
            matches[account] += denied
        shard = "shardId-%d" % (index % 2)
        record["eventID"] = "%s:%s" % (shard, record["kinesis"]["sequenceNumber"])
        shards.setdefault(shard, []).append(record)
    lost = []
    for shard_records in shards.values():
        for start in range(0, len(shard_records), 10):
            lost += drive(alerter.handle, shard_records[start:start + 10], max_retries=40)
    assert not lost, "the mapping gave up on %d records" % len(lost)
    alerts_by_account = {}
    for alert in received(aws):
        body = alert["body"]
        alerts_by_account.setdefault(body["group"], []).append(body)
    for account, count in matches.items():
        sent = alerts_by_account.get(account, [])
        if count >= 6:
            assert sent, (seed, account, count, "threshold alert lost")
        else:
            assert not sent, (seed, account, count, "fired early")
        for body in sent:
            assert body["window_count"] >= 6 and body["window_count"] <= count, (seed, account, body["window_count"])
