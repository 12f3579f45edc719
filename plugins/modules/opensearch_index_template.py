#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_index_template
version_added: 0.1.0
short_description: Manage a composable index template in an Amazon OpenSearch Service domain
description:
  - Creates, updates or deletes the composable index template C(_index_template/<name>) on an OpenSearch Service
    domain endpoint.
  - Every request is signed with AWS Signature Version 4 (service C(es)) using botocore's signer and the
    credentials that the usual AWS options (O(access_key), O(secret_key), O(session_token), O(profile) or the
    environment) resolve to.
  - When O(mappings) is not given, the template carries the mappings of logvault.aws log documents
    (see O(fields_mapping)). Give O(mappings) to manage any other template.
  - The module compares the template with what the domain returns (settings are compared in the domain's
    normalised form, nested under C(index) with string values; index patterns and C(composed_of) as sets) and
    writes only when they differ. A PUT replaces the whole template, so options that are not set are not part of it.
  - Neither amazon.aws nor community.aws manage anything inside an OpenSearch domain; this module exists for that.
  - A template applies to indices created after it; existing indices keep their mappings.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - "Name of the index template: lowercase, no spaces, none of the characters C(\\ / * ? \" < > | , # :), and not
        starting with C(-), C(_) or C(+)."
    type: str
    required: true
  state:
    description: Whether the template should exist.
    type: str
    choices: [present, absent]
    default: present
  index_patterns:
    description:
      - Index patterns the template applies to, for example C(logs-*). Required when O(state=present).
    type: list
    elements: str
  priority:
    description: Template priority; when several templates match a new index, the highest priority wins.
    type: int
    default: 100
  mappings:
    description:
      - The C(mappings) of the template. When not given, the logvault.aws log-document mappings are used
        C(@timestamp) date; C(account_id), C(region), C(log_group), C(log_stream) and C(event_id) keyword;
        C(message) text with a C(message.keyword) subfield (C(ignore_above=8191)); C(fields) as described in
        O(fields_mapping); and C(dynamic=false) at the top level, so an unexpected top-level field is kept in
        C(_source) but never creates a mapping or rejects a document.
    type: dict
  fields_mapping:
    description:
      - How the log-document mappings map C(fields), the parsed JSON of a message, whose keys and value types differ
        from one producer to the next. Ignored when O(mappings) is given.
      - C(flat_object) (OpenSearch 2.7 and later) treats the whole object as one string field whose subfields can
        still be queried with dot-path notation (C(fields.user.name:alice)); two producers that send C(status) as a
        number and as an object never conflict, and no mapping is ever added per key. Leaves match as strings (no
        numeric ranges) and subfields cannot be aggregated.
      - C(disabled) maps it as an C(object) with C(enabled=false), for older domains; the fields are kept in
        C(_source) but are not searchable.
    type: str
    choices: [flat_object, disabled]
    default: flat_object
  settings:
    description: Index settings of the template, for example C(number_of_shards) and C(number_of_replicas).
    type: dict
  aliases:
    description: Aliases of the template.
    type: dict
  composed_of:
    description: Names of component templates to compose, in order.
    type: list
    elements: str
  template_version:
    description: The template's C(version) number, for your own bookkeeping.
    type: int
  meta:
    description: The template's C(_meta) data.
    type: dict
notes:
  - Supports check mode and diff mode. In check mode the module only reads (GET) from the domain.
  - A 403 answered by fine-grained access control fails with a message saying so; the signing IAM principal
    must be mapped to an OpenSearch role with the index template permissions (or be the domain's master user).
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Template for the daily log indices written by the search Firehose stream
  logvault.aws.opensearch_index_template:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: logs
    index_patterns:
      - "logs-*"
    settings:
      number_of_shards: 1
      number_of_replicas: 1

- name: Same, for a domain older than OpenSearch 2.7 (no flat_object)
  logvault.aws.opensearch_index_template:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: logs
    index_patterns: ["logs-*"]
    fields_mapping: disabled

- name: Any other template
  logvault.aws.opensearch_index_template:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: metrics
    index_patterns: ["metrics-*"]
    priority: 50
    mappings:
      properties:
        "@timestamp":
          type: date
        value:
          type: double

- name: Remove a template
  logvault.aws.opensearch_index_template:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: metrics
    state: absent
"""

RETURN = r"""
name:
  description: The template name.
  returned: always
  type: str
  sample: logs
index_template:
  description:
    - The template as the domain returns it; in check mode when it would change, the desired template.
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    index_patterns: ["logs-*"]
    priority: 100
    composed_of: []
    template:
      settings:
        index:
          number_of_shards: "1"
      mappings:
        dynamic: false
        properties:
          "@timestamp": {type: date}
          account_id: {type: keyword}
          fields: {type: flat_object}
"""

import copy
import re

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import JsonDocument
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import document_module

NAME_RE = re.compile(r"^[^A-Z\s\\/*?\"<>|,#:]+$")
INDEX_PATTERN_RE = re.compile(r"^[^A-Z\s\\/?\"<>|,#]+$")
KEYWORD_FIELDS = ("account_id", "region", "log_group", "log_stream", "event_id")


def log_document_mappings(fields_mapping="flat_object"):
    """The mappings of the documents the transform Lambda sends to the search stream."""
    properties = {"@timestamp": {"type": "date"}}
    for field in KEYWORD_FIELDS:
        properties[field] = {"type": "keyword"}
    # 8191 characters of UTF-8 stay under Lucene's 32766-byte term limit.
    properties["message"] = {"type": "text", "fields": {"keyword": {"type": "keyword", "ignore_above": 8191}}}
    if fields_mapping == "flat_object":
        properties["fields"] = {"type": "flat_object"}
    else:
        properties["fields"] = {"type": "object", "enabled": False}
    return {"dynamic": False, "properties": properties}


def _stringify(value):
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return [_stringify(v) for v in value]
    return str(value)


def normalize_settings(settings):
    """Settings the way OpenSearch returns them: nested under ``index``, every value a string."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk("%s.%s" % (prefix, key) if prefix else str(key), sub)
        else:
            flat[prefix] = value

    walk("", settings or {})
    nested = {}
    for key, value in flat.items():
        if not key.startswith("index."):
            key = "index." + key
        cursor = nested
        parts = key.split(".")
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = _stringify(value)
    return nested


def _scalars_as_strings(value):
    """OpenSearch may echo mapping parameters as strings (``"dynamic": "false"``); compare them that way."""
    if isinstance(value, dict):
        return dict((k, _scalars_as_strings(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_scalars_as_strings(v) for v in value]
    if value is None:
        return None
    return _stringify(value)


def normalize_template(body):
    """A comparable form of an index template body."""
    if body is None:
        return None
    result = copy.deepcopy(body)
    patterns = result.get("index_patterns") or []
    if isinstance(patterns, str):
        patterns = [patterns]
    result["index_patterns"] = sorted(patterns)
    result["composed_of"] = list(result.get("composed_of") or [])
    template = result.get("template") or {}
    template = dict((k, v) for k, v in template.items() if v not in (None, {}))
    if "settings" in template:
        template["settings"] = normalize_settings(template["settings"])
        if not template["settings"]:
            del template["settings"]
    if "mappings" in template:
        template["mappings"] = _scalars_as_strings(template["mappings"])
    if template:
        result["template"] = template
    else:
        result.pop("template", None)
    for key in ("priority", "version", "_meta", "data_stream"):
        if result.get(key) is None:
            result.pop(key, None)
    if "priority" in result:
        result["priority"] = int(result["priority"])
    if "version" in result:
        result["version"] = int(result["version"])
    return result


def validate_params(module):
    """Check every option before any request and build the desired body."""
    params = module.params
    name = params["name"] or ""
    if not name or len(name) > 255 or not NAME_RE.match(name) or name[0] in "-_+" or name in (".", ".."):
        module.fail_json(
            msg="name %r is invalid: template names are lowercase, at most 255 characters, have no spaces or the characters "
            "\\ / * ? \" < > | , # :, and do not start with -, _ or +" % params["name"]
        )
    if params["state"] == "absent":
        return None
    patterns = params["index_patterns"]
    if not patterns:
        module.fail_json(msg="index_patterns must list at least one index pattern when state=present")
    for pattern in patterns:
        if not pattern or not INDEX_PATTERN_RE.match(pattern) or pattern[0] in "-_+":
            module.fail_json(
                msg="index_patterns entry %r is invalid: index patterns are lowercase, have no spaces, commas or the characters "
                "\\ / ? \" < > | #, and do not start with -, _ or +" % (pattern,)
            )
    if params["priority"] < 0:
        module.fail_json(msg="priority must be 0 or more, got %s" % params["priority"])
    if params["template_version"] is not None and params["template_version"] < 0:
        module.fail_json(msg="template_version must be 0 or more, got %s" % params["template_version"])
    mappings = params["mappings"]
    if mappings is None:
        mappings = log_document_mappings(params["fields_mapping"])
    elif "properties" in mappings and not isinstance(mappings["properties"], dict):
        module.fail_json(msg="mappings.properties must be a dict of field name to mapping")
    for key in params["composed_of"] or []:
        if not key or not NAME_RE.match(key):
            module.fail_json(msg="composed_of entry %r is not a valid component template name" % (key,))
    template = {"mappings": mappings}
    if params["settings"]:
        template["settings"] = params["settings"]
    if params["aliases"]:
        template["aliases"] = params["aliases"]
    body = {"index_patterns": list(patterns), "priority": params["priority"], "template": template}
    if params["composed_of"]:
        body["composed_of"] = list(params["composed_of"])
    if params["template_version"] is not None:
        body["version"] = params["template_version"]
    if params["meta"]:
        body["_meta"] = params["meta"]
    return body


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        index_patterns=dict(type="list", elements="str"),
        priority=dict(type="int", default=100),
        mappings=dict(type="dict"),
        fields_mapping=dict(type="str", default="flat_object", choices=["flat_object", "disabled"]),
        settings=dict(type="dict"),
        aliases=dict(type="dict"),
        composed_of=dict(type="list", elements="str"),
        template_version=dict(type="int"),
        meta=dict(type="dict"),
    )
    module, desired, client = document_module(argument_spec, validate_params)
    name = module.params["name"]
    document = JsonDocument(module, client, "_index_template/%s" % name, "index template %s" % name)

    def get_template():
        return document.get(lambda answer: next((entry.get("index_template") for entry in (answer or {}).get("index_templates") or []
                                                 if entry.get("name") == name), None))

    current = get_template()
    result = dict(changed=False, name=name)
    if module.params["state"] == "absent":
        document.exit_absent(current, normalize_template(current), result, "index_template")
    else:
        document.exit_present(current, desired, result, "index_template", normalize=normalize_template, read_back=get_template)


if __name__ == "__main__":
    main()
