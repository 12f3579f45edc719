# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST DOUBLE: a local HTTPS server that stands in for an Amazon OpenSearch Service
domain endpoint, for tests only. It is never shipped in the collection.

What it does, and why it can be trusted as a test oracle:

* **Every request must carry a valid SigV4 signature for service ``es``.** The server
  rebuilds the canonical request from what it received (method, path, query, the
  headers named in SignedHeaders, the body's SHA-256) and recomputes the signature with
  botocore's ``SigV4Auth`` and the secret key it knows for the access key id. A wrong
  signature, an unknown key, a wrong service/region scope, a missing X-Amz-Date or a
  clock skew over 5 minutes is answered like the AWS front end answers it (403 with a
  JSON ``message``). A tampered body changes the payload hash and fails too.
* **ISM policies** (``/_plugins/_ism/policies/<id>``) follow the documented API shapes:
  PUT creates (201) and refuses to overwrite an existing policy unless ``if_seq_no`` and
  ``if_primary_term`` are given (409 ``version_conflict_engine_exception``), a stale
  pair is also 409; GET returns ``_id``, ``_version``, ``_seq_no``, ``_primary_term`` and
  the policy with the fields the server adds (``policy_id``, ``last_updated_time``,
  ``schema_version``, ``error_notification``, a default ``retry`` on every action,
  ``last_updated_time`` on each ``ism_template``); a missing policy is a 404
  ``status_exception`` "Policy not found".
* **Composable index templates** (``/_index_template/<name>``): PUT answers
  ``{"acknowledged": true}``; GET returns ``{"index_templates": [{"name", "index_template"}]}``
  with settings normalised the way OpenSearch returns them (nested under ``index``,
  values as strings); a missing template is a 404 ``resource_not_found_exception``.
* **Security plugin roles and role mappings** (``/_plugins/_security/api/roles/<name>`` and
  ``/_plugins/_security/api/rolesmapping/<name>``) follow the security plugin's REST API: GET
  returns ``{name: {...}}`` with the read-only ``reserved``/``hidden``/``static`` flags and the
  defaults the plugin adds (a role's index permissions get ``dls``, ``fls``, ``masked_fields``);
  a missing one is a 404 ``{"status": "NOT_FOUND", "message": "role 'x' not found."}`` (or
  ``rolesmapping 'x' not found.``); PUT answers 201 ``{"status": "CREATED", "message": "'x'
  created."}`` or 200 ``{"status": "OK", "message": "'x' updated."}``; DELETE 200 ``{"status":
  "OK", "message": "'x' deleted."}``. Like the plugin it refuses (403 ``FORBIDDEN`` "Resource 'x'
  is reserved." / "is static.") to change or delete a reserved or static entry, refuses a
  mapping of a role that does not exist (404), unknown body keys and a mapping body without any
  of ``backend_roles``/``and_backend_roles``/``hosts``/``users`` (400 ``Invalid configuration``),
  and wrong data types (400 ``Wrong datatype``). It starts with the predefined roles
  ``all_access`` and ``readall`` (static, reserved), ``security_manager`` (reserved) and
  ``kibana_server`` (static, reserved), and the mappings ``all_access`` (not reserved, the master
  role of ``master_arn`` when given) and ``kibana_server`` (reserved).
* **OpenSearch Dashboards saved objects** (``/_dashboards/api/saved_objects/...``, the base path
  OpenSearch Service serves Dashboards under) follow the Saved Objects APIs
  (https://docs.opensearch.org/latest/dashboards/management/saved-objects-api/): every POST, PUT
  or DELETE without an ``osd-xsrf`` header is a 400 "Request must contain a osd-xsrf header.";
  ``_bulk_get`` answers ``{"saved_objects": [...]}`` in request order with a 404 ``error`` entry
  for a missing object; ``_find`` pages with ``page``/``per_page``/``total``; ``_export`` answers
  NDJSON ending in the export-details line; ``_import`` takes ``multipart/form-data`` with a
  ``file`` part (else 415), refuses an existing object without ``overwrite=true`` (``conflict``
  error, ``success: false``), refuses references to objects that are neither stored nor in the
  file (``missing_references``), and stores objects with the fields the server adds
  (``updated_at``, ``version``, ``migrationVersion``). Access keys in ``fgac_denied`` get a 403.
* **Audit logging configuration** (``GET /_plugins/_security/api/audit``, ``PUT
  /_plugins/_security/api/audit/config``), as the security plugin's audit API documents
  (https://docs.opensearch.org/latest/security/access-control/api/#audit-logs and the Update Audit
  Configuration API page): GET answers ``{"_readonly": [...], "config": {"enabled", "audit",
  "compliance"}}``, starting from the documented defaults with ``enabled: false`` (audit logging is
  off until turned on, as on a new domain) and the ``_readonly`` paths of the documented example
  (``/audit/exclude_sensitive_headers``, ``/compliance/internal_config``,
  ``/compliance/external_config``); PUT replaces the configuration (omitted fields take the
  defaults) and answers 200 ``{"status": "OK", "message": "'config' updated."}``, refuses unknown
  keys and wrong types (400) and a change of a read-only path (409 ``Invalid configuration``,
  ``invalid_keys`` ``_readonly,config``). Admin only, like the other security APIs.
* **Fine-grained access control**: access key ids listed in ``fgac_denied`` may read but get the
  security plugin's 403 ``security_exception`` for ISM and template writes (a read-only role), and
  the REST API's 403 "No permission to access REST API" for every security API call.
  Access key ids named in ``role_arns`` (TEST DOUBLE: key -> the IAM role ARN of its assumed-role
  session, which AWS derives from the credentials) are authorised as the security plugin does for
  IAM principals: the role ARN is the user name and the backend role, matched against the role
  mappings (``users``, ``backend_roles``, ``and_backend_roles``). Mapped to ``all_access`` they may do
  everything; otherwise every admin API (security, ISM, templates, ingest) is refused and
  ``_search``/``_count``/``_bulk`` need a role whose ``index_permissions`` give a read (``read``,
  ``search``, ``crud``, ``indices_all``, ``*``) or write action on each concrete index. A principal
  mapped to no role gets 403 ``security_exception``. Other keys keep full access (the master user).
* **Document-level security**: the ``dls`` query (a JSON string) of every role that grants the read
  is applied as a filter; the queries of several roles are OR-ed and a role without ``dls`` does not
  lift another's restriction (the plugin's default, ``plugins.security.dfm_empty_overrides_all: false``,
  declared in opensearch-project/security ``DlsFlsProcessedConfig``; DLS itself:
  https://docs.opensearch.org/latest/security/access-control/document-level-security/).
* **Data plane** (a subset, for tests): ``PUT/GET/DELETE _ingest/pipeline/<id>`` (only the ``set``
  processor is run: ``field``, ``value``, ``override``, ``ignore_empty_value``, ``ignore_failure``;
  mustache ``{{field}}`` JSON-escaped and ``{{{field}}}`` raw; ``_id``/``_index`` metadata may be
  set); ``_bulk`` (``index``, ``create``, ``delete``) creating indices from the highest-priority
  matching template and running the request's ``pipeline`` or the index's ``index.default_pipeline``;
  ``_search`` and ``_count`` on names, wildcards and ``_all`` with ``q=`` or a body query of
  ``match_all``, ``bool`` (must/filter/should/must_not, minimum_should_match), ``term(s)``, ``ids``,
  ``exists``, ``wildcard``, ``prefix``, ``match``, ``match_phrase``, ``range`` (dates with ``now-1h``
  math) and a basic ``query_string``; ``size``, ``from`` and ``sort``. Text fields use a lowercase
  word-token analyzer; keyword and ``flat_object`` fields match exactly; unmapped fields of an index
  with mappings match nothing. No aggregations, scoring or highlighting.

Usage in Python::

    with start(credentials={"testing": "testing"}) as stub:
        stub.endpoint   # https://127.0.0.1:PORT
        stub.ca_path    # PEM of its self-signed certificate (verify TLS with it)
        stub.requests   # [(method, path, query, access_key_id)] of every verified request

From a shell (integration targets)::

    python tests/opensearch_stub/server.py --state-dir DIR [--lifetime 900]

writes DIR/port, DIR/ca.pem and DIR/pid once it is serving.
"""

from __future__ import absolute_import, division, print_function

import argparse
import base64
import copy
import datetime
import fnmatch
import functools
import email.parser
import email.policy
import hmac
import json
import os
import re
import ssl
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlsplit

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

SERVICE = "es"
MAX_SKEW = datetime.timedelta(minutes=5)
ISM_SCHEMA_VERSION = 21
DEFAULT_RETRY = {"count": 3, "backoff": "exponential", "delay": "1m"}
ROLE_KEYS = {"cluster_permissions": list, "index_permissions": list, "tenant_permissions": list, "description": str}
INDEX_PERMISSION_KEYS = ("index_patterns", "allowed_actions", "dls", "fls", "masked_fields")
# The audit configuration API (see the module docstring): defaults of the Update Audit Configuration
# API's field table, audit logging off as on a new domain, and the documented read-only paths.
AUDIT_DEFAULTS = {
    "enabled": False,
    "audit": {"enable_rest": True, "enable_transport": True, "disabled_rest_categories": ["AUTHENTICATED", "GRANTED_PRIVILEGES"],
              "disabled_transport_categories": ["AUTHENTICATED", "GRANTED_PRIVILEGES"], "ignore_users": [], "ignore_requests": [],
              "log_request_body": True, "resolve_indices": True, "resolve_bulk_requests": False, "exclude_sensitive_headers": True},
    "compliance": {"enabled": True, "write_log_diffs": False, "read_watched_fields": {}, "read_ignore_users": [], "write_watched_indices": [],
                   "write_ignore_users": [], "read_metadata_only": True, "write_metadata_only": True, "external_config": False,
                   "internal_config": True},
}
AUDIT_READONLY = ["/audit/exclude_sensitive_headers", "/compliance/internal_config", "/compliance/external_config"]
MAPPING_KEYS = {"backend_roles": list, "and_backend_roles": list, "hosts": list, "users": list, "description": str}


def _predefined_role(description, cluster, index_actions, static):
    return {"reserved": True, "hidden": False, "description": description, "cluster_permissions": cluster,
            "index_permissions": [{"index_patterns": ["*"], "dls": "", "fls": [], "masked_fields": [], "allowed_actions": index_actions}]
            if index_actions else [], "tenant_permissions": [], "static": static}


# What a new domain's security index holds (a subset of the plugin's static and reserved roles).
PREDEFINED_ROLES = {
    "all_access": _predefined_role("Allow full access to all indices and all cluster APIs", ["*"], ["*"], True),
    "readall": _predefined_role("Provide the minimum permissions for to readall indices", ["cluster_composite_ops_ro"], ["read"], True),
    "security_manager": _predefined_role("Provide the minimum permissions for managing the security plugin",
                                         ["cluster_monitor", "restapi:admin/rolesmapping"], [], False),
    "kibana_server": _predefined_role("Provide the minimum permissions for the Kibana server",
                                      ["cluster_monitor", "cluster_composite_ops"], ["indices_all"], True),
}
PREDEFINED_MAPPINGS = {
    "all_access": {"hosts": [], "users": [], "reserved": False, "hidden": False, "backend_roles": [], "and_backend_roles": []},
    "kibana_server": {"hosts": [], "users": ["kibanaserver"], "reserved": True, "hidden": False, "backend_roles": [], "and_backend_roles": []},
}
_AUTH_RE = re.compile(
    r"^AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[^/]+)/(?P<service>[^/]+)/aws4_request, "
    r"SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=(?P<sig>[0-9a-f]{64})$"
)


def _iso_now():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _now_ms():
    return int(time.time() * 1000)


def make_certificate(directory):
    """A self-signed certificate for 127.0.0.1/localhost; returns (cert_path, key_path)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, u"localhost")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName(u"localhost"), x509.IPAddress(ipaddress.ip_address(u"127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path = os.path.join(directory, "ca.pem")
    key_path = os.path.join(directory, "key.pem")
    with open(cert_path, "wb") as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    os.chmod(key_path, 0o600)
    return cert_path, key_path


class SignatureError(Exception):
    pass


def verify_sigv4(method, raw_path, headers, body, credentials, region, now=None):
    """Verify a SigV4 (service es) request; return the access key id or raise SignatureError."""
    headers = dict((name.lower(), value) for name, value in headers.items())  # header names are case-insensitive
    auth = headers.get("authorization")
    if not auth:
        raise SignatureError("Missing Authentication Token")
    match = _AUTH_RE.match(auth)
    if not match:
        raise SignatureError("Authorization header is not a valid AWS4-HMAC-SHA256 header")
    access_key = match.group("key")
    if access_key not in credentials:
        raise SignatureError("The security token included in the request is invalid.")
    if match.group("service") != SERVICE:
        raise SignatureError("Credential should be scoped to correct service: '%s'." % SERVICE)
    if match.group("region") != region:
        raise SignatureError("Credential should be scoped to a valid region, not '%s'." % match.group("region"))
    amz_date = headers.get("x-amz-date")
    if not amz_date:
        raise SignatureError("X-Amz-Date header is missing")
    try:
        stamp = datetime.datetime.strptime(amz_date, "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    except ValueError:
        raise SignatureError("X-Amz-Date %r is not in the ISO8601 basic format" % amz_date)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    if abs(now - stamp) > MAX_SKEW:
        raise SignatureError("Signature expired: %s is more than 5 minutes away from now" % amz_date)
    if match.group("date") != amz_date[:8]:
        raise SignatureError("Credential date does not match X-Amz-Date")
    signed = match.group("signed").split(";")
    if "host" not in signed or "x-amz-date" not in signed:
        raise SignatureError("SignedHeaders must include host and x-amz-date")
    signed_headers = {}
    for name in signed:
        value = headers.get(name)
        if value is None:
            raise SignatureError("Signed header %s is missing from the request" % name)
        signed_headers[name] = value
    token = headers.get("x-amz-security-token")
    request = AWSRequest(method=method, url="https://%s%s" % (headers.get("host"), raw_path), data=body, headers=signed_headers)
    request.context["timestamp"] = amz_date
    signer = SigV4Auth(Credentials(access_key, credentials[access_key], token), SERVICE, region)
    canonical = signer.canonical_request(request)
    expected = signer.signature(signer.string_to_sign(request, canonical), request)
    if not hmac.compare_digest(expected, match.group("sig")):
        raise SignatureError(
            "The request signature we calculated does not match the signature you provided. "
            "Check your AWS Secret Access Key and signing method."
        )
    return access_key


def _normalise_settings(settings):
    """OpenSearch returns template settings nested under ``index`` with string values."""
    flat = {}

    def walk(prefix, value):
        if isinstance(value, dict):
            for key, sub in value.items():
                walk("%s.%s" % (prefix, key) if prefix else key, sub)
        else:
            flat[prefix] = value

    walk("", settings or {})
    nested = {}
    for key, value in flat.items():
        if not key.startswith("index."):
            key = "index." + key
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, list):
            value = [str(v) for v in value]
        else:
            value = str(value)
        cursor = nested
        parts = key.split(".")
        for part in parts[:-1]:
            cursor = cursor.setdefault(part, {})
        cursor[parts[-1]] = value
    return nested


# ---------------------------------------------------------------------------------------------
# TEST DOUBLE data plane: documents, _bulk, _search/_count, ingest pipelines, FGAC and DLS.
# ---------------------------------------------------------------------------------------------
# Action groups of the security plugin (docs.opensearch.org, "Default action groups") reduced to
# what the data plane checks: reading documents, writing them, creating an index.
READ_ACTIONS = {"*", "indices_all", "read", "search", "crud", "indices:data/read/*", "indices:data/read/search", "indices:*"}
WRITE_ACTIONS = {"*", "indices_all", "write", "index", "crud", "indices:data/write/*", "indices:data/write/index",
                 "indices:data/write/bulk*", "indices:*"}
CREATE_INDEX_ACTIONS = {"*", "indices_all", "create_index", "manage", "indices:admin/create", "indices:*"}
# The processors the stub runs; real OpenSearch has many more (a PUT naming another one is refused here).
SUPPORTED_PROCESSORS = ("set",)
_MUSTACHE_RE = re.compile(r"\{\{\{\s*([^{}\s]+)\s*\}\}\}|\{\{\s*([^{}#/^!&\s]+)\s*\}\}")
_DATE_MATH_RE = re.compile(r"^now(?:([+-])(\d+)([smhdw]))?(?:/[smhdw])?$")
_DATE_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_TOKEN_RE = re.compile(r"\w+", re.UNICODE)


def _lookup(document, path):
    """A dotted field of a document (``a.b`` is ``{"a": {"b": ..}}`` or the literal key ``a.b``)."""
    if path in document:
        return document[path]
    cursor = document
    for part in path.split("."):
        if not isinstance(cursor, dict) or part not in cursor:
            return None
        cursor = cursor[part]
    return cursor


def render_mustache(template, document, metadata):
    """Mustache as ingest processors use it: ``{{field}}`` is the field's value JSON-string-escaped
    (OpenSearch compiles ingest templates for application/json), ``{{{field}}}`` the raw value,
    a missing field renders empty. Sections and partials are not supported by this test double."""
    if not isinstance(template, str):
        return template

    def value(match):
        raw, escaped = match.group(1), match.group(2)
        name = raw or escaped
        found = metadata.get(name) if name in metadata else _lookup(document, name)
        if found is None:
            return ""
        text = found if isinstance(found, str) else json.dumps(found)
        return text if raw else json.dumps(text)[1:-1]

    return _MUSTACHE_RE.sub(value, template)


def _analyze(text):
    """The standard analyzer, approximately: lowercase word tokens."""
    return [t.lower() for t in _TOKEN_RE.findall(str(text))]


def _parse_date(value, now=None):
    if isinstance(value, (int, float)):
        return datetime.datetime.fromtimestamp(value / 1000.0, datetime.timezone.utc)
    text = str(value)
    match = _DATE_MATH_RE.match(text)
    if match:
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        if match.group(1):
            delta = datetime.timedelta(seconds=int(match.group(2)) * _DATE_UNITS[match.group(3)])
            moment = moment - delta if match.group(1) == "-" else moment + delta
        return moment
    if re.match(r"^\d{4}-\d{2}-\d{2}$", text):
        text += "T00:00:00Z"
    try:
        parsed = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError("failed to parse date field [%s]" % value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.timezone.utc)


def _wildcard_regex(pattern):
    """``*`` any characters, ``?`` one character, ``\\`` escapes the next one."""
    out, escaped = [], False
    for char in pattern:
        if escaped:
            out.append(re.escape(char))
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == "*":
            out.append(".*")
        elif char == "?":
            out.append(".")
        else:
            out.append(re.escape(char))
    return "^" + "".join(out) + "$"


class QueryError(Exception):
    """A query the stub (like OpenSearch) refuses: 400 parsing_exception / query_shard_exception."""


class Index:
    """One index: its settings and mappings (from the matching template at creation) and documents."""

    def __init__(self, name, settings, mappings):
        self.name = name
        self.settings = settings or {}
        self.mappings = mappings or {}
        self.documents = {}  # _id -> _source
        self.versions = {}

    def default_pipeline(self):
        return ((self.settings.get("index") or {}).get("default_pipeline")) or None

    def field_kind(self, field):
        """'text', 'keyword', 'date', 'number' or None (unmapped: not searchable with dynamic=false)."""
        properties = self.mappings.get("properties")
        if not properties:  # dynamic mapping: strings are text with a .keyword subfield
            if field.endswith(".keyword"):
                return "keyword"
            return "date" if field == "@timestamp" else "text"
        cursor, parts = properties, field.split(".")
        for position, part in enumerate(parts):
            mapping = cursor.get(part) if isinstance(cursor, dict) else None
            if mapping is None:
                return None
            kind = mapping.get("type", "object")
            rest = parts[position + 1:]
            if kind == "flat_object":
                return "keyword"
            if not rest:
                return {"text": "text", "keyword": "keyword", "date": "date", "long": "number", "integer": "number",
                        "double": "number", "float": "number"}.get(kind, "keyword")
            if len(rest) == 1 and rest[0] in (mapping.get("fields") or {}):
                return "keyword"
            cursor = mapping.get("properties") or {}
        return None

    def values(self, document, field):
        """The values a field holds in a document (a flat_object leaf or a .keyword subfield included)."""
        base = field[:-len(".keyword")] if field.endswith(".keyword") else field
        value = _lookup(document, base)
        if value is None:
            return []
        return value if isinstance(value, list) else [value]


def _matches(index, doc_id, document, query, now=None):
    """Whether a document matches a query of the supported DSL subset (see the module docstring)."""
    if not isinstance(query, dict) or len(query) != 1:
        raise QueryError("query malformed, must start with start_object and have exactly one query type")
    (kind, spec), = query.items()
    if kind == "match_all":
        return True
    if kind == "match_none":
        return False
    if kind == "bool":
        must = list(spec.get("must") or []) if isinstance(spec.get("must"), list) else ([spec["must"]] if spec.get("must") else [])
        filt = list(spec.get("filter") or []) if isinstance(spec.get("filter"), list) else ([spec["filter"]] if spec.get("filter") else [])
        should = list(spec.get("should") or []) if isinstance(spec.get("should"), list) else ([spec["should"]] if spec.get("should") else [])
        must_not = list(spec.get("must_not") or []) if isinstance(spec.get("must_not"), list) else ([spec["must_not"]] if spec.get("must_not") else [])
        if not all(_matches(index, doc_id, document, q, now) for q in must + filt):
            return False
        if any(_matches(index, doc_id, document, q, now) for q in must_not):
            return False
        if should:
            minimum = spec.get("minimum_should_match", 0 if (must or filt) else 1)
            hits = sum(1 for q in should if _matches(index, doc_id, document, q, now))
            return hits >= int(minimum)
        return True
    if kind == "ids":
        return doc_id in (spec.get("values") or [])
    if not isinstance(spec, dict) or len(spec) != 1:
        raise QueryError("[%s] query malformed, expected one field" % kind)
    (field, arg), = spec.items()
    if kind == "exists":
        return bool(index.values(document, arg)) if index.field_kind(arg) is not None else False
    kind_of_field = index.field_kind(field)
    if kind_of_field is None:
        return False
    values = index.values(document, field)
    if kind in ("term", "terms"):
        wanted = arg if kind == "terms" else [arg.get("value") if isinstance(arg, dict) else arg]
        if kind == "terms" and not isinstance(wanted, list):
            raise QueryError("[terms] query requires an array of values")
        if kind_of_field == "text":
            return any(str(w) in _analyze(v) for v in values for w in wanted)
        return any(str(v) == str(w) for v in values for w in wanted)
    if kind in ("wildcard", "prefix"):
        pattern = str(arg.get("value") if isinstance(arg, dict) else arg)
        insensitive = bool(isinstance(arg, dict) and arg.get("case_insensitive"))
        regex = re.compile("^" + re.escape(pattern) + ".*$" if kind == "prefix" else _wildcard_regex(pattern), re.I if insensitive else 0)
        if kind_of_field == "text":
            return any(regex.match(token) for v in values for token in _analyze(v))
        return any(regex.match(str(v)) for v in values)
    if kind in ("match", "match_phrase"):
        text = arg.get("query") if isinstance(arg, dict) else arg
        if kind_of_field != "text":
            return any(str(v) == str(text) for v in values)
        wanted = _analyze(text)
        if not wanted:
            return False
        for value in values:
            tokens = _analyze(value)
            if kind == "match_phrase":
                if any(tokens[i:i + len(wanted)] == wanted for i in range(len(tokens) - len(wanted) + 1)):
                    return True
            elif (arg.get("operator", "or") if isinstance(arg, dict) else "or").lower() == "and":
                if all(w in tokens for w in wanted):
                    return True
            elif any(w in tokens for w in wanted):
                return True
        return False
    if kind == "range":
        bounds = {k: v for k, v in arg.items() if k in ("gt", "gte", "lt", "lte")}
        for value in values:
            if kind_of_field == "date":
                current, convert = _parse_date(value, now), functools.partial(_parse_date, now=now)
            elif kind_of_field == "number":
                current, convert = float(value), float
            else:
                current, convert = str(value), str
            checks = {"gt": lambda a, b: a > b, "gte": lambda a, b: a >= b, "lt": lambda a, b: a < b, "lte": lambda a, b: a <= b}
            if all(checks[op](current, convert(bound)) for op, bound in bounds.items()):
                return True
        return False
    raise QueryError("unknown query [%s] (not supported by the OpenSearch test double)" % kind)


def query_string_to_dsl(text, default_fields=("message",), default_operator="OR"):
    """The basic query_string syntax: ``field:value``, ``field:"a phrase"``, ``field:val*``, bare
    words (searched in ``default_fields``), AND / OR / NOT between clauses and ``(...)`` groups
    are not supported by the test double beyond a flat sequence."""
    tokens = re.findall(r'(?:[^\s"]+:)?"[^"]*"|\S+', text or "")
    clauses, operator, negate = [], default_operator.upper(), False
    for token in tokens:
        if token in ("AND", "OR", "&&", "||"):
            operator = "AND" if token in ("AND", "&&") else "OR"
            continue
        if token in ("NOT", "!"):
            negate = True
            continue
        field, dummy, value = token.partition(":") if ":" in token and not token.startswith('"') else ("", "", token)
        fields = [field] if field else list(default_fields)
        phrase = value.startswith('"') and value.endswith('"') and len(value) >= 2
        value = value.strip('"')
        if phrase:
            queries = [{"match_phrase": {f: value}} for f in fields]
        elif re.search(r"(?<!\\)[*?]", value):
            queries = [{"wildcard": {f: value}} for f in fields]  # backslash escapes stay for the wildcard
        else:
            queries = [{"match": {f: re.sub(r"\\(.)", r"\1", value)}} for f in fields]
        clause = queries[0] if len(queries) == 1 else {"bool": {"should": queries}}
        clauses.append(({"bool": {"must_not": [clause]}} if negate else clause, operator))
        negate = False
    if not clauses:
        return {"match_all": {}}
    if all(op == "AND" for dummy, op in clauses[1:]) and len(clauses) > 1:
        return {"bool": {"must": [c for c, dummy in clauses]}}
    if any(op == "AND" for dummy, op in clauses[1:]):
        raise QueryError("the OpenSearch test double supports query_string with one operator only")
    return {"bool": {"should": [c for c, dummy in clauses]}} if len(clauses) > 1 else clauses[0][0]


def expand_query(query):
    """Rewrite query_string into the DSL subset (recursively)."""
    if isinstance(query, dict):
        if set(query) == {"query_string"}:
            spec = query["query_string"]
            return query_string_to_dsl(spec.get("query", ""), spec.get("fields") or [spec.get("default_field") or "message"],
                                       spec.get("default_operator", "OR"))
        return dict((k, expand_query(v)) for k, v in query.items())
    if isinstance(query, list):
        return [expand_query(v) for v in query]
    return query


class OpenSearchStub:
    """State and behaviour of the stand-in domain. See the module docstring."""

    def __init__(self, credentials, region="us-east-1", fgac_denied=(), principal_arns=None, master_arn=None, role_arns=None):
        self.credentials = dict(credentials)
        self.region = region
        self.fgac_denied = set(fgac_denied)
        self.principal_arns = principal_arns or {}
        # TEST DOUBLE: which IAM role an access key's assumed-role session belongs to. AWS derives it
        # from the session credentials; here the test says it. Keys named here are authorised
        # through the role mappings like fine-grained access control does.
        self.role_arns = dict(role_arns or {})
        self.pipelines = {}  # id -> ingest pipeline body
        self.indices = {}  # name -> Index
        self.policies = {}  # id -> {"policy", "seq_no", "primary_term", "version"}
        self.templates = {}  # name -> index_template body
        self.security_roles = copy.deepcopy(PREDEFINED_ROLES)  # name -> role as GET returns it
        self.role_mappings = copy.deepcopy(PREDEFINED_MAPPINGS)  # name -> mapping as GET returns it
        self.saved_objects = {}  # (type, id) -> saved object as _bulk_get returns it
        self.audit_config = copy.deepcopy(AUDIT_DEFAULTS)  # the security plugin's audit configuration
        if master_arn:
            self.role_mappings["all_access"]["backend_roles"] = [master_arn]
        self.requests = []
        self.rejected = []
        self._seq_no = -1
        self._conflict_after_get = set()
        self.lock = threading.Lock()
        self.httpd = None
        self.thread = None
        self.endpoint = None
        self.port = None
        self.ca_path = None
        self._tmp = None

    # -- test hooks -------------------------------------------------------------
    def concurrent_change_after_get(self, policy_id):
        """After the next GET of policy_id, act as another writer and bump its seq_no."""
        self._conflict_after_get.add(policy_id)

    def writes(self):
        return [r for r in self.requests if r[0] in ("PUT", "POST", "DELETE")]

    # -- dispatch ---------------------------------------------------------------
    def handle(self, method, raw_path, headers, body):
        try:
            access_key = verify_sigv4(method, raw_path, headers, body, self.credentials, self.region)
        except SignatureError as e:
            self.rejected.append((method, raw_path, str(e)))
            return 403, {"message": str(e)}
        parts = urlsplit(raw_path)
        path = unquote(parts.path)
        query = dict(parse_qsl(parts.query))
        with self.lock:
            self.requests.append((method, path, query, access_key))
            segments = [s for s in path.split("/") if s]
            if segments == []:
                return 200, {"name": "stub", "version": {"distribution": "opensearch", "number": "2.13.0"}}
            if len(segments) == 4 and segments[:3] == ["_plugins", "_ism", "policies"]:
                denied = None if method == "GET" else self._fgac(access_key, "cluster:admin/opendistro/ism/policy/write")
                return denied or self._policy(method, segments[3], query, body)
            if segments[:4] == ["_plugins", "_security", "api", "audit"] and len(segments) <= 5:
                if not self._is_admin(access_key):
                    return 403, {"status": "FORBIDDEN", "message": "No permission to access REST API: User %s does not have any role "
                                 "privileged for admin access" % self.principal(access_key)[0]}
                return self._audit(method, segments[4:], body)
            if len(segments) == 5 and segments[:3] == ["_plugins", "_security", "api"] and segments[3] in ("roles", "rolesmapping"):
                if not self._is_admin(access_key):
                    user = self.principal(access_key)[0]
                    roles = ", ".join(self.mapped_roles(access_key)) if self._enforced(access_key) else "readall"
                    return 403, {"status": "FORBIDDEN", "message": "No permission to access REST API: User %s with Security roles [%s] "
                                 "does not have any role privileged for admin access" % (user, roles)}
                if segments[3] == "roles":
                    return self._security_role(method, segments[4], body)
                return self._security_mapping(method, segments[4], body)
            if len(segments) == 4 and segments[:3] == ["_dashboards", "api", "saved_objects"]:
                return self._saved_objects(method, segments[3], query, headers, body, access_key)
            answer = self._data_plane(access_key, method, segments, query, body)
            if answer is not None:
                return answer
            if len(segments) == 2 and segments[0] == "_index_template":
                denied = None if method == "GET" else self._fgac(access_key, "indices:admin/index_template/put")
                return denied or self._template(method, segments[1], body)
            return 400, {"error": {"type": "illegal_argument_exception", "reason": "no handler found for uri [%s] and method [%s]" % (path, method)},
                         "status": 400}

    def _fgac(self, access_key, action):
        if self._is_admin(access_key):
            return None
        return self._security_exception(access_key, action)

    @staticmethod
    def _error(status, error_type, reason, extra=None):
        error = {"type": error_type, "reason": reason}
        error.update(extra or {})
        return status, {"error": {"root_cause": [dict(error)], "type": error_type, "reason": reason}, "status": status}

    def _next_seq_no(self):
        self._seq_no += 1
        return self._seq_no

    # -- ISM --------------------------------------------------------------------
    def _stored_policy(self, policy_id, policy):
        stored = copy.deepcopy(policy)
        now = _now_ms()
        stored["policy_id"] = policy_id
        stored["last_updated_time"] = now
        stored["schema_version"] = ISM_SCHEMA_VERSION
        stored.setdefault("description", "")
        stored.setdefault("error_notification", None)
        for state in stored.get("states", []):
            state.setdefault("transitions", [])
            for action in state.get("actions", []):
                action.setdefault("retry", dict(DEFAULT_RETRY))
        templates = stored.get("ism_template")
        if isinstance(templates, dict):
            templates = [templates]
        if templates:
            for template in templates:
                template.setdefault("priority", 0)
                template["last_updated_time"] = now
            stored["ism_template"] = templates
        else:
            stored["ism_template"] = None
        return stored

    def _policy(self, method, policy_id, query, body):
        current = self.policies.get(policy_id)
        if method == "GET":
            if current is None:
                return self._error(404, "status_exception", "Policy not found")
            answer = {
                "_id": policy_id,
                "_version": current["version"],
                "_seq_no": current["seq_no"],
                "_primary_term": current["primary_term"],
                "policy": current["policy"],
            }
            answer = copy.deepcopy(answer)
            if policy_id in self._conflict_after_get:
                self._conflict_after_get.discard(policy_id)
                current["seq_no"] = self._next_seq_no()
                current["version"] += 1
            return 200, answer
        if method == "DELETE":
            if current is None:
                return 404, {"_index": ".opendistro-ism-config", "_id": policy_id, "_version": 1, "result": "not_found",
                             "_shards": {"total": 2, "successful": 1, "failed": 0}, "_seq_no": self._seq_no, "_primary_term": 1}
            del self.policies[policy_id]
            return 200, {"_index": ".opendistro-ism-config", "_id": policy_id, "_version": current["version"] + 1, "result": "deleted",
                         "forced_refresh": True, "_shards": {"total": 2, "successful": 1, "failed": 0},
                         "_seq_no": self._next_seq_no(), "_primary_term": 1}
        if method != "PUT":
            return 405, {"error": "Incorrect HTTP method for uri [%s] and method [%s], allowed: [PUT, GET, DELETE]" % (policy_id, method),
                         "status": 405}
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "parse_exception", "request body is required and must be JSON")
        policy = document.get("policy") if isinstance(document, dict) else None
        if not isinstance(policy, dict) or not isinstance(policy.get("states"), list) or not policy.get("default_state"):
            return self._error(400, "illegal_argument_exception", "Policy must have default_state and states")
        if policy["default_state"] not in [s.get("name") for s in policy["states"]]:
            return self._error(400, "illegal_argument_exception", "Policy default_state [%s] does not exist" % policy["default_state"])
        if_seq_no, if_primary_term = query.get("if_seq_no"), query.get("if_primary_term")
        if current is None and (if_seq_no is not None or if_primary_term is not None):
            return self._error(409, "version_conflict_engine_exception",
                               "[%s]: version conflict, document does not exist (expected seq_no=%s)" % (policy_id, if_seq_no))
        if current is not None:
            if if_seq_no is None or if_primary_term is None:
                return self._error(409, "version_conflict_engine_exception", "[%s]: version conflict, document already exists (current version [%d])"
                                   % (policy_id, current["version"]))
            if str(current["seq_no"]) != if_seq_no or str(current["primary_term"]) != if_primary_term:
                return self._error(409, "version_conflict_engine_exception",
                                   "[%s]: version conflict, required seqNo [%s], primary term [%s]. current document has seqNo [%d] and primary term [%d]"
                                   % (policy_id, if_seq_no, if_primary_term, current["seq_no"], current["primary_term"]))
        stored = self._stored_policy(policy_id, policy)
        entry = {"policy": stored, "seq_no": self._next_seq_no(), "primary_term": 1, "version": (current["version"] + 1) if current else 1}
        self.policies[policy_id] = entry
        answer = {"_id": policy_id, "_version": entry["version"], "_primary_term": 1, "_seq_no": entry["seq_no"],
                  "policy": {"policy": copy.deepcopy(stored)}}
        return (200 if current else 201), answer

    # -- security plugin audit configuration ------------------------------------
    def _audit(self, method, rest, body):
        if rest == [] and method == "GET":
            return 200, {"_readonly": list(AUDIT_READONLY), "config": copy.deepcopy(self.audit_config)}
        if rest != ["config"] or method != "PUT":
            return self._security_answer(501, "Method %s not supported for this action." % method)
        try:
            document = json.loads(body or b"")
        except ValueError:
            return 400, {"status": "error", "reason": "Could not parse content of request."}
        if not isinstance(document, dict):
            return 400, {"status": "error", "reason": "Request body required for this action."}
        invalid = sorted(set(document) - {"enabled", "audit", "compliance"})
        for section in ("audit", "compliance"):
            part = document.get(section, {})
            if not isinstance(part, dict):
                return 400, {"status": "error", "reason": "Wrong datatype", section: "Object expected"}
            invalid += ["%s.%s" % (section, k) for k in sorted(set(part) - set(AUDIT_DEFAULTS[section]))]
        if invalid:
            return 400, {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": ",".join(invalid)}}
        config = copy.deepcopy(AUDIT_DEFAULTS)
        config["enabled"] = document.get("enabled", True)
        for section in ("audit", "compliance"):
            config[section].update(copy.deepcopy(document.get(section, {})))
        for section in ("audit", "compliance"):
            for key, default in AUDIT_DEFAULTS[section].items():
                if type(config[section][key]) is not type(default):  # pylint: disable=unidiomatic-typecheck
                    kind = {bool: "Boolean", list: "Array", dict: "Object"}[type(default)]
                    return 400, {"status": "error", "reason": "Wrong datatype", "%s.%s" % (section, key): "%s expected" % kind}
        if not isinstance(config["enabled"], bool):
            return 400, {"status": "error", "reason": "Wrong datatype", "enabled": "Boolean expected"}
        for path in AUDIT_READONLY:
            section, key = path.strip("/").split("/")
            if config[section][key] != self.audit_config[section][key]:
                return 409, {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": "_readonly,config"}}
        self.audit_config = config
        return 200, {"status": "OK", "message": "'config' updated."}

    # -- security plugin roles and role mappings --------------------------------
    @staticmethod
    def _security_answer(status, message):
        names = {200: "OK", 201: "CREATED", 400: "BAD_REQUEST", 403: "FORBIDDEN", 404: "NOT_FOUND", 501: "NOT_IMPLEMENTED"}
        return status, {"status": names[status], "message": message}

    @staticmethod
    def _parse_security_body(body, allowed, mandatory_or=()):
        """The security plugin's RequestContentValidator: JSON object, known keys, data types."""
        try:
            document = json.loads(body or b"")
        except ValueError:
            return None, (400, {"status": "error", "reason": "Could not parse content of request."})
        if not isinstance(document, dict) or not document:
            return None, (400, {"status": "error", "reason": "Request body required for this action."})
        answer = {"status": "error", "reason": "Invalid configuration"}
        invalid = sorted(set(document) - set(allowed))
        if invalid:
            answer["invalid_keys"] = {"keys": ",".join(invalid)}
        if mandatory_or and not set(document) & set(mandatory_or):
            answer["specify_one_of"] = {"keys": ",".join(sorted(mandatory_or))}
        if len(answer) > 2:
            return None, (400, answer)
        wrong = {}
        for key, kind in allowed.items():
            if key in document and not isinstance(document[key], kind):
                wrong[key] = "%s expected" % {list: "Array", str: "String", bool: "Boolean", dict: "Object"}[kind]
        if wrong:
            answer = {"status": "error", "reason": "Wrong datatype"}
            answer.update(wrong)
            return None, (400, answer)
        for key, value in document.items():
            if isinstance(value, list) and any(v is None for v in value):
                return None, (400, {"status": "error", "reason": "`null` is not allowed as json array element"})
        return document, None

    def _immutable(self, entry, name):
        if entry.get("static"):
            return self._security_answer(403, "Resource '%s' is static." % name)
        if entry.get("reserved"):
            return self._security_answer(403, "Resource '%s' is reserved." % name)
        return None

    def _security_role(self, method, name, body):
        current = self.security_roles.get(name)
        if method == "GET":
            if current is None:
                return self._security_answer(404, "role '%s' not found." % name)
            return 200, {name: copy.deepcopy(current)}
        if method == "DELETE":
            if current is None:
                return self._security_answer(404, "role '%s' not found." % name)
            denied = self._immutable(current, name)
            if denied:
                return denied
            del self.security_roles[name]
            return self._security_answer(200, "'%s' deleted." % name)
        if method != "PUT":
            return self._security_answer(501, "Method %s not supported for this action." % method)
        if current is not None:
            denied = self._immutable(current, name)
            if denied:
                return denied
        document, error = self._parse_security_body(body, ROLE_KEYS)
        if error:
            return error
        stored = {"reserved": False, "hidden": False, "cluster_permissions": list(document.get("cluster_permissions", [])),
                  "index_permissions": [], "tenant_permissions": [], "static": False}
        if "description" in document:
            stored["description"] = document["description"]
        for permission in document.get("index_permissions", []):
            if not isinstance(permission, dict) or set(permission) - set(INDEX_PERMISSION_KEYS):
                return 400, {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": "index_permissions"}}
            entry = {"index_patterns": list(permission.get("index_patterns", [])), "dls": permission.get("dls") or "",
                     "fls": list(permission.get("fls") or []), "masked_fields": list(permission.get("masked_fields") or []),
                     "allowed_actions": list(permission.get("allowed_actions", []))}
            stored["index_permissions"].append(entry)
        for permission in document.get("tenant_permissions", []):
            if not isinstance(permission, dict) or set(permission) - {"tenant_patterns", "allowed_actions"}:
                return 400, {"status": "error", "reason": "Invalid configuration", "invalid_keys": {"keys": "tenant_permissions"}}
            stored["tenant_permissions"].append({"tenant_patterns": list(permission.get("tenant_patterns", [])),
                                                 "allowed_actions": list(permission.get("allowed_actions", []))})
        self.security_roles[name] = stored
        if current is None:
            return self._security_answer(201, "'%s' created." % name)
        return self._security_answer(200, "'%s' updated." % name)

    def _security_mapping(self, method, name, body):
        current = self.role_mappings.get(name)
        if method == "GET":
            if current is None:
                return self._security_answer(404, "rolesmapping '%s' not found." % name)
            return 200, {name: copy.deepcopy(current)}
        if method == "DELETE":
            if current is None:
                return self._security_answer(404, "rolesmapping '%s' not found." % name)
            denied = self._immutable(current, name)
            if denied:
                return denied
            del self.role_mappings[name]
            return self._security_answer(200, "'%s' deleted." % name)
        if method != "PUT":
            return self._security_answer(501, "Method %s not supported for this action." % method)
        if current is not None:
            denied = self._immutable(current, name)
            if denied:
                return denied
        document, error = self._parse_security_body(body, MAPPING_KEYS, mandatory_or=("and_backend_roles", "backend_roles", "hosts", "users"))
        if error:
            return error
        if name not in self.security_roles:  # the plugin validates the mapped role first
            return self._security_answer(404, "role '%s' not found." % name)
        stored = {"hosts": list(document.get("hosts", [])), "users": list(document.get("users", [])), "reserved": False, "hidden": False,
                  "backend_roles": list(document.get("backend_roles", [])), "and_backend_roles": list(document.get("and_backend_roles", []))}
        if "description" in document:
            stored["description"] = document["description"]
        self.role_mappings[name] = stored
        if current is None:
            return self._security_answer(201, "'%s' created." % name)
        return self._security_answer(200, "'%s' updated." % name)

    # -- index templates --------------------------------------------------------
    def _template(self, method, name, body):
        current = self.templates.get(name)
        if method == "GET":
            if current is None:
                return self._error(404, "resource_not_found_exception", "index template matching [%s] not found" % name)
            return 200, {"index_templates": [{"name": name, "index_template": copy.deepcopy(current)}]}
        if method == "DELETE":
            if current is None:
                return self._error(404, "index_template_missing_exception", "index_template [%s] missing" % name)
            del self.templates[name]
            return 200, {"acknowledged": True}
        if method not in ("PUT", "POST"):
            return 405, {"error": "Incorrect HTTP method", "status": 405}
        try:
            document = json.loads(body or b"{}")
        except ValueError:
            return self._error(400, "parse_exception", "request body is required and must be JSON")
        if not isinstance(document, dict) or not document.get("index_patterns"):
            return self._error(400, "action_request_validation_exception", "Validation Failed: 1: index patterns are missing;")
        stored = copy.deepcopy(document)
        if isinstance(stored["index_patterns"], str):
            stored["index_patterns"] = [stored["index_patterns"]]
        stored.setdefault("composed_of", [])
        template = stored.get("template")
        if isinstance(template, dict) and "settings" in template:
            template["settings"] = _normalise_settings(template["settings"])
        self.templates[name] = stored
        return 200, {"acknowledged": True}

    # -- data plane (TEST DOUBLE): principals, FGAC, DLS ------------------------------------------
    def principal(self, access_key):
        """(user name, backend roles) the security plugin derives from a SigV4 request: the IAM
        role ARN of an assumed-role session (``role_arns``) is both the user and its backend role."""
        arn = self.role_arns.get(access_key) or self.principal_arns.get(access_key) or "arn:aws:iam::123456789012:user/%s" % access_key
        return arn, [arn] if access_key in self.role_arns else []

    def mapped_roles(self, access_key):
        """Names of the OpenSearch roles the principal is mapped to (by user or backend role)."""
        user, backend_roles = self.principal(access_key)
        names = []
        for name, mapping in self.role_mappings.items():
            if user in mapping.get("users", []) or set(backend_roles) & set(mapping.get("backend_roles", [])):
                names.append(name)
            elif mapping.get("and_backend_roles") and set(mapping["and_backend_roles"]) <= set(backend_roles):
                names.append(name)
        return sorted(n for n in names if n in self.security_roles)

    def _enforced(self, access_key):
        """Principals named in ``role_arns`` are checked against the role mappings like fine-grained
        access control does; the others keep the legacy behaviour (all access unless fgac_denied)."""
        return access_key in self.role_arns

    def _is_admin(self, access_key):
        if not self._enforced(access_key):
            return access_key not in self.fgac_denied
        return "all_access" in self.mapped_roles(access_key)

    def _security_exception(self, access_key, action):
        user, backend_roles = self.principal(access_key)
        reason = "no permissions for [%s] and User [name=%s, backend_roles=%s, requestedTenant=null]" % (
            action, user, "[%s]" % ", ".join(backend_roles))
        error = {"type": "security_exception", "reason": reason}
        return 403, {"error": {"root_cause": [error], "type": "security_exception", "reason": reason}, "status": 403}

    def index_grants(self, access_key, index, actions):
        """The role entries that give the principal one of ``actions`` on ``index``:
        None = unrestricted (admin or legacy principal), else a list of DLS strings ("" = no DLS)."""
        if not self._enforced(access_key):
            return None if access_key not in self.fgac_denied or actions is READ_ACTIONS else []
        grants = []
        for name in self.mapped_roles(access_key):
            for permission in self.security_roles[name].get("index_permissions", []):
                if set(permission.get("allowed_actions", [])) & actions and \
                        any(fnmatch.fnmatchcase(index, pattern) for pattern in permission.get("index_patterns", [])):
                    grants.append(permission.get("dls") or "")
        return grants

    def dls_filter(self, grants):
        """The document filter of a set of grants, as the security plugin applies DLS: the queries of
        every role that restricts the index are OR-ed; a role without DLS on it is ignored while
        another role restricts it (plugins.security.dfm_empty_overrides_all defaults to false)."""
        if grants is None:
            return None
        queries = [json.loads(g) for g in grants if g]
        if not queries:
            return None
        return expand_query({"bool": {"should": queries, "minimum_should_match": 1}})

    def resolve_indices(self, expression):
        """Concrete indices of a comma-separated list of names and wildcard patterns."""
        names = []
        for part in (expression or "_all").split(","):
            if part in ("_all", "*"):
                names += [n for n in self.indices if not n.startswith(".")]
            elif "*" in part or "?" in part:
                names += [n for n in self.indices if fnmatch.fnmatchcase(n, part)]
            elif part in self.indices:
                names.append(part)
            else:
                raise KeyError(part)
        return sorted(set(names))

    # -- ingest pipelines -------------------------------------------------------------------------
    def _ingest_pipeline(self, access_key, method, pipeline_id, body):
        if method != "GET" and not self._is_admin(access_key):
            return self._security_exception(access_key, "cluster:admin/ingest/pipeline/%s" % ("delete" if method == "DELETE" else "put"))
        current = self.pipelines.get(pipeline_id)
        if method == "GET":
            if current is None:
                return 404, {}
            return 200, {pipeline_id: copy.deepcopy(current)}
        if method == "DELETE":
            if current is None:
                return self._error(404, "resource_not_found_exception", "pipeline [%s] is missing" % pipeline_id)
            del self.pipelines[pipeline_id]
            return 200, {"acknowledged": True}
        if method != "PUT":
            return 405, {"error": "Incorrect HTTP method for uri [/_ingest/pipeline/%s] and method [%s], allowed: [PUT, GET, DELETE]"
                         % (pipeline_id, method), "status": 405}
        try:
            document = json.loads(body or b"")
        except ValueError:
            return self._error(400, "parse_exception", "request body is required")
        if not isinstance(document, dict) or "processors" not in document:
            return self._error(400, "parse_exception", "[processors] required property is missing", {"property_name": "processors"})
        if not isinstance(document["processors"], list):
            return self._error(400, "parse_exception", "[processors] property isn't a list, but of type [%s]" % type(document["processors"]).__name__)
        for processor in document["processors"]:
            if not isinstance(processor, dict) or len(processor) != 1:
                return self._error(400, "parse_exception", "processor must be an object with exactly one processor type")
            (kind, config), = processor.items()
            if kind not in SUPPORTED_PROCESSORS:
                return self._error(400, "parse_exception", "No processor type exists with name [%s]" % kind, {"processor_type": kind})
            for key in ("field", "value"):
                if key not in (config or {}):
                    return self._error(400, "parse_exception", "[%s] required property is missing" % key, {"processor_type": kind, "property_name": key})
        self.pipelines[pipeline_id] = copy.deepcopy(document)
        return 200, {"acknowledged": True}

    def run_pipeline(self, pipeline_id, index_name, doc_id, source):
        """Run an ingest pipeline on one document; returns (index, _id, source) or raises KeyError/ValueError."""
        pipeline = self.pipelines.get(pipeline_id)
        if pipeline is None:
            raise KeyError(pipeline_id)
        metadata = {"_index": index_name, "_id": doc_id}
        source = copy.deepcopy(source)
        for processor in pipeline["processors"]:
            (kind, config), = processor.items()
            try:
                field = render_mustache(config["field"], source, metadata)
                value = render_mustache(config["value"], source, metadata)
                if config.get("ignore_empty_value") and value in (None, ""):
                    continue
                if field in ("_id", "_index", "_routing"):
                    if config.get("override", True) or metadata.get(field) is None:
                        metadata[field] = value
                    continue
                if not config.get("override", True) and _lookup(source, field) is not None:
                    continue
                cursor, parts = source, field.split(".")
                for part in parts[:-1]:
                    cursor = cursor.setdefault(part, {})
                cursor[parts[-1]] = copy.deepcopy(value)
            except Exception:  # pylint: disable=broad-except
                if not config.get("ignore_failure"):
                    raise
        return metadata["_index"], metadata["_id"], source

    # -- documents --------------------------------------------------------------------------------
    def matching_template(self, name):
        """The highest-priority composable template whose patterns match an index name."""
        best = None
        for template in self.templates.values():
            if any(fnmatch.fnmatchcase(name, p) for p in template.get("index_patterns", [])):
                if best is None or template.get("priority", 0) > best.get("priority", 0):
                    best = template
        return best

    def _create_index(self, name):
        """An index created by a write takes the settings and mappings of the highest-priority
        matching composable template, as OpenSearch does."""
        inner = (self.matching_template(name) or {}).get("template") or {}
        self.indices[name] = Index(name, copy.deepcopy(inner.get("settings") or {}), copy.deepcopy(inner.get("mappings") or {}))
        return self.indices[name]

    def _index_one(self, access_key, action, meta, source, query):
        """One index/create action of a bulk request: (item status, item body)."""
        index_name = meta.get("_index")
        doc_id = meta.get("_id")
        kind = "index" if action == "index" else "create"
        index = self.indices.get(index_name)
        pipeline = meta.get("pipeline") or query.get("pipeline")
        if pipeline is None:
            settings = index.settings if index is not None else (((self.matching_template(index_name) or {}).get("template") or {}).get("settings") or {})
            pipeline = (settings.get("index") or {}).get("default_pipeline")
        if pipeline and pipeline != "_none":
            try:
                index_name, doc_id, source = self.run_pipeline(pipeline, index_name, doc_id, source)
            except KeyError:
                return 400, self._error(400, "illegal_argument_exception", "pipeline with id [%s] does not exist" % pipeline)[1]["error"]
            index = self.indices.get(index_name)
        if doc_id is not None and len(str(doc_id).encode("utf-8")) > 512:
            return 400, {"type": "illegal_argument_exception", "reason": "id [%s] is too long, must be no longer than 512 bytes but was: %d"
                         % (doc_id, len(str(doc_id).encode("utf-8")))}
        if self._enforced(access_key) or access_key in self.fgac_denied:
            if index is None and not self.index_grants(access_key, index_name, CREATE_INDEX_ACTIONS) and not self._is_admin(access_key):
                return 403, self._security_exception(access_key, "indices:admin/create")[1]["error"]
            if not self._is_admin(access_key) and not self.index_grants(access_key, index_name, WRITE_ACTIONS):
                return 403, self._security_exception(access_key, "indices:data/write/bulk[s]")[1]["error"]
        if index is None:
            index = self._create_index(index_name)
        if doc_id is None:
            doc_id = "stub-%d" % self._next_seq_no()
        doc_id = str(doc_id)
        exists = doc_id in index.documents
        if kind == "create" and exists:
            return 409, {"type": "version_conflict_engine_exception", "reason": "[%s]: version conflict, document already exists (current version [%d])"
                         % (doc_id, index.versions[doc_id]), "index": index_name}
        index.documents[doc_id] = source
        index.versions[doc_id] = index.versions.get(doc_id, 0) + 1
        return (200 if exists else 201), {"_index": index_name, "_id": doc_id, "_version": index.versions[doc_id],
                                          "result": "updated" if exists else "created", "_seq_no": self._next_seq_no(), "_primary_term": 1,
                                          "_shards": {"total": 2, "successful": 1, "failed": 0}}

    def _bulk(self, access_key, default_index, query, body):
        lines = [line for line in (body or b"").decode("utf-8").split("\n") if line.strip()]
        items, errors, position = [], False, 0
        started = time.time()
        while position < len(lines):
            try:
                action_line = json.loads(lines[position])
            except ValueError:
                return self._error(400, "illegal_argument_exception", "Malformed action/metadata line [%d]" % (position + 1))
            if not isinstance(action_line, dict) or len(action_line) != 1:
                return self._error(400, "illegal_argument_exception", "Malformed action/metadata line [%d], expected a single action" % (position + 1))
            (action, meta), = action_line.items()
            if action not in ("index", "create", "delete"):
                return self._error(400, "illegal_argument_exception", "Malformed action/metadata line [%d], expected one of [create, delete, index, "
                                   "update] but found [%s]" % (position + 1, action))
            meta = dict(meta or {})
            meta.setdefault("_index", default_index)
            if not meta.get("_index"):
                return self._error(400, "action_request_validation_exception", "Validation Failed: 1: index is missing;")
            if action == "delete":
                index = self.indices.get(meta["_index"])
                found = index is not None and index.documents.pop(str(meta.get("_id")), None) is not None
                items.append({"delete": {"_index": meta["_index"], "_id": meta.get("_id"), "result": "deleted" if found else "not_found",
                                         "status": 200 if found else 404}})
                position += 1
                continue
            try:
                source = json.loads(lines[position + 1])
            except (IndexError, ValueError):
                return self._error(400, "illegal_argument_exception", "The bulk request must be terminated by a newline [\\n]")
            position += 2
            status, answer = self._index_one(access_key, action, meta, source, query)
            if status >= 300:
                errors = True
                items.append({action: {"_index": meta["_index"], "_id": meta.get("_id"), "status": status, "error": answer}})
            else:
                answer["status"] = status
                items.append({action: answer})
        return 200, {"took": int((time.time() - started) * 1000), "errors": errors, "items": items}

    def _search(self, access_key, expression, query, body, count_only=False):
        """_search and _count: authorised per concrete index (READ), DLS applied per index."""
        try:
            request = json.loads(body) if body else {}
        except ValueError:
            return self._error(400, "parse_exception", "request body is not valid JSON")
        if "q" in query:
            request["query"] = {"query_string": {"query": query["q"], "default_operator": query.get("default_operator", "OR")}}
        try:
            names = self.resolve_indices(expression)
        except KeyError as e:
            if self._enforced(access_key) and not self.index_grants(access_key, e.args[0], READ_ACTIONS) and not self._is_admin(access_key):
                return self._security_exception(access_key, "indices:data/read/search")
            return self._error(404, "index_not_found_exception", "no such index [%s]" % e.args[0], {"index": e.args[0]})
        filters = {}
        if self._enforced(access_key) and not self._is_admin(access_key):
            candidates = names or [expression or "_all"]
            for name in candidates:
                grants = self.index_grants(access_key, name, READ_ACTIONS)
                if not grants:
                    return self._security_exception(access_key, "indices:data/read/search")
                filters[name] = self.dls_filter(grants)
        try:
            wanted = expand_query(request.get("query") or {"match_all": {}})
            now = datetime.datetime.now(datetime.timezone.utc)
            hits = []
            for name in names:
                index = self.indices[name]
                for doc_id, source in index.documents.items():
                    if filters.get(name) is not None and not _matches(index, doc_id, source, filters[name], now):
                        continue
                    if _matches(index, doc_id, source, wanted, now):
                        hits.append({"_index": name, "_id": doc_id, "_score": 1.0, "_source": copy.deepcopy(source)})
        except (QueryError, AttributeError, TypeError, ValueError) as e:
            return self._error(400, "parsing_exception", str(e))
        if count_only:
            return 200, {"count": len(hits), "_shards": {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0}}
        for spec in reversed(request.get("sort") or []):
            (field, order), = (spec.items() if isinstance(spec, dict) else [(spec, "asc")])
            order = order.get("order", "asc") if isinstance(order, dict) else order
            hits.sort(key=lambda h, f=field: str(_lookup(h["_source"], f[:-8] if f.endswith(".keyword") else f) or ""), reverse=order == "desc")
        start = int(request.get("from", query.get("from", 0)))
        size = int(request.get("size", query.get("size", 10)))
        return 200, {"took": 1, "timed_out": False, "_shards": {"total": len(names), "successful": len(names), "skipped": 0, "failed": 0},
                     "hits": {"total": {"value": len(hits), "relation": "eq"}, "max_score": 1.0 if hits else None,
                              "hits": hits[start:start + size]}}

    def documents(self, pattern="*"):
        """Every stored document of the indices matching ``pattern``: [(index, _id, _source)] (test hook)."""
        return [(name, doc_id, source) for name in sorted(self.indices) if fnmatch.fnmatchcase(name, pattern)
                for doc_id, source in sorted(self.indices[name].documents.items())]

    def _data_plane(self, access_key, method, segments, query, body):
        """Routes of the data plane, or None when the path is not one of them."""
        if len(segments) == 3 and segments[:2] == ["_ingest", "pipeline"]:
            return self._ingest_pipeline(access_key, method, segments[2], body)
        if segments and segments[-1] == "_bulk" and len(segments) <= 2 and method in ("POST", "PUT"):
            return self._bulk(access_key, segments[0] if len(segments) == 2 else None, query, body)
        if segments and segments[-1] in ("_search", "_count") and len(segments) <= 2 and method in ("GET", "POST"):
            return self._search(access_key, segments[0] if len(segments) == 2 else None, query, body, count_only=segments[-1] == "_count")
        return None

    # -- OpenSearch Dashboards saved objects -------------------------------------
    @staticmethod
    def _osd_error(status, error, message, **extra):
        answer = {"statusCode": status, "error": error, "message": message}
        answer.update(extra)
        return status, answer

    def _saved_object_version(self):
        return base64.b64encode(json.dumps([self._next_seq_no(), 1]).encode("utf-8")).decode("ascii")

    def _saved_objects(self, method, action, query, headers, body, access_key):
        lowered = dict((name.lower(), value) for name, value in headers.items())
        if method in ("POST", "PUT", "DELETE") and "osd-xsrf" not in lowered:
            return self._osd_error(400, "Bad Request", "Request must contain a osd-xsrf header.")
        if action == "_find" and method == "GET":
            return self._saved_objects_find(query)
        if method != "POST" or action not in ("_bulk_get", "_export", "_import"):
            return self._osd_error(404, "Not Found", "Not Found")
        if action == "_import":
            if access_key in self.fgac_denied:
                return self._osd_error(403, "Forbidden", "no permissions for [indices:data/write/bulk] and User [name=%s]"
                                       % self.principal_arns.get(access_key, access_key))
            return self._saved_objects_import(query, lowered.get("content-type", ""), body)
        try:
            document = json.loads(body or b"null")
        except ValueError:
            return self._osd_error(400, "Bad Request", "Invalid request payload JSON format")
        if action == "_bulk_get":
            if not isinstance(document, list) or not all(isinstance(i, dict) and i.get("type") and i.get("id") for i in document):
                return self._osd_error(400, "Bad Request", '[request body]: expected value of type [array] of {type, id}')
            return 200, {"saved_objects": [self._saved_object_or_404(i["type"], i["id"]) for i in document]}
        wanted = (document or {}).get("objects") if isinstance(document, dict) else None
        types = (document or {}).get("type") if isinstance(document, dict) else None
        if wanted:
            objects = [self._saved_object_or_404(i.get("type"), i.get("id")) for i in wanted]
        elif types:
            types = [types] if isinstance(types, str) else types
            objects = [copy.deepcopy(o) for k, o in sorted(self.saved_objects.items()) if k[0] in types]
        else:
            return self._osd_error(400, "Bad Request", "Either `type` or `objects` are required.")
        missing = [{"type": o["type"], "id": o["id"]} for o in objects if "error" in o]
        if missing:
            return self._osd_error(400, "Bad Request", "Error fetching objects to export", attributes={"objects": missing})
        lines = [json.dumps(o, sort_keys=True) for o in objects]
        lines.append(json.dumps({"exportedCount": len(objects), "missingRefCount": 0, "missingReferences": []}))
        return 200, ("\n".join(lines) + "\n").encode("utf-8")

    def _saved_object_or_404(self, object_type, object_id):
        stored = self.saved_objects.get((object_type, object_id))
        if stored is None:
            return {"id": object_id, "type": object_type,
                    "error": {"statusCode": 404, "error": "Not Found", "message": "Saved object [%s/%s] not found" % (object_type, object_id)}}
        return copy.deepcopy(stored)

    def _saved_objects_find(self, query):
        try:
            page, per_page = int(query.get("page", 1)), int(query.get("per_page", 20))
        except ValueError:
            return self._osd_error(400, "Bad Request", "[request query.page]: expected value of type [number]")
        types = [t for t in (query.get("type") or "").split(",") if t]
        found = [copy.deepcopy(o) for k, o in sorted(self.saved_objects.items()) if not types or k[0] in types]
        start = (page - 1) * per_page
        return 200, {"page": page, "per_page": per_page, "total": len(found), "saved_objects": found[start:start + per_page]}

    def _saved_objects_import(self, query, content_type, body):
        if not content_type.lower().startswith("multipart/form-data"):
            return self._osd_error(415, "Unsupported Media Type", "Unsupported Media Type")
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
            b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + (body or b""))
        parts = [p for p in (message.iter_parts() if message.is_multipart() else [])
                 if p.get_param("name", header="content-disposition") == "file"]
        if not parts:
            return self._osd_error(400, "Bad Request", "[request body.file]: expected value of type [Stream] but got [undefined]")
        objects = []
        for number, line in enumerate(parts[0].get_payload(decode=True).decode("utf-8").splitlines(), 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
            except ValueError:
                return self._osd_error(400, "Bad Request", "Unexpected token in JSON at line %d" % number)
            if not isinstance(item, dict) or not item.get("type") or not item.get("id") or not isinstance(item.get("attributes"), dict):
                return self._osd_error(400, "Bad Request", "line %d is not a saved object with type, id and attributes" % number)
            objects.append(item)
        overwrite = query.get("overwrite") == "true"
        in_file = set((o["type"], o["id"]) for o in objects)
        errors, results = [], []
        for item in objects:
            key = (item["type"], item["id"])
            title = item["attributes"].get("title")
            missing = [r for r in item.get("references") or [] if (r.get("type"), r.get("id")) not in in_file
                       and (r.get("type"), r.get("id")) not in self.saved_objects]
            if missing:
                errors.append({"id": item["id"], "type": item["type"], "title": title, "meta": {"title": title},
                               "error": {"type": "missing_references", "references": [{"type": r["type"], "id": r["id"]} for r in missing]}})
            elif key in self.saved_objects and not overwrite:
                errors.append({"id": item["id"], "type": item["type"], "title": title, "meta": {"title": title},
                               "error": {"type": "conflict"}})
            else:
                stored = {"id": item["id"], "type": item["type"], "attributes": copy.deepcopy(item["attributes"]),
                          "references": copy.deepcopy(item.get("references") or []),
                          "migrationVersion": {item["type"]: "7.10.0"}, "updated_at": _iso_now(),
                          "version": self._saved_object_version()}
                self.saved_objects[key] = stored
                results.append({"type": item["type"], "id": item["id"], "meta": {"title": title}})
        answer = {"success": not errors, "successCount": len(results)}
        if results:
            answer["successResults"] = results
        if errors:
            answer["errors"] = errors
        return 200, answer

    # -- server -----------------------------------------------------------------
    def start(self, port=0, host="127.0.0.1", cert_dir=None):
        stub = self
        if cert_dir is None:
            self._tmp = tempfile.mkdtemp(prefix="opensearch-stub-")
            cert_dir = self._tmp
        cert_path, key_path = make_certificate(cert_dir)
        self.ca_path = cert_path

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output readable
                pass

            def _serve(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                status, answer = stub.handle(self.command, self.path, self.headers, body)
                raw = isinstance(answer, bytes)  # NDJSON (saved objects _export)
                payload = answer if raw else json.dumps(answer).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/ndjson" if raw else "application/json; charset=UTF-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _serve

        self.httpd = ThreadingHTTPServer((host, port), Handler)
        self.httpd.daemon_threads = True
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        self.httpd.socket = context.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.endpoint = "https://%s:%d" % (host, self.port)
        self.thread = threading.Thread(target=self.httpd.serve_forever, name="opensearch-stub", daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.httpd is not None:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.httpd = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


def start(credentials=None, region="us-east-1", port=0, fgac_denied=(), cert_dir=None, master_arn=None, role_arns=None):
    """Start a stub domain on 127.0.0.1 (HTTPS); returns the running OpenSearchStub."""
    stub = OpenSearchStub(credentials or {"testing": "testing"}, region=region, fgac_denied=fgac_denied, master_arn=master_arn,
                          role_arns=role_arns)
    return stub.start(port=port, cert_dir=cert_dir)


def main(argv=None):
    parser = argparse.ArgumentParser(description="TEST DOUBLE: SigV4-verifying OpenSearch stand-in (tests only)")
    parser.add_argument("--state-dir", required=True, help="where port, pid and ca.pem are written")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--region", default="us-east-1")
    parser.add_argument("--credential", action="append", default=[], metavar="KEY:SECRET",
                        help="accepted access key id and secret (default testing:testing)")
    parser.add_argument("--fgac-denied", action="append", default=[], metavar="KEY",
                        help="access key id refused by fine-grained access control")
    parser.add_argument("--lifetime", type=int, default=900, help="seconds before the server exits by itself")
    parser.add_argument("--master-arn", default=None, help="IAM role ARN mapped to all_access (the domain's master user)")
    parser.add_argument("--role-arn", action="append", default=[], metavar="KEY=ARN",
                        help="TEST DOUBLE: the IAM role ARN of an access key's assumed-role session; such keys are "
                             "authorised through the role mappings (fine-grained access control)")
    args = parser.parse_args(argv)
    credentials = dict(c.split(":", 1) for c in args.credential) or {"testing": "testing"}
    os.makedirs(args.state_dir, exist_ok=True)
    stub = start(credentials, region=args.region, port=args.port, fgac_denied=args.fgac_denied, cert_dir=args.state_dir,
                 master_arn=args.master_arn, role_arns=dict(r.split("=", 1) for r in args.role_arn))
    with open(os.path.join(args.state_dir, "pid"), "w") as handle:
        handle.write(str(os.getpid()))
    tmp_port = os.path.join(args.state_dir, "port.tmp")
    with open(tmp_port, "w") as handle:
        handle.write(str(stub.port))
    os.rename(tmp_port, os.path.join(args.state_dir, "port"))  # atomic: readers never see a partial file
    try:
        time.sleep(args.lifetime)
    except KeyboardInterrupt:
        pass
    stub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
