# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Assuming a role changes nothing: every amazon.aws.sts_assume_role task of the roles and playbooks says so.

amazon.aws.sts_assume_role reports ``changed`` for every session it starts. A task without
``changed_when: false`` made a rerun through the deployer role report a change on every run (the
aws_organizations inventory sets logvault_assume_role_arn for every account), and drift.yml report
it as drift. A role's must run in check mode too (``check_mode: false``), or check mode (drift.yml)
cannot read the account it predicts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_first_run_time import _role_and_playbook_tasks  # noqa: E402  pylint: disable=wrong-import-position

MODULE = "amazon.aws.sts_assume_role"


def _assume_role_tasks():
    return [(path, task.get("name"), task) for path, task in _role_and_playbook_tasks() if MODULE in task]


def test_every_assume_role_task_reports_no_change_and_runs_in_check_mode():
    tasks = _assume_role_tasks()
    # the roles' own (central_account twice, stream_alerts, cloudtrail) and the playbooks' (verify, fleet)
    assert len(tasks) >= 6, tasks
    assert [(path, name) for path, name, task in tasks if task.get("changed_when") is not False] == []
    assert [(path, name) for path, name, task in tasks
            if path.startswith("roles/") and task.get("check_mode") is not False] == []
