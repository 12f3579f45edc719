# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 item 5, against the local AWS emulator: ``deployer.yml`` creates the deployer role
in every account of the inventory through OrganizationAccountAccessRole, from the shipped
CloudFormation template, with the central policy in the central account and the member policy
in a member account, trusted by the control node's principal only; a second run changes
nothing. (The emulator stores identity policies but does not evaluate them, docs/local-aws.md:
that every call is allowed is tested statically, tests/unit/test_deployer_policies.py.)"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from urllib.parse import unquote

import boto3
import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws", "MANIFEST.json")
CENTRAL, MEMBER = "123456789012", "111111111111"
REGION = "us-east-1"
CONTROL_NODE = "arn:aws:iam::123456789012:role/ansible-control-node"


@pytest.fixture()
def emulator():
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    server = start(port=0)
    try:
        yield server
    finally:
        server.stop()


def _iam(endpoint, account):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    creds = session.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn="arn:aws:iam::%s:role/OrganizationAccountAccessRole" % account, RoleSessionName="test")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=REGION).client("iam", endpoint_url=endpoint)


def _run(tmp_path, endpoint):
    inventory = tmp_path / "hosts.yml"
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "logvault_regions": [REGION], "logvault_aws_endpoint_url": endpoint},
        "children": {
            "central": {"hosts": {"security": {"logvault_account_id": CENTRAL,
                                               "logvault_assume_role_arn": "arn:aws:iam::%s:role/logvault-deployer" % CENTRAL}}},
            "members": {"hosts": {"team-a": {"logvault_account_id": MEMBER,
                                             "logvault_assume_role_arn": "arn:aws:iam::%s:role/logvault-deployer" % MEMBER}}}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory),
                             os.path.join(REPO, "playbooks", "deployer.yml"),
                             "-e", "logvault_deployer_trusted_principal_arn=%s" % CONTROL_NODE],
                            env=env, capture_output=True, text=True, timeout=900, check=False)
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    return result


def _document(value):
    return json.loads(unquote(value)) if isinstance(value, str) else value


def test_deployer_role_in_every_account(emulator, tmp_path):
    if not os.path.isfile(INSTALLED):
        pytest.fail("logvault.aws is not installed in %s; run `make collection` first" % COLLECTIONS)
    result = _run(tmp_path, emulator.endpoint)
    assert result.returncode == 0
    for account, kind in ((CENTRAL, "central"), (MEMBER, "member")):
        iam = _iam(emulator.endpoint, account)
        role = iam.get_role(RoleName="logvault-deployer")["Role"]
        trust = _document(role["AssumeRolePolicyDocument"])
        assert [s["Principal"] for s in trust["Statement"]] == [{"AWS": CONTROL_NODE}]
        assert iam.list_role_policies(RoleName="logvault-deployer")["PolicyNames"] == ["logvault-deployer"]
        inline = _document(iam.get_role_policy(RoleName="logvault-deployer", PolicyName="logvault-deployer")["PolicyDocument"])
        with open(os.path.join(REPO, "deployer", "%s-policy.json" % kind), encoding="utf-8") as handle:
            assert inline == json.load(handle), "account %s did not get the %s policy" % (account, kind)
    again = _run(tmp_path, emulator.endpoint)
    assert again.returncode == 0
    assert "changed=0" in again.stdout.split("PLAY RECAP")[-1]
