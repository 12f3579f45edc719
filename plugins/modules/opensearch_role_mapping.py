#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_role_mapping
version_added: 0.1.0
short_description: Map IAM roles, users and hosts to a fine-grained access control role of an Amazon OpenSearch Service domain
description:
  - Manages the security plugin role mapping C(_plugins/_security/api/rolesmapping/<role>) of an OpenSearch Service
    domain with fine-grained access control, and optionally the role itself (C(_plugins/_security/api/roles/<role>))
    when O(role_definition) is given.
  - With fine-grained access control an IAM principal can only use the domain once it is mapped to an OpenSearch role;
    for example a Firehose stream's IAM role must be mapped to a role that may write its indices.
  - The security plugin refuses to map a role that does not exist, so a custom role and its mapping are managed
    together in one task; without O(role_definition) the role must already exist (a predefined role such as
    C(readall), or one made by another task), and the module fails before any write when it does not.
  - Every request is signed with AWS Signature Version 4 (service C(es)) with the credentials the usual AWS options
    resolve to. The signing principal must be allowed to use the security REST API (the domain's master user, or a
    principal mapped to C(all_access) and C(security_manager)).
  - Lists are compared as sorted sets; the read-only fields the domain returns (C(reserved), C(hidden), C(static)) and
    the defaults it adds to a role (C(dls) C(""), C(fls) and C(masked_fields) C([]), C(tenant_permissions) C([])) do
    not cause a change. A reserved or static role, or a reserved mapping, is never modified; the module fails and
    names it when a change would be needed.
  - Neither amazon.aws nor community.aws manage anything inside an OpenSearch domain (community.aws.opensearch sets
    only the master user when fine-grained access control is enabled); this module exists for the other mappings.
author:
  - logvault.aws maintainers (@logvault)
options:
  role:
    description:
      - Name of the OpenSearch security role whose mapping is managed (and, with O(role_definition), the role itself).
      - Letters, digits, C(_), C(-) and C(.); at most 100 characters; starts with a letter or digit.
    type: str
    required: true
    aliases: [name]
  state:
    description:
      - V(present) makes the mapping (and the role, with O(role_definition)) as described.
      - V(absent) deletes the mapping; with O(role_definition) (any value, for example C({})) it also deletes the role.
    type: str
    choices: [present, absent]
    default: present
  backend_roles:
    description:
      - Backend roles mapped to the role. With IAM authentication these are IAM role ARNs, for example
        C(arn:aws:iam::123456789012:role/logvault-search-firehose) (the role ARN, never an C(assumed-role) session ARN).
    type: list
    elements: str
  users:
    description:
      - Users mapped to the role (IAM user ARNs, or internal user names).
    type: list
    elements: str
  hosts:
    description:
      - Host names or IP addresses (wildcards allowed) mapped to the role.
    type: list
    elements: str
  purge:
    description:
      - When V(true), the mapping's O(backend_roles), O(users) and O(hosts) are exactly the given lists (an omitted list
        means none), and C(and_backend_roles) is emptied.
      - When V(false), the given members are added and the members already mapped are kept.
    type: bool
    default: true
  role_definition:
    description:
      - The role's permissions. When given, the module creates or updates the role before mapping it (and deletes it
        with O(state=absent)).
    type: dict
    suboptions:
      description:
        description: Description of the role.
        type: str
      cluster_permissions:
        description: Cluster permissions and action groups, for example C(cluster_composite_ops).
        type: list
        elements: str
        default: []
      index_permissions:
        description: Index permissions.
        type: list
        elements: dict
        default: []
        suboptions:
          index_patterns:
            description: Index patterns the actions apply to, for example C(logs-*).
            type: list
            elements: str
            required: true
          allowed_actions:
            description: Index permissions and action groups, for example C(crud).
            type: list
            elements: str
            required: true
          dls:
            description: Document-level security query (JSON text); empty for none.
            type: str
            default: ""
          fls:
            description: Field-level security field names.
            type: list
            elements: str
            default: []
          masked_fields:
            description: Fields whose values are masked.
            type: list
            elements: str
            default: []
      tenant_permissions:
        description: Dashboards tenant permissions.
        type: list
        elements: dict
        default: []
        suboptions:
          tenant_patterns:
            description: Tenant name patterns.
            type: list
            elements: str
            required: true
          allowed_actions:
            description: Tenant action groups, for example C(kibana_all_read).
            type: list
            elements: str
            required: true
notes:
  - Supports check mode and diff mode. In check mode the module only reads (GET) from the domain.
  - The security plugin replaces a mapping or role as a whole on every PUT; with O(purge=false) the module reads the
    current members first and writes their union with the given ones.
  - The least-privilege role AWS documents for a Firehose stream delivering to a domain with fine-grained access
    control has cluster permissions C(cluster_composite_ops) and C(cluster_monitor), and C(create_index), C(manage)
    and C(crud) on the stream's index pattern (see the examples).
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Create the Firehose writer role and map the search Firehose role to it
  logvault.aws.opensearch_role_mapping:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    role: logvault_firehose_writer
    backend_roles:
      - arn:aws:iam::123456789012:role/logvault-search-firehose
    role_definition:
      description: Firehose writes the daily logs-* indices
      cluster_permissions:
        - cluster_composite_ops
        - cluster_monitor
      index_permissions:
        - index_patterns: ["logs-*"]
          allowed_actions: [create_index, manage, crud]

- name: Add an analyst role to the predefined readall role, keeping the principals already mapped
  logvault.aws.opensearch_role_mapping:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    role: readall
    backend_roles:
      - arn:aws:iam::123456789012:role/analysts
    purge: false

- name: Remove the mapping and the role
  logvault.aws.opensearch_role_mapping:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    role: logvault_firehose_writer
    role_definition: {}
    state: absent
"""

RETURN = r"""
role:
  description: The role name.
  returned: always
  type: str
  sample: logvault_firehose_writer
mapping:
  description:
    - The mapping after the task (lists sorted), without the read-only fields. In check mode, the mapping it would have.
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    backend_roles: ["arn:aws:iam::123456789012:role/logvault-search-firehose"]
    and_backend_roles: []
    hosts: []
    users: []
role_definition:
  description:
    - The role's permissions after the task (lists sorted), without the read-only fields. In check mode, what they
      would be. Empty when O(state=absent).
  returned: when O(role_definition) is given
  type: dict
  sample:
    cluster_permissions: [cluster_composite_ops, cluster_monitor]
    index_permissions:
      - index_patterns: ["logs-*"]
        allowed_actions: [create_index, crud, manage]
        dls: ""
        fls: []
        masked_fields: []
    tenant_permissions: []
actions:
  description: What the task did (or would do in check mode), in order.
  returned: always
  type: list
  elements: str
  sample: ["role created", "mapping created"]
"""

import json
import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchError
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_client
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import validated_connection_params

ROLE_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
IAM_ARN_RE = re.compile(r"^arn:aws(-[a-z]+)*:iam::\d{12}:(role|user)/[\w+=,.@/-]{1,512}$")
STS_SESSION_RE = re.compile(r"^arn:aws(-[a-z]+)*:sts::\d{12}:assumed-role/")
TOKEN_RE = re.compile(r"^\S+$")
API = "_plugins/_security/api"
MAPPING_FIELDS = ("backend_roles", "and_backend_roles", "hosts", "users")
READ_ONLY = ("reserved", "hidden", "static")


# ---------------------------------------------------------------------------- canonical forms
def _sorted_unique(values):
    return sorted(set(v for v in values or [] if v is not None))


def canonical_mapping(mapping):
    """Comparable mapping: the four member lists sorted, description kept, read-only fields dropped."""
    if mapping is None:
        return None
    result = dict((field, _sorted_unique(mapping.get(field))) for field in MAPPING_FIELDS)
    if mapping.get("description"):
        result["description"] = mapping["description"]
    return result


def canonical_role(role):
    """Comparable role: lists sorted, the defaults the domain adds made explicit, read-only fields dropped."""
    if role is None:
        return None
    index_permissions = []
    for permission in role.get("index_permissions") or []:
        index_permissions.append({
            "index_patterns": _sorted_unique(permission.get("index_patterns")),
            "allowed_actions": _sorted_unique(permission.get("allowed_actions")),
            "dls": permission.get("dls") or "",
            "fls": _sorted_unique(permission.get("fls")),
            "masked_fields": _sorted_unique(permission.get("masked_fields")),
        })
    tenant_permissions = []
    for permission in role.get("tenant_permissions") or []:
        tenant_permissions.append({
            "tenant_patterns": _sorted_unique(permission.get("tenant_patterns")),
            "allowed_actions": _sorted_unique(permission.get("allowed_actions")),
        })
    result = {
        "cluster_permissions": _sorted_unique(role.get("cluster_permissions")),
        "index_permissions": sorted(index_permissions, key=lambda p: json.dumps(p, sort_keys=True)),
        "tenant_permissions": sorted(tenant_permissions, key=lambda p: json.dumps(p, sort_keys=True)),
    }
    if role.get("description"):
        result["description"] = role["description"]
    return result


# ---------------------------------------------------------------------------- input
def _check_list(module, name, values, pattern=TOKEN_RE, what="a non-empty string without spaces"):
    for value in values or []:
        if not isinstance(value, str) or not pattern.match(value):
            module.fail_json(msg="%s entry %r is invalid: each entry must be %s" % (name, value, what))


def validate_params(module):
    """Check every option before any request; fail naming the parameter."""
    params = module.params
    if not ROLE_RE.match(params["role"] or ""):
        module.fail_json(
            msg="role %r is invalid: use 1-100 letters, digits, '_', '-' or '.', starting with a letter or digit" % params["role"]
        )
    if params["state"] == "absent":
        return
    for name in ("backend_roles", "users"):
        for value in params[name] or []:
            if isinstance(value, str) and STS_SESSION_RE.match(value):
                module.fail_json(
                    msg="%s entry %r is an assumed-role session ARN: fine-grained access control maps the IAM role ARN "
                    "(arn:aws:iam::<account>:role/<name>)" % (name, value)
                )
            if isinstance(value, str) and value.startswith("arn:") and not IAM_ARN_RE.match(value):
                module.fail_json(
                    msg="%s entry %r is not a valid IAM role or user ARN (arn:aws:iam::<12-digit account>:role/<name>)" % (name, value)
                )
    _check_list(module, "backend_roles", params["backend_roles"])
    _check_list(module, "users", params["users"])
    _check_list(module, "hosts", params["hosts"])
    if not (params["backend_roles"] or params["users"] or params["hosts"]):
        module.fail_json(
            msg="backend_roles, users or hosts must list at least one member: a mapping without members maps nobody "
            "(use state=absent to remove it)"
        )
    definition = params["role_definition"]
    if definition is None:
        return
    _check_list(module, "role_definition.cluster_permissions", definition.get("cluster_permissions"))
    if not definition.get("cluster_permissions") and not definition.get("index_permissions") and not definition.get("tenant_permissions"):
        module.fail_json(msg="role_definition must grant something: give cluster_permissions, index_permissions or tenant_permissions")
    for index, permission in enumerate(definition.get("index_permissions") or []):
        where = "role_definition.index_permissions[%d]" % index
        if not permission.get("index_patterns"):
            module.fail_json(msg="%s.index_patterns must list at least one index pattern" % where)
        if not permission.get("allowed_actions"):
            module.fail_json(msg="%s.allowed_actions must list at least one action or action group" % where)
        _check_list(module, where + ".index_patterns", permission["index_patterns"])
        _check_list(module, where + ".allowed_actions", permission["allowed_actions"])
        if permission.get("dls"):
            try:
                json.loads(permission["dls"])
            except ValueError:
                module.fail_json(msg="%s.dls must be a JSON query (text), got %r" % (where, permission["dls"]))
    for index, permission in enumerate(definition.get("tenant_permissions") or []):
        where = "role_definition.tenant_permissions[%d]" % index
        if not permission.get("tenant_patterns") or not permission.get("allowed_actions"):
            module.fail_json(msg="%s needs tenant_patterns and allowed_actions" % where)
        _check_list(module, where + ".tenant_patterns", permission["tenant_patterns"])
        _check_list(module, where + ".allowed_actions", permission["allowed_actions"])


# ---------------------------------------------------------------------------- requests
def _security_error_text(error):
    """The security REST API answers errors as {"status", "message"} or {"status": "error", "reason", ...}."""
    try:
        body = json.loads(error.body) if error.body else None
    except ValueError:
        body = None
    if isinstance(body, dict) and ("message" in body or body.get("status") == "error"):
        text = body.get("message") or body.get("reason") or ""
        details = dict((k, v) for k, v in body.items() if k not in ("status", "message", "reason"))
        if details:
            text = "%s %s" % (text, json.dumps(details, sort_keys=True))
        return text
    return None


def fail_security(module, error, what):
    text = _security_error_text(error)
    if error.status == 403 and text is not None and error.error_type != "security_exception":
        msg = (
            "%s: the security REST API refused %s %s with 403 Forbidden: %s. Sign with the domain's master user (or a "
            "principal mapped to all_access and security_manager)." % (what, error.method, "/" + error.path.strip("/"), text)
        )
    elif text is not None:
        msg = "%s: %s %s answered HTTP %s: %s" % (what, error.method, "/" + error.path.strip("/"), error.status, text)
    else:
        msg = "%s: %s" % (what, error.message)
    module.fail_json(msg=msg, status=error.status, error_type=error.error_type, reason=text or error.reason)


def get_entity(module, client, kind, name):
    """GET roles/<name> or rolesmapping/<name>; None when missing (or hidden, which the API also answers with 404)."""
    try:
        dummy, answer = client.request("GET", "%s/%s/%s" % (API, kind, name))
    except OpenSearchError as e:
        if e.status == 404:
            return None
        fail_security(module, e, "Failed to read %s %s" % ("role" if kind == "roles" else "the role mapping of", name))
    if not isinstance(answer, dict) or name not in answer or not isinstance(answer[name], dict):
        module.fail_json(msg="GET /%s/%s/%s returned an unexpected body: %r" % (API, kind, name, answer))
    return answer[name]


def immutable_reason(entity):
    flags = [flag for flag in READ_ONLY if entity and entity.get(flag) is True]
    return ", ".join(flags) if flags else None


def write(module, client, method, kind, name, body, what):
    try:
        client.request(method, "%s/%s/%s" % (API, kind, name), body=body)
    except OpenSearchError as e:
        if method == "DELETE" and e.status == 404:
            return
        fail_security(module, e, what)


def role_body(definition):
    body = {
        "cluster_permissions": list(definition.get("cluster_permissions") or []),
        "index_permissions": [
            {
                "index_patterns": list(p["index_patterns"]),
                "allowed_actions": list(p["allowed_actions"]),
                "dls": p.get("dls") or "",
                "fls": list(p.get("fls") or []),
                "masked_fields": list(p.get("masked_fields") or []),
            }
            for p in definition.get("index_permissions") or []
        ],
        "tenant_permissions": [
            {"tenant_patterns": list(p["tenant_patterns"]), "allowed_actions": list(p["allowed_actions"])}
            for p in definition.get("tenant_permissions") or []
        ],
    }
    if definition.get("description"):
        body["description"] = definition["description"]
    return body


def desired_mapping(params, current):
    if params["purge"] or current is None:
        desired = dict((field, _sorted_unique(params.get(field))) for field in ("backend_roles", "users", "hosts"))
        desired["and_backend_roles"] = []
    else:
        desired = dict((field, _sorted_unique((current.get(field) or []) + (params.get(field) or []))) for field in ("backend_roles", "users", "hosts"))
        desired["and_backend_roles"] = _sorted_unique(current.get("and_backend_roles"))
    if current and current.get("description"):
        desired["description"] = current["description"]
    return desired


def mapping_body(desired):
    body = dict((field, desired[field]) for field in ("backend_roles", "hosts", "users"))
    if desired.get("and_backend_roles"):
        body["and_backend_roles"] = desired["and_backend_roles"]
    if desired.get("description"):
        body["description"] = desired["description"]
    return body


# ---------------------------------------------------------------------------- main
def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        role=dict(type="str", required=True, aliases=["name"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        backend_roles=dict(type="list", elements="str"),
        users=dict(type="list", elements="str"),
        hosts=dict(type="list", elements="str"),
        purge=dict(type="bool", default=True),
        role_definition=dict(
            type="dict",
            options=dict(
                description=dict(type="str"),
                cluster_permissions=dict(type="list", elements="str", default=[]),
                index_permissions=dict(
                    type="list", elements="dict", default=[],
                    options=dict(
                        index_patterns=dict(type="list", elements="str", required=True),
                        allowed_actions=dict(type="list", elements="str", required=True),
                        dls=dict(type="str", default=""),
                        fls=dict(type="list", elements="str", default=[]),
                        masked_fields=dict(type="list", elements="str", default=[]),
                    ),
                ),
                tenant_permissions=dict(
                    type="list", elements="dict", default=[],
                    options=dict(
                        tenant_patterns=dict(type="list", elements="str", required=True),
                        allowed_actions=dict(type="list", elements="str", required=True),
                    ),
                ),
            ),
        ),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    name = params["role"]
    manage_role = params["role_definition"] is not None
    validate_params(module)
    base_url, region = validated_connection_params(module)
    client = opensearch_client(module, base_url, region)

    actions = []
    result = dict(changed=False, role=name, actions=actions)
    diff_before, diff_after = {}, {}
    current_role = get_entity(module, client, "roles", name) if manage_role or params["state"] == "present" else None
    current_mapping = get_entity(module, client, "rolesmapping", name)
    before_mapping = canonical_mapping(current_mapping)
    before_role = canonical_role(current_role) if manage_role else None

    if params["state"] == "absent":
        if current_mapping is not None:
            reason = immutable_reason(current_mapping)
            if reason:
                module.fail_json(msg="The role mapping of %s is %s: the security plugin does not let it be deleted through the REST API" % (name, reason))
            actions.append("mapping deleted")
            if not module.check_mode:
                write(module, client, "DELETE", "rolesmapping", name, None, "Failed to delete the role mapping of %s" % name)
        if manage_role and current_role is not None:
            reason = immutable_reason(current_role)
            if reason:
                module.fail_json(msg="Role %s is %s (predefined by the domain): it cannot be deleted; leave out role_definition "
                                 "to delete only its mapping" % (name, reason))
            actions.append("role deleted")
            if not module.check_mode:
                write(module, client, "DELETE", "roles", name, None, "Failed to delete role %s" % name)
        result.update(changed=bool(actions), mapping={})
        if manage_role:
            result["role_definition"] = {}
            diff_before["role_definition"] = before_role or {}
            diff_after["role_definition"] = {}
        diff_before["mapping"] = before_mapping or {}
        diff_after["mapping"] = {}
        if module._diff:
            result["diff"] = dict(before=diff_before, after=diff_after)
        module.exit_json(**result)

    # ---- the role
    if manage_role:
        desired_role = canonical_role(role_body(params["role_definition"]))
        if before_role != desired_role:
            reason = immutable_reason(current_role)
            if reason:
                module.fail_json(
                    msg="Role %s is %s (predefined by the domain) and its permissions differ from role_definition: it cannot be "
                    "changed; leave out role_definition to map the predefined role as it is, or choose another role name" % (name, reason)
                )
            actions.append("role updated" if current_role is not None else "role created")
            if not module.check_mode:
                write(module, client, "PUT", "roles", name, role_body(params["role_definition"]),
                      "Failed to %s role %s" % ("update" if current_role is not None else "create", name))
        result["role_definition"] = desired_role
        diff_before["role_definition"] = before_role or {}
        diff_after["role_definition"] = desired_role
    elif current_role is None:
        module.fail_json(
            msg="Role %s does not exist in the domain (or is hidden): the security plugin can only map an existing role; "
            "give role_definition to create it" % name
        )

    # ---- the mapping
    desired = desired_mapping(params, current_mapping)
    if before_mapping != desired:
        reason = immutable_reason(current_mapping)
        if reason:
            module.fail_json(msg="The role mapping of %s is %s: it cannot be changed through the REST API (current members: %s)"
                             % (name, reason, json.dumps(before_mapping, sort_keys=True)))
        actions.append("mapping updated" if current_mapping is not None else "mapping created")
        if not module.check_mode:
            write(module, client, "PUT", "rolesmapping", name, mapping_body(desired),
                  "Failed to %s the role mapping of %s" % ("update" if current_mapping is not None else "create", name))
    if actions and not module.check_mode:
        # Return what the domain stores, not what was sent.
        if manage_role:
            result["role_definition"] = canonical_role(get_entity(module, client, "roles", name))
        stored = get_entity(module, client, "rolesmapping", name)
        desired = canonical_mapping(stored) if stored is not None else desired
    result.update(changed=bool(actions), mapping=desired)
    diff_before["mapping"] = before_mapping or {}
    diff_after["mapping"] = desired
    if module._diff:
        result["diff"] = dict(before=diff_before, after=diff_after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
