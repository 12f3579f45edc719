# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The destination_policy filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.filter.destination_policy import FilterModule

DEST = "arn:aws:logs:us-east-1:123456789012:destination:logvault"
ACTIONS = ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"]


@pytest.fixture
def destination_policy():
    return FilterModule().filters()["destination_policy"]


def test_accounts_are_validated_deduplicated_and_sorted(destination_policy):
    policy = destination_policy(DEST, ["222222222222", "111111111111", "222222222222"])
    assert policy["Version"] == "2012-10-17"
    assert len(policy["Statement"]) == 1
    statement = policy["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": ["111111111111", "222222222222"]}
    assert statement["Action"] == ACTIONS
    assert statement["Resource"] == DEST
    assert "Condition" not in statement


def test_the_policy_grants_nothing_but_subscribing_to_that_destination(destination_policy):
    policy = destination_policy(DEST, ["111111111111"], "o-a1b2c3d4e5")
    for statement in policy["Statement"]:
        assert statement["Action"] == ACTIONS
        assert statement["Resource"] == DEST
        assert statement["Effect"] == "Allow"


def test_organization_form(destination_policy):
    policy = destination_policy(DEST, organization_id="o-a1b2c3d4e5")
    assert policy["Statement"] == [{
        "Sid": "AllowOrganizationToSubscribe",
        "Effect": "Allow",
        "Principal": "*",
        "Action": ACTIONS,
        "Resource": DEST,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": ["o-a1b2c3d4e5"]}},
    }]


def test_result_is_json_serialisable_and_stable(destination_policy):
    first = json.dumps(destination_policy(DEST, ["111111111111", "222222222222"]), sort_keys=True)
    second = json.dumps(destination_policy(DEST, ["222222222222", "111111111111"]), sort_keys=True)
    assert first == second


@pytest.mark.parametrize("args,kwargs,words", [
    (("arn:aws:kinesis:us-east-1:123456789012:stream/hub", ["111111111111"]), {}, ["destination ARN"]),
    ((DEST, ["12345"]), {}, ["accounts", "12345"]),
    ((DEST, ["11111111111a"]), {}, ["accounts"]),
    ((DEST, []), {}, ["accounts", "organization_id"]),
    ((DEST,), {"organization_id": "acme"}, ["organization_id", "acme"]),
])
def test_bad_input_names_the_filter_and_argument(destination_policy, args, kwargs, words):
    with pytest.raises(AnsibleFilterError) as info:
        destination_policy(*args, **kwargs)
    message = str(info.value)
    assert message.startswith("destination_policy: ")
    for word in words:
        assert word in message


def test_too_many_accounts_suggests_the_organization_form(destination_policy):
    accounts = ["%012d" % (100000000000 + i) for i in range(400)]
    with pytest.raises(AnsibleFilterError) as info:
        destination_policy(DEST, accounts)
    message = str(info.value)
    assert "5120" in message and "organization_id" in message
    # The same accounts in an organization fit easily.
    assert destination_policy(DEST, organization_id="o-a1b2c3d4e5")
