#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: glue_table
version_added: 0.1.0
short_description: Manage an AWS Glue Data Catalog table (and its database) over S3 data
description:
  - Creates, updates and deletes an external table of the AWS Glue Data Catalog, for example a JSON table over
    S3 objects with partition projection that Amazon Athena queries without a crawler.
  - With O(state=present) the database O(database) is created when it does not exist (C(CreateDatabase)); the
    module never deletes a database.
  - The table is compared with C(GetTable) on what the module sets (description, parameters, columns, partition keys,
    location, formats, SerDe); a difference is applied with C(UpdateTable), which replaces the table definition.
  - Neither amazon.aws nor community.aws manages Glue databases or tables (community.aws has C(glue_connection),
    C(glue_crawler) and C(glue_job) only); this module exists for that.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description: Name of the table (1-255 characters; Athena needs lowercase letters, digits and C(_)).
    type: str
    required: true
  database:
    description: Name of the database (1-255 lowercase letters, digits and C(_)).
    type: str
    required: true
  database_description:
    description: Description of the database when the module creates it. An existing database is left alone.
    type: str
  description:
    description: Description of the table.
    type: str
    default: ""
  columns:
    description: Data columns, in order. Required with O(state=present).
    type: list
    elements: dict
    suboptions: &column
      name:
        description: Column name (lowercase).
        type: str
        required: true
      type:
        description: Hive type, for example C(string), C(bigint), C(array<string>).
        type: str
        required: true
      comment:
        description: Comment.
        type: str
        default: ""
  partition_keys:
    description: Partition columns, in order.
    type: list
    elements: dict
    default: []
    suboptions: *column
  location:
    description: C(s3://bucket/prefix/) of the data. Required with O(state=present).
    type: str
  input_format:
    description: Hadoop input format class.
    type: str
    default: org.apache.hadoop.mapred.TextInputFormat
  output_format:
    description: Hadoop output format class.
    type: str
    default: org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat
  serde:
    description: The SerDe.
    type: dict
    suboptions:
      library:
        description: SerDe class, for example C(org.openx.data.jsonserde.JsonSerDe).
        type: str
        required: true
      parameters:
        description: SerDe parameters (values are strings).
        type: dict
        default: {}
  parameters:
    description:
      - Table parameters (values are strings), for example partition projection (C(projection.enabled),
        C(projection.<column>.type), C(storage.location.template)). C(EXTERNAL=TRUE) is always set.
      - Parameters not listed are removed.
    type: dict
    default: {}
  state:
    description: Whether the table should exist.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode. In check mode only C(GetDatabase)/C(GetTable) are called and RV(ignore:changed)
    is predicted exactly.
  - Partition projection, see U(https://docs.aws.amazon.com/athena/latest/ug/partition-projection.html).
seealso:
  - name: Glue TableInput
    description: The structure the module sends.
    link: https://docs.aws.amazon.com/glue/latest/webapi/API_TableInput.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: JSON table over the archive, projected on account and day
  logvault.aws.glue_table:
    database: logvault_archive
    name: logs
    location: s3://logvault-archive-123456789012-us-east-1/logs/
    columns:
      - {name: ts, type: string}
      - {name: message, type: string}
    partition_keys:
      - {name: account, type: string}
      - {name: dt, type: string}
    serde:
      library: org.openx.data.jsonserde.JsonSerDe
      parameters:
        mapping.ts: "@timestamp"
    parameters:
      projection.enabled: "true"
      projection.account.type: enum
      projection.account.values: "111111111111,222222222222"
      projection.dt.type: date
      projection.dt.format: yyyy-MM-dd
      projection.dt.range: "2026-01-01,NOW"
      storage.location.template: s3://logvault-archive-123456789012-us-east-1/logs/account_id=${account}/dt=${dt}/

- name: Remove the table
  logvault.aws.glue_table:
    database: logvault_archive
    name: logs
    state: absent
"""

RETURN = r"""
table:
  description: The table definition after the task (the TableInput shape, snake_case keys); empty when absent.
  returned: always
  type: dict
  sample: {name: logs, table_type: EXTERNAL_TABLE}
database_created:
  description: Whether the database was (or, in check mode, would be) created.
  returned: always
  type: bool
"""

import copy
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

NAME_RE = re.compile(r"^[a-z0-9_]{1,255}$")
COLUMN_RE = re.compile(r"^[a-z0-9_]{1,255}$")
LOCATION_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?$")


def validate(module):
    params = module.params
    for option in ("name", "database"):
        if not NAME_RE.match(params[option]):
            module.fail_json(msg="%s must be 1-255 lowercase letters, digits or '_', got %r" % (option, params[option]))
    if params["state"] == "absent":
        return
    if not params["columns"]:
        module.fail_json(msg="columns is required (at least one) when state is present")
    if not params["location"] or not LOCATION_RE.match(params["location"]):
        module.fail_json(msg="location must be s3://<bucket>/<prefix>, got %r" % (params["location"],))
    seen = set()
    for option in ("columns", "partition_keys"):
        for index, column in enumerate(params[option] or []):
            if not COLUMN_RE.match(column["name"]):
                module.fail_json(msg="%s[%d].name must be lowercase letters, digits or '_', got %r" % (option, index, column["name"]))
            if column["name"] in seen:
                module.fail_json(msg="%s[%d].name %r is used twice (a partition key cannot also be a column)" % (option, index, column["name"]))
            seen.add(column["name"])
    for option, values in (("parameters", params["parameters"]), ("serde.parameters", (params["serde"] or {}).get("parameters"))):
        for key, value in (values or {}).items():
            if not isinstance(value, str):
                module.fail_json(msg="%s.%s must be a string, got %r (quote it)" % (option, key, value))


def _columns(columns):
    return [{"Name": c["name"], "Type": c["type"], "Comment": c.get("comment") or ""} for c in columns or []]


def desired_table(params):
    parameters = dict(params["parameters"] or {})
    parameters["EXTERNAL"] = "TRUE"
    serde = params["serde"] or {}
    storage = {
        "Columns": _columns(params["columns"]),
        "Location": params["location"],
        "InputFormat": params["input_format"],
        "OutputFormat": params["output_format"],
        "SerdeInfo": {"SerializationLibrary": serde.get("library") or "", "Parameters": dict(serde.get("parameters") or {})},
    }
    return {
        "Name": params["name"],
        "Description": params["description"] or "",
        "TableType": "EXTERNAL_TABLE",
        "Parameters": parameters,
        "PartitionKeys": _columns(params["partition_keys"]),
        "StorageDescriptor": storage,
    }


def comparable(table):
    """The TableInput-shaped part of a GetTable result that the module manages."""
    if table is None:
        return None
    storage = table.get("StorageDescriptor") or {}
    serde = storage.get("SerdeInfo") or {}

    def cols(columns):
        return [{"Name": c.get("Name"), "Type": c.get("Type"), "Comment": c.get("Comment") or ""} for c in columns or []]

    return {
        "Name": table.get("Name"),
        "Description": table.get("Description") or "",
        "TableType": table.get("TableType"),
        "Parameters": dict(table.get("Parameters") or {}),
        "PartitionKeys": cols(table.get("PartitionKeys")),
        "StorageDescriptor": {
            "Columns": cols(storage.get("Columns")),
            "Location": storage.get("Location"),
            "InputFormat": storage.get("InputFormat"),
            "OutputFormat": storage.get("OutputFormat"),
            "SerdeInfo": {"SerializationLibrary": serde.get("SerializationLibrary") or "", "Parameters": dict(serde.get("Parameters") or {})},
        },
    }


def get_table(module, client, database, name):
    try:
        return client.get_table(aws_retry=True, DatabaseName=database, Name=name)["Table"]
    except is_boto3_error_code("EntityNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read Glue table %s.%s" % (database, name))


def database_exists(module, client, database):
    try:
        client.get_database(aws_retry=True, Name=database)
        return True
    except is_boto3_error_code("EntityNotFoundException"):
        return False
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read Glue database %s" % database)


def main():
    column = dict(name=dict(type="str", required=True), type=dict(type="str", required=True), comment=dict(type="str", default=""))
    argument_spec = dict(
        name=dict(type="str", required=True),
        database=dict(type="str", required=True),
        database_description=dict(type="str"),
        description=dict(type="str", default=""),
        columns=dict(type="list", elements="dict", options=column),
        partition_keys=dict(type="list", elements="dict", options=column, default=[], no_log=False),
        location=dict(type="str"),
        input_format=dict(type="str", default="org.apache.hadoop.mapred.TextInputFormat"),
        output_format=dict(type="str", default="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
        serde=dict(type="dict", options=dict(library=dict(type="str", required=True), parameters=dict(type="dict", default={}))),
        parameters=dict(type="dict", default={}),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    database, name = params["database"], params["name"]
    try:
        client = module.client("glue", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to AWS Glue")

    has_database = database_exists(module, client, database)
    current = get_table(module, client, database, name) if has_database else None
    before = comparable(current)
    database_created = False

    if params["state"] == "absent":
        changed = current is not None
        if changed and not module.check_mode:
            try:
                client.delete_table(aws_retry=True, DatabaseName=database, Name=name)
            except is_boto3_error_code("EntityNotFoundException"):
                pass
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete Glue table %s.%s" % (database, name))
        after = None
    else:
        after = desired_table(params)
        changed = before != after
        if not has_database:
            database_created = True
            if not module.check_mode:
                database_input = {"Name": database}
                if params["database_description"]:
                    database_input["Description"] = params["database_description"]
                try:
                    client.create_database(aws_retry=True, DatabaseInput=database_input)
                except is_boto3_error_code("AlreadyExistsException"):
                    pass
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                    module.fail_json_aws(e, msg="Failed to create Glue database %s" % database)
        if changed and not module.check_mode:
            try:
                if current is None:
                    client.create_table(aws_retry=True, DatabaseName=database, TableInput=copy.deepcopy(after))
                else:
                    client.update_table(aws_retry=True, DatabaseName=database, TableInput=copy.deepcopy(after))
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to %s Glue table %s.%s" % ("create" if current is None else "update", database, name))

    result = dict(changed=changed or database_created, database_created=database_created,
                  table=camel_dict_to_snake_dict(after, ignore_list=["Parameters"]) if after else {})
    if module._diff:
        result["diff"] = dict(before=before or {}, after=after or {})
    module.exit_json(**result)


if __name__ == "__main__":
    main()
