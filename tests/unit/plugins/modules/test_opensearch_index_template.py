# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_index_template, run in-process against the SigV4-verifying OpenSearch test
double (tests/opensearch_stub): the log-document mappings, the four-step cycle with the
domain's normalised settings, updates, deletion, 403 and every bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.logvault.aws.plugins.modules import opensearch_index_template as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs import assert_renders_with_examples
from ansible_collections.logvault.aws.tests.unit.plugins.modules.opensearch_double import runner, stub_fixture

run = runner(module_under_test)
stub = stub_fixture()


def logs(stub, **extra):
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, name="logs", index_patterns=["logs-*"],
                settings={"number_of_shards": 1, "index": {"number_of_replicas": 2}, "refresh_interval": "30s"})
    args.update(extra)
    return args


def test_log_document_mappings():
    mappings = module_under_test.log_document_mappings()
    props = mappings["properties"]
    assert mappings["dynamic"] is False
    assert props["@timestamp"] == {"type": "date"}
    for field in ("account_id", "region", "log_group", "log_stream", "event_id"):
        assert props[field] == {"type": "keyword"}
    assert props["message"]["type"] == "text"
    assert props["message"]["fields"]["keyword"]["type"] == "keyword"
    assert props["fields"] == {"type": "flat_object"}
    assert module_under_test.log_document_mappings("disabled")["properties"]["fields"] == {"type": "object", "enabled": False}


def test_normalize_settings_matches_the_domain_form():
    assert module_under_test.normalize_settings({"number_of_shards": 1, "index.codec": "best_compression", "index": {"hidden": True}}) == {
        "index": {"number_of_shards": "1", "codec": "best_compression", "hidden": "true"}
    }


def test_four_step_cycle(stub):
    first = run(logs(stub), check_mode=True, diff=True)
    assert first["changed"] is True and first["diff"]["before"] == {}
    assert stub.writes() == []
    second = run(logs(stub))
    assert second["changed"] is True
    stored = stub.templates["logs"]
    assert stored["template"]["settings"] == {"index": {"number_of_shards": "1", "number_of_replicas": "2", "refresh_interval": "30s"}}
    assert stored["template"]["mappings"]["properties"]["fields"] == {"type": "flat_object"}
    assert stored["priority"] == 100
    assert second["index_template"]["template"]["settings"]["index"]["number_of_shards"] == "1"
    assert run(logs(stub), check_mode=True)["changed"] is False
    assert run(logs(stub, index_patterns=["logs-*", "logs-*"][:1]))["changed"] is False
    assert len(stub.writes()) == 1


@pytest.mark.parametrize("change", [
    {"fields_mapping": "disabled"},
    {"priority": 5},
    {"index_patterns": ["logs-*", "audit-*"]},
    {"settings": {"number_of_shards": 2}},
    {"template_version": 3},
    {"meta": {"owner": "security"}},
    {"aliases": {"all-logs": {}}},
    {"mappings": {"properties": {"x": {"type": "keyword"}}}},
])
def test_each_option_is_compared(stub, change):
    run(logs(stub))
    check = run(logs(stub, **change), check_mode=True, diff=True)
    assert check["changed"] is True
    assert check["diff"]["before"] != check["diff"]["after"]
    assert len(stub.writes()) == 1
    assert run(logs(stub, **change))["changed"] is True
    assert run(logs(stub, **change))["changed"] is False
    assert len(stub.writes()) == 2


def test_absent_cycle(stub):
    run(logs(stub))
    args = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, name="logs", state="absent")
    assert run(args, check_mode=True)["changed"] is True
    assert "logs" in stub.templates
    assert run(args)["changed"] is True
    assert stub.templates == {}
    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False


def test_fine_grained_access_control_is_explained(stub):
    result = run(logs(stub, access_key="AKIDREADONLY", secret_key="ro"))
    assert result["failed"] is True and result["status"] == 403
    assert "Failed to create index template logs: Fine-grained access control denied PUT /_index_template/logs" in result["msg"]


@pytest.mark.parametrize("extra,fragment", [
    ({"name": "Logs"}, "name"),
    ({"name": "_logs"}, "name"),
    ({"name": "a b"}, "name"),
    ({"name": "a#b"}, "name"),
    ({"name": "x" * 256}, "name"),
    ({"index_patterns": []}, "index_patterns"),
    ({"index_patterns": ["Logs-*"]}, "index_patterns"),
    ({"index_patterns": ["-logs"]}, "index_patterns"),
    ({"priority": -1}, "priority"),
    ({"template_version": -1}, "template_version"),
    ({"mappings": {"properties": ["x"]}}, "mappings.properties"),
    ({"composed_of": ["Bad Name"]}, "composed_of"),
    ({"endpoint": "http://127.0.0.1"}, "endpoint"),
    ({"endpoint": "https://h/p"}, "endpoint"),
    ({"timeout": -5}, "timeout"),
    ({"region": "moon-1"}, "region"),
])
def test_bad_input_fails_before_any_request(stub, extra, fragment):
    args = logs(stub)
    args.update(extra)
    result = run(args)
    assert result.get("failed") is True, result
    assert result["msg"].startswith(fragment), result["msg"]
    assert stub.requests == [] and stub.rejected == []


def test_ansible_doc_renders_with_examples():
    """ansible-doc renders the module from the working tree, with examples that use it."""
    doc = assert_renders_with_examples("logvault.aws.opensearch_index_template")
    assert doc["doc"]["version_added"] == "0.1.0"
    assert {"region", "access_key", "secret_key", "profile"} <= set(doc["doc"]["options"])
    assert doc["return"]
