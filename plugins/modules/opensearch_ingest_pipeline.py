#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_ingest_pipeline
version_added: 0.1.0
short_description: Manage an ingest pipeline in an Amazon OpenSearch Service domain
description:
  - Creates, updates or deletes the ingest pipeline C(_ingest/pipeline/<id>) on an OpenSearch Service domain
    endpoint (OpenSearch documentation, "Create or update pipeline",
    U(https://docs.opensearch.org/latest/ingest-pipelines/create-ingest/)).
  - Every request is signed with AWS Signature Version 4 (service C(es)) using botocore's signer and the
    credentials that the usual AWS options resolve to.
  - When O(processors) is not given, the pipeline is the logvault.aws event-id pipeline (O(id_fields)), one C(set)
    processor that sets the document's C(_id) from the account, the log group and the CloudWatch Logs event id, so
    that an event indexed twice (a retried Firehose or Lambda batch) overwrites itself instead of being duplicated
    (OpenSearch documentation, "Set processor", U(https://docs.opensearch.org/latest/ingest-pipelines/processors/set/);
    its C(value) supports template snippets such as C({{account_id}})).
  - The module compares the pipeline with what the domain returns and writes (PUT replaces the whole pipeline)
    only when they differ.
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description:
      - The pipeline id. Letters, digits, C(_), C(-) and C(.), at most 255 characters, not starting with C(_).
    type: str
    required: true
  state:
    description: Whether the pipeline should exist.
    type: str
    choices: [present, absent]
    default: present
  description:
    description: The pipeline's description.
    type: str
  processors:
    description:
      - The processors, in order, each a dict with one processor type as key (for example C(set)).
      - When not given, the event-id pipeline built from O(id_fields).
    type: list
    elements: dict
  id_fields:
    description:
      - The document fields whose values, joined with C(/), make the document C(_id) of the default event-id
        pipeline. Ignored when O(processors) is given.
    type: list
    elements: str
    default: [account_id, log_group, event_id]
  pipeline_version:
    description: The pipeline's C(version) number, for your own bookkeeping.
    type: int
notes:
  - Supports check mode and diff mode. In check mode the module only reads (GET) from the domain.
  - Writing a pipeline needs the C(cluster:admin/ingest/pipeline/put) permission (fine-grained access control); a
    403 from the security plugin fails with a message saying so.
  - "OpenSearch rejects a document whose C(_id) is longer than 512 bytes. With the default O(id_fields) the id is
    12 + 1 + the log group name + 1 + 56 bytes, so log group names up to 442 characters (CloudWatch Logs allows 512)
    fit."
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: The event-id pipeline (a retried event overwrites itself)
  logvault.aws.opensearch_ingest_pipeline:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: logvault-event-id

- name: Any other pipeline
  logvault.aws.opensearch_ingest_pipeline:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: add-environment
    description: Tags every document with its environment
    processors:
      - set:
          field: environment
          value: production

- name: Remove a pipeline
  logvault.aws.opensearch_ingest_pipeline:
    endpoint: search-logs-abc123.us-east-1.es.amazonaws.com
    name: add-environment
    state: absent
"""

RETURN = r"""
name:
  description: The pipeline id.
  returned: always
  type: str
  sample: logvault-event-id
pipeline:
  description:
    - The pipeline as the domain returns it; in check mode when it would change, the desired pipeline.
    - Empty when O(state=absent).
  returned: always
  type: dict
  sample:
    description: Document _id from account_id, log_group and event_id
    processors:
      - set:
          field: _id
          value: "{{account_id}}/{{log_group}}/{{event_id}}"
"""

import re

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import JsonDocument
from ansible_collections.logvault.aws.plugins.module_utils.opensearch_document import document_module

NAME_RE = re.compile(r"^[A-Za-z0-9.-][A-Za-z0-9_.-]{0,254}$")
FIELD_RE = re.compile(r"^[A-Za-z0-9@_][A-Za-z0-9@_.-]*$")


def event_id_pipeline(id_fields):
    """The default pipeline: the document _id from the given fields (mustache template snippets)."""
    template = "/".join("{{%s}}" % field for field in id_fields)
    return {
        "description": "Managed by logvault.aws - document _id from %s, so that a retried event overwrites itself" % ", ".join(id_fields),
        "processors": [{"set": {"field": "_id", "value": template}}],
    }


def validate_params(module):
    """Check every option before any request and build the desired body."""
    params = module.params
    name = params["name"] or ""
    if not NAME_RE.match(name) or name in (".", ".."):
        module.fail_json(msg="name %r is invalid: letters, digits, _, - and ., at most 255 characters, not starting with _" % params["name"])
    if params["state"] == "absent":
        return None
    if params["processors"] is None:
        fields = params["id_fields"]
        if not fields or any(not f or not FIELD_RE.match(f) for f in fields):
            module.fail_json(msg="id_fields must list one or more field names (letters, digits, @, _, - and .), got %r" % (fields,))
        body = event_id_pipeline(fields)
    else:
        if not params["processors"]:
            module.fail_json(msg="processors must list at least one processor")
        for position, processor in enumerate(params["processors"]):
            if len(processor) != 1 or not isinstance(list(processor.values())[0], dict):
                module.fail_json(msg="processors[%d] must be a dict with exactly one processor type as key and its "
                                 "configuration (a dict) as value, got %r" % (position, processor))
        body = {"processors": params["processors"]}
    if params["description"] is not None:
        body["description"] = params["description"]
    if params["pipeline_version"] is not None:
        if params["pipeline_version"] < 0:
            module.fail_json(msg="pipeline_version must be 0 or more, got %s" % params["pipeline_version"])
        body["version"] = params["pipeline_version"]
    return body


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        name=dict(type="str", required=True),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        description=dict(type="str"),
        processors=dict(type="list", elements="dict"),
        id_fields=dict(type="list", elements="str", default=["account_id", "log_group", "event_id"]),
        pipeline_version=dict(type="int"),
    )
    module, desired, client = document_module(argument_spec, validate_params)
    name = module.params["name"]
    document = JsonDocument(module, client, "_ingest/pipeline/%s" % name, "ingest pipeline %s" % name)

    def get_pipeline():
        return document.get(lambda answer: (answer or {}).get(name))

    current = get_pipeline()
    result = dict(changed=False, name=name)
    if module.params["state"] == "absent":
        document.exit_absent(current, current, result, "pipeline")
    else:
        document.exit_present(current, desired, result, "pipeline", read_back=get_pipeline)


if __name__ == "__main__":
    main()
