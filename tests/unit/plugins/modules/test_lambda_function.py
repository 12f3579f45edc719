# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_function (one function from a local zip in every region, in one module run), in-process against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import io
import json
import os
import zipfile
from unittest import mock

import boto3
import botocore
import botocore.client
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.module_utils import lambda_zip
from ansible_collections.logvault.aws.plugins.modules import lambda_function as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs import assert_renders_with_examples
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]
ACCOUNT = "123456789012"  # moto's account
ROLE = "arn:aws:iam::%s:role/lv-canary" % ACCOUNT
NAME = "lv-canary"
TAGS = {"logvault:managed-by": "logvault.aws"}
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
NOT_ASSUMABLE = "The role defined for the function cannot be assumed by Lambda."
# AnsibleAWSModule.client as amazon.aws has it: the fixture ``aws`` forbids it to this module, not to amazon.aws.lambda.
AMAZON_AWS_CLIENT = AnsibleAWSModule.client


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff)


def make_zip(path, source):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        info = zipfile.ZipInfo("logvault_canary.py", date_time=(2024, 1, 1, 0, 0, 0))
        archive.writestr(info, source)
    path.write_bytes(buffer.getvalue())
    return str(path)


def sha_of(path):
    with open(path, "rb") as handle:
        return base64.b64encode(hashlib.sha256(handle.read()).digest()).decode("ascii")


@pytest.fixture
def aws(monkeypatch):
    """moto with the execution role; a Lambda client per region. AnsibleAWSModule.client must not be used."""
    set_test_credentials(monkeypatch)
    with mock_aws(), mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("one session, a client per region expected")):
        boto3.client("iam", region_name="us-east-1").create_role(RoleName="lv-canary", AssumeRolePolicyDocument=json.dumps(TRUST))
        yield dict((r, boto3.client("lambda", region_name=r)) for r in REGIONS)


@pytest.fixture
def code(tmp_path):
    return make_zip(tmp_path / "canary.zip", "def handler(event, context):\n    return 1\n")


def args(zip_file, **extra):
    base = dict(name=NAME, regions=REGIONS, runtime="python3.12", handler="logvault_canary.handler", role=ROLE, zip_file=zip_file,
                description="logvault canary", memory_size=128, timeout=30, environment_variables={"CANARY_LOG_GROUP": "/logvault/canary"},
                tags=TAGS)
    base.update(extra)
    return base


def stored(client):
    function = client.get_function(FunctionName=NAME)
    config = function["Configuration"]
    return dict(runtime=config["Runtime"], handler=config["Handler"], role=config["Role"], description=config["Description"],
                memory_size=config["MemorySize"], timeout=config["Timeout"], code_sha256=config["CodeSha256"],
                environment_variables=(config.get("Environment") or {}).get("Variables") or {},
                tags=client.list_tags(Resource=config["FunctionArn"])["Tags"])


def functions_of(client):
    return [f["FunctionName"] for f in client.list_functions()["Functions"]]


def recording_calls():
    """A wrapper around botocore's _make_api_call that records (region, operation) of each call."""
    original = botocore.client.BaseClient._make_api_call
    calls = []

    def record(self, name, params):
        calls.append((self.meta.region_name, name))
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", record), calls


def failing_first(operation, code, message, times):
    """A wrapper around botocore's _make_api_call: ``operation`` fails ``times`` times, then moto answers."""
    original = botocore.client.BaseClient._make_api_call
    calls = []

    def fake(self, name, params):
        if name == operation:
            calls.append(params)
            if len(calls) <= times:
                raise botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, name)
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake), calls


# ------------------------------------------------------------------ create, rerun, check mode


def test_created_in_three_regions_check_apply_check_apply(aws, code):
    results = [run(args(code), check_mode=True, diff=True)]
    assert all(functions_of(c) == [] for c in aws.values()), "check mode wrote"
    results += [run(args(code), diff=True), run(args(code), check_mode=True, diff=True), run(args(code))]
    assert [r["changed"] for r in results] == [True, True, False, False]
    assert all(r.get("failed") is not True for r in results), [r.get("msg") for r in results]

    predicted, created, checked, rerun = results
    assert sorted(predicted["regions"]) == sorted(REGIONS)
    assert [d["before_header"] for d in predicted["diff"]] == ["%s (before)" % r for r in REGIONS]
    assert [d["after_header"] for d in predicted["diff"]] == ["%s (after)" % r for r in REGIONS]
    assert all(d["before"] == {} for d in predicted["diff"])
    for region in REGIONS:
        arn = "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT, NAME)
        assert predicted["regions"][region]["action"] == "created" and created["regions"][region]["action"] == "created"
        assert predicted["regions"][region]["function"] == created["regions"][region]["function"], "check mode predicts the result"
        assert created["regions"][region]["function"]["function_arn"] == arn
        assert created["regions"][region]["function"]["state"] == "Active"
        assert rerun["regions"][region] == {"changed": False, "action": "unchanged", "function": created["regions"][region]["function"]}
        assert checked["regions"][region]["action"] == "unchanged"
        assert stored(aws[region]) == dict(runtime="python3.12", handler="logvault_canary.handler", role=ROLE, description="logvault canary",
                                           memory_size=128, timeout=30, code_sha256=sha_of(code),
                                           environment_variables={"CANARY_LOG_GROUP": "/logvault/canary"}, tags=TAGS)
    assert checked["diff"] == [] and "diff" not in rerun


def test_create_waits_until_the_function_is_active(aws, code):
    patch, calls = recording_calls()
    with patch:
        result = run(args(code, regions=["eu-west-1"]))
    assert result["changed"] is True
    operations = [name for region, name in calls if region == "eu-west-1"]
    assert operations == ["GetFunction", "CreateFunction", "GetFunction"], "CreateFunction, then GetFunction until State is Active"


def test_without_regions_the_one_region_is_used(aws, code):
    single = args(code, region="ap-southeast-2")
    del single["regions"]
    result = run(single)
    assert list(result["regions"]) == ["ap-southeast-2"] and result["changed"] is True
    assert functions_of(aws["ap-southeast-2"]) == [NAME] and functions_of(aws["us-east-1"]) == []


def test_no_environment_variables_equal_a_function_without_environment(aws, code):
    created = run(args(code, environment_variables={}))
    assert created["changed"] is True
    assert "Environment" not in aws["us-east-1"].get_function(FunctionName=NAME)["Configuration"]
    assert run(args(code, environment_variables={}), check_mode=True)["changed"] is False
    aws["eu-west-1"].update_function_configuration(FunctionName=NAME, Environment={"Variables": {"EXTRA": "1"}})
    drift = run(args(code, environment_variables={}), diff=True)
    assert {r: v["changed"] for r, v in drift["regions"].items()} == {"us-east-1": False, "eu-west-1": True, "ap-southeast-2": False}
    assert drift["diff"][0]["before"]["environment_variables"] == {"EXTRA": "1"} and drift["diff"][0]["after"]["environment_variables"] == {}
    assert stored(aws["eu-west-1"])["environment_variables"] == {}


# ------------------------------------------------------------------ updates


def test_new_code_is_deployed_in_every_region(aws, code, tmp_path):
    run(args(code))
    new = make_zip(tmp_path / "new.zip", "def handler(event, context):\n    return 2\n")
    assert sha_of(new) != sha_of(code)
    predicted = run(args(new), check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert all(predicted["regions"][r]["action"] == "updated" for r in REGIONS)
    assert [(d["before"]["code_sha256"], d["after"]["code_sha256"]) for d in predicted["diff"]] == [(sha_of(code), sha_of(new))] * 3
    assert all(stored(c)["code_sha256"] == sha_of(code) for c in aws.values()), "check mode wrote"

    patch, calls = recording_calls()
    with patch:
        applied = run(args(new))
    assert applied["changed"] is True
    assert all(stored(c)["code_sha256"] == sha_of(new) for c in aws.values())
    assert all(applied["regions"][r]["function"]["code_sha256"] == sha_of(new) for r in REGIONS)
    operations = [name for dummy, name in calls]
    assert operations.count("UpdateFunctionCode") == 3 and "UpdateFunctionConfiguration" not in operations and "TagResource" not in operations
    assert run(args(new))["changed"] is False


def test_configuration_drift_in_one_region_changes_only_that_region(aws, code):
    run(args(code))
    aws["eu-west-1"].update_function_configuration(FunctionName=NAME, Timeout=10, Description="changed by hand")
    predicted = run(args(code), check_mode=True, diff=True)
    assert {r: v["changed"] for r, v in predicted["regions"].items()} == {"us-east-1": False, "eu-west-1": True, "ap-southeast-2": False}
    assert [d["before_header"] for d in predicted["diff"]] == ["eu-west-1 (before)"]
    before, after = predicted["diff"][0]["before"], predicted["diff"][0]["after"]
    assert (before["timeout"], before["description"]) == (10, "changed by hand")
    assert (after["timeout"], after["description"]) == (30, "logvault canary")
    assert dict(before, timeout=30, description="logvault canary") == after, "nothing else differs"
    assert stored(aws["eu-west-1"])["timeout"] == 10, "check mode wrote"

    patch, calls = recording_calls()
    with patch:
        applied = run(args(code))
    assert applied["changed"] is True and applied["regions"]["eu-west-1"]["action"] == "updated"
    assert applied["regions"]["us-east-1"]["action"] == "unchanged"
    assert stored(aws["eu-west-1"])["timeout"] == 30 and stored(aws["eu-west-1"])["description"] == "logvault canary"
    writes = [(region, name) for region, name in calls if not name.startswith(("Get", "List"))]
    assert writes == [("eu-west-1", "UpdateFunctionConfiguration")]
    assert run(args(code))["changed"] is False


def test_configuration_then_wait_then_code(aws, code, tmp_path):
    """A function takes one update at a time: UpdateFunctionCode only after the configuration update succeeded."""
    run(args(code, regions=["us-east-1"]))
    new = make_zip(tmp_path / "new.zip", "def handler(event, context):\n    return 3\n")
    patch, calls = recording_calls()
    with patch:
        result = run(args(new, regions=["us-east-1"], memory_size=256, tags=dict(TAGS, team="logs")))
    assert result["changed"] is True
    assert [name for dummy, name in calls] == ["GetFunction", "UpdateFunctionConfiguration", "GetFunction",
                                               "UpdateFunctionCode", "GetFunction", "TagResource"]
    assert stored(aws["us-east-1"])["memory_size"] == 256 and stored(aws["us-east-1"])["code_sha256"] == sha_of(new)


def test_an_update_in_progress_is_waited_for(aws, code, tmp_path):
    run(args(code, regions=["us-east-1"]))
    original = botocore.client.BaseClient._make_api_call
    answers = []

    def in_progress_once(self, name, params):
        response = original(self, name, params)
        if name == "GetFunction":
            answers.append(name)
            if len(answers) <= 2:  # the module's read, and the waiter's first poll, see someone else's update under way
                response["Configuration"]["LastUpdateStatus"] = "InProgress"
        return response

    new = make_zip(tmp_path / "new.zip", "x = 4\n")
    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", in_progress_once), mock.patch("time.sleep") as sleep:
        result = run(args(new, regions=["us-east-1"]))
    assert result["changed"] is True and stored(aws["us-east-1"])["code_sha256"] == sha_of(new)
    assert len(answers) == 4, "read, two polls before the update, one after it"
    assert sleep.call_count == 1


def test_a_failed_update_fails_that_region_with_the_reason(aws, code):
    run(args(code))
    original = botocore.client.BaseClient._make_api_call
    updated = []

    def failed_in_sydney(self, name, params):
        response = original(self, name, params)
        if name == "UpdateFunctionConfiguration":
            updated.append(self.meta.region_name)
        if name == "GetFunction" and self.meta.region_name == "ap-southeast-2" and "ap-southeast-2" in updated:
            response["Configuration"].update(LastUpdateStatus="Failed", LastUpdateStatusReason="ENI limit reached")
        return response

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", failed_in_sydney):
        result = run(args(code, timeout=60))
    assert result["failed"] is True
    assert result["msg"].startswith("Lambda function lv-canary failed in 1 of 3 regions: ap-southeast-2: "
                                    "Function lv-canary did not finish its configuration update (ENI limit reached)")
    assert result["regions"]["us-east-1"]["action"] == "updated" and result["regions"]["ap-southeast-2"]["failed"] is True
    assert result["regions"]["ap-southeast-2"]["changed"] is True, "the configuration was written before the wait failed"
    assert stored(aws["ap-southeast-2"])["timeout"] == 60


def test_tags_added_and_removed_with_purge_tags(aws, code):
    run(args(code))
    arn = aws["us-east-1"].get_function(FunctionName=NAME)["Configuration"]["FunctionArn"]
    aws["us-east-1"].tag_resource(Resource=arn, Tags={"owner": "someone"})

    kept = run(args(code, purge_tags=False), check_mode=True)
    assert kept["changed"] is False
    assert kept["regions"]["us-east-1"]["function"]["tags"] == dict(TAGS, owner="someone")

    purged = run(args(code), diff=True)
    assert {r: v["changed"] for r, v in purged["regions"].items()} == {"us-east-1": True, "eu-west-1": False, "ap-southeast-2": False}
    assert purged["diff"][0]["before"]["tags"] == dict(TAGS, owner="someone") and purged["diff"][0]["after"]["tags"] == TAGS
    assert stored(aws["us-east-1"])["tags"] == TAGS

    new_tags = {"logvault:managed-by": "logvault.aws", "team": "logs"}
    added = run(args(code, tags={"team": "logs"}, purge_tags=False))
    assert added["changed"] is True and all(stored(c)["tags"] == new_tags for c in aws.values())
    replaced = run(args(code, tags={"team": "logs"}))
    assert replaced["changed"] is True and all(stored(c)["tags"] == {"team": "logs"} for c in aws.values())
    assert all(replaced["regions"][r]["function"]["tags"] == {"team": "logs"} for r in REGIONS)
    assert run(args(code, tags={"team": "logs"}))["changed"] is False


# ------------------------------------------------------------------ absent


def test_a_rerun_reads_the_tags_from_get_function(aws, code):
    """GetFunction returns the tags (to a caller allowed lambda:ListTags): a rerun makes one Lambda call per region."""
    run(args(code))
    patch, calls = recording_calls()
    with patch:
        result = run(args(code))
    assert result["changed"] is False
    assert sorted(calls) == sorted((region, "GetFunction") for region in REGIONS)


def test_without_tags_in_get_function_they_are_read_with_list_tags(aws, code):
    """A caller that lambda:ListTags does not allow gets no Tags (or a TagsError) from GetFunction
    (API_GetFunction): the module reads them with ListTags, and still sees a tag that drifted."""
    run(args(code))
    arn = aws["eu-west-1"].get_function(FunctionName=NAME)["Configuration"]["FunctionArn"]
    aws["eu-west-1"].tag_resource(Resource=arn, Tags={"owner": "someone"})
    original = botocore.client.BaseClient._make_api_call
    calls = []

    def without_tags(self, name, params):  # test double: GetFunction as a caller without lambda:ListTags sees it
        calls.append((self.meta.region_name, name))
        response = original(self, name, params)
        if name == "GetFunction":
            response = dict(response)
            response.pop("Tags", None)
            if self.meta.region_name == "us-east-1":
                response["TagsError"] = {"ErrorCode": "AccessDeniedException", "Message": "not allowed lambda:ListTags"}
        return response

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", without_tags):
        result = run(args(code), check_mode=True)
    assert sorted(name for dummy, name in calls) == ["GetFunction"] * len(REGIONS) + ["ListTags"] * len(REGIONS)
    assert {r: v["changed"] for r, v in result["regions"].items()} == {"us-east-1": False, "eu-west-1": True, "ap-southeast-2": False}


def test_absent_in_every_region(aws, code):
    run(args(code))
    absent = dict(name=NAME, regions=REGIONS, state="absent")
    predicted = run(absent, check_mode=True, diff=True)
    assert predicted["changed"] is True and all(predicted["regions"][r]["action"] == "deleted" for r in REGIONS)
    assert all(d["after"] == {} and d["before"]["function_name"] == NAME and d["before"]["tags"] == TAGS for d in predicted["diff"])
    assert all(functions_of(c) == [NAME] for c in aws.values()), "check mode deleted"
    deleted = run(absent)
    assert deleted["changed"] is True and all(functions_of(c) == [] for c in aws.values())
    again = run(absent)
    assert again["changed"] is False
    assert again["regions"] == dict((r, {"changed": False, "action": "absent", "function": {}}) for r in REGIONS)


def test_absent_where_only_some_regions_have_it(aws, code):
    run(args(code, regions=["eu-west-1"]))
    result = run(dict(name=NAME, regions=REGIONS, state="absent"))
    assert {r: v["action"] for r, v in result["regions"].items()} == {"us-east-1": "absent", "eu-west-1": "deleted", "ap-southeast-2": "absent"}
    assert functions_of(aws["eu-west-1"]) == []


# ------------------------------------------------------------------ failures and retries


def test_one_failing_region_is_named_and_the_others_are_done(aws, code):
    original = module_under_test._get_function

    def get_function(client, name):
        if client.meta.region_name == "eu-west-1":
            raise module_under_test.RegionError("Failed to get function %s" % name, error=botocore.exceptions.ClientError(
                {"Error": {"Code": "AccessDeniedException", "Message": "denied in eu-west-1"}}, "GetFunction"))
        return original(client, name)

    with mock.patch.object(module_under_test, "_get_function", get_function):
        result = run(args(code))
    assert result["failed"] is True
    assert result["msg"].startswith("Lambda function lv-canary failed in 1 of 3 regions: eu-west-1: Failed to get function lv-canary")
    assert "denied in eu-west-1" in result["msg"]
    assert result["regions"]["eu-west-1"] == {"changed": False, "failed": True, "msg": result["msg"].split("eu-west-1: ", 1)[1]}
    assert result["changed"] is True and result["regions"]["us-east-1"]["action"] == "created"
    assert functions_of(aws["us-east-1"]) == [NAME] and functions_of(aws["ap-southeast-2"]) == [NAME] and functions_of(aws["eu-west-1"]) == []


def test_create_is_retried_while_the_new_role_propagates(aws, code):
    patch, calls = failing_first("CreateFunction", "InvalidParameterValueException", NOT_ASSUMABLE, 2)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(args(code, regions=["us-east-1"]))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and len(calls) == 3 and sleep.call_count == 2
    assert functions_of(aws["us-east-1"]) == [NAME]


def test_every_region_retries_the_propagation_error_at_once(aws, code):
    original = botocore.client.BaseClient._make_api_call
    refused = dict((r, 0) for r in REGIONS)

    def not_yet(self, name, params):
        region = self.meta.region_name
        if name == "CreateFunction" and refused[region] < 2:
            refused[region] += 1
            raise botocore.exceptions.ClientError({"Error": {"Code": "InvalidParameterValueException", "Message": NOT_ASSUMABLE}}, name)
        return original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", not_yet), mock.patch("time.sleep") as sleep:
        result = run(args(code))
    assert result.get("failed") is not True, result.get("msg")
    assert refused == dict((r, 2) for r in REGIONS) and sleep.call_count == 6
    assert all(functions_of(c) == [NAME] for c in aws.values())


def test_create_waits_for_a_role_that_does_not_exist_yet(aws, code):
    """moto answers 'cannot be assumed by Lambda' for a missing role, as AWS does while a new role propagates."""
    late = ROLE.replace("lv-canary", "lv-late")

    def sleep(seconds):
        if sleep.calls == 1:
            boto3.client("iam", region_name="us-east-1").create_role(RoleName="lv-late", AssumeRolePolicyDocument=json.dumps(TRUST))
        sleep.calls += 1

    sleep.calls = 0
    with mock.patch("time.sleep", side_effect=sleep):
        result = run(args(code, regions=["us-east-1"], role=late))
    assert result.get("failed") is not True, result.get("msg")
    assert sleep.calls == 2 and stored(aws["us-east-1"])["role"] == late


def test_other_invalid_parameter_errors_fail_at_once(aws, code):
    patch, calls = failing_first("CreateFunction", "InvalidParameterValueException", "Unzipped size must be smaller than 262144000 bytes", 5)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(args(code, regions=["us-east-1"]))
    assert result["failed"] is True and "Unzipped size must be smaller" in result["msg"]
    assert "us-east-1: Failed to create function lv-canary" in result["msg"]
    assert len(calls) == 1 and sleep.call_count == 0


def test_throttling_is_retried(aws, code):
    patch, calls = failing_first("GetFunction", "TooManyRequestsException", "Rate exceeded", 1)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(args(code, regions=["us-east-1"]))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and sleep.call_count == 1


# ------------------------------------------------------------------ check mode ARN


def test_check_mode_reads_the_account_once_for_every_region(aws, code):
    run(args(code, regions=["us-east-1"]))
    patch, calls = recording_calls()
    with patch:
        result = run(args(code), check_mode=True)
    assert [name for dummy, name in calls if name == "GetCallerIdentity"] == ["GetCallerIdentity"]
    assert result["regions"]["us-east-1"]["action"] == "unchanged"
    assert result["regions"]["eu-west-1"]["function"]["function_arn"] == "arn:aws:lambda:eu-west-1:%s:function:%s" % (ACCOUNT, NAME)
    patch, calls = recording_calls()
    with patch:
        run(args(code))
        run(args(code), check_mode=True)
    assert "GetCallerIdentity" not in [name for dummy, name in calls], "only when a function would be created in check mode"


def test_check_mode_without_sts_warns_and_gives_no_arn(aws, code):
    patch, dummy = failing_first("GetCallerIdentity", "AccessDenied", "no", 10)
    with patch, mock.patch("time.sleep"), mock.patch.object(AnsibleAWSModule, "warn") as warn:
        result = run(args(code), check_mode=True)
    assert result["changed"] is True and result.get("failed") is not True
    assert all(result["regions"][r]["function"]["function_arn"] is None for r in REGIONS)
    assert "GetCallerIdentity failed" in warn.call_args.args[0]


# ------------------------------------------------------------------ validation


@pytest.mark.parametrize("bad,param,text", [
    ({"name": "arn:aws:lambda:us-east-1:123456789012:function:x"}, "name", "not a function name"),
    ({"name": "x" * 65}, "name", "not a function name"),
    ({"regions": ["us-east-1", "us-east-1"]}, "regions", "twice"),
    ({"regions": ["nowhere"]}, "regions", "nowhere"),
    ({"zip_file": None}, "zip_file", "required when state is present"),
    ({"zip_file": "/nonexistent/canary.zip"}, "zip_file", "is not a file"),
    ({"runtime": None}, "runtime", "required"),
    ({"runtime": "Python 3.12"}, "runtime", "not a Lambda runtime"),
    ({"handler": "logvault canary.handler"}, "handler", "without spaces"),
    ({"role": "lv-canary"}, "role", "not an IAM role ARN"),
    ({"role": None}, "role", "required"),
    ({"description": "d" * 257}, "description", "at most 256"),
    ({"memory_size": 64}, "memory_size", "between 128 and 10240"),
    ({"memory_size": 10241}, "memory_size", "between 128 and 10240"),
    ({"timeout": 0}, "timeout", "between 1 and 900"),
    ({"timeout": 901}, "timeout", "between 1 and 900"),
    ({"environment_variables": {"1BAD": "x"}}, "environment_variables", "1BAD"),
    ({"environment_variables": {"A": "x"}}, "environment_variables", "not a variable name"),
    ({"environment_variables": {"GOOD": ["a"]}}, "environment_variables", "must be text"),
    ({"environment_variables": {"GOOD": True}}, "environment_variables", "must be text"),
    ({"tags": {"aws:owner": "x"}}, "tags", "aws:"),
    ({"tags": {"k": "v" * 257}}, "tags", "at most 256"),
    ({"tags": dict(("k%d" % i, "v") for i in range(51))}, "tags", "at most 50"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(monkeypatch, code, bad, param, text):
    set_test_credentials(monkeypatch)
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(dict(args(code), **bad))
    assert result["failed"] is True and result["parameter"] == param and text in result["msg"], result["msg"]
    clients.assert_not_called()


def test_a_file_that_is_not_a_zip_is_refused(monkeypatch, tmp_path):
    set_test_credentials(monkeypatch)
    text = tmp_path / "canary.py"
    text.write_text("def handler(event, context):\n    return 1\n")
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(args(str(text)))
    assert result["failed"] is True and result["parameter"] == "zip_file" and "not a zip file" in result["msg"]
    clients.assert_not_called()


def test_absent_needs_no_zip_runtime_handler_or_role(aws):
    result = run(dict(name=NAME, regions=REGIONS, state="absent"))
    assert result.get("failed") is not True and result["changed"] is False


def test_numbers_in_variables_and_tags_are_sent_as_text(aws, code):
    result = run(args(code, regions=["us-east-1"], environment_variables={"PORT": 8080}, tags={"cost-center": 42}))
    assert result.get("failed") is not True, result.get("msg")
    assert stored(aws["us-east-1"])["environment_variables"] == {"PORT": "8080"}
    assert stored(aws["us-east-1"])["tags"] == {"cost-center": "42"}
    assert run(args(code, regions=["us-east-1"], environment_variables={"PORT": 8080}, tags={"cost-center": 42}))["changed"] is False


def test_documentation_renders():
    doc = assert_renders_with_examples("logvault.aws.lambda_function")
    assert set(doc["doc"]["options"]) >= {"name", "state", "regions", "zip_file", "runtime", "handler", "role", "description",
                                          "memory_size", "timeout", "environment_variables", "tags", "purge_tags"}


# ------------------------------------------------------------------ src: a directory zipped in memory


def test_src_directory_is_zipped_like_lambda_package_and_deployed_once(aws, tmp_path):
    source = tmp_path / "canary_lambda"
    source.mkdir()
    (source / "logvault_canary.py").write_text("def handler(event, context):\n    return 1\n")
    (source / "__pycache__").mkdir()
    (source / "__pycache__" / "logvault_canary.cpython-311.pyc").write_bytes(b"byte code is left out")
    expected = lambda_zip.sha256_base64(lambda_zip.build(lambda_zip.collect(str(source))))
    first = run(args(None, src=str(source)))
    assert first["changed"] is True
    assert all(stored(aws[r])["code_sha256"] == expected for r in REGIONS)
    # Only the content counts: a touched file (new mtime) is the same package.
    os.utime(str(source / "logvault_canary.py"), (1, 1))
    assert run(args(None, src=str(source)))["changed"] is False
    (source / "logvault_canary.py").write_text("def handler(event, context):\n    return 2\n")
    third = run(args(None, src=str(source)))
    assert third["changed"] is True and all(stored(aws[r])["code_sha256"] != expected for r in REGIONS)
    assert sorted(os.listdir(str(tmp_path))) == ["canary_lambda"], "src must not write a zip anywhere"


@pytest.mark.parametrize("extra, text", [
    ({"src": "/nonexistent/dir"}, "is not a directory"),
    ({"src": "FILE"}, "is not a directory"),
    ({"src": "EMPTY"}, "holds no files to package"),
    ({"src": "DIR", "zip_file": "ZIP"}, "mutually exclusive"),
])
def test_bad_src_fails_naming_src_before_any_aws_call(monkeypatch, tmp_path, code, extra, text):
    set_test_credentials(monkeypatch)
    (tmp_path / "file.py").write_text("x = 1\n")
    (tmp_path / "empty").mkdir()
    (tmp_path / "dir").mkdir()
    (tmp_path / "dir" / "a.py").write_text("x = 1\n")
    paths = {"FILE": str(tmp_path / "file.py"), "EMPTY": str(tmp_path / "empty"), "DIR": str(tmp_path / "dir"), "ZIP": code}
    given = dict((k, paths.get(v, v)) for k, v in extra.items())
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(args(given.pop("zip_file", None), **given))
    assert result["failed"] is True and result["parameter"] == "src" and text in result["msg"], result["msg"]
    clients.assert_not_called()


# ------------------------------------------------------------------ schedule: the function and its schedule in one module run

SCHEDULER_ROLE = "arn:aws:iam::%s:role/lv-canary-scheduler" % ACCOUNT
SCHEDULE = dict(schedule_expression="rate(5 minutes)", role_arn=SCHEDULER_ROLE, description="canary",
                input=json.dumps({"t": "<aws.scheduler.scheduled-time>"}), maximum_retry_attempts=0, maximum_event_age_in_seconds=60)
SCHEDULE_WRITES = ("CreateSchedule", "UpdateSchedule", "DeleteSchedule")


def schedulers():
    return dict((r, boto3.client("scheduler", region_name=r)) for r in REGIONS)


def schedule_names(client):
    return [s["Name"] for s in client.list_schedules()["Schedules"]]


def test_schedule_made_with_the_function_check_apply_check_apply(aws, code):
    given = args(code, schedule=dict(SCHEDULE))
    results = [run(given, check_mode=True, diff=True)]
    assert all(schedule_names(c) == [] for c in schedulers().values()), "check mode wrote"
    results += [run(given, diff=True), run(given, check_mode=True), run(given)]
    assert [r["changed"] for r in results] == [True, True, False, False], [r.get("msg") for r in results]
    predicted, created, dummy, rerun = results
    for region in REGIONS:
        function_arn = "arn:aws:lambda:%s:%s:function:%s" % (region, ACCOUNT, NAME)
        assert created["regions"][region]["schedule_changed"] is True and rerun["regions"][region]["schedule_changed"] is False
        assert predicted["regions"][region]["schedule"] == created["regions"][region]["schedule"], "check mode predicts the schedule"
        assert created["regions"][region]["schedule"]["arn"] == "arn:aws:scheduler:%s:%s:schedule/default/%s" % (region, ACCOUNT, NAME)
        stored_schedule = schedulers()[region].get_schedule(Name=NAME)
        assert stored_schedule["Target"]["Arn"] == function_arn, "each region's schedule invokes that region's function"
        assert stored_schedule["Target"]["RoleArn"] == SCHEDULER_ROLE and stored_schedule["ScheduleExpression"] == "rate(5 minutes)"
        assert stored_schedule["Target"]["RetryPolicy"] == {"MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60}
    headers = [d["before_header"] for d in predicted["diff"]]
    assert headers == [h for r in REGIONS for h in ("%s (before)" % r, "%s schedule (before)" % r)]


def test_the_schedule_is_written_after_the_function(aws, code):
    patch, calls = recording_calls()
    with patch:
        result = run(args(code, regions=["eu-west-1"], schedule=dict(SCHEDULE)))
    assert result["changed"] is True, result.get("msg")
    writes = [name for dummy, name in calls if name in ("CreateFunction",) + SCHEDULE_WRITES]
    assert writes == ["CreateFunction", "CreateSchedule"]


def test_a_schedule_that_drifted_changes_only_the_schedule(aws, code):
    run(args(code, schedule=dict(SCHEDULE)))
    client = schedulers()["ap-southeast-2"]
    current = client.get_schedule(Name=NAME)
    client.update_schedule(Name=NAME, ScheduleExpression="rate(1 hour)", FlexibleTimeWindow={"Mode": "OFF"}, Target=current["Target"])
    patch, calls = recording_calls()
    with patch:
        result = run(args(code, schedule=dict(SCHEDULE)), diff=True)
    assert result["changed"] is True
    assert {r: v["changed"] for r, v in result["regions"].items()} == {"us-east-1": False, "eu-west-1": False, "ap-southeast-2": True}
    assert result["regions"]["ap-southeast-2"]["action"] == "unchanged" and result["regions"]["ap-southeast-2"]["schedule_changed"] is True
    assert [c for c in calls if c[1] in SCHEDULE_WRITES] == [("ap-southeast-2", "UpdateSchedule")]
    assert result["diff"][0]["before"]["schedule_expression"] == "rate(1 hour)"
    assert client.get_schedule(Name=NAME)["ScheduleExpression"] == "rate(5 minutes)"


def test_absent_deletes_the_schedule_before_the_function(aws, code):
    run(args(code, schedule=dict(SCHEDULE)))
    gone = dict(name=NAME, regions=REGIONS, state="absent", schedule={})
    assert run(gone, check_mode=True)["changed"] is True
    assert all(schedule_names(c) == [NAME] for c in schedulers().values()), "check mode wrote"
    patch, calls = recording_calls()
    with patch:
        result = run(gone)
    assert result["changed"] is True and all(r["schedule_changed"] and r["action"] == "deleted" for r in result["regions"].values())
    for region in REGIONS:
        writes = [name for r, name in calls if r == region and name in ("DeleteFunction", "DeleteSchedule")]
        assert writes == ["DeleteSchedule", "DeleteFunction"], (region, writes)
        assert schedule_names(schedulers()[region]) == [] and functions_of(aws[region]) == []
    assert run(gone)["changed"] is False


def test_a_schedule_that_cannot_be_deleted_keeps_its_function(aws, code):
    run(args(code, schedule=dict(SCHEDULE)))
    original = botocore.client.BaseClient._make_api_call

    def fake(self, name, params):
        if name == "DeleteSchedule" and self.meta.region_name == "eu-west-1":
            raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDeniedException", "Message": "no"}}, name)
        return original(self, name, params)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake):
        result = run(dict(name=NAME, regions=REGIONS, state="absent", schedule={}))
    assert result["failed"] is True and "eu-west-1" in result["msg"] and "us-east-1" not in result["msg"], result["msg"]
    assert result["regions"]["eu-west-1"]["failed"] is True and result["regions"]["us-east-1"]["action"] == "deleted"
    assert functions_of(aws["eu-west-1"]) == [NAME], "a function whose schedule is still there must stay"
    assert functions_of(aws["us-east-1"]) == []


def test_schedule_absent_keeps_the_function(aws, code):
    run(args(code, schedule=dict(SCHEDULE)))
    result = run(args(code, schedule=dict(name=NAME, state="absent")))
    assert result["changed"] is True
    assert all(r["action"] == "unchanged" and r["schedule_changed"] and r["schedule"] == {} for r in result["regions"].values())
    assert all(schedule_names(c) == [] for c in schedulers().values())
    assert all(functions_of(aws[r]) == [NAME] for r in REGIONS)


@pytest.mark.parametrize("schedule, param", [
    ({"role_arn": SCHEDULER_ROLE}, "schedule.schedule_expression"),
    ({"schedule_expression": "rate(5 minutes)"}, "schedule.role_arn"),
    (dict(SCHEDULE, maximum_retry_attempts=186), "schedule.maximum_retry_attempts"),
    (dict(SCHEDULE, name="bad name"), "schedule.name"),
])
def test_a_bad_schedule_fails_naming_the_parameter_before_any_aws_call(monkeypatch, code, schedule, param):
    set_test_credentials(monkeypatch)
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(args(code, schedule=schedule))
    assert result["failed"] is True and result["parameter"] == param, result["msg"]
    clients.assert_not_called()


# ------------------------------------------------------------------ KMS key of the environment variables


@pytest.fixture
def keys(aws):
    """A customer managed key in us-east-1 and eu-west-1 each; UpdateFunctionConfiguration's KMSKeyArn as AWS takes it.

    moto 5.2.5 ignores KMSKeyArn on update; the emulator's patch (local_aws/services/lambda_kms_key.py) makes it take
    effect, as the Lambda API reference documents it, so the patch is installed here too."""
    from local_aws.services import lambda_kms_key  # pylint: disable=import-outside-toplevel

    lambda_kms_key.install()
    return dict((r, boto3.client("kms", region_name=r).create_key()["KeyMetadata"]["Arn"]) for r in ("us-east-1", "eu-west-1"))


def kms_of(client):
    return client.get_function_configuration(FunctionName=NAME).get("KMSKeyArn", "")


def test_kms_key_set_at_creation_then_converged(aws, code, keys):
    one = dict(regions=["us-east-1"], kms_key_arn=keys["us-east-1"])
    predicted = run(args(code, **one), check_mode=True)
    patch, calls = recording_calls()
    with patch:
        created = run(args(code, **one))
    assert [r["changed"] for r in (predicted, created)] == [True, True]
    assert [name for region, name in calls if name == "UpdateFunctionConfiguration"] == [], "the key is sent with CreateFunction"
    assert kms_of(aws["us-east-1"]) == keys["us-east-1"]
    assert predicted["regions"]["us-east-1"]["function"]["kms_key_arn"] == keys["us-east-1"]
    assert created["regions"]["us-east-1"]["function"]["kms_key_arn"] == keys["us-east-1"]
    assert run(args(code, **one), check_mode=True)["changed"] is False
    assert run(args(code, **one))["changed"] is False


def test_kms_key_changed_removed_and_left_alone(aws, code, keys):
    base = dict(regions=["us-east-1"])
    assert run(args(code, **base))["changed"] is True
    assert kms_of(aws["us-east-1"]) == ""
    # without the option, a function with Lambda's own key reports no key
    assert run(args(code, **base))["regions"]["us-east-1"]["function"]["kms_key_arn"] == ""

    check = run(args(code, kms_key_arn=keys["us-east-1"], **base), check_mode=True, diff=True)
    assert check["changed"] is True and kms_of(aws["us-east-1"]) == "", "check mode wrote"
    assert check["diff"][0]["before"]["kms_key_arn"] == "" and check["diff"][0]["after"]["kms_key_arn"] == keys["us-east-1"]
    patch, calls = recording_calls()
    with patch:
        assert run(args(code, kms_key_arn=keys["us-east-1"], **base))["changed"] is True
    assert [name for region, name in calls if name.startswith("Update")] == ["UpdateFunctionConfiguration"]
    assert kms_of(aws["us-east-1"]) == keys["us-east-1"]
    assert run(args(code, kms_key_arn=keys["us-east-1"], **base))["changed"] is False

    # not given: the key is not managed, and reported as it is
    left = run(args(code, **base))
    assert left["changed"] is False and left["regions"]["us-east-1"]["function"]["kms_key_arn"] == keys["us-east-1"]
    assert kms_of(aws["us-east-1"]) == keys["us-east-1"]

    # "": Lambda's own key again
    assert run(args(code, kms_key_arn="", **base))["changed"] is True
    assert kms_of(aws["us-east-1"]) == ""
    assert run(args(code, kms_key_arn="", **base))["changed"] is False


def test_a_function_built_by_amazon_aws_lambda_with_the_key_converges(aws, code, keys):
    """The roles deployed their functions with amazon.aws.lambda (kms_key_arn, tags, a published version) before."""
    import importlib  # pylint: disable=import-outside-toplevel

    amazon_lambda = importlib.import_module("ansible_collections.amazon.aws.plugins.modules.lambda")
    settings = dict(name=NAME, runtime="python3.12", handler="logvault_canary.handler", role=ROLE, zip_file=code,
                    description="logvault canary", memory_size=128, timeout=30,
                    environment_variables={"CANARY_LOG_GROUP": "/logvault/canary"}, tags=TAGS)
    with mock.patch.object(AnsibleAWSModule, "client", AMAZON_AWS_CLIENT):
        built = run_module(amazon_lambda, dict(settings, state="present", kms_key_arn=keys["us-east-1"], region="us-east-1"))
    assert built.get("failed") is not True and built["changed"] is True, built.get("msg")
    result = run(args(code, regions=["us-east-1"], kms_key_arn=keys["us-east-1"]), diff=True)
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is False, result.get("diff")


@pytest.mark.parametrize("bad,text", [
    ("alias/logvault", "not a KMS key ARN"),
    ("arn:aws:kms:us-east-1:123456789012:alias/logvault", "not a KMS key ARN"),
    ("arn:aws:kms:eu-west-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", "a function uses a key of its own region, not us-east-1"),
])
def test_bad_kms_key_fails_naming_kms_key_arn_before_any_aws_call(monkeypatch, code, bad, text):
    set_test_credentials(monkeypatch)
    with mock.patch.object(module_under_test, "regional_clients") as clients:
        result = run(args(code, regions=["us-east-1", "eu-west-1"], kms_key_arn=bad))
    assert result["failed"] is True and result["parameter"] == "kms_key_arn" and text in result["msg"], result["msg"]
    clients.assert_not_called()
