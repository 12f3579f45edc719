# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The health dashboard (playbooks/templates/health_dashboard.json.j2) names only metrics the
pipeline publishes: the two Lambdas' embedded metrics, read from their code, and the AWS
services' metrics of the resources the roles create, as AWS documents them."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import ast
import json
import os
import re

import jinja2
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(REPO, "playbooks", "templates", "health_dashboard.json.j2")
TRANSFORM = os.path.join(REPO, "roles", "central_account", "files", "transform_lambda", "logvault_transform.py")
ALERTS = os.path.join(REPO, "roles", "stream_alerts", "files", "alerts_lambda", "logvault_alerts.py")
CANARY_MONITOR = os.path.join(REPO, "roles", "central_account", "files", "canary_monitor", "logvault_canary_monitor.py")
CENTRAL_DEFAULTS = os.path.join(REPO, "roles", "central_account", "defaults", "main.yml")

# AWS metrics, per namespace, with their dimensions, as the service guides list them:
# Kinesis https://docs.aws.amazon.com/streams/latest/dev/monitoring-with-cloudwatch.html
# Firehose https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
# Lambda https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html
# S3 (daily storage metrics) https://docs.aws.amazon.com/AmazonS3/latest/userguide/metrics-dimensions.html
AWS_METRICS = {
    "AWS/Kinesis": ({"IncomingRecords", "IncomingBytes", "GetRecords.Records", "GetRecords.Bytes",
                     "GetRecords.IteratorAgeMilliseconds", "WriteProvisionedThroughputExceeded"}, {"StreamName"}),
    "AWS/Firehose": ({"IncomingRecords", "IncomingBytes", "DeliveryToAmazonOpenSearchService.Records",
                      "DeliveryToAmazonOpenSearchService.Success", "DeliveryToS3.Records", "DeliveryToS3.Success",
                      "KMSKeyAccessDenied"}, {"DeliveryStreamName"}),
    "AWS/Lambda": ({"Invocations", "Errors", "Throttles", "Duration", "IteratorAge", "DestinationDeliveryFailures"}, {"FunctionName"}),
    "AWS/S3": ({"NumberOfObjects", "BucketSizeBytes"}, {"BucketName", "StorageType"}),
}
NAMES = {"_dashboard_region": "us-east-1", "_dashboard_stream": "logvault-hub", "_dashboard_transform": "logvault-transform",
         "_dashboard_alerts": "logvault-alerts", "_dashboard_search_firehose": "logvault-search",
         "_dashboard_archive_firehose": "logvault-archive", "_dashboard_archive_bucket": "logvault-archive-123456789012-us-east-1",
         "_dashboard_dead_letter_bucket": "logvault-dead-letter-123456789012-us-east-1",
         "_dashboard_transform_namespace": "LogVault/Transform", "_dashboard_alerts_namespace": "logvault",
         "_dashboard_canary_namespace": "Logvault/Canary"}
SEARCH = re.compile(r"""^SEARCH\('\{([^}]*)\}\s+MetricName="([^"]+)"[^']*',\s*'[A-Za-z]+',\s*\d+\)$""")


def _emitted(path):
    """(namespace default, metric names) of a Lambda: its METRICS tuple and the namespace it uses
    when LOGVAULT_METRICS_NAMESPACE is not set, read from the source without importing it."""
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    tree = ast.parse(source)
    names = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "METRICS" for t in node.targets):
            names = {pair.elts[1].value for pair in node.value.elts}
    namespaces = set()
    for node in ast.walk(tree):
        # os.environ.get("LOGVAULT_METRICS_NAMESPACE", "<default>") or (... or "").strip() or "<default>"
        if isinstance(node, ast.Call) and getattr(node.func, "attr", None) == "get" and node.args \
                and getattr(node.args[0], "value", None) == "LOGVAULT_METRICS_NAMESPACE":
            if len(node.args) > 1:
                namespaces.add(node.args[1].value)
        if isinstance(node, ast.keyword) and node.arg == "metrics_namespace":
            value = node.value.values[-1] if isinstance(node.value, ast.BoolOp) else node.value
            if isinstance(value, ast.Constant):
                namespaces.add(value.value)
    return namespaces, names


def _dashboard(names=None):
    template = jinja2.Environment(undefined=jinja2.StrictUndefined).from_string(open(TEMPLATE, encoding="utf-8").read())
    return json.loads(template.render(**(names or NAMES)))


def _metrics(body):
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            parts = [p for p in row if not isinstance(p, dict)]
            if parts:
                yield widget["properties"]["title"], parts[0], parts[1], dict(zip(parts[2::2], parts[3::2]))


def _searches(body):
    """(title, namespace, metric name, dimension names) of every SEARCH expression."""
    for widget in body["widgets"]:
        for row in widget["properties"].get("metrics", []):
            for item in row:
                if isinstance(item, dict) and "expression" in item:
                    match = SEARCH.match(item["expression"])
                    assert match, (widget["properties"]["title"], item["expression"])
                    schema = [part.strip() for part in match.group(1).split(",")]
                    yield widget["properties"]["title"], schema[0], match.group(2), set(schema[1:])


def _per_dimension_metrics():
    """{namespace: {metric: dimension names}} published with other dimensions than FunctionName:
    the transform's ACCOUNT_METRICS (dimension Account) and the canary monitor's METRICS."""
    tree = ast.parse(open(TRANSFORM, encoding="utf-8").read())
    account = None
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "ACCOUNT_METRICS" for t in node.targets):
            account = dict((item[1], {"Account"}) for item in ast.literal_eval(node.value))
    monitor = None
    for node in ast.parse(open(CANARY_MONITOR, encoding="utf-8").read()).body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "METRICS" for t in node.targets):
            monitor = dict((name, set(dims)) for name, dims in ast.literal_eval(node.value).items())
    with open(CENTRAL_DEFAULTS, encoding="utf-8") as handle:
        canary_namespace = re.search(r"^central_account_canary_namespace: (\S+)$", handle.read(), re.M).group(1)
    return {NAMES["_dashboard_transform_namespace"]: account, canary_namespace: monitor}


def test_the_lambdas_namespaces_are_the_dashboards():
    transform_ns, transform = _emitted(TRANSFORM)
    alerts_ns, alerts = _emitted(ALERTS)
    assert transform and alerts
    assert NAMES["_dashboard_transform_namespace"] in transform_ns
    assert NAMES["_dashboard_alerts_namespace"] in alerts_ns
    with open(os.path.join(REPO, "playbooks", "dashboard.yml"), encoding="utf-8") as handle:
        playbook = handle.read()
    assert "_dashboard_transform_namespace: %s" % NAMES["_dashboard_transform_namespace"] in playbook
    assert "_dashboard_alerts_namespace: %s" % NAMES["_dashboard_alerts_namespace"] in playbook


def test_every_metric_of_the_dashboard_is_published():
    _tns, transform = _emitted(TRANSFORM)
    _ans, alerts = _emitted(ALERTS)
    own = {NAMES["_dashboard_transform_namespace"]: (transform, {"FunctionName": NAMES["_dashboard_transform"]}),
           NAMES["_dashboard_alerts_namespace"]: (alerts, {"FunctionName": NAMES["_dashboard_alerts"]})}
    seen = 0
    for title, namespace, name, dims in _metrics(_dashboard()):
        seen += 1
        if namespace in own:
            emitted, dimensions = own[namespace]
            assert name in emitted, "%s: %s/%s is not emitted by the Lambda (it emits %s)" % (title, namespace, name, sorted(emitted))
            assert dims == dimensions, (title, name, dims)  # the EMF lines' only dimension set is FunctionName
        else:
            assert namespace in AWS_METRICS, (title, namespace)
            names, dimension_names = AWS_METRICS[namespace]
            assert name in names, "%s: %s/%s is not an AWS metric listed for the service" % (title, namespace, name)
            assert set(dims) <= dimension_names and dims, (title, name, dims)
    assert seen >= 25


def test_the_check_fails_on_a_metric_nobody_emits():
    body = _dashboard()
    body["widgets"][1]["properties"]["metrics"].append([NAMES["_dashboard_transform_namespace"], "EventsPerAccount",
                                                        "FunctionName", NAMES["_dashboard_transform"]])
    _tns, transform = _emitted(TRANSFORM)
    bad = [name for _t, ns, name, _d in _metrics(body) if ns == NAMES["_dashboard_transform_namespace"] and name not in transform]
    assert bad == ["EventsPerAccount"]


@pytest.mark.parametrize("stage", ["Hub stream", "Transform", "Firehose", "Alerts", "Failures", "Iterator age", "Dead-letter"])
def test_every_stage_has_a_widget(stage):
    assert any(w["properties"]["title"].startswith(stage) for w in _dashboard()["widgets"])


def test_every_search_expression_names_a_published_metric_and_its_dimensions():
    published = _per_dimension_metrics()
    assert published[NAMES["_dashboard_transform_namespace"]] == {"AccountEvents": {"Account"}, "AccountBytes": {"Account"}}
    assert NAMES["_dashboard_canary_namespace"] in published
    seen = []
    for title, namespace, name, dims in _searches(_dashboard()):
        assert namespace in published, (title, namespace)
        assert name in published[namespace], "%s: %s/%s is not published (%s)" % (title, namespace, name, sorted(published[namespace]))
        assert dims == published[namespace][name], (title, name, dims)
        seen.append(name)
    assert sorted(set(seen)) == ["AccountBytes", "AccountEvents", "CanaryLatency"]


def test_the_search_check_fails_on_a_wrong_metric_or_dimension():
    published = _per_dimension_metrics()
    body = {"widgets": [{"properties": {"title": "t", "metrics": [[{"expression": (
        "SEARCH('{Logvault/Canary,Account,Region} MetricName=\"CanaryLatency\"', 'Maximum', 300)")}]]}}]}
    (_title, namespace, name, dims), = list(_searches(body))
    assert dims != published[namespace][name], "CanaryLatency also has Path"


def test_the_dashboard_playbook_passes_the_canary_namespace():
    with open(os.path.join(REPO, "playbooks", "dashboard.yml"), encoding="utf-8") as handle:
        playbook = handle.read()
    assert "_dashboard_canary_namespace: \"{{ central_account_canary_namespace | default('%s') }}\"" % NAMES["_dashboard_canary_namespace"] in playbook
