# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drift report: run playbooks/drift.yml with --check --diff and print one table.

    python tools/drift_report.py [--json FILE] [--markdown FILE] [--playbook PATH] -- <ansible-playbook args>

Every task result that would change something (``changed`` in check mode) is one row:
account, region, resource, what differs. The table is printed as text and written as JSON
and/or Markdown. Exit status: 0 no drift, 1 drift, 2 the playbook failed (a failed task or
an unreachable account: the estate could not be compared, so the report is incomplete).

ansible-playbook runs with the ``ansible.posix.json`` stdout callback, so every result and
its diff are read as data, not scraped from text.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import re
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.dirname(sys.executable)
REGION = re.compile(r"\b[a-z]{2}(?:-gov)?-[a-z]+-\d\b")
RESOURCE_KEYS = ("name", "destination_name", "log_group_name", "policy_name", "filter_name", "role_name",
                 "iam_role_name", "function_name", "bucket", "stream_name", "delivery_stream_name", "alias",
                 "rule_name", "topic", "domain_name")
FIELDS = ("account", "host", "region", "resource", "differs")


def _short(value, limit=120):
    text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _parsed(value):
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _paths(before, after, path):
    """(path, before, after) of every leaf that differs, dicts and equal-length lists walked."""
    if isinstance(before, dict) and isinstance(after, dict):
        for key in sorted(set(before) | set(after), key=str):
            if before.get(key) != after.get(key):
                for found in _paths(before.get(key), after.get(key), "%s.%s" % (path, key) if path else str(key)):
                    yield found
    elif isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after)):
            if old != new:
                for found in _paths(old, new, "%s[%d]" % (path, index)):
                    yield found
    elif isinstance(before, list) and isinstance(after, list):
        yield path, "%d items" % len(before), "%d items" % len(after)
    else:
        yield path, before, after


def describe_diff(diff):
    """What differs, in one line, from a module's diff (dict or list of dicts)."""
    parts = []
    for entry in diff if isinstance(diff, list) else [diff]:
        if not isinstance(entry, dict):
            continue
        if "prepared" in entry:
            parts.append(_short(entry["prepared"]))
            continue
        before, after = _parsed(entry.get("before")), _parsed(entry.get("after"))
        if before in (None, {}, "", []) and after not in (None, {}, "", []):
            parts.append("missing (would create)")
        elif after in (None, {}, "", []) and before not in (None, {}, "", []):
            parts.append("present (would delete)")
        elif isinstance(before, dict) and isinstance(after, dict):
            found = list(_paths(before, after, ""))
            shown = ["%s: %s -> %s" % (p, _short(b, 60), _short(a, 60)) for p, b, a in found[:3]]
            if len(found) > 3:
                shown.append("(%d more)" % (len(found) - 3))
            parts.append("; ".join(shown))
        elif before != after:
            parts.append("%s -> %s" % (_short(before, 60), _short(after, 60)))
    return "; ".join(p for p in parts if p)


def _region(result, task_name):
    if result.get("region_of_run"):
        return result["region_of_run"]
    args = (result.get("invocation") or {}).get("module_args") or {}
    if args.get("region"):
        return args["region"]
    for text in (json.dumps(result.get("item"), default=str), str(result.get("msg", "")), task_name):
        found = REGION.search(text or "")
        if found:
            return found.group(0)
    return "-"


def _resource(result, task_name):
    """The task, with the loop item's label and the resource name it manages (when they differ)."""
    args = (result.get("invocation") or {}).get("module_args") or {}
    item = result.get("item")
    label = result.get("_ansible_item_label")
    if not isinstance(label, str) or not label:
        label = item.get("name") if isinstance(item, dict) else item
    details = []
    for detail in (label, next((args[k] for k in RESOURCE_KEYS if isinstance(args.get(k), str) and args.get(k)), None)):
        if isinstance(detail, (str, int)) and str(detail) and str(detail) not in details:
            details.append(str(detail))
    return "%s (%s)" % (task_name, _short(", ".join(details), 100)) if details else task_name


def per_region(result):
    """A result of a module run over many regions (option regions: a ``regions`` dict of per-region results, and a
    diff list with ``<region> (before)`` headers) as one result per changed region; any other result as itself."""
    regions = result.get("regions") if isinstance(result, dict) else None
    if not isinstance(regions, dict) or not all(isinstance(v, dict) for v in regions.values()):
        return [result]
    diffs = result.get("diff") if isinstance(result.get("diff"), list) else []
    parts = []
    for region, outcome in regions.items():
        if not outcome.get("changed"):
            continue
        part = dict((k, v) for k, v in result.items() if k not in ("regions", "diff", "msg"))
        part.update(changed=True, region_of_run=region)
        part["diff"] = [d for d in diffs if isinstance(d, dict) and str(d.get("before_header", "")).startswith(region + " ")]
        parts.append(part)
    return parts


def rows_from(report, accounts):
    """Rows of drift from ansible.posix.json output; ``accounts`` maps host -> account id."""
    rows = []
    for play in report.get("plays", []):
        for task in play.get("tasks", []):
            task_name = task.get("task", {}).get("name", "")
            for host, result in task.get("hosts", {}).items():
                items = result.get("results") if isinstance(result.get("results"), list) else [result]
                items = [part for item in items for part in per_region(item)]
                for item in items:
                    if not isinstance(item, dict) or not item.get("changed") or item.get("skipped"):
                        continue
                    differs = describe_diff(item.get("diff")) if item.get("diff") else ""
                    if not differs:
                        msg = item.get("msg")
                        differs = _short(msg) if isinstance(msg, str) and msg else "would change (no diff returned)"
                    rows.append({
                        "account": accounts.get(host, ""),
                        "host": host,
                        "region": _region(item, task_name),
                        "resource": _resource(item, task_name),
                        "differs": differs,
                    })
    return rows


def failures_from(report):
    failed = []
    for host, stats in report.get("stats", {}).items():
        if stats.get("failures") or stats.get("unreachable"):
            failed.append(host)
    return sorted(failed)


def as_text(rows):
    if not rows:
        return "No drift: every account and region matches its settings."
    widths = {f: max(len(f), *(len(str(r[f])) for r in rows)) for f in FIELDS}
    lines = ["  ".join(f.ljust(widths[f]) for f in FIELDS), "  ".join("-" * widths[f] for f in FIELDS)]
    lines += ["  ".join(str(r[f]).ljust(widths[f]) for f in FIELDS) for r in rows]
    lines.append("%d drifted resource(s) in %d account(s)." % (len(rows), len({r["host"] for r in rows})))
    return "\n".join(lines)


def as_markdown(rows):
    if not rows:
        return "# Drift report\n\nNo drift: every account and region matches its settings.\n"
    lines = ["# Drift report", "", "| " + " | ".join(FIELDS) + " |", "|" + "---|" * len(FIELDS)]
    lines += ["| " + " | ".join(str(r[f]).replace("|", "\\|") for f in FIELDS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def inventory_accounts(playbook_args, env):
    """host -> logvault_account_id, from ansible-inventory with the same -i arguments."""
    inventories = []
    args = list(playbook_args)
    for index, arg in enumerate(args):
        if arg in ("-i", "--inventory", "--inventory-file") and index + 1 < len(args):
            inventories += ["-i", args[index + 1]]
        elif arg.startswith("--inventory="):
            inventories += ["-i", arg.split("=", 1)[1]]
    result = subprocess.run([os.path.join(BIN, "ansible-inventory"), "--list"] + inventories,
                            env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        return {}
    data = json.loads(result.stdout, object_hook=lambda d: d.get("__ansible_unsafe", d) if len(d) == 1 else d)
    return {host: str(hv.get("logvault_account_id", "")) for host, hv in data.get("_meta", {}).get("hostvars", {}).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--playbook", default=os.path.join(ROOT, "playbooks", "drift.yml"))
    parser.add_argument("--json", dest="json_path", help="write the rows as JSON here")
    parser.add_argument("--markdown", dest="markdown_path", help="write the table as Markdown here")
    parser.add_argument("--raw", dest="raw_path", help="keep ansible-playbook's JSON output here")
    parser.add_argument("playbook_args", nargs=argparse.REMAINDER, help="after --: arguments for ansible-playbook")
    args = parser.parse_args(argv)
    extra = args.playbook_args[1:] if args.playbook_args[:1] == ["--"] else args.playbook_args

    env = dict(os.environ)
    # Other callbacks that print (profile_tasks, timer) would mix text into the JSON.
    env.pop("ANSIBLE_CALLBACKS_ENABLED", None)
    env.update({"ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json", "ANSIBLE_NOCOLOR": "1"})
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "--check", "--diff", args.playbook] + extra,
                            env=env, capture_output=True, text=True, check=False)
    if args.raw_path:
        with open(args.raw_path, "w", encoding="utf-8") as handle:
            handle.write(result.stdout)
    start = result.stdout.find("\n{\n") + 1 if not result.stdout.startswith("{") else 0
    try:
        report = json.loads(result.stdout[start:]) if start >= 0 else {}
    except ValueError:
        report = {}
    if not report:
        sys.stderr.write(result.stderr[-4000:] + "\ndrift_report: ansible-playbook produced no JSON report (rc=%d)\n"
                         % result.returncode)
        return 2
    rows = rows_from(report, inventory_accounts(extra, env))
    print(as_text(rows))
    if args.json_path:
        with open(args.json_path, "w", encoding="utf-8") as handle:
            json.dump({"drift": bool(rows), "rows": rows}, handle, indent=2, sort_keys=True)
    if args.markdown_path:
        with open(args.markdown_path, "w", encoding="utf-8") as handle:
            handle.write(as_markdown(rows))
    failed = failures_from(report)
    if failed or result.returncode not in (0,):
        sys.stderr.write("drift_report: the playbook failed for %s (rc=%d); the report is incomplete\n"
                         % (", ".join(failed) or "some host", result.returncode))
        return 2
    return 1 if rows else 0


if __name__ == "__main__":
    sys.exit(main())
