# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST HELPER: ansible-doc on a module of the working tree (build/pytest-root, which
tests/conftest.py links), for the module tests that check their documentation renders.

Import it as ``ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))))


def ansible_doc(fqcn):
    """(text run, JSON doc) of ``ansible-doc -t module fqcn``: the completed text run (stdout,
    stderr) and the module's entry of ``--json``. Either call failing raises."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(REPO, "build", "pytest-root"),
               ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    command = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    text = subprocess.run([command, "-t", "module", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    raw = subprocess.run([command, "-t", "module", "--json", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    return text, json.loads(raw.stdout)[fqcn]


def assert_renders_with_examples(fqcn):
    """ansible-doc renders ``fqcn`` without warnings, and every example is a named task of it;
    returns the JSON doc for the test's own checks."""
    import yaml  # pylint: disable=import-outside-toplevel

    text, doc = ansible_doc(fqcn)
    assert "EXAMPLES" in text.stdout and fqcn in text.stdout
    assert "[WARNING]" not in text.stderr and "[ERROR]" not in text.stderr, text.stderr
    examples = yaml.safe_load(doc["examples"])
    assert examples and all(task.get("name") and fqcn in task for task in examples)
    return doc
