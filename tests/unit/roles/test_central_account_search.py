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


# ------------------------------------------------------------------ rendered roles, run on the test double
import importlib.util  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402

import pytest  # noqa: E402
from ansible.template import trust_as_template  # noqa: E402

from ansible_collections.logvault.aws.plugins.modules import opensearch_index_template  # noqa: E402
from ansible_collections.logvault.aws.plugins.modules import opensearch_role_mapping  # noqa: E402
from ansible_collections.logvault.aws.plugins.modules import pipeline_canary_info  # noqa: E402
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module  # noqa: E402
from ansible_collections.logvault.aws.tests.unit.roles.test_role_policies import ACCOUNT, _trust, assertion, assertion_passes, templar  # noqa: E402

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)
_DATAPLANE_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "plugins", "module_utils", "test_opensearch_stub_dataplane.py")
_DSPEC = importlib.util.spec_from_file_location("logvault_tests_stub_dataplane_helpers", _DATAPLANE_PATH)
_HELPERS = importlib.util.module_from_spec(_DSPEC)
_DSPEC.loader.exec_module(_HELPERS)
send, bulk_body, event = _HELPERS.send, _HELPERS.bulk_body, _HELPERS.event

ACCOUNT_A, ACCOUNT_B = "111111111111", "222222222222"
DEPLOYER = "arn:aws:iam::%s:role/logvault-deployer" % ACCOUNT
TEAM_PRINCIPAL = "arn:aws:iam::%s:role/app-oncall" % ACCOUNT
OTHER = "arn:aws:iam::%s:role/someone-else" % ACCOUNT
TEAMS = [{"name": "app", "principal_arns": [TEAM_PRINCIPAL], "backend_roles": ["app-engineers"],
          "accounts": [ACCOUNT_A], "log_groups": ["/app/*"]}]


def test_master_role_trust_names_only_the_break_glass_principals():
    policy = render("central_account", "_central_account_search_admin_trust_policy")
    (statement,) = policy["Statement"]
    assert statement["Principal"] == {"AWS": "arn:aws:iam::%s:root" % ACCOUNT}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": ["arn:aws:iam::%s:role/logvault-break-glass" % ACCOUNT]}}
    named = render("central_account", "_central_account_search_admin_trust_policy",
                   central_account_break_glass_principal_arns=["arn:aws:iam::%s:role/bg-1" % ACCOUNT, "arn:aws:iam::%s:user/bg-2" % ACCOUNT])
    assert named["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == [
        "arn:aws:iam::%s:role/bg-1" % ACCOUNT, "arn:aws:iam::%s:user/bg-2" % ACCOUNT]


def test_the_deploying_role_is_not_in_the_master_roles_trust_unless_listed():
    # The default names the break-glass principals only, even when a deploying role is set.
    policy = render("central_account", "_central_account_search_admin_trust_policy", logvault_assume_role_arn=DEPLOYER)
    assert policy["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == ["arn:aws:iam::%s:role/logvault-break-glass" % ACCOUNT]
    explicit = render("central_account", "_central_account_search_admin_trust_policy", logvault_assume_role_arn=DEPLOYER,
                      central_account_opensearch_master_principal_arns=["arn:aws:iam::%s:role/bg" % ACCOUNT, DEPLOYER])
    assert explicit["Statement"][0]["Condition"]["ArnEquals"]["aws:PrincipalArn"] == sorted(["arn:aws:iam::%s:role/bg" % ACCOUNT, DEPLOYER])


MASTER_CALLER = "Assert that the caller may assume the OpenSearch master role that writes the security configuration"


def _master_caller(caller, **overrides):
    return assertion_passes("central_account", "identity.yml", MASTER_CALLER,
                            __central_account_caller={"account": ACCOUNT, "arn": caller}, **overrides)


@pytest.mark.parametrize("caller, overrides, ok", [
    # The break-glass role (default name), assumed: STS names the role without its path.
    ("arn:aws:sts::%s:assumed-role/logvault-break-glass/alice" % ACCOUNT, {}, True),
    # The deploying role is refused unless it is listed explicitly ...
    ("arn:aws:sts::%s:assumed-role/logvault-deployer/logvault-central-%s" % (ACCOUNT, ACCOUNT),
     {"logvault_assume_role_arn": DEPLOYER}, False),
    ("arn:aws:sts::%s:assumed-role/logvault-deployer/logvault-central-%s" % (ACCOUNT, ACCOUNT),
     {"logvault_assume_role_arn": DEPLOYER,
      "central_account_opensearch_master_principal_arns": ["arn:aws:iam::%s:role/logvault-break-glass" % ACCOUNT, DEPLOYER]}, True),
    # ... an explicit list replaces the break-glass default, ...
    ("arn:aws:sts::%s:assumed-role/logvault-break-glass/alice" % ACCOUNT,
     {"central_account_opensearch_master_principal_arns": [DEPLOYER]}, False),
    # ... a listed user with a path is compared by name, ...
    ("arn:aws:iam::%s:user/carol" % ACCOUNT, {"central_account_break_glass_principal_arns": ["arn:aws:iam::%s:user/team/carol" % ACCOUNT]}, True),
    # ... and nobody else may write the security configuration.
    ("arn:aws:sts::%s:assumed-role/AdministratorAccess/bob" % ACCOUNT, {}, False),
    # Not checked when the data plane is written as another role or with the caller's own credentials,
    ("arn:aws:sts::%s:assumed-role/AdministratorAccess/bob" % ACCOUNT, {"central_account_opensearch_data_plane_role_arn": ""}, True),
    ("arn:aws:sts::%s:assumed-role/AdministratorAccess/bob" % ACCOUNT,
     {"central_account_opensearch_data_plane_role_arn": "arn:aws:iam::%s:role/opensearch-writer" % ACCOUNT}, True),
    # nor when the pipeline is torn down.
    ("arn:aws:sts::%s:assumed-role/AdministratorAccess/bob" % ACCOUNT, {"central_account_state": "absent"}, True),
])
def test_preflight_refuses_a_caller_that_may_not_assume_the_master_role(caller, overrides, ok):
    assert _master_caller(caller, **overrides) is ok


def test_the_master_role_check_comes_before_any_write():
    """identity.yml runs before the pipeline is built (main.yml), and only reads: the caller
    check fails the play before the first change."""
    import yaml
    roles = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles")
    with open(os.path.join(roles, "central_account", "tasks", "main.yml"), encoding="utf-8") as handle:
        (block,) = [t for t in yaml.safe_load(handle) if "block" in t]
    names = [t.get("ansible.builtin.import_tasks") for t in block["block"]]
    assert names[0] == "identity.yml" and "Build the pipeline" in [t.get("name") for t in block["block"]][1:]
    with open(os.path.join(roles, "central_account", "tasks", "identity.yml"), encoding="utf-8") as handle:
        tasks = yaml.safe_load(handle)
    modules = {next(k for k in t if "." in k) for t in tasks}
    assert modules == {"amazon.aws.aws_caller_info", "ansible.builtin.assert"}
    assert MASTER_CALLER in [t["name"] for t in tasks]


def test_verification_reads_exactly_the_pipelines_indices():
    (reader,) = render("central_account", "_central_account_opensearch_readers", logvault_assume_role_arn=DEPLOYER)
    monitor = "arn:aws:iam::%s:role/logvault-canary-monitor" % ACCOUNT
    assert reader["role"] == "logvault_verify_reader" and reader["backend_roles"] == [DEPLOYER, monitor]
    assert reader["role_definition"]["index_permissions"] == [{"index_patterns": ["logs-*"], "allowed_actions": ["read"]}]
    assert render("central_account", "_central_account_opensearch_readers", central_account_canary_enabled=False) == []  # no principal to map
    principals = render("central_account", "_central_account_domain_principals", logvault_assume_role_arn=DEPLOYER,
                        central_account_search_teams=TEAMS)
    assert DEPLOYER in principals and TEAM_PRINCIPAL in principals


def test_a_team_role_has_dls_on_its_accounts_and_log_groups():
    (team,) = render("central_account", "_central_account_opensearch_readers", central_account_search_teams=TEAMS,
                     central_account_canary_enabled=False)
    assert team["role"] == "logvault_team_app" and team["backend_roles"] == [TEAM_PRINCIPAL, "app-engineers"]
    (permission,) = team["role_definition"]["index_permissions"]
    assert permission["index_patterns"] == ["logs-*"] and permission["allowed_actions"] == ["read"]
    assert json.loads(permission["dls"]) == {"bool": {"filter": [
        {"terms": {"account_id": [ACCOUNT_A]}},
        {"bool": {"should": [{"wildcard": {"log_group": "/app/*"}}], "minimum_should_match": 1}}]}}


def _preflight(**overrides):
    task = assertion("central_account", "preflight.yml", "Assert that the search teams and the OpenSearch principals are well formed")
    variables = dict(_trust(task.get("vars", {})))
    variables.update(overrides)
    templ = templar("central_account", **variables)
    return all(templ.evaluate_conditional(trust_as_template(str(c))) for c in task["ansible.builtin.assert"]["that"])


@pytest.mark.parametrize("teams,ok", [
    ([], True),
    (TEAMS, True),
    ([{"name": "ops", "backend_roles": ["ops"], "accounts": [ACCOUNT_A]}], True),
    ([{"name": "App", "principal_arns": [TEAM_PRINCIPAL], "accounts": [ACCOUNT_A]}], False),  # upper case
    ([{"name": "app", "principal_arns": [TEAM_PRINCIPAL], "accounts": []}], False),
    ([{"name": "app", "principal_arns": [TEAM_PRINCIPAL], "accounts": [1402433619]}], False),  # octal-read id
    ([{"name": "app", "principal_arns": ["*"], "accounts": [ACCOUNT_A]}], False),
    ([{"name": "app", "accounts": [ACCOUNT_A]}], False),  # nobody to map
    ([{"name": "app", "principal_arns": [TEAM_PRINCIPAL], "accounts": [ACCOUNT_A], "log_groups": []}], False),
    (TEAMS + TEAMS, False),  # duplicate name
])
def test_preflight_checks_the_teams(teams, ok):
    assert _preflight(central_account_search_teams=teams) is ok


@pytest.fixture
def domain(monkeypatch):
    """The test double with the role's readers written by opensearch_role_mapping, and documents
    of two accounts and several log groups indexed through _bulk."""
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.delenv(key, raising=False)
    stub = _STUB.start({"testing": "testing", "AKIDDEPLOYER": "d", "AKIDTEAM": "t", "AKIDOTHER": "o"},
                       role_arns={"AKIDDEPLOYER": DEPLOYER, "AKIDTEAM": TEAM_PRINCIPAL, "AKIDOTHER": OTHER})
    template = {"index_patterns": ["logs-*"], "template": {"mappings": opensearch_index_template.log_document_mappings()}}
    assert send(stub, "PUT", "/_index_template/logs", template)[0] == 200
    docs = [event(ACCOUNT_A, "/app/api", "1", "GET /orders 500 request-id=r-1"),
            event(ACCOUNT_A, "/app/worker", "2", "job done request-id=r-1"),
            event(ACCOUNT_A, "/db/audit", "3", "login request-id=r-1"),
            event(ACCOUNT_B, "/app/api", "4", "GET /orders 200 request-id=r-1"),
            event(ACCOUNT_A, "/logvault/canary", "5", '{"logvault_canary": "logvault-canary-run1-111111111111-us-east-1"}')]
    assert send(stub, "POST", "/_bulk", bulk_body(docs), raw=True)[1]["errors"] is False
    yield stub
    stub.stop()


def _write_readers(stub, **overrides):
    for reader in render("central_account", "_central_account_opensearch_readers", **overrides):
        result = run_module(opensearch_role_mapping, dict(endpoint=stub.endpoint, ca_path=stub.ca_path, **reader),
                            defaults={"region": "us-east-1", "access_key": "testing", "secret_key": "testing"})
        assert result["changed"] is True, result


def _canary(stub, key, secret):
    return run_module(pipeline_canary_info, dict(
        markers=["logvault-canary-run1-111111111111-us-east-1"], timeout=0,
        opensearch=dict(endpoint=stub.endpoint, ca_path=stub.ca_path, index="logs-*")),
        defaults={"region": "us-east-1", "access_key": key, "secret_key": secret})


def test_verify_search_is_refused_to_an_unmapped_principal_and_finds_the_canary_once_mapped(domain):
    refused = _canary(domain, "AKIDDEPLOYER", "d")
    assert refused.get("failed") is True and "Fine-grained access control denied" in refused["msg"], refused
    assert "no permissions for [indices:data/read/search]" in refused["msg"]
    _write_readers(domain, logvault_assume_role_arn=DEPLOYER)
    found = _canary(domain, "AKIDDEPLOYER", "d")
    assert not found.get("failed"), found
    assert found["missing"] == [] and found["results"][0]["search"] is True
    # read only: the verification principal cannot write
    status, answer = send(domain, "POST", "/_bulk", bulk_body([event(ACCOUNT_A, "/x", "9", "x")]), key="AKIDDEPLOYER", secret="d", raw=True)
    assert answer["errors"] is True and answer["items"][0]["index"]["status"] == 403


def test_a_team_sees_only_its_accounts_log_groups(domain):
    _write_readers(domain, central_account_search_teams=TEAMS)
    status, answer = send(domain, "POST", "/logs-*/_search", {"query": {"match_phrase": {"message": "request-id=r-1"}}, "size": 50},
                          key="AKIDTEAM", secret="t")
    assert status == 200
    seen = sorted((h["_source"]["account_id"], h["_source"]["log_group"]) for h in answer["hits"]["hits"])
    assert seen == [(ACCOUNT_A, "/app/api"), (ACCOUNT_A, "/app/worker")]
    # the master key (unrestricted) sees all four
    assert send(domain, "POST", "/logs-*/_count", {"query": {"match_phrase": {"message": "request-id=r-1"}}})[1]["count"] == 4
    # a query for another account's documents returns nothing, it does not fail
    assert send(domain, "GET", "/logs-*/_count?q=account_id:%s" % ACCOUNT_B, key="AKIDTEAM", secret="t")[1]["count"] == 0
    # an unmapped principal gets the security plugin's 403
    status, answer = send(domain, "POST", "/logs-*/_search", {"query": {"match_all": {}}}, key="AKIDOTHER", secret="o")
    assert status == 403 and answer["error"]["type"] == "security_exception"
    # the team cannot read another index pattern, write, or change the security configuration
    assert send(domain, "GET", "/_plugins/_security/api/rolesmapping/all_access", key="AKIDTEAM", secret="t")[0] == 403
    assert send(domain, "PUT", "/_ingest/pipeline/x", {"processors": []}, key="AKIDTEAM", secret="t")[0] == 403


# ------------------------------------------------------------------ playbooks/verify.yml on AWS
def _verify_vars(**variables):
    import yaml
    from ansible.parsing.dataloader import DataLoader
    from ansible.template import Templar

    path = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "playbooks", "verify.yml")
    with open(path, encoding="utf-8") as handle:
        plays = yaml.safe_load(handle)
    play = [p for p in plays if p["name"] == "Wait for every canary in the archive and in search"][0]
    base = {"logvault_regions": ["us-east-1"], "logvault_name_prefix": "logvault", "logvault_account_id": ACCOUNT}
    base.update(variables)
    base.update(_trust(play["vars"]))
    templ = Templar(loader=DataLoader(), variables=base)
    return play, lambda name: templ.template(trust_as_template("{{ %s }}" % name))


def _domain(**status):
    """What community.aws.opensearch_info registers (DescribeDomain, snake_cased)."""
    return {"domains": [{"domain_status": dict(domain_name="logvault-search", **status)}]}


@pytest.mark.parametrize("registered,override,expected", [
    (_domain(endpoint="search-logvault-abc.us-east-1.es.amazonaws.com"), "", "search-logvault-abc.us-east-1.es.amazonaws.com"),
    (_domain(endpoints={"vpc": "vpc-logvault-abc.us-east-1.es.amazonaws.com"}), "", "vpc-logvault-abc.us-east-1.es.amazonaws.com"),
    ({"domains": []}, "", ""),
    ({"skipped": True}, "https://proxy.example.com", "https://proxy.example.com"),
])
def test_verify_takes_the_endpoint_from_describe_domain(registered, override, expected):
    dummy, render_var = _verify_vars(__logvault_verify_domain=registered, logvault_opensearch_endpoint=override)
    assert render_var("_logvault_opensearch_endpoint").strip() == expected


def test_verify_searches_the_indices_the_role_writes():
    dummy, render_var = _verify_vars()
    assert render_var("_logvault_opensearch_index") == render("central_account", "central_account_opensearch_index_prefix") + "-*"


def test_team_and_verify_roles_are_idempotent(domain):
    overrides = dict(central_account_search_teams=TEAMS, logvault_assume_role_arn=DEPLOYER)
    _write_readers(domain, **overrides)
    for reader in render("central_account", "_central_account_opensearch_readers", **overrides):
        again = run_module(opensearch_role_mapping, dict(endpoint=domain.endpoint, ca_path=domain.ca_path, **reader),
                           defaults={"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}, check_mode=True)
        assert again["changed"] is False, (reader["role"], again)


def test_the_canary_monitor_is_mapped_to_the_verification_reader_when_it_searches_the_domain():
    # The canary monitor searches the domain as its own role unless it reads the search stream's
    # S3 backup (docs/health.md); nobody has to map it by hand.
    monitor = "arn:aws:iam::%s:role/logvault-canary-monitor" % ACCOUNT
    readers = render("central_account", "_central_account_opensearch_verify_principals", logvault_assume_role_arn=DEPLOYER)
    assert readers == [DEPLOYER, monitor]
    from_backup = render("central_account", "_central_account_opensearch_verify_principals", logvault_assume_role_arn=DEPLOYER,
                         central_account_search_backup_mode="AllDocuments")
    assert from_backup == [DEPLOYER]
    off = render("central_account", "_central_account_opensearch_verify_principals", logvault_assume_role_arn=DEPLOYER,
                 central_account_canary_enabled=False)
    assert off == [DEPLOYER]
