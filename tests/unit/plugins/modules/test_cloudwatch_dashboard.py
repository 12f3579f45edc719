# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatch_dashboard, run in-process against moto, and against a botocore Stubber (TEST DOUBLE)
for PutDashboard's validation answers, which moto does not give."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import cloudwatch_dashboard as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
BODY = {"widgets": [{"type": "metric", "x": 0, "y": 0, "width": 12, "height": 6,
                     "properties": {"title": "Hub", "region": REGION, "metrics": [["AWS/Kinesis", "IncomingRecords", "StreamName", "hub"]]}}]}


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def cloudwatch(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("cloudwatch", region_name=REGION)


def test_four_step_cycle(cloudwatch):
    args = {"name": "lv-health", "body": BODY}
    results = [run(args, check_mode=True, diff=True), run(args, diff=True), run(args, check_mode=True), run(args)]
    assert [r["changed"] for r in results] == [True, True, False, False]
    assert results[0]["diff"]["before"] == {}
    assert json.loads(cloudwatch.get_dashboard(DashboardName="lv-health")["DashboardBody"]) == BODY
    assert results[1]["dashboard"]["arn"].endswith(":dashboard/lv-health")


def test_check_mode_writes_nothing_and_body_compared_by_meaning(cloudwatch):
    assert run({"name": "lv-health", "body": BODY}, check_mode=True)["changed"] is True
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []
    run({"name": "lv-health", "body": BODY})
    reformatted = json.dumps(BODY, indent=4, sort_keys=True)
    assert run({"name": "lv-health", "body": reformatted})["changed"] is False
    changed = json.loads(reformatted)
    changed["widgets"][0]["properties"]["title"] = "Hub stream"
    result = run({"name": "lv-health", "body": changed}, check_mode=True, diff=True)
    assert result["changed"] is True and result["diff"]["before"]["body"] == BODY


def test_absent(cloudwatch):
    run({"name": "lv-health", "body": BODY})
    assert run({"name": "lv-health", "state": "absent"}, check_mode=True)["changed"] is True
    assert run({"name": "lv-health", "state": "absent"})["changed"] is True
    assert run({"name": "lv-health", "state": "absent"})["changed"] is False
    assert cloudwatch.list_dashboards()["DashboardEntries"] == []


@pytest.mark.parametrize("args,param", [
    ({"name": "bad name", "body": BODY}, "name"),
    ({"name": "lv", "body": "{not json"}, "body"),
    ({"name": "lv", "body": {"panels": []}}, "body"),
    ({"name": "lv", "body": {"widgets": [{"x": 1}]}}, "body"),
])
def test_validation_before_any_call(args, param, monkeypatch):
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = run(args)
    assert result["failed"] and result["parameter"] == param, result


def _stubbed(monkeypatch, put_response=None, put_error=None):
    """Run the module with a Stubber on its CloudWatch client (TEST DOUBLE)."""
    set_test_credentials(monkeypatch)
    client = boto3.client("cloudwatch", region_name=REGION)
    stubber = Stubber(client)
    stubber.add_client_error("get_dashboard", service_error_code="ResourceNotFound", http_status_code=404)
    if put_error:
        stubber.add_client_error("put_dashboard", service_error_code="InvalidParameterInput", service_message="invalid",
                                 http_status_code=400, response_meta={}, modeled_fields=put_error)
    else:
        stubber.add_response("put_dashboard", put_response)
        stubber.add_response("get_dashboard", {"DashboardName": "lv", "DashboardArn": "arn:aws:cloudwatch::123456789012:dashboard/lv",
                                               "DashboardBody": json.dumps(BODY)})
    stubber.activate()
    original = AnsibleAWSModule.client

    def fake_client(self, service, *args, **kwargs):
        if service == "cloudwatch":
            from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper  # pylint: disable=import-outside-toplevel
            return RetryingBotoClientWrapper(client, kwargs.get("retry_decorator"))
        return original(self, service, *args, **kwargs)

    with mock.patch.object(AnsibleAWSModule, "client", fake_client):
        return run({"name": "lv", "body": BODY})


def test_refusal_lists_each_validation_message_by_field(monkeypatch):
    result = _stubbed(monkeypatch, put_error={"dashboardValidationMessages": [
        {"DataPath": "/widgets/0/properties/metrics/0", "Message": "Should NOT have more than 2 items"}]})
    assert result["failed"]
    assert "/widgets/0/properties/metrics/0: Should NOT have more than 2 items" in result["msg"]
    assert result["validation_messages"] == [{"data_path": "/widgets/0/properties/metrics/0", "message": "Should NOT have more than 2 items"}]


def test_warnings_of_a_saved_dashboard_are_returned(monkeypatch):
    result = _stubbed(monkeypatch, put_response={"DashboardValidationMessages": [{"DataPath": "/widgets/0", "Message": "odd"}]})
    assert result["changed"] is True and "failed" not in result
    assert result["validation_messages"] == [{"data_path": "/widgets/0", "message": "odd"}]
