# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""lambda_package, run in-process (main() with patched module args) on temporary directories."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import io
import os
import time
import zipfile

import pytest

from ansible_collections.logvault.aws.plugins.modules import lambda_package
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

TRANSFORM = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "roles", "central_account", "files", "transform_lambda")


def run(args, check_mode=False, diff=False):
    return run_module(lambda_package, args, check_mode=check_mode, diff=diff)


def _read(path):
    with open(str(path), "rb") as handle:
        return handle.read()


@pytest.fixture
def source(tmp_path):
    src = tmp_path / "src"
    (src / "pkg" / "__pycache__").mkdir(parents=True)
    (src / "app.py").write_text("def handler(event, context):\n    return event\n")
    (src / "pkg" / "__init__.py").write_text("")
    (src / "pkg" / "util.py").write_text("VALUE = 1\n")
    (src / "pkg" / "__pycache__" / "util.cpython-311.pyc").write_bytes(b"\x00bytecode")
    (src / "stale.pyc").write_bytes(b"\x00bytecode")
    (src / "old.pyo").write_bytes(b"\x00bytecode")
    return src


def test_first_run_writes_the_zip_and_reports_a_change(source, tmp_path):
    dest = tmp_path / "out.zip"
    result = run({"src": str(source), "dest": str(dest)})
    assert result["changed"] is True, result
    data = _read(dest)
    assert result["path"] == str(dest)
    assert result["size"] == len(data)
    assert result["sha256_base64"] == base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
    assert result["files"] == ["app.py", "pkg/__init__.py", "pkg/util.py"]


def test_same_source_gives_the_same_bytes_and_no_change(source, tmp_path):
    first = run({"src": str(source), "dest": str(tmp_path / "a.zip")})
    data = _read(tmp_path / "a.zip")
    # New timestamps and non-execute mode bits on every file must not change the bytes (execute bits do: see below).
    later = time.time() + 3600
    for root, _dirs, files in os.walk(str(source)):
        for name in files:
            os.utime(os.path.join(root, name), (later, later))
            os.chmod(os.path.join(root, name), 0o600)
    second = run({"src": str(source), "dest": str(tmp_path / "b.zip")})
    assert _read(tmp_path / "b.zip") == data
    assert second["sha256_base64"] == first["sha256_base64"]
    again = run({"src": str(source), "dest": str(tmp_path / "a.zip")})
    assert again["changed"] is False, again
    assert again["sha256_base64"] == first["sha256_base64"]


def test_a_changed_file_changes_the_bytes(source, tmp_path):
    dest = tmp_path / "out.zip"
    first = run({"src": str(source), "dest": str(dest)})
    (source / "pkg" / "util.py").write_text("VALUE = 2\n")
    second = run({"src": str(source), "dest": str(dest)})
    assert second["changed"] is True
    assert second["sha256_base64"] != first["sha256_base64"]
    assert zipfile.ZipFile(str(dest)).read("pkg/util.py") == b"VALUE = 2\n"


def test_a_new_file_changes_the_bytes(source, tmp_path):
    dest = tmp_path / "out.zip"
    first = run({"src": str(source), "dest": str(dest)})
    (source / "extra.py").write_text("")
    second = run({"src": str(source), "dest": str(dest)})
    assert second["changed"] is True
    assert second["sha256_base64"] != first["sha256_base64"]
    assert "extra.py" in second["files"]


def test_entries_are_sorted_with_fixed_timestamp_and_mode(source, tmp_path):
    dest = tmp_path / "out.zip"
    run({"src": str(source), "dest": str(dest)})
    infos = zipfile.ZipFile(str(dest)).infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0), info.filename
        assert (info.external_attr >> 16) == 0o100644, info.filename
        assert info.create_system == 3
        assert info.compress_type == zipfile.ZIP_DEFLATED


def test_byte_code_is_skipped(source, tmp_path):
    dest = tmp_path / "out.zip"
    result = run({"src": str(source), "dest": str(dest)})
    names = zipfile.ZipFile(str(dest)).namelist()
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))], names
    assert result["files"] == names


def test_check_mode_writes_nothing_and_predicts_the_change(source, tmp_path):
    dest = tmp_path / "out.zip"
    predicted = run({"src": str(source), "dest": str(dest)}, check_mode=True)
    assert predicted["changed"] is True
    assert not dest.exists()
    assert os.listdir(str(tmp_path)) == ["src"]
    real = run({"src": str(source), "dest": str(dest)})
    assert real["sha256_base64"] == predicted["sha256_base64"]
    assert real["size"] == predicted["size"]
    unchanged = run({"src": str(source), "dest": str(dest)}, check_mode=True)
    assert unchanged["changed"] is False
    # A source change is predicted, and the zip on disk stays as it was.
    before = _read(dest)
    (source / "app.py").write_text("# changed\n")
    changed = run({"src": str(source), "dest": str(dest)}, check_mode=True)
    assert changed["changed"] is True
    assert changed["sha256_base64"] != real["sha256_base64"]
    assert _read(dest) == before


def test_diff_shows_the_hashes(source, tmp_path):
    dest = tmp_path / "out.zip"
    result = run({"src": str(source), "dest": str(dest)}, check_mode=True, diff=True)
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["sha256_base64"] == result["sha256_base64"]
    run({"src": str(source), "dest": str(dest)})
    (source / "app.py").write_text("# changed\n")
    result = run({"src": str(source), "dest": str(dest)}, diff=True)
    assert result["diff"]["before"]["files"] == ["app.py", "pkg/__init__.py", "pkg/util.py"]
    assert result["diff"]["before"]["sha256_base64"] != result["diff"]["after"]["sha256_base64"]


def test_a_list_assembles_files_from_several_places(source, tmp_path):
    other = tmp_path / "shared"
    other.mkdir()
    (other / "engine.py").write_text("ENGINE = True\n")
    (other / "rules.json").write_text("{}\n")
    dest = tmp_path / "out.zip"
    result = run({"src": [
        {"src": str(other / "engine.py")},
        {"src": str(other / "rules.json"), "dest": "conf/rules.json"},
        {"src": str(source), "dest": "lib"},
        {"src": str(source / "app.py"), "dest": "app.py"},
    ], "dest": str(dest)})
    assert result["files"] == ["app.py", "conf/rules.json", "engine.py", "lib/app.py", "lib/pkg/__init__.py", "lib/pkg/util.py"]
    archive = zipfile.ZipFile(str(dest))
    assert archive.namelist() == result["files"]
    assert archive.read("engine.py") == b"ENGINE = True\n"
    # The list order does not matter: entries are sorted by their path in the zip.
    reordered = run({"src": [
        {"src": str(source / "app.py"), "dest": "app.py"},
        {"src": str(source), "dest": "lib/"},
        {"src": str(other / "rules.json"), "dest": "./conf/rules.json"},
        {"src": str(other / "engine.py"), "dest": "engine.py"},
    ], "dest": str(dest)})
    assert reordered["changed"] is False
    assert reordered["sha256_base64"] == result["sha256_base64"]


def test_the_transform_lambda_packages_reproducibly(tmp_path):
    first = run({"src": TRANSFORM, "dest": str(tmp_path / "a.zip")})
    second = run({"src": TRANSFORM, "dest": str(tmp_path / "b.zip")})
    assert "logvault_transform.py" in first["files"]
    assert first["sha256_base64"] == second["sha256_base64"]


@pytest.mark.parametrize("src, message", [
    ("{tmp}/missing", "src: {tmp}/missing does not exist"),
    ("{tmp}/empty", "src: {tmp}/empty holds no files to package"),
    ("{tmp}/only_bytecode", "src: {tmp}/only_bytecode holds no files to package"),
    ("{tmp}/file.py", "src: {tmp}/file.py is a file; give a directory"),
    ("", "src: must not be empty"),
    ([], "src: the list must not be empty"),
    (["{tmp}/file.py"], "src[0]: must be a dict with the keys src and dest"),
    ([{"src": "{tmp}/file.py", "name": "x"}], "src[0]: unknown keys name"),
    ([{"dest": "x.py"}], "src[0].src: must be a non-empty path"),
    ([{"src": "{tmp}/file.py"}, {"src": "{tmp}/missing"}], "src[1].src: {tmp}/missing does not exist"),
    ([{"src": "{tmp}/file.py", "dest": "../x.py"}], "src[0].dest: '../x.py' must not contain '..'"),
    ([{"src": "{tmp}/file.py", "dest": "/x.py"}], "src[0].dest: '/x.py' must be a relative path"),
    ([{"src": "{tmp}/file.py", "dest": "."}], "src[0].dest: must name a file inside the zip"),
    ([{"src": "{tmp}/file.py"}, {"src": "{tmp}/file.py"}], "src[1].src: {tmp}/file.py would be stored as file.py"),
    ({"src": "{tmp}/file.py"}, "src: must be a directory path or a list"),
])
def test_bad_src_fails_naming_the_parameter(tmp_path, src, message):
    (tmp_path / "empty").mkdir()
    (tmp_path / "only_bytecode" / "__pycache__").mkdir(parents=True)
    (tmp_path / "only_bytecode" / "__pycache__" / "x.pyc").write_bytes(b"\x00")
    (tmp_path / "file.py").write_text("")
    tmp = str(tmp_path)

    def fill(value):
        if isinstance(value, str):
            return value.replace("{tmp}", tmp)
        if isinstance(value, list):
            return [fill(v) for v in value]
        return {k: fill(v) for k, v in value.items()}

    dest = tmp_path / "out.zip"
    result = run({"src": fill(src), "dest": str(dest)})
    assert result.get("failed") is True, result
    assert message.replace("{tmp}", tmp) in result["msg"]
    assert not dest.exists()


@pytest.mark.parametrize("dest, message", [
    ("{tmp}", "dest: '{tmp}' must be the path of a zip file, not a directory"),
    ("{tmp}/nowhere/out.zip", "dest: the directory of {tmp}/nowhere/out.zip does not exist"),
])
def test_bad_dest_fails_naming_the_parameter(source, tmp_path, dest, message):
    tmp = str(tmp_path)
    result = run({"src": str(source), "dest": dest.replace("{tmp}", tmp)})
    assert result.get("failed") is True, result
    assert message.replace("{tmp}", tmp) in result["msg"]


def test_a_corrupt_existing_zip_is_replaced(source, tmp_path):
    dest = tmp_path / "out.zip"
    dest.write_bytes(b"not a zip")
    result = run({"src": str(source), "dest": str(dest)}, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["files"] == []
    assert zipfile.ZipFile(io.BytesIO(_read(dest))).namelist() == result["files"]


# --- issue 14: execute bits ---------------------------------------------------------------


def test_execute_bits_of_the_source_are_kept(source, tmp_path):
    bootstrap = source / "bootstrap"
    bootstrap.write_text("#!/bin/sh\nexec python3 app.py\n")
    os.chmod(str(bootstrap), 0o750)
    os.chmod(str(source / "app.py"), 0o600)
    dest = tmp_path / "out.zip"
    run({"src": str(source), "dest": str(dest)})
    modes = dict((i.filename, i.external_attr >> 16) for i in zipfile.ZipFile(str(dest)).infolist())
    assert modes["bootstrap"] == 0o100755
    assert modes["app.py"] == 0o100644
    # Only the execute bit counts: another executable mode gives the same bytes; losing it is a change.
    first = _read(dest)
    os.chmod(str(bootstrap), 0o700)
    assert run({"src": str(source), "dest": str(dest)})["changed"] is False
    os.chmod(str(bootstrap), 0o644)
    assert run({"src": str(source), "dest": str(dest)})["changed"] is True
    assert _read(dest) != first
