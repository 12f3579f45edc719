# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's search streams deliver to an OpenSearch stand-in when one is configured
(LOGVAULT_AWS_OPENSEARCH_URL): one SigV4-signed _bulk into IndexName plus the rotation suffix,
authorised by the test double's role mappings like Firehose's role on a real domain."""

from __future__ import absolute_import, division, print_function

import datetime
import importlib.util
import json
import os
import types

from local_aws.services import firehose

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", os.path.join(ROOT, "tests", "opensearch_stub", "server.py"))
_STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(_STUB)
FIREHOSE_ROLE = "arn:aws:iam::123456789012:role/lv-search-firehose"


def test_index_rotation_suffixes():
    when = datetime.datetime(2026, 12, 3, 17, 5, tzinfo=datetime.timezone.utc)
    assert firehose.opensearch_index_name({"IndexName": "logs"}, when) == "logs-2026-12-03"
    assert firehose.opensearch_index_name({"IndexName": "logs", "IndexRotationPeriod": "OneHour"}, when) == "logs-2026-12-03-17"
    assert firehose.opensearch_index_name({"IndexName": "logs", "IndexRotationPeriod": "OneMonth"}, when) == "logs-2026-12"
    assert firehose.opensearch_index_name({"IndexName": "logs", "IndexRotationPeriod": "NoRotation"}, when) == "logs"


def test_search_stream_bulk_is_authorised_by_the_writer_mapping(monkeypatch):
    stub = _STUB.start({"testing": "testing", "firehose": "firehose"}, role_arns={"firehose": FIREHOSE_ROLE})
    try:
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_URL", stub.endpoint)
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_CA", stub.ca_path)
        monkeypatch.setenv("LOGVAULT_AWS_OPENSEARCH_CREDENTIAL", "firehose:firehose")
        stream = types.SimpleNamespace(delivery_stream_name="lv-search",
                                       delivery_stream_arn="arn:aws:firehose:us-east-1:123456789012:deliverystream/lv-search")
        records = [(json.dumps({"message": "m%d" % n, "account_id": "111111111111"}).encode() + b"\n", 0) for n in range(3)]
        firehose._bulk_to_opensearch(stream, {"IndexName": "logs", "IndexRotationPeriod": "OneDay"}, records)
        assert stub.documents() == []  # Firehose's role is mapped to no role yet: 403 per item
        stub.security_roles["writer"] = {"cluster_permissions": ["cluster_composite_ops"], "index_permissions": [
            {"index_patterns": ["logs-*"], "allowed_actions": ["create_index", "manage", "crud"], "dls": ""}]}
        stub.role_mappings["writer"] = {"backend_roles": [FIREHOSE_ROLE], "users": [], "and_backend_roles": [], "hosts": []}
        firehose._bulk_to_opensearch(stream, {"IndexName": "logs", "IndexRotationPeriod": "OneDay"}, records)
        docs = stub.documents("logs-*")
        assert len(docs) == 3 and docs[0][0] == firehose.opensearch_index_name({"IndexName": "logs"}, datetime.datetime.now(datetime.timezone.utc))
    finally:
        stub.stop()
