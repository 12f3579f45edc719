# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 Object Lock: an integrity header is required on every write that gets a retention.

What AWS does (S3 API Reference, "PutObject": "The Content-MD5 or
x-amz-sdk-checksum-algorithm header is required for any request to upload an object with
a retention period configured using Amazon S3 Object Lock"; User Guide, "Configuring S3
Object Lock"): a PutObject or UploadPart that carries Object Lock parameters, or goes to
a bucket with a default retention, is refused unless it carries ``Content-MD5`` or an
``x-amz-checksum-<algorithm>`` value (as a header, or announced in ``x-amz-trailer`` for
an aws-chunked body, which is how current SDKs send it). The answer is
``InvalidRequest`` ``Content-MD5 OR x-amz-checksum- HTTP header is required for Put
Object requests with Object Lock parameters`` (``Put Part requests`` for UploadPart).
``x-amz-sdk-checksum-algorithm`` alone names an algorithm but carries no checksum.

What moto 5.2.5 does: it checks PutObject only, accepts ``x-amz-sdk-checksum-algorithm``
alone, refuses a bare ``x-amz-checksum-crc32`` header, and answers with its own code
``MissingUploadObjectWithObjectLockHeaders``.

This patch checks first, with AWS's rule and answer, then lets moto run. moto's own check
still refuses a bare ``x-amz-checksum-*`` header sent without ``x-amz-sdk-checksum-algorithm``
(no AWS SDK sends that; it would need a hand-made request). moto does not keep the lock
headers of CreateMultipartUpload, so UploadPart is checked against the bucket's default
retention only.

Writers that are AWS services (Firehose delivery, Lambda on-failure destinations) write
straight to moto's backend, as AWS's services send their checksums themselves.
"""

_MESSAGE = "Content-MD5 OR x-amz-checksum- HTTP header is required for %s requests with Object Lock parameters"


def has_integrity_header(headers):
    names = {str(k).lower(): v for k, v in headers.items()}
    if names.get("content-md5"):
        return True
    if any(k.startswith("x-amz-checksum-") and k not in ("x-amz-checksum-type", "x-amz-checksum-mode") and v
           for k, v in names.items()):
        return True
    trailer = (names.get("x-amz-trailer") or "").lower()
    return "x-amz-checksum-" in trailer


def has_lock_parameters(headers):
    names = {str(k).lower(): v for k, v in headers.items()}
    return bool(names.get("x-amz-object-lock-mode") or names.get("x-amz-object-lock-retain-until-date")
                or (names.get("x-amz-object-lock-legal-hold") or "").upper() == "ON")


def required(bucket, headers):
    """True when a write of an object to ``bucket`` with ``headers`` needs an integrity header."""
    if has_lock_parameters(headers):
        return True
    return bool(bucket is not None and bucket.object_lock_enabled and bucket.has_default_lock)


def install():
    from moto.s3 import responses  # pylint: disable=import-outside-toplevel
    from moto.s3.exceptions import S3ClientError  # pylint: disable=import-outside-toplevel

    cls = responses.S3Response
    if getattr(cls, "_logvault_object_lock", False):
        return
    cls._logvault_object_lock = True  # pylint: disable=protected-access
    original = cls._key_response_put  # pylint: disable=protected-access

    def key_response_put(self, query, key_name):
        part = bool(query.get("uploadId") and query.get("partNumber"))
        other = any(name in query for name in ("retention", "legal-hold", "acl", "tagging"))
        copy = "x-amz-copy-source" in self.headers
        if not other and not copy:
            try:
                bucket = self.backend.get_bucket(self.bucket_name)
            except Exception:  # pylint: disable=broad-except
                bucket = None  # moto answers NoSuchBucket itself
            if bucket is not None:
                if part:
                    # moto does not keep CreateMultipartUpload's lock headers: the bucket's
                    # default retention is what makes a part need a checksum here.
                    if bucket.object_lock_enabled and bucket.has_default_lock and not has_integrity_header(self.headers):
                        raise S3ClientError("InvalidRequest", _MESSAGE % "Put Part")
                elif required(bucket, self.headers) and not has_integrity_header(self.headers):
                    raise S3ClientError("InvalidRequest", _MESSAGE % "Put Object")
        return original(self, query, key_name)

    cls._key_response_put = key_response_put  # pylint: disable=protected-access
