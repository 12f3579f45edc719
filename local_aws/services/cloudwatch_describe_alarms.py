# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DescribeAlarms: paginated, and filtered by AlarmTypes, as AWS answers it; DeleteAlarms: 100 names.

What moto 5.2.5 does: ``DescribeAlarms`` returns every matching alarm in one answer, never a
``NextToken``, ignores ``MaxRecords``, ``NextToken`` and ``AlarmTypes``, and returns the
composite alarms along with the metric alarms. Neither call limits ``AlarmNames``.

What AWS does (CloudWatch API reference, DescribeAlarms,
https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DescribeAlarms.html):

* "This operation returns paginated results": ``MaxRecords`` is "The maximum number of alarm
  descriptions to retrieve", valid range 1-100; the answer's ``NextToken`` "marks the start of
  the next batch of returned results". ``AlarmNames`` holds at most 100 names.
* ``AlarmTypes``: "If you omit this parameter, only metric alarms are returned, even if
  composite alarms exist in the account."
* Errors: ``InvalidNextToken`` ("The next token specified is invalid", HTTP 400).
* DeleteAlarms (https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_DeleteAlarms.html):
  "You can delete up to 100 alarms in one operation" (``AlarmNames``: at most 100 in the model).

What this patch does: the alarms moto's DescribeAlarms selected are filtered by ``AlarmTypes`` (default
``MetricAlarm``), sorted by name, and answered ``MaxRecords`` at a time (50 when it is not
given: the API reference gives no default; a client that follows ``NextToken`` is right
whatever the page size). ``NextToken`` is opaque; one the emulator did not issue is
``InvalidNextToken``. ``MaxRecords`` outside 1-100, or more than 100 ``AlarmNames`` in either
call, is ``ValidationError`` (botocore checks only the lower bounds before sending).
"""

import base64
import json

DEFAULT_PAGE = 50
MAX_PAGE = 100
MAX_ALARM_NAMES = 100
ALARM_TYPES = ("CompositeAlarm", "MetricAlarm")


def _token(name):
    return base64.urlsafe_b64encode(json.dumps({"after": name}).encode("utf-8")).decode("ascii")


def _after(token):
    """The name the page issued with ``token`` ended at, or None when the token is not ours."""
    try:
        value = json.loads(base64.urlsafe_b64decode(token.encode("ascii")).decode("utf-8"))
    except (ValueError, UnicodeError, TypeError):
        return None
    if not isinstance(value, dict) or not isinstance(value.get("after"), str):
        return None
    return value["after"]


def page(alarms, alarm_types, max_records, next_token):
    """(metric alarms, composite alarms, next token) of one page of ``alarms``.

    Raises ValueError with the AWS error code and message when a parameter is refused."""
    if max_records is not None and not 1 <= int(max_records) <= MAX_PAGE:
        raise ValueError("ValidationError", "1 validation error detected: Value '%s' at 'maxRecords' failed to satisfy"
                         " constraint: Member must have value between 1 and %d" % (max_records, MAX_PAGE))
    types = set(alarm_types or ["MetricAlarm"])
    unknown = sorted(types - set(ALARM_TYPES))
    if unknown:
        raise ValueError("ValidationError", "1 validation error detected: Value '%s' at 'alarmTypes' failed to satisfy"
                         " constraint: Member must satisfy enum value set: [%s]" % (unknown[0], ", ".join(ALARM_TYPES)))
    selected = sorted((a for a in alarms if ("CompositeAlarm" if a.rule is not None else "MetricAlarm") in types),
                      key=lambda a: a.name)
    if next_token:
        after = _after(next_token)
        if after is None:
            raise ValueError("InvalidNextToken", "The next token specified is invalid.")
        selected = [a for a in selected if a.name > after]
    size = int(max_records) if max_records is not None else DEFAULT_PAGE
    shown, rest = selected[:size], selected[size:]
    token = _token(shown[-1].name) if rest else None
    return ([a for a in shown if a.rule is None], [a for a in shown if a.rule is not None], token)


def install():
    from moto.cloudwatch import exceptions  # pylint: disable=import-outside-toplevel
    from moto.cloudwatch.responses import CloudWatchResponse  # pylint: disable=import-outside-toplevel
    from moto.core.responses import ActionResult  # pylint: disable=import-outside-toplevel

    if getattr(CloudWatchResponse.describe_alarms, "logvault_patched", False):
        return

    class InvalidNextToken(exceptions.CloudWatchException):
        code = "InvalidNextToken"

    errors = {"ValidationError": exceptions.ValidationError, "InvalidNextToken": InvalidNextToken}

    def at_most_100_names(alarm_names):
        if len(alarm_names or []) > MAX_ALARM_NAMES:
            raise exceptions.ValidationError(
                "1 validation error detected: Value at 'alarmNames' failed to satisfy constraint: Member must have"
                " length less than or equal to %d" % MAX_ALARM_NAMES)

    original_delete = CloudWatchResponse.delete_alarms

    def delete_alarms(self):
        at_most_100_names(self._get_param("AlarmNames", []))
        return original_delete(self)

    original_describe = CloudWatchResponse.describe_alarms

    def describe_alarms(self):
        at_most_100_names(self._get_param("AlarmNames", []))
        # moto's own selection (ActionPrefix, AlarmNamePrefix, AlarmNames, StateValue), every alarm at once.
        selected = original_describe(self).result
        try:
            metric, composite, token = page(list(selected["MetricAlarms"]) + list(selected["CompositeAlarms"]),
                                            self._get_param("AlarmTypes", []), self._get_param("MaxRecords"),
                                            self._get_param("NextToken"))
        except ValueError as error:
            raise errors[error.args[0]](error.args[1]) from None
        result = {"MetricAlarms": metric, "CompositeAlarms": composite}
        if token:
            result["NextToken"] = token
        return ActionResult(result)

    describe_alarms.logvault_patched = True
    CloudWatchResponse.describe_alarms = describe_alarms
    CloudWatchResponse.delete_alarms = delete_alarms
