# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/opensearch.py: endpoint validation, error explanations, and SigV4-signed
requests checked by the SigV4-verifying OpenSearch test double (tests/opensearch_stub)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import datetime
import importlib.util
import json
import os

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import ReadOnlyCredentials

from ansible_collections.logvault.aws.plugins.module_utils import opensearch as osu

# The OpenSearch test double is loaded from its file, so tests/ never goes on sys.path.
_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)
start, verify_sigv4, SignatureError = _STUB.start, _STUB.verify_sigv4, _STUB.SignatureError

CREDS = ReadOnlyCredentials("testing", "testing", None)
POLICY = {"policy": {"description": "x", "default_state": "hot", "states": [{"name": "hot", "actions": [], "transitions": []}]}}


@pytest.fixture
def stub():
    server = start({"testing": "testing", "AKIDREADONLY": "ro-secret"}, fgac_denied=["AKIDREADONLY"])
    yield server
    server.stop()


def client(stub, credentials=CREDS, region="us-east-1", **kwargs):
    kwargs.setdefault("ca_path", stub.ca_path)
    return osu.OpenSearchClient(stub.endpoint, region, credentials, **kwargs)


@pytest.mark.parametrize("value,expected", [
    ("search-logs-abc.us-east-1.es.amazonaws.com", "https://search-logs-abc.us-east-1.es.amazonaws.com"),
    ("https://search-logs-abc.us-east-1.es.amazonaws.com/", "https://search-logs-abc.us-east-1.es.amazonaws.com"),
    ("https://127.0.0.1:9200", "https://127.0.0.1:9200"),
    ("  vpc-logs.eu-west-1.es.amazonaws.com  ", "https://vpc-logs.eu-west-1.es.amazonaws.com"),
])
def test_validate_endpoint_accepts(value, expected):
    assert osu.validate_endpoint(value) == expected


@pytest.mark.parametrize("value,fragment", [
    ("", "non-empty"),
    (None, "non-empty"),
    ("http://search-x.us-east-1.es.amazonaws.com", "https://"),
    ("ftp://x", "https://"),
    ("https://user:pw@search-x.us-east-1.es.amazonaws.com", "credentials"),
    ("https://search-x.us-east-1.es.amazonaws.com/_dashboards", "no path"),
    ("https://search-x.us-east-1.es.amazonaws.com?x=1", "no path"),
    ("https://bad_host!name", "valid host"),
    ("https://host:99999", "not a valid URL"),
])
def test_validate_endpoint_rejects_naming_the_parameter(value, fragment):
    with pytest.raises(ValueError) as info:
        osu.validate_endpoint(value)
    assert str(info.value).startswith("endpoint")
    assert fragment in str(info.value)


def test_region_from_endpoint():
    assert osu.region_from_endpoint("https://search-a.eu-west-1.es.amazonaws.com") == "eu-west-1"
    assert osu.region_from_endpoint("https://vpc-a-b.us-gov-west-1.es.amazonaws.com") == "us-gov-west-1"
    assert osu.region_from_endpoint("https://127.0.0.1:9200") is None


def test_signed_request_is_verified_and_answered(stub):
    status, answer = client(stub).request("PUT", "_plugins/_ism/policies/p1", body=POLICY)
    assert status == 201
    assert answer["_id"] == "p1" and answer["_seq_no"] == 0
    status, answer = client(stub).request("GET", "_plugins/_ism/policies/p1")
    assert status == 200 and answer["_primary_term"] == 1
    assert [(m, p) for m, p, q, k in stub.requests] == [("PUT", "/_plugins/_ism/policies/p1"), ("GET", "/_plugins/_ism/policies/p1")]
    assert stub.rejected == []


def test_session_token_is_signed(stub):
    creds = ReadOnlyCredentials("testing", "testing", "a-session-token")
    status, dummy = client(stub, credentials=creds).request("GET", "")
    assert status == 200


def test_missing_policy_is_a_404_error(stub):
    with pytest.raises(osu.OpenSearchError) as info:
        client(stub).request("GET", "_plugins/_ism/policies/nope")
    assert info.value.status == 404
    assert info.value.reason == "Policy not found"
    assert "Not found: GET /_plugins/_ism/policies/nope" in info.value.message


def test_stale_sequence_number_is_a_clear_409(stub):
    c = client(stub)
    c.request("PUT", "_plugins/_ism/policies/p1", body=POLICY)
    c.request("PUT", "_plugins/_ism/policies/p1", body=POLICY, query={"if_seq_no": 0, "if_primary_term": 1})
    with pytest.raises(osu.OpenSearchError) as info:
        c.request("PUT", "_plugins/_ism/policies/p1", body=POLICY, query={"if_seq_no": 0, "if_primary_term": 1})
    assert info.value.status == 409
    assert info.value.error_type == "version_conflict_engine_exception"
    assert "changed by someone else" in info.value.message


def test_overwrite_without_sequence_number_is_refused(stub):
    c = client(stub)
    c.request("PUT", "_plugins/_ism/policies/p1", body=POLICY)
    with pytest.raises(osu.OpenSearchError) as info:
        c.request("PUT", "_plugins/_ism/policies/p1", body=POLICY)
    assert info.value.status == 409


def test_fine_grained_access_control_403_is_explained(stub):
    ro = ReadOnlyCredentials("AKIDREADONLY", "ro-secret", None)
    assert client(stub, credentials=ro).request("GET", "")[0] == 200
    with pytest.raises(osu.OpenSearchError) as info:
        client(stub, credentials=ro).request("PUT", "_plugins/_ism/policies/p1", body=POLICY)
    assert info.value.status == 403
    assert info.value.error_type == "security_exception"
    assert info.value.message.startswith("Fine-grained access control denied PUT /_plugins/_ism/policies/p1")
    assert "role" in info.value.message


@pytest.mark.parametrize("credentials,region,fragment", [
    (ReadOnlyCredentials("testing", "wrong", None), "us-east-1", "signature we calculated does not match"),
    (ReadOnlyCredentials("AKIDUNKNOWN", "x", None), "us-east-1", "security token included in the request is invalid"),
    (CREDS, "eu-west-1", "scoped to a valid region"),
])
def test_bad_signatures_are_refused_by_the_test_double(stub, credentials, region, fragment):
    with pytest.raises(osu.OpenSearchError) as info:
        client(stub, credentials=credentials, region=region).request("GET", "_plugins/_ism/policies/p1")
    assert info.value.status == 403
    assert fragment in info.value.message
    assert "domain access policy" in info.value.message
    assert stub.requests == []  # nothing unsigned reached the handlers


def test_tls_is_verified_by_default(stub):
    with pytest.raises(osu.OpenSearchError) as info:
        osu.OpenSearchClient(stub.endpoint, "us-east-1", CREDS).request("GET", "")
    assert "certificate verify failed" in info.value.message.lower() or "CERTIFICATE_VERIFY_FAILED" in info.value.message


def test_tls_verification_can_be_disabled(stub):
    status, dummy = osu.OpenSearchClient(stub.endpoint, "us-east-1", CREDS, validate_certs=False).request("GET", "")
    assert status == 200


def test_unreachable_endpoint_is_reported():
    with pytest.raises(osu.OpenSearchError) as info:
        osu.OpenSearchClient("https://127.0.0.1:1", "us-east-1", CREDS, timeout=2).request("GET", "")
    assert "Cannot reach the OpenSearch endpoint https://127.0.0.1:1" in info.value.message


def _signed(method, url, body, credentials=CREDS, service="es", region="us-east-1"):
    request = AWSRequest(method=method, url=url, data=body, headers={"Content-Type": "application/json"})
    SigV4Auth(credentials, service, region).add_auth(request)
    headers = dict(request.headers.items())
    headers["Host"] = "127.0.0.1:9200"
    return headers


def test_verifier_rejects_a_tampered_body():
    url = "https://127.0.0.1:9200/_plugins/_ism/policies/p1"
    headers = _signed("PUT", url, b'{"a": 1}')
    assert verify_sigv4("PUT", "/_plugins/_ism/policies/p1", headers, b'{"a": 1}', {"testing": "testing"}, "us-east-1") == "testing"
    with pytest.raises(SignatureError):
        verify_sigv4("PUT", "/_plugins/_ism/policies/p1", headers, b'{"a": 2}', {"testing": "testing"}, "us-east-1")


def test_verifier_rejects_wrong_service_and_old_signatures():
    url = "https://127.0.0.1:9200/"
    with pytest.raises(SignatureError) as info:
        verify_sigv4("GET", "/", _signed("GET", url, b"", service="s3"), b"", {"testing": "testing"}, "us-east-1")
    assert "service" in str(info.value)
    later = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(minutes=10)
    with pytest.raises(SignatureError) as info:
        verify_sigv4("GET", "/", _signed("GET", url, b""), b"", {"testing": "testing"}, "us-east-1", now=later)
    assert "expired" in str(info.value)
    headers = _signed("GET", url, b"")
    del headers["Authorization"]
    with pytest.raises(SignatureError):
        verify_sigv4("GET", "/", headers, b"", {"testing": "testing"}, "us-east-1")


def test_error_details_tolerate_odd_bodies():
    assert osu._error_details('{"error": {"type": "t", "reason": "r"}}') == ("t", "r")
    assert osu._error_details('{"message": "denied"}') == (None, "denied")
    assert osu._error_details("<html>bad gateway</html>") == (None, "<html>bad gateway</html>")
    assert osu._error_details(json.dumps({"error": "plain"})) == (None, "plain")
    assert osu._error_details("") == (None, None)


# --- issue 14: the signing region is the endpoint's, unless region is given -------------------

EU_ENDPOINT = "search-logs-abc123.eu-west-1.es.amazonaws.com"


class _Built(Exception):
    """Raised by the client test double once the module has built its OpenSearch client."""


def _signing_region_of(module_name, args, monkeypatch):
    import importlib
    from unittest import mock
    from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

    set_test_credentials(monkeypatch, region="us-west-2")  # the environment names another region
    module = importlib.import_module("ansible_collections.logvault.aws.plugins.modules." + module_name)

    def fake_client(base_url, region, credentials, **kwargs):  # a test double of OpenSearchClient
        raise _Built(region)

    with mock.patch.object(osu, "OpenSearchClient", fake_client), pytest.raises(_Built) as info:
        run_module(module, args)
    return info.value.args[0]


MODULE_ARGS = [
    ("opensearch_index_policy", dict(endpoint=EU_ENDPOINT, policy_id="p", delete_after_days=30, index_patterns=["logs-*"])),
    ("opensearch_index_template", dict(endpoint=EU_ENDPOINT, name="t", state="absent")),
    ("opensearch_role_mapping", dict(endpoint=EU_ENDPOINT, role="r", state="absent")),
    ("pipeline_canary_info", dict(markers=["m"], opensearch=dict(endpoint=EU_ENDPOINT))),
]


@pytest.mark.parametrize("module_name,args", MODULE_ARGS)
def test_endpoint_region_wins_over_the_environment(module_name, args, monkeypatch):
    assert _signing_region_of(module_name, args, monkeypatch) == "eu-west-1"


@pytest.mark.parametrize("module_name,args", MODULE_ARGS)
def test_explicit_region_wins_over_the_endpoint(module_name, args, monkeypatch):
    assert _signing_region_of(module_name, dict(args, region="eu-central-1"), monkeypatch) == "eu-central-1"


def test_environment_region_is_used_when_the_endpoint_has_none(monkeypatch):
    args = dict(endpoint="https://logs.example.com", role="r", state="absent")
    assert _signing_region_of("opensearch_role_mapping", args, monkeypatch) == "us-west-2"
