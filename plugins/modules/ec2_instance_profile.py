#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: ec2_instance_profile
version_added: 0.1.0
short_description: Give EC2 instances that have no instance profile this one, never replacing another
description:
  - Associates an IAM instance profile with each listed EC2 instance that has none
    (C(AssociateIamInstanceProfile)).
  - An instance can have one instance profile
    (U(https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-roles-for-amazon-ec2.html)). An instance that
    already has another profile keeps it and is returned in RV(kept); give its role the permissions
    instead (for fluentd hosts, the managed policy of role C(logvault.aws.member_account),
    its variable C(member_account_fleet_policy_roles)).
  - Exists because C(amazon.aws.ec2_instance) 10.1.2 associates and replaces instance profiles even in check
    mode, and replaces a profile that is already there.
  - Instances are read with the C(DescribeIamInstanceProfileAssociations) paginator; associations in state
    C(associating) or C(associated) count, C(disassociating) and C(disassociated) do not.
author:
  - logvault.aws maintainers (@logvault)
options:
  instance_ids:
    description: Ids of the EC2 instances (C(i-...)).
    required: true
    type: list
    elements: str
  instance_profile_arn:
    description: ARN of the instance profile to associate (C(arn:aws:iam::ACCOUNT:instance-profile/PATH/NAME)).
    required: true
    type: str
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff) the module returns
    each instance's profile before and after.
  - Never disassociates a profile; removing the role that a profile holds is role C(logvault.aws.member_account)'s
    business (offboarding).
seealso:
  - name: AssociateIamInstanceProfile API
    description: The EC2 API this module calls.
    link: https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Give the fleet's instances without a profile the logvault fluentd profile
  logvault.aws.ec2_instance_profile:
    instance_ids: [i-0123456789abcdef0, i-0fedcba9876543210]
    instance_profile_arn: arn:aws:iam::111111111111:instance-profile/logvault/logvault-fluentd
    region: eu-west-1
  register: fleet_profiles
"""

RETURN = r"""
associated:
  description: Instances that had no profile and got this one (in check mode, would get it).
  returned: always
  type: list
  elements: str
  sample: [i-0123456789abcdef0]
kept:
  description: Instances that have another instance profile, which was left in place, with its ARN.
  returned: always
  type: dict
  sample: {i-0fedcba9876543210: "arn:aws:iam::111111111111:instance-profile/web"}
already:
  description: Instances that already had this profile.
  returned: always
  type: list
  elements: str
"""

import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

INSTANCE_ID = re.compile(r"^i-[0-9a-f]{8}([0-9a-f]{9})?$")
PROFILE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:instance-profile/([\w+=,.@/-]{1,512})$")
LIVE = ("associating", "associated")


def validate_params(module):
    bad = [i for i in module.params["instance_ids"] if not INSTANCE_ID.match(i)]
    if bad:
        module.fail_json(msg="instance_ids must be EC2 instance ids (i- and 8 or 17 hex digits), got %s" % ", ".join(bad),
                         parameter="instance_ids")
    if not PROFILE_ARN.match(module.params["instance_profile_arn"]):
        module.fail_json(msg="instance_profile_arn must be an instance profile ARN (arn:aws:iam::ACCOUNT:instance-profile/NAME), "
                         "got %r" % module.params["instance_profile_arn"], parameter="instance_profile_arn")


def current_profiles(module, client, instance_ids):
    """Instance id -> ARN of its live instance profile association (absent when none)."""
    found = {}
    try:
        paginator = client.get_paginator("describe_iam_instance_profile_associations")
        pages = paginator.paginate(Filters=[{"Name": "instance-id", "Values": list(instance_ids)}])
        for page in pages.build_full_result().get("IamInstanceProfileAssociations", []):
            if page.get("State") in LIVE:
                found[page["InstanceId"]] = page.get("IamInstanceProfile", {}).get("Arn", "")
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to read the instance profile associations of %s" % ", ".join(instance_ids))
    return found


def main():
    argument_spec = dict(
        instance_ids=dict(type="list", elements="str", required=True),
        instance_profile_arn=dict(type="str", required=True),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    wanted = module.params["instance_profile_arn"]
    instance_ids = sorted(set(module.params["instance_ids"]))

    try:
        client = module.client("ec2", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to EC2")

    before = current_profiles(module, client, instance_ids)
    associated = [i for i in instance_ids if i not in before]
    kept = dict((i, arn) for i, arn in before.items() if arn != wanted)
    already = sorted(i for i, arn in before.items() if arn == wanted)

    if associated and not module.check_mode:
        for instance_id in associated:
            try:
                client.associate_iam_instance_profile(aws_retry=True, InstanceId=instance_id, IamInstanceProfile={"Arn": wanted})
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to associate %s with instance %s" % (wanted, instance_id))

    result = dict(changed=bool(associated), associated=associated, kept=kept, already=already)
    if module._diff:
        after = dict(before)
        after.update((i, wanted) for i in associated)
        result["diff"] = dict(before=dict((i, before.get(i, "")) for i in instance_ids),
                              after=dict((i, after.get(i, "")) for i in instance_ids))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
