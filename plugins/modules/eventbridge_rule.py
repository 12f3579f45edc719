#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: eventbridge_rule
version_added: 0.1.0
short_description: Manage an EventBridge rule with an event pattern and exactly the given targets
description:
  - Creates, updates and deletes an Amazon EventBridge rule that matches an event pattern,
    and keeps the rule's targets exactly as listed (targets not listed are removed).
  - The event pattern is compared as canonical JSON (sorted keys), so reformatting it is no change.
    The order of a list of match values is ignored, as EventBridge matches any of them; the order of a
    C(numeric) matcher (for example V([">", 0, "<=", 5])) is kept, as it pairs each operator with the number that
    follows (U(https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html)).
  - The pattern is sent as compact JSON, and that exact text is checked against AWS's 4,096-character limit of
    C(EventPattern) before any AWS call.
  - A target is compared field by field (V(id), V(arn), V(input) as JSON where only the key order is ignored,
    V(role_arn)); a target
    with anything else set (an input path, an input transformer, ECS or SQS parameters, a
    dead-letter queue, a retry policy) is written again with the listed fields only.
  - Schedule rules are not managed; an existing rule with a schedule expression or a rule-level
    role gets them removed (C(PutRule) replaces the rule with what it is given).
  - All input is validated before any AWS call; errors name the parameter.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - Name of the rule (1 to 64 letters, digits, V(.), V(-) or V(_)).
    required: true
    type: str
  state:
    description:
      - V(present) creates or updates the rule and its targets, V(absent) removes the targets
        and deletes the rule.
    choices: ['present', 'absent']
    default: present
    type: str
  event_bus_name:
    description:
      - Name or ARN of the event bus of the rule.
    default: default
    type: str
  event_pattern:
    description:
      - The event pattern, as a dict (a JSON string is accepted too).
      - Required when O(state=present). AWS limits it to 4,096 characters of JSON.
    type: dict
  description:
    description:
      - Description of the rule (at most 512 characters). An empty string removes it.
      - When not given, an existing rule keeps its description.
    type: str
  enabled:
    description:
      - V(true) sets the rule's state to C(ENABLED), V(false) to C(DISABLED).
    default: true
    type: bool
  targets:
    description:
      - The targets of the rule, at most 5, with unique ids. Targets of the rule that are not
        listed are removed; an empty list removes every target.
      - When not given, the targets are left as they are.
    type: list
    elements: dict
    suboptions:
      id:
        description:
          - Id of the target within the rule (1 to 64 letters, digits, V(.), V(-) or V(_)).
        required: true
        type: str
      arn:
        description:
          - ARN of the target (an SNS topic, an SQS queue, a Lambda function, ...).
        required: true
        type: str
      input:
        description:
          - Constant JSON passed to the target instead of the event (a dict or a JSON string;
            at most 8,192 characters). Compared as JSON.
        type: json
      role_arn:
        description:
          - ARN of the IAM role EventBridge uses to send the event to the target.
        type: str
  tags:
    description:
      - Tags of the rule. When not given, tags are left alone.
    type: dict
    aliases: ['resource_tags']
  purge_tags:
    description:
      - Remove tags that are not in O(tags). Ignored when O(tags) is not given.
    type: bool
    default: true
notes:
  - Check mode makes no write call and predicts RV(ignore:changed) exactly. With C(--diff)
    the module returns the rule before and after.
  - In check mode a rule (or event bus) that does not exist yet predicts the creation; the
    rule's ARN is then built from the caller's account (C(sts:GetCallerIdentity)).
  - Why not M(amazon.aws.cloudwatchevent_rule) 10.1.2. Its C(main()) creates
    C(AnsibleAWSModule(argument_spec=argument_spec)) without C(supports_check_mode), so
    Ansible skips it in C(--check) instead of predicting; it has no event bus option; and it
    compares the event pattern as the JSON string given with the string AWS returns.
seealso:
  - name: PutRule API
    description: The EventBridge API this module calls to create or update the rule.
    link: https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutRule.html
  - name: Event patterns
    description: How EventBridge matches events.
    link: https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html
  - module: amazon.aws.cloudwatchevent_rule
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Alert on changes to a KMS key through an SNS topic
  logvault.aws.eventbridge_rule:
    name: logvault-kms-key-api-calls
    description: The pipeline key was disabled or scheduled for deletion
    event_pattern:
      source: [aws.kms]
      detail-type: [AWS API Call via CloudTrail]
      detail:
        eventSource: [kms.amazonaws.com]
        eventName: [DisableKey, ScheduleKeyDeletion]
    targets:
      - id: key-alarm-topic
        arn: arn:aws:sns:us-east-1:123456789012:logvault-key-alarms
    tags:
      project: logvault

- name: Keep the rule but stop it matching
  logvault.aws.eventbridge_rule:
    name: logvault-kms-key-api-calls
    event_pattern:
      source: [aws.kms]
    enabled: false

- name: Delete the rule and its targets
  logvault.aws.eventbridge_rule:
    name: logvault-kms-key-api-calls
    state: absent
"""

RETURN = r"""
rule:
  description: The rule after the task. Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    name:
      description: Name of the rule.
      type: str
      returned: when the rule exists
      sample: logvault-kms-key-api-calls
    arn:
      description: ARN of the rule (predicted in check mode before creation).
      type: str
      returned: when the rule exists
      sample: arn:aws:events:us-east-1:123456789012:rule/logvault-kms-key-api-calls
    event_bus_name:
      description: The event bus, as given.
      type: str
      returned: when the rule exists
      sample: default
    event_pattern:
      description: The event pattern as a dict.
      type: dict
      returned: when the rule exists
      sample: {source: [aws.kms]}
    description:
      description: Description of the rule; empty when it has none.
      type: str
      returned: when the rule exists
      sample: The pipeline key was disabled
    state:
      description: C(ENABLED) or C(DISABLED).
      type: str
      returned: when the rule exists
      sample: ENABLED
    targets:
      description: The targets, sorted by id, each with C(id), C(arn) and, when set, C(input) and C(role_arn).
      type: list
      elements: dict
      returned: when the rule exists
      sample: [{id: key-alarm-topic, arn: "arn:aws:sns:us-east-1:123456789012:logvault-key-alarms"}]
    tags:
      description: Tags of the rule.
      type: dict
      returned: when the rule exists
      sample: {project: logvault}
"""

import json
import re

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

RULE_NAME = re.compile(r"^[.\-_A-Za-z0-9]{1,64}$")
BUS_NAME = re.compile(r"^([/.\-_A-Za-z0-9]{1,256}|arn:aws[a-z-]*:events:[a-z0-9-]+:[0-9]{12}:event-bus/[/.\-_A-Za-z0-9]{1,256})$")
TARGET_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:[0-9]{0,12}:.+$")
ROLE_ARN = re.compile(r"^arn:aws[a-z-]*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$")
RETRY_CODES = ["ThrottlingException", "ConcurrentModificationException", "InternalException"]
MAX_TARGETS = 5


def fail(module, param, msg):
    module.fail_json(msg="%s %s" % (param, msg), parameter=param)


def validate_params(module):
    """Check every parameter before any AWS call; fail naming the parameter."""
    params = module.params
    if not RULE_NAME.match(params["name"]):
        fail(module, "name", "must be 1 to 64 letters, digits, '.', '-' or '_', got %r" % params["name"])
    if not BUS_NAME.match(params["event_bus_name"]):
        fail(module, "event_bus_name", "must be an event bus name or ARN, got %r" % params["event_bus_name"])
    if params["state"] == "absent":
        return
    pattern = params["event_pattern"]
    if not pattern:
        fail(module, "event_pattern", "must be a non-empty dict when state=present, got %r" % (pattern,))
    size = len(pattern_text(pattern))
    if size > 4096:
        fail(module, "event_pattern", "is %d characters as sent (compact JSON), longer than the 4,096 characters AWS allows" % size)
    if params["description"] is not None and len(params["description"]) > 512:
        fail(module, "description", "must be at most 512 characters, got %d" % len(params["description"]))
    targets = params["targets"]
    if targets is None:
        return
    if len(targets) > MAX_TARGETS:
        fail(module, "targets", "may list at most %d targets, got %d" % (MAX_TARGETS, len(targets)))
    seen = set()
    for target in targets:
        if not RULE_NAME.match(target["id"]):
            fail(module, "targets.id", "must be 1 to 64 letters, digits, '.', '-' or '_', got %r" % target["id"])
        if target["id"] in seen:
            fail(module, "targets.id", "must be unique, %r is listed twice" % target["id"])
        seen.add(target["id"])
        if not TARGET_ARN.match(target["arn"]):
            fail(module, "targets.arn", "must be an ARN, got %r" % target["arn"])
        if target["role_arn"] is not None and not ROLE_ARN.match(target["role_arn"]):
            fail(module, "targets.role_arn", "must be the ARN of an IAM role, got %r" % target["role_arn"])
        if target["input"] is not None:
            try:
                json.loads(target["input"])
            except ValueError:
                fail(module, "targets.input", "must be JSON, got %r" % target["input"])
            if len(target["input"]) > 8192:
                fail(module, "targets.input", "is longer than the 8,192 characters AWS allows")


# Matchers whose array is a sequence, not a set: numeric pairs each operator with the next number.
ORDERED_MATCHERS = ("numeric",)


def pattern_text(pattern):
    """The EventPattern text sent to AWS (compact, sorted keys); its length is what AWS limits."""
    return json.dumps(pattern, sort_keys=True, separators=(",", ":"))


def canonical_pattern(value, ordered=False):
    """An event pattern in a canonical form: sorted keys; value lists sorted (EventBridge matches any
    of them), except the arrays of ORDERED_MATCHERS, which keep their order."""
    if isinstance(value, dict):
        return dict((k, canonical_pattern(v, ordered=k in ORDERED_MATCHERS)) for k, v in value.items())
    if isinstance(value, list):
        items = [canonical_pattern(v) for v in value]
        if ordered:
            return items
        return sorted(items, key=lambda v: json.dumps(v, sort_keys=True))
    return value


def same_pattern(left, right):
    return json.dumps(canonical_pattern(left), sort_keys=True) == json.dumps(canonical_pattern(right), sort_keys=True)


def same_json(left, right):
    """Equal JSON values; only the order of object keys is ignored (list order is meaningful)."""
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)


def bus_kwargs(module):
    bus = module.params["event_bus_name"]
    return {} if bus == "default" else {"EventBusName": bus}


def get_rule(module, client, name):
    try:
        rule = client.describe_rule(aws_retry=True, Name=name, **bus_kwargs(module))
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe rule %s" % name)
    rule.pop("ResponseMetadata", None)
    return rule


def get_targets(module, client, name):
    targets, token = [], None
    try:
        while True:
            kwargs = dict(Rule=name, **bus_kwargs(module))
            if token:
                kwargs["NextToken"] = token
            page = client.list_targets_by_rule(aws_retry=True, **kwargs)
            targets.extend(page.get("Targets", []))
            token = page.get("NextToken")
            if not token:
                return targets
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list the targets of rule %s" % name)


def get_tags(module, client, arn):
    try:
        tags = client.list_tags_for_resource(aws_retry=True, ResourceARN=arn).get("Tags", [])
    except is_boto3_error_code("ResourceNotFoundException"):
        return {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list the tags of rule %s" % arn)
    return dict((t["Key"], t["Value"]) for t in tags)


def predicted_arn(module, name):
    try:
        sts = module.client("sts", retry_decorator=AWSRetry.jittered_backoff())
        identity = sts.get_caller_identity(aws_retry=True)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to get the caller's account id")
    bus = module.params["event_bus_name"].split("event-bus/")[-1]
    path = name if bus == "default" else "%s/%s" % (bus, name)
    return "arn:%s:events:%s:%s:rule/%s" % (identity["Arn"].split(":")[1], module.region, identity["Account"], path)


def api_target(target):
    """A listed target as the API's Target structure."""
    result = {"Id": target["id"], "Arn": target["arn"]}
    if target.get("input") is not None:
        result["Input"] = target["input"]
    if target.get("role_arn") is not None:
        result["RoleArn"] = target["role_arn"]
    return result


def view_target(target):
    """An API Target in the module's form (only the managed fields)."""
    result = {"id": target["Id"], "arn": target["Arn"]}
    if target.get("Input") is not None:
        result["input"] = target["Input"]
    if target.get("RoleArn") is not None:
        result["role_arn"] = target["RoleArn"]
    return result


def target_matches(current, wanted):
    """True when the API target ``current`` is exactly the listed target ``wanted``."""
    if set(current) - {"Id", "Arn", "Input", "RoleArn"}:
        return False
    if current.get("Arn") != wanted["arn"] or current.get("RoleArn") != wanted.get("role_arn"):
        return False
    if (current.get("Input") is None) != (wanted.get("input") is None):
        return False
    if wanted.get("input") is None:
        return True
    try:
        return same_json(json.loads(current["Input"]), json.loads(wanted["input"]))
    except ValueError:
        return False


def describe(rule, targets, tags, bus):
    if rule is None:
        return {}
    return {
        "name": rule["Name"],
        "arn": rule.get("Arn"),
        "event_bus_name": bus,
        "event_pattern": json.loads(rule["EventPattern"]) if rule.get("EventPattern") else {},
        "description": rule.get("Description") or "",
        "state": rule.get("State"),
        "targets": sorted((view_target(t) for t in targets), key=lambda t: t["id"]),
        "tags": tags,
    }


def check_failed_entries(module, response, action, name):
    if response.get("FailedEntryCount"):
        module.fail_json(msg="%s failed for rule %s: %s" % (action, name, response.get("FailedEntries")),
                         failed_entries=response.get("FailedEntries"))


def ensure_absent(module, client, name):
    bus = module.params["event_bus_name"]
    rule = get_rule(module, client, name)
    if rule is None:
        module.exit_json(changed=False, rule={})
    targets = get_targets(module, client, name)
    before = describe(rule, targets, get_tags(module, client, rule["Arn"]), bus)
    if not module.check_mode:
        try:
            if targets:
                response = client.remove_targets(aws_retry=True, Rule=name, Ids=[t["Id"] for t in targets], **bus_kwargs(module))
                check_failed_entries(module, response, "RemoveTargets", name)
            client.delete_rule(aws_retry=True, Name=name, **bus_kwargs(module))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to delete rule %s" % name)
    result = dict(changed=True, rule={})
    if module._diff:
        result["diff"] = dict(before=before, after={})
    module.exit_json(**result)


def tag_changes(current_tags, wanted_tags, purge):
    """amazon.aws's compare_aws_tags (it never purges reserved aws:* tags); tags not given: no change."""
    if wanted_tags is None:
        return {}, []
    to_set, to_remove = compare_aws_tags(current_tags, dict((str(k), str(v)) for k, v in wanted_tags.items()), purge)
    return to_set, sorted(to_remove)


def ensure_present(module, client, name):
    params = module.params
    bus = params["event_bus_name"]
    rule = get_rule(module, client, name)
    targets = get_targets(module, client, name) if rule else []
    current_tags = get_tags(module, client, rule["Arn"]) if rule else {}
    before = describe(rule, targets, current_tags, bus)

    state = "ENABLED" if params["enabled"] else "DISABLED"
    description = params["description"] if params["description"] is not None else before.get("description", "")
    rule_changed = rule is None or (
        not same_pattern(before["event_pattern"], params["event_pattern"])
        or before["description"] != description
        or rule.get("State") != state
        or bool(rule.get("ScheduleExpression"))
        or bool(rule.get("RoleArn"))
    )

    current = dict((t["Id"], t) for t in targets)
    if params["targets"] is None:
        wanted_targets = [view_target(t) for t in targets]
        to_put, to_remove = [], []
    else:
        wanted_targets = [dict((k, v) for k, v in t.items() if v is not None) for t in params["targets"]]
        to_put = [t for t in wanted_targets if t["id"] not in current or not target_matches(current[t["id"]], t)]
        to_remove = sorted(set(current) - set(t["id"] for t in wanted_targets))
    tags_to_set, tags_to_remove = tag_changes(current_tags, params["tags"], params["purge_tags"])
    changed = rule_changed or bool(to_put) or bool(to_remove) or bool(tags_to_set) or bool(tags_to_remove)

    arn = rule["Arn"] if rule else None
    if changed and not module.check_mode:
        try:
            if rule_changed:
                request = dict(Name=name, EventPattern=pattern_text(params["event_pattern"]), State=state,
                               **bus_kwargs(module))
                if description:
                    request["Description"] = description
                if rule is None and params["tags"]:
                    request["Tags"] = [dict(Key=k, Value=v) for k, v in sorted(tags_to_set.items())]
                    tags_to_set = {}
                arn = client.put_rule(aws_retry=True, **request)["RuleArn"]
            if to_remove:
                response = client.remove_targets(aws_retry=True, Rule=name, Ids=to_remove, **bus_kwargs(module))
                check_failed_entries(module, response, "RemoveTargets", name)
            if to_put:
                response = client.put_targets(aws_retry=True, Rule=name, Targets=[api_target(t) for t in to_put], **bus_kwargs(module))
                check_failed_entries(module, response, "PutTargets", name)
            if tags_to_remove:
                client.untag_resource(aws_retry=True, ResourceARN=arn, TagKeys=tags_to_remove)
            if tags_to_set:
                client.tag_resource(aws_retry=True, ResourceARN=arn, Tags=[dict(Key=k, Value=v) for k, v in sorted(tags_to_set.items())])
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            module.fail_json_aws(e, msg="Failed to %s rule %s" % ("create" if rule is None else "update", name))
    if arn is None:
        arn = predicted_arn(module, name)

    tags = dict(current_tags)
    if params["tags"] is not None:
        tags = dict((str(k), str(v)) for k, v in params["tags"].items())
        if not params["purge_tags"]:
            tags = dict(current_tags, **tags)
    after = {
        "name": name,
        "arn": arn,
        "event_bus_name": bus,
        "event_pattern": params["event_pattern"],
        "description": description,
        "state": state,
        "targets": sorted(wanted_targets, key=lambda t: t["id"]),
        "tags": tags,
    }
    result = dict(changed=changed, rule=after)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


def main():
    target_options = dict(
        id=dict(type="str", required=True),
        arn=dict(type="str", required=True),
        input=dict(type="json"),
        role_arn=dict(type="str"),
    )
    argument_spec = dict(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        event_bus_name=dict(type="str", default="default"),
        event_pattern=dict(type="dict"),
        description=dict(type="str"),
        enabled=dict(type="bool", default=True),
        targets=dict(type="list", elements="dict", options=target_options),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        required_if=[("state", "present", ["event_pattern"])],
    )
    validate_params(module)

    try:
        client = module.client("events", retry_decorator=AWSRetry.jittered_backoff(catch_extra_error_codes=RETRY_CODES))
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to connect to EventBridge")

    if module.params["state"] == "absent":
        ensure_absent(module, client, module.params["name"])
    ensure_present(module, client, module.params["name"])


if __name__ == "__main__":
    main()
