# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""dynamodb_time_to_live, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type


from unittest import mock

import boto3
import pytest
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import dynamodb_time_to_live as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
TABLE = "alerts-state"


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def dynamodb(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("dynamodb", region_name=REGION)


def _create(client, name=TABLE):
    client.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
                        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}])


def _ttl(client):
    return client.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]


def test_four_step_cycle(dynamodb):
    _create(dynamodb)
    args = dict(table_name=TABLE, attribute_name="expires_at")
    first = run(args, check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"] == {"before": {"enabled": False, "attribute_name": ""},
                             "after": {"enabled": True, "attribute_name": "expires_at"}}
    assert _ttl(dynamodb)["TimeToLiveStatus"] == "DISABLED", "check mode wrote"

    second = run(args)
    assert second["changed"] is True
    assert second["time_to_live"] == {"enabled": True, "attribute_name": "expires_at"}
    assert _ttl(dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}

    assert run(args, check_mode=True)["changed"] is False
    assert run(args)["changed"] is False


@pytest.mark.parametrize("check_mode", [True, False])
def test_moving_to_another_attribute_is_refused_and_ttl_stays_on(dynamodb, check_mode):
    _create(dynamodb)
    run(dict(table_name=TABLE, attribute_name="expires_at"))
    result = run(dict(table_name=TABLE, attribute_name="ttl"), check_mode=check_mode)
    assert result["failed"] is True and result["parameter"] == "attribute_name"
    assert "state=absent, wait an hour" in result["msg"]
    # Never left without TTL: the old attribute is still enabled.
    assert _ttl(dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_the_two_run_move(dynamodb):
    _create(dynamodb)
    run(dict(table_name=TABLE, attribute_name="expires_at"))
    assert run(dict(table_name=TABLE, state="absent"))["changed"] is True
    assert _ttl(dynamodb)["TimeToLiveStatus"] == "DISABLED"
    result = run(dict(table_name=TABLE, attribute_name="ttl"), diff=True)
    assert result["changed"] is True
    assert _ttl(dynamodb) == {"TimeToLiveStatus": "ENABLED", "AttributeName": "ttl"}


def test_absent(dynamodb):
    _create(dynamodb)
    run(dict(table_name=TABLE, attribute_name="expires_at"))
    assert run(dict(table_name=TABLE, state="absent"), check_mode=True)["changed"] is True
    assert _ttl(dynamodb)["TimeToLiveStatus"] == "ENABLED"
    result = run(dict(table_name=TABLE, state="absent"))
    assert result["changed"] is True and result["time_to_live"] == {"enabled": False, "attribute_name": "expires_at"}
    assert _ttl(dynamodb)["TimeToLiveStatus"] == "DISABLED"
    assert run(dict(table_name=TABLE, state="absent"), check_mode=True)["changed"] is False
    assert run(dict(table_name=TABLE, state="absent"))["changed"] is False


def test_missing_table(dynamodb):
    check = run(dict(table_name=TABLE, attribute_name="expires_at"), check_mode=True)
    assert check["changed"] is True and "failed" not in check
    assert run(dict(table_name=TABLE, state="absent"), check_mode=True)["changed"] is False
    real = run(dict(table_name=TABLE, attribute_name="expires_at"))
    assert real["failed"] is True and "does not exist" in real["msg"] and TABLE in real["msg"]


@pytest.mark.parametrize("args,param", [
    (dict(table_name="ab", attribute_name="expires_at"), "table_name"),
    (dict(table_name="bad name", attribute_name="expires_at"), "table_name"),
    (dict(table_name=TABLE, attribute_name=""), "attribute_name"),
    (dict(table_name=TABLE, attribute_name="x" * 256), "attribute_name"),
    (dict(table_name=TABLE), "attribute_name"),
])
def test_bad_input_fails_before_any_aws_call(dynamodb, args, param):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(args)
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith(param + " ")
