# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every query in docs/search.md runs against the OpenSearch TEST DOUBLE (issue 18 item 4).

The fenced blocks of the document are parsed: ``lucene`` blocks are search-bar queries (sent as
``query_string``, as Dashboards does), ``console`` blocks are Dev Tools requests, the ``python``
block is executed (opensearch-py, signed), the ``awscurl`` command's request is sent signed, the
``yaml`` team declaration is rendered through role central_account and written to the test double,
and the ``aws logs tail`` filter pattern is checked with the filter-pattern engine. Each query must
find something as the documented team, only within the team's accounts and log groups, and be
refused (403) to an unmapped principal."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import re
import shlex
import subprocess
import sys

import pytest
import yaml

from ansible_collections.logvault.aws.plugins.module_utils import cwl_filter_pattern
from ansible_collections.logvault.aws.plugins.modules import opensearch_index_template
from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import render

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
DOC = os.path.join(ROOT, "docs", "search.md")


def _load(name, path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


_STUB = _load("logvault_tests_opensearch_stub", os.path.join(ROOT, "tests", "opensearch_stub", "server.py"))
_HELPERS = _load("logvault_tests_stub_dataplane_helpers", os.path.join(ROOT, "tests", "unit", "plugins", "module_utils", "test_opensearch_stub_dataplane.py"))
send, bulk_body, event = _HELPERS.send, _HELPERS.bulk_body, _HELPERS.event

A, B = "111111111111", "222222222222"
DOCS = [
    event(A, "/app/orders-api", "1", "ERROR timeout calling payments request-id=r-7f3a"),
    event(A, "/app/worker", "2", "error processing job request-id=r-7f3a"),
    event(A, "/db/audit", "3", "login failed, error request-id=r-7f3a"),
    event(B, "/app/orders-api", "4", "error request-id=r-7f3a"),
    event(A, "/app/orders-api", "5", "GET /health 200"),
]


def blocks(kind):
    with open(DOC, encoding="utf-8") as handle:
        text = handle.read()
    return [m.group(2) for m in re.finditer(r"^ *```([a-z]+)\n(.*?)^ *```", text, re.M | re.S) if m.group(1) == kind]


def team_declaration():
    (block,) = [b for b in blocks("yaml") if "central_account_search_teams" in b]
    return yaml.safe_load(block)["central_account_search_teams"]


@pytest.fixture(scope="module")
def domain():
    teams = team_declaration()
    principal = teams[0]["principal_arns"][0]
    stub = _STUB.start({"testing": "testing", "AKIDTEAM": "team", "AKIDNOBODY": "nobody"},
                       role_arns={"AKIDTEAM": principal, "AKIDNOBODY": "arn:aws:iam::999999999999:role/nobody"})
    template = {"index_patterns": ["logs-*"], "template": {"mappings": opensearch_index_template.log_document_mappings()}}
    assert send(stub, "PUT", "/_index_template/logs", template)[0] == 200
    assert send(stub, "POST", "/_bulk", bulk_body(DOCS), raw=True)[1]["errors"] is False
    for reader in render("central_account", "_central_account_opensearch_team_readers", central_account_search_teams=teams):
        assert send(stub, "PUT", "/_plugins/_security/api/roles/%s" % reader["role"], reader["role_definition"])[0] == 201
        assert send(stub, "PUT", "/_plugins/_security/api/rolesmapping/%s" % reader["role"], {"backend_roles": reader["backend_roles"]})[0] == 201
    yield stub
    stub.stop()


def allowed_to_the_team(doc):
    team = team_declaration()[0]
    return doc["account_id"] in team["accounts"] and any(re.match("^" + re.escape(g).replace("\\*", ".*") + "$", doc["log_group"])
                                                         for g in team["log_groups"])


def run_as(domain, method, path, body, key, secret):
    status, answer = send(domain, method, path, body, key=key, secret=secret)
    return status, answer


def check(domain, method, path, body):
    """As the team: something found, all of it allowed; as the master: at least as much; unmapped: 403."""
    status, team = run_as(domain, method, path, body, "AKIDTEAM", "team")
    assert status == 200, team
    status, master = run_as(domain, method, path, body, "testing", "testing")
    assert status == 200, master
    if path.endswith("_count"):
        assert 0 < team["count"] < master["count"]
    else:
        docs = [h["_source"] for h in team["hits"]["hits"]]
        assert docs and all(allowed_to_the_team(d) for d in docs), docs
        assert len(master["hits"]["hits"]) >= len(docs)
    status, refused = run_as(domain, method, path, body, "AKIDNOBODY", "nobody")
    assert status == 403 and refused["error"]["type"] == "security_exception"
    return team


def test_the_document_has_every_kind_of_example():
    assert len(blocks("lucene")) >= 4 and len(blocks("console")) >= 2 and len(blocks("python")) == 1
    assert [b for b in blocks("sh") if b.startswith("awscurl")] and [b for b in blocks("sh") if b.startswith("aws logs tail")]


@pytest.mark.parametrize("query", blocks("lucene"))
def test_dashboards_search_bar_queries(domain, query):
    check(domain, "POST", "/logs-*/_search", {"query": {"query_string": {"query": query.strip()}}, "size": 50})


@pytest.mark.parametrize("request_text", blocks("console"))
def test_dev_tools_requests(domain, request_text):
    first, dummy, body = request_text.partition("\n")
    method, path = first.split()
    check(domain, method, "/" + path, json.loads(body))


def test_awscurl_request(domain):
    (command,) = [b for b in blocks("sh") if b.startswith("awscurl")]
    argv = shlex.split(command.replace("\\\n", " "))
    assert argv[argv.index("--service") + 1] == "es"
    method = argv[argv.index("-X") + 1]
    url = [a for a in argv if a.startswith("https://")][0]
    path = re.sub(r"^https://\$LOGVAULT_SEARCH_HOST", "", url)
    check(domain, method, path, json.loads(argv[argv.index("-d") + 1]))


def test_opensearch_py_script(domain):
    (script,) = blocks("python")
    host, port = domain.endpoint.replace("https://", "").split(":")
    env = dict(os.environ, LOGVAULT_SEARCH_HOST=host, LOGVAULT_SEARCH_PORT=port, LOGVAULT_SEARCH_CA=domain.ca_path, AWS_REGION="us-east-1",
               AWS_ACCESS_KEY_ID="AKIDTEAM", AWS_SECRET_ACCESS_KEY="team")
    # requests lets REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE override a session's CA file (ca_certs)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "HTTPS_PROXY", "https_proxy", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        env.pop(key, None)
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert sorted(line.split()[2] for line in lines) == ["/app/orders-api", "/app/worker"] and all(A in line for line in lines)
    env.update(AWS_ACCESS_KEY_ID="AKIDNOBODY", AWS_SECRET_ACCESS_KEY="nobody")
    refused = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120, check=False)
    assert refused.returncode != 0 and "security_exception" in refused.stderr


def test_aws_logs_tail_filter_pattern_and_reader_policy():
    (command,) = [b for b in blocks("sh") if b.startswith("aws logs tail")]
    argv = shlex.split(command)
    group, pattern = argv[3], argv[argv.index("--filter-pattern") + 1]
    assert "--follow" in argv
    assert cwl_filter_pattern.matches(pattern, "ERROR timeout calling payments request-id=r-7f3a")
    assert not cwl_filter_pattern.matches(pattern, "GET /health 200")
    prefixes = render("member_account", "member_account_reader_log_group_prefixes", logvault_account_id="111111111111")
    assert any(group.startswith(p) or group + "/" == p for p in prefixes), (group, prefixes)
    policy = render("member_account", "_member_account_reader_policy", logvault_account_id="111111111111")
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"logs:FilterLogEvents", "logs:DescribeLogGroups"} <= actions  # what `aws logs tail` calls
