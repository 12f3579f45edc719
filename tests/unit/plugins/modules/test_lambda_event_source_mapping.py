# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_event_source_mapping, run in-process (main() with patched module args) against the
local AWS emulator (local_aws, started in this process on a free port)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import io
import itertools
import json
import uuid
import zipfile
from unittest import mock

import boto3
import pytest


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import lambda_event_source_mapping as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import ModuleExit, run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
BUCKET_ARN = "arn:aws:s3:::dead-letter"
QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:dead-letter"

SETTINGS = dict(
    starting_position="TRIM_HORIZON",
    batch_size=500,
    maximum_batching_window_in_seconds=5,
    parallelization_factor=2,
    bisect_batch_on_function_error=True,
    function_response_types=["ReportBatchItemFailures"],
    maximum_retry_attempts=5,
    maximum_record_age_in_seconds=86400,
    on_failure_destination_arn=BUCKET_ARN,
)


@pytest.fixture(scope="module")
def emulator():
    from local_aws import server  # pylint: disable=import-outside-toplevel

    emu = server.start(port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def aws(emulator, monkeypatch):
    """boto3 clients on the emulator, and a fresh stream and function for each test."""
    set_test_credentials(monkeypatch)
    # The function's role is a test double created a moment before use; the propagation
    # window and trust checks have their own tests (tests/local_aws), and the module's retry
    # of the propagation answer is tested below with AWS's exact error.
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "0")
    monkeypatch.setenv("LOGVAULT_AWS_TRUST_POLICIES", "0")
    # Nor does the role carry a policy: the service-role evaluation has its own tests too.
    monkeypatch.setenv("LOGVAULT_AWS_SERVICE_ROLE_POLICIES", "0")

    class Env(object):
        endpoint = emulator.endpoint
        lam = boto3.client("lambda", region_name=REGION, endpoint_url=emulator.endpoint)
        kinesis = boto3.client("kinesis", region_name=REGION, endpoint_url=emulator.endpoint)
        iam = boto3.client("iam", region_name=REGION, endpoint_url=emulator.endpoint)
        base = uuid.uuid4().hex[:8]
        counter = itertools.count()

        def name(self, prefix):
            return "%s-%s-%d" % (prefix, self.base, next(self.counter))

        def stream(self):
            name = self.name("hub")
            self.kinesis.create_stream(StreamName=name, ShardCount=1)
            return self.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

        def function(self, name=None):
            role = self.iam.create_role(RoleName=self.name("fn-role"), AssumeRolePolicyDocument=json.dumps({
                "Version": "2012-10-17",
                "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
            }))["Role"]["Arn"]
            buf = io.BytesIO()
            with zipfile.ZipFile(buf, "w") as archive:
                archive.writestr("app.py", "def handler(event, context):\n    return None\n")
            return self.lam.create_function(FunctionName=name or self.name("fn"), Runtime="python3.11", Role=role,
                                            Handler="app.handler", Code={"ZipFile": buf.getvalue()})["FunctionArn"]

        def mappings(self, function, stream):
            return self.lam.list_event_source_mappings(FunctionName=function, EventSourceArn=stream)["EventSourceMappings"]

    env = Env()
    env.stream_arn = env.stream()
    env.function_arn = env.function()
    env.function_name = env.function_arn.rsplit(":", 1)[-1]
    return env


def run(aws, args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION, "endpoint_url": aws.endpoint})


def present(aws, **extra):
    """Arguments of a present mapping with every setting; an option given as None is left out."""
    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn)
    args.update(SETTINGS)
    args.update(extra)
    return dict((k, v) for k, v in args.items() if v is not None)


def test_four_step_cycle(aws):
    first = run(aws, present(aws), check_mode=True, diff=True)
    assert first["changed"] is True
    assert aws.mappings(aws.function_name, aws.stream_arn) == [], "check mode wrote"
    assert first["diff"]["before"] == {}
    predicted = first["event_source_mapping"]
    assert "uuid" not in predicted

    second = run(aws, present(aws), diff=True)
    assert second["changed"] is True
    mapping = second["event_source_mapping"]
    stored = aws.mappings(aws.function_name, aws.stream_arn)
    assert [m["UUID"] for m in stored] == [mapping["uuid"]]
    stored = stored[0]
    assert stored["BatchSize"] == 500 and stored["MaximumBatchingWindowInSeconds"] == 5 and stored["ParallelizationFactor"] == 2
    assert stored["BisectBatchOnFunctionError"] is True and stored["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert stored["MaximumRetryAttempts"] == 5 and stored["MaximumRecordAgeInSeconds"] == 86400
    assert stored["DestinationConfig"]["OnFailure"]["Destination"] == BUCKET_ARN
    assert stored["StartingPosition"] == "TRIM_HORIZON" and stored["State"] == "Enabled"
    assert mapping["function_arn"] == aws.function_arn and mapping["state"] == "Enabled"
    # The check-mode prediction is what was created (except what only AWS knows).
    for key, value in predicted.items():
        assert mapping[key] == value, key
    assert second["diff"]["after"] == dict((k, v) for k, v in mapping.items() if k in second["diff"]["after"])

    third = run(aws, present(aws), check_mode=True)
    assert third["changed"] is False
    fourth = run(aws, present(aws), diff=True)
    assert fourth["changed"] is False
    assert fourth["event_source_mapping"]["uuid"] == mapping["uuid"]
    assert fourth["diff"]["before"] == fourth["diff"]["after"]
    assert len(aws.mappings(aws.function_name, aws.stream_arn)) == 1


def test_function_arn_and_name_manage_the_same_mapping(aws):
    run(aws, present(aws))
    assert run(aws, present(aws, function_name=aws.function_arn))["changed"] is False


def test_update_one_setting_leaves_the_others(aws):
    created = run(aws, present(aws))["event_source_mapping"]
    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, maximum_retry_attempts=7)
    check = run(aws, args, check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"]["maximum_retry_attempts"] == 5 and check["diff"]["after"]["maximum_retry_attempts"] == 7
    assert dict(check["diff"]["before"], maximum_retry_attempts=7) == check["diff"]["after"]
    assert aws.mappings(aws.function_name, aws.stream_arn)[0]["MaximumRetryAttempts"] == 5, "check mode wrote"

    real = run(aws, args)
    assert real["changed"] is True
    assert real["event_source_mapping"] == check["event_source_mapping"] == dict(created, maximum_retry_attempts=7)
    stored = aws.mappings(aws.function_name, aws.stream_arn)[0]
    assert stored["MaximumRetryAttempts"] == 7 and stored["BatchSize"] == 500
    assert stored["DestinationConfig"]["OnFailure"]["Destination"] == BUCKET_ARN
    assert run(aws, args)["changed"] is False


def test_remove_destination_and_response_types_disable_and_enable(aws):
    run(aws, present(aws))
    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, on_failure_destination_arn="", function_response_types=[])
    result = run(aws, args)
    assert result["changed"] is True
    assert result["event_source_mapping"]["on_failure_destination_arn"] == ""
    assert result["event_source_mapping"]["function_response_types"] == []
    stored = aws.mappings(aws.function_name, aws.stream_arn)[0]
    assert not (stored.get("DestinationConfig") or {}).get("OnFailure", {}).get("Destination")
    assert not stored.get("FunctionResponseTypes")
    assert run(aws, args)["changed"] is False

    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, enabled=False, on_failure_destination_arn=QUEUE_ARN)
    check = run(aws, args, check_mode=True)
    assert check["changed"] is True and check["event_source_mapping"]["state"] == "Disabled"
    assert aws.mappings(aws.function_name, aws.stream_arn)[0]["State"] == "Enabled", "check mode wrote"
    result = run(aws, args)
    assert result["changed"] is True and result["event_source_mapping"]["state"] == "Disabled"
    assert result["event_source_mapping"] == check["event_source_mapping"]
    assert aws.mappings(aws.function_name, aws.stream_arn)[0]["State"] == "Disabled"
    assert run(aws, args)["changed"] is False
    # enabled defaults to true: leaving it out enables the mapping again.
    assert run(aws, dict(function_name=aws.function_name, event_source_arn=aws.stream_arn))["changed"] is True
    assert aws.mappings(aws.function_name, aws.stream_arn)[0]["State"] == "Enabled"


def test_new_mapping_with_few_options_gets_aws_defaults(aws):
    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, starting_position="LATEST")
    check = run(aws, args, check_mode=True)
    result = run(aws, args)
    mapping = result["event_source_mapping"]
    assert mapping["starting_position"] == "LATEST"
    assert mapping["batch_size"] == 100 and mapping["maximum_retry_attempts"] == -1 and mapping["maximum_record_age_in_seconds"] == -1
    assert mapping["bisect_batch_on_function_error"] is False and mapping["on_failure_destination_arn"] == ""
    for key, value in check["event_source_mapping"].items():
        assert mapping[key] == value, key
    assert run(aws, args)["changed"] is False


def test_starting_position_cannot_change(aws):
    run(aws, present(aws))
    for check_mode in (True, False):
        result = run(aws, present(aws, starting_position="LATEST", batch_size=600), check_mode=check_mode)
        assert result["failed"] is True
        assert "starting_position" in result["msg"] and result["parameter"] == "starting_position"
    stored = aws.mappings(aws.function_name, aws.stream_arn)[0]
    assert stored["StartingPosition"] == "TRIM_HORIZON" and stored["BatchSize"] == 500


def test_absent(aws):
    args = dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, state="absent")
    assert run(aws, args)["changed"] is False
    run(aws, present(aws))
    check = run(aws, args, check_mode=True, diff=True)
    assert check["changed"] is True and check["diff"]["after"] == {} and check["diff"]["before"]["batch_size"] == 500
    assert len(aws.mappings(aws.function_name, aws.stream_arn)) == 1, "check mode deleted"
    result = run(aws, args)
    assert result["changed"] is True and result["event_source_mapping"] == {}
    assert aws.mappings(aws.function_name, aws.stream_arn) == []
    assert run(aws, args)["changed"] is False
    assert run(aws, args, check_mode=True)["changed"] is False


def test_function_that_does_not_exist(aws):
    args = present(aws, function_name="not-deployed-yet-" + aws.base)
    # Check mode on a fresh account: ListEventSourceMappings says ResourceNotFoundException.
    with pytest.raises(Exception) as info:
        aws.mappings(args["function_name"], aws.stream_arn)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    result = run(aws, args, check_mode=True)
    assert result["changed"] is True and "failed" not in result
    result = run(aws, args)
    assert result["failed"] is True
    assert "does not exist" in result["msg"] and args["function_name"] in result["msg"]
    assert result["parameter"] == "function_name"
    assert run(aws, dict(args, state="absent"))["changed"] is False


def test_two_mappings_fail_naming_them(aws):
    first = aws.lam.create_event_source_mapping(FunctionName=aws.function_name, EventSourceArn=aws.stream_arn, StartingPosition="LATEST")
    second = aws.lam.create_event_source_mapping(FunctionName=aws.function_arn, EventSourceArn=aws.stream_arn, StartingPosition="LATEST")
    for args in (present(aws), dict(function_name=aws.function_name, event_source_arn=aws.stream_arn, state="absent")):
        result = run(aws, args)
        assert result["failed"] is True
        assert first["UUID"] in result["msg"] and second["UUID"] in result["msg"]
        assert sorted(result["uuids"]) == sorted([first["UUID"], second["UUID"]])
    stored = aws.mappings(aws.function_name, aws.stream_arn)
    assert sorted(m["UUID"] for m in stored) == sorted([first["UUID"], second["UUID"]])
    assert all(m["BatchSize"] == 100 for m in stored)


def test_other_functions_on_the_same_stream_are_ignored(aws):
    other = aws.function()
    aws.lam.create_event_source_mapping(FunctionName=other, EventSourceArn=aws.stream_arn, StartingPosition="LATEST")
    assert run(aws, present(aws), check_mode=True)["changed"] is True
    assert run(aws, present(aws))["changed"] is True
    assert run(aws, present(aws))["changed"] is False
    assert len(aws.lam.list_event_source_mappings(EventSourceArn=aws.stream_arn)["EventSourceMappings"]) == 2


BAD = [
    (dict(function_name="bad name"), "function_name"),
    (dict(function_name="arn:aws:lambda:us-east-1:123456789012:function:fn:alias"), "function_name"),
    (dict(event_source_arn="arn:aws:sqs:us-east-1:123456789012:queue"), "event_source_arn"),
    (dict(event_source_arn="arn:aws:kinesis:us-east-1:1234:stream/hub"), "event_source_arn"),
    (dict(batch_size=0), "batch_size"),
    (dict(batch_size=10001), "batch_size"),
    (dict(maximum_batching_window_in_seconds=301), "maximum_batching_window_in_seconds"),
    (dict(parallelization_factor=11), "parallelization_factor"),
    (dict(parallelization_factor=0), "parallelization_factor"),
    (dict(maximum_retry_attempts=-2), "maximum_retry_attempts"),
    (dict(maximum_retry_attempts=10001), "maximum_retry_attempts"),
    (dict(maximum_record_age_in_seconds=59), "maximum_record_age_in_seconds"),
    (dict(maximum_record_age_in_seconds=604801), "maximum_record_age_in_seconds"),
    (dict(maximum_record_age_in_seconds=0), "maximum_record_age_in_seconds"),
    (dict(function_response_types=["Everything"]), "function_response_types"),
    (dict(on_failure_destination_arn="arn:aws:kinesis:us-east-1:123456789012:stream/hub"), "on_failure_destination_arn"),
    (dict(on_failure_destination_arn="dead-letter"), "on_failure_destination_arn"),
    (dict(starting_position="AT_TIMESTAMP"), "starting_position"),
    (dict(batch_size="many"), "batch_size"),
    (dict(wait_timeout=-1), "wait_timeout"),
    (dict(region="moon-1"), "region"),
]


@pytest.mark.parametrize("extra,param", BAD, ids=["%s-%d" % (p, i) for i, (_e, p) in enumerate(BAD)])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(aws, extra, param):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = run(aws, present(aws, **extra))
    assert result["failed"] is True
    assert param in result["msg"]
    if "parameter" in result:  # ours; Ansible's own type/choices checks only name it in msg
        assert result["parameter"] == param
    client.assert_not_called()
    assert aws.mappings(aws.function_name, aws.stream_arn) == []


def test_dynamodb_stream_arn_is_accepted(aws):
    arn = "arn:aws:dynamodb:us-east-1:123456789012:table/counters/stream/2026-11-27T00:00:00.000"
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=RuntimeError("reached AWS")):
        with pytest.raises(RuntimeError, match="reached AWS"):
            run(aws, present(aws, event_source_arn=arn))


class _FakeLambda(object):
    """Test double (not AWS): GetEventSourceMapping answers the given states in turn."""

    def __init__(self, states):
        self.states = list(states)
        self.calls = 0

    def get_event_source_mapping(self, aws_retry=False, UUID=None):  # pylint: disable=invalid-name,unused-argument
        self.calls += 1
        state = self.states.pop(0)
        if state is None:
            from botocore.exceptions import ClientError  # pylint: disable=import-outside-toplevel
            raise ClientError({"Error": {"Code": "ResourceNotFoundException", "Message": "gone"}}, "GetEventSourceMapping")
        return {"UUID": UUID, "State": state}


class _FakeModule(object):
    """Test double: just the module attributes wait_for() reads."""

    def __init__(self, timeout=300):
        self.params = {"wait": True, "wait_timeout": timeout}

    def fail_json(self, **kwargs):
        raise ModuleExit(dict(kwargs, failed=True))


def test_wait_polls_until_the_mapping_is_stable_or_gone(monkeypatch):
    monkeypatch.setattr(module_under_test.time, "sleep", lambda seconds: None)
    fake = _FakeLambda(["Updating", "Enabled"])
    mapping = module_under_test.wait_for(_FakeModule(), fake, {"UUID": "u-1", "State": "Creating"})
    assert mapping["State"] == "Enabled" and fake.calls == 2
    fake = _FakeLambda(["Deleting", None])
    assert module_under_test.wait_for(_FakeModule(), fake, {"UUID": "u-1", "State": "Deleting"}, gone=True) is None
    assert fake.calls == 2


def test_wait_gives_up_after_wait_timeout_naming_it(monkeypatch):
    monkeypatch.setattr(module_under_test.time, "sleep", lambda seconds: None)
    with pytest.raises(ModuleExit) as info:
        module_under_test.wait_for(_FakeModule(timeout=0), _FakeLambda([]), {"UUID": "u-1", "State": "Updating"})
    result = info.value.args[0]
    assert result["failed"] is True and result["parameter"] == "wait_timeout" and "Updating" in result["msg"]


# --- issue 14: IAM propagation of the execution role ---------------------------------------

CANNOT_ACCESS = ("Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, "
                 "DescribeStream, and ListStreams Actions on your stream in IAM.")


def failing_create(code, message, times):
    """A test double around botocore's _make_api_call: CreateEventSourceMapping fails ``times`` times first."""
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call
    calls = []

    def fake(self, name, params):
        if name == "CreateEventSourceMapping":
            calls.append(params)
            if len(calls) <= times:
                raise ClientError({"Error": {"Code": code, "Message": message}}, name)
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake), calls


@pytest.mark.parametrize("message", [
    CANNOT_ACCESS,
    "The provided execution role does not have permissions to call GetRecords on Kinesis",
    "The role defined for the function cannot be assumed by Lambda.",
])
def test_create_is_retried_while_the_execution_role_propagates(aws, message):
    patch, calls = failing_create("InvalidParameterValueException", message.replace("%s", aws.stream_arn), 2)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(aws, present(aws))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and len(calls) == 3 and sleep.call_count >= 2
    assert len(aws.mappings(aws.function_name, aws.stream_arn)) == 1


def test_other_invalid_parameter_value_errors_fail_at_once(aws):
    patch, calls = failing_create("InvalidParameterValueException", "Unsupported starting position for the source.", 5)
    with patch, mock.patch("time.sleep"):
        result = run(aws, present(aws))
    assert result["failed"] is True and "Unsupported starting position" in result["msg"]
    assert len(calls) == 1
