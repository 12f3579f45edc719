# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Helpers for the alerts Lambda tests: loading it as the zip lays it out, the role's rules,
CloudTrail events shaped as CloudTrail delivers them to CloudWatch Logs, Kinesis records."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import copy
import gzip
import importlib
import itertools
import json
import os
import sys

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(REPO, "roles", "stream_alerts")
LAMBDA_DIR = os.path.join(ROLE, "files", "alerts_lambda")
ENGINE_DIR = os.path.join(REPO, "plugins", "module_utils")
MEMBER = "111111111111"
TRAIL_GROUP = "aws-cloudtrail-logs-111111111111-org"


def load_alerts():
    """The handler module, importing cwl_filter_pattern by its bare name as in the zip."""
    for path in (ENGINE_DIR, LAMBDA_DIR):
        if path not in sys.path:
            sys.path.insert(0, path)
    return importlib.import_module("logvault_alerts")


def role_defaults():
    with open(os.path.join(ROLE, "defaults", "main.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def validated(rules):
    """The rules as the role writes them into rules.json (through the validate_alert_rules filter)."""
    from ansible_collections.logvault.aws.plugins.filter.validate_alert_rules import validate_alert_rules  # pylint: disable=import-outside-toplevel

    return validate_alert_rules(rules)


def write_rules(tmp_path, rules):
    path = os.path.join(str(tmp_path), "rules.json")
    with open(path, "w", encoding="utf-8") as handle:
        json.dump({"version": 1, "rules": validated(rules)}, handle)
    return path


def _assumed_role_identity(account):
    return {
        "type": "AssumedRole",
        "principalId": "AROAEXAMPLEROLEID0001:alice",
        "arn": "arn:aws:sts::%s:assumed-role/Admin/alice" % account,
        "accountId": account,
        "accessKeyId": "ASIAEXAMPLEKEYID0001",
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": "AROAEXAMPLEROLEID0001", "arn": "arn:aws:iam::%s:role/Admin" % account,
                              "accountId": account, "userName": "Admin"},
            "webIdFederationData": {},
            "attributes": {"creationDate": "2026-11-27T07:00:00Z", "mfaAuthenticated": "true"},
        },
    }


def cloudtrail(event_name, event_source, account=MEMBER, **fields):
    """A management event as CloudTrail writes it to CloudWatch Logs (one JSON object per log event)."""
    event = {
        "eventVersion": "1.09",
        "userIdentity": _assumed_role_identity(account),
        "eventTime": "2026-11-27T07:15:02Z",
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.10",
        "userAgent": "aws-cli/2.17.0 md/awscrt#0.20.11 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.11.8 md/pyimpl#CPython cfg/retry-mode#standard",
        "requestParameters": {},
        "responseElements": None,
        "requestID": "7f0d5d0b-8d7c-4c44-9a0f-5c8b1b8e8e10",
        "eventID": "2b7f6e7a-4c1e-4f63-9d1a-1e2f3a4b5c6d",
        "readOnly": False,
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": event_source},
    }
    for key, value in fields.items():
        if value is _DELETE:
            event.pop(key, None)
        else:
            event[key] = value
    return event


_DELETE = object()
DELETE = _DELETE


def console_login(account=MEMBER, success=True, mfa="No", identity_type="IAMUser", error_message=None):
    """A ConsoleLogin event as AWS sign-in records it."""
    identity = {"type": identity_type, "principalId": "AIDAEXAMPLEUSERID001", "arn": "arn:aws:iam::%s:user/alice" % account,
                "accountId": account, "userName": "alice"}
    if identity_type == "AssumedRole":
        identity = _assumed_role_identity(account)
    fields = {
        "userIdentity": identity,
        "eventSource": "signin.amazonaws.com",
        "userAgent": "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        "responseElements": {"ConsoleLogin": "Success" if success else "Failure"},
        "additionalEventData": {"LoginTo": "https://console.aws.amazon.com/console/home", "MobileVersion": "No", "MFAUsed": mfa},
        "readOnly": False,
        "eventType": "AwsConsoleSignIn",
        "tlsDetails": DELETE,
        "requestParameters": None,
        "requestID": DELETE,
    }
    if error_message:
        fields["errorMessage"] = error_message
    return cloudtrail("ConsoleLogin", "signin.amazonaws.com", account=account, **fields)


def root_identity(account=MEMBER, invoked_by=None):
    identity = {"type": "Root", "principalId": account, "arn": "arn:aws:iam::%s:root" % account, "accountId": account,
                "accessKeyId": "ASIAEXAMPLEROOTKEY01"}
    if invoked_by:
        identity["invokedBy"] = invoked_by
    return identity


def sequence(index):
    return "4959%052d" % (index + 1)


def kinesis_record(payload, index=0, raw=None):
    data = raw if raw is not None else gzip.compress(json.dumps(payload).encode("utf-8"))
    return {
        "kinesis": {"kinesisSchemaVersion": "1.0", "partitionKey": "pk-%d" % index, "sequenceNumber": sequence(index),
                    "data": base64.b64encode(data).decode("ascii"), "approximateArrivalTimestamp": 1764227702.0},
        "eventSource": "aws:kinesis", "eventVersion": "1.0", "eventID": "shardId-000000000000:%s" % sequence(index),
        "eventName": "aws:kinesis:record", "invokeIdentityArn": "arn:aws:iam::123456789012:role/logvault-alerts",
        "awsRegion": "us-east-1", "eventSourceARN": "arn:aws:kinesis:us-east-1:123456789012:stream/logvault-hub",
    }


def data_message(messages, log_group=TRAIL_GROUP, owner=MEMBER, start_ms=1764227702000, stream="111111111111_CloudTrail_us-east-1"):
    events = []
    for offset, message in enumerate(messages):
        if not isinstance(message, str):
            message = json.dumps(message)
        events.append({"id": "3867%052d" % (start_ms + offset), "timestamp": start_ms + offset, "message": message})
    return {"messageType": "DATA_MESSAGE", "owner": owner, "logGroup": log_group, "logStream": stream,
            "subscriptionFilters": ["logvault"], "logEvents": events}


_NEXT = itertools.count()


def event(records, first=None):
    """A Kinesis event; successive calls continue the shard's sequence numbers, as a stream does."""
    first = next(_NEXT) * 1000 if first is None else first
    return {"Records": [kinesis_record(payload, first + index) for index, payload in enumerate(records)]}


def deep(value):
    return copy.deepcopy(value)
