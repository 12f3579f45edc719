# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""`make molecule` (tools/run_molecule.py): scenarios run side by side, the slowest first, each
one's output printed whole, and the run fails when any scenario fails. `molecule test` itself is
replaced by a test double (fake_molecule) that writes a line and returns the exit code asked of it."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
SPEC = importlib.util.spec_from_file_location("run_molecule", os.path.join(REPO, "tools", "run_molecule.py"))
run_molecule = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(run_molecule)


@pytest.fixture
def tree(tmp_path, monkeypatch):
    """A fake extensions/molecule with scenarios fluentd, member, central, extra (and a non-scenario dir)."""
    ext = tmp_path / "extensions"
    for name in ("fluentd", "member", "central", "extra"):
        (ext / "molecule" / name).mkdir(parents=True)
        (ext / "molecule" / name / "molecule.yml").write_text("---\n")
    (ext / "molecule" / "not-a-scenario").mkdir()
    monkeypatch.setattr(run_molecule, "EXT", str(ext))
    monkeypatch.setattr(run_molecule, "BUILD", str(tmp_path / "build"))
    monkeypatch.delenv("LOGVAULT_MOLECULE_JOBS", raising=False)
    return tmp_path


def fake_molecule(monkeypatch, exit_codes, hold=0.0):
    """Test double for subprocess.call(["molecule", "test", "-s", name], ...): records start/end, writes a line."""
    calls, lock = [], threading.Lock()
    state = {"running": 0, "peak": 0}

    def call(argv, cwd, stdout, stderr):
        name = argv[-1]
        with lock:
            calls.append(name)
            state["running"] += 1
            state["peak"] = max(state["peak"], state["running"])
        stdout.write("output of scenario %s\n" % name)
        time.sleep(hold)
        with lock:
            state["running"] -= 1
        return exit_codes.get(name, 0)

    monkeypatch.setattr(run_molecule.subprocess, "call", call)
    return calls, state


def test_the_slowest_known_scenarios_start_first_and_unknown_ones_follow_by_name():
    assert run_molecule.ordered(["fluentd", "zeta", "central", "alpha", "member"]) == ["member", "central", "fluentd", "alpha", "zeta"]


def test_every_scenario_passes_runs_two_at_a_time_and_prints_each_output_whole(tree, monkeypatch, capsys):
    calls, state = fake_molecule(monkeypatch, {}, hold=0.3)
    assert run_molecule.main() == 0
    # the two slowest start first; which of the two threads records its start first is a race
    assert sorted(calls[:2]) == ["central", "member"] and sorted(calls) == ["central", "extra", "fluentd", "member"]
    assert state["peak"] == 2
    out = capsys.readouterr().out
    for name in ("member", "central", "fluentd", "extra"):
        block = out.split("== molecule test -s %s: passed" % name, 1)[1].split("== end of molecule test -s %s" % name, 1)[0]
        assert "output of scenario %s" % name in block
        assert (tree / "build" / ("molecule-%s.log" % name)).read_text() == "output of scenario %s\n" % name
    assert "4 scenario(s) passed" in out


def test_one_failing_scenario_fails_the_run_and_is_named(tree, monkeypatch, capsys):
    fake_molecule(monkeypatch, {"central": 2})
    assert run_molecule.main() == 1
    out = capsys.readouterr().out
    assert "molecule test -s central: FAILED rc=2" in out
    assert "failed scenarios: central" in out


def test_jobs_one_runs_the_scenarios_one_at_a_time(tree, monkeypatch):
    monkeypatch.setenv("LOGVAULT_MOLECULE_JOBS", "1")
    _calls, state = fake_molecule(monkeypatch, {}, hold=0.1)
    assert run_molecule.main() == 0
    assert state["peak"] == 1


@pytest.mark.parametrize("value", ["two", "0", "-1", "1.5"])
def test_a_jobs_value_that_is_not_a_positive_whole_number_is_refused_and_names_the_variable(tree, monkeypatch, value):
    monkeypatch.setenv("LOGVAULT_MOLECULE_JOBS", value)
    calls, _state = fake_molecule(monkeypatch, {})
    with pytest.raises(SystemExit) as raised:
        run_molecule.main()
    assert "LOGVAULT_MOLECULE_JOBS" in str(raised.value)
    assert calls == []
