# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Behaviour of the role's configure step, run through ansible-playbook (one run for all cases):

* enrichment is read from IMDSv2 only (a fake IMDSv2 server, a TEST DOUBLE, refuses
  requests without a session token);
* check mode writes nothing and predicts `changed` exactly (check, real, check, real);
* bad input fails before anything is written, with a message naming the variable;
* a configuration the validator (the STAND-IN fluentd, a test double) rejects is never
  installed.
"""

import http.server
import json
import os
import threading

import pytest

from .conftest import ENRICH, STANDIN_DIR, FakeIMDSv2, configure_task, run_playbook

GOOD_SOURCE = {"name": "app", "paths": ["/var/log/app/*.log"], "log_group": "/test/app", "parser": "json"}

BAD_CASES = {
    "missing_log_group": ({"fluentd_sources": [{"name": "app", "paths": ["/var/log/a.log"], "parser": "json"}]},
                          "fluentd_sources"),
    "unknown_parser": ({"fluentd_sources": [dict(GOOD_SOURCE, parser="xml")]}, "parser"),
    "relative_path": ({"fluentd_sources": [dict(GOOD_SOURCE, paths=["var/log/a.log"])]}, "fluentd_sources[0]"),
    "comma_in_path": ({"fluentd_sources": [dict(GOOD_SOURCE, paths=["/var/log/a,b.log"])]}, "fluentd_sources[0]"),
    "tails_own_log": ({"fluentd_sources": [dict(GOOD_SOURCE, paths=["/var/log/fluent/fluentd.log"])]},
                      "fluentd_log_dir"),
    "regexp_without_captures": ({"fluentd_sources": [dict(GOOD_SOURCE, parser="regexp", expression="^.*$")]},
                                "named captures"),
    "multiline_with_json": ({"fluentd_sources": [dict(GOOD_SOURCE, multiline_start="^x")]}, "multiline_start"),
    "ships_to_agent_group": ({"fluentd_sources": [dict(GOOD_SOURCE, log_group="/logvault/fluentd")]},
                             "fluentd_agent_log_group"),
    "duplicate_names": ({"fluentd_sources": [GOOD_SOURCE, dict(GOOD_SOURCE, tag="other")]}, "unique"),
    "chunk_too_big": ({"fluentd_sources": [GOOD_SOURCE], "fluentd_buffer_chunk_limit_size": 2097152},
                      "fluentd_buffer_chunk_limit_size"),
    "message_too_long": ({"fluentd_sources": [GOOD_SOURCE], "fluentd_cloudwatch_max_message_length": 262144},
                         "fluentd_cloudwatch_max_message_length"),
    "journald_without_group": ({"fluentd_journald_enabled": True}, "fluentd_journald_log_group"),
    "percent_in_buffer_dir": ({"fluentd_sources": [GOOD_SOURCE], "fluentd_buffer_dir": "/var/lib/fluent-%Y"},
                              "fluentd_buffer_dir"),
    "bad_instance_id": ({"fluentd_sources": [GOOD_SOURCE], "fluentd_instance_id": "i-0123; rm -rf /"},
                        "fluentd_instance_id"),
}
# Passes the role's own checks but not the validator: the regexp does not compile.
# What the rescue records: the task's message and, for a loop, each item's message.
RECORD_FAILURE = "{{ ansible_failed_result.msg }} {{ ansible_failed_result.results | default([]) | map(attribute='msg', default='') | join(' ') }}"
REJECTED_BY_VALIDATOR = {"fluentd_sources": [dict(GOOD_SOURCE, parser="regexp", expression="^(?<a>[0-9]+$")]}


@pytest.fixture(scope="module")
def behaviour(tmp_path_factory):
    FakeIMDSv2.log = []
    server = http.server.HTTPServer(("127.0.0.1", 0), FakeIMDSv2)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    base = tmp_path_factory.mktemp("fluentd-behaviour")
    imds_vars = {"fluentd_imds_endpoint": "http://127.0.0.1:%d" % server.server_port, "fluentd_sources": [GOOD_SOURCE]}

    def cycle_play(step):
        task = configure_task(base / "imds", imds_vars)
        task["name"] = "Cycle %s" % step
        return {"name": "fluentd cycle " + step, "hosts": "localhost", "gather_facts": False, "tasks": [task]}

    tasks = []
    for name, (variables, _needle) in sorted(BAD_CASES.items()):
        merged = dict(ENRICH)
        merged.update(variables)
        tasks.append({"name": "Bad input %s" % name, "block": [configure_task(base / name, merged)],
                      "rescue": [{"name": "Record %s" % name, "ansible.builtin.copy": {
                          "content": RECORD_FAILURE, "dest": str(base / (name + ".msg")),
                          "mode": "0644"}}]})
    merged = dict(ENRICH)
    merged.update(REJECTED_BY_VALIDATOR)
    tasks.append({"name": "Rejected by validator", "block": [configure_task(base / "rejected", merged)],
                  "rescue": [{"name": "Record rejected", "ansible.builtin.copy": {
                      "content": "{{ ansible_failed_result | to_json }}", "dest": str(base / "rejected.msg"),
                      "mode": "0644"}}]})
    bad_play = {"name": "fluentd role bad input", "hosts": "localhost", "gather_facts": False, "tasks": tasks}
    # The four-step cycle: check (changed), real (changed), check (no change), real (no change).
    runs = [("check1", [cycle_play("check1")], ["--check", "--diff"]),
            ("real1", [cycle_play("real1"), bad_play], []),
            ("check2", [cycle_play("check2")], ["--check", "--diff"]),
            ("real2", [cycle_play("real2")], [])]
    reports = []
    try:
        for step, plays, args in runs:
            result = run_playbook(base, plays, args, callback="ansible.posix.json")
            if result.returncode != 0:
                pytest.fail("ansible-playbook %s failed (rc=%d):\n%s\n%s" % (
                    step, result.returncode, result.stdout[-6000:], result.stderr[-3000:]))
            reports.append(json.loads(result.stdout))
            if step == "check1":
                reports.append(os.path.exists(str(base / "imds" / "fluentd.conf")))
    finally:
        server.shutdown()
        server.server_close()
    written_by_check = reports.pop(1)
    return base, reports, list(FakeIMDSv2.log), written_by_check


def template_result(report):
    """Result of the role's template task in the cycle play of one run."""
    for task in report["plays"][0]["tasks"]:
        if "Render the fluentd configuration" in task["task"]["name"]:
            return task["hosts"]["localhost"]
    raise AssertionError("no template task in %s" % report["plays"][0]["play"]["name"])


def test_check_mode_writes_nothing_and_predicts_changed_exactly(behaviour):
    base, reports, _log, written_by_check = behaviour
    results = [template_result(report) for report in reports]
    assert [bool(r.get("changed")) for r in results] == [True, True, False, False]
    assert written_by_check is False
    assert "@type cloudwatch_logs" in json.dumps(results[0]["diff"])  # --diff shows what would be written
    assert (base / "imds" / "fluentd.conf").is_file()


def test_enrichment_comes_from_imdsv2_with_a_session_token_only(behaviour):
    base, _reports, log, _written = behaviour
    conf = (base / "imds" / "fluentd.conf").read_text()
    assert "instance_id 'i-0fedcba9876543210'" in conf
    assert "account_id '222222222222'" in conf
    assert "region 'ap-southeast-2'" in conf
    assert "hostname 'ip-172-31-0-9.ap-southeast-2.compute.internal'" in conf
    assert "log_stream_name 'i-0fedcba9876543210'" in conf
    puts = [entry for entry in log if entry[0] == "PUT"]
    gets = [entry for entry in log if entry[0] == "GET"]
    assert len(puts) == 4 and len(gets) == 8  # one token and two reads per run (check and real alike)
    tokens = [{k.lower(): v for k, v in entry[2].items()}.get("x-aws-ec2-metadata-token") for entry in gets]
    assert tokens == ["fake-imdsv2-token-0123456789"] * len(gets)
    assert all(entry[1] == "/latest/api/token" for entry in puts)


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_input_fails_naming_the_variable_and_writes_nothing(behaviour, case):
    base, _reports, _log, _written = behaviour
    msg_file = base / (case + ".msg")
    assert msg_file.is_file(), "%s did not fail" % case
    assert BAD_CASES[case][1] in msg_file.read_text()
    assert not (base / case).exists(), "%s wrote %s" % (case, base / case)


def test_a_config_the_validator_rejects_is_never_installed(behaviour):
    base, _reports, _log, _written = behaviour
    failure = json.loads((base / "rejected.msg").read_text())
    assert "failed to validate" in failure["msg"]
    assert "STAND-IN" in failure.get("stderr", "") and "invalid regexp" in failure.get("stderr", "")
    assert not (base / "rejected" / "fluentd.conf").exists()


def test_real_fluentd_cannot_run_here_so_validation_uses_the_standin():
    with open(os.path.join(STANDIN_DIR, "fluentd.py"), encoding="utf-8") as handle:
        assert "TEST DOUBLE, NOT fluentd" in handle.read()
