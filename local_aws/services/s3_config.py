# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""S3 bucket configuration that moto 5.2.5 gets wrong or lacks.

1. GetObjectLockConfiguration. moto answers ``DefaultRetention`` with both ``Days`` and
   ``Years`` (the unset one as 0). AWS returns only the one that was set (S3 API
   Reference, "DefaultRetention": "You can specify either Days or Years, but not both"),
   so a client comparing the configuration sees a difference on every run.
2. Bucket metrics configurations (``?metrics&id=``: PutBucketMetricsConfiguration,
   GetBucketMetricsConfiguration, DeleteBucketMetricsConfiguration). moto answers GET
   with an empty 200 and stores nothing. Here they are stored per bucket and id; a
   missing one is 404 NoSuchConfiguration, as on AWS. The request metrics themselves are
   not emulated (CloudWatch receives no S3 request metrics).
"""

import threading

from local_aws import hooks

_METRICS = {}
_LOCK = threading.Lock()
NO_SUCH_CONFIGURATION = (
    '<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchConfiguration</Code>'
    "<Message>The specified configuration does not exist.</Message></Error>"
)


def _metrics_id(querystring):
    return (querystring.get("id") or [""])[0]


def reset():
    with _LOCK:
        _METRICS.clear()


def install():
    from moto.s3 import responses  # pylint: disable=import-outside-toplevel

    cls = responses.S3Response
    if getattr(cls, "_logvault_s3_config", False):
        return
    cls._logvault_s3_config = True  # pylint: disable=protected-access
    hooks.register_reset(reset)

    def get_object_lock_configuration(self):
        lock_enabled, mode, days, years = self.backend.get_object_lock_configuration(self.bucket_name)
        config = {"ObjectLockEnabled": "Enabled" if lock_enabled else "Disabled"}
        if mode:
            retention = {"Mode": mode}
            if days:
                retention["Days"] = days
            if years:
                retention["Years"] = years
            config["Rule"] = {"DefaultRetention": retention}
        self.data["Action"] = "GetObjectLockConfiguration"
        return self.serialized(responses.ActionResult({"ObjectLockConfiguration": config}))

    original_get = cls._bucket_response_get
    original_put = cls._bucket_response_put
    original_delete = cls._bucket_response_delete

    def bucket_get(self, bucket_name, querystring):
        if "metrics" in querystring and "id" in querystring:
            self.backend.get_bucket(bucket_name)  # NoSuchBucket as usual
            with _LOCK:
                body = _METRICS.get((bucket_name, _metrics_id(querystring)))
            if body is None:
                return 404, {}, NO_SUCH_CONFIGURATION
            return 200, {}, body
        return original_get(self, bucket_name, querystring)

    def bucket_put(self, request, bucket_name, querystring):
        if "metrics" in querystring and "id" in querystring:
            self.backend.get_bucket(bucket_name)
            body = self.body.decode("utf-8") if isinstance(self.body, bytes) else self.body
            with _LOCK:
                _METRICS[(bucket_name, _metrics_id(querystring))] = body
            return 204, {}, ""
        return original_put(self, request, bucket_name, querystring)

    def bucket_delete(self, bucket_name, querystring):
        if "metrics" in querystring and "id" in querystring:
            with _LOCK:
                _METRICS.pop((bucket_name, _metrics_id(querystring)), None)
            return 204, {}, ""
        return original_delete(self, bucket_name, querystring)

    cls.get_object_lock_configuration = get_object_lock_configuration
    cls._bucket_response_get = bucket_get  # pylint: disable=protected-access
    cls._bucket_response_put = bucket_put  # pylint: disable=protected-access
    cls._bucket_response_delete = bucket_delete  # pylint: disable=protected-access
