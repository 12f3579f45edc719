#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: archive_partition_info
version_added: 0.1.0
short_description: Sizes of the logvault archive's partitions of one day, per account
description:
  - Lists the partitioned archive C(<prefix>account_id=<id>/dt=<day>/) of O(day) in O(bucket) (ListObjectsV2 through
    its paginator, one listing per account found under the prefix) and returns, per account, the objects and their
    bytes (compressed, as stored).
  - Read-only. The C(logvault.aws.cost_report) playbook uses it.
author:
  - logvault.aws maintainers (@logvault)
options:
  bucket:
    description: Name of the archive bucket.
    required: true
    type: str
  prefix:
    description: Key prefix of the partitions (the archive Firehose stream's, C(logs/)).
    type: str
    default: logs/
  day:
    description: The day, C(YYYY-MM-DD) (UTC).
    required: true
    type: str
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read yesterday's archive partitions
  logvault.aws.archive_partition_info:
    bucket: logvault-archive-123456789012-us-east-1
    day: "2026-12-02"
  register: partitions
"""

RETURN = r"""
accounts:
  description: Per account of the day's partitions, sorted by account id.
  returned: always
  type: list
  elements: dict
  contains:
    account_id:
      description: The account.
      type: str
      sample: "111111111111"
    objects:
      description: Objects in the partition.
      type: int
      sample: 12
    bytes:
      description: Their total size in bytes (as stored, gzip-compressed NDJSON).
      type: int
      sample: 1048576
  sample: [{"account_id": "111111111111", "objects": 12, "bytes": 1048576}]
"""

import re

try:
    import botocore  # noqa: F401  pylint: disable=unused-import
except ImportError:
    pass  # handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

DAY = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
ACCOUNT_PREFIX = re.compile(r"account_id=([0-9]{12})/$")


@AWSRetry.jittered_backoff()
def _list(client, **kwargs):
    return client.get_paginator("list_objects_v2").paginate(**kwargs).build_full_result()


def summarise(prefixes, listings):
    """[{account_id, objects, bytes}] from the account prefixes and, per prefix, its objects."""
    out = []
    for prefix in sorted(prefixes):
        match = ACCOUNT_PREFIX.search(prefix)
        if not match:
            continue
        contents = listings.get(prefix) or []
        out.append({"account_id": match.group(1), "objects": len(contents), "bytes": sum(int(o.get("Size", 0)) for o in contents)})
    return out


def main():
    module = AnsibleAWSModule(
        argument_spec=dict(bucket=dict(type="str", required=True), prefix=dict(type="str", default="logs/"),
                           day=dict(type="str", required=True)),
        supports_check_mode=True,
    )
    day = module.params["day"]
    if not DAY.match(day):
        module.fail_json(msg="day must be YYYY-MM-DD, got %r" % day)
    bucket, prefix = module.params["bucket"], module.params["prefix"]
    client = module.client("s3")
    try:
        accounts = _list(client, Bucket=bucket, Prefix=prefix, Delimiter="/").get("CommonPrefixes") or []
        prefixes = [p["Prefix"] for p in accounts]
        listings = {}
        for account_prefix in prefixes:
            if ACCOUNT_PREFIX.search(account_prefix):
                listings[account_prefix] = _list(client, Bucket=bucket, Prefix="%sdt=%s/" % (account_prefix, day)).get("Contents") or []
    except is_boto3_error_code("NoSuchBucket"):
        module.fail_json(msg="the archive bucket %s does not exist" % bucket)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list the archive partitions")
    module.exit_json(changed=False, accounts=summarise(prefixes, listings))


if __name__ == "__main__":
    main()
