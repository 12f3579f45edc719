#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: s3_lifecycle_rule
version_added: 0.1.0
short_description: Manage one rule of an S3 bucket's lifecycle configuration, with check mode
description:
  - Adds, updates or removes the lifecycle rule O(rule_id) of O(bucket). The bucket's other rules are kept as they are.
  - The rule applies to the objects under O(prefix). It can expire current objects O(expiration_days) days after their
    creation, move current objects to other storage classes (O(transitions)), move noncurrent versions
    (O(noncurrent_version_transitions)) and abort incomplete multipart uploads (O(abort_incomplete_multipart_upload_days)).
  - C(PutBucketLifecycleConfiguration) replaces the whole configuration, so the module reads it with
    C(GetBucketLifecycleConfiguration), changes only O(rule_id) and writes every rule back; when the last rule is removed
    it calls C(DeleteBucketLifecycle).
  - M(community.aws.s3_lifecycle) manages such a rule too but has no check mode; this module exists so that
    C(--check) predicts the rules of the central account's buckets and of C(playbooks/restore.yml).
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  bucket:
    description: Name of the bucket.
    type: str
    required: true
  rule_id:
    description: ID of the rule (1-255 characters), unique in the bucket's configuration.
    type: str
    required: true
  prefix:
    description: Key prefix the rule applies to (the rule's C(Filter.Prefix)); V("") applies it to the whole bucket.
    type: str
    default: ""
  expiration_days:
    description:
      - Days after object creation when current objects expire (at least 1).
      - Omitted, current objects never expire.
      - With O(state=present), at least one of O(expiration_days), O(transitions), O(noncurrent_version_transitions) and
        O(abort_incomplete_multipart_upload_days) is required (a rule needs an action).
    type: int
  transitions:
    description:
      - Moves of current objects to another storage class, each O(transitions[].days) days after the object's creation.
      - The rule's C(Transitions); the order does not matter.
    type: list
    elements: dict
    suboptions:
      days:
        description: Days after object creation (at least 0).
        type: int
        required: true
      storage_class:
        description:
          - Target storage class, one of the API's C(TransitionStorageClass) values (V(GLACIER), V(STANDARD_IA), V(ONEZONE_IA),
            V(INTELLIGENT_TIERING), V(DEEP_ARCHIVE), V(GLACIER_IR)), in either case; it is sent in upper case.
        type: str
        required: true
  noncurrent_version_transitions:
    description:
      - Moves of noncurrent versions (versioned buckets) to another storage class, each
        O(noncurrent_version_transitions[].noncurrent_days) days after the version became noncurrent.
      - The rule's C(NoncurrentVersionTransitions); the order does not matter.
    type: list
    elements: dict
    suboptions:
      noncurrent_days:
        description: Days after the version became noncurrent (at least 1).
        type: int
        required: true
      storage_class:
        description: Target storage class, as in O(transitions[].storage_class).
        type: str
        required: true
  abort_incomplete_multipart_upload_days:
    description: Days after initiation when incomplete multipart uploads under the prefix are aborted (at least 1).
    type: int
  status:
    description: Whether the rule is applied.
    type: str
    choices: [enabled, disabled]
    default: enabled
  state:
    description: Whether the rule exists.
    type: str
    choices: [present, absent]
    default: present
notes:
  - Supports check mode and diff mode. Check mode calls only C(GetBucketLifecycleConfiguration) and predicts
    RV(ignore:changed) exactly; in check mode a bucket that does not exist yet counts as a bucket without rules.
  - The rule is compared with what C(GetBucketLifecycleConfiguration) returns for it (ID, Status, Filter.Prefix,
    Expiration.Days, Transitions, NoncurrentVersionTransitions, AbortIncompleteMultipartUpload.DaysAfterInitiation);
    a rule of that ID with other actions (noncurrent version expiration, a filter on tags or sizes) is replaced by the
    rule described here.
  - The rule's elements follow the C(LifecycleRule) type of the S3 API reference
    (U(https://docs.aws.amazon.com/AmazonS3/latest/API/API_LifecycleRule.html)); S3 refuses some transitions
    (for example to V(STANDARD_IA) before 30 days), see
    U(https://docs.aws.amazon.com/AmazonS3/latest/userguide/lifecycle-transition-general-considerations.html).
  - C(PutBucketLifecycleConfiguration) is authorized by the IAM action C(s3:PutLifecycleConfiguration); a bucket policy
    that denies it to the caller makes the task fail with C(AccessDenied).
seealso:
  - name: PutBucketLifecycleConfiguration
    description: The configuration is replaced as a whole.
    link: https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutBucketLifecycleConfiguration.html
  - name: GetBucketLifecycleConfiguration
    description: C(NoSuchLifecycleConfiguration) when the bucket has none.
    link: https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetBucketLifecycleConfiguration.html
  - module: community.aws.s3_lifecycle
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Expire restored copies after 14 days (the restore/ prefix only)
  logvault.aws.s3_lifecycle_rule:
    bucket: logvault-athena-results-123456789012-us-east-1
    rule_id: restore-expire
    prefix: restore/
    expiration_days: 14

- name: Move everything to Glacier after 180 days, noncurrent versions too; nothing expires
  logvault.aws.s3_lifecycle_rule:
    bucket: logvault-archive-123456789012-us-east-1
    rule_id: archive-transition-never-expire
    prefix: ""
    transitions:
      - days: 180
        storage_class: glacier
    noncurrent_version_transitions:
      - noncurrent_days: 180
        storage_class: glacier
    abort_incomplete_multipart_upload_days: 7

- name: Remove the rule
  logvault.aws.s3_lifecycle_rule:
    bucket: logvault-athena-results-123456789012-us-east-1
    rule_id: restore-expire
    state: absent
"""

RETURN = r"""
rule:
  description: The rule as written (or, in check mode, as it would be written); empty when absent.
  returned: always
  type: dict
  sample: {"ID": "restore-expire", "Status": "Enabled", "Filter": {"Prefix": "restore/"}, "Expiration": {"Days": 14}}
rules:
  description: IDs of every rule of the bucket after the task.
  returned: always
  type: list
  elements: str
  sample: ["archive-transitions", "restore-expire"]
"""

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# Returned by GetBucketLifecycleConfiguration besides Rules; PutBucketLifecycleConfiguration
# takes it as a parameter of its own (a header), so it is sent back unchanged.
KEPT_PARAMETERS = ("TransitionDefaultMinimumObjectSize",)
# The TransitionStorageClass enum of the S3 API (botocore's model).
STORAGE_CLASSES = ("GLACIER", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING", "DEEP_ARCHIVE", "GLACIER_IR")
ACTIONS = ("expiration_days", "transitions", "noncurrent_version_transitions", "abort_incomplete_multipart_upload_days")


def validate(module):
    params = module.params
    if not params["bucket"]:
        module.fail_json(msg="bucket must not be empty")
    if not 1 <= len(params["rule_id"]) <= 255:
        module.fail_json(msg="rule_id must be 1 to 255 characters long, got %r" % params["rule_id"])
    if params["state"] == "present" and all(params[name] in (None, []) for name in ACTIONS):
        module.fail_json(msg="state=present needs at least one action: %s" % ", ".join(ACTIONS))
    if params["expiration_days"] is not None and params["expiration_days"] < 1:
        module.fail_json(msg="expiration_days must be at least 1, got %d" % params["expiration_days"])
    for name, days_key, least in (("transitions", "days", 0), ("noncurrent_version_transitions", "noncurrent_days", 1)):
        for index, transition in enumerate(params[name] or []):
            where = "%s[%d]" % (name, index)
            if transition[days_key] < least:
                module.fail_json(msg="%s.%s must be at least %d, got %d" % (where, days_key, least, transition[days_key]))
            if transition["storage_class"].upper() not in STORAGE_CLASSES:
                module.fail_json(msg="%s.storage_class must be one of %s (any case), got %r"
                                 % (where, ", ".join(STORAGE_CLASSES), transition["storage_class"]))
    days = params["abort_incomplete_multipart_upload_days"]
    if days is not None and days < 1:
        module.fail_json(msg="abort_incomplete_multipart_upload_days must be at least 1, got %d" % days)


def wanted_rule(params):
    rule = {"ID": params["rule_id"], "Status": params["status"].capitalize(), "Filter": {"Prefix": params["prefix"]}}
    if params["expiration_days"] is not None:
        rule["Expiration"] = {"Days": params["expiration_days"]}
    if params["transitions"]:
        rule["Transitions"] = [{"Days": t["days"], "StorageClass": t["storage_class"].upper()} for t in params["transitions"]]
    if params["noncurrent_version_transitions"]:
        rule["NoncurrentVersionTransitions"] = [{"NoncurrentDays": t["noncurrent_days"], "StorageClass": t["storage_class"].upper()}
                                                for t in params["noncurrent_version_transitions"]]
    if params["abort_incomplete_multipart_upload_days"] is not None:
        rule["AbortIncompleteMultipartUpload"] = {"DaysAfterInitiation": params["abort_incomplete_multipart_upload_days"]}
    return rule


def comparable(rule):
    """The parts of a rule this module manages, in the form the API returns them."""
    if not rule:
        return {}
    out = {"ID": rule.get("ID"), "Status": rule.get("Status"), "Prefix": (rule.get("Filter") or {}).get("Prefix", rule.get("Prefix", "")),
           "Days": (rule.get("Expiration") or {}).get("Days"),
           "Abort": (rule.get("AbortIncompleteMultipartUpload") or {}).get("DaysAfterInitiation")}
    for other in ("Transitions", "NoncurrentVersionTransitions"):
        if rule.get(other):
            # Order does not matter to S3; keys that are not set are left out.
            out[other] = sorted((dict((k, v) for k, v in item.items() if v is not None) for item in rule[other]),
                                key=lambda item: sorted((k, str(v)) for k, v in item.items()))
    if rule.get("NoncurrentVersionExpiration"):
        out["NoncurrentVersionExpiration"] = rule["NoncurrentVersionExpiration"]
    for key in ("And", "Tag", "ObjectSizeGreaterThan", "ObjectSizeLessThan"):
        if (rule.get("Filter") or {}).get(key) is not None:
            out["Filter." + key] = rule["Filter"][key]
    if (rule.get("Expiration") or {}).get("Date") or (rule.get("Expiration") or {}).get("ExpiredObjectDeleteMarker") is not None:
        out["Expiration"] = rule["Expiration"]
    return out


@AWSRetry.jittered_backoff()
def get_configuration(client, bucket):
    try:
        return client.get_bucket_lifecycle_configuration(Bucket=bucket)
    except is_boto3_error_code("NoSuchLifecycleConfiguration"):
        return {"Rules": []}


def main():
    argument_spec = dict(
        bucket=dict(type="str", required=True),
        rule_id=dict(type="str", required=True),
        prefix=dict(type="str", default=""),
        expiration_days=dict(type="int"),
        transitions=dict(type="list", elements="dict", options=dict(
            days=dict(type="int", required=True),
            storage_class=dict(type="str", required=True),
        )),
        noncurrent_version_transitions=dict(type="list", elements="dict", options=dict(
            noncurrent_days=dict(type="int", required=True),
            storage_class=dict(type="str", required=True),
        )),
        abort_incomplete_multipart_upload_days=dict(type="int"),
        status=dict(type="str", default="enabled", choices=["enabled", "disabled"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate(module)
    params = module.params
    bucket = params["bucket"]
    try:
        client = module.client("s3", retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to S3")

    try:
        current = get_configuration(client, bucket)
    except is_boto3_error_code("NoSuchBucket") as e:
        if not module.check_mode:
            module.fail_json_aws(e, msg="Bucket %s does not exist" % bucket)
        current = {"Rules": []}  # check mode: the task that creates the bucket did not run
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to read the lifecycle configuration of %s" % bucket)

    rules = list(current.get("Rules") or [])
    existing = next((rule for rule in rules if rule.get("ID") == params["rule_id"]), None)
    others = [rule for rule in rules if rule.get("ID") != params["rule_id"]]
    wanted = wanted_rule(params) if params["state"] == "present" else None
    changed = comparable(existing) != comparable(wanted)
    after_rules = others + ([wanted] if wanted else [])

    if changed and not module.check_mode:
        try:
            if after_rules:
                extra = dict((key, current[key]) for key in KEPT_PARAMETERS if current.get(key))
                client.put_bucket_lifecycle_configuration(aws_retry=True, Bucket=bucket, LifecycleConfiguration={"Rules": after_rules},
                                                          **extra)
            else:
                client.delete_bucket_lifecycle(aws_retry=True, Bucket=bucket)
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to write the lifecycle configuration of %s" % bucket)

    result = dict(changed=changed, rule=wanted or {}, rules=sorted(rule.get("ID", "") for rule in after_rules))
    if module._diff:
        result["diff"] = dict(before=comparable(existing), after=comparable(wanted))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
