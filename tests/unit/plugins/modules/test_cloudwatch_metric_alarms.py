# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatch_metric_alarms, run in-process (main() with patched module args) against moto.

moto's DescribeAlarms returns every alarm in one answer (no NextToken, MaxRecords ignored) and
neither DescribeAlarms nor DeleteAlarms refuses more than 100 AlarmNames, which AWS does (AlarmNames
has at most 100 members in the CloudWatch model, and DeleteAlarms deletes "up to 100 alarms in one
operation": https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html).
The ``cloudwatch`` fixture makes moto answer as AWS does on these points, so a module that read only
the first page, or sent more than 100 names in one call, fails here; it also counts the calls.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import boto3
import pytest
import yaml
from moto import mock_aws
from moto.cloudwatch import responses as cw_responses
from moto.cloudwatch.exceptions import InvalidParameterValue
from moto.cloudwatch.models import CloudWatchBackend, cloudwatch_backends
from moto.core.responses import ActionResult

from ansible_collections.logvault.aws.plugins.modules import cloudwatch_metric_alarms as module_under_test
from local_aws.services.cloudwatch_describe_alarms import page as describe_alarms_page
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs import assert_renders_with_examples
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"  # moto's default account
TOPIC = "arn:aws:sns:us-east-1:123456789012:lv-alerts"
OTHER_TOPIC = "arn:aws:sns:us-east-1:123456789012:lv-oncall"
PREFIX = "lv-canary-"


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


class Calls(object):
    def __init__(self):
        self.describe = []
        self.put = []
        self.delete = []


@pytest.fixture
def cloudwatch(monkeypatch):
    """A moto CloudWatch client; DescribeAlarms pages like AWS, and AlarmNames above 100 are refused."""
    set_test_credentials(monkeypatch)
    calls = Calls()

    def describe_alarms(self):
        names = self._get_param("AlarmNames", [])
        prefix = self._get_param("AlarmNamePrefix")
        types = self._get_param("AlarmTypes", []) or ["MetricAlarm"]
        if len(names) > 100:
            raise InvalidParameterValue("AlarmNames has %d members; at most 100" % len(names))
        if names and prefix:
            raise InvalidParameterValue("AlarmNames and AlarmNamePrefix are exclusive")
        calls.describe.append(dict(names=list(names), prefix=prefix, types=list(types)))
        alarms = [a for a in self.cloudwatch_backend.alarms.values()
                  if (not names or a.name in names) and (not prefix or a.name.startswith(prefix))]
        # Paged as the local AWS emulator pages it (local_aws/services/cloudwatch_describe_alarms.py).
        metric, composite, token = describe_alarms_page(alarms, types, self._get_param("MaxRecords"), self._get_param("NextToken"))
        result = {"MetricAlarms": metric, "CompositeAlarms": composite}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    original_put, original_delete = CloudWatchBackend.put_metric_alarm, CloudWatchBackend.delete_alarms

    def put_metric_alarm(self, *args, **kwargs):
        calls.put.append(kwargs["name"])
        return original_put(self, *args, **kwargs)

    def delete_alarms(self, alarm_names):
        if len(alarm_names) > 100:
            raise InvalidParameterValue("AlarmNames has %d members; at most 100" % len(alarm_names))
        calls.delete.append(list(alarm_names))
        return original_delete(self, alarm_names)

    monkeypatch.setattr(cw_responses.CloudWatchResponse, "describe_alarms", describe_alarms)
    monkeypatch.setattr(CloudWatchBackend, "put_metric_alarm", put_metric_alarm)
    monkeypatch.setattr(CloudWatchBackend, "delete_alarms", delete_alarms)
    with mock_aws():
        client = boto3.client("cloudwatch", region_name=REGION)
        client.calls = calls
        yield client


def alarm(name, **extra):
    result = {
        "name": name,
        "description": "canary of %s" % name,
        "namespace": "Logvault/Canary",
        "metric_name": "CanaryUnhealthy",
        "statistic": "Maximum",
        "comparison": "GreaterThanOrEqualToThreshold",
        "threshold": 1,
        "dimensions": {"Account": "123456789012", "Region": name.rsplit("-", 1)[-1]},
        "period": 600,
        "evaluation_periods": 1,
        "treat_missing_data": "breaching",
        "alarm_actions": [TOPIC],
        "ok_actions": [TOPIC],
    }
    result.update(extra)
    return result


def canaries(count, prefix=PREFIX):
    return [alarm("%s%03d-r%d" % (prefix, i, i % 17)) for i in range(count)]


def stored(client, prefix=""):
    """Every metric alarm of the region (read through the paginator), by name."""
    pages = client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix) if prefix else client.get_paginator("describe_alarms").paginate()
    return dict((a["AlarmName"], a) for a in pages.build_full_result()["MetricAlarms"])


def put_composite_alarm(name, rule):
    """moto has no PutCompositeAlarm call; its backend stores a composite alarm as an alarm with a rule."""
    cloudwatch_backends[ACCOUNT][REGION].put_metric_alarm(
        name=name, namespace=None, metric_name=None, comparison_operator=None, evaluation_periods=None, period=None,
        threshold=None, statistic=None, description=None, dimensions=[], alarm_actions=[], rule=rule)


def put_out_of_band(client, name, **extra):
    request = dict(AlarmName=name, Namespace="Logvault/Canary", MetricName="CanaryUnhealthy", Statistic="Maximum",
                   ComparisonOperator="GreaterThanOrEqualToThreshold", Threshold=1.0, Period=600, EvaluationPeriods=1,
                   AlarmDescription="canary of %s" % name, TreatMissingData="breaching", AlarmActions=[TOPIC], OKActions=[TOPIC],
                   Dimensions=[{"Name": "Account", "Value": "123456789012"}, {"Name": "Region", "Value": name.rsplit("-", 1)[-1]}])
    request.update(extra)
    client.put_metric_alarm(**request)


@pytest.mark.parametrize("purge_prefix", [None, PREFIX], ids=["by-names", "by-prefix"])
def test_four_step_cycle_150_alarms(cloudwatch, purge_prefix):
    args = {"alarms": canaries(150)}
    if purge_prefix:
        args["purge_prefix"] = purge_prefix
    results = [run(args, check_mode=True), run(args), run(args, check_mode=True), run(args)]
    assert [r.get("failed", False) for r in results] == [False] * 4, results
    assert [r["changed"] for r in results] == [True, True, False, False]
    assert results[0]["counts"] == results[1]["counts"] == {"created": 150, "updated": 0, "unchanged": 0, "deleted": 0}
    assert results[0]["alarms"]["created"] == [a["name"] for a in args["alarms"]], "created in the order of alarms"
    assert results[3]["counts"] == {"created": 0, "updated": 0, "unchanged": 150, "deleted": 0}
    assert len(cloudwatch.calls.put) == 150, "one PutMetricAlarm per new alarm, none on the unchanged runs"
    describe_calls = list(cloudwatch.calls.describe)

    alarms = stored(cloudwatch)
    assert len(alarms) == 150
    first = alarms["%s000-r0" % PREFIX]
    assert first["Threshold"] == 1.0 and first["Period"] == 600 and first["EvaluationPeriods"] == 1
    assert first["TreatMissingData"] == "breaching" and first["AlarmActions"] == [TOPIC] and first["OKActions"] == [TOPIC]
    assert first["ActionsEnabled"] is True and first["AlarmDescription"] == "canary of %s000-r0" % PREFIX
    assert sorted((d["Name"], d["Value"]) for d in first["Dimensions"]) == [("Account", "123456789012"), ("Region", "r0")]
    assert all(c["types"] == ["MetricAlarm"] for c in describe_calls)
    if purge_prefix:
        # 0, 0, 150, 150 alarms under the prefix: 1 + 1 + 3 + 3 pages of at most 50
        assert all(c["prefix"] == PREFIX and not c["names"] for c in describe_calls) and len(describe_calls) == 8
    else:
        # per run, 150 names are two batches: 100 names (two pages of 50 once they exist) and 50 names
        assert [len(c["names"]) for c in describe_calls] == [100, 50] * 2 + [100, 100, 50] * 2


def test_check_mode_writes_nothing(cloudwatch):
    put_out_of_band(cloudwatch, PREFIX + "old-r1")
    put_out_of_band(cloudwatch, PREFIX + "000-r0", Threshold=5.0)
    cloudwatch.calls.put[:] = []
    result = run({"alarms": canaries(3), "purge_prefix": PREFIX}, check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["alarms"] == {"created": [PREFIX + "001-r1", PREFIX + "002-r2"], "updated": [PREFIX + "000-r0"],
                                "unchanged": [], "deleted": [PREFIX + "old-r1"]}
    assert cloudwatch.calls.put == [] and cloudwatch.calls.delete == []
    alarms = stored(cloudwatch)
    assert sorted(alarms) == [PREFIX + "000-r0", PREFIX + "old-r1"]
    assert alarms[PREFIX + "000-r0"]["Threshold"] == 5.0


def test_out_of_band_threshold_change_updates_only_that_alarm(cloudwatch):
    args = {"alarms": canaries(150)}
    run(args)
    changed_name = PREFIX + "120-r1"
    put_out_of_band(cloudwatch, changed_name, Threshold=3.0)
    cloudwatch.calls.put[:] = []

    predicted = run(args, check_mode=True, diff=True)
    result = run(args, diff=True)
    for r in (predicted, result):
        assert r["changed"] is True
        assert r["alarms"]["updated"] == [changed_name] and r["alarms"]["created"] == [] and len(r["alarms"]["unchanged"]) == 149
        assert list(r["diff"]["before"]) == [changed_name] and list(r["diff"]["after"]) == [changed_name]
        assert r["diff"]["before"][changed_name]["threshold"] == 3.0 and r["diff"]["after"][changed_name]["threshold"] == 1.0
        before, after = dict(r["diff"]["before"][changed_name]), dict(r["diff"]["after"][changed_name])
        before.pop("threshold")
        after.pop("threshold")
        assert before == after, "only the threshold differs"
    assert cloudwatch.calls.put == [changed_name]
    assert stored(cloudwatch)[changed_name]["Threshold"] == 1.0
    assert run(args)["changed"] is False


def test_purge_deletes_unlisted_alarms_under_the_prefix_only(cloudwatch):
    run({"alarms": canaries(3), "purge_prefix": PREFIX})
    put_out_of_band(cloudwatch, PREFIX + "gone-r1")
    put_out_of_band(cloudwatch, "lv-other-r1")  # outside the prefix
    put_out_of_band(cloudwatch, "lv-canary", Threshold=9.0)  # the prefix without its dash
    put_composite_alarm(PREFIX + "composite", 'ALARM("%s000-r0")' % PREFIX)
    wanted = canaries(3)[:2]

    predicted = run({"alarms": wanted, "purge_prefix": PREFIX}, check_mode=True, diff=True)
    result = run({"alarms": wanted, "purge_prefix": PREFIX}, diff=True)
    for r in (predicted, result):
        assert r["changed"] is True
        assert r["alarms"]["deleted"] == [PREFIX + "002-r2", PREFIX + "gone-r1"]
        assert r["alarms"]["unchanged"] == [PREFIX + "000-r0", PREFIX + "001-r1"]
        assert sorted(r["diff"]["before"]) == [PREFIX + "002-r2", PREFIX + "gone-r1"] and r["diff"]["after"] == {}
    assert sorted(stored(cloudwatch)) == ["lv-canary", PREFIX + "000-r0", PREFIX + "001-r1", "lv-other-r1"]
    composite = cloudwatch.describe_alarms(AlarmNames=[PREFIX + "composite"], AlarmTypes=["CompositeAlarm"])["CompositeAlarms"]
    assert [a["AlarmName"] for a in composite] == [PREFIX + "composite"], "a composite alarm under the prefix is left alone"
    assert run({"alarms": wanted, "purge_prefix": PREFIX})["changed"] is False


def test_without_purge_prefix_nothing_is_deleted(cloudwatch):
    put_out_of_band(cloudwatch, PREFIX + "gone-r1")
    result = run({"alarms": canaries(1)})
    assert result["alarms"]["deleted"] == [] and result["counts"]["deleted"] == 0
    assert PREFIX + "gone-r1" in stored(cloudwatch) and cloudwatch.calls.delete == []


def test_purge_more_than_100_in_batches(cloudwatch):
    for i in range(130):
        put_out_of_band(cloudwatch, "%sold%03d-r1" % (PREFIX, i))
    keep = canaries(2)
    predicted = run({"alarms": keep, "purge_prefix": PREFIX}, check_mode=True)
    assert predicted["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 130}
    assert len(stored(cloudwatch)) == 130 and cloudwatch.calls.delete == []

    result = run({"alarms": keep, "purge_prefix": PREFIX})
    assert result.get("failed") is not True, result
    assert result["counts"] == {"created": 2, "updated": 0, "unchanged": 0, "deleted": 130}
    assert [len(batch) for batch in cloudwatch.calls.delete] == [100, 30]
    assert sorted(stored(cloudwatch)) == [a["name"] for a in keep]
    assert run({"alarms": keep, "purge_prefix": PREFIX})["changed"] is False


def test_empty_list_with_prefix_deletes_everything_under_it(cloudwatch):
    run({"alarms": canaries(2)})
    put_out_of_band(cloudwatch, "lv-other-r1")
    result = run({"alarms": [], "purge_prefix": PREFIX})
    assert result["changed"] is True and result["counts"]["deleted"] == 2
    assert sorted(stored(cloudwatch)) == ["lv-other-r1"]


def test_order_of_dimensions_and_actions_is_no_change(cloudwatch):
    name = PREFIX + "000-r0"
    put_out_of_band(cloudwatch, name, Dimensions=[{"Name": "Region", "Value": "r0"}, {"Name": "Account", "Value": "123456789012"}],
                    AlarmActions=[OTHER_TOPIC, TOPIC])
    wanted = alarm(name, dimensions={"Account": 123456789012, "Region": "r0"}, alarm_actions=[TOPIC, OTHER_TOPIC], threshold=1.0)
    result = run({"alarms": [wanted]}, diff=True)
    assert result["changed"] is False and result["alarms"]["unchanged"] == [name], result.get("diff")
    assert cloudwatch.calls.put == [name], "only the out-of-band put"
    # a different dimension value is a change
    result = run({"alarms": [alarm(name, dimensions={"Account": "123456789012", "Region": "r9"}, alarm_actions=[TOPIC, OTHER_TOPIC])]})
    assert result["changed"] is True and result["alarms"]["updated"] == [name]


def test_datapoints_to_alarm_default_is_evaluation_periods(cloudwatch):
    name = PREFIX + "000-r0"
    put_out_of_band(cloudwatch, name, EvaluationPeriods=3, DatapointsToAlarm=3)
    assert run({"alarms": [alarm(name, evaluation_periods=3)]})["changed"] is False
    result = run({"alarms": [alarm(name, evaluation_periods=3, datapoints_to_alarm=2)]})
    assert result["changed"] is True
    assert stored(cloudwatch)[name]["DatapointsToAlarm"] == 2
    assert run({"alarms": [alarm(name, evaluation_periods=3, datapoints_to_alarm=2)]})["changed"] is False


@pytest.mark.parametrize("field,value,key,expected", [
    ("actions_enabled", False, "ActionsEnabled", False),
    ("unit", "Count", "Unit", "Count"),
    ("description", "", "AlarmDescription", ""),
    ("treat_missing_data", "notBreaching", "TreatMissingData", "notBreaching"),
    ("insufficient_data_actions", [OTHER_TOPIC], "InsufficientDataActions", [OTHER_TOPIC]),
    ("ok_actions", [], "OKActions", []),
    ("comparison", "LessThanThreshold", "ComparisonOperator", "LessThanThreshold"),
    ("statistic", "Sum", "Statistic", "Sum"),
    ("period", 60, "Period", 60),
])
def test_each_field_is_compared_and_written(cloudwatch, field, value, key, expected):
    name = PREFIX + "000-r0"
    run({"alarms": [alarm(name)]})
    args = {"alarms": [alarm(name, **{field: value})]}
    results = [run(args, check_mode=True), run(args), run(args)]
    assert [r["changed"] for r in results] == [True, True, False]
    assert stored(cloudwatch)[name].get(key, "") == expected


def test_unmanaged_setting_is_a_difference_and_is_removed(cloudwatch):
    name = PREFIX + "000-r0"
    put_out_of_band(cloudwatch, name, EvaluateLowSampleCountPercentile="ignore")
    result = run({"alarms": [alarm(name)]}, diff=True)
    assert result["changed"] is True and result["diff"]["before"][name]["unmanaged_settings"] == ["EvaluateLowSampleCountPercentile"]
    assert "EvaluateLowSampleCountPercentile" not in stored(cloudwatch)[name]
    assert run({"alarms": [alarm(name)]})["changed"] is False


def test_failed_put_names_the_alarm_and_keeps_what_was_written(cloudwatch, monkeypatch):
    failing = PREFIX + "002-r2"
    patched_put = CloudWatchBackend.put_metric_alarm

    def put_metric_alarm(self, *args, **kwargs):
        if kwargs["name"] == failing:
            raise InvalidParameterValue("refused for the test")
        return patched_put(self, *args, **kwargs)

    monkeypatch.setattr(CloudWatchBackend, "put_metric_alarm", put_metric_alarm)
    result = run({"alarms": canaries(4)})
    assert result["failed"] is True and failing in result["msg"] and result["changed"] is True
    assert sorted(stored(cloudwatch)) == [PREFIX + "000-r0", PREFIX + "001-r1"]
    monkeypatch.setattr(CloudWatchBackend, "put_metric_alarm", patched_put)
    rerun = run({"alarms": canaries(4)})
    assert rerun["alarms"]["created"] == [failing, PREFIX + "003-r3"] and len(rerun["alarms"]["unchanged"]) == 2


def _many(count, make):
    return [make(i) for i in range(count)]


@pytest.mark.parametrize("args,param", [
    ({"alarms": [alarm("x" * 256)]}, "alarms[0].name"),
    ({"alarms": [alarm("lv-\x07bell")]}, "alarms[0].name"),
    ({"alarms": [alarm(PREFIX + "a-r1"), alarm(PREFIX + "a-r1")]}, "alarms[1].name"),
    ({"alarms": [alarm(PREFIX + "a-r1"), alarm("lv-other-r1")], "purge_prefix": PREFIX}, "alarms[1].name"),
    ({"alarms": [], "purge_prefix": ""}, "purge_prefix"),
    ({"alarms": [alarm("a-r1", description="d" * 1025)]}, "alarms[0].description"),
    ({"alarms": [alarm("a-r1", namespace=":bad")]}, "alarms[0].namespace"),
    ({"alarms": [alarm("a-r1", metric_name="m" * 256)]}, "alarms[0].metric_name"),
    ({"alarms": [alarm("a-r1", dimensions=dict(("D%d" % i, "v") for i in range(31)))]}, "alarms[0].dimensions"),
    ({"alarms": [alarm("a-r1", dimensions={"Account": ""})]}, "alarms[0].dimensions"),
    ({"alarms": [alarm("a-r1", dimensions={"Account": "v" * 1025})]}, "alarms[0].dimensions"),
    ({"alarms": [alarm("a-r1", dimensions={"Account": ["a"]})]}, "alarms[0].dimensions"),
    ({"alarms": [alarm("a-r1", period=45)]}, "alarms[0].period"),
    ({"alarms": [alarm("a-r1", period=90)]}, "alarms[0].period"),
    ({"alarms": [alarm("a-r1", period=0)]}, "alarms[0].period"),
    ({"alarms": [alarm("a-r1", evaluation_periods=0)]}, "alarms[0].evaluation_periods"),
    ({"alarms": [alarm("a-r1", period=600, evaluation_periods=145)]}, "alarms[0].evaluation_periods"),
    ({"alarms": [alarm("a-r1", period=3600, evaluation_periods=169)]}, "alarms[0].evaluation_periods"),
    ({"alarms": [alarm("a-r1", evaluation_periods=2, datapoints_to_alarm=3)]}, "alarms[0].datapoints_to_alarm"),
    ({"alarms": [alarm("a-r1", alarm_actions=_many(6, lambda i: "%s%d" % (TOPIC, i)))]}, "alarms[0].alarm_actions"),
    ({"alarms": [alarm("a-r1", ok_actions=[TOPIC, TOPIC])]}, "alarms[0].ok_actions"),
    ({"alarms": [alarm("a-r1", insufficient_data_actions=["lv-alerts"])]}, "alarms[0].insufficient_data_actions"),
    ({"alarms": [alarm("a-r1", threshold=float("nan"))]}, "alarms[0].threshold"),
])
def test_validation_names_the_parameter_before_any_call(args, param, monkeypatch):
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail differently
    result = run(args)
    assert result["failed"] and result["parameter"] == param, result


def test_limits_at_the_edge_are_accepted(cloudwatch):
    edge = alarm("n" * 255, description="d" * 1024, dimensions=dict(("D%d" % i, "v" * 1024) for i in range(30)), period=3600,
                 evaluation_periods=168, alarm_actions=_many(5, lambda i: "%s%d" % (TOPIC, i)))
    short = alarm("m-r1", period=10, evaluation_periods=8640)
    result = run({"alarms": [edge, short]})
    assert result.get("failed") is not True, result
    assert result["counts"]["created"] == 2


def test_anomaly_band_comparison_is_refused(monkeypatch):
    set_test_credentials(monkeypatch)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    result = run({"alarms": [alarm("a-r1", comparison="LessThanLowerOrGreaterThanUpperThreshold")]})
    assert result["failed"] and "comparison" in result["msg"]


def test_documentation_renders_and_the_loop_example_builds_valid_alarms(cloudwatch):
    doc = assert_renders_with_examples("logvault.aws.cloudwatch_metric_alarms")
    assert doc["doc"]["version_added"] == "0.1.0"
    assert {"region", "endpoint_url", "access_key"} <= set(doc["doc"]["options"])
    assert set(doc["return"]) == {"alarms", "counts"}
    from ansible.parsing.dataloader import DataLoader  # pylint: disable=import-outside-toplevel
    from ansible.template import Templar, trust_as_template  # pylint: disable=import-outside-toplevel

    task = yaml.safe_load(doc["examples"])[0]
    args = dict(task["logvault.aws.cloudwatch_metric_alarms"])
    variables = dict(task["vars"], canary_alarms=trust_as_template(task["vars"]["canary_alarms"]))
    templar = Templar(loader=DataLoader(), variables=variables)
    args["alarms"] = templar.template(trust_as_template(args["alarms"]))
    args.pop("region")
    assert len(args["alarms"]) == 4
    result = run(args)
    assert result.get("failed") is not True, result
    assert result["counts"]["created"] == 4
    assert stored(cloudwatch)["logvault-canary-222222222222-us-east-1"]["Dimensions"] == [
        {"Name": "Account", "Value": "222222222222"}, {"Name": "Region", "Value": "us-east-1"}]


def test_alarms_written_by_amazon_aws_module_are_unchanged(cloudwatch):
    """Switching a task from a loop of amazon.aws.cloudwatch_metric_alarm to this module rewrites no alarm."""
    from ansible_collections.amazon.aws.plugins.modules import cloudwatch_metric_alarm as single  # pylint: disable=import-outside-toplevel

    wanted = canaries(3)
    for item in wanted:
        result = run_module(single, dict(item, state="present"), defaults={"region": REGION})
        assert result["changed"] is True, result
    cloudwatch.calls.put[:] = []
    result = run({"alarms": wanted, "purge_prefix": PREFIX}, diff=True)
    assert result["changed"] is False and result["alarms"]["unchanged"] == [a["name"] for a in wanted], result.get("diff")
    assert cloudwatch.calls.put == []
    # and back: what this module writes, amazon.aws's module finds unchanged
    changed = [dict(item, threshold=2, alarm_actions=[OTHER_TOPIC, TOPIC]) for item in wanted]
    assert run({"alarms": changed})["counts"]["updated"] == 3
    for item in changed:
        result = run_module(single, dict(item, state="present"), check_mode=True, defaults={"region": REGION})
        assert result["changed"] is False, item["name"]
