# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST HELPER of molecule scenario `member`: compares what ``site.yml --check`` on the
empty emulator predicted (prepare.yml) with what the real run then changed (converge),
from the lines that callback_plugins/logvault_changes.py recorded.

Per host: every task that the real run changed was predicted as changed by the same
task in check mode, or (for a module that cannot run in check mode on a resource that
does not exist yet) was skipped in check mode while a stand-in task of that host
("Predict ..."/"Report that ...") reported the change; and every task that check mode
reported changed, stand-ins aside, did change in the real run. Exits 1 naming each
difference."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import sys

STAND_IN = ("Predict ", "Report that ")


def main(path):
    with open(path, encoding="utf-8") as handle:
        runs = [json.loads(line) for line in handle if line.strip()]
    check = next((r for r in runs if r["check"] and r["playbook"] == "site.yml"), None)
    real = next((r for r in runs if not r["check"] and r["playbook"] == "converge.yml"), None)
    if check is None or real is None:
        print("compare_changes: missing run (check site.yml: %s, converge: %s) in %s" % (bool(check), bool(real), path))
        return 1
    problems = []
    for host in sorted(set(check["hosts"]) | set(real["hosts"])):
        predicted = check["hosts"].get(host, {"changed": [], "ok": [], "skipped": []})
        made = real["hosts"].get(host, {"changed": [], "ok": [], "skipped": []})
        stand_ins = [t for t in predicted["changed"] if t.split(" : ")[-1].startswith(STAND_IN)]
        for task in made["changed"]:
            if task in predicted["changed"]:
                continue
            if task in predicted["skipped"] and stand_ins:
                continue
            problems.append("%s: the real run changed %r, check mode predicted no change" % (host, task))
        for task in predicted["changed"]:
            if task not in stand_ins and task not in made["changed"]:
                problems.append("%s: check mode predicted a change by %r, the real run made none" % (host, task))
    for line in problems:
        print(line)
    print("compare_changes: %d host(s), %d difference(s)" % (len(set(check["hosts"]) | set(real["hosts"])), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
