#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s3_object_restore
version_added: 0.1.0
short_description: Restore archived S3 objects under prefixes and copy them to a readable place
description:
  - Lists the objects under O(prefixes) of O(bucket). Objects in C(GLACIER) or C(DEEP_ARCHIVE) that are not restored
    get a C(RestoreObject) request with O(tier) for O(days) days; those already restored (or being restored) get none.
  - With O(copy_to), every object that can be read (restored, or in a storage class Athena reads) is copied with
    C(CopyObject) to O(copy_to.bucket) under O(copy_to.prefix) followed by its key. An existing copy is never
    overwritten, and the module never deletes or changes a source object.
  - With O(wait=true) the module polls until every restore has completed (then copies), for at most O(wait_timeout)
    seconds; otherwise it reports what is still being restored and how long AWS says it takes.
  - amazon.aws.s3_object cannot restore objects; this module exists for that.
author:
  - logvault.aws maintainers (@logvault)
options:
  bucket:
    description: Bucket of the archived objects.
    type: str
    required: true
  prefixes:
    description: Key prefixes to restore (each listed with C(ListObjectsV2)).
    type: list
    elements: str
    required: true
  tier:
    description: Retrieval tier.
    type: str
    choices: [Expedited, Standard, Bulk]
    default: Standard
  days:
    description: Days the restored temporary copy stays readable in the source bucket (1-3650).
    type: int
    default: 7
  copy_to:
    description: Where readable objects are copied (key = O(copy_to.prefix) + source key).
    type: dict
    suboptions:
      bucket:
        description: Destination bucket.
        type: str
        required: true
      prefix:
        description: Destination key prefix, ending with C(/).
        type: str
        required: true
      kms_key_arn:
        description: KMS key of the copies (C(SSE-KMS)); without it the destination bucket's default encryption applies.
        type: str
  wait:
    description: Wait until every restore has completed.
    type: bool
    default: false
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 900
notes:
  - Supports check mode and diff mode. In check mode only C(ListObjectsV2) and C(HeadObject) are called; the objects that
    would be restored and copied are reported, and RV(ignore:changed) is predicted exactly for the current state.
  - Restore times (U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html))
    are C(GLACIER) Expedited 1-5 minutes, Standard 3-5 hours, Bulk 5-12 hours; C(DEEP_ARCHIVE) Standard within 12
    hours, Bulk within 48 hours (no Expedited).
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Restore one account's December 2nd and copy it under restore/
  logvault.aws.s3_object_restore:
    bucket: logvault-archive-123456789012-us-east-1
    prefixes: ["logs/account_id=111111111111/dt=2026-12-02/"]
    tier: Bulk
    copy_to:
      bucket: logvault-athena-results-123456789012-us-east-1
      prefix: restore/
"""

RETURN = r"""
restore_requested:
  description: Keys for which a restore was (or in check mode would be) requested.
  returned: always
  type: list
  elements: str
in_progress:
  description: Keys still being restored when the module ended.
  returned: always
  type: list
  elements: str
copied:
  description: Destination keys copied (or that would be copied) by this run.
  returned: always
  type: list
  elements: str
objects:
  description: Number of objects found under the prefixes.
  returned: always
  type: int
  sample: 12
eta:
  description: How long AWS says the pending restores take, empty when none is pending.
  returned: always
  type: str
  sample: 3-5 hours (GLACIER, Standard)
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

ARCHIVED = ("GLACIER", "DEEP_ARCHIVE")
ETA = {
    ("GLACIER", "Expedited"): "1-5 minutes", ("GLACIER", "Standard"): "3-5 hours", ("GLACIER", "Bulk"): "5-12 hours",
    ("DEEP_ARCHIVE", "Standard"): "within 12 hours", ("DEEP_ARCHIVE", "Bulk"): "within 48 hours",
}
WAIT_DELAY = 10


def validate(module):
    params = module.params
    if not params["prefixes"] or any(not p or p.startswith("/") for p in params["prefixes"]):
        module.fail_json(msg="prefixes must be a non-empty list of key prefixes not starting with '/'")
    if not 1 <= params["days"] <= 3650:
        module.fail_json(msg="days must be between 1 and 3650, got %d" % params["days"])
    if params["wait_timeout"] <= 0:
        module.fail_json(msg="wait_timeout must be positive, got %d" % params["wait_timeout"])
    copy_to = params["copy_to"]
    if copy_to and (not copy_to["prefix"].endswith("/") or copy_to["prefix"].startswith("/")):
        module.fail_json(msg="copy_to.prefix must end with '/' and not start with '/', got %r" % copy_to["prefix"])
    if copy_to and copy_to["bucket"] == params["bucket"] and any(p.startswith(copy_to["prefix"]) or copy_to["prefix"].startswith(p)
                                                                 for p in params["prefixes"]):
        module.fail_json(msg="copy_to.prefix overlaps prefixes: copies would land among the archived objects")


@AWSRetry.jittered_backoff()
def list_objects(client, bucket, prefix):
    paginator = client.get_paginator("list_objects_v2")
    return paginator.paginate(Bucket=bucket, Prefix=prefix).build_full_result().get("Contents", [])


def restore_state(module, client, bucket, obj):
    """'readable', 'in-progress' or 'archived' (needs a restore)."""
    if obj.get("StorageClass", "STANDARD") not in ARCHIVED:
        return "readable"
    try:
        head = client.head_object(aws_retry=True, Bucket=bucket, Key=obj["Key"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read s3://%s/%s" % (bucket, obj["Key"]))
    restore = head.get("Restore") or ""
    if 'ongoing-request="true"' in restore:
        return "in-progress"
    if 'ongoing-request="false"' in restore:
        return "readable"
    return "archived"


def exists(module, client, bucket, key):
    try:
        client.head_object(aws_retry=True, Bucket=bucket, Key=key)
        return True
    except is_boto3_error_code(("404", "NoSuchKey", "NotFound")):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read s3://%s/%s" % (bucket, key))


def main():
    argument_spec = dict(
        bucket=dict(type="str", required=True),
        prefixes=dict(type="list", elements="str", required=True),
        tier=dict(type="str", default="Standard", choices=["Expedited", "Standard", "Bulk"]),
        days=dict(type="int", default=7),
        copy_to=dict(type="dict", options=dict(bucket=dict(type="str", required=True), prefix=dict(type="str", required=True),
                                               kms_key_arn=dict(type="str", no_log=False))),
        wait=dict(type="bool", default=False),
        wait_timeout=dict(type="int", default=900),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    bucket, copy_to = params["bucket"], params["copy_to"]
    try:
        client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to S3")

    objects = []
    try:
        for prefix in params["prefixes"]:
            objects.extend(list_objects(client.client, bucket, prefix))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list s3://%s" % bucket)

    requested, classes = [], set()
    states = {}
    for obj in objects:
        states[obj["Key"]] = restore_state(module, client, bucket, obj)
        if states[obj["Key"]] == "archived":
            requested.append(obj["Key"])
            classes.add(obj["StorageClass"])
            if params["tier"] == "Expedited" and obj["StorageClass"] == "DEEP_ARCHIVE":
                module.fail_json(msg="tier Expedited is not available for DEEP_ARCHIVE objects (%s)" % obj["Key"])
            if not module.check_mode:
                try:
                    client.restore_object(aws_retry=True, Bucket=bucket, Key=obj["Key"],
                                          RestoreRequest={"Days": params["days"], "GlacierJobParameters": {"Tier": params["tier"]}})
                except is_boto3_error_code("RestoreAlreadyInProgress"):
                    pass
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                    module.fail_json_aws(e, msg="Failed to restore s3://%s/%s" % (bucket, obj["Key"]))

    by_key = dict((obj["Key"], obj) for obj in objects)
    pending = [k for k, s in states.items() if s != "readable"]
    if pending and params["wait"] and not module.check_mode:
        deadline = time.time() + params["wait_timeout"]
        while pending and time.time() < deadline:
            pending = [k for k in pending if restore_state(module, client, bucket, by_key[k]) != "readable"]
            if pending:
                time.sleep(WAIT_DELAY)
        for key in list(states):
            if key not in pending:
                states[key] = "readable"
    elif not module.check_mode:
        # A restore request may complete at once (small objects, Expedited): look again once.
        pending = [k for k in pending if restore_state(module, client, bucket, by_key[k]) != "readable"]
        for key in list(states):
            if key not in pending:
                states[key] = "readable"

    copied = []
    if copy_to:
        for key, state in sorted(states.items()):
            if state != "readable":
                continue
            target = copy_to["prefix"] + key
            if exists(module, client, copy_to["bucket"], target):
                continue
            copied.append(target)
            if module.check_mode:
                continue
            extra = {}
            if copy_to.get("kms_key_arn"):
                extra = {"ServerSideEncryption": "aws:kms", "SSEKMSKeyId": copy_to["kms_key_arn"]}
            try:
                client.copy_object(aws_retry=True, Bucket=copy_to["bucket"], Key=target, CopySource={"Bucket": bucket, "Key": key},
                                   StorageClass="STANDARD", **extra)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to copy s3://%s/%s to s3://%s/%s" % (bucket, key, copy_to["bucket"], target))

    pending_classes = sorted(set(by_key[k].get("StorageClass") for k in pending)) or sorted(classes)
    eta = "; ".join("%s (%s, %s)" % (ETA.get((c, params["tier"]), "unknown"), c, params["tier"]) for c in pending_classes) if pending else ""
    result = dict(changed=bool(requested or copied), restore_requested=sorted(requested), in_progress=sorted(pending),
                  copied=copied, eta=eta, objects=len(objects))
    if module._diff:
        result["diff"] = dict(before={"restore_requested": [], "copied": []}, after={"restore_requested": sorted(requested), "copied": copied})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
