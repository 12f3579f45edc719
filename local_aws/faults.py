# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection: ``LOGVAULT_AWS_FAULTS`` (docs/local-aws.md, "Fault injection").

Syntax: entries separated by commas, semicolons or white space, each

    service:Operation:ErrorCode:rate[:record]

* ``service``: the request's SigV4 signing name (``firehose``, ``kinesis``, ``logs``,
  ``lambda``, ``s3``, ``sts``, ``iam``, ``dynamodb``, ``sns``, ``sqs``, ``kms``,
  ``events``...) or ``*``;
* ``Operation``: the API operation name as in the API reference (``PutRecordBatch``,
  ``PutRecords``, ``Invoke``, ``PutObject``...) or ``*``;
* ``ErrorCode``: the error code answered (``ThrottlingException``,
  ``ServiceUnavailableException``...), with the HTTP status AWS uses for it, or
  ``Timeout`` for ``lambda:Invoke``: the function is not run and the invocation fails
  with Lambda's ``Task timed out after N.00 seconds`` (every invocation: the Invoke API,
  event source mappings, Firehose processors, subscriptions);
* ``rate``: 0..1, the share of matching calls that fail;
* ``:record`` (``firehose:PutRecordBatch`` and ``kinesis:PutRecords`` only): the call
  succeeds and each record fails with that rate, reported in the response
  (``FailedPutCount``/``FailedRecordCount``, the entry's ``ErrorCode``/``ErrorMessage``), as
  those APIs report partial failures.

Determinism: each entry draws from its own ``random.Random`` seeded with
``LOGVAULT_AWS_FAULTS_SEED`` (default 0) and the entry's text, once per matching call, so
the n-th matching call of an entry fails or not the same way on every run with the same
seed (concurrent calls may take numbers in a different order).

An injected error says so in its message (``Injected fault (LOGVAULT_AWS_FAULTS)``).
"""

import io
import json
import random
import re
import threading
from urllib.parse import parse_qs, unquote

from local_aws import settings

_LOCK = threading.Lock()
_STATE = {"key": None, "entries": []}
_REST_OPS = {}

_STATUS = {
    "ThrottlingException": 400, "Throttling": 400, "ThrottledException": 400,
    "ProvisionedThroughputExceededException": 400, "LimitExceededException": 400, "RequestLimitExceeded": 400,
    "TooManyRequestsException": 429,
    "ServiceUnavailableException": 503, "ServiceUnavailable": 503, "SlowDown": 503,
    "InternalFailure": 500, "InternalServerError": 500, "InternalError": 500, "ServiceException": 500,
    "KMSInternalException": 500, "InternalServiceError": 500, "InternalServerException": 500,
}
# signing name -> botocore service model name, where they differ
_MODEL_NAMES = {"es": "opensearch", "monitoring": "cloudwatch", "email": "ses", "execute-api": "apigateway"}
_REST_XML = {"s3"}
_REST_JSON = {"lambda", "es", "aoss"}


PER_RECORD = {("firehose", "PutRecordBatch"), ("kinesis", "PutRecords")}


class Entry(object):
    def __init__(self, text, service, operation, code, rate, seed, per_record=False):
        self.text = text
        self.per_record = per_record
        self.service = service
        self.operation = operation
        self.code = code
        self.rate = rate
        self.random = random.Random("%s|%s" % (seed, text))
        self.fired = 0

    def matches(self, service, operation):
        return self.service in ("*", service) and self.operation in ("*", operation)

    def draw(self):
        hit = self.random.random() < self.rate
        self.fired += hit
        return hit


def parse(spec, seed="0"):
    """Entries of a ``LOGVAULT_AWS_FAULTS`` value; ValueError naming the variable when malformed."""
    entries = []
    for text in [t for t in re.split(r"[,;\s]+", spec or "") if t]:
        parts = text.split(":")
        per_record = len(parts) == 5 and parts[4] == "record"
        if per_record:
            parts = parts[:4]
        if len(parts) != 4 or not all(parts):
            raise ValueError("LOGVAULT_AWS_FAULTS: %r is not service:Operation:ErrorCode:rate[:record]" % text)
        service, operation, code, rate_text = parts
        if per_record and (service, operation) not in PER_RECORD:
            raise ValueError("LOGVAULT_AWS_FAULTS: :record applies to firehose:PutRecordBatch and kinesis:PutRecords only, not %r"
                             % text)
        try:
            rate = float(rate_text)
        except ValueError:
            raise ValueError("LOGVAULT_AWS_FAULTS: rate %r of %r is not a number" % (rate_text, text))
        if not 0 <= rate <= 1:
            raise ValueError("LOGVAULT_AWS_FAULTS: rate %r of %r must be between 0 and 1" % (rate_text, text))
        if code == "Timeout" and (service, operation) != ("lambda", "Invoke"):
            raise ValueError("LOGVAULT_AWS_FAULTS: Timeout applies to lambda:Invoke only, not %r" % text)
        entries.append(Entry(text, service, operation, code, rate, seed, per_record))
    return entries


def entries():
    """The configured entries (parsed again when the variables change)."""
    key = (settings.get("LOGVAULT_AWS_FAULTS"), settings.get("LOGVAULT_AWS_FAULTS_SEED"))
    with _LOCK:
        if _STATE["key"] != key:
            _STATE["entries"] = parse(*key)
            _STATE["key"] = key
        return _STATE["entries"]


def reset():
    """Start every entry's sequence again (the emulator's state reset calls it)."""
    with _LOCK:
        _STATE["key"] = None
        _STATE["entries"] = []


def fired():
    """How many times each configured entry injected its fault: ``{entry text: count}``
    (``GET /_logvault/health`` reports it, so ``make chaos`` can show every fault fired)."""
    configured = entries()
    with _LOCK:
        return dict((entry.text, entry.fired) for entry in configured)


def pick(service, operation, codes=None, per_record=False):
    """The fault code for this call (or record, with ``per_record``), or None. ``codes``:
    only entries with one of these codes (``{"Timeout"}`` for the Lambda runtime); None:
    every code but Timeout."""
    configured = entries()
    if not configured:
        return None
    with _LOCK:
        for entry in configured:
            if not entry.matches(service, operation) or entry.per_record != per_record:
                continue
            if codes is None and entry.code == "Timeout":
                continue
            if codes is not None and entry.code not in codes:
                continue
            if entry.draw():
                return entry.code
    return None


# --------------------------------------------------------------------------- HTTP side

def record_fault(service, operation):
    """``(code, message)`` for one record of a batch call, or None (``:record`` entries)."""
    code = pick(service, operation, per_record=True)
    if code is None:
        return None
    return code, "Injected fault (LOGVAULT_AWS_FAULTS): %s" % code


def _signing_name(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=[^/]+/\d{8}/[^/]+/([^/]+)/aws4_request", auth)
    if match:
        return match.group(1)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    credential = (query.get("X-Amz-Credential") or [""])[0]
    parts = credential.split("/")
    return parts[3] if len(parts) >= 5 else None


def _rest_operations(service):
    with _LOCK:
        if service in _REST_OPS:
            return _REST_OPS[service]
    import botocore.loaders  # pylint: disable=import-outside-toplevel

    ops = []
    try:
        model = botocore.loaders.Loader().load_service_model(_MODEL_NAMES.get(service, service), "service-2")
    except Exception:  # pylint: disable=broad-except
        model = {"operations": {}}
    shapes = model.get("shapes", {})
    for name, op in model.get("operations", {}).items():
        http = op.get("http", {})
        uri = http.get("requestUri", "/")
        path, query = uri.partition("?")[::2]
        pattern = "^" + re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.sub(r"\\\{[^}+]+\\\}", "[^/]+", re.escape(path))) + "/?$"
        literal = len(re.sub(r"\{[^}]+\}", "", path))
        keys = [q.split("=", 1)[0] for q in query.split("&") if q]
        headers = []
        shape = shapes.get((op.get("input") or {}).get("shape"), {})
        for member in shape.get("required", []):
            spec = shape.get("members", {}).get(member, {})
            if spec.get("location") == "querystring":
                keys.append(spec.get("locationName", member))
            elif spec.get("location") == "header":
                headers.append("HTTP_" + spec.get("locationName", member).upper().replace("-", "_"))
        ops.append((re.compile(pattern), http.get("method", "POST"), keys, headers, literal, name))
    with _LOCK:
        _REST_OPS[service] = ops
    return ops


def _rest_operation(service, environ):
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", "/"))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    best = None
    for regex, op_method, keys, headers, literal, name in _rest_operations(service):
        if op_method != method or not regex.match(path) or any(k not in query for k in keys):
            continue
        if any(h not in environ for h in headers):
            continue
        score = (len(keys), len(headers), literal)
        if best is None or score > best[0]:
            best = (score, name)
    return best[1] if best else None


def _form_action(environ):
    if "x-www-form-urlencoded" not in environ.get("CONTENT_TYPE", ""):
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return (parse_qs(body.decode("utf-8", "replace")).get("Action") or [None])[0]


def identify(environ):
    """``(service, operation)`` of a WSGI request (either may be None)."""
    service = _signing_name(environ)
    target = environ.get("HTTP_X_AMZ_TARGET")
    if target:
        return service, target.rsplit(".", 1)[-1]
    action = (parse_qs(environ.get("QUERY_STRING", "")).get("Action") or [None])[0] or _form_action(environ)
    if action:
        return service, action
    if service:
        return service, _rest_operation(service, environ)
    return service, None


def _error_response(start_response, environ, service, code):
    status = _STATUS.get(code, 400)
    message = "Injected fault (LOGVAULT_AWS_FAULTS): %s" % code
    reasons = {400: "Bad Request", 429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}
    status_line = "%d %s" % (status, reasons.get(status, "Error"))
    if environ.get("HTTP_X_AMZ_TARGET") or service in _REST_JSON:
        body = json.dumps({"__type": code, "message": message, "Message": message}).encode("utf-8")
        headers = [("Content-Type", "application/x-amz-json-1.1"), ("x-amzn-ErrorType", code)]
    elif service in _REST_XML:
        body = ("<Error><Code>%s</Code><Message>%s</Message></Error>" % (code, message)).encode("utf-8")
        headers = [("Content-Type", "application/xml")]
    else:  # query protocol (sts, iam...)
        body = ("<ErrorResponse><Error><Type>%s</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>injected</RequestId></ErrorResponse>"
                % ("Receiver" if status >= 500 else "Sender", code, message)).encode("utf-8")
        headers = [("Content-Type", "text/xml")]
    headers.append(("Content-Length", str(len(body))))
    start_response(status_line, headers)
    return [body]


def intercept(environ, start_response):
    """The WSGI response of an injected fault for this request, or None to serve it."""
    if not entries():
        return None
    service, operation = identify(environ)
    if not service or not operation:
        return None
    code = pick(service, operation)
    if code is None:
        return None
    return _error_response(start_response, environ, service, code)
