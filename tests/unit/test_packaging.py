# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The built collection holds what users need and nothing from tests, bench or the venv."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import subprocess
import sys
import tarfile

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ANSIBLE_GALAXY = os.path.join(os.path.dirname(sys.executable), "ansible-galaxy")
# Top-level paths of the repository that must never reach users.
NOT_SHIPPED = ("tests/", "bench/", ".venv/", "local_aws/", "tools/", "build/", "extensions/", ".ci/", ".git/")


def _galaxy():
    with open(os.path.join(ROOT, "galaxy.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


@pytest.fixture(scope="module")
def tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    subprocess.run(
        [ANSIBLE_GALAXY, "collection", "build", "--force", "--output-path", str(out), ROOT],
        check=True, capture_output=True, cwd=ROOT,
    )
    built = sorted(os.listdir(str(out)))
    assert built == ["logvault-aws-%s.tar.gz" % _galaxy()["version"]]
    return os.path.join(str(out), built[0])


@pytest.fixture(scope="module")
def members(tarball):
    with tarfile.open(tarball) as archive:
        return [m.name[2:] if m.name.startswith("./") else m.name for m in archive.getmembers()]


def test_galaxy_metadata():
    galaxy = _galaxy()
    assert (galaxy["namespace"], galaxy["name"], galaxy["version"]) == ("logvault", "aws", "0.1.0")
    assert galaxy["license"] == ["GPL-3.0-or-later"]
    assert set(galaxy["dependencies"]) == {"amazon.aws", "community.aws"}
    for ignored in ("tests", "bench", ".venv", "build"):
        assert ignored in galaxy["build_ignore"], ignored


def test_tarball_name_matches_version(tarball):
    assert os.path.basename(tarball) == "logvault-aws-0.1.0.tar.gz"


def test_tarball_has_what_users_need(members):
    for required in ("MANIFEST.json", "FILES.json", "README.md", "LICENSE", "meta/runtime.yml"):
        assert required in members, required
    shipped_dirs = ("plugins", "roles", "playbooks", "docs", "meta", "changelogs")
    for rel_dir in shipped_dirs:
        source = os.path.join(ROOT, rel_dir)
        if not os.path.isdir(source):
            continue
        for dirpath, _dirnames, filenames in os.walk(source):
            for name in filenames:
                if name.endswith(".pyc") or "__pycache__" in dirpath or name == ".plugin-cache.yaml":
                    continue
                rel = os.path.relpath(os.path.join(dirpath, name), ROOT)
                assert rel in members, "%s is in the repository but not in the collection tarball" % rel


def test_tarball_has_nothing_from_tests_bench_or_venv(members):
    leaked = [m for m in members if m.startswith(NOT_SHIPPED) or m.split("/")[0] + "/" in NOT_SHIPPED]
    assert leaked == []
    assert not [m for m in members if m.endswith((".pyc", ".tar.gz")) or "__pycache__" in m]


def _modules_on_disk():
    folder = os.path.join(ROOT, "plugins", "modules")
    return sorted(
        os.path.splitext(name)[0]
        for name in os.listdir(folder)
        if name.endswith(".py") and name != "__init__.py"
    )


# Modules that make no AWS call, so they take no credentials and stay out of group/aws.
NOT_AWS_MODULES = ("lambda_package",)


def test_action_group_lists_exactly_the_modules():
    with open(os.path.join(ROOT, "meta", "runtime.yml"), encoding="utf-8") as handle:
        runtime = yaml.safe_load(handle)
    assert runtime["requires_ansible"] == ">=2.17.0"
    group = runtime["action_groups"]["aws"]
    listed = sorted(entry for entry in group if isinstance(entry, str))
    for name in NOT_AWS_MODULES:
        assert name in _modules_on_disk(), "%s is listed as a module without AWS calls but does not exist" % name
    assert listed == [name for name in _modules_on_disk() if name not in NOT_AWS_MODULES]
    assert len(listed) == len(set(listed)), "a module is listed twice"
    metadata = [entry["metadata"] for entry in group if isinstance(entry, dict)]
    assert metadata == [{"extend_group": ["amazon.aws.aws"]}]
