# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CloudWatch Logs filter-pattern engine (plugins/module_utils/cwl_filter_pattern.py).

The documented cases come from AWS's page "Filter pattern syntax for metric filters,
subscription filters, filter log events, and Live Tail" (FilterAndPatternSyntax) and its
sub-pages "Using filter patterns to match terms in unstructured / JSON / space-delimited
log events". Each case names the example it comes from; where the page gives a log event
and says a pattern matches it (or does not), that is the expected result here.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import json
import os
import pickle
import re
import string

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ansible_collections.logvault.aws.plugins.module_utils import cwl_filter_pattern as fp
from ansible_collections.logvault.aws.plugins.module_utils.cwl_filter_pattern import (
    NOT_JSON,
    CompiledPattern,
    FilterPatternError,
    compile_pattern,
    extract_fields,
    matches,
    parse_json_message,
    validate_pattern,
)

# --- AWS sample events ---------------------------------------------------------------

# "Using filter patterns to match terms in unstructured log events"
UNSTRUCTURED = [
    "[INFO 200] SUCCESSFUL REQUEST",
    "[ERROR 401] UNAUTHORIZED REQUEST",
    "[ERROR 400] BAD REQUEST",
    "[ERROR 419] MISSING ARGUMENTS",
    "[ERROR 420] INVALID ARGUMENTS",
    "[ERROR 500] INTERNAL SERVER ERROR",
    "[SUCCESS 200] AUTHORIZED REQUEST",
    "[INFO] REQUEST FAILED",
    "[WARN] UNAUTHORIZED REQUEST",
    "[WARNING 404] PAGE NOT FOUND",
    "[DEBUG 500] DEBUGGING INTERNAL INVALID",
    "[ERROR] 400 BAD REQUEST",
    "[INFO] INVALID ARGUMENTS PROVIDED",
]

# "JSON log event" of the JSON section (current page, with "cluster.name") plus the
# "ThisFlag" property of the earlier revision of the page ("{ $.ThisFlag IS TRUE }").
JSON_EVENT = {
    "eventType": "UpdateTrail",
    "sourceIPAddress": "111.111.111.111",
    "arrayKey": ["value", "another value"],
    "objectList": [{"name": "a", "id": 1}, {"name": "b", "id": 2}],
    "SomeObject": None,
    "cluster.name": "c",
    "ThisFlag": True,
}
JSON_LINE = json.dumps(JSON_EVENT)

# "JSON object" of the compound-expression examples.
COMPOUND_EVENT = {
    "user": {"id": 1, "email": "John.Stiles@example.com"},
    "users": [{"id": 2, "email": "John.Doe@example.com"}, {"id": 3, "email": "Jane.Doe@example.com"}],
    "actions": ["GET", "PUT", "DELETE"],
    "coordinates": [[0, 1, 2], [4, 5, 6], [7, 8, 9]],
}
COMPOUND_LINE = json.dumps(COMPOUND_EVENT, indent=4)  # multi-line on purpose: still one JSON object

# "Example: Space-delimited log event"
APACHE = '127.0.0.1 Prod frank [10/Oct/2000:13:25:15 -0700] "GET /index.html HTTP/1.0" 404 1534'

# "Space-delimited log event" of the "match terms in order" examples.
SERVICE = [
    "INFO 09/25/2014 12:00:00 GET /service/resource/67 1200",
    "INFO 09/25/2014 12:00:01 POST /service/resource/67/part/111 1310",
    "WARNING 09/25/2014 12:00:02 Invalid user request",
    "ERROR 09/25/2014 12:00:02 Failed to process request",
]


def _expect(pattern, events, matching):
    """Cases for ``pattern``: every event in ``matching`` matches, every other one does not."""
    return [(pattern, event, event in matching) for event in events]


# --- documented cases: unstructured ------------------------------------------------

TERM_CASES = (
    # "Example: Match a single term"
    _expect("ERROR", UNSTRUCTURED, {
        "[ERROR 401] UNAUTHORIZED REQUEST", "[ERROR 400] BAD REQUEST", "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS", "[ERROR 500] INTERNAL SERVER ERROR", "[ERROR] 400 BAD REQUEST",
    })
    # "Example: Match multiple terms"
    + _expect("ERROR ARGUMENTS", UNSTRUCTURED, {"[ERROR 419] MISSING ARGUMENTS", "[ERROR 420] INVALID ARGUMENTS"})
    # "Example: Match optional terms"
    + _expect("?ERROR ?ARGUMENTS", UNSTRUCTURED, {
        "[ERROR 401] UNAUTHORIZED REQUEST", "[ERROR 400] BAD REQUEST", "[ERROR 419] MISSING ARGUMENTS",
        "[ERROR 420] INVALID ARGUMENTS", "[ERROR 500] INTERNAL SERVER ERROR", "[ERROR] 400 BAD REQUEST",
        "[INFO] INVALID ARGUMENTS PROVIDED",
    })
    # Note: "?" combined with other terms is ignored: "?ERROR ?ARGUMENTS REQUEST" matches REQUEST.
    + _expect("?ERROR ?ARGUMENTS REQUEST", UNSTRUCTURED, {
        "[INFO 200] SUCCESSFUL REQUEST", "[ERROR 401] UNAUTHORIZED REQUEST", "[ERROR 400] BAD REQUEST",
        "[SUCCESS 200] AUTHORIZED REQUEST", "[INFO] REQUEST FAILED", "[WARN] UNAUTHORIZED REQUEST",
        "[ERROR] 400 BAD REQUEST",
    })
    # "Example: Match exact phrases"
    + _expect('"INTERNAL SERVER ERROR"', UNSTRUCTURED, {"[ERROR 500] INTERNAL SERVER ERROR"})
    # "Example: Include and exclude terms"
    + _expect("ERROR -ARGUMENTS", UNSTRUCTURED, {
        "[ERROR 401] UNAUTHORIZED REQUEST", "[ERROR 400] BAD REQUEST", "[ERROR 500] INTERNAL SERVER ERROR",
        "[ERROR] 400 BAD REQUEST",
    })
    # "Example: Match everything"
    + _expect('" "', UNSTRUCTURED + ["", "x"], set(UNSTRUCTURED + ["", "x"]))
    # "Using filter patterns to match terms with a regular expression (regex)"
    + _expect("%AUTHORIZED%", UNSTRUCTURED, {
        "[ERROR 401] UNAUTHORIZED REQUEST", "[SUCCESS 200] AUTHORIZED REQUEST", "[WARN] UNAUTHORIZED REQUEST",
    })
    + [
        # Earlier revision of the page: '"ERROR" matches ... "Exiting with ERRORCODE: -1"' (substring match),
        # and '"ERROR" - "Exiting"' excludes that event.
        ('"ERROR"', "[ERROR] A fatal exception has occurred", True),
        ('"ERROR"', "Exiting with ERRORCODE: -1", True),
        ('"ERROR" - "Exiting"', "Exiting with ERRORCODE: -1", False),
        ('"ERROR" - "Exiting"', "[ERROR] A fatal exception has occurred", True),
        ('"ERROR Exception"', "[ERROR] Unhandled Exception", False),
        ("ERROR Exception", "[ERROR] Caught IllegalArgumentException", True),
        ("ERROR Exception", "[ERROR] Unhandled Exception", True),
        ("Failed to process the request", "[WARN] Failed to process the request", True),
        ("Failed to process the request", "[ERROR] Unable to continue: Failed to process the request", True),
        ("?ERROR ?WARN", "ERROR WARN message", True),
        ("?ERROR ?WARN", "ERROR message", True),
        ("?ERROR ?WARN", "WARN message", True),
        ("?ERROR ?WARN", "INFO message", False),
        ("ERROR WARN", "ERROR WARN message", True),
        ("ERROR WARN", "ERROR message", False),
        ("ERROR WARN", "WARN message", False),
        ("ERROR -WARN", "ERROR WARN message", False),
        ("ERROR -WARN", "ERROR message", True),
        ("ERROR -WARN", "WARN message", False),
        # "Filter patterns are case sensitive."
        ("ERROR", "error: lower case", False),
        ("ERROR", "Error: mixed case", False),
        ('""', "anything at all", True),
        ("", "anything at all", True),
        ("   ", "", True),
    ]
)


@pytest.mark.parametrize("pattern, message, expected", TERM_CASES)
def test_documented_unstructured_examples(pattern, message, expected):
    assert compile_pattern(pattern).matches(message) is expected


# --- documented cases: regular expressions -------------------------------------------

REGEX_CASES = [
    # "Usage of supported operators"
    ("%^[hc]at%", "hat trick", True),
    ("%^[hc]at%", "cat", True),
    ("%^[hc]at%", "that", False),
    ("%[hc]at$%", "a black cat", True),
    ("%[hc]at$%", "cats", False),
    ("%colou?r%", "color", True),
    ("%colou?r%", "colour", True),
    ("%colou?r%", "colr", False),
    ("%[abc]%", "xxbxx", True),
    ("%[abc]%", "xyz", False),
    ("%[a-z]%", "123q", True),
    ("%[a-z]%", "123Q", False),
    ("%[abcx-z]%", "Y y", True),
    ("%[abcx-z]%", "DEF", False),
    ("%a{3,5}%", "aaa", True),
    ("%a{3,5}%", "aa", False),
    ("%a{3,}%", "aaaaaaa", True),
    ("%a{,2}b%", "b", True),
    ("%gra|ey%", "gray", True),
    ("%gra|ey%", "grey", True),
    ("%gra|ey%", "gruy", False),
    ("%^starting|^initializing|^shutting down%", "starting the service", True),
    ("%^starting|^initializing|^shutting down%", "initializing the service", True),
    ("%^starting|^initializing|^shutting down%", "shutting down", True),
    ("%^starting|^initializing|^shutting down%", "skipping initializing the service", False),
    ("%abcc|ab[^c]$%", "abcc and more", True),
    ("%abcc|ab[^c]$%", "aba", True),
    ("%abcc|ab[^c]$%", "aac and more", False),
    ("%\\[.\\]%", "[a]", True),
    ("%\\[.\\]%", "[7]", True),
    ("%\\[.\\]%", "[ ]", True),
    ("%\\[.\\]%", "[ab]", False),
    ("%10\\.10\\.0\\.1%", "from 10.10.0.1", True),
    ("%10\\.10\\.0\\.1%", "10010,051", False),
    ("%10.10.0.1%", "10010,051", True),  # the note: an unescaped '.' matches any character
    ("%ab*c%", "ac", True),
    ("%ab*c%", "abbbc", True),
    ("%ab[0-9]*%", "ab129", True),
    ("%ab+c%", "abbc", True),
    ("%ab+c%", "ac", False),
    ("%.at%", "hat", True),
    ("%.at%", " at", True),
    ("%.at%", "at", False),
    ("%\\d%", "x1", True),
    ("%\\d%", "xy", False),
    ("%\\D%", "12a", True),
    ("%\\D%", "123", False),
    ("%\\s%", "a\tb", True),
    ("%\\s%", "ab", False),
    ("%\\S%", "   x ", True),
    ("%\\w%", "_", True),
    ("%\\w%", "\u00e9\u00e8", False),  # "\w is equivalent to [a-zA-Z_0-9]"
    ("%\\d%", "\u0663", False),  # "\d is equivalent to [0-9]" (not other scripts' digits)
    ("%\\W%", "\u00e9", True),
    ("%\\W%", "abc_123", False),
    ("%\\x3A%", "key: value", True),
    ("%\\x28%", "f(x)", True),
    ("%\\x28%", "fx", False),
]


@pytest.mark.parametrize("pattern, message, expected", REGEX_CASES)
def test_documented_regex_operators(pattern, message, expected):
    compiled = compile_pattern(pattern)
    assert compiled.kind == "terms"
    assert compiled.matches(message) is expected


# --- documented cases: JSON ------------------------------------------------------------

JSON_CASES = [
    # "Example: Filter pattern that matches string values" and the rest of that list.
    ('{ $.eventType = "UpdateTrail" }', JSON_LINE, True),
    ("{ $.sourceIPAddress != 123.123.* }", JSON_LINE, True),
    ('{ $.arrayKey[0] = "value" }', JSON_LINE, True),
    ("{ $.eventType = %Trail% }", JSON_LINE, True),
    ("{ $.arrayKey[*] = %val.{2}% }", JSON_LINE, True),
    ("{ $.* = %111\\.111\\.111\\.1[0-9]{1,2}% }", JSON_LINE, True),
    ("{ $.objectList[1].id = 2 }", JSON_LINE, True),
    ("{ $.['cluster.name'] = \"c\" }", JSON_LINE, True),
    ("{ $.SomeObject IS NULL }", JSON_LINE, True),
    ("{ $.SomeOtherObject NOT EXISTS }", JSON_LINE, True),
    ("{ $.ThisFlag IS TRUE }", JSON_LINE, True),
    # "Publishing dimensions ...": { $.eventType = "*" && $.sourceIPAddress != 123.123.* }
    ('{ $.eventType = "*" && $.sourceIPAddress != 123.123.* }', JSON_LINE, True),
    # "If arrayKey is not an array this will be false" / "If the items in objectList ... do not have an id property, this will be false"
    ('{ $.eventType[0] = "value" }', JSON_LINE, False),
    ("{ $.objectList[1].number = 2 }", JSON_LINE, False),
    ("{ $.objectList[5].id = 2 }", JSON_LINE, False),
    # "This will only be true if the specified object is set to null"
    ("{ $.eventType IS NULL }", JSON_LINE, False),
    ("{ $.SomeOtherObject IS NULL }", JSON_LINE, False),
    ("{ $.eventType NOT EXISTS }", JSON_LINE, False),
    ("{ $.ThisFlag IS FALSE }", JSON_LINE, False),
    ("{ $.SomeObject IS TRUE }", JSON_LINE, False),
    # Negative versions of the matching examples.
    ('{ $.eventType = "CreateTrail" }', JSON_LINE, False),
    ("{ $.sourceIPAddress != 111.111.* }", JSON_LINE, False),
    ('{ $.arrayKey[1] = "value" }', JSON_LINE, False),
    ("{ $.eventType = %^Trail% }", JSON_LINE, False),
    ("{ $.arrayKey[*] = %^x% }", JSON_LINE, False),
    ("{ $.* = %^222% }", JSON_LINE, False),
    ("{ $.objectList[0].id = 2 }", JSON_LINE, False),
    ("{ $.['cluster.name'] = \"d\" }", JSON_LINE, False),
    # "The JSON object" of "Using compound expressions" and its four documented results.
    ('{ ($.user.id = 1) && ($.users[0].email = "John.Doe@example.com") }', COMPOUND_LINE, True),
    ('{ $.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch" && $.actions[2] = "nonmatch" }', COMPOUND_LINE, True),
    ('{ ($.user.email = "John.Stiles@example.com" || $.coordinates[0][1] = "nonmatch") && $.actions[2] = "nonmatch" }', COMPOUND_LINE, False),
    ('{ ($.user.id = 2 && $.users[0].email = "nonmatch") || $.actions[2] = "GET" }', COMPOUND_LINE, False),
    # The earlier revision's unquoted variants of the same examples.
    ("{ $.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch && $.actions[2] = nomatch }", COMPOUND_LINE, True),
    ("{ ($.user.email = \"John.Stiles@example.com\" || $.coordinates[0][1] = nonmatch) && $.actions[2] = nomatch }", COMPOUND_LINE, False),
    ('{ $.coordinates[1][2] = 6 && $.actions[2] = "DELETE" }', COMPOUND_LINE, True),
    # "OR pattern matching": {$.foo = bar} / {$.foo = baz } / {$.foo = bar || $.foo = baz }
    ("{$.foo = bar}", '{"foo": "bar"}', True),
    ("{$.foo = bar}", '{"foo": "baz"}', False),
    ("{$.foo = baz }", '{"foo": "bar"}', False),
    ("{$.foo = baz }", '{"foo": "baz"}', True),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "bar"}', True),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "baz"}', True),
    ("{$.foo = bar || $.foo = baz }", '{"foo": "qux"}', False),
    # "JSON Special Considerations": both {$.users = 1} and {$.users != 1} fail when users is an array.
    ("{$.users = 1}", '{"users": [1, 2, 3]}', False),
    ("{$.users != 1}", '{"users": [1, 2, 3]}', False),
    ("{$.user != 1}", '{"user": {"id": 1}}', False),
    # Wildcards: "*Event" matches PutEvent and GetEvent, "Event*" EventId and EventName, "Ev*ent" only "Ev*ent".
    ("{ $.name = *Event }", '{"name": "PutEvent"}', True),
    ("{ $.name = *Event }", '{"name": "GetEvent"}', True),
    ("{ $.name = *Event }", '{"name": "EventId"}', False),
    ("{ $.name = Event* }", '{"name": "EventId"}', True),
    ("{ $.name = Event* }", '{"name": "EventName"}', True),
    ("{ $.name = Event* }", '{"name": "PutEvent"}', False),
    ("{ $.name = Ev*ent }", '{"name": "Event"}', False),
    ("{ $.name = Ev*ent }", '{"name": "Ev*ent"}', True),
    ('{ $.name = "*vent*" }', '{"name": "PutEvents"}', True),
    # "{ $.latency = * }" publishes the latency of {"latency": 50, "requestType": "GET"}.
    ("{ $.latency = * }", '{"latency": 50, "requestType": "GET"}', True),
    ("{ $.latency = * }", '{"requestType": "GET"}', False),
]

# "Writing filter patterns that match numeric values": each documented pattern with a
# value that satisfies it and one that does not.
NUMERIC_CASES = [
    ("{ $.bandwidth > 75 }", {"bandwidth": 76}, True),
    ("{ $.bandwidth > 75 }", {"bandwidth": 75}, False),
    ("{ $.latency < 50 }", {"latency": 49.9}, True),
    ("{ $.latency < 50 }", {"latency": 50}, False),
    ("{ $.refreshRate >= 60 }", {"refreshRate": 60}, True),
    ("{ $.refreshRate >= 60 }", {"refreshRate": 59}, False),
    ("{ $.responseTime <= 5 }", {"responseTime": 5}, True),
    ("{ $.responseTime <= 5 }", {"responseTime": 6}, False),
    ("{ $.errorCode = 400}", {"errorCode": 400}, True),
    ("{ $.errorCode = 400}", {"errorCode": 401}, False),
    ("{ $.errorCode != 500 }", {"errorCode": 400}, True),
    ("{ $.errorCode != 500 }", {"errorCode": 500}, False),
    ("{ $.number[0] = 1e+3 }", {"number": [1000]}, True),
    ("{ $.number[0] = 1e+3 }", {"number": [100]}, False),
    ("{ $.number[0] != 1e-3 }", {"number": [0.002]}, True),
    ("{ $.number[0] != 1e-3 }", {"number": [0.001]}, False),
    ("{ $.number[0] = 1e-3 }", {"number": [0.001]}, True),
    ("{ $.number[0] != 1e+3 }", {"number": [1000]}, False),
    ("{ $.numbers[0] < 10e3 }", {"numbers": [9999]}, True),
    ("{ $.numbers[0] < 10e-3 }", {"numbers": [0.01]}, False),
    ("{ $.processes[4].averageRuntime <= 55.5 }", {"processes": [{}, {}, {}, {}, {"averageRuntime": 55.5}]}, True),
    ("{ $.processes[4].averageRuntime <= 55.5 }", {"processes": [{"averageRuntime": 1}]}, False),
    ("{ $.latency > +1000 }", {"latency": 1001}, True),
    ("{ $.latency > +1000 }", {"latency": -1001}, False),
    ("{ $.latency >= 500 }", {"latency": "500"}, True),  # numeric strings compare as numbers
    ("{ $.latency >= 500 }", {"latency": "slow"}, False),
    ("{ $.latency >= 500 }", {"latency": True}, False),  # a boolean is not a number
    ("{ $.errorCode = 400 }", {"errorCode": "400"}, True),
]


@pytest.mark.parametrize("pattern, message, expected", JSON_CASES)
def test_documented_json_examples(pattern, message, expected):
    compiled = compile_pattern(pattern)
    assert compiled.kind == "json"
    assert compiled.matches(message) is expected
    # The same answer when the caller passes the already-parsed object.
    assert compiled.matches(message, parsed=json.loads(message)) is expected


@pytest.mark.parametrize("pattern, event, expected", NUMERIC_CASES)
def test_documented_json_numeric_examples(pattern, event, expected):
    assert compile_pattern(pattern).matches(json.dumps(event)) is expected


@pytest.mark.parametrize("pattern", [
    '{ $.eventType = "UpdateTrail" }',
    "{ $.SomeOtherObject NOT EXISTS }",
    "{ $.* = * }",
])
@pytest.mark.parametrize("message", [
    "UpdateTrail",
    "[ERROR 400] BAD REQUEST",
    '["eventType", "UpdateTrail"]',
    '"UpdateTrail"',
    "42",
    "null",
    '{"eventType": "UpdateTrail"',  # truncated JSON
    "",
])
def test_non_json_messages_never_match_json_patterns(pattern, message):
    assert compile_pattern(pattern).matches(message) is False


def test_json_message_may_have_surrounding_whitespace():
    assert matches('{ $.a = 1 }', '  \n{"a": 1}\n ') is True


# --- documented cases: space-delimited ---------------------------------------------------

DELIMITED_CASES = [
    # "Writing filter patterns that match terms in a space-delimited log event"
    ("[ip=%127\\.0\\.0\\.[1-9]%, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]", APACHE, True),
    ("[..., request =*.html*, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request =*.html*, status_code = 404 || status_code = 410, bytes]", APACHE, True),
    ("[ip, server, username, timestamp, request, status_code, bytes > 1000]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code, bytes]", APACHE, True),
    ("[..., status_code, bytes]", APACHE, True),
    ("[ip, user, ..., status_code, bytes]", APACHE, True),
    ("[ip, user, ...]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code = 200, bytes]", APACHE, False),
    ("[ip, user, username, timestamp, request, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request = *html*, status_code = 4*, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 403, bytes]", APACHE, True),
    ("[ip, user, username, timestamp, request, status_code = 4* && status_code != 404, bytes]", APACHE, False),
    ("[ip=%127\\.0\\.0\\.[2-9]%, user, username, timestamp, request, status_code, bytes]", APACHE, False),
    ("[ip, user, username, timestamp, request =*.gif*, status_code, bytes]", APACHE, False),
    ("[ip, user, username, timestamp, request, status_code = 410 || status_code = 500, bytes]", APACHE, False),
    ("[ip, server, username, timestamp, request, status_code, bytes > 2000]", APACHE, False),
    # Earlier revision: ellipsis plus trailing comma.
    ("[..., request=*.html*, status_code=4*,]", APACHE, True),
    # "Counting HTTP 404 error codes"
    ("[IP, UserInfo, User, Timestamp, RequestInfo, StatusCode=404, Bytes]",
     '127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif HTTP/1.0" 404 2326', True),
    ("[IP, UserInfo, User, Timestamp, RequestInfo, StatusCode=404, Bytes]",
     '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 200 1534', False),
    ("[ip, user, username, timestamp, request, status_code, bytes > 1000]",
     '127.0.0.1 - frank [10/Oct/2000:13:25:15 -0700] "GET /apache_pb.gif HTTP/1.0" 500 5324', True),
] + (
    # "Example: Match terms in order" and the following examples, on the four "Space-delimited log event" lines.
    _expect("[w1=ERROR, w2]", SERVICE, {SERVICE[3]})
    + _expect("[w1=ERROR || w1=WARNING, w2]", SERVICE, {SERVICE[2], SERVICE[3]})
    + _expect("[w1=ERROR || W1=WARNING, w2]", SERVICE, {SERVICE[2], SERVICE[3]})  # the earlier revision's spelling
    + _expect("[w1!=ERROR && w1!=WARNING, w2]", SERVICE, {SERVICE[0], SERVICE[1]})
    + _expect("[logLevel, date, time, method, url=%/service/resource/[0-9]+$%, response_time]", SERVICE, {SERVICE[0]})
    + _expect("[logLevel, date, time, method, url=%/service/resource/[0-9]+/part/[0-9]+$%, response_time]", SERVICE, {SERVICE[1]})
    + _expect("[w1=ERROR]", SERVICE, set())  # the note: without the blank w2 the single field takes the whole line
)


@pytest.mark.parametrize("pattern, message, expected", DELIMITED_CASES)
def test_documented_space_delimited_examples(pattern, message, expected):
    compiled = compile_pattern(pattern)
    assert compiled.kind == "space_delimited"
    assert compiled.matches(message) is expected


def test_documented_extracted_fields():
    # "Example: Extracted fields and values"
    compiled = compile_pattern("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]")
    assert extract_fields(compiled, APACHE) == {
        "$bytes": "1534",
        "$status_code": "404",
        "$request": "GET /index.html HTTP/1.0",
        "$timestamp": "10/Oct/2000:13:25:15 -0700",
        "$username": "frank",
        "$user": "Prod",
        "$ip": "127.0.0.1",
    }
    # Earlier revision: ellipsis-covered and unnamed fields are extracted as $<position>.
    extracted = extract_fields("[..., request=*.html*, status_code=4*,]", APACHE)
    assert extracted == {
        "$1": "127.0.0.1", "$2": "Prod", "$3": "frank", "$4": "10/Oct/2000:13:25:15 -0700",
        "$request": "GET /index.html HTTP/1.0", "$status_code": "404", "$7": "1534",
    }


def test_last_field_takes_the_rest_of_the_line():
    assert extract_fields("[w1=ERROR, w2]", SERVICE[3]) == {"$w1": "ERROR", "$w2": "09/25/2014 12:00:02 Failed to process request"}
    assert extract_fields("[a, b]", 'x [y z]  "w v"  ') == {"$a": "x", "$b": '[y z]  "w v"'}
    assert extract_fields("[a, b]", "x") is None
    assert extract_fields("[a, b=ERROR]", "x ERROR y") is None


def test_extract_fields_of_other_kinds():
    assert extract_fields('{ $.a = 1 }', '{"a": 1}') == {}
    assert extract_fields('{ $.a = 1 }', '{"a": 2}') is None
    assert extract_fields("ERROR", "ERROR x") == {}
    assert extract_fields("ERROR", "x") is None
    assert extract_fields("", "x") == {}


DELIMITED_TOKENS = [
    ("a b  c", ["a", "b", "c"]),
    ('a "b c" [d e] f', ["a", "b c", "d e", "f"]),
    ('[unclosed bracket', ["unclosed bracket"]),
    ('"unclosed quote', ["unclosed quote"]),
    ('x[y z]', ["x[y", "z]"]),  # a group starts only where a field starts
    ("\ta\tb\n", ["a", "b"]),
    ("", []),
]


@pytest.mark.parametrize("message, expected", DELIMITED_TOKENS)
def test_space_delimited_fields(message, expected):
    assert fp._tokenize_delimited(message) == expected  # pylint: disable=protected-access


def test_multiple_ellipses_backtrack():
    pattern = compile_pattern("[first, ..., mid = X, ..., last]")
    assert pattern.matches("a b X c d") is True
    assert pattern.matches("a X d") is True
    assert pattern.matches("a b c d") is False
    assert pattern.extract_fields("a b X c d") == {"$first": "a", "$2": "b", "$mid": "X", "$4": "c", "$last": "d"}


def test_space_delimited_numeric_and_string_conditions():
    assert matches("[a, b > 10]", "x 11") is True
    assert matches("[a, b > 10]", "x 10") is False
    assert matches("[a, b > 10]", "x ten") is False
    assert matches("[a, b = 10]", "x 10.0") is True
    assert matches("[a, b = 10]", "x ten") is False
    assert matches("[a, b != 10]", "x ten") is True
    assert matches('[a, b = "GET /x"]', 'x "GET /x"') is True
    assert matches("[a, (b = 1 || b = 2) && b != 2]", "x 1") is True
    assert matches("[a, (b = 1 || b = 2) && b != 2]", "x 2") is False
    assert matches("[a, b = *]", "x y") is True


# --- documented and derived error cases ------------------------------------------------

ERROR_CASES = [
    # (pattern, position, part of the reason)
    # "IS NOT and EXISTS currently aren't supported."
    ("{ $.SomeObject IS NOT NULL }", 18, "'IS NOT' is not supported"),
    ("{ $.SomeObject EXISTS }", 15, "'EXISTS' is not supported"),
    # "%something!% would be rejected since '!' is not supported."
    ("%something!%", 10, "character '!' is not supported in regular expressions"),
    # "The ( and ) operators are not supported."
    ("%(ab)+%", 1, "'(' and ')' are not supported"),
    ("{ $.a = %x(y)% }", 10, "'(' and ')' are not supported"),
    # "Multi-byte characters are not supported."
    ("%caf\u00e9%", 4, "multi-byte characters are not supported"),
    # "There is a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern"
    ("{ $.a = %a% && $.b = %b% && $.c = %c% }", 34, "at most 2 regular expressions"),
    ("[a = %a%, b = %b%, c = %c%]", 23, "at most 2 regular expressions"),
    # "You can only use up to one wildcard selector in a property selector"
    ("{ $.*.b[*] = 1 }", 8, "at most 1 wildcard"),
    # "... and up to three wildcard selectors in a filter pattern with compound expressions."
    ("{ $.* = 1 || $.a[*] = 2 || $.b.* = 3 || $.*.c = 4 }", 42, "at most 3 wildcard selectors"),
    # "Enclose exact phrases and terms that include non-alphanumeric characters in double quotation marks"
    ("ERROR!", 5, "character '!' must be inside double quotes"),
    ("status:500", 6, "character ':' must be inside double quotes"),
    ("foo-bar", 3, "character '-' must be inside double quotes"),
    # Strings with '@', '$', '\' ... must be enclosed in double quotes to be valid.
    ("{ $.email = john@example.com }", 16, "character '@' must be inside double quotes"),
    ("{ $.a = x$y }", 9, "character '$' must be inside double quotes"),
    # Property selectors always start with "$."
    ("{ eventType = 1 }", 2, "expected a selector starting with '$.'"),
    ("{ $eventType = 1 }", 3, "expected '.' after '$'"),
    ("{ $. = 1 }", 4, "expected a property name after '.'"),
    ("{ $.a[x] = 1 }", 6, "expected an array index"),
    ("{ $.a[1 = 1 }", 7, "expected ']'"),
    ("{ $.['a.b = 1 }", 5, "unterminated quoted property name"),
    # Structure
    ("{ $.a = }", 8, "expected a value after '='"),
    ("{ $.a = 1", 9, "missing '}'"),
    ("{ $.a }", 6, "expected an operator"),
    ("{ $.a == 1 }", 7, "'==' is not an operator"),
    ("{ $.a = 1 } trailing", 12, "unexpected text after the closing '}'"),
    ("{ }", 2, "empty JSON pattern"),
    ("{ ($.a = 1 }", 11, "missing ')'"),
    ("{ $.a = 1) }", 9, "unbalanced ')'"),
    ("{ $.a = 1 & $.b = 2 }", 10, "expected '&&'"),
    ("{ $.a = 1 | $.b = 2 }", 10, "expected '||'"),
    ("{ $.a = 1 && }", 13, "expected a condition"),
    ("{ $.a = 1 $.b = 2 }", 10, "expected '&&', '||' or '}'"),
    ("{ $.a > abc }", 8, "expected a number after '>'"),
    ("{ $.a <= %x% }", 9, "expected a number after '<='"),
    ('{ $.a = "unterminated }', 8, "unterminated double-quoted string"),
    ("{ $.a IS MAYBE }", 9, "expected NULL, TRUE or FALSE"),
    ("{ $.a NOT THERE }", 10, "expected EXISTS after 'NOT'"),
    ("%unterminated", 0, "unterminated regular expression"),
    ("%%", 0, "empty regular expression"),
    ("%a{2,1}%", 3, "invalid regular expression"),
    ('"unterminated phrase', 0, "unterminated double-quoted string"),
    ("ERROR -", 6, "expected a term after '-'"),
    ("ERROR ?", 6, "expected a term after '?'"),
    ('-" "', 1, "a blank phrase cannot follow '-'"),
    ('"a"b', 3, "expected a space after the term"),
    ("[a, b", 5, "missing ']'"),
    ("[]", 1, "empty space-delimited pattern"),
    ("[a, a]", 4, "field name 'a' is used twice"),
    ("[a, b c]", 6, "expected an operator (=, !=, <, <=, >, >=) after the field name"),
    ("[a, b = 1 c]", 10, "expected ',', ']', '&&' or '||'"),
    ("[a, b >]", 7, "expected a value after '>'"),
    ("[a, b = 1 && c = 2]", 13, "a field's conditions can only test that field"),
    # The earlier revision's "[..., status_code = 4* && bytes > 1000]" tests another field inside one field.
    ("[ip, user, username, timestamp, request, status_code = 4* && bytes > 1000]", 61, "can only test that field"),
    # The earlier revision's "[w1=!ERROR&&w1=!WARN, w2]" is not the documented "!=" operator.
    ("[w1=!ERROR&&w1=!WARN, w2]", 4, "unexpected '!' after '='"),
    ("[a, ... b]", 8, "expected ',' or ']' after '...'"),
    ("[a] trailing", 4, "unexpected text after the closing ']'"),
    ("[a, = 1]", 4, "expected a field name"),
    ("[a, b = x!y]", 9, "unexpected '!'"),
    ("x" * 1025, 1024, "at most 1024 characters"),
]


@pytest.mark.parametrize("pattern, position, reason", ERROR_CASES)
def test_invalid_patterns_are_rejected_with_a_position(pattern, position, reason):
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(pattern)
    error = info.value
    assert reason in error.reason
    assert error.position == position
    assert str(error) == "invalid filter pattern at position %d: %s" % (position, error.reason)
    assert isinstance(error, ValueError)
    with pytest.raises(FilterPatternError):
        validate_pattern(pattern)
    with pytest.raises(FilterPatternError):
        matches(pattern, "any message")


def test_error_message_format_matches_the_contract():
    with pytest.raises(FilterPatternError) as info:
        validate_pattern("{ $.a = }")
    assert str(info.value) == "invalid filter pattern at position 8: expected a value after '='"
    assert info.value.pattern == "{ $.a = }"
    copy = pickle.loads(pickle.dumps(info.value))
    assert (copy.position, copy.reason, str(copy)) == (8, info.value.reason, str(info.value))


def test_non_string_pattern_is_rejected():
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(42)
    assert "must be a string" in info.value.reason


# --- API -------------------------------------------------------------------------------

@pytest.mark.parametrize("pattern, kind", [
    ("", "all"),
    ("   ", "all"),
    ('" "', "all"),
    ("ERROR", "terms"),
    ("%ERROR%", "terms"),
    ("?a ?b", "terms"),
    ("{ $.a = 1 }", "json"),
    ("  { $.a = 1 }  ", "json"),
    ("[a, b]", "space_delimited"),
])
def test_kind_and_source(pattern, kind):
    compiled = compile_pattern(pattern)
    assert isinstance(compiled, CompiledPattern)
    assert compiled.kind == kind
    assert compiled.source == pattern
    assert validate_pattern(pattern) is None


def test_none_pattern_matches_everything():
    assert compile_pattern(None).kind == "all"
    assert compile_pattern(None).matches("x") is True


def test_optional_terms_mixed_with_others_warn():
    assert compile_pattern("?ERROR ?ARGUMENTS REQUEST").warnings
    assert compile_pattern("?ERROR ?ARGUMENTS").warnings == ()
    assert compile_pattern("ERROR -ARGUMENTS").warnings == ()


def test_matches_uses_an_lru_cache_and_accepts_compiled_patterns():
    fp._cached_compile.cache_clear()  # pylint: disable=protected-access
    assert matches("ERROR", "[ERROR] x") is True
    assert matches("ERROR", "[INFO] x") is False
    info = fp._cached_compile.cache_info()  # pylint: disable=protected-access
    assert (info.hits, info.misses) == (1, 1)
    assert matches(compile_pattern("ERROR"), "ERROR") is True


def test_parsed_argument_is_used_instead_of_the_message():
    compiled = compile_pattern('{ $.eventName = "ConsoleLogin" }')
    # The parsed object wins: the engine does not re-parse the message.
    assert compiled.matches("not json at all", parsed={"eventName": "ConsoleLogin"}) is True
    assert compiled.matches('{"eventName": "ConsoleLogin"}', parsed={"eventName": "Other"}) is False
    assert compiled.matches('{"eventName": "ConsoleLogin"}', parsed=NOT_JSON) is False
    assert compiled.matches('{"eventName": "ConsoleLogin"}') is True
    # Term and space-delimited patterns look at the text only.
    assert compile_pattern("ConsoleLogin").matches("ConsoleLogin", parsed={"x": 1}) is True


def test_parse_json_message():
    assert parse_json_message('{"a": [1]}') == {"a": [1]}
    assert parse_json_message("[1]") is NOT_JSON
    assert parse_json_message("{broken") is NOT_JSON
    assert parse_json_message("plain") is NOT_JSON
    assert parse_json_message(None) is NOT_JSON


def test_prefilter_is_safe_with_escaped_json():
    compiled = compile_pattern('{ $.eventName = "ConsoleLogin" && $.userIdentity.type = "Root" }')
    assert set(compiled.prefilter_clauses) >= {("ConsoleLogin",), ('"eventName"',), ('"userIdentity"',), ('"type"',), ("Root",)}
    assert compiled.could_match('{"eventName": "ConsoleLogin"}') is False
    escaped = '{"eventName": "\\u0043onsoleLogin", "userIdentity": {"type": "Root"}}'
    assert compiled.matches(escaped) is True
    plain = '{"eventName": "ConsoleLogin", "userIdentity": {"type": "IAMUser"}}'
    assert compiled.matches(plain) is False


def test_or_requirements_keep_common_clauses_and_merge_alternatives():
    compiled = compile_pattern('{ $.a = "xx" || $.a = "yyy" }')
    assert set(compiled.prefilter_clauses) == {('"a"',), ("yyy", "xx")}
    assert compiled.matches('{"a": "yyy"}') is True
    assert compiled.could_match('{"a": "zz"}') is False
    assert compile_pattern('{ $.a = "xx" || $.b NOT EXISTS }').prefilter_clauses == ()
    nested = compile_pattern('{ ($.s = "kms.amazonaws.com") && (($.e = DisableKey) || ($.e = ScheduleKeyDeletion)) }')
    assert ("ScheduleKeyDeletion", "DisableKey") in nested.prefilter_clauses
    assert nested.matches('{"s": "kms.amazonaws.com", "e": "ScheduleKeyDeletion"}') is True
    assert nested.could_match('{"s": "kms.amazonaws.com", "e": "EnableKey"}') is False


def test_space_delimited_prefilter():
    compiled = compile_pattern("[ip, user, username, timestamp, request =*.html*, status_code = 4*, bytes]")
    assert compiled.prefilter_clauses == ((".html",),)
    assert compiled.could_match("a b c d e.gif 404 1") is False
    assert compiled.could_match(APACHE) is True
    assert compile_pattern("[a, b = 404]").prefilter_clauses == ()  # a number can be written 4.04e2


def test_could_match_of_terms_is_the_match():
    assert compile_pattern("ERROR -WARN").could_match("ERROR WARN") is False
    assert compile_pattern("ERROR -WARN").could_match("ERROR") is True
    assert compile_pattern("").could_match(None) is True


def test_match_many_parses_json_once(monkeypatch):
    calls = []
    real = fp.parse_json_message

    def counting(message):
        calls.append(message)
        return real(message)

    monkeypatch.setattr(fp, "parse_json_message", counting)
    rules = [compile_pattern(text) for text in (
        '{ $.eventName = "ConsoleLogin" }',
        '{ $.userIdentity.type = "Root" }',
        '{ $.eventName = "StopLogging" }',
        "ConsoleLogin",
        "[a, ...]",
    )]
    event = '{"eventName": "ConsoleLogin", "userIdentity": {"type": "Root"}}'
    assert fp.match_many(rules, event) == [rules[0], rules[1], rules[3], rules[4]]
    assert len(calls) == 1
    calls[:] = []
    assert fp.match_many(rules, '{"eventName": "Other"}') == [rules[4]]
    assert len(calls) == 1
    # With a single JSON pattern its prefilter decides first: a rejected message is never parsed.
    calls[:] = []
    assert fp.match_many(rules[:1], '{"eventName": "Other"}') == []
    assert calls == []
    assert fp.match_many(iter(rules[:1]), '{"eventName": "ConsoleLogin"}') == [rules[0]]
    assert len(calls) == 1
    assert fp.match_many(rules, "x", parsed={"eventName": "StopLogging"}) == [rules[2], rules[4]]
    assert fp.match_many(rules, event, parsed=NOT_JSON) == [rules[3], rules[4]]


def test_message_none_is_an_empty_message():
    assert compile_pattern("ERROR").matches(None) is False
    assert compile_pattern("").matches(None) is True
    assert compile_pattern("{ $.a NOT EXISTS }").matches(None) is False


def test_json_keywords_are_case_insensitive():
    assert matches("{ $.a is null }", '{"a": null}') is True
    assert matches("{ $.b not exists }", '{"a": null}') is True
    assert matches("{ $.a Is True }", '{"a": true}') is True


def test_json_bracket_keys_and_nested_wildcards():
    assert matches('{ $.["a b"] = 1 }', '{"a b": 1}') is True
    assert matches("{ $.a.['b.c'].d = x }", '{"a": {"b.c": {"d": "x"}}}') is True
    assert matches("{ $.list[*].id = 3 }", '{"list": [{"id": 1}, {"id": 3}]}') is True
    assert matches("{ $.list[*].id = 4 }", '{"list": [{"id": 1}, {"id": 3}]}') is False
    assert matches("{ $.list[*].id != 1 }", '{"list": [{"id": 1}, {"id": 3}]}') is True  # any element
    assert matches("{ $.obj.* IS NULL }", '{"obj": {"a": 1, "b": null}}') is True
    assert matches("{ $.obj.* NOT EXISTS }", '{"obj": {}}') is True
    assert matches("{ $.obj.* NOT EXISTS }", '{"obj": {"a": 1}}') is False
    assert matches("{ $.* IS TRUE }", '{"a": false, "b": true}') is True
    assert matches("{ $.list[*] = 2 }", '{"list": {"a": 2}}') is False  # [*] selects array elements only


def test_engine_has_no_ansible_import_and_loads_by_path():
    path = fp.__file__
    with open(path, encoding="utf-8") as handle:
        source = handle.read()
    assert "import ansible" not in source and "from ansible" not in source
    spec = importlib.util.spec_from_file_location("standalone_cwl_filter_pattern", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.matches("{ $.a = 1 }", '{"a": 1}') is True
    assert os.path.basename(path) == "cwl_filter_pattern.py"


# --- property tests ----------------------------------------------------------------------

WORD = st.text(alphabet=string.ascii_letters + string.digits + "_", min_size=1, max_size=12)
MESSAGE = st.text(max_size=80)


@settings(max_examples=300, deadline=None)
@given(term=WORD, message=MESSAGE)
def test_a_term_never_matches_a_message_that_lacks_it(term, message):
    assume(term not in message)
    assert matches(term, message) is False
    assert matches('"%s"' % term, message) is False


@settings(max_examples=300, deadline=None)
@given(term=WORD, prefix=MESSAGE, suffix=MESSAGE)
def test_a_term_matches_every_message_that_contains_it(term, prefix, suffix):
    assert matches(term, prefix + term + suffix) is True


@settings(max_examples=300, deadline=None)
@given(required=WORD, excluded=WORD, message=MESSAGE)
def test_exclusion_inverts(required, excluded, message):
    assume(excluded not in required)
    message = message + " " + required
    with_exclusion = matches("%s -%s" % (required, excluded), message)
    assert with_exclusion is (excluded not in message)
    assert matches("-%s" % excluded, message) is not matches(excluded, message)


@settings(max_examples=300, deadline=None)
@given(terms=st.lists(WORD, min_size=1, max_size=4), message=MESSAGE)
def test_optional_terms_are_any_and_plain_terms_are_all(terms, message):
    assert matches(" ".join("?" + term for term in terms), message) is any(term in message for term in terms)
    assert matches(" ".join(terms), message) is all(term in message for term in terms)


@settings(max_examples=300, deadline=None)
@given(phrase=st.text(min_size=1, max_size=20).filter(lambda text: text.strip()), message=MESSAGE)
def test_quoted_phrases_are_exact_substrings(phrase, message):
    pattern = '"%s"' % phrase.replace("\\", "\\\\").replace('"', '\\"')
    assert matches(pattern, message + phrase) is True
    assert matches(pattern, message) is (phrase in message)


JSON_KEY = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=1, max_size=8)
JSON_STRING = st.text(max_size=12).filter(lambda text: not text.startswith("*") and not text.endswith("*"))
JSON_SCALAR = st.one_of(st.none(), st.booleans(), st.integers(-10 ** 6, 10 ** 6), JSON_STRING)
JSON_OBJECT = st.dictionaries(JSON_KEY, st.one_of(JSON_SCALAR, st.lists(JSON_SCALAR, max_size=3)), min_size=1, max_size=6)


def _text_of(value):
    """The documented text of a JSON value node: strings as they are, numbers as Python prints them."""
    if isinstance(value, bool) or value is None or isinstance(value, (list, dict)):
        return None
    return value if isinstance(value, str) else str(value)


def _number_of(value):
    """The documented number of a JSON value node: numbers, and strings written as a number literal."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return value
    if isinstance(value, str) and re.match(r"[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)([eE][+-]?[0-9]+)?$", value) and "\n" not in value:
        return float(value)
    return None


def _quote(text):
    return '"%s"' % text.replace("\\", "\\\\").replace('"', '\\"')


@settings(max_examples=300, deadline=None)
@given(obj=JSON_OBJECT, data=st.data(), ensure_ascii=st.booleans())
def test_json_string_equality_on_generated_objects(obj, data, ensure_ascii):
    key = data.draw(st.sampled_from(sorted(obj)))
    value = data.draw(st.one_of(JSON_STRING, st.just(obj[key]) if isinstance(obj[key], str) else JSON_STRING))
    message = json.dumps(obj, ensure_ascii=ensure_ascii)
    text = _text_of(obj[key])
    equal = compile_pattern("{ $.%s = %s }" % (key, _quote(value)))
    assert equal.matches(message) is (text is not None and text == value)
    different = compile_pattern("{ $.%s != %s }" % (key, _quote(value)))
    assert different.matches(message) is (text is not None and text != value)
    assert equal.matches(message, parsed=obj) is equal.matches(message)


@settings(max_examples=300, deadline=None)
@given(obj=JSON_OBJECT, data=st.data())
def test_json_numeric_comparisons_on_generated_objects(obj, data):
    key = data.draw(st.sampled_from(sorted(obj)))
    number = data.draw(st.integers(-10 ** 6, 10 ** 6))
    actual = obj[key]
    got = _number_of(actual)
    message = json.dumps(obj)
    for operator, check in (("<", "__lt__"), ("<=", "__le__"), (">", "__gt__"), (">=", "__ge__")):
        expected = got is not None and getattr(float(got), check)(float(number))
        assert matches("{ $.%s %s %d }" % (key, operator, number), message) is bool(expected)
    if got is not None:
        assert matches("{ $.%s = %d }" % (key, number), message) is (got == number)
    assert matches("{ $.%s NOT EXISTS }" % key, message) is False
    assert matches("{ $.%s_missing NOT EXISTS }" % key, message) is (key + "_missing" not in obj)
    assert matches("{ $.%s IS NULL }" % key, message) is (actual is None)


@settings(max_examples=200, deadline=None)
@given(obj=JSON_OBJECT, data=st.data())
def test_or_of_equalities_is_the_or_of_each(obj, data):
    """The set lookup that replaces "$.k = A || $.k = B || ..." keeps the meaning of each equality."""
    key = data.draw(st.sampled_from(sorted(obj)))
    values = data.draw(st.lists(st.one_of(JSON_STRING, st.sampled_from(["0", "1", "true", "null", "-5"])), min_size=2, max_size=5))
    message = json.dumps(obj)
    combined = matches("{ " + " || ".join("$.%s = %s" % (key, _quote(value)) for value in values) + " }", message)
    separate = any(matches("{ $.%s = %s }" % (key, _quote(value)), message) for value in values)
    assert combined is separate
    # The mixed pattern only names the first two values, so compare it with those two alone.
    first_two = any(matches("{ $.%s = %s }" % (key, _quote(value)), message) for value in values[:2])
    mixed = matches("{ $.%s = %s || $.%s NOT EXISTS || $.%s = %s }" % (key, _quote(values[0]), key, key, _quote(values[1])), message)
    assert mixed is (first_two or matches("{ $.%s NOT EXISTS }" % key, message))


def test_or_with_not_exists_between_equalities_on_an_empty_string():
    """The case hypothesis drew in CI: an empty string equals "" and is not absent."""
    message = json.dumps({"0": ""})
    assert matches('{ $.0 = "" }', message) is True
    assert matches('{ $.0 = "0" || $.0 NOT EXISTS || $.0 = "0" }', message) is False
    assert matches('{ $.0 = "0" || $.0 NOT EXISTS || $.0 = "" }', message) is True
    assert matches('{ $.0 = "0" || $.0 = "0" || $.0 = "" }', message) is True


@settings(max_examples=500, deadline=None)
@given(pattern=st.text(alphabet=string.printable, max_size=40))
def test_any_text_compiles_or_fails_with_a_position(pattern):
    try:
        compiled = compile_pattern(pattern)
    except FilterPatternError as error:
        assert 0 <= error.position <= len(pattern)
        assert error.reason
        return
    for message in ("", "ERROR", '{"a": 1}', "a b c", pattern):
        assert compiled.matches(message) in (True, False)


@settings(max_examples=300, deadline=None)
@given(pattern=st.builds(
    lambda parts: "{ " + " ".join(parts) + " }",
    st.lists(st.sampled_from(["$.a", "$.b[0]", "=", "!=", ">", "1", '"x"', "&&", "||", "(", ")", "*", "IS", "NULL", "NOT", "EXISTS"]),
             min_size=1, max_size=9)))
def test_json_pattern_fragments_compile_or_fail_with_a_position(pattern):
    try:
        compiled = compile_pattern(pattern)
    except FilterPatternError as error:
        assert 0 <= error.position <= len(pattern)
        return
    assert compiled.kind == "json"
    for message in ('{"a": 1, "b": ["x"]}', '{"a": null}', "x"):
        assert compiled.matches(message) in (True, False)


def test_security_hub_notation_of_cis_patterns():
    """CIS patterns as AWS Security Hub prints them (no spaces, bare dotted values) compile and evaluate."""
    root = compile_pattern('{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}')
    assert root.matches('{"userIdentity": {"type": "Root"}, "eventType": "AwsApiCall"}') is True
    assert root.matches('{"userIdentity": {"type": "Root", "invokedBy": "s3.amazonaws.com"}, "eventType": "AwsApiCall"}') is False
    assert root.matches('{"userIdentity": {"type": "Root"}, "eventType": "AwsServiceEvent"}') is False
    kms = compile_pattern("{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion))}")
    assert kms.matches('{"eventSource": "kms.amazonaws.com", "eventName": "DisableKey"}') is True
    assert kms.matches('{"eventSource": "kms.amazonaws.com", "eventName": "EnableKey"}') is False
    assert kms.matches('{"eventSource": "kmsXamazonaws.com", "eventName": "DisableKey"}') is False
    unauthorized = compile_pattern('{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}')
    assert unauthorized.matches('{"errorCode": "Client.UnauthorizedOperation"}') is True
    assert unauthorized.matches('{"errorCode": "AccessDeniedException"}') is True
    assert unauthorized.matches('{"errorCode": "ThrottlingException"}') is False


def test_bytes_messages_are_decoded_as_utf8():
    assert matches("caf\u00e9", "un caf\u00e9".encode("utf-8")) is True
    assert matches("{ $.a = 1 }", b'{"a": 1}') is True
    assert extract_fields("[a, b]", b"x y") == {"$a": "x", "$b": "y"}
    assert fp.match_many([compile_pattern("x")], b"x") != []


def test_nesting_depth_is_bounded_with_a_position():
    deep = "{ " + "(" * 33 + "$.a = 1" + ")" * 33 + " }"
    with pytest.raises(FilterPatternError) as info:
        compile_pattern(deep)
    assert info.value.position == 2 + 32
    assert "nested more than 32 deep" in info.value.reason
    ok = "{ " + "(" * 32 + "$.a = 1" + ")" * 32 + " }"
    assert compile_pattern(ok).matches('{"a": 1}') is True


def test_deeply_nested_json_message_is_not_json():
    message = '{"a": ' + "[" * 100000 + "]" * 100000 + "}"
    assert compile_pattern('{ $.a NOT EXISTS }').matches(message) is False
    assert parse_json_message(message) is NOT_JSON


def test_many_ellipses_stay_polynomial():
    fields = []
    for index in range(40):
        fields.extend(["...", "x%d = A" % index])
    pattern = compile_pattern("[" + ", ".join(fields + ["..."]) + "]")
    tokens = ["B"] * 4000
    assert pattern.matches(" ".join(tokens)) is False
    tokens[::100] = ["A"] * 40
    assert pattern.matches(" ".join(tokens)) is True


def _slots_to_regex(slots):
    parts = []
    for slot in slots:
        if slot == "...":
            parts.append(r"(?:\S+ )*")
        elif slot == "any":
            parts.append(r"\S+ ")
        else:
            parts.append(re.escape(slot) + " ")
    return re.compile("".join(parts) + r"\Z")


@settings(max_examples=300, deadline=None)
@given(slots=st.lists(st.sampled_from(["...", "any", "A", "B"]), min_size=1, max_size=7).filter(lambda items: "..." in items),
       tokens=st.lists(st.sampled_from(["A", "B", "C"]), max_size=9))
def test_ellipsis_matching_agrees_with_a_regular_expression(slots, tokens):
    fields = []
    for index, slot in enumerate(slots):
        if slot == "...":
            fields.append("...")
        elif slot == "any":
            fields.append("f%d" % index)
        else:
            fields.append("f%d = %s" % (index, slot))
    pattern = compile_pattern("[" + ", ".join(fields) + "]")
    message = " ".join(tokens)
    expected = _slots_to_regex(slots).match(message + " " if tokens else "") is not None
    assert pattern.matches(message) is expected
    extracted = pattern.extract_fields(message)
    assert (extracted is not None) is expected
    if extracted is not None:
        assert len(extracted) == len(tokens)


def test_space_delimited_whitespace_is_the_same_with_and_without_groups():
    plain = "a\u00a0b\x0cc"
    grouped = plain + ' "d e"'
    assert fp._tokenize_delimited(plain) == ["a", "b", "c"]  # pylint: disable=protected-access
    assert fp._tokenize_delimited(grouped) == ["a", "b", "c", "d e"]  # pylint: disable=protected-access


def test_compiled_patterns_pickle_by_source():
    for source in ("", "ERROR -x", '{ $.a = "b" }', "[a, b = 1]"):
        compiled = compile_pattern(source)
        copy = pickle.loads(pickle.dumps(compiled))
        assert copy == compiled and copy.kind == compiled.kind
        assert hash(copy) == hash(compiled)
    assert compile_pattern("ERROR") != compile_pattern("WARN")
    assert compile_pattern("{ $.a = 1 }").matches('{"a": 1}') is pickle.loads(pickle.dumps(compile_pattern("{ $.a = 1 }"))).matches('{"a": 1}')
