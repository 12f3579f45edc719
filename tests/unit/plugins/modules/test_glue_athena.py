# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""glue_table and athena_workgroup, run in-process against moto (Stubber where moto lacks an API)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.logvault.aws.plugins.modules import athena_workgroup
from ansible_collections.logvault.aws.plugins.modules import glue_table
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"


@pytest.fixture
def aws(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        yield


def table_args(**extra):
    args = dict(database="logvault_archive", name="logs", location="s3://archive-bucket/logs/",
                columns=[{"name": "ts", "type": "string"}, {"name": "message", "type": "string", "comment": "text"}],
                partition_keys=[{"name": "account", "type": "string"}, {"name": "dt", "type": "string"}],
                serde={"library": "org.openx.data.jsonserde.JsonSerDe", "parameters": {"mapping.ts": "@timestamp"}},
                parameters={"projection.enabled": "true", "projection.dt.type": "date"})
    args.update(extra)
    return args


def glue(args, check_mode=False, diff=False):
    return run_module(glue_table, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


def test_glue_table_cycle(aws):
    client = boto3.client("glue", region_name=REGION)
    first = glue(table_args(), check_mode=True, diff=True)
    assert first["changed"] is True and first["database_created"] is True
    assert client.get_databases()["DatabaseList"] == [], "check mode wrote"
    created = glue(table_args(database_description="archive"))
    assert created["changed"] is True
    table = client.get_table(DatabaseName="logvault_archive", Name="logs")["Table"]
    assert table["StorageDescriptor"]["SerdeInfo"]["Parameters"] == {"mapping.ts": "@timestamp"}
    assert table["Parameters"]["EXTERNAL"] == "TRUE" and table["TableType"] == "EXTERNAL_TABLE"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["account", "dt"]
    assert glue(table_args(), check_mode=True)["changed"] is False
    assert glue(table_args())["changed"] is False
    changed = table_args(parameters={"projection.enabled": "true", "projection.dt.type": "date", "projection.dt.format": "yyyy-MM-dd"})
    assert glue(changed, check_mode=True)["changed"] is True
    assert "projection.dt.format" not in client.get_table(DatabaseName="logvault_archive", Name="logs")["Table"]["Parameters"]
    result = glue(changed, diff=True)
    assert result["changed"] is True and result["diff"]["before"]["Parameters"] != result["diff"]["after"]["Parameters"]
    assert client.get_table(DatabaseName="logvault_archive", Name="logs")["Table"]["Parameters"]["projection.dt.format"] == "yyyy-MM-dd"
    assert glue(changed)["changed"] is False
    gone = dict(database="logvault_archive", name="logs", state="absent")
    assert glue(gone, check_mode=True)["changed"] is True
    assert glue(gone)["changed"] is True
    assert glue(gone)["changed"] is False
    assert client.get_database(Name="logvault_archive")["Database"]["Name"] == "logvault_archive"  # never deleted


@pytest.mark.parametrize("change, fragment", [
    ({"name": "Logs"}, "name must be"),
    ({"database": "bad-name"}, "database must be"),
    ({"location": "archive/logs/"}, "location must be"),
    ({"columns": []}, "columns is required"),
    ({"partition_keys": [{"name": "ts", "type": "string"}]}, "partition_keys[0].name 'ts' is used twice"),
    ({"parameters": {"projection.enabled": True}}, "parameters.projection.enabled must be a string"),
])
def test_glue_table_input_is_validated_before_any_aws_call(monkeypatch, change, fragment):
    set_test_credentials(monkeypatch)
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS client created")):
        result = glue(table_args(**change))
    assert result.get("failed") is True and result["msg"].startswith(fragment), result


def workgroup_args(**extra):
    args = dict(name="logvault-archive", output_location="s3://results-bucket/results/", kms_key_arn=KEY,
                bytes_scanned_cutoff=10000000000,
                named_queries=[{"name": "account-day", "database": "logvault_archive", "query": "SELECT 1 FROM logs WHERE account = ?",
                                "description": "one account's day"},
                               {"name": "dedupe", "database": "logvault_archive", "query": "SELECT 2"}])
    args.update(extra)
    return args


def athena(args, check_mode=False, diff=False):
    return run_module(athena_workgroup, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


def test_athena_workgroup_create_and_idempotence(aws):
    client = boto3.client("athena", region_name=REGION)
    first = athena(workgroup_args(), check_mode=True, diff=True)
    assert first["changed"] is True
    assert [w["Name"] for w in client.list_work_groups()["WorkGroups"]] == ["primary"], "check mode wrote"
    created = athena(workgroup_args())
    assert created.get("changed") is True, created
    config = client.get_work_group(WorkGroup="logvault-archive")["WorkGroup"]["Configuration"]
    assert config["ResultConfiguration"] == {"OutputLocation": "s3://results-bucket/results/",
                                             "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": KEY}}
    assert config["BytesScannedCutoffPerQuery"] == 10000000000 and config["EnforceWorkGroupConfiguration"] is True
    ids = client.list_named_queries(WorkGroup="logvault-archive")["NamedQueryIds"]
    names = sorted(client.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"] for i in ids)
    assert names == ["account-day", "dedupe"]
    assert athena(workgroup_args(), check_mode=True)["changed"] is False
    again = athena(workgroup_args(), diff=True)
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"]
    assert len(client.list_named_queries(WorkGroup="logvault-archive")["NamedQueryIds"]) == 2


@pytest.mark.parametrize("change, fragment", [
    ({"name": "bad name"}, "name must be"),
    ({"output_location": "results/"}, "output_location must be"),
    ({"kms_key_arn": "alias/x"}, "kms_key_arn must be"),
    ({"bytes_scanned_cutoff": 5}, "bytes_scanned_cutoff must be"),
    ({"named_queries": [{"name": "a", "database": "d", "query": "q"}, {"name": "a", "database": "d", "query": "q"}]},
     "named_queries[1].name 'a' is listed twice"),
])
def test_athena_input_is_validated_before_any_aws_call(monkeypatch, change, fragment):
    set_test_credentials(monkeypatch)
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS client created")):
        result = athena(workgroup_args(**change))
    assert result.get("failed") is True and result["msg"].startswith(fragment), result


@pytest.fixture
def stubbed(monkeypatch):
    """A Stubber-backed athena client (a test double): moto has no UpdateWorkGroup/UpdateNamedQuery."""
    set_test_credentials(monkeypatch)
    client = boto3.client("athena", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self, service, retry_decorator=None, **kwargs):
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    with stubber, mock.patch.object(AnsibleAWSModule, "client", fake_client):
        yield stubber
    stubber.assert_no_pending_responses()


def _workgroup(cutoff=10000000000):
    config = {"ResultConfiguration": {"OutputLocation": "s3://results-bucket/results/",
                                      "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": KEY}},
              "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True}
    if cutoff:
        config["BytesScannedCutoffPerQuery"] = cutoff
    return {"WorkGroup": {"Name": "logvault-archive", "State": "ENABLED", "Description": "", "Configuration": config}}


def test_athena_updates_settings_and_named_queries(stubbed):
    stubbed.add_response("get_work_group", _workgroup(cutoff=0), {"WorkGroup": "logvault-archive"})
    stubbed.add_response("update_work_group", {}, {
        "WorkGroup": "logvault-archive", "Description": "",
        "ConfigurationUpdates": {"ResultConfigurationUpdates": {"OutputLocation": "s3://results-bucket/results/",
                                                                "EncryptionConfiguration": {"EncryptionOption": "SSE_KMS", "KmsKey": KEY}},
                                 "EnforceWorkGroupConfiguration": True, "PublishCloudWatchMetricsEnabled": True,
                                 "BytesScannedCutoffPerQuery": 10000000000}})
    stubbed.add_response("list_named_queries", {"NamedQueryIds": ["q1", "q2", "q3"]}, {"WorkGroup": "logvault-archive"})
    stubbed.add_response("get_named_query", {"NamedQuery": {"Name": "account-day", "Database": "logvault_archive", "QueryString": "SELECT 0",
                                                            "Description": "one account's day", "NamedQueryId": "q1"}}, {"NamedQueryId": "q1"})
    stubbed.add_response("get_named_query", {"NamedQuery": {"Name": "dedupe", "Database": "logvault_archive", "QueryString": "SELECT 2",
                                                            "NamedQueryId": "q2"}}, {"NamedQueryId": "q2"})
    stubbed.add_response("get_named_query", {"NamedQuery": {"Name": "someone-elses", "Database": "x", "QueryString": "SELECT 3",
                                                            "NamedQueryId": "q3"}}, {"NamedQueryId": "q3"})
    stubbed.add_response("update_named_query", {}, {"NamedQueryId": "q1", "Name": "account-day", "Description": "one account's day",
                                                    "QueryString": "SELECT 1 FROM logs WHERE account = ?"})
    result = athena(workgroup_args())
    assert result["changed"] is True
    assert [q["id"] for q in result["named_queries"]] == ["q1", "q2"]  # q3 is not listed and not purged


def test_athena_absent(aws):
    client = boto3.client("athena", region_name=REGION)
    athena(workgroup_args())
    gone = dict(name="logvault-archive", state="absent")
    assert athena(gone, check_mode=True)["changed"] is True
    assert athena(gone)["changed"] is True
    assert athena(gone)["changed"] is False
    assert [w["Name"] for w in client.list_work_groups()["WorkGroups"]] == ["primary"]
