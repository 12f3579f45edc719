# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers (payload builders and test doubles) for the transform Lambda unit tests.

Everything named Fake* here is a TEST DOUBLE: a stand-in for a boto3 client, the
Lambda context or the clock, used only by tests.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import gzip
import importlib
import json
import os
import sys
import threading

import boto3
from botocore.awsrequest import AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
LAMBDA_DIR = os.path.join(REPO, "roles", "central_account", "files", "transform_lambda")
STREAM_ARN = "arn:aws:kinesis:eu-west-3:123456789012:stream/logvault-hub"
SHARD = "shardId-000000000004"


def load_transform():
    if LAMBDA_DIR not in sys.path:
        sys.path.insert(0, LAMBDA_DIR)
    return importlib.import_module("logvault_transform")


def sequence(index):
    """A Kinesis-like sequence number (56 digits) that orders like ``index``."""
    return "4959%052d" % (index + 1)


def subscription_payload(events, log_group="/app/orders", log_stream="i-0abc", owner="111111111111",
                         filters=("logvault-all",)):
    return {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": log_group, "logStream": log_stream,
            "subscriptionFilters": list(filters), "logEvents": events}


def control_payload():
    return {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
            "subscriptionFilters": [], "logEvents": [{
                "id": "", "timestamp": 1764227295000,
                "message": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."}]}


def kinesis_record(index, payload=None, data=None):
    """A Kinesis event record as Lambda delivers it; ``data`` (str) overrides the encoding."""
    if data is None:
        data = base64.b64encode(gzip.compress(json.dumps(payload).encode("utf-8"))).decode("ascii")
    seq = sequence(index)
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "p%d" % index, "sequenceNumber": seq,
                    "data": data, "approximateArrivalTimestamp": 1764227295.5},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "%s:%s" % (SHARD, seq),
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/transform",
        "awsRegion": "eu-west-3", "eventSourceARN": STREAM_ARN,
    }


def log_event(event_id, message, timestamp=1764227295123):
    return {"id": str(event_id), "timestamp": timestamp, "message": message}


class FakeContext:
    """TEST DOUBLE for the Lambda context; remaining time follows a FakeClock."""

    function_name = "logvault-transform-test"
    aws_request_id = "req-1"

    def __init__(self, clock=None, remaining_ms=60000):
        self.clock = clock
        self.start = clock() if clock else 0.0
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self):
        elapsed = (self.clock() - self.start) if self.clock else 0.0
        return max(0, int(self.remaining_ms - elapsed * 1000))


def request_size(stream, datas):
    """Bytes of the PutRecordBatch JSON body botocore sends for these records."""
    body = {"DeliveryStreamName": stream, "Records": [{"Data": base64.b64encode(d).decode("ascii")} for d in datas]}
    return len(json.dumps(body, separators=(",", ":")))


class FakeClock:
    """TEST DOUBLE for time.monotonic/time.sleep: sleeping advances the clock instantly."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps = []
        self.lock = threading.Lock()

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        with self.lock:
            self.sleeps.append(seconds)
            self.now += seconds


class FakeFirehose:
    """TEST DOUBLE for a boto3 Firehose client.

    It enforces the PutRecordBatch quotas (500 records, 4 MiB per call, 1,000 KiB per
    record) and fails entries when ``fail(stream, data, attempt)`` returns an error code
    (per-entry failure) or raises (whole call). Delivered records are kept per stream.
    """

    def __init__(self, fail=None):
        self.fail = fail
        self.lock = threading.Lock()
        self.calls = []
        self.delivered = {}
        self.attempts = {}

    def put_record_batch(self, DeliveryStreamName, Records):  # noqa: N803 (boto3 parameter names)
        datas = [record["Data"] for record in Records]
        assert 1 <= len(datas) <= 500, len(datas)
        # "up to a limit of 4 MB for the entire request" (PutRecordBatch API reference): the
        # JSON body, every Data base64-encoded. 4 MB read as 4,000,000 bytes.
        assert request_size(DeliveryStreamName, datas) <= 4000000, request_size(DeliveryStreamName, datas)
        assert all(len(d) <= 1000 * 1024 for d in datas), max(len(d) for d in datas)
        with self.lock:
            self.calls.append((DeliveryStreamName, datas))
            call_number = len([c for c in self.calls if c[0] == DeliveryStreamName])
        answers, failed = [], 0
        for data in datas:
            with self.lock:
                attempt = self.attempts[(DeliveryStreamName, data)] = self.attempts.get((DeliveryStreamName, data), 0) + 1
            code = self.fail(DeliveryStreamName, data, attempt, call_number) if self.fail else None
            if code:
                failed += 1
                answers.append({"ErrorCode": code, "ErrorMessage": "injected"})
            else:
                with self.lock:
                    self.delivered.setdefault(DeliveryStreamName, []).append(data)
                answers.append({"RecordId": "rid-%d" % len(answers)})
        return {"FailedPutCount": failed, "Encrypted": False, "RequestResponses": answers}

    def documents(self, stream):
        """Every delivered document (archive records are split into their NDJSON lines)."""
        docs = []
        for data in self.delivered.get(stream, []):
            assert data.endswith(b"\n")
            docs.extend(json.loads(line) for line in data.decode("utf-8").splitlines())
        return docs


class FakeS3:
    """TEST DOUBLE for a boto3 S3 client: keeps put_object calls; ``fail`` may raise."""

    def __init__(self, fail=None):
        self.fail = fail
        self.objects = {}
        self.calls = 0
        self.lock = threading.Lock()

    def put_object(self, **params):
        with self.lock:
            self.calls += 1
        if self.fail:
            self.fail(params)
        with self.lock:
            self.objects[params["Key"]] = params
        return {"ETag": '"e"'}


class RawBody:
    """TEST DOUBLE for urllib3's raw response body."""

    def __init__(self, body):
        self.body = body

    def stream(self, **_kwargs):
        yield self.body


class WireHttp:
    """TEST DOUBLE for botocore's URLLib3Session under a LeanFirehose: every request is
    checked the way Firehose would check it (signature, 4 MB body, JSON with base64 Data),
    its records are decoded and handed to ``backend`` (a FakeFirehose, or one that injects
    faults), and the backend's answer goes back over the wire: a JSON body, an AWS error
    body with its HTTP status, or the connection error it raised."""

    def __init__(self, backend, client):
        self.backend = backend
        self.client = client
        self.bodies = []

    def send(self, request):
        body = request.body
        assert len(body) <= 4000000, len(body)  # "up to a limit of 4 MB for the entire request"
        assert request.headers["Content-Length"] == str(len(body))
        expected = self.client.signed_headers(body, request.headers["X-Amz-Date"])["Authorization"]
        assert request.headers["Authorization"] == expected
        self.bodies.append(body)
        sent = json.loads(body)
        records = [{"Data": base64.b64decode(record["Data"], validate=True)} for record in sent["Records"]]
        try:
            answer = self.backend.put_record_batch(DeliveryStreamName=sent["DeliveryStreamName"], Records=records)
        except ClientError as exc:
            error = exc.response["Error"]
            status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 400)
            payload = json.dumps({"__type": error["Code"], "message": error.get("Message", "")}).encode()
            return AWSResponse(request.url, status, {}, RawBody(payload))
        return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.1"},
                           RawBody(json.dumps(answer).encode()))


def lean_over(transform, backend):
    """A real LeanFirehose whose HTTP layer is a WireHttp TEST DOUBLE in front of ``backend``."""
    client = transform.LeanFirehose(
        boto3.client("firehose", region_name="eu-west-3", aws_access_key_id="AKIDWIRE", aws_secret_access_key="s"),
        credentials=Credentials("AKIDWIRE", "secret", "token"))
    client._http = WireHttp(backend, client)  # pylint: disable=protected-access
    return client
