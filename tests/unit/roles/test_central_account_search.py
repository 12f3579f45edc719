# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What role central_account renders for search: the daily indices' default ingest pipeline
(issue 16 item 8), the verification reader role (issue 13 item 3), team roles with
document-level security and the master role's trust (issue 18 item 1). Rendered with
ansible-core's Templar as in test_role_policies.py; no AWS call."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import render


def test_the_daily_indices_default_pipeline_is_the_event_id_pipeline():
    settings = render("central_account", "_central_account_opensearch_index_settings")
    assert settings == {"number_of_shards": 1, "number_of_replicas": 1, "default_pipeline": "logvault-event-id"}


def test_no_pipeline_when_it_is_turned_off():
    settings = render("central_account", "_central_account_opensearch_index_settings", central_account_opensearch_ingest_pipeline="")
    assert "default_pipeline" not in settings
