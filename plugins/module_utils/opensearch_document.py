# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One JSON document at one path of the OpenSearch REST API, managed the same way by
opensearch_ingest_pipeline (``_ingest/pipeline/<name>``), opensearch_index_template
(``_index_template/<name>``) and opensearch_index_policy (``_plugins/_ism/policies/<id>``):
read it (404 = absent), compare it with the desired document in a comparable form, and in
check mode stop there; otherwise PUT it (or DELETE it) and read it back; the diff shows the
comparable forms."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule

from ansible_collections.logvault.aws.plugins.module_utils.opensearch import OpenSearchError
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import fail_opensearch
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import opensearch_client
from ansible_collections.logvault.aws.plugins.module_utils.opensearch import validated_connection_params


def document_module(argument_spec, validate, **module_kwargs):
    """The module (check mode supported), the desired document from ``validate(module)`` (called
    before any request) and the signed client of the domain."""
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, **module_kwargs)
    desired = validate(module)
    base_url, region = validated_connection_params(module)
    return module, desired, opensearch_client(module, base_url, region)


class JsonDocument:
    """The document at ``path``; ``what`` names it in error messages ("ingest pipeline x")."""

    def __init__(self, module, client, path, what):
        self.module = module
        self.client = client
        self.path = path
        self.what = what

    def get(self, extract=None):
        """The document (``extract(answer)`` when given), None when the path answers 404."""
        try:
            dummy, answer = self.client.request("GET", self.path)
        except OpenSearchError as e:
            if e.status == 404:
                return None
            fail_opensearch(self.module, e, "Failed to get %s" % self.what)
        return extract(answer) if extract else answer

    def put(self, body, exists, query=None):
        """PUT ``body``; the answer. ``exists`` says whether this creates or updates (for the error)."""
        try:
            dummy, answer = self.client.request("PUT", self.path, body=body, query=query)
        except OpenSearchError as e:
            fail_opensearch(self.module, e, "Failed to %s %s" % ("update" if exists else "create", self.what))
        return answer

    def exit_absent(self, current, before, result, result_key):
        """state=absent: delete the document when it exists (not in check mode) and exit."""
        result[result_key] = {}
        if current is not None:
            result["changed"] = True
            if not self.module.check_mode:
                try:
                    self.client.request("DELETE", self.path)
                except OpenSearchError as e:
                    if e.status != 404:
                        fail_opensearch(self.module, e, "Failed to delete %s" % self.what)
        self.exit_with_diff(result, before, {})

    def exit_present(self, current, desired, result, result_key, normalize=None, read_back=None):
        """state=present: PUT ``desired`` unless ``current`` already equals it in the comparable
        form ``normalize`` gives (identity by default), then exit. ``result[result_key]`` is the
        current document, the desired one in check mode, else what ``read_back()`` returns."""
        normalize = normalize or (lambda document: document)
        before = normalize(current) if current is not None else None
        after = normalize(desired)
        if current is not None and before == after:
            result[result_key] = current
        else:
            result["changed"] = True
            result[result_key] = desired
            if not self.module.check_mode:
                self.put(desired, bool(current))
                result[result_key] = (read_back() if read_back else None) or desired
        self.exit_with_diff(result, before, after)

    def exit_with_diff(self, result, before, after):
        if self.module._diff:  # pylint: disable=protected-access
            result["diff"] = dict(before=before or {}, after=after)
        self.module.exit_json(**result)
