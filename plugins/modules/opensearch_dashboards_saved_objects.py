#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: opensearch_dashboards_saved_objects
version_added: 0.1.0
short_description: Import OpenSearch Dashboards saved objects into an Amazon OpenSearch Service domain, idempotently
description:
  - Keeps a set of OpenSearch Dashboards saved objects (index patterns, saved searches, visualizations,
    dashboards) in line with the ones given, through the Dashboards Saved Objects APIs that an OpenSearch
    Service domain serves under C(/_dashboards).
  - Reads the objects with C(POST <base_path>/api/saved_objects/_bulk_get), compares each object's C(attributes)
    and C(references) with the wanted ones, and imports only the objects that are missing or differ, with
    C(POST <base_path>/api/saved_objects/_import) (C(multipart/form-data), one C(file) part of NDJSON).
    C(overwrite=true) is sent only when an object that already exists has changed.
  - Attributes that hold JSON text (C(visState), C(panelsJSON), C(kibanaSavedObjectMeta.searchSourceJSON),
    C(optionsJSON), C(uiStateJSON), C(fields)...) are compared by meaning, so Dashboards re-serialising them
    does not report a change. Fields the server adds (C(updated_at), C(version), C(migrationVersion),
    C(namespaces)) are ignored. References are compared as a set.
  - Every POST carries the C(osd-xsrf) header that OpenSearch Dashboards requires on POST, PUT and DELETE.
  - Every request is signed with AWS Signature Version 4 (service C(es)), like the other OpenSearch modules of
    this collection. The signing principal must be allowed by the domain access policy and, with fine-grained
    access control, mapped to an OpenSearch role that may write the Dashboards index of its tenant.
  - Neither amazon.aws nor community.aws manage OpenSearch Dashboards objects; this module exists for that.
  - Objects are never deleted. An object removed from O(objects) stays in Dashboards.
author:
  - logvault.aws maintainers (@logvault)
options:
  objects:
    description:
      - The saved objects, each a dict with C(type), C(id), C(attributes) (with a C(title)) and optional
        C(references) (a list of C(name), C(type), C(id)), as the Dashboards export writes them.
      - Exactly one of O(objects) and O(content) is required.
    type: list
    elements: dict
  content:
    description:
      - The saved objects as NDJSON text (one object per line), for example a Dashboards export file read with
        C(ansible.builtin.file) or rendered with C(ansible.builtin.template). An export-details line
        (C(exportedCount)...) and blank lines are skipped.
    type: str
  base_path:
    description:
      - The path under which the domain serves OpenSearch Dashboards. OpenSearch Service serves it under
        V(/_dashboards).
    type: str
    default: /_dashboards
  tenant:
    description:
      - With multi-tenancy, the tenant to import into, sent as the C(securitytenant) header
        (V(global) or V(__user__) or a custom tenant name). Not sent when unset, which selects the
        signing user's default tenant.
    type: str
notes:
  - Check mode makes no write call (C(_bulk_get) is a read sent as a POST) and predicts RV(ignore:changed)
    exactly. With C(--diff) the module returns, for every object that would be imported, its stored and its
    wanted form.
  - The Dashboards import runs the saved-object migrations of the Dashboards version. Give objects in the
    form a Dashboards export of that version writes (index pattern ids in C(references), not in
    C(searchSourceJSON)), or every run reports a change.
seealso:
  - name: OpenSearch Dashboards Saved Objects APIs
    description: C(_bulk_get), C(_find), C(_export), C(_import) and the C(osd-xsrf) header; the C(/_dashboards) base path of managed services.
    link: https://docs.opensearch.org/latest/dashboards/management/saved-objects-api/
  - name: Set advanced settings with the Amazon OpenSearch Service Dashboards API
    description: SigV4-signed calls to C(/_dashboards/api/...) of an OpenSearch Service domain with C(osd-xsrf).
    link: https://aws.amazon.com/blogs/big-data/set-advanced-settings-with-the-amazon-opensearch-service-dashboards-api/
extends_documentation_fragment:
  - logvault.aws.opensearch
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Import the logvault.aws dashboards (rendered for the index prefix)
  logvault.aws.opensearch_dashboards_saved_objects:
    endpoint: search-logvault-abc123.us-east-1.es.amazonaws.com
    content: "{{ lookup('ansible.builtin.template', 'dashboards/logvault.ndjson.j2') }}"

- name: Keep one index pattern
  logvault.aws.opensearch_dashboards_saved_objects:
    endpoint: "{{ opensearch_endpoint }}"
    objects:
      - type: index-pattern
        id: logvault-logs
        attributes:
          title: logs-*
          timeFieldName: "@timestamp"
"""

RETURN = r"""
imported:
  description: The objects imported (or, in check mode, that would be), as C(type) and C(id).
  returned: always
  type: list
  elements: dict
  sample: [{"type": "search", "id": "logvault-errors-by-account"}]
unchanged:
  description: The objects already stored as wanted.
  returned: always
  type: list
  elements: dict
  sample: [{"type": "index-pattern", "id": "logvault-logs"}]
overwrite:
  description: Whether the import was (or would be) sent with C(overwrite=true), that is whether a stored object changed.
  returned: always
  type: bool
  sample: false
"""

import json
import uuid

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchError
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import fail_opensearch
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_argument_spec
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_client
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import validated_connection_params

XSRF = {"osd-xsrf": "true"}
REFERENCE_KEYS = ("name", "type", "id")


def parse_ndjson(text):
    """Saved objects of an NDJSON text; raises ValueError naming the line."""
    objects = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except ValueError as e:
            raise ValueError("content line %d is not JSON: %s" % (number, to_native(e)))
        if isinstance(item, dict) and "exportedCount" in item and "type" not in item:
            continue  # the export-details line a Dashboards export ends with
        objects.append(item)
    return objects


def object_problem(index, item):
    """Why objects[index] is refused, or None."""
    where = "objects[%d]" % index
    if not isinstance(item, dict):
        return "%s must be a dict with type, id and attributes" % where
    for key in ("type", "id"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            return "%s.%s must be a non-empty string" % (where, key)
    attributes = item.get("attributes")
    if not isinstance(attributes, dict) or not isinstance(attributes.get("title"), str) or not attributes["title"]:
        return "%s (%s/%s) must have attributes with a non-empty title" % (where, item["type"], item["id"])
    references = item.get("references", [])
    if not isinstance(references, list):
        return "%s.references must be a list" % where
    for number, ref in enumerate(references):
        if not isinstance(ref, dict) or any(not isinstance(ref.get(k), str) or not ref[k] for k in REFERENCE_KEYS):
            return "%s.references[%d] must have non-empty name, type and id" % (where, number)
    return None


def _canonical(value):
    """Attributes compared by meaning: JSON text decoded, dicts sorted by key."""
    if isinstance(value, dict):
        return dict((k, _canonical(v)) for k, v in value.items())
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, str) and value[:1] in ("{", "["):
        try:
            return _canonical(json.loads(value))
        except ValueError:
            return value
    return value


def normalize(item):
    """The part of a saved object that the module manages, comparable with ==."""
    references = sorted((dict((k, r.get(k)) for k in REFERENCE_KEYS) for r in item.get("references") or []),
                        key=lambda r: (r["name"], r["type"], r["id"]))
    return {"type": item["type"], "id": item["id"], "attributes": _canonical(item.get("attributes") or {}), "references": references}


def wire_form(item):
    """What is sent in the NDJSON file: type, id, attributes and references only."""
    return {"type": item["type"], "id": item["id"], "attributes": item["attributes"], "references": item.get("references") or []}


def multipart(objects):
    """(content type, body) of a multipart/form-data request with one NDJSON ``file`` part."""
    boundary = "logvault-%s" % uuid.uuid4().hex
    ndjson = "".join(json.dumps(wire_form(o), sort_keys=True, separators=(",", ":")) + "\n" for o in objects)
    body = (
        "--%s\r\n"
        'Content-Disposition: form-data; name="file"; filename="logvault.ndjson"\r\n'
        "Content-Type: application/ndjson\r\n\r\n%s\r\n--%s--\r\n" % (boundary, ndjson, boundary)
    ).encode("utf-8")
    return "multipart/form-data; boundary=%s" % boundary, body


def main():
    argument_spec = opensearch_argument_spec()
    argument_spec.update(
        objects=dict(type="list", elements="dict"),
        content=dict(type="str"),
        base_path=dict(type="str", default="/_dashboards"),
        tenant=dict(type="str"),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec, supports_check_mode=True,
        mutually_exclusive=[("objects", "content")], required_one_of=[("objects", "content")],
    )
    params = module.params
    if params["content"] is not None:
        try:
            wanted = parse_ndjson(params["content"])
        except ValueError as e:
            module.fail_json(msg=to_native(e), parameter="content")
        source = "content"
    else:
        wanted = params["objects"]
        source = "objects"
    if not wanted:
        module.fail_json(msg="%s holds no saved object" % source, parameter=source)
    seen = set()
    for index, item in enumerate(wanted):
        problem = object_problem(index, item)
        if problem:
            module.fail_json(msg="%s: %s" % (source, problem), parameter=source)
        key = (item["type"], item["id"])
        if key in seen:
            module.fail_json(msg="%s: objects[%d] repeats %s/%s" % (source, index, key[0], key[1]), parameter=source)
        seen.add(key)
    base_path = (params["base_path"] or "").strip("/")
    if not base_path or any(c in base_path for c in "?#"):
        module.fail_json(msg="base_path must be a path such as /_dashboards, got %r" % params["base_path"], parameter="base_path")
    if params["tenant"] is not None and not params["tenant"].strip():
        module.fail_json(msg="tenant must be a tenant name (global, __user__ or a custom tenant), got an empty string",
                         parameter="tenant")
    headers = dict(XSRF)
    if params["tenant"]:
        headers["securitytenant"] = params["tenant"]
    api = base_path + "/api/saved_objects/"

    base_url, region = validated_connection_params(module)
    client = opensearch_client(module, base_url, region)
    try:
        dummy, answer = client.request("POST", api + "_bulk_get", body=[{"type": o["type"], "id": o["id"]} for o in wanted],
                                       headers=headers)
    except OpenSearchError as e:
        fail_opensearch(module, e, "Failed to read the saved objects")
    stored = (answer or {}).get("saved_objects") or []
    if len(stored) != len(wanted):
        module.fail_json(msg="_bulk_get answered %d objects for %d asked" % (len(stored), len(wanted)))

    to_import, unchanged, before, after, overwrite = [], [], [], [], False
    for item, current in zip(wanted, stored):
        missing = "error" in current
        if missing and (current["error"] or {}).get("statusCode") != 404:
            module.fail_json(msg="Failed to read saved object %s/%s: %s" % (item["type"], item["id"], current["error"]))
        desired = normalize(item)
        if not missing and normalize(current) == desired:
            unchanged.append({"type": item["type"], "id": item["id"]})
            continue
        to_import.append(item)
        overwrite = overwrite or not missing
        before.append({} if missing else normalize(current))
        after.append(desired)

    result = dict(changed=bool(to_import), imported=[{"type": o["type"], "id": o["id"]} for o in to_import],
                  unchanged=unchanged, overwrite=overwrite)
    if to_import and not module.check_mode:
        content_type, body = multipart(to_import)
        try:
            dummy, raw = client.send("POST", api + "_import", body, query={"overwrite": "true"} if overwrite else None,
                                     headers=headers, content_type=content_type)
            answer = json.loads(to_native(raw or b"{}", errors="surrogate_or_strict"))
        except OpenSearchError as e:
            fail_opensearch(module, e, "Failed to import the saved objects")
        except ValueError:
            module.fail_json(msg="_import returned a body that is not JSON: %r" % (raw[:200],))
        if not answer.get("success") or answer.get("successCount") != len(to_import):
            module.fail_json(msg="The Dashboards import refused some objects: %s" % json.dumps(answer.get("errors") or answer),
                             errors=answer.get("errors") or [], **result)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
