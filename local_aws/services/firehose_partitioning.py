# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firehose dynamic partitioning of an Extended S3 destination, as AWS documents it.

* https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html
* https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-multirecord-deaggergation.html
* https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-partitioning-keys.html
* https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning-error-handling.html

Order of processing (AWS: "Deaggregation -> data transformation via Lambda -> partitioning
keys"): ``RecordDeAggregation`` splits each record (``JSON``: consecutive JSON objects, on
one line each or newline-separated; ``Delimited``: a base64-encoded delimiter; at most 500
sub-records per record), then the Lambda processor runs (in ``firehose``), then
``MetadataExtraction`` evaluates its jq query per record, then ``AppendDelimiterToRecord``
appends the delimiter (default newline). Records whose evaluated prefix is the same are
delivered together, one object per partition. Records whose keys cannot be extracted go to
the ErrorOutputPrefix with error-output-type ``partitioning-failed`` (the value the AWS CDK
integration test of dynamic partitioning observes on AWS,
aws-cdk ``integ.record-deaggregation``) and error code
``DynamicPartitioning.MetadataExtractionFailed``.

The jq subset evaluated is the object construction the role uses and AWS's examples show:
``{key: <path>, ...}`` where ``<path>`` is ``.a.b``, ``."quoted key"``, ``.["quoted key"]``,
optionally followed by a string slice ``[start:end]``. Anything else (pipes, functions such as
``strftime``) is rejected when the stream is created instead of being evaluated wrongly.
``partitionKeyFromLambda`` is not emulated (rejected at creation).
"""

import base64
import json
import re

MAX_SUBRECORDS = 500
MIN_BUFFER_MIB = 64
ERROR_TYPE = "partitioning-failed"
ERROR_CODE = "DynamicPartitioning.MetadataExtractionFailed"
JQ_ENGINE = "JQ-1.6"

_KEY = re.compile(r"!\{partitionKeyFromQuery:([^}]*)\}")
_IDENT = r"[A-Za-z_][A-Za-z0-9_]*"
_STRING = r'"(?:[^"\\]|\\.)*"'
_STEP = r"(?:\.%s|\.%s|\.?\[%s\])" % (_IDENT, _STRING, _STRING)
_SLICE = r"\[\s*(-?\d+)?\s*:\s*(-?\d+)?\s*\]"
_PATH = re.compile(r"^\s*((?:%s)+)\s*(?:%s)?\s*$" % (_STEP, _SLICE))
_STEPS = re.compile(r"\.(%s)|\.(%s)|\.?\[(%s)\]" % (_IDENT, _STRING, _STRING))


class PartitioningError(ValueError):
    """A configuration AWS rejects, or a record whose keys cannot be extracted."""


def _split_top_level(body):
    """Split ``a: x, b: y`` at top-level commas (outside strings and brackets)."""
    parts, depth, start, in_string, escape = [], 0, 0, False, False
    for index, char in enumerate(body):
        if in_string:
            if escape:
                escape = False
            elif char == "\\":
                escape = True
            elif char == '"':
                in_string = False
            continue
        if char == '"':
            in_string = True
        elif char in "[{(":
            depth += 1
        elif char in "]})":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    parts.append(body[start:])
    return parts


def parse_query(query):
    """Parse a MetadataExtractionQuery into ``{key: (steps, slice)}``; raise PartitioningError."""
    text = (query or "").strip()
    if not (text.startswith("{") and text.endswith("}")):
        raise PartitioningError("MetadataExtractionQuery %r must be a jq object construction {key: .path, ...}" % query)
    keys = {}
    for part in _split_top_level(text[1:-1]):
        if ":" not in part:
            raise PartitioningError("MetadataExtractionQuery %r: %r is not 'key: .path'" % (query, part.strip()))
        name, expression = part.split(":", 1)
        name = name.strip()
        if re.match(r'^"(?:[^"\\]|\\.)*"$', name):
            name = json.loads(name)
        elif not re.match(r"^%s$" % _IDENT, name):
            raise PartitioningError("MetadataExtractionQuery %r: invalid key %r" % (query, name))
        match = _PATH.match(expression)
        if not match:
            raise PartitioningError("MetadataExtractionQuery %r: expression %r is outside the jq subset the emulator "
                                    "evaluates (.a.b, .\"k\", .[\"k\"], optional [start:end])" % (query, expression.strip()))
        steps = []
        for ident, quoted, bracketed in _STEPS.findall(match.group(1)):
            steps.append(ident or json.loads(quoted or bracketed))
        start = int(match.group(2)) if match.group(2) else None
        end = int(match.group(3)) if match.group(3) else None
        has_slice = "[" in expression[match.end(1):]
        keys[name] = (steps, (start, end) if has_slice else None)
    return keys


def evaluate_query(parsed, document):
    """Evaluate a parsed query on a decoded JSON document: ``{key: string value}``."""
    result = {}
    for name, (steps, text_slice) in parsed.items():
        value = document
        for step in steps:
            if value is None:
                break
            if not isinstance(value, dict):
                raise PartitioningError("cannot index %s with %r" % (type(value).__name__, step))
            value = value.get(step)
        if value is not None and text_slice is not None:
            if not isinstance(value, (str, list)):
                raise PartitioningError("cannot slice %s" % type(value).__name__)
            value = value[text_slice[0]:text_slice[1]]
        if value is None:
            raise PartitioningError("partition key %s evaluated to null" % name)
        if isinstance(value, (dict, list)):
            raise PartitioningError("partition key %s is not a scalar" % name)
        if isinstance(value, bool):
            value = "true" if value else "false"
        result[name] = value if isinstance(value, str) else json.dumps(value)
    return result


def processors(config):
    """``{type: {parameter name: value}}`` of the enabled processors of a destination."""
    processing = config.get("ProcessingConfiguration") or {}
    if not processing.get("Enabled"):
        return {}
    out = {}
    for processor in processing.get("Processors") or []:
        out[processor.get("Type")] = dict((p.get("ParameterName"), p.get("ParameterValue"))
                                          for p in processor.get("Parameters") or [])
    return out


def enabled(config):
    return bool(((config or {}).get("DynamicPartitioningConfiguration") or {}).get("Enabled"))


def validate(config):
    """Raise PartitioningError for what AWS rejects in an ExtendedS3 destination configuration."""
    prefix = config.get("Prefix") or ""
    used = _KEY.findall(prefix)
    if "partitionKeyFromQuery" in (config.get("ErrorOutputPrefix") or ""):
        raise PartitioningError("ErrorOutputPrefix cannot contain partitionKeyFromQuery expressions")
    if not enabled(config):
        if used:
            raise PartitioningError("Prefix %r uses !{partitionKeyFromQuery:...} but DynamicPartitioningConfiguration "
                                    "is not enabled: dynamic partitioning must be enabled to use it" % prefix)
        return
    if not prefix:
        raise PartitioningError("Prefix is required when dynamic partitioning is enabled")
    if not config.get("ErrorOutputPrefix"):
        raise PartitioningError("ErrorOutputPrefix is required when dynamic partitioning is enabled")
    size = (config.get("BufferingHints") or {}).get("SizeInMBs")
    if size is not None and int(size) < MIN_BUFFER_MIB:
        raise PartitioningError("BufferingHints.SizeInMBs must be at least %d when dynamic partitioning is enabled, got %s"
                                % (MIN_BUFFER_MIB, size))
    found = processors(config)
    if "partitionKeyFromLambda" in prefix:
        raise PartitioningError("partitionKeyFromLambda is not emulated by the local AWS emulator")
    if not used:
        raise PartitioningError("Prefix %r must use !{partitionKeyFromQuery:<key>} when dynamic partitioning is enabled" % prefix)
    extraction = found.get("MetadataExtraction")
    if extraction is None:
        raise PartitioningError("Prefix uses partitionKeyFromQuery but no MetadataExtraction processor is configured")
    if extraction.get("JsonParsingEngine", JQ_ENGINE) != JQ_ENGINE:
        raise PartitioningError("JsonParsingEngine must be %s" % JQ_ENGINE)
    keys = parse_query(extraction.get("MetadataExtractionQuery"))
    missing = sorted(set(used) - set(keys))
    if missing:
        raise PartitioningError("Prefix uses partition keys %s that MetadataExtractionQuery does not define" % ", ".join(missing))
    deaggregation = found.get("RecordDeAggregation")
    if deaggregation is not None:
        kind = deaggregation.get("SubRecordType")
        if kind not in ("JSON", "DELIMITED"):
            raise PartitioningError("RecordDeAggregation SubRecordType must be JSON or DELIMITED, got %r" % kind)
        if kind == "DELIMITED":
            try:
                if not base64.b64decode(deaggregation.get("Delimiter") or "", validate=True):
                    raise ValueError("empty")
            except ValueError as exc:
                raise PartitioningError("RecordDeAggregation Delimiter must be a base64-encoded string") from exc


def deaggregate(data, parameters):
    """Split one record's bytes into sub-records (raise PartitioningError when it cannot)."""
    if parameters.get("SubRecordType") == "DELIMITED":
        delimiter = base64.b64decode(parameters.get("Delimiter") or "")
        parts = [p for p in data.split(delimiter) if p]
    else:
        text = data.decode("utf-8")
        decoder = json.JSONDecoder()
        parts, index = [], 0
        while True:
            while index < len(text) and text[index] in " \t\r\n":
                index += 1
            if index >= len(text):
                break
            if text[index] != "{":
                raise PartitioningError("record is not a sequence of JSON objects")
            try:
                _obj, end = decoder.raw_decode(text, index)
            except ValueError as exc:
                raise PartitioningError("invalid JSON: %s" % exc) from exc
            parts.append(text[index:end].encode("utf-8"))
            index = end
    if len(parts) > MAX_SUBRECORDS:
        raise PartitioningError("record holds %d sub-records; deaggregation is capped at %d per record"
                                % (len(parts), MAX_SUBRECORDS))
    return parts


def delimiter(config):
    """The bytes AppendDelimiterToRecord appends, or None."""
    parameters = processors(config).get("AppendDelimiterToRecord")
    if parameters is None:
        return None
    value = parameters.get("Delimiter")
    return base64.b64decode(value) if value else b"\n"


def partition_keys(config, data):
    """The partitionKeyFromQuery values of one (deaggregated) record."""
    extraction = processors(config).get("MetadataExtraction") or {}
    parsed = parse_query(extraction.get("MetadataExtractionQuery"))
    try:
        document = json.loads(data.decode("utf-8"))
    except ValueError as exc:
        raise PartitioningError("record is not JSON: %s" % exc) from exc
    if not isinstance(document, dict):
        raise PartitioningError("record is not a JSON object")
    return evaluate_query(parsed, document)
