# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 SSE-KMS: the KMS key named by a write must exist (switch: ``LOGVAULT_AWS_KMS_KEY_POLICIES``,
the switch of the KMS key rules, default in ``local_aws/settings.py``).

What AWS does (S3 API Reference, "PutObject", "CopyObject" and "CreateMultipartUpload",
header ``x-amz-server-side-encryption-aws-kms-key-id``: the key ID, key ARN or alias of the
KMS key that encrypts the object; the key must be in the bucket's Region): S3 asks KMS for a
data key with that key, and when KMS does not find it the write is refused with HTTP 400 and
the code ``KMS.NotFoundException``, carrying KMS's own NotFoundException message:

* a key ID or key ARN that does not exist: ``Key 'arn:aws:kms:<region>:<account>:key/<id>'
  does not exist`` (the answer AWS gave to a PutObject with an unknown key ID, quoted in
  minio/minio#6582; the message of KMS DescribeKey's NotFoundException);
* an alias that does not exist: ``Alias arn:aws:kms:<region>:<account>:alias/<name> is not
  found.`` (KMS's message for an unknown alias);
* a value that is neither an ID, an ARN nor an alias: ``Invalid keyId <value>`` (the PutObject
  answer ``KMS.NotFoundException ... Invalid keyId aws/s3`` in aws/aws-cli#4507);
* a key ARN of another Region: ``Invalid arn <region>`` (S3 uses keys of the bucket's Region
  only; KMS's answer to an ARN of another Region).

What moto 5.2.5 does: it stores whatever key ID the request names, so a copy or upload
encrypted with a key that does not exist succeeds and is only unreadable later (on AWS it
never gets written). What this patch does: before moto stores the object, a PutObject,
CopyObject or CreateMultipartUpload that names a KMS key (``aws:kms`` or ``aws:kms:dsse``) is
checked against the emulator's KMS in the bucket's account and Region (an ARN's own account
for a key of another account), with the answers above. The AWS managed keys
(``alias/aws/<service>``) are created by AWS on first use and are not checked. A bucket's
default encryption key is not checked here (only a key named by the request).

Writers that are AWS services (Firehose, Lambda on-failure destinations) write straight to
moto's backend and are not affected.
"""

import re

from local_aws import settings

SETTING = "LOGVAULT_AWS_KMS_KEY_POLICIES"
CODE = "KMS.NotFoundException"
_KEY_ID = re.compile(r"^(mrk-)?[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$")
_KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


def enabled():
    return settings.get(SETTING).lower() in ("1", "true", "yes", "on")


def missing_key_message(key_id, account, region):
    """KMS's NotFoundException message when ``key_id`` names no key usable by a bucket of
    ``account`` in ``region``; None when the key exists (or is an AWS managed alias)."""
    from moto.kms.models import kms_backends  # pylint: disable=import-outside-toplevel

    value = key_id
    if value.startswith("arn:"):
        parts = value.split(":", 5)
        if len(parts) != 6 or parts[2] != "kms" or not (parts[5].startswith("key/") or parts[5].startswith("alias/")):
            return "Invalid keyId %s" % key_id
        if parts[3] != region:
            return "Invalid arn %s" % parts[3]
        account, value = parts[4], parts[5]
    backend = kms_backends[account][region]
    if value.startswith("alias/"):
        if value.startswith("alias/aws/"):
            return None
        if backend.get_key_id_from_alias(value) is None:
            return "Alias arn:aws:kms:%s:%s:%s is not found." % (region, account, value)
        return None
    if value.startswith("key/"):
        value = value[len("key/"):]
    if not _KEY_ID.match(value):
        return "Invalid keyId %s" % key_id
    if value not in backend.keys:
        return "Key 'arn:aws:kms:%s:%s:key/%s' does not exist" % (region, account, value)
    return None


def _named_key(headers):
    names = {str(k).lower(): v for k, v in headers.items()}
    if (names.get("x-amz-server-side-encryption") or "") not in _KMS_ALGORITHMS:
        return None
    return names.get("x-amz-server-side-encryption-aws-kms-key-id") or None


def _check(response):
    from moto.s3.exceptions import S3ClientError  # pylint: disable=import-outside-toplevel

    if not enabled():
        return
    key_id = _named_key(response.headers)
    if not key_id:
        return
    try:
        bucket = response.backend.get_bucket(response.bucket_name)
    except Exception:  # pylint: disable=broad-except
        return  # moto answers NoSuchBucket itself
    message = missing_key_message(key_id, bucket.account_id, bucket.region_name)
    if message:
        raise S3ClientError(CODE, message)


def install():
    from moto.s3 import responses  # pylint: disable=import-outside-toplevel

    cls = responses.S3Response
    if getattr(cls, "_logvault_kms_key", False):
        return
    cls._logvault_kms_key = True  # pylint: disable=protected-access
    original_put = cls._key_response_put  # pylint: disable=protected-access
    original_post = cls._key_response_post  # pylint: disable=protected-access

    def key_response_put(self, query, key_name):
        # PutObject and CopyObject; not UploadPart (the upload's key was checked when it was
        # created) nor the object's sub-resources.
        if not (query.get("uploadId") or any(name in query for name in ("retention", "legal-hold", "acl", "tagging"))):
            _check(self)
        return original_put(self, query, key_name)

    def key_response_post(self, request, body, bucket_name, query, key_name):
        if "uploads" in query:  # CreateMultipartUpload
            _check(self)
        return original_post(self, request, body, bucket_name, query, key_name)

    cls._key_response_put = key_response_put  # pylint: disable=protected-access
    cls._key_response_post = key_response_post  # pylint: disable=protected-access
