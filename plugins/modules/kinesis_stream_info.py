#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: kinesis_stream_info
version_added: 0.1.0
short_description: Describe Kinesis data streams, including their capacity mode
description:
  - Returns one Kinesis data stream (O(name)) or every stream of the region, each with
    its capacity mode (V(PROVISIONED) or V(ON_DEMAND)), open shard count, retention,
    encryption and tags.
  - Neither C(amazon.aws) nor C(community.aws) has a Kinesis info module, and
    C(community.aws.kinesis_stream) does not return the capacity mode; the logvault
    central account role reads the hub stream with this module before managing it.
  - Read-only. A stream that does not exist is not an error; RV(streams) is empty then.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the stream to describe (1 to 128 characters of letters, digits, V(_), V(.) and V(-)).
      - When not given, every stream of the region is listed (ListStreams, all pages).
    type: str
    aliases: ['stream_name']
notes:
  - Supports check mode; the module never writes.
  - Calls C(kinesis:ListStreams) (without O(name)), C(kinesis:DescribeStreamSummary) and
    C(kinesis:ListTagsForStream) for each stream.
seealso:
  - module: logvault.aws.kinesis_stream_mode
  - module: community.aws.kinesis_stream
  - name: DescribeStreamSummary API
    description: The Kinesis API this module reads.
    link: https://docs.aws.amazon.com/kinesis/latest/APIReference/API_DescribeStreamSummary.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Read the hub stream
  logvault.aws.kinesis_stream_info:
    name: logvault-hub
  register: hub

- name: Show its capacity mode
  ansible.builtin.debug:
    msg: "{{ hub.streams[0].stream_mode if hub.streams else 'the stream does not exist' }}"

- name: List every stream of the region
  logvault.aws.kinesis_stream_info:
  register: all_streams
"""

RETURN = r"""
streams:
  description:
    - The streams found, sorted by name. With O(name), one element or none when the
      stream does not exist.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Name of the stream.
      type: str
      returned: always
      sample: logvault-hub
    arn:
      description: ARN of the stream.
      type: str
      returned: always
      sample: arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub
    status:
      description: V(CREATING), V(DELETING), V(ACTIVE) or V(UPDATING).
      type: str
      returned: always
      sample: ACTIVE
    stream_mode:
      description: Capacity mode, V(PROVISIONED) or V(ON_DEMAND).
      type: str
      returned: always
      sample: ON_DEMAND
    open_shard_count:
      description: Number of open shards (AWS scales them itself for an on-demand stream).
      type: int
      returned: always
      sample: 4
    retention_period_hours:
      description: How long records stay in the stream.
      type: int
      returned: always
      sample: 168
    encryption_type:
      description: V(KMS) or V(NONE).
      type: str
      returned: always
      sample: KMS
    key_id:
      description: The KMS key (ARN, alias or id) when RV(streams[].encryption_type=KMS), else null.
      type: str
      returned: always
      sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
    tags:
      description: Tags of the stream.
      type: dict
      returned: always
      sample: {project: logvault}
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

from ansible_collections.logvault.aws.plugins.module_utils.kinesis import RETRY_CODES
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import ValidationError
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import get_stream
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import list_stream_names
from ansible_collections.logvault.aws.plugins.module_utils.kinesis import validate_stream_name


def main():
    argument_spec = dict(
        name=dict(type="str", aliases=["stream_name"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    name = module.params["name"]
    if name is not None:
        try:
            validate_stream_name(name, "name")
        except ValidationError as e:
            module.fail_json(msg=str(e), parameter=e.param)

    try:
        client = module.client("kinesis", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to Kinesis")

    names = [name] if name is not None else list_stream_names(module, client)
    streams = []
    for stream_name in sorted(names):
        stream = get_stream(module, client, stream_name)
        if stream:  # a listed stream may be deleted before it is described
            streams.append(stream)
    module.exit_json(changed=False, streams=streams)


if __name__ == "__main__":
    main()
