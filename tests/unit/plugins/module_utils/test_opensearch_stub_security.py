# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The OpenSearch TEST DOUBLE's security plugin API (roles and role mappings), through the
SigV4-signed client of module_utils/opensearch.py: the documented request and response
shapes, and the refusals the real plugin answers (missing, reserved, static, bad bodies)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os

import pytest
from botocore.credentials import ReadOnlyCredentials

from ansible_collections.logvault.aws.plugins.module_utils import opensearch as osu

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)

CREDS = ReadOnlyCredentials("testing", "testing", None)
MASTER = "arn:aws:iam::123456789012:role/lv-search-admin"
FIREHOSE = "arn:aws:iam::123456789012:role/lv-search-firehose"
WRITER = {
    "cluster_permissions": ["cluster_composite_ops", "cluster_monitor"],
    "index_permissions": [{"index_patterns": ["logs-*"], "allowed_actions": ["create_index", "manage", "crud"]}],
}


@pytest.fixture
def stub():
    server = _STUB.start({"testing": "testing", "AKIDREADONLY": "ro"}, fgac_denied=["AKIDREADONLY"], master_arn=MASTER)
    yield server
    server.stop()


def call(stub, method, path, body=None, credentials=CREDS):
    client = osu.OpenSearchClient(stub.endpoint, "us-east-1", credentials, ca_path=stub.ca_path)
    return client.request(method, "_plugins/_security/api/" + path, body=body)


def error(stub, method, path, body=None, credentials=CREDS):
    with pytest.raises(osu.OpenSearchError) as info:
        call(stub, method, path, body, credentials)
    return info.value.status, json.loads(info.value.body)


def test_role_put_get_update_delete_shapes(stub):
    assert call(stub, "PUT", "roles/writer", WRITER) == (201, {"status": "CREATED", "message": "'writer' created."})
    status, answer = call(stub, "GET", "roles/writer")
    assert status == 200 and list(answer) == ["writer"]
    role = answer["writer"]
    assert role["reserved"] is False and role["hidden"] is False and role["static"] is False
    assert role["cluster_permissions"] == ["cluster_composite_ops", "cluster_monitor"]
    assert role["index_permissions"] == [{"index_patterns": ["logs-*"], "dls": "", "fls": [], "masked_fields": [],
                                          "allowed_actions": ["create_index", "manage", "crud"]}]
    assert role["tenant_permissions"] == []
    assert call(stub, "PUT", "roles/writer", dict(WRITER, description="d")) == (200, {"status": "OK", "message": "'writer' updated."})
    assert call(stub, "GET", "roles/writer")[1]["writer"]["description"] == "d"
    assert call(stub, "DELETE", "roles/writer") == (200, {"status": "OK", "message": "'writer' deleted."})
    assert error(stub, "GET", "roles/writer") == (404, {"status": "NOT_FOUND", "message": "role 'writer' not found."})
    assert error(stub, "DELETE", "roles/writer")[0] == 404


def test_mapping_put_get_update_delete_shapes(stub):
    call(stub, "PUT", "roles/writer", WRITER)
    assert error(stub, "GET", "rolesmapping/writer") == (404, {"status": "NOT_FOUND", "message": "rolesmapping 'writer' not found."})
    assert call(stub, "PUT", "rolesmapping/writer", {"backend_roles": [FIREHOSE]}) == (201, {"status": "CREATED", "message": "'writer' created."})
    status, answer = call(stub, "GET", "rolesmapping/writer")
    assert status == 200
    assert answer == {"writer": {"hosts": [], "users": [], "reserved": False, "hidden": False,
                                 "backend_roles": [FIREHOSE], "and_backend_roles": []}}
    assert call(stub, "PUT", "rolesmapping/writer", {"backend_roles": [FIREHOSE], "users": ["u"]})[0] == 200
    assert call(stub, "GET", "rolesmapping/writer")[1]["writer"]["users"] == ["u"]
    assert call(stub, "DELETE", "rolesmapping/writer") == (200, {"status": "OK", "message": "'writer' deleted."})
    assert error(stub, "DELETE", "rolesmapping/writer")[0] == 404
    assert "writer" in stub.security_roles  # deleting a mapping keeps the role


def test_mapping_of_a_missing_role_is_refused(stub):
    assert error(stub, "PUT", "rolesmapping/nope", {"backend_roles": [FIREHOSE]}) == (404, {"status": "NOT_FOUND", "message": "role 'nope' not found."})
    assert "nope" not in stub.role_mappings


def test_predefined_entries_and_master_mapping(stub):
    roles = {name: call(stub, "GET", "roles/" + name)[1][name] for name in ("all_access", "readall", "security_manager")}
    assert roles["all_access"]["static"] is True and roles["all_access"]["reserved"] is True
    assert roles["security_manager"]["static"] is False and roles["security_manager"]["reserved"] is True
    assert call(stub, "GET", "rolesmapping/all_access")[1]["all_access"]["backend_roles"] == [MASTER]
    assert call(stub, "GET", "rolesmapping/kibana_server")[1]["kibana_server"]["reserved"] is True


@pytest.mark.parametrize("method,path,body,message", [
    ("PUT", "roles/all_access", WRITER, "Resource 'all_access' is static."),
    ("PUT", "roles/security_manager", WRITER, "Resource 'security_manager' is reserved."),
    ("DELETE", "roles/readall", None, "Resource 'readall' is static."),
    ("PUT", "rolesmapping/kibana_server", {"users": ["x"]}, "Resource 'kibana_server' is reserved."),
    ("DELETE", "rolesmapping/kibana_server", None, "Resource 'kibana_server' is reserved."),
])
def test_reserved_and_static_entries_are_refused(stub, method, path, body, message):
    before = (json.dumps(stub.security_roles, sort_keys=True), json.dumps(stub.role_mappings, sort_keys=True))
    assert error(stub, method, path, body) == (403, {"status": "FORBIDDEN", "message": message})
    assert (json.dumps(stub.security_roles, sort_keys=True), json.dumps(stub.role_mappings, sort_keys=True)) == before


def test_a_mapping_of_a_predefined_role_may_change(stub):
    assert call(stub, "PUT", "rolesmapping/readall", {"backend_roles": [FIREHOSE]})[0] == 201
    assert call(stub, "PUT", "rolesmapping/all_access", {"backend_roles": [MASTER, FIREHOSE]})[0] == 200


@pytest.mark.parametrize("path,body,expected", [
    ("rolesmapping/readall", {"backendroles": ["x"]},
     {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": "backendroles"},
      "specify_one_of": {"keys": "and_backend_roles,backend_roles,hosts,users"}}),
    ("rolesmapping/readall", {"description": "only"},
     {"status": "error", "reason": "Invalid configuration", "specify_one_of": {"keys": "and_backend_roles,backend_roles,hosts,users"}}),
    ("rolesmapping/readall", {"users": "u"}, {"status": "error", "reason": "Wrong datatype", "users": "Array expected"}),
    ("rolesmapping/readall", {"users": [None]}, {"status": "error", "reason": "`null` is not allowed as json array element"}),
    ("roles/writer", {"cluster": ["x"]}, {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": "cluster"}}),
    ("roles/writer", {}, {"status": "error", "reason": "Request body required for this action."}),
])
def test_bad_bodies_are_refused_like_the_plugin(stub, path, body, expected):
    assert error(stub, "PUT", path, body) == (400, expected)


def test_security_api_needs_an_admin(stub):
    ro = ReadOnlyCredentials("AKIDREADONLY", "ro", None)
    status, body = error(stub, "GET", "rolesmapping/all_access", credentials=ro)
    assert status == 403 and body["status"] == "FORBIDDEN"
    assert body["message"].startswith("No permission to access REST API")
    assert error(stub, "PUT", "roles/writer", WRITER, credentials=ro)[0] == 403
    assert "writer" not in stub.security_roles


def test_security_api_requests_must_be_signed(stub):
    bad = ReadOnlyCredentials("testing", "wrong", None)
    status, body = error(stub, "PUT", "roles/writer", WRITER, credentials=bad)
    assert status == 403 and "signature" in body["message"]
    assert "writer" not in stub.security_roles and stub.requests == []
