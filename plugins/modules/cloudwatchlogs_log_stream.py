#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: cloudwatchlogs_log_stream
version_added: 0.1.0
short_description: Create or delete CloudWatch Logs log streams in a log group
description:
  - Makes sure the listed log streams exist in a log group (V(present) creates the missing
    ones only) or do not exist (V(absent) deletes the listed ones that exist). Other log
    streams of the group are never touched.
  - Amazon Data Firehose writes its delivery errors to the log stream named in its
    C(CloudWatchLoggingOptions) but does not create that stream when the options are set by
    API; this module creates it.
  - No module of amazon.aws 10.1.2 or community.aws 10.0.0 creates or deletes a log stream
    (M(amazon.aws.cloudwatchlogs_log_group) manages only the group).
  - The log group itself is managed with M(amazon.aws.cloudwatchlogs_log_group).
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  log_group_name:
    description:
      - Name of the log group (1 to 512 letters, digits, V(.), V(-), V(_), V(/) or V(#)).
    required: true
    type: str
  log_stream_names:
    description:
      - Names of the log streams (each 1 to 512 characters, no V(:) or V(*)).
      - A single name may be given as a string; a string is split at commas, so give a name
        that contains a comma in a list.
    required: true
    type: list
    elements: str
    aliases: ['log_stream_name']
  state:
    description:
      - V(present) creates the listed streams that are missing, V(absent) deletes the listed
        streams that exist.
    choices: ['present', 'absent']
    default: present
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the listed streams that exist before and after.
  - In check mode a log group that does not exist yet (the task that would create it did not
    run) has no streams, so V(present) predicts creating every listed stream. Outside check
    mode V(present) on a missing log group fails the task; V(absent) reports no change.
  - Deleting a log stream deletes its log events.
seealso:
  - name: CreateLogStream API
    description: The CloudWatch Logs API this module calls.
    link: https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogStream.html
  - module: amazon.aws.cloudwatchlogs_log_group
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the log group Firehose reports its errors to
  amazon.aws.cloudwatchlogs_log_group:
    log_group_name: /aws/kinesisfirehose/logvault-search
    retention: 30

- name: Create the log streams Firehose writes its delivery errors to
  logvault.aws.cloudwatchlogs_log_stream:
    log_group_name: /aws/kinesisfirehose/logvault-search
    log_stream_names:
      - DestinationDelivery
      - BackupDelivery

- name: Delete one log stream
  logvault.aws.cloudwatchlogs_log_stream:
    log_group_name: /aws/kinesisfirehose/logvault-search
    log_stream_name: BackupDelivery
    state: absent
"""

RETURN = r"""
log_group_name:
  description: Name of the log group.
  returned: always
  type: str
  sample: /aws/kinesisfirehose/logvault-search
log_stream_names:
  description: The listed log streams that exist after the task, sorted.
  returned: always
  type: list
  elements: str
  sample: [BackupDelivery, DestinationDelivery]
created:
  description: The log streams created (in check mode, that would be created), sorted.
  returned: always
  type: list
  elements: str
  sample: [BackupDelivery]
deleted:
  description: The log streams deleted (in check mode, that would be deleted), sorted.
  returned: always
  type: list
  elements: str
  sample: []
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

LOG_GROUP = re.compile(r"^[.\-_/#A-Za-z0-9]{1,512}$")
LOG_STREAM = re.compile(r"^[^:*]{1,512}$")
RETRY_CODES = ["ThrottlingException", "OperationAbortedException", "ServiceUnavailableException"]


class GroupMissing(Exception):
    """The log group does not exist."""


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    group = module.params["log_group_name"]
    if not LOG_GROUP.match(group):
        module.fail_json(msg="log_group_name must be 1 to 512 letters, digits, '.', '-', '_', '/' or '#', got %r" % group,
                         parameter="log_group_name")
    names = module.params["log_stream_names"]
    if not names:
        module.fail_json(msg="log_stream_names must name at least one log stream", parameter="log_stream_names")
    for name in names:
        if not LOG_STREAM.match(name):
            module.fail_json(msg="log_stream_names must be names of 1 to 512 characters without ':' or '*', got %r" % name,
                             parameter="log_stream_names")


def stream_exists(client, group, name):
    """True when the stream ``name`` exists; raises GroupMissing when the group does not."""
    kwargs = dict(logGroupName=group, logStreamNamePrefix=name)
    while True:
        try:
            page = client.describe_log_streams(aws_retry=True, **kwargs)
        except is_boto3_error_code("ResourceNotFoundException"):
            raise GroupMissing(group) from None
        if any(s.get("logStreamName") == name for s in page.get("logStreams", [])):
            return True
        if not page.get("nextToken") or page.get("nextToken") == kwargs.get("nextToken"):
            return False
        kwargs["nextToken"] = page["nextToken"]


def main():
    argument_spec = dict(
        log_group_name=dict(type="str", required=True),
        log_stream_names=dict(type="list", elements="str", required=True, aliases=["log_stream_name"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    group = module.params["log_group_name"]
    names = sorted(set(module.params["log_stream_names"]))
    present = module.params["state"] == "present"

    try:
        client = module.client("logs", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to CloudWatch Logs")

    group_missing = False
    try:
        existing = [name for name in names if stream_exists(client, group, name)]
    except GroupMissing:
        group_missing = True
        existing = []
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to describe the log streams of log group %s" % group)

    if group_missing and present and not module.check_mode:
        module.fail_json(msg="log group %s does not exist; create it first (amazon.aws.cloudwatchlogs_log_group)" % group,
                         log_group_name=group)

    created = [name for name in names if name not in existing] if present else []
    deleted = [] if present else existing
    if not module.check_mode:
        for name in created:
            try:
                client.create_log_stream(aws_retry=True, logGroupName=group, logStreamName=name)
            except is_boto3_error_code("ResourceAlreadyExistsException"):
                pass  # created meanwhile
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to create log stream %s in log group %s" % (name, group))
        for name in deleted:
            try:
                client.delete_log_stream(aws_retry=True, logGroupName=group, logStreamName=name)
            except is_boto3_error_code("ResourceNotFoundException"):
                pass  # deleted meanwhile
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
                module.fail_json_aws(e, msg="Failed to delete log stream %s in log group %s" % (name, group))

    after = names if present else []
    result = dict(changed=bool(created or deleted), log_group_name=group, log_stream_names=after,
                  created=created, deleted=deleted)
    if module._diff:
        result["diff"] = dict(before=dict(log_stream_names=existing), after=dict(log_stream_names=after))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
