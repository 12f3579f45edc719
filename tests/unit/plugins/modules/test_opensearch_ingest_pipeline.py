# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_ingest_pipeline, run in-process against the SigV4-verifying OpenSearch test
double (tests/opensearch_stub): the event-id pipeline, the four-step cycle, updates, deletion,
403 and bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest

from ansible_collections.logvault.aws.plugins.modules import opensearch_ingest_pipeline as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)


def run(args, check_mode=False, diff=False):
    defaults = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults=defaults)


@pytest.fixture
def stub(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    server = _STUB.start({"testing": "testing", "AKIDREADONLY": "ro"}, fgac_denied=["AKIDREADONLY"])
    yield server
    server.stop()


def args_for(stub, **extra):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, name="lv-event-id")
    args.update(extra)
    return args


def test_event_id_pipeline_sets_the_id_from_account_log_group_and_event_id():
    body = module_under_test.event_id_pipeline(["account_id", "log_group", "event_id"])
    assert body["processors"] == [{"set": {"field": "_id", "value": "{{account_id}}/{{log_group}}/{{event_id}}"}}]


def test_four_step_cycle(stub):
    first = run(args_for(stub), check_mode=True, diff=True)
    assert first["changed"] is True and first["diff"]["before"] == {}
    assert stub.writes() == [] and stub.pipelines == {}
    second = run(args_for(stub), diff=True)
    assert second["changed"] is True
    assert stub.pipelines["lv-event-id"]["processors"][0]["set"]["field"] == "_id"
    third = run(args_for(stub), check_mode=True)
    assert third["changed"] is False
    writes = len(stub.writes())
    fourth = run(args_for(stub))
    assert fourth["changed"] is False and len(stub.writes()) == writes
    assert fourth["pipeline"] == stub.pipelines["lv-event-id"]


def test_a_changed_pipeline_is_replaced(stub):
    run(args_for(stub))
    changed = run(args_for(stub, id_fields=["account_id", "event_id"], pipeline_version=2), diff=True)
    assert changed["changed"] is True
    assert changed["diff"]["before"]["processors"][0]["set"]["value"] == "{{account_id}}/{{log_group}}/{{event_id}}"
    assert stub.pipelines["lv-event-id"]["processors"][0]["set"]["value"] == "{{account_id}}/{{event_id}}"
    assert stub.pipelines["lv-event-id"]["version"] == 2


def test_any_processors_and_absent(stub):
    custom = dict(processors=[{"set": {"field": "environment", "value": "production"}}], description="env")
    assert run(args_for(stub, name="env", **custom))["changed"] is True
    assert run(args_for(stub, name="env", **custom))["changed"] is False
    assert run(args_for(stub, name="env", state="absent"), check_mode=True)["changed"] is True
    assert "env" in stub.pipelines
    assert run(args_for(stub, name="env", state="absent"))["changed"] is True
    assert "env" not in stub.pipelines
    assert run(args_for(stub, name="env", state="absent"))["changed"] is False


def test_fine_grained_access_control_is_explained(stub):
    result = run(args_for(stub, access_key="AKIDREADONLY", secret_key="ro"))
    assert result["failed"] is True and result["status"] == 403
    assert "Fine-grained access control denied" in result["msg"]
    assert stub.pipelines == {}


@pytest.mark.parametrize("extra,fragment", [
    (dict(name="_private"), "name"),
    (dict(name="has space"), "name"),
    (dict(id_fields=[]), "id_fields"),
    (dict(id_fields=["a b"]), "id_fields"),
    (dict(processors=[]), "processors"),
    (dict(processors=[{"set": {"field": "a", "value": 1}, "lowercase": {"field": "b"}}]), "processors[0]"),
    (dict(pipeline_version=-1), "pipeline_version"),
    (dict(endpoint="http://insecure"), "https"),
])
def test_bad_input_fails_before_any_request(stub, extra, fragment):
    result = run(args_for(stub, **extra))
    assert result["failed"] is True and fragment in result["msg"]
    assert stub.requests == []


def test_ansible_doc_renders_with_examples():
    """ansible-doc renders the module from the working tree, with examples that use it."""
    import json
    import subprocess
    import sys

    import yaml

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, "build", "pytest-root"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    fqcn = "logvault.aws.opensearch_ingest_pipeline"
    text = subprocess.run([ansible_doc, "-t", "module", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "EXAMPLES" in text.stdout and fqcn in text.stdout
    assert "[WARNING]" not in text.stderr and "[ERROR]" not in text.stderr, text.stderr
    raw = subprocess.run([ansible_doc, "-t", "module", "--json", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    doc = json.loads(raw.stdout)[fqcn]
    assert {"region", "access_key", "secret_key", "endpoint", "ca_path"} <= set(doc["doc"]["options"])
    examples = yaml.safe_load(doc["examples"])
    assert examples and all(task.get("name") and fqcn in task for task in examples)
