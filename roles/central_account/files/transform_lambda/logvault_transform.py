# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault transform Lambda: central Kinesis stream -> Firehose ``search`` and ``archive``.

Handler: ``logvault_transform.handler``. Standard library and boto3 only.

Each Kinesis record carries one CloudWatch Logs subscription payload
(base64 -> gzip -> JSON). It is decoded once; every log event of a DATA_MESSAGE
becomes one JSON document that goes

* to the ``search`` Firehose stream as one Firehose record, and
* to the ``archive`` Firehose stream as one NDJSON line, packed with other lines into
  records of at most 1,000 KiB.

Calls are PutRecordBatch requests of at most 500 records and 4 MiB, packed across
Kinesis records and sent by a bounded thread pool while decoding goes on. Only the
entries that failed are retried (jittered exponential backoff, bounded by the time the
invocation has left). Whatever still fails is reported through ``batchItemFailures``
with the lowest Kinesis sequence number involved, so the event source mapping retries
from there: delivery is at-least-once and duplicates are possible.

Configuration comes from environment variables; see docs/transform-lambda.md.
"""

import binascii
import concurrent.futures
import hashlib
import hmac
import json
import json.scanner
import operator
import os
import random
import re
import threading
import time
import zlib
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote, urlsplit
from json.encoder import c_make_encoder, encode_basestring, encode_basestring_ascii
from json.scanner import c_make_scanner

# boto3 and botocore are vendored into the zip (lambda-requirements.txt); the runtime's own
# copy comes after /var/task on sys.path.
import boto3
import botocore
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSPreparedRequest, AWSRequest, HeadersDict
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError
from botocore.httpsession import URLLib3Session
from botocore.utils import get_environ_proxies, normalize_url_path

# Cold start: the SDK this function runs with, logged once per execution environment (AWS's
# documented way to learn it: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included).
print(json.dumps({"message": "logvault cold start", "boto3": boto3.__version__, "botocore": botocore.__version__}))


__all__ = ["Config", "ConfigError", "LeanFirehose", "Transformer", "handler"]

# Firehose quotas. PutRecordBatch API reference
# (https://docs.aws.amazon.com/firehose/latest/APIReference/API_PutRecordBatch.html):
# "Each PutRecordBatch request supports up to 500 records. Each record in the request can
# be as large as 1,000 KB (before base64 encoding), up to a limit of 4 MB for the entire
# request." The record limit is counted before base64 (Record.Data: at most 1,024,000
# bytes, https://docs.aws.amazon.com/firehose/latest/APIReference/API_Record.html); the
# 4 MB limit is the entire request, i.e. the JSON body with every Data base64-encoded.
# It is taken as 4,000,000 bytes (the smaller reading of "MB") and counted with an upper
# bound of each entry's encoded size (see _encoded_cost).
MAX_RECORD_BYTES = 1000 * 1024
MAX_BATCH_RECORDS = 500
MAX_REQUEST_BYTES = 4000000
# Room for the request envelope: {"DeliveryStreamName":"<at most 64 characters>","Records":[...]}
REQUEST_ENVELOPE_BYTES = 1024
MAX_BATCH_BYTES = MAX_REQUEST_BYTES - REQUEST_ENVELOPE_BYTES  # encoded bytes of the entries
# Archive records are packed up to this many raw bytes: three of them fit one request
# once base64-encoded (3 x 1,300,015 + envelope < 4,000,000).
ARCHIVE_RECORD_BYTES = 975000
# ... and hold at most this many lines: the archive stream splits each record into its
# events for dynamic partitioning (multi record deaggregation, JSON), which "is capped at
# 500 per record" (https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html).
ARCHIVE_RECORD_LINES = 500
# The largest subscription payload CloudWatch Logs can send, decompressed. A PutLogEvents
# batch is at most 1,048,576 bytes counted as the sum of the messages (UTF-8) plus 26
# bytes per event, and at most 10,000 events
# (https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_PutLogEvents.html).
# In the JSON payload a message grows at most 6 times (a control character becomes
# \u00XX) and each event adds its id, timestamp and keys (under 128 bytes). Anything that
# inflates beyond this is not a CloudWatch Logs payload (a gzip bomb): it is dead-lettered.
MAX_PAYLOAD_BYTES = 6 * 1048576 + 10000 * 128


def _encoded_cost(size):
    """Bytes one record of ``size`` raw bytes takes in the request body: {"Data":"<base64>"},"""
    return 4 * ((size + 2) // 3) + 12


_FULL_RECORD_COST = _encoded_cost(MAX_RECORD_BYTES)

# Errors after which the same call may succeed.
RETRYABLE_CODES = frozenset((
    "ServiceUnavailableException", "ServiceUnavailable", "ThrottlingException", "Throttling",
    "ThrottledException", "TooManyRequestsException", "RequestLimitExceeded", "LimitExceededException",
    "ProvisionedThroughputExceededException", "InternalFailure", "InternalError", "InternalServerError",
    "InternalServiceError", "RequestTimeout", "RequestTimeoutException", "SlowDown", "PriorRequestNotComplete",
))

METRICS = (
    ("records", "Records"),
    ("events", "Events"),
    ("documents", "Documents"),
    ("control_messages", "ControlMessages"),
    ("recursion_drops", "RecursionDrops"),
    ("oversized_events", "OversizedEvents"),
    ("truncations", "Truncations"),
    ("malformed_records", "MalformedRecords"),
    ("retries", "Retries"),
    ("failures", "Failures"),
    ("put_record_batch_calls", "PutRecordBatchCalls"),
    ("archive_records", "ArchiveRecords"),
)

# Per member account (the subscription payload's owner), one more EMF line per account per
# invocation with the dimension Account: log events in, and bytes of the documents produced.
# Counted once per log-data message (Kinesis record), not per event (docs/health.md).
ACCOUNT_METRICS = (
    ("events", "AccountEvents", "Count"),
    ("bytes", "AccountBytes", "Bytes"),
)
# At most this many accounts get their own line per invocation (the busiest); the others are
# summed under Account "other". EMF allows 100 metrics per document; one line per account.
MAX_ACCOUNT_LINES = 100

_MS_SUFFIX = tuple(".%03dZ" % ms for ms in range(1000))
_EVENT_FIELDS = operator.itemgetter("timestamp", "id", "message")  # one log event's, in one call
_JSON_WS = " \t\r\n"
# Every document is padded with spaces before its newline to a multiple of 3 bytes, so
# that the base64 of a concatenation of documents is the concatenation of their base64
# forms: a whole PutRecordBatch is then encoded by one b2a_base64 call (LeanFirehose).
_PAD = (b"\n", b"  \n", b" \n")


class ConfigError(ValueError):
    """A configuration value (environment variable) is missing or invalid."""


class MalformedRecord(ValueError):
    """A Kinesis record that is not base64, not gzip, not JSON or not a subscription payload."""

    def __init__(self, reason, detail):
        super().__init__("%s: %s" % (reason, detail))
        self.reason = reason


def _reject_constant(name):
    raise ValueError("%s is not JSON" % name)


def _not_serialisable(value):
    raise TypeError("%r is not JSON serialisable" % (value,))


# The C scanner and encoder of the json module, called directly: JSONDecoder.decode and
# JSONEncoder.encode add Python-level overhead (a regex per call) that shows on the hot path.
# NaN/Infinity are not JSON: a message using them is treated as plain text.
_scan_message = c_make_scanner(json.JSONDecoder(parse_constant=_reject_constant)) if c_make_scanner else None
_scan_message = _scan_message or json.scanner.py_make_scanner(json.JSONDecoder(parse_constant=_reject_constant))
if c_make_encoder is not None:
    _FIELDS_ENCODER = c_make_encoder(None, _not_serialisable, encode_basestring, None, ":", ",", False, False, False)

    def _encode_fields(value):
        return "".join(_FIELDS_ENCODER(value, 0))
else:  # pragma: no cover - CPython always has the C encoder
    _encode_fields = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _int_setting(environ, name, default, low, high):
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ConfigError("%s must be an integer between %d and %d, got %r" % (name, low, high, raw)) from None
    if not low <= value <= high:
        raise ConfigError("%s must be an integer between %d and %d, got %r" % (name, low, high, raw))
    return value


def _required(environ, name):
    value = (environ.get(name) or "").strip()
    if not value:
        raise ConfigError("%s is required (the transform Lambda cannot run without it)" % name)
    return value


class Config:
    """Validated settings. ``Config.from_environ(os.environ)`` is what the handler uses."""

    def __init__(self, search_stream, archive_stream, dlq_bucket, dlq_prefix="malformed/", excluded_log_groups=(),
                 max_workers=8, max_attempts=0, backoff_base_ms=100, backoff_max_ms=5000, time_reserve_ms=2000,
                 dlq_kms_key_id=None, metrics_namespace="LogVault/Transform", firehose_client="lean",
                 central_account_id=None, min_call_ms=250, call_timeout_ms=30000, oversized_prefix="oversized/"):
        self.search_stream = search_stream
        self.archive_stream = archive_stream
        self.dlq_bucket = dlq_bucket
        self.dlq_prefix = dlq_prefix
        exact, prefixes = set(), []
        for name in excluded_log_groups:
            if name.endswith("*"):
                prefixes.append(name[:-1])
            else:
                exact.add(name)
        self.excluded_exact = frozenset(exact)
        self.excluded_prefixes = tuple(prefixes)
        self.max_workers = max_workers
        self.max_attempts = max_attempts  # 0: until the invocation's deadline
        # The recursion guard only applies to this account's own log groups. None: the
        # account of the Kinesis stream (eventSourceARN), which is the central account.
        self.central_account_id = central_account_id
        self.min_call = min_call_ms / 1000.0
        self.call_timeout = call_timeout_ms / 1000.0
        self.oversized_prefix = oversized_prefix
        self.backoff_base = backoff_base_ms / 1000.0
        self.backoff_max = backoff_max_ms / 1000.0
        self.time_reserve = time_reserve_ms / 1000.0
        self.dlq_kms_key_id = dlq_kms_key_id
        self.metrics_namespace = metrics_namespace
        self.firehose_client = firehose_client

    @classmethod
    def from_environ(cls, environ):
        excluded = [part.strip() for part in (environ.get("LOGVAULT_EXCLUDED_LOG_GROUPS") or "").split(",")]
        excluded = [part for part in excluded if part]
        # The function's own log group (set by the Lambda runtime) is always excluded.
        own_group = (environ.get("AWS_LAMBDA_LOG_GROUP_NAME") or "").strip()
        if own_group and own_group not in excluded:
            excluded.append(own_group)
        for name in excluded:
            if "*" in name[:-1] or name == "*":
                raise ConfigError("LOGVAULT_EXCLUDED_LOG_GROUPS: %r may only end with '*' (prefix match) "
                                  "and cannot be '*' alone" % name)
        prefix = environ.get("LOGVAULT_DLQ_PREFIX", "malformed/")
        if prefix.startswith("/"):
            raise ConfigError("LOGVAULT_DLQ_PREFIX must not start with '/', got %r" % prefix)
        base = _int_setting(environ, "LOGVAULT_BACKOFF_BASE_MS", 100, 1, 60000)
        cap = _int_setting(environ, "LOGVAULT_BACKOFF_MAX_MS", 5000, 1, 300000)
        if cap < base:
            raise ConfigError("LOGVAULT_BACKOFF_MAX_MS (%d) must not be below LOGVAULT_BACKOFF_BASE_MS (%d)" % (cap, base))
        central = (environ.get("LOGVAULT_CENTRAL_ACCOUNT_ID") or "").strip() or None
        if central is not None and not (len(central) == 12 and central.isdigit()):
            raise ConfigError("LOGVAULT_CENTRAL_ACCOUNT_ID must be a 12-digit account id, got %r" % central)
        oversized_prefix = environ.get("LOGVAULT_OVERSIZED_PREFIX", "oversized/")
        if oversized_prefix.startswith("/") or oversized_prefix == prefix:
            raise ConfigError("LOGVAULT_OVERSIZED_PREFIX must not start with '/' nor equal LOGVAULT_DLQ_PREFIX, got %r"
                              % oversized_prefix)
        firehose_client = (environ.get("LOGVAULT_FIREHOSE_CLIENT") or "lean").strip()
        if firehose_client not in ("lean", "boto3"):
            raise ConfigError("LOGVAULT_FIREHOSE_CLIENT must be 'lean' or 'boto3', got %r" % firehose_client)
        return cls(
            firehose_client=firehose_client,
            search_stream=_required(environ, "LOGVAULT_SEARCH_STREAM"),
            archive_stream=_required(environ, "LOGVAULT_ARCHIVE_STREAM"),
            dlq_bucket=_required(environ, "LOGVAULT_DLQ_BUCKET"),
            dlq_prefix=prefix,
            excluded_log_groups=excluded,
            max_workers=_int_setting(environ, "LOGVAULT_MAX_WORKERS", 8, 1, 64),
            max_attempts=_int_setting(environ, "LOGVAULT_MAX_ATTEMPTS", 0, 0, 1000),
            central_account_id=central,
            oversized_prefix=oversized_prefix,
            min_call_ms=_int_setting(environ, "LOGVAULT_MIN_CALL_MS", 250, 1, 60000),
            call_timeout_ms=_int_setting(environ, "LOGVAULT_CALL_TIMEOUT_MS", 30000, 100, 900000),
            backoff_base_ms=base,
            backoff_max_ms=cap,
            time_reserve_ms=_int_setting(environ, "LOGVAULT_TIME_RESERVE_MS", 2000, 0, 600000),
            dlq_kms_key_id=(environ.get("LOGVAULT_DLQ_KMS_KEY_ID") or "").strip() or None,
            metrics_namespace=(environ.get("LOGVAULT_METRICS_NAMESPACE") or "").strip() or "LogVault/Transform",
        )


def _iso_second(second, cache):
    text = cache.get(second)
    if text is None:
        parts = time.gmtime(second)
        if not 0 < parts.tm_year <= 9999:
            raise ValueError("timestamp %d is out of range" % second)
        text = "%04d-%02d-%02dT%02d:%02d:%02d" % parts[:6]
        if len(cache) > 4096:
            cache.clear()
        cache[second] = text
    return text


def iso_timestamp(millis, cache=None):
    """``millis`` (epoch milliseconds, UTC) as ISO 8601 with milliseconds: 2026-01-02T03:04:05.678Z."""
    millis = int(millis)
    second = millis // 1000
    return _iso_second(second, {} if cache is None else cache) + _MS_SUFFIX[millis - second * 1000]


def _json_string_bytes(text):
    try:
        return encode_basestring(text).encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates: escape them, the result stays valid JSON
        return encode_basestring_ascii(text).encode("ascii")


def truncate_document(head, message, tail, original_size, limit=MAX_RECORD_BYTES):
    """Rebuild a document that is over ``limit`` bytes: ``fields`` dropped, ``message`` cut.

    ``head`` ends with ``"message":``; ``tail`` holds the metadata after the message
    (starting with a comma, without the closing brace). The result carries
    ``"truncated":true`` and ``"original_size"`` (bytes of the full document) and
    ends with a newline; it is at most ``limit`` bytes.
    """
    head_b = _doc_bytes(head)
    rest_b = _doc_bytes(tail + ',"truncated":true,"original_size":%d}\n' % original_size)
    budget = limit - 2 - len(head_b) - len(rest_b)  # 2: room for the padding to a multiple of 3
    if budget < 2:
        raise MalformedRecord("oversized", "metadata alone is over %d bytes" % limit)
    # Every character costs 1 to 6 bytes once JSON-escaped (\u00XX is the worst case).
    low = min(len(message), (budget - 2) // 6)
    high = min(len(message), budget - 2)
    while low < high:
        middle = (low + high + 1) // 2
        if len(_json_string_bytes(message[:middle])) <= budget:
            low = middle
        else:
            high = middle - 1
    doc = head_b + _json_string_bytes(message[:low]) + rest_b
    return doc[:-1] + _PAD[len(doc) % 3] if len(doc) % 3 else doc


def _doc_bytes(text):
    """``text`` (JSON) as UTF-8. Lone surrogates, which UTF-8 cannot carry, can only sit
    inside JSON strings; they are written as \\uXXXX escapes so the JSON keeps its meaning."""
    try:
        return text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join(
            "\\u%04x" % ord(char) if "\ud800" <= char <= "\udfff" else char for char in text
        ).encode("utf-8")


class _Result:
    """What one delivery job (one PutRecordBatch batch or one S3 object) ended with."""

    __slots__ = ("calls", "retries", "failed", "lowest_failed", "errors")

    def __init__(self):
        self.calls = 0
        self.retries = 0
        self.failed = 0
        self.lowest_failed = None
        self.errors = {}

    def error(self, code):
        self.errors[code] = self.errors.get(code, 0) + 1


def _error_code(exc):
    if isinstance(exc, ClientError):
        error = getattr(exc, "response", {}).get("Error", {})
        code = error.get("Code") or "ClientError"
        status = getattr(exc, "response", {}).get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return code, code in RETRYABLE_CODES or status >= 500 or status == 429
    if isinstance(exc, BotoCoreError):
        # Connection errors and read/connect timeouts: the call may succeed next time.
        return type(exc).__name__, True
    return type(exc).__name__, False


# A PutRecordBatch answer whose top-level FailedPutCount is 0, recognised from its first
# member(s) ({"Encrypted":...,"FailedPutCount":0,... or {"FailedPutCount":0,...); any other
# answer is parsed in full.
_ALL_PUT = re.compile(rb'\s*\{\s*(?:"Encrypted"\s*:\s*(?:true|false)\s*,\s*)?"FailedPutCount"\s*:\s*0\s*[,}]')


def split_encoded(whole, sizes):
    """Slices (memoryviews, no copies) of ``whole``, the base64 text of records of ``sizes``
    raw bytes laid end to end, each size a multiple of 3: the base64 text of each record."""
    encoded = []
    append = encoded.append
    start = 0
    for size in sizes:
        end = start + size // 3 * 4
        append(whole[start:end])
        start = end
    return encoded


class LeanFirehose:
    """PutRecordBatch without botocore's model-driven serialiser and parser.

    boto3's ``put_record_batch`` validates, serialises and parses every record through
    the service model in Python: about four times the CPU of the whole transformation
    (bench/transform.py measures both). This client writes the same JSON 1.1 request
    itself (base64 of each record, as botocore does), signs it (SigV4, below),
    sends it with botocore's HTTP session (same TLS, proxy and timeout handling), and
    returns boto3's response shape.

    Signing is AWS Signature Version 4 as botocore's SigV4Auth does it (the unit tests
    compare the two header for header), written out for this one request shape: the
    payload is hashed once, the signing key is derived once per day and credentials,
    and the prepared request is built directly
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html). Errors raise botocore's ClientError with the AWS
    error code, and connection errors and timeouts raise botocore's own exceptions, so
    retry decisions are the same as with a boto3 client. Endpoint and region come from a
    boto3 client created the usual way (AWS_ENDPOINT_URL, AWS_REGION...); credentials from
    the public ``boto3.Session().get_credentials()`` (the same provider chain: the
    function's role on Lambda), or ``credentials`` when given.
    """

    TARGET = "Firehose_20150804.PutRecordBatch"

    def __init__(self, client, credentials=None, max_pool_connections=10, connect_timeout=5, read_timeout=30):
        self._endpoint = client.meta.endpoint_url.rstrip("/") + "/"
        self._region = client.meta.region_name
        self._credentials = credentials if credentials is not None else boto3.Session().get_credentials()
        if self._credentials is None:
            raise ConfigError("no AWS credentials found for Firehose (the function's role provides them on Lambda)")
        self._read_timeout = read_timeout
        self._http = URLLib3Session(proxies=get_environ_proxies(self._endpoint), timeout=(connect_timeout, read_timeout),
                                    max_pool_connections=max_pool_connections)
        # What SigV4 signs besides the payload, fixed for this client: the canonical URI
        # (botocore's normalisation) and the host as botocore derives it from the URL
        # (lower case, without a default port).
        self._path = quote(normalize_url_path(urlsplit(self._endpoint).path), safe="/~")
        self._host = SigV4Auth(None, "firehose", self._region).headers_to_sign(
            AWSRequest(method="POST", url=self._endpoint))["host"]
        self._keys = {}  # (day, access key, secret key) -> signing key

    @staticmethod
    def request_body(stream, records):
        """The JSON body botocore would send (Data base64-encoded), built without the model."""
        return LeanFirehose.body_of(stream, [record["Data"] for record in records])

    @staticmethod
    def body_of(stream, datas):
        """``request_body`` for a list of bytes. When every record is a multiple of 3 bytes
        long (the transform pads its documents so), base64 of the concatenation is the
        concatenation of the base64 forms: one b2a_base64 call for the whole request."""
        sizes = [len(data) for data in datas]
        if any(size % 3 for size in sizes):
            b64 = binascii.b2a_base64
            encoded = [b64(data, newline=False) for data in datas]
        else:
            encoded = split_encoded(memoryview(binascii.b2a_base64(b"".join(datas), newline=False)), sizes)
        return LeanFirehose.encoded_body(stream, encoded)

    @staticmethod
    def encoded_body(stream, encoded):
        """The request body for records given already base64-encoded: each entry is a
        bytes-like object holding the base64 text of one record's Data, or a tuple of them
        (the text in pieces, laid end to end). Each piece is copied once, into the body."""
        head = b'{"DeliveryStreamName":' + _dumps(stream).encode("utf-8") + b',"Records":['
        if not encoded:
            return head + b"]}"
        if type(encoded[0]) is tuple:  # pylint: disable=unidiomatic-typecheck
            parts = [head]
            append, extend = parts.append, parts.extend
            for entry in encoded:
                append(b'{"Data":"')
                if type(entry) is tuple:  # pylint: disable=unidiomatic-typecheck
                    extend(entry)
                else:
                    append(entry)
                append(b'"},')
            parts[-1] = b'"}]}'
            return b"".join(parts)
        encoded = list(encoded)
        encoded[0] = head + b'{"Data":"' + encoded[0]
        encoded[-1] = bytes(encoded[-1]) + b'"}]}'
        return b'"},{"Data":"'.join(encoded)

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803  pylint: disable=invalid-name
        return self.put_record_batch_within(DeliveryStreamName, Records, self._read_timeout)

    def put_record_batch_within(self, DeliveryStreamName, Records, timeout):  # noqa: N803  pylint: disable=invalid-name
        """PutRecordBatch whose read timeout is ``timeout`` seconds (capped by the caller at
        the time the invocation has left). botocore's HTTP session applies a per-request
        ``read_timeout`` from the request context (the mechanism botocore itself uses)."""
        return self._post(self.body_of(DeliveryStreamName, [record["Data"] for record in Records]), timeout)

    def put_encoded_within(self, stream, encoded, timeout):
        """``put_record_batch_within`` for records whose Data the caller has already
        base64-encoded (``encoded``: one bytes-like object of base64 text per record). The
        transform encodes each Kinesis record's documents once and shares that text between
        the search and the archive requests. When every record is accepted the answer is
        only ``{"FailedPutCount": 0}`` (the RecordIds are not parsed)."""
        return self._post(self.encoded_body(stream, encoded), timeout, brief=True)

    def signed_headers(self, body, amz_date=None):
        """The request headers, signed with SigV4 for ``body`` at ``amz_date`` (now when None,
        format 20261203T160000Z). Signed headers: content-type, host, x-amz-date,
        x-amz-security-token (temporary credentials) and x-amz-target, as botocore signs them."""
        credentials = self._credentials.get_frozen_credentials()
        if amz_date is None:
            amz_date = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
        day = amz_date[:8]
        scope = "%s/%s/firehose/aws4_request" % (day, self._region)
        token = credentials.token
        if token:
            token_line = "x-amz-security-token:%s\n" % " ".join(token.split())
            signed = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"
        else:
            token_line = ""
            signed = "content-type;host;x-amz-date;x-amz-target"
        canonical = "POST\n%s\n\ncontent-type:application/x-amz-json-1.1\nhost:%s\nx-amz-date:%s\n%sx-amz-target:%s\n\n%s\n%s" % (
            self._path, self._host, amz_date, token_line, self.TARGET, signed, hashlib.sha256(body).hexdigest())
        string_to_sign = "AWS4-HMAC-SHA256\n%s\n%s\n%s" % (
            amz_date, scope, hashlib.sha256(canonical.encode("utf-8")).hexdigest())
        cache_key = (day, credentials.access_key, credentials.secret_key)
        key = self._keys.get(cache_key)
        if key is None:
            key = ("AWS4" + credentials.secret_key).encode("utf-8")
            for part in (day, self._region, "firehose", "aws4_request"):
                key = hmac.digest(key, part.encode("utf-8"), "sha256")
            if len(self._keys) > 8:
                self._keys.clear()
            self._keys[cache_key] = key
        signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
        headers = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": self.TARGET, "X-Amz-Date": amz_date}
        if token:
            headers["X-Amz-Security-Token"] = token
        headers["Authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            credentials.access_key, scope, signed, signature)
        return headers

    def _post(self, body, timeout, brief=False):
        """Send a signed PutRecordBatch ``body``; the answer as boto3 returns it, or only
        ``{"FailedPutCount": 0}`` when ``brief`` and every record was accepted."""
        headers = HeadersDict(self.signed_headers(body))
        headers["Content-Length"] = str(len(body))
        request = AWSPreparedRequest("POST", self._endpoint, headers, body, False,
                                     {"read_timeout": max(0.001, min(timeout, self._read_timeout))})
        response = self._http.send(request)
        status = response.status_code
        content = response.content
        if brief and status == 200 and _ALL_PUT.match(content):
            # Every record was accepted: the transform needs no more than FailedPutCount, so
            # the RecordIds (one per record) are not parsed.
            return {"FailedPutCount": 0}
        try:
            answer = json.loads(content) if content else {}
        except ValueError:
            answer = {}
        if status >= 300 or not isinstance(answer, dict):
            answer = answer if isinstance(answer, dict) else {}
            code = str(answer.get("__type") or response.headers.get("x-amzn-ErrorType") or "HTTP%d" % status)
            code = code.rsplit("#", 1)[-1].split(":", 1)[0]
            message = answer.get("message") or answer.get("Message") or ""
            raise ClientError({"Error": {"Code": code, "Message": message},
                               "ResponseMetadata": {"HTTPStatusCode": status}}, "PutRecordBatch")
        return answer


class Transformer:
    """Turns one Kinesis event into Firehose deliveries. One instance per Lambda container.

    ``firehose`` and ``s3`` are boto3 clients (thread-safe); ``sleep``, ``clock`` and
    ``rand`` are injectable for tests; ``log`` receives the per-invocation log line.
    """

    def __init__(self, config, firehose, s3, sleep=time.sleep, clock=time.monotonic, rand=random.random, log=print):
        self.config = config
        self.firehose = firehose
        self.s3 = s3
        self.sleep = sleep
        self.clock = clock
        self.rand = rand
        self.log = log
        self._pool = ThreadPoolExecutor(max_workers=config.max_workers, thread_name_prefix="logvault")
        self._iso_cache = {}
        # A client that takes records already base64-encoded (LeanFirehose): each Kinesis
        # record's documents are then encoded once, for search and archive together.
        self.encoded = callable(getattr(firehose, "put_encoded_within", None))

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        config = Config.from_environ(environ)
        botocfg = BotoConfig(
            max_pool_connections=config.max_workers + 2,
            retries={"total_max_attempts": 1, "mode": "standard"},  # this module retries, bounded by time
            connect_timeout=5,
            read_timeout=30,
        )
        firehose = boto3.client("firehose", config=botocfg)
        if config.firehose_client == "lean":
            try:
                firehose = LeanFirehose(firehose, max_pool_connections=config.max_workers + 2)
            except Exception as exc:  # pylint: disable=broad-except
                # The lean client relies on botocore's public signing and HTTP classes; if they
                # cannot start (credentials, a botocore change), the boto3 client still works.
                print(json.dumps({"message": "LeanFirehose unavailable, using the boto3 client",
                                  "error": "%s: %s" % (type(exc).__name__, exc)}))
        return cls(config, firehose, boto3.client("s3", config=botocfg))

    def close(self):
        self._pool.shutdown(wait=True)

    # ------------------------------------------------------------------ delivery
    def _backoff_or_give_up(self, attempt, deadline):
        """Sleep before attempt ``attempt + 1``; False when attempts or time have run out.

        With ``max_attempts`` 0 (the default) only time limits the attempts: the next one
        must still have ``min_call`` seconds before the deadline once the sleep is over."""
        config = self.config
        if config.max_attempts and attempt >= config.max_attempts:
            return False
        delay = self.rand() * min(config.backoff_max, config.backoff_base * (2 ** min(attempt - 1, 30)))
        if self.clock() + delay + config.min_call > deadline:
            return False
        self.sleep(delay)
        return True

    def _call_timeout(self, deadline):
        """Seconds the next call may take, or None when no call can finish before the deadline."""
        left = deadline - self.clock()
        if left < self.config.min_call:
            return None
        return min(self.config.call_timeout, left)

    def _send(self, stream, datas, timeout):
        if self.encoded:
            return self.firehose.put_encoded_within(stream, datas, timeout)
        entries = [{"Data": data} for data in datas]
        within = getattr(self.firehose, "put_record_batch_within", None)
        if within is not None:
            return within(DeliveryStreamName=stream, Records=entries, timeout=timeout)
        return self.firehose.put_record_batch(DeliveryStreamName=stream, Records=entries)

    def _put_batch(self, stream, datas, sources, deadline):
        """Deliver ``datas`` (bytes; their base64 text when ``self.encoded``) to Firehose
        ``stream``; ``sources[i]`` is the lowest Kinesis record index inside ``datas[i]``.
        Retries only failed entries."""
        result = _Result()
        pending = list(range(len(datas)))
        attempt = 0
        while pending:
            attempt += 1
            timeout = self._call_timeout(deadline)
            if timeout is None:  # never start a call that cannot finish before the deadline
                result.error("DeadlineReached")
                result.failed = len(pending)
                result.lowest_failed = min(sources[i] for i in pending)
                return result
            result.calls += 1
            try:
                response = self._send(stream, datas if attempt == 1 else [datas[i] for i in pending], timeout)
            except Exception as exc:  # pylint: disable=broad-except
                code, retryable = _error_code(exc)
                result.error(code)
                failed = pending if retryable else None
            else:
                failed = []
                if response.get("FailedPutCount", 1) != 0:
                    answers = response.get("RequestResponses") or []
                    if len(answers) != len(pending):
                        result.error("MismatchedRequestResponses")
                        failed = pending
                    else:
                        for position, answer in zip(pending, answers):
                            if answer.get("ErrorCode") or not answer.get("RecordId"):
                                failed.append(position)
                                result.error(answer.get("ErrorCode") or "MissingRecordId")
            if failed is None or (failed and not self._backoff_or_give_up(attempt, deadline)):
                remaining = pending if failed is None else failed
                result.failed = len(remaining)
                result.lowest_failed = min(sources[i] for i in remaining)
                return result
            if failed:
                result.retries += len(failed)
            pending = failed
        return result

    def _put_dead_letter(self, key, body, metadata, index, deadline, content_type="application/octet-stream"):
        result = _Result()
        # ChecksumAlgorithm: S3 requires a checksum (Content-MD5 or x-amz-sdk-checksum-algorithm)
        # on every PutObject into a bucket with Object Lock; botocore computes it.
        params = {"Bucket": self.config.dlq_bucket, "Key": key, "Body": body, "Metadata": metadata,
                  "ContentType": content_type, "ChecksumAlgorithm": "SHA256"}
        if self.config.dlq_kms_key_id:
            params.update(ServerSideEncryption="aws:kms", SSEKMSKeyId=self.config.dlq_kms_key_id)
        attempt = 0
        while True:
            attempt += 1
            if self._call_timeout(deadline) is None:
                result.error("DeadlineReached")
                result.failed = 1
                result.lowest_failed = index
                return result
            try:
                self.s3.put_object(**params)
                return result
            except Exception as exc:  # pylint: disable=broad-except
                code, retryable = _error_code(exc)
                result.error(code)
            if not retryable or not self._backoff_or_give_up(attempt, deadline):
                result.failed = 1
                result.lowest_failed = index
                return result
            result.retries += 1

    # ------------------------------------------------------------------ invocation
    def handle(self, event, context=None):
        started = self.clock()
        remaining_ms = context.get_remaining_time_in_millis() if context is not None else 300000
        deadline = started + remaining_ms / 1000.0 - self.config.time_reserve
        run = _Invocation(self, deadline)
        records = (event or {}).get("Records") or []
        for index, record in enumerate(records):
            run.add_record(index, record)
        # Jobs still running past the deadline are counted as failed; a little of the
        # reserve is granted to calls whose timeout ends exactly at the deadline.
        run.finish(deadline + min(self.config.time_reserve / 2.0, 1.0))
        stats = run.stats
        failures = []
        lowest_sequence = None
        if run.lowest_failed is not None:
            lowest_sequence = records[run.lowest_failed]["kinesis"]["sequenceNumber"]
            failures.append({"itemIdentifier": lowest_sequence})
        self._emit(context, stats, run, records, lowest_sequence, started)
        return {"batchItemFailures": failures}

    def _emit(self, context, stats, run, records, lowest_sequence, started):
        function_name = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "logvault-transform")
        line = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": self.config.metrics_namespace,
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for _key, name in METRICS],
                }],
            },
            "FunctionName": function_name,
            "message": "logvault transform invocation",
            "request_id": getattr(context, "aws_request_id", None),
            "event_source_arn": records[0].get("eventSourceARN") if records else None,
            "first_sequence_number": records[0]["kinesis"]["sequenceNumber"] if records else None,
            "lowest_failed_sequence_number": lowest_sequence,
            "errors": run.errors,
            "recursion_drops_by_log_group": dict(sorted(run.dropped.items())[:20]),
            "duration_ms": int((self.clock() - started) * 1000),
        }
        for key, name in METRICS:
            line[name] = stats[key]
        self.log(json.dumps(line, separators=(",", ":"), sort_keys=False))
        for account, (events, size) in account_lines(run.by_account):
            self.log(json.dumps({
                "_aws": {
                    "Timestamp": line["_aws"]["Timestamp"],
                    "CloudWatchMetrics": [{
                        "Namespace": self.config.metrics_namespace,
                        "Dimensions": [["Account"]],
                        "Metrics": [{"Name": name, "Unit": unit} for _key, name, unit in ACCOUNT_METRICS],
                    }],
                },
                "Account": account,
                "AccountEvents": events,
                "AccountBytes": size,
            }, separators=(",", ":")))


def account_lines(by_account, limit=MAX_ACCOUNT_LINES):
    """[(account, (events, bytes))] for the EMF lines: the ``limit`` busiest accounts, and the
    rest summed as ``other``."""
    ranked = sorted(by_account.items(), key=lambda item: (-item[1][0], item[0]))
    lines = [(account or "unknown", (values[0], values[1])) for account, values in ranked[:limit]]
    rest = ranked[limit:]
    if rest:
        lines.append(("other", (sum(v[0] for _a, v in rest), sum(v[1] for _a, v in rest))))
    return lines


class _Invocation:
    """State of one handler call: open batches, submitted jobs, counters."""

    def __init__(self, transformer, deadline):
        config = transformer.config
        self.t = transformer
        self.deadline = deadline
        self.search_stream = config.search_stream
        self.archive_stream = config.archive_stream
        self.excluded_exact = config.excluded_exact
        self.excluded_prefixes = config.excluded_prefixes
        self.central_account_id = config.central_account_id
        self.stats = dict.fromkeys((key for key, _name in METRICS), 0)
        self.by_account = {}  # owner -> [log events, document bytes]
        self.errors = {}
        self.dropped = {}
        self.lowest_failed = None
        self.jobs = []
        # Open search batch: documents, the record index of each, total bytes.
        self.s_data, self.s_src, self.s_bytes = [], [], 0
        # Open archive record (lines, or chunks of their base64 text when encoded; raw bytes;
        # line count; lowest record index) and open archive batch (packed records).
        self.encoded = transformer.encoded
        self.a_lines, self.a_bytes, self.a_count, self.a_first = [], 0, 0, None
        self.b_data, self.b_src, self.b_bytes = [], [], 0

    # ---------------------------------------------------------------- submission
    def _submit(self, fn, *args, lowest=0, count=1):
        """Run ``fn`` on the pool; (future, lowest record index, entries) is kept for finish()."""
        self.jobs.append((self.t._pool.submit(fn, *args), lowest, count))

    def _submit_search(self):
        if self.s_data:
            self._submit(self.t._put_batch, self.search_stream, self.s_data, self.s_src, self.deadline,
                         lowest=self.s_src[0], count=len(self.s_data))
            self.s_data, self.s_src, self.s_bytes = [], [], 0

    def _submit_archive_batch(self):
        if self.b_data:
            self._submit(self.t._put_batch, self.archive_stream, self.b_data, self.b_src, self.deadline,
                         lowest=min(self.b_src), count=len(self.b_data))
            self.stats["archive_records"] += len(self.b_data)
            self.b_data, self.b_src, self.b_bytes = [], [], 0

    def _close_archive_record(self):
        if not self.a_lines:
            return
        # the record's bytes, or the pieces of its base64 text when encoded (joined in the body)
        data = tuple(self.a_lines) if self.encoded else b"".join(self.a_lines)
        cost = _encoded_cost(self.a_bytes)
        if len(self.b_data) >= MAX_BATCH_RECORDS or self.b_bytes + cost > MAX_BATCH_BYTES:
            self._submit_archive_batch()
        self.b_data.append(data)
        self.b_src.append(self.a_first)
        self.b_bytes += cost
        self.a_lines, self.a_bytes, self.a_count, self.a_first = [], 0, 0, None
        if len(self.b_data) >= MAX_BATCH_RECORDS or self.b_bytes > MAX_BATCH_BYTES - _FULL_RECORD_COST:
            self._submit_archive_batch()  # no full-size record fits any more: send now, overlap with decoding

    def _add_documents(self, index, docs, total):
        """Queue the documents of Kinesis record ``index`` (``total`` bytes) on both outputs.

        When the client takes base64 text (``encoded``), the documents are encoded once,
        together (each is a multiple of 3 bytes long, so the base64 of their concatenation
        is the concatenation of theirs), and the search entries and archive records are
        slices of that text: nothing is encoded twice."""
        count = len(docs)
        if self.encoded:
            whole = memoryview(binascii.b2a_base64(b"".join(docs), newline=False))
            entries = split_encoded(whole, map(len, docs))
        else:
            whole = None
            entries = docs
        # search: one document per Firehose record; the request size counts base64 (see MAX_REQUEST_BYTES).
        cost = (4 * total + 44 * count) // 3 + 1  # >= the sum of _encoded_cost over the documents
        if len(self.s_data) + count <= MAX_BATCH_RECORDS and self.s_bytes + cost <= MAX_BATCH_BYTES:
            self.s_data += entries
            self.s_src += [index] * count
            self.s_bytes += cost
        else:
            for doc, entry in zip(docs, entries):
                size = _encoded_cost(len(doc))
                if len(self.s_data) >= MAX_BATCH_RECORDS or self.s_bytes + size > MAX_BATCH_BYTES:
                    self._submit_search()
                self.s_data.append(entry)
                self.s_src.append(index)
                self.s_bytes += size
        if len(self.s_data) >= MAX_BATCH_RECORDS:
            self._submit_search()
        # archive: NDJSON lines packed into records of at most ARCHIVE_RECORD_BYTES and ARCHIVE_RECORD_LINES.
        if self.a_first is None:
            self.a_first = index
        if self.a_bytes + total <= ARCHIVE_RECORD_BYTES and self.a_count + count <= ARCHIVE_RECORD_LINES:
            if whole is None:
                self.a_lines += docs
            else:
                self.a_lines.append(whole)
            self.a_bytes += total
            self.a_count += count
        elif whole is None:
            for doc in docs:
                size = len(doc)
                if self.a_bytes + size > ARCHIVE_RECORD_BYTES or self.a_count >= ARCHIVE_RECORD_LINES:
                    self._close_archive_record()
                    self.a_first = index
                self.a_lines.append(doc)
                self.a_bytes += size
                self.a_count += 1
        else:
            chunk = position = 0  # offsets in ``whole``: start of the open chunk, end of the last line
            for doc in docs:
                size = len(doc)
                if self.a_bytes + size > ARCHIVE_RECORD_BYTES or self.a_count >= ARCHIVE_RECORD_LINES:
                    if position > chunk:
                        self.a_lines.append(whole[chunk:position])
                        chunk = position
                    self._close_archive_record()
                    self.a_first = index
                position += size // 3 * 4
                self.a_bytes += size
                self.a_count += 1
            if position > chunk:
                self.a_lines.append(whole[chunk:position])
        if self.a_bytes >= ARCHIVE_RECORD_BYTES - 256 or self.a_count >= ARCHIVE_RECORD_LINES:
            self._close_archive_record()

    def _dead_letter(self, index, record, raw, reason):
        kinesis = record.get("kinesis") or {}
        sequence = str(kinesis.get("sequenceNumber", "unknown-%d" % index))
        event_id = str(record.get("eventID") or "")
        shard = event_id.split(":", 1)[0] if ":" in event_id else "unknown-shard"
        arn = str(record.get("eventSourceARN") or "")
        stream = arn.rsplit("/", 1)[-1] if "/" in arn else "unknown-stream"
        key = "%s%s/%s/%s" % (self.t.config.dlq_prefix, stream, shard, sequence)
        metadata = {"reason": reason, "shard-id": shard, "sequence-number": sequence, "event-source-arn": arn}
        self.stats["malformed_records"] += 1
        self._submit(self.t._put_dead_letter, key, raw, metadata, index, self.deadline, lowest=index)

    # ---------------------------------------------------------------- decoding
    def add_record(self, index, record):
        stats = self.stats
        stats["records"] += 1
        data = (record.get("kinesis") or {}).get("data")
        try:
            if not isinstance(data, str):
                raise MalformedRecord("not-base64", "kinesis.data is missing")
            try:
                # base64.b64decode(data, validate=True) without its ASCII copy of the text first
                raw = binascii.a2b_base64(data, strict_mode=True)
            except (binascii.Error, ValueError) as exc:
                raise MalformedRecord("not-base64", str(exc)) from None
        except MalformedRecord as exc:
            self._dead_letter(index, record, (data if isinstance(data, str) else "").encode("utf-8", "replace"), exc.reason)
            return
        try:
            payload = _decode_payload(raw)
            self._documents(index, record, payload)
        except MalformedRecord as exc:
            self._dead_letter(index, record, raw, exc.reason)
        except RecursionError:  # nesting deeper than the interpreter's recursion limit
            self._dead_letter(index, record, raw, "too-deep")
        except MemoryError:
            self._dead_letter(index, record, raw, "too-large")

    def _documents(self, index, record, payload):
        stats = self.stats
        kind = payload.get("messageType")
        if kind == "CONTROL_MESSAGE":
            stats["control_messages"] += 1
            return
        if kind != "DATA_MESSAGE":
            raise MalformedRecord("not-subscription", "messageType is %r" % (kind,))
        try:
            events = payload["logEvents"]
            log_group = payload["logGroup"]
            if not isinstance(events, list) or not isinstance(log_group, str):
                raise TypeError("logEvents must be a list and logGroup a string")
            arn = record.get("eventSourceARN") or ""
            arn_parts = arn.split(":", 5)
            region = arn_parts[3] if len(arn_parts) > 4 else record.get("awsRegion", "")
            owner = str(payload.get("owner", ""))
            # Recursion guard: only the central account's own log groups are excluded (the
            # account id configured, else the account of the hub stream). A member account's
            # /aws/lambda/logvault-orders-api is a member's log like any other.
            if (log_group in self.excluded_exact or (self.excluded_prefixes and log_group.startswith(self.excluded_prefixes))) \
                    and owner == (self.central_account_id or (arn_parts[4] if len(arn_parts) > 5 else None)):
                stats["events"] += len(events)
                stats["recursion_drops"] += len(events)
                self.dropped[log_group] = self.dropped.get(log_group, 0) + len(events)
                return
            filters = payload.get("subscriptionFilters") or []
            tail = ',"account_id":%s,"region":%s,"log_group":%s,"log_stream":%s,"subscription_filters":%s' % (
                _dumps(owner), _dumps(region), _dumps(log_group),
                _dumps(str(payload.get("logStream", ""))), _dumps(filters))
            docs, oversized = self._render(events, tail)
            for position, head, message, full in oversized:
                docs[position] = self._oversized(index, record, head, message, tail, full)
        except MalformedRecord:
            raise
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError, OSError) as exc:
            raise MalformedRecord("not-subscription", "%s: %s" % (type(exc).__name__, exc)) from None
        count = len(events)
        stats["events"] += count
        stats["truncations"] += len(oversized)
        stats["oversized_events"] += len(oversized)
        size = sum(map(len, docs)) if docs else 0
        account = self.by_account.get(owner)
        if account is None:
            self.by_account[owner] = [count, size]
        else:
            account[0] += count
            account[1] += size
        if docs:
            stats["documents"] += len(docs)
            self._add_documents(index, docs, size)

    def _render(self, events, tail):
        """The hot loop: one UTF-8 JSON document (ending in a newline) per log event."""
        cache = self.t._iso_cache
        ms_suffix = _MS_SUFFIX
        enc = encode_basestring
        scan = _scan_message
        encode_fields = _encode_fields
        ws = _JSON_WS
        pad = _PAD
        limit = MAX_RECORD_BYTES
        fields_of = _EVENT_FIELDS
        docs = []
        append = docs.append
        last_second = None
        prefix = ""
        oversized = []
        for ev in events:
            millis, event_id, message = fields_of(ev)
            if type(millis) is not int:  # pylint: disable=unidiomatic-typecheck
                millis = int(millis)
            second = millis // 1000
            if second != last_second:
                prefix = '{"@timestamp":"' + _iso_second(second, cache)
                last_second = second
            event_id = enc(event_id) if type(event_id) is str else _dumps(event_id)  # pylint: disable=unidiomatic-typecheck
            fields = ""
            first = message[:1]
            if first == "{" or (first in ws and first and message.lstrip(ws)[:1] == "{"):
                try:
                    parsed, end = scan(message, 0 if first == "{" else len(message) - len(message.lstrip(ws)))
                    if type(parsed) is dict and (end == len(message) or not message[end:].strip(ws)):  # pylint: disable=unidiomatic-typecheck
                        # A valid JSON object: its text is embedded as is (no second serialisation)
                        # unless line breaks between tokens would split the NDJSON line.
                        fields = encode_fields(parsed) if "\n" in message or "\r" in message else message
                except (ValueError, StopIteration, RecursionError):
                    fields = ""
            if fields:
                text = f'{prefix}{ms_suffix[millis % 1000]}","event_id":{event_id},' \
                       f'"message":{enc(message)}{tail},"fields":{fields}}}\n'
            else:
                text = f'{prefix}{ms_suffix[millis % 1000]}","event_id":{event_id},"message":{enc(message)}{tail}}}\n'
            try:
                doc = text.encode("utf-8")
            except UnicodeEncodeError:
                doc = _doc_bytes(text)
            size = len(doc)
            if size % 3:
                doc = doc[:-1] + pad[size % 3]
            if len(doc) > limit:
                head = f'{prefix}{ms_suffix[millis % 1000]}","event_id":{event_id},"message":'
                oversized.append((len(docs), head, message, doc))
            append(doc)
        return docs, oversized

    def _oversized(self, index, record, head, message, tail, full):
        """A document over Firehose's record limit: the whole document is written to S3
        (``LOGVAULT_OVERSIZED_PREFIX`` in the dead-letter bucket); both outputs get a cut
        copy that says so (``truncated``, ``original_size``, ``full_document``)."""
        kinesis = record.get("kinesis") or {}
        sequence = str(kinesis.get("sequenceNumber", "unknown-%d" % index))
        event_id = str(record.get("eventID") or "")
        shard = event_id.split(":", 1)[0] if ":" in event_id else "unknown-shard"
        arn = str(record.get("eventSourceARN") or "")
        stream = arn.rsplit("/", 1)[-1] if "/" in arn else "unknown-stream"
        digest = hashlib.sha256(full).hexdigest()[:32]
        key = "%s%s/%s/%s/%s.json" % (self.t.config.oversized_prefix, stream, shard, sequence, digest)
        uri = "s3://%s/%s" % (self.t.config.dlq_bucket, key)
        metadata = {"reason": "oversized-event", "shard-id": shard, "sequence-number": sequence, "event-source-arn": arn}
        self._submit(self.t._put_dead_letter, key, full, metadata, index, self.deadline, "application/json", lowest=index)
        return truncate_document(head, message, tail + ',"full_document":' + _dumps(uri), len(full), MAX_RECORD_BYTES)

    # ---------------------------------------------------------------- completion
    def finish(self, wait_until=None):
        """Send what is open and collect the results, waiting at most until ``wait_until``
        (the transformer's clock): a job still running then counts as failed."""
        self._submit_search()
        self._close_archive_record()
        self._submit_archive_batch()
        stats = self.stats
        if wait_until is not None and self.jobs:
            concurrent.futures.wait([job for job, _lowest, _count in self.jobs],
                                    timeout=max(0.0, wait_until - self.t.clock()))
        for job, lowest, count in self.jobs:
            if not job.done():
                stats["failures"] += count
                self.errors["DeadlineExceeded"] = self.errors.get("DeadlineExceeded", 0) + 1
                if self.lowest_failed is None or lowest < self.lowest_failed:
                    self.lowest_failed = lowest
                continue
            result = job.result()
            stats["put_record_batch_calls"] += result.calls
            stats["retries"] += result.retries
            stats["failures"] += result.failed
            for code, count in result.errors.items():
                self.errors[code] = self.errors.get(code, 0) + count
            if result.lowest_failed is not None and (self.lowest_failed is None or result.lowest_failed < self.lowest_failed):
                self.lowest_failed = result.lowest_failed


def gunzip_bounded(raw, limit=MAX_PAYLOAD_BYTES):
    """``raw`` (one or more gzip members) decompressed; MalformedRecord when it is not gzip
    or when it inflates beyond ``limit`` bytes (memory stays bounded: a gzip bomb stops there)."""
    try:
        inflater = zlib.decompressobj(31)
        text = inflater.decompress(raw, limit + 1)
        while True:
            if len(text) > limit or inflater.unconsumed_tail:
                raise MalformedRecord("too-large", "decompresses to more than %d bytes" % limit)
            if not inflater.eof:
                raise MalformedRecord("not-gzip", "truncated gzip stream")
            if not inflater.unused_data:  # concatenated gzip members follow
                return text
            rest = inflater.unused_data
            inflater = zlib.decompressobj(31)
            text += inflater.decompress(rest, limit + 1 - len(text))
    except zlib.error as exc:
        raise MalformedRecord("not-gzip", str(exc)) from None


def _decode_payload(raw):
    text = gunzip_bounded(raw)
    try:
        payload = json.loads(text)
    except ValueError as exc:  # includes UnicodeDecodeError
        raise MalformedRecord("not-json", str(exc)) from None
    except RecursionError:
        raise MalformedRecord("too-deep", "JSON nested deeper than the recursion limit") from None
    if not isinstance(payload, dict):
        raise MalformedRecord("not-subscription", "payload is a JSON %s, not an object" % type(payload).__name__)
    return payload


_TRANSFORMER = None
_TRANSFORMER_LOCK = threading.Lock()


def handler(event, context):
    """Lambda entry point (``logvault_transform.handler``)."""
    global _TRANSFORMER  # pylint: disable=global-statement
    if _TRANSFORMER is None:
        with _TRANSFORMER_LOCK:
            if _TRANSFORMER is None:
                _TRANSFORMER = Transformer.from_environment()
    return _TRANSFORMER.handle(event, context)
