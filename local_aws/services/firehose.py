# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firehose delivery as AWS documents it, on top of moto 5.2.5's control plane.

moto stores delivery streams but writes each PutRecord(Batch) call straight to S3 as
one object, uncompressed, under ``<prefix>/YYYY/MM/DD/HH/`` (expressions are not
evaluated), and rejects ``AmazonopensearchserviceDestinationConfiguration``.

This module (``install()`` is called once by the server):

* accepts the OpenSearch destination on Create/Describe/UpdateDestination and describes
  every destination with the defaults AWS fills in (BufferingHints, CompressionFormat,
  EncryptionConfiguration, S3BackupMode, IndexRotationPeriod, RetryOptions...);
* validates prefixes (``firehose_prefix``) and server-side encryption input
  (CUSTOMER_MANAGED_CMK needs a KeyARN), and describes SSE with its Status;
* buffers PutRecord/PutRecordBatch records per stream and delivers them from a
  registered poller when BufferingHints' size or interval is reached (``flush()``
  delivers at once);
* ExtendedS3/S3: one object per delivery, ``<evaluated Prefix><stream>-<version>-
  yyyy-MM-dd-HH-mm-ss-<uuid>[.gz]``, GZIP applied, KMS encryption config applied,
  written like the service does (moto's S3 backend, see service_put_object); a Lambda processor
  (ProcessingConfiguration) is invoked and ``ProcessingFailed`` records go to the
  evaluated ErrorOutputPrefix (``processing-failed``);
* OpenSearch/Elasticsearch: with S3BackupMode AllDocuments every record is written to
  the S3 configuration; with FailedDocumentsOnly nothing is. The OpenSearch data plane is
  not emulated: documents are indexed only when ``LOGVAULT_AWS_OPENSEARCH_URL`` names a
  stand-in (the test double of tests/opensearch_stub), with one signed ``_bulk`` per
  delivery into ``IndexName`` plus the rotation suffix;
* ExtendedS3 with dynamic partitioning: deaggregation, jq keys, one object per partition
  (``firehose_partitioning``);
* a test hook injects per-record PutRecordBatch failures (:func:`inject_failures`).
"""

import base64
import copy
import datetime
import gzip
import json
import logging
import threading
import time
import uuid
from collections import deque

from local_aws import faults, settings
from local_aws.services import firehose_partitioning, firehose_prefix, lambda_runtime

LOG = logging.getLogger("local_aws.firehose")

MIB = 1024 * 1024
DEFAULT_HINTS = {"SizeInMBs": 5, "IntervalInSeconds": 300}
MAX_BATCH_RECORDS = 500
MAX_RECORD_BYTES = 1000 * 1024
MAX_BATCH_BYTES = 4 * MIB

_LOCK = threading.RLock()
_BUFFERS = {}
_FAILURES = {}
_SINGLE = threading.local()
_INSTALLED = {"done": False}

OPENSEARCH = "Amazonopensearchservice"
ELASTICSEARCH = "Elasticsearch"


# --------------------------------------------------------------------------- errors

def _invalid_argument(message):
    from moto.firehose.exceptions import InvalidArgumentException  # pylint: disable=import-outside-toplevel
    return InvalidArgumentException(message)


def _not_found(name, account_id):
    from moto.firehose.exceptions import ResourceNotFoundException  # pylint: disable=import-outside-toplevel
    return ResourceNotFoundException("Firehose %s under account %s not found." % (name, account_id))


# --------------------------------------------------------------------------- test hook

def inject_failures(delivery_stream_name, failures, account_id="123456789012", region="us-east-1",
                    error_code="ServiceUnavailableException", error_message="Slow down."):
    """TEST HOOK: make coming PutRecordBatch calls on a stream fail some records.

    ``failures`` is a list with one entry per coming PutRecordBatch call (a PutRecord
    call counts too): a list of record indexes that fail in that call, or ``"all"``.
    Failed entries carry ``error_code``/``error_message`` and are not buffered, exactly
    like AWS's partial failures (FailedPutCount > 0). Returns the number of queued calls.
    Over the API (from another process), tag the stream instead: FAILURE_TAG with a
    value of space-separated entries, ``"1+3 all"`` (indexes joined by ``+``).
    """
    key = (account_id, region, delivery_stream_name)
    with _LOCK:
        queue = _FAILURES.setdefault(key, deque())
        for entry in failures:
            if entry != "all" and (not isinstance(entry, (list, tuple)) or not all(isinstance(i, int) for i in entry)):
                raise ValueError("failures entries must be 'all' or a list of record indexes, got %r" % (entry,))
            queue.append({"indexes": entry, "code": error_code, "message": error_message})
        return len(queue)


def clear_failures():
    with _LOCK:
        _FAILURES.clear()


FAILURE_TAG = "logvault:test:put-failures"


def _next_failure(backend, stream):
    """The failure to apply to this PutRecordBatch call, if a test queued one."""
    name = stream.delivery_stream_name
    with _LOCK:
        queue = _FAILURES.get((backend.account_id, backend.region_name, name))
        if queue:
            return queue.popleft()
        # The same hook over the API, for tests in other processes (Ansible, Lambda):
        # tag the stream with FAILURE_TAG = "1+3 all" (one entry per coming call).
        tags = backend.tagger.get_tag_dict_for_resource(stream.delivery_stream_arn)
        value = (tags.get(FAILURE_TAG) or "").split()
        if not value:
            return None
        entry, rest = value[0], value[1:]
        if rest:
            backend.tagger.tag_resource(stream.delivery_stream_arn, [{"Key": FAILURE_TAG, "Value": " ".join(rest)}])
        else:
            backend.tagger.untag_resource_using_names(stream.delivery_stream_arn, [FAILURE_TAG])
    if entry == "all":
        return {"indexes": "all", "code": "ServiceUnavailableException", "message": "Slow down."}
    try:
        indexes = [int(i) for i in entry.split("+")]
    except ValueError:
        LOG.warning("ignoring malformed %s entry %r (use '1+3' or 'all')", FAILURE_TAG, entry)
        return None
    return {"indexes": indexes, "code": "ServiceUnavailableException", "message": "Slow down."}


# --------------------------------------------------------------------------- control plane

def _validate_destination(name, config, creating):
    if not isinstance(config, dict):
        return
    s3_parts = [config]
    if name in (OPENSEARCH, ELASTICSEARCH):
        s3_parts = [config.get("S3Configuration") or config.get("S3Update") or {}]
        if creating:
            for field in ("RoleARN", "IndexName", "S3Configuration"):
                if not config.get(field):
                    raise _invalid_argument("%sDestinationConfiguration.%s is required" % (name, field))
            if not config.get("DomainARN") and not config.get("ClusterEndpoint"):
                raise _invalid_argument("%sDestinationConfiguration needs DomainARN or ClusterEndpoint" % name)
        mode = config.get("S3BackupMode")
        if mode is not None and mode not in ("FailedDocumentsOnly", "AllDocuments"):
            raise _invalid_argument("S3BackupMode must be FailedDocumentsOnly or AllDocuments, got %r" % mode)
        period = config.get("IndexRotationPeriod")
        if period is not None and period not in ("NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth"):
            raise _invalid_argument("IndexRotationPeriod must be NoRotation, OneHour, OneDay, OneWeek or OneMonth, got %r" % period)
    else:
        backup = config.get("S3BackupConfiguration") or config.get("S3BackupUpdate")
        if backup:
            s3_parts.append(backup)
    if name == "ExtendedS3" and creating:
        try:
            firehose_partitioning.validate(config)
        except firehose_partitioning.PartitioningError as exc:
            raise _invalid_argument(str(exc)) from exc
    for part in s3_parts:
        try:
            firehose_prefix.validate(part.get("Prefix"), part.get("ErrorOutputPrefix"))
        except firehose_prefix.PrefixError as exc:
            raise _invalid_argument(str(exc)) from exc
        compression = part.get("CompressionFormat")
        if compression is not None and compression not in ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY"):
            raise _invalid_argument("CompressionFormat must be UNCOMPRESSED, GZIP, ZIP, Snappy or HADOOP_SNAPPY, got %r" % compression)


def _validate_encryption(config):
    if not config:
        return
    key_type = config.get("KeyType", "AWS_OWNED_CMK")
    if key_type not in ("AWS_OWNED_CMK", "CUSTOMER_MANAGED_CMK"):
        raise _invalid_argument("KeyType must be AWS_OWNED_CMK or CUSTOMER_MANAGED_CMK, got %r" % key_type)
    if key_type == "CUSTOMER_MANAGED_CMK" and not config.get("KeyARN"):
        raise _invalid_argument("KeyARN is required when KeyType is CUSTOMER_MANAGED_CMK")
    if key_type == "AWS_OWNED_CMK" and config.get("KeyARN"):
        raise _invalid_argument("KeyARN must not be specified when KeyType is AWS_OWNED_CMK")


def _create_delivery_stream(self):
    """FirehoseResponse.create_delivery_stream, with the OpenSearch destination."""
    from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel

    backend = self.firehose_backend
    opensearch = self._get_param("AmazonopensearchserviceDestinationConfiguration")
    elasticsearch = self._get_param("ElasticsearchDestinationConfiguration")
    extended = self._get_param("ExtendedS3DestinationConfiguration")
    plain = self._get_param("S3DestinationConfiguration")
    encryption = self._get_param("DeliveryStreamEncryptionConfigurationInput")
    given = [c for c in (opensearch, elasticsearch, extended, plain) if c]
    if opensearch and len(given) > 1:
        raise _invalid_argument("Exactly one destination configuration is supported for a Firehose")
    for name, config in ((OPENSEARCH, opensearch), (ELASTICSEARCH, elasticsearch), ("ExtendedS3", extended), ("S3", plain)):
        if config:
            _validate_destination(name, config, creating=True)
    _validate_encryption(encryption)
    stored_encryption = None
    if encryption:
        stored_encryption = {"KeyType": encryption.get("KeyType", "AWS_OWNED_CMK"), "Status": "ENABLED"}
        if encryption.get("KeyARN"):
            stored_encryption["KeyARN"] = encryption["KeyARN"]
    with _LOCK:
        arn = backend.create_delivery_stream(
            self.region,
            self._get_param("DeliveryStreamName"),
            self._get_param("DeliveryStreamType"),
            self._get_param("KinesisStreamSourceConfiguration"),
            stored_encryption,
            plain,
            extended,
            self._get_param("RedshiftDestinationConfiguration"),
            elasticsearch or opensearch,
            self._get_param("SplunkDestinationConfiguration"),
            self._get_param("HttpEndpointDestinationConfiguration"),
            self._get_param("SnowflakeDestinationConfiguration"),
            self._get_param("IcebergDestinationConfiguration"),
            self._get_param("Tags"),
        )
        if opensearch:
            stream = backend.delivery_streams[self._get_param("DeliveryStreamName")]
            destination = stream.destinations[0]
            destination[OPENSEARCH] = destination.pop(ELASTICSEARCH)
    return ActionResult({"DeliveryStreamARN": arn})


def _update_destination(self):
    """FirehoseResponse.update_destination, with the OpenSearch destination."""
    from moto.core.responses import EmptyResult  # pylint: disable=import-outside-toplevel

    backend = self.firehose_backend
    name = self._get_param("DeliveryStreamName")
    opensearch = self._get_param("AmazonopensearchserviceDestinationUpdate")
    elasticsearch = self._get_param("ElasticsearchDestinationUpdate")
    extended = self._get_param("ExtendedS3DestinationUpdate")
    plain = self._get_param("S3DestinationUpdate")
    for dest_name, config in ((OPENSEARCH, opensearch), (ELASTICSEARCH, elasticsearch), ("ExtendedS3", extended), ("S3", plain)):
        if config:
            _validate_destination(dest_name, config, creating=False)
    with _LOCK:
        stream = backend.delivery_streams.get(name)
        if stream is not None and extended:
            _check_partitioning_update(stream, extended)
        renamed = None
        if stream is not None:
            for destination in stream.destinations:
                if destination.get("destination_id") == self._get_param("DestinationId") and OPENSEARCH in destination:
                    if not opensearch:
                        raise _invalid_argument("Changing the destination type to or from AmazonOpenSearchService is not supported at this time.")
                    destination[ELASTICSEARCH] = destination.pop(OPENSEARCH)
                    renamed = destination
        elif opensearch:
            raise _not_found(name, backend.account_id)
        if opensearch and renamed is None:
            raise _invalid_argument("Changing the destination type to or from AmazonOpenSearchService is not supported at this time.")
        try:
            backend.update_destination(
                name,
                self._get_param("CurrentDeliveryStreamVersionId"),
                self._get_param("DestinationId"),
                plain,
                extended,
                self._get_param("S3BackupMode"),
                self._get_param("RedshiftDestinationUpdate"),
                elasticsearch or opensearch,
                self._get_param("SplunkDestinationUpdate"),
                self._get_param("HttpEndpointDestinationUpdate"),
                self._get_param("SnowflakeDestinationConfiguration"),
                self._get_param("IcebergDestinationUpdate"),
            )
        finally:
            if renamed is not None and ELASTICSEARCH in renamed:
                renamed[OPENSEARCH] = renamed.pop(ELASTICSEARCH)
    return EmptyResult()


def _check_partitioning_update(stream, update):
    """AWS: dynamic partitioning can only be enabled at creation and never disabled
    (https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-enable.html)."""
    wanted = (update.get("DynamicPartitioningConfiguration") or {}).get("Enabled")
    if wanted is None:
        return
    current = firehose_partitioning.enabled(_main_destination(stream)[1])
    if wanted and not current:
        raise _invalid_argument("Dynamic partitioning can only be enabled when the delivery stream is created")
    if current and not wanted:
        raise _invalid_argument("Dynamic partitioning cannot be disabled once it is enabled on a delivery stream")


def _start_encryption(self):
    from moto.core.responses import EmptyResult  # pylint: disable=import-outside-toplevel

    config = self._get_param("DeliveryStreamEncryptionConfigurationInput") or {}
    _validate_encryption(config)
    stored = {"KeyType": config.get("KeyType", "AWS_OWNED_CMK")}
    if config.get("KeyARN"):
        stored["KeyARN"] = config["KeyARN"]
    self.firehose_backend.start_delivery_stream_encryption(self._get_param("DeliveryStreamName"), stored)
    return EmptyResult()


def _s3_defaults(description):
    description.setdefault("BufferingHints", dict(DEFAULT_HINTS))
    description.setdefault("CompressionFormat", "UNCOMPRESSED")
    description.setdefault("EncryptionConfiguration", {"NoEncryptionConfig": "NoEncryption"})
    description.setdefault("CloudWatchLoggingOptions", {"Enabled": False})
    return description


def _describe_delivery_stream(self):
    from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel

    result = copy.deepcopy(self.firehose_backend.describe_delivery_stream(self._get_param("DeliveryStreamName")))
    description = result["DeliveryStreamDescription"]
    description.setdefault("DeliveryStreamEncryptionConfiguration", {"Status": "DISABLED"})
    for destination in description.get("Destinations", []):
        for key, value in destination.items():
            if not key.endswith("DestinationDescription") or not isinstance(value, dict):
                continue
            if key in ("S3DestinationDescription", "ExtendedS3DestinationDescription"):
                _s3_defaults(value)
            if key == "ExtendedS3DestinationDescription":
                value.setdefault("S3BackupMode", "Disabled")
                if "S3BackupDescription" in value:
                    _s3_defaults(value["S3BackupDescription"])
            if key in ("AmazonopensearchserviceDestinationDescription", "ElasticsearchDestinationDescription"):
                value.setdefault("IndexRotationPeriod", "OneDay")
                value.setdefault("BufferingHints", {"IntervalInSeconds": 300, "SizeInMBs": 5})
                value.setdefault("RetryOptions", {"DurationInSeconds": 300})
                value.setdefault("S3BackupMode", "FailedDocumentsOnly")
                value.setdefault("CloudWatchLoggingOptions", {"Enabled": False})
                value.setdefault("ProcessingConfiguration", {"Enabled": False, "Processors": []})
                if "S3DestinationDescription" in value:
                    _s3_defaults(value["S3DestinationDescription"])
                if key == "AmazonopensearchserviceDestinationDescription":
                    value.setdefault("DocumentIdOptions", {"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"})
    return ActionResult(result)


# --------------------------------------------------------------------------- data plane

def _record_id():
    return (uuid.uuid4().hex + uuid.uuid4().hex)[:56]


def _put_record_batch(self, delivery_stream_name, records):
    """FirehoseBackend.put_record_batch: buffer, with AWS's per-record response shape."""
    records = records or []
    datas = []
    for record in records:
        data = record.get("Data", b"")
        if isinstance(data, str):
            data = base64.b64decode(data)
        datas.append(data)
    # AWS validates the request against the model before it looks the stream up.
    check_batch_limits(datas, single=getattr(_SINGLE, "active", False))
    stream = self.delivery_streams.get(delivery_stream_name)
    if stream is None:
        raise _not_found(delivery_stream_name, self.account_id)
    failure = _next_failure(self, stream)
    failed_indexes = set()
    if failure is not None:
        failed_indexes = set(range(len(datas))) if failure["indexes"] == "all" else set(failure["indexes"])
    responses = []
    now = time.time()
    with _LOCK:
        buffer = _buffer(self, stream)
        for index, data in enumerate(datas):
            if index in failed_indexes:
                responses.append({"ErrorCode": failure["code"], "ErrorMessage": failure["message"]})
                continue
            injected = faults.record_fault("firehose", "PutRecordBatch")  # LOGVAULT_AWS_FAULTS ...:record
            if injected is not None:
                responses.append({"ErrorCode": injected[0], "ErrorMessage": injected[1]})
                continue
            record_id = _record_id()
            buffer["records"].append((data, now, record_id))
            buffer["bytes"] += len(data)
            responses.append({"RecordId": record_id})
    encryption = stream.delivery_stream_encryption_configuration or {}
    return {
        "FailedPutCount": sum(1 for r in responses if "ErrorCode" in r),
        "Encrypted": encryption.get("Status") == "ENABLED",
        "RequestResponses": responses,
    }


def _validation_error(message):
    from moto.core.exceptions import JsonRESTError  # pylint: disable=import-outside-toplevel
    return JsonRESTError("ValidationException", message)


def check_batch_limits(datas, single=False):
    """Refuse a PutRecordBatch (or PutRecord) call the way Firehose does.

    ``datas`` are the records' data **before** base64 encoding (what AWS counts:
    "Each record in the request can be as large as 1,000 KB (before base64 encoding),
    up to a limit of 4 MB for the entire request", API_PutRecordBatch; "500 records per
    call or 4 MiB per call, whichever is smaller", the Firehose quota page). The model's
    constraints (at most 500 records, Data at most 1,024,000 bytes) are checked first,
    all at once, and answered with AWS's ValidationException wording; the 4 MiB total
    (the sum of the records' data sizes) then with InvalidArgumentException
    ``Records size exceeds 4 MB limit``. ``single``: a PutRecord call (member ``record.data``).
    """
    errors = []
    if len(datas) > MAX_BATCH_RECORDS:
        errors.append("Value at 'records' failed to satisfy constraint: Member must have length less than or equal to %d"
                      % MAX_BATCH_RECORDS)
    for index, data in enumerate(datas):
        if len(data) > MAX_RECORD_BYTES:
            where = "record.data" if single else "records.%d.member.data" % (index + 1)
            errors.append("Value 'java.nio.HeapByteBuffer[pos=0 lim=%d cap=%d]' at '%s' failed to "
                          "satisfy constraint: Member must have length less than or equal to %d"
                          % (len(data), len(data), where, MAX_RECORD_BYTES))
    if errors:
        raise _validation_error("%d validation error%s detected: %s"
                                % (len(errors), "" if len(errors) == 1 else "s", "; ".join(errors)))
    if sum(len(d) for d in datas) > MAX_BATCH_BYTES:
        raise _invalid_argument("Records size exceeds 4 MB limit")


def _put_record(self, delivery_stream_name, record):
    _SINGLE.active = True
    try:
        result = self.put_record_batch(delivery_stream_name, [record])
    finally:
        _SINGLE.active = False
    entry = result["RequestResponses"][0]
    if "ErrorCode" in entry:
        from moto.core.exceptions import JsonRESTError  # pylint: disable=import-outside-toplevel
        error = JsonRESTError(entry["ErrorCode"], entry["ErrorMessage"])
        error.code = 503 if entry["ErrorCode"] == "ServiceUnavailableException" else 400
        raise error
    return {"RecordId": entry["RecordId"], "Encrypted": result["Encrypted"]}


def _buffer(backend, stream):
    key = id(stream)
    buffer = _BUFFERS.get(key)
    if buffer is None or buffer["stream"] is not stream:
        buffer = {"stream": stream, "backend": backend, "records": [], "bytes": 0}
        _BUFFERS[key] = buffer
    return buffer


def _main_destination(stream):
    destination = stream.destinations[0]
    for name in ("ExtendedS3", OPENSEARCH, ELASTICSEARCH, "HttpEndpoint", "S3", "Redshift", "Splunk", "Snowflake", "Iceberg"):
        if name in destination:
            return name, destination[name]
    return None, {}


def _hints(config):
    hints = dict(DEFAULT_HINTS)
    hints.update(config.get("BufferingHints") or {})
    return hints


def poll(force=False):
    """Deliver every buffer that is due (all of them when ``force``). Returns records delivered."""
    delivered = 0
    now = time.time()
    with _LOCK:
        due = []
        for key, buffer in list(_BUFFERS.items()):
            stream, backend = buffer["stream"], buffer["backend"]
            if backend.delivery_streams.get(stream.delivery_stream_name) is not stream:
                del _BUFFERS[key]  # the stream was deleted: AWS drops its data too
                continue
            if not buffer["records"]:
                continue
            config = _main_destination(stream)[1]
            hints = _hints(config)
            oldest = buffer["records"][0][1]
            if force or buffer["bytes"] >= hints["SizeInMBs"] * MIB or now - oldest >= hints["IntervalInSeconds"]:
                due.append((buffer, buffer["records"]))
                buffer["records"] = []
                buffer["bytes"] = 0
    for buffer, records in due:
        try:
            _deliver(buffer["backend"], buffer["stream"], records)
        except Exception as exc:  # pylint: disable=broad-exception-caught
            # Firehose retries S3 delivery (for up to 24 h): keep the records for the next poll.
            LOG.warning("firehose %s: delivery failed (%s); will retry", buffer["stream"].delivery_stream_name, exc)
            with _LOCK:
                buffer["records"] = records + buffer["records"]
                buffer["bytes"] += sum(len(r[0]) for r in records)
            continue
        delivered += len(records)
    return delivered


def _when(arrival, config):
    zone = datetime.timezone.utc
    if config.get("CustomTimeZone"):
        try:
            from zoneinfo import ZoneInfo  # pylint: disable=import-outside-toplevel
            zone = ZoneInfo(config["CustomTimeZone"])
        except Exception:  # pylint: disable=broad-exception-caught
            zone = datetime.timezone.utc
    return datetime.datetime.fromtimestamp(arrival, tz=zone)


def _put_s3(backend, stream, config, records, error_output_type=None, body=None, partition_keys=None):
    """Write one object to an S3 destination config; returns its key."""
    if not records:
        return None
    bucket = config["BucketARN"].split(":")[-1]
    when = _when(records[0][1], config)
    if error_output_type is None:
        prefix = firehose_prefix.evaluate(config.get("Prefix"), when, partition_keys=partition_keys)
    else:
        prefix = firehose_prefix.evaluate(config.get("ErrorOutputPrefix"), when, error_output_type)
    data = body if body is not None else b"".join(r[0] for r in records)
    extension = ""
    compression = config.get("CompressionFormat", "UNCOMPRESSED")
    if compression == "GZIP":
        data = gzip.compress(data)
        extension = ".gz"
    if config.get("FileExtension"):
        extension = config["FileExtension"]
    key = "%s%s-%s-%s-%s%s" % (prefix, stream.delivery_stream_name, stream.version_id,
                               when.strftime("%Y-%m-%d-%H-%M-%S"), uuid.uuid4(), extension)
    kms = ((config.get("EncryptionConfiguration") or {}).get("KMSEncryptionConfig") or {}).get("AWSKMSKeyARN")
    lambda_runtime.service_put_object(backend.account_id, backend.region_name, bucket, key, data, kms_key_id=kms)
    return key


def _process(backend, stream, config, records):
    """Run an enabled Lambda processor. Returns (records to deliver, failed error lines)."""
    processing = config.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return records, []
    lambda_arn = None
    for processor in processing.get("Processors") or []:
        if processor.get("Type") == "Lambda":
            for parameter in processor.get("Parameters") or []:
                if parameter.get("ParameterName") == "LambdaArn":
                    lambda_arn = parameter.get("ParameterValue")
    if not lambda_arn:
        return records, []
    from moto.awslambda.models import lambda_backends  # pylint: disable=import-outside-toplevel
    now_ms = int(time.time() * 1000)
    fn = outcome = error_code = error_message = None
    try:
        parts = lambda_arn.split(":")
        fn = lambda_backends[parts[4]][parts[3]].get_function(lambda_arn)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        error_code, error_message = "Lambda.FunctionNotFound", str(exc)
    if fn is not None:
        event = {
            "invocationId": str(uuid.uuid4()),
            "deliveryStreamArn": stream.delivery_stream_arn,
            "region": backend.region_name,
            "records": [{"recordId": r[2], "approximateArrivalTimestamp": int(r[1] * 1000),
                         "data": base64.b64encode(r[0]).decode("ascii")} for r in records],
        }
        outcome = lambda_runtime.invoke(fn, event)
        error_code = "Lambda.FunctionError" if outcome.failed else None
        error_message = json.dumps(outcome.error) if outcome.failed else None
    results = {}
    if fn is not None and not outcome.failed and isinstance(outcome.payload, dict):
        for item in outcome.payload.get("records") or []:
            if isinstance(item, dict) and item.get("recordId"):
                results[item["recordId"]] = item
    kept, failed = [], []
    for data, arrival, record_id in records:
        item = results.get(record_id)
        if error_code is None and item is None:
            code, message = "Lambda.MissingRecordId", "recordId %s was not returned by the Lambda function" % record_id
        elif error_code is not None:
            code, message = error_code, error_message
        elif item.get("result") == "Ok":
            try:
                kept.append((base64.b64decode(item.get("data") or ""), arrival, record_id))
            except ValueError:
                failed.append(_failure_line(data, arrival, "Lambda.InvalidData", "data is not base64", lambda_arn, now_ms))
            continue
        elif item.get("result") == "Dropped":
            continue
        else:
            code, message = "Lambda.ProcessingFailedStatus", "ProcessingFailed status returned from Lambda"
        failed.append(_failure_line(data, arrival, code, message, lambda_arn, now_ms))
    return kept, failed


def _failure_line(data, arrival, code, message, lambda_arn, now_ms):
    return {
        "attemptsMade": 1,
        "arrivalTimestamp": int(arrival * 1000),
        "errorCode": code,
        "errorMessage": message,
        "attemptEndingTimestamp": now_ms,
        "rawData": base64.b64encode(data).decode("ascii"),
        "lambdaArn": lambda_arn,
    }


def _deliver(backend, stream, records):
    name, config = _main_destination(stream)
    if name == "ExtendedS3" and firehose_partitioning.enabled(config):
        _deliver_partitioned(backend, stream, config, records)
    elif name in ("ExtendedS3", "S3"):
        kept, failed = _process(backend, stream, config, records)
        if failed:
            body = "".join(json.dumps(line) + "\n" for line in failed).encode("utf-8")
            _put_s3(backend, stream, config, records, error_output_type="processing-failed", body=body)
        _put_s3(backend, stream, config, kept)
        backup = config.get("S3BackupDescription")
        if name == "ExtendedS3" and config.get("S3BackupMode") == "Enabled" and backup:
            _put_s3(backend, stream, backup, records)
    elif name in (OPENSEARCH, ELASTICSEARCH):
        kept, failed = _process(backend, stream, config, records)
        s3_config = config.get("S3DestinationDescription") or {}
        if failed and s3_config:
            body = "".join(json.dumps(line) + "\n" for line in failed).encode("utf-8")
            _put_s3(backend, stream, s3_config, records, error_output_type="processing-failed", body=body)
        if config.get("S3BackupMode") == "AllDocuments" and s3_config:
            _put_s3(backend, stream, s3_config, kept)
        # Indexed only when an OpenSearch stand-in is configured (LOGVAULT_AWS_OPENSEARCH_URL).
        _bulk_to_opensearch(stream, config, kept)
    elif name == "HttpEndpoint":
        backend.put_http_records(config, [{"Data": r[0]} for r in records])
    # Redshift, Splunk, Snowflake, Iceberg: accepted, not delivered (as in moto).


def opensearch_index_name(config, when):
    """IndexName with the rotation suffix AWS documents for IndexRotationPeriod (Firehose
    developer guide, "Index rotation for the OpenSearch Service destination"): OneHour
    -YYYY-MM-DD-HH, OneDay -YYYY-MM-DD, OneWeek -YYYY-ww, OneMonth -YYYY-MM, NoRotation none."""
    name = config.get("IndexName") or ""
    period = config.get("IndexRotationPeriod") or "OneDay"
    suffix = {"OneHour": when.strftime("-%Y-%m-%d-%H"), "OneDay": when.strftime("-%Y-%m-%d"),
              "OneWeek": when.strftime("-%Y-%W"), "OneMonth": when.strftime("-%Y-%m")}.get(period, "")
    return name + suffix


def _bulk_to_opensearch(stream, config, records):
    """Send the records as one SigV4-signed _bulk (service es) to LOGVAULT_AWS_OPENSEARCH_URL,
    one ``index`` action each with a Firehose-generated document id, as Firehose does. Off when
    the URL is unset. A failure is logged; documents are not retried (the S3 backup holds them
    when S3BackupMode is AllDocuments)."""
    url = settings.get("LOGVAULT_AWS_OPENSEARCH_URL").rstrip("/")
    if not url or not records:
        return
    import ssl
    import urllib.request

    from botocore.auth import SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    index = opensearch_index_name(config, datetime.datetime.now(datetime.timezone.utc))
    lines = []
    for record in records:
        lines.append(json.dumps({"index": {"_index": index, "_id": "%s-%s" % (stream.delivery_stream_name, uuid.uuid4().hex)}}))
        lines.append(record[0].decode("utf-8", "replace").strip())
    body = ("\n".join(lines) + "\n").encode("utf-8")
    key, dummy, secret = settings.get("LOGVAULT_AWS_OPENSEARCH_CREDENTIAL").partition(":")
    region = stream.delivery_stream_arn.split(":")[3]
    request = AWSRequest(method="POST", url=url + "/_bulk", data=body, headers={"Content-Type": "application/x-ndjson"})
    SigV4Auth(Credentials(key, secret), "es", region).add_auth(request)
    context = ssl.create_default_context(cafile=settings.get("LOGVAULT_AWS_OPENSEARCH_CA") or None)
    try:
        prepared = urllib.request.Request(url + "/_bulk", data=body, headers=dict(request.headers.items()), method="POST")
        with urllib.request.urlopen(prepared, context=context, timeout=30) as response:
            answer = json.loads(response.read() or b"{}")
        if answer.get("errors"):
            LOG.warning("firehose %s: _bulk to %s had failed items: %s", stream.delivery_stream_name, url,
                        [i for i in answer.get("items", []) if list(i.values())[0].get("error")][:3])
    except Exception as exc:  # pylint: disable=broad-except
        LOG.warning("firehose %s: _bulk to %s failed: %s", stream.delivery_stream_name, url, exc)


def _deliver_partitioned(backend, stream, config, records):
    """Dynamic partitioning (see firehose_partitioning): deaggregate, Lambda, keys, delimiter,
    one object per evaluated prefix; records without keys to ``partitioning-failed``."""
    now_ms = int(time.time() * 1000)
    found = firehose_partitioning.processors(config)
    split, failed = [], []
    for data, arrival, record_id in records:
        if "RecordDeAggregation" not in found:
            split.append((data, arrival, record_id))
            continue
        try:
            parts = firehose_partitioning.deaggregate(data, found["RecordDeAggregation"])
        except (firehose_partitioning.PartitioningError, UnicodeDecodeError) as exc:
            failed.append(_partition_failure(data, arrival, str(exc), now_ms))
            continue
        split.extend((part, arrival, record_id) for part in parts)
    kept, lambda_failed = _process(backend, stream, config, split)
    if lambda_failed:
        body = "".join(json.dumps(line) + "\n" for line in lambda_failed).encode("utf-8")
        _put_s3(backend, stream, config, split, error_output_type="processing-failed", body=body)
    suffix = firehose_partitioning.delimiter(config) or b""
    groups = {}
    for data, arrival, record_id in kept:
        try:
            keys = firehose_partitioning.partition_keys(config, data)
            prefix = firehose_prefix.evaluate(config.get("Prefix"), _when(arrival, config), partition_keys=keys)
        except (firehose_partitioning.PartitioningError, firehose_prefix.PrefixError) as exc:
            failed.append(_partition_failure(data, arrival, str(exc), now_ms))
            continue
        groups.setdefault(tuple(sorted(keys.items())), []).append((data + suffix, arrival, record_id))
    for key, group in groups.items():
        _put_s3(backend, stream, config, group, partition_keys=dict(key))
    if failed:
        body = "".join(json.dumps(line) + "\n" for line in failed).encode("utf-8")
        _put_s3(backend, stream, config, records, error_output_type=firehose_partitioning.ERROR_TYPE, body=body)


def _partition_failure(data, arrival, message, now_ms):
    return {
        "attemptsMade": 1,
        "arrivalTimestamp": int(arrival * 1000),
        "errorCode": firehose_partitioning.ERROR_CODE,
        "errorMessage": message,
        "attemptEndingTimestamp": now_ms,
        "rawData": base64.b64encode(data).decode("ascii"),
    }


# --------------------------------------------------------------------------- install

def reset():
    with _LOCK:
        _BUFFERS.clear()
        _FAILURES.clear()


def install():
    """Patch moto's Firehose and register the delivery poller (idempotent)."""
    if _INSTALLED["done"]:
        return
    from moto.firehose import models as firehose_models  # pylint: disable=import-outside-toplevel
    from moto.firehose import responses as firehose_responses  # pylint: disable=import-outside-toplevel
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    firehose_models.DESTINATION_TYPES_TO_NAMES.setdefault("amazonopensearchservice", OPENSEARCH)
    response = firehose_responses.FirehoseResponse
    response.create_delivery_stream = _create_delivery_stream
    response.update_destination = _update_destination
    response.describe_delivery_stream = _describe_delivery_stream
    response.start_delivery_stream_encryption = _start_encryption
    firehose_models.FirehoseBackend.put_record_batch = _put_record_batch
    firehose_models.FirehoseBackend.put_record = _put_record

    from local_aws.services import lambda_esm  # pylint: disable=import-outside-toplevel
    lambda_esm.track_flush()
    hooks.register_poller(poll_from_hooks)
    hooks.register_reset(reset)
    _INSTALLED["done"] = True


def poll_from_hooks():
    """The registered poller: ``flush()`` delivers every buffer regardless of BufferingHints."""
    from local_aws.services import lambda_esm  # pylint: disable=import-outside-toplevel
    return poll(force=lambda_esm.flushing())
