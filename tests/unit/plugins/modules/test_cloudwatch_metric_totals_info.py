# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatch_metric_totals_info against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import cloudwatch_metric_totals_info as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"


def run(args):
    return run_module(module_under_test, args, check_mode=True, defaults={"region": REGION})


@pytest.fixture
def cloudwatch(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def test_a_day_of_totals_per_account(cloudwatch):
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    start, end = now - datetime.timedelta(hours=2), now + datetime.timedelta(minutes=1)
    data = [("111111111111", "AccountEvents", 100), ("111111111111", "AccountEvents", 50), ("111111111111", "AccountBytes", 4096),
            ("222222222222", "AccountEvents", 7)]
    for account, name, value in data:
        cloudwatch.put_metric_data(Namespace="LogVault/Transform", MetricData=[{
            "MetricName": name, "Value": value, "Timestamp": now - datetime.timedelta(minutes=30),
            "Dimensions": [{"Name": "Account", "Value": account}]}])
    # Outside the range, another dimension set, another namespace: not counted.
    cloudwatch.put_metric_data(Namespace="LogVault/Transform", MetricData=[{
        "MetricName": "AccountEvents", "Value": 1000, "Timestamp": now - datetime.timedelta(hours=5),
        "Dimensions": [{"Name": "Account", "Value": "111111111111"}]}])
    cloudwatch.put_metric_data(Namespace="LogVault/Transform", MetricData=[{
        "MetricName": "Events", "Value": 9, "Dimensions": [{"Name": "FunctionName", "Value": "t"}]}])
    result = run({"namespace": "LogVault/Transform", "metric_names": ["AccountEvents", "AccountBytes"], "dimension": "Account",
                  "start": start.isoformat(), "end": end.isoformat()})
    assert result["changed"] is False
    assert result["totals"] == {"111111111111": {"AccountEvents": 150, "AccountBytes": 4096},
                                "222222222222": {"AccountEvents": 7, "AccountBytes": 0}}


@pytest.mark.parametrize("args,param", [
    ({"start": "yesterday", "end": "2026-12-03T00:00:00Z"}, "start"),
    ({"start": "2026-12-03T00:00:00Z", "end": "2026-12-02T00:00:00Z"}, "end"),
    ({"start": "2026-09-01T00:00:00Z", "end": "2026-12-03T00:00:00Z"}, "end"),
    ({"metric_names": []}, "metric_names"),
])
def test_validation_names_the_parameter(args, param, monkeypatch):
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    base = {"namespace": "n", "metric_names": ["m"], "dimension": "Account", "start": "2026-12-02T00:00:00Z", "end": "2026-12-03T00:00:00Z"}
    base.update(args)
    result = run(base)
    assert result["failed"] and result["parameter"] == param, result
