#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: pipeline_canary_info
version_added: 0.1.0
short_description: Wait for canary log events to reach the logvault archive and search
description:
  - Waits until every marker in O(markers) has been seen in the archive bucket and in
    search, or until O(timeout) passes, and reports where each marker was found and
    after how many seconds.
  - The archive is read from S3 under O(archive.prefix). Objects may be gzip-compressed
    NDJSON (as the archive Firehose stream writes them) or plain text.
  - Search is either the OpenSearch domain (O(opensearch); a SigV4-signed C(_search)
    with C(match_phrase) on C(message)) or the S3 backup of the search Firehose stream
    (O(search_backup)), which is what the local AWS emulator provides.
  - On a domain with fine-grained access control the signing principal must be mapped to an
    OpenSearch role that may read the indices (role M(logvault.aws.central_account) maps
    C(central_account_opensearch_verify_principal_arns) to a read-only role of its own); an
    unmapped principal gets 403 C(security_exception) and the module fails saying so.
  - Read-only; it never changes anything, and it never fails because a marker is
    missing. The C(logvault.aws.verify) playbook asserts on the result.
author:
  - logvault.aws maintainers (@logvault)
options:
  markers:
    description:
      - Unique strings that were written as (part of) log messages.
    required: true
    type: list
    elements: str
  since:
    description:
      - Milliseconds since the epoch when the canaries were written. S3 objects last
        modified more than 5 minutes before this are not read.
      - It also bounds the S3 listing (see O(archive.dated_keys)).
      - When not given, the time this module starts is used.
    type: int
  archive:
    description:
      - Where the archive Firehose stream delivers.
    type: dict
    suboptions:
      bucket:
        description: Name of the archive bucket.
        type: str
        required: true
      prefix:
        description: Key prefix to list.
        type: str
        default: ""
      dated_keys:
        description:
          - The keys under the prefix start with Firehose's UTC time path C(YYYY/MM/DD/HH/), as Firehose writes
            them by default and as the unpartitioned archive prefix C(logs/!{timestamp:yyyy/MM/dd/HH}/) does
            (U(https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)).
          - Then the listing starts after the hour of O(since) less 5 minutes (C(StartAfter) of
            C(ListObjectsV2)), instead of listing the whole prefix on every look.
          - Set it to V(false) for the partitioned archive (C(logs/account_id=<id>/dt=<day>/)), whose keys
            do not start with that path, or give O(archive.accounts).
          - Not used with O(archive.accounts).
        type: bool
        default: true
      accounts:
        description:
          - The archive is partitioned by account and day (O(archive.prefix) followed by
            C(account_id=<id>/dt=<yyyy-MM-dd>/), the layout of role central_account, docs/archive.md). Only the
            partitions of these accounts (12-digit ids) are listed, for each UTC day from O(since) less 5 minutes
            to the time of the look, one C(ListObjectsV2) per account and day.
          - The day is the event's (C(@timestamp)); a canary written at O(since) lands in the day of O(since) or,
            around midnight, a later one.
        type: list
        elements: str
  search_backup:
    description:
      - S3 backup of the search Firehose stream (C(S3BackupMode=AllDocuments)).
      - Mutually exclusive with O(opensearch).
    type: dict
    suboptions:
      bucket:
        description: Name of the backup bucket.
        type: str
        required: true
      prefix:
        description: Key prefix to list.
        type: str
        default: ""
      dated_keys:
        description:
          - The keys under the prefix start with Firehose's UTC time path C(YYYY/MM/DD/HH/), as Firehose writes
            them by default and as the unpartitioned archive prefix C(logs/!{timestamp:yyyy/MM/dd/HH}/) does
            (U(https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html)).
          - Then the listing starts after the hour of O(since) less 5 minutes (C(StartAfter) of
            C(ListObjectsV2)), instead of listing the whole prefix on every look.
        type: bool
        default: true
  opensearch:
    description:
      - The OpenSearch domain that the search Firehose stream writes to.
      - Mutually exclusive with O(search_backup).
    type: dict
    suboptions:
      endpoint:
        description: HTTPS endpoint of the domain, for example V(https://search-logs-abc.us-east-1.es.amazonaws.com).
        type: str
        required: true
      index:
        description:
          - Index pattern to search; role M(logvault.aws.central_account) writes daily indices
            C(<central_account_opensearch_index_prefix>-YYYY-MM-DD), by default C(logs-*).
        type: str
        default: logs-*
      ca_path:
        description: PEM file of the CA that signed the endpoint's certificate, when it is not a public CA (tests, proxies).
        type: path
  timeout:
    description:
      - Seconds to wait for every marker.
    type: int
    default: 300
  interval:
    description:
      - Seconds between two looks.
    type: int
    default: 5
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Wait for the canaries in the archive and in OpenSearch
  logvault.aws.pipeline_canary_info:
    markers: "{{ canary_markers }}"
    since: "{{ canary_written_at }}"
    archive:
      bucket: logvault-archive-123456789012
      prefix: logs/
    opensearch:
      endpoint: https://search-logvault-abc.us-east-1.es.amazonaws.com
    timeout: 600
  register: canary

- name: The same over the archive partitioned by account and day (lists only the canaries' partitions)
  logvault.aws.pipeline_canary_info:
    markers: "{{ canary_markers }}"
    since: "{{ canary_written_at }}"
    archive:
      bucket: logvault-archive-123456789012-us-east-1
      prefix: logs/
      accounts: ["111111111111", "222222222222"]
    opensearch:
      endpoint: https://search-logvault-abc.us-east-1.es.amazonaws.com

- name: Fail unless every canary arrived
  ansible.builtin.assert:
    that: canary.missing | length == 0
    fail_msg: "No delivery from {{ canary.missing | join(', ') }}"
"""

RETURN = r"""
results:
  description: One entry per marker, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    marker:
      description: The marker.
      type: str
    archive:
      description: Whether the marker was found in the archive.
      type: bool
    search:
      description: Whether the marker was found in search.
      type: bool
    archive_seconds:
      description: Seconds from the start of the wait until it was found in the archive; null when not found.
      type: float
    search_seconds:
      description: Seconds from the start of the wait until it was found in search; null when not found.
      type: float
missing:
  description: Markers not found in the archive or not found in search.
  returned: always
  type: list
  elements: str
objects_read:
  description: How many S3 objects were read.
  returned: always
  type: int
"""

import gzip
import time

try:
    import botocore
except ImportError:
    pass  # caught by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchError
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_client
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import signing_region
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import validate_endpoint

GRACE_MS = 5 * 60 * 1000


def partition_prefixes(prefix, accounts, since, now):
    """The partition prefixes of ``accounts`` for every UTC day from since less the grace to now (ms)."""
    first = (max(0, since - GRACE_MS) // 1000) // 86400
    last = max(first, int(now // 1000) // 86400)
    days = [time.strftime("%Y-%m-%d", time.gmtime(day * 86400)) for day in range(first, last + 1)]
    return ["%saccount_id=%s/dt=%s/" % (prefix, account, day) for account in accounts for day in days]


def start_after_key(prefix, since):
    """The StartAfter key for Firehose's dated keys: the prefix and the UTC hour of since less the grace."""
    hour = time.gmtime(max(0, since - GRACE_MS) / 1000.0)
    return prefix + time.strftime("%Y/%m/%d/%H/", hour)


class S3Reader:
    """Reads each new object under a prefix once and reports which markers it holds."""

    def __init__(self, module, client, bucket, prefix, since, dated_keys=True, accounts=None):
        self.module, self.client, self.bucket, self.prefix = module, client, bucket, prefix
        self.since = since
        self.accounts = accounts
        self.start_after = start_after_key(prefix, since) if dated_keys and not accounts and since is not None else None
        self.seen = set()

    def _listing(self):
        """Every object under the prefix, or under the accounts' partitions of the days so far."""
        if self.accounts:
            prefixes = partition_prefixes(self.prefix, self.accounts, self.since, time.time() * 1000)
        else:
            prefixes = [self.prefix]
        paginator = self.client.get_paginator("list_objects_v2")
        for prefix in prefixes:
            kwargs = dict(Bucket=self.bucket, Prefix=prefix)
            if self.start_after:
                kwargs["StartAfter"] = self.start_after
            try:
                pages = paginator.paginate(**kwargs).build_full_result()
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg="Failed to list objects in s3://%s/%s" % (self.bucket, prefix))
            yield from pages.get("Contents", [])

    def new_texts(self):
        for obj in self._listing():
            key = obj["Key"]
            if key in self.seen:
                continue
            self.seen.add(key)
            if self.since is not None and obj["LastModified"].timestamp() * 1000 < self.since - GRACE_MS:
                continue
            try:
                body = self.client.get_object(aws_retry=True, Bucket=self.bucket, Key=key)["Body"].read()
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg="Failed to get s3://%s/%s" % (self.bucket, key))
            if body[:2] == b"\x1f\x8b":
                body = gzip.decompress(body)
            yield body.decode("utf-8", errors="replace")


def search_opensearch(module, client, index, markers):
    found = set()
    for marker in markers:
        query = {"size": 0, "query": {"match_phrase": {"message": marker}}}
        try:
            dummy, response = client.request("POST", "/%s/_search" % index, body=query)
        except OpenSearchError as e:
            module.fail_json(msg="Failed to search %s for the canaries: %s" % (index, e))
        hits = (response or {}).get("hits", {}).get("total", 0)
        if isinstance(hits, dict):
            hits = hits.get("value", 0)
        if hits:
            found.add(marker)
    return found


def main():
    location = dict(bucket=dict(type="str", required=True), prefix=dict(type="str", default=""), dated_keys=dict(type="bool", default=True))
    archive = dict(location, accounts=dict(type="list", elements="str"))
    module = AnsibleAWSModule(
        argument_spec=dict(
            markers=dict(type="list", elements="str", required=True),
            since=dict(type="int"),
            archive=dict(type="dict", options=archive),
            search_backup=dict(type="dict", options=location),
            opensearch=dict(
                type="dict",
                options=dict(endpoint=dict(type="str", required=True), index=dict(type="str", default="logs-*"), ca_path=dict(type="path")),
            ),
            timeout=dict(type="int", default=300),
            interval=dict(type="int", default=5),
        ),
        mutually_exclusive=[["search_backup", "opensearch"]],
        supports_check_mode=True,
    )
    params = module.params
    markers = params["markers"]
    if not markers or any(not m for m in markers):
        module.fail_json(msg="markers must be a non-empty list of non-empty strings")
    if params["timeout"] < 0 or params["interval"] < 1:
        module.fail_json(msg="timeout must be >= 0 and interval >= 1, got timeout=%s interval=%s" % (params["timeout"], params["interval"]))
    if not (params["archive"] or params["search_backup"] or params["opensearch"]):
        module.fail_json(msg="give at least one of archive, search_backup and opensearch to look in")
    accounts = (params["archive"] or {}).get("accounts")
    if accounts is not None and (not accounts or any(not (len(a) == 12 and a.isdigit()) for a in accounts)):
        module.fail_json(msg="archive.accounts must be a non-empty list of 12-digit account ids, got %r" % (accounts,))
    since = params["since"] if params["since"] is not None else int(time.time() * 1000)
    os_client = None
    if params["opensearch"]:
        try:
            endpoint = validate_endpoint(params["opensearch"]["endpoint"])
        except ValueError as e:
            module.fail_json(msg="opensearch.endpoint: %s" % e)
        os_client = opensearch_client(module, endpoint, signing_region(module, endpoint))
        os_client.ca_path = params["opensearch"]["ca_path"]

    s3 = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    readers = {}
    if params["archive"]:
        readers["archive"] = S3Reader(module, s3, params["archive"]["bucket"], params["archive"]["prefix"], since,
                                      params["archive"]["dated_keys"], accounts)
    if params["search_backup"]:
        readers["search"] = S3Reader(module, s3, params["search_backup"]["bucket"], params["search_backup"]["prefix"], since,
                                     params["search_backup"]["dated_keys"])
    places = sorted(set(readers) | ({"search"} if os_client else set()))

    start = time.time()
    found = dict((place, {}) for place in places)
    while True:
        elapsed = round(time.time() - start, 1)
        for place, reader in readers.items():
            for text in reader.new_texts():
                for marker in markers:
                    if marker not in found[place] and marker in text:
                        found[place][marker] = elapsed
        if os_client:
            remaining = [m for m in markers if m not in found["search"]]
            for marker in search_opensearch(module, os_client, params["opensearch"]["index"], remaining):
                found["search"][marker] = elapsed
        done = all(len(found[place]) == len(markers) for place in places)
        if done or time.time() - start >= params["timeout"]:
            break
        time.sleep(params["interval"])

    results, missing = [], []
    for marker in markers:
        entry = dict(marker=marker)
        for place in ("archive", "search"):
            entry[place] = marker in found.get(place, {})
            entry[place + "_seconds"] = found.get(place, {}).get(marker)
        if any(not entry[place] for place in places):
            missing.append(marker)
        results.append(entry)
    module.exit_json(
        changed=False,
        results=results,
        missing=missing,
        objects_read=sum(len(r.seen) for r in readers.values()),
    )


if __name__ == "__main__":
    main()
