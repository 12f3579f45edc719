# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenSearch TEST DOUBLE's data plane: ingest pipelines, _bulk honouring the index's
default pipeline (exactly once in search, issue 16 item 8), _search/_count with the query DSL
subset, fine-grained access control by IAM role ARN and document-level security."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import ssl
import urllib.error
import urllib.request

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
TEAM_ROLE = "arn:aws:iam::999999999999:role/team-app"
UNMAPPED_ROLE = "arn:aws:iam::999999999999:role/nobody"
EVENT_ID_PIPELINE = {"processors": [{"set": {"field": "_id", "value": "{{account_id}}/{{log_group}}/{{event_id}}"}}]}
TEMPLATE = {"index_patterns": ["logs-*"], "priority": 100,
            "template": {"settings": {"index": {"default_pipeline": "lv-event-id"}},
                         "mappings": {"dynamic": False, "properties": {
                             "@timestamp": {"type": "date"}, "account_id": {"type": "keyword"}, "log_group": {"type": "keyword"},
                             "event_id": {"type": "keyword"}, "log_stream": {"type": "keyword"}, "region": {"type": "keyword"},
                             "message": {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 8191}}},
                             "fields": {"type": "flat_object"}}}}}


def send(stub, method, path, body=None, key="testing", secret="testing", raw=False):
    """A SigV4-signed request (service es); returns (status, decoded JSON)."""
    url = stub.endpoint + path
    data = b"" if body is None else (body if raw else json.dumps(body).encode("utf-8"))
    headers = {"Content-Type": "application/x-ndjson" if raw else "application/json"}
    request = AWSRequest(method=method, url=url, data=data, headers=headers)
    SigV4Auth(Credentials(key, secret), "es", "us-east-1").add_auth(request)
    context = ssl.create_default_context(cafile=stub.ca_path)
    prepared = urllib.request.Request(url, data=data or None, headers=dict(request.headers.items()), method=method)
    try:
        with urllib.request.urlopen(prepared, context=context) as response:
            return response.status, json.loads(response.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def event(account, log_group, event_id, message, day="2026-12-03"):
    return {"@timestamp": "%sT10:00:00.000Z" % day, "event_id": event_id, "message": message, "account_id": account,
            "region": "us-east-1", "log_group": log_group, "log_stream": "s"}


def bulk_body(docs, index="logs-2026-12-03"):
    """What Firehose sends: one index action per record, with Firehose's own document id."""
    lines = []
    for position, doc in enumerate(docs):
        lines.append(json.dumps({"index": {"_index": index, "_id": "firehose-%d-%s" % (position, os.urandom(4).hex())}}))
        lines.append(json.dumps(doc))
    return ("\n".join(lines) + "\n").encode("utf-8")


@pytest.fixture
def stub():
    server = _STUB.start({"testing": "testing", "AKIDTEAM": "team", "AKIDNOBODY": "nobody"},
                         role_arns={"AKIDTEAM": TEAM_ROLE, "AKIDNOBODY": UNMAPPED_ROLE})
    yield server
    server.stop()


def test_ingest_pipeline_api_shapes(stub):
    assert send(stub, "GET", "/_ingest/pipeline/lv-event-id") == (404, {})
    assert send(stub, "PUT", "/_ingest/pipeline/lv-event-id", EVENT_ID_PIPELINE) == (200, {"acknowledged": True})
    assert send(stub, "GET", "/_ingest/pipeline/lv-event-id") == (200, {"lv-event-id": EVENT_ID_PIPELINE})
    status, body = send(stub, "PUT", "/_ingest/pipeline/bad", {"description": "no processors"})
    assert status == 400 and body["error"]["reason"] == "[processors] required property is missing"
    status, body = send(stub, "PUT", "/_ingest/pipeline/bad", {"processors": [{"set": {"field": "x"}}]})
    assert status == 400 and body["error"]["reason"] == "[value] required property is missing"
    assert send(stub, "DELETE", "/_ingest/pipeline/lv-event-id") == (200, {"acknowledged": True})
    assert send(stub, "DELETE", "/_ingest/pipeline/lv-event-id")[0] == 404


def test_mustache_templates_render_like_ingest_processors():
    doc = {"a": "x/y", "q": 'say "hi"', "n": {"b": 5}}
    assert _STUB.render_mustache("{{a}}:{{n.b}}:{{missing}}", doc, {}) == "x/y:5:"
    assert _STUB.render_mustache("{{q}}", doc, {}) == 'say \\"hi\\"'  # JSON-escaped
    assert _STUB.render_mustache("{{{q}}}", doc, {}) == 'say "hi"'  # triple braces: raw
    assert _STUB.render_mustache("{{_index}}", doc, {"_index": "logs-1"}) == "logs-1"


@pytest.mark.parametrize("with_pipeline", [True, False])
def test_a_replayed_bulk_overwrites_instead_of_duplicating(stub, with_pipeline):
    """Issue 16 item 8: Firehose (or a retried transform batch) sends the same events twice with
    new document ids; with the template's default pipeline the second bulk overwrites."""
    if with_pipeline:
        assert send(stub, "PUT", "/_ingest/pipeline/lv-event-id", EVENT_ID_PIPELINE)[0] == 200
        template = TEMPLATE
    else:
        template = json.loads(json.dumps(TEMPLATE))
        del template["template"]["settings"]
    assert send(stub, "PUT", "/_index_template/logs", template)[0] == 200
    docs = [event(ACCOUNT_A, "/app/api", "3%055d" % n, "line %d" % n) for n in range(5)]
    docs.append(event(ACCOUNT_B, "/app/api", "3%055d" % 0, "same event id, other account"))
    for attempt in range(2):
        status, answer = send(stub, "POST", "/_bulk", bulk_body(docs), raw=True)
        assert status == 200 and answer["errors"] is False
        assert [item["index"]["result"] for item in answer["items"]] == ["updated" if attempt and with_pipeline else "created"] * 6
    count = send(stub, "GET", "/logs-*/_count")[1]["count"]
    if with_pipeline:
        assert count == 6
        assert sorted(i for dummy, i, dummy in stub.documents())[0] == "%s//app/api/3%055d" % (ACCOUNT_A, 0)
    else:
        assert count == 12  # what Firehose's own ids give: every retry duplicates


def test_the_next_days_index_is_the_remaining_duplicate(stub):
    """Documented limit: the id is unique per index, and a retry after midnight goes to the next day's index."""
    send(stub, "PUT", "/_ingest/pipeline/lv-event-id", EVENT_ID_PIPELINE)
    send(stub, "PUT", "/_index_template/logs", TEMPLATE)
    doc = [event(ACCOUNT_A, "/app/api", "1" * 56, "late retry")]
    send(stub, "POST", "/_bulk", bulk_body(doc, "logs-2026-12-03"), raw=True)
    send(stub, "POST", "/_bulk", bulk_body(doc, "logs-2026-12-04"), raw=True)
    assert send(stub, "GET", "/logs-*/_count")[1]["count"] == 2
