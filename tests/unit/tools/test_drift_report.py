# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tools/drift_report.py: rows from ansible.posix.json output, the three formats, exit codes.
The JSON report below is hand-written in the shape of the ansible.posix.json callback's output
(a test fixture); the end-to-end test is tools/drift_selftest.py in the molecule member verify."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location("drift_report", os.path.join(REPO, "tools", "drift_report.py"))
drift_report = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(drift_report)

REPORT = {
    "plays": [{
        "tasks": [
            {"task": {"name": "Manage the CloudWatch Logs destination of every region"},
             "hosts": {"security": {"changed": True, "results": [
                 {"changed": False, "item": "eu-west-1", "invocation": {"module_args": {"region": "eu-west-1", "name": "d"}}},
                 {"changed": True, "item": "us-east-1", "_ansible_item_label": "us-east-1",
                  "invocation": {"module_args": {"region": "us-east-1", "name": "logvault-central"}},
                  "diff": {"before": {"policy": {"a": 1}, "target": "t"}, "after": {"policy": {"a": 2}, "target": "t"}}},
             ]}}},
            {"task": {"name": "Predict in check mode what the skipped bucket tasks would change"},
             "hosts": {"security": {"changed": True, "results": [
                 {"changed": True, "_ansible_item_label": "logvault-archive-1",
                  "msg": "logvault-archive-1: would set the lifecycle rule"}]}}},
            {"task": {"name": "Subscribe every log group through the account-level policy in us-east-1"},
             "hosts": {"member-a": {"changed": True,
                                    "invocation": {"module_args": {"region": "us-east-1", "policy_name": "logvault-subscription"}},
                                    "diff": {"before": "", "after": {"filter_pattern": ""}}},
                       "member-b": {"changed": False}}},
            {"task": {"name": "Skipped"}, "hosts": {"member-b": {"changed": True, "skipped": True}}},
        ],
    }],
    "stats": {"security": {"failures": 0, "unreachable": 0}, "member-a": {"failures": 0, "unreachable": 0}},
}
ACCOUNTS = {"security": "123456789012", "member-a": "111111111111"}


def test_rows_name_account_region_resource_and_difference():
    rows = drift_report.rows_from(REPORT, ACCOUNTS)
    assert [(r["account"], r["host"], r["region"]) for r in rows] == [
        ("123456789012", "security", "us-east-1"),
        ("123456789012", "security", "-"),
        ("111111111111", "member-a", "us-east-1"),
    ]
    assert rows[0]["resource"].endswith("(us-east-1, logvault-central)")
    assert rows[0]["differs"] == "policy.a: 1 -> 2"
    assert rows[1]["differs"] == "logvault-archive-1: would set the lifecycle rule"
    assert "logvault-archive-1" in rows[1]["resource"]
    assert rows[2]["differs"] == "missing (would create)"
    assert "logvault-subscription" in rows[2]["resource"]


def test_a_module_run_over_many_regions_gives_one_row_per_drifted_region():
    """Issue 17: member_account's modules take regions; the table still has one row per account and region."""
    args = {"regions": ["us-east-1", "eu-west-1", "ap-south-1"], "policy_name": "logvault-subscription"}
    result = {"changed": True, "invocation": {"module_args": args},
              "regions": {"us-east-1": {"changed": True}, "eu-west-1": {"changed": False}, "ap-south-1": {"changed": True}},
              "diff": [{"before": {"p": 1}, "after": {"p": 2}, "before_header": "us-east-1 (before)", "after_header": "us-east-1 (after)"},
                       {"before": {}, "after": {"p": 2}, "before_header": "ap-south-1 (before)", "after_header": "ap-south-1 (after)"}]}
    report = {"plays": [{"tasks": [{"task": {"name": "Subscribe every log group through the account-level policy in every region"},
                                    "hosts": {"member-a": result}}]}]}
    rows = drift_report.rows_from(report, ACCOUNTS)
    assert [(r["account"], r["region"], r["differs"]) for r in rows] == [
        ("111111111111", "us-east-1", "p: 1 -> 2"), ("111111111111", "ap-south-1", "missing (would create)")]
    assert all("logvault-subscription" in r["resource"] for r in rows)


def test_clean_report_has_no_rows_and_says_so():
    clean = {"plays": [{"tasks": [{"task": {"name": "x"}, "hosts": {"h": {"changed": False}}}]}], "stats": {}}
    assert drift_report.rows_from(clean, {}) == []
    assert "No drift" in drift_report.as_text([])
    assert "No drift" in drift_report.as_markdown([])


def test_text_and_markdown_tables_hold_every_row():
    rows = drift_report.rows_from(REPORT, ACCOUNTS)
    text = drift_report.as_text(rows)
    assert "3 drifted resource(s) in 2 account(s)." in text
    markdown = drift_report.as_markdown(rows)
    assert markdown.count("\n| 1") == 3
    assert "| account | host | region | resource | differs |" in markdown


def test_describe_diff_shapes():
    assert drift_report.describe_diff({"before": {"a": 1}, "after": {}}) == "present (would delete)"
    assert drift_report.describe_diff([{"before": "x", "after": "y"}]) == "x -> y"
    assert drift_report.describe_diff({"prepared": "+ line"}) == "+ line"
    assert drift_report.describe_diff({"before": '{"k": 1}', "after": '{"k": 2}'}) == "k: 1 -> 2"
    # Nested policies: the leaf that differs, not the (equal) start of the document.
    nested = {"before": {"access_policy": {"Statement": [{"Sid": "A"}, {"Sid": "Tampered"}]}, "tags": {}},
              "after": {"access_policy": {"Statement": [{"Sid": "A"}]}, "tags": {}}}
    assert drift_report.describe_diff(nested) == "access_policy.Statement: 2 items -> 1 items"
    many = {"before": {"p": {"a": 1, "b": 1, "c": 1, "d": 1, "e": [1, 2]}}, "after": {"p": {"a": 2, "b": 2, "c": 2, "d": 2, "e": [1, 3]}}}
    assert drift_report.describe_diff(many) == "p.a: 1 -> 2; p.b: 1 -> 2; p.c: 1 -> 2; (2 more)"


def test_main_exit_codes(tmp_path, monkeypatch):
    class Done:
        def __init__(self, stdout, returncode=0):
            self.stdout, self.stderr, self.returncode = stdout, "", returncode

    outputs = []
    monkeypatch.setattr(drift_report, "inventory_accounts", lambda args, env: ACCOUNTS)
    monkeypatch.setattr(drift_report.subprocess, "run", lambda *a, **k: outputs.pop(0))
    json_path, md_path = str(tmp_path / "d.json"), str(tmp_path / "d.md")

    outputs.append(Done("noise {{ x }}\n" + json.dumps(REPORT, indent=4)))
    assert drift_report.main(["--json", json_path, "--markdown", md_path, "--", "-i", "inv"]) == 1
    assert json.load(open(json_path, encoding="utf-8"))["drift"] is True

    outputs.append(Done(json.dumps({"plays": [], "stats": {}}, indent=4)))
    assert drift_report.main(["--json", json_path]) == 0

    failed = dict(REPORT, stats={"security": {"failures": 1, "unreachable": 0}})
    outputs.append(Done(json.dumps(failed, indent=4), returncode=2))
    assert drift_report.main([]) == 2

    outputs.append(Done("not json", returncode=4))
    assert drift_report.main([]) == 2
