# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""opensearch_domain_access_policy, run in-process (main() with patched module args) against moto."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
from unittest import mock

import boto3
import pytest
from moto import mock_aws


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import opensearch_domain_access_policy as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ACCOUNT = "123456789012"
DOMAIN = "logvault"
DOMAIN_ARN = "arn:aws:es:us-east-1:123456789012:domain/logvault"
ADMIN = "arn:aws:iam::123456789012:role/search-admin"
FIREHOSE = "arn:aws:iam::123456789012:role/search-firehose"


def policy(*principals, **statement):
    body = {"Sid": "NamedPrincipalsOnly", "Effect": "Allow", "Principal": {"AWS": list(principals or [ADMIN])},
            "Action": "es:ESHttp*", "Resource": DOMAIN_ARN + "/*"}
    body.update(statement)
    return {"Version": "2012-10-17", "Statement": [body]}


def run(args, check_mode=False, diff=False):
    """Run the module's main() with ``args``; return its result dict (``failed`` set on failure)."""
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def opensearch(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield boto3.client("opensearch", region_name=REGION)


def _stored(client):
    raw = client.describe_domain_config(DomainName=DOMAIN)["DomainConfig"]["AccessPolicies"]["Options"]
    return json.loads(raw) if raw else {}


def test_four_step_cycle(opensearch):
    opensearch.create_domain(DomainName=DOMAIN)
    wanted = policy(ADMIN, FIREHOSE)
    first = run(dict(domain_name=DOMAIN, policy=wanted), check_mode=True, diff=True)
    assert first["changed"] is True
    assert first["diff"] == {"before": {}, "after": wanted}
    assert _stored(opensearch) == {}, "check mode wrote"

    second = run(dict(domain_name=DOMAIN, policy=wanted))
    assert second["changed"] is True and second["policy"] == wanted
    assert _stored(opensearch) == wanted

    assert run(dict(domain_name=DOMAIN, policy=wanted), check_mode=True)["changed"] is False
    fourth = run(dict(domain_name=DOMAIN, policy=wanted))
    assert fourth["changed"] is False and fourth["policy"] == wanted


def test_reformatted_policy_is_no_change_and_a_new_principal_is(opensearch):
    opensearch.create_domain(DomainName=DOMAIN)
    run(dict(domain_name=DOMAIN, policy=policy(ADMIN, FIREHOSE)))
    reordered = policy(FIREHOSE, ADMIN, Action=["es:ESHttp*"])
    assert run(dict(domain_name=DOMAIN, policy=reordered))["changed"] is False
    widened = policy(ADMIN, FIREHOSE, "arn:aws:iam::123456789012:role/reader")
    result = run(dict(domain_name=DOMAIN, policy=widened), check_mode=True, diff=True)
    assert result["changed"] is True and result["diff"]["before"] == policy(ADMIN, FIREHOSE)
    assert _stored(opensearch) == policy(ADMIN, FIREHOSE)
    assert run(dict(domain_name=DOMAIN, policy=widened))["changed"] is True
    assert _stored(opensearch) == widened


def test_missing_domain(opensearch):
    check = run(dict(domain_name=DOMAIN, policy=policy()), check_mode=True)
    assert check["changed"] is True and "failed" not in check
    real = run(dict(domain_name=DOMAIN, policy=policy()))
    assert real["failed"] is True and "does not exist" in real["msg"]


@pytest.mark.parametrize("principal", ["*", {"AWS": "*"}, {"AWS": [ADMIN, "*"]}, {"AWS": "arn:aws:iam::*:root"}])
def test_public_principals_are_refused(opensearch, principal):
    opensearch.create_domain(DomainName=DOMAIN)
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(dict(domain_name=DOMAIN, policy=policy(Principal=principal)))
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith("policy ") and "public" in result["msg"]
    assert _stored(opensearch) == {}


def test_deny_may_name_everyone(opensearch):
    opensearch.create_domain(DomainName=DOMAIN)
    deny = {"Effect": "Deny", "Principal": "*", "Action": "es:ESHttpDelete", "Resource": DOMAIN_ARN + "/*"}
    wanted = policy()
    wanted["Statement"].append(deny)
    assert run(dict(domain_name=DOMAIN, policy=wanted))["changed"] is True


@pytest.mark.parametrize("args,param", [
    (dict(domain_name="Logvault", policy=policy()), "domain_name"),
    (dict(domain_name="lv", policy=policy()), "domain_name"),
    (dict(domain_name=DOMAIN, policy={"Version": "2012-10-17"}), "policy"),
    (dict(domain_name=DOMAIN, policy={"Statement": []}), "policy"),
    (dict(domain_name=DOMAIN, policy=policy(Effect="Maybe")), "policy"),
    (dict(domain_name=DOMAIN, policy={"Statement": [{"Effect": "Allow", "NotPrincipal": {"AWS": ADMIN}, "Action": "es:*"}]}),
     "policy"),
    (dict(domain_name=DOMAIN, policy={"Statement": [{"Effect": "Allow", "Action": "es:*"}]}), "policy"),
])
def test_bad_input_fails_before_any_aws_call(opensearch, args, param):
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS was called")) as client:
        result = run(args)
    assert not client.called
    assert result["failed"] is True
    assert result["msg"].startswith(param + " ")
