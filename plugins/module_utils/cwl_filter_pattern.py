# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch Logs filter-pattern engine (pure Python standard library).

One implementation of the filter-pattern syntax used by metric filters,
subscription filters, FilterLogEvents and Live Tail, shared by:

* the collection's modules, which call :func:`validate_pattern` before any AWS call;
* the local AWS emulator, which filters subscription deliveries with it;
* the ``stream_alerts`` Lambda, which evaluates its rules with it.

It has no Ansible import on purpose: it can be imported by file path and copied
into a Lambda deployment package as it is.

Public API::

    compiled = compile_pattern('{ $.eventName = "ConsoleLogin" }')
    compiled.kind                 # "all", "terms", "json" or "space_delimited"
    compiled.source               # the pattern text
    compiled.matches(message)     # bool; matches(message, parsed=obj) reuses a parsed JSON object
    validate_pattern(pattern)     # raises FilterPatternError(position, reason)
    matches(pattern, message)     # convenience, with an LRU cache of compiled patterns
    extract_fields(compiled, message)  # space-delimited: {"$name": value, "$3": value}

The syntax and its semantics are documented in docs/filter-patterns.md, which also
lists where this engine has to choose because AWS's documentation is silent.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import functools
import json
import re

__all__ = [
    "CompiledPattern",
    "FilterPatternError",
    "MAX_PATTERN_LENGTH",
    "NOT_JSON",
    "compile_pattern",
    "extract_fields",
    "match_many",
    "matches",
    "parse_json_message",
    "validate_pattern",
]

# PutSubscriptionFilter / PutMetricFilter: filterPattern length 0..1024.
MAX_PATTERN_LENGTH = 1024
# "There is a limit of 2 regex for each filter pattern when creating a delimited or JSON filter pattern."
MAX_REGEX_PER_STRUCTURED_PATTERN = 2
# "You can only use up to one wildcard selector in a property selector, and up to three wildcard
# selectors in a filter pattern with compound expressions."
MAX_WILDCARDS_PER_SELECTOR = 1
MAX_WILDCARDS_PER_PATTERN = 3
# Not an AWS figure: a bound that keeps the recursive-descent parser far from Python's
# recursion limit (AWS documents none; real rules nest two or three levels).
MAX_NESTING = 32

_WHITESPACE = " \t\r\n"
_NUMBER_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z")
# Characters allowed inside %regex% (AWS "Supported regular expressions (regex) syntax"). The space
# is not in AWS's list but AWS's own examples use it (%^shutting down%, " at" for %.at%).
_REGEX_SYMBOLS = frozenset("_#=@/;,-: ")
_REGEX_OPERATORS = frozenset("^$?[]{}|\\*+.")
# Characters allowed in an unquoted JSON / space-delimited value besides letters and digits.
_BARE_VALUE_SYMBOLS = frozenset("_.*-+:/")
_SELECTOR_KEY_SYMBOLS = frozenset("-_")
# Characters that end an unquoted value inside a JSON or space-delimited pattern.
_VALUE_TERMINATORS = frozenset(" \t\r\n(){}[]&|,")


class _NotJson(object):
    """Sentinel type: pass ``parsed=NOT_JSON`` when the message is known not to be a JSON object."""

    __slots__ = ()

    def __repr__(self):
        return "NOT_JSON"


NOT_JSON = _NotJson()
_MISSING = object()


class _Wildcard(object):
    """A wildcard step of a JSON selector: ``.*`` (any object field) or ``[*]`` (any array element)."""

    __slots__ = ("container",)

    def __init__(self, container):
        self.container = container

    def __repr__(self):
        return ".*" if self.container is dict else "[*]"


_ANY_FIELD = _Wildcard(dict)
_ANY_ELEMENT = _Wildcard(list)


class FilterPatternError(ValueError):
    """A filter pattern is not valid.

    ``position`` is the 0-based character offset of the error in the pattern and
    ``reason`` says what is wrong there.
    """

    def __init__(self, reason, position, pattern=None):
        self.reason = reason
        self.position = position
        self.pattern = pattern
        super(FilterPatternError, self).__init__("invalid filter pattern at position %d: %s" % (position, reason))

    def __reduce__(self):
        return (FilterPatternError, (self.reason, self.position, self.pattern))


def _describe(char):
    if char == "":
        return "the end of the pattern"
    return repr(char)


class _Cursor(object):
    """A position in the pattern text, with the helpers of a hand-written parser."""

    __slots__ = ("text", "pos", "regex_count", "wildcard_count")

    def __init__(self, text, pos=0):
        self.text = text
        self.pos = pos
        self.regex_count = 0
        self.wildcard_count = 0

    def error(self, reason, pos=None):
        return FilterPatternError(reason, self.pos if pos is None else pos, self.text)

    def peek(self, length=1):
        return self.text[self.pos:self.pos + length]

    def at_end(self):
        return self.pos >= len(self.text)

    def skip_ws(self):
        text = self.text
        pos = self.pos
        while pos < len(text) and text[pos] in _WHITESPACE:
            pos += 1
        self.pos = pos

    def take(self, token):
        if self.text.startswith(token, self.pos):
            self.pos += len(token)
            return True
        return False

    def quoted(self):
        """Read a double-quoted string at the cursor; ``\\"`` and ``\\\\`` are escapes."""
        start = self.pos
        text = self.text
        pos = start + 1
        out = []
        while pos < len(text):
            char = text[pos]
            if char == "\\" and pos + 1 < len(text) and text[pos + 1] in "\"\\":
                out.append(text[pos + 1])
                pos += 2
                continue
            if char == '"':
                self.pos = pos + 1
                return "".join(out)
            out.append(char)
            pos += 1
        raise self.error("unterminated double-quoted string (no closing '\"')", start)

    def regex(self):
        """Read a ``%regex%`` at the cursor and compile it."""
        start = self.pos
        end = self.text.find("%", start + 1)
        if end < 0:
            raise self.error("unterminated regular expression (no closing '{0}')".format("%"), start)
        self.pos = end + 1
        self.regex_count += 1
        return _compile_regex(self.text, start + 1, end)


def _compile_regex(text, start, end):
    body = text[start:end]
    if not body:
        raise FilterPatternError("empty regular expression '{0}{0}'".format("%"), start - 1, text)
    for offset, char in enumerate(body):
        if char in "()":
            raise FilterPatternError("'(' and ')' are not supported in regular expressions", start + offset, text)
        if ord(char) > 127:
            raise FilterPatternError("multi-byte characters are not supported in regular expressions", start + offset, text)
        if not (char.isalnum() or char in _REGEX_SYMBOLS or char in _REGEX_OPERATORS):
            raise FilterPatternError("character %r is not supported in regular expressions" % char, start + offset, text)
    try:
        # re.ASCII: AWS documents \w as [a-zA-Z_0-9] and \d as [0-9].
        return re.compile(body, re.ASCII)
    except re.error as exc:
        offset = getattr(exc, "pos", None) or 0
        raise FilterPatternError("invalid regular expression: %s" % getattr(exc, "msg", str(exc)), start + offset, text)


# ---------------------------------------------------------------------------
# Value matchers shared by JSON and space-delimited patterns
# ---------------------------------------------------------------------------


class _Value(object):
    """The right-hand side of a comparison.

    ``kind`` is "number", "string", "any" (a lone ``*``) or "regex".
    For strings, ``*`` at the start and/or the end is a wildcard; anywhere else it is
    the character itself (AWS: "Ev*ent will only match the actual string Ev*ent").
    """

    __slots__ = ("kind", "text", "number", "core", "mode", "regex")

    def __init__(self, kind, text, number=None, regex=None):
        self.kind = kind
        self.text = text
        self.number = number
        self.regex = regex
        self.core = text
        self.mode = "eq"
        if kind == "string":
            lead = text.startswith("*")
            trail = len(text) > 1 and text.endswith("*")
            core = text[1 if lead else 0:len(text) - 1 if trail else len(text)]
            self.core = core
            if lead and trail:
                self.mode = "contains"
            elif lead:
                self.mode = "suffix"
            elif trail:
                self.mode = "prefix"

    def string_equal(self, value):
        mode = self.mode
        if mode == "eq":
            return value == self.core
        if mode == "prefix":
            return value.startswith(self.core)
        if mode == "suffix":
            return value.endswith(self.core)
        return self.core in value

    def literal_requirement(self):
        """A substring the raw text must contain for ``=`` to hold, or None."""
        if self.kind != "string" or not self.core:
            return None
        # A core made only of number characters could be the text of a number written
        # differently in the raw message (4.04e2 for 404): no requirement then.
        if all(char in "0123456789.eE+-" for char in self.core):
            return None
        return self.core


def _parse_value(cur, operator, op_pos):
    """Parse the value after ``operator`` (which started at ``op_pos``)."""
    cur.skip_ws()
    start = cur.pos
    char = cur.peek()
    numeric_op = operator in ("<", "<=", ">", ">=")
    if char == '"':
        text = cur.quoted()
        if numeric_op:
            if _NUMBER_RE.match(text):
                return _Value("number", text, float(text))
            raise cur.error("expected a number after '%s'" % operator, start)
        if text == "*":
            return _Value("any", text)
        return _Value("string", text)
    if char == "%":
        if numeric_op:
            raise cur.error("expected a number after '%s', found a regular expression" % operator, start)
        regex = cur.regex()
        if cur.regex_count > MAX_REGEX_PER_STRUCTURED_PATTERN:
            raise cur.error("a JSON or space-delimited pattern can contain at most %d regular expressions" % MAX_REGEX_PER_STRUCTURED_PATTERN, start)
        return _Value("regex", cur.text[start:cur.pos], regex=regex)
    text = cur.text
    pos = start
    while pos < len(text) and text[pos] not in _VALUE_TERMINATORS:
        item = text[pos]
        if not (item.isalnum() or item in _BARE_VALUE_SYMBOLS):
            if item in "=!<>":
                raise cur.error("unexpected %r after '%s'; values that contain it must be in double quotes" % (item, operator), pos)
            raise cur.error("character %r must be inside double quotes in a value" % item, pos)
        pos += 1
    if pos == start:
        raise cur.error("expected a value after '%s'" % operator, start if start < len(text) else op_pos)
    cur.pos = pos
    word = text[start:pos]
    if _NUMBER_RE.match(word):
        return _Value("number", word, float(word))
    if numeric_op:
        raise cur.error("expected a number after '%s'" % operator, start)
    if word == "*":
        return _Value("any", word)
    return _Value("string", word)


def _number_of(value):
    """The float of a JSON number or numeric string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str) and _NUMBER_RE.match(value):
        return float(value)
    return None


def _text_of(value):
    """The text of a JSON value node (string or number), else None."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float)):
        return str(value)
    return None


def _make_comparison(operator, rhs):
    """Return ``test(value) -> bool`` for a JSON value node or a delimited field."""
    kind = rhs.kind
    if kind == "any":
        if operator == "=":
            return lambda value: _text_of(value) is not None
        return lambda value: False
    if kind == "regex":
        search = rhs.regex.search
        if operator == "=":
            def regex_eq(value):
                text = _text_of(value)
                return text is not None and search(text) is not None
            return regex_eq

        def regex_ne(value):
            text = _text_of(value)
            return text is not None and search(text) is None
        return regex_ne
    if kind == "number":
        number = rhs.number
        literal = rhs.text

        def numeric_equal(value):
            got = _number_of(value)
            if got is not None:
                return got == number
            text = _text_of(value)
            if text is None:
                return None
            return text == literal

        if operator == "=":
            return lambda value: numeric_equal(value) is True
        if operator == "!=":
            return lambda value: numeric_equal(value) is False

        compare = {
            "<": lambda got: got < number,
            "<=": lambda got: got <= number,
            ">": lambda got: got > number,
            ">=": lambda got: got >= number,
        }[operator]

        def numeric_order(value):
            got = _number_of(value)
            return got is not None and compare(got)
        return numeric_order
    # plain string with optional leading/trailing wildcard
    string_equal = rhs.string_equal
    if operator == "=":
        if rhs.mode == "eq":
            core = rhs.core

            def string_eq_fast(value):
                if value.__class__ is str:
                    return value == core
                text = _text_of(value)
                return text is not None and text == core
            return string_eq_fast

        def string_eq(value):
            text = _text_of(value)
            return text is not None and string_equal(text)
        return string_eq

    def string_ne(value):
        text = _text_of(value)
        return text is not None and not string_equal(text)
    return string_ne


# ---------------------------------------------------------------------------
# Boolean expression nodes (JSON conditions and space-delimited field conditions)
# ---------------------------------------------------------------------------


class _And(object):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def build(self):
        tests = [item.build() for item in self.items]
        if len(tests) == 2:
            first, second = tests
            return lambda obj: first(obj) and second(obj)

        def all_of(obj):
            for test in tests:
                if not test(obj):
                    return False
            return True
        return all_of

    def requirements(self):
        found = []
        for item in self.items:
            for clause in item.requirements():
                if clause not in found:
                    found.append(clause)
        return found


def _selectivity(clause):
    """Rank a prefilter clause: values before JSON keys (keys are in most events), then longer."""
    return (not any(literal.startswith('"') for literal in clause), min(len(literal) for literal in clause))


class _Or(object):
    __slots__ = ("items",)

    def __init__(self, items):
        self.items = items

    def build(self):
        # "$.eventName = A || $.eventName = B || ..." (the CIS rules) becomes one set lookup.
        groups = {}
        order = []
        for item in self.items:
            key = item.equality_path() if isinstance(item, _JsonCondition) else None
            if key is None:
                order.append(item)
                continue
            if key not in groups:
                groups[key] = []
                order.append(key)
            groups[key].append(item.rhs.core)
        tests = []
        for entry in order:
            if isinstance(entry, tuple):
                tests.append(_build_membership(entry, frozenset(groups[entry])))
            else:
                tests.append(entry.build())
        if len(tests) == 1:
            return tests[0]
        if len(tests) == 2:
            first, second = tests
            return lambda obj: first(obj) or second(obj)

        def any_of(obj):
            for test in tests:
                if test(obj):
                    return True
            return False
        return any_of

    def requirements(self):
        branches = [item.requirements() for item in self.items]
        if not all(branches):
            return []
        # Clauses every branch needs, plus "one of the branches' most selective clauses".
        found = [clause for clause in branches[0] if all(clause in other for other in branches[1:])]
        alternatives = set()
        for clauses in branches:
            own = [clause for clause in clauses if clause not in found]
            if not own:
                return found
            alternatives |= max(own, key=_selectivity)
        found.append(frozenset(alternatives))
        return found


def _parse_bool_expr(cur, parse_atom, closer):
    """``expr := and ('||' and)*; and := atom ('&&' atom)*; atom := '(' expr ')' | leaf``."""

    def parse_or():
        items = [parse_and()]
        while True:
            cur.skip_ws()
            if cur.take("||"):
                items.append(parse_and())
                continue
            if cur.peek() == "|":
                raise cur.error("expected '||', found a single '|'")
            break
        return items[0] if len(items) == 1 else _Or(items)

    def parse_and():
        items = [parse_primary()]
        while True:
            cur.skip_ws()
            if cur.take("&&"):
                items.append(parse_primary())
                continue
            if cur.peek() == "&":
                raise cur.error("expected '&&', found a single '&'")
            break
        return items[0] if len(items) == 1 else _And(items)

    depth = [0]

    def parse_primary():
        cur.skip_ws()
        if cur.peek() == "(":
            open_pos = cur.pos
            depth[0] += 1
            if depth[0] > MAX_NESTING:
                raise cur.error("parentheses are nested more than %d deep" % MAX_NESTING)
            cur.pos += 1
            node = parse_or()
            depth[0] -= 1
            cur.skip_ws()
            if not cur.take(")"):
                if cur.at_end() or cur.peek() == closer:
                    raise cur.error("missing ')' for the '(' at position %d" % open_pos)
                raise cur.error("expected ')' or an operator, found %s" % _describe(cur.peek()))
            return node
        return parse_atom()

    return parse_or()


# ---------------------------------------------------------------------------
# JSON patterns
# ---------------------------------------------------------------------------


def _safe_literal(text):
    """True if ``text`` appears verbatim in any JSON encoding without backslash escapes."""
    for char in text:
        if char in '"\\' or ord(char) < 32:
            return False
    return True


class _JsonCondition(object):
    __slots__ = ("path", "operator", "rhs", "position")

    def __init__(self, path, operator, rhs, position):
        self.path = path
        self.operator = operator
        self.rhs = rhs
        self.position = position

    def build(self):
        path = tuple(self.path)
        if any(step.__class__ is _Wildcard for step in path):
            return self._build_wildcard(path)
        operator = self.operator
        resolve = _resolver(path)
        if operator == "NOT EXISTS":
            def not_exists(obj):
                return resolve(obj) is _MISSING
            return not_exists
        if operator.startswith("IS "):
            wanted = {"IS NULL": None, "IS TRUE": True, "IS FALSE": False}[operator]

            def is_constant(obj):
                return resolve(obj) is wanted
            return is_constant
        compare = _make_comparison(operator, self.rhs)

        def compare_path(obj):
            value = resolve(obj)
            if value is _MISSING or value.__class__ in (dict, list):
                return False
            return compare(value)
        return compare_path

    def equality_path(self):
        """The path if this is ``$.path = "literal"`` (no wildcard anywhere), else None."""
        rhs = self.rhs
        if self.operator != "=" or rhs is None or rhs.kind != "string" or rhs.mode != "eq":
            return None
        if any(step.__class__ is _Wildcard for step in self.path):
            return None
        return tuple(self.path)

    def _build_wildcard(self, path):
        """Existential semantics: true if any selected value satisfies the condition."""
        operator = self.operator
        if operator == "NOT EXISTS":
            return lambda obj: not _resolve_all(obj, path)
        if operator.startswith("IS "):
            wanted = {"IS NULL": None, "IS TRUE": True, "IS FALSE": False}[operator]

            def test(value):
                return value is wanted
        else:
            compare = _make_comparison(operator, self.rhs)

            def test(value):
                return value.__class__ not in (dict, list) and compare(value)

        def any_value(obj):
            for value in _resolve_all(obj, path):
                if test(value):
                    return True
            return False
        return any_value

    def requirements(self):
        """Clauses (sets of alternatives) of substrings the raw JSON text must contain.

        Only valid for messages without a backslash: JSON escapes can spell any character.
        """
        if self.operator == "NOT EXISTS":
            return []
        # The selector must resolve, so every key of the path is in the raw text.
        found = [frozenset(['"%s"' % key]) for key in self.path if key.__class__ is str and _safe_literal(key)]
        if self.operator == "=" and self.rhs is not None:
            literal = self.rhs.literal_requirement()
            if literal is not None and _safe_literal(literal):
                found.append(frozenset([literal]))
        return found


def _build_membership(path, values):
    """``test(obj)``: the value at ``path`` (a string or a number's text) is one of ``values``."""

    resolve = _resolver(path)

    def member(obj):
        value = resolve(obj)
        if value.__class__ is str:
            return value in values
        if value is _MISSING or value.__class__ in (dict, list):
            return False
        text = _text_of(value)
        return text is not None and text in values
    return member


def _resolve_all(obj, path):
    """Every value ``path`` selects in ``obj`` (a wildcard step selects several)."""
    current = [obj]
    for step in path:
        following = []
        if step.__class__ is _Wildcard:
            for item in current:
                if item.__class__ is dict and step.container is dict:
                    following.extend(item.values())
                elif item.__class__ is list and step.container is list:
                    following.extend(item)
        elif step.__class__ is str:
            for item in current:
                if item.__class__ is dict and step in item:
                    following.append(item[step])
        else:
            for item in current:
                if item.__class__ is list and step < len(item):
                    following.append(item[step])
        current = following
        if not current:
            break
    return current


def _resolver(path):
    """``resolve(obj)``: the value at ``path`` (no wildcard) in a JSON object, or _MISSING."""
    if len(path) == 1 and path[0].__class__ is str:
        key = path[0]

        def resolve_key(obj):
            return obj.get(key, _MISSING)
        return resolve_key
    if len(path) == 2 and path[0].__class__ is str and path[1].__class__ is str:
        first, second = path

        def resolve_two_keys(obj):
            inner = obj.get(first, _MISSING)
            if inner.__class__ is not dict:
                return _MISSING
            return inner.get(second, _MISSING)
        return resolve_two_keys

    def resolve_path(obj):
        return _resolve(obj, path)
    return resolve_path


def _resolve(obj, path):
    for step in path:
        if step.__class__ is str:
            if obj.__class__ is not dict:
                return _MISSING
            obj = obj.get(step, _MISSING)
            if obj is _MISSING:
                return _MISSING
        else:
            if obj.__class__ is not list or step >= len(obj):
                return _MISSING
            obj = obj[step]
    return obj


def _parse_selector(cur):
    """``$.key``, ``$.a.b``, ``$.a[0]``, ``$.a[0][1].b``, ``$.['key.with.dots']``."""
    text = cur.text
    start = cur.pos
    cur.pos += 1  # '$'
    path = []
    if cur.peek() != ".":
        raise cur.error("expected '.' after '$' (selectors look like $.field)", cur.pos)
    while True:
        char = cur.peek()
        if char == ".":
            cur.pos += 1
            if cur.peek() == "[":
                path.append(_parse_bracket_key(cur))
                continue
            key_start = cur.pos
            pos = key_start
            while pos < len(text) and (text[pos].isalnum() or text[pos] in _SELECTOR_KEY_SYMBOLS):
                pos += 1
            if pos == key_start:
                if cur.peek() == "*":
                    _count_wildcard(cur, path)
                    path.append(_ANY_FIELD)
                    cur.pos += 1
                    continue
                raise cur.error("expected a property name after '.' (letters, digits, '-' and '_'; use $.['name'] for others)", pos)
            path.append(text[key_start:pos])
            cur.pos = pos
        elif char == "[":
            if cur.peek(2) in ("['", '["'):
                path.append(_parse_bracket_key(cur))
                continue
            open_pos = cur.pos
            cur.pos += 1
            pos = cur.pos
            while pos < len(text) and text[pos].isdigit():
                pos += 1
            if pos == cur.pos:
                if cur.peek(2) == "*]":
                    _count_wildcard(cur, path)
                    path.append(_ANY_ELEMENT)
                    cur.pos += 2
                    continue
                raise cur.error("expected an array index (a number) after '['", pos)
            index = int(text[cur.pos:pos])
            cur.pos = pos
            if not cur.take("]"):
                raise cur.error("expected ']' to close the '[' at position %d" % open_pos)
            path.append(index)
        else:
            break
    if not path:
        raise cur.error("expected a property after '$.'", start + 2)
    return path


def _count_wildcard(cur, path):
    if sum(1 for step in path if step.__class__ is _Wildcard) >= MAX_WILDCARDS_PER_SELECTOR:
        raise cur.error("a property selector can contain at most %d wildcard ('*')" % MAX_WILDCARDS_PER_SELECTOR)
    cur.wildcard_count += 1
    if cur.wildcard_count > MAX_WILDCARDS_PER_PATTERN:
        raise cur.error("a filter pattern can contain at most %d wildcard selectors" % MAX_WILDCARDS_PER_PATTERN)


def _parse_bracket_key(cur):
    open_pos = cur.pos
    cur.pos += 1  # '['
    quote = cur.peek()
    if quote not in ("'", '"'):
        raise cur.error("expected a quoted property name after '[' (for example $.['cluster.name'])")
    end = cur.text.find(quote, cur.pos + 1)
    if end < 0:
        raise cur.error("unterminated quoted property name", cur.pos)
    key = cur.text[cur.pos + 1:end]
    if not key:
        raise cur.error("empty property name", cur.pos)
    cur.pos = end + 1
    if not cur.take("]"):
        raise cur.error("expected ']' to close the '[' at position %d" % open_pos)
    return key


_KEYWORD_RE = re.compile(r"[A-Za-z]+")


def _parse_json_condition(cur):
    cur.skip_ws()
    start = cur.pos
    char = cur.peek()
    if char != "$":
        if char in ("", "}"):
            raise cur.error("expected a condition such as $.field = value")
        raise cur.error("expected a selector starting with '$.' or '(', found %s" % _describe(char))
    path = _parse_selector(cur)
    cur.skip_ws()
    op_pos = cur.pos
    for operator in ("!=", "<=", ">=", "=", "<", ">"):
        if cur.take(operator):
            if operator == "=" and cur.peek() == "=":
                raise cur.error("'==' is not an operator; use '='")
            rhs = _parse_value(cur, operator, op_pos)
            return _JsonCondition(path, operator, rhs, start)
    word = _KEYWORD_RE.match(cur.text, cur.pos)
    keyword = word.group(0).upper() if word else ""
    if keyword == "IS":
        cur.pos = word.end()
        cur.skip_ws()
        word = _KEYWORD_RE.match(cur.text, cur.pos)
        operand = word.group(0).upper() if word else ""
        if operand in ("NULL", "TRUE", "FALSE"):
            cur.pos = word.end()
            return _JsonCondition(path, "IS " + operand, None, start)
        if operand == "NOT":
            raise cur.error("'IS NOT' is not supported; use '!=' or 'NOT EXISTS'")
        raise cur.error("expected NULL, TRUE or FALSE after 'IS'")
    if keyword == "NOT":
        cur.pos = word.end()
        cur.skip_ws()
        word = _KEYWORD_RE.match(cur.text, cur.pos)
        if word and word.group(0).upper() == "EXISTS":
            cur.pos = word.end()
            return _JsonCondition(path, "NOT EXISTS", None, start)
        raise cur.error("expected EXISTS after 'NOT'")
    if keyword == "EXISTS":
        raise cur.error("'EXISTS' is not supported; use '$.field = *' or 'NOT EXISTS'")
    if cur.at_end() or cur.peek() == "}":
        raise cur.error("expected an operator (=, !=, <, <=, >, >=, IS or NOT EXISTS) after the selector")
    raise cur.error("expected an operator (=, !=, <, <=, >, >=, IS or NOT EXISTS), found %s" % _describe(cur.peek()))


def parse_json_message(message):
    """Return the JSON object in ``message`` (a dict), or ``NOT_JSON``.

    Callers that evaluate many JSON patterns against one message parse it once with this
    function and pass the result as ``parsed=``.
    """
    if message.__class__ is not str:
        return NOT_JSON
    stripped = message.lstrip()
    if not stripped.startswith("{"):
        return NOT_JSON
    try:
        obj = json.loads(stripped)
    except (ValueError, RecursionError):
        # RecursionError: a message nested deeper than the json module can parse.
        return NOT_JSON
    if obj.__class__ is not dict:
        return NOT_JSON
    return obj


def _compile_json(cur):
    open_pos = cur.pos
    cur.pos += 1  # '{'
    cur.skip_ws()
    if cur.peek() == "}":
        raise cur.error("empty JSON pattern; expected a condition such as $.field = value")
    tree = _parse_bool_expr(cur, lambda: _parse_json_condition(cur), "}")
    cur.skip_ws()
    if cur.at_end():
        raise cur.error("missing '}' for the '{' at position %d" % open_pos)
    if cur.peek() == ")":
        raise cur.error("unbalanced ')'")
    if not cur.take("}"):
        raise cur.error("expected '&&', '||' or '}', found %s" % _describe(cur.peek()))
    cur.skip_ws()
    if not cur.at_end():
        raise cur.error("unexpected text after the closing '}'")
    test = tree.build()
    clauses = _order_clauses(tree.requirements())

    def prefilter(message):
        if message.__class__ is not str:
            return False
        if clauses and "\\" not in message:
            for clause in clauses:
                for literal in clause:
                    if literal in message:
                        break
                else:
                    return False
        return True

    def match(message, parsed=None):
        if parsed is None:
            if not prefilter(message):
                return False
            parsed = parse_json_message(message)
        if parsed.__class__ is not dict:
            return False
        return bool(test(parsed))

    return match, prefilter, test, clauses


def _order_clauses(clauses):
    """Single, long literals first: they are the most likely to reject a message."""
    ordered = sorted(clauses, key=lambda clause: (len(clause), -min(len(literal) for literal in clause)))
    return tuple(tuple(sorted(clause, key=len, reverse=True)) for clause in ordered)


# ---------------------------------------------------------------------------
# Space-delimited patterns
# ---------------------------------------------------------------------------


class _FieldCondition(object):
    __slots__ = ("operator", "rhs")

    def __init__(self, operator, rhs):
        self.operator = operator
        self.rhs = rhs

    def build(self):
        return _make_comparison(self.operator, self.rhs)

    def requirements(self):
        if self.operator == "=":
            literal = self.rhs.literal_requirement()
            if literal is not None:
                return [frozenset([literal])]
        return []


_FIELD_NAME_RE = re.compile(r"[A-Za-z0-9_]+")


class _Slot(object):
    __slots__ = ("name", "test", "ellipsis", "tree")

    def __init__(self, name=None, tree=None, ellipsis=False):
        self.name = name
        self.tree = tree
        self.test = tree.build() if tree is not None else None
        self.ellipsis = ellipsis


def _parse_slot(cur, index, names):
    """One field of ``[a, b = 1, ..., c != x*]``; returns a _Slot."""
    cur.skip_ws()
    if cur.take("..."):
        return _Slot(ellipsis=True)
    char = cur.peek()
    if char in (",", "]"):
        return _Slot()
    if char == "":
        raise cur.error("missing ']' at the end of the space-delimited pattern")
    slot_name = []

    def parse_leaf():
        cur.skip_ws()
        start = cur.pos
        word = _FIELD_NAME_RE.match(cur.text, cur.pos)
        if not word:
            raise cur.error("expected a field name (letters, digits and '_'), found %s" % _describe(cur.peek()))
        name = word.group(0)
        cur.pos = word.end()
        if not slot_name:
            slot_name.append(name)
        elif name.lower() != slot_name[0].lower():
            raise cur.error(
                "condition on '%s' inside field %d, which is named '%s'; a field's conditions can only test that field" % (name, index + 1, slot_name[0]),
                start,
            )
        cur.skip_ws()
        op_pos = cur.pos
        for operator in ("!=", "<=", ">=", "=", "<", ">"):
            if cur.take(operator):
                if operator == "=" and cur.peek() == "=":
                    raise cur.error("'==' is not an operator; use '='")
                return _FieldCondition(operator, _parse_value(cur, operator, op_pos))
        return None

    # A bare name is a plain named field.
    save = cur.pos
    word = _FIELD_NAME_RE.match(cur.text, cur.pos)
    if word:
        cur.pos = word.end()
        cur.skip_ws()
        if cur.peek() in (",", "]", ""):
            name = word.group(0)
            _remember_name(cur, names, name, save)
            return _Slot(name=name)
        cur.pos = save

    def parse_atom():
        leaf = parse_leaf()
        if leaf is None:
            raise cur.error("expected an operator (=, !=, <, <=, >, >=) after the field name")
        return leaf

    tree = _parse_bool_expr(cur, parse_atom, "]")
    _remember_name(cur, names, slot_name[0], save)
    return _Slot(name=slot_name[0], tree=tree)


def _remember_name(cur, names, name, pos):
    if name in names:
        raise cur.error("field name '%s' is used twice" % name, pos)
    names.add(name)


def _tokenize_delimited(message):
    """Split a message into fields: whitespace (``str.isspace``) separates, ``[...]`` and ``"..."`` group.

    A group is recognised where a field starts; its brackets or quotes are not part of
    the value. A group that is never closed runs to the end of the message.
    """
    if "[" not in message and '"' not in message:
        return message.split()
    return [value for value, _start in _scan_delimited(message)]


def _scan_delimited(message):
    """Yield ``(value, raw_start)`` for each field of ``message``."""
    length = len(message)
    pos = 0
    while pos < length:
        char = message[pos]
        if char.isspace():
            pos += 1
            continue
        if char == "[" or char == '"':
            closer = "]" if char == "[" else '"'
            end = message.find(closer, pos + 1)
            if end < 0:
                end = length
            yield message[pos + 1:end], pos
            pos = end + 1
            continue
        end = pos
        while end < length and not message[end].isspace():
            end += 1
        yield message[pos:end], pos
        pos = end


def _remainder(message, index):
    """The raw text of ``message`` from its field number ``index`` (0-based) to the end."""
    for number, (_value, start) in enumerate(_scan_delimited(message)):
        if number == index:
            return message[start:].rstrip()
    return ""


def _assign(slots, tokens, message):
    """Match the fields of a message against the pattern's slots.

    Returns a list of ``(slot_index, value)`` (one per field of the message, except that
    the last slot of a pattern without '...' takes the rest of the message as one
    value), or None if the message does not match.
    """
    fixed = len(slots)
    count = len(tokens)
    if not any(slot.ellipsis for slot in slots):
        if count < fixed:
            return None
        if count > fixed:
            # "[w1=ERROR, w2]" matches "ERROR 09/25/2014 12:00:02 Failed to process request":
            # the last field takes the rest of the message.
            tokens = list(tokens[:fixed - 1])
            tokens.append(_remainder(message, fixed - 1))
        for slot, token in zip(slots, tokens):
            if slot.test is not None and not slot.test(token):
                return None
        return list(enumerate(tokens))
    fixed = sum(1 for slot in slots if not slot.ellipsis)
    if count < fixed:
        return None
    if fixed == len(slots) - 1:
        split = next(i for i, slot in enumerate(slots) if slot.ellipsis)
        head = slots[:split]
        tail = slots[split + 1:]
        tail_start = count - len(tail)
        for slot, token in zip(head, tokens):
            if slot.test is not None and not slot.test(token):
                return None
        for slot, token in zip(tail, tokens[tail_start:]):
            if slot.test is not None and not slot.test(token):
                return None
        owners = list(range(len(head)))
        owners.extend([split] * (tail_start - len(head)))
        owners.extend(range(split + 1, split + 1 + len(tail)))
        return list(zip(owners, tokens))
    owners = _assign_dynamic(slots, tokens)
    return None if owners is None else list(zip(owners, tokens))


def _assign_dynamic(slots, tokens):
    """Several '...': which slot takes each token, by dynamic programming (O(slots x tokens)).

    ``fits[i][j]`` says whether slots[i:] can take tokens[j:].
    """
    count = len(tokens)
    size = len(slots)
    fits = [None] * (size + 1)
    fits[size] = [False] * count + [True]
    for index in range(size - 1, -1, -1):
        slot = slots[index]
        following = fits[index + 1]
        row = [False] * (count + 1)
        if slot.ellipsis:
            row[count] = following[count]
            for position in range(count - 1, -1, -1):
                row[position] = following[position] or row[position + 1]
        else:
            test = slot.test
            for position in range(count - 1, -1, -1):
                row[position] = following[position + 1] and (test is None or bool(test(tokens[position])))
        fits[index] = row
    if not fits[0][0]:
        return None
    owners = []
    position = 0
    for index, slot in enumerate(slots):
        if slot.ellipsis:
            # Take as few tokens as possible: the first position from which the rest fits.
            while not fits[index + 1][position]:
                owners.append(index)
                position += 1
        else:
            owners.append(index)
            position += 1
    return owners


def _compile_delimited(cur):
    open_pos = cur.pos
    cur.pos += 1  # '['
    slots = []
    names = set()
    while True:
        slot = _parse_slot(cur, len(slots), names)
        cur.skip_ws()
        char = cur.peek()
        if char == ",":
            cur.pos += 1
            slots.append(slot)
            continue
        if char == "]":
            cur.pos += 1
            # "[a, b,]": the trailing empty field is an unnamed field (AWS's own example).
            slots.append(slot)
            break
        if char == "":
            raise cur.error("missing ']' for the '[' at position %d" % open_pos)
        if slot.ellipsis:
            raise cur.error("expected ',' or ']' after '...'")
        raise cur.error("expected ',', ']', '&&' or '||', found %s" % _describe(char))
    cur.skip_ws()
    if not cur.at_end():
        raise cur.error("unexpected text after the closing ']'")
    if len(slots) == 1 and slots[0].name is None and not slots[0].ellipsis:
        raise cur.error("empty space-delimited pattern; name at least one field", open_pos + 1)
    # "..., ..." means the same as one "...".
    slots = [slot for index, slot in enumerate(slots) if not (slot.ellipsis and index and slots[index - 1].ellipsis)]
    required = []
    for slot in slots:
        if slot.tree is not None:
            required.extend(slot.tree.requirements())
    clauses = _order_clauses(required)
    tokenize = _tokenize_delimited

    def prefilter(message):
        if message.__class__ is not str:
            return False
        for clause in clauses:
            for literal in clause:
                if literal in message:
                    break
            else:
                return False
        return True

    def match(message, parsed=None):
        if not prefilter(message):
            return False
        return _assign(slots, tokenize(message), message) is not None

    def extract(message):
        if message.__class__ is not str:
            return None
        assigned = _assign(slots, tokenize(message), message)
        if assigned is None:
            return None
        values = {}
        for position, (owner, value) in enumerate(assigned):
            name = slots[owner].name
            values["$%s" % (name if name is not None else position + 1)] = value
        return values

    return match, prefilter, extract, clauses


# ---------------------------------------------------------------------------
# Unstructured (term) patterns
# ---------------------------------------------------------------------------


def _compile_terms(cur):
    """``ERROR "exact phrase" -excluded ?optional %regex%``."""
    text = cur.text
    required = []
    excluded = []
    optional = []
    warnings = []
    blank_phrase = False
    while True:
        cur.skip_ws()
        if cur.at_end():
            break
        start = cur.pos
        prefix = ""
        if cur.peek() in ("-", "?"):
            prefix = cur.peek()
            cur.pos += 1
            cur.skip_ws()
            if cur.at_end():
                raise cur.error("expected a term after '%s'" % prefix, start)
        term_pos = cur.pos
        char = cur.peek()
        if char == '"':
            phrase = cur.quoted()
            if not phrase.strip():
                if prefix:
                    raise cur.error("a blank phrase cannot follow '%s'" % prefix, term_pos)
                blank_phrase = True
                continue
            term = phrase
        elif char == "%":
            term = cur.regex()
        else:
            pos = term_pos
            while pos < len(text) and text[pos] not in _WHITESPACE:
                item = text[pos]
                if not (item.isalnum() or item == "_"):
                    raise cur.error(
                        "character %r must be inside double quotes (unquoted terms may contain only letters, digits and '_')" % item, pos)
                pos += 1
            term = text[term_pos:pos]
            cur.pos = pos
        if cur.pos < len(text) and text[cur.pos] not in _WHITESPACE:
            raise cur.error("expected a space after the term, found %s" % _describe(text[cur.pos]))
        (excluded if prefix == "-" else optional if prefix == "?" else required).append(term)
    if optional and (required or excluded):
        warnings.append("'?' terms are ignored because the pattern also has terms without '?' (AWS ignores '?' when it is combined with other terms)")
        optional = []
    if not (required or excluded or optional):
        return None, warnings, blank_phrase
    return _build_terms_matcher(required, excluded, optional), warnings, blank_phrase


def _searcher(term):
    if isinstance(term, str):
        return lambda message: term in message
    search = term.search
    return lambda message: search(message) is not None


def _build_terms_matcher(required, excluded, optional):
    plain_required = [term for term in required if isinstance(term, str)]
    regex_required = [term.search for term in required if not isinstance(term, str)]
    plain_excluded = [term for term in excluded if isinstance(term, str)]
    regex_excluded = [term.search for term in excluded if not isinstance(term, str)]
    if optional:
        tests = [_searcher(term) for term in optional]
        plain_optional = [term for term in optional if isinstance(term, str)]
        if len(plain_optional) == len(optional):
            def any_term(message, parsed=None):
                for term in plain_optional:
                    if term in message:
                        return True
                return False
            return any_term

        def any_test(message, parsed=None):
            for test in tests:
                if test(message):
                    return True
            return False
        return any_test
    if len(plain_required) == 1 and not regex_required and not excluded:
        only = plain_required[0]
        return lambda message, parsed=None: only in message
    if len(regex_required) == 1 and not plain_required and not excluded:
        only_search = regex_required[0]
        return lambda message, parsed=None: only_search(message) is not None
    plain_required.sort(key=len, reverse=True)

    def all_terms(message, parsed=None):
        for term in plain_required:
            if term not in message:
                return False
        for term in plain_excluded:
            if term in message:
                return False
        for search in regex_required:
            if search(message) is None:
                return False
        for search in regex_excluded:
            if search(message) is not None:
                return False
        return True
    return all_terms


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------


def _as_text(message):
    """Messages are text: None is the empty message and bytes are decoded as UTF-8."""
    if message is None:
        return ""
    if isinstance(message, (bytes, bytearray)):
        return bytes(message).decode("utf-8", "replace")
    return str(message)


def _match_everything(message, parsed=None):
    return True


class CompiledPattern(object):
    """A compiled filter pattern. Build it with :func:`compile_pattern`."""

    __slots__ = ("source", "kind", "warnings", "prefilter_clauses", "_match", "_extract", "_prefilter", "_test_parsed")

    def __init__(self, source, kind, match, extract=None, warnings=(), prefilter=None, test_parsed=None, prefilter_clauses=()):
        self.source = source
        self.kind = kind
        self.warnings = tuple(warnings)
        # Each clause is a tuple of substrings of which at least one must be in the raw message.
        self.prefilter_clauses = tuple(prefilter_clauses)
        self._match = match
        self._extract = extract
        self._prefilter = prefilter
        self._test_parsed = test_parsed

    def could_match(self, message):
        """A cheap necessary condition: False means ``matches(message)`` is False.

        For term patterns it is the match itself. For JSON and space-delimited patterns it
        checks substrings the raw message must contain, without parsing it.
        """
        if message.__class__ is not str:
            message = _as_text(message)
        if self._prefilter is not None:
            return self._prefilter(message)
        return self._match(message, None)

    def matches(self, message, parsed=None):
        """True if the log event ``message`` matches.

        ``parsed`` is optional and used only by JSON patterns: the message's JSON object
        if the caller has parsed it already (see :func:`parse_json_message`), or
        ``NOT_JSON`` if the caller knows it is not a JSON object.
        """
        if message.__class__ is not str:
            message = _as_text(message)
        return self._match(message, parsed)

    def extract_fields(self, message):
        """See :func:`extract_fields`."""
        if message.__class__ is not str:
            message = _as_text(message)
        if self._extract is not None:
            return self._extract(message)
        return {} if self.matches(message) else None

    def __repr__(self):
        return "CompiledPattern(kind=%r, source=%r)" % (self.kind, self.source)

    def __reduce__(self):
        # Compiled closures do not pickle; the source recompiles to the same pattern.
        return (compile_pattern, (self.source,))

    def __eq__(self, other):
        return isinstance(other, CompiledPattern) and other.source == self.source

    def __ne__(self, other):
        return not self.__eq__(other)

    def __hash__(self):
        return hash(self.source)


def compile_pattern(pattern):
    """Compile ``pattern``; raise :class:`FilterPatternError` if it is not valid."""
    if pattern is None:
        pattern = ""
    if not isinstance(pattern, str):
        raise FilterPatternError("a filter pattern must be a string, not %s" % type(pattern).__name__, 0, None)
    if len(pattern) > MAX_PATTERN_LENGTH:
        raise FilterPatternError("a filter pattern can be at most %d characters long (this one has %d)" % (MAX_PATTERN_LENGTH, len(pattern)),
                                 MAX_PATTERN_LENGTH, pattern)
    cur = _Cursor(pattern)
    cur.skip_ws()
    if cur.at_end():
        return CompiledPattern(pattern, "all", _match_everything)
    first = cur.peek()
    if first == "{":
        match, prefilter, test, clauses = _compile_json(cur)
        return CompiledPattern(pattern, "json", match, prefilter=prefilter, test_parsed=test, prefilter_clauses=clauses)
    if first == "[":
        match, prefilter, extract, clauses = _compile_delimited(cur)
        return CompiledPattern(pattern, "space_delimited", match, extract, prefilter=prefilter, prefilter_clauses=clauses)
    match, warnings, _blank = _compile_terms(cur)
    if match is None:
        return CompiledPattern(pattern, "all", _match_everything, warnings=warnings)
    return CompiledPattern(pattern, "terms", match, warnings=warnings)


def validate_pattern(pattern):
    """Raise :class:`FilterPatternError` if ``pattern`` is not a valid filter pattern."""
    compile_pattern(pattern)


_cached_compile = functools.lru_cache(maxsize=512)(compile_pattern)


def matches(pattern, message, parsed=None):
    """True if ``message`` matches ``pattern`` (compiled patterns are cached)."""
    if isinstance(pattern, CompiledPattern):
        return pattern.matches(message, parsed)
    return _cached_compile(pattern).matches(message, parsed)


def match_many(patterns, message, parsed=None):
    """The compiled patterns of ``patterns`` that ``message`` matches, in order.

    The message is parsed as JSON at most once: right away when there are several JSON
    patterns, otherwise only if the JSON pattern's prefilter lets the message through.
    Pass ``parsed`` (a dict or ``NOT_JSON``) if the caller has parsed it already.
    """
    if message.__class__ is not str:
        message = _as_text(message)
    if not isinstance(patterns, (list, tuple)):
        patterns = list(patterns)
    if parsed is None:
        json_rules = 0
        for compiled in patterns:
            if compiled._test_parsed is not None:  # pylint: disable=protected-access
                json_rules += 1
        # With several JSON patterns one parse (about 10 us for a CloudTrail event) costs
        # less than their raw-text prefilters; with one, the prefilter avoids most parses.
        if json_rules > 1:
            parsed = parse_json_message(message)
    found = []
    for compiled in patterns:
        test = compiled._test_parsed  # pylint: disable=protected-access
        if test is None:
            if compiled.matches(message):
                found.append(compiled)
            continue
        if parsed is None:
            if not compiled.could_match(message):
                continue
            parsed = parse_json_message(message)
        if parsed.__class__ is dict and test(parsed):
            found.append(compiled)
    return found


def extract_fields(compiled, message):
    """The fields a pattern extracts from ``message``, or None if it does not match.

    For space-delimited patterns the keys are ``$name`` for named fields and ``$N``
    (1-based position) for fields matched by ``...`` or left unnamed, as in AWS's
    ``extractedValues``. Other kinds of patterns extract nothing: ``{}`` on a match.
    """
    if not isinstance(compiled, CompiledPattern):
        compiled = _cached_compile(compiled)
    return compiled.extract_fields(message)
