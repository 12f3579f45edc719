# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role's preflight names what the user wrote (issue 13 item 7), with one shared
implementation (the logvault.aws.role_variable_problems lookup): a misspelled
``central_account_*``, ``member_account_*``, ``stream_alerts_*``, ``fluentd_*`` or
``cloudtrail_*`` variable is reported against the role's meta/argument_specs.yml, and an
account id that YAML read as a number gets a hint to quote it, naming the host.

Preflight runs before any AWS call (and, for fluentd, before any fact is needed), so the
roles run with ansible-playbook from the installed collection (make collection) and no
emulator."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

from ansible_collections.logvault.aws.plugins.lookup.role_variable_problems import (
    account_id_message,
    known_options,
    unknown_variables,
)

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
ROLES = ("central_account", "member_account", "stream_alerts", "fluentd", "cloudtrail")

# Host variables that get each role through its own checks up to the first AWS call.
BASE = {
    "central_account": {"logvault_account_id": "123456789012", "logvault_central_account_id": "123456789012",
                        "logvault_member_accounts": ["111111111111"],
                        "central_account_opensearch_public": True},
    "member_account": {"logvault_account_id": "111111111111", "logvault_regions": ["us-east-1"],
                       "logvault_destination_arns": {"us-east-1": "arn:aws:logs:us-east-1:123456789012:destination:x"}},
    "stream_alerts": {"logvault_central_account_id": "123456789012"},
    "fluentd": {},
    "cloudtrail": {"logvault_account_id": "123456789012"},
}
# One misspelling per role, and the name it should have been.
MISSPELLED = {
    "central_account": ("central_account_stream_shard", "central_account_stream_shards"),
    "member_account": ("member_account_excluded_log_group", "member_account_excluded_log_groups"),
    "stream_alerts": ("stream_alerts_rule", "stream_alerts_rules"),
    "fluentd": ("fluentd_source", "fluentd_sources"),
    "cloudtrail": ("cloudtrail_trailname", "cloudtrail_trail_name"),
}
# The account id variable that each role reads as the user wrote it.
ACCOUNT_ID_VARIABLE = {
    "central_account": "logvault_central_account_id",
    "member_account": "logvault_account_id",
    "stream_alerts": "logvault_central_account_id",
    "cloudtrail": "logvault_account_id",
}


def _specs(role):
    with open(os.path.join(REPO, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _run(tmp_path, role, hostvars, written=None):
    """Run the role's preflight; ``written`` holds host variables as the user typed them (raw YAML)."""
    lines = ["%s: %s" % (key, json.dumps(value)) for key, value in hostvars.items()]
    lines += ["%s: %s" % item for item in (written or {}).items()]
    (tmp_path / "hosts.yml").write_text(
        "all:\n  hosts:\n    new-account:\n      ansible_connection: local\n      ansible_python_interpreter: %s\n%s"
        % (sys.executable, "".join("      %s\n" % line for line in lines))
    )
    (tmp_path / "play.yml").write_text(
        "- hosts: all\n  gather_facts: false\n  roles:\n    - role: logvault.aws.%s\n" % role
    )
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    for leak in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(leak, None)
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "hosts.yml"),
                             str(tmp_path / "play.yml"), "--tags", "%s_preflight" % role],
                            env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


# --- the shared implementation, in Python -------------------------------------------------

def test_known_options_are_the_union_of_every_entry_point():
    known = known_options(_specs("fluentd"))
    assert "fluentd_sources" in known
    assert set(_specs("fluentd")["argument_specs"]["configure"]["options"]) <= known


def test_unknown_variables_only_looks_at_the_role_prefix():
    known = {"member_account_state"}
    names = ["member_account_state", "member_account_stat", "central_account_x", "_member_account_internal"]
    assert unknown_variables("member_account", names, known) == ["member_account_stat"]


@pytest.mark.parametrize("value,hint", [
    (1402433619, True),          # 012345670123 read as octal
    (111111111111, True),        # unquoted, 12 digits
    ("1402433619", True),        # the string of such a number (a playbook applied `string`)
    ("abc", False),
    (None, False),
])
def test_account_id_problems(value, hint):
    message = account_id_message("logvault_account_id", value)
    assert message is not None and message.startswith("logvault_account_id must be a quoted 12-digit string")
    assert ("write it in quotes" in message) is hint


def test_a_quoted_account_id_is_no_problem():
    assert account_id_message("logvault_account_id", "012345678901") is None
    assert account_id_message("logvault_member_accounts", ["012345678901", "111111111111"], is_list=True) is None
    assert "quotes" in account_id_message("logvault_member_accounts", ["012345678901", 1402433619], is_list=True)


# --- every role, through ansible-playbook -------------------------------------------------

@pytest.mark.parametrize("role", ROLES)
def test_a_misspelled_role_variable_is_reported(tmp_path, role):
    wrong, right = MISSPELLED[role]
    assert right in known_options(_specs(role)) and wrong not in known_options(_specs(role))
    hostvars = dict(BASE[role], **{wrong: []})
    rc, out = _run(tmp_path, role, hostvars)
    assert rc != 0, out
    assert "%s (host new-account): unknown variable(s) %s (did you mean %s?)" % (role, wrong, right) in out, out
    assert "Nothing was changed" in out


@pytest.mark.parametrize("role", sorted(ACCOUNT_ID_VARIABLE))
@pytest.mark.parametrize("written,read", [("012345670123", "1402433619"), ("111111111111", "111111111111")])
def test_an_unquoted_account_id_gets_a_hint_naming_the_host(tmp_path, role, written, read):
    name = ACCOUNT_ID_VARIABLE[role]
    hostvars = {key: value for key, value in BASE[role].items() if key != name}
    rc, out = _run(tmp_path, role, hostvars, {name: written})
    assert rc != 0, out
    assert "%s (host new-account): %s must be a quoted 12-digit string, got %s" % (role, name, read) in out, out
    assert 'write it in quotes, e.g. %s: "012345678901"' % name in out


# The first task after the checks, reached only when preflight passed.
AFTER_PREFLIGHT = {
    "member_account": "TASK [logvault.aws.member_account : Read the identity of the member account credentials (when no role was assumed)]",
    "cloudtrail": "TASK [logvault.aws.cloudtrail : Assume the role that the control node uses in the account]",
}


@pytest.mark.parametrize("role", sorted(AFTER_PREFLIGHT))
def test_quoted_ids_and_known_variables_pass_the_check(tmp_path, role):
    rc, out = _run(tmp_path, role, dict(BASE[role], logvault_account_id="011111111111"))
    del rc  # the run fails later, at the first AWS call (no credentials): preflight passed
    assert "unknown variable" not in out and "must be a quoted" not in out, out
    assert AFTER_PREFLIGHT[role] in out, out


@pytest.mark.parametrize("destinations, named", [
    ({"us-east-1": "arn:aws:logs:us-east-1:123456789012:destination:x"}, ["region eu-west-1 (got nothing)"]),
    ({"us-east-1": "arn:aws:logs:us-east-1:123456789012:destination:x",
      "eu-west-1": "arn:aws:logs:us-east-1:123456789012:destination:x"},
     ["region eu-west-1 (got arn:aws:logs:us-east-1:123456789012:destination:x)"]),
    ({}, ["region us-east-1 (got nothing)", "region eu-west-1 (got nothing)"]),
])
def test_member_regions_without_a_destination_are_all_named_in_one_check(tmp_path, destinations, named):
    hostvars = dict(BASE["member_account"], logvault_regions=["us-east-1", "eu-west-1"], logvault_destination_arns=destinations)
    rc, out = _run(tmp_path, "member_account", hostvars)
    assert rc != 0, out
    assert "logvault_destination_arns has no destination ARN for %s." % "; ".join(named) in " ".join(out.split()), out
    assert AFTER_PREFLIGHT["member_account"] not in out


def test_member_regions_with_their_destinations_pass_the_check(tmp_path):
    destinations = dict((r, "arn:aws:logs:%s:123456789012:destination:x" % r) for r in ("us-east-1", "eu-west-1"))
    hostvars = dict(BASE["member_account"], logvault_regions=["us-east-1", "eu-west-1"], logvault_destination_arns=destinations)
    rc, out = _run(tmp_path, "member_account", hostvars)
    del rc  # fails later, at the first AWS call (no credentials): preflight passed
    assert "no destination ARN" not in out and AFTER_PREFLIGHT["member_account"] in out, out


# member_account makes every check in one task (one worker process per account, not four), and a fail task
# with a condition: its message is templated only when a check failed (an assert's fail_msg is templated
# every time, which ran the checks and their lookup twice for every account).
def test_member_preflight_is_one_task():
    with open(os.path.join(REPO, "roles", "member_account", "tasks", "preflight.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    assert [(list(task["ansible.builtin.fail"]), task["when"]) for task in tasks] == [
        (["msg"], "__member_account_preflight_problem | default('', true) | length > 0")]
    assert "__member_account_preflight_problem" in tasks[0]["ansible.builtin.fail"]["msg"]


@pytest.mark.parametrize("overrides, message", [
    # (the state and the mode have choices, and the account id is checked by the lookup: they are refused earlier)
    ({"logvault_regions": ["us-east-1", "Europe"]}, "logvault_regions (region names, got ['us-east-1', 'Europe'])"),
    ({"member_account_subscription_mode": "log_groups"},
     "member_account_subscription_mode is log_groups, so set member_account_subscribe_log_groups and/or"
     " member_account_subscribe_log_group_prefix. Nothing was changed."),
])
def test_member_unusable_values_are_reported_before_any_call(tmp_path, overrides, message):
    rc, out = _run(tmp_path, "member_account", dict(BASE["member_account"], **overrides))
    assert rc != 0, out
    assert "member_account (host new-account): " in out and message in " ".join(out.split()), out
    assert AFTER_PREFLIGHT["member_account"] not in out


def test_member_log_groups_mode_with_groups_passes_the_check(tmp_path):
    hostvars = dict(BASE["member_account"], member_account_subscription_mode="log_groups",
                    member_account_subscribe_log_group_prefix="/app/")
    rc, out = _run(tmp_path, "member_account", hostvars)
    del rc  # fails later, at the first AWS call (no credentials): preflight passed
    assert "so set member_account_subscribe_log_groups" not in out and AFTER_PREFLIGHT["member_account"] in out, out
