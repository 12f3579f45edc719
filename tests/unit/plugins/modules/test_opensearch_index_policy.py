# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_index_policy, run in-process against the SigV4-verifying OpenSearch test
double (tests/opensearch_stub): the four-step cycle, updates with seq_no/primary_term,
a concurrent writer (409), fine-grained access control (403) and every bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible_collections.logvault.aws.plugins.modules import opensearch_index_policy as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs import assert_renders_with_examples
from ansible_collections.logvault.aws.tests.unit.plugins.modules.opensearch_double import runner, stub_fixture

run = runner(module_under_test)
stub = stub_fixture()


def shortcut(stub, **extra):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="logs-retention", delete_after_days=30, index_patterns=["logs-*"])
    args.update(extra)
    return args


def test_four_step_cycle(stub):
    first = run(shortcut(stub), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"]["before"] == {}
    assert first["diff"]["after"]["states"][0]["transitions"][0]["conditions"] == {"min_index_age": "30d"}
    assert stub.writes() == []

    second = run(shortcut(stub))
    assert second["changed"] is True
    assert second["policy"]["policy_id"] == "logs-retention"
    assert second["policy"]["ism_template"][0]["index_patterns"] == ["logs-*"]
    assert len(stub.writes()) == 1
    assert stub.writes()[0][2] == {}  # a create carries no if_seq_no

    third = run(shortcut(stub), check_mode=True)
    fourth = run(shortcut(stub))
    assert third["changed"] is False and fourth["changed"] is False
    assert fourth["seq_no"] == second["seq_no"]
    assert len(stub.writes()) == 1


def test_generated_policy_shape():
    policy = module_under_test.generated_policy(30, ["logs-*"], 100, "d")
    assert policy["default_state"] == "hot"
    assert [s["name"] for s in policy["states"]] == ["hot", "delete"]
    assert policy["states"][1]["actions"] == [{"delete": {}}]
    assert policy["ism_template"] == [{"index_patterns": ["logs-*"], "priority": 100}]


def test_update_is_conditional_on_seq_no_and_primary_term(stub):
    created = run(shortcut(stub))
    updated = run(shortcut(stub, delete_after_days=14), diff=True)
    assert updated["changed"] is True
    assert updated["diff"]["before"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "30d"
    assert updated["diff"]["after"]["states"][0]["transitions"][0]["conditions"]["min_index_age"] == "14d"
    method, path, query, dummy = stub.writes()[-1]
    assert method == "PUT" and query == {"if_seq_no": str(created["seq_no"]), "if_primary_term": "1"}
    assert updated["seq_no"] > created["seq_no"]


def test_concurrent_change_fails_with_a_clear_409(stub):
    run(shortcut(stub))
    stub.concurrent_change_after_get("logs-retention")
    result = run(shortcut(stub, delete_after_days=7))
    assert result["failed"] is True
    assert result["status"] == 409
    assert "Failed to update ISM policy logs-retention" in result["msg"]
    assert "changed by someone else" in result["msg"]


def test_server_added_fields_do_not_cause_changes(stub):
    policy = {
        "description": "full",
        "default_state": "hot",
        "states": [
            {"name": "hot", "actions": [{"rollover": {"min_size": "30gb"}}], "transitions": [{"state_name": "gone", "conditions": {"min_index_age": "3d"}}]},
            {"name": "gone", "actions": [{"delete": {}}]},
        ],
        "ism_template": {"index_patterns": ["b-*", "a-*"]},
    }
    assert run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="full", policy=policy))["changed"] is True
    stored = stub.policies["full"]["policy"]
    assert stored["states"][0]["actions"][0]["retry"] == {"count": 3, "backoff": "exponential", "delay": "1m"}
    assert "last_updated_time" in stored["ism_template"][0]
    again = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="full", policy={"policy": policy}))
    assert again["changed"] is False


def test_a_policy_copied_from_get_is_accepted_as_is(stub):
    created = run(shortcut(stub))
    copied = dict(created["policy"])
    assert "last_updated_time" in copied and "schema_version" in copied
    from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchClient

    sent = []
    original = OpenSearchClient.request

    def spy(self, method, path, body=None, query=None):
        sent.append(body)
        return original(self, method, path, body=body, query=query)

    with mock.patch.object(OpenSearchClient, "request", spy):
        assert run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="copy", policy=copied))["changed"] is True
    body = [b for b in sent if b is not None][0]["policy"]
    for field in ("policy_id", "last_updated_time", "schema_version"):
        assert field not in body  # only the domain sets these
    assert "last_updated_time" not in body["ism_template"][0]
    assert run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="copy", policy=copied))["changed"] is False


def test_absent_cycle(stub):
    run(shortcut(stub))
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, policy_id="logs-retention", state="absent")
    check = run(args, check_mode=True, diff=True)
    assert check["changed"] is True and check["diff"]["after"] == {}
    assert "logs-retention" in stub.policies
    assert run(args)["changed"] is True
    assert "logs-retention" not in stub.policies
    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False


def test_fine_grained_access_control_is_explained(stub):
    result = run(shortcut(stub, access_key="AKIDREADONLY", secret_key="ro"))
    assert result["failed"] is True
    assert result["status"] == 403 and result["error_type"] == "security_exception"
    assert "Fine-grained access control denied PUT /_plugins/_ism/policies/logs-retention" in result["msg"]
    assert stub.policies == {}


@pytest.mark.parametrize("extra,fragment", [
    ({"policy_id": "bad id"}, "policy_id"),
    ({"policy_id": "-leading"}, "policy_id"),
    ({"policy_id": "x" * 256}, "policy_id"),
    ({"delete_after_days": 0}, "delete_after_days"),
    ({"delete_after_days": 40000}, "delete_after_days"),
    ({"index_patterns": []}, "index_patterns"),
    ({"index_patterns": ["Logs-*"]}, "index_patterns"),
    ({"index_patterns": ["logs *"]}, "index_patterns"),
    ({"index_patterns": ["_hidden"]}, "index_patterns"),
    ({"index_patterns": ["a,b"]}, "index_patterns"),
    ({"ism_template_priority": -1}, "ism_template_priority"),
    ({"endpoint": "http://127.0.0.1:9200"}, "endpoint"),
    ({"endpoint": "https://host/path"}, "endpoint"),
    ({"endpoint": ""}, "endpoint"),
    ({"timeout": 0}, "timeout"),
    ({"region": "eu-west"}, "region"),
    ({"region": None, "endpoint": "https://127.0.0.1:9200"}, "region"),
    ({"delete_after_days": None, "index_patterns": None}, "policy or delete_after_days"),
    ({"delete_after_days": None, "index_patterns": None, "policy": {"states": []}}, "policy.states"),
    ({"delete_after_days": None, "index_patterns": None, "policy": {"default_state": "x", "states": [{"name": "hot"}]}}, "policy.default_state"),
    ({"delete_after_days": None, "index_patterns": None, "policy": {"default_state": "a", "states": [{"name": "a"}, {"name": "a"}]}}, "duplicate"),
    ({"delete_after_days": None, "index_patterns": None, "policy": {"default_state": "a", "states": [{"actions": []}]}}, "policy.states[0]"),
    ({"delete_after_days": None, "index_patterns": None,
      "policy": {"default_state": "a", "states": [{"name": "a", "transitions": [{"state_name": "nowhere"}]}]}}, "unknown state"),
    ({"policy": {"default_state": "a", "states": [{"name": "a"}]}}, "mutually exclusive"),
    ({"delete_after_days": None}, "delete_after_days"),
])
def test_bad_input_fails_before_any_request(stub, monkeypatch, extra, fragment):
    monkeypatch.delenv("AWS_REGION", raising=False)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    args = shortcut(stub)
    args.update(extra)
    args = dict((k, v) for k, v in args.items() if v is not None)
    if "region" in extra and extra["region"] is None:
        args["region"] = None
    result = run(args)
    assert result.get("failed") is True, result
    assert fragment in result["msg"]
    assert stub.requests == [] and stub.rejected == []


def test_ansible_doc_renders_with_examples():
    """ansible-doc renders the module from the working tree, with examples that use it."""
    doc = assert_renders_with_examples("logvault.aws.opensearch_index_policy")
    assert doc["doc"]["version_added"] == "0.1.0"
    assert {"region", "access_key", "secret_key", "profile"} <= set(doc["doc"]["options"])
    assert doc["return"]
