# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeAlarms pages its answer and filters by AlarmTypes (cloudwatch_describe_alarms)."""

import pytest
from botocore.exceptions import ClientError

REGION = "eu-north-1"  # a region no other test puts alarms in


@pytest.fixture()
def alarms(aws_client, unique):
    client = aws_client("cloudwatch", region=REGION)
    prefix = unique("page")
    names = ["%s-%03d" % (prefix, index) for index in range(120)]
    for name in names:
        client.put_metric_alarm(AlarmName=name, Namespace="LV/Test", MetricName="M", Statistic="Maximum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanOrEqualToThreshold")
    yield client, prefix, names
    for start in range(0, len(names), 100):
        client.delete_alarms(AlarmNames=names[start:start + 100])


def test_an_answer_holds_at_most_max_records_and_a_next_token(alarms):
    client, prefix, names = alarms
    first = client.describe_alarms(AlarmNamePrefix=prefix)
    assert [a["AlarmName"] for a in first["MetricAlarms"]] == names[:50]
    assert first["NextToken"]
    second = client.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=100, NextToken=first["NextToken"])
    assert [a["AlarmName"] for a in second["MetricAlarms"]] == names[50:]
    assert "NextToken" not in second
    small = client.describe_alarms(AlarmNamePrefix=prefix, MaxRecords=7)
    assert len(small["MetricAlarms"]) == 7 and small["NextToken"]


def test_the_paginator_reads_every_alarm(alarms):
    client, prefix, names = alarms
    result = client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix).build_full_result()
    assert [a["AlarmName"] for a in result["MetricAlarms"]] == names


def test_alarm_types_selects_the_kinds_of_alarm(alarms):
    client, prefix, _names = alarms
    only_composite = client.describe_alarms(AlarmNamePrefix=prefix, AlarmTypes=["CompositeAlarm"])
    assert only_composite["MetricAlarms"] == [] and "NextToken" not in only_composite


class _Alarm:  # test double: the two attributes page() reads of a moto alarm
    def __init__(self, name, rule=None):
        self.name = name
        self.rule = rule


def test_composite_alarms_only_when_alarm_types_asks_for_them():
    # moto 5.2.5 does not implement PutCompositeAlarm, so page() is given alarms directly.
    from local_aws.services.cloudwatch_describe_alarms import page  # pylint: disable=import-outside-toplevel

    stored = [_Alarm("b"), _Alarm("a", rule='ALARM("b")'), _Alarm("c")]
    metric, composite, token = page(stored, [], None, None)
    assert [a.name for a in metric] == ["b", "c"] and composite == [] and token is None
    metric, composite, token = page(stored, ["CompositeAlarm", "MetricAlarm"], 2, None)
    assert [a.name for a in composite] == ["a"] and [a.name for a in metric] == ["b"] and token
    metric, composite, token = page(stored, ["CompositeAlarm", "MetricAlarm"], 2, token)
    assert [a.name for a in metric] == ["c"] and composite == [] and token is None


@pytest.mark.parametrize("kwargs, code", [
    ({"NextToken": "not-a-token"}, "InvalidNextToken"),
    ({"MaxRecords": 101}, "ValidationError"),
    ({"AlarmNames": ["a-%d" % index for index in range(101)]}, "ValidationError"),
    ({"AlarmTypes": ["SomeAlarm"]}, "ValidationError"),
])
def test_refused_parameters(aws_client, kwargs, code):
    client = aws_client("cloudwatch", region=REGION)
    with pytest.raises(ClientError) as info:
        client.describe_alarms(**kwargs)
    assert info.value.response["Error"]["Code"] == code


def test_delete_alarms_takes_at_most_100_names(alarms):
    client, prefix, names = alarms
    with pytest.raises(ClientError) as info:
        client.delete_alarms(AlarmNames=names[:101])
    assert info.value.response["Error"]["Code"] == "ValidationError"
    assert len(client.get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix).build_full_result()["MetricAlarms"]) == 120
