# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch Logs behaviours added to moto 5.2.5 (each one follows AWS's documented
contract; docs/local-aws.md lists them with the AWS page each follows).

* **Destinations as subscription targets.** moto reads every ``logs`` ARN as a log
  group, so ``arn:aws:logs:<region>:<acct>:destination:<name>`` fails with
  ResourceNotFoundException. Here the destination is looked up in its own account and
  its access policy is evaluated for the caller's account and action (account
  principals, ``"*"`` with ``aws:PrincipalOrgID`` from moto's Organizations backend).
  A caller that is not allowed gets AWS's AccessDeniedException wording. AWS checks the
  policy for same-account callers too (a destination without a policy denies everyone).
* **Delivery.** moto sends synchronously, ignores ``filterPattern`` and uses integer
  event ids. Here PutLogEvents queues one batch per matching filter; a poller
  (``local_aws.hooks``) delivers it like AWS does, asynchronously, as the real payload:
  gzip(JSON) with messageType DATA_MESSAGE, owner, logGroup, logStream,
  subscriptionFilters and logEvents[{id (56-digit string), timestamp, message}].
  Patterns are compiled by the collection's own engine
  (plugins/module_utils/cwl_filter_pattern.py, loaded by file path); a pattern it
  cannot compile is rejected with InvalidParameterException.
* **CONTROL_MESSAGE.** Each successful PutSubscriptionFilter/PutAccountPolicy onto a
  Kinesis or Firehose target puts one CONTROL_MESSAGE record (AWS's destination
  health check) synchronously.
* **Account-level subscription filter policies.** PutAccountPolicy,
  DescribeAccountPolicies and DeleteAccountPolicy (moto answers HTTP 500). A
  SUBSCRIPTION_FILTER_POLICY delivers events of every log group of its account and
  region that its ``LogGroupName NOT IN [...]`` selection criteria do not exclude.
* **roleArn by target vendor.** A Kinesis or Firehose stream of the caller's own account
  (PutSubscriptionFilter ``destinationArn``, a subscription filter policy's
  ``DestinationArn``) needs the role CloudWatch Logs assumes to write to it; a Lambda
  function must not get one (CloudWatch Logs is allowed by the function's resource
  policy). AWS answers InvalidParameterException ``destinationArn for vendor kinesis
  cannot be used without roleArn`` / ``... vendor lambda cannot be used with roleArn``
  (moto accepts both).
* **PutLogEvents limits** (API_PutLogEvents: "The maximum batch size is 1,048,576 bytes ... the
  sum of all event messages in UTF-8, plus 26 bytes for each log event", "The maximum number of
  log events in a batch is 10,000", the valid events of a batch "cannot span more than 24
  hours"); moto checks only the order and the 14-day / 2-hour window.
* **Events older than the log group's retention** are rejected (API_PutLogEvents: "Events older
  than 14 days or preceding the log group's retention period are rejected while processing
  remaining valid events"), reported in ``rejectedLogEventsInfo.expiredLogEventEndIndex`` and neither stored
  nor delivered; moto stored them.
* ``distribution`` is stored and returned (moto always answers ByLogStream), and a
  log group with two filters can still update one of them (moto raises
  LimitExceededException).
"""

import base64
import collections
import fnmatch
import gzip
import hashlib
import importlib.util
import itertools
import json
import logging
import os
import re
import threading
import time
import uuid

LOG = logging.getLogger("local_aws.logs")

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ENGINE_PATH = os.path.join(REPO, "plugins", "module_utils", "cwl_filter_pattern.py")

CONTROL_TEXT = {
    "kinesis": "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream.",
    "firehose": "CWL CONTROL MESSAGE: Checking health of destination Firehose.",
}
DISTRIBUTIONS = ("Random", "ByLogStream")
POLICY_TYPES = ("DATA_PROTECTION_POLICY", "SUBSCRIPTION_FILTER_POLICY", "FIELD_INDEX_POLICY",
                "TRANSFORMER_POLICY", "METRIC_EXTRACTION_POLICY", "RETENTION_POLICY")
SUBSCRIPTION_POLICY_KEYS = ("DestinationArn", "RoleArn", "FilterPattern", "Distribution")
MAX_POLICY_DOCUMENT = 30720          # characters (AccountPolicy.policyDocument)
MAX_SELECTION_CRITERIA = 25 * 1024   # UTF-8 bytes (PutAccountPolicy.selectionCriteria)
MAX_RECORD = 1000 * 1000             # Kinesis/Firehose record data limit (1 MB)
MAX_PUT_EVENTS = 10000               # PutLogEvents: events per batch
MAX_PUT_BYTES = 1048576              # PutLogEvents: message bytes (UTF-8) + 26 per event
EVENT_OVERHEAD = 26
MAX_PUT_SPAN_MS = 24 * 3600 * 1000   # PutLogEvents: time span of the batch's valid events
DAY_MS = 86400 * 1000
MAX_AHEAD_MS = 2 * 3600 * 1000        # PutLogEvents: how far in the future an event may be
SELECTION = re.compile(r"^\s*LogGroupName\s+NOT\s+IN\s+(\[.*\])\s*$", re.DOTALL)

_INSTALLED = {"done": False}
_QUEUE = collections.deque()
_QUEUE_LOCK = threading.Lock()
_IDS = itertools.count(1)
_ENGINE = {"module": None, "mtime": None}
_COMPILED = {}
_ENGINE_LOCK = threading.Lock()


# --------------------------------------------------------------------------- errors

def _errors():
    from moto.logs import exceptions  # pylint: disable=import-outside-toplevel
    return exceptions


def _invalid(message):
    return _errors().InvalidParameterException(message)


def _not_found(message):
    return _errors().ResourceNotFoundException(message)


def _access_denied(account_id, action, resource):
    from moto.core.exceptions import JsonRESTError  # pylint: disable=import-outside-toplevel

    err = JsonRESTError(
        "AccessDeniedException",
        "User with accountId: %s is not authorized to perform: %s on resource: %s" % (account_id, action, resource),
    )
    err.code = 400
    return err


# --------------------------------------------------------------------------- filter patterns

class _MatchAll(object):
    @staticmethod
    def matches(message):  # pylint: disable=unused-argument
        return True


def _engine():
    """The collection's filter pattern engine, imported by file path (reloaded if it changed)."""
    with _ENGINE_LOCK:
        try:
            mtime = os.stat(ENGINE_PATH).st_mtime
        except OSError:
            return None
        if _ENGINE["module"] is None or _ENGINE["mtime"] != mtime:
            spec = importlib.util.spec_from_file_location("local_aws_cwl_filter_pattern", ENGINE_PATH)
            module = importlib.util.module_from_spec(spec)
            spec.loader.exec_module(module)
            _ENGINE.update(module=module, mtime=mtime)
            _COMPILED.clear()
        return _ENGINE["module"]


def compile_filter(pattern, parameter="filterPattern"):
    """Compile ``pattern`` with the shared engine; InvalidParameterException when it cannot."""
    pattern = pattern or ""
    engine = _engine()
    if engine is None:
        if pattern.strip() == "":
            return _MatchAll()
        raise _invalid("%s %r cannot be evaluated: the filter pattern engine %s is missing" % (parameter, pattern, ENGINE_PATH))
    with _ENGINE_LOCK:
        if pattern in _COMPILED:
            return _COMPILED[pattern]
    try:
        compiled = engine.compile_pattern(pattern)
    except ValueError as exc:  # FilterPatternError is a ValueError
        # The engine's message names the position (FilterPatternError.position).
        raise _invalid("Invalid %s %r: %s" % (parameter, pattern, exc))
    with _ENGINE_LOCK:
        _COMPILED[pattern] = compiled
    return compiled


def _matching(compiled, events, name):
    out = []
    for event in events:
        try:
            if compiled.matches(event.message):
                out.append(event)
        except Exception:  # pylint: disable=broad-except
            # Never deliver an event the engine could not evaluate.
            LOG.exception("filter %s could not evaluate an event; it is not delivered", name)
    return out


# --------------------------------------------------------------------------- event ids

def next_event_id(timestamp):
    """A 56-digit event id like AWS's: the timestamp, then a process-wide sequence."""
    return "%013d%043d" % (max(int(timestamp), 0) % 10 ** 13, next(_IDS))


# --------------------------------------------------------------------------- ARNs, orgs, policies

def _parse_arn(arn, parameter):
    parts = (arn or "").split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        raise _invalid("%s %r is not a valid ARN" % (parameter, arn))
    return {"partition": parts[1], "service": parts[2], "region": parts[3], "account": parts[4], "resource": parts[5]}


def organization_id_of(account_id):
    """The id of the organization ``account_id`` belongs to in moto's Organizations
    backend (the management account that created it, or an account it created with
    organizations:CreateAccount), else None."""
    from moto.organizations.models import organizations_backends  # pylint: disable=import-outside-toplevel

    for partition in ("aws",):
        own = organizations_backends[account_id][partition].org
        if own is not None:
            return own.id
    master = organizations_backends.master_accounts.get(account_id)
    if master:
        org = organizations_backends[master[0]][master[1]].org
        if org is not None:
            return org.id
    return None


def _as_list(value):
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _principal_matches(principal, account_id):
    if principal == "*":
        return True, True
    if not isinstance(principal, dict):
        return False, False
    wildcard = False
    for value in _as_list(principal.get("AWS")):
        value = str(value)
        if value == "*":
            wildcard = True
        elif value in (account_id, "arn:aws:iam::%s:root" % account_id):
            return True, False
    return wildcard, wildcard


def _condition_matches(condition, account_id):
    """Evaluate the Condition block for the keys a destination policy uses. Unknown
    operators or keys make the condition false (the statement does not apply)."""
    if not condition:
        return True, False
    context = {"aws:principalorgid": organization_id_of(account_id), "aws:principalaccount": account_id}
    uses_org = False
    for operator, tests in condition.items():
        if not isinstance(tests, dict):
            return False, uses_org
        for key, expected in tests.items():
            key = key.lower()
            if key not in context:
                return False, uses_org
            uses_org = uses_org or key == "aws:principalorgid"
            actual = context[key]
            if actual is None:
                return False, uses_org
            values = [str(v) for v in _as_list(expected)]
            if operator == "StringEquals":
                ok = actual in values
            elif operator == "StringEqualsIgnoreCase":
                ok = actual.lower() in [v.lower() for v in values]
            elif operator == "StringLike":
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                return False, uses_org
            if not ok:
                return False, uses_org
    return True, uses_org


def _action_matches(actions, action):
    return any(fnmatch.fnmatchcase(action.lower(), str(a).lower()) for a in _as_list(actions))


def _resource_matches(resources, arn):
    if resources is None:
        return True
    return any(fnmatch.fnmatchcase(arn, str(r)) for r in _as_list(resources))


def evaluate_access_policy(policy, account_id, action, resource_arn):
    """Evaluate a destination access policy. Returns ``(allowed, via_organization)``.

    An explicit Deny wins; otherwise an Allow statement must match the action, the
    resource, the principal (account id, ``arn:aws:iam::<id>:root`` or ``*``) and its
    condition. No policy allows nothing.
    """
    if not policy:
        return False, False
    try:
        document = json.loads(policy) if isinstance(policy, str) else policy
    except ValueError:
        return False, False
    allowed = False
    via_org = False
    for statement in _as_list(document.get("Statement")):
        if not isinstance(statement, dict):
            continue
        if not _action_matches(statement.get("Action"), action):
            continue
        if not _resource_matches(statement.get("Resource"), resource_arn):
            continue
        principal_ok, wildcard = _principal_matches(statement.get("Principal"), account_id)
        if not principal_ok:
            continue
        condition_ok, uses_org = _condition_matches(statement.get("Condition"), account_id)
        if not condition_ok:
            continue
        if statement.get("Effect") == "Deny":
            return False, False
        if statement.get("Effect") == "Allow":
            allowed = True
            via_org = via_org or (wildcard and uses_org)
    return allowed, via_org


# --------------------------------------------------------------------------- targets

def _logs_backend(account, region):
    from moto.logs.models import logs_backends  # pylint: disable=import-outside-toplevel
    return logs_backends[account][region]


def resolve_destination(destination_arn, caller_account, caller_region, action, role_arn):
    """Check a cross-account destination for ``action`` by ``caller_account`` and return it."""
    arn = _parse_arn(destination_arn, "destinationArn")
    name = arn["resource"][len("destination:"):]
    if arn["region"] != caller_region:
        raise _invalid("The destination %s must be in the same region as the log group (%s)" % (destination_arn, caller_region))
    backend = _logs_backend(arn["account"], arn["region"])
    destination = backend.destinations.get(destination_arn)
    if destination is None or destination.destination_name != name:
        # AWS does not reveal whether a destination it denies access to exists.
        raise _access_denied(caller_account, action, destination_arn)
    allowed, via_org = evaluate_access_policy(destination.access_policy, caller_account, action, destination_arn)
    if not allowed:
        raise _access_denied(caller_account, action, destination_arn)
    if via_org and not role_arn and arn["account"] != caller_account:
        raise _invalid("Role ARN is required when creating subscription filter against destination with Organization access policy")
    return destination


def _target_kind(target_arn):
    service = _parse_arn(target_arn, "targetArn")["service"]
    return service if service in ("kinesis", "firehose", "lambda", "logs") else None


ROLE_VENDORS = ("kinesis", "firehose")   # written by CloudWatch Logs with the caller's role
ROLELESS_VENDORS = ("lambda",)           # invoked under the function's resource policy


def check_target_role(target_arn, role_arn):
    """AWS's rule for ``roleArn`` with a same-account target: required for a Kinesis or
    Firehose stream, refused for a Lambda function (API_PutSubscriptionFilter roleArn;
    AWS::Logs::SubscriptionFilter RoleArn). The wording is AWS's answer."""
    vendor = _target_kind(target_arn)
    if vendor in ROLE_VENDORS and not role_arn:
        raise _invalid("destinationArn for vendor %s cannot be used without roleArn" % vendor)
    if vendor in ROLELESS_VENDORS and role_arn:
        raise _invalid("destinationArn for vendor %s cannot be used with roleArn" % vendor)


def _check_target(target_arn, account, region):
    """moto's own checks for a same-account target (kinesis/firehose/lambda/log group)."""
    arn = _parse_arn(target_arn, "destinationArn")
    service = arn["service"]
    if service == "kinesis":
        from moto.kinesis.models import kinesis_backends  # pylint: disable=import-outside-toplevel
        try:
            kinesis_backends[arn["account"]][arn["region"]].describe_stream(stream_arn=target_arn, stream_name=None)
        except Exception:  # pylint: disable=broad-except
            raise _invalid("Could not deliver test message to specified Kinesis stream. Verify the stream exists ")
    elif service == "firehose":
        from moto.firehose.models import firehose_backends  # pylint: disable=import-outside-toplevel
        if not firehose_backends[arn["account"]][arn["region"]].lookup_name_from_arn(target_arn):
            raise _invalid("Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.")
    elif service == "lambda":
        from moto.awslambda.utils import get_backend  # pylint: disable=import-outside-toplevel
        try:
            get_backend(account, region).get_function(target_arn)
        except Exception:  # pylint: disable=broad-except
            raise _invalid("Could not execute the lambda function. Make sure you have given CloudWatch Logs permission to execute your function.")
    elif service == "logs":
        _logs_backend(arn["account"], arn["region"])._find_log_group(log_group_name=arn["resource"].split(":")[1])
    else:
        raise _invalid("destinationArn %r: service %r is not a supported subscription destination" % (target_arn, service))


def _gzip_json(data):
    return gzip.compress(json.dumps(data, separators=(",", ":")).encode("utf-8"))


def _put_record(target_arn, payload, partition_key):
    """Put one gzip payload on a Kinesis stream or Firehose stream."""
    arn = _parse_arn(target_arn, "targetArn")
    if arn["service"] == "kinesis":
        from moto.kinesis.models import kinesis_backends  # pylint: disable=import-outside-toplevel
        from local_aws import hooks  # pylint: disable=import-outside-toplevel
        with hooks.KINESIS_LOCK:
            kinesis_backends[arn["account"]][arn["region"]].put_record(
                stream_arn=target_arn, stream_name=None, partition_key=partition_key,
                explicit_hash_key="", data=base64.b64encode(payload).decode("ascii"),
            )
    elif arn["service"] == "firehose":
        from moto.firehose.models import firehose_backends  # pylint: disable=import-outside-toplevel
        backend = firehose_backends[arn["account"]][arn["region"]]
        name = arn["resource"].split("/", 1)[1]
        backend.put_record(name, {"Data": payload})
    else:
        raise ValueError("cannot put a record on %s" % target_arn)


def send_control_message(target_arn):
    """AWS's destination health check: one CONTROL_MESSAGE record on the target."""
    kind = _target_kind(target_arn)
    if kind not in CONTROL_TEXT:
        return False
    payload = _gzip_json({
        "messageType": "CONTROL_MESSAGE",
        "owner": "CloudwatchLogs",
        "logGroup": "",
        "logStream": "",
        "subscriptionFilters": [],
        "logEvents": [{"id": "", "timestamp": int(time.time() * 1000), "message": CONTROL_TEXT[kind]}],
    })
    try:
        _put_record(target_arn, payload, uuid.uuid4().hex)
    except Exception:  # pylint: disable=broad-except
        LOG.exception("control message to %s failed", target_arn)
        if kind == "kinesis":
            raise _invalid("Could not deliver test message to specified Kinesis stream. Verify the stream exists ")
        raise _invalid("Could not deliver test message to specified Firehose stream. Check if the given Firehose stream is in ACTIVE state.")
    return True


# --------------------------------------------------------------------------- delivery queue

def _partition_key(distribution, owner, group, stream):
    if distribution == "Random":
        return uuid.uuid4().hex
    # ByLogStream: every batch of one log stream goes to the same shard.
    return hashlib.md5(("%s/%s/%s" % (owner, group, stream)).encode("utf-8")).hexdigest()  # nosec - not security


def _enqueue(log_stream, events):
    group = log_stream.log_group
    owner, region = group.account_id, group.region
    subscriptions = [(f.name, f.filter_pattern, f.destination_arn, getattr(f, "distribution", None) or "ByLogStream")
                     for f in list(group.subscription_filters.values())]
    policy = _subscription_policy(_logs_backend(owner, region))
    if policy is not None and group.name not in policy["_excluded"]:
        doc = policy["_document"]
        subscriptions.append((policy["policyName"], doc.get("FilterPattern", ""), doc["DestinationArn"],
                              doc.get("Distribution") or "ByLogStream"))
    for name, pattern, destination_arn, distribution in subscriptions:
        try:
            compiled = compile_filter(pattern)
        except Exception:  # pylint: disable=broad-except
            LOG.error("subscription %s on %s has a pattern that cannot be evaluated; nothing delivered", name, group.name)
            continue
        matched = _matching(compiled, events, name)
        if not matched:
            continue
        item = {
            "owner": owner, "region": region, "logGroup": group.name, "logStream": log_stream.log_stream_name,
            "filter": name, "destination": destination_arn, "distribution": distribution,
            "events": [{"id": e.event_id, "timestamp": e.timestamp, "message": e.message} for e in matched],
        }
        with _QUEUE_LOCK:
            _QUEUE.append(item)


def _chunks(data, events):
    """Split ``events`` so that each gzip payload stays under the record size limit."""
    payload = _gzip_json(dict(data, logEvents=events))
    if len(payload) <= MAX_RECORD or len(events) == 1:
        return [payload]
    half = len(events) // 2
    return _chunks(data, events[:half]) + _chunks(data, events[half:])


def _deliver(item):
    destination_arn = item["destination"]
    arn = _parse_arn(destination_arn, "destinationArn")
    target = destination_arn
    if arn["service"] == "logs" and arn["resource"].startswith("destination:"):
        destination = _logs_backend(arn["account"], arn["region"]).destinations.get(destination_arn)
        if destination is None:
            LOG.warning("destination %s no longer exists; batch from %s dropped (non-retryable, as on AWS)", destination_arn, item["logGroup"])
            return
        target = destination.target_arn
    kind = _target_kind(target)
    if kind in ("kinesis", "firehose"):
        data = {
            "messageType": "DATA_MESSAGE",
            "owner": item["owner"],
            "logGroup": item["logGroup"],
            "logStream": item["logStream"],
            "subscriptionFilters": [item["filter"]],
            "logEvents": item["events"],
        }
        key = _partition_key(item["distribution"], item["owner"], item["logGroup"], item["logStream"])
        for index, payload in enumerate(_chunks(data, item["events"])):
            if index < item.get("chunks_sent", 0):
                continue  # put before a throttled chunk of the same batch
            code = _injected_kinesis_fault(kind)
            if code:
                raise RetryableDelivery(code)
            _put_record(target, payload, key)
            item["chunks_sent"] = index + 1
    elif kind == "lambda":
        from moto.awslambda.utils import get_backend  # pylint: disable=import-outside-toplevel
        get_backend(item["owner"], item["region"]).send_log_event(target, item["filter"], item["logGroup"], item["logStream"], item["events"])
    elif kind == "logs":
        target_arn = _parse_arn(target, "destinationArn")
        group = _logs_backend(target_arn["account"], target_arn["region"])._find_log_group(log_group_name=target_arn["resource"].split(":")[1])
        group.put_log_events(item["logStream"], [{"timestamp": e["timestamp"], "message": e["message"]} for e in item["events"]])
    else:
        LOG.warning("unsupported subscription target %s; batch dropped", target)


class RetryableDelivery(Exception):
    """The target answered a retryable error (throttling, 5xx): the batch is delivered again."""


_RETRIES = {"count": 0}


def _injected_kinesis_fault(kind):
    """LOGVAULT_AWS_FAULTS ``kinesis:PutRecord:<code>:<rate>`` on subscription delivery.

    The emulator's CloudWatch Logs puts each payload on the destination stream as one PutRecord
    (which call AWS's service uses is not documented). On AWS, "If the destination service
    returns a retryable error such as a throttling exception or a retryable service exception
    (HTTP 5xx for example), CloudWatch Logs continues to retry delivery for up to 24 hours"
    (CloudWatch Logs User Guide, "Real-time processing of log data with subscriptions",
    https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/Subscriptions.html). So an injected
    fault requeues the batch; the payloads put before it are not put again.
    """
    if kind != "kinesis":
        return None
    from local_aws import faults  # pylint: disable=import-outside-toplevel
    return faults.pick("kinesis", "PutRecord")


def delivery_retries():
    """How many times a subscription batch was requeued after a retryable target error."""
    return _RETRIES["count"]


def deliver_pending():
    """Poller: deliver the batches queued when the pass starts. Returns how many.

    Batches queued by the delivery itself (a target whose own logs are subscribed again,
    the recursion AWS warns about) wait for the next pass, so a flush stays bounded.
    """
    with _QUEUE_LOCK:
        count = len(_QUEUE)
    handled = 0
    for _ in range(count):
        with _QUEUE_LOCK:
            if not _QUEUE:
                break
            item = _QUEUE.popleft()
        handled += 1
        try:
            _deliver(item)
        except RetryableDelivery as exc:
            LOG.info("delivery of a batch from %s to %s answered %s; retried on the next pass",
                     item["logGroup"], item["destination"], exc)
            with _QUEUE_LOCK:
                _RETRIES["count"] += 1
                _QUEUE.append(item)
        except Exception:  # pylint: disable=broad-except
            LOG.exception("delivery of a batch from %s to %s failed", item["logGroup"], item["destination"])
    return handled


def pending():
    with _QUEUE_LOCK:
        return len(_QUEUE)


def _reset():
    with _QUEUE_LOCK:
        _QUEUE.clear()
        _RETRIES["count"] = 0


# --------------------------------------------------------------------------- account policies

def _account_policies(backend):
    policies = getattr(backend, "_logvault_account_policies", None)
    if policies is None:
        policies = {}
        backend._logvault_account_policies = policies
    return policies


def _subscription_policy(backend):
    for policy in _account_policies(backend).values():
        if policy["policyType"] == "SUBSCRIPTION_FILTER_POLICY":
            return policy
    return None


def parse_selection_criteria(criteria):
    """``LogGroupName NOT IN ["a", "b"]`` -> {"a", "b"}; empty -> nothing excluded."""
    if criteria is None or criteria.strip() == "":
        return set()
    if len(criteria.encode("utf-8")) > MAX_SELECTION_CRITERIA:
        raise _invalid("selectionCriteria is longer than 25 KB")
    match = SELECTION.match(criteria)
    if not match:
        raise _invalid('selectionCriteria %r is not supported for SUBSCRIPTION_FILTER_POLICY; '
                       'the only supported form is LogGroupName NOT IN ["..."]' % criteria)
    try:
        names = json.loads(match.group(1))
    except ValueError:
        raise _invalid('selectionCriteria %r: the list must be JSON strings, like LogGroupName NOT IN ["a", "b"]' % criteria)
    if not all(isinstance(n, str) for n in names):
        raise _invalid("selectionCriteria %r: the list must contain only log group names (strings)" % criteria)
    return set(names)


def _validate_subscription_document(document):
    try:
        doc = json.loads(document)
    except ValueError:
        raise _invalid("policyDocument is not valid JSON")
    if not isinstance(doc, dict):
        raise _invalid("policyDocument must be a JSON object")
    unknown = sorted(set(doc) - set(SUBSCRIPTION_POLICY_KEYS))
    if unknown:
        raise _invalid("policyDocument has unsupported attribute(s) %s; a subscription filter policy takes %s"
                       % (", ".join(unknown), ", ".join(SUBSCRIPTION_POLICY_KEYS)))
    if not doc.get("DestinationArn"):
        raise _invalid("policyDocument must include DestinationArn")
    if doc.get("Distribution") is not None and doc["Distribution"] not in DISTRIBUTIONS:
        raise _invalid("policyDocument Distribution must be Random or ByLogStream, got %r" % doc["Distribution"])
    compile_filter(doc.get("FilterPattern", ""), parameter="policyDocument FilterPattern")
    return doc


def put_account_policy(backend, name, document, policy_type, scope=None, selection_criteria=None, dry_run=False):
    if not name:
        raise _invalid("policyName is required")
    if name.startswith("aws/"):
        raise _invalid("policyName cannot start with aws/")
    if policy_type not in POLICY_TYPES:
        raise _invalid("policyType must be one of %s, got %r" % (", ".join(POLICY_TYPES), policy_type))
    if scope not in (None, "ALL"):
        raise _invalid("scope must be ALL, got %r" % scope)
    if document is None or len(document) > MAX_POLICY_DOCUMENT:
        raise _invalid("policyDocument is required and can be up to %d characters" % MAX_POLICY_DOCUMENT)
    policies = _account_policies(backend)
    extra = {}
    target = None
    if policy_type == "SUBSCRIPTION_FILTER_POLICY":
        doc = _validate_subscription_document(document)
        excluded = parse_selection_criteria(selection_criteria)
        existing = _subscription_policy(backend)
        if existing is not None and existing["policyName"] != name:
            raise _errors().LimitExceededException()
        destination_arn = doc["DestinationArn"]
        arn = _parse_arn(destination_arn, "policyDocument DestinationArn")
        if arn["service"] == "logs" and arn["resource"].startswith("destination:"):
            destination = resolve_destination(destination_arn, backend.account_id, backend.region_name,
                                              "logs:PutAccountPolicy", doc.get("RoleArn"))
            target = destination.target_arn
        else:
            if arn["account"] != backend.account_id:
                raise _invalid("policyDocument DestinationArn %s must be in this account or be a CloudWatch Logs destination" % destination_arn)
            check_target_role(destination_arn, doc.get("RoleArn"))
            _check_target(destination_arn, backend.account_id, backend.region_name)
            target = destination_arn
        extra = {"_document": doc, "_excluded": excluded}
    policy = {
        "policyName": name,
        "policyDocument": document,
        "lastUpdatedTime": int(time.time() * 1000),
        "policyType": policy_type,
        "scope": scope or "ALL",
        "accountId": backend.account_id,
    }
    if selection_criteria is not None:
        policy["selectionCriteria"] = selection_criteria
    policy.update(extra)
    if dry_run:
        return policy
    if target is not None:
        send_control_message(target)
    policies[(policy_type, name)] = policy
    return policy


def public(policy):
    return {k: v for k, v in policy.items() if not k.startswith("_")}


def oldest_accepted_ms(now_ms, retention_days=None):
    """The oldest timestamp PutLogEvents accepts: 14 days ago, or the log group's retention when shorter."""
    days = 14 if not retention_days else min(14, int(retention_days))
    return now_ms - days * DAY_MS


def check_put_log_events(log_events, now_ms=None, retention_days=None):
    """AWS's PutLogEvents limits that moto does not check, with AWS's answers (users quote
    "Upload too large: ..." and "The batch of log events ... cannot span more than 24 hours.";
    AWS does not document the wording). Only the events AWS accepts (at most 14 days old and
    within the log group's retention, at most 2 hours ahead) count for the span, as
    API_PutLogEvents says."""
    events = log_events or []
    if len(events) > MAX_PUT_EVENTS:
        raise _invalid("1 validation error detected: Value at 'logEvents' failed to satisfy constraint: "
                       "Member must have length less than or equal to %d" % MAX_PUT_EVENTS)
    size = sum(len((e.get("message") or "").encode("utf-8")) + EVENT_OVERHEAD for e in events)
    if size > MAX_PUT_BYTES:
        raise _invalid("Upload too large: %d bytes exceeds limit of %d" % (size, MAX_PUT_BYTES))
    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    valid = [e["timestamp"] for e in events
             if isinstance(e.get("timestamp"), int)
             and oldest_accepted_ms(now_ms, retention_days) <= e["timestamp"] <= now_ms + MAX_AHEAD_MS]
    if valid and max(valid) - min(valid) > MAX_PUT_SPAN_MS:
        raise _invalid("The batch of log events in a single PutLogEvents request cannot span more than 24 hours.")


# --------------------------------------------------------------------------- moto patches

def install():
    """Patch moto's CloudWatch Logs backend and register the delivery poller (idempotent)."""
    if _INSTALLED["done"]:
        return
    from moto.logs import models, responses  # pylint: disable=import-outside-toplevel
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    original_event_init = models.LogEvent.__init__

    def log_event_init(self, ingestion_time, log_event):
        original_event_init(self, ingestion_time, log_event)
        self.event_id = next_event_id(self.timestamp)

    def stream_put_log_events(self, log_events):
        # moto's storage, then our queue instead of moto's synchronous, unfiltered send.
        self.last_ingestion_time = models.utcnow()
        self.stored_bytes += sum(len(e["message"]) for e in log_events)
        ingestion_time = int(models.unix_time_millis(self.last_ingestion_time))
        events = [models.LogEvent(ingestion_time, e) for e in log_events]
        self.events += events
        self.upload_sequence_token += 1
        _enqueue(self, events)
        return "%056d" % self.upload_sequence_token

    def group_put_subscription_filter(self, filter_name, filter_pattern, destination_arn, role_arn, distribution=None):
        existing = self.subscription_filters.get(filter_name)
        if existing is None and len(self.subscription_filters) >= 2:
            raise models.LimitExceededException()
        if existing is not None:
            existing.update(filter_pattern, destination_arn, role_arn)
        else:
            existing = models.SubscriptionFilter(name=filter_name, log_group_name=self.name, filter_pattern=filter_pattern,
                                                 destination_arn=destination_arn, role_arn=role_arn)
            self.subscription_filters[filter_name] = existing
        existing.distribution = distribution or "ByLogStream"

    original_to_json = models.SubscriptionFilter.to_json

    def filter_to_json(self):
        out = original_to_json(self)
        out["distribution"] = getattr(self, "distribution", None) or "ByLogStream"
        return out

    def backend_put_subscription_filter(self, log_group_name, filter_name, filter_pattern, destination_arn, role_arn, distribution=None):
        log_group = self.groups.get(log_group_name)
        if not log_group:
            raise models.ResourceNotFoundException()
        if distribution not in (None,) + DISTRIBUTIONS:
            raise _invalid("distribution must be Random or ByLogStream, got %r" % distribution)
        compile_filter(filter_pattern)
        arn = _parse_arn(destination_arn, "destinationArn")
        if arn["service"] == "logs" and arn["resource"].startswith("destination:"):
            destination = resolve_destination(destination_arn, self.account_id, self.region_name, "logs:PutSubscriptionFilter", role_arn)
            target = destination.target_arn
        else:
            check_target_role(destination_arn, role_arn)
            _check_target(destination_arn, self.account_id, self.region_name)
            target = destination_arn
        if filter_name not in log_group.subscription_filters and len(log_group.subscription_filters) >= 2:
            raise models.LimitExceededException()
        send_control_message(target)
        log_group.put_subscription_filter(filter_name, filter_pattern, destination_arn, role_arn, distribution)

    original_response_put_log_events = responses.LogsResponse.put_log_events

    def response_put_log_events(self):
        group = self.logs_backend.groups.get(self._get_param("logGroupName"))
        check_put_log_events(self._get_param("logEvents"), retention_days=getattr(group, "retention_in_days", None))
        return original_response_put_log_events(self)

    def backend_put_log_events(self, log_group_name, log_stream_name, log_events):
        # moto's, plus the events older than the group's retention (expiredLogEventEndIndex).
        if log_group_name not in self.groups:
            raise models.ResourceNotFoundException()
        log_group = self.groups[log_group_name]
        now_ms = int(models.unix_time_millis(models.utcnow()))
        too_old = oldest_accepted_ms(now_ms)
        oldest = oldest_accepted_ms(now_ms, log_group.retention_in_days)
        newest = now_ms + MAX_AHEAD_MS
        rejected_info = {}
        allowed_events = []
        last_timestamp = None
        for idx, event in enumerate(log_events):
            if last_timestamp and last_timestamp > event["timestamp"]:
                raise models.InvalidParameterException(
                    "Log events in a single PutLogEvents request must be in chronological order.")
            if event["timestamp"] < too_old:
                rejected_info["tooOldLogEventEndIndex"] = idx
            elif event["timestamp"] < oldest:
                rejected_info["expiredLogEventEndIndex"] = idx
            elif event["timestamp"] > newest:
                rejected_info["tooNewLogEventStartIndex"] = idx
            else:
                allowed_events.append(event)
            last_timestamp = event["timestamp"]
        token = log_group.put_log_events(log_stream_name, allowed_events)
        return token, rejected_info

    def response_put_subscription_filter(self):
        self.logs_backend.put_subscription_filter(
            self._get_param("logGroupName"), self._get_param("filterName"), self._get_param("filterPattern"),
            self._get_param("destinationArn"), self._get_param("roleArn"), self._get_param("distribution"),
        )
        return ""

    def response_put_account_policy(self):
        policy = put_account_policy(
            self.logs_backend, self._get_param("policyName"), self._get_param("policyDocument"), self._get_param("policyType"),
            scope=self._get_param("scope"), selection_criteria=self._get_param("selectionCriteria"),
            dry_run=bool(self._get_param("dryRun")),
        )
        return json.dumps({"accountPolicy": public(policy)})

    def response_describe_account_policies(self):
        policy_type = self._get_param("policyType")
        if policy_type not in POLICY_TYPES:
            raise _invalid("policyType must be one of %s, got %r" % (", ".join(POLICY_TYPES), policy_type))
        name = self._get_param("policyName")
        accounts = self._get_param("accountIdentifiers")
        found = [public(p) for (ptype, pname), p in sorted(_account_policies(self.logs_backend).items())
                 if ptype == policy_type and (name is None or pname == name)]
        if accounts:
            found = [p for p in found if p["accountId"] in accounts]
        return json.dumps({"accountPolicies": found})

    def response_delete_account_policy(self):
        policy_type = self._get_param("policyType")
        name = self._get_param("policyName")
        policies = _account_policies(self.logs_backend)
        if (policy_type, name) not in policies:
            raise _not_found("Policy with name [%s] and type [%s] does not exist" % (name, policy_type))
        if not self._get_param("dryRun"):
            del policies[(policy_type, name)]
        return "{}"

    models.LogEvent.__init__ = log_event_init
    models.LogStream.put_log_events = stream_put_log_events
    models.LogGroup.put_subscription_filter = group_put_subscription_filter
    models.SubscriptionFilter.to_json = filter_to_json
    models.LogsBackend.put_subscription_filter = backend_put_subscription_filter
    responses.LogsResponse.put_subscription_filter = response_put_subscription_filter
    responses.LogsResponse.put_log_events = response_put_log_events
    models.LogsBackend.put_log_events = backend_put_log_events
    responses.LogsResponse.put_account_policy = response_put_account_policy
    responses.LogsResponse.describe_account_policies = response_describe_account_policies
    responses.LogsResponse.delete_account_policy = response_delete_account_policy
    hooks.register_poller(deliver_pending)
    hooks.register_reset(_reset)
    _INSTALLED["done"] = True


__all__ = ["install", "deliver_pending", "compile_filter", "evaluate_access_policy", "organization_id_of",
           "parse_selection_criteria", "next_event_id"]
