# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""s3_object_restore, run in-process against moto (moto completes a restore at once)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import boto3
import pytest
from moto import mock_aws

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.logvault.aws.plugins.modules import s3_object_restore as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
PREFIX = "logs/account_id=111111111111/dt=2026-12-02/"


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def s3(monkeypatch):
    set_test_credentials(monkeypatch)
    with mock_aws():
        client = boto3.client("s3", region_name=REGION)
        for bucket in ("archive", "results"):
            client.create_bucket(Bucket=bucket)
        client.put_object(Bucket="archive", Key=PREFIX + "a.ndjson.gz", Body=b"glacier", StorageClass="GLACIER")
        client.put_object(Bucket="archive", Key=PREFIX + "b.ndjson.gz", Body=b"standard")
        client.put_object(Bucket="archive", Key="logs/account_id=222222222222/dt=2026-12-02/c.ndjson.gz", Body=b"other",
                          StorageClass="GLACIER")
        yield client


ARGS = dict(bucket="archive", prefixes=[PREFIX], tier="Bulk", days=3, copy_to={"bucket": "results", "prefix": "restore/"})


def test_restore_copy_cycle(s3):
    check = run(ARGS, check_mode=True)
    assert check["changed"] is True and check["restore_requested"] == [PREFIX + "a.ndjson.gz"]
    assert check["copied"] == ["restore/" + PREFIX + "b.ndjson.gz"]  # the glacier object is not readable yet
    assert "Restore" not in s3.head_object(Bucket="archive", Key=PREFIX + "a.ndjson.gz"), "check mode restored"
    assert "Contents" not in s3.list_objects_v2(Bucket="results"), "check mode copied"

    first = run(ARGS)
    assert first["changed"] is True and first["restore_requested"] == [PREFIX + "a.ndjson.gz"]
    assert 'ongoing-request="false"' in s3.head_object(Bucket="archive", Key=PREFIX + "a.ndjson.gz")["Restore"]
    assert sorted(first["copied"]) == ["restore/" + PREFIX + "a.ndjson.gz", "restore/" + PREFIX + "b.ndjson.gz"]
    copy = s3.get_object(Bucket="results", Key="restore/" + PREFIX + "a.ndjson.gz")
    assert copy["Body"].read() == b"glacier" and copy.get("StorageClass", "STANDARD") == "STANDARD"
    # the archived objects are untouched, the other account is not restored
    assert s3.head_object(Bucket="archive", Key=PREFIX + "a.ndjson.gz")["StorageClass"] == "GLACIER"
    assert "Restore" not in s3.head_object(Bucket="archive", Key="logs/account_id=222222222222/dt=2026-12-02/c.ndjson.gz")

    assert run(ARGS, check_mode=True)["changed"] is False
    second = run(ARGS)
    assert second["changed"] is False and second["copied"] == [] and second["in_progress"] == []


def test_an_existing_copy_is_never_overwritten(s3):
    s3.put_object(Bucket="results", Key="restore/" + PREFIX + "b.ndjson.gz", Body=b"someone else's")
    result = run(ARGS)
    assert "restore/" + PREFIX + "b.ndjson.gz" not in result["copied"]
    assert s3.get_object(Bucket="results", Key="restore/" + PREFIX + "b.ndjson.gz")["Body"].read() == b"someone else's"


def test_pending_restore_reports_eta(s3):
    with mock.patch.object(module_under_test, "restore_state", side_effect=lambda m, c, b, obj: "archived"
                           if obj.get("StorageClass") == "GLACIER" else "readable"):
        result = run(dict(ARGS, copy_to=None))
    assert result["in_progress"] == [PREFIX + "a.ndjson.gz"]
    assert result["eta"] == "5-12 hours (GLACIER, Bulk)"


@pytest.mark.parametrize("change, fragment", [
    ({"prefixes": ["/logs/"]}, "prefixes must be"),
    ({"days": 0}, "days must be"),
    ({"copy_to": {"bucket": "results", "prefix": "restore"}}, "copy_to.prefix must end"),
    ({"copy_to": {"bucket": "archive", "prefix": "logs/"}}, "copy_to.prefix overlaps"),
])
def test_input_is_validated_before_any_aws_call(monkeypatch, change, fragment):
    set_test_credentials(monkeypatch)
    with mock.patch.object(AnsibleAWSModule, "client", side_effect=AssertionError("AWS client created")):
        result = run(dict(ARGS, **change))
    assert result.get("failed") is True and result["msg"].startswith(fragment), result
