# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ec2_instance_profile, run in-process against moto: instances without a profile get it,
an instance with another profile keeps it, check mode writes nothing (issue 13 item 9)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import ec2_instance_profile as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "eu-west-1"
TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch, REGION)
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        ec2 = boto3.client("ec2", region_name=REGION)
        profiles = {}
        for name in ("logvault-fluentd", "web"):
            iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST)
            profiles[name] = iam.create_instance_profile(InstanceProfileName=name, Path="/logvault/")["InstanceProfile"]["Arn"]
            iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)
        image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
        ids = [i["InstanceId"] for i in ec2.run_instances(ImageId=image, MinCount=3, MaxCount=3)["Instances"]]
        ec2.associate_iam_instance_profile(InstanceId=ids[2], IamInstanceProfile={"Arn": profiles["web"]})
        yield ec2, ids, profiles


def _profiles(ec2, ids):
    found = {}
    for a in ec2.describe_iam_instance_profile_associations(Filters=[{"Name": "instance-id", "Values": ids}])[
            "IamInstanceProfileAssociations"]:
        if a["State"] in ("associating", "associated"):
            found[a["InstanceId"]] = a["IamInstanceProfile"]["Arn"]
    return found


def test_instances_without_a_profile_get_it_and_another_profile_is_kept(aws):
    ec2, ids, profiles = aws
    args = {"instance_ids": ids, "instance_profile_arn": profiles["logvault-fluentd"]}

    predicted = run(args, check_mode=True, diff=True)
    assert predicted["changed"] is True
    assert predicted["associated"] == sorted(ids[:2])
    assert _profiles(ec2, ids) == {ids[2]: profiles["web"]}, "check mode wrote"

    done = run(args)
    assert done["changed"] is True and done["associated"] == predicted["associated"]
    assert done["kept"] == {ids[2]: profiles["web"]}
    assert _profiles(ec2, ids) == {ids[0]: profiles["logvault-fluentd"], ids[1]: profiles["logvault-fluentd"],
                                   ids[2]: profiles["web"]}

    again = run(args, check_mode=True)
    assert again["changed"] is False and again["already"] == sorted(ids[:2])
    assert run(args)["changed"] is False


@pytest.mark.parametrize("args,param", [
    ({"instance_ids": ["web-1"], "instance_profile_arn": "arn:aws:iam::111111111111:instance-profile/x"}, "instance_ids"),
    ({"instance_ids": ["i-0123456789abcdef0"], "instance_profile_arn": "arn:aws:iam::111111111111:role/x"}, "instance_profile_arn"),
])
def test_bad_input_fails_before_any_aws_call(monkeypatch, args, param):
    set_test_credentials(monkeypatch, REGION)
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # any AWS call would fail differently
    result = run(args)
    assert result["failed"] is True and result["parameter"] == param
