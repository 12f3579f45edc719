# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Callers' identity policies: a request signed with the credentials of an assumed role may
do only what the role's identity policies allow (switch: ``LOGVAULT_AWS_CALLER_POLICIES``,
default in ``local_aws/settings.py``).

What AWS does (IAM User Guide, "Policy evaluation logic",
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
a request made with a role session's credentials is allowed only when a statement of one of
the role's identity policies (inline or managed) allows the action on the resource and no
statement denies it. The action is the operation's IAM action (Service Authorization
Reference, https://docs.aws.amazon.com/service-authorization/latest/reference/); the
resource is the ARN of the resource the operation acts on, for the actions that support
resource-level permissions. A call that hands a role to a service also needs
``iam:PassRole`` on that role ("Grant a user permissions to pass a role to an AWS service",
https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_passrole.html), with the
``iam:PassedToService`` context key.

What this module does, in the emulator's WSGI front (``local_aws/server.py``), before moto:

* the caller is found from the request's access key: a key that moto's STS issued for
  ``AssumeRole`` names the role. The emulator's plain key (``testing``: the account's IAM
  user, the "control node") and keys of roles that do not exist in the emulator's IAM are
  **not evaluated** (the offline suite assumes roles it never creates); Lambda functions'
  keys are evaluated by ``service_roles`` already;
* the operation is named by the same code as fault injection (``local_aws.faults.identify``)
  and turned into its IAM action (:func:`iam_action`: the operation name, except the S3
  and Lambda names of ``S3_ACTIONS``/``OTHER_ACTIONS``, which ``tools/deployer_policy.py``
  uses too);
* the resource ARN is built from the request's parameters for the resource types this
  pipeline uses (:func:`resource_of`). When the emulator cannot name the resource of an
  operation, only the action is evaluated (a statement allowing the action on any resource
  allows it);
* the role's documents are evaluated with ``service_roles.evaluate_documents`` (moto's
  statement matcher plus the condition operators of ``s3_policy``);
* Lambda's GetFunction returns the function's tags only to a caller that ``lambda:ListTags`` allows
  (Lambda API reference, GetFunction, https://docs.aws.amazon.com/lambda/latest/api/API_GetFunction.html,
  ``Tags``): for another caller the front drops ``Tags`` from moto's answer;
* a refusal is answered the way the service does: ``AccessDeniedException`` (HTTP 400) for
  the JSON-protocol services (CloudWatch Logs, Kinesis, Firehose, KMS, EventBridge, DynamoDB,
  Glue, Athena, CloudTrail, ...), ``AccessDeniedException`` (403) for Lambda and OpenSearch
  Service, ``AccessDenied`` (403) for IAM, STS, CloudFormation, CloudWatch and S3,
  ``AuthorizationError`` (403) for SNS and ``UnauthorizedOperation`` (403) for EC2, with
  AWS's message (``User: <session ARN> is not authorized to perform: <action> on resource:
  <ARN> because no identity-based policy allows the <action> action``).

Every refusal is kept in :func:`denials` (tests read it).
"""

import io
import json
import re
import threading
from urllib.parse import parse_qs, unquote

from local_aws import faults, settings
from local_aws.services import service_roles

SETTING = "LOGVAULT_AWS_CALLER_POLICIES"

_LOCK = threading.Lock()
_DENIALS = []
_EVALUATED = {}  # (role ARN, action, resource or None) -> verdict, every evaluation

# S3 operations whose IAM action has another name (Amazon S3 API permissions reference,
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/using-with-s3-policy-actions.html).
S3_ACTIONS = {
    "HeadBucket": "s3:ListBucket", "HeadObject": "s3:GetObject", "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket", "ListObjectVersions": "s3:ListBucketVersions",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycle": "s3:PutLifecycleConfiguration",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration", "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketMetricsConfiguration": "s3:GetMetricsConfiguration",
    "PutBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "DeleteBucketMetricsConfiguration": "s3:PutMetricsConfiguration",
    "ListBucketMetricsConfigurations": "s3:GetMetricsConfiguration",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy", "DeleteBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketOwnershipControls": "s3:PutBucketOwnershipControls",
    "DeleteBucketWebsite": "s3:DeleteBucketWebsite", "DeleteBucketCors": "s3:PutBucketCORS",
    "GetBucketCors": "s3:GetBucketCORS", "PutBucketCors": "s3:PutBucketCORS",
    "GetBucketAccelerateConfiguration": "s3:GetAccelerateConfiguration",
    "PutBucketAccelerateConfiguration": "s3:PutAccelerateConfiguration",
    "GetBucketInventoryConfiguration": "s3:GetInventoryConfiguration",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketReplication": "s3:GetReplicationConfiguration", "PutBucketReplication": "s3:PutReplicationConfiguration",
    "DeleteBucketReplication": "s3:PutReplicationConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock", "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeletePublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "DeleteObjects": "s3:DeleteObject", "CopyObject": "s3:GetObject", "GetObjectAttributes": "s3:GetObject",
    "CreateMultipartUpload": "s3:PutObject", "UploadPart": "s3:PutObject", "CompleteMultipartUpload": "s3:PutObject",
    "AbortMultipartUpload": "s3:AbortMultipartUpload", "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "RestoreObject": "s3:RestoreObject", "GetObjectTagging": "s3:GetObjectTagging",
    "PutObjectTagging": "s3:PutObjectTagging", "DeleteObjectTagging": "s3:DeleteObjectTagging",
    "GetBucketAnalyticsConfiguration": "s3:GetAnalyticsConfiguration",
    "GetBucketIntelligentTieringConfiguration": "s3:GetIntelligentTieringConfiguration",
    "GetBucketLifecycle": "s3:GetLifecycleConfiguration", "PutBucketLifecycle": "s3:PutLifecycleConfiguration",
    "ListBuckets": "s3:ListAllMyBuckets",
}
# Other operations whose IAM action has another name (Lambda: "Actions, resources, and
# condition keys for AWS Lambda").
OTHER_ACTIONS = {
    "lambda:Invoke": "lambda:InvokeFunction",
}
# SigV4 signing name -> IAM service prefix, where they differ.
PREFIXES = {"monitoring": "cloudwatch", "email": "ses"}

# Operations that hand a role to a service -> (where the role is, the service it is passed to).
# Each needs iam:PassRole on the role (the service's "... permissions" page: CloudWatch Logs
# "Step 1: Create a destination" and "Subscription filters with Kinesis Data Streams";
# Firehose "Controlling access with Amazon Data Firehose"; Lambda "Execution role";
# EventBridge "Using IAM roles for targets"; CloudTrail "Sending events to CloudWatch Logs";
# EC2 "IAM roles for Amazon EC2", which also names iam:AddRoleToInstanceProfile).
PASS_ROLE = {
    "logs:PutDestination": (("roleArn",), "logs.amazonaws.com"),
    "logs:PutSubscriptionFilter": (("roleArn",), "logs.amazonaws.com"),
    "logs:PutAccountPolicy": (("policyDocument", "RoleArn"), "logs.amazonaws.com"),
    "firehose:CreateDeliveryStream": ((), "firehose.amazonaws.com"),
    "firehose:UpdateDestination": ((), "firehose.amazonaws.com"),
    "lambda:CreateFunction": (("Role",), "lambda.amazonaws.com"),
    "lambda:UpdateFunctionConfiguration": (("Role",), "lambda.amazonaws.com"),
    "events:PutTargets": ((), "events.amazonaws.com"),
    "cloudtrail:CreateTrail": (("CloudWatchLogsRoleArn",), "cloudtrail.amazonaws.com"),
    "cloudtrail:UpdateTrail": (("CloudWatchLogsRoleArn",), "cloudtrail.amazonaws.com"),
    "iam:AddRoleToInstanceProfile": (("RoleName",), "ec2.amazonaws.com"),
}


# Account policies of type SUBSCRIPTION_FILTER_POLICY need the subscription filter permission
# too (CloudWatch Logs API reference, PutAccountPolicy: "To create a subscription filter policy,
# you must have the logs:PutSubscriptionFilter and logs:PutAccountPolicy permissions";
# DescribeAccountPolicies: "logs:DescribeSubscriptionFilters and logs:DescribeAccountPolicies";
# DeleteAccountPolicy: "logs:DeleteSubscriptionFilter"). Evaluated on the action only.
SUBSCRIPTION_POLICY_ALSO = {
    "logs:PutAccountPolicy": "logs:PutSubscriptionFilter",
    "logs:DescribeAccountPolicies": "logs:DescribeSubscriptionFilters",
    "logs:DeleteAccountPolicy": "logs:DeleteSubscriptionFilter",
}


def enabled():
    return settings.get(SETTING).lower() in ("1", "true", "yes", "on")


def denials():
    with _LOCK:
        return list(_DENIALS)


def evaluated():
    """Every ``(role ARN, action, resource)`` evaluated since the last reset, with its verdict
    (resource None: the emulator did not name it, only the action was evaluated)."""
    with _LOCK:
        return dict(_EVALUATED)


def reset():
    with _LOCK:
        del _DENIALS[:]
        _EVALUATED.clear()


def iam_action(signing_name, operation):
    """The IAM action of an API operation (``logs:PutDestination``, ``s3:ListBucket``...)."""
    prefix = PREFIXES.get(signing_name, signing_name)
    if prefix == "s3":
        return S3_ACTIONS.get(operation, "s3:" + operation)
    name = "%s:%s" % (prefix, operation)
    return OTHER_ACTIONS.get(name, name)


# --------------------------------------------------------------------------- the caller

def caller(environ):
    """``(role ARN, session ARN)`` of a request signed with an assumed role's credentials
    for a role that exists in the emulator's IAM, else None."""
    from moto.iam.models import get_account_id_from, iam_backends  # pylint: disable=import-outside-toplevel
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel

    key = service_roles._access_key(environ)  # pylint: disable=protected-access
    if not key or key == "testing" or service_roles.lambda_key(environ):
        return None
    account = get_account_id_from(key)
    found = iam_backends[account]["global"].access_keys.get(key)
    role_arn = getattr(found, "role_arn", None)
    if not role_arn or service_roles.role_documents(role_arn) is None:
        return None
    session = "session"
    for assumed in list(sts_backends[account]["aws"].assumed_roles):
        if assumed.access_key_id == key:
            session = assumed.session_name
            break
    return role_arn, "arn:aws:sts::%s:assumed-role/%s/%s" % (account, role_arn.rsplit("/", 1)[-1], session)


# --------------------------------------------------------------------------- the request

def _body(environ):
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return body


def _uri_params(signing_name, operation, path):
    """Path parameters of a REST operation, by their name in the URI template."""
    import botocore.loaders  # pylint: disable=import-outside-toplevel

    model = _MODELS.get(signing_name)
    if model is None:
        try:
            model = botocore.loaders.Loader().load_service_model(
                {"es": "opensearch"}.get(signing_name, signing_name), "service-2")
        except Exception:  # pylint: disable=broad-except
            model = {"operations": {}}
        _MODELS[signing_name] = model
    op = model.get("operations", {}).get(operation) or {}
    template = (op.get("http") or {}).get("requestUri", "/").split("?", 1)[0]
    names = []

    def group(match):
        names.append(match.group(1).rstrip("+"))
        return "(.+)" if match.group(1).endswith("+") else "([^/]+)"

    pattern = re.sub(r"\\\{([^}]+)\\\}", group, re.escape(template))
    pattern = re.sub(r"\{([^}]+)\}", group, pattern)
    match = re.match("^" + pattern + "/?$", path)
    return dict(zip(names, match.groups())) if match else {}


_MODELS = {}


def request_params(environ, signing_name, operation, body):
    """The request's top-level parameters (JSON body, form, query string and path)."""
    params = {}
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    params.update((k, v[0]) for k, v in query.items())
    content_type = environ.get("CONTENT_TYPE", "")
    if "x-www-form-urlencoded" in content_type:
        params.update((k, v[0]) for k, v in parse_qs(body.decode("utf-8", "replace")).items())
    elif body[:1] == b"{":
        try:
            document = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            document = {}
        if isinstance(document, dict):
            params.update(document)
    if not environ.get("HTTP_X_AMZ_TARGET") and signing_name not in ("s3",):
        params.update(_uri_params(signing_name, operation, unquote(environ.get("PATH_INFO", "/"))))
    return params


def _region(environ):
    return service_roles._region(environ)  # pylint: disable=protected-access


def _s3_resource(environ, action):
    path = unquote(environ.get("PATH_INFO", ""))
    host = environ.get("HTTP_HOST", "").split(":")[0]
    if ".s3." in host or host.endswith(".localhost"):
        bucket, key = host.split(".", 1)[0], path.lstrip("/")
    else:
        parts = path.lstrip("/").split("/", 1)
        bucket, key = parts[0], (parts[1] if len(parts) > 1 else "")
    if not bucket:
        return None  # ListBuckets: no resource-level permissions
    object_actions = ("Object", "MultipartUpload", "RestoreObject")
    if key and any(word in action for word in object_actions) and "Bucket" not in action.split(":", 1)[1]:
        return "arn:aws:s3:::%s/%s" % (bucket, key)
    return "arn:aws:s3:::%s" % bucket


def _arn(service, region, account, resource):
    return "arn:aws:%s:%s:%s:%s" % (service, region, account, resource)


def _name_or_arn(value, build):
    value = str(value or "")
    if not value:
        return None
    return value if value.startswith("arn:") else build(value)


def _iam_arn(account, kind, name, path=None):
    """The ARN of a role or instance profile, with its path (IAM evaluates the full ARN,
    path included: IAM User Guide, "IAM identifiers")."""
    from moto.iam.models import iam_backends  # pylint: disable=import-outside-toplevel

    if path is None:
        backend = iam_backends[account]["global"]
        try:
            found = backend.get_role(name) if kind == "role" else backend.get_instance_profile(name)
            return found.arn
        except Exception:  # pylint: disable=broad-except
            path = "/"
    return "arn:aws:iam::%s:%s%s%s" % (account, kind, path or "/", name)


def _kms_key_arn(key, region, account, operation):
    """An alias names its key: every operation but the alias's own is authorised on the key
    ("Using aliases to control access to KMS keys", AWS KMS Developer Guide)."""
    arn = service_roles._kms_arn(str(key), region, account)  # pylint: disable=protected-access
    if ":alias/" not in arn or "Alias" in operation:
        return arn
    from moto.kms.models import kms_backends  # pylint: disable=import-outside-toplevel

    try:
        backend = kms_backends[account][region]
        return backend.describe_key(str(key)).arn
    except Exception:  # pylint: disable=broad-except
        return None  # no such alias: the action only (KMS then answers NotFoundException)


def resource_of(action, params, region, account, environ=None):
    """The ARN of the resource ``action`` acts on (Service Authorization Reference, resource
    types of the action), or None when the emulator does not name it (action-only)."""
    prefix, operation = action.split(":", 1)
    p = params

    def get(*names):
        for name in names:
            if p.get(name):
                return p[name]
        return None

    if prefix == "s3":
        return _s3_resource(environ or {}, action)
    if prefix == "iam":
        if get("RoleName") and "InstanceProfile" not in operation:
            return _iam_arn(account, "role", p["RoleName"], p.get("Path") if operation == "CreateRole" else None)
        if get("PolicyArn"):
            return p["PolicyArn"]
        if get("InstanceProfileName"):
            return _iam_arn(account, "instance-profile", p["InstanceProfileName"],
                            p.get("Path") if operation == "CreateInstanceProfile" else None)
        if operation == "CreatePolicy" and get("PolicyName"):
            return "arn:aws:iam::%s:policy%s%s" % (account, p.get("Path") or "/", p["PolicyName"])
        if operation == "CreateServiceLinkedRole" and get("AWSServiceName"):
            return "arn:aws:iam::%s:role/aws-service-role/%s/*" % (account, p["AWSServiceName"])
        return None
    if prefix == "sts":
        return get("RoleArn")
    if prefix == "logs":
        if get("destinationName") and operation != "DescribeDestinations":
            return _arn("logs", region, account, "destination:%s" % p["destinationName"])
        group = get("logGroupName")
        if group is None and get("logGroupIdentifier"):
            group = str(p["logGroupIdentifier"])
            if group.startswith("arn:"):
                return group if not group.endswith(":*") else group[:-2]
        if group is None and get("resourceArn"):
            arn = str(p["resourceArn"])
            return arn[:-2] if arn.endswith(":*") else arn
        if operation == "DescribeLogGroups":
            # What AWS evaluates (and names in its AccessDenied answer), whatever the prefix asked.
            return _arn("logs", region, account, "log-group::log-stream:")
        if group:
            return _arn("logs", region, account, "log-group:%s" % group)
        return None
    if prefix == "kinesis":
        return _name_or_arn(get("StreamARN", "ResourceARN", "StreamName"),
                            lambda n: _arn("kinesis", region, account, "stream/%s" % n))
    if prefix == "firehose":
        return _name_or_arn(get("DeliveryStreamName"),
                            lambda n: _arn("firehose", region, account, "deliverystream/%s" % n))
    if prefix == "lambda":
        if operation in ("CreateEventSourceMapping", "ListEventSourceMappings", "ListFunctions"):
            return None
        if operation in ("GetEventSourceMapping", "UpdateEventSourceMapping", "DeleteEventSourceMapping") and get("UUID"):
            return _arn("lambda", region, account, "event-source-mapping:%s" % p["UUID"])
        name = get("FunctionName", "Resource", "ARN")
        if name:
            name = str(name)
            if name.startswith("arn:"):
                return ":".join(name.split(":")[:7])
            return _arn("lambda", region, account, "function:%s" % name.split(":")[0])
        return None
    if prefix == "dynamodb":
        return _name_or_arn(get("TableName", "ResourceArn"), lambda n: _arn("dynamodb", region, account, "table/%s" % n))
    if prefix == "sns":
        if operation == "CreateTopic" and get("Name"):
            return _arn("sns", region, account, p["Name"])
        return get("TopicArn", "ResourceArn")
    if prefix == "sqs":
        url = get("QueueUrl")
        return service_roles._sqs_arn(url, region, account) if url else None  # pylint: disable=protected-access
    if prefix == "events":
        if get("Rule") or (get("Name") and "Rule" in operation):
            return _arn("events", region, account, "rule/%s" % (get("Rule") or p["Name"]))
        return get("ResourceARN")
    if prefix == "es":
        name = get("DomainName")
        if name and operation not in ("ListDomainNames", "DescribeDomains"):
            return _arn("es", region, account, "domain/%s" % name)
        return get("ARN", "arn")
    if prefix == "kms":
        if operation == "CreateAlias" and get("AliasName"):
            return _arn("kms", region, account, p["AliasName"])
        key = get("KeyId", "TargetKeyId")
        if key:
            return _kms_key_arn(key, region, account, operation)
        return None
    if prefix == "cloudtrail":
        name = get("Name", "TrailName", "ResourceId")
        if name and operation not in ("DescribeTrails", "ListTrails"):
            return _name_or_arn(name, lambda n: _arn("cloudtrail", region, account, "trail/%s" % n))
        return None
    if prefix == "cloudwatch":
        if get("AlarmName"):
            return _arn("cloudwatch", region, account, "alarm:%s" % p["AlarmName"])
        return None  # DescribeAlarms, DeleteAlarms (a list of names), or a CBOR request (not parsed)
    if prefix == "athena":
        name = get("WorkGroup", "Name") if "WorkGroup" in operation or "NamedQuer" in operation else None
        return _arn("athena", region, account, "workgroup/%s" % name) if name else None
    if prefix == "glue":
        db = get("DatabaseName")
        if operation in ("CreateDatabase", "UpdateDatabase") and not db:
            db = (p.get("DatabaseInput") or {}).get("Name") if isinstance(p.get("DatabaseInput"), dict) else None
        if operation in ("GetDatabase", "DeleteDatabase") and not db:
            db = get("Name")
        if db and ("Table" in operation or "Partition" in operation):
            table = get("TableName") or (get("Name") if operation in ("GetTable", "DeleteTable") else None) or ((p.get("TableInput") or {}).get("Name") if isinstance(p.get("TableInput"), dict) else None)
            return _arn("glue", region, account, "table/%s/%s" % (db, table)) if table else None
        return _arn("glue", region, account, "database/%s" % db) if db else None
    if prefix == "cloudformation":
        name = get("StackName")
        if name:
            return _name_or_arn(name, lambda n: _arn("cloudformation", region, account, "stack/%s/*" % n))
        return None
    return None


# --------------------------------------------------------------------------- evaluation

def _any_resource(documents):
    """The documents with every Allow statement's resource widened to ``*`` and every Deny
    statement that names resources left out: action-only evaluation."""
    out = []
    for document in documents:
        statements = []
        for statement in _listify(document.get("Statement")):
            if not isinstance(statement, dict):
                continue
            if statement.get("Effect") == "Deny" and statement.get("Resource") not in ("*", ["*"]):
                continue
            widened = dict((k, v) for k, v in statement.items() if k not in ("Resource", "NotResource"))
            widened["Resource"] = "*"
            statements.append(widened)
        out.append({"Statement": statements})
    return out


def _listify(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def verdict(role_arn, action, resource, context=None):
    """ALLOW, EXPLICIT_DENY or IMPLICIT_DENY of the role's identity policies."""
    documents = service_roles.role_documents(role_arn)
    if documents is None:
        return service_roles.ALLOW
    if resource is None:
        return service_roles.evaluate_documents(_any_resource(documents), action, "*", context)
    return service_roles.evaluate_documents(documents, action, resource, context)


def passed_roles(action, params, account):
    """The role ARNs that ``action`` hands a service, per PASS_ROLE."""
    spec = PASS_ROLE.get(action)
    if spec is None:
        return []
    path, dummy = spec
    found = []
    if not path:  # Firehose destinations, EventBridge targets: every RoleARN / RoleArn inside
        from local_aws.services.strict_iam_propagation import _firehose_roles  # pylint: disable=import-outside-toplevel
        found.extend(_firehose_roles(params))
    else:
        value = params.get(path[0])
        if len(path) > 1 and isinstance(value, str):
            try:
                value = json.loads(value).get(path[1])
            except (ValueError, AttributeError):
                value = None
        if isinstance(value, str) and value:
            found.append(value if value.startswith("arn:") else "arn:aws:iam::%s:role/%s" % (account, value))
    return sorted(set(found))


def check(environ):
    """None when the request is allowed or not evaluated, else ``(status, content type,
    body)`` of the service's AccessDenied answer."""
    if not enabled():
        return None
    who = caller(environ)
    if who is None:
        return None
    role_arn, session_arn = who
    service, operation = faults.identify(environ)
    if not service or not operation:
        return None
    action = iam_action(service, operation)
    if action == "sts:GetCallerIdentity":
        return None  # always allowed (STS API reference, GetCallerIdentity)
    account = role_arn.split(":")[4]
    region = _region(environ)
    body = _body(environ)
    params = request_params(environ, service, operation, body)
    resource = resource_of(action, params, region, account, environ)
    context = {"aws:PrincipalArn": role_arn, "aws:PrincipalAccount": account, "aws:RequestedRegion": region}
    if action.startswith("iam:") and params.get("PolicyArn"):
        context["iam:PolicyARN"] = params["PolicyArn"]  # Attach/DetachRolePolicy's condition key
    checks = [(action, resource, context)]
    if action in SUBSCRIPTION_POLICY_ALSO and params.get("policyType") == "SUBSCRIPTION_FILTER_POLICY":
        checks.append((SUBSCRIPTION_POLICY_ALSO[action], None, context))
    for passed in passed_roles(action, params, account):
        checks.append(("iam:PassRole", passed, dict(context, **{"iam:PassedToService": PASS_ROLE[action][1]})))
    for wanted, on, ctx in checks:
        result = verdict(role_arn, wanted, on, ctx)
        with _LOCK:
            if len(_EVALUATED) < 20000:
                _EVALUATED[(role_arn, wanted, on)] = result
        if result != service_roles.ALLOW:
            with _LOCK:
                _DENIALS.append({"role": role_arn, "action": wanted, "resource": on, "verdict": result,
                                 "operation": "%s:%s" % (service, operation)})
                del _DENIALS[:-1000]
            message = service_roles.not_authorized_message(session_arn, wanted, on or "*", result)
            return refusal(service, environ, message)
    if action == "lambda:GetFunction" and verdict(role_arn, "lambda:ListTags", resource, context) != service_roles.ALLOW:
        # GetFunction returns the function's tags only to a caller that lambda:ListTags allows (Lambda API
        # reference, GetFunction, "Tags"): the front drops them from moto's answer (without_tags).
        environ[OMIT_TAGS] = True
    return None


# The environ key that check() sets when a GetFunction answer must not have the function's tags.
OMIT_TAGS = "logvault.omit_function_tags"


def without_tags(body):
    """A GetFunction answer (JSON bytes) without its ``Tags``."""
    try:
        answer = json.loads(body)
    except ValueError:
        return body
    if not isinstance(answer, dict) or "Tags" not in answer:
        return body
    del answer["Tags"]
    return json.dumps(answer).encode("utf-8")


def _cbor_text(text):
    data = text.encode("utf-8")
    n = len(data)
    if n < 24:
        head = bytes([0x60 + n])
    elif n < 256:
        head = bytes([0x78, n])
    else:
        head = bytes([0x79, n >> 8, n & 0xFF])
    return head + data


def refusal(service, environ, message):
    """``(status, content type, body)`` of the service's AccessDenied answer."""
    if "cbor" in environ.get("CONTENT_TYPE", "") or environ.get("HTTP_SMITHY_PROTOCOL") == "rpc-v2-cbor":
        body = b"\xa2" + _cbor_text("__type") + _cbor_text("AccessDenied") + _cbor_text("message") + _cbor_text(message)
        return "403 Forbidden", "application/cbor", body
    if environ.get("HTTP_X_AMZ_TARGET"):
        body = json.dumps({"__type": "AccessDeniedException", "message": message, "Message": message})
        return "400 Bad Request", "application/x-amz-json-1.1", body.encode("utf-8")
    if service in ("lambda", "es", "aoss"):
        body = json.dumps({"__type": "AccessDeniedException", "Type": "User", "message": message, "Message": message})
        return "403 Forbidden", "application/json", body.encode("utf-8")
    if service == "s3":
        body = "<Error><Code>AccessDenied</Code><Message>%s</Message></Error>" % _xml(message)
        return "403 Forbidden", "application/xml", body.encode("utf-8")
    code = {"sns": "AuthorizationError", "ec2": "UnauthorizedOperation"}.get(service, "AccessDenied")
    if service == "ec2":
        body = ("<Response><Errors><Error><Code>%s</Code><Message>%s</Message></Error></Errors>"
                "<RequestID>denied</RequestID></Response>" % (code, _xml(message)))
    else:
        body = ("<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error>"
                "<RequestId>denied</RequestId></ErrorResponse>" % (code, _xml(message)))
    return "403 Forbidden", "text/xml", body.encode("utf-8")


def _xml(text):
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def install():
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    hooks.register_reset(reset)
