# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every YAML example in the docs works as written (issue 13 item 4).

Every fenced ``yaml``/``yml`` block of README.md, docs/*.md, the role READMEs and the
inventory READMEs is read:

* it must parse as YAML;
* a **complete play** (a list of plays with ``hosts``) runs: ansible-playbook, with the
  installed collection, against the shipped example inventory (``inventories/example/accounts``
  plus this machine as the one ``fleet`` host) and the local AWS emulator, in check mode and
  limited to each role's preflight tag. So every play of the docs gets through Ansible's
  argument-spec validation and the role's own checks, including the ones that read the
  account (credentials, identity, existing account policy), up to the role's first write.
  A play that lacks a required variable, or misspells one, fails here;
* a **task list** (module examples): every task's module exists and its arguments are
  valid for that module's documented options (types, choices, unknown names), and an
  ``include_role`` task's ``vars`` are valid for the role's entry point;
* a **mapping of role variables** (``stream_alerts_rules: ...``): valid for the role
  whose prefix the variables carry.

Values that are Jinja templates are not type-checked (they are only known at run time).
A block that is deliberately not YAML must use another fence (``text``).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import json
import os
import re
import subprocess
import sys

import pytest
import yaml

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(ROOT, "build", "collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws", "MANIFEST.json")
FENCE = re.compile(r"^```(?:yaml|yml)[ \t]*\n(.*?)^```", re.M | re.S)
ROLE_PREFIXES = ("central_account", "member_account", "stream_alerts", "fluentd", "cloudtrail")
# Task keywords that are not the module's name.
TASK_KEYWORDS = {
    "name", "register", "vars", "when", "loop", "loop_control", "check_mode", "diff", "tags", "changed_when",
    "failed_when", "become", "delegate_to", "run_once", "no_log", "environment", "until", "retries", "delay",
    "ignore_errors", "notify", "module_defaults", "args", "with_items", "block", "rescue", "always",
}


def _documents():
    docs = [os.path.join(ROOT, "README.md")]
    for pattern in ("docs/*.md", "roles/*/README.md", "inventories/*/README.md"):
        docs += glob.glob(os.path.join(ROOT, pattern))
    return sorted(docs)


def _examples():
    found = []
    for document in _documents():
        with open(document, encoding="utf-8") as handle:
            text = handle.read()
        for match in FENCE.finditer(text):
            line = text.count("\n", 0, match.start()) + 1
            found.append(pytest.param(document, line, match.group(1), id="%s:%d" % (os.path.relpath(document, ROOT), line)))
    return found


EXAMPLES = _examples()


def _kind(data):
    if isinstance(data, list) and data and all(isinstance(p, dict) and "hosts" in p for p in data):
        return "play"
    if isinstance(data, list) and data and all(isinstance(t, dict) for t in data):
        return "tasks"
    if isinstance(data, dict) and data and all(str(k).startswith(ROLE_PREFIXES + ("logvault_",)) for k in data):
        return "role_variables"
    return "other"


def _kind_of_text(text):
    try:
        return _kind(yaml.safe_load(text))
    except yaml.YAMLError:
        return "invalid"


def _of_kind(kind):
    return [p for p in EXAMPLES if _kind_of_text(p.values[2]) == kind]


def _is_template(value):
    if isinstance(value, str):
        return "{{" in value or "{%" in value
    if isinstance(value, dict):
        return any(_is_template(v) for v in value.values())
    if isinstance(value, list):
        return any(_is_template(v) for v in value)
    return False


def _validate(options, params, what, ignore_required=False):
    """Validate ``params`` against docs-format ``options`` as Ansible does for roles."""
    spec = {}
    for name, option in (options or {}).items():
        option = dict(option)
        if name in params and _is_template(params[name]):
            option = {"type": "raw"}
        if ignore_required:
            option.pop("required", None)
        spec[name] = option
    result = ArgumentSpecValidator(spec).validate(dict(params))
    messages = [str(e) for e in result.errors]
    assert messages == [], "%s: %s" % (what, "; ".join(messages))


def _role_options(role, entry="main"):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)["argument_specs"][entry]["options"]


def _read_by_a_playbook(name):
    """True when a playbook of playbooks/ reads the variable (a play-level switch, no role's)."""
    pattern = re.compile(r"\b%s\b" % re.escape(name))
    for entry in sorted(os.listdir(os.path.join(ROOT, "playbooks"))):
        if entry.endswith(".yml"):
            with open(os.path.join(ROOT, "playbooks", entry), encoding="utf-8") as handle:
                if pattern.search(handle.read()):
                    return True
    return False


def _role_of_variables(names):
    roles = {p for p in ROLE_PREFIXES for n in names if n.startswith(p + "_")}
    if not roles:  # shared logvault_* variables only: a role that documents them all
        roles = {r for r in ROLE_PREFIXES if set(names) <= set(_role_options(r))}
        if not roles and all(_read_by_a_playbook(n) for n in names):
            return "playbooks"  # switches the playbooks read (logvault_cloudtrail, logvault_stream_alerts)
        return sorted(roles)[0] if roles else "no role documents %s" % sorted(names)
    assert len(roles) == 1, "variables of several roles in one block: %s" % sorted(names)
    return roles.pop()


@pytest.fixture(scope="module")
def module_docs():
    """The documented options of every module the task examples use (one ansible-doc call)."""
    names = set()
    for param in _of_kind("tasks"):
        names.update(_module_of(task) for task in yaml.safe_load(param.values[2]))
    names.discard("ansible.builtin.include_role")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
    result = subprocess.run([os.path.join(BIN, "ansible-doc"), "-j", "-t", "module"] + sorted(names),
                            env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    return {name: entry["doc"].get("options") or {} for name, entry in json.loads(result.stdout).items()}


def _module_of(task):
    modules = [k for k in task if k not in TASK_KEYWORDS]
    assert len(modules) == 1, "task %r: cannot tell its module from %s" % (task.get("name"), sorted(task))
    return modules[0]


def test_there_are_examples_of_every_kind():
    kinds = [_kind_of_text(p.values[2]) for p in EXAMPLES]
    assert {"play", "tasks", "role_variables"} <= set(kinds)


@pytest.mark.parametrize("document,line,text", EXAMPLES)
def test_the_example_is_yaml_of_a_known_kind(document, line, text):
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        pytest.fail("%s:%d is not valid YAML (use another fence for non-YAML): %s" % (document, line, exc))
    assert _kind(data) != "other", "%s:%d is neither a play, a task list nor role variables" % (document, line)


@pytest.mark.parametrize("document,line,text", _of_kind("tasks"))
def test_task_examples_call_modules_with_valid_arguments(module_docs, document, line, text):
    for task in yaml.safe_load(text):
        module = _module_of(task)
        what = "%s:%d task %r (%s)" % (os.path.relpath(document, ROOT), line, task.get("name"), module)
        if module == "ansible.builtin.include_role":
            entry = task[module].get("tasks_from", "main")
            role = task[module]["name"].split(".")[-1]
            _validate(_role_options(role, entry), task.get("vars") or {}, what, ignore_required=True)
            continue
        assert module in module_docs, "%s: no such module" % what
        _validate(module_docs[module], task[module] or {}, what)


@pytest.mark.parametrize("document,line,text", _of_kind("role_variables"))
def test_role_variable_examples_are_valid_for_the_role(document, line, text):
    data = yaml.safe_load(text)
    role = _role_of_variables(data)
    if role == "playbooks":  # every name is a switch a playbook reads (checked by _role_of_variables)
        return
    _validate(_role_options(role), data, "%s:%d (role %s)" % (os.path.relpath(document, ROOT), line, role), ignore_required=True)


PLAYS = _of_kind("play")


@pytest.fixture(scope="module")
def emulator():
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    server = start(port=0)
    try:
        yield server
    finally:
        server.stop()


def _roles_of(plays):
    roles = []
    for play in plays:
        for role in play.get("roles") or []:
            name = role["role"] if isinstance(role, dict) else role
            roles.append(name.split(".")[-1])
    return roles


def _run_preflight(emulator, tmp_path, playbook, roles, *extra):
    """ansible-playbook --check on the example inventory, limited to the roles' preflight tags."""
    if not os.path.isfile(INSTALLED):
        pytest.fail("logvault.aws is not installed in %s; run `make collection` first" % COLLECTIONS)
    # The example inventory as shipped, plus this machine as the fleet (a Debian 12 host,
    # like the molecule scenario's; nothing is installed: only preflight runs).
    (tmp_path / "fleet.yml").write_text(yaml.safe_dump({"fleet": {"hosts": {"fleet-host": {
        "ansible_connection": "local", "ansible_python_interpreter": sys.executable, "ansible_become": False}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               ANSIBLE_PYTHON_INTERPRETER=sys.executable,
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION="us-east-1")
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    command = [os.path.join(BIN, "ansible-playbook"), "--check",
               "-i", os.path.join(ROOT, "inventories", "example", "accounts"), "-i", str(tmp_path / "fleet.yml"),
               "-e", "logvault_aws_endpoint_url=%s" % emulator.endpoint,
               "--tags", ",".join(sorted({"%s_preflight" % r for r in roles})),
               playbook] + list(extra)
    result = subprocess.run(command, env=env, cwd=str(tmp_path), capture_output=True, text=True, timeout=600, check=False)
    return result.returncode, result.stdout + result.stderr


@pytest.mark.parametrize("document,line,text", PLAYS)
def test_play_examples_run_as_written(emulator, tmp_path, document, line, text):
    plays = yaml.safe_load(text)
    roles = _roles_of(plays)
    assert roles, "%s:%d: a play of the docs that runs no role of the collection" % (document, line)
    for play in plays:
        for role in play.get("roles") or []:
            if isinstance(role, dict) and role.get("vars"):
                name = role["role"].split(".")[-1]
                _validate(_role_options(name), role["vars"], "%s:%d role %s" % (document, line, name), ignore_required=True)
    (tmp_path / "example.yml").write_text(text)
    returncode, out = _run_preflight(emulator, tmp_path, str(tmp_path / "example.yml"), roles)
    assert returncode == 0, "%s:%d does not run as written:\n%s" % (os.path.relpath(document, ROOT), line, out[-6000:])
    for role in roles:
        assert "TASK [logvault.aws.%s : " % role in out, "%s:%d: role %s did not run" % (document, line, role)


@pytest.mark.parametrize("switch,runs", [((), True), (("-e", "logvault_stream_alerts=false"), False)])
def test_site_runs_the_stream_alerts_unless_switched_off(emulator, tmp_path, switch, runs):
    """site.yml runs stream_alerts on the central host, fed from the inventory's variables
    (docs/stream-alerts.md); logvault_stream_alerts=false leaves it out."""
    returncode, out = _run_preflight(emulator, tmp_path, os.path.join(ROOT, "playbooks", "site.yml"),
                                     ["stream_alerts"], "--limit", "central", *switch)
    assert returncode == 0, out[-6000:]
    assert ("TASK [logvault.aws.stream_alerts : Assert that the role's variables are usable]" in out) is runs, out[-6000:]


# --- the walkthrough: every command in it exists ----------------------------------------------

WALKTHROUGH = os.path.join(ROOT, "docs", "first-run.md")
BASH = re.compile(r"^```(?:bash|sh)[ \t]*\n(.*?)^```", re.M | re.S)


def _walkthrough_commands():
    with open(WALKTHROUGH, encoding="utf-8") as handle:
        text = handle.read()
    commands = []
    for block in BASH.findall(text):
        for command in block.replace("\\\n", " ").splitlines():
            if command.strip():
                commands.append(command.split())
    # Inline commands: `ansible-playbook ...` in the prose.
    commands += [c.split() for c in re.findall(r"`((?:ansible-playbook|ansible-inventory) [^`]+)`", text)]
    return commands


def _known_tags():
    tags = set()
    for path in glob.glob(os.path.join(ROOT, "roles", "*", "tasks", "*.yml")) + glob.glob(os.path.join(ROOT, "playbooks", "*.yml")):
        with open(path, encoding="utf-8") as handle:
            for found in re.findall(r"tags:\s*\[([^\]]*)\]", handle.read()):
                tags.update(t.strip() for t in found.split(","))
    return tags


def test_every_command_of_the_walkthrough_exists():
    import botocore.session  # pylint: disable=import-outside-toplevel
    from botocore import xform_name  # pylint: disable=import-outside-toplevel

    session = botocore.session.get_session()
    commands = _walkthrough_commands()
    assert len(commands) >= 8
    problems = []
    for words in commands:
        tool = words[0]
        if tool in ("ansible-playbook", "ansible-inventory"):
            for i, word in enumerate(words):
                if word.startswith("logvault.aws."):
                    if not os.path.isfile(os.path.join(ROOT, "playbooks", word.split(".")[-1] + ".yml")):
                        problems.append("no playbook %s" % word)
                elif re.match(r"^(inventories|playbooks|deployer)/", word) and not os.path.exists(os.path.join(ROOT, word)):
                    problems.append("no path %s" % word)
                elif word == "--tags" and not set(words[i + 1].split(",")) <= _known_tags():
                    problems.append("unknown tag in %s" % words[i + 1])
        elif tool == "make":
            with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as handle:
                if not re.search(r"^%s:" % re.escape(words[1]), handle.read(), re.M):
                    problems.append("no make target %s" % words[1])
        elif tool == "ansible-galaxy":
            assert words[1:3] == ["collection", "install"]
        elif tool == "aws":
            model = session.get_service_model(words[1])
            operations = dict((xform_name(op, "-"), op) for op in model.operation_names)
            if words[2] not in operations:
                problems.append("no aws %s %s" % (words[1], words[2]))
                continue
            members = model.operation_model(operations[words[2]]).input_shape.members
            options = set(xform_name(m, "-") for m in members)
            for word in words[3:]:
                if word.startswith("--") and word[2:] not in options:
                    problems.append("aws %s %s has no option %s" % (words[1], words[2], word))
            for word in words[3:]:
                if word.startswith("file://") and not os.path.exists(os.path.join(ROOT, word[len("file://"):])):
                    problems.append("no file %s" % word)
        else:
            problems.append("unknown command %s" % " ".join(words))
    assert problems == [], problems
