# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_account_policy, run in-process with a botocore Stubber (moto has no account
policies), so every test states exactly which calls the module makes and with which arguments."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import contextlib
import json
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber


from ansible_collections.amazon.aws.plugins.module_utils import cloud
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_account_policy as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
DEST = "arn:aws:logs:us-east-1:123456789012:destination:logvault"
OTHER = "arn:aws:logs:us-east-1:123456789012:destination:other"
ROLE = "arn:aws:iam::123456789012:role/cwl"
TYPE = "SUBSCRIPTION_FILTER_POLICY"


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def env(monkeypatch):
    set_test_credentials(monkeypatch)


@pytest.fixture
def stubbed(env):
    """Stubber-backed logs client handed to the module instead of a real one (a test double)."""
    client = boto3.client("logs", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self, service, retry_decorator=None, **kwargs):
        assert service == "logs"
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    with stubber, mock.patch.object(AnsibleAWSModule, "client", fake_client), mock.patch.object(cloud.time, "sleep"):
        yield stubber
    stubber.assert_no_pending_responses()


def stored(document, criteria=None, name="logvault"):
    policy = {"policyName": name, "policyDocument": json.dumps(document), "policyType": TYPE, "scope": "ALL",
              "lastUpdatedTime": 1764230400000, "accountId": "111111111111"}
    if criteria:
        policy["selectionCriteria"] = criteria
    return policy


def expect_describe(stubber, policies):
    """Every subscription filter policy of the account is read (AWS allows one per account and Region)."""
    stubber.add_response("describe_account_policies", {"accountPolicies": policies}, {"policyType": TYPE})


def args(**extra):
    base = dict(policy_name="logvault", destination_arn=DEST, excluded_log_groups=["/aws/lambda/logvault-transform", "/logvault/own"])
    base.update(extra)
    return dict((k, v) for k, v in base.items() if v is not None)


CRITERIA = 'LogGroupName NOT IN ["/aws/lambda/logvault-transform", "/logvault/own"]'
DOCUMENT = {"DestinationArn": DEST, "FilterPattern": ""}


def test_four_step_cycle(stubbed):
    # 1. check mode, nothing there: changed, no write
    expect_describe(stubbed, [])
    first = run(args(), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["excluded_log_groups"] == ["/aws/lambda/logvault-transform", "/logvault/own"]
    # 2. real: exactly one PutAccountPolicy with canonical JSON and rendered criteria
    expect_describe(stubbed, [])
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(DOCUMENT, CRITERIA)}, {
        "policyName": "logvault", "policyType": TYPE, "scope": "ALL",
        "policyDocument": '{"DestinationArn":"%s","FilterPattern":""}' % DEST, "selectionCriteria": CRITERIA,
    })
    second = run(args())
    assert second["changed"] is True
    assert second["account_policy"]["policy_document"] == DOCUMENT
    assert second["account_policy"]["selection_criteria"] == CRITERIA
    assert second["account_policy"]["account_id"] == "111111111111"
    # 3. and 4. the stored policy (formatted differently, groups in another order): no change, no write
    reordered = 'LogGroupName NOT IN ["/logvault/own","/aws/lambda/logvault-transform"]'
    for check_mode in (True, False):
        expect_describe(stubbed, [stored({"FilterPattern": "", "DestinationArn": DEST}, reordered)])
        result = run(args(excluded_log_groups=["/logvault/own", "/aws/lambda/logvault-transform", "/logvault/own"]), check_mode=check_mode)
        assert result["changed"] is False


@pytest.mark.parametrize("change,key,value", [
    ({"destination_arn": OTHER}, "DestinationArn", OTHER),
    ({"filter_pattern": "ERROR"}, "FilterPattern", "ERROR"),
    ({"distribution": "Random"}, "Distribution", "Random"),
    ({"role_arn": ROLE}, "RoleArn", ROLE),
])
def test_document_changes_are_updates(stubbed, change, key, value):
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    result = run(args(**change), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["policy_document"].get(key) != value
    assert result["diff"]["after"]["policy_document"][key] == value


def test_unset_options_keep_existing_values(stubbed):
    existing = dict(DOCUMENT, RoleArn=ROLE, Distribution="Random")
    expect_describe(stubbed, [stored(existing, CRITERIA)])
    assert run(args(excluded_log_groups=None))["changed"] is False


def test_excluded_groups_change_and_removal(stubbed):
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(args(excluded_log_groups=["/logvault/own"]), check_mode=True)["changed"] is True
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(DOCUMENT)}, {
        "policyName": "logvault", "policyType": TYPE, "scope": "ALL",
        "policyDocument": '{"DestinationArn":"%s","FilterPattern":""}' % DEST,
    })
    result = run(args(excluded_log_groups=[]))
    assert result["changed"] is True and result["account_policy"]["excluded_log_groups"] == []


def test_absent(stubbed):
    expect_describe(stubbed, [])
    assert run(dict(policy_name="logvault", state="absent"))["changed"] is False
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(dict(policy_name="logvault", state="absent"), check_mode=True)["changed"] is True
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    stubbed.add_response("delete_account_policy", {}, {"policyName": "logvault", "policyType": TYPE})
    result = run(dict(policy_name="logvault", state="absent"), diff=True)
    assert result["changed"] is True and result["diff"]["before"]["policy_document"] == DOCUMENT


def test_describe_follows_next_token_and_matches_the_exact_name(stubbed):
    stubbed.add_response("describe_account_policies", {"accountPolicies": [stored(DOCUMENT, name="logvault-old")], "nextToken": "n1"},
                         {"policyType": TYPE})
    stubbed.add_response("describe_account_policies", {"accountPolicies": [stored(DOCUMENT, CRITERIA)]},
                         {"policyType": TYPE, "nextToken": "n1"})
    assert run(args())["changed"] is False


# --- issue 14 -------------------------------------------------------------------------------


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_policy_of_another_name_fails_before_any_write(stubbed, check_mode):
    expect_describe(stubbed, [stored(DOCUMENT, name="legacy-splunk")])
    result = run(args(), check_mode=check_mode)
    assert result["failed"] is True
    assert "legacy-splunk" in result["msg"] and "one account-level subscription filter policy" in result["msg"]
    assert result["parameter"] == "policy_name"


STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/hub"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:ship"


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_stream_without_a_role_fails_naming_role_arn_before_any_write(stubbed, check_mode):
    # AWS refuses it: "destinationArn for vendor kinesis cannot be used without roleArn".
    expect_describe(stubbed, [])
    result = run(args(destination_arn=STREAM), check_mode=check_mode)
    assert result["failed"] is True and result["parameter"] == "role_arn"
    assert result["msg"].startswith("role_arn is required with %s" % STREAM)


def test_a_stream_keeps_the_role_of_the_existing_policy(stubbed):
    document = dict(DOCUMENT, DestinationArn=STREAM, RoleArn=ROLE)
    expect_describe(stubbed, [stored(document, CRITERIA)])
    assert run(args(destination_arn=STREAM))["changed"] is False


def test_a_role_with_a_function_fails_before_any_aws_call(stubbed):
    result = run(args(destination_arn=FUNCTION, role_arn=ROLE))
    assert result["failed"] is True and result["parameter"] == "role_arn"
    assert "must not be given with the Lambda function %s" % FUNCTION in result["msg"]


def test_moving_to_a_function_drops_the_role_of_the_existing_policy(stubbed):
    expect_describe(stubbed, [stored(dict(DOCUMENT, DestinationArn=STREAM, RoleArn=ROLE), CRITERIA)])
    wanted = {"DestinationArn": FUNCTION, "FilterPattern": ""}
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(wanted, CRITERIA)}, {
        "policyName": "logvault", "policyDocument": json.dumps(wanted, sort_keys=True, separators=(",", ":")),
        "policyType": TYPE, "scope": "ALL", "selectionCriteria": CRITERIA})
    result = run(args(destination_arn=FUNCTION))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True


NOT_DELIVERED = "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state."


def test_could_not_deliver_test_message_is_retried_while_the_role_propagates(stubbed):
    expect_describe(stubbed, [])
    for dummy in range(2):
        stubbed.add_client_error("put_account_policy", "InvalidParameterException", NOT_DELIVERED, 400)
    stubbed.add_response("put_account_policy", {"accountPolicy": stored(dict(DOCUMENT, RoleArn=ROLE), CRITERIA)})
    result = run(args(role_arn=ROLE))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True


def test_other_invalid_parameter_errors_of_put_account_policy_fail_at_once(stubbed):
    expect_describe(stubbed, [])
    stubbed.add_client_error("put_account_policy", "InvalidParameterException", "Invalid selection criteria.", 400)
    result = run(args(role_arn=ROLE))
    assert result["failed"] is True and "Invalid selection criteria." in result["msg"]


def test_throttling_is_retried(stubbed):
    stubbed.add_client_error("describe_account_policies", "ThrottlingException", "Rate exceeded", 400)
    expect_describe(stubbed, [stored(DOCUMENT, CRITERIA)])
    assert run(args())["changed"] is False


def test_aws_errors_are_reported_with_the_verb(stubbed):
    expect_describe(stubbed, [])
    stubbed.add_client_error("put_account_policy", "LimitExceededException", "Only one subscription filter policy per account", 400)
    result = run(args())
    assert result["failed"] is True and result["msg"].startswith("Failed to create account policy logvault")


@pytest.mark.parametrize("bad,param", [
    ({"policy_name": "aws/reserved"}, "policy_name"),
    ({"policy_name": "a:b"}, "policy_name"),
    ({"destination_arn": "arn:aws:sns:us-east-1:123456789012:topic"}, "destination_arn"),
    ({"role_arn": "role/cwl"}, "role_arn"),
    ({"filter_pattern": "{ $.a = 1"}, "filter_pattern"),
    ({"excluded_log_groups": ["/ok", "not ok"]}, "excluded_log_groups"),
    ({"excluded_log_groups": ["/g/%0200d" % i for i in range(130)]}, "excluded_log_groups"),
    ({"region": "us-east"}, "region"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(env, bad, param):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = run(args(**bad))
    assert result["failed"] is True
    assert "'%s'" % param in result["msg"], result["msg"]
    assert result["parameter"] == param
    client.assert_not_called()


def test_destination_required_when_present(env):
    assert "destination_arn" in run(dict(policy_name="logvault"))["msg"]


# --- issue 17: every region of an account in one module run (option regions) ----------------

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def dest(region):
    return "arn:aws:logs:%s:123456789012:destination:logvault" % region


def many(**extra):
    base = dict(policy_name="logvault", regions=REGIONS, destination_arns=dict((r, dest(r)) for r in REGIONS),
                excluded_log_groups=["/aws/lambda/logvault-transform", "/logvault/own"])
    base.update(extra)
    return dict((k, v) for k, v in base.items() if v is not None)


@pytest.fixture
def regional(env):
    """One Stubber-backed logs client per region (test doubles), handed out by regional_clients."""
    stubbers = {}
    clients = {}
    for region in REGIONS:
        client = boto3.client("logs", region_name=region)
        stubbers[region] = Stubber(client)
        clients[region] = client
    calls = []

    def fake_regional_clients(module, service, regions, retry_decorator=None, config=None):
        assert service == "logs"
        calls.append(list(regions))
        return dict((r, RetryingBotoClientWrapper(clients[r], retry_decorator)) for r in regions)

    for stubber in stubbers.values():
        stubber.activate()
    with mock.patch.object(module_under_test, "regional_clients", fake_regional_clients), \
            mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("one client per region expected")), \
            mock.patch.object(cloud.time, "sleep"):
        yield stubbers, calls
    for stubber in stubbers.values():
        stubber.deactivate()
        stubber.assert_no_pending_responses()


def criteria_doc(region):
    return {"DestinationArn": dest(region), "FilterPattern": ""}


def test_regions_in_one_run_check_mode_and_diff_per_region(regional):
    stubbers, calls = regional
    expect_describe(stubbers["us-east-1"], [])                                               # to create
    expect_describe(stubbers["eu-west-1"], [stored(criteria_doc("eu-west-1"), CRITERIA)])    # converged
    expect_describe(stubbers["ap-southeast-2"], [stored(dict(criteria_doc("ap-southeast-2"), FilterPattern="x"), CRITERIA)])
    result = run(many(), check_mode=True, diff=True)
    assert calls == [REGIONS]
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert {r: v["changed"] for r, v in result["regions"].items()} == {"us-east-1": True, "eu-west-1": False, "ap-southeast-2": True}
    assert result["regions"]["ap-southeast-2"]["account_policy"]["policy_document"]["DestinationArn"] == dest("ap-southeast-2")
    assert [d["before_header"] for d in result["diff"]] == ["us-east-1 (before)", "ap-southeast-2 (before)"]
    assert result["diff"][0]["before"] == {} and result["diff"][1]["before"]["policy_document"]["FilterPattern"] == "x"
    assert "account_policy" not in result


def test_regions_write_each_region_its_own_destination(regional):
    stubbers, dummy = regional
    for region in REGIONS:
        expect_describe(stubbers[region], [])
        stubbers[region].add_response("put_account_policy", {"accountPolicy": stored(criteria_doc(region), CRITERIA)}, {
            "policyName": "logvault", "policyType": TYPE, "scope": "ALL",
            "policyDocument": '{"DestinationArn":"%s","FilterPattern":""}' % dest(region), "selectionCriteria": CRITERIA,
        })
    result = run(many())
    assert result["changed"] is True and all(v["changed"] for v in result["regions"].values())
    # rerun of the converged account: no write in any region
    for region in REGIONS:
        expect_describe(stubbers[region], [stored(criteria_doc(region), CRITERIA)])
    assert run(many())["changed"] is False


def test_one_region_failing_names_it_and_the_others_are_still_done(regional):
    stubbers, dummy = regional
    expect_describe(stubbers["us-east-1"], [])
    stubbers["us-east-1"].add_response("put_account_policy", {"accountPolicy": stored(criteria_doc("us-east-1"), CRITERIA)})
    stubbers["eu-west-1"].add_client_error("describe_account_policies", "AccessDeniedException", "not allowed in eu-west-1", 400)
    expect_describe(stubbers["ap-southeast-2"], [stored(criteria_doc("ap-southeast-2"), CRITERIA)])
    result = run(many())
    assert result["failed"] is True
    assert result["msg"].startswith("Account policy logvault failed in 1 of 3 regions: eu-west-1: Failed to describe account policy logvault")
    assert "not allowed in eu-west-1" in result["msg"] and "us-east-1" not in result["msg"]
    assert result["regions"]["eu-west-1"]["error_code"] == "AccessDeniedException"
    assert result["regions"]["us-east-1"]["changed"] is True          # done, and reported as a change
    assert result["changed"] is True
    assert result["regions"]["ap-southeast-2"]["changed"] is False


def test_another_policy_in_one_region_is_reported_by_region(regional):
    stubbers, dummy = regional
    expect_describe(stubbers["us-east-1"], [stored(criteria_doc("us-east-1"), CRITERIA)])
    expect_describe(stubbers["eu-west-1"], [stored(criteria_doc("eu-west-1"), name="legacy-splunk")])
    expect_describe(stubbers["ap-southeast-2"], [stored(criteria_doc("ap-southeast-2"), CRITERIA)])
    result = run(many(), check_mode=True)
    assert result["failed"] is True and result["parameter"] == "policy_name"
    assert result["other_policies_by_region"] == {"eu-west-1": ["legacy-splunk"]}
    assert "eu-west-1: The account already has the subscription filter policy 'legacy-splunk'" in result["msg"]


@pytest.mark.parametrize("check_mode", [False, True])
def test_all_or_nothing_writes_no_region_when_another_policy_is_in_one(regional, check_mode):
    """Each region is read once and none is written (Stubber fails on any PutAccountPolicy, and on a second read)."""
    stubbers, dummy = regional
    expect_describe(stubbers["us-east-1"], [])
    expect_describe(stubbers["eu-west-1"], [stored(criteria_doc("eu-west-1"), name="legacy-splunk")])
    expect_describe(stubbers["ap-southeast-2"], [stored(dict(criteria_doc("ap-southeast-2"), FilterPattern="x"), CRITERIA)])
    result = run(many(all_or_nothing=True), check_mode=check_mode)
    assert result["failed"] is True and result["parameter"] == "policy_name", result["msg"]
    assert result["other_policies_by_region"] == {"eu-west-1": ["legacy-splunk"]}
    assert result["msg"].startswith("Account policy logvault failed in 1 of 3 regions: eu-west-1: The account already has")
    assert result["changed"] is False
    for region in ("us-east-1", "ap-southeast-2"):
        assert result["regions"][region]["changed"] is False and result["regions"][region]["skipped"] is True


def test_all_or_nothing_writes_no_region_when_one_cannot_be_read(regional):
    stubbers, dummy = regional
    expect_describe(stubbers["us-east-1"], [])
    stubbers["eu-west-1"].add_client_error("describe_account_policies", "AccessDeniedException", "not allowed in eu-west-1", 400)
    expect_describe(stubbers["ap-southeast-2"], [])
    result = run(many(all_or_nothing=True))
    assert result["failed"] is True and result["regions"]["eu-west-1"]["error_code"] == "AccessDeniedException"
    assert "parameter" not in result
    assert result["changed"] is False and result["regions"]["us-east-1"]["skipped"] is True


def test_all_or_nothing_reads_each_region_once_then_writes(regional):
    stubbers, dummy = regional
    for region in REGIONS:
        expect_describe(stubbers[region], [])
        stubbers[region].add_response("put_account_policy", {"accountPolicy": stored(criteria_doc(region), CRITERIA)})
    result = run(many(all_or_nothing=True), diff=True)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and all(v["changed"] and "skipped" not in v for v in result["regions"].values())
    assert [d["before_header"] for d in result["diff"]] == ["%s (before)" % r for r in REGIONS]
    for region in REGIONS:
        expect_describe(stubbers[region], [stored(criteria_doc(region), CRITERIA)])
    assert run(many(all_or_nothing=True))["changed"] is False


def test_regions_absent(regional):
    stubbers, dummy = regional
    expect_describe(stubbers["us-east-1"], [stored(criteria_doc("us-east-1"), CRITERIA)])
    stubbers["us-east-1"].add_response("delete_account_policy", {}, {"policyName": "logvault", "policyType": TYPE})
    expect_describe(stubbers["eu-west-1"], [])
    expect_describe(stubbers["ap-southeast-2"], [])
    result = run(dict(policy_name="logvault", regions=REGIONS, state="absent"))
    assert result["changed"] is True
    assert [r for r, v in result["regions"].items() if v["changed"]] == ["us-east-1"]


@pytest.mark.parametrize("bad,param,text", [
    ({"regions": []}, "regions", "at least one region"),
    ({"regions": ["us-east-1", "us-east-1"]}, "regions", "twice"),
    ({"regions": ["us-east"]}, "regions", "not an AWS region"),
    ({"destination_arns": {"us-east-1": dest("us-east-1")}}, "destination_arns", "eu-west-1"),
    ({"destination_arns": dict((r, dest("us-east-1")) for r in REGIONS)}, "destination_arns", "another region"),
    ({"destination_arn": DEST}, "destination_arn", "destination_arns"),
])
def test_bad_regions_input_fails_naming_the_parameter_before_any_aws_call(env, bad, param, text):
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(many(**bad))
    assert result["failed"] is True and result["parameter"] == param
    assert text in result["msg"], result["msg"]
    clients.assert_not_called()


def _aws_module():
    """A stand-in (test double) for AnsibleAWSModule: the parameters get_aws_connection_info reads."""
    return mock.Mock(params={"access_key": None, "secret_key": None, "session_token": None, "profile": None,
                             "endpoint_url": "http://127.0.0.1:1", "validate_certs": True, "aws_ca_bundle": None,
                             "aws_config": None, "region": None, "debug_botocore_endpoint_logs": False})


@contextlib.contextmanager
def _counting_scans(scans):
    """Appends to ``scans`` the model type of every scan of botocore's data directories (a miss of the
    loader's cache for list_available_services, not a cache hit)."""
    import botocore.loaders

    real = botocore.loaders.Loader.list_available_services

    def counting(loader, type_name):
        if ("list_available_services", type_name) not in loader._cache:
            scans.append(type_name)
        return real(loader, type_name)

    with mock.patch.object(botocore.loaders.Loader, "list_available_services", counting):
        yield


def test_regional_clients_share_one_session(env):
    """The helper builds every region's client from one boto3 session (one model load), each for its region."""
    from ansible_collections.logvault.aws.plugins.module_utils import multi_region

    module = _aws_module()
    original = multi_region.boto3.session.Session.client
    builders = []

    def client(session, *args, **kwargs):
        builders.append(id(session))
        return original(session, *args, **kwargs)

    with mock.patch.object(multi_region.boto3.session.Session, "client", client):
        clients = multi_region.regional_clients(module, "logs", REGIONS)
    assert len(builders) == 3 and len(set(builders)) == 1
    assert dict((r, c.meta.region_name) for r, c in clients.items()) == dict((r, r) for r in REGIONS)
    assert all(c.meta.endpoint_url == "http://127.0.0.1:1" for c in clients.values())


def test_regional_clients_load_the_paginator_model_once_before_the_region_threads(env):
    """The shared loader holds the paginator model when regional_clients returns: the region threads'
    first get_paginator calls are cache hits, not one model load (and directory scan) per thread."""
    import botocore.loaders

    from ansible_collections.logvault.aws.plugins.module_utils import multi_region

    module = _aws_module()
    loads = []
    with _counting_scans(loads):
        clients = multi_region.regional_clients(module, "logs", REGIONS)
        assert "paginators-1" in loads, "the paginator model was not loaded before the threads"
        before = len(loads)
        results = multi_region.run_regions(clients, lambda client, region: client.get_paginator("describe_log_groups"))
    assert all(not isinstance(r, multi_region.RegionError) for r in results.values())
    # Every thread's paginator came from the loader's cache: no type listed again.
    assert len(loads) == before, loads


def test_regional_clients_of_two_services_share_the_session_of_their_module(env):
    """A module run that needs two services (the canary's Lambda and Scheduler clients) scans
    botocore's data directories once per model type, not once per service; another module object
    (another run) gets its own session."""
    from ansible_collections.logvault.aws.plugins.module_utils import multi_region

    original = multi_region.boto3.session.Session.client
    builders, listed = [], []

    def client(session, *args, **kwargs):
        builders.append(id(session))
        return original(session, *args, **kwargs)

    first = _aws_module()
    with mock.patch.object(multi_region.boto3.session.Session, "client", client), _counting_scans(listed):
        multi_region.regional_clients(first, "lambda", REGIONS)
        multi_region.regional_clients(first, "scheduler", REGIONS)
        assert len(set(builders)) == 1 and len(builders) == 6
        assert sorted(set(listed)) == sorted(listed), listed  # each model type listed once
        multi_region.regional_clients(_aws_module(), "lambda", REGIONS[:1])
    assert len(set(builders)) == 2


def test_regions_streams_without_a_role_fail_naming_role_arn_before_any_write(regional):
    """Every region's destination is a Kinesis stream of this account and no role is given or kept: each region is
    read and none written (Stubber fails on PutAccountPolicy), and the result names role_arn."""
    stubbers, dummy = regional
    streams = dict((r, "arn:aws:kinesis:%s:123456789012:stream/hub" % r) for r in REGIONS)
    for region in REGIONS:
        expect_describe(stubbers[region], [])
    result = run(many(destination_arns=streams))
    assert result["failed"] is True and result["parameter"] == "role_arn", result
    assert "eu-west-1: role_arn is required with %s" % streams["eu-west-1"] in result["msg"]
    assert result["changed"] is False


def test_all_or_nothing_a_region_whose_role_would_be_refused_stops_every_write(regional):
    """Same-account streams and no role_arn: us-east-1 keeps the role of its policy (and would be updated for its
    pattern), eu-west-1 has no policy and so no role. The first pass finds it, and no region is written (Stubber fails
    on PutAccountPolicy, and on a second read)."""
    stubbers, dummy = regional
    arns = dict((r, "arn:aws:kinesis:%s:123456789012:stream/hub" % r) for r in REGIONS)
    expect_describe(stubbers["us-east-1"], [stored(dict(DestinationArn=arns["us-east-1"], RoleArn=ROLE, FilterPattern="x"), CRITERIA)])
    expect_describe(stubbers["eu-west-1"], [])
    expect_describe(stubbers["ap-southeast-2"], [stored(dict(DestinationArn=arns["ap-southeast-2"], RoleArn=ROLE, FilterPattern=""), CRITERIA)])
    result = run(many(destination_arns=arns, all_or_nothing=True))
    assert result["failed"] is True and result["parameter"] == "role_arn", result
    assert result["msg"] == ("Account policy logvault failed in 1 of 3 regions: eu-west-1: role_arn is required with %s: CloudWatch "
                             "Logs writes to a Kinesis or Firehose stream of this account with that role, and AWS refuses the "
                             "request without one" % arns["eu-west-1"])
    assert result["changed"] is False
    assert [result["regions"][r].get("skipped") for r in ("us-east-1", "ap-southeast-2")] == [True, True]
