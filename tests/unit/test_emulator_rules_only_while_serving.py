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
import subprocess
import sys

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# Each test runs in a fresh interpreter: an emulator that another test serves in this process
# (tests/local_aws keeps one for the whole session) would make "after the last emulator stopped"
# false here, whichever order the tests run in.
CHILD = r"""
import json, os, sys
sys.path.insert(0, sys.argv[1])
import boto3
from botocore.exceptions import ClientError
from moto import mock_aws
from local_aws import server, settings

TRUST = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]})
for name in settings.SERVING_ONLY:
    os.environ.pop(name, None)
emu = server.start(port=0)
try:
    serving = dict((name, settings.get(name)) for name in settings.SERVING_ONLY)
finally:
    emu.stop()
os.environ.update(AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing")
os.environ.pop("AWS_ENDPOINT_URL", None)
os.environ.update(json.loads(sys.argv[2]))
stopped = dict((name, settings.get(name)) for name in settings.SERVING_ONLY)
with mock_aws():
    iam = boto3.client("iam", region_name="us-east-1")
    logs = boto3.client("logs", region_name="us-east-1")
    kinesis = boto3.client("kinesis", region_name="us-east-1")
    kinesis.create_stream(StreamName="hub", ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName="hub")["StreamDescription"]["StreamARN"]
    role = iam.create_role(RoleName="cwl-to-kinesis", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
    try:
        answer = logs.put_destination(destinationName="hub", targetArn=stream_arn, roleArn=role)["destination"]["destinationName"]
    except ClientError as e:
        answer = e.response["Error"]["Code"]
print(json.dumps({"serving": serving, "stopped": stopped, "answer": answer}))
"""


def _run(environment):
    done = subprocess.run([sys.executable, "-c", CHILD, REPOSITORY, json.dumps(environment)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_after_the_emulator_stops_a_mock_aws_test_gets_motos_behaviour():
    if REPOSITORY not in sys.path:
        sys.path.insert(0, REPOSITORY)
    from local_aws import settings  # pylint: disable=import-outside-toplevel

    result = _run({})
    assert result["serving"] == dict((name, settings.DEFAULTS[name]) for name in settings.SERVING_ONLY)  # strict while serving
    assert result["stopped"] == dict(settings.SERVING_ONLY)
    assert result["answer"] == "hub"


def test_an_explicit_setting_applies_without_a_serving_emulator():
    result = _run({"LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "60"})
    assert result["answer"] == "InvalidParameterException"
