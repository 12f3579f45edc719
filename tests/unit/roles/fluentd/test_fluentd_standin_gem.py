# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The STAND-IN fluent-gem (a test double): it records install requests and answers `list -i` from them."""

import json
import os
import subprocess
import sys

from .conftest import STANDIN_DIR

GEM = os.path.join(STANDIN_DIR, "fluent_gem.py")


def gem(tmp_path, *args):
    env = dict(os.environ, FLUENT_STANDIN_STATE_DIR=str(tmp_path))
    return subprocess.run([sys.executable, GEM] + list(args), env=env, capture_output=True, text=True, check=False)


def test_list_is_false_until_installed_then_true_for_that_version_only(tmp_path):
    query = ["list", "--installed", "--exact", "fluent-plugin-cloudwatch-logs", "--version", "0.15.0"]
    first = gem(tmp_path, *query)
    assert (first.returncode, first.stdout.strip()) == (1, "false")
    install = gem(tmp_path, "install", "fluent-plugin-cloudwatch-logs", "--version", "0.15.0", "--clear-sources",
                  "--source", "https://gems.example.internal/", "--no-document")
    assert install.returncode == 0 and "STAND-IN" in install.stdout
    second = gem(tmp_path, *query)
    assert (second.returncode, second.stdout.strip()) == (0, "true")
    other = gem(tmp_path, "list", "--installed", "--exact", "fluent-plugin-cloudwatch-logs", "--version", "0.14.3")
    assert other.returncode == 1
    records = [json.loads(line) for line in (tmp_path / "gem-requests.jsonl").read_text().splitlines()]
    assert records == [{"command": "install", "gem": "fluent-plugin-cloudwatch-logs", "version": "0.15.0",
                        "source": "https://gems.example.internal/", "argv": install.args[2:]}]


def test_install_without_a_version_is_refused(tmp_path):
    result = gem(tmp_path, "install", "fluent-plugin-cloudwatch-logs")
    assert result.returncode == 2
    assert not (tmp_path / "gem-requests.jsonl").exists()
