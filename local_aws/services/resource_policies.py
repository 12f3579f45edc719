# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource policies that deny (switch: ``LOGVAULT_AWS_RESOURCE_POLICIES``, default in
``local_aws/settings.py``).

**S3 bucket policies: Deny statements.** What AWS does (IAM User Guide, "Policy evaluation
logic": an explicit deny in any policy overrides any allow; S3 User Guide, "Bucket policy
examples"): a bucket policy statement ``"Effect": "Deny"`` whose Action, Resource, Principal
and Condition match the request refuses it, whoever the caller is, with ``403 AccessDenied``.
One exception (S3 API Reference, PutBucketPolicy): "the root principal in a bucket owner's
AWS account can perform the GetBucketPolicy, PutBucketPolicy, and DeleteBucketPolicy API
actions, even if their bucket policy explicitly denies the root principal's access" -- so a
policy that locks everyone else out of policy changes can still be replaced by the root user.

What this module does: every S3 request on the emulator's endpoint is mapped to its IAM
action (the table in :func:`s3_action`) and resource, and the bucket's Deny statements are
evaluated with the request context ``aws:SecureTransport`` = ``true`` (the emulator stands in
for AWS's HTTPS endpoints; local_aws.services.s3_policy), ``aws:PrincipalArn`` (the role of
an assumed-role session, or ``arn:aws:iam::<account>:root``) and ``aws:PrincipalAccount``.
Allow statements are not needed: the emulator does not evaluate the identity policies of the
callers that deploy (only those of service roles, local_aws.services.service_roles).

**SNS topic policies for AWS services.** What AWS does (SNS Developer Guide, "Amazon SNS
topic policies for ... EventBridge" / CloudWatch "Using Amazon CloudWatch alarms" and
"Configure AWS KMS permissions for AWS services", sns-key-management): EventBridge and
CloudWatch alarms publish to a topic only when its access policy allows the service
principal (``events.amazonaws.com``, ``cloudwatch.amazonaws.com``) ``sns:Publish``, with
``aws:SourceArn`` (the rule or alarm ARN) and ``aws:SourceAccount`` in the context, and --
for a topic encrypted with a customer managed key -- the key policy allows the same principal
``kms:GenerateDataKey*`` and ``kms:Decrypt`` (context ``aws:sns:topicArn``). Otherwise the
message is not delivered: EventBridge counts a ``FailedInvocations``, the alarm's action
fails.

What this module does: moto's EventBridge raises NotImplementedError for SNS targets and
moto's CloudWatch never runs alarm actions. Here an EventBridge rule's SNS targets publish
(with the rule's InputTransformer/Input applied by moto), and SetAlarmState into a state with
actions publishes CloudWatch's alarm message to its SNS actions, each only when the topic
policy (and the key policy) allow it; :func:`failed_deliveries` lists the refused ones.
"""

import json
import logging
import re
import threading
import time
from urllib.parse import parse_qs, unquote

from local_aws import settings
from local_aws.services import s3_policy, service_roles
from local_aws.wsgi_answer import rewritten

LOG = logging.getLogger("local_aws.resource_policies")

SETTING = "LOGVAULT_AWS_RESOURCE_POLICIES"

_LOCK = threading.Lock()
_FAILED = []
_PRINCIPALS = {}


def enabled():
    return settings.get(SETTING).lower() in ("1", "true", "yes", "on")


def failed_deliveries():
    with _LOCK:
        return list(_FAILED)


def reset():
    with _LOCK:
        del _FAILED[:]
        _PRINCIPALS.clear()


def _listify(value):
    return s3_policy._listify(value)  # pylint: disable=protected-access


def _match(patterns, value, case_insensitive=False):
    import fnmatch  # pylint: disable=import-outside-toplevel
    for pattern in _listify(patterns):
        pattern = str(pattern)
        if case_insensitive:
            if fnmatch.fnmatchcase(value.lower(), pattern.lower()):
                return True
        elif pattern == "*" or fnmatch.fnmatchcase(value, pattern):
            return True
    return False


def _statement_matches(statement, action, resource, principal_match, context):
    if "NotAction" in statement:
        if _match(statement["NotAction"], action, True):
            return False
    elif not _match(statement.get("Action"), action, True):
        return False
    if "NotResource" in statement:
        if _match(statement["NotResource"], resource):
            return False
    elif not _match(statement.get("Resource", "*"), resource):
        return False
    if not principal_match(statement.get("Principal")):
        return False
    lowered = dict((k.lower(), v) for k, v in context.items())
    return s3_policy.statement_conditions_hold(statement.get("Condition"), lowered)


# --------------------------------------------------------------------------- S3

_BUCKET_PUT = {"policy": "s3:PutBucketPolicy", "lifecycle": "s3:PutLifecycleConfiguration",
               "object-lock": "s3:PutBucketObjectLockConfiguration", "encryption": "s3:PutEncryptionConfiguration",
               "versioning": "s3:PutBucketVersioning", "tagging": "s3:PutBucketTagging",
               "publicAccessBlock": "s3:PutBucketPublicAccessBlock", "ownershipControls": "s3:PutBucketOwnershipControls",
               "notification": "s3:PutBucketNotification", "acl": "s3:PutBucketAcl", "logging": "s3:PutBucketLogging",
               "metrics": "s3:PutMetricsConfiguration", "cors": "s3:PutBucketCORS", "replication": "s3:PutReplicationConfiguration"}
_BUCKET_DELETE = {"policy": "s3:DeleteBucketPolicy", "lifecycle": "s3:PutLifecycleConfiguration",
                  "encryption": "s3:PutEncryptionConfiguration", "tagging": "s3:PutBucketTagging",
                  "publicAccessBlock": "s3:PutBucketPublicAccessBlock", "metrics": "s3:PutMetricsConfiguration"}
_BUCKET_GET = {"policy": "s3:GetBucketPolicy", "lifecycle": "s3:GetLifecycleConfiguration",
               "object-lock": "s3:GetBucketObjectLockConfiguration", "encryption": "s3:GetEncryptionConfiguration",
               "versioning": "s3:GetBucketVersioning", "tagging": "s3:GetBucketTagging", "location": "s3:GetBucketLocation",
               "publicAccessBlock": "s3:GetBucketPublicAccessBlock", "ownershipControls": "s3:GetBucketOwnershipControls",
               "notification": "s3:GetBucketNotification", "acl": "s3:GetBucketAcl", "versions": "s3:ListBucketVersions"}
_OBJECT_PUT = {"retention": "s3:PutObjectRetention", "legal-hold": "s3:PutObjectLegalHold", "tagging": "s3:PutObjectTagging",
               "acl": "s3:PutObjectAcl"}
_OBJECT_GET = {"retention": "s3:GetObjectRetention", "legal-hold": "s3:GetObjectLegalHold", "tagging": "s3:GetObjectTagging",
               "acl": "s3:GetObjectAcl"}


_LIST_PARAMETERS = ("x-id", "list-type", "prefix", "delimiter", "max-keys", "marker", "continuation-token",
                    "start-after", "encoding-type", "fetch-owner")


def _split(environ):
    """(bucket, key) of an S3 request (path style, or virtual-hosted on ``<bucket>.s3.``)."""
    path = unquote(environ.get("PATH_INFO", ""))
    host = environ.get("HTTP_HOST", "").split(":")[0]
    if ".s3." in host or re.match(r"^[^.]+\.s3$", host) or host.endswith(".s3.localhost.localstack.cloud"):
        return host.split(".", 1)[0], path.lstrip("/")
    parts = path.lstrip("/").split("/", 1)
    return parts[0], (parts[1] if len(parts) > 1 else "")


def s3_action(environ):
    """The IAM actions an S3 request needs (a list; empty when not mapped), and its resource."""
    method = environ.get("REQUEST_METHOD", "GET")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    bucket, key = _split(environ)
    if not bucket:
        return [], None
    names = [n for n in query if n not in _LIST_PARAMETERS]
    actions = []
    if key:
        resource = "arn:aws:s3:::%s/%s" % (bucket, key)
        if method in ("PUT", "POST"):
            found = [_OBJECT_PUT[n] for n in names if n in _OBJECT_PUT]
            actions = found or ["s3:PutObject"]
        elif method == "DELETE":
            if "uploadId" in query:
                actions = ["s3:AbortMultipartUpload"]
            else:
                actions = ["s3:DeleteObjectVersion" if "versionId" in query else "s3:DeleteObject"]
        elif method in ("GET", "HEAD"):
            found = [_OBJECT_GET[n] for n in names if n in _OBJECT_GET]
            actions = found or ["s3:GetObjectVersion" if "versionId" in query else "s3:GetObject"]
    else:
        resource = "arn:aws:s3:::%s" % bucket
        table = {"PUT": _BUCKET_PUT, "DELETE": _BUCKET_DELETE, "GET": _BUCKET_GET, "HEAD": {}}.get(method)
        if table is None:
            return [], resource  # POST ?delete (keys in the body): delete_objects() evaluates each object
        found = [table[n] for n in names if n in table]
        if found:
            actions = found
        elif not names:
            actions = {"PUT": [], "DELETE": ["s3:DeleteBucket"], "GET": ["s3:ListBucket"], "HEAD": ["s3:ListBucket"]}[method]
    if environ.get("HTTP_X_AMZ_BYPASS_GOVERNANCE_RETENTION", "").lower() == "true":
        actions = actions + ["s3:BypassGovernanceRetention"]
    return actions, resource


def caller_principal(environ):
    """(principal ARN, account) of the request's credentials: an assumed role's role ARN,
    else the root of the account moto resolves the key to."""
    match = re.search(r"Credential=([^/,\s]+)/", environ.get("HTTP_AUTHORIZATION", ""))
    key = match.group(1) if match else None
    with _LOCK:
        known = _PRINCIPALS.get(key)
    if known:
        return known
    from local_aws import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

    found = None
    for account in list(sts_backends.keys()):
        try:
            backend = sts_backends[account]["aws"]
        except Exception:  # pylint: disable=broad-except
            continue
        for role in list(getattr(backend, "assumed_roles", [])):
            if role.access_key_id == key:
                arn = role.role_arn
                found = (arn, arn.split(":")[4])
                break
        if found:
            break
    if found is None:
        found = ("arn:aws:iam::%s:root" % DEFAULT_ACCOUNT_ID, DEFAULT_ACCOUNT_ID)
    with _LOCK:
        _PRINCIPALS[key] = found
    return found


def _bucket(bucket_name):
    from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel
    from local_aws import DEFAULT_ACCOUNT_ID  # pylint: disable=import-outside-toplevel
    try:
        return s3_backends[DEFAULT_ACCOUNT_ID]["aws"].get_bucket(bucket_name)
    except Exception:  # pylint: disable=broad-except
        return None


def _aws_principal_matches(principal_arn, account):
    def check(principal):
        if principal == "*":
            return True
        if not isinstance(principal, dict):
            return False
        for value in _listify(principal.get("AWS")):
            value = str(value)
            if value in ("*", principal_arn, account, "arn:aws:iam::%s:root" % account):
                return True
        return False
    return check


def bucket_policy_denies(policy, action, resource, principal_arn, account):
    """True when a Deny statement of ``policy`` (a dict) applies to the request."""
    context = dict(s3_policy.REQUEST_CONTEXT)
    context.update({"aws:principalarn": principal_arn, "aws:principalaccount": account})
    for statement in _listify(policy.get("Statement")):
        if isinstance(statement, dict) and statement.get("Effect") == "Deny" and _statement_matches(
                statement, action, resource, _aws_principal_matches(principal_arn, account), context):
            return True
    return False


ROOT_ALWAYS = ("s3:GetBucketPolicy", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy")


def check_s3(environ):
    """``(status, content type, body)`` of AWS's refusal when the bucket policy denies the
    request, else None."""
    if not enabled() or "/s3/aws4_request" not in environ.get("HTTP_AUTHORIZATION", ""):
        return None
    actions, resource = s3_action(environ)
    if not actions:
        return None
    bucket = _bucket(resource[len("arn:aws:s3:::"):].split("/", 1)[0])
    if bucket is None or not getattr(bucket, "policy", None):
        return None
    try:
        policy = json.loads(bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy)
    except ValueError:
        return None
    principal_arn, account = caller_principal(environ)
    for action in actions:
        if action in ROOT_ALWAYS and principal_arn == "arn:aws:iam::%s:root" % bucket.account_id:
            continue  # S3 API Reference, PutBucketPolicy: the owner's root user is never locked out
        if bucket_policy_denies(policy, action, resource, principal_arn, account):
            message = ("User: %s is not authorized to perform: %s on resource: \"%s\" with an explicit deny in a "
                       "resource-based policy" % (principal_arn, action, resource))
            service_roles._record(principal_arn, action, resource, service_roles.EXPLICIT_DENY, "S3 bucket policy")  # pylint: disable=protected-access
            xml = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>AccessDenied</Code><Message>%s</Message>"
                   "<RequestId>0000000000000000</RequestId></Error>" % service_roles._xml(message))  # pylint: disable=protected-access
            return "403 Forbidden", "application/xml", xml.encode("utf-8")
    return None


def _delete_objects_request(environ):
    """True for DeleteObjects (``POST /<bucket>?delete``, the keys in the body)."""
    if environ.get("REQUEST_METHOD") != "POST":
        return False
    bucket, key = _split(environ)
    return bool(bucket) and not key and "delete" in parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)


def _xml_text(value):
    return service_roles._xml(value)  # pylint: disable=protected-access


def delete_objects(app, environ, start_response):
    """DeleteObjects with the bucket policy's Deny statements evaluated for each object, as AWS
    does (S3 API Reference, DeleteObjects: ``s3:DeleteObject`` for every object,
    ``s3:DeleteObjectVersion`` for one named with its ``VersionId``, and
    ``s3:BypassGovernanceRetention`` with ``x-amz-bypass-governance-retention``; the answer has an ``Error``
    with ``AccessDenied`` for each object that was not deleted, the others are deleted).
    The objects no Deny applies to go to moto; the refused ones are added to its answer."""
    import io  # pylint: disable=import-outside-toplevel
    import xml.etree.ElementTree as ElementTree  # pylint: disable=import-outside-toplevel

    if not enabled() or "/s3/aws4_request" not in environ.get("HTTP_AUTHORIZATION", "") or not _delete_objects_request(environ):
        return None
    bucket_name = _split(environ)[0]
    bucket = _bucket(bucket_name)
    if bucket is None or not getattr(bucket, "policy", None):
        return None
    try:
        policy = json.loads(bucket.policy.decode() if isinstance(bucket.policy, bytes) else bucket.policy)
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return None
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    try:
        root = ElementTree.fromstring(body)
    except ElementTree.ParseError:
        return None  # moto answers MalformedXML
    namespace = root.tag[:root.tag.index("}") + 1] if root.tag.startswith("{") else ""
    principal_arn, account = caller_principal(environ)
    bypass = (["s3:BypassGovernanceRetention"]
              if environ.get("HTTP_X_AMZ_BYPASS_GOVERNANCE_RETENTION", "").lower() == "true" else [])
    refused = []
    for element in list(root.findall(namespace + "Object")):
        key = element.findtext(namespace + "Key") or ""
        version = element.findtext(namespace + "VersionId")
        resource = "arn:aws:s3:::%s/%s" % (bucket_name, key)
        actions = ["s3:DeleteObject"] + (["s3:DeleteObjectVersion"] if version else []) + bypass
        denied = [action for action in actions if bucket_policy_denies(policy, action, resource, principal_arn, account)]
        if denied:
            service_roles._record(principal_arn, denied[0], resource, service_roles.EXPLICIT_DENY, "S3 bucket policy")  # pylint: disable=protected-access
            refused.append((key, version))
            root.remove(element)
    if not refused:
        return None
    errors = "".join(
        "<Error><Key>%s</Key>%s<Code>AccessDenied</Code><Message>Access Denied</Message></Error>"
        % (_xml_text(key), "<VersionId>%s</VersionId>" % _xml_text(version) if version else "") for key, version in refused)
    if root.find(namespace + "Object") is None:
        answer = ('<?xml version="1.0" encoding="UTF-8"?>\n<DeleteResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                  "%s</DeleteResult>" % errors).encode("utf-8")
        start_response("200 OK", [("Content-Type", "application/xml"), ("Content-Length", str(len(answer)))])
        return [answer]
    try:
        remaining = ElementTree.tostring(root, default_namespace=namespace[1:-1] or None)
    except ValueError:  # an element outside the request's namespace
        remaining = ElementTree.tostring(root)
    environ["wsgi.input"] = io.BytesIO(remaining)
    environ["CONTENT_LENGTH"] = str(len(remaining))
    for header in ("HTTP_CONTENT_MD5", "HTTP_X_AMZ_CHECKSUM_CRC32", "HTTP_X_AMZ_CHECKSUM_CRC32C", "HTTP_X_AMZ_CHECKSUM_SHA1",
                   "HTTP_X_AMZ_CHECKSUM_SHA256", "HTTP_X_AMZ_CHECKSUM_CRC64NVME"):
        environ.pop(header, None)  # they covered the body the client sent

    def with_errors(status, answer):
        if status.startswith("200") and b"</DeleteResult>" in answer:
            return answer.replace(b"</DeleteResult>", errors.encode("utf-8") + b"</DeleteResult>")
        return answer

    return rewritten(app, environ, start_response, with_errors)


# --------------------------------------------------------------------------- SNS from AWS services

def _service_principal_matches(service):
    def check(principal):
        if principal == "*":
            return True
        return isinstance(principal, dict) and service in [str(s) for s in _listify(principal.get("Service"))]
    return check


def topic_allows(topic, service, source_arn, source_account):
    """True when ``topic``'s access policy lets ``service`` publish for ``source_arn``."""
    try:
        policy = json.loads(topic.policy)
    except ValueError:
        return False
    context = dict(s3_policy.REQUEST_CONTEXT)
    context.update({"aws:sourcearn": source_arn, "aws:sourceaccount": source_account})
    allowed = False
    for statement in _listify(policy.get("Statement")):
        if not isinstance(statement, dict) or not _statement_matches(
                statement, "sns:Publish", topic.arn, _service_principal_matches(service), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def service_publish(topic_arn, service, source_arn, message, subject=None):
    """Publish ``message`` to ``topic_arn`` as ``service`` would; returns the message id, or
    None when the topic policy or its key policy refuses (recorded in failed_deliveries())."""
    from moto.sns.models import sns_backends  # pylint: disable=import-outside-toplevel
    from local_aws.services import kms_policies  # pylint: disable=import-outside-toplevel

    parts = topic_arn.split(":")
    source_account = source_arn.split(":")[4]
    try:
        topic = sns_backends[parts[4]][parts[3]].get_topic(topic_arn)
    except Exception:  # pylint: disable=broad-except
        _fail(topic_arn, service, source_arn, "topic does not exist")
        return None
    if enabled() and not topic_allows(topic, service, source_arn, source_account):
        _fail(topic_arn, service, source_arn, "the topic policy does not allow %s to publish" % service)
        return None
    key_arn = kms_policies.topic_key(topic_arn)
    if key_arn and kms_policies.denied(key_arn, ["kms:GenerateDataKey", "kms:Decrypt"], {"service": service},
                                       {"kms:EncryptionContext:aws:sns:topicArn": topic_arn,
                                        "aws:SourceArn": source_arn, "aws:SourceAccount": source_account},
                                       "%s publishing to an encrypted topic" % service):
        _fail(topic_arn, service, source_arn, "the key policy of %s does not allow %s" % (key_arn, service))
        return None
    return topic.publish(message, subject=subject)


def _fail(topic_arn, service, source_arn, reason):
    with _LOCK:
        _FAILED.append({"topic": topic_arn, "service": service, "source": source_arn, "reason": reason,
                        "time": time.time()})
        del _FAILED[:-1000]


def _patch_events():
    from moto.events import models as events_models  # pylint: disable=import-outside-toplevel

    rule_cls = events_models.Rule
    original = rule_cls.send_to_targets

    def send_to_targets(self, original_event, transform_input=True):
        sns_targets = [t for t in self.targets if t.get("Arn", "").split(":")[2:3] == ["sns"]]
        if sns_targets and self.event_pattern.matches_event(original_event):
            for target in sns_targets:
                if "Input" in target:
                    message = target["Input"]
                else:
                    transformer = target.get("InputTransformer", {}) if transform_input else {}
                    event = events_models.EventTemplateParser.parse(
                        input_template=transformer.get("InputTemplate"),
                        input_paths_map=transformer.get("InputPathsMap", {}), event=original_event)
                    message = event if isinstance(event, str) else json.dumps(event)
                service_publish(target["Arn"], "events.amazonaws.com", self.arn, message)
        others = [t for t in self.targets if t not in sns_targets]
        if not others:
            return None
        saved = self.targets
        self.targets = others
        try:
            return original(self, original_event, transform_input)
        finally:
            self.targets = saved

    rule_cls.send_to_targets = send_to_targets


def alarm_message(alarm, old_state, region):
    """CloudWatch's alarm notification (the JSON body CloudWatch publishes to SNS)."""
    return json.dumps({
        "AlarmName": alarm.name, "AlarmDescription": getattr(alarm, "description", None),
        "AWSAccountId": alarm.alarm_arn.split(":")[4], "NewStateValue": alarm.state_value, "NewStateReason": alarm.state_reason,
        "StateChangeTime": alarm.state_updated_timestamp.isoformat() if hasattr(alarm.state_updated_timestamp, "isoformat")
        else str(alarm.state_updated_timestamp),
        "Region": region, "AlarmArn": alarm.alarm_arn, "OldStateValue": old_state,
        "Trigger": {"MetricName": getattr(alarm, "metric_name", None), "Namespace": getattr(alarm, "namespace", None)},
    })


def _patch_cloudwatch():
    from moto.cloudwatch.models import CloudWatchBackend  # pylint: disable=import-outside-toplevel

    original = CloudWatchBackend.set_alarm_state

    def set_alarm_state(self, alarm_name, reason, reason_data, state_value):
        alarm = self.alarms.get(alarm_name)
        old_state = alarm.state_value if alarm is not None else None
        result = original(self, alarm_name, reason, reason_data, state_value)
        alarm = self.alarms.get(alarm_name)
        if alarm is not None and old_state != state_value and getattr(alarm, "actions_enabled", True) not in (False, "false"):
            actions = {"ALARM": alarm.alarm_actions, "OK": alarm.ok_actions,
                       "INSUFFICIENT_DATA": alarm.insufficient_data_actions}.get(state_value) or []
            for action in actions:
                if ":sns:" not in action:
                    continue
                message_id = service_publish(action, "cloudwatch.amazonaws.com", alarm.alarm_arn,
                                             alarm_message(alarm, old_state, self.region_name),
                                             subject='ALARM: "%s"' % alarm.name if state_value == "ALARM" else None)
                if message_id is None:
                    # (moto has no DescribeAlarmHistory; failed_deliveries() lists the failure)
                    LOG.warning("alarm %s: failed to execute action %s", alarm.name, action)
        return result

    CloudWatchBackend.set_alarm_state = set_alarm_state


def install():
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    if _INSTALLED["done"]:
        return
    _patch_events()
    _patch_cloudwatch()
    hooks.register_reset(reset)
    _INSTALLED["done"] = True


_INSTALLED = {"done": False}
