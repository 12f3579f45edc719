# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_ingest_pipeline, run in-process against the SigV4-verifying OpenSearch test
double (tests/opensearch_stub): the event-id pipeline, the four-step cycle, updates, deletion,
403 and bad input."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible_collections.logvault.aws.plugins.modules import opensearch_ingest_pipeline as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_docs import assert_renders_with_examples
from ansible_collections.logvault.aws.tests.unit.plugins.modules.opensearch_double import runner, stub_fixture

run = runner(module_under_test)
stub = stub_fixture()


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
    doc = assert_renders_with_examples("logvault.aws.opensearch_ingest_pipeline")
    assert {"region", "access_key", "secret_key", "endpoint", "ca_path"} <= set(doc["doc"]["options"])
