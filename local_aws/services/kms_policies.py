# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""KMS key policies evaluated with the caller's IAM policies (switch:
``LOGVAULT_AWS_KMS_KEY_POLICIES``, default in ``local_aws/settings.py``).

What AWS does (AWS KMS Developer Guide, "Key policies in AWS KMS" and "Determining access
to an AWS KMS key" / "Troubleshooting key access"): every KMS key has a key policy, and no
principal can use the key unless the key policy lets it. A key policy statement names the
principal: the key's account (``arn:aws:iam::<account>:root`` or ``"<account>"``), which
*enables IAM policies* -- a role of that account may then use the key when its identity
policies also allow it; a role or user ARN directly; or an AWS service principal (CloudWatch
Logs for encrypted log groups, ``cloudwatch.amazonaws.com`` for alarms publishing to an
encrypted topic). An explicit Deny in either policy wins.

Condition keys a service sends when it uses a key on a caller's behalf (AWS KMS Developer
Guide, "AWS KMS condition keys": ``kms:ViaService``, ``kms:CallerAccount``,
``kms:EncryptionContext:<key>``; the encryption context of each service: Kinesis Data
Streams ``aws:kinesis:arn`` = the stream ARN; S3 ``aws:s3:arn`` = the object ARN, or the
bucket ARN when S3 Bucket Keys are on; SNS ``aws:sns:topicArn``; CloudWatch Logs
``aws:logs:arn`` = the log group ARN).

Where the emulator calls it (docs/local-aws.md, "KMS key policies"):

* a service writing to S3 with SSE-KMS for a role (Firehose, Lambda on-failure
  destinations; ``kms:GenerateDataKey`` via ``s3.<region>.amazonaws.com``);
* CloudWatch Logs putting into a Kinesis stream encrypted with a CMK (the destination's or
  filter's role, ``kms:GenerateDataKey`` via Kinesis) and the Lambda mapping reading it
  (the execution role, ``kms:Decrypt``);
* a Lambda function's own SNS Publish to a topic with a CMK (``kms:GenerateDataKey`` and
  ``kms:Decrypt`` via SNS) and S3 PutObject into an SSE-KMS bucket;
* CreateLogGroup with ``kmsKeyId``: the CloudWatch Logs service principal of the region
  must be allowed with ``kms:EncryptionContext:aws:logs:arn`` = the log group's ARN.

AWS managed keys (``alias/aws/...``) and keys the emulator does not know are not evaluated.
"""

import fnmatch
import json

from local_aws import settings
from local_aws.services import s3_policy, service_roles

SETTING = "LOGVAULT_AWS_KMS_KEY_POLICIES"

# CloudWatch Logs' answer when the key policy does not let it use the key (the answer of
# CreateLogGroup/AssociateKmsKey on AWS).
LOGS_KEY_DENIED = "The specified KMS key does not exist or is not allowed to be used with Arn '%s'"


def enabled():
    return settings.get(SETTING).lower() in ("1", "true", "yes", "on")


def _key(key_arn):
    from moto.kms.models import kms_backends  # pylint: disable=import-outside-toplevel

    parts = (key_arn or "").split(":", 5)
    if len(parts) != 6 or parts[2] != "kms":
        return None
    try:
        key = kms_backends[parts[4]][parts[3]].describe_key(parts[5].split("/", 1)[-1] if parts[5].startswith("key/") else parts[5])
    except Exception:  # pylint: disable=broad-except
        return None
    if getattr(key, "key_manager", "CUSTOMER") != "CUSTOMER":
        return None
    return key


def key_arn_of(key_id, account, region):
    """The ARN of a key given by id, ARN, alias name or alias ARN (None when unknown)."""
    if not key_id:
        return None
    from moto.kms.models import kms_backends  # pylint: disable=import-outside-toplevel

    if key_id.startswith("arn:"):
        parts = key_id.split(":", 5)
        account, region, key_id = parts[4], parts[3], parts[5]
        if key_id.startswith("key/"):
            key_id = key_id[4:]
    try:
        return kms_backends[account][region].describe_key(key_id).arn
    except Exception:  # pylint: disable=broad-except
        return None


def _principal_matches(principal, caller):
    """``caller``: {"arn": role ARN, "account": id} or {"service": name}. Returns
    "direct" (the caller itself), "account" (its account: IAM policies decide too) or None."""
    if principal == "*":
        return "direct"
    if not isinstance(principal, dict):
        return None
    if "service" in caller:
        names = [str(n) for n in s3_policy._listify(principal.get("Service"))]  # pylint: disable=protected-access
        return "direct" if caller["service"] in names else None
    best = None
    for value in s3_policy._listify(principal.get("AWS")):  # pylint: disable=protected-access
        value = str(value)
        if value == "*" or value == caller.get("arn"):
            return "direct"
        if value in (caller["account"], "arn:aws:iam::%s:root" % caller["account"]):
            best = "account"
    return best


def _action_matches(statement, action):
    if "NotAction" in statement:
        return not any(fnmatch.fnmatchcase(action.lower(), str(p).lower())
                       for p in s3_policy._listify(statement["NotAction"]))  # pylint: disable=protected-access
    return any(fnmatch.fnmatchcase(action.lower(), str(p).lower())
               for p in s3_policy._listify(statement.get("Action")))  # pylint: disable=protected-access


def key_policy_verdict(policy, action, caller, context):
    """(verdict, via) for the key policy alone: verdict ALLOW/EXPLICIT_DENY/IMPLICIT_DENY,
    via "direct" or "account" for an Allow."""
    lowered = dict((k.lower(), v) for k, v in context.items())
    via = None
    for statement in s3_policy._listify(policy.get("Statement")):  # pylint: disable=protected-access
        if not isinstance(statement, dict) or not _action_matches(statement, action):
            continue
        match = _principal_matches(statement.get("Principal"), caller)
        if match is None or not s3_policy.statement_conditions_hold(statement.get("Condition"), lowered):
            continue
        if statement.get("Effect") == "Deny":
            return service_roles.EXPLICIT_DENY, None
        if statement.get("Effect") == "Allow" and via != "direct":
            via = match
    return (service_roles.ALLOW, via) if via else (service_roles.IMPLICIT_DENY, None)


def evaluate(key_arn, action, caller, context):
    """ALLOW / EXPLICIT_DENY / IMPLICIT_DENY for ``caller`` using the key for ``action``."""
    key = _key(key_arn)
    if key is None:
        return service_roles.ALLOW
    try:
        policy = json.loads(key.policy)
    except ValueError:
        return service_roles.IMPLICIT_DENY
    context = dict(context)
    if "account" in caller:
        context.setdefault("kms:CallerAccount", caller["account"])
    verdict, via = key_policy_verdict(policy, action, caller, context)
    if "arn" not in caller:
        return verdict
    iam = service_roles.evaluate(caller["arn"], action, key.arn, context)
    if verdict == service_roles.EXPLICIT_DENY or iam == service_roles.EXPLICIT_DENY:
        return service_roles.EXPLICIT_DENY
    if verdict != service_roles.ALLOW:
        return service_roles.IMPLICIT_DENY
    same_account = key.account_id == caller["account"]
    if via == "direct" and same_account:
        return service_roles.ALLOW
    return service_roles.ALLOW if iam == service_roles.ALLOW else service_roles.IMPLICIT_DENY


def role_caller(role_arn):
    return {"arn": role_arn, "account": role_arn.split(":")[4]}


def denied(key_arn, actions, caller, context, where):
    """``(action, verdict)`` of the first action refused when the switch is on, else None."""
    if not enabled() or not key_arn:
        return None
    for action in ([actions] if isinstance(actions, str) else actions):
        verdict = evaluate(key_arn, action, caller, context)
        if verdict != service_roles.ALLOW:
            service_roles._record(caller.get("arn") or caller.get("service"), action, key_arn, verdict, where)  # pylint: disable=protected-access
            return action, verdict
    return None


def require(key_arn, actions, role_arn, context, where):
    """Raise service_roles.AccessDenied when ``role_arn`` may not use the key."""
    refused = denied(key_arn, actions, role_caller(role_arn), context, where)
    if refused:
        raise service_roles.AccessDenied(role_arn, refused[0], key_arn, refused[1])


# --------------------------------------------------------------------------- hooks

def s3_context(region, bucket, key, bucket_key_enabled=False):
    resource = "arn:aws:s3:::%s" % bucket if bucket_key_enabled else "arn:aws:s3:::%s/%s" % (bucket, key)
    return {"kms:ViaService": "s3.%s.amazonaws.com" % region, "kms:EncryptionContext:aws:s3:arn": resource}


def kinesis_context(region, stream_arn):
    return {"kms:ViaService": "kinesis.%s.amazonaws.com" % region, "kms:EncryptionContext:aws:kinesis:arn": stream_arn}


def sns_context(region, topic_arn):
    return {"kms:ViaService": "sns.%s.amazonaws.com" % region, "kms:EncryptionContext:aws:sns:topicArn": topic_arn}


def stream_key(stream_arn):
    """The CMK ARN of an encrypted Kinesis stream, else None."""
    from moto.kinesis.models import kinesis_backends  # pylint: disable=import-outside-toplevel

    parts = (stream_arn or "").split(":", 5)
    if len(parts) != 6:
        return None
    try:
        stream = kinesis_backends[parts[4]][parts[3]].describe_stream(stream_arn=stream_arn, stream_name=None)
    except Exception:  # pylint: disable=broad-except
        return None
    if getattr(stream, "encryption_type", "NONE") != "KMS":
        return None
    return key_arn_of(stream.key_id, parts[4], parts[3])


def topic_key(topic_arn):
    from moto.sns.models import sns_backends  # pylint: disable=import-outside-toplevel

    parts = (topic_arn or "").split(":")
    if len(parts) < 6:
        return None
    try:
        topic = sns_backends[parts[4]][parts[3]].get_topic(topic_arn)
    except Exception:  # pylint: disable=broad-except
        return None
    return key_arn_of(getattr(topic, "kms_master_key_id", ""), parts[4], parts[3])


def install():
    from moto.logs.models import LogsBackend  # pylint: disable=import-outside-toplevel

    if getattr(LogsBackend, "_logvault_kms", False):
        return
    LogsBackend._logvault_kms = True  # pylint: disable=protected-access
    original = LogsBackend.create_log_group

    def create_log_group(self, log_group_name, tags, **kwargs):
        key_arn = key_arn_of(kwargs.get("kmsKeyId"), self.account_id, self.region_name)
        if key_arn and enabled():
            group_arn = "arn:aws:logs:%s:%s:log-group:%s" % (self.region_name, self.account_id, log_group_name)
            caller = {"service": "logs.%s.amazonaws.com" % self.region_name}
            context = {"kms:EncryptionContext:aws:logs:arn": group_arn}
            if denied(key_arn, ["kms:GenerateDataKey", "kms:Decrypt"], caller, context, "CloudWatch Logs encrypted log group"):
                from moto.logs.exceptions import LogsClientError  # pylint: disable=import-outside-toplevel
                raise LogsClientError("AccessDeniedException", LOGS_KEY_DENIED % group_arn)
        return original(self, log_group_name, tags, **kwargs)

    LogsBackend.create_log_group = create_log_group
