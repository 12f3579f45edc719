# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_log_groups (issue 17: the log groups of every region in one module run), in-process against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import botocore
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_log_groups as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
TAGS = {"logvault:managed-by": "logvault.aws"}


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff)


@pytest.fixture
def logs(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws(), mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("one client per region expected")):
        yield dict((r, boto3.client("logs", region_name=r)) for r in REGIONS)


def groups_of(client):
    found = {}
    for group in client.describe_log_groups()["logGroups"]:
        arn = group["arn"][:-2]
        found[group["logGroupName"]] = (group.get("retentionInDays"), client.list_tags_for_resource(resourceArn=arn)["tags"])
    return found


def args(**extra):
    base = dict(regions=REGIONS, tags=TAGS, log_groups=[
        {"name": "/logvault/fluentd", "retention_days": 14},
        {"name": "/app/orders", "retention_days": 90, "regions": ["eu-west-1"], "tags": {"team": "orders"}},
    ])
    base.update(extra)
    return base


def test_every_region_in_one_run_check_mode_create_rerun(logs):
    first = run(args(), check_mode=True, diff=True)
    assert first["changed"] is True
    assert [e["action"] for e in first["regions"]["eu-west-1"]["log_groups"]] == ["created", "created"]
    assert [e["log_group_name"] for e in first["regions"]["us-east-1"]["log_groups"]] == ["/logvault/fluentd"]
    assert [d["before_header"] for d in first["diff"]] == ["%s (before)" % r for r in REGIONS]
    assert all(groups_of(c) == {} for c in logs.values()), "check mode wrote"

    second = run(args())
    assert second["changed"] is True
    assert groups_of(logs["us-east-1"]) == {"/logvault/fluentd": (14, TAGS)}
    assert groups_of(logs["eu-west-1"]) == {"/logvault/fluentd": (14, TAGS), "/app/orders": (90, dict(TAGS, team="orders"))}

    for check_mode in (True, False):
        again = run(args(), check_mode=check_mode)
        assert again["changed"] is False
        assert all(e["action"] == "unchanged" for r in again["regions"].values() for e in r["log_groups"])


def test_retention_and_tags_drift_is_corrected_in_that_region_only(logs):
    run(args())
    arn = logs["ap-southeast-2"].describe_log_groups()["logGroups"][0]["arn"][:-2]
    logs["ap-southeast-2"].put_retention_policy(logGroupName="/logvault/fluentd", retentionInDays=3)
    logs["ap-southeast-2"].tag_resource(resourceArn=arn, tags={"extra": "x"})
    predicted = run(args(), check_mode=True, diff=True)
    assert {r: v["changed"] for r, v in predicted["regions"].items()} == {"us-east-1": False, "eu-west-1": False, "ap-southeast-2": True}
    assert predicted["diff"] == [{"before": {"/logvault/fluentd": {"retention_in_days": 3, "tags": dict(TAGS, extra="x")}},
                                  "after": {"/logvault/fluentd": {"retention_in_days": 14, "tags": TAGS}},
                                  "before_header": "ap-southeast-2 (before)", "after_header": "ap-southeast-2 (after)"}]
    assert groups_of(logs["ap-southeast-2"])["/logvault/fluentd"][0] == 3, "check mode wrote"
    assert run(args())["changed"] is True
    assert groups_of(logs["ap-southeast-2"]) == {"/logvault/fluentd": (14, TAGS)}
    assert run(args())["changed"] is False


def test_one_region_failing_names_it_and_the_others_are_still_done(logs):
    original = module_under_test._describe_log_groups

    def describe(client, name):
        if client.meta.region_name == "eu-west-1":
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied in eu-west-1"}},
                                                  "DescribeLogGroups")
        return original(client, name)

    with mock.patch.object(module_under_test, "_describe_log_groups", describe):
        result = run(args())
    assert result["failed"] is True
    assert result["msg"].startswith("Log groups failed in 1 of 3 regions: eu-west-1: Failed to describe log group /logvault/fluentd")
    assert "denied in eu-west-1" in result["msg"]
    assert result["regions"]["us-east-1"]["changed"] is True and result["regions"]["eu-west-1"]["failed"] is True
    assert "/logvault/fluentd" in groups_of(logs["us-east-1"]) and groups_of(logs["eu-west-1"]) == {}


def _failing(operation, region, after=0):
    """Test double: botocore's _make_api_call, where ``operation`` fails in ``region`` after ``after`` successful calls."""
    original = botocore.client.BaseClient._make_api_call
    seen = []

    def fake(self, name, params):
        if name == operation and self.meta.region_name == region:
            seen.append(params)
            if len(seen) > after:
                raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "denied"}}, name)
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake)


def test_a_region_that_failed_after_a_write_is_reported_changed(logs):
    """A group created before the group that failed, or a group created whose retention then failed: the region changed."""
    two = [{"name": "/logvault/a", "retention_days": 14}, {"name": "/logvault/b", "retention_days": 14}]
    with _failing("CreateLogGroup", "eu-west-1", after=1):
        result = run(args(log_groups=two))
    assert result["failed"] is True and result["changed"] is True
    failed = result["regions"]["eu-west-1"]
    assert failed["failed"] is True and failed["changed"] is True
    assert [e["log_group_name"] for e in failed["log_groups"]] == ["/logvault/a"]
    assert list(groups_of(logs["eu-west-1"])) == ["/logvault/a"]

    with _failing("PutRetentionPolicy", "us-east-1"):
        result = run(args(log_groups=[{"name": "/logvault/c", "retention_days": 14}]))
    assert result["regions"]["us-east-1"]["failed"] is True and result["regions"]["us-east-1"]["changed"] is True
    assert "Created log group /logvault/c, but failed to set its retention" in result["msg"]
    assert "/logvault/c" in groups_of(logs["us-east-1"])


def test_a_region_that_failed_before_any_write_is_not_changed(logs):
    run(args())
    logs["eu-west-1"].put_retention_policy(logGroupName="/logvault/fluentd", retentionInDays=3)
    with _failing("PutRetentionPolicy", "eu-west-1"):
        result = run(args())
    assert result["failed"] is True and result["changed"] is False
    assert result["regions"]["eu-west-1"]["changed"] is False and "Failed to update log group /logvault/fluentd" in result["msg"]


def _recording():
    """Test double: botocore's _make_api_call, recording (region, operation, params) of every call."""
    original = botocore.client.BaseClient._make_api_call
    seen = []

    def fake(self, name, params):
        seen.append((self.meta.region_name, name, dict(params)))
        return original(self, name, params)

    return seen, mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake)


def _describes(seen, region):
    return [p.get("logGroupNamePrefix") for r, name, p in seen if r == region and name == "DescribeLogGroups"]


def test_groups_of_one_folder_are_read_in_one_call_per_region(logs):
    two = [{"name": "/logvault/fluentd", "retention_days": 14}, {"name": "/logvault/canary", "retention_days": 7},
           {"name": "/app/orders", "retention_days": 90}]
    seen, recording = _recording()
    with recording:
        created = run(args(log_groups=two), check_mode=True)
    # /logvault/ holds two of them: one call; /app/orders is alone in its folder: its own call.
    assert all(_describes(seen, r) == ["/logvault/", "/app/orders"] for r in REGIONS), seen
    assert all(e["action"] == "created" for r in created["regions"].values() for e in r["log_groups"])
    run(args(log_groups=two))
    logs["eu-west-1"].put_retention_policy(logGroupName="/logvault/canary", retentionInDays=3)
    seen, recording = _recording()
    with recording:
        again = run(args(log_groups=two), diff=True)
    assert all(_describes(seen, r) == ["/logvault/", "/app/orders"] for r in REGIONS), seen
    assert {r: v["changed"] for r, v in again["regions"].items()} == {"us-east-1": False, "eu-west-1": True, "ap-southeast-2": False}
    assert groups_of(logs["eu-west-1"])["/logvault/canary"] == (7, TAGS)
    assert run(args(log_groups=two))["changed"] is False


def test_a_folder_with_more_groups_than_one_page_reads_the_unsettled_group_alone(logs):
    # 60 other groups under /logvault/ in us-east-1: the first page (50, ASCII order) ends before /logvault/zz-*.
    for n in range(60):
        logs["us-east-1"].create_log_group(logGroupName="/logvault/a%02d" % n)
    logs["us-east-1"].create_log_group(logGroupName="/logvault/zz-present")
    logs["us-east-1"].put_retention_policy(logGroupName="/logvault/zz-present", retentionInDays=3)
    two = [{"name": "/logvault/a05", "retention_days": 14}, {"name": "/logvault/zz-present", "retention_days": 14},
           {"name": "/logvault/zz-missing", "retention_days": 14}]
    seen, recording = _recording()
    with recording:
        result = run(dict(region="us-east-1", log_groups=two, tags=TAGS))
    assert _describes(seen, "us-east-1") == ["/logvault/", "/logvault/zz-present", "/logvault/zz-missing"]
    actions = dict((e["log_group_name"], e["action"]) for e in result["regions"]["us-east-1"]["log_groups"])
    # Not "created" for the group beyond the first page: it exists and only its retention and tags change.
    assert actions == {"/logvault/a05": "updated", "/logvault/zz-present": "updated", "/logvault/zz-missing": "created"}
    retention = dict((g["logGroupName"], g.get("retentionInDays"))
                     for g in logs["us-east-1"].describe_log_groups(logGroupNamePrefix="/logvault/zz-")["logGroups"])
    assert retention == {"/logvault/zz-present": 14, "/logvault/zz-missing": 14}


def test_a_failed_read_of_a_folder_fails_the_region_before_any_write(logs):
    three = [{"name": "/app/orders"}, {"name": "/logvault/a", "retention_days": 14}, {"name": "/logvault/b", "retention_days": 14}]
    with _failing("DescribeLogGroups", "eu-west-1"):
        result = run(args(log_groups=three))
    failed = result["regions"]["eu-west-1"]
    assert failed["failed"] is True and failed["changed"] is False
    # The message names the groups of the folder that could not be read, not the group read on its own.
    assert "eu-west-1: Failed to describe log groups /logvault/a, /logvault/b (prefix /logvault/)" in result["msg"]
    assert "/app/orders" not in result["msg"]
    assert groups_of(logs["eu-west-1"]) == {}
    assert set(groups_of(logs["us-east-1"])) == {"/app/orders", "/logvault/a", "/logvault/b"}


def test_one_region_without_regions_uses_region(logs):
    result = run(dict(region="eu-west-1", log_groups=[{"name": "/g"}]))
    assert list(result["regions"]) == ["eu-west-1"] and list(groups_of(logs["eu-west-1"])) == ["/g"]


@pytest.mark.parametrize("bad,param,text", [
    ({"regions": ["us-east-1", "us-east-1"]}, "regions", "twice"),
    ({"log_groups": [{"name": "/g", "retention_days": 2}]}, "log_groups", "PutRetentionPolicy accepts"),
    ({"log_groups": [{"name": "bad name"}]}, "log_groups", "bad name"),
    ({"log_groups": [{"name": "/g"}, {"name": "/g"}]}, "log_groups", "twice"),
    ({"log_groups": [{"name": "/g", "kms_key_arn": "alias/x"}]}, "log_groups", "not a KMS key ARN"),
    ({"log_groups": [{"name": "/g", "regions": ["nowhere"]}]}, "log_groups", "nowhere"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(monkeypatch, bad, param, text):
    set_test_credentials(monkeypatch)
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(args(**bad))
    assert result["failed"] is True and result["parameter"] == param and text in result["msg"], result["msg"]
    clients.assert_not_called()
