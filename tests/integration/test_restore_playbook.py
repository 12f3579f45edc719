# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 19, against the local AWS emulator: ``playbooks/restore.yml`` restores the GLACIER
objects of one account and range of days into a readable place, ``--check`` predicts task by
task what the real run changes, and a second run changes nothing.

What central_account leaves in the security account (the pipeline key and its alias, the
archive and Athena results buckets, the Glue database) is created here with boto3, and the
archived objects are written GLACIER the way the archive's lifecycle transition leaves
them; only restore.yml runs through ansible-playbook, with the installed collection, so
this stays cheap. The emulator follows S3's documented Glacier behaviour: GetObject and
CopyObject of an archived object fail (InvalidObjectState, ObjectNotInActiveTierError)
until RestoreObject, after which HeadObject carries ``x-amz-restore``; it completes a
restore at once (AWS takes minutes to hours).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import sys

import pytest
import yaml
from botocore.exceptions import ClientError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# TEST HELPER callback (records changed/ok/skipped tasks per run), shared with molecule member.
CALLBACKS = os.path.join(REPO, "extensions", "molecule", "member", "callback_plugins")
CENTRAL = "123456789012"  # the emulator's plain credentials
MEMBER = "111111111111"
REGION = "us-east-1"
ARCHIVE = "logvault-archive-%s-%s" % (CENTRAL, REGION)
RESULTS = "logvault-athena-results-%s-%s" % (CENTRAL, REGION)


def _partition(account, day):
    return "logs/account_id=%s/dt=%s/" % (account, day)


IN_RANGE_GLACIER = [_partition(MEMBER, "2026-06-01") + "logvault-archive-1-2026-06-01-00-00-00-a.gz",
                    _partition(MEMBER, "2026-06-02") + "logvault-archive-1-2026-06-02-10-00-00-b.gz"]
IN_RANGE_STANDARD = _partition(MEMBER, "2026-06-02") + "logvault-archive-1-2026-06-02-11-00-00-c.gz"
OUT_OF_RANGE = [_partition(MEMBER, "2026-06-03") + "logvault-archive-1-2026-06-03-00-00-00-d.gz",
                _partition("222222222222", "2026-06-01") + "logvault-archive-1-2026-06-01-00-00-00-e.gz"]


def _central_account(helpers, endpoint):
    """What central_account and the archive's Glacier transition leave behind."""
    kms = helpers.client(endpoint, "kms")
    key = kms.create_key(Description="logvault pipeline key")["KeyMetadata"]["KeyId"]
    kms.create_alias(AliasName="alias/logvault-central", TargetKeyId=key)
    key_arn = kms.describe_key(KeyId=key)["KeyMetadata"]["Arn"]
    s3 = helpers.client(endpoint, "s3")
    for bucket in (ARCHIVE, RESULTS):
        s3.create_bucket(Bucket=bucket)
    helpers.client(endpoint, "glue").create_database(DatabaseInput={"Name": "logvault_archive"})
    for key_name in IN_RANGE_GLACIER + OUT_OF_RANGE:
        s3.put_object(Bucket=ARCHIVE, Key=key_name, Body=("archived " + key_name).encode(), StorageClass="GLACIER")
    s3.put_object(Bucket=ARCHIVE, Key=IN_RANGE_STANDARD, Body=b"still standard")
    return s3, key_arn


def _inventory(tmp_path, endpoint):
    inventory = tmp_path / "inventory"
    (inventory / "group_vars").mkdir(parents=True, exist_ok=True)
    (inventory / "hosts.yml").write_text(yaml.safe_dump(
        {"all": {"children": {"central": {"hosts": {"security": {"logvault_account_id": CENTRAL}}}}}}))
    (inventory / "group_vars" / "all.yml").write_text(yaml.safe_dump({
        "ansible_connection": "local",
        "ansible_python_interpreter": sys.executable,
        "logvault_name_prefix": "logvault",
        "logvault_regions": [REGION],
        "logvault_local_aws": True,
        "logvault_aws_endpoint_url": endpoint,
    }))
    return str(inventory)


def _run(helpers, tmp_path, endpoint, *extra):
    changes = tmp_path / "changes.jsonl"
    result = helpers.playbook(tmp_path, _inventory(tmp_path, endpoint), "restore.yml", "-e", "restore_account=" + MEMBER,
                              "-e", "restore_from=2026-06-01", "-e", "restore_to=2026-06-02", "-e", "restore_tier=Expedited",
                              *extra, ANSIBLE_CALLBACK_PLUGINS=CALLBACKS, LOGVAULT_CHANGES_FILE=str(changes))
    assert result.returncode == 0
    runs = [json.loads(line) for line in changes.read_text().splitlines()]
    changes.unlink()
    return runs[-1]["hosts"]["security"]


def _restore_header(s3, key):
    return s3.head_object(Bucket=ARCHIVE, Key=key).get("Restore")


def _copies(s3):
    return sorted(obj["Key"] for obj in s3.list_objects_v2(Bucket=RESULTS, Prefix="restore/").get("Contents", []))


def _lifecycle(s3):
    try:
        return s3.get_bucket_lifecycle_configuration(Bucket=RESULTS)["Rules"]
    except ClientError:
        return []


def test_restore_check_run_and_second_run(emulator, installed_collection, helpers, tmp_path):
    endpoint = emulator.endpoint
    s3, key_arn = _central_account(helpers, endpoint)
    with pytest.raises(ClientError) as archived:  # AWS: "Object is in an archived state"
        s3.get_object(Bucket=ARCHIVE, Key=IN_RANGE_GLACIER[0])
    assert archived.value.response["Error"]["Code"] == "InvalidObjectState"

    # 1. --check: no write, and a prediction
    predicted = _run(helpers, tmp_path, endpoint, "--check")
    assert all(_restore_header(s3, key) is None for key in IN_RANGE_GLACIER), "check mode restored"
    assert _copies(s3) == [] and _lifecycle(s3) == [], "check mode wrote"
    assert "logvault.aws.central_account : Expire restored copies (the restore prefix of the results bucket only)" \
        in predicted["changed"]

    # 2. the real run changes exactly the predicted tasks
    applied = _run(helpers, tmp_path, endpoint)
    assert sorted(applied["changed"]) == sorted(predicted["changed"])
    assert sorted(applied["ok"]) == sorted(predicted["ok"])
    assert len(applied["changed"]) == 3  # the expiry rule, restore + copies, the table over the copies

    # the Glacier objects of the account and days are restored and copied, readable and whole
    for key in IN_RANGE_GLACIER:
        assert 'ongoing-request="false"' in _restore_header(s3, key)
        copy = s3.get_object(Bucket=RESULTS, Key="restore/" + key)
        assert copy["Body"].read() == ("archived " + key).encode()
        assert copy.get("StorageClass", "STANDARD") == "STANDARD"
        assert copy["ServerSideEncryption"] == "aws:kms" and copy["SSEKMSKeyId"] == key_arn  # the pipeline's key
        # the archived object is left as it was: still GLACIER, same content
        assert s3.head_object(Bucket=ARCHIVE, Key=key)["StorageClass"] == "GLACIER"
    assert _copies(s3) == sorted("restore/" + key for key in IN_RANGE_GLACIER + [IN_RANGE_STANDARD])
    # another account and another day are neither restored nor copied
    assert all(_restore_header(s3, key) is None for key in OUT_OF_RANGE)
    (rule,) = _lifecycle(s3)
    assert rule["ID"] == "restore-expire" and rule["Filter"] == {"Prefix": "restore/"} and rule["Expiration"] == {"Days": 14}
    table = helpers.client(endpoint, "glue").get_table(DatabaseName="logvault_archive", Name="logs_restored")["Table"]
    assert table["StorageDescriptor"]["Location"] == "s3://%s/restore/logs/" % RESULTS
    assert table["Parameters"]["storage.location.template"] == \
        "s3://%s/restore/logs/account_id=${account}/dt=${dt}/" % RESULTS

    # 3. a second run changes nothing, and --check predicts that too
    assert _run(helpers, tmp_path, endpoint)["changed"] == []
    assert _run(helpers, tmp_path, endpoint, "--check")["changed"] == []
