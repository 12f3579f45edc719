# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""site.yml runs independent work at the same time (issue 17, docs/organization-scale.md).

Play 1 builds the central pipeline while the member accounts get their trails; play 2 runs the
stream alerts in the central account while the member accounts are connected. A member account is
connected only when the central account finished play 1 (or is not in the run, --limit)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import os
import subprocess
import sys

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PLAYBOOKS = os.path.join(ROOT, "playbooks")
BIN = os.path.dirname(sys.executable)


def _load(name):
    with open(os.path.join(PLAYBOOKS, name), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def _included_roles(play):
    return [task[key]["name"] for task in play.get("tasks") or []
            for key in ("ansible.builtin.include_role", "ansible.builtin.import_role") if key in task]


def test_site_imports_the_member_role_and_includes_the_others():
    """The member accounts' role is imported (static: an include_role is processed again for every batch of hosts
    that reaches it, which costs each of many accounts CPU); the stream alerts stay an include that the member
    accounts skip as a whole (an import would make every member skip each of its tasks)."""
    play = _play_running(_load("site.yml"), "member_account")
    kinds = dict((task[key]["name"], key) for task in play["tasks"]
                 for key in ("ansible.builtin.include_role", "ansible.builtin.import_role") if key in task)
    assert kinds == {"logvault.aws.stream_alerts": "ansible.builtin.include_role",
                     "logvault.aws.member_account": "ansible.builtin.import_role"}
    (member,) = [task for task in play["tasks"] if "ansible.builtin.import_role" in task]
    assert "tags" not in member, "tags on an import_role reach every task of the role (always would run them all)"


def _play_running(plays, role):
    found = [play for play in plays if "logvault.aws.%s" % role in _included_roles(play)]
    assert len(found) == 1, "site.yml runs role %s in %d plays" % (role, len(found))
    return found[0]


@pytest.mark.parametrize("together", [("central_account", "cloudtrail"), ("stream_alerts", "member_account")])
def test_site_runs_independent_roles_in_one_free_play_over_the_central_and_member_accounts(together):
    plays = _load("site.yml")
    first, second = (_play_running(plays, role) for role in together)
    assert first is second, "%s and %s are not in the same play of site.yml" % together
    assert first["hosts"] == "central:members"
    assert first.get("strategy") == "free"


def test_site_connects_the_members_after_the_central_pipeline_is_built():
    plays = _load("site.yml")
    assert plays.index(_play_running(plays, "central_account")) < plays.index(_play_running(plays, "member_account"))


@pytest.mark.parametrize("name,role", [("central.yml", "central_account"), ("alerts.yml", "stream_alerts"),
                                       ("members.yml", "member_account")])
def test_the_single_playbooks_and_site_give_a_role_the_same_variables(name, role):
    """site.yml's plays carry the single playbooks' variables as written (not vars_files, which Ansible
    reads and parses again for every host and task), so this keeps the copies equal."""
    (play,) = _load(name)
    site_play = _play_running(_load("site.yml"), role)
    assert play["vars"], name
    for variable, value in play["vars"].items():
        assert site_play["vars"].get(variable) == value, "site.yml's play of %s sets %s otherwise than %s" % (role, variable, name)


def test_no_play_reads_its_variables_from_vars_files():
    for name in ("site.yml", "central.yml", "alerts.yml", "members.yml"):
        for play in _load(name):
            assert "vars_files" not in play, name


def _guard_playbook(tmp_path, central_fails):
    """Play 1 stands in for the central pipeline (test double: it fails on the central host when asked);
    play 2 is site.yml's second play with its pre_tasks as shipped and a debug task for the roles."""
    second = copy.deepcopy(_play_running(_load("site.yml"), "member_account"))
    second.pop("vars")
    second["tasks"] = [{"name": "Connected", "ansible.builtin.debug": {"msg": "connected {{ inventory_hostname }}"}}]
    first = {"name": "Stand-in for the central pipeline", "hosts": "central:members", "gather_facts": False,
             "tasks": [{"name": "Fail on the central host", "ansible.builtin.fail": {"msg": "central failed"},
                        "when": "central_fails | bool and inventory_hostname in groups['central']"}]}
    (tmp_path / "play.yml").write_text(yaml.safe_dump([first, second]))
    (tmp_path / "inventory.yml").write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "central_fails": central_fails},
        "children": {"central": {"hosts": {"security": {}}}, "members": {"hosts": {"member-a": {}, "member-b": {}}}}}}))


def _run(tmp_path, *extra):
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"),
               ANSIBLE_NOCOLOR="1")
    command = [os.path.join(BIN, "ansible-playbook"), "-i", str(tmp_path / "inventory.yml"), str(tmp_path / "play.yml")]
    result = subprocess.run(command + list(extra), env=env, cwd=str(tmp_path), capture_output=True, text=True,
                            timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("central_fails,limit,connected,refused", [
    (False, (), ["security", "member-a", "member-b"], []),
    (True, (), [], ["member-a", "member-b"]),
    # --limit <member>: the central account is not in the run, and the member is connected alone (like members.yml).
    (False, ("--limit", "member-b"), ["member-b"], []),
])
def test_a_member_account_is_connected_only_when_the_central_account_built_the_pipeline(
        tmp_path, central_fails, limit, connected, refused):
    _guard_playbook(tmp_path, central_fails)
    returncode, out = _run(tmp_path, *limit)
    assert (returncode == 0) is (not central_fails), out[-4000:]
    for host in connected:
        assert "connected %s" % host in out, out[-4000:]
    for host in refused:
        assert "connected %s" % host not in out, out[-4000:]
        assert "The central account (security) failed while building the pipeline" in out
        assert "so %s is not connected to it" % host in out, out[-4000:]
