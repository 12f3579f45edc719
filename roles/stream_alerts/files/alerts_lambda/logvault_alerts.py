# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""logvault alerts Lambda: central Kinesis stream -> rules -> SNS.

Handler: ``logvault_alerts.handler``. Standard library and boto3 only; the filter-pattern
engine ``cwl_filter_pattern.py`` (plugins/module_utils of the collection) is copied next to
this file when the role builds the zip, and the rules are in ``rules.json`` beside it.

Each Kinesis record carries one CloudWatch Logs subscription payload (base64 -> gzip ->
JSON). CONTROL_MESSAGE payloads are skipped. Every log event of a DATA_MESSAGE is matched
against the rules that apply to its account and log group (``match_many``: the message is
parsed as JSON at most once). Matches are aggregated per rule and group within the batch:

* a rule without ``threshold`` notifies once per (rule, account, log group) per batch;
* a rule with ``threshold`` adds its matches to a DynamoDB counter of the tumbling window
  ``[floor(t / W) * W, + W)`` of the events' timestamps, per ``group_by`` value; it
  notifies once, in the batch whose matches take the counter from below N to N or more;
* ``suppress_for`` (seconds) drops notifications of the same (rule, group) while an
  earlier one is younger than that (a conditional write in DynamoDB).

DynamoDB items carry ``expires_at`` (epoch seconds) for the table's TTL. If a
notification cannot be sent, what this batch added to DynamoDB for it is taken back and
the lowest sequence number of the records involved is returned in ``batchItemFailures``,
so the event source mapping retries from there (at-least-once: other notifications of the
retried records may be sent again). See docs/stream-alerts.md.
"""

import base64
import binascii
import fnmatch
import json
import os
import sys
import time
import zlib

# boto3 and botocore are part of every Lambda Python runtime.
import boto3
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the engine is shipped next to this file
    sys.path.insert(0, HERE)

import cwl_filter_pattern as fp  # noqa: E402  pylint: disable=wrong-import-position

__all__ = ["Alerter", "ConfigError", "Rule", "handler", "insights_query", "load_rules"]

MAX_SAMPLES = 5
MAX_SAMPLE_CHARS = 2048
# An SNS message is at most 256 KiB; subjects at most 100 ASCII characters.
MAX_SUBJECT = 100
SEVERITIES = ("informational", "low", "medium", "high", "critical")

METRICS = (
    ("records", "Records"),
    ("events", "Events"),
    ("control_messages", "ControlMessages"),
    ("malformed_records", "MalformedRecords"),
    ("matches", "Matches"),
    ("notifications", "Notifications"),
    ("suppressed", "Suppressed"),
    ("below_threshold", "BelowThreshold"),
    ("failures", "Failures"),
)


class ConfigError(ValueError):
    """The rules file or an environment variable is missing or invalid."""


class Rule:
    """One rule of rules.json, compiled."""

    __slots__ = ("name", "description", "severity", "accounts", "log_groups", "pattern", "compiled",
                 "threshold", "window", "group_by", "group_path", "suppress_for")

    def __init__(self, spec):
        try:
            self.name = str(spec["name"])
            self.description = str(spec.get("description") or "")
            self.severity = str(spec.get("severity") or "medium")
            match = spec.get("match") or {}
            self.accounts = frozenset(str(a) for a in (match.get("accounts") or []))
            self.log_groups = tuple(str(g) for g in (match.get("log_groups") or []))
            self.pattern = match.get("filter_pattern") or ""
            threshold = spec.get("threshold") or None
            self.threshold = int(threshold["count"]) if threshold else 0
            self.window = int(threshold.get("window_seconds", 300)) if threshold else 0
            self.group_by = str(threshold.get("group_by", "log_group")) if threshold else "log_group"
            self.suppress_for = int(spec.get("suppress_for") or 0)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ConfigError("rule %r is not valid: %s" % (spec.get("name") if isinstance(spec, dict) else spec, exc)) from None
        try:
            self.compiled = fp.compile_pattern(self.pattern)
        except fp.FilterPatternError as exc:
            raise ConfigError("rule %r: filter_pattern %s" % (self.name, exc)) from None
        self.group_path = None
        if self.group_by not in ("account", "log_group"):
            path = self.group_by[2:] if self.group_by.startswith("$.") else self.group_by
            self.group_path = tuple(path.split("."))

    def applies_to(self, account, log_group):
        if self.accounts and account not in self.accounts:
            return False
        if not self.log_groups:
            return True
        for glob in self.log_groups:
            if fnmatch.fnmatchcase(log_group, glob):
                return True
        return False

    def group_of(self, account, log_group, message):
        """The value that threshold counters and suppression are kept per."""
        if self.group_by == "account":
            return account
        if self.group_path is None:
            return "%s:%s" % (account, log_group)
        parsed = fp.parse_json_message(message)
        value = parsed
        for key in self.group_path:
            if value.__class__ is not dict or key not in value:
                return "%s:(no %s)" % (account, self.group_by)
            value = value[key]
        if isinstance(value, (dict, list)):
            value = json.dumps(value, sort_keys=True, separators=(",", ":"))
        return "%s:%s" % (account, value)


def load_rules(path):
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError("cannot read the rules file %s: %s" % (path, exc)) from None
    specs = document.get("rules") if isinstance(document, dict) else None
    if not isinstance(specs, list):
        raise ConfigError("the rules file %s has no list 'rules'" % path)
    rules = [Rule(spec) for spec in specs]
    names = [rule.name for rule in rules]
    if len(set(names)) != len(names):
        raise ConfigError("the rules file %s names a rule twice" % path)
    return rules


# ----------------------------------------------------------------- Logs Insights query
def _insights_string(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


def _terms_filter(source):
    """Best-effort Insights filter for a term pattern: terms, "phrases", -exclusions, ?OR."""
    text = source.strip()
    words = []
    i = 0
    while i < len(text):
        if text[i] in " \t":
            i += 1
            continue
        prefix = ""
        if text[i] in "?-":
            prefix = text[i]
            i += 1
        if i < len(text) and text[i] == '"':
            end = i + 1
            while end < len(text) and text[end] != '"':
                end += 2 if text[end] == "\\" else 1
            word = text[i + 1:end].replace('\\"', '"')
            i = end + 1
        else:
            end = i
            while end < len(text) and text[end] not in " \t":
                end += 1
            word = text[i:end]
            i = end
        if word.startswith("%") or not word:
            return None  # regex terms: no faithful translation
        words.append((prefix, word))
    if not words:
        return None
    if all(prefix == "?" for prefix, _w in words):
        return " or ".join("@message like %s" % _insights_string(w) for _p, w in words)
    parts = []
    for prefix, word in words:
        parts.append(("not @message like %s" if prefix == "-" else "@message like %s") % _insights_string(word))
    return " and ".join(parts)


_JSON_TOKEN = None


def _json_filter(source):
    """Insights filter for a JSON pattern made of ``$.a.b OP value`` comparisons, && || ( )."""
    import re  # pylint: disable=import-outside-toplevel

    global _JSON_TOKEN  # pylint: disable=global-statement
    if _JSON_TOKEN is None:
        _JSON_TOKEN = re.compile(
            r'\s*(?:(?P<op>&&|\|\||\(|\))|(?P<cmp>\$\.[A-Za-z0-9_.\-]+)\s*'
            r'(?P<rel>NOT\s+EXISTS|IS\s+NULL|IS\s+TRUE|IS\s+FALSE|!=|<=|>=|=|<|>)\s*'
            r'(?P<val>"(?:[^"\\]|\\.)*"|[^\s()&|]+)?)')
    body = source.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None
    body = body[1:-1]
    out = []
    pos = 0
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        token = _JSON_TOKEN.match(body, pos)
        if token is None:
            return None
        pos = token.end()
        if token.group("op"):
            out.append({"&&": "and", "||": "or"}.get(token.group("op"), token.group("op")))
            continue
        field = "`%s`" % token.group("cmp")[2:] if "-" in token.group("cmp") else token.group("cmp")[2:]
        rel = " ".join(token.group("rel").split())
        val = token.group("val")
        if rel == "NOT EXISTS":
            out.append("not ispresent(%s)" % field)
            continue
        if rel == "IS NULL":
            out.append("isempty(%s)" % field)
            continue
        if rel in ("IS TRUE", "IS FALSE"):
            out.append("%s = %s" % (field, rel.split()[1].lower()))
            continue
        if val is None or val.startswith("%"):
            return None
        quoted = val.startswith('"')
        text = val[1:-1] if quoted else val
        if "*" in text:
            if rel not in ("=", "!="):
                return None
            regex = "^%s$" % ".*".join(re.escape(piece) for piece in text.split("*"))
            out.append("%s%s like /%s/" % ("not " if rel == "!=" else "", field, regex.replace("/", "\\/")))
            continue
        if not quoted and re.match(r"^-?[0-9]+(\.[0-9]+)?$", text):
            out.append("%s %s %s" % (field, rel, text))
        else:
            out.append("%s %s %s" % (field, rel, _insights_string(text)))
    return " ".join(out) if out else None


def insights_query(rule, log_groups, start_ms, end_ms, region):
    """A ready-to-paste CloudWatch Logs Insights query (and the CLI command) for the window."""
    compiled = rule.compiled
    condition = None
    if compiled.kind == "terms":
        condition = _terms_filter(rule.pattern)
    elif compiled.kind == "json":
        condition = _json_filter(rule.pattern)
    lines = ["fields @timestamp, @logStream, @message"]
    if condition:
        lines.append("| filter %s" % condition)
    lines.extend(["| sort @timestamp asc", "| limit 1000"])
    query = "\n".join(lines)
    start, end = int(start_ms // 1000), int(end_ms // 1000) + 1
    groups = sorted(log_groups)
    command = "aws logs start-query --region %s --start-time %d --end-time %d --log-group-names %s --query-string %s" % (
        region, start, end, " ".join(_shell_quote(g) for g in groups), _shell_quote(query.replace("\n", " ")))
    return {
        "query": query,
        "exact": bool(condition) or compiled.kind == "all",
        "log_group_names": groups,
        "start_time": start,
        "end_time": end,
        "start": _iso(start * 1000),
        "end": _iso(end * 1000),
        "cli": command,
    }


def _shell_quote(text):
    return "'%s'" % text.replace("'", "'\"'\"'")


def _iso(millis):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis / 1000.0)) + ".%03dZ" % (int(millis) % 1000)


# ----------------------------------------------------------------- the handler
class _Hit:
    """Matches of one rule for one group (and window) within a batch."""

    __slots__ = ("rule", "group", "window_start", "count", "samples", "first_ms", "last_ms", "accounts", "log_groups",
                 "lowest_index")

    def __init__(self, rule, group, window_start, index):
        self.rule = rule
        self.group = group
        self.window_start = window_start
        self.count = 0
        self.samples = []
        self.first_ms = None
        self.last_ms = None
        self.accounts = set()
        self.log_groups = set()
        self.lowest_index = index

    def add(self, index, account, log_group, log_stream, event):
        self.count += 1
        timestamp = event.get("timestamp") or 0
        if self.first_ms is None or timestamp < self.first_ms:
            self.first_ms = timestamp
        if self.last_ms is None or timestamp > self.last_ms:
            self.last_ms = timestamp
        self.accounts.add(account)
        self.log_groups.add(log_group)
        if index < self.lowest_index:
            self.lowest_index = index
        if len(self.samples) < MAX_SAMPLES:
            message = event.get("message") or ""
            self.samples.append({
                "id": event.get("id"), "timestamp": _iso(timestamp), "account": account, "log_group": log_group,
                "log_stream": log_stream,
                "message": message if len(message) <= MAX_SAMPLE_CHARS else message[:MAX_SAMPLE_CHARS] + "...[truncated]",
            })


class Alerter:
    """Evaluates rules over subscription records; DynamoDB and SNS clients are injected."""

    def __init__(self, rules, table, topic_arn, dynamodb, sns, region="", clock=time.time, log=print):
        self.rules = list(rules)
        self.table = table
        self.topic_arn = topic_arn
        self.dynamodb = dynamodb
        self.sns = sns
        self.region = region
        self.clock = clock
        self.log = log
        self._applicable = {}

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        for name in ("LOGVAULT_ALERTS_TABLE", "LOGVAULT_ALERTS_TOPIC_ARN"):
            if not environ.get(name):
                raise ConfigError("environment variable %s is required" % name)
        rules = load_rules(environ.get("LOGVAULT_ALERTS_RULES_FILE") or os.path.join(HERE, "rules.json"))
        config = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10)
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
        return cls(rules, environ["LOGVAULT_ALERTS_TABLE"], environ["LOGVAULT_ALERTS_TOPIC_ARN"],
                   boto3.client("dynamodb", config=config), boto3.client("sns", config=config), region=region)

    def applicable(self, account, log_group):
        """(compiled patterns, id(compiled) -> rule) for one account and log group, cached."""
        key = (account, log_group)
        found = self._applicable.get(key)
        if found is None:
            rules = [rule for rule in self.rules if rule.applies_to(account, log_group)]
            found = ([rule.compiled for rule in rules], {id(rule.compiled): rule for rule in rules})
            if len(self._applicable) > 10000:
                self._applicable.clear()
            self._applicable[key] = found
        return found

    # -------------------------------------------------------------- evaluation
    def evaluate(self, records, stats):
        """Decode and match every record; returns the hits keyed by (rule, group, window)."""
        hits = {}
        for index, record in enumerate(records):
            stats["records"] += 1
            try:
                payload = _decode(record["kinesis"]["data"])
            except (KeyError, TypeError, ValueError, zlib.error, binascii.Error) as exc:
                # Kept by the transform Lambda in the dead-letter bucket; nothing to alert on here.
                stats["malformed_records"] += 1
                self.log(json.dumps({"message": "malformed record skipped", "index": index, "error": str(exc)[:200]}))
                continue
            kind = payload.get("messageType")
            if kind == "CONTROL_MESSAGE":
                stats["control_messages"] += 1
                continue
            events = payload.get("logEvents")
            log_group = payload.get("logGroup")
            if kind != "DATA_MESSAGE" or not isinstance(events, list) or not isinstance(log_group, str):
                stats["malformed_records"] += 1
                continue
            account = str(payload.get("owner", ""))
            log_stream = str(payload.get("logStream", ""))
            stats["events"] += len(events)
            patterns, by_id = self.applicable(account, log_group)
            if not patterns:
                continue
            for event in events:
                if event.__class__ is not dict:
                    continue
                message = event.get("message")
                if message.__class__ is not str:
                    message = "" if message is None else str(message)
                found = fp.match_many(patterns, message)
                if not found:
                    continue
                for compiled in found:
                    rule = by_id[id(compiled)]
                    stats["matches"] += 1
                    if rule.threshold:
                        group = rule.group_of(account, log_group, message)
                        seconds = int(event.get("timestamp") or 0) // 1000
                        window_start = seconds - seconds % rule.window
                    else:
                        group = "%s:%s" % (account, log_group)
                        window_start = None
                    key = (rule.name, group, window_start)
                    hit = hits.get(key)
                    if hit is None:
                        hit = hits[key] = _Hit(rule, group, window_start, index)
                    hit.add(index, account, log_group, log_stream, event)
        return hits

    # -------------------------------------------------------------- DynamoDB state
    def _add_to_counter(self, hit, amount):
        rule = hit.rule
        answer = self.dynamodb.update_item(
            TableName=self.table,
            Key={"pk": {"S": "count#%s#%s#%d" % (rule.name, hit.group, hit.window_start)}},
            UpdateExpression="ADD #c :n SET #e = if_not_exists(#e, :e)",
            ExpressionAttributeNames={"#c": "count", "#e": "expires_at"},
            ExpressionAttributeValues={":n": {"N": str(amount)},
                                       ":e": {"N": str(hit.window_start + 2 * rule.window + 3600)}},
            ReturnValues="UPDATED_NEW")
        return int(answer["Attributes"]["count"]["N"])

    def _claim(self, hit, now):
        """True if no notification of this rule and group was sent in the last suppress_for seconds."""
        rule = hit.rule
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item={"pk": {"S": "suppress#%s#%s" % (rule.name, hit.group)}, "expires_at": {"N": str(int(now) + rule.suppress_for)}},
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _release(self, hit):
        self.dynamodb.delete_item(TableName=self.table, Key={"pk": {"S": "suppress#%s#%s" % (hit.rule.name, hit.group)}})

    # -------------------------------------------------------------- notifications
    def notification(self, hit, window_count=None):
        rule = hit.rule
        accounts = sorted(hit.accounts)
        groups = sorted(hit.log_groups)
        if rule.threshold:
            start_ms, end_ms = hit.window_start * 1000, (hit.window_start + rule.window) * 1000 - 1
        else:
            start_ms, end_ms = hit.first_ms, hit.last_ms
        body = {
            "version": 1,
            "source": "logvault.aws.stream_alerts",
            "rule": rule.name,
            "description": rule.description,
            "severity": rule.severity,
            "account": accounts[0] if len(accounts) == 1 else None,
            "accounts": accounts,
            "region": self.region,
            "log_group": groups[0] if len(groups) == 1 else None,
            "log_groups": groups,
            "filter_pattern": rule.pattern,
            "group_by": rule.group_by if rule.threshold else None,
            "group": hit.group,
            "count": hit.count,
            "window_count": window_count,
            "threshold": {"count": rule.threshold, "window_seconds": rule.window} if rule.threshold else None,
            "suppress_for": rule.suppress_for,
            "first_event": _iso(hit.first_ms),
            "last_event": _iso(hit.last_ms),
            "samples": hit.samples,
            "insights": insights_query(rule, groups, start_ms, end_ms, self.region),
        }
        subject = "[%s] %s in %s" % (rule.severity.upper(), rule.name, body["account"] or "%d accounts" % len(accounts))
        subject = subject.encode("ascii", "replace").decode("ascii")[:MAX_SUBJECT]
        return subject, body

    def _publish(self, hit, window_count):
        subject, body = self.notification(hit, window_count)
        text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        while len(text.encode("utf-8")) > 250 * 1024 and body["samples"]:
            body["samples"].pop()
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        self.sns.publish(TopicArn=self.topic_arn, Subject=subject, Message=text, MessageAttributes={
            "rule": {"DataType": "String", "StringValue": hit.rule.name},
            "severity": {"DataType": "String", "StringValue": hit.rule.severity},
        })

    def notify(self, hits, stats):
        """Apply thresholds and suppression, publish; returns the lowest record index that failed."""
        lowest_failed = None
        now = self.clock()
        for key in sorted(hits, key=lambda k: (k[0], k[1], k[2] or 0)):
            hit = hits[key]
            rule = hit.rule
            counted = claimed = False
            window_count = None
            try:
                if rule.threshold:
                    window_count = self._add_to_counter(hit, hit.count)
                    counted = True
                    before = window_count - hit.count
                    if not before < rule.threshold <= window_count:
                        stats["below_threshold" if window_count < rule.threshold else "suppressed"] += 1
                        continue
                if rule.suppress_for:
                    if not self._claim(hit, now):
                        stats["suppressed"] += 1
                        continue
                    claimed = True
                self._publish(hit, window_count)
                stats["notifications"] += 1
            except (ClientError, BotoCoreError) as exc:
                stats["failures"] += 1
                self.log(json.dumps({"message": "notification failed", "rule": rule.name, "group": hit.group,
                                     "error": "%s: %s" % (type(exc).__name__, exc)}))
                self._undo(hit, counted, claimed)
                if lowest_failed is None or hit.lowest_index < lowest_failed:
                    lowest_failed = hit.lowest_index
        return lowest_failed

    def _undo(self, hit, counted, claimed):
        """Take back what this batch wrote for a notification that was not sent, so the retry counts again."""
        try:
            if counted:
                self._add_to_counter(hit, -hit.count)
            if claimed:
                self._release(hit)
        except (ClientError, BotoCoreError) as exc:
            self.log(json.dumps({"message": "could not undo the counters of a failed notification", "rule": hit.rule.name,
                                 "error": "%s: %s" % (type(exc).__name__, exc)}))

    def handle(self, event, context=None):
        started = time.monotonic()
        records = (event or {}).get("Records") or []
        stats = dict.fromkeys((key for key, _name in METRICS), 0)
        hits = self.evaluate(records, stats)
        lowest_failed = self.notify(hits, stats)
        failures = []
        if lowest_failed is not None:
            failures.append({"itemIdentifier": records[lowest_failed]["kinesis"]["sequenceNumber"]})
        self._emit(context, stats, records, failures, started)
        return {"batchItemFailures": failures}

    def _emit(self, context, stats, records, failures, started):
        function_name = getattr(context, "function_name", None) or os.environ.get("AWS_LAMBDA_FUNCTION_NAME", "logvault-alerts")
        line = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": os.environ.get("LOGVAULT_METRICS_NAMESPACE", "logvault"),
                    "Dimensions": [["FunctionName"]],
                    "Metrics": [{"Name": name, "Unit": "Count"} for _key, name in METRICS],
                }],
            },
            "FunctionName": function_name,
            "message": "logvault alerts invocation",
            "request_id": getattr(context, "aws_request_id", None),
            "event_source_arn": records[0].get("eventSourceARN") if records else None,
            "failed_sequence_number": failures[0]["itemIdentifier"] if failures else None,
            "duration_ms": int((time.monotonic() - started) * 1000),
        }
        for key, name in METRICS:
            line[name] = stats[key]
        self.log(json.dumps(line, separators=(",", ":")))


def _decode(data):
    raw = base64.b64decode(data, validate=True)
    text = zlib.decompress(raw, 31)
    payload = json.loads(text)
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload


_ALERTER = None


def handler(event, context):
    """Lambda entry point (``logvault_alerts.handler``)."""
    global _ALERTER  # pylint: disable=global-statement
    if _ALERTER is None:
        _ALERTER = Alerter.from_environment()
    return _ALERTER.handle(event, context)
