# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""IAM eventual consistency: a role just created or changed is not usable by services yet.

What AWS does (IAM User Guide, "Troubleshoot IAM" > "Changes that I make are not always
immediately visible": IAM "is eventually consistent"; "make sure that your production
applications do not depend on [changes] to work immediately"): a service handed a role
that was created or changed a moment ago cannot assume it or use its new permissions, and
the call that hands it over fails. The answers, as AWS returns them:

* CloudWatch Logs PutDestination: ``InvalidParameterException`` ``Could not deliver test
  message to specified destination. Check if the destination is valid.``
* PutSubscriptionFilter and PutAccountPolicy (SUBSCRIPTION_FILTER_POLICY) onto a Kinesis
  or Firehose target with a role: ``InvalidParameterException`` ``Could not deliver test
  message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE
  state.`` (``Firehose stream. Check if the given Firehose stream is in ACTIVE state.``)
* Firehose CreateDeliveryStream: ``InvalidArgumentException`` ``Firehose is unable to
  assume role <role ARN>. Please check the role provided.``
* Lambda CreateFunction: ``InvalidParameterValueException`` ``The role defined for the
  function cannot be assumed by Lambda.``
* Lambda CreateEventSourceMapping (Kinesis): ``InvalidParameterValueException`` ``Cannot
  access stream <stream ARN>. Please ensure the role can perform the GetRecords,
  GetShardIterator, DescribeStream, ListShards, and ListStreams Actions on your stream in
  IAM.`` (the function's execution role)

What this patch does: when ``LOGVAULT_AWS_IAM_PROPAGATION_SECONDS`` (default in
``local_aws/settings.py``) is above 0, CreateRole, UpdateAssumeRolePolicy,
Put/DeleteRolePolicy and Attach/DetachRolePolicy record the time per role; for that many
seconds afterwards the calls above refuse the role with AWS's answer, and nothing is
created. Afterwards they work. A role ARN is matched by account and role name.

The same calls also refuse a role the service may not assume by its trust policy, with
the same answers, when ``LOGVAULT_AWS_TRUST_POLICIES`` is on (``local_aws.services.trust``).
"""

import functools
import inspect
import json
import threading
import time

from local_aws import settings

_LOCK = threading.Lock()
_CHANGED = {}  # (account, role name) -> time of the last change

LOGS_DESTINATION = "Could not deliver test message to specified destination. Check if the destination is valid."
LOGS_KINESIS = "Could not deliver test message to specified Kinesis stream. Check if the given kinesis stream is in ACTIVE state."
LOGS_FIREHOSE = "Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state."
FIREHOSE = "Firehose is unable to assume role %s. Please check the role provided."
LAMBDA_FUNCTION = "The role defined for the function cannot be assumed by Lambda."
LAMBDA_ESM = ("Cannot access stream %s. Please ensure the role can perform the GetRecords, GetShardIterator, "
              "DescribeStream, ListShards, and ListStreams Actions on your stream in IAM.")


def now():
    return time.time()


def reset():
    with _LOCK:
        _CHANGED.clear()


def role_changed(account_id, role_name):
    with _LOCK:
        _CHANGED[(account_id, role_name)] = now()


def _role_key(role_arn):
    parts = (role_arn or "").split(":", 5)
    if len(parts) != 6 or parts[2] != "iam" or not parts[5].startswith("role/"):
        return None
    return parts[4], parts[5].rsplit("/", 1)[-1]


def propagating(role_arn):
    """True while ``role_arn`` is within the propagation window of its last change."""
    seconds = settings.get_float("LOGVAULT_AWS_IAM_PROPAGATION_SECONDS")
    if seconds <= 0 or not role_arn:
        return False
    key = _role_key(role_arn)
    with _LOCK:
        changed = _CHANGED.get(key)
    return changed is not None and now() - changed < seconds


def _service(arn):
    parts = (arn or "").split(":")
    return parts[2] if len(parts) > 2 else None


def refused(role_arn, service, region, context):
    """True when ``service`` cannot use ``role_arn`` now: propagation window, or trust policy."""
    from local_aws.services import trust  # pylint: disable=import-outside-toplevel
    return propagating(role_arn) or trust.refused(role_arn, service, region, context)


def _logs_context(account_id, source_arn):
    return {"aws:SourceAccount": account_id, "aws:SourceArn": source_arn}


def _check_logs_target(target_arn, role_arn, region, account_id, source_arn):
    from moto.logs.exceptions import InvalidParameterException  # pylint: disable=import-outside-toplevel

    if role_arn and refused(role_arn, "logs", region, _logs_context(account_id, source_arn)):
        service = _service(target_arn)
        if service == "kinesis":
            raise InvalidParameterException(LOGS_KINESIS)
        if service == "firehose":
            raise InvalidParameterException(LOGS_FIREHOSE)


def _firehose_roles(params):
    roles = []

    def walk(value):
        if isinstance(value, dict):
            for key, item in value.items():
                if key in ("RoleARN", "RoleArn") and isinstance(item, str):
                    roles.append(item)
                else:
                    walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)

    walk(params)
    return roles


def _wrap_role_change(cls, name):
    original = getattr(cls, name)
    signature = inspect.signature(original)

    @functools.wraps(original)
    def wrapper(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        bound = signature.bind(self, *args, **kwargs)
        role_name = bound.arguments.get("role_name")
        if role_name:
            role_changed(self.account_id, role_name)
        return result

    setattr(cls, name, wrapper)


def install():
    from moto.iam.models import IAMBackend  # pylint: disable=import-outside-toplevel
    from moto.logs.models import LogsBackend  # pylint: disable=import-outside-toplevel
    from moto.firehose import responses as firehose_responses  # pylint: disable=import-outside-toplevel
    from moto.awslambda import models as lambda_models  # pylint: disable=import-outside-toplevel
    from moto.awslambda.exceptions import InvalidParameterValueException  # pylint: disable=import-outside-toplevel
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    from local_aws.services import logs  # pylint: disable=import-outside-toplevel

    if getattr(IAMBackend, "_logvault_propagation", False):
        return
    IAMBackend._logvault_propagation = True  # pylint: disable=protected-access
    for name in ("create_role", "update_assume_role_policy", "put_role_policy", "delete_role_policy",
                 "attach_role_policy", "detach_role_policy"):
        _wrap_role_change(IAMBackend, name)

    # CloudWatch Logs (installed after local_aws.services.logs: this module's name sorts later)
    original_put_destination = LogsBackend.put_destination

    def put_destination(self, destination_name, role_arn, target_arn, tags):
        from moto.logs.exceptions import InvalidParameterException  # pylint: disable=import-outside-toplevel
        source = "arn:aws:logs:%s:%s:destination:%s" % (self.region_name, self.account_id, destination_name)
        if refused(role_arn, "logs", self.region_name, _logs_context(self.account_id, source)):
            raise InvalidParameterException(LOGS_DESTINATION)
        return original_put_destination(self, destination_name, role_arn, target_arn, tags)

    LogsBackend.put_destination = put_destination

    original_put_filter = LogsBackend.put_subscription_filter

    def put_subscription_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn,
                                distribution=None):
        source = "arn:aws:logs:%s:%s:log-group:%s:*" % (self.region_name, self.account_id, log_group_name)
        _check_logs_target(destination_arn, role_arn, self.region_name, self.account_id, source)
        return original_put_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn,
                                   distribution)

    LogsBackend.put_subscription_filter = put_subscription_filter

    original_account_policy = logs.put_account_policy

    def put_account_policy(backend, name, document, policy_type, *args, **kwargs):
        if policy_type == "SUBSCRIPTION_FILTER_POLICY":
            try:
                doc = json.loads(document or "")
            except ValueError:
                doc = None
            if isinstance(doc, dict):
                source = "arn:aws:logs:%s:%s:*" % (backend.region_name, backend.account_id)
                _check_logs_target(doc.get("DestinationArn"), doc.get("RoleArn"), backend.region_name,
                                   backend.account_id, source)
        return original_account_policy(backend, name, document, policy_type, *args, **kwargs)

    logs.put_account_policy = put_account_policy

    # Firehose
    response = firehose_responses.FirehoseResponse
    original_create_stream = response.create_delivery_stream

    def create_delivery_stream(self):
        from moto.firehose.exceptions import InvalidArgumentException  # pylint: disable=import-outside-toplevel
        params = json.loads(self.body) if self.body else {}
        account, region = self.current_account, self.region
        for role in _firehose_roles(params):
            if refused(role, "firehose", region, {"sts:ExternalId": account}):
                raise InvalidArgumentException(FIREHOSE % role)
        return original_create_stream(self)

    response.create_delivery_stream = create_delivery_stream

    # Lambda
    backend_cls = lambda_models.LambdaBackend
    original_create_function = backend_cls.create_function

    def create_function(self, spec):
        if refused(spec.get("Role"), "lambda", self.region_name, {}):
            raise InvalidParameterValueException(LAMBDA_FUNCTION)
        return original_create_function(self, spec)

    backend_cls.create_function = create_function

    original_create_esm = backend_cls.create_event_source_mapping

    def create_event_source_mapping(self, spec):
        source = spec.get("EventSourceArn") or ""
        if _service(source) == "kinesis" and spec.get("FunctionName"):
            try:
                fn = self.get_function(spec["FunctionName"])
            except Exception:  # pylint: disable=broad-except
                fn = None  # moto answers an unknown function itself
            if fn is not None and propagating(getattr(fn, "role", None)):
                raise InvalidParameterValueException(LAMBDA_ESM % source)
        return original_create_esm(self, spec)

    backend_cls.create_event_source_mapping = create_event_source_mapping
    hooks.register_reset(reset)
