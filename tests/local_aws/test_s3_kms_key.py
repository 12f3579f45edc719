# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 writes that name an SSE-KMS key that does not exist are refused as on AWS: HTTP 400
``KMS.NotFoundException`` with KMS's message (local_aws/services/s3_kms_key.py). moto alone
stores the object with the unknown key id."""

import pytest
from botocore.exceptions import ClientError

from local_aws.services import s3_kms_key

ACCOUNT = "123456789012"
MISSING = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setenv(s3_kms_key.SETTING, "1")


@pytest.fixture
def bucket(aws_client, unique):
    s3 = aws_client("s3")
    name = unique("kmscheck")
    s3.create_bucket(Bucket=name)
    s3.put_object(Bucket=name, Key="source", Body=b"archived")
    return name


@pytest.fixture
def key_arn(aws_client, unique):
    kms = aws_client("kms")
    arn = kms.create_key(Description="test key")["KeyMetadata"]["Arn"]
    alias = "alias/" + unique("kmscheck")
    kms.create_alias(AliasName=alias, TargetKeyId=arn)
    return arn, alias


def _refused(call):
    with pytest.raises(ClientError) as caught:
        call()
    error = caught.value.response["Error"]
    return caught.value.response["ResponseMetadata"]["HTTPStatusCode"], error["Code"], error["Message"]


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


@pytest.mark.parametrize("key_id, message", [
    (MISSING, "Key 'arn:aws:kms:us-east-1:%s:key/%s' does not exist" % (ACCOUNT, MISSING)),
    ("arn:aws:kms:us-east-1:%s:key/%s" % (ACCOUNT, MISSING), "Key 'arn:aws:kms:us-east-1:%s:key/%s' does not exist" % (ACCOUNT, MISSING)),
    ("alias/not-a-key", "Alias arn:aws:kms:us-east-1:%s:alias/not-a-key is not found." % ACCOUNT),
    ("aws/s3", "Invalid keyId aws/s3"),
    ("arn:aws:kms:us-west-2:%s:key/%s" % (ACCOUNT, MISSING), "Invalid arn us-west-2"),
])
def test_copy_object_with_a_key_that_does_not_exist_is_refused(aws_client, bucket, key_id, message):
    s3 = aws_client("s3")
    status, code, text = _refused(lambda: s3.copy_object(
        Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"},
        ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id))
    assert (status, code, text) == (400, "KMS.NotFoundException", message)
    assert _keys(s3, bucket) == ["source"], "the copy was written"


def test_put_object_and_multipart_upload_with_a_missing_key_are_refused(aws_client, bucket):
    s3 = aws_client("s3")
    assert _refused(lambda: s3.put_object(Bucket=bucket, Key="put", Body=b"x", ServerSideEncryption="aws:kms",
                                          SSEKMSKeyId=MISSING))[:2] == (400, "KMS.NotFoundException")
    assert _refused(lambda: s3.create_multipart_upload(Bucket=bucket, Key="multi", ServerSideEncryption="aws:kms",
                                                       SSEKMSKeyId="alias/not-a-key"))[:2] == (400, "KMS.NotFoundException")
    assert _keys(s3, bucket) == ["source"]


def test_existing_keys_and_the_aws_managed_key_are_accepted(aws_client, bucket, key_arn):
    s3 = aws_client("s3")
    arn, alias = key_arn
    for index, key_id in enumerate([arn, arn.split("/")[-1], alias, "arn:aws:kms:us-east-1:%s:%s" % (ACCOUNT, alias),
                                    "alias/aws/s3"]):
        s3.copy_object(Bucket=bucket, Key="copy-%d" % index, CopySource={"Bucket": bucket, "Key": "source"},
                       ServerSideEncryption="aws:kms", SSEKMSKeyId=key_id)
    s3.put_object(Bucket=bucket, Key="put", Body=b"x", ServerSideEncryption="aws:kms", SSEKMSKeyId=arn)
    s3.put_object(Bucket=bucket, Key="put-default", Body=b"x", ServerSideEncryption="aws:kms")
    s3.put_object(Bucket=bucket, Key="put-s3", Body=b"x", ServerSideEncryption="AES256")
    assert s3.head_object(Bucket=bucket, Key="copy-0")["SSEKMSKeyId"] == arn
    assert len(_keys(s3, bucket)) == 9


def test_the_switch_off_keeps_moto_s_behaviour(aws_client, bucket, monkeypatch):
    monkeypatch.setenv(s3_kms_key.SETTING, "0")
    s3 = aws_client("s3")
    s3.copy_object(Bucket=bucket, Key="copy", CopySource={"Bucket": bucket, "Key": "source"},
                   ServerSideEncryption="aws:kms", SSEKMSKeyId=MISSING)
    assert _keys(s3, bucket) == ["copy", "source"]
