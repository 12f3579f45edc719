# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_audit_config (issue 14, Policies and settings 5: audit logging turned on in the
security plugin), run in-process against the SigV4-verifying OpenSearch test double
(tests/opensearch_stub) with the configuration role central_account applies: the four-step cycle
(check predicts, apply, second run changed=0, check after changed=0), read-only paths refused
before any write, a principal without the security API refused, bad input named by option."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest
import yaml

from ansible_collections.logvault.aws.plugins.modules import opensearch_audit_config as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

_TESTS = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
_STUB_PATH = os.path.join(_TESTS, "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)
DEFAULTS = os.path.join(os.path.dirname(_TESTS), "roles", "central_account", "defaults", "main.yml")
PUT = "/_plugins/_security/api/audit/config"


def run(args, check_mode=False, diff=False, key="testing"):
    defaults = {"region": "us-east-1", "access_key": key, "secret_key": key}
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults=defaults)


@pytest.fixture
def stub(monkeypatch):
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(name, raising=False)
    server = _STUB.start({"testing": "testing", "AKIDREADONLY": "AKIDREADONLY"}, fgac_denied=["AKIDREADONLY"])
    yield server
    server.stop()


def role_config():
    """What role central_account passes (its defaults), without the connection options."""
    with open(DEFAULTS, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["central_account_opensearch_audit_config"]


def args(stub, **extra):
    value = dict(endpoint=stub.endpoint, ca_path=stub.ca_path)
    value.update(role_config())
    value.update(extra)
    return value


def puts(stub):
    return [r for r in stub.requests if r[0] == "PUT" and r[1] == PUT]


def test_four_step_cycle_with_the_roles_configuration(stub):
    assert stub.audit_config["enabled"] is False  # a new domain: audit logging is off
    first = run(args(stub), check_mode=True, diff=True)
    assert first["changed"] is True and "enabled" in first["changed_fields"] and "audit.log_request_body" in first["changed_fields"]
    assert first["diff"]["before"]["enabled"] is False and first["diff"]["after"]["enabled"] is True
    assert puts(stub) == [] and stub.audit_config["enabled"] is False

    second = run(args(stub))
    assert second["changed"] is True and second["changed_fields"] == first["changed_fields"]
    assert len(puts(stub)) == 1
    assert stub.audit_config["enabled"] is True and stub.audit_config["audit"]["log_request_body"] is False
    assert stub.audit_config["audit"]["enable_rest"] is True and stub.audit_config["compliance"]["enabled"] is True
    # fields the task does not name keep the domain's values
    assert stub.audit_config["compliance"]["read_metadata_only"] is True

    assert run(args(stub), check_mode=True)["changed"] is False
    again = run(args(stub))
    assert again["changed"] is False and again["changed_fields"] == [] and len(puts(stub)) == 1


def test_lists_compare_as_sets(stub):
    run(args(stub))
    stub.audit_config["audit"]["disabled_rest_categories"].reverse()  # the domain returns another order
    assert run(args(stub))["changed"] is False
    result = run(args(stub, audit=dict(role_config()["audit"], disabled_rest_categories=["AUTHENTICATED"])))
    assert result["changed_fields"] == ["audit.disabled_rest_categories"]
    assert stub.audit_config["audit"]["disabled_rest_categories"] == ["AUTHENTICATED"]


def test_a_read_only_path_is_refused_before_any_write(stub):
    result = run(args(stub, compliance={"enabled": True, "internal_config": False}))
    assert result.get("failed") is True and "compliance.internal_config cannot be changed" in result["msg"]
    assert puts(stub) == [] and stub.audit_config["enabled"] is False
    # the same value as the domain's is not a change
    assert run(args(stub, audit={"exclude_sensitive_headers": True}))["changed"] is True  # (enabled)
    assert run(args(stub, audit={"exclude_sensitive_headers": True}))["changed"] is False


def test_turning_it_off_keeps_the_settings(stub):
    run(args(stub))
    result = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, enabled=False))
    assert result["changed"] is True and result["changed_fields"] == ["enabled"]
    assert stub.audit_config["enabled"] is False and stub.audit_config["audit"]["log_request_body"] is False


def test_a_principal_without_the_security_api_is_refused(stub):
    result = run(args(stub), key="AKIDREADONLY")
    assert result.get("failed") is True and "security_manager" in result["msg"] and result["status"] == 403


def test_the_double_refuses_what_the_plugin_refuses(stub):
    from ansible_collections.logvault.aws.plugins.module_utils import opensearch as osu  # pylint: disable=import-outside-toplevel
    from botocore.credentials import ReadOnlyCredentials  # pylint: disable=import-outside-toplevel

    client = osu.OpenSearchClient(stub.endpoint, "us-east-1", ReadOnlyCredentials("testing", "testing", None), ca_path=stub.ca_path)
    with pytest.raises(osu.OpenSearchError) as info:
        client.request("PUT", PUT.lstrip("/"), body={"enabled": True, "audit": {"unknown": 1}})
    assert info.value.status == 400
    with pytest.raises(osu.OpenSearchError) as info:
        client.request("PUT", PUT.lstrip("/"), body={"enabled": True, "audit": {"exclude_sensitive_headers": False}})
    assert info.value.status == 409
    with pytest.raises(osu.OpenSearchError) as info:
        client.request("PUT", PUT.lstrip("/"), body={"enabled": "yes"})
    assert info.value.status == 400


@pytest.mark.parametrize("extra,named", [
    ({"audit": {"disabled_rest_categories": ["authenticated"]}}, "audit.disabled_rest_categories"),
    ({"audit": {"ignore_users": [""]}}, "audit.ignore_users"),
    ({"compliance": {"read_watched_fields": {"logs-*": "message"}}}, "compliance.read_watched_fields"),
])
def test_bad_input_is_named_before_any_request(stub, extra, named):
    result = run(dict(endpoint=stub.endpoint, ca_path=stub.ca_path, **extra))
    assert result.get("failed") is True and named in result["msg"]
    assert stub.requests == []


def test_the_roles_task_as_rendered_applies_once_and_check_predicts(stub):
    """roles/central_account/tasks/opensearch.yml's task, its module arguments rendered from the
    role's defaults and vars, run on the double: check predicts the change, the run makes it, a
    second run and a check after it report changed=0. It runs where the other data-plane tasks run."""
    from ansible.template import trust_as_template  # pylint: disable=import-outside-toplevel
    from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import _trust, assertion, templar  # pylint: disable=import-outside-toplevel

    task = assertion("central_account", "opensearch.yml", "Turn on audit logging in the security plugin of the domain")
    assert task["when"] == "_central_account_opensearch_endpoint | length > 0"
    templ = templar("central_account", central_account_opensearch_endpoint_override=stub.endpoint,
                    central_account_opensearch_ca_path=stub.ca_path)
    module_args = {}
    for key, value in _trust(task["logvault.aws.opensearch_audit_config"]).items():
        if key in ("access_key", "secret_key", "session_token", "region"):
            continue  # the assumed master role's credentials: the double's master key here
        rendered = templ.template(value) if isinstance(value, str) else value
        module_args[key] = rendered
    module_args["endpoint"] = templ.template(trust_as_template("{{ _central_account_opensearch_endpoint }}")).strip()
    predicted = run(module_args, check_mode=True)
    assert predicted["changed"] is True and puts(stub) == []
    applied = run(module_args)
    assert applied["changed"] is True and applied["changed_fields"] == predicted["changed_fields"]
    assert stub.audit_config["enabled"] is True and stub.audit_config["audit"]["log_request_body"] is False
    assert run(module_args)["changed"] is False
    assert run(module_args, check_mode=True)["changed"] is False
    assert len(puts(stub)) == 1
