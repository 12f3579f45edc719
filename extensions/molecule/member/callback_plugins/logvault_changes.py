# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST HELPER of molecule scenario `member` (never shipped): records, per host, which
tasks reported changed, ok or skipped in one ansible-playbook run, as one JSON line
appended to $LOGVAULT_CHANGES_FILE (nothing is recorded when it is unset, or when its
directory, the scenario's state directory, does not exist: before create.yml and after
destroy.yml, which removes it while its own run is still going). The
scenario compares the prediction of ``site.yml --check`` on an empty emulator with the
changes that the real run then makes (compare_changes.py)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = """
name: logvault_changes
type: aggregate
short_description: test helper, records the changed tasks of a run
description:
  - Appends one JSON line per run to $LOGVAULT_CHANGES_FILE.
"""

import json
import os

from ansible.plugins.callback import CallbackBase


class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = "aggregate"
    CALLBACK_NAME = "logvault_changes"
    CALLBACK_NEEDS_ENABLED = False

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        self._path = os.environ.get("LOGVAULT_CHANGES_FILE")
        self._playbook = None
        self._check = False
        self._hosts = {}

    def v2_playbook_on_start(self, playbook):
        self._playbook = os.path.basename(playbook._file_name)

    def v2_playbook_on_play_start(self, play):
        self._check = bool(play.check_mode) or self._check
        from ansible import context  # pylint: disable=import-outside-toplevel
        self._check = self._check or bool(context.CLIARGS.get("check"))

    def _record(self, result, status):
        host = result._host.get_name()
        name = result._task.get_name()
        entry = self._hosts.setdefault(host, {"changed": [], "ok": [], "skipped": []})
        for other in ("changed", "ok", "skipped"):
            if name in entry[other] and other != status:
                if status == "changed":  # a loop with one changed item is a changed task
                    entry[other].remove(name)
                else:
                    return
        if name not in entry[status]:
            entry[status].append(name)

    def v2_runner_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_item_on_ok(self, result):
        self._record(result, "changed" if result._result.get("changed") else "ok")

    def v2_runner_on_skipped(self, result):
        self._record(result, "skipped")

    def v2_playbook_on_stats(self, stats):
        if not self._path or not os.path.isdir(os.path.dirname(os.path.abspath(self._path))):
            return
        with open(self._path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"playbook": self._playbook, "check": self._check, "hosts": self._hosts}) + "\n")
