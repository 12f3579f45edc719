# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_role_mapping, run in-process against the SigV4-verifying OpenSearch test
double (tests/opensearch_stub): the four-step cycle for a role and its mapping, purge,
canonical comparison, reserved/static refusals, the security API's 403, absent, bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

import pytest

from ansible_collections.logvault.aws.plugins.modules import opensearch_role_mapping as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)

FIREHOSE = "arn:aws:iam::123456789012:role/lv-search-firehose"
OTHER = "arn:aws:iam::123456789012:role/analysts"
WRITER = {
    "description": "Firehose writes logs-*",
    "cluster_permissions": ["cluster_composite_ops", "cluster_monitor"],
    "index_permissions": [{"index_patterns": ["logs-*"], "allowed_actions": ["create_index", "manage", "crud"]}],
}


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff,
                      defaults={"region": "us-east-1", "access_key": "testing", "secret_key": "testing"})


@pytest.fixture
def stub(monkeypatch):
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    server = _STUB.start({"testing": "testing", "AKIDREADONLY": "ro"}, fgac_denied=["AKIDREADONLY"])
    yield server
    server.stop()


def writer(stub, **extra):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="logvault_firehose_writer", backend_roles=[FIREHOSE],
                role_definition=WRITER)
    args.update(extra)
    return args


def test_four_step_cycle(stub):
    first = run(writer(stub), check_mode=True, diff=True)
    assert first["changed"] is True and first["actions"] == ["role created", "mapping created"]
    assert first["diff"]["before"] == {"mapping": {}, "role_definition": {}}
    assert first["diff"]["after"]["mapping"]["backend_roles"] == [FIREHOSE]
    assert first["diff"]["after"]["role_definition"]["index_permissions"][0]["allowed_actions"] == ["create_index", "crud", "manage"]
    assert stub.writes() == []

    second = run(writer(stub))
    assert second["changed"] is True and second["actions"] == ["role created", "mapping created"]
    assert [(m, p) for m, p, q, k in stub.writes()] == [
        ("PUT", "/_plugins/_security/api/roles/logvault_firehose_writer"),
        ("PUT", "/_plugins/_security/api/rolesmapping/logvault_firehose_writer"),
    ]
    stored = stub.security_roles["logvault_firehose_writer"]
    assert stored["cluster_permissions"] == ["cluster_composite_ops", "cluster_monitor"]
    assert stored["index_permissions"][0]["index_patterns"] == ["logs-*"]
    assert stub.role_mappings["logvault_firehose_writer"]["backend_roles"] == [FIREHOSE]
    assert second["mapping"] == {"backend_roles": [FIREHOSE], "and_backend_roles": [], "hosts": [], "users": []}
    assert second["role_definition"]["description"] == "Firehose writes logs-*"

    third = run(writer(stub), check_mode=True)
    fourth = run(writer(stub))
    assert third["changed"] is False and fourth["changed"] is False
    assert third["actions"] == [] and fourth["actions"] == []
    assert len(stub.writes()) == 2


def test_order_and_server_defaults_do_not_cause_changes(stub):
    run(writer(stub))
    reordered = dict(WRITER, cluster_permissions=["cluster_monitor", "cluster_composite_ops", "cluster_monitor"],
                     index_permissions=[{"index_patterns": ["logs-*"], "allowed_actions": ["crud", "manage", "create_index"],
                                         "dls": "", "fls": [], "masked_fields": []}])
    again = run(writer(stub, role_definition=reordered, backend_roles=[FIREHOSE, FIREHOSE]))
    assert again["changed"] is False, again
    assert len(stub.writes()) == 2


def test_role_update_and_mapping_update_are_predicted_and_written(stub):
    run(writer(stub))
    narrower = dict(WRITER, index_permissions=[{"index_patterns": ["logs-*"], "allowed_actions": ["crud", "create_index"]}])
    check = run(writer(stub, role_definition=narrower, backend_roles=[FIREHOSE, OTHER]), check_mode=True, diff=True)
    assert check["changed"] is True and check["actions"] == ["role updated", "mapping updated"]
    assert check["diff"]["before"]["mapping"]["backend_roles"] == [FIREHOSE]
    assert check["diff"]["after"]["mapping"]["backend_roles"] == sorted([FIREHOSE, OTHER])
    assert len(stub.writes()) == 2
    real = run(writer(stub, role_definition=narrower, backend_roles=[FIREHOSE, OTHER]))
    assert real["changed"] is True
    assert stub.security_roles["logvault_firehose_writer"]["index_permissions"][0]["allowed_actions"] == ["crud", "create_index"]
    assert sorted(stub.role_mappings["logvault_firehose_writer"]["backend_roles"]) == sorted([FIREHOSE, OTHER])


def test_purge_false_adds_members_and_keeps_the_others(stub):
    run(writer(stub, backend_roles=[OTHER], users=["arn:aws:iam::123456789012:user/ops"]))
    result = run(writer(stub, purge=False), diff=True)
    assert result["changed"] is True
    assert result["mapping"]["backend_roles"] == sorted([FIREHOSE, OTHER])
    assert result["mapping"]["users"] == ["arn:aws:iam::123456789012:user/ops"]
    assert run(writer(stub, purge=False))["changed"] is False
    # purge (the default) makes the mapping exactly the given lists
    exact = run(writer(stub))
    assert exact["changed"] is True and exact["mapping"]["backend_roles"] == [FIREHOSE] and exact["mapping"]["users"] == []


def test_mapping_of_an_existing_predefined_role(stub):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="readall", backend_roles=[OTHER])
    assert run(args, check_mode=True)["changed"] is True
    assert run(args)["changed"] is True
    assert stub.role_mappings["readall"]["backend_roles"] == [OTHER]
    assert run(args)["changed"] is False
    assert stub.security_roles["readall"]["static"] is True  # the role itself was never written
    assert [p for m, p, q, k in stub.writes()] == ["/_plugins/_security/api/rolesmapping/readall"]


def test_missing_role_without_definition_fails_before_any_write(stub):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="nope", backend_roles=[OTHER])
    for check_mode in (True, False):
        result = run(args, check_mode=check_mode)
        assert result["failed"] is True and "Role nope does not exist" in result["msg"] and "role_definition" in result["msg"]
    assert stub.writes() == []


@pytest.mark.parametrize("role,fragment", [("all_access", "is reserved, static"), ("security_manager", "is reserved")])
def test_a_reserved_or_static_role_is_never_changed(stub, role, fragment):
    result = run(writer(stub, role=role), check_mode=True)
    assert result["failed"] is True
    assert "Role %s %s" % (role, fragment) in result["msg"] and "cannot be changed" in result["msg"]
    assert run(writer(stub, role=role))["failed"] is True
    assert stub.writes() == []


def test_a_reserved_mapping_is_never_changed(stub):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="kibana_server", users=["someone"])
    result = run(args)
    assert result["failed"] is True and "The role mapping of kibana_server is reserved" in result["msg"]
    absent = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="kibana_server", state="absent"))
    assert absent["failed"] is True and "reserved" in absent["msg"]
    assert stub.writes() == []
    # an unchanged reserved mapping is fine
    assert run(dict(args, users=["kibanaserver"]))["changed"] is False


def test_absent_cycle_deletes_mapping_then_role(stub):
    run(writer(stub))
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="logvault_firehose_writer", role_definition={}, state="absent")
    check = run(args, check_mode=True, diff=True)
    assert check["changed"] is True and check["actions"] == ["mapping deleted", "role deleted"]
    assert check["diff"]["after"] == {"mapping": {}, "role_definition": {}}
    assert check["diff"]["before"]["mapping"]["backend_roles"] == [FIREHOSE]
    assert "logvault_firehose_writer" in stub.role_mappings
    real = run(args)
    assert real["changed"] is True
    assert "logvault_firehose_writer" not in stub.role_mappings and "logvault_firehose_writer" not in stub.security_roles
    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False


def test_absent_without_definition_keeps_the_role(stub):
    run(writer(stub))
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="logvault_firehose_writer", state="absent")
    result = run(args)
    assert result["changed"] is True and result["actions"] == ["mapping deleted"]
    assert "logvault_firehose_writer" in stub.security_roles
    assert run(args)["changed"] is False


def test_absent_of_a_static_role_fails(stub):
    result = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, role="readall", role_definition={}, state="absent"))
    assert result["failed"] is True and "Role readall is reserved, static" in result["msg"]
    assert "readall" in stub.security_roles


def test_security_api_403_is_explained(stub):
    result = run(writer(stub, access_key="AKIDREADONLY", secret_key="ro"))
    assert result["failed"] is True and result["status"] == 403
    assert "the security REST API refused GET /_plugins/_security/api/roles/logvault_firehose_writer" in result["msg"]
    assert "No permission to access REST API" in result["msg"] and "master user" in result["msg"]
    assert stub.writes() == []


def test_bad_signature_is_reported(stub):
    result = run(writer(stub, secret_key="wrong"))
    assert result["failed"] is True and result["status"] == 403 and "signature" in result["msg"]


@pytest.mark.parametrize("extra,fragment", [
    ({"role": "bad role"}, "role"),
    ({"role": "_hidden"}, "role"),
    ({"role": "x" * 101}, "role"),
    ({"backend_roles": None}, "backend_roles, users or hosts"),
    ({"backend_roles": []}, "backend_roles, users or hosts"),
    ({"backend_roles": ["arn:aws:iam::12345:role/x"]}, "backend_roles entry"),
    ({"backend_roles": ["arn:aws:sts::123456789012:assumed-role/lv-search-firehose/session"]}, "assumed-role session ARN"),
    ({"backend_roles": ["has space"]}, "backend_roles entry"),
    ({"users": ["arn:aws:iam::123456789012:group/g"]}, "users entry"),
    ({"hosts": [""]}, "hosts entry"),
    ({"role_definition": {}}, "role_definition must grant something"),
    ({"role_definition": {"index_permissions": [{"index_patterns": [], "allowed_actions": ["crud"]}]}}, "role_definition.index_permissions[0].index_patterns"),
    ({"role_definition": {"index_permissions": [{"index_patterns": ["a"], "allowed_actions": []}]}}, "role_definition.index_permissions[0].allowed_actions"),
    ({"role_definition": {"index_permissions": [{"index_patterns": ["a b"], "allowed_actions": ["crud"]}]}}, "index_patterns entry"),
    ({"role_definition": {"index_permissions": [{"index_patterns": ["a"], "allowed_actions": ["crud"], "dls": "{not json"}]}}, ".dls"),
    ({"role_definition": {"index_permissions": [{"allowed_actions": ["crud"]}]}}, "index_patterns"),
    ({"role_definition": {"cluster_permissions": ["cluster monitor"]}}, "role_definition.cluster_permissions entry"),
    ({"role_definition": {"tenant_permissions": [{"tenant_patterns": ["t"], "allowed_actions": []}]}}, "role_definition.tenant_permissions[0]"),
    ({"endpoint": "http://127.0.0.1:9200"}, "endpoint"),
    ({"endpoint": "https://host/path"}, "endpoint"),
    ({"timeout": 0}, "timeout"),
    ({"region": "eu-west"}, "region"),
    ({"state": "gone"}, "state"),
])
def test_bad_input_fails_before_any_request(stub, extra, fragment):
    args = writer(stub)
    args.update(extra)
    args = dict((k, v) for k, v in args.items() if v is not None)
    result = run(args)
    assert result.get("failed") is True, result
    assert fragment in result["msg"]
    assert stub.requests == [] and stub.rejected == []


def test_canonical_forms():
    assert module_under_test.canonical_mapping({"backend_roles": ["b", "a", "a"], "reserved": True, "hidden": False}) == {
        "backend_roles": ["a", "b"], "and_backend_roles": [], "hosts": [], "users": []}
    role = module_under_test.canonical_role({"static": True, "cluster_permissions": ["b", "a"],
                                             "index_permissions": [{"index_patterns": ["y", "x"], "allowed_actions": ["r"]}]})
    assert role == {"cluster_permissions": ["a", "b"], "tenant_permissions": [],
                    "index_permissions": [{"index_patterns": ["x", "y"], "allowed_actions": ["r"], "dls": "", "fls": [], "masked_fields": []}]}


def test_ansible_doc_renders_with_examples():
    """ansible-doc renders the module from the working tree, with examples that use it."""
    import json
    import subprocess

    import yaml

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, "build", "pytest-root"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    fqcn = "logvault.aws.opensearch_role_mapping"
    raw = subprocess.run([ansible_doc, "-t", "module", "--json", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "[WARNING]" not in raw.stderr and "[ERROR]" not in raw.stderr, raw.stderr
    doc = json.loads(raw.stdout)[fqcn]
    assert {"region", "access_key", "secret_key", "role", "backend_roles", "role_definition", "purge"} <= set(doc["doc"]["options"])
    assert doc["return"]
    examples = yaml.safe_load(doc["examples"])
    assert examples and all(task.get("name") and fqcn in task for task in examples)
