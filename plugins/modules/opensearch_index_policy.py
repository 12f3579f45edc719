#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_index_policy
version_added: 0.1.0
short_description: Manage an Index State Management (ISM) policy in an Amazon OpenSearch Service domain
description:
  - Creates, updates or deletes an ISM policy at C(_plugins/_ism/policies/<policy_id>) on an OpenSearch
    Service domain endpoint.
  - Every request is signed with AWS Signature Version 4 (service C(es)) using botocore's signer and the
    credentials that the usual AWS options (O(access_key), O(secret_key), O(session_token), O(profile) or the
    environment) resolve to.
  - Give either a complete O(policy), or the shortcut O(delete_after_days) plus O(index_patterns), which
    generates a C(hot) -> C(delete) policy with an C(ism_template) so that new indices matching the patterns
    (for example the daily indices written by a Firehose stream with C(OneDay) rotation) attach to it
    automatically.
  - The module compares the policy body with what the domain returns, ignoring the fields the domain adds
    (C(policy_id), C(last_updated_time), C(schema_version), C(error_notification) when null, C(user), the default
    C(retry) of each action, the C(last_updated_time) of each C(ism_template)), and writes only when they differ.
    Updates are conditional on the C(seq_no)/C(primary_term) that were read, so a concurrent change makes the
    task fail instead of being overwritten.
  - Neither amazon.aws nor community.aws manage anything inside an OpenSearch domain; this module exists for that.
  - An update changes the policy for indices that attach afterwards. Indices already managed by the policy keep
    the version they attached with until the ISM C(change_policy) API is used on them.
author:
  - logvault.aws maintainers (@logvault)
options:
  policy_id:
    description:
      - The ISM policy id. Letters, digits, C(.), C(_) and C(-); at most 255 characters.
    type: str
    required: true
  state:
    description: Whether the policy should exist.
    type: str
    choices: [present, absent]
    default: present
  policy:
    description:
      - The complete ISM policy object, that is the value of the C(policy) key of the API request body, with at
        least C(default_state) and C(states). A dict whose only key is C(policy) is unwrapped.
      - Mutually exclusive with O(delete_after_days).
    type: dict
  delete_after_days:
    description:
      - Generate a policy that keeps indices in a C(hot) state and deletes them once they are this many days old
        (C(min_index_age)).
      - Requires O(index_patterns).
    type: int
  index_patterns:
    description:
      - Index patterns for the generated policy's C(ism_template), for example C(logs-*).
      - Used only with O(delete_after_days).
    type: list
    elements: str
  ism_template_priority:
    description:
      - Priority of the generated C(ism_template); the highest priority matching template wins when an index is created.
    type: int
    default: 100
  description:
    description: Description of the generated policy.
    type: str
    default: Managed by logvault.aws - delete indices after the retention period
notes:
  - Supports check mode and diff mode. In check mode the module only reads (GET) from the domain.
  - A 403 answered by fine-grained access control fails with a message saying so; the signing IAM principal
    must be mapped to an OpenSearch role with the ISM permissions (or be the domain's master user).
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Delete log indices older than 30 days, attaching new daily indices automatically
  logvault.aws.opensearch_index_policy:
    endpoint: "{{ domain.domain_status.endpoints.vpc | default(domain.domain_status.endpoint) }}"
    policy_id: logs-retention
    delete_after_days: 30
    index_patterns:
      - "logs-*"

- name: Manage a complete ISM policy
  logvault.aws.opensearch_index_policy:
    endpoint: search-logs-abc123.eu-west-1.es.amazonaws.com
    region: eu-west-1
    policy_id: audit-rollover
    policy:
      description: Warm after 7 days, delete after 90
      default_state: hot
      states:
        - name: hot
          actions: []
          transitions:
            - state_name: warm
              conditions:
                min_index_age: 7d
        - name: warm
          actions:
            - replica_count:
                number_of_replicas: 1
          transitions:
            - state_name: delete
              conditions:
                min_index_age: 90d
        - name: delete
          actions:
            - delete: {}
          transitions: []
      ism_template:
        - index_patterns: ["audit-*"]
          priority: 50

- name: Remove the policy
  logvault.aws.opensearch_index_policy:
    endpoint: search-logs-abc123.eu-west-1.es.amazonaws.com
    policy_id: audit-rollover
    state: absent
"""

RETURN = r"""
policy_id:
  description: The policy id.
  returned: always
  type: str
  sample: logs-retention
policy:
  description:
    - The policy as the domain returns it (including the fields the domain adds).
    - In check mode, when the policy would be created or changed, the desired policy.
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    policy_id: logs-retention
    description: Managed by logvault.aws - delete indices after the retention period
    default_state: hot
    schema_version: 21
    states:
      - name: hot
        actions: []
        transitions:
          - state_name: delete
            conditions:
              min_index_age: 30d
      - name: delete
        actions:
          - delete: {}
            retry: {count: 3, backoff: exponential, delay: 1m}
        transitions: []
    ism_template:
      - index_patterns: ["logs-*"]
        priority: 100
seq_no:
  description: The policy document's sequence number after the task (absent in check mode when it would change).
  returned: when the policy exists
  type: int
  sample: 4
primary_term:
  description: The policy document's primary term after the task.
  returned: when the policy exists
  type: int
  sample: 1
"""

import copy
import re

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import JsonDocument
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import document_module

POLICY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$")
INDEX_PATTERN_RE = re.compile(r"^[^\s,\"\\/<>|#A-Z]+$")
DEFAULT_RETRY = {"count": 3, "backoff": "exponential", "delay": "1m"}
SERVER_FIELDS = ("policy_id", "last_updated_time", "schema_version", "user", "seq_no", "primary_term")


def generated_policy(delete_after_days, index_patterns, priority, description):
    """The hot -> delete policy of the delete_after_days shortcut."""
    return {
        "description": description,
        "default_state": "hot",
        "states": [
            {
                "name": "hot",
                "actions": [],
                "transitions": [{"state_name": "delete", "conditions": {"min_index_age": "%dd" % delete_after_days}}],
            },
            {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
        ],
        "ism_template": [{"index_patterns": list(index_patterns), "priority": priority}],
    }


def normalize_policy(policy):
    """A comparable form of a policy: server-added fields and defaults made explicit or removed."""
    if policy is None:
        return None
    result = copy.deepcopy(policy)
    for field in SERVER_FIELDS:
        result.pop(field, None)
    if result.get("error_notification") is None:
        result.pop("error_notification", None)
    result.setdefault("description", "")
    for state in result.get("states") or []:
        if state.get("transitions") is None:
            state["transitions"] = []
        for action in state.get("actions") or []:
            if isinstance(action, dict) and action.get("retry") is None:
                action["retry"] = dict(DEFAULT_RETRY)
        if state.get("actions") is None:
            state["actions"] = []
    templates = result.get("ism_template")
    if isinstance(templates, dict):
        templates = [templates]
    if templates:
        normalized = []
        for template in templates:
            template = dict(template)
            template.pop("last_updated_time", None)
            template.setdefault("priority", 0)
            patterns = template.get("index_patterns")
            if isinstance(patterns, str):
                patterns = [patterns]
            template["index_patterns"] = sorted(patterns or [])
            normalized.append(template)
        result["ism_template"] = sorted(normalized, key=lambda t: (t["index_patterns"], t["priority"]))
    else:
        result.pop("ism_template", None)
    return result


def validate_params(module):
    """Check every option before any request; fail naming the parameter."""
    params = module.params
    if not POLICY_ID_RE.match(params["policy_id"] or ""):
        module.fail_json(msg="policy_id %r is invalid: use 1-255 letters, digits, '.', '_' or '-', starting with a letter or digit" % params["policy_id"])
    if params["state"] == "absent":
        return None
    if params["policy"] is None and params["delete_after_days"] is None:
        module.fail_json(msg="state=present requires either policy or delete_after_days (with index_patterns)")
    if params["delete_after_days"] is not None:
        days = params["delete_after_days"]
        if days < 1 or days > 36500:
            module.fail_json(msg="delete_after_days must be between 1 and 36500, got %s" % days)
        patterns = params["index_patterns"]
        if not patterns:
            module.fail_json(msg="index_patterns must list at least one index pattern when delete_after_days is set")
        for pattern in patterns:
            if not isinstance(pattern, str) or not pattern or not INDEX_PATTERN_RE.match(pattern) or pattern[0] in "-_+":
                module.fail_json(
                    msg="index_patterns entry %r is invalid: index patterns are lowercase, have no spaces, commas or "
                    "the characters \\ / \" < > | #, and do not start with -, _ or +" % (pattern,)
                )
        if params["ism_template_priority"] < 0:
            module.fail_json(msg="ism_template_priority must be 0 or more, got %s" % params["ism_template_priority"])
        return generated_policy(days, patterns, params["ism_template_priority"], params["description"])
    policy = params["policy"]
    if set(policy) == {"policy"} and isinstance(policy["policy"], dict):
        policy = policy["policy"]
    states = policy.get("states")
    if not isinstance(states, list) or not states:
        module.fail_json(msg="policy.states must be a non-empty list of states")
    names = []
    for index, state in enumerate(states):
        if not isinstance(state, dict) or not isinstance(state.get("name"), str) or not state["name"]:
            module.fail_json(msg="policy.states[%d] must be a dict with a non-empty name" % index)
        names.append(state["name"])
        for transition in state.get("transitions") or []:
            if not isinstance(transition, dict) or transition.get("state_name") not in [s.get("name") for s in states if isinstance(s, dict)]:
                module.fail_json(msg="policy.states[%d] has a transition to an unknown state: %r" % (index, transition))
    if len(set(names)) != len(names):
        module.fail_json(msg="policy.states has duplicate state names: %s" % ", ".join(sorted(names)))
    if policy.get("default_state") not in names:
        module.fail_json(msg="policy.default_state %r must be the name of one of policy.states (%s)" % (policy.get("default_state"), ", ".join(names)))
    # A policy copied from a GET answer carries fields only the domain may set; never send them.
    policy = copy.deepcopy(policy)
    for field in SERVER_FIELDS:
        policy.pop(field, None)
    templates = policy.get("ism_template")
    for template in templates if isinstance(templates, list) else [templates] if isinstance(templates, dict) else []:
        template.pop("last_updated_time", None)
    return policy


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        policy_id=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        policy=dict(type="dict"),
        delete_after_days=dict(type="int"),
        index_patterns=dict(type="list", elements="str"),
        ism_template_priority=dict(type="int", default=100),
        description=dict(type="str", default="Managed by logvault.aws - delete indices after the retention period"),
    )
    module, desired, client = document_module(
        argument_spec, validate_params,
        mutually_exclusive=[["policy", "delete_after_days"], ["policy", "index_patterns"]],
        required_by={"index_patterns": "delete_after_days"},
    )
    policy_id = module.params["policy_id"]
    document = JsonDocument(module, client, "_plugins/_ism/policies/%s" % policy_id, "ISM policy %s" % policy_id)

    current = document.get()
    before = normalize_policy(current["policy"]) if current else None
    result = dict(changed=False, policy_id=policy_id)

    if module.params["state"] == "absent":
        document.exit_absent(current, before, result, "policy")

    after = normalize_policy(desired)
    if current is not None and before == after:
        result.update(policy=current["policy"], seq_no=current["_seq_no"], primary_term=current["_primary_term"])
    else:
        result["changed"] = True
        if module.check_mode:
            result["policy"] = desired
            if current is not None:
                result.update(seq_no=current["_seq_no"], primary_term=current["_primary_term"])
        else:
            query = None
            if current is not None:
                query = {"if_seq_no": current["_seq_no"], "if_primary_term": current["_primary_term"]}
            answer = document.put({"policy": desired}, bool(current), query=query)
            stored = (answer.get("policy") or {}).get("policy") or desired
            result.update(policy=stored, seq_no=answer.get("_seq_no"), primary_term=answer.get("_primary_term"))
    document.exit_with_diff(result, before, after)


if __name__ == "__main__":
    main()
