# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: validate_alert_rules
short_description: Validate and normalise the alert rules of the stream_alerts role
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Checks a list of alert rules as the role R(logvault.aws.stream_alerts,ansible_collections.logvault.aws.stream_alerts_role)
    takes them and returns them normalised, with every optional key filled in, ready to be written to the
    C(rules.json) file of the alerts Lambda.
  - Every C(match.filter_pattern) is compiled with the collection's CloudWatch Logs filter-pattern engine
    (the same module the Lambda runs). An invalid pattern fails with the rule's name, its index in the list
    and the 0-based position of the error in the pattern, so a bad rule is rejected when the role runs,
    never at alert time.
  - Runs the rule's test events (C(tests.match), C(tests.no_match)) through the same engine, with the call the Lambda
    makes for every log event (C(match_many)). When an event of C(tests.match) does not fire its rule, or an event of
    C(tests.no_match) does, the filter fails with every failing event, each named by its rule, its index in the list of
    rules and its place in C(tests) (for example C(tests.no_match[1])), followed by the event. Nothing is returned,
    so the role stops in preflight, before any AWS call.
    C(tests) checks the filter pattern only; C(match.accounts) and C(match.log_groups) are not applied to test events.
  - Fails with a message that starts with C(validate_alert_rules -) and names the rule and the key at fault
    when a rule has an unknown key, a duplicate name, a severity that is not one of C(informational), C(low),
    C(medium), C(high), C(critical), an account id that is not 12 digits, an empty log group glob, a
    threshold whose C(count) is below 1 or whose C(window_seconds) is outside 60..86400, a C(group_by) that
    is neither C(account), C(log_group) nor a JSON field path such as C($.userIdentity.arn), or a
    C(suppress_for) outside 0..604800 seconds.
options:
  _input:
    description:
      - The rules. Each is a dict with C(name) (letters, digits, C(_), C(-), C(.); at most 64 characters),
        C(description), C(severity) (default C(medium)), C(match) (C(accounts), C(log_groups) globs,
        C(filter_pattern)), optional C(threshold) (C(count), C(window_seconds) default 300, C(group_by)
        default C(log_group)), optional C(suppress_for) (seconds, default 0), optional C(outputs) (names of the
        role's outputs the rule's alerts go to; without it, the route of its severity) and optional C(tests).
      - C(tests) is a dict with C(match) (events the rule must fire on) and C(no_match) (events it must not fire on),
        both lists. An event is a string (the log event message as it is) or a dict (a JSON event such as a CloudTrail
        record; it is written as one line of compact JSON, as CloudTrail delivers a record to CloudWatch Logs).
    type: list
    elements: dict
    required: true
  outputs:
    description:
      - The names of the outputs that exist (the role passes its own). When given, a rule whose C(outputs) names
        another fails, naming the rule and the output. When left out, output names are only checked for shape.
    type: list
    elements: str
"""

EXAMPLES = r"""
- name: Validate the rules before building the Lambda package
  ansible.builtin.set_fact:
    rules: >-
      {{ [{'name': 'root-login', 'severity': 'critical',
           'match': {'filter_pattern': '{ $.userIdentity.type = "Root" }'}}]
         | logvault.aws.validate_alert_rules }}
  # [{"name": "root-login", "description": "", "severity": "critical",
  #   "match": {"accounts": [], "log_groups": [], "filter_pattern": "{ $.userIdentity.type = \"Root\" }"},
  #   "threshold": null, "suppress_for": 0}]

- name: Rules can carry test events; this fails with "rule 'root-login' (rules[0]) tests.no_match[0] fires the rule but must not"
  ansible.builtin.set_fact:
    rules: >-
      {{ [{'name': 'root-login', 'severity': 'critical',
           'match': {'filter_pattern': '{ $.userIdentity.type = "Root" }'},
           'tests': {'match': [{'userIdentity': {'type': 'Root'}, 'eventName': 'ConsoleLogin'}],
                     'no_match': [{'userIdentity': {'type': 'Root'}, 'eventName': 'GetObject'}]}}]
         | logvault.aws.validate_alert_rules }}

- name: This fails with "validate_alert_rules - rule 'bad' (rules[0]) match.filter_pattern is not valid at position 23 ..."
  ansible.builtin.debug:
    msg: "{{ [{'name': 'bad', 'match': {'filter_pattern': '{ $.eventName = \"x\" && }'}}] | logvault.aws.validate_alert_rules }}"
"""

RETURN = r"""
_value:
  description:
    - The rules, in the same order, normalised. C(accounts) are strings; C(threshold) is null or has all of
      C(count), C(window_seconds) and C(group_by). C(tests) is left out (the Lambda does not need it).
      C(outputs) is there only when the rule names outputs (without duplicates).
  type: list
  elements: dict
"""

import json
import re

from ansible.errors import AnsibleFilterError
from ansible.module_utils.six import integer_types, string_types

from ansible_collections.logvault.aws.plugins.module_utils.cwl_filter_pattern import FilterPatternError, compile_pattern, match_many

SEVERITIES = ("informational", "low", "medium", "high", "critical")
RULE_KEYS = frozenset(("name", "description", "severity", "match", "threshold", "suppress_for", "tests", "outputs"))
MATCH_KEYS = frozenset(("accounts", "log_groups", "filter_pattern"))
THRESHOLD_KEYS = frozenset(("count", "window_seconds", "group_by"))
TESTS_KEYS = ("match", "no_match")
# How much of a failing test event the error message shows.
EVENT_EXCERPT = 600
NAME = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")
OUTPUT_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
ACCOUNT = re.compile(r"^[0-9]{12}$")
FIELD_PATH = re.compile(r"^(\$\.)?[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
WINDOW_RANGE = (60, 86400)
SUPPRESS_RANGE = (0, 604800)


def _fail(where, message):
    raise AnsibleFilterError("validate_alert_rules - %s %s" % (where, message))


def _int(where, key, value, low, high):
    if isinstance(value, bool) or not isinstance(value, integer_types + string_types):
        _fail(where, "%s must be an integer between %d and %d, got %r" % (key, low, high, value))
    try:
        number = int(value)
    except ValueError:
        _fail(where, "%s must be an integer between %d and %d, got %r" % (key, low, high, value))
    if not low <= number <= high:
        _fail(where, "%s must be between %d and %d, got %d" % (key, low, high, number))
    return number


def _list_of_strings(where, key, value):
    if value is None:
        return []
    if isinstance(value, string_types) or not isinstance(value, (list, tuple)):
        _fail(where, "%s must be a list, got %r" % (key, value))
    return list(value)


def _pattern(where, value):
    if value is None:
        value = ""
    if not isinstance(value, string_types):
        _fail(where, "match.filter_pattern must be a string, got %r" % (value,))
    try:
        compile_pattern(value)
    except FilterPatternError as exc:
        pointer = "%s\n%s^" % (value, " " * exc.position)
        _fail(where, "match.filter_pattern is not valid at position %d: %s\n%s" % (exc.position, exc.reason, pointer))
    return value


def _plain(value):
    """Plain dicts, lists and strings (what Ansible passes may be subclasses of them)."""
    if isinstance(value, dict):
        return dict((str(key), _plain(item)) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return [_plain(item) for item in value]
    if isinstance(value, string_types):
        return str(value)
    return value


def _message(event):
    """The log event message of a test event: a string as it is, a dict as one line of JSON
    (as CloudTrail writes each record to CloudWatch Logs)."""
    if isinstance(event, string_types):
        return str(event)
    return json.dumps(_plain(event), separators=(",", ":"), ensure_ascii=False, default=str)


def _tests(where, value):
    """The rule's test events, checked for shape: {'match': [event, ...], 'no_match': [event, ...]}."""
    if value is None:
        return {"match": [], "no_match": []}
    if not isinstance(value, dict):
        _fail(where, "tests must be a dict with match and no_match (lists of events), got %r" % (value,))
    unknown = sorted(set(value) - set(TESTS_KEYS))
    if unknown:
        _fail(where, "tests has unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(TESTS_KEYS)))
    out = {}
    for key in TESTS_KEYS:
        events = _list_of_strings(where, "tests." + key, value.get(key))
        for index, event in enumerate(events):
            if not isinstance(event, (dict,) + string_types):
                _fail(where, "tests.%s[%d] must be a log event message (a string) or a JSON event (a dict), got %r" % (key, index, event))
        out[key] = events
    return out


def _run_tests(where, pattern, tests):
    """The failures of the rule's test events, evaluated as the Lambda evaluates a log event."""
    compiled = compile_pattern(pattern)
    failures = []
    for key, wanted in (("match", True), ("no_match", False)):
        for index, event in enumerate(tests[key]):
            message = _message(event)
            fired = bool(match_many([compiled], message))
            if fired != wanted:
                excerpt = message if len(message) <= EVENT_EXCERPT else message[:EVENT_EXCERPT] + "..."
                failures.append("%s tests.%s[%d] %s: %s" % (
                    where, key, index, "does not fire the rule but must" if wanted else "fires the rule but must not", excerpt))
    return failures


def _match(where, value):
    if value is None:
        value = {}
    if not isinstance(value, dict):
        _fail(where, "match must be a dict with accounts, log_groups and filter_pattern, got %r" % (value,))
    unknown = sorted(set(value) - MATCH_KEYS)
    if unknown:
        _fail(where, "match has unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(sorted(MATCH_KEYS))))
    accounts = []
    for account in _list_of_strings(where, "match.accounts", value.get("accounts")):
        text = "%012d" % account if isinstance(account, integer_types) and not isinstance(account, bool) else account
        if not isinstance(text, string_types) or not ACCOUNT.match(text):
            _fail(where, "match.accounts must hold 12-digit account ids, got %r" % (account,))
        accounts.append(text)
    groups = []
    for glob in _list_of_strings(where, "match.log_groups", value.get("log_groups")):
        if not isinstance(glob, string_types) or not glob:
            _fail(where, "match.log_groups must hold non-empty log group names or globs, got %r" % (glob,))
        groups.append(glob)
    return {"accounts": sorted(set(accounts)), "log_groups": groups, "filter_pattern": _pattern(where, value.get("filter_pattern"))}


def _threshold(where, value):
    if value is None:
        return None
    if not isinstance(value, dict):
        _fail(where, "threshold must be a dict with count, window_seconds and group_by, got %r" % (value,))
    unknown = sorted(set(value) - THRESHOLD_KEYS)
    if unknown:
        _fail(where, "threshold has unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(sorted(THRESHOLD_KEYS))))
    if value.get("count") is None:
        _fail(where, "threshold.count is required")
    group_by = value.get("group_by", "log_group")
    if group_by is None:
        group_by = "log_group"
    if not isinstance(group_by, string_types) or (group_by not in ("account", "log_group") and not FIELD_PATH.match(group_by)):
        _fail(where, "threshold.group_by must be account, log_group or a JSON field path such as $.userIdentity.arn, got %r" % (group_by,))
    return {
        "count": _int(where, "threshold.count", value["count"], 1, 1000000),
        "window_seconds": _int(where, "threshold.window_seconds", value.get("window_seconds", 300), *WINDOW_RANGE),
        "group_by": group_by,
    }


def _outputs(where, value, known):
    names = _list_of_strings(where, "outputs", value)
    for name in names:
        if not isinstance(name, string_types) or not OUTPUT_NAME.match(name):
            _fail(where, "outputs must hold output names (1 to 64 letters, digits, '_' or '-'), got %r" % (name,))
        if known is not None and name not in known:
            _fail(where, "outputs names %r, which is not an output (the outputs are %s)" % (name, ", ".join(sorted(known))))
    return sorted(set(names), key=names.index)


def validate_alert_rules(rules, outputs=None):
    """Validate ``rules`` and return them normalised; see DOCUMENTATION."""
    if not isinstance(rules, (list, tuple)):
        raise AnsibleFilterError("validate_alert_rules - the input must be a list of rules, got %s" % type(rules).__name__)
    known = None if outputs is None else [str(name) for name in outputs]
    seen = {}
    out = []
    failures = []
    for index, rule in enumerate(rules):
        where = "rules[%d]" % index
        if not isinstance(rule, dict):
            _fail(where, "must be a dict, got %r" % (rule,))
        name = rule.get("name")
        if not isinstance(name, string_types) or not NAME.match(name):
            _fail(where, "name must be 1 to 64 letters, digits, '_', '-' or '.', got %r" % (name,))
        where = "rule %r (rules[%d])" % (name, index)
        if name in seen:
            _fail(where, "has the same name as rules[%d]; rule names must be unique" % seen[name])
        seen[name] = index
        unknown = sorted(set(rule) - RULE_KEYS)
        if unknown:
            _fail(where, "has unknown keys %s (allowed: %s)" % (", ".join(unknown), ", ".join(sorted(RULE_KEYS))))
        severity = rule.get("severity") or "medium"
        if severity not in SEVERITIES:
            _fail(where, "severity must be one of %s, got %r" % (", ".join(SEVERITIES), severity))
        description = rule.get("description") or ""
        if not isinstance(description, string_types):
            _fail(where, "description must be a string, got %r" % (description,))
        suppress = rule.get("suppress_for")
        match = _match(where, rule.get("match"))
        tests = _tests(where, rule.get("tests"))
        routed = _outputs(where, rule.get("outputs"), known)
        out.append({
            "name": name,
            "description": description,
            "severity": severity,
            "match": match,
            "threshold": _threshold(where, rule.get("threshold")),
            "suppress_for": 0 if suppress is None else _int(where, "suppress_for", suppress, *SUPPRESS_RANGE),
        })
        if routed:
            out[-1]["outputs"] = routed
        failures.extend(_run_tests(where, match["filter_pattern"], tests))
    if failures:
        raise AnsibleFilterError("validate_alert_rules - %d rule test event(s) failed; nothing was changed:\n%s" % (
            len(failures), "\n".join(failures)))
    return out


class FilterModule(object):
    """The validate_alert_rules filter."""

    def filters(self):
        return {"validate_alert_rules": validate_alert_rules}
