# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A role's MaxSessionDuration is 3600 to 43200 seconds on CreateRole and UpdateRole, as on AWS
(https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateRole.html,
https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateRole.html); moto 5.2.5 stored any value."""

import json

import boto3
import pytest
from botocore.client import Config
from botocore.exceptions import ClientError

import local_aws

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


@pytest.fixture()
def iam(local_aws):  # pylint: disable=redefined-outer-name
    # botocore refuses a value below its model's minimum before sending it; the emulator must refuse it
    # too (another client may send it), so this client does not validate parameters.
    return boto3.client("iam", endpoint_url=local_aws.endpoint, region_name="us-east-1",
                        config=Config(parameter_validation=False), **local_aws_credentials())


def local_aws_credentials():
    creds = local_aws.credentials()
    return dict((k, v) for k, v in creds.items() if v is not None)


@pytest.mark.parametrize("value, bound", [(43201, "less than or equal to 43200"), (3599, "greater than or equal to 3600"),
                                          (0, "greater than or equal to 3600")])
def test_create_role_refuses_a_value_out_of_range_and_creates_nothing(iam, unique, value, bound):
    name = unique("msd")
    with pytest.raises(ClientError) as error:
        iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, MaxSessionDuration=value)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    assert "'%d' at 'maxSessionDuration'" % value in error.value.response["Error"]["Message"]
    assert bound in error.value.response["Error"]["Message"]
    with pytest.raises(ClientError) as missing:
        iam.get_role(RoleName=name)
    assert missing.value.response["Error"]["Code"] == "NoSuchEntity"


@pytest.mark.parametrize("value", [43201, 3599])
def test_update_role_refuses_a_value_out_of_range_and_changes_nothing(iam, unique, value):
    name = unique("msd")
    iam.create_role(RoleName=name, AssumeRolePolicyDocument=TRUST, Description="kept", MaxSessionDuration=3600)
    with pytest.raises(ClientError) as error:
        iam.update_role(RoleName=name, Description="changed", MaxSessionDuration=value)
    assert error.value.response["Error"]["Code"] == "ValidationError"
    role = iam.get_role(RoleName=name)["Role"]
    assert role["MaxSessionDuration"] == 3600 and role["Description"] == "kept"
    iam.update_role(RoleName=name, Description="kept", MaxSessionDuration=43200)  # the bounds are in the range
    assert iam.get_role(RoleName=name)["Role"]["MaxSessionDuration"] == 43200
