# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""central_account's Dashboards settings (issue 18 items 2 and 3): the sign-in preflight refuses
SAML and Cognito together (AWS allows one method at a time) and incomplete settings, both are off
by default, and the saved-objects task runs only where the data-plane tasks run. Assertions are
evaluated with ansible-core's Templar, as in test_role_policies.py (no AWS call)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import ROLES
from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import assertion_passes
from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import render

ONE = "Assert that at most one Dashboards sign-in method is on"
SAML = "Assert that the SAML sign-in settings are complete"
COGNITO = "Assert that the Cognito sign-in settings are complete"
METADATA = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.com/x"/>'
SAML_ON = dict(central_account_dashboards_saml_enabled=True, central_account_dashboards_saml_idp_metadata=METADATA,
               central_account_dashboards_saml_idp_entity_id="https://idp.example.com/x")
COGNITO_ON = dict(central_account_dashboards_cognito_enabled=True,
                  central_account_dashboards_cognito_user_pool_id="us-east-1_AbC123xyz",
                  central_account_dashboards_cognito_identity_pool_id="us-east-1:2a8e8f1c-1111-2222-3333-444455556666",
                  central_account_dashboards_cognito_role_arn="arn:aws:iam::123456789012:role/CognitoAccessForAmazonOpenSearch")


def test_both_sign_in_methods_are_off_by_default():
    assert render("central_account", "central_account_dashboards_saml_enabled") is False
    assert render("central_account", "central_account_dashboards_cognito_enabled") is False
    for name in (ONE, SAML, COGNITO):
        assert assertion_passes("central_account", "preflight.yml", name)


def test_saml_and_cognito_together_are_refused():
    assert assertion_passes("central_account", "preflight.yml", ONE, **SAML_ON)
    assert assertion_passes("central_account", "preflight.yml", ONE, **COGNITO_ON)
    both = dict(SAML_ON, **COGNITO_ON)
    assert not assertion_passes("central_account", "preflight.yml", ONE, **both)


@pytest.mark.parametrize("override", [
    dict(central_account_dashboards_saml_idp_metadata=""),
    dict(central_account_dashboards_saml_idp_metadata="https://idp.example.com/metadata"),  # a URL, not its content
    dict(central_account_dashboards_saml_idp_entity_id=""),
    dict(central_account_dashboards_saml_session_timeout_minutes=0),
    dict(central_account_dashboards_saml_session_timeout_minutes=1441),
])
def test_incomplete_saml_settings_are_refused(override):
    assert assertion_passes("central_account", "preflight.yml", SAML, **SAML_ON)
    assert not assertion_passes("central_account", "preflight.yml", SAML, **dict(SAML_ON, **override))


@pytest.mark.parametrize("override", [
    dict(central_account_dashboards_cognito_user_pool_id=""),
    dict(central_account_dashboards_cognito_user_pool_id="pool"),
    dict(central_account_dashboards_cognito_identity_pool_id="us-east-1_AbC"),
    dict(central_account_dashboards_cognito_role_arn="arn:aws:iam::123456789012:user/bob"),
])
def test_incomplete_cognito_settings_are_refused(override):
    assert assertion_passes("central_account", "preflight.yml", COGNITO, **COGNITO_ON)
    assert not assertion_passes("central_account", "preflight.yml", COGNITO, **dict(COGNITO_ON, **override))


def _task(name):
    with open(os.path.join(ROLES, "central_account", "tasks", "opensearch.yml"), encoding="utf-8") as handle:
        for task in yaml.safe_load(handle):
            if task.get("name") == name:
                return task
    raise AssertionError("no task %r" % name)


def test_saved_objects_run_where_the_data_plane_tasks_run():
    task = _task("Import the OpenSearch Dashboards saved objects (index pattern, saved searches, overview dashboard)")
    template = _task("Manage the index template of the daily log indices")
    assert "_central_account_opensearch_endpoint | length > 0" in task["when"]
    assert template["when"] == "_central_account_opensearch_endpoint | length > 0"
    args = task["logvault.aws.opensearch_dashboards_saved_objects"]
    assert args["endpoint"] == template["logvault.aws.opensearch_index_template"]["endpoint"]
    assert "dashboards/logvault.ndjson.j2" in args["content"]
    assert render("central_account", "central_account_dashboards_saved_objects") is True
