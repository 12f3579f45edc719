# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""member_account's preflight names what the user wrote (issue 13 item 7): a misspelled
role variable is reported against meta/argument_specs.yml, and an account id that YAML
read as a number gets a hint to quote it, naming the host. Preflight runs before any
AWS call, so no emulator is needed; the installed collection (make collection) runs."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")

INVENTORY = """all:
  hosts:
    new-account:
      ansible_connection: local
      ansible_python_interpreter: %s
      logvault_account_id: %s
      logvault_regions: [us-east-1]
      logvault_destination_arns: {us-east-1: "arn:aws:logs:us-east-1:123456789012:destination:logvault-central"}
%s"""

PLAY = """- hosts: all
  gather_facts: false
  roles:
    - role: logvault.aws.member_account
      tags: [member_account_preflight]
"""


def _run(tmp_path, account_id, extra=""):
    (tmp_path / "hosts.yml").write_text(INVENTORY % (sys.executable, account_id, extra))
    (tmp_path / "play.yml").write_text(PLAY)
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                             str(tmp_path / "play.yml"), "--tags", "member_account_preflight"],
                            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


def test_a_misspelled_role_variable_is_reported(tmp_path):
    rc, out = _run(tmp_path, '"111111111111"', "      member_account_excluded_log_group: [/aws/lambda/x]\n")
    assert rc != 0
    assert "unknown variable(s) member_account_excluded_log_group;" in out
    assert "new-account" in out


@pytest.mark.parametrize("written", ["012345670123", "111111111111"])
def test_an_unquoted_account_id_gets_a_hint_naming_the_host(tmp_path, written):
    rc, out = _run(tmp_path, written)
    assert rc != 0
    assert "member_account (host new-account)" in out
    assert "write it in quotes" in out


def test_a_quoted_account_id_and_known_variables_pass_preflight(tmp_path):
    rc, out = _run(tmp_path, '"011111111111"', "      member_account_excluded_log_groups: [/aws/lambda/x]\n")
    # Preflight passes; the next step (the caller identity, here without credentials) is reached.
    assert "Nothing was changed" not in out
    assert "TASK [logvault.aws.member_account : Read the identity of the member account credentials]" in out, out
    del rc
