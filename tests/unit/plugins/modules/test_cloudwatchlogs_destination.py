# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cloudwatchlogs_destination, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import pytest
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import cloudwatchlogs_destination as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
STREAM = "arn:aws:kinesis:us-east-1:123456789012:stream/hub"
STREAM2 = "arn:aws:kinesis:us-east-1:123456789012:stream/hub2"
ROLE = "arn:aws:iam::123456789012:role/cwl-to-kinesis"
ARN = "arn:aws:logs:us-east-1:123456789012:destination:logvault"


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("logs", region_name=REGION)


def present(**extra):
    """Arguments of a present destination; an option given as None is left out."""
    args = dict(name="logvault", target_arn=STREAM, role_arn=ROLE, allowed_accounts=["111111111111"])
    args.update(extra)
    return dict((k, v) for k, v in args.items() if v is not None)


def test_four_step_cycle(aws):
    first = run(present(), check_mode=True)
    assert first["changed"] is True
    assert aws.describe_destinations()["destinations"] == []
    # The predicted policy already names the destination ARN (caller account from STS).
    assert first["destination"]["access_policy"]["Statement"][0]["Resource"] == ARN

    second = run(present())
    assert second["changed"] is True
    destination = second["destination"]
    assert destination["arn"] == ARN
    assert destination["target_arn"] == STREAM and destination["role_arn"] == ROLE
    assert destination["access_policy"]["Statement"][0]["Principal"] == {"AWS": ["111111111111"]}
    assert isinstance(destination["creation_time"], int)
    stored = aws.describe_destinations()["destinations"][0]
    assert json.loads(stored["accessPolicy"]) == destination["access_policy"]

    third = run(present(), check_mode=True)
    assert third["changed"] is False
    fourth = run(present())
    assert fourth["changed"] is False
    assert fourth["destination"] == destination


def test_policy_changes_are_detected_and_reformatting_is_not(aws):
    run(present())
    result = run(present(allowed_accounts=["222222222222", "111111111111"]), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["access_policy"]["Statement"][0]["Principal"] == {"AWS": ["111111111111"]}
    assert result["diff"]["after"]["access_policy"]["Statement"][0]["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    stored = json.loads(aws.describe_destinations()["destinations"][0]["accessPolicy"])
    assert stored["Statement"][0]["Principal"] == {"AWS": ["111111111111"]}, "check mode wrote"

    # The same policy given in full, formatted differently, is no change.
    same = json.dumps({"Statement": [{"Resource": ARN, "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                                      "Action": ["logs:PutSubscriptionFilter", "logs:PutAccountPolicy"], "Effect": "Allow",
                                      "Sid": "AllowAccountsToSubscribe"}], "Version": "2012-10-17"}, indent=2)
    assert run(present(allowed_accounts=None, access_policy=same))["changed"] is False


def test_organization_policy_with_force_update(aws):
    run(present())
    with mock.patch.object(AnsibleAWSModule, "client", autospec=True, side_effect=AnsibleAWSModule.client) as client:
        result = run(present(allowed_accounts=None, organization_id="o-a1b2c3d4e5", force_update=True))
    assert client.called
    assert result["changed"] is True
    statement = result["destination"]["access_policy"]["Statement"][0]
    assert statement["Condition"] == {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}}


def test_target_and_role_updates(aws):
    run(present())
    result = run(present(target_arn=STREAM2), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["target_arn"] == STREAM and result["diff"]["after"]["target_arn"] == STREAM2
    assert aws.describe_destinations()["destinations"][0]["targetArn"] == STREAM2


def test_policy_left_alone_when_not_given(aws):
    run(present())
    result = run(present(allowed_accounts=None))
    assert result["changed"] is False
    assert result["destination"]["access_policy"]["Statement"][0]["Principal"] == {"AWS": ["111111111111"]}


def test_tags(aws):
    run(present(tags={"team": "sec", "env": "prod"}))
    assert aws.list_tags_for_resource(resourceArn=ARN)["tags"] == {"team": "sec", "env": "prod"}
    assert run(present(tags={"team": "sec", "env": "prod"}))["changed"] is False
    assert run(present(tags={"team": "sec"}), check_mode=True)["changed"] is True
    assert aws.list_tags_for_resource(resourceArn=ARN)["tags"] == {"team": "sec", "env": "prod"}
    result = run(present(tags={"team": "sec"}))
    assert result["changed"] is True and result["destination"]["tags"] == {"team": "sec"}
    assert aws.list_tags_for_resource(resourceArn=ARN)["tags"] == {"team": "sec"}
    assert run(present(tags={"owner": "x"}, purge_tags=False))["destination"]["tags"] == {"team": "sec", "owner": "x"}


def test_absent(aws):
    assert run(dict(name="logvault", state="absent"))["changed"] is False
    run(present())
    result = run(dict(name="logvault", state="absent"), check_mode=True, diff=True)
    assert result["changed"] is True and result["diff"]["after"] == {}
    assert len(aws.describe_destinations()["destinations"]) == 1
    assert run(dict(name="logvault", state="absent"))["changed"] is True
    assert aws.describe_destinations()["destinations"] == []
    assert run(dict(name="logvault", state="absent"))["changed"] is False


def test_other_destinations_with_the_same_prefix_are_ignored(aws):
    aws.put_destination(destinationName="logvault-old", targetArn=STREAM, roleArn=ROLE)
    assert run(present(), check_mode=True)["changed"] is True
    run(present())
    assert run(present())["changed"] is False


@pytest.mark.parametrize("args,param", [
    (present(name="bad:name"), "name"),
    (present(target_arn="arn:aws:s3:::bucket"), "target_arn"),
    (present(target_arn="arn:aws:kinesis:us-east-1:1234:stream/hub"), "target_arn"),
    (present(role_arn="arn:aws:iam::123456789012:user/bob"), "role_arn"),
    (present(allowed_accounts=["11111111111"]), "allowed_accounts"),
    (present(allowed_accounts=[]), "allowed_accounts"),
    (present(allowed_accounts=["%012d" % (100000000000 + i) for i in range(400)]), "allowed_accounts"),
    (present(allowed_accounts=None, organization_id="acme"), "organization_id"),
    (present(allowed_accounts=None, access_policy="{not json"), "access_policy"),
    (present(allowed_accounts=None, access_policy={"Version": "2012-10-17"}), "access_policy"),
    (present(region="moon-1"), "region"),
])
def test_bad_input_fails_naming_the_parameter_before_any_aws_call(aws, args, param):
    with mock.patch.object(AnsibleAWSModule, "client") as client:
        result = run(args)
    assert result["failed"] is True
    assert "'%s'" % param in result["msg"]
    assert result["parameter"] == param
    client.assert_not_called()
    assert aws.describe_destinations()["destinations"] == []


def test_missing_required_options():
    result = run(dict(name="logvault", role_arn=ROLE))
    assert result["failed"] is True and "target_arn" in result["msg"]
    result = run(dict(present(), access_policy="{}"))
    assert result["failed"] is True and "mutually exclusive" in result["msg"]


# --- issue 14: IAM propagation ----------------------------------------------------------------

NOT_DELIVERED = "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state."


def failing_first(operation, code, message, times):
    """A test double around botocore's _make_api_call: ``operation`` fails ``times`` times, then moto answers."""
    import botocore.client
    from botocore.exceptions import ClientError

    original = botocore.client.BaseClient._make_api_call
    calls = []

    def fake(self, name, params):
        if name == operation:
            calls.append(params)
            if len(calls) <= times:
                raise ClientError({"Error": {"Code": code, "Message": message}}, name)
        return original(self, name, params)

    return mock.patch.object(botocore.client.BaseClient, "_make_api_call", fake), calls


def test_put_destination_is_retried_while_the_new_role_propagates(aws):
    patch, calls = failing_first("PutDestination", "InvalidParameterException", NOT_DELIVERED, 2)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(present())
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True and len(calls) == 3 and sleep.call_count == 2
    assert aws.describe_destinations()["destinations"][0]["destinationName"] == "logvault"


def test_other_invalid_parameter_errors_of_put_destination_fail_at_once(aws):
    patch, calls = failing_first("PutDestination", "InvalidParameterException", "Role ARN is not valid.", 5)
    with patch, mock.patch("time.sleep") as sleep:
        result = run(present())
    assert result["failed"] is True and "Role ARN is not valid." in result["msg"]
    assert len(calls) == 1 and sleep.call_count == 0


REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2"]


def regional(region):
    return boto3.client("logs", region_name=region)


def test_regions_four_step_cycle_one_destination_per_region(aws):
    args = present(regions=REGIONS, tags={"project": "logvault"})
    results = [run(args, check_mode=True, diff=True), run(args, diff=True), run(args, check_mode=True), run(args)]
    assert [r["changed"] for r in results] == [True, True, False, False]
    assert sorted(results[0]["regions"]) == sorted(REGIONS)
    assert [d["before_header"] for d in results[1]["diff"]] == ["%s (before)" % r for r in REGIONS]
    for region in REGIONS:
        arn = "arn:aws:logs:%s:%s:destination:logvault" % (region, ACCOUNT)
        # Check mode predicted each region's own ARN in its policy; the apply wrote it.
        assert results[0]["regions"][region]["destination"]["access_policy"]["Statement"][0]["Resource"] == arn
        stored = regional(region).describe_destinations()["destinations"]
        assert [d["arn"] for d in stored] == [arn]
        assert json.loads(stored[0]["accessPolicy"])["Statement"][0]["Resource"] == arn
        assert regional(region).list_tags_for_resource(resourceArn=arn)["tags"] == {"project": "logvault"}
        assert results[3]["regions"][region] == dict(changed=False, destination=results[1]["regions"][region]["destination"])


def test_regions_drift_in_one_region_changes_that_region_only(aws):
    run(present(regions=REGIONS))
    regional("eu-west-1").put_destination(destinationName="logvault", targetArn=STREAM2, roleArn=ROLE)
    result = run(present(regions=REGIONS), diff=True)
    assert result["changed"] is True
    assert [r for r in REGIONS if result["regions"][r]["changed"]] == ["eu-west-1"]
    assert [d["before_header"] for d in result["diff"]] == ["us-east-1 (before)", "eu-west-1 (before)", "ap-southeast-2 (before)"]
    assert regional("eu-west-1").describe_destinations()["destinations"][0]["targetArn"] == STREAM


def test_regions_absent_deletes_every_region(aws):
    run(present(regions=REGIONS))
    result = run(dict(name="logvault", regions=REGIONS, state="absent"))
    assert result["changed"] is True and all(result["regions"][r]["changed"] for r in REGIONS)
    assert all(regional(r).describe_destinations()["destinations"] == [] for r in REGIONS)
    assert run(dict(name="logvault", regions=REGIONS, state="absent"))["changed"] is False


@pytest.mark.parametrize("regions", [["us-east-1", "moon-1"], [], ["eu-west-1", "eu-west-1"]])
def test_regions_bad_list_fails_naming_regions_and_writes_nothing(aws, regions):
    result = run(present(regions=regions))
    assert result["failed"] is True and result["parameter"] == "regions"
    assert all(regional(r).describe_destinations()["destinations"] == [] for r in REGIONS)


def test_regions_one_failing_region_is_named_and_the_others_are_done(aws):
    real = module_under_test.ensure_present

    def failing_in_eu(module, client, name, region, caller):
        if region == "eu-west-1":
            raise module_under_test.RegionError("Failed to create destination %s" % name)
        return real(module, client, name, region, caller)

    with mock.patch.object(module_under_test, "ensure_present", failing_in_eu):
        result = run(present(regions=REGIONS))
    assert result["failed"] is True
    assert "failed in 1 of 3 regions: eu-west-1: Failed to create destination logvault" in result["msg"]
    assert result["regions"]["eu-west-1"]["failed"] is True
    assert result["regions"]["us-east-1"]["changed"] is True and result["regions"]["ap-southeast-2"]["changed"] is True
    assert [len(regional(r).describe_destinations()["destinations"]) for r in REGIONS] == [1, 0, 1]


def test_regions_check_mode_asks_sts_once(aws):
    calls = []
    real = module_under_test.CallerAccount.get

    def counting(self):
        calls.append(1)
        return real(self)

    with mock.patch.object(AnsibleAWSModule, "client", wraps=None, autospec=True, side_effect=AnsibleAWSModule.client) as client:
        with mock.patch.object(module_under_test.CallerAccount, "get", counting):
            result = run(present(regions=REGIONS), check_mode=True)
    assert result["changed"] is True and len(calls) == 3
    assert [c.args[1] for c in client.call_args_list].count("sts") == 1
