# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fleet hosts get their permissions from one variable (issue 13 item 9):
``logvault_fleet_sources`` feeds both fluentd's ``fluentd_sources`` (its default) and the
log groups that role member_account manages and that the fleet policy allows, and
``fleet.yml`` refuses a source (or the journal) that writes to a group the policy denies,
before anything is installed. Offline: ansible-playbook renders the roles' variables, and
fleet.yml runs on this machine up to fluentd's preflight."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
ACCOUNT = "111111111111"
SOURCES = [
    {"name": "nginx_access", "paths": ["/var/log/nginx/access.log"], "log_group": "/logvault/hosts/nginx/access", "parser": "nginx"},
    {"name": "app", "paths": ["/var/log/app/*.log"], "log_group": "/logvault/hosts/app", "parser": "json"},
]


def _env(tmp_path):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"))
    for leak in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        env.pop(leak, None)
    return env


def test_one_variable_feeds_the_fleet_policy_and_the_sources(tmp_path):
    roles = os.path.join(REPO, "roles")
    out = tmp_path / "rendered.json"
    (tmp_path / "play.yml").write_text(yaml.safe_dump([{
        "hosts": "localhost", "gather_facts": False,
        "vars_files": [os.path.join(roles, "member_account", "defaults", "main.yml"),
                       os.path.join(roles, "member_account", "vars", "main.yml"),
                       os.path.join(roles, "fluentd", "defaults", "main.yml")],
        "tasks": [{"name": "Render", "ansible.builtin.copy": {
            "dest": str(out), "mode": "0600",
            "content": "{{ {'policy': _member_account_fleet_policy, 'groups': _member_account_managed_log_groups,"
                       " 'sources': fluentd_sources} | to_json }}"}}],
    }]))
    # Extra vars: above the roles' defaults files, as inventory variables are above role defaults.
    (tmp_path / "inventory.json").write_text(json.dumps({
        "ansible_python_interpreter": sys.executable,
        "logvault_account_id": ACCOUNT, "logvault_regions": ["us-east-1", "eu-west-1"], "logvault_fleet_sources": SOURCES,
        "member_account_log_groups": [{"name": "/logvault/hosts/app", "retention_days": 90}]}))
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local",
                             "-e", "@%s" % (tmp_path / "inventory.json"), str(tmp_path / "play.yml")],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    rendered = json.loads(out.read_text())
    assert rendered["sources"] == SOURCES, "fluentd_sources does not default to logvault_fleet_sources"
    names = [g["name"] for g in rendered["groups"]]
    assert names == ["/logvault/fluentd", "/logvault/hosts/app", "/logvault/hosts/nginx/access"], names
    allowed = rendered["policy"]["Statement"][0]["Resource"]
    for region in ("us-east-1", "eu-west-1"):
        for source in SOURCES:
            arn = "arn:aws:logs:%s:%s:log-group:%s" % (region, ACCOUNT, source["log_group"])
            assert arn in allowed and arn + ":log-stream:*" in allowed, "%s not allowed by the fleet policy" % arn


def _fleet(tmp_path, hostvars):
    host = {"ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}
    host.update(hostvars)
    (tmp_path / "hosts.yml").write_text(yaml.safe_dump({"all": {"children": {"fleet": {"hosts": {"web-1": host}}}}}))
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "--check", "-i", str(tmp_path / "hosts.yml"),
                             os.path.join(REPO, "playbooks", "fleet.yml"), "--tags", "fluentd_preflight"],
                            env=_env(tmp_path), capture_output=True, text=True, timeout=300, check=False)
    return result.returncode, result.stdout + result.stderr


def test_fleet_refuses_a_source_the_policy_denies(tmp_path):
    rc, out = _fleet(tmp_path, {"logvault_fleet_sources": SOURCES[:1],
                                "fluentd_sources": SOURCES, "fluentd_journald_enabled": True,
                                "fluentd_journald_log_group": "/logvault/hosts/journal"})
    assert rc != 0
    assert "web-1: fluentd would write to /logvault/hosts/app, /logvault/hosts/journal, which the fleet policy" in out, out
    assert "TASK [logvault.aws.fluentd" not in out, "the role ran after the refusal"


def test_fleet_sources_from_the_one_variable_pass(tmp_path):
    rc, out = _fleet(tmp_path, {"logvault_fleet_sources": SOURCES})
    assert "fluentd would write to" not in out, out
    assert "TASK [logvault.aws.fluentd : Assert that every fluentd_* variable is known]" in out, out
    del rc  # fluentd's own preflight then runs on this machine; the point here is the fleet check
