# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-doc renders the CloudWatch Logs modules and filters, with examples that parse and
use the plugin they document. Runs against the working tree (build/pytest-root links it)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys

import pytest
import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
PYTEST_ROOT = os.path.join(REPO, "build", "pytest-root")
ANSIBLE_DOC = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
MODULES = ["cloudwatchlogs_destination", "cloudwatchlogs_subscription_filter", "cloudwatchlogs_account_policy",
           "cloudwatchlogs_log_groups"]
FILTERS = ["destination_policy", "cwl_decode"]


def ansible_doc(*args):
    env = dict(os.environ)
    env.update(ANSIBLE_COLLECTIONS_PATH=PYTEST_ROOT, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    result = subprocess.run([ANSIBLE_DOC] + list(args), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert "[WARNING]" not in result.stderr and "[ERROR]" not in result.stderr, result.stderr
    return result.stdout


@pytest.mark.parametrize("plugin_type,name", [("module", m) for m in MODULES] + [("filter", f) for f in FILTERS])
def test_ansible_doc_renders_with_examples(plugin_type, name):
    fqcn = "logvault.aws.%s" % name
    text = ansible_doc("-t", plugin_type, fqcn)
    assert fqcn in text
    assert "EXAMPLES" in text
    doc = json.loads(ansible_doc("-t", plugin_type, "--json", fqcn))[fqcn]
    assert doc["doc"]["version_added"] == "0.1.0"
    assert doc["doc"]["short_description"]
    assert doc["return"], "RETURN is empty"
    examples = yaml.safe_load(doc["examples"])
    assert isinstance(examples, list) and examples
    for task in examples:
        assert task.get("name"), "every example task has a name"
    if plugin_type == "module":
        assert any(fqcn in task for task in examples), "no example uses %s" % fqcn
        assert {"region", "endpoint_url", "access_key"} <= set(doc["doc"]["options"]), "amazon.aws fragments are missing"
    else:
        assert fqcn in doc["examples"]
