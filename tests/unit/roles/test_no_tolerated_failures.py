# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""No task of the roles or playbooks tolerates every failure, and no role deploys a function with amazon.aws.lambda.

``failed_when: false`` (or ``ignore_errors``) turns any failure into success: an AccessDenied, a throttled call or a
wrong endpoint reads like "the resource does not exist", and the run goes on with a wrong picture of the account.
The central account and the stream alerts had two such tasks until 2026-12-08: an ``amazon.aws.lambda_info``
lookup of their function's KMS key before ``amazon.aws.lambda``, which writes the key (and reports a change)
whenever ``kms_key_arn`` is given. ``lambda_info`` crashes on a function that does not exist yet, and ansible-core
2.19 hides a crashed module's message from ``failed_when``, so the lookup could only tolerate everything.
``logvault.aws.lambda_function`` compares the key itself, so the lookups are gone (docs/stream-alerts.md)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from test_first_run_time import _role_and_playbook_tasks  # noqa: E402  pylint: disable=wrong-import-position


def _all_tasks():
    return list(_role_and_playbook_tasks())


def test_the_walker_sees_the_tasks():
    tasks = _all_tasks()
    assert len(tasks) > 300, len(tasks)
    assert any("logvault.aws.lambda_function" in task for path, task in tasks)


def test_no_task_tolerates_every_failure():
    tolerant = [(path, task.get("name")) for path, task in _all_tasks()
                if task.get("failed_when") is False or str(task.get("failed_when")).strip().lower() in ("false", "no")
                or task.get("ignore_errors") not in (None, False)]
    assert tolerant == []


def test_no_role_deploys_a_function_with_amazon_aws_lambda():
    """Deleting with amazon.aws.lambda (state: absent) is fine; deploying or looking a function up is not."""
    roles = [(path, task) for path, task in _all_tasks() if path.startswith("roles/")]
    lookups = [(path, task.get("name")) for path, task in roles if "amazon.aws.lambda_info" in task]
    deploys = [(path, task.get("name")) for path, task in roles
               if "amazon.aws.lambda" in task and (task["amazon.aws.lambda"] or {}).get("state", "present") != "absent"]
    assert lookups == [] and deploys == []
