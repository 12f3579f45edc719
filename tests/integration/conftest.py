# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the playbook-level integration tests share (test_organization_onboarding,
test_existing_account_policy, test_restore_playbook, test_deployer):

* ``emulator``: a local AWS emulator of this process on a free port, with the strict defaults
  of local_aws/settings.py (a test changes a switch with ``monkeypatch.setenv`` before it
  asks for the fixture, or at any time: switches are read when used);
* :func:`client`: a boto3 client of the emulator as the plain credentials (the central
  account), or as ``account`` through sts:AssumeRole into ``role``, exactly as on AWS;
* :func:`put_destination_when_propagated`: PutDestination, retrying only the answer that AWS
  gives while the role is not yet propagated (IAM eventual consistency, which the emulator
  models: docs/local-aws.md);
* :func:`ansible_env` and :func:`playbook`: run a playbook of the repository with the
  installed collection and the emulator's plain credentials (the control node).

Test modules get the functions through the ``helpers`` fixture (pytest runs with
``--import-mode=importlib``, so a test module cannot import this file by name), and fail
early through ``installed_collection`` when `make collection` has not run.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import time

import boto3
import pytest

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws", "MANIFEST.json")
REGION = "us-east-1"
PROPAGATION = "Could not deliver test message"


@pytest.fixture()
def emulator():
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    server = start(port=0)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def installed_collection():
    if not os.path.isfile(INSTALLED):
        pytest.fail("logvault.aws is not installed in %s; run `make collection` first" % COLLECTIONS)
    return COLLECTIONS


def session(endpoint, account=None, role="logvault-admin", region=REGION):
    """A boto3 session of the emulator: the plain credentials, or ``role`` in ``account``."""
    base = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    if not account:
        return base
    creds = base.client("sts", endpoint_url=endpoint).assume_role(
        RoleArn="arn:aws:iam::%s:role/%s" % (account, role), RoleSessionName="test")["Credentials"]
    return boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                 aws_session_token=creds["SessionToken"], region_name=region)


def client(endpoint, service, account=None, role="logvault-admin", region=REGION):
    """A boto3 client of the emulator (see :func:`session`)."""
    return session(endpoint, account, role, region).client(service, endpoint_url=endpoint)


def put_destination_when_propagated(logs, timeout=120, **kwargs):
    """logs.put_destination(**kwargs), retried while the answer is the one AWS gives for a
    role that is not propagated yet ("Could not deliver test message to specified
    destination"); any other error is raised at once. Returns the destination's ARN."""
    deadline = time.time() + timeout
    while True:
        try:
            return logs.put_destination(**kwargs)["destination"]["arn"]
        except logs.exceptions.InvalidParameterException as exc:
            if PROPAGATION not in str(exc) or time.time() > deadline:
                raise
            time.sleep(1)


def ansible_env(tmp_path, **extra):
    """The environment of ansible-playbook: the installed collection, the emulator's plain
    credentials, nothing leaked from the caller's AWS configuration."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               ANSIBLE_HOME=str(tmp_path / "ansible-home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "ansible-tmp"),
               ANSIBLE_NOCOLOR="1", ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    env.update(extra)
    return env


def playbook(tmp_path, inventory, name, *args, **env):
    """Run playbooks/<name> (or an absolute path) with :func:`ansible_env`; prints the tail of
    its output (pytest shows it on failure) and returns the CompletedProcess."""
    path = name if os.path.isabs(name) else os.path.join(REPO, "playbooks", name)
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory), path] + list(args),
                            env=ansible_env(tmp_path, **env), capture_output=True, text=True, timeout=1200, check=False)
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    return result


def recap(result):
    """The PLAY RECAP of a run."""
    return result.stdout.split("PLAY RECAP")[-1]


class _Helpers(object):
    """The helpers above, as the ``helpers`` fixture gives them (pytest's importlib mode does
    not let test modules import this conftest by name)."""

    REPO = REPO
    REGION = REGION
    COLLECTIONS = COLLECTIONS
    session = staticmethod(session)
    client = staticmethod(client)
    put_destination_when_propagated = staticmethod(put_destination_when_propagated)
    ansible_env = staticmethod(ansible_env)
    playbook = staticmethod(playbook)
    recap = staticmethod(recap)


@pytest.fixture()
def helpers():
    return _Helpers
