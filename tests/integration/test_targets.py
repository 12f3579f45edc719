# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Integration driver: every target under tests/integration/targets runs with
ansible-playbook against a fresh local AWS emulator.

A target is ``targets/<name>/tasks/main.yml`` plus an ``aliases`` file. The generated
playbook runs the tasks on localhost with module_defaults that point every AWS module
(this collection's, amazon.aws's and community.aws's) at the emulator as account
123456789012 in us-east-1. The installed collection (``make collection``) is used, so
targets test what users get.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import uuid

import pytest
import yaml

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
TARGETS = os.path.join(HERE, "targets")
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws", "MANIFEST.json")

CENTRAL_ACCOUNT = "123456789012"
MEMBER_ACCOUNTS = ["111111111111", "222222222222"]
REGION = "us-east-1"
# The emulator accepts any key pair; this one is the default (central) account.
ACCESS_KEY = "testing"
SECRET_KEY = "testing"


def _targets():
    if not os.path.isdir(TARGETS):
        return []
    return sorted(
        name for name in os.listdir(TARGETS)
        if os.path.isfile(os.path.join(TARGETS, name, "tasks", "main.yml"))
    )


def _aws_defaults(endpoint):
    return {
        "endpoint_url": endpoint,
        "access_key": ACCESS_KEY,
        "secret_key": SECRET_KEY,
        "region": REGION,
    }


def _playbook(name, endpoint):
    defaults = _aws_defaults(endpoint)
    return [{
        "name": "Integration target %s" % name,
        "hosts": "localhost",
        "gather_facts": False,
        "module_defaults": {
            "group/logvault.aws.aws": defaults,
            "group/amazon.aws.aws": defaults,
            "group/community.aws.aws": defaults,
        },
        "vars": {
            "local_aws_endpoint": endpoint,
            "aws_region": REGION,
            "resource_prefix": "lv-%s" % uuid.uuid4().hex[:8],
            "central_account_id": CENTRAL_ACCOUNT,
            "member_account_ids": MEMBER_ACCOUNTS,
        },
        "tasks": [{
            "name": "Run the target's tasks",
            "ansible.builtin.include_tasks": os.path.join(TARGETS, name, "tasks", "main.yml"),
        }],
    }]


@pytest.fixture(scope="session")
def installed_collection():
    if not os.path.isfile(INSTALLED):
        pytest.fail("logvault.aws is not installed in %s; run `make collection` first" % COLLECTIONS)
    return COLLECTIONS


@pytest.fixture()
def emulator():
    try:
        from local_aws.server import start
    except ImportError as exc:  # the emulator is a package at the repository root
        pytest.fail("the local AWS emulator (local_aws/) cannot be imported: %s" % exc)
    server = start(port=0)
    try:
        yield server
    finally:
        server.stop()


def test_every_target_has_aliases():
    targets = _targets()
    assert targets, "no integration targets found under %s" % TARGETS
    missing = [t for t in targets if not os.path.isfile(os.path.join(TARGETS, t, "aliases"))]
    assert missing == []


@pytest.mark.parametrize("target", _targets())
def test_target(target, emulator, installed_collection, tmp_path):
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump(_playbook(target, emulator.endpoint), sort_keys=False))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": installed_collection,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "true",
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_ROLES_PATH": os.path.join(REPO, "roles"),
        # Code that builds its own boto3 clients (lookups, scripts) reaches the emulator too.
        "AWS_ENDPOINT_URL": emulator.endpoint,
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    })
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN"):
        env.pop(leak, None)
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", str(playbook)],
        env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=1800, check=False,
    )
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    assert result.returncode == 0, "target %s failed (rc=%s); see captured output" % (target, result.returncode)
    assert "failed=0" in result.stdout
