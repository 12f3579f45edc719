# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_subscription_filter, run in-process: moto for the bulk behaviour, botocore
Stubber for exact call sequences (the two-filter limit, replace, throttling)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_subscription_filter as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/hub"
OTHER_STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/other"
ROLE = "arn:aws:iam::123456789012:role/cwl-to-kinesis"
DEST = "arn:aws:logs:us-east-1:123456789012:destination:logvault"


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def env(monkeypatch):
    set_test_credentials(monkeypatch)


@pytest.fixture
def aws(env):
    with mock_aws():
        boto3.client("kinesis", region_name=REGION).create_stream(StreamName="hub", ShardCount=1)
        boto3.client("kinesis", region_name=REGION).create_stream(StreamName="other", ShardCount=1)
        yield boto3.client("logs", region_name=REGION)


@pytest.fixture
def stubbed(env):
    """A Stubber-backed logs client handed to the module instead of a real one (a test double)."""
    client = boto3.client("logs", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self, service, retry_decorator=None, **kwargs):
        assert service == "logs"
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    with stubber, mock.patch.object(AnsibleAWSModule, "client", fake_client), mock.patch.object(cloud.time, "sleep") as sleep:
        stubber.sleep = sleep
        yield stubber
    stubber.assert_no_pending_responses()


def subscribe(**extra):
    args = dict(filter_name="logvault", destination_arn=STREAM, role_arn=ROLE, log_group_prefix="/app/")
    args.update(extra)
    return dict((k, v) for k, v in args.items() if v is not None)


def make_groups(aws, names):
    for name in names:
        aws.create_log_group(logGroupName=name)


def filters_of(aws, group):
    return dict((f["filterName"], f) for f in aws.describe_subscription_filters(logGroupName=group)["subscriptionFilters"])


# --- moto: the bulk behaviour ---------------------------------------------------


def test_four_step_cycle_over_many_groups(aws):
    groups = ["/app/%03d" % i for i in range(60)]
    make_groups(aws, groups + ["/other/x"])

    first = run(subscribe(max_concurrency=5), check_mode=True)
    assert first["changed"] is True
    assert first["counts"] == {"created": 60, "updated": 0, "unchanged": 0, "deleted": 0, "failed": 0}
    assert first["write_calls"] == 0
    assert all(filters_of(aws, g) == {} for g in groups), "check mode wrote"

    second = run(subscribe(max_concurrency=5))
    assert second["changed"] is True
    assert second["counts"]["created"] == 60
    assert second["write_calls"] == 60
    assert second["log_groups"] == groups
    assert [r["log_group_name"] for r in second["results"]] == groups
    for group in groups:
        stored = filters_of(aws, group)["logvault"]
        assert stored["destinationArn"] == STREAM and stored["roleArn"] == ROLE and stored["filterPattern"] == ""
    assert filters_of(aws, "/other/x") == {}

    third = run(subscribe(max_concurrency=5), check_mode=True)
    assert third["changed"] is False and third["counts"]["unchanged"] == 60
    fourth = run(subscribe(max_concurrency=5))
    assert fourth["changed"] is False
    assert fourth["counts"]["unchanged"] == 60
    assert fourth["write_calls"] == 0


def test_only_differing_groups_are_written(aws):
    groups = ["/app/a", "/app/b", "/app/c"]
    make_groups(aws, groups)
    run(subscribe())
    aws.put_subscription_filter(logGroupName="/app/b", filterName="logvault", filterPattern="", destinationArn=OTHER_STREAM, roleArn=ROLE)
    predicted = run(subscribe(), check_mode=True, diff=True)
    assert [r["action"] for r in predicted["results"]] == ["unchanged", "updated", "unchanged"]
    assert predicted["diff"]["before"] == {"/app/b": mock.ANY}
    assert predicted["diff"]["before"]["/app/b"]["destination_arn"] == OTHER_STREAM
    assert predicted["diff"]["after"]["/app/b"]["destination_arn"] == STREAM
    result = run(subscribe())
    assert [r["action"] for r in result["results"]] == ["unchanged", "updated", "unchanged"]
    assert result["write_calls"] == 1
    assert filters_of(aws, "/app/b")["logvault"]["destinationArn"] == STREAM


def test_filter_pattern_change_is_an_update(aws):
    make_groups(aws, ["/app/a"])
    run(subscribe())
    result = run(subscribe(filter_pattern='{ $.level = "ERROR" }'))
    assert result["counts"]["updated"] == 1
    assert filters_of(aws, "/app/a")["logvault"]["filterPattern"] == '{ $.level = "ERROR" }'


def test_selection_by_list_prefix_and_exclude(aws):
    make_groups(aws, ["/app/a", "/app/debug-1", "/app/debug-2", "/app/b", "/svc/x", "/svc/y"])
    result = run(subscribe(log_groups=["/svc/x", "/app/a"], exclude=["/app/debug-*", "/svc/y"]), check_mode=True)
    assert result["log_groups"] == ["/app/a", "/app/b", "/svc/x"]
    result = run(subscribe(log_group_prefix=None, log_groups=["/svc/y", "/svc/y"]), check_mode=True)
    assert result["log_groups"] == ["/svc/y"]
    result = run(subscribe(log_group_prefix=""), check_mode=True)
    assert len(result["log_groups"]) == 6


def test_absent_offboards(aws):
    make_groups(aws, ["/app/a", "/app/b"])
    run(subscribe())
    aws.put_subscription_filter(logGroupName="/app/a", filterName="keep-me", filterPattern="", destinationArn=OTHER_STREAM, roleArn=ROLE)
    absent = dict(filter_name="logvault", state="absent", log_group_prefix="/app/")
    predicted = run(absent, check_mode=True)
    assert predicted["changed"] is True and predicted["counts"]["deleted"] == 2
    assert "logvault" in filters_of(aws, "/app/a")
    result = run(absent)
    assert result["counts"]["deleted"] == 2 and result["write_calls"] == 2
    assert list(filters_of(aws, "/app/a")) == ["keep-me"] and filters_of(aws, "/app/b") == {}
    again = run(absent)
    assert again["changed"] is False and again["counts"]["unchanged"] == 2 and again["write_calls"] == 0


def test_missing_listed_group_fails_that_group_only(aws):
    make_groups(aws, ["/app/a"])
    result = run(subscribe(log_group_prefix=None, log_groups=["/app/a", "/app/missing"]))
    assert result["failed"] is True
    assert "1 of 2 log groups failed" in result["msg"] and "/app/missing" in result["msg"]
    assert [r["action"] for r in result["results"]] == ["created", "failed"]
    assert result["results"][1]["error_code"] == "ResourceNotFoundException"
    assert "logvault" in filters_of(aws, "/app/a")
    # Removing from a group that does not exist is no change.
    gone = run(dict(filter_name="logvault", state="absent", log_groups=["/app/missing"]))
    assert gone["changed"] is False and gone["counts"]["unchanged"] == 1


def test_two_filter_limit_fails_naming_the_filters_then_replace(aws):
    make_groups(aws, ["/app/full", "/app/free"])
    for name in ("datadog", "splunk"):
        aws.put_subscription_filter(logGroupName="/app/full", filterName=name, filterPattern="", destinationArn=OTHER_STREAM, roleArn=ROLE)
    result = run(subscribe())
    assert result["failed"] is True
    by_group = dict((r["log_group_name"], r) for r in result["results"])
    assert by_group["/app/free"]["action"] == "created"
    assert by_group["/app/full"]["action"] == "failed"
    assert "datadog, splunk" in by_group["/app/full"]["msg"]
    assert sorted(filters_of(aws, "/app/full")) == ["datadog", "splunk"]

    predicted = run(subscribe(replace="splunk"), check_mode=True)
    assert predicted["counts"] == {"created": 1, "updated": 0, "unchanged": 1, "deleted": 0, "failed": 0}
    assert sorted(filters_of(aws, "/app/full")) == ["datadog", "splunk"]
    replaced = run(subscribe(replace="splunk"))
    assert replaced["changed"] is True and replaced["write_calls"] == 2
    assert [r.get("replaced") for r in replaced["results"]] == [None, "splunk"]
    assert sorted(filters_of(aws, "/app/full")) == ["datadog", "logvault"]


# --- bad input: fails naming the parameter, before any AWS call ------------------


@pytest.mark.parametrize("args,param", [
    (subscribe(filter_name="a:b"), "filter_name"),
    (subscribe(destination_arn="arn:aws:s3:::bucket"), "destination_arn"),
    (subscribe(destination_arn="arn:aws:logs:us-east-1:12345678901:destination:x"), "destination_arn"),
    (subscribe(role_arn="arn:aws:iam::123456789012:policy/x"), "role_arn"),
    (subscribe(filter_pattern='{ $.level = "ERROR"'), "filter_pattern"),
    (subscribe(filter_pattern='"unterminated'), "filter_pattern"),
    (subscribe(log_group_prefix=None, log_groups=["/ok", "not ok"]), "log_groups"),
    (subscribe(log_group_prefix="bad prefix"), "log_group_prefix"),
    (subscribe(replace="logvault"), "replace"),
    (subscribe(replace="x*"), "replace"),
    (subscribe(max_concurrency=0), "max_concurrency"),
    (subscribe(max_concurrency=6), "max_concurrency"),
    (subscribe(field_selection_criteria="x" * 2001), "field_selection_criteria"),
    (subscribe(region="nowhere"), "region"),
    # AWS refuses a role with a Lambda function ("destinationArn for vendor lambda cannot be used with roleArn").
    (subscribe(destination_arn="arn:aws:lambda:us-east-1:123456789012:function:ship"), "role_arn"),
    (subscribe(destination_arn=None, regions=["us-east-1"],
               destination_arns={"us-east-1": "arn:aws:lambda:us-east-1:123456789012:function:ship"}), "role_arn"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(env, args, param):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = run(args)
    assert result["failed"] is True
    assert "'%s'" % param in result["msg"], result["msg"]
    assert result["parameter"] == param
    client.assert_not_called()


def test_a_stream_without_a_role_fails_each_group_naming_role_arn(aws):
    # AWS refuses it ("destinationArn for vendor kinesis cannot be used without roleArn"); nothing is written.
    make_groups(aws, ["/app/a"])
    result = run(subscribe(role_arn=None))
    assert result["failed"] is True and result["write_calls"] == 0
    assert result["results"][0]["msg"].startswith("role_arn is required with %s" % STREAM)
    assert filters_of(aws, "/app/a") == {}


def test_required_options(env):
    assert "log_groups" in run(dict(filter_name="x", destination_arn=STREAM))["msg"]
    assert "destination_arn" in run(dict(filter_name="x", log_groups=["/a"]))["msg"]
    assert "distribution" in run(subscribe(distribution="Sideways"))["msg"]


# --- Stubber: exact calls ----------------------------------------------------------


def _existing(group, name, destination=OTHER_STREAM):
    return {"filterName": name, "logGroupName": group, "filterPattern": "", "destinationArn": destination,
            "roleArn": ROLE, "distribution": "ByLogStream", "creationTime": 1}


def test_replace_deletes_then_puts_exactly(stubbed):
    group = "/app/full"
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_existing(group, "a"), _existing(group, "b")]},
                         {"logGroupName": group})
    stubbed.add_response("delete_subscription_filter", {}, {"logGroupName": group, "filterName": "b"})
    stubbed.add_response("put_subscription_filter", {}, {
        "logGroupName": group, "filterName": "logvault", "filterPattern": "", "destinationArn": DEST, "distribution": "Random",
    })
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=[group], replace="b", distribution="Random", max_concurrency=1))
    assert result["changed"] is True and result["results"][0]["replaced"] == "b" and result["write_calls"] == 2


def test_throttling_is_retried_with_backoff(stubbed):
    group = "/app/a"
    stubbed.add_client_error("describe_subscription_filters", "ThrottlingException", "Rate exceeded", 400)
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": group})
    stubbed.add_client_error("put_subscription_filter", "ThrottlingException", "Rate exceeded", 400)
    stubbed.add_client_error("put_subscription_filter", "ServiceUnavailableException", "The service is unavailable.", 400)
    stubbed.add_response("put_subscription_filter", {}, {
        "logGroupName": group, "filterName": "logvault", "filterPattern": "", "destinationArn": DEST, "distribution": "ByLogStream",
    })
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=[group], max_concurrency=1))
    assert result["changed"] is True and result["counts"]["created"] == 1
    assert stubbed.sleep.call_count == 3
    # Jittered: every wait is between half and all of the exponential delay (at most 15 s).
    assert all(0 < c.args[0] <= 15 for c in stubbed.sleep.call_args_list)


def test_access_denied_is_a_per_group_failure(stubbed):
    for group in ("/app/a", "/app/b"):
        stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": group})
        stubbed.add_client_error("put_subscription_filter", "AccessDeniedException",
                                 "User is not authorized to perform logs:PutSubscriptionFilter", 400)
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a", "/app/b"], max_concurrency=1))
    assert result["failed"] is True
    assert result["counts"]["failed"] == 2
    assert {r["error_code"] for r in result["results"]} == {"AccessDeniedException"}
    assert "not authorized" in result["results"][0]["msg"]
    assert stubbed.sleep.call_count == 0, "AccessDenied must not be retried"


def test_prefix_discovery_follows_pagination(stubbed):
    stubbed.add_response("describe_log_groups", {"logGroups": [{"logGroupName": "/app/a"}], "nextToken": "t1"}, {"logGroupNamePrefix": "/app/"})
    stubbed.add_response("describe_log_groups", {"logGroups": [{"logGroupName": "/app/b"}]}, {"logGroupNamePrefix": "/app/", "nextToken": "t1"})
    for group in ("/app/a", "/app/b"):
        stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_existing(group, "logvault", DEST)], "nextToken": "x"},
                             {"logGroupName": group})
        stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": group, "nextToken": "x"})
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_group_prefix="/app/", max_concurrency=1))
    assert result["log_groups"] == ["/app/a", "/app/b"]
    assert result["changed"] is False and result["write_calls"] == 0


# --- issue 14: quotas, IAM propagation, the fields PutSubscriptionFilter resets -------------

PUT = {"logGroupName": "/app/a", "filterName": "logvault", "filterPattern": "", "destinationArn": DEST, "distribution": "ByLogStream"}
# What CloudWatch Logs answers while the role of a new destination or filter has not propagated.
NOT_DELIVERED = "Could not deliver test message to specified destination. Check if the destination is valid."


def test_limit_exceeded_is_a_quota_and_fails_at_once_naming_the_group(stubbed):
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": "/app/a"})
    stubbed.add_client_error("put_subscription_filter", "LimitExceededException", "Resource limit exceeded.", 400)
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a"], max_concurrency=1))
    assert result["failed"] is True
    assert result["results"][0]["error_code"] == "LimitExceededException"
    assert "/app/a" in result["results"][0]["msg"] and "/app/a" in result["msg"]
    assert stubbed.sleep.call_count == 0, "LimitExceededException must not be retried"


def test_could_not_deliver_test_message_is_retried_while_the_role_propagates(stubbed):
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": "/app/a"})
    stubbed.add_client_error("put_subscription_filter", "InvalidParameterException", NOT_DELIVERED, 400)
    stubbed.add_client_error("put_subscription_filter", "InvalidParameterException", NOT_DELIVERED, 400)
    stubbed.add_response("put_subscription_filter", {}, PUT)
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a"], max_concurrency=1))
    assert result.get("failed") is not True, result.get("msg")
    assert result["counts"]["created"] == 1 and stubbed.sleep.call_count == 2


def test_other_invalid_parameter_errors_are_not_retried(stubbed):
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": []}, {"logGroupName": "/app/a"})
    stubbed.add_client_error("put_subscription_filter", "InvalidParameterException",
                             "destinationArn for vendor kinesis cannot be used without roleArn", 400)
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a"], max_concurrency=1))
    assert result["failed"] is True and "without roleArn" in result["msg"]
    assert stubbed.sleep.call_count == 0


def _with_new_fields(filter_pattern=""):
    existing = _existing("/app/a", "logvault", DEST)
    existing.update(filterPattern=filter_pattern, applyOnTransformedLogs=True,
                    fieldSelectionCriteria='@aws.region NOT IN ["cn-north-1"]', emitSystemFields=["@aws.region", "@aws.account"])
    return existing


def test_an_update_keeps_fields_it_does_not_set(stubbed):
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_with_new_fields("ERROR")]}, {"logGroupName": "/app/a"})
    stubbed.add_response("put_subscription_filter", {}, dict(
        PUT, roleArn=ROLE, applyOnTransformedLogs=True, fieldSelectionCriteria='@aws.region NOT IN ["cn-north-1"]',
        emitSystemFields=["@aws.account", "@aws.region"],
    ))
    result = run(dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a"], max_concurrency=1))
    assert result["counts"]["updated"] == 1


def test_new_fields_are_compared(stubbed):
    same = dict(filter_name="logvault", destination_arn=DEST, log_groups=["/app/a"], max_concurrency=1,
                apply_on_transformed_logs=True, field_selection_criteria='@aws.region NOT IN ["cn-north-1"]',
                emit_system_fields=["@aws.account", "@aws.region"])
    stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_with_new_fields()]}, {"logGroupName": "/app/a"})
    result = run(same)
    assert result["changed"] is False and result["write_calls"] == 0

    for change, put in (
        (dict(apply_on_transformed_logs=False), dict(applyOnTransformedLogs=None)),
        (dict(field_selection_criteria=""), dict(fieldSelectionCriteria=None)),
        (dict(emit_system_fields=["@source.log"]), dict(emitSystemFields=["@source.log"])),
    ):
        expected = dict(PUT, roleArn=ROLE, applyOnTransformedLogs=True, fieldSelectionCriteria='@aws.region NOT IN ["cn-north-1"]',
                        emitSystemFields=["@aws.account", "@aws.region"])
        expected.update(put)
        expected = dict((k, v) for k, v in expected.items() if v is not None)
        stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_with_new_fields()]}, {"logGroupName": "/app/a"})
        result = run(dict(same, **change), check_mode=True)
        assert result["changed"] is True, change
        stubbed.add_response("describe_subscription_filters", {"subscriptionFilters": [_with_new_fields()]}, {"logGroupName": "/app/a"})
        stubbed.add_response("put_subscription_filter", {}, expected)
        result = run(dict(same, **change))
        assert result["counts"]["updated"] == 1, change


# --- issue 17: every region of an account in one module run (option regions) ----------------

TWO_REGIONS = ["us-east-1", "eu-west-1"]


def stream(region):
    return "arn:aws:kinesis:%s:123456789012:stream/hub" % region


@pytest.fixture
def two_regions(env):
    """moto in two regions: a stream and log groups in each; the module builds its own client per region."""
    with mock_aws():
        clients = {}
        for region in TWO_REGIONS:
            if region != REGION:
                boto3.client("kinesis", region_name=region).create_stream(StreamName="hub", ShardCount=1)
            clients[region] = boto3.client("logs", region_name=region)
        with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("one client per region expected")):
            yield clients


def subscribe_regions(**extra):
    args = dict(filter_name="logvault", regions=TWO_REGIONS, destination_arns=dict((r, stream(r)) for r in TWO_REGIONS),
                role_arn=ROLE, log_group_prefix="/app/")
    args.update(extra)
    return dict((k, v) for k, v in args.items() if v is not None)


def test_regions_in_one_run_check_mode_writes_and_rerun(two_regions):
    boto3.client("kinesis", region_name=REGION).create_stream(StreamName="hub", ShardCount=1)
    two_regions["us-east-1"].create_log_group(logGroupName="/app/a")
    for name in ("/app/b", "/app/c"):
        two_regions["eu-west-1"].create_log_group(logGroupName=name)

    first = run(subscribe_regions(), check_mode=True, diff=True)
    assert first["changed"] is True and first["write_calls"] == 0
    assert {r: v["counts"]["created"] for r, v in first["regions"].items()} == {"us-east-1": 1, "eu-west-1": 2}
    assert [d["before_header"] for d in first["diff"]] == ["us-east-1 (before)", "eu-west-1 (before)"]
    assert filters_of(two_regions["eu-west-1"], "/app/b") == {}, "check mode wrote"

    second = run(subscribe_regions())
    assert second["changed"] is True and second["write_calls"] == 3 and second["counts"]["created"] == 3
    assert second["regions"]["eu-west-1"]["log_groups"] == ["/app/b", "/app/c"]
    assert filters_of(two_regions["us-east-1"], "/app/a")["logvault"]["destinationArn"] == stream("us-east-1")
    assert filters_of(two_regions["eu-west-1"], "/app/c")["logvault"]["destinationArn"] == stream("eu-west-1")

    third = run(subscribe_regions())
    assert third["changed"] is False and third["write_calls"] == 0 and third["counts"]["unchanged"] == 3

    # offboarding both regions in one run (member_account's removal of per-group filters)
    gone = run(dict(filter_name="logvault", regions=TWO_REGIONS, log_group_prefix="", state="absent"))
    assert gone["changed"] is True and gone["counts"]["deleted"] == 3
    assert filters_of(two_regions["eu-west-1"], "/app/b") == {}


def test_one_region_failing_names_it_and_the_other_is_still_done(two_regions):
    boto3.client("kinesis", region_name=REGION).create_stream(StreamName="hub", ShardCount=1)
    two_regions["us-east-1"].create_log_group(logGroupName="/app/a")        # /app/a does not exist in eu-west-1
    result = run(subscribe_regions(log_group_prefix=None, log_groups=["/app/a"]))
    assert result["failed"] is True
    assert result["msg"].startswith("Subscription filter logvault failed in 1 of 2 regions: eu-west-1: 1 of 1 log groups failed; "
                                    "first: /app/a: the log group does not exist"), result["msg"]
    assert "us-east-1:" not in result["msg"]
    assert result["regions"]["us-east-1"]["counts"]["created"] == 1 and result["regions"]["eu-west-1"]["failed"] is True
    assert filters_of(two_regions["us-east-1"], "/app/a")["logvault"]["destinationArn"] == stream("us-east-1")


@pytest.mark.parametrize("bad,param", [
    ({"destination_arns": {"us-east-1": stream("us-east-1")}}, "destination_arns"),
    ({"destination_arn": STREAM}, "destination_arn"),
    ({"regions": ["us-east-1", "nowhere"]}, "regions"),
])
def test_bad_regions_input_fails_naming_the_parameter(env, bad, param):
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(subscribe_regions(**bad))
    assert result["failed"] is True and result["parameter"] == param, result["msg"]
    clients.assert_not_called()
