# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's strict rules act only while an emulator serves in this process.

An in-process emulator installs its patches into moto and they stay there after it stops.
Before this rule, a later ``mock_aws`` test's stand-in role was refused by the IAM
propagation rule (and trust, service-role and key policies), so the unit layer had to turn
every rule off. Now: strict while serving, moto's behaviour after the last emulator stopped,
and an explicit setting applies either way.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
if REPOSITORY not in sys.path:
    sys.path.insert(0, REPOSITORY)

from local_aws import server, settings  # noqa: E402  pylint: disable=wrong-import-position

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})


def _put_destination_with_a_new_role(region="us-east-1"):
    iam = boto3.client("iam", region_name=region)
    logs = boto3.client("logs", region_name=region)
    kinesis = boto3.client("kinesis", region_name=region)
    kinesis.create_stream(StreamName="hub", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="hub")["StreamDescription"]["StreamARN"]
    role = iam.create_role(RoleName="cwl-to-kinesis", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    return logs.put_destination(destinationName="hub", targetArn=stream_arn, roleArn=role)


@pytest.fixture
def emulator_started_and_stopped(monkeypatch):
    for name in settings.SERVING_ONLY:
        monkeypatch.delenv(name, raising=False)
    emu = server.start(port=0)
    try:
        for name in settings.SERVING_ONLY:
            assert settings.get(name) == settings.DEFAULTS[name], name  # strict while serving
    finally:
        emu.stop()
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)


def test_after_the_emulator_stops_a_mock_aws_test_gets_motos_behaviour(emulator_started_and_stopped):  # pylint: disable=unused-argument
    for name, off in settings.SERVING_ONLY.items():
        assert settings.get(name) == off, name
    with mock_aws():
        assert _put_destination_with_a_new_role()["destination"]["destinationName"] == "hub"


def test_an_explicit_setting_applies_without_a_serving_emulator(emulator_started_and_stopped, monkeypatch):  # pylint: disable=unused-argument
    monkeypatch.setenv("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS", "60")
    with mock_aws():
        with pytest.raises(ClientError) as caught:
            _put_destination_with_a_new_role()
    assert caught.value.response["Error"]["Code"] == "InvalidParameterException"
