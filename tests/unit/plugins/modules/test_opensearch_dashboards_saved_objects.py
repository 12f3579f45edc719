# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_dashboards_saved_objects, run in-process against the SigV4-verifying OpenSearch
test double (tests/opensearch_stub) with the saved objects the central_account role ships:
the four-step cycle, a changed object re-imported alone with overwrite, the osd-xsrf header,
refusals (conflict, missing references, 403) and bad input named by parameter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os

import jinja2
import pytest

from botocore.credentials import ReadOnlyCredentials

from ansible_collections.logvault.aws.plugins.module_utils import opensearch as osu
from ansible_collections.logvault.aws.plugins.modules import opensearch_dashboards_saved_objects as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

_TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_STUB_PATH = os.path.join(_TESTS, "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)
TEMPLATE = os.path.join(os.path.dirname(_TESTS), "roles", "central_account", "templates", "dashboards", "logvault.ndjson.j2")
API = "/_dashboards/api/saved_objects/"


def shipped(prefix="logs"):
    with open(TEMPLATE) as handle:
        return jinja2.Template(handle.read(), keep_trailing_newline=True).render(central_account_opensearch_index_prefix=prefix)


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


def args(stub, **extra):
    value = dict(endpoint=stub.endpoint, ca_path=stub.ca_path, content=shipped())
    value.update(extra)
    return value


def imports(stub):
    return [r for r in stub.requests if r[1] == API + "_import"]


def test_shipped_objects_are_what_the_issue_asks_for():
    objects = [json.loads(line) for line in shipped().splitlines()]
    by_id = dict((o["id"], o) for o in objects)
    pattern = by_id["logvault-logs"]
    assert pattern["type"] == "index-pattern"
    assert pattern["attributes"] == {"title": "logs-*", "timeFieldName": "@timestamp"}
    assert json.loads(shipped("audit").splitlines()[0])["attributes"]["title"] == "audit-*"
    searches = [o for o in objects if o["type"] == "search"]
    assert sorted(o["id"] for o in searches) == ["logvault-alerts-fired", "logvault-errors-by-account", "logvault-one-log-group",
                                                 "logvault-request-id"]
    for item in objects:
        assert module_under_test.object_problem(0, item) is None
        for ref in item["references"]:  # every reference resolves inside the file
            assert (ref["type"], ref["id"]) in [(o["type"], o["id"]) for o in objects]
    dashboard = by_id["logvault-overview"]
    panels = json.loads(dashboard["attributes"]["panelsJSON"])
    assert sorted(p["panelRefName"] for p in panels) == sorted(r["name"] for r in dashboard["references"])
    fields = set()
    for vis in (o for o in objects if o["type"] == "visualization"):
        for agg in json.loads(vis["attributes"]["visState"])["aggs"]:
            fields.add(agg["params"].get("field"))
    # Fields the index template maps (keyword for aggregations, the date for the histogram).
    assert fields - {None} == {"@timestamp", "account_id", "log_group", "log_stream", "message.keyword"}
    # The alerts panel is a table of the saved search of the alerts' fixed log group.
    alerts = by_id["logvault-alerts"]
    assert json.loads(alerts["attributes"]["visState"])["type"] == "table"
    assert alerts["references"] == [{"id": "logvault-alerts-fired", "name": "search_0", "type": "search"}]
    fired = json.loads(by_id["logvault-alerts-fired"]["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])
    assert fired["query"] == {"language": "kuery", "query": 'log_group:"logvault/alerts"'}


def test_four_step_cycle_with_the_shipped_objects(stub):
    first = run(args(stub), check_mode=True, diff=True)
    assert first["changed"] is True and len(first["imported"]) == 10 and first["overwrite"] is False
    assert first["diff"]["before"] == [{}] * 10
    assert stub.saved_objects == {} and imports(stub) == []

    second = run(args(stub))
    assert second["changed"] is True and len(second["imported"]) == 10 and second["overwrite"] is False
    assert len(stub.saved_objects) == 10
    assert [r[2] for r in imports(stub)] == [{}]  # no overwrite for new objects
    assert stub.saved_objects[("index-pattern", "logvault-logs")]["attributes"]["title"] == "logs-*"

    third = run(args(stub), check_mode=True)
    assert third["changed"] is False and len(third["unchanged"]) == 10
    fourth = run(args(stub))
    assert fourth["changed"] is False and fourth["imported"] == []
    assert len(imports(stub)) == 1


def test_a_modified_object_is_reimported_alone_with_overwrite(stub):
    run(args(stub))
    stored = stub.saved_objects[("search", "logvault-one-log-group")]
    stored["attributes"]["columns"] = ["message"]  # someone edited it in Dashboards
    predicted = run(args(stub), check_mode=True, diff=True)
    assert predicted["changed"] is True and predicted["overwrite"] is True
    assert predicted["imported"] == [{"type": "search", "id": "logvault-one-log-group"}]
    assert predicted["diff"]["before"][0]["attributes"]["columns"] == ["message"]
    assert len(imports(stub)) == 1

    result = run(args(stub))
    assert result["changed"] is True and result["imported"] == predicted["imported"]
    assert imports(stub)[-1][2] == {"overwrite": "true"}
    assert stub.saved_objects[("search", "logvault-one-log-group")]["attributes"]["columns"] == [
        "account_id", "region", "log_stream", "message"]
    assert run(args(stub))["changed"] is False


def test_json_text_attributes_compare_by_meaning(stub):
    run(args(stub))
    stored = stub.saved_objects[("dashboard", "logvault-overview")]["attributes"]
    stored["panelsJSON"] = json.dumps(json.loads(stored["panelsJSON"]), indent=2)  # reformatted by the server
    stub.saved_objects[("dashboard", "logvault-overview")]["references"].reverse()
    assert run(args(stub))["changed"] is False


def test_a_new_index_prefix_changes_only_the_index_pattern(stub):
    run(args(stub))
    result = run(args(stub, content=shipped("audit")))
    assert result["imported"] == [{"type": "index-pattern", "id": "logvault-logs"}] and result["overwrite"] is True
    assert stub.saved_objects[("index-pattern", "logvault-logs")]["attributes"]["title"] == "audit-*"


def test_objects_option_and_tenant_header(stub):
    objects = [{"type": "index-pattern", "id": "p", "attributes": {"title": "logs-*", "timeFieldName": "@timestamp"}}]
    assert run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, objects=objects, tenant="global"))["changed"] is True
    assert run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, objects=objects, tenant="global"))["changed"] is False


def test_stub_requires_osd_xsrf_and_multipart():
    """The test double refuses what OpenSearch Dashboards refuses, so the module's headers are proven."""
    with _STUB.start({"testing": "testing"}) as server:
        client = osu.OpenSearchClient(server.endpoint, "us-east-1", ReadOnlyCredentials("testing", "testing", None), ca_path=server.ca_path)
        with pytest.raises(osu.OpenSearchError) as info:
            client.request("POST", API + "_bulk_get", body=[{"type": "search", "id": "x"}])
        assert info.value.status == 400 and "osd-xsrf" in info.value.body
        status, answer = client.request("POST", API + "_bulk_get", body=[{"type": "search", "id": "x"}], headers={"osd-xsrf": "true"})
        assert answer["saved_objects"][0]["error"]["statusCode"] == 404
        with pytest.raises(osu.OpenSearchError) as info:
            client.send("POST", API + "_import", b"{}", headers={"osd-xsrf": "true"})
        assert info.value.status == 415
        content_type, body = module_under_test.multipart([json.loads(shipped().splitlines()[1])])
        status, raw = client.send("POST", API + "_import", body, headers={"osd-xsrf": "true"}, content_type=content_type)
        answer = json.loads(raw)
        assert answer["success"] is False and answer["errors"][0]["error"]["type"] == "missing_references"
        content_type, body = module_under_test.multipart([json.loads(line) for line in shipped().splitlines()])
        client.send("POST", API + "_import", body, headers={"osd-xsrf": "true"}, content_type=content_type)
        answer = json.loads(client.send("POST", API + "_import", body, headers={"osd-xsrf": "true"}, content_type=content_type)[1])
        assert answer["success"] is False and {e["error"]["type"] for e in answer["errors"]} == {"conflict"}
        status, found = client.request("GET", API + "_find", query={"type": "search", "per_page": "2"})
        assert found["total"] == 4 and len(found["saved_objects"]) == 2
        status, raw = client.send("POST", API + "_export", json.dumps({"type": ["dashboard"]}).encode(), headers={"osd-xsrf": "true"})
        lines = [json.loads(line) for line in raw.decode().splitlines()]
        assert lines[0]["id"] == "logvault-overview" and lines[-1]["exportedCount"] == 1


def test_refused_import_fails_the_task(stub):
    objects = [{"type": "search", "id": "s", "attributes": {"title": "S"},
                "references": [{"name": "kibanaSavedObjectMeta.searchSourceJSON.index", "type": "index-pattern", "id": "nope"}]}]
    result = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, objects=objects))
    assert result["failed"] is True and "missing_references" in result["msg"]


def test_fgac_denied_principal_gets_403(stub):
    result = run_module(module_under_test, args(stub), defaults={"region": "us-east-1", "access_key": "AKIDREADONLY", "secret_key": "ro"})
    assert result["failed"] is True and "403" in result["msg"]


@pytest.mark.parametrize("extra, parameter, words", [
    (dict(content="{not json}\n"), "content", "line 1 is not JSON"),
    (dict(content=""), "content", "holds no saved object"),
    (dict(content=None, objects=[{"type": "search", "id": "x", "attributes": {}}]), "objects", "non-empty title"),
    (dict(content=None, objects=[{"type": "", "id": "x", "attributes": {"title": "t"}}]), "objects", "objects[0].type"),
    (dict(content=None, objects=[{"type": "search", "id": "x", "attributes": {"title": "t"}, "references": [{"name": "a"}]}]),
     "objects", "references[0]"),
    (dict(content=None, objects=[{"type": "search", "id": "x", "attributes": {"title": "t"}}] * 2), "objects", "repeats search/x"),
    (dict(base_path="/"), "base_path", "base_path"),
    (dict(tenant=" "), "tenant", "tenant"),
])
def test_bad_input_fails_before_any_request(stub, extra, parameter, words):
    value = args(stub, **extra)
    if value.get("content") is None:
        value.pop("content")
    result = run(value)
    assert result["failed"] is True and words in result["msg"] and result.get("parameter") == parameter
    assert stub.requests == []
