#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatch_metric_totals_info
version_added: 0.1.0
short_description: Sum CloudWatch metrics over a time range, per value of one dimension
description:
  - Lists the metrics of O(namespace) named in O(metric_names) that have exactly the one dimension O(dimension)
    (C(ListMetrics), paginated), and sums each over O(start) to O(end) with C(GetMetricData) (statistic C(Sum),
    one period over the whole range, at most 500 queries per call,
    U(https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_GetMetricData.html)).
  - Returns, per value of the dimension, the total of each metric. The cost report reads a day of the transform
    Lambda's C(AccountEvents) and C(AccountBytes) per C(Account) with it.
  - Read-only; it runs in check mode.
author:
  - logvault.aws maintainers (@logvault)
options:
  namespace:
    description: The metrics' namespace.
    required: true
    type: str
  metric_names:
    description: Names of the metrics to sum.
    required: true
    type: list
    elements: str
  dimension:
    description: The one dimension the metrics have; the totals are given per value of it.
    required: true
    type: str
  start:
    description: Start of the range, ISO 8601 (for example V(2026-12-02T00:00:00Z)).
    required: true
    type: str
  end:
    description: End of the range (exclusive), ISO 8601, after O(start) and at most 63 days later.
    required: true
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: A day of events and bytes per member account
  logvault.aws.cloudwatch_metric_totals_info:
    namespace: LogVault/Transform
    metric_names: [AccountEvents, AccountBytes]
    dimension: Account
    start: 2026-12-02T00:00:00Z
    end: 2026-12-03T00:00:00Z
  register: volume
"""

RETURN = r"""
totals:
  description: Per value of O(dimension), the sum of each metric of O(metric_names) (0 when it had no datapoint).
  returned: always
  type: dict
  sample: {"111111111111": {"AccountEvents": 120000, "AccountBytes": 52428800}}
"""

import datetime

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

MAX_QUERIES = 500
MAX_RANGE = datetime.timedelta(days=63)


def parse_time(module, name):
    text = module.params[name]
    try:
        value = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        module.fail_json(msg="%s must be an ISO 8601 time such as 2026-12-02T00:00:00Z, got %r" % (name, text), parameter=name)
    if value.tzinfo is None:
        value = value.replace(tzinfo=datetime.timezone.utc)
    return value


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(
            namespace=dict(type="str", required=True),
            metric_names=dict(type="list", elements="str", required=True),
            dimension=dict(type="str", required=True),
            start=dict(type="str", required=True),
            end=dict(type="str", required=True),
        ),
        supports_check_mode=True,
    )
    params = module.params
    if not params["metric_names"]:
        module.fail_json(msg="metric_names must name at least one metric", parameter="metric_names")
    start, end = parse_time(module, "start"), parse_time(module, "end")
    if not start < end <= start + MAX_RANGE:
        module.fail_json(msg="end must be after start and at most 63 days later", parameter="end")
    period = int((end - start).total_seconds())
    period = max(60, period - period % 60)
    try:
        client = module.client("cloudwatch", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch")

    queries = []
    try:
        paginator = client.get_paginator("list_metrics")
        for name in params["metric_names"]:
            for page in paginator.paginate(Namespace=params["namespace"], MetricName=name,
                                           Dimensions=[{"Name": params["dimension"]}]):
                for metric in page.get("Metrics", []):
                    dims = metric.get("Dimensions", [])
                    if len(dims) == 1 and dims[0]["Name"] == params["dimension"]:
                        queries.append((dims[0]["Value"], name, metric))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the metrics of %s" % params["namespace"])

    totals = {}
    for value, name, _metric in queries:
        totals.setdefault(value, dict((n, 0) for n in params["metric_names"]))
    for offset in range(0, len(queries), MAX_QUERIES):
        chunk = queries[offset:offset + MAX_QUERIES]
        request = [{"Id": "m%d" % index, "ReturnData": True,
                    "MetricStat": {"Metric": metric, "Period": period, "Stat": "Sum"}}
                   for index, (_value, _name, metric) in enumerate(chunk)]
        token = None
        try:
            while True:
                kwargs = dict(MetricDataQueries=request, StartTime=start, EndTime=end, ScanBy="TimestampAscending")
                if token:
                    kwargs["NextToken"] = token
                answer = client.get_metric_data(aws_retry=True, **kwargs)
                for result in answer.get("MetricDataResults", []):
                    value, name, _metric = chunk[int(result["Id"][1:])]
                    totals[value][name] += sum(result.get("Values", []))
                token = answer.get("NextToken")
                if not token:
                    break
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to get the metric data of %s" % params["namespace"])
    for value in totals:
        for name in totals[value]:
            total = totals[value][name]
            totals[value][name] = int(total) if float(total).is_integer() else total
    module.exit_json(changed=False, totals=totals)


if __name__ == "__main__":
    main()
