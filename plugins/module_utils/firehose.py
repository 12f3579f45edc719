# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Pure helpers of the firehose_delivery_stream module: input validation, building the
API structures from module options, and comparing them with DescribeDeliveryStream.

Nothing here calls AWS, so every function is unit-testable on its own.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import re

STREAM_TYPES = ("DirectPut", "KinesisStreamAsSource")
ROTATIONS = ("NoRotation", "OneHour", "OneDay", "OneWeek", "OneMonth")
BACKUP_MODES = ("FailedDocumentsOnly", "AllDocuments")
COMPRESSION_FORMATS = ("UNCOMPRESSED", "GZIP", "ZIP", "Snappy", "HADOOP_SNAPPY")
PROCESSOR_TYPES = {
    "lambda": "Lambda",
    "decompression": "Decompression",
    "append_delimiter": "AppendDelimiterToRecord",
    "cloudwatch_log_processing": "CloudWatchLogProcessing",
    "record_deaggregation": "RecordDeAggregation",
    "metadata_extraction": "MetadataExtraction",
}
PROCESSOR_PARAMETERS = {
    "lambda_arn": "LambdaArn",
    "number_of_retries": "NumberOfRetries",
    "role_arn": "RoleArn",
    "buffer_size_in_mbs": "BufferSizeInMBs",
    "buffer_interval_in_seconds": "BufferIntervalInSeconds",
    "sub_record_type": "SubRecordType",
    "delimiter": "Delimiter",
    "compression_format": "CompressionFormat",
    "data_message_extraction": "DataMessageExtraction",
    "metadata_extraction_query": "MetadataExtractionQuery",
    "json_parsing_engine": "JsonParsingEngine",
}

# Destination types this module manages, keyed by the module option.
DESTINATIONS = {
    "opensearch": {
        "create_key": "AmazonopensearchserviceDestinationConfiguration",
        "update_key": "AmazonopensearchserviceDestinationUpdate",
        "description_key": "AmazonopensearchserviceDestinationDescription",
    },
    "extended_s3": {
        "create_key": "ExtendedS3DestinationConfiguration",
        "update_key": "ExtendedS3DestinationUpdate",
        "description_key": "ExtendedS3DestinationDescription",
    },
}

_PARTITION = r"arn:aws(-[a-z]+)*"
REGION_RE = re.compile(r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-\d$")
STREAM_NAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,64}$")
ROLE_ARN_RE = re.compile(r"^%s:iam::\d{12}:role/[\w+=,.@/-]{1,512}$" % _PARTITION)
BUCKET_ARN_RE = re.compile(r"^%s:s3:::[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$" % _PARTITION)
KMS_KEY_ARN_RE = re.compile(r"^%s:kms:[a-z]{2}(-[a-z]+)+-\d:\d{12}:key/[a-zA-Z0-9-]{1,128}$" % _PARTITION)
DOMAIN_ARN_RE = re.compile(r"^%s:es:[a-z]{2}(-[a-z]+)+-\d:\d{12}:domain/[a-z][a-z0-9-]{2,27}$" % _PARTITION)
KINESIS_ARN_RE = re.compile(r"^%s:kinesis:[a-z]{2}(-[a-z]+)+-\d:\d{12}:stream/[a-zA-Z0-9_.-]{1,128}$" % _PARTITION)
LAMBDA_ARN_RE = re.compile(r"^%s:lambda:[a-z]{2}(-[a-z]+)+-\d:\d{12}:function:[a-zA-Z0-9_-]{1,64}(:[a-zA-Z0-9$_-]{1,128})?$" % _PARTITION)
CLUSTER_ENDPOINT_RE = re.compile(r"^https://[A-Za-z0-9.-]+(:\d{1,5})?$")
INDEX_NAME_RE = re.compile(r"^[^A-Z\s,\"*\\<|>?/#:]{1,80}$")
LOG_GROUP_RE = re.compile(r"^[\w./#-]{1,512}$")
LOG_STREAM_RE = re.compile(r"^[^:*]{1,512}$")
SUBNET_ID_RE = re.compile(r"^subnet-[0-9a-f]{8,17}$")
SECURITY_GROUP_ID_RE = re.compile(r"^sg-[0-9a-f]{8,17}$")
EXPRESSION_RE = re.compile(r"!\{([^}]*)\}")
KNOWN_NAMESPACES = ("timestamp", "firehose", "partitionKeyFromQuery", "partitionKeyFromLambda")


class ValidationError(ValueError):
    """Bad module input; the message names the parameter."""


def _check_arn(value, regex, name, what):
    if value is None:
        return
    if not isinstance(value, str) or not regex.match(value):
        raise ValidationError("%s %r is not a valid %s ARN" % (name, value, what))


def _check_buffering(buffering, name, max_size):
    if not buffering:
        return
    interval = buffering.get("interval_seconds")
    size = buffering.get("size_mb")
    if interval is not None and not 0 <= interval <= 900:
        raise ValidationError("%s.interval_seconds must be between 0 and 900, got %s" % (name, interval))
    if size is not None and not 1 <= size <= max_size:
        raise ValidationError("%s.size_mb must be between 1 and %d, got %s" % (name, max_size, size))


def _check_cloudwatch(options, name):
    if not options:
        return
    if options.get("enabled") and not (options.get("log_group_name") and options.get("log_stream_name")):
        raise ValidationError("%s: enabled=true needs log_group_name and log_stream_name" % name)
    if options.get("log_group_name") is not None and not LOG_GROUP_RE.match(options["log_group_name"]):
        raise ValidationError("%s.log_group_name %r is not a valid log group name" % (name, options["log_group_name"]))
    if options.get("log_stream_name") is not None and not LOG_STREAM_RE.match(options["log_stream_name"]):
        raise ValidationError("%s.log_stream_name %r is not a valid log stream name" % (name, options["log_stream_name"]))


def _check_prefixes(prefix, error_prefix, name):
    for option, value in (("prefix", prefix), ("error_output_prefix", error_prefix)):
        if value is None:
            continue
        if len(value) > 1024:
            raise ValidationError("%s.%s is longer than 1024 characters" % (name, option))
        if value.count("!{") != len(EXPRESSION_RE.findall(value)):
            raise ValidationError("%s.%s %r has an unterminated !{...} expression" % (name, option, value))
        for expression in EXPRESSION_RE.findall(value):
            namespace, sep, argument = expression.partition(":")
            if namespace not in KNOWN_NAMESPACES or not sep or not argument:
                raise ValidationError(
                    "%s.%s %r has an invalid expression !{%s}; use !{timestamp:<format>}, !{firehose:random-string}, "
                    "!{firehose:error-output-type} or a partition key expression" % (name, option, value, expression)
                )
            if namespace == "firehose" and argument not in ("random-string", "error-output-type"):
                raise ValidationError("%s.%s %r: unknown expression !{%s}" % (name, option, value, expression))
            if option == "prefix" and argument == "error-output-type":
                raise ValidationError("%s.prefix %r: !{firehose:error-output-type} is allowed only in error_output_prefix" % (name, value))
    if prefix and EXPRESSION_RE.search(prefix) and not error_prefix:
        raise ValidationError("%s.error_output_prefix is required when %s.prefix uses !{...} expressions" % (name, name))
    if error_prefix and EXPRESSION_RE.search(error_prefix) and "!{firehose:error-output-type}" not in error_prefix:
        raise ValidationError("%s.error_output_prefix %r must contain !{firehose:error-output-type} when it uses expressions" % (name, error_prefix))


def _check_processors(processors, name):
    if processors is None:
        return
    for index, processor in enumerate(processors):
        where = "%s[%d]" % (name, index)
        parameters = processor.get("parameters") or {}
        for key in parameters:
            if key not in PROCESSOR_PARAMETERS:
                raise ValidationError("%s.parameters has unknown parameter %r; known: %s" % (where, key, ", ".join(sorted(PROCESSOR_PARAMETERS))))
        if processor["type"] == "lambda":
            if "lambda_arn" not in parameters:
                raise ValidationError("%s: a lambda processor needs parameters.lambda_arn" % where)
            _check_arn(parameters["lambda_arn"], LAMBDA_ARN_RE, "%s.parameters.lambda_arn" % where, "Lambda function")
        if "role_arn" in parameters:
            _check_arn(parameters["role_arn"], ROLE_ARN_RE, "%s.parameters.role_arn" % where, "IAM role")


def _check_dynamic_partitioning(s3):
    """AWS rules of https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html."""
    dynamic = s3.get("dynamic_partitioning")
    if not dynamic or not dynamic.get("enabled"):
        if "partitionKeyFrom" in (s3.get("prefix") or ""):
            raise ValidationError("extended_s3.prefix uses partitionKeyFrom* expressions; they need extended_s3.dynamic_partitioning.enabled=true")
        return
    retry = dynamic.get("retry_duration")
    if retry is not None and not 0 <= retry <= 7200:
        raise ValidationError("extended_s3.dynamic_partitioning.retry_duration must be between 0 and 7200 seconds, got %s" % retry)
    if "partitionKeyFrom" not in (s3.get("prefix") or ""):
        raise ValidationError("extended_s3.dynamic_partitioning.enabled=true needs an extended_s3.prefix with "
                              "!{partitionKeyFromQuery:<key>} or !{partitionKeyFromLambda:<key>} expressions")
    if not s3.get("error_output_prefix"):
        raise ValidationError("extended_s3.dynamic_partitioning.enabled=true needs extended_s3.error_output_prefix")
    size = (s3.get("buffering") or {}).get("size_mb")
    if size is not None and size < 64:
        raise ValidationError("extended_s3.buffering.size_mb must be at least 64 with dynamic partitioning, got %s" % size)


def _check_s3(s3, name, max_size=128):
    _check_arn(s3.get("bucket_arn"), BUCKET_ARN_RE, "%s.bucket_arn" % name, "S3 bucket")
    _check_arn(s3.get("role_arn"), ROLE_ARN_RE, "%s.role_arn" % name, "IAM role")
    _check_arn(s3.get("kms_key_arn"), KMS_KEY_ARN_RE, "%s.kms_key_arn" % name, "KMS key")
    _check_prefixes(s3.get("prefix"), s3.get("error_output_prefix"), name)
    _check_buffering(s3.get("buffering"), "%s.buffering" % name, max_size)
    _check_cloudwatch(s3.get("cloudwatch_logging"), "%s.cloudwatch_logging" % name)


def _check_vpc(vpc, name):
    """VpcConfiguration limits of the Firehose API: 1-16 subnets, 1-5 security groups, a role."""
    if not vpc:
        return
    _check_arn(vpc.get("role_arn"), ROLE_ARN_RE, name + ".role_arn", "IAM role")
    subnets = vpc.get("subnet_ids") or []
    if not 1 <= len(subnets) <= 16:
        raise ValidationError("%s.subnet_ids needs 1 to 16 subnet ids, got %d" % (name, len(subnets)))
    for subnet in subnets:
        if not SUBNET_ID_RE.match(subnet or ""):
            raise ValidationError("%s.subnet_ids: %r is not a subnet id (subnet-...)" % (name, subnet))
    groups = vpc.get("security_group_ids") or []
    if not 1 <= len(groups) <= 5:
        raise ValidationError("%s.security_group_ids needs 1 to 5 security group ids, got %d" % (name, len(groups)))
    for group in groups:
        if not SECURITY_GROUP_ID_RE.match(group or ""):
            raise ValidationError("%s.security_group_ids: %r is not a security group id (sg-...)" % (name, group))


def build_vpc(vpc):
    """VpcConfiguration of CreateDeliveryStream (ids sorted and unique), or None."""
    if not vpc:
        return None
    return {
        "SubnetIds": sorted(set(vpc["subnet_ids"])),
        "RoleARN": vpc["role_arn"],
        "SecurityGroupIds": sorted(set(vpc["security_group_ids"])),
    }


def validate(params):
    """Raise ValidationError naming the first bad parameter; return None when all is well."""
    name = params.get("name")
    if not name or not STREAM_NAME_RE.match(name):
        raise ValidationError("name %r is invalid: 1-64 letters, digits, '_', '.' or '-'" % (name,))
    if params.get("wait_timeout") is not None and params["wait_timeout"] <= 0:
        raise ValidationError("wait_timeout must be a positive number of seconds, got %s" % params["wait_timeout"])
    tags = params.get("tags") or {}
    if len(tags) > 50:
        raise ValidationError("tags has %d entries; a delivery stream takes at most 50" % len(tags))
    for key, value in tags.items():
        if not 1 <= len(str(key)) <= 128 or str(key).startswith("aws:"):
            raise ValidationError("tags key %r is invalid: 1-128 characters, not starting with aws:" % (key,))
        if value is not None and len(str(value)) > 256:
            raise ValidationError("tags value of %r is longer than 256 characters" % (key,))
    if params.get("state") == "absent":
        return
    stream_type = params.get("delivery_stream_type")
    source = params.get("kinesis_source")
    if source and stream_type != "KinesisStreamAsSource":
        raise ValidationError("kinesis_source requires delivery_stream_type=KinesisStreamAsSource")
    if stream_type == "KinesisStreamAsSource":
        if not source:
            raise ValidationError("delivery_stream_type=KinesisStreamAsSource requires kinesis_source (stream_arn, role_arn)")
        _check_arn(source.get("stream_arn"), KINESIS_ARN_RE, "kinesis_source.stream_arn", "Kinesis stream")
        _check_arn(source.get("role_arn"), ROLE_ARN_RE, "kinesis_source.role_arn", "IAM role")
    sse = params.get("server_side_encryption")
    if sse:
        if stream_type == "KinesisStreamAsSource" and sse.get("enabled"):
            raise ValidationError(
                "server_side_encryption applies only to delivery_stream_type=DirectPut; a KinesisStreamAsSource stream "
                "uses the Kinesis stream's encryption"
            )
        _check_arn(sse.get("kms_key_arn"), KMS_KEY_ARN_RE, "server_side_encryption.kms_key_arn", "KMS key")
        if sse.get("kms_key_arn") and not sse.get("enabled"):
            raise ValidationError("server_side_encryption.kms_key_arn is set but server_side_encryption.enabled is false")
    _check_cloudwatch(params.get("cloudwatch_logging"), "cloudwatch_logging")
    search = params.get("opensearch")
    if search:
        _check_arn(search.get("role_arn"), ROLE_ARN_RE, "opensearch.role_arn", "IAM role")
        if bool(search.get("domain_arn")) == bool(search.get("cluster_endpoint")):
            raise ValidationError("opensearch needs exactly one of domain_arn or cluster_endpoint")
        _check_arn(search.get("domain_arn"), DOMAIN_ARN_RE, "opensearch.domain_arn", "OpenSearch Service domain")
        if search.get("cluster_endpoint") and not CLUSTER_ENDPOINT_RE.match(search["cluster_endpoint"]):
            raise ValidationError("opensearch.cluster_endpoint %r must be an https:// URL without a path" % search["cluster_endpoint"])
        if not INDEX_NAME_RE.match(search.get("index_name") or ""):
            raise ValidationError(
                "opensearch.index_name %r is invalid: 1-80 lowercase characters without spaces or , \" * \\ < | > ? / # :" % search.get("index_name")
            )
        _check_buffering(search.get("buffering"), "opensearch.buffering", 100)
        retry = search.get("retry_duration")
        if retry is not None and not 0 <= retry <= 7200:
            raise ValidationError("opensearch.retry_duration must be between 0 and 7200 seconds, got %s" % retry)
        _check_s3(search["s3"], "opensearch.s3")
        _check_processors(search.get("processors"), "opensearch.processors")
        _check_vpc(search.get("vpc"), "opensearch.vpc")
    s3 = params.get("extended_s3")
    if s3:
        _check_arn(s3.get("role_arn"), ROLE_ARN_RE, "extended_s3.role_arn", "IAM role")
        _check_s3(s3, "extended_s3")
        _check_processors(s3.get("processors"), "extended_s3.processors")
        _check_dynamic_partitioning(s3)
        if s3.get("file_extension") is not None and not re.match(r"^$|\.[0-9a-z!\-_.*'()]+$", s3["file_extension"]):
            raise ValidationError("extended_s3.file_extension %r must be empty or start with '.'" % s3["file_extension"])


# ---------------------------------------------------------------------- building


def _drop_none(data):
    return dict((k, v) for k, v in data.items() if v is not None)


def build_buffering(buffering):
    if not buffering:
        return None
    hints = _drop_none({"IntervalInSeconds": buffering.get("interval_seconds"), "SizeInMBs": buffering.get("size_mb")})
    return hints or None


def build_cloudwatch(options):
    if not options:
        return None
    return _drop_none({
        "Enabled": bool(options.get("enabled")),
        "LogGroupName": options.get("log_group_name"),
        "LogStreamName": options.get("log_stream_name"),
    })


def build_processing(processors):
    """None leaves processing alone; [] disables it."""
    if processors is None:
        return None
    if not processors:
        return {"Enabled": False, "Processors": []}
    built = []
    for processor in processors:
        parameters = processor.get("parameters") or {}
        built.append({
            "Type": PROCESSOR_TYPES[processor["type"]],
            "Parameters": [
                {"ParameterName": PROCESSOR_PARAMETERS[key], "ParameterValue": str(parameters[key])}
                for key in sorted(parameters)
            ],
        })
    return {"Enabled": True, "Processors": built}


def build_dynamic_partitioning(options):
    if not options:
        return None
    config = {"Enabled": bool(options.get("enabled"))}
    if options.get("retry_duration") is not None:
        config["RetryOptions"] = {"DurationInSeconds": options["retry_duration"]}
    return config


def build_s3(s3, default_role_arn=None):
    config = {
        "RoleARN": s3.get("role_arn") or default_role_arn,
        "BucketARN": s3.get("bucket_arn"),
        "Prefix": s3.get("prefix"),
        "ErrorOutputPrefix": s3.get("error_output_prefix"),
        "BufferingHints": build_buffering(s3.get("buffering")),
        "CompressionFormat": s3.get("compression_format"),
        "CloudWatchLoggingOptions": build_cloudwatch(s3.get("cloudwatch_logging")),
    }
    if s3.get("kms_key_arn"):
        config["EncryptionConfiguration"] = {"KMSEncryptionConfig": {"AWSKMSKeyARN": s3["kms_key_arn"]}}
    return _drop_none(config)


def desired_destination(params):
    """(destination option name, CreateDeliveryStream destination configuration) or (None, None)."""
    cloudwatch = build_cloudwatch(params.get("cloudwatch_logging"))
    search = params.get("opensearch")
    if search:
        config = {
            "RoleARN": search["role_arn"],
            "DomainARN": search.get("domain_arn"),
            "ClusterEndpoint": search.get("cluster_endpoint"),
            "IndexName": search["index_name"],
            "IndexRotationPeriod": search.get("index_rotation"),
            "BufferingHints": build_buffering(search.get("buffering")),
            "RetryOptions": {"DurationInSeconds": search["retry_duration"]} if search.get("retry_duration") is not None else None,
            "S3BackupMode": search.get("s3_backup_mode"),
            "S3Configuration": build_s3(search["s3"], search["role_arn"]),
            "ProcessingConfiguration": build_processing(search.get("processors")),
            "CloudWatchLoggingOptions": cloudwatch,
            "VpcConfiguration": build_vpc(search.get("vpc")),
        }
        return "opensearch", _drop_none(config)
    s3 = params.get("extended_s3")
    if s3:
        config = build_s3(s3, s3["role_arn"])
        config.update(_drop_none({
            "ProcessingConfiguration": build_processing(s3.get("processors")),
            "CloudWatchLoggingOptions": cloudwatch,
            "FileExtension": s3.get("file_extension"),
            "CustomTimeZone": s3.get("custom_time_zone"),
            "DynamicPartitioningConfiguration": build_dynamic_partitioning(s3.get("dynamic_partitioning")),
        }))
        return "extended_s3", config
    return None, None


def desired_sse(params):
    sse = params.get("server_side_encryption")
    if not sse:
        return None
    if not sse.get("enabled"):
        return {"Enabled": False}
    if sse.get("kms_key_arn"):
        return {"Enabled": True, "KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": sse["kms_key_arn"]}
    return {"Enabled": True, "KeyType": "AWS_OWNED_CMK"}


def create_request(params, destination_type, destination_config, tags_list):
    request = {
        "DeliveryStreamName": params["name"],
        "DeliveryStreamType": params.get("delivery_stream_type") or "DirectPut",
        DESTINATIONS[destination_type]["create_key"]: destination_config,
    }
    source = params.get("kinesis_source")
    if request["DeliveryStreamType"] == "KinesisStreamAsSource" and source:
        request["KinesisStreamSourceConfiguration"] = {"KinesisStreamARN": source["stream_arn"], "RoleARN": source["role_arn"]}
    sse = desired_sse(params)
    if sse and sse["Enabled"]:
        request["DeliveryStreamEncryptionConfigurationInput"] = dict((k, v) for k, v in sse.items() if k != "Enabled")
    if tags_list:
        request["Tags"] = tags_list
    return request


def update_request(destination_type, destination_config):
    """The UpdateDestination payload for a desired (create-shaped) configuration."""
    config = copy.deepcopy(destination_config)
    if destination_type == "opensearch":
        config.pop("S3BackupMode", None)  # cannot be changed in place
        config.pop("VpcConfiguration", None)  # not in AmazonopensearchserviceDestinationUpdate: set at creation only
        if "S3Configuration" in config:
            config["S3Update"] = config.pop("S3Configuration")
    return {DESTINATIONS[destination_type]["update_key"]: config}


# ---------------------------------------------------------------------- reading


def current_destination(description):
    """(destination option name or other type name, create-shaped config, destination id)."""
    destinations = description.get("Destinations") or []
    if not destinations:
        return None, None, None
    destination = destinations[0]
    for name, keys in DESTINATIONS.items():
        if keys["description_key"] in destination:
            config = copy.deepcopy(destination[keys["description_key"]])
            if "S3DestinationDescription" in config:
                config["S3Configuration"] = config.pop("S3DestinationDescription")
            if "S3BackupDescription" in config:
                config["S3BackupConfiguration"] = config.pop("S3BackupDescription")
            vpc = config.pop("VpcConfigurationDescription", None)
            if vpc:
                config["VpcConfiguration"] = {
                    "SubnetIds": sorted(vpc.get("SubnetIds") or []),
                    "RoleARN": vpc.get("RoleARN"),
                    "SecurityGroupIds": sorted(vpc.get("SecurityGroupIds") or []),
                }
            return name, config, destination.get("DestinationId")
    others = [k[:-len("DestinationDescription")] for k in destination if k.endswith("DestinationDescription")]
    return (others[0] if others else "unknown"), {}, destination.get("DestinationId")


def current_sse(description):
    config = description.get("DeliveryStreamEncryptionConfiguration") or {}
    status = config.get("Status")
    # A description without Status but with a key type (seen from some emulators) is enabled.
    enabled = status in ("ENABLED", "ENABLING") or (status is None and bool(config.get("KeyType")))
    result = {"Enabled": enabled}
    if enabled:
        result["KeyType"] = config.get("KeyType") or "AWS_OWNED_CMK"
        if config.get("KeyARN"):
            result["KeyARN"] = config["KeyARN"]
    return result


def current_source(description):
    source = (description.get("Source") or {}).get("KinesisStreamSourceDescription") or {}
    if not source:
        return None
    return {"stream_arn": source.get("KinesisStreamARN"), "role_arn": source.get("RoleARN")}


def _comparable(value):
    """Empty strings and None mean 'not set'; processor parameters compare as a mapping."""
    if isinstance(value, dict):
        result = {}
        for key, sub in value.items():
            if sub is None or sub == "":
                continue
            if key == "Parameters" and isinstance(sub, list):
                result[key] = dict((p.get("ParameterName"), str(p.get("ParameterValue"))) for p in sub)
                continue
            result[key] = _comparable(sub)
        return result
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    return value


def _with_defaults(config):
    """What AWS reports for things that were never configured."""
    config = copy.deepcopy(config or {})
    if not config.get("ProcessingConfiguration"):
        config["ProcessingConfiguration"] = {"Enabled": False, "Processors": []}
    else:
        config["ProcessingConfiguration"].setdefault("Processors", [])
    if not config.get("CloudWatchLoggingOptions"):
        config["CloudWatchLoggingOptions"] = {"Enabled": False}
    if not config.get("DynamicPartitioningConfiguration"):
        config["DynamicPartitioningConfiguration"] = {"Enabled": False}
    s3 = config.get("S3Configuration")
    if isinstance(s3, dict) and not s3.get("CloudWatchLoggingOptions"):
        s3["CloudWatchLoggingOptions"] = {"Enabled": False}
    return config


def is_subset(desired, current):
    """True when every value set in desired equals the one in current (lists compare item by item)."""
    if isinstance(desired, dict):
        if not isinstance(current, dict):
            return False
        return all(is_subset(value, current.get(key)) for key, value in desired.items())
    if isinstance(desired, list):
        if not isinstance(current, list) or len(desired) != len(current):
            return False
        return all(is_subset(d, c) for d, c in zip(desired, current))
    return desired == current


def destination_differs(desired, current):
    """Whether UpdateDestination is needed for the desired (create-shaped) configuration."""
    # VpcConfiguration cannot be updated; recreate_reasons compares it.
    want = _comparable(dict((k, v) for k, v in (desired or {}).items() if k != "VpcConfiguration"))
    have = _comparable(_with_defaults(current))
    return not is_subset(want, have)


def merge(current, desired):
    """What the destination looks like after an update that merges desired into current."""
    result = copy.deepcopy(current or {})
    for key, value in (desired or {}).items():
        if isinstance(value, dict) and isinstance(result.get(key), dict) and key not in ("ProcessingConfiguration", "EncryptionConfiguration"):
            result[key] = merge(result[key], value)
        else:
            result[key] = copy.deepcopy(value)
    return result


def recreate_reasons(params, description, destination_type, desired_config):
    """What differs that AWS cannot change in place (empty list when nothing)."""
    reasons = []
    wanted_type = params.get("delivery_stream_type")
    if wanted_type and wanted_type != description.get("DeliveryStreamType"):
        reasons.append("delivery_stream_type %s -> %s" % (description.get("DeliveryStreamType"), wanted_type))
    source = params.get("kinesis_source")
    if source and (wanted_type or description.get("DeliveryStreamType")) == "KinesisStreamAsSource" and source != current_source(description):
        reasons.append("kinesis_source")
    current_type, current_config, dummy = current_destination(description)
    if destination_type and destination_type != current_type:
        reasons.append("destination type %s -> %s" % (current_type, destination_type))
    elif destination_type == "extended_s3" and "DynamicPartitioningConfiguration" in desired_config:
        # AWS enables dynamic partitioning only at creation and never disables it.
        wanted = bool(desired_config["DynamicPartitioningConfiguration"].get("Enabled"))
        current = bool((current_config.get("DynamicPartitioningConfiguration") or {}).get("Enabled"))
        if wanted != current:
            reasons.append("extended_s3.dynamic_partitioning.enabled %s -> %s" % (current, wanted))
    elif destination_type == "opensearch":
        mode = desired_config.get("S3BackupMode")
        if mode and mode != (current_config.get("S3BackupMode") or "FailedDocumentsOnly"):
            reasons.append("opensearch.s3_backup_mode %s -> %s" % (current_config.get("S3BackupMode"), mode))
        vpc = desired_config.get("VpcConfiguration")
        if vpc and vpc != current_config.get("VpcConfiguration"):
            reasons.append("opensearch.vpc (VpcConfiguration is set at creation only)")
    return reasons
