# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""LeanFirehose: the PutRecordBatch transport that skips botocore's model serialiser.

It must send exactly what botocore sends, sign it, and fail the way a boto3 client fails.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.credentials import Credentials
from botocore.exceptions import ClientError, EndpointConnectionError, ReadTimeoutError

from transform_fixtures import FakeContext, RawBody, kinesis_record, log_event, subscription_payload


_Raw = RawBody  # TEST DOUBLE for urllib3's raw response (transform_fixtures)


class FakeHttp:
    """TEST DOUBLE for botocore's URLLib3Session: records requests, answers from a queue."""

    def __init__(self, answers):
        self.answers = list(answers)
        self.requests = []

    def send(self, request):
        self.requests.append(request)
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        status, headers, body = answer
        return AWSResponse(request.url, status, headers, _Raw(body))


def _boto3_client():
    return boto3.client("firehose", region_name="eu-west-3", aws_access_key_id="AKIDLEAN", aws_secret_access_key="secret",
                        aws_session_token="token")


def _lean(transform, answers):
    client = transform.LeanFirehose(_boto3_client(), credentials=Credentials("AKIDLEAN", "secret", "token"))
    client._http = FakeHttp(answers)  # pylint: disable=protected-access
    return client


@pytest.mark.parametrize("datas", [[b"a"], [b"{\"x\": 1}\n", "é🚀".encode("utf-8"), b"\x00\xff" * 300], []])
def test_request_body_is_what_botocore_sends(transform, datas):
    client = _boto3_client()
    sent = []

    def capture(request, **_kwargs):
        sent.append(request)
        return AWSResponse(request.url, 200, {}, _Raw(b'{"FailedPutCount":0,"RequestResponses":[]}'))

    client.meta.events.register("before-send.firehose.PutRecordBatch", capture)
    records = [{"Data": data} for data in datas]
    try:
        client.put_record_batch(DeliveryStreamName='search "main"', Records=records)
    except Exception:  # pylint: disable=broad-except
        pass  # botocore validates Records (min 1); only the body it built matters here
    lean_body = transform.LeanFirehose.request_body('search "main"', records)
    assert json.loads(lean_body) == {"DeliveryStreamName": 'search "main"',
                                     "Records": [{"Data": __import__("base64").b64encode(d).decode()} for d in datas]}
    if sent:
        assert json.loads(sent[0].body) == json.loads(lean_body)


def test_signed_request_and_boto3_response_shape(transform):
    answer = {"FailedPutCount": 1, "Encrypted": True,
              "RequestResponses": [{"RecordId": "r1"}, {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "Slow down."}]}
    client = _lean(transform, [(200, {}, json.dumps(answer).encode())])
    assert client.put_record_batch(DeliveryStreamName="search", Records=[{"Data": b"1"}, {"Data": b"2"}]) == answer
    (request,) = client._http.requests  # pylint: disable=protected-access
    assert request.url == "https://firehose.eu-west-3.amazonaws.com/"
    assert request.method == "POST"
    headers = {k.lower(): v for k, v in request.headers.items()}
    assert headers["x-amz-target"] == "Firehose_20150804.PutRecordBatch"
    assert headers["content-type"] == "application/x-amz-json-1.1"
    assert headers["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLEAN/")
    assert "/eu-west-3/firehose/aws4_request" in headers["authorization"]
    assert headers["x-amz-security-token"] == "token"


@pytest.mark.parametrize("status, headers, body, code", [
    (400, {}, b'{"__type":"com.amazonaws.firehose#ResourceNotFoundException","message":"no stream"}', "ResourceNotFoundException"),
    (400, {}, b'{"__type":"ServiceUnavailableException","message":"Slow down."}', "ServiceUnavailableException"),
    (403, {"x-amzn-ErrorType": "AccessDeniedException:http://internal"}, b"", "AccessDeniedException"),
    (503, {}, b"<html>gateway</html>", "HTTP503"),
])
def test_errors_raise_client_error_with_the_aws_code(transform, status, headers, body, code):
    client = _lean(transform, [(status, headers, body)])
    with pytest.raises(ClientError) as caught:
        client.put_record_batch(DeliveryStreamName="search", Records=[{"Data": b"1"}])
    assert caught.value.response["Error"]["Code"] == code
    assert caught.value.response["ResponseMetadata"]["HTTPStatusCode"] == status


def test_lean_client_errors_drive_the_same_retries(transform, make_transformer, clock):
    ok = json.dumps({"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"}]}).encode()
    client = _lean(transform, [
        (400, {}, b'{"__type":"ServiceUnavailableException","message":"Slow down."}'),
        ReadTimeoutError(endpoint_url="https://firehose.eu-west-3.amazonaws.com/"),
        EndpointConnectionError(endpoint_url="https://firehose.eu-west-3.amazonaws.com/"),
        (200, {}, ok), (200, {}, ok),
    ])
    transformer, lines = make_transformer(client, max_workers=1)
    record = kinesis_record(0, subscription_payload([log_event(1, "hello")]))
    assert transformer.handle({"Records": [record]}, FakeContext(clock)) == {"batchItemFailures": []}
    expected = {"ServiceUnavailableException": 1, "ReadTimeoutError": 1, "EndpointConnectionError": 1}
    assert json.loads(lines[0])["errors"] == expected
    client = _lean(transform, [(400, {}, b'{"__type":"ResourceNotFoundException"}'), (200, {}, ok)])
    transformer, lines = make_transformer(client, max_workers=1)
    answer = transformer.handle({"Records": [record]}, FakeContext(clock))
    assert answer["batchItemFailures"] == [{"itemIdentifier": record["kinesis"]["sequenceNumber"]}]


@pytest.mark.parametrize("endpoint", ["https://firehose.eu-west-3.amazonaws.com", "http://LocalHost:4566/",
                                      "https://firehose.eu-west-3.amazonaws.com:443/", "http://127.0.0.1:80/prefix/"])
@pytest.mark.parametrize("token", [None, "FwoGZXIvYXdzE  token/with+signs=="])
def test_signature_is_botocore_sigv4(transform, monkeypatch, endpoint, token):
    """The lean client signs the way botocore's SigV4Auth signs the same request, header for header."""
    import datetime

    import botocore.auth
    from botocore.awsrequest import AWSRequest

    client = boto3.client("firehose", region_name="eu-west-3", endpoint_url=endpoint, aws_access_key_id="AKIDLEAN",
                          aws_secret_access_key="secret")
    credentials = Credentials("AKIDLEAN", "secret", token)
    lean = transform.LeanFirehose(client, credentials=credentials)
    body = transform.LeanFirehose.encoded_body("search", [b"eyJ4IjoxfQog", b"YWJj"])
    ours = lean.signed_headers(body, "20261203T160405Z")

    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: datetime.datetime(2026, 12, 3, 16, 4, 5))
    request = AWSRequest(method="POST", url=client.meta.endpoint_url.rstrip("/") + "/", data=body,
                         headers={"Content-Type": "application/x-amz-json-1.1",
                                  "X-Amz-Target": "Firehose_20150804.PutRecordBatch"})
    botocore.auth.SigV4Auth(credentials.get_frozen_credentials(), "firehose", "eu-west-3").add_auth(request)
    assert ours == dict(request.headers.items())
    # and a different body gives a different signature (the payload is signed)
    assert lean.signed_headers(body + b" ", "20261203T160405Z")["Authorization"] != ours["Authorization"]


def test_sent_request_carries_length_timeout_and_signature(transform):
    ok = json.dumps({"FailedPutCount": 0, "RequestResponses": [{"RecordId": "r"}]}).encode()
    client = _lean(transform, [(200, {}, ok)])
    assert client.put_encoded_within("search", [b"YWJj"], timeout=2.5)["FailedPutCount"] == 0
    (request,) = client._http.requests  # pylint: disable=protected-access
    assert json.loads(request.body) == {"DeliveryStreamName": "search", "Records": [{"Data": "YWJj"}]}
    assert request.headers["Content-Length"] == str(len(request.body))
    assert request.context["read_timeout"] == 2.5
    assert request.headers["Authorization"] == client.signed_headers(request.body, request.headers["X-Amz-Date"])["Authorization"]


@pytest.mark.parametrize("answer, brief", [
    (b'{"FailedPutCount":0,"Encrypted":false,"RequestResponses":[{"RecordId":"r1"}]}', True),
    (b'{ "Encrypted" : true , "FailedPutCount" : 0 , "RequestResponses":[{"RecordId":"r1"}]}', True),
    (b'{"FailedPutCount":1,"RequestResponses":[{"ErrorCode":"ServiceUnavailableException","ErrorMessage":"x"}]}', False),
    # the words inside a string, not the top-level member: parsed in full
    (b'{"RequestResponses":[{"ErrorCode":"E","ErrorMessage":"\\"FailedPutCount\\":0,"}],"FailedPutCount":1}', False),
    (b'{"FailedPutCount":0e1,"RequestResponses":[{"RecordId":"r1"}]}', False),
])
def test_encoded_puts_skip_parsing_record_ids_only_when_all_were_accepted(transform, answer, brief):
    client = _lean(transform, [(200, {}, answer)])
    result = client.put_encoded_within("search", [b"YWJj"], timeout=5)
    if brief:
        assert result == {"FailedPutCount": 0}
    else:
        assert result == json.loads(answer)
    # the boto3-compatible call always returns the whole answer
    client = _lean(transform, [(200, {}, answer)])
    assert client.put_record_batch(DeliveryStreamName="search", Records=[{"Data": b"abc"}]) == json.loads(answer)


def test_encoded_body_takes_entries_in_pieces(transform):
    body = transform.LeanFirehose.encoded_body("archive", [(b"YW", b"Jj"), (memoryview(b"ZGVm"),)])
    assert json.loads(body) == {"DeliveryStreamName": "archive", "Records": [{"Data": "YWJj"}, {"Data": "ZGVm"}]}
    assert transform.LeanFirehose.encoded_body("archive", []) == b'{"DeliveryStreamName":"archive","Records":[]}'
