# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault.aws.assume_role: STS AssumeRole in the worker (no module run). Its functions against moto
(in-process), and the lookup through ansible-playbook against the local AWS emulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
from unittest import mock

import boto3
import botocore
import pytest
from ansible.errors import AnsibleLookupError
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.lookup import assume_role as lookup_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import set_test_credentials

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))))
MEMBER = "111111111111"
ROLE = "arn:aws:iam::%s:role/logvault-admin" % MEMBER
TRUST = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
                                                 "Action": "sts:AssumeRole"}]}


def options(**extra):
    base = dict(role_session_name="logvault-member-%s" % MEMBER, duration_seconds=3600, region="us-east-1", endpoint_url=None,
                profile=None, max_attempts=10)
    base.update(extra)
    return base


def test_the_credentials_have_the_form_of_sts_assume_role(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        result = lookup_under_test.assume_role(ROLE, options())
    assert sorted(result) == ["changed", "sts_creds", "sts_user"] and result["changed"] is False
    assert sorted(result["sts_creds"]) == ["access_key", "expiration", "secret_key", "session_token"]
    assert all(result["sts_creds"][key] for key in ("access_key", "secret_key", "session_token"))
    # the assumed-role ARN names the member account (roles/member_account/tasks/identity.yml reads it)
    assert result["sts_user"]["arn"] == "arn:aws:sts::%s:assumed-role/logvault-admin/logvault-member-%s" % (MEMBER, MEMBER)


def test_the_request_carries_the_role_the_session_name_and_the_duration(monkeypatch):
    set_test_credentials(monkeypatch)
    original = botocore.client.BaseClient._make_api_call
    calls = []

    def record(self, name, params):
        calls.append((self.meta.region_name, name, params))
        return original(self, name, params)

    with mock_aws(), mock.patch.object(botocore.client.BaseClient, "_make_api_call", record):
        lookup_under_test.assume_role(ROLE, options(region="eu-west-1", duration_seconds=900))
    assert calls == [("eu-west-1", "AssumeRole", {"RoleArn": ROLE, "RoleSessionName": "logvault-member-%s" % MEMBER, "DurationSeconds": 900})]


def test_an_aws_error_names_the_role_and_the_code(monkeypatch):
    set_test_credentials(monkeypatch)

    def denied(self, name, params):
        raise botocore.exceptions.ClientError({"Error": {"Code": "AccessDenied", "Message": "not authorized to perform sts:AssumeRole"}}, name)

    with mock.patch.object(botocore.client.BaseClient, "_make_api_call", denied):
        with pytest.raises(AnsibleLookupError) as info:
            lookup_under_test.assume_role(ROLE, options())
    assert "could not assume %s (AccessDenied): not authorized" % ROLE in str(info.value)


def test_throttling_is_retried_by_botocore(monkeypatch):
    """Retry mode standard retries Throttling (botocore's retry handler, not ours): the second attempt succeeds."""
    set_test_credentials(monkeypatch)
    answers = []

    def throttled_once(request, **kwargs):
        answers.append(request)
        if len(answers) == 1:
            return botocore.awsrequest.AWSResponse(request.url, 400, {}, FakeRaw(
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message></Error></ErrorResponse>"))
        return None

    with mock_aws():
        with mock.patch("time.sleep"):
            session_client = boto3.session.Session.client

            def client(self, *args, **kwargs):
                made = session_client(self, *args, **kwargs)
                made.meta.events.register("before-send.sts.AssumeRole", throttled_once)
                return made

            with mock.patch.object(boto3.session.Session, "client", client):
                result = lookup_under_test.assume_role(ROLE, options())
    assert len(answers) == 2 and result["sts_user"]["arn"].startswith("arn:aws:sts::%s:" % MEMBER)


class FakeRaw(object):
    """TEST DOUBLE: the raw body of a botocore response."""

    def __init__(self, body):
        self.body = body

    def stream(self, **kwargs):
        yield self.body


@pytest.mark.parametrize("terms, extra, text", [
    ([], {}, "give exactly one role ARN, got 0"),
    ([ROLE, ROLE], {}, "give exactly one role ARN, got 2"),
    (["logvault-admin"], {}, "'logvault-admin' is not the ARN of an IAM role"),
    ([ROLE], {"role_session_name": "x"}, "role_session_name must be 2 to 64"),
    ([ROLE], {"duration_seconds": 60}, "duration_seconds must be 900 to 43200, got 60"),
    ([ROLE], {"max_attempts": 0}, "max_attempts must be at least 1"),
])
def test_bad_input_names_the_option_before_any_call(terms, extra, text):
    with mock.patch.object(lookup_under_test, "assume_role", side_effect=AssertionError("no call expected")):
        with pytest.raises(AnsibleLookupError) as info:
            lookup_under_test._validate(terms, options(**extra))
    assert text in str(info.value)


@pytest.fixture(scope="module")
def emulator():
    from local_aws import server  # pylint: disable=import-outside-toplevel

    emu = server.start(port=0)
    try:
        yield emu
    finally:
        emu.stop()


def test_the_lookup_in_a_play_against_the_emulator(emulator, tmp_path):
    """Options reach the plugin through Ansible (its documented names), and the credentials work in the member account."""
    playbook = tmp_path / "play.yml"
    playbook.write_text("""
- hosts: localhost
  gather_facts: false
  tasks:
    - ansible.builtin.set_fact:
        sts: "{{ lookup('logvault.aws.assume_role', role, role_session_name='logvault-test', endpoint_url=endpoint, region='us-east-1') }}"
      no_log: true
    - ansible.builtin.copy:
        content: "{{ sts | to_json }}"
        dest: "%s"
      no_log: true
""" % (tmp_path / "out.json"))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "pytest-root"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", ANSIBLE_LOCALHOST_WARNING="false", ANSIBLE_NOCOLOR="1")
    env.pop("AWS_PROFILE", None)
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), str(playbook), "-e",
               json.dumps({"role": "arn:aws:iam::111111111111:role/logvault-admin", "endpoint": emulator.endpoint,
                           "ansible_python_interpreter": sys.executable})]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr
    sts = json.loads((tmp_path / "out.json").read_text())
    assert sts["sts_user"]["arn"].startswith("arn:aws:sts::111111111111:assumed-role/logvault-admin/logvault-test")
    member = boto3.client("sts", region_name="us-east-1", endpoint_url=emulator.endpoint, aws_access_key_id=sts["sts_creds"]["access_key"],
                          aws_secret_access_key=sts["sts_creds"]["secret_key"], aws_session_token=sts["sts_creds"]["session_token"])
    assert member.get_caller_identity()["Account"] == "111111111111"


def test_documentation_renders():
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "pytest-root"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               ANSIBLE_NOCOLOR="1")
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "-t", "lookup", "logvault.aws.assume_role"]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "role_session_name" in run.stdout and "AssumeRole" in run.stdout
    assert "[WARNING]" not in run.stderr and "[ERROR]" not in run.stderr, run.stderr
