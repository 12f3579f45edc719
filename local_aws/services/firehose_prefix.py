# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Firehose S3 prefix expressions: ``!{timestamp:<Java DateTimeFormatter>}`` and
``!{firehose:random-string|error-output-type}``.

Follows https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html:

* the timestamp is the approximate arrival time of the oldest record in the object,
  in UTC, and every ``timestamp`` expression of one prefix evaluates to the same instant;
* a Prefix without any expression gets the default time prefix ``yyyy/MM/dd/HH/``
  appended (an empty Prefix is just that default);
* an ErrorOutputPrefix without any expression gets
  ``!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/`` appended;
* ``error-output-type`` is only valid in ErrorOutputPrefix; a Prefix with expressions
  needs an ErrorOutputPrefix.

``partitionKeyFromQuery`` (dynamic partitioning, see ``firehose_partitioning``) is evaluated
from the keys given to :func:`evaluate`; it is only valid in a Prefix, and
``firehose_partitioning.validate`` checks that dynamic partitioning is enabled.
``partitionKeyFromLambda`` is not emulated: a prefix using it is rejected instead of being
evaluated wrongly.
"""

import random
import re
import string

EXPRESSION = re.compile(r"!\{([^}:]*):([^}]*)\}")
DEFAULT_TIME = "!{timestamp:yyyy/MM/dd/HH}/"
DEFAULT_ERROR = "!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd/HH}/"

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


class PrefixError(ValueError):
    """A prefix that AWS would reject (or that the emulator cannot evaluate)."""


def _field(letter, count, when):
    if letter in "yu":
        year = when.year
        return "%02d" % (year % 100) if count == 2 else str(year).zfill(count)
    if letter in "ML":
        if count >= 4:
            return _MONTHS[when.month - 1]
        if count == 3:
            return _MONTHS[when.month - 1][:3]
        return str(when.month).zfill(count)
    if letter == "d":
        return str(when.day).zfill(count)
    if letter == "D":
        return str(when.timetuple().tm_yday).zfill(count)
    if letter == "H":
        return str(when.hour).zfill(count)
    if letter == "h":
        return str((when.hour % 12) or 12).zfill(count)
    if letter == "k":
        return str(when.hour or 24).zfill(count)
    if letter == "K":
        return str(when.hour % 12).zfill(count)
    if letter == "m":
        return str(when.minute).zfill(count)
    if letter == "s":
        return str(when.second).zfill(count)
    if letter == "S":
        return ("%06d" % when.microsecond)[:count].ljust(count, "0")
    if letter == "a":
        return "AM" if when.hour < 12 else "PM"
    if letter == "E":
        name = _DAYS[when.weekday()]
        return name if count >= 4 else name[:3]
    if letter == "e":
        return str(when.isoweekday())
    raise PrefixError("unsupported DateTimeFormatter pattern letter %r" % letter)


def format_java(pattern, when):
    """Format ``when`` (an aware UTC datetime) with a Java DateTimeFormatter pattern."""
    out = []
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "'":
            end = pattern.find("'", i + 1)
            if end == -1:
                raise PrefixError("unterminated quote in timestamp pattern %r" % pattern)
            literal = pattern[i + 1:end]
            out.append("'" if literal == "" else literal)
            i = end + 1
            continue
        if char.isalpha():
            j = i
            while j < len(pattern) and pattern[j] == char:
                j += 1
            out.append(_field(char, j - i, when))
            i = j
            continue
        out.append(char)
        i += 1
    return "".join(out)


def random_string():
    """The 11-character random string of ``!{firehose:random-string}``."""
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(11))


def validate(prefix, error_prefix):
    """Raise PrefixError for what AWS rejects in a Prefix/ErrorOutputPrefix pair."""
    prefix = prefix or ""
    error_prefix = error_prefix or ""
    for name, value in (("Prefix", prefix), ("ErrorOutputPrefix", error_prefix)):
        if "!{" in EXPRESSION.sub("", value):
            raise PrefixError("%s %r contains a malformed expression: use !{namespace:value}" % (name, value))
        for namespace, argument in EXPRESSION.findall(value):
            if namespace == "timestamp":
                format_java(argument, _EPOCH)
            elif namespace == "firehose":
                if argument not in ("random-string", "error-output-type"):
                    raise PrefixError("%s %r: unknown firehose expression value %r" % (name, value, argument))
                if argument == "error-output-type" and name == "Prefix":
                    raise PrefixError("The expression !{firehose:error-output-type} is only allowed in ErrorOutputPrefix")
            elif namespace == "partitionKeyFromQuery" and name == "Prefix":
                if not argument:
                    raise PrefixError("%s %r: !{partitionKeyFromQuery:} needs a key name" % (name, value))
            elif namespace in ("partitionKeyFromQuery", "partitionKeyFromLambda"):
                raise PrefixError("%s %r: dynamic partitioning (!{%s:...}) is not emulated by the local AWS emulator"
                                  % (name, value, namespace))
            else:
                raise PrefixError("%s %r: unknown expression namespace %r" % (name, value, namespace))
    if EXPRESSION.search(prefix) and not error_prefix:
        raise PrefixError("ErrorOutputPrefix cannot be null or empty when Prefix contains expressions")


def evaluate(prefix, when, error_output_type=None, partition_keys=None):
    """Evaluate a Prefix (``error_output_type=None``) or an ErrorOutputPrefix.

    ``partition_keys``: the ``partitionKeyFromQuery`` values of the records of the object."""
    prefix = prefix or ""
    if error_output_type is None:
        template = prefix if EXPRESSION.search(prefix) else prefix + DEFAULT_TIME
    else:
        template = prefix if EXPRESSION.search(prefix) else prefix + DEFAULT_ERROR

    def _replace(match):
        namespace, argument = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java(argument, when)
        if namespace == "partitionKeyFromQuery":
            if argument not in (partition_keys or {}):
                raise PrefixError("partition key %r has no value" % argument)
            return partition_keys[argument]
        if argument == "random-string":
            return random_string()
        return error_output_type or ""

    return EXPRESSION.sub(_replace, template)


def _epoch():
    import datetime  # pylint: disable=import-outside-toplevel
    return datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc)


_EPOCH = _epoch()
