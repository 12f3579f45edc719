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
* a rule with ``threshold`` adds its matches to a DynamoDB item of the tumbling window
  ``[floor(t / W) * W, + W)`` of the events' timestamps, per ``group_by`` value (hashed
  into the key; the readable value is an attribute). Each shard's contribution is
  idempotent: the item keeps, per shard, the highest sequence number already counted, and
  a retried record is never counted twice. The notification is sent once per window: a
  flag on the window item is set under a condition (count >= N, not yet alerted, no
  live lease of another sender), with a lease expiry; a failed publish releases the flag
  and leaves the count alone, so the retry (or any later batch) sends it;
* ``suppress_for`` (seconds) drops notifications of the same (rule, group) while an
  earlier one is younger than that (a conditional write in DynamoDB).

DynamoDB items carry ``expires_at`` (epoch seconds) for the table's TTL. If a
notification cannot be sent, the lowest sequence number of the records involved is
returned in ``batchItemFailures``, so the event source mapping retries from there
(at-least-once: other notifications without threshold of the retried records may be
sent again). See docs/stream-alerts.md.

Alerts are also made searchable (``settings.search.stream``): after the notifications of an
invocation, one compact document per alert that was published (rule, severity, account, region,
log groups, time, sample event ids) is put into the central search Firehose stream, in one
PutRecordBatch per invocation, under the fixed log group ``logvault/alerts``. They never enter the
hub stream that this function reads, so an alert cannot raise an alert. Indexing is best effort:
SNS is the delivery of record, so a failed put is logged and counted (``AlertIndexFailures``) and
the batch is not retried for it (a retry would send the notifications again).
"""

import base64
import binascii
import fnmatch
import hashlib
import json
import math
import os
import sys
import time
import zlib

# boto3 and botocore are vendored into the zip (lambda-requirements.txt); the runtime's own
# copy comes after /var/task on sys.path.
import boto3
import botocore
from botocore.config import Config as BotoConfig
from botocore.exceptions import BotoCoreError, ClientError

# Cold start: the SDK this function runs with, logged once per execution environment (AWS's
# documented way to learn it: https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included).
print(json.dumps({"message": "logvault cold start", "boto3": boto3.__version__, "botocore": botocore.__version__}))

HERE = os.path.dirname(os.path.abspath(__file__))
if HERE not in sys.path:  # the engine is shipped next to this file
    sys.path.insert(0, HERE)

import cwl_filter_pattern as fp  # noqa: E402  pylint: disable=wrong-import-position

__all__ = ["Alerter", "ConfigError", "Rule", "chatbot_message", "dashboards_link", "dql_condition", "handler", "insights_query", "load_document", "load_rules",
           "resolve_outputs", "route"]

MAX_SAMPLES = 5  # the default of settings.max_samples
MAX_SAMPLES_LIMIT = 50
MAX_SAMPLE_CHARS = 2048
# An SNS message is at most 256 KiB (262,144 bytes; https://docs.aws.amazon.com/sns/latest/api/API_Publish.html);
# subjects at most 100 ASCII characters. The body is kept under MAX_MESSAGE_BYTES, which
# leaves room for the subject and the message attributes.
MAX_SUBJECT = 100
MAX_MESSAGE_BYTES = 250 * 1024
# Lists in a notification: at most this many names (the totals are given); Logs Insights
# StartQuery takes at most 50 log group names.
MAX_LISTED = 50
MAX_GROUP_CHARS = 1024
# The largest subscription payload CloudWatch Logs can send, decompressed (see the
# transform Lambda's MAX_PAYLOAD_BYTES): bigger is a gzip bomb, not a payload.
MAX_PAYLOAD_BYTES = 6 * 1048576 + 10000 * 128
# A claimed window flag (a notification being sent) is released after this many seconds
# if its sender neither sent nor released it (it crashed or timed out).
LEASE_SECONDS = 300
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
    ("already_counted", "AlreadyCounted"),
    ("bad_timestamps", "BadTimestamps"),
    ("failures", "Failures"),
    ("alerts_indexed", "AlertsIndexed"),
    ("alert_index_failures", "AlertIndexFailures"),
)
# The fixed log group of alert documents in the search indices (the dashboard's alerts panel and
# saved search query it). Not a CloudWatch Logs log group: nothing subscribes it to the hub.
ALERTS_LOG_GROUP = "logvault/alerts"
# PutRecordBatch: at most 500 records and 4 MiB per call, 1,000 KiB per record (Firehose API
# Reference, PutRecordBatch).
FIREHOSE_BATCH_RECORDS = 500
FIREHOSE_BATCH_BYTES = 4 * 1024 * 1024
MAX_ALERT_DOCUMENT_BYTES = 64 * 1024


class ConfigError(ValueError):
    """The rules file or an environment variable is missing or invalid."""


class Rule:
    """One rule of rules.json, compiled."""

    __slots__ = ("name", "description", "severity", "accounts", "log_groups", "pattern", "compiled",
                 "threshold", "window", "group_by", "group_path", "suppress_for", "outputs")

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
            self.outputs = tuple(str(o) for o in (spec.get("outputs") or []))
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


def load_document(path):
    """The rules file as a dict: ``rules``, and optionally ``outputs`` and ``routes``."""
    try:
        with open(path, encoding="utf-8") as handle:
            document = json.load(handle)
    except (OSError, ValueError) as exc:
        raise ConfigError("cannot read the rules file %s: %s" % (path, exc)) from None
    if not isinstance(document, dict):
        raise ConfigError("the rules file %s is not a JSON object" % path)
    return document


def load_rules(path, document=None):
    if document is None:
        document = load_document(path)
    specs = document.get("rules")
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


# ----------------------------------------------------------------- OpenSearch Dashboards link
# The documents the transform Lambda writes (docs/transform-lambda.md): "@timestamp" (the log
# event's time), "account_id", "region", "log_group", "log_stream", "message", and "fields" (the
# message parsed, when it is a JSON object), in daily indices <index prefix>-YYYY-MM-DD. The
# domain maps them dynamically: strings are text with a ".keyword" sub-field (256 characters).
def _dql_string(value):
    return '"%s"' % str(value).replace("\\", "\\\\").replace('"', '\\"')


_DQL_SPECIAL = set('\\():<>"* ')


def _dql_wildcard(text):
    """An unquoted DQL value whose ``*`` are wildcards and every other special character escaped."""
    return "".join(("\\" + ch) if ch in _DQL_SPECIAL and ch != "*" else ch for ch in text)


def dql_condition(rule):
    """(DQL condition over the documents' fields, exact) for a rule's filter pattern, or (None, False)."""
    import re  # pylint: disable=import-outside-toplevel

    compiled = rule.compiled
    if compiled.kind == "all":
        return None, True
    if compiled.kind == "terms":
        condition = _terms_filter(rule.pattern)
        if condition is None:
            return None, False
        # message is analysed text: a phrase query finds the term, but not only as a substring.
        words = re.findall(r'(not )?@message like ("(?:[^"\\]|\\.)*")', condition)
        joiner = " or " if " or " in condition else " and "
        return joiner.join("%smessage:%s" % ("not " if neg else "", quoted) for neg, quoted in words), False
    if compiled.kind != "json":
        return None, False
    _json_filter("{}")  # compiles the shared tokenizer
    body = rule.pattern.strip()
    if not (body.startswith("{") and body.endswith("}")):
        return None, False
    body = body[1:-1]
    out = []
    pos = 0
    exact = True
    while pos < len(body):
        if body[pos:].strip() == "":
            break
        token = _JSON_TOKEN.match(body, pos)
        if token is None:
            return None, False
        pos = token.end()
        if token.group("op"):
            out.append({"&&": "and", "||": "or"}.get(token.group("op"), token.group("op")))
            continue
        field = "fields." + token.group("cmp")[2:]
        rel = " ".join(token.group("rel").split())
        val = token.group("val")
        if rel == "NOT EXISTS":
            out.append("not %s:*" % field)
            continue
        if rel in ("IS TRUE", "IS FALSE"):
            out.append("%s:%s" % (field, rel.split()[1].lower()))
            continue
        if rel == "IS NULL" or val is None or val.startswith("%"):
            return None, False
        quoted = val.startswith('"')
        text = val[1:-1] if quoted else val
        if "*" in text:
            if rel not in ("=", "!="):
                return None, False
            out.append("%s%s.keyword:%s" % ("not " if rel == "!=" else "", field, _dql_wildcard(text)))
            continue
        if rel in ("=", "!="):
            value = text if not quoted and re.match(r"^-?[0-9]+(\.[0-9]+)?$", text) else _dql_string(text)
            out.append("%s%s:%s" % ("not " if rel == "!=" else "", field, value))
        elif re.match(r"^-?[0-9]+(\.[0-9]+)?$", text):
            out.append("%s %s %s" % (field, rel, text))
        else:
            return None, False
    return (" ".join(out) if out else None), exact


def _rison_string(text):
    return "'%s'" % text.replace("!", "!!").replace("'", "!'")


def dashboards_link(settings, rule, accounts, log_groups, start_ms, end_ms):
    """A Discover URL of OpenSearch Dashboards opening the rule's documents of these accounts and
    log groups in the time range, and its parts; None without ``settings["url"]``."""
    from urllib.parse import quote  # pylint: disable=import-outside-toplevel

    base = (settings or {}).get("url") or ""
    scope = []
    if accounts:
        scope.append("(%s)" % " or ".join("account_id:%s" % _dql_string(a) for a in accounts))
    if log_groups:
        scope.append("(%s)" % " or ".join("log_group.keyword:%s" % _dql_string(g) for g in log_groups))
    condition, exact = dql_condition(rule)
    if condition:
        scope.append("(%s)" % condition)
    query = " and ".join(scope)
    start, end = _iso(start_ms), _iso(end_ms + 1000)
    link = {"query": query, "language": "kuery", "exact": exact, "from": start, "to": end,
            "index_pattern": (settings or {}).get("index_pattern") or "", "url": None}
    if not base:
        return link
    state_g = "(filters:!(),time:(from:%s,to:%s))" % (_rison_string(start), _rison_string(end))
    index = (settings or {}).get("index_pattern_id") or ""
    state_a = "(columns:!(_source),%squery:(language:kuery,query:%s),sort:!(!('@timestamp',asc)))" % (
        "index:%s," % _rison_string(index) if index else "", _rison_string(query))
    safe = "()!:,'*@._-~"
    link["url"] = "%s/app/discover#/?_g=%s&_a=%s" % (base.rstrip("/"), quote(state_g, safe=safe), quote(state_a, safe=safe))
    return link


def _shell_quote(text):
    return "'%s'" % text.replace("'", "'\"'\"'")


def _iso(millis):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(millis / 1000.0)) + ".%03dZ" % (int(millis) % 1000)


# ----------------------------------------------------------------- outputs and routing
OUTPUT_FORMATS = ("json", "chatbot")
DEFAULT_OUTPUT = "default"


def resolve_outputs(topic_arn, outputs):
    """name -> {"topic_arn", "format"}. The topic of LOGVAULT_ALERTS_TOPIC_ARN is the output
    ``default`` unless the rules file names it (releases before named outputs had only it)."""
    resolved = {DEFAULT_OUTPUT: {"topic_arn": topic_arn, "format": "json"}}
    for name, spec in (outputs or {}).items():
        if not isinstance(spec, dict) or not spec.get("topic_arn"):
            raise ConfigError("output %r has no topic_arn" % name)
        fmt = spec.get("format") or "json"
        if fmt not in OUTPUT_FORMATS:
            raise ConfigError("output %r: format %r is not one of %s" % (name, fmt, ", ".join(OUTPUT_FORMATS)))
        resolved[str(name)] = {"topic_arn": str(spec["topic_arn"]), "format": fmt}
    return resolved


def route(rule, outputs, routes):
    """[(name, output)] of a rule: its own ``outputs``; else the route of its severity
    (``routes.severity``); else ``routes.default``; else the output ``default``."""
    names = rule.outputs or (routes.get("severity") or {}).get(rule.severity) or routes.get("default") or [DEFAULT_OUTPUT]
    targets = []
    for name in names:
        if name not in outputs:
            raise ConfigError("rule %r names the output %r, which is not defined (outputs: %s)"
                              % (rule.name, name, ", ".join(sorted(outputs))))
        if name not in [n for n, _o in targets]:
            targets.append((name, outputs[name]))
    return targets


def chatbot_message(body):
    """The alert as an AWS Chatbot (Amazon Q Developer in chat applications) custom notification
    (https://docs.aws.amazon.com/chatbot/latest/adminguide/custom-notifs.html): version 1.0,
    source custom, content.title/description in client markdown, metadata.additionalContext."""
    where = body.get("account") or "%d accounts" % body.get("accounts_total", 0)
    group = body.get("log_group") or "%d log groups" % body.get("log_groups_total", 0)
    lines = ["*%s* (%s) in account %s, region %s, log group `%s`: %d match(es) between %s and %s." % (
        body["rule"], body["severity"], where, body.get("region") or "?", group, body.get("count") or 0,
        body.get("first_event"), body.get("last_event"))]
    if body.get("description"):
        lines.append(_clip(body["description"], 1000))
    dashboards = (body.get("links") or {}).get("dashboards") or {}
    if dashboards.get("url"):
        lines.append("[Open in OpenSearch Dashboards](%s)" % dashboards["url"])
    message = {
        "version": "1.0",
        "source": "custom",
        "id": "%s:%s:%s" % (body["rule"], body.get("group") and _clip(body["group"], 200), body.get("first_event")),
        "content": {
            "textType": "client-markdown",
            "title": _clip("[%s] %s in %s" % (body["severity"].upper(), body["rule"], where), 250),
            "description": "\n".join(lines),
            "keywords": [body["severity"], body["rule"]],
        },
        "metadata": {
            "summary": _clip("%s in %s" % (body["rule"], where), 250),
            "eventType": "logvault.aws.stream_alerts",
            "additionalContext": {"account": str(body.get("account") or ""), "region": str(body.get("region") or ""),
                                  "log_group": str(body.get("log_group") or ""), "rule": body["rule"]},
        },
    }
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"))


# ----------------------------------------------------------------- the handler
class _Hit:
    """Matches of one rule for one group (and window) within a batch."""

    __slots__ = ("rule", "group", "window_start", "count", "samples", "first_ms", "last_ms", "accounts", "log_groups",
                 "lowest_index", "per_record", "max_samples")

    def __init__(self, rule, group, window_start, index, max_samples=MAX_SAMPLES):
        self.max_samples = max_samples
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
        self.per_record = {}  # record index -> matches in that record

    def add(self, index, account, log_group, log_stream, event, timestamp):
        self.count += 1
        self.per_record[index] = self.per_record.get(index, 0) + 1
        if self.first_ms is None or timestamp < self.first_ms:
            self.first_ms = timestamp
        if self.last_ms is None or timestamp > self.last_ms:
            self.last_ms = timestamp
        self.accounts.add(account)
        self.log_groups.add(log_group)
        if index < self.lowest_index:
            self.lowest_index = index
        if len(self.samples) < self.max_samples:
            message = event.get("message") or ""
            self.samples.append({
                "id": event.get("id"), "timestamp": _iso(timestamp), "account": account, "log_group": log_group,
                "log_stream": log_stream,
                "message": message if len(message) <= MAX_SAMPLE_CHARS else message[:MAX_SAMPLE_CHARS] + "...[truncated]",
            })


class Alerter:
    """Evaluates rules over subscription records; DynamoDB and SNS clients are injected."""

    def __init__(self, rules, table, topic_arn, dynamodb, sns, region="", clock=time.time, log=print, outputs=None, routes=None,
                 settings=None, firehose=None):
        self.rules = list(rules)
        self.table = table
        self.topic_arn = topic_arn
        self.dynamodb = dynamodb
        self.sns = sns
        self.region = region
        self.clock = clock
        self.log = log
        self._applicable = {}
        self.outputs = resolve_outputs(topic_arn, outputs)
        self.routes = routes or {}
        self.targets = {rule.name: route(rule, self.outputs, self.routes) for rule in self.rules}
        settings = settings or {}
        self.max_samples = int(settings.get("max_samples", MAX_SAMPLES))
        if not 0 <= self.max_samples <= MAX_SAMPLES_LIMIT:
            raise ConfigError("settings.max_samples must be between 0 and %d" % MAX_SAMPLES_LIMIT)
        self.dashboards = settings.get("dashboards") or {}
        search = settings.get("search") or {}
        self.search_stream = search.get("stream") or ""
        self.search_log_group = search.get("log_group") or ALERTS_LOG_GROUP
        self.firehose = firehose
        # The account of the alert topic: the account of an alert that spans several accounts.
        self.central_account = (topic_arn.split(":") + [""] * 6)[4]

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        for name in ("LOGVAULT_ALERTS_TABLE", "LOGVAULT_ALERTS_TOPIC_ARN"):
            if not environ.get(name):
                raise ConfigError("environment variable %s is required" % name)
        path = environ.get("LOGVAULT_ALERTS_RULES_FILE") or os.path.join(HERE, "rules.json")
        document = load_document(path)
        rules = load_rules(path, document)
        config = BotoConfig(retries={"mode": "standard", "max_attempts": 5}, connect_timeout=5, read_timeout=10)
        region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or ""
        settings = document.get("settings") or {}
        firehose = boto3.client("firehose", config=config) if (settings.get("search") or {}).get("stream") else None
        return cls(rules, environ["LOGVAULT_ALERTS_TABLE"], environ["LOGVAULT_ALERTS_TOPIC_ARN"],
                   boto3.client("dynamodb", config=config), boto3.client("sns", config=config), region=region,
                   outputs=document.get("outputs"), routes=document.get("routes"), settings=settings, firehose=firehose)

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
            except (KeyError, TypeError, ValueError, zlib.error, binascii.Error, RecursionError, MemoryError) as exc:
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
            arrival = record.get("kinesis", {}).get("approximateArrivalTimestamp")
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
                timestamp = _millis(event.get("timestamp"))
                if timestamp is None:
                    # Not an epoch-milliseconds number: the record's arrival time stands in.
                    stats["bad_timestamps"] += 1
                    timestamp = _millis(arrival, 1000) or int(self.clock() * 1000)
                for compiled in found:
                    rule = by_id[id(compiled)]
                    stats["matches"] += 1
                    if rule.threshold:
                        group = rule.group_of(account, log_group, message)
                        seconds = timestamp // 1000
                        window_start = seconds - seconds % rule.window
                    else:
                        group = "%s:%s" % (account, log_group)
                        window_start = None
                    key = (rule.name, group, window_start)
                    hit = hits.get(key)
                    if hit is None:
                        hit = hits[key] = _Hit(rule, group, window_start, index, self.max_samples)
                    hit.add(index, account, log_group, log_stream, event, timestamp)
        return hits

    # -------------------------------------------------------------- DynamoDB state
    @staticmethod
    def _group_key(group):
        """The group inside a DynamoDB key: a hash (keys are at most 2,048 bytes; a group
        value such as a userAgent can be longer). The readable value is an attribute."""
        return hashlib.sha256(group.encode("utf-8", "surrogatepass")).hexdigest()

    def _window_key(self, hit):
        return {"pk": {"S": "window#%s#%s#%d" % (hit.rule.name, self._group_key(hit.group), hit.window_start)}}

    def _contribute(self, hit, records, stats=None):
        """Add this batch's matches to the window item, once per record: per shard the item
        keeps the highest sequence number counted (``w#<shard>``); records at or below it
        were counted by an earlier attempt. Returns the window item after the update."""
        rule = hit.rule
        by_shard = {}
        for index, count in hit.per_record.items():
            shard, sequence = _position(records[index])
            by_shard.setdefault(shard, []).append((sequence, count))
        item = None
        added = 0
        for shard, counted in sorted(by_shard.items()):
            counted.sort()
            item, amount = self._add_after(hit, shard, counted, rule)
            added += amount
        if stats is not None:
            stats["already_counted"] += hit.count - added
        return item

    def _add_after(self, hit, shard, counted, rule):
        names = {"#c": "count", "#e": "expires_at", "#g": "group", "#w": "w#" + shard}
        last = counted[-1][0]
        watermark = None
        for _attempt in range(8):
            amount = sum(count for sequence, count in counted if watermark is None or sequence > watermark)
            values = {":n": {"N": str(amount)}, ":last": {"S": last},
                      ":e": {"N": str(hit.window_start + 2 * rule.window + 3600)},
                      ":g": {"S": _clip(hit.group, MAX_GROUP_CHARS)}}
            if watermark is None:
                condition = "attribute_not_exists(#w) OR #w < :first"
                values[":first"] = {"S": counted[0][0]}
            else:
                condition = "#w = :seen"
                values[":seen"] = {"S": watermark}
            if amount == 0:
                break
            try:
                answer = self.dynamodb.update_item(
                    TableName=self.table, Key=self._window_key(hit),
                    UpdateExpression="ADD #c :n SET #w = :last, #e = if_not_exists(#e, :e), #g = if_not_exists(#g, :g)",
                    ConditionExpression=condition, ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                    ReturnValues="ALL_NEW")
                return answer["Attributes"], amount
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") != "ConditionalCheckFailedException":
                    raise
            # Some of these records were counted before (a retry, a bisected batch): read how far.
            current = self.dynamodb.get_item(TableName=self.table, Key=self._window_key(hit), ConsistentRead=True).get("Item") or {}
            watermark = (current.get("w#" + shard) or {}).get("S")
            if watermark is None:
                continue
            if watermark >= last:
                return current, 0
        else:
            raise ClientError({"Error": {"Code": "ContributionConflict", "Message": "window item kept changing"}}, "UpdateItem")
        return self.dynamodb.get_item(TableName=self.table, Key=self._window_key(hit), ConsistentRead=True).get("Item") or {}, 0

    def _claim_window(self, hit, owner, now):
        """Set the window's alert flag (a lease until now + LEASE_SECONDS) if the count has
        reached N, no alert was sent for the window, and no other sender holds a live lease."""
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=self._window_key(hit),
                UpdateExpression="SET #l = :until, #o = :owner",
                ConditionExpression="#c >= :n AND attribute_not_exists(#s) AND "
                                    "(attribute_not_exists(#l) OR #l < :now OR #o = :owner)",
                ExpressionAttributeNames={"#c": "count", "#s": "alerted_at", "#l": "lease_until", "#o": "lease_owner"},
                ExpressionAttributeValues={":n": {"N": str(hit.rule.threshold)}, ":now": {"N": str(int(now))},
                                           ":until": {"N": str(int(now) + LEASE_SECONDS)}, ":owner": {"S": owner}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _window_sent(self, hit, owner, now):
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=self._window_key(hit), UpdateExpression="SET #s = :now REMOVE #l, #o",
                ConditionExpression="#o = :owner",
                ExpressionAttributeNames={"#s": "alerted_at", "#l": "lease_until", "#o": "lease_owner"},
                ExpressionAttributeValues={":now": {"N": str(int(now))}, ":owner": {"S": owner}})
        except (ClientError, BotoCoreError) as exc:
            # The alert went out; without the flag the lease expires and a later batch may send it again.
            self.log(json.dumps({"message": "alert sent but the window flag could not be set", "rule": hit.rule.name,
                                 "error": "%s: %s" % (type(exc).__name__, exc)}))

    def _release_window(self, hit, owner):
        """A publish failed: release the flag, leave the count alone. If this fails too, the lease expires."""
        try:
            self.dynamodb.update_item(
                TableName=self.table, Key=self._window_key(hit), UpdateExpression="REMOVE #l, #o",
                ConditionExpression="#o = :owner", ExpressionAttributeNames={"#l": "lease_until", "#o": "lease_owner"},
                ExpressionAttributeValues={":owner": {"S": owner}})
        except (ClientError, BotoCoreError) as exc:
            self.log(json.dumps({"message": "could not release the window flag; it expires with its lease",
                                 "rule": hit.rule.name, "error": "%s: %s" % (type(exc).__name__, exc)}))

    def _suppress_key(self, hit):
        return {"pk": {"S": "suppress#%s#%s" % (hit.rule.name, self._group_key(hit.group))}}

    def _claim(self, hit, now):
        """True if no notification of this rule and group was sent in the last suppress_for seconds."""
        rule = hit.rule
        try:
            self.dynamodb.put_item(
                TableName=self.table,
                Item=dict(self._suppress_key(hit), expires_at={"N": str(int(now) + rule.suppress_for)},
                          group={"S": _clip(hit.group, MAX_GROUP_CHARS)}),
                ConditionExpression="attribute_not_exists(pk) OR expires_at <= :now",
                ExpressionAttributeValues={":now": {"N": str(int(now))}})
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def _release(self, hit):
        try:
            self.dynamodb.delete_item(TableName=self.table, Key=self._suppress_key(hit))
        except (ClientError, BotoCoreError) as exc:
            self.log(json.dumps({"message": "could not release the suppression of a failed notification",
                                 "rule": hit.rule.name, "error": "%s: %s" % (type(exc).__name__, exc)}))

    # -------------------------------------------------------------- notifications
    def notification(self, hit, window_count=None, listed=MAX_LISTED):
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
            "accounts": accounts[:listed],
            "accounts_total": len(accounts),
            "region": self.region,
            "log_group": groups[0] if len(groups) == 1 else None,
            "log_groups": groups[:listed],
            "log_groups_total": len(groups),
            "filter_pattern": rule.pattern,
            "group_by": rule.group_by if rule.threshold else None,
            "group": _clip(hit.group, MAX_GROUP_CHARS),
            "count": hit.count,
            "window_count": window_count,
            "threshold": {"count": rule.threshold, "window_seconds": rule.window} if rule.threshold else None,
            "suppress_for": rule.suppress_for,
            "first_event": _iso(hit.first_ms),
            "last_event": _iso(hit.last_ms),
            "samples": list(hit.samples),
            # The documents in OpenSearch Dashboards (Discover), and the Logs Insights query of the
            # member account's log groups. StartQuery takes at most 50 log group names.
            "links": {"dashboards": dashboards_link(self.dashboards, rule, accounts[:listed], groups[:listed], start_ms, end_ms)},
            "insights": insights_query(rule, groups[:min(listed, 50)], start_ms, end_ms, self.region),
        }
        if len(accounts) > listed or len(groups) > listed:
            body["lists_truncated"] = True
        subject = "[%s] %s in %s" % (rule.severity.upper(), rule.name, body["account"] or "%d accounts" % len(accounts))
        subject = subject.encode("ascii", "replace").decode("ascii")[:MAX_SUBJECT]
        return subject, body

    def message(self, hit, window_count=None):
        """(subject, text): the JSON text is at most MAX_MESSAGE_BYTES, whatever the lists hold."""
        listed = MAX_LISTED
        while True:
            subject, body = self.notification(hit, window_count, listed)
            text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            while len(text.encode("utf-8", "surrogatepass")) > MAX_MESSAGE_BYTES and body["samples"]:
                body["samples"].pop()
                text = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            if len(text.encode("utf-8", "surrogatepass")) <= MAX_MESSAGE_BYTES:
                return subject, text
            if listed == 0:
                break
            listed //= 2
        # Only the rule's own texts are left (description, filter pattern): cut them.
        body["description"] = _clip(body["description"], 4096)
        body["filter_pattern"] = _clip(body["filter_pattern"], 4096)
        body["insights"] = {"query": None, "exact": False, "note": "omitted: the message would exceed the SNS limit"}
        body["links"] = {"dashboards": None, "note": "omitted: the message would exceed the SNS limit"}
        return subject, json.dumps(body, ensure_ascii=False, separators=(",", ":"))

    def _publish(self, hit, window_count):
        """Publish to every output of the rule. All are tried; if one fails, the first error is
        raised after the others were sent (the retried batch may send the others again)."""
        subject, text = self.message(hit, window_count)
        error = None
        chatbot = None
        for name, output in self.targets[hit.rule.name]:
            if output["format"] == "chatbot":
                if chatbot is None:
                    chatbot = chatbot_message(json.loads(text))
                message = chatbot
            else:
                message = text
            try:
                self.sns.publish(TopicArn=output["topic_arn"], Subject=subject, Message=message, MessageAttributes={
                    "rule": {"DataType": "String", "StringValue": hit.rule.name},
                    "severity": {"DataType": "String", "StringValue": hit.rule.severity},
                    "output": {"DataType": "String", "StringValue": name},
                })
            except (ClientError, BotoCoreError) as exc:
                self.log(json.dumps({"message": "publish to an output failed", "rule": hit.rule.name, "output": name,
                                     "error": "%s: %s" % (type(exc).__name__, exc)}))
                if error is None:
                    error = exc
        if error is not None:
            raise error

    def notify(self, hits, stats, records=(), published=None):
        """Apply thresholds and suppression, publish; returns the lowest record index that failed.
        Each alert that was published is appended to ``published`` as (hit, window_count)."""
        lowest_failed = None
        now = self.clock()
        for key in sorted(hits, key=lambda k: (k[0], k[1], k[2] or 0)):
            hit = hits[key]
            rule = hit.rule
            owner = None
            claimed = False
            window_count = None
            try:
                if rule.threshold:
                    item = self._contribute(hit, records, stats)
                    window_count = int(((item or {}).get("count") or {}).get("N") or 0)
                    if "alerted_at" in (item or {}):
                        stats["suppressed"] += 1
                        continue
                    if window_count < rule.threshold:
                        stats["below_threshold"] += 1
                        continue
                    shard, sequence = _position(records[hit.lowest_index])
                    owner = "%s:%s" % (shard, sequence)
                    if not self._claim_window(hit, owner, now):
                        stats["suppressed"] += 1  # sent already, or being sent by another batch
                        owner = None
                        continue
                if rule.suppress_for:
                    if not self._claim(hit, now):
                        stats["suppressed"] += 1
                        if owner is not None:
                            self._window_sent(hit, owner, now)  # suppressed counts as handled for the window
                        continue
                    claimed = True
                self._publish(hit, window_count)
                stats["notifications"] += 1
                if published is not None:
                    published.append((hit, window_count))
                if owner is not None:
                    self._window_sent(hit, owner, now)
            except (ClientError, BotoCoreError) as exc:
                stats["failures"] += 1
                self.log(json.dumps({"message": "notification failed", "rule": rule.name, "group": _clip(hit.group, 256),
                                     "error": "%s: %s" % (type(exc).__name__, exc)}))
                if owner is not None:
                    self._release_window(hit, owner)
                if claimed:
                    self._release(hit)
                if lowest_failed is None or hit.lowest_index < lowest_failed:
                    lowest_failed = hit.lowest_index
        return lowest_failed

    # -------------------------------------------------------------- searchable alerts
    def alert_document(self, hit, window_count=None):
        """One search document of an alert, in the shape of the transform Lambda's documents
        (``@timestamp``, ``event_id``, ``message``, ``account_id``, ``region``, ``log_group``,
        ``log_stream``, ``fields``). ``event_id`` is derived from the alert's identity, so the same
        alert sent again (a retried batch) overwrites its document (the indices' ingest pipeline
        sets ``_id`` from account, log group and event id)."""
        rule = hit.rule
        accounts = sorted(hit.accounts)
        groups = sorted(hit.log_groups)
        identity = json.dumps([rule.name, hit.group, hit.window_start, hit.first_ms, accounts[:MAX_LISTED], groups[:MAX_LISTED]],
                              separators=(",", ":"), default=str)
        subject = "[%s] %s in %s" % (rule.severity.upper(), rule.name, accounts[0] if len(accounts) == 1 else "%d accounts" % len(accounts))
        fields = {
            "rule": rule.name,
            "severity": rule.severity,
            "accounts": accounts[:MAX_LISTED],
            "log_groups": [_clip(g, MAX_GROUP_CHARS) for g in groups[:MAX_LISTED]],
            "count": hit.count,
            "window_count": window_count,
            "group": _clip(hit.group, MAX_GROUP_CHARS),
            "first_event": _iso(hit.first_ms),
            "last_event": _iso(hit.last_ms),
            "sample_ids": [sample["id"] for sample in hit.samples if sample.get("id")],
            "outputs": [name for name, _output in self.targets[rule.name]],
        }
        return {
            "@timestamp": _iso(int(self.clock() * 1000)),
            "event_id": hashlib.sha256(identity.encode("utf-8", "surrogatepass")).hexdigest()[:32],
            "message": subject,
            "account_id": accounts[0] if len(accounts) == 1 else self.central_account,
            "region": self.region,
            "log_group": self.search_log_group,
            "log_stream": rule.name,
            # flat_object in the index template: no null values (window_count only with a threshold).
            "fields": dict((key, value) for key, value in fields.items() if value is not None),
        }

    def index_alerts(self, published, stats):
        """Put the documents of the published alerts into the search stream: one PutRecordBatch
        per invocation (more only beyond 500 records or 4 MiB); records that fail are put once
        more. Never raises: the alerts are already on their topics."""
        entries = []
        for hit, window_count in published:
            data = (json.dumps(self.alert_document(hit, window_count), ensure_ascii=False, separators=(",", ":")) + "\n").encode(
                "utf-8", "surrogatepass")
            if len(data) > MAX_ALERT_DOCUMENT_BYTES:
                stats["alert_index_failures"] += 1
                self.log(json.dumps({"message": "alert document too large to index", "rule": hit.rule.name, "bytes": len(data)}))
                continue
            entries.append({"Data": data})
        batches, batch, size = [], [], 0
        for entry in entries:
            if batch and (len(batch) == FIREHOSE_BATCH_RECORDS or size + len(entry["Data"]) > FIREHOSE_BATCH_BYTES):
                batches.append(batch)
                batch, size = [], 0
            batch.append(entry)
            size += len(entry["Data"])
        if batch:
            batches.append(batch)
        for batch in batches:
            pending, error = batch, None
            for _attempt in range(2):
                try:
                    answer = self.firehose.put_record_batch(DeliveryStreamName=self.search_stream, Records=pending)
                except (ClientError, BotoCoreError) as exc:
                    error = "%s: %s" % (type(exc).__name__, exc)
                    continue
                results = answer.get("RequestResponses") or []
                if len(results) != len(pending):
                    error = "PutRecordBatch answered %d results for %d records" % (len(results), len(pending))
                    continue
                failed = [(entry, result) for entry, result in zip(pending, results) if result.get("ErrorCode")]
                stats["alerts_indexed"] += len(pending) - len(failed)
                pending = [entry for entry, _result in failed]
                if not pending:
                    break
                error = "%s: %s" % (failed[0][1].get("ErrorCode"), failed[0][1].get("ErrorMessage"))
            if pending:
                stats["alert_index_failures"] += len(pending)
                self.log(json.dumps({"message": "alerts could not be indexed in search", "stream": self.search_stream,
                                     "alerts": len(pending), "error": str(error)}))

    def handle(self, event, context=None):
        started = time.monotonic()
        records = (event or {}).get("Records") or []
        stats = dict.fromkeys((key for key, _name in METRICS), 0)
        hits = self.evaluate(records, stats)
        published = [] if self.search_stream and self.firehose is not None else None
        lowest_failed = self.notify(hits, stats, records, published)
        if published:
            self.index_alerts(published, stats)
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
    """The subscription payload of one record. Decompression is bounded (a gzip bomb
    raises ValueError) and nesting beyond the recursion limit raises RecursionError."""
    raw = base64.b64decode(data, validate=True)
    text = b""
    while raw:
        inflater = zlib.decompressobj(31)
        text += inflater.decompress(raw, MAX_PAYLOAD_BYTES + 1 - len(text))
        if len(text) > MAX_PAYLOAD_BYTES or inflater.unconsumed_tail:
            raise ValueError("the payload decompresses to more than %d bytes" % MAX_PAYLOAD_BYTES)
        if not inflater.eof:
            raise ValueError("truncated gzip stream")
        raw = inflater.unused_data  # concatenated gzip members
    payload = json.loads(text)
    if not isinstance(payload, dict):
        raise ValueError("the payload is not a JSON object")
    return payload


def _millis(value, scale=1):
    """``value`` (epoch milliseconds; seconds with ``scale`` 1000) as an int, or None when
    it is not a finite number in the range of dates."""
    if value.__class__ is int:
        millis = value * scale
    elif isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and abs(value) < 1e18:
        millis = int(value * scale)
    else:
        return None
    return millis if 0 <= millis < 253402300800000 else None


def _position(record):
    """(shard id, sequence number padded to 128 digits so that strings order like numbers)."""
    event_id = str(record.get("eventID") or "")
    shard = event_id.split(":", 1)[0] if ":" in event_id else "shard"
    sequence = str((record.get("kinesis") or {}).get("sequenceNumber") or "")
    return shard, sequence.zfill(128)


def _clip(text, limit):
    return text if len(text) <= limit else text[:limit] + "...[truncated]"


_ALERTER = None


def handler(event, context):
    """Lambda entry point (``logvault_alerts.handler``)."""
    global _ALERTER  # pylint: disable=global-statement
    if _ALERTER is None:
        _ALERTER = Alerter.from_environment()
    return _ALERTER.handle(event, context)
