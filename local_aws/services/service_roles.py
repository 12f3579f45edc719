# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Service roles evaluated: a service acting with a role may do only what the role's
identity policies allow (switch: ``LOGVAULT_AWS_SERVICE_ROLE_POLICIES``, default in
``local_aws/settings.py``).

What AWS does (IAM User Guide, "Policy evaluation logic", "Determining whether a request is
allowed or denied within an account"): a request made with a role's credentials is
allowed only when a statement of one of the role's identity policies (inline or managed)
allows the action on the resource, and no statement denies it; everything else is an
implicit deny. A service that assumes a role (CloudWatch Logs for a destination or a
subscription filter, Firehose for its destination, Lambda for a function's execution role)
is bound by the same rule.

What this module does: :func:`evaluate` collects the role's inline policies and the
default version of each attached managed policy from moto's IAM backend and evaluates them
with moto's own statement matcher (``moto.iam.access_control.IAMPolicyStatement``) for
Action/NotAction/Resource. moto's matcher treats an Allow whose condition does not hold
as a *Deny* and knows few operators, so conditions are evaluated first with the operators of
``local_aws.services.s3_policy`` against the context the service sends; a statement whose
condition does not hold (or names a key that is not in the context) does not apply.
Actions are matched case-insensitively, ARNs case-sensitively, as on AWS; ``NotResource``
is evaluated here (moto ignores it).

Where the emulator calls it (each documented in docs/local-aws.md, "Service roles"):
CloudWatch Logs delivery to Kinesis/Firehose, Firehose writing to S3 (and its KMS key and
Lambda processor), Lambda event source mappings reading Kinesis, the on-failure
destinations, and every request a Lambda function makes with its execution role's
credentials (:func:`check_request`, called by the server).

A role that does not exist in the emulator's IAM is not evaluated (tests that never create
the role keep working; CreateFunction/CreateDeliveryStream check the role's existence
when ``LOGVAULT_AWS_TRUST_POLICIES`` is on).
"""

import fnmatch
import json
import logging
import re
import threading
from urllib.parse import parse_qs, unquote

from local_aws import settings
from local_aws.services import s3_policy

LOG = logging.getLogger("local_aws.service_roles")

SETTING = "LOGVAULT_AWS_SERVICE_ROLE_POLICIES"

ALLOW = "Allow"
EXPLICIT_DENY = "ExplicitDeny"
IMPLICIT_DENY = "ImplicitDeny"

_LOCK = threading.Lock()
_DENIALS = []  # every denial, newest last (tests and operators read it through denials())
# The kinds of denial already logged at WARNING. A kind is the place, the action, the verdict, and the role and
# resource with their account and region left out: a canary's role that may not create its Lambda log group, refused
# at every firing in every account and region, is one WARNING line, then DEBUG. denials() still lists each one.
_WARNED = set()
_ACCOUNT_OR_REGION = re.compile(r"(?<=:)(?:[0-9]{12}|[a-z]{2}(?:-[a-z]+)+-[0-9])(?=:)")


def enabled():
    return settings.get(SETTING).lower() in ("1", "true", "yes", "on")


def denials():
    with _LOCK:
        return list(_DENIALS)


def reset():
    with _LOCK:
        del _DENIALS[:]
        _WARNED.clear()
        del _LOGS_FAILED[:]
        _LAMBDA_KEYS.clear()


def _kind(role_arn, action, resource, verdict, where):
    return (where, _ACCOUNT_OR_REGION.sub("*", role_arn or ""), action, _ACCOUNT_OR_REGION.sub("*", resource or ""), verdict)


def _record(role_arn, action, resource, verdict, where):
    key = _kind(role_arn, action, resource, verdict, where)
    with _LOCK:
        _DENIALS.append({"role": role_arn, "action": action, "resource": resource, "verdict": verdict, "where": where})
        del _DENIALS[:-1000]
        first = key not in _WARNED
        if first:
            if len(_WARNED) >= 10000:
                _WARNED.clear()
            _WARNED.add(key)
    LOG.log(logging.WARNING if first else logging.DEBUG, "%s: role %s may not %s on %s (%s)%s", where, role_arn, action,
            resource, verdict, " (once for this role and resource in any account and region)" if first else " (again)")


# --------------------------------------------------------------------------- policies

def _role_key(role_arn):
    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def role_documents(role_arn):
    """The identity policy documents (dicts) of ``role_arn``, or None when the role does
    not exist in the emulator's IAM."""
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    key = _role_key(role_arn)
    if key is None:
        return None
    backend = iam_backends[key[0]]["global"]
    try:
        role = backend.get_role(key[1])
    except Exception:  # pylint: disable=broad-except
        return None
    documents = []
    for text in list(role.policies.values()):
        documents.append(_load(text))
    for policy in list(role.managed_policies.values()):
        version = next((v for v in policy.versions if v.is_default), None)
        if version is not None:
            documents.append(_load(version.document))
    return [d for d in documents if isinstance(d, dict)]


def _load(text):
    if isinstance(text, dict):
        return text
    try:
        return json.loads(text)
    except ValueError:
        try:
            return json.loads(unquote(text))
        except ValueError:
            return None


def _lower_actions(statement):
    out = dict(statement)
    for name in ("Action", "NotAction"):
        if name in out:
            out[name] = [str(a).lower() for a in s3_policy._listify(out[name])]  # pylint: disable=protected-access
    return out


def _arn_like(pattern, value):
    return pattern == "*" or fnmatch.fnmatchcase(value, pattern)


def statement_verdict(statement, action, resource, context):
    """ALLOW / EXPLICIT_DENY when the statement applies to the request, else None."""
    from moto.iam.access_control import IAMPolicyStatement, PermissionResult  # pylint: disable=import-outside-toplevel

    lowered = dict((k.lower(), v) for k, v in (context or {}).items())
    if not s3_policy.statement_conditions_hold(statement.get("Condition"), lowered):
        return None
    stripped = _lower_actions(dict((k, v) for k, v in statement.items() if k not in ("Condition", "Principal")))
    if "NotResource" in stripped:
        if any(_arn_like(p, resource) for p in s3_policy._listify(stripped.pop("NotResource"))):  # pylint: disable=protected-access
            return None
        stripped["Resource"] = "*"
    if "Resource" not in stripped:
        return None  # an identity policy statement without Resource/NotResource is invalid
    result = IAMPolicyStatement(stripped).is_action_permitted(action.lower(), resource)
    if result == PermissionResult.NEUTRAL:
        return None
    return EXPLICIT_DENY if statement.get("Effect") == "Deny" else ALLOW


def evaluate_documents(documents, action, resource, context=None):
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY for ``action`` on ``resource``."""
    allowed = False
    for document in documents:
        for statement in s3_policy._listify(document.get("Statement")):  # pylint: disable=protected-access
            if not isinstance(statement, dict):
                continue
            verdict = statement_verdict(statement, action, resource, context)
            if verdict == EXPLICIT_DENY:
                return EXPLICIT_DENY
            if verdict == ALLOW:
                allowed = True
    return ALLOW if allowed else IMPLICIT_DENY


def evaluate(role_arn, action, resource, context=None):
    """The verdict for ``role_arn``; ALLOW when the role is unknown to the emulator."""
    documents = role_documents(role_arn)
    if documents is None:
        return ALLOW
    return evaluate_documents(documents, action, resource, context)


def denied(role_arn, actions, resource, where, context=None):
    """When the switch is on and the role may not do one of ``actions`` on ``resource``:
    ``(action, verdict)`` of the first one refused (recorded in :func:`denials`); else None."""
    if not enabled() or not role_arn:
        return None
    for action in ([actions] if isinstance(actions, str) else actions):
        verdict = evaluate(role_arn, action, resource, context)
        if verdict != ALLOW:
            _record(role_arn, action, resource, verdict, where)
            return action, verdict
    return None


def not_authorized_message(principal_arn, action, resource, verdict):
    """AWS's AccessDenied wording (IAM User Guide, "Troubleshoot access denied error messages")."""
    reason = ("with an explicit deny in an identity-based policy" if verdict == EXPLICIT_DENY
              else "because no identity-based policy allows the %s action" % action)
    return "User: %s is not authorized to perform: %s on resource: %s %s" % (principal_arn, action, resource, reason)


class AccessDenied(Exception):
    """A service's own call with a role was refused (the caller turns it into the
    service's documented failure)."""

    def __init__(self, role_arn, action, resource, verdict):
        Exception.__init__(self, not_authorized_message(role_arn, action, resource, verdict))
        self.role_arn, self.action, self.resource, self.verdict = role_arn, action, resource, verdict


def require(role_arn, actions, resource, where, context=None):
    """Raise :class:`AccessDenied` when :func:`denied` refuses."""
    refused = denied(role_arn, actions, resource, where, context)
    if refused:
        raise AccessDenied(role_arn, refused[0], resource, refused[1])


# --------------------------------------------------------------------------- Lambda's own calls

_LAMBDA_KEYS = {}  # access key id -> (role ARN, session name)


def register_lambda_credentials(access_key_id, role_arn, session_name):
    """lambda_runtime calls this for the credentials it hands a function."""
    with _LOCK:
        _LAMBDA_KEYS[access_key_id] = (role_arn, session_name)


def _access_key(environ):
    auth = environ.get("HTTP_AUTHORIZATION", "")
    match = re.search(r"Credential=([^/,\s]+)/", auth)
    if match:
        return match.group(1)
    query = parse_qs(environ.get("QUERY_STRING", ""))
    credential = (query.get("X-Amz-Credential") or [""])[0]
    return credential.split("/", 1)[0] or None


def _region(environ):
    match = re.search(r"Credential=[^/]+/\d+/([^/]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    return match.group(1) if match else "us-east-1"


def _json_body(body):
    try:
        return json.loads(body.decode("utf-8") or "{}")
    except (ValueError, UnicodeDecodeError):
        return {}


def _stream_arn(params, region, account):
    return params.get("StreamARN") or "arn:aws:kinesis:%s:%s:stream/%s" % (region, account, params.get("StreamName", ""))


# JSON-protocol operations a pipeline Lambda uses -> (IAM action, resource ARN builder).
_JSON_TARGETS = {
    "Firehose_20150804": ("firehose", lambda p, r, a: "arn:aws:firehose:%s:%s:deliverystream/%s" % (r, a, p.get("DeliveryStreamName", ""))),
    "Kinesis_20131202": ("kinesis", _stream_arn),
    "DynamoDB_20120810": ("dynamodb", lambda p, r, a: "arn:aws:dynamodb:%s:%s:table/%s" % (r, a, p.get("TableName", ""))),
    "Logs_20140328": ("logs", lambda p, r, a: "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s" % (
        r, a, p.get("logGroupName", ""), p.get("logStreamName", "")) if p.get("logStreamName") else
        "arn:aws:logs:%s:%s:log-group:%s" % (r, a, p.get("logGroupName", ""))),
    "TrentService": ("kms", lambda p, r, a: _kms_arn(p.get("KeyId", ""), r, a)),
    "AmazonSQS": ("sqs", lambda p, r, a: _sqs_arn(p.get("QueueUrl", ""), r, a)),
}


def _kms_arn(key_id, region, account):
    if key_id.startswith("arn:"):
        return key_id
    if key_id.startswith("alias/"):
        return "arn:aws:kms:%s:%s:%s" % (region, account, key_id)
    return "arn:aws:kms:%s:%s:key/%s" % (region, account, key_id)


def _sqs_arn(url, region, account):
    parts = url.rstrip("/").split("/")
    if len(parts) >= 2 and parts[-2].isdigit():
        return "arn:aws:sqs:%s:%s:%s" % (region, parts[-2], parts[-1])
    return "arn:aws:sqs:%s:%s:%s" % (region, account, parts[-1])


def request_action(environ, body, account):
    """``(action, resource)`` of a request the emulator evaluates, else None (operations
    outside the table above are not evaluated: docs/local-aws.md, "What is NOT emulated")."""
    region = _region(environ)
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if "." in target:
        prefix, operation = target.split(".", 1)
        if prefix in _JSON_TARGETS:
            service, build = _JSON_TARGETS[prefix]
            params = _json_body(body)
            if prefix == "AmazonSQS" and operation == "GetQueueUrl":
                return None  # resolved by name; SendMessage is what is evaluated
            return "%s:%s" % (service, operation), build(params, region, account)
        return None
    content_type = environ.get("CONTENT_TYPE", "")
    if content_type.startswith("application/x-www-form-urlencoded"):
        params = dict((k, v[0]) for k, v in parse_qs(body.decode("utf-8", "replace")).items())
        operation = params.get("Action", "")
        if "TopicArn" in params and operation in ("Publish",):
            return "sns:%s" % operation, params["TopicArn"]
        if operation == "PutMetricData":
            return "cloudwatch:PutMetricData", "*"
        return None
    host = environ.get("HTTP_HOST", "")
    if "s3" in host or environ.get("PATH_INFO", "").count("/") >= 2:
        return _s3_action(environ)
    return None


def _s3_action(environ):
    method = environ.get("REQUEST_METHOD", "GET")
    path = unquote(environ.get("PATH_INFO", ""))
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    host = environ.get("HTTP_HOST", "").split(":")[0]
    parts = path.lstrip("/").split("/", 1)
    if ".s3." in host or host.endswith(".localhost"):
        bucket, key = host.split(".", 1)[0], path.lstrip("/")
    else:
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
    if not bucket or not key or set(query) - {"x-id", "uploadId", "partNumber", "tagging"}:
        return None
    actions = {"PUT": "s3:PutObject", "GET": "s3:GetObject", "HEAD": "s3:GetObject", "DELETE": "s3:DeleteObject",
               "POST": "s3:PutObject"}
    if method not in actions:
        return None
    return actions[method], "arn:aws:s3:::%s/%s" % (bucket, key)


def lambda_key(environ):
    """True when the request is signed with credentials handed to a Lambda function."""
    key = _access_key(environ)
    with _LOCK:
        return key in _LAMBDA_KEYS


def check_request(environ, body):
    """For a request signed with a Lambda function's execution-role credentials: None when
    allowed (or not evaluated), else ``(status, content type, body)`` of AWS's refusal."""
    if not _any_enabled():
        return None
    key = _access_key(environ)
    with _LOCK:
        owner = _LAMBDA_KEYS.get(key)
    if owner is None:
        return None
    role_arn, session = owner
    account = role_arn.split(":")[4]
    found = request_action(environ, body, account)
    if found is None:
        return None
    action, resource = found
    principal = "arn:aws:sts::%s:assumed-role/%s/%s" % (account, role_arn.rsplit("/", 1)[-1], session)
    refused = denied(role_arn, action, resource, "Lambda function's own call")
    if refused:
        return refusal(environ, action, not_authorized_message(principal, action, resource, refused[1]))
    return _kms_refusal(environ, role_arn, principal, action, resource)


def _kms_refusal(environ, role_arn, principal, action, resource):
    """A request the caller may make, but through a CMK its role may not use (S3 SSE-KMS,
    SNS topic with a CMK): the service's answer."""
    from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel

    if not kms_policies.enabled():
        return None
    region = _region(environ)
    if action == "sns:Publish":
        key_arn = kms_policies.topic_key(resource)
        context = kms_policies.sns_context(region, resource)
        actions = ["kms:GenerateDataKey", "kms:Decrypt"]
    elif action == "s3:PutObject":
        bucket, key = resource[len("arn:aws:s3:::"):].split("/", 1)
        key_arn, bucket_key = _s3_request_key(environ, bucket, region, role_arn.split(":")[4])
        context = kms_policies.s3_context(region, bucket, key, bucket_key)
        actions = ["kms:GenerateDataKey"]
    else:
        return None
    if not key_arn:
        return None
    refused = kms_policies.denied(key_arn, actions, kms_policies.role_caller(role_arn), context, "Lambda function's own call")
    if not refused:
        return None
    message = not_authorized_message(principal, refused[0], key_arn, refused[1]).replace(
        "identity-based policy", "identity-based policy or key policy") if refused[1] == IMPLICIT_DENY else \
        not_authorized_message(principal, refused[0], key_arn, refused[1])
    if action == "sns:Publish":
        # SNS Publish: KMSAccessDeniedException (botocore sns model), HTTP 400.
        xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>KMSAccessDenied</Code><Message>%s</Message></Error>"
               "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>" % _xml(message))
        return "400 Bad Request", "text/xml", xml.encode("utf-8")
    return refusal(environ, action, message)


def _s3_request_key(environ, bucket_name, region, account):
    """(CMK ARN, bucket key enabled) a PutObject would encrypt with, or (None, False)."""
    from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel

    try:
        from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel
        from moto.utilities.utils import get_partition  # pylint: disable=import-outside-toplevel
        bucket = s3_backends[account][get_partition(region)].get_bucket(bucket_name)
    except Exception:  # pylint: disable=broad-except
        bucket = None
    key_id = None
    bucket_key = False
    if environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION", "").startswith("aws:kms"):
        key_id = environ.get("HTTP_X_AMZ_SERVER_SIDE_ENCRYPTION_AWS_KMS_KEY_ID") or "alias/aws/s3"
    elif bucket is not None:
        key_id = _bucket_kms_key(bucket)
    if bucket is not None:
        try:
            rule = (bucket.encryption or {}).get("Rule") or {}
            rule = rule[0] if isinstance(rule, list) and rule else rule
            bucket_key = str(rule.get("BucketKeyEnabled", "false")).lower() == "true"
        except Exception:  # pylint: disable=broad-except
            bucket_key = False
    if not key_id:
        return None, False
    owner = bucket.account_id if bucket is not None else account
    return kms_policies.key_arn_of(key_id, owner, region), bucket_key


def refusal(environ, action, message):
    """AWS's wire answer for an access denied, per protocol."""
    service = action.split(":", 1)[0]
    if environ.get("HTTP_X_AMZ_TARGET"):
        # JSON protocols: HTTP 400 AccessDeniedException (Firehose, Kinesis, DynamoDB, Logs, KMS, SQS).
        document = {"__type": "AccessDeniedException", "message": message, "Message": message}
        return "400 Bad Request", "application/x-amz-json-1.1", json.dumps(document).encode("utf-8")
    if service == "s3":
        xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code>"
               "<Message>%s</Message></Error>" % _xml(message))
        return "403 Forbidden", "application/xml", xml.encode("utf-8")
    code = "AuthorizationError" if service == "sns" else "AccessDenied"
    xml = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
           "<RequestId>00000000-0000-0000-0000-000000000000</RequestId></ErrorResponse>" % (code, _xml(message)))
    return "403 Forbidden", "text/xml", xml.encode("utf-8")


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# --------------------------------------------------------------------------- services acting with a role

_ACTING = threading.local()  # the role a service is writing to S3 with, in this thread

LOGS_TARGET_ACTIONS = {"kinesis": "kinesis:PutRecord", "firehose": "firehose:PutRecord"}
# Lambda, "Using Lambda with Kinesis" > "Execution role permissions" / the
# CreateEventSourceMapping answer (strict_iam_propagation.LAMBDA_ESM) names these actions.
ESM_CREATE_ACTIONS = ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards")
ESM_READ_ACTIONS = ("kinesis:GetShardIterator", "kinesis:GetRecords")
ESM_PROBLEM = "PROBLEM: Insufficient permissions: the function's execution role cannot read the stream (%s)"
# Firehose, "Troubleshooting" > "Data delivery errors" (error codes written to the error log).
FIREHOSE_S3_DENIED = ("S3.AccessDenied", "Access was denied. Ensure that the trust policy for the provided IAM role "
                      "allows Firehose to assume the role, and the access policy allows access to the S3 bucket.")
FIREHOSE_KMS_DENIED = ("S3.KMS.AccessDenied", "Access was denied. Ensure that the IAM role provided allows kms:GenerateDataKey "
                       "and kms:Decrypt on the KMS key.")
FIREHOSE_LAMBDA_DENIED = ("Lambda.InvokeAccessDenied", "Access was denied. Ensure that the access policy allows access "
                          "to the Lambda function.")


def _kms_key_arn(key_id, account, region):
    """The key ARN a service would use for ``key_id`` (id, ARN or alias)."""
    if not key_id:
        return None
    if key_id.startswith("arn:") and ":alias/" not in key_id:
        return key_id
    try:
        from moto.kms.models import kms_backends  # pylint: disable=import-outside-toplevel
        parts = key_id.split(":")
        if key_id.startswith("arn:"):
            account, region, key_id = parts[4], parts[3], parts[5]
        key = kms_backends[account][region].describe_key(key_id)
        return key.arn
    except Exception:  # pylint: disable=broad-except
        return _kms_arn(key_id, region, account)


def _bucket_kms_key(bucket):
    try:
        rule = (bucket.encryption or {}).get("Rule") or {}
        if isinstance(rule, list):
            rule = rule[0] if rule else {}
        default = rule.get("ApplyServerSideEncryptionByDefault") or {}
        if default.get("SSEAlgorithm") in ("aws:kms", "aws:kms:dsse"):
            return default.get("KMSMasterKeyID")
    except Exception:  # pylint: disable=broad-except
        return None
    return None


def _wrap_service_put_object(lambda_runtime):
    original = lambda_runtime.service_put_object

    def service_put_object(account_id, region, bucket_name, key, body, kms_key_id=None):
        acting = getattr(_ACTING, "role", None)
        if acting:
            role_arn, where = acting
            require(role_arn, "s3:PutObject", "arn:aws:s3:::%s/%s" % (bucket_name, key), where)
            key_id = kms_key_id
            if not key_id:
                try:
                    from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel
                    from moto.utilities.utils import get_partition  # pylint: disable=import-outside-toplevel
                    key_id = _bucket_kms_key(s3_backends[account_id][get_partition(region)].get_bucket(bucket_name))
                except Exception:  # pylint: disable=broad-except
                    key_id = None
            key_arn = _kms_key_arn(key_id, account_id, region)
            if key_arn:
                from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel
                context = kms_policies.s3_context(region, bucket_name, key)
                if kms_policies.enabled():
                    kms_policies.require(key_arn, "kms:GenerateDataKey", role_arn, context, where)
                else:
                    require(role_arn, "kms:GenerateDataKey", key_arn, where, context)
        return original(account_id, region, bucket_name, key, body, kms_key_id=kms_key_id)

    lambda_runtime.service_put_object = service_put_object


def _any_enabled():
    from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel
    return enabled() or kms_policies.enabled()


def _acting_as(role_arn, where):
    previous = getattr(_ACTING, "role", None)
    _ACTING.role = (role_arn, where) if role_arn else None
    return previous


def _firehose_role(stream, config):
    role = config.get("RoleARN")
    if role:
        return role
    for destination in getattr(stream, "destinations", []) or []:
        for value in destination.values():
            if isinstance(value, dict) and value.get("RoleARN"):
                return value["RoleARN"]
    return None


def firehose_error_log(backend, stream, config, code, message, destination):
    """Write one Firehose error record to the stream's CloudWatch error log group (when
    enabled and the role may PutLogEvents there), as Firehose's error logging does."""
    options = config.get("CloudWatchLoggingOptions") or {}
    if not options.get("Enabled") or not options.get("LogGroupName") or not options.get("LogStreamName"):
        return False
    group, log_stream = options["LogGroupName"], options["LogStreamName"]
    region, account = backend.region_name, backend.account_id
    resource = "arn:aws:logs:%s:%s:log-group:%s:log-stream:%s" % (region, account, group, log_stream)
    if denied(_firehose_role(stream, config), "logs:PutLogEvents", resource, "Firehose error logging"):
        return False
    import time  # pylint: disable=import-outside-toplevel
    from moto.logs.models import logs_backends  # pylint: disable=import-outside-toplevel
    document = {"deliveryStreamARN": stream.delivery_stream_arn, "destination": destination,
                "deliveryStreamVersionId": int(getattr(stream, "version_id", 1) or 1),
                "message": message, "errorCode": code}
    try:
        logs_group = logs_backends[account][region]._find_log_group(log_group_name=group)  # pylint: disable=protected-access
        if log_stream not in logs_group.streams:
            logs_group.create_log_stream(log_stream)
        logs_group.put_log_events(log_stream, [{"timestamp": int(time.time() * 1000), "message": json.dumps(document)}])
    except Exception:  # pylint: disable=broad-except
        return False
    return True


def _wrap_firehose(firehose):
    original_put_s3 = firehose._put_s3  # pylint: disable=protected-access
    original_process = firehose._process  # pylint: disable=protected-access

    def _put_s3(backend, stream, config, records, *args, **kwargs):
        previous = _acting_as(_firehose_role(stream, config) if _any_enabled() else None, "Firehose delivery to S3")
        try:
            return original_put_s3(backend, stream, config, records, *args, **kwargs)
        except AccessDenied as exc:
            code, message = FIREHOSE_KMS_DENIED if exc.action.startswith("kms:") else FIREHOSE_S3_DENIED
            firehose_error_log(backend, stream, config, code, message, config.get("BucketARN", ""))
            raise  # the poller keeps the records and retries, as Firehose retries S3 for 24 hours
        finally:
            _ACTING.role = previous

    def _process(backend, stream, config, records):
        processing = config.get("ProcessingConfiguration") or {}
        lambda_arn = None
        for processor in processing.get("Processors") or [] if processing.get("Enabled") else []:
            for parameter in processor.get("Parameters") or []:
                if processor.get("Type") == "Lambda" and parameter.get("ParameterName") == "LambdaArn":
                    lambda_arn = parameter.get("ParameterValue")
        if lambda_arn and denied(_firehose_role(stream, config), "lambda:InvokeFunction", lambda_arn,
                                 "Firehose data transformation"):
            import time  # pylint: disable=import-outside-toplevel
            now_ms = int(time.time() * 1000)
            code, message = FIREHOSE_LAMBDA_DENIED
            firehose_error_log(backend, stream, config, code, message, lambda_arn)
            return [], [firehose._failure_line(data, arrival, code, message, lambda_arn, now_ms)  # pylint: disable=protected-access
                        for data, arrival, _ in records]
        return original_process(backend, stream, config, records)

    firehose._put_s3 = _put_s3  # pylint: disable=protected-access
    firehose._process = _process  # pylint: disable=protected-access


def _logs_role(item, logs):
    """The role CloudWatch Logs uses for a queued batch, and the final target."""
    arn = item["destination"].split(":", 5)
    if len(arn) > 5 and arn[2] == "logs" and arn[5].startswith("destination:"):
        destination = logs._logs_backend(arn[4], arn[3]).destinations.get(item["destination"])  # pylint: disable=protected-access
        if destination is None:
            return None, None
        return destination.role_arn, destination.target_arn
    backend = logs._logs_backend(item["owner"], item["region"])  # pylint: disable=protected-access
    group = backend.groups.get(item["logGroup"])
    found = group.subscription_filters.get(item["filter"]) if group is not None else None
    if found is not None:
        return getattr(found, "role_arn", None), item["destination"]
    policy = logs._subscription_policy(backend)  # pylint: disable=protected-access
    if policy is not None and policy.get("policyName") == item["filter"]:
        return policy["_document"].get("RoleArn"), item["destination"]
    return None, item["destination"]


def _wrap_logs(logs):
    original_deliver = logs._deliver  # pylint: disable=protected-access

    def _deliver(item):
        if _any_enabled():
            role_arn, target = _logs_role(item, logs)
            service = (target or "").split(":")[2] if target and target.count(":") >= 2 else None
            if role_arn and service in LOGS_TARGET_ACTIONS and (denied(
                    role_arn, LOGS_TARGET_ACTIONS[service], target, "CloudWatch Logs subscription delivery")
                    or _stream_key_denied(role_arn, target, "kms:GenerateDataKey", "CloudWatch Logs subscription delivery")):
                # AWS retries, then drops the batch; the AWS/Logs DeliveryErrors metric counts it.
                with _LOCK:
                    _LOGS_FAILED.append(dict(item, role=role_arn, target=target))
                    del _LOGS_FAILED[:-1000]
                return
        original_deliver(item)

    logs._deliver = _deliver  # pylint: disable=protected-access


_LOGS_FAILED = []


def failed_log_batches():
    """Subscription batches CloudWatch Logs could not deliver because its role was denied."""
    with _LOCK:
        return list(_LOGS_FAILED)


def _stream_key_denied(role_arn, stream_arn, action, where):
    """True when ``stream_arn`` is a Kinesis stream encrypted with a CMK the role may not use."""
    from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel

    if not kms_policies.enabled() or not role_arn or ":kinesis:" not in (stream_arn or ""):
        return False
    key_arn = kms_policies.stream_key(stream_arn)
    region = stream_arn.split(":")[3]
    return bool(key_arn and kms_policies.denied(key_arn, action, kms_policies.role_caller(role_arn),
                                                kms_policies.kinesis_context(region, stream_arn), where))


def _logs_test_message(role_arn, target_arn, via_destination):
    """PutSubscriptionFilter/PutAccountPolicy send a test message with the role: AWS's answer."""
    from moto.logs.exceptions import InvalidParameterException  # pylint: disable=import-outside-toplevel
    from local_aws.services import strict_iam_propagation as answers  # pylint: disable=import-outside-toplevel

    service = (target_arn or "").split(":")[2] if (target_arn or "").count(":") >= 2 else None
    if not role_arn or service not in LOGS_TARGET_ACTIONS:
        return
    if (denied(role_arn, LOGS_TARGET_ACTIONS[service], target_arn, "CloudWatch Logs test message")
            or _stream_key_denied(role_arn, target_arn, "kms:GenerateDataKey", "CloudWatch Logs test message")):
        if via_destination:
            raise InvalidParameterException(answers.LOGS_DESTINATION)
        raise InvalidParameterException(answers.LOGS_KINESIS if service == "kinesis" else answers.LOGS_FIREHOSE)


def _wrap_logs_backend(logs):
    from moto.logs.models import LogsBackend  # pylint: disable=import-outside-toplevel

    original = LogsBackend.put_subscription_filter

    def put_subscription_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn,
                                distribution=None):
        if _any_enabled():
            _test_message_for(destination_arn, role_arn)
        return original(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn, distribution)

    def _test_message_for(destination_arn, role_arn):
        arn = (destination_arn or "").split(":", 5)
        if len(arn) > 5 and arn[2] == "logs" and arn[5].startswith("destination:"):
            destination = logs._logs_backend(arn[4], arn[3]).destinations.get(destination_arn)  # pylint: disable=protected-access
            if destination is not None:
                _logs_test_message(destination.role_arn, destination.target_arn, True)
        else:
            _logs_test_message(role_arn, destination_arn, False)

    LogsBackend.put_subscription_filter = put_subscription_filter

    original_policy = logs.put_account_policy

    def put_account_policy(backend, name, document, policy_type, *args, **kwargs):
        if _any_enabled() and policy_type == "SUBSCRIPTION_FILTER_POLICY":
            try:
                doc = json.loads(document or "")
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                _test_message_for(doc.get("DestinationArn"), doc.get("RoleArn"))
        return original_policy(backend, name, document, policy_type, *args, **kwargs)

    logs.put_account_policy = put_account_policy


def _wrap_lambda_esm(lambda_esm, lambda_runtime):
    from moto.awslambda import models as lambda_models  # pylint: disable=import-outside-toplevel
    from moto.awslambda.exceptions import InvalidParameterValueException  # pylint: disable=import-outside-toplevel
    from local_aws.services import strict_iam_propagation as answers  # pylint: disable=import-outside-toplevel

    original_drive = lambda_esm._drive_shard  # pylint: disable=protected-access

    def _drive_shard(state, fn, stream, shard, force):
        role_arn = lambda_runtime._role_arn(fn)  # pylint: disable=protected-access
        refused = denied(role_arn, ESM_READ_ACTIONS, stream.arn, "Lambda event source mapping")
        if refused:
            state.last_result = ESM_PROBLEM % refused[0]
            return 0
        if _stream_key_denied(role_arn, stream.arn, "kms:Decrypt", "Lambda event source mapping"):
            state.last_result = ESM_PROBLEM % "kms:Decrypt"
            return 0
        return original_drive(state, fn, stream, shard, force)

    lambda_esm._drive_shard = _drive_shard  # pylint: disable=protected-access

    original_send = lambda_esm._send_on_failure  # pylint: disable=protected-access

    def _send_on_failure(state, fn, stream, shard_id, unit, condition):
        previous = _acting_as(lambda_runtime._role_arn(fn) if _any_enabled() else None,  # pylint: disable=protected-access
                              "Lambda on-failure destination")
        try:
            return original_send(state, fn, stream, shard_id, unit, condition)
        finally:
            _ACTING.role = previous

    lambda_esm._send_on_failure = _send_on_failure  # pylint: disable=protected-access

    original_create = lambda_models.LambdaBackend.create_event_source_mapping

    def create_event_source_mapping(self, spec):
        source = spec.get("EventSourceArn") or ""
        if enabled() and source.startswith("arn:") and source.split(":")[2] == "kinesis" and spec.get("FunctionName"):
            try:
                fn = self.get_function(spec["FunctionName"])
            except Exception:  # pylint: disable=broad-except
                fn = None  # moto answers an unknown function itself
            if fn is not None and denied(lambda_runtime._role_arn(fn), ESM_CREATE_ACTIONS, source,  # pylint: disable=protected-access
                                         "CreateEventSourceMapping"):
                raise InvalidParameterValueException(answers.LAMBDA_ESM % source)
        return original_create(self, spec)

    lambda_models.LambdaBackend.create_event_source_mapping = create_event_source_mapping


def _wrap_function_logs(lambda_runtime):
    """Lambda writes a function's logs with its execution role (Lambda Developer Guide,
    "Sending Lambda function logs to CloudWatch Logs": logs:CreateLogGroup,
    logs:CreateLogStream, logs:PutLogEvents); without them nothing is written."""
    original = lambda_runtime._save_logs  # pylint: disable=protected-access

    def _save_logs(fn, stream_name, request_id, outcome):
        if enabled():
            role_arn = lambda_runtime._role_arn(fn)  # pylint: disable=protected-access
            group = fn.logs_group_name
            group_arn = "arn:aws:logs:%s:%s:log-group:%s" % (fn.region, fn.account_id, group)
            stream_arn = "%s:log-stream:%s" % (group_arn, stream_name)
            exists = group in getattr(fn.logs_backend, "groups", {})
            if (not exists and denied(role_arn, "logs:CreateLogGroup", group_arn + ":*", "Lambda function logs")) or \
                    denied(role_arn, ["logs:CreateLogStream", "logs:PutLogEvents"], stream_arn, "Lambda function logs"):
                return None
        return original(fn, stream_name, request_id, outcome)

    lambda_runtime._save_logs = _save_logs  # pylint: disable=protected-access


def install():
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    from local_aws.services import firehose, lambda_esm, lambda_runtime, logs  # pylint: disable=import-outside-toplevel

    if _INSTALLED["done"]:
        return
    _wrap_service_put_object(lambda_runtime)
    _wrap_firehose(firehose)
    _wrap_logs(logs)
    _wrap_logs_backend(logs)
    _wrap_lambda_esm(lambda_esm, lambda_runtime)
    _wrap_function_logs(lambda_runtime)
    hooks.register_reset(reset)
    _INSTALLED["done"] = True


_INSTALLED = {"done": False}
