#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kinesis_stream_mode
version_added: 0.1.0
short_description: Set the capacity mode (provisioned or on-demand) of a Kinesis data stream
description:
  - Switches an existing Kinesis data stream between the V(PROVISIONED) and V(ON_DEMAND)
    capacity modes with C(UpdateStreamMode), only when its current mode differs.
  - C(community.aws.kinesis_stream) only manages provisioned streams (it always needs
    C(shards), creates the stream provisioned and calls C(UpdateShardCount) whenever the
    open shard count differs), and neither C(amazon.aws) nor C(community.aws) can set the
    capacity mode. Create the stream with C(community.aws.kinesis_stream) first, then run
    this module; for an on-demand stream pass C(community.aws.kinesis_stream) the
    stream's current open shard count (from M(logvault.aws.kinesis_stream_info)) so it
    never tries to resize it.
  - The module never creates or deletes a stream.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the stream (1 to 128 characters of letters, digits, V(_), V(.) and V(-)).
    required: true
    type: str
    aliases: ['stream_name']
  mode:
    description:
      - The capacity mode the stream should have.
    required: true
    type: str
    choices: ['PROVISIONED', 'ON_DEMAND']
    aliases: ['stream_mode']
  wait:
    description:
      - Wait until the stream is V(ACTIVE) before switching (AWS refuses to switch a
        stream that is being updated) and until it is V(ACTIVE) in the new mode after.
    type: bool
    default: true
  wait_timeout:
    description:
      - How many seconds to wait, at least 1.
    type: int
    default: 600
notes:
  - AWS allows two capacity mode switches per stream in any 24-hour period. A third one
    fails with C(LimitExceededException); the module does not retry it.
  - Switching a stream to V(PROVISIONED) keeps its current number of shards; resize it
    afterwards with C(community.aws.kinesis_stream) if needed. Switching to V(ON_DEMAND)
    makes AWS scale the shards itself (and bills per GB written and read).
  - Check mode makes no write and predicts RV(ignore:changed) exactly. When the stream does
    not exist in check mode, the module assumes that an earlier task of the same run
    creates it provisioned (as C(community.aws.kinesis_stream) does) and reports a change
    for O(mode=ON_DEMAND) only. Outside check mode a missing stream is an error.
  - With C(--diff) the module returns the stream before and after.
  - Calls C(kinesis:DescribeStreamSummary), C(kinesis:ListTagsForStream) and
    C(kinesis:UpdateStreamMode) (which takes the stream ARN).
seealso:
  - module: logvault.aws.kinesis_stream_info
  - module: community.aws.kinesis_stream
  - name: UpdateStreamMode API
    description: The Kinesis API this module calls.
    link: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_UpdateStreamMode.html
  - name: Choosing the data stream capacity mode
    description: AWS documentation of provisioned and on-demand streams and their limits.
    link: https://docs.aws.amazon.com/streams/latest/dev/how-do-i-size-a-stream.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the stream (community.aws.kinesis_stream creates it provisioned)
  community.aws.kinesis_stream:
    name: logvault-hub
    shards: 1
    retention_period: 168
    wait: true

- name: Switch it to on-demand
  logvault.aws.kinesis_stream_mode:
    name: logvault-hub
    mode: ON_DEMAND

- name: Back to provisioned, without waiting for the switch to finish
  logvault.aws.kinesis_stream_mode:
    name: logvault-hub
    mode: PROVISIONED
    wait: false
"""

RETURN = r"""
stream:
  description:
    - The stream after the task, as M(logvault.aws.kinesis_stream_info) returns it.
    - In check mode the predicted state. When the stream does not exist in check mode,
      only RV(stream.name) and RV(stream.stream_mode) are returned.
  returned: always
  type: dict
  contains:
    name:
      description: Name of the stream.
      type: str
      returned: always
      sample: logvault-hub
    arn:
      description: ARN of the stream.
      type: str
      returned: when the stream exists
      sample: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    status:
      description: Status of the stream; V(ACTIVE) after the task when O(wait=true).
      type: str
      returned: when the stream exists
      sample: ACTIVE
    stream_mode:
      description: Capacity mode, V(PROVISIONED) or V(ON_DEMAND).
      type: str
      returned: always
      sample: ON_DEMAND
    open_shard_count:
      description: Number of open shards.
      type: int
      returned: when the stream exists
      sample: 1
    retention_period_hours:
      description: How long records stay in the stream.
      type: int
      returned: when the stream exists
      sample: 168
    encryption_type:
      description: V(KMS) or V(NONE).
      type: str
      returned: when the stream exists
      sample: KMS
    key_id:
      description: The KMS key when the stream is encrypted, else null.
      type: str
      returned: when the stream exists
      sample: alias/logvault
    tags:
      description: Tags of the stream.
      type: dict
      returned: when the stream exists
      sample: {project: logvault}
"""

import copy

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.kinesis import RETRY_CODES
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import STREAM_MODES
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import get_stream
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import validate_stream_name
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import wait_for_mode


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params
    try:
        validate_stream_name(params["name"], "name")
    except ValidationError as e:
        module.fail_json(msg=str(e), parameter=e.param)
    if params["wait_timeout"] < 1:
        module.fail_json(msg="'wait_timeout' must be at least 1 second; got %s" % params["wait_timeout"], parameter="wait_timeout")


def exit_with(module, changed, before, after):
    result = dict(changed=changed, stream=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


def main():
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["stream_name"]),
        mode=dict(type="str", required=True, choices=list(STREAM_MODES), aliases=["stream_mode"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    name = module.params["name"]
    mode = module.params["mode"]
    wait = module.params["wait"]
    timeout = module.params["wait_timeout"]

    try:
        client = module.client("kinesis", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to Kinesis")

    before = get_stream(module, client, name)
    if not before:
        if not module.check_mode:
            module.fail_json(
                msg="Kinesis stream %s does not exist; create it first (for example with community.aws.kinesis_stream)" % name
            )
        # Check mode: an earlier task of this run (community.aws.kinesis_stream) would
        # create the stream, always provisioned.
        exit_with(module, mode != "PROVISIONED", {}, dict(name=name, stream_mode=mode))

    if before["stream_mode"] == mode:
        exit_with(module, False, before, before)

    if module.check_mode:
        after = copy.deepcopy(before)
        after["stream_mode"] = mode
        exit_with(module, True, before, after)

    if wait and before["status"] != "ACTIVE":
        wait_for_mode(module, client, name, None, timeout)
    try:
        # Not retried: LimitExceededException here is AWS's two-switches-per-24-hours limit.
        client.update_stream_mode(StreamARN=before["arn"], StreamModeDetails={"StreamMode": mode})
    except is_boto3_error_code("LimitExceededException") as e:
        module.fail_json_aws(
            e, msg="AWS refused to switch Kinesis stream %s to %s: at most two capacity mode switches per stream in 24 hours"
            % (name, mode)
        )
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to switch Kinesis stream %s to %s" % (name, mode))
    if wait:
        wait_for_mode(module, client, name, mode, timeout)
    after = get_stream(module, client, name) or dict(before, stream_mode=mode)
    exit_with(module, True, before, after)


if __name__ == "__main__":
    main()
