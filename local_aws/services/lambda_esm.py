# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Lambda without Docker, and Kinesis -> Lambda event source mappings executed for real.

What moto 5.2.5 does: ``Invoke`` needs Docker; a Kinesis mapping invokes the function
synchronously inside PutRecord, one record per event, and ignores every batching and
error-handling setting.

What this module does instead (``install()`` is called once by the server):

* ``Invoke`` runs the function's own zip in a subprocess (``lambda_runtime``).
  RequestResponse returns the handler's result (``X-Amz-Function-Error: Unhandled`` and
  the Lambda error document when it raised or timed out); ``Tail`` log type returns the
  last 4 KB of the log; DryRun runs nothing; Event queues the invocation for the
  background poller (``flush()`` runs it now).
* A poller reads every enabled Kinesis mapping's stream shard by shard, from
  StartingPosition (TRIM_HORIZON, LATEST as of CreateEventSourceMapping, AT_TIMESTAMP),
  builds the real Kinesis event, and honours BatchSize, MaximumBatchingWindowInSeconds
  (``flush()`` ignores the window), ReportBatchItemFailures, BisectBatchOnFunctionError,
  MaximumRetryAttempts, MaximumRecordAgeInSeconds and DestinationConfig.OnFailure
  (S3: full invocation record; SQS/SNS: metadata only). See docs/local-aws.md.

Retries happen immediately (no backoff) so that tests are deterministic. With
MaximumRetryAttempts -1 (infinite) a failing batch is retried once per poll, blocking its
shard exactly as on AWS, and ``flush()`` still returns.
"""

import datetime
import json
import logging
import threading
import time
import uuid
from collections import deque

from local_aws.services import lambda_runtime

LOG = logging.getLogger("local_aws.lambda_esm")

STARTING_POSITIONS = ("TRIM_HORIZON", "LATEST", "AT_TIMESTAMP")
MAX_PAYLOAD_BYTES = 6 * 1024 * 1024 - 64 * 1024

_POLL_LOCK = threading.RLock()
_STATES = {}
_ASYNC = deque()
_INSTALLED = {"done": False}
_FLUSHING = threading.local()
_NO_LOCK = threading.RLock()


# --------------------------------------------------------------------------- helpers

def _kinesis_lock():
    """The core's lock around moto's Kinesis shards (not thread-safe). Held only while
    reading them, never while a Lambda subprocess runs (it calls back over HTTP)."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    return getattr(hooks, "KINESIS_LOCK", None) or _NO_LOCK


def _iso(ts):
    when = datetime.datetime.fromtimestamp(ts, tz=datetime.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (when.microsecond // 1000)


def _is_kinesis(arn):
    return isinstance(arn, str) and arn.split(":")[2:3] == ["kinesis"]


def _arn_parts(arn):
    parts = arn.split(":", 5)
    if len(parts) != 6:
        return None
    return {"service": parts[2], "region": parts[3], "account": parts[4], "resource": parts[5]}


def _invalid(message):
    from moto.awslambda.exceptions import InvalidParameterValueException  # pylint: disable=import-outside-toplevel
    return InvalidParameterValueException(message)


def validate_kinesis_mapping(spec, creating):
    """Reject what AWS rejects for a Kinesis mapping, before anything is stored."""
    def _int_in(name, low, high, extra=None):
        if name not in spec or spec[name] is None:
            return
        value = spec[name]
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid("%s must be an integer, got %r" % (name, value))
        if value == extra:
            return
        if value < low or value > high:
            allowed = "between %s and %s" % (low, high)
            if extra is not None:
                allowed = "%s or %s" % (extra, allowed)
            raise _invalid("%s must be %s, got %s" % (name, allowed, value))

    _int_in("BatchSize", 1, 10000)
    _int_in("MaximumBatchingWindowInSeconds", 0, 300)
    _int_in("MaximumRetryAttempts", -1, 10000)
    _int_in("MaximumRecordAgeInSeconds", 60, 604800, extra=-1)
    _int_in("ParallelizationFactor", 1, 10)
    position = spec.get("StartingPosition")
    if creating and not position:
        raise _invalid("StartingPosition is required for a Kinesis event source (one of %s)" % ", ".join(STARTING_POSITIONS))
    if position and position not in STARTING_POSITIONS:
        raise _invalid("StartingPosition must be one of %s, got %r" % (", ".join(STARTING_POSITIONS), position))
    if position == "AT_TIMESTAMP" and spec.get("StartingPositionTimestamp") is None:
        raise _invalid("StartingPositionTimestamp is required when StartingPosition is AT_TIMESTAMP")
    types = spec.get("FunctionResponseTypes")
    if types is not None:
        if not isinstance(types, list) or any(t != "ReportBatchItemFailures" for t in types):
            raise _invalid("FunctionResponseTypes may only contain 'ReportBatchItemFailures', got %r" % (types,))
    destination = ((spec.get("DestinationConfig") or {}).get("OnFailure") or {}).get("Destination")
    if destination:
        parts = _arn_parts(destination)
        if not parts or parts["service"] not in ("sqs", "sns", "s3"):
            raise _invalid("DestinationConfig.OnFailure.Destination must be an SQS queue, SNS topic or S3 bucket ARN, got %r" % destination)
    on_success = ((spec.get("DestinationConfig") or {}).get("OnSuccess") or {}).get("Destination")
    if on_success:
        raise _invalid("DestinationConfig.OnSuccess is not supported for Kinesis event sources")


# --------------------------------------------------------------------------- state

class _Unit(object):
    """A batch (or part of one, after bisection) waiting to be processed, in shard order."""

    def __init__(self, records, retries=0, invokes=0):
        self.records = records
        self.retries = retries
        self.invokes = invokes
        self.discard_condition = None
        self.last_error = None


class _ShardState(object):
    def __init__(self, shard_id, checkpoint):
        self.shard_id = shard_id
        self.checkpoint = checkpoint
        self.pending = deque()


class _MappingState(object):
    def __init__(self, esm):
        self.uuid = esm.uuid
        self.esm = esm
        self.shards = {}
        self.last_result = "No records processed"
        self.invocations = 0
        self.discarded = []
        self.created = time.time()

    def shard(self, shard):
        state = self.shards.get(shard.shard_id)
        if state is None:
            # A shard first seen after the mapping was created (resharding) is read
            # from its beginning, like Lambda does for child shards.
            state = _ShardState(shard.shard_id, 0)
            self.shards[shard.shard_id] = state
        return state


def _max_seq(shard):
    for _attempt in range(3):
        try:
            return next(reversed(shard.records), 0)
        except RuntimeError:  # a request thread appended a record at that instant
            continue
    return 0


def _find_stream(arn):
    parts = _arn_parts(arn)
    if not parts:
        return None
    from moto.kinesis.models import kinesis_backends  # pylint: disable=import-outside-toplevel
    if parts["account"] not in kinesis_backends:
        return None
    backend = kinesis_backends[parts["account"]].get(parts["region"])
    if backend is None:
        return None
    name = parts["resource"].split("/")[1] if "/" in parts["resource"] else parts["resource"]
    return backend.streams.get(name)


def _init_state(esm):
    with _kinesis_lock():
        return _init_state_locked(esm)


def _init_state_locked(esm):
    state = _MappingState(esm)
    stream = _find_stream(esm.event_source_arn)
    if stream is not None:
        for shard in list(stream.shards.values()):
            if esm.starting_position == "LATEST":
                checkpoint = _max_seq(shard)
            elif esm.starting_position == "AT_TIMESTAMP":
                checkpoint = shard.get_sequence_number_at(float(esm.starting_position_timestamp))
            else:
                checkpoint = 0
            state.shards[shard.shard_id] = _ShardState(shard.shard_id, checkpoint)
    # Whoever sees the new mapping first (the create request or the poller) sets its position.
    return _STATES.setdefault(esm.uuid, state)


def mapping_state(mapping_uuid):
    """The poller's view of one mapping (for tests and debugging)."""
    return _STATES.get(mapping_uuid)


# --------------------------------------------------------------------------- the poller

def _all_mappings():
    from moto.awslambda.models import lambda_backends  # pylint: disable=import-outside-toplevel
    for _account, per_region in list(lambda_backends.items()):
        for _region, backend in list(per_region.items()):
            for esm in list(backend._event_source_mappings.values()):  # pylint: disable=protected-access
                if _is_kinesis(esm.event_source_arn):
                    yield backend, esm


def _function(backend, esm):
    try:
        return backend._lambdas.get_function_by_name_or_arn_with_qualifier(esm.function_arn)  # pylint: disable=protected-access
    except Exception:  # pylint: disable=broad-exception-caught
        return None


def poll(force=False):
    """Deliver what is due on every Kinesis mapping, and queued async invocations.

    ``force`` ignores MaximumBatchingWindowInSeconds (used by flush()).
    Returns the number of records/invocations handled (0 when there was nothing to do).
    """
    with _POLL_LOCK:
        started = time.time()
        handled = _run_async_queue()
        seen = set()
        for backend, esm in _all_mappings():
            seen.add(esm.uuid)
            state = _STATES.get(esm.uuid) or _init_state(esm)
            state.esm = esm
            if not esm.enabled:
                continue
            with _kinesis_lock():
                stream = _find_stream(esm.event_source_arn)
                shards = list(stream.shards.values()) if stream is not None else []
            fn = _function(backend, esm)
            if stream is None or fn is None:
                continue
            for shard in shards:
                handled += _drive_shard(state, fn, stream, shard, force)
        for stale in set(_STATES) - seen:
            if _STATES[stale].created < started:  # (not a mapping created during this poll)
                _STATES.pop(stale, None)
        return handled


def _next_records(esm, shard, checkpoint):
    batch_size = esm.batch_size or 100
    top = _max_seq(shard)
    records = []
    size = 0
    seq = checkpoint + 1
    while seq <= top and len(records) < batch_size:
        record = shard.records.get(seq)
        if record is not None:
            size += len(record.data or "") + len(record.partition_key or "") + 300
            if records and size > MAX_PAYLOAD_BYTES:
                break
            records.append(record)
        seq += 1
    return records


_THROTTLED_READS = {"count": 0}


def _read_throttled():
    """LOGVAULT_AWS_FAULTS ``kinesis:GetRecords:<code>:<rate>``: the mapping's read of a shard
    fails (GetRecords answers ProvisionedThroughputExceededException when "the request rate for
    the stream is too high", Kinesis API reference, GetRecords), and the poller reads again
    from the same checkpoint at its next poll: nothing is skipped."""
    from local_aws import faults  # pylint: disable=import-outside-toplevel
    if faults.pick("kinesis", "GetRecords"):
        _THROTTLED_READS["count"] += 1
        return True
    return False


def throttled_reads():
    return _THROTTLED_READS["count"]


def _drive_shard(state, fn, stream, shard, force):
    esm = state.esm
    ss = state.shard(shard)
    handled = 0
    while True:
        if not ss.pending:
            if _read_throttled():
                # The records stay in the shard; the next poll reads them again. Counted as
                # handled so that flush() keeps polling instead of settling.
                return handled + 1
            with _kinesis_lock():
                records = _next_records(esm, shard, ss.checkpoint)
            if not records:
                return handled
            window = esm.max_batch_window or 0
            batch_size = esm.batch_size or 100
            if not force and window > 0 and len(records) < batch_size and time.time() - records[0].created_at < window:
                return handled
            ss.pending.append(_Unit(records))
        done, blocked = _attempt(state, fn, stream, ss, ss.pending[0])
        handled += done
        if blocked:
            return handled


def _retry_limit(esm):
    value = esm.max_retry_attempts
    return -1 if value is None else int(value)


def _attempt(state, fn, stream, ss, unit):
    """One step on the oldest unit of a shard. Returns (records handled, blocked)."""
    esm = state.esm
    if unit.discard_condition:
        return _discard(state, fn, stream, ss, unit, unit.discard_condition)

    max_age = esm.max_record_age
    if max_age is not None and int(max_age) != -1:
        now = time.time()
        expired = 0
        while expired < len(unit.records) and now - unit.records[expired].created_at > int(max_age):
            expired += 1
        if expired:
            old = _Unit(unit.records[:expired], unit.retries, unit.invokes)
            old.last_error = unit.last_error
            unit.records = unit.records[expired:]
            if not unit.records:
                ss.pending.popleft()
            ss.pending.appendleft(old)
            return _discard(state, fn, stream, ss, old, "RecordAgeExceeded")

    event = _event(fn, stream, ss.shard_id, unit.records)
    outcome = lambda_runtime.invoke(fn, event)
    unit.invokes += 1
    state.invocations += 1
    verdict = _failure_index(esm, unit.records, outcome)
    if verdict is None:
        ss.checkpoint = int(unit.records[-1].sequence_number)
        ss.pending.popleft()
        state.last_result = "OK"
        return len(unit.records), False

    failed_at, partial = verdict
    state.last_result = "PROBLEM: Function call failed"
    unit.last_error = outcome
    done = 0
    if partial:
        # A valid batchItemFailures report: checkpoint before the lowest failed
        # sequence number and retry from there (with BisectBatchOnFunctionError the
        # batch is bisected at that sequence number: same thing).
        done = failed_at
        if failed_at > 0:
            ss.checkpoint = int(unit.records[failed_at - 1].sequence_number)
            unit.records = unit.records[failed_at:]
    elif esm.bisect_on_error and len(unit.records) > 1:
        half = len(unit.records) // 2
        first = _Unit(unit.records[:half], unit.retries, unit.invokes)
        second = _Unit(unit.records[half:], unit.retries, unit.invokes)
        ss.pending.popleft()
        ss.pending.appendleft(second)
        ss.pending.appendleft(first)
        # Splitting a batch does not count towards the retry quota.
        return 0, False
    unit.retries += 1
    limit = _retry_limit(esm)
    if limit != -1 and unit.retries > limit:
        finished, blocked = _discard(state, fn, stream, ss, unit, "RetryAttemptsExhausted")
        return done + finished, blocked
    # Finite retries run now (deterministic); infinite retries wait for the next poll.
    return done, limit == -1


def _failure_index(esm, records, outcome):
    """None for success, else (index of the first record to retry, partial?).

    ``partial`` is True for a valid batchItemFailures report; a function error, a
    timeout or an invalid report (empty/null/unknown itemIdentifier, bad key name) is a
    complete failure of the batch.
    """
    if outcome.failed:
        return 0, False
    if "ReportBatchItemFailures" not in (esm.function_response_types or []):
        return None
    response = outcome.payload
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if failures is None or failures == []:
        return None
    if not isinstance(failures, list):
        return 0, False
    positions = {str(r.sequence_number): i for i, r in enumerate(records)}
    lowest = None
    for item in failures:
        if not isinstance(item, dict) or "itemIdentifier" not in item:
            return 0, False
        identifier = item["itemIdentifier"]
        if identifier is None or identifier == "" or str(identifier) not in positions:
            return 0, False
        index = positions[str(identifier)]
        lowest = index if lowest is None else min(lowest, index)
    return lowest, True


def _event(fn, stream, shard_id, records):
    return {"Records": [{
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": r.partition_key,
            "sequenceNumber": str(r.sequence_number),
            "data": r.data,
            "approximateArrivalTimestamp": round(r.created_at, 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": "%s:%s" % (shard_id, r.sequence_number),
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": fn.role,
        "awsRegion": stream.region,
        "eventSourceARN": stream.arn,
    } for r in records]}


# --------------------------------------------------------------------------- on-failure

def invocation_record(fn, stream, shard_id, unit, condition, include_payload):
    """The on-failure document, in the shape AWS documents for Kinesis sources."""
    records = unit.records
    error = unit.last_error
    response = {"statusCode": 200, "executedVersion": "$LATEST"}
    if error is not None and error.failed:
        response["functionError"] = "Unhandled"
    document = {
        "requestContext": {
            "requestId": error.request_id if error is not None else str(uuid.uuid4()),
            "functionArn": fn.function_arn,
            "condition": condition,
            "approximateInvokeCount": unit.invokes,
        },
        "responseContext": response,
        "version": "1.0",
        "timestamp": _iso(time.time()),
        "KinesisBatchInfo": {
            "shardId": shard_id,
            "startSequenceNumber": str(records[0].sequence_number),
            "endSequenceNumber": str(records[-1].sequence_number),
            "approximateArrivalOfFirstRecord": _iso(records[0].created_at),
            "approximateArrivalOfLastRecord": _iso(records[-1].created_at),
            "batchSize": len(records),
            "streamArn": stream.arn,
        },
    }
    if include_payload:
        document["payload"] = json.dumps(_event(fn, stream, shard_id, records))
    return document


def _client(service, fn, region):
    import boto3  # pylint: disable=import-outside-toplevel
    creds = lambda_runtime.credentials_for(fn.account_id, lambda_runtime._role_arn(fn), fn.function_name, fn.region)  # pylint: disable=protected-access
    return boto3.client(
        service, region_name=region, endpoint_url=lambda_runtime.get_endpoint(),
        aws_access_key_id=creds["AWS_ACCESS_KEY_ID"], aws_secret_access_key=creds["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=creds["AWS_SESSION_TOKEN"])


def _send_on_failure(state, fn, stream, shard_id, unit, condition):
    """Deliver the failure record with the function's execution role, like Lambda does."""
    destination = ((state.esm.destination_config or {}).get("OnFailure") or {}).get("Destination")
    if not destination:
        LOG.warning("mapping %s discarded %d record(s) of %s (%s) and has no on-failure destination",
                    state.uuid, len(unit.records), shard_id, condition)
        return
    parts = _arn_parts(destination)
    if parts["service"] == "s3":
        bucket = parts["resource"].split("/")[0]
        now = datetime.datetime.now(datetime.timezone.utc)
        key = "aws/lambda/%s/%s/%s/%s-%s" % (
            state.uuid, shard_id, now.strftime("%Y/%m/%d"), now.strftime("%Y-%m-%dT%H.%M.%S"), uuid.uuid4())
        body = json.dumps(invocation_record(fn, stream, shard_id, unit, condition, True))
        lambda_runtime.service_put_object(fn.account_id, fn.region, bucket, key, body.encode("utf-8"))
    elif parts["service"] == "sqs":
        client = _client("sqs", fn, parts["region"])
        url = client.get_queue_url(QueueName=parts["resource"], QueueOwnerAWSAccountId=parts["account"])["QueueUrl"]
        body = json.dumps(invocation_record(fn, stream, shard_id, unit, condition, False))
        client.send_message(QueueUrl=url, MessageBody=body)
    elif parts["service"] == "sns":
        body = json.dumps(invocation_record(fn, stream, shard_id, unit, condition, False))
        _client("sns", fn, parts["region"]).publish(TopicArn=destination, Message=body)


def _discard(state, fn, stream, ss, unit, condition):
    unit.discard_condition = condition
    try:
        _send_on_failure(state, fn, stream, ss.shard_id, unit, condition)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        # Keep the batch and try the destination again on the next poll: nothing is lost.
        LOG.warning("mapping %s: on-failure destination not reachable (%s); will retry", state.uuid, exc)
        return 0, True
    state.discarded.append({
        "shardId": ss.shard_id,
        "condition": condition,
        "sequenceNumbers": [str(r.sequence_number) for r in unit.records],
    })
    ss.checkpoint = max(ss.checkpoint, int(unit.records[-1].sequence_number))
    ss.pending.popleft()
    return len(unit.records), False


# --------------------------------------------------------------------------- Invoke

def _run_async_queue():
    handled = 0
    while _ASYNC:
        fn, event = _ASYNC.popleft()
        outcome = lambda_runtime.invoke(fn, event)
        if outcome.failed:
            LOG.warning("async invocation of %s failed: %s", fn.function_name, outcome.error)
        handled += 1
    return handled


def _header(headers, name):
    if headers is None:
        return None
    try:
        value = headers.get(name)
    except AttributeError:
        return None
    if value is None:
        for key in list(headers.keys()):
            if key.lower() == name.lower():
                return headers[key]
    return value


def _patched_invoke(self, body, request_headers, response_headers):
    """LambdaFunction.invoke without Docker (replaces moto's implementation)."""
    try:
        event = json.loads(body) if body else {}
    except ValueError:
        event = body
    inv_type = _header(request_headers, "X-Amz-Invocation-Type") or "RequestResponse"
    if inv_type == "DryRun":
        return b""
    if inv_type == "Event":
        _ASYNC.append((self, event))
        return b""
    outcome = lambda_runtime.invoke(self, event)
    response_headers["x-amz-executed-version"] = "$LATEST"
    if outcome.failed:
        response_headers["x-amz-function-error"] = "Unhandled"
    response_headers["x-amz-log-result"] = lambda_runtime.log_tail(outcome)
    return outcome.payload_bytes()


def _noop_send_kinesis_message(self, *args, **kwargs):  # pylint: disable=unused-argument
    """moto invokes mappings inside PutRecord; the poller does it instead."""
    return None


def install():
    """Patch moto's Lambda backend and register the mapping poller (idempotent)."""
    if _INSTALLED["done"]:
        return
    from moto.awslambda import models as lambda_models  # pylint: disable=import-outside-toplevel
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    lambda_models.LambdaFunction.invoke = _patched_invoke
    lambda_models.LambdaBackend.send_kinesis_message = _noop_send_kinesis_message

    original_create = lambda_models.LambdaBackend.create_event_source_mapping
    original_update = lambda_models.LambdaBackend.update_event_source_mapping
    original_config = lambda_models.EventSourceMapping.get_configuration

    def create_event_source_mapping(self, spec):
        if _is_kinesis(spec.get("EventSourceArn")):
            validate_kinesis_mapping(spec, creating=True)
        esm = original_create(self, spec)
        if _is_kinesis(esm.event_source_arn):
            # Not under _POLL_LOCK: a function run by the poller may create mappings itself.
            _init_state(esm)
        return esm

    def update_event_source_mapping(self, mapping_uuid, spec):
        esm = self.get_event_source_mapping(mapping_uuid)
        if esm is not None and _is_kinesis(esm.event_source_arn):
            validate_kinesis_mapping(spec, creating=False)
        return original_update(self, mapping_uuid, spec)

    def get_configuration(self):
        config = original_config(self)
        state = _STATES.get(self.uuid)
        if state is not None:
            config["LastProcessingResult"] = state.last_result
        return config

    lambda_models.LambdaBackend.create_event_source_mapping = create_event_source_mapping
    lambda_models.LambdaBackend.update_event_source_mapping = update_event_source_mapping
    lambda_models.EventSourceMapping.get_configuration = get_configuration

    track_flush()
    hooks.register_poller(poll_from_hooks)
    hooks.register_reset(reset)
    _INSTALLED["done"] = True


def reset():
    """Forget mapping positions, queued async invocations and cached credentials."""
    with _POLL_LOCK:
        _STATES.clear()
        _ASYNC.clear()
        _THROTTLED_READS["count"] = 0
    lambda_runtime.reset()


def track_flush():
    """Know when pollers run inside flush() (which ignores batching windows).

    Uses ``local_aws.hooks.is_flushing()`` when the core provides it; otherwise wraps
    ``hooks.flush`` to set a thread-local flag (flush runs the pollers in its own thread).
    """
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    if callable(getattr(hooks, "is_flushing", None)):
        return
    original = hooks.flush
    if getattr(original, "logvault_tracks_flush", False):
        return

    def flush(*args, **kwargs):
        _FLUSHING.depth = getattr(_FLUSHING, "depth", 0) + 1
        try:
            return original(*args, **kwargs)
        finally:
            _FLUSHING.depth -= 1

    flush.logvault_tracks_flush = True
    flush.__doc__ = original.__doc__
    hooks.flush = flush


def flushing():
    """True while the current thread runs pollers for flush()."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    is_flushing = getattr(hooks, "is_flushing", None)
    if callable(is_flushing):
        return bool(is_flushing())  # pylint: disable=not-callable
    return getattr(_FLUSHING, "depth", 0) > 0


def poll_from_hooks():
    """The registered poller: flush() ignores MaximumBatchingWindowInSeconds."""
    return poll(force=flushing())
