#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_audit_config
version_added: 0.1.0
short_description: Turn on and configure audit logging in the security plugin of an Amazon OpenSearch Service domain
description:
  - Manages the audit logging configuration of the security plugin of a domain with fine-grained access control,
    through the security REST API (C(GET _plugins/_security/api/audit), C(PUT _plugins/_security/api/audit/config)).
  - Enabling audit logs on Amazon OpenSearch Service is a two-step process
    (U(https://docs.aws.amazon.com/opensearch-service/latest/developerguide/audit-logs.html)) - the domain publishes
    its audit logs to CloudWatch Logs (the domain's C(LogPublishingOptions) C(AUDIT_LOGS), see
    M(logvault.aws.opensearch_domain_log_publishing)), and audit logging is turned on and tuned in the security
    plugin. This module does the second step.
  - Only the given fields are managed; every other field keeps the value the domain returns. The module reads the
    configuration, compares it with the wanted one (category, user, request and index lists as sets), and sends the
    whole configuration with C(PUT) only when something differs (the API replaces the configuration as a whole).
  - The paths the domain lists as C(_readonly) (for example C(/audit/exclude_sensitive_headers),
    C(/compliance/internal_config) and C(/compliance/external_config)) cannot be changed through the API (409); the
    module fails before any write, naming the option, when a given value would change one of them.
  - Every request is signed with AWS Signature Version 4 (service C(es)). The signing principal must be mapped to the
    C(security_manager) (or C(all_access)) role, as the audit-logs page of the OpenSearch Service developer guide says;
    the domain's master user is.
author:
  - logvault.aws maintainers (@logvault)
options:
  enabled:
    description: Whether audit logging is on (C(enabled) of the configuration).
    type: bool
    default: true
  audit:
    description:
      - The audit logging settings (C(audit) of the configuration,
        U(https://docs.opensearch.org/latest/security/api/audit/update-audit-configuration/)). An omitted field keeps
        the domain's value.
    type: dict
    suboptions:
      enable_rest:
        description: Audit requests to the REST layer.
        type: bool
      enable_transport:
        description: Audit requests to the transport layer.
        type: bool
      disabled_rest_categories:
        description: Categories not audited on the REST layer, for example C(AUTHENTICATED) and C(GRANTED_PRIVILEGES).
        type: list
        elements: str
      disabled_transport_categories:
        description: Categories not audited on the transport layer.
        type: list
        elements: str
      ignore_users:
        description: Users whose requests are not audited (wildcards allowed).
        type: list
        elements: str
      ignore_requests:
        description: Requests that are not audited (wildcards allowed), for example C(indices:data/read/*).
        type: list
        elements: str
      log_request_body:
        description: Include the request body.
        type: bool
      resolve_indices:
        description: Log every index a request affects (aliases and wildcards resolved).
        type: bool
      resolve_bulk_requests:
        description: Log each operation of a bulk request.
        type: bool
      exclude_sensitive_headers:
        description: Leave sensitive headers out of the log (read-only on Amazon OpenSearch Service).
        type: bool
  compliance:
    description:
      - The compliance logging settings (C(compliance) of the configuration). An omitted field keeps the domain's
        value.
    type: dict
    suboptions:
      enabled:
        description: Whether compliance logging is on.
        type: bool
      internal_config:
        description: Log changes of the security configuration (read-only on Amazon OpenSearch Service).
        type: bool
      external_config:
        description: Log the node's external configuration (read-only on Amazon OpenSearch Service).
        type: bool
      read_metadata_only:
        description: Log only document metadata for read events.
        type: bool
      read_watched_fields:
        description: Index pattern to the list of fields whose reads are logged.
        type: dict
      read_ignore_users:
        description: Users whose reads are not logged.
        type: list
        elements: str
      write_metadata_only:
        description: Log only document metadata for write events.
        type: bool
      write_log_diffs:
        description: Log only the differences of document updates.
        type: bool
      write_watched_indices:
        description: Indices whose writes are logged.
        type: list
        elements: str
      write_ignore_users:
        description: Users whose writes are not logged.
        type: list
        elements: str
notes:
  - Supports check mode and diff mode. In check mode the module only reads (GET) from the domain.
  - Audit logs need fine-grained access control; the domain must also publish C(AUDIT_LOGS) to a CloudWatch Logs log
    group, or the audited events are not kept anywhere.
  - Neither amazon.aws nor community.aws manage anything inside an OpenSearch domain; this module exists for this one
    API.
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Turn on audit logging, REST and transport layers, without request bodies
  logvault.aws.opensearch_audit_config:
    endpoint: vpc-logs-abc123.us-east-1.es.amazonaws.com
    enabled: true
    audit:
      enable_rest: true
      enable_transport: true
      disabled_rest_categories: [AUTHENTICATED, GRANTED_PRIVILEGES]
      disabled_transport_categories: [AUTHENTICATED, GRANTED_PRIVILEGES]
      log_request_body: false
    compliance:
      enabled: true

- name: Turn audit logging off, keeping its settings
  logvault.aws.opensearch_audit_config:
    endpoint: vpc-logs-abc123.us-east-1.es.amazonaws.com
    enabled: false
"""

RETURN = r"""
config:
  description: The audit configuration after the task (lists sorted). In check mode, what it would be.
  returned: always
  type: dict
  sample:
    enabled: true
    audit:
      enable_rest: true
      disabled_rest_categories: [AUTHENTICATED, GRANTED_PRIVILEGES]
    compliance:
      enabled: true
readonly:
  description: The configuration paths the domain does not let the API change (C(_readonly)).
  returned: always
  type: list
  elements: str
  sample: [/audit/exclude_sensitive_headers, /compliance/internal_config, /compliance/external_config]
changed_fields:
  description: The options whose value changed (or would change in check mode), as C(section.field).
  returned: always
  type: list
  elements: str
  sample: [enabled, audit.log_request_body]
"""

import copy
import re

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchError
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import fail_opensearch
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_client
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import validated_connection_params

GET_PATH = "_plugins/_security/api/audit"
PUT_PATH = "_plugins/_security/api/audit/config"
CATEGORY_RE = re.compile(r"^[A-Z][A-Z_]*$")
AUDIT_BOOLS = ("enable_rest", "enable_transport", "log_request_body", "resolve_indices", "resolve_bulk_requests", "exclude_sensitive_headers")
AUDIT_LISTS = ("disabled_rest_categories", "disabled_transport_categories", "ignore_users", "ignore_requests")
COMPLIANCE_BOOLS = ("enabled", "internal_config", "external_config", "read_metadata_only", "write_metadata_only", "write_log_diffs")
COMPLIANCE_LISTS = ("read_ignore_users", "write_watched_indices", "write_ignore_users")


def _set(values):
    return sorted(set(str(v) for v in values or []))


def canonical(config):
    """The configuration with its set-like lists sorted, for comparison and output."""
    out = copy.deepcopy(config) if isinstance(config, dict) else {}
    for section, lists in (("audit", AUDIT_LISTS), ("compliance", COMPLIANCE_LISTS)):
        part = out.get(section)
        if not isinstance(part, dict):
            continue
        for key in lists:
            if key in part and isinstance(part[key], list):
                part[key] = _set(part[key])
        if section == "compliance" and isinstance(part.get("read_watched_fields"), dict):
            part["read_watched_fields"] = dict((k, _set(v) if isinstance(v, list) else v) for k, v in part["read_watched_fields"].items())
    return out


def validate_params(module):
    audit = module.params.get("audit") or {}
    for key in ("disabled_rest_categories", "disabled_transport_categories"):
        for value in audit.get(key) or []:
            if not CATEGORY_RE.match(value or ""):
                module.fail_json(msg="audit.%s: %r is not an audit category (upper-case names such as AUTHENTICATED, "
                                     "GRANTED_PRIVILEGES, FAILED_LOGIN)" % (key, value))
    for section in ("audit", "compliance"):
        for key, value in (module.params.get(section) or {}).items():
            if isinstance(value, list) and any(not (v or "").strip() for v in value):
                module.fail_json(msg="%s.%s: empty entries are not allowed" % (section, key))
    fields = (module.params.get("compliance") or {}).get("read_watched_fields")
    if fields is not None:
        for pattern, names in fields.items():
            if not pattern or not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                module.fail_json(msg="compliance.read_watched_fields: each key is an index pattern and each value a list of "
                                     "field names (got %r: %r)" % (pattern, names))


def wanted(current, params):
    """The current configuration with the given options laid over it; the list of changed fields."""
    desired = copy.deepcopy(current)
    desired["enabled"] = params["enabled"]
    for section in ("audit", "compliance"):
        given = params.get(section) or {}
        part = desired.setdefault(section, {})
        if not isinstance(part, dict):
            part = desired[section] = {}
        for key, value in given.items():
            if value is not None:
                part[key] = copy.deepcopy(value)
    before, after = canonical(current), canonical(desired)
    changed = []
    if before.get("enabled") != after.get("enabled"):
        changed.append("enabled")
    for section in ("audit", "compliance"):
        old, new = before.get(section) or {}, after.get(section) or {}
        for key in sorted(set(old) | set(new)):
            if old.get(key) != new.get(key):
                changed.append("%s.%s" % (section, key))
    return desired, changed


def read(module, client):
    try:
        dummy, answer = client.request("GET", GET_PATH)
    except OpenSearchError as e:
        if e.status in (401, 403):
            fail_opensearch(module, e, "Failed to read the audit configuration (the signing principal must be mapped to the "
                                       "security_manager or all_access role)")
        fail_opensearch(module, e, "Failed to read the audit configuration")
    if not isinstance(answer, dict) or not isinstance(answer.get("config"), dict):
        module.fail_json(msg="GET /%s returned an unexpected body: %r" % (GET_PATH, answer))
    return answer["config"], list(answer.get("_readonly") or [])


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        enabled=dict(type="bool", default=True),
        audit=dict(type="dict", options=dict(
            [(k, dict(type="bool")) for k in AUDIT_BOOLS] + [(k, dict(type="list", elements="str")) for k in AUDIT_LISTS])),
        compliance=dict(type="dict", options=dict(
            [(k, dict(type="bool")) for k in COMPLIANCE_BOOLS] + [(k, dict(type="list", elements="str")) for k in COMPLIANCE_LISTS]
            + [("read_watched_fields", dict(type="dict"))])),
    )
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True)
    validate_params(module)
    base_url, region = validated_connection_params(module)
    client = opensearch_client(module, base_url, region)

    current, readonly = read(module, client)
    desired, changed = wanted(current, module.params)
    for path in readonly:
        field = path.strip("/").replace("/", ".")
        if field in changed:
            module.fail_json(msg="%s cannot be changed on this domain: the security plugin lists %s as read-only (_readonly); "
                                 "leave the option out. Nothing was changed." % (field, path), readonly=readonly)
    if changed and not module.check_mode:
        try:
            client.request("PUT", PUT_PATH, body=desired)
        except OpenSearchError as e:
            fail_opensearch(module, e, "Failed to update the audit configuration")
    result = dict(changed=bool(changed), config=canonical(desired), readonly=readonly, changed_fields=changed)
    if module._diff:
        result["diff"] = dict(before=canonical(current), after=canonical(desired))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
