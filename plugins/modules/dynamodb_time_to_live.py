#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: dynamodb_time_to_live
version_added: 0.1.0
short_description: Manage the time to live (TTL) of a DynamoDB table, with check mode
description:
  - Enables time to live on one attribute of an existing DynamoDB table, or disables it.
  - Exists because C(community.aws.dynamodb_ttl) 10.0.0 does not support check mode (its
    C(AnsibleAWSModule) is created without C(supports_check_mode)), so a role that uses it
    cannot predict its changes with C(--check). It is named differently so that the two
    are not confused.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  table_name:
    description:
      - Name of the table (3 to 255 letters, digits, V(_), V(-) or V(.)).
    required: true
    type: str
  attribute_name:
    description:
      - The attribute that holds each item's expiry time (seconds since the epoch).
      - Required when O(state=present). With O(state=absent) it is ignored; whatever
        attribute TTL is enabled on is disabled.
    type: str
  state:
    description:
      - V(present) enables TTL on O(attribute_name), V(absent) disables TTL.
      - V(present) never moves TTL that is enabled on another attribute; see the notes for the
        two-run procedure.
    choices: ['present', 'absent']
    default: present
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the setting before and after.
  - In check mode a table that does not exist yet (the task that would create it did not run)
    counts as having TTL disabled. Outside check mode a missing table fails the task.
  - Moving TTL to another attribute needs two C(UpdateTimeToLive) calls an hour apart. AWS
    processes a TTL change for up to one hour and refuses any other C(UpdateTimeToLive) on the
    table meanwhile (C(ValidationException),
    U(https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html)),
    so disabling and re-enabling in one run would leave the table without TTL. The module
    therefore refuses the move, in check mode too, before any write. To move it, run the task
    once with O(state=absent), wait an hour, then run it with O(state=present) and the new
    O(attribute_name). Items are not expired in between.
  - A status of C(ENABLING) counts as enabled and C(DISABLING) as disabled.
seealso:
  - name: UpdateTimeToLive API
    description: The DynamoDB API this module calls.
    link: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html
  - module: community.aws.dynamodb_table
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Expire items on expires_at
  logvault.aws.dynamodb_time_to_live:
    table_name: logvault-alerts-state
    attribute_name: expires_at

- name: Disable TTL
  logvault.aws.dynamodb_time_to_live:
    table_name: logvault-alerts-state
    state: absent
"""

RETURN = r"""
time_to_live:
  description: The table's TTL setting after the task.
  returned: always
  type: dict
  contains:
    enabled:
      description: Whether TTL is enabled (or being enabled).
      type: bool
      returned: always
      sample: true
    attribute_name:
      description: The TTL attribute; empty when TTL was never enabled.
      type: str
      returned: always
      sample: expires_at
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

TABLE_NAME = re.compile(r"^[A-Za-z0-9_.-]{3,255}$")
NOT_FOUND = ("ResourceNotFoundException", "ResourceNotFound")


def validate_params(module):
    params = module.params
    if not TABLE_NAME.match(params["table_name"]):
        module.fail_json(msg="table_name must be 3 to 255 letters, digits, '_', '-' or '.', got %r" % params["table_name"],
                         parameter="table_name")
    attribute = params["attribute_name"]
    if attribute is not None and not 1 <= len(attribute.encode("utf-8")) <= 255:
        module.fail_json(msg="attribute_name must be 1 to 255 bytes long, got %r" % attribute, parameter="attribute_name")
    if params["state"] == "present" and attribute is None:
        module.fail_json(msg="attribute_name is required when state is present", parameter="attribute_name")


def current_setting(module, client, table):
    """{"enabled", "attribute_name"}, or None when the table does not exist."""
    try:
        description = client.describe_time_to_live(aws_retry=True, TableName=table)["TimeToLiveDescription"]
    except is_boto3_error_code(NOT_FOUND):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the time to live of table %s" % table)
    return dict(enabled=description.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"),
                attribute_name=description.get("AttributeName") or "")


def update(module, client, table, enabled, attribute):
    try:
        client.update_time_to_live(aws_retry=True, TableName=table,
                                   TimeToLiveSpecification={"Enabled": enabled, "AttributeName": attribute})
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to %s the time to live of table %s on %s"
                             % ("enable" if enabled else "disable", table, attribute))


def main():
    argument_spec = dict(
        table_name=dict(type="str", required=True),
        attribute_name=dict(type="str"),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    table = module.params["table_name"]

    try:
        client = module.client("dynamodb", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to DynamoDB")

    before = current_setting(module, client, table)
    if before is None:
        if not module.check_mode:
            module.fail_json(msg="DynamoDB table %s does not exist; create it first (community.aws.dynamodb_table)" % table,
                             table_name=table)
        before = dict(enabled=False, attribute_name="")  # check mode: the task that creates the table did not run

    if module.params["state"] == "present":
        after = dict(enabled=True, attribute_name=module.params["attribute_name"])
        if before["enabled"] and before["attribute_name"] != after["attribute_name"]:
            module.fail_json(
                msg="Time to live of table %s is enabled on attribute %s; moving it to %s needs two UpdateTimeToLive calls an "
                "hour apart (AWS refuses a second change within an hour), so it is not done in one run. Run this task with "
                "state=absent, wait an hour, then run it with attribute_name=%s. TTL stays on %s until then."
                % (table, before["attribute_name"], after["attribute_name"], after["attribute_name"], before["attribute_name"]),
                parameter="attribute_name",
                time_to_live=before,
            )
        changed = before != after
    else:
        after = dict(enabled=False, attribute_name=before["attribute_name"])
        changed = before["enabled"]

    if changed and not module.check_mode:
        # One UpdateTimeToLive only: enable (TTL was off) or disable (state=absent).
        update(module, client, table, after["enabled"], after["attribute_name"] if after["enabled"] else before["attribute_name"])

    result = dict(changed=changed, time_to_live=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
