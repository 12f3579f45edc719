# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Validation, policy building/normalisation and planning helpers of module_utils/cloudwatchlogs.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os

import pytest

from ansible_collections.logvault.aws.plugins.module_utils import cloudwatchlogs as cwl
from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError

DEST = "arn:aws:logs:us-east-1:123456789012:destination:logvault"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/hub"
ROLE = "arn:aws:iam::123456789012:role/cwl-to-kinesis"


def _raises(param, func, *args):
    with pytest.raises(ValidationError) as info:
        func(*args)
    assert info.value.param == param
    assert "'%s'" % param in str(info.value)
    return info.value


# --- account ids, regions, organization ids ---------------------------------------


@pytest.mark.parametrize("value", ["111111111111", "012345678901", 111111111111])
def test_account_id_accepts_twelve_digits(value):
    assert cwl.validate_account_id(value, "accounts") == str(value)


@pytest.mark.parametrize("value", ["11111111111", "1111111111111", "11111111111a", "", None, True, 12345, " 111111111111", ["111111111111"]])
def test_account_id_rejects_everything_else(value):
    _raises("accounts", cwl.validate_account_id, value, "accounts")


def test_account_ids_are_deduplicated_and_sorted():
    assert cwl.validate_account_ids(["222222222222", "111111111111", "222222222222"], "a") == ["111111111111", "222222222222"]
    assert cwl.validate_account_ids(None, "a") == []
    assert cwl.validate_account_ids("111111111111", "a") == ["111111111111"]
    _raises("a", cwl.validate_account_ids, {"x": 1}, "a")


@pytest.mark.parametrize("value", ["us-east-1", "eu-west-3", "ap-southeast-2", "us-gov-west-1", "cn-north-1", "il-central-1"])
def test_region_accepts_real_region_names(value):
    assert cwl.validate_region(value, "region") == value


@pytest.mark.parametrize("value", ["us-east", "US-EAST-1", "useast1", "us_east_1", "", None, "us-east-1 "])
def test_region_rejects_malformed_names(value):
    _raises("region", cwl.validate_region, value, "region")


def test_organization_id():
    assert cwl.validate_organization_id("o-a1b2c3d4e5", "organization_id") == "o-a1b2c3d4e5"
    for bad in ("o-short", "a1b2c3d4e5", "o-A1B2C3D4E5", "", None):
        _raises("organization_id", cwl.validate_organization_id, bad, "organization_id")


# --- ARNs and names ----------------------------------------------------------------


@pytest.mark.parametrize("arn,kind,name", [
    (DEST, "logs-destination", "logvault"),
    (STREAM, "kinesis-stream", "hub"),
    ("arn:aws:firehose:eu-west-1:123456789012:deliverystream/archive", "firehose", "archive"),
    ("arn:aws:lambda:us-east-1:123456789012:function:alerts", "lambda", "alerts"),
    ("arn:aws:lambda:us-east-1:123456789012:function:alerts:live", "lambda", "alerts"),
    (ROLE, "iam-role", "cwl-to-kinesis"),
    ("arn:aws:iam::123456789012:role/service/cwl-to-kinesis", "iam-role", "service/cwl-to-kinesis"),
    ("arn:aws-us-gov:logs:us-gov-west-1:123456789012:destination:x", "logs-destination", "x"),
])
def test_parse_arn_accepts_each_kind(arn, kind, name):
    parts = cwl.parse_arn(arn, "p", list(cwl.ARN_KINDS))
    assert parts["kind"] == kind
    assert parts["name"] == name
    assert parts["account_id"] == "123456789012"


@pytest.mark.parametrize("arn,kinds", [
    ("arn:aws:kinesis:us-east-1:123456789012:stream/hub", ["logs-destination"]),
    ("arn:aws:logs:us-east-1:12345678901:destination:x", ["logs-destination"]),
    ("arn:aws:logs:useast1:123456789012:destination:x", ["logs-destination"]),
    ("arn:aws:logs:us-east-1:123456789012:destination:", ["logs-destination"]),
    ("arn:aws:logs:us-east-1:123456789012:destination:a*b", ["logs-destination"]),
    ("arn:aws:iam::123456789012:user/bob", ["iam-role"]),
    ("arn:aws:iam:us-east-1:123456789012:role/x", ["iam-role"]),
    ("prefix arn:aws:kinesis:us-east-1:123456789012:stream/hub", ["kinesis-stream"]),
    ("arn:aws:kinesis:us-east-1:123456789012:stream/hub trailing", ["kinesis-stream"]),
    ("not an arn", ["kinesis-stream", "firehose"]),
    (42, ["kinesis-stream"]),
])
def test_parse_arn_rejects_wrong_or_malformed(arn, kinds):
    error = _raises("target_arn", cwl.parse_arn, arn, "target_arn", kinds)
    assert "ARN" in error.message or "string" in error.message


def test_names():
    assert cwl.validate_destination_name("logvault-us-east-1", "name") == "logvault-us-east-1"
    for bad in ("", "a:b", "a*", "x" * 513, None):
        _raises("name", cwl.validate_destination_name, bad, "name")
    assert cwl.validate_log_group_name("/aws/lambda/x_y-z.1#2", "log_groups")
    for bad in ("", "has space", "a:b", "x" * 513):
        _raises("log_groups", cwl.validate_log_group_name, bad, "log_groups")
    assert cwl.validate_filter_name("logvault", "filter_name") == "logvault"
    _raises("filter_name", cwl.validate_filter_name, "a:b", "filter_name")
    assert cwl.validate_policy_name("logvault", "policy_name") == "logvault"
    error = _raises("policy_name", cwl.validate_policy_name, "aws/mine", "policy_name")
    assert "aws/" in error.message


# --- filter patterns (through the shared engine) ---------------------------------


@pytest.mark.parametrize("pattern", ["", "ERROR", '"failed login"', '{ $.level = "ERROR" }', "[ip, user, ...]", "?ERROR ?WARN"])
def test_filter_pattern_accepts_valid_syntax(pattern):
    assert cwl.validate_filter_pattern(pattern, "filter_pattern") == pattern


@pytest.mark.parametrize("pattern", ['{ $.level = "ERROR"', '"unterminated', '{ $.a = 1 }}', "[ip, user"])
def test_filter_pattern_rejects_unbalanced_braces_and_quotes(pattern):
    error = _raises("filter_pattern", cwl.validate_filter_pattern, pattern, "filter_pattern")
    assert "filter pattern at position " in error.message
    assert "invalid filter pattern at position" not in error.message  # the engine's own prefix is not repeated


def test_filter_pattern_length_limit():
    _raises("filter_pattern", cwl.validate_filter_pattern, "x" * 1025, "filter_pattern")
    assert cwl.validate_filter_pattern(None, "filter_pattern") == ""


# --- canonical JSON and policy comparison ----------------------------------------


def test_canonical_json_is_compact_and_sorted():
    assert cwl.canonical_json({"b": 1, "a": [2, 1]}) == '{"a":[2,1],"b":1}'


def test_policies_compare_by_meaning():
    built = cwl.build_destination_policy(DEST, ["111111111111", "222222222222"])
    reformatted = json.dumps({
        "Statement": {
            "Resource": [DEST],
            "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"],
            "Principal": {"AWS": ["arn:aws:iam::222222222222:root", "111111111111"]},
            "Effect": "Allow",
            "Sid": "AllowAccountsToSubscribe",
        },
        "Version": "2012-10-17",
    }, indent=4)
    assert cwl.policies_equal(built, reformatted)
    other = cwl.build_destination_policy(DEST, ["111111111111"])
    assert not cwl.policies_equal(built, other)
    assert not cwl.policies_equal(built, None)
    assert cwl.policies_equal(None, None)


def test_load_policy_errors_name_the_parameter():
    _raises("access_policy", cwl.load_policy, "{not json", "access_policy")
    _raises("access_policy", cwl.load_policy, "[]", "access_policy")
    _raises("access_policy", cwl.load_policy, {"Version": "2012-10-17"}, "access_policy")
    assert cwl.load_policy('{"Statement": []}', "access_policy") == {"Statement": []}


# --- destination policy builder ---------------------------------------------------


def test_destination_policy_for_accounts():
    policy = cwl.build_destination_policy(DEST, ["222222222222", "111111111111", "222222222222"])
    assert policy == {
        "Version": "2012-10-17",
        "Statement": [{
            "Sid": "AllowAccountsToSubscribe",
            "Effect": "Allow",
            "Principal": {"AWS": ["111111111111", "222222222222"]},
            "Action": ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"],
            "Resource": DEST,
        }],
    }


def test_destination_policy_for_an_organization_and_accounts():
    policy = cwl.build_destination_policy(DEST, ["111111111111"], "o-a1b2c3d4e5")
    org = policy["Statement"][1]
    assert org["Principal"] == "*"
    assert org["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}}
    assert org["Resource"] == DEST
    only_org = cwl.build_destination_policy(DEST, [], "o-a1b2c3d4e5")
    assert [s["Sid"] for s in only_org["Statement"]] == ["AllowOrganizationToSubscribe"]


def test_destination_policy_errors():
    _raises("destination_arn", cwl.build_destination_policy, STREAM, ["111111111111"])
    _raises("accounts", cwl.build_destination_policy, DEST, ["1234"])
    _raises("accounts", cwl.build_destination_policy, DEST, [])
    _raises("organization_id", cwl.build_destination_policy, DEST, [], "org-1")


def test_destination_policy_size_limit_is_exact():
    def accounts(count):
        return ["%012d" % (100000000000 + i) for i in range(count)]

    fits = 0
    while True:
        try:
            cwl.build_destination_policy(DEST, accounts(fits + 1))
        except ValidationError as e:
            assert e.param == "accounts"
            break
        fits += 1
    size = len(cwl.canonical_json(cwl.build_destination_policy(DEST, accounts(fits))))
    assert size <= 5120
    # One more account adds ',"1000000000NN"' (15 characters) and crosses the limit.
    assert size + 15 > 5120
    assert fits > 300
    error = _raises("accounts", cwl.build_destination_policy, DEST, accounts(fits + 1))
    assert "organization_id" in error.message and "5120" in error.message
    # The organization form stays small whatever the size of the organization.
    assert len(cwl.canonical_json(cwl.build_destination_policy(DEST, [], "o-a1b2c3d4e5"))) < 512


# --- selection criteria -----------------------------------------------------------


def test_selection_criteria_round_trip():
    rendered = cwl.render_selection_criteria(["/b", "/a", "/b"])
    assert rendered == 'LogGroupName NOT IN ["/a", "/b"]'
    assert cwl.parse_selection_criteria(rendered) == ["/a", "/b"]
    assert cwl.parse_selection_criteria('LogGroupName NOT IN ["/b","/a"]') == ["/a", "/b"]
    assert cwl.render_selection_criteria([]) is None
    assert cwl.parse_selection_criteria(None) is None
    assert cwl.parse_selection_criteria("LogGroupNamePrefix = x") == "LogGroupNamePrefix = x"


def test_selection_criteria_size_limit():
    name_length = 200
    per_name = name_length + 4  # quotes, comma, space
    count = (cwl.SELECTION_CRITERIA_MAX_BYTES - len('LogGroupName NOT IN []')) // per_name
    names = ["/g/%0*d" % (name_length - 3, i) for i in range(count)]
    assert len(cwl.render_selection_criteria(names).encode()) <= cwl.SELECTION_CRITERIA_MAX_BYTES
    error = _raises("excluded_log_groups", cwl.render_selection_criteria, names + ["/g/%0*d" % (name_length - 3, count)])
    assert "25" in error.message
    _raises("excluded_log_groups", cwl.render_selection_criteria, ["bad name"])


# --- subscription filter planning ------------------------------------------------


def _filter(name, **kwargs):
    item = {"filterName": name, "logGroupName": "/g", "destinationArn": DEST, "filterPattern": "", "distribution": "ByLogStream"}
    item.update(kwargs)
    return item


def test_plan_creates_when_missing():
    plan = cwl.plan_log_group([], "present", "lv", destination_arn=DEST)
    assert plan["action"] == "created" and plan["put"] and plan["delete"] == []
    assert plan["after"] == {"filterName": "lv", "destinationArn": DEST, "filterPattern": "", "distribution": "ByLogStream"}


def test_plan_unchanged_when_equal_and_unset_options_kept():
    existing = [_filter("lv", roleArn=ROLE, distribution="Random")]
    plan = cwl.plan_log_group(existing, "present", "lv", destination_arn=DEST)
    assert plan["action"] == "unchanged" and not plan["put"]


@pytest.mark.parametrize("change", [
    {"destination_arn": STREAM, "role_arn": ROLE}, {"filter_pattern": "ERROR"}, {"distribution": "Random"}, {"role_arn": ROLE},
])
def test_plan_updates_when_anything_differs(change):
    kwargs = dict(destination_arn=DEST)
    kwargs.update(change)
    plan = cwl.plan_log_group([_filter("lv"), _filter("other")], "present", "lv", **kwargs)
    assert plan["action"] == "updated" and plan["put"] and plan["delete"] == []


def test_plan_fails_at_the_two_filter_limit_naming_the_filters():
    plan = cwl.plan_log_group([_filter("b-splunk"), _filter("a-datadog")], "present", "lv", destination_arn=DEST)
    assert plan["action"] == "failed" and not plan["put"]
    assert "a-datadog, b-splunk" in plan["msg"] and "replace" in plan["msg"]
    plan = cwl.plan_log_group([_filter("b-splunk"), _filter("a-datadog")], "present", "lv", destination_arn=DEST, replace="nope")
    assert plan["action"] == "failed" and "'nope' is not one of them" in plan["msg"]


def test_plan_replaces_only_when_needed():
    full = [_filter("b-splunk"), _filter("a-datadog")]
    plan = cwl.plan_log_group(full, "present", "lv", destination_arn=DEST, replace="b-splunk")
    assert plan["action"] == "created" and plan["delete"] == ["b-splunk"] and plan["replaced"] == "b-splunk"
    room = [_filter("b-splunk")]
    plan = cwl.plan_log_group(room, "present", "lv", destination_arn=DEST, replace="b-splunk")
    assert plan["action"] == "created" and plan["delete"] == []


FIREHOSE = "arn:aws:firehose:us-east-1:123456789012:deliverystream/hub"
FUNCTION = "arn:aws:lambda:us-east-1:123456789012:function:ship"


@pytest.mark.parametrize("target", [STREAM, FIREHOSE])
def test_plan_fails_for_a_stream_without_a_role_naming_role_arn(target):
    # AWS: "destinationArn for vendor kinesis cannot be used without roleArn" (API_PutSubscriptionFilter roleArn).
    for existing in ([], [_filter("lv")]):
        plan = cwl.plan_log_group(existing, "present", "lv", destination_arn=target)
        assert plan["action"] == "failed" and not plan["put"]
        assert plan["msg"].startswith("role_arn is required with %s" % target)


def test_plan_keeps_the_existing_role_of_a_stream():
    plan = cwl.plan_log_group([_filter("lv", destinationArn=STREAM, roleArn=ROLE)], "present", "lv",
                              destination_arn=STREAM, filter_pattern="ERROR")
    assert plan["action"] == "updated" and plan["after"]["roleArn"] == ROLE


def test_plan_drops_the_existing_role_when_the_filter_moves_to_a_function():
    # AWS: "destinationArn for vendor lambda cannot be used with roleArn"; the kept role would be refused.
    plan = cwl.plan_log_group([_filter("lv", destinationArn=STREAM, roleArn=ROLE)], "present", "lv", destination_arn=FUNCTION)
    assert plan["action"] == "updated" and plan["put"]
    assert "roleArn" not in plan["after"] and plan["after"]["destinationArn"] == FUNCTION
    plan = cwl.plan_log_group([], "present", "lv", destination_arn=FUNCTION, role_arn=ROLE)
    assert plan["action"] == "failed" and plan["msg"].startswith("role_arn must not be given with the Lambda function")


def test_plan_keeps_the_role_of_a_logical_destination():
    plan = cwl.plan_log_group([_filter("lv", roleArn=ROLE)], "present", "lv", destination_arn=DEST, filter_pattern="ERROR")
    assert plan["action"] == "updated" and plan["after"]["roleArn"] == ROLE


def test_validate_role_for_refuses_a_role_with_a_function_only():
    regions = ["us-east-1", "eu-west-1"]
    cwl.validate_role_for({"destination_arn": DEST, "role_arn": ROLE}, None)
    cwl.validate_role_for({"destination_arns": {"us-east-1": STREAM, "eu-west-1": FIREHOSE}, "role_arn": ROLE}, regions)
    cwl.validate_role_for({"destination_arn": FUNCTION, "role_arn": None}, None)
    # a region that is not managed is not looked at
    cwl.validate_role_for({"destination_arns": {"us-east-1": STREAM, "us-west-2": FUNCTION}, "role_arn": ROLE}, regions)
    with pytest.raises(ValidationError) as excinfo:
        cwl.validate_role_for({"destination_arns": {"us-east-1": STREAM, "eu-west-1": FUNCTION}, "role_arn": ROLE}, regions,
                              "account_policy.role_arn")
    assert excinfo.value.param == "account_policy.role_arn" and FUNCTION in str(excinfo.value)


def test_plan_absent():
    assert cwl.plan_log_group([_filter("lv")], "absent", "lv")["action"] == "deleted"
    assert cwl.plan_log_group([_filter("lv")], "absent", "lv")["delete"] == ["lv"]
    assert cwl.plan_log_group([_filter("other")], "absent", "lv")["action"] == "unchanged"


def test_normalize_policy_handles_unhashable_list_items():
    first = {"Statement": [{"Effect": "Allow", "Resource": [{"b": 1}, {"a": 1}, {"a": 1}]}]}
    second = {"Statement": {"Effect": "Allow", "Resource": [{"a": 1}, {"b": 1}]}}
    assert cwl.policies_equal(first, second)


def test_the_filter_pattern_engine_is_imported_only_to_check_a_non_empty_pattern():
    """Every module run that imports cloudwatchlogs would otherwise compile the 1,500-line engine
    from its zip; the empty pattern (the default) does not need it."""
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from ansible_collections.logvault.aws.plugins.module_utils import cloudwatchlogs as cwl\n"
        "engine = 'ansible_collections.logvault.aws.plugins.module_utils.cwl_filter_pattern'\n"
        "assert engine not in sys.modules, 'imported with the module'\n"
        "assert cwl.validate_filter_pattern('', 'filter_pattern') == ''\n"
        "assert engine not in sys.modules, 'imported for the empty pattern'\n"
        "try:\n"
        "    cwl.validate_filter_pattern('{ $.a = ', 'filter_pattern')\n"
        "except cwl.ValidationError as exc:\n"
        "    assert exc.param == 'filter_pattern'\n"
        "else:\n"
        "    raise AssertionError('an unbalanced pattern passed')\n"
        "assert engine in sys.modules\n"
    )
    done = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)),
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
