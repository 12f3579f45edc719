# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_dashboards_sign_in, run in-process (main() with patched module args) against moto:
SAML and Cognito on and off, the four-step cycle, the switch order, and every refusal named by
its parameter before any AWS call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.logvault.aws.plugins.modules import opensearch_dashboards_sign_in as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
DOMAIN = "logvault-search"
ENTITY = "https://portal.sso.us-east-1.amazonaws.com/saml/assertion/MTIzNDU2Nzg5MDEy"
METADATA = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="%s">'
            '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"/>'
            '</md:EntityDescriptor>\n' % ENTITY)
SAML_ON = dict(enabled=True, idp_metadata_content=METADATA, idp_entity_id=ENTITY, roles_key="groups",
               master_backend_role="admins-group-id")
COGNITO_ON = dict(enabled=True, user_pool_id="us-east-1_AbC123xyz", identity_pool_id="us-east-1:2a8e8f1c-1111-2222-3333-444455556666",
                  role_arn="arn:aws:iam::123456789012:role/service-role/CognitoAccessForAmazonOpenSearch")


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def opensearch(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("opensearch", region_name=REGION)
        client.create_domain(DomainName=DOMAIN, AdvancedSecurityOptions={"Enabled": True, "InternalUserDatabaseEnabled": False},
                             NodeToNodeEncryptionOptions={"Enabled": True}, EncryptionAtRestOptions={"Enabled": True},
                             DomainEndpointOptions={"EnforceHTTPS": True})
        yield client


def recorded_run(args, **kwargs):
    """Run the module; return (result, [request of every UpdateDomainConfig call])."""
    calls = []
    original = module_under_test.AnsibleAWSModule.client

    def client(self, *cargs, **ckwargs):
        made = original(self, *cargs, **ckwargs)
        update = made.update_domain_config

        def recording(**request):
            calls.append(dict((k, v) for k, v in request.items() if k not in ("DomainName", "aws_retry")))
            return update(**request)
        made.update_domain_config = recording
        return made

    with mock.patch.object(module_under_test.AnsibleAWSModule, "client", client):
        return run(args, **kwargs), calls


def _config(client):
    return client.describe_domain_config(DomainName=DOMAIN)["DomainConfig"]


def test_both_off_is_no_change_and_no_write(opensearch):
    with mock.patch.object(opensearch.__class__, "update_domain_config") as update:
        result = run(dict(domain_name=DOMAIN, saml={"enabled": False}, cognito={"enabled": False}))
    assert result["changed"] is False and result["updates"] == []
    assert result["saml_enabled"] is False and result["cognito_enabled"] is False
    update.assert_not_called()


def test_saml_four_step_cycle(opensearch):
    args = dict(domain_name=DOMAIN, saml=SAML_ON, cognito={"enabled": False})
    first = run(args, check_mode=True, diff=True)
    assert first["changed"] is True and first["updates"] == ["saml"] and first["saml_enabled"] is True
    assert first["diff"]["before"]["saml"] == {"Enabled": False}
    assert not (_config(opensearch)["AdvancedSecurityOptions"]["Options"].get("SAMLOptions") or {}).get("Enabled")

    second, calls = recorded_run(args)
    assert second["changed"] is True
    # MasterBackendRole is write-only (SAMLOptionsInput): sent, never returned.
    assert calls[0]["AdvancedSecurityOptions"]["SAMLOptions"]["MasterBackendRole"] == "admins-group-id"
    stored = _config(opensearch)["AdvancedSecurityOptions"]["Options"]
    assert stored["Enabled"] is True, "fine-grained access control must stay on"
    assert stored["SAMLOptions"]["Enabled"] is True
    assert stored["SAMLOptions"]["Idp"] == {"MetadataContent": METADATA.strip(), "EntityId": ENTITY}
    assert stored["SAMLOptions"]["RolesKey"] == "groups"
    assert "MasterBackendRole" not in stored["SAMLOptions"]

    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False
    changed = run(dict(args, saml=dict(SAML_ON, session_timeout_minutes=120)), check_mode=True, diff=True)
    assert changed["changed"] is True and changed["diff"]["after"]["saml"]["SessionTimeoutMinutes"] == 120


def test_cognito_four_step_cycle_and_off_again(opensearch):
    args = dict(domain_name=DOMAIN, saml={"enabled": False}, cognito=COGNITO_ON)
    assert run(args, check_mode=True)["changed"] is True
    assert _config(opensearch)["CognitoOptions"]["Options"].get("Enabled") is False
    assert run(args)["changed"] is True
    options = _config(opensearch)["CognitoOptions"]["Options"]
    assert options == dict(Enabled=True, UserPoolId=COGNITO_ON["user_pool_id"], IdentityPoolId=COGNITO_ON["identity_pool_id"],
                           RoleArn=COGNITO_ON["role_arn"])
    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False
    off = run(dict(args, cognito={"enabled": False}))
    assert off["changed"] is True and off["cognito_enabled"] is False
    assert _config(opensearch)["CognitoOptions"]["Options"]["Enabled"] is False


def test_switch_from_cognito_to_saml_disables_cognito_first(opensearch):
    run(dict(domain_name=DOMAIN, cognito=COGNITO_ON))
    result, calls = recorded_run(dict(domain_name=DOMAIN, saml=SAML_ON, cognito={"enabled": False}))
    assert result["updates"] == ["cognito", "saml"]
    assert [sorted(c) for c in calls] == [["CognitoOptions"], ["AdvancedSecurityOptions"]]
    assert calls[0]["CognitoOptions"] == {"Enabled": False}
    assert _config(opensearch)["CognitoOptions"]["Options"]["Enabled"] is False
    assert _config(opensearch)["AdvancedSecurityOptions"]["Options"]["SAMLOptions"]["Enabled"] is True


def test_saml_needs_fine_grained_access_control(opensearch):
    opensearch.create_domain(DomainName="plain-domain")
    result = run(dict(domain_name="plain-domain", saml=SAML_ON))
    assert result["failed"] is True and result["parameter"] == "saml.enabled" and "fine-grained" in result["msg"]


def test_missing_domain_fails_but_check_mode_predicts(opensearch):
    assert run(dict(domain_name="not-yet", cognito=COGNITO_ON), check_mode=True)["changed"] is True
    assert run(dict(domain_name="not-yet", cognito={"enabled": False}), check_mode=True)["changed"] is False
    result = run(dict(domain_name="not-yet", cognito=COGNITO_ON))
    assert result["failed"] is True and "does not exist" in result["msg"]


@pytest.mark.parametrize("args, parameter, words", [
    (dict(saml=SAML_ON, cognito=COGNITO_ON), "saml.enabled", "one Dashboards authentication method at a time"),
    (dict(saml=dict(SAML_ON, idp_metadata_content="")), "saml.idp_metadata_content", "required"),
    (dict(saml=dict(SAML_ON, idp_metadata_content="<md:EntityDescriptor")), "saml.idp_metadata_content", "not well-formed XML"),
    (dict(saml=dict(SAML_ON, idp_metadata_content="<html/>")), "saml.idp_metadata_content", "EntityDescriptor"),
    (dict(saml=dict(SAML_ON, idp_entity_id=None)), "saml.idp_entity_id", "required"),
    (dict(saml=dict(SAML_ON, idp_entity_id="https://other.example.com/idp")), "saml.idp_entity_id", "differs from the entityID"),
    (dict(saml=dict(SAML_ON, session_timeout_minutes=0)), "saml.session_timeout_minutes", "between 1 and 1440"),
    (dict(cognito=dict(COGNITO_ON, user_pool_id=None)), "cognito.user_pool_id", "required"),
    (dict(cognito=dict(COGNITO_ON, identity_pool_id="pool")), "cognito.identity_pool_id", "not valid"),
    (dict(cognito=dict(COGNITO_ON, role_arn="arn:aws:iam::123456789012:user/bob")), "cognito.role_arn", "not valid"),
    (dict(domain_name="Bad_Name", cognito={"enabled": False}), "domain_name", "domain_name"),
])
def test_bad_input_fails_before_any_aws_call(monkeypatch, args, parameter, words):
    set_test_credentials(monkeypatch)
    with mock.patch.object(module_under_test.AnsibleAWSModule, "client") as client:
        result = run(dict(dict(domain_name=DOMAIN), **args))
    assert result["failed"] is True and result["parameter"] == parameter and words in result["msg"]
    client.assert_not_called()


def test_why_community_aws_opensearch_is_not_used():
    """The module's DOCUMENTATION says community.aws.opensearch 10.0.0 cannot set either method; this
    shows it on its own functions, so the statement fails the day community.aws fixes them."""
    from ansible_collections.community.aws.plugins.modules import opensearch as community

    class Params(object):
        def __init__(self, params):
            self.params = params

    desired = {"CognitoOptions": {"Enabled": False}}
    community.set_cognito_options(Params({"cognito_options": dict(COGNITO_ON)}), None, desired, [])
    assert desired["CognitoOptions"] == {"Enabled": True}, "the pool ids and role are never sent"

    # The API's key is SAMLOptions (botocore's AdvancedSecurityOptionsInput); the module writes SamlOptions.
    desired = {"AdvancedSecurityOptions": {"Enabled": True, "InternalUserDatabaseEnabled": False,
                                           "SAMLOptions": {"Enabled": False}}}
    saml = {"enabled": True, "idp": {"metadata_content": METADATA, "entity_id": ENTITY}}
    with pytest.raises(KeyError, match="SamlOptions"):
        community.set_advanced_security_options(Params({"advanced_security_options": {"enabled": True, "saml_options": saml}}),
                                                None, desired, [])
