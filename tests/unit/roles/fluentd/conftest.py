# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Render the role's configuration through ansible-playbook (include_role, tasks_from: configure).

Every rendering goes through the real role and ansible's templar. Validation (`validate:`
on the template) runs the STAND-IN fluentd from tests/fluentd_standin (a test double:
real fluentd cannot be installed here, so real fluentd validation does not run).
"""

import atexit
import http.server
import importlib.machinery
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
STANDIN_DIR = os.path.join(REPO, "tests", "fluentd_standin")
COLLECTIONS = os.path.join(REPO, "build", "pytest-root")  # made by tests/conftest.py

ENRICH = {
    "fluentd_instance_id": "i-0123456789abcdef0",
    "fluentd_account_id": "111111111111",
    "fluentd_region": "eu-west-1",
    "fluentd_hostname": "ip-10-0-0-1.eu-west-1.compute.internal",
}


_BIN_DIR = []


def standin_bin_dir():
    """A directory holding an executable `fluentd` that runs the stand-in (made once per session)."""
    if not _BIN_DIR:
        path = tempfile.mkdtemp(prefix="fluentd-standin-bin-")
        atexit.register(shutil.rmtree, path, True)
        wrapper = os.path.join(path, "fluentd")
        with open(wrapper, "w", encoding="utf-8") as handle:
            handle.write('#!/bin/sh\nexec "%s" "%s" "$@"\n' % (sys.executable, os.path.join(STANDIN_DIR, "fluentd.py")))
        os.chmod(wrapper, 0o755)
        _BIN_DIR.append(path)
    return _BIN_DIR[0]


def load_standin():
    """Import the stand-in fluentd script as a module."""
    path = os.path.join(STANDIN_DIR, "fluentd.py")
    loader = importlib.machinery.SourceFileLoader("fluentd_standin", path)
    spec = importlib.util.spec_from_loader("fluentd_standin", loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def run_playbook(tmp_path, plays, extra_args=(), callback="default"):
    """Write `plays` as a playbook and run it on localhost; return the CompletedProcess."""
    if not os.path.isdir(os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws")):
        pytest.fail("build/pytest-root/ansible_collections/logvault/aws is missing: tests/conftest.py should create it")
    playbook = tmp_path / "playbook.yml"
    playbook.write_text(yaml.safe_dump(plays, sort_keys=False))
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": COLLECTIONS,
        "ANSIBLE_LOCAL_TEMP": str(tmp_path / "ansible-tmp"),
        "ANSIBLE_HOME": str(tmp_path / "ansible-home"),
        "ANSIBLE_NOCOLOR": "1",
        "ANSIBLE_FORCE_COLOR": "0",
        "ANSIBLE_STDOUT_CALLBACK": callback,
        "ANSIBLE_RETRY_FILES_ENABLED": "0",
    })
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", "localhost,", "-c", "local",
           "-e", "ansible_python_interpreter=%s" % sys.executable, str(playbook)] + list(extra_args)
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300, check=False)


def configure_task(config_dir, variables):
    """One include_role of logvault.aws.fluentd with tasks_from: configure."""
    merged = {"fluentd_config_dir": str(config_dir), "fluentd_bin_dir": standin_bin_dir()}
    merged.update(variables)
    return {
        "name": "Render %s" % os.path.basename(str(config_dir)),
        "ansible.builtin.include_role": {"name": "logvault.aws.fluentd", "tasks_from": "configure"},
        "vars": merged,
    }


# Every rendering the tests look at, made in ONE ansible-playbook run (each run costs seconds).
PARSER_SOURCES = {
    "json": {"parser": "json"},
    "regexp": {"parser": "regexp", "expression": r"^(?<host>\S+) (?<message>.*)$"},
    "syslog": {"parser": "syslog"},
    "nginx": {"parser": "nginx"},
    "apache2": {"parser": "apache2"},
    "none": {"parser": "none"},
    "multiline_regexp": {"parser": "regexp", "expression": r"^(?<time>\d{4}-\d{2}-\d{2}) (?<message>.*)",
                         "multiline_start": r"^\d{4}-\d{2}-\d{2} ", "time_format": "%Y-%m-%d"},
    "multiline_none": {"parser": "none", "multiline_start": r"^\S"},
}

# A regular expression full of what must survive quoting: both quote characters, back
# slashes (also doubled), "#{...}" (Ruby code in a double-quoted fluentd string), a slash.
TRICKY_EXPRESSION = r"""^(?<ip>\d+\.\d+) "(?<req>[^"\\]*)" it's #{not_ruby} \\ (?<path>/[^ ]*) \#$"""
TRICKY_PATHS = ["/var/log/my app/access log.log", "/var/log/100% full/*.log", "/srv/it's/#{x}/*.log"]


def build_renderings(base):
    """Two renderings: every parser plus the journal, and the escaping cases."""
    renderings = {
        "full": dict(ENRICH, fluentd_journald_enabled=True, fluentd_journald_log_group="/test/journal",
                     fluentd_journald_matches=[{"_SYSTEMD_UNIT": "sshd.service"}, {"PRIORITY": "3"}],
                     fluentd_sources=[dict({"name": n, "paths": ["/var/log/%s/*.log" % n], "log_group": "/test/%s" % n},
                                           **spec) for n, spec in sorted(PARSER_SOURCES.items())]),
        "escaping": dict(ENRICH, fluentd_sources=[{
            "name": "tricky", "paths": TRICKY_PATHS, "log_group": "/test/tricky#1", "parser": "regexp",
            "expression": TRICKY_EXPRESSION, "exclude_paths": ["/var/log/my app/*.gz", "/var/log/100% full/old*"]}]),
    }
    return {name: (base / name, variables) for name, variables in renderings.items()}


@pytest.fixture(scope="session")
def renderings(tmp_path_factory):
    """name -> rendered fluentd.conf text, for every case of build_renderings()."""
    base = tmp_path_factory.mktemp("fluentd-render")
    cases = build_renderings(base)
    plays = [{"name": "Render fluentd configurations", "hosts": "localhost", "gather_facts": False,
              "tasks": [configure_task(path, variables) for path, variables in cases.values()]}]
    result = run_playbook(base, plays)
    if result.returncode != 0:
        pytest.fail("ansible-playbook failed (rc=%d):\n%s\n%s" % (result.returncode, result.stdout[-6000:], result.stderr[-3000:]))
    out = {}
    for name, (path, _variables) in cases.items():
        conf = path / "fluentd.conf"
        if not conf.is_file():
            pytest.fail("the role did not render %s" % conf)
        out[name] = conf.read_text(encoding="utf-8")
    return out


@pytest.fixture(scope="session")
def standin():
    return load_standin()


class FakeIMDSv2(http.server.BaseHTTPRequestHandler):
    """TEST DOUBLE of the EC2 instance metadata service that only speaks IMDSv2.

    PUT /latest/api/token returns a token; every GET must carry it in
    X-aws-ec2-metadata-token or gets 401, like an instance with HttpTokens=required.
    """

    token = "fake-imdsv2-token-0123456789"
    log = []
    documents = {
        "/latest/dynamic/instance-identity/document": json.dumps(
            {"instanceId": "i-0fedcba9876543210", "accountId": "222222222222", "region": "ap-southeast-2"}),
        "/latest/meta-data/local-hostname": "ip-172-31-0-9.ap-southeast-2.compute.internal",
    }

    def log_message(self, *args):  # silence the default stderr logging
        return

    def _reply(self, code, body):
        data = body.encode("utf-8")
        self.send_response(code)
        self.send_header("Content-Type", "text/plain")  # what IMDS sends, even for JSON documents
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self):  # noqa: N802 - http.server API
        self.log.append(("PUT", self.path, dict(self.headers)))
        if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            self._reply(200, self.token)
        else:
            self._reply(400, "missing X-aws-ec2-metadata-token-ttl-seconds")

    def do_GET(self):  # noqa: N802 - http.server API
        self.log.append(("GET", self.path, dict(self.headers)))
        if self.headers.get("X-aws-ec2-metadata-token") != self.token:
            self._reply(401, "IMDSv1 is disabled")
        elif self.path in self.documents:
            self._reply(200, self.documents[self.path])
        else:
            self._reply(404, "not found")
