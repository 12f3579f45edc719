#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: athena_workgroup
version_added: 0.1.0
short_description: Manage an Amazon Athena workgroup and its named queries
description:
  - Creates, updates and deletes an Amazon Athena workgroup with its query results location, results encryption
    (C(SSE_KMS) with a customer managed key) and per-query bytes-scanned limit.
  - Manages the workgroup's named (saved) queries by name. Athena does not make names unique; the module keeps one
    query per listed name, creating (C(CreateNamedQuery)) or updating (C(UpdateNamedQuery)) it. Named queries not
    listed are left alone unless O(purge_named_queries=true).
  - Neither amazon.aws nor community.aws has an Athena module; this module exists for that.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description: Name of the workgroup (1-128 letters, digits, C(.), C(_) or C(-)).
    type: str
    required: true
  description:
    description: Description of the workgroup.
    type: str
    default: ""
  output_location:
    description: C(s3://bucket/prefix/) where query results are written. Required with O(state=present).
    type: str
  kms_key_arn:
    description: ARN of the KMS key that encrypts query results (C(SSE_KMS)). Without it results use C(SSE_S3).
    type: str
  bytes_scanned_cutoff:
    description: Upper limit of bytes one query may scan (at least 10,000,000); the query is cancelled beyond it. 0 means no limit.
    type: int
    default: 0
  enforce_workgroup_configuration:
    description: Whether the workgroup's settings override the client's (results location, encryption).
    type: bool
    default: true
  publish_cloudwatch_metrics:
    description: Whether query metrics are published to CloudWatch.
    type: bool
    default: true
  named_queries:
    description: Named queries of the workgroup. Not set leaves them alone.
    type: list
    elements: dict
    suboptions:
      name:
        description: Name (1-128 characters), unique in this list.
        type: str
        required: true
      description:
        description: Description (up to 1024 characters).
        type: str
        default: ""
      database:
        description: Database the query runs in.
        type: str
        required: true
      query:
        description: The SQL (up to 262,144 bytes).
        type: str
        required: true
  purge_named_queries:
    description: Delete the workgroup's named queries whose names are not in O(named_queries).
    type: bool
    default: false
  state:
    description: Whether the workgroup should exist. V(absent) deletes it with its named queries (C(RecursiveDeleteOption)).
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode. In check mode only C(GetWorkGroup), C(ListNamedQueries) and C(GetNamedQuery)
    are called and RV(ignore:changed) is predicted exactly.
  - U(https://docs.aws.amazon.com/athena/latest/ug/workgroups-manage-queries-control-costs.html) describes the
    per-query data usage control.
seealso:
  - name: Athena WorkGroupConfiguration
    description: The structure the module sends.
    link: https://docs.aws.amazon.com/athena/latest/APIReference/API_WorkGroupConfiguration.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Workgroup with encrypted results, a 10 GB limit per query and a saved query
  logvault.aws.athena_workgroup:
    name: logvault-archive
    output_location: s3://logvault-athena-results-123456789012/results/
    kms_key_arn: arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555
    bytes_scanned_cutoff: 10000000000
    named_queries:
      - name: account-day
        database: logvault_archive
        query: SELECT * FROM logs WHERE account = ? AND dt = ?
"""

RETURN = r"""
workgroup:
  description: The managed settings after the task; empty when absent.
  returned: always
  type: dict
  sample: {name: logvault-archive, bytes_scanned_cutoff: 10000000000}
named_queries:
  description: The managed named queries after the task (name, description, database, query, id when known).
  returned: always
  type: list
  elements: dict
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

NAME_RE = re.compile(r"^[a-zA-Z0-9._-]{1,128}$")
LOCATION_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")
KMS_RE = re.compile(r"^arn:aws(-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key/[a-zA-Z0-9-]+$")
MIN_CUTOFF = 10000000


def validate(module):
    params = module.params
    if not NAME_RE.match(params["name"]):
        module.fail_json(msg="name must be 1-128 letters, digits, '.', '_' or '-', got %r" % params["name"])
    if params["state"] == "absent":
        return
    if not params["output_location"] or not LOCATION_RE.match(params["output_location"]):
        module.fail_json(msg="output_location must be s3://<bucket>/<prefix>, got %r" % (params["output_location"],))
    if params["kms_key_arn"] and not KMS_RE.match(params["kms_key_arn"]):
        module.fail_json(msg="kms_key_arn must be a KMS key ARN, got %r" % params["kms_key_arn"])
    cutoff = params["bytes_scanned_cutoff"]
    if cutoff and cutoff < MIN_CUTOFF:
        module.fail_json(msg="bytes_scanned_cutoff must be 0 (no limit) or at least %d, got %d" % (MIN_CUTOFF, cutoff))
    names = set()
    for index, query in enumerate(params["named_queries"] or []):
        if not 1 <= len(query["name"]) <= 128:
            module.fail_json(msg="named_queries[%d].name must be 1-128 characters" % index)
        if query["name"] in names:
            module.fail_json(msg="named_queries[%d].name %r is listed twice" % (index, query["name"]))
        names.add(query["name"])
        if len(query["description"] or "") > 1024:
            module.fail_json(msg="named_queries[%d].description is longer than 1024 characters" % index)
        if not 1 <= len(query["query"].encode("utf-8")) <= 262144:
            module.fail_json(msg="named_queries[%d].query must be 1-262144 bytes" % index)


def desired_settings(params):
    encryption = {"EncryptionOption": "SSE_KMS", "KmsKey": params["kms_key_arn"]} if params["kms_key_arn"] else {"EncryptionOption": "SSE_S3"}
    return {
        "description": params["description"] or "",
        "output_location": params["output_location"],
        "encryption": encryption,
        "bytes_scanned_cutoff": params["bytes_scanned_cutoff"] or 0,
        "enforce_workgroup_configuration": params["enforce_workgroup_configuration"],
        "publish_cloudwatch_metrics": params["publish_cloudwatch_metrics"],
    }


def current_settings(workgroup):
    config = workgroup.get("Configuration") or {}
    result = config.get("ResultConfiguration") or {}
    encryption = dict((k, v) for k, v in (result.get("EncryptionConfiguration") or {}).items() if k in ("EncryptionOption", "KmsKey"))
    return {
        "description": workgroup.get("Description") or "",
        "output_location": result.get("OutputLocation"),
        "encryption": encryption or {},
        "bytes_scanned_cutoff": config.get("BytesScannedCutoffPerQuery") or 0,
        "enforce_workgroup_configuration": bool(config.get("EnforceWorkGroupConfiguration", True)),
        "publish_cloudwatch_metrics": bool(config.get("PublishCloudWatchMetricsEnabled", False)),
    }


def configuration(settings):
    config = {
        "ResultConfiguration": {"OutputLocation": settings["output_location"], "EncryptionConfiguration": settings["encryption"]},
        "EnforceWorkGroupConfiguration": settings["enforce_workgroup_configuration"],
        "PublishCloudWatchMetricsEnabled": settings["publish_cloudwatch_metrics"],
    }
    if settings["bytes_scanned_cutoff"]:
        config["BytesScannedCutoffPerQuery"] = settings["bytes_scanned_cutoff"]
    return config


def configuration_updates(settings):
    updates = {
        "ResultConfigurationUpdates": {"OutputLocation": settings["output_location"], "EncryptionConfiguration": settings["encryption"]},
        "EnforceWorkGroupConfiguration": settings["enforce_workgroup_configuration"],
        "PublishCloudWatchMetricsEnabled": settings["publish_cloudwatch_metrics"],
    }
    if settings["bytes_scanned_cutoff"]:
        updates["BytesScannedCutoffPerQuery"] = settings["bytes_scanned_cutoff"]
    else:
        updates["RemoveBytesScannedCutoffPerQuery"] = True
    return updates


def get_workgroup(module, client, name):
    try:
        # AWS raises InvalidRequestException for a missing workgroup; some emulators answer without WorkGroup.
        return client.get_work_group(aws_retry=True, WorkGroup=name).get("WorkGroup")
    except is_boto3_error_code("InvalidRequestException"):
        return None  # Athena answers InvalidRequestException for a workgroup that does not exist
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read Athena workgroup %s" % name)


def list_named_queries(module, client, workgroup):
    """{name: [queries]} of the workgroup (ListNamedQueries pages, then GetNamedQuery each)."""
    out = {}
    try:
        for query_id in _named_query_ids(client, workgroup):
            query = client.get_named_query(aws_retry=True, NamedQueryId=query_id)["NamedQuery"]
            out.setdefault(query["Name"], []).append(query)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the named queries of Athena workgroup %s" % workgroup)
    return out


@AWSRetry.jittered_backoff()
def _named_query_ids(client, workgroup):
    paginator = client.get_paginator("list_named_queries")
    return paginator.paginate(WorkGroup=workgroup).build_full_result().get("NamedQueryIds", [])


def _view(query, query_id=None):
    view = {"name": query["Name"], "description": query.get("Description") or "", "database": query["Database"], "query": query["QueryString"]}
    if query_id:
        view["id"] = query_id
    return view


def main():
    argument_spec = dict(
        name=dict(type="str", required=True),
        description=dict(type="str", default=""),
        output_location=dict(type="str"),
        kms_key_arn=dict(type="str", no_log=False),
        bytes_scanned_cutoff=dict(type="int", default=0),
        enforce_workgroup_configuration=dict(type="bool", default=True),
        publish_cloudwatch_metrics=dict(type="bool", default=True),
        named_queries=dict(type="list", elements="dict", options=dict(
            name=dict(type="str", required=True), description=dict(type="str", default=""),
            database=dict(type="str", required=True), query=dict(type="str", required=True))),
        purge_named_queries=dict(type="bool", default=False),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    name = params["name"]
    try:
        client = module.client("athena", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to Amazon Athena")

    current = get_workgroup(module, client, name)
    before = current_settings(current) if current else {}

    if params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            try:
                client.delete_work_group(aws_retry=True, WorkGroup=name, RecursiveDeleteOption=True)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to delete Athena workgroup %s" % name)
        result = dict(changed=changed, workgroup={}, named_queries=[])
        if module._diff:
            result["diff"] = dict(before=before, after={})
        module.exit_json(**result)

    settings = desired_settings(params)
    changed = False
    if current is None:
        changed = True
        if not module.check_mode:
            try:
                client.create_work_group(aws_retry=True, Name=name, Description=settings["description"], Configuration=configuration(settings))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to create Athena workgroup %s" % name)
    elif before != settings:
        changed = True
        if not module.check_mode:
            try:
                client.update_work_group(aws_retry=True, WorkGroup=name, Description=settings["description"],
                                         ConfigurationUpdates=configuration_updates(settings))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to update Athena workgroup %s" % name)

    existing = list_named_queries(module, client, name) if current is not None else {}
    before_queries = sorted((_view(q) for queries in existing.values() for q in queries), key=lambda q: q["name"])
    after_queries = []
    wanted = params["named_queries"]
    if wanted is not None:
        for query in wanted:
            desired = {"Name": query["name"], "Database": query["database"], "QueryString": query["query"]}
            if query["description"]:  # Athena's Description has a minimum length of 1
                desired["Description"] = query["description"]
            have = existing.pop(query["name"], [])
            keep, extra = (have[0], have[1:]) if have else (None, [])
            if keep is None:
                changed = True
                query_id = None
                if not module.check_mode:
                    try:
                        query_id = client.create_named_query(aws_retry=True, WorkGroup=name, **desired)["NamedQueryId"]
                    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                        module.fail_json_aws(e, msg="Failed to create named query %s" % query["name"])
                after_queries.append(_view(desired, query_id))
            elif keep.get("Database") != desired["Database"]:
                # UpdateNamedQuery cannot change the database: replace the saved query.
                changed = True
                query_id = None
                if not module.check_mode:
                    _delete_named_query(module, client, keep)
                    try:
                        query_id = client.create_named_query(aws_retry=True, WorkGroup=name, **desired)["NamedQueryId"]
                    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                        module.fail_json_aws(e, msg="Failed to create named query %s" % query["name"])
                after_queries.append(_view(desired, query_id))
            else:
                if _view(keep) != _view(desired):
                    changed = True
                    if not module.check_mode:
                        try:
                            client.update_named_query(aws_retry=True, NamedQueryId=keep["NamedQueryId"],
                                                      **dict((k, v) for k, v in desired.items() if k != "Database"))
                        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                            module.fail_json_aws(e, msg="Failed to update named query %s" % query["name"])
                after_queries.append(_view(desired, keep["NamedQueryId"]))
            for duplicate in extra:  # one query per name
                changed = True
                if not module.check_mode:
                    _delete_named_query(module, client, duplicate)
        if params["purge_named_queries"]:
            for queries in existing.values():
                for query in queries:
                    changed = True
                    if not module.check_mode:
                        _delete_named_query(module, client, query)
    else:
        after_queries = [_view(q, q["NamedQueryId"]) for queries in existing.values() for q in queries]

    result = dict(changed=changed, workgroup=dict(settings, name=name), named_queries=sorted(after_queries, key=lambda q: q["name"]))
    if module._diff:
        result["diff"] = dict(before=dict(before, named_queries=before_queries),
                              after=dict(settings, named_queries=[dict((k, v) for k, v in q.items() if k != "id") for q in result["named_queries"]]))
    module.exit_json(**result)


def _delete_named_query(module, client, query):
    try:
        client.delete_named_query(aws_retry=True, NamedQueryId=query["NamedQueryId"])
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to delete named query %s (%s)" % (query["Name"], query["NamedQueryId"]))


if __name__ == "__main__":
    main()
