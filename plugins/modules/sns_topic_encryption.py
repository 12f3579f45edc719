#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: sns_topic_encryption
version_added: 0.1.0
short_description: Manage the KMS key that encrypts an SNS topic
description:
  - Sets or removes the server-side encryption key (the C(KmsMasterKeyId) attribute) of an
    existing SNS topic. Creating the topic, its policy and its subscriptions is left to
    M(community.aws.sns_topic).
  - C(community.aws.sns_topic) 10.0.0 has no option for C(KmsMasterKeyId) and no generic
    topic C(attributes) option (its only C(attributes) are those of a subscription), and
    amazon.aws 10.1.2 has no SNS topic module; this module fills that gap only.
  - The key is compared as given with what C(GetTopicAttributes) returns (SNS returns the
    identifier it was given), so use the same form (ARN, key id or alias) on every run.
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  topic_arn:
    description:
      - ARN of the topic.
      - Exactly one of O(topic_arn) and O(name) is required.
    type: str
  name:
    description:
      - Name of the topic in the caller's account and the task's region; the ARN is built
        from the caller's identity (C(sts:GetCallerIdentity)).
      - Exactly one of O(topic_arn) and O(name) is required.
    type: str
  kms_master_key_id:
    description:
      - The KMS key that encrypts the topic's messages at rest, given as a key ARN, a key id,
        an alias name (V(alias/...)) or an alias ARN.
      - An empty string removes the encryption.
    required: true
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the key before and after.
  - In check mode a topic that does not exist yet (the task that would create it did not run)
    counts as unencrypted, so the module predicts a change when a key is wanted. Outside check
    mode a missing topic fails the task.
seealso:
  - name: SNS server-side encryption
    description: How SNS encrypts messages with a KMS key.
    link: https://docs.aws.amazon.com/sns/latest/dg/sns-server-side-encryption.html
  - module: community.aws.sns_topic
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the alarm topic
  community.aws.sns_topic:
    name: logvault-alarms
    state: present
  register: topic

- name: Encrypt the alarm topic with the pipeline's key
  logvault.aws.sns_topic_encryption:
    topic_arn: "{{ topic.sns_arn }}"
    kms_master_key_id: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab

- name: Encrypt a topic given by name with the AWS managed key
  logvault.aws.sns_topic_encryption:
    name: logvault-alerts
    kms_master_key_id: alias/aws/sns

- name: Remove the encryption
  logvault.aws.sns_topic_encryption:
    name: logvault-alerts
    kms_master_key_id: ""
"""

RETURN = r"""
topic_arn:
  description: ARN of the topic.
  returned: always
  type: str
  sample: arn:aws:sns:us-east-1:123456789012:logvault-alarms
kms_master_key_id:
  description: The key that encrypts the topic after the task; empty when the topic is not encrypted.
  returned: always
  type: str
  sample: arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

TOPIC_ARN = re.compile(r"^arn:aws[a-z-]*:sns:[a-z0-9-]+:[0-9]{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$")
TOPIC_NAME = re.compile(r"^[A-Za-z0-9_-]{1,256}(\.fifo)?$")
KEY = re.compile(
    r"^(arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:(key|alias)/[A-Za-z0-9/_+=,.@:-]+"
    r"|alias/[A-Za-z0-9/_-]+|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})?$"
)
NOT_FOUND = ("NotFound", "NotFoundException")


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params
    if params["topic_arn"] is not None and not TOPIC_ARN.match(params["topic_arn"]):
        module.fail_json(msg="topic_arn must be the ARN of an SNS topic, got %r" % params["topic_arn"], parameter="topic_arn")
    if params["name"] is not None and not TOPIC_NAME.match(params["name"]):
        module.fail_json(msg="name must be an SNS topic name (1 to 256 letters, digits, '-' or '_', optionally ending in"
                             " .fifo), got %r" % params["name"], parameter="name")
    if not KEY.match(params["kms_master_key_id"]):
        module.fail_json(msg="kms_master_key_id must be a KMS key ARN, key id, alias name or alias ARN, or empty to remove"
                             " the encryption, got %r" % params["kms_master_key_id"], parameter="kms_master_key_id")


def resolve_topic_arn(module):
    if module.params["topic_arn"] is not None:
        return module.params["topic_arn"]
    try:
        sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
        identity = sts.get_caller_identity(aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to get the caller's account id")
    partition = identity["Arn"].split(":")[1]
    return "arn:%s:sns:%s:%s:%s" % (partition, module.region, identity["Account"], module.params["name"])


def current_key(module, client, topic_arn):
    """The topic's key ("" when unencrypted), or None when the topic does not exist."""
    try:
        attributes = client.get_topic_attributes(aws_retry=True, TopicArn=topic_arn)["Attributes"]
    except is_boto3_error_code(NOT_FOUND):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the attributes of topic %s" % topic_arn)
    return attributes.get("KmsMasterKeyId") or ""


def main():
    argument_spec = dict(
        topic_arn=dict(type="str"),
        name=dict(type="str"),
        kms_master_key_id=dict(type="str", required=True, no_log=False),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[("topic_arn", "name")],
        required_one_of=[("topic_arn", "name")],
    )
    validate_params(module)
    wanted = module.params["kms_master_key_id"]

    try:
        client = module.client("sns", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to SNS")

    topic_arn = resolve_topic_arn(module)
    before = current_key(module, client, topic_arn)
    if before is None:
        if not module.check_mode:
            module.fail_json(msg="SNS topic %s does not exist; create it first (community.aws.sns_topic)" % topic_arn,
                             topic_arn=topic_arn)
        before = ""  # check mode: the task that creates the topic did not run

    changed = before != wanted
    if changed and not module.check_mode:
        try:
            client.set_topic_attributes(aws_retry=True, TopicArn=topic_arn, AttributeName="KmsMasterKeyId", AttributeValue=wanted)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to set the KMS key of topic %s" % topic_arn)

    result = dict(changed=changed, topic_arn=topic_arn, kms_master_key_id=wanted)
    if module._diff:
        result["diff"] = dict(before=dict(kms_master_key_id=before), after=dict(kms_master_key_id=wanted))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
