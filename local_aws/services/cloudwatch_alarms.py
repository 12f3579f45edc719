# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch metric alarms evaluated (moto 5.2.5 stores alarms and never evaluates them).

After the passes of each flush settle (``local_aws.hooks.register_flush_hooks``), every
metric alarm on a single metric (not metric math, not composite) is evaluated as the
CloudWatch User Guide describes ("Using Amazon CloudWatch alarms" > "Evaluating an alarm"
and "Configuring how CloudWatch alarms treat missing data",
https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html):

* the evaluation range is the last ``EvaluationPeriods`` periods of ``Period`` seconds, the
  newest being the period that holds the time of the evaluation (periods start at multiples
  of ``Period`` since the epoch);
* in each period the datapoints of the metric (same namespace, name and exactly the same
  dimensions) give the alarm's ``Statistic`` (SampleCount, Average, Sum, Minimum, Maximum),
  compared with ``Threshold`` by ``ComparisonOperator``;
* a period without datapoints is *missing*: ``TreatMissingData`` ``breaching`` counts it as
  breaching, ``notBreaching`` as good, ``ignore`` keeps the alarm's state when every period
  is missing, and ``missing`` (the default) makes the alarm INSUFFICIENT_DATA when every
  period is missing; otherwise only the periods with data count;
* ALARM when at least ``DatapointsToAlarm`` (default ``EvaluationPeriods``) periods breach,
  else OK.

A change of state goes through ``SetAlarmState``, so the alarm's actions publish to SNS
(``local_aws.services.resource_policies``). Alarms are evaluated only at the end of a
flush, not in the background (a test decides when time has passed).
"""

import datetime
import json
import logging
import threading
import time

LOG = logging.getLogger("local_aws.cloudwatch_alarms")

OPERATORS = {
    "GreaterThanOrEqualToThreshold": lambda value, threshold: value >= threshold,
    "GreaterThanThreshold": lambda value, threshold: value > threshold,
    "LessThanThreshold": lambda value, threshold: value < threshold,
    "LessThanOrEqualToThreshold": lambda value, threshold: value <= threshold,
}

_INSTALLED = {"done": False}
_CLOCK = {"now": None}
_LOCK = threading.Lock()


def set_clock(epoch):
    """Evaluate as of ``epoch`` instead of the real time (None: real time); tests use it."""
    with _LOCK:
        _CLOCK["now"] = epoch


def reset():
    set_clock(None)


def _now():
    with _LOCK:
        return _CLOCK["now"] if _CLOCK["now"] is not None else time.time()


def _epoch(timestamp):
    if isinstance(timestamp, (int, float)):
        return float(timestamp)
    if isinstance(timestamp, str):
        text = timestamp.replace("Z", "+00:00")
        try:
            timestamp = datetime.datetime.fromisoformat(text)
        except ValueError:
            return float(timestamp)
    if timestamp.tzinfo is None:
        timestamp = timestamp.replace(tzinfo=datetime.timezone.utc)
    return timestamp.timestamp()


def _dims(dimensions):
    return sorted((d.name, d.value) for d in dimensions or [])


def _values(datum):
    """(sample_count, sum, minimum, maximum) of one stored datum."""
    if hasattr(datum, "value"):
        return 1.0, datum.value, datum.value, datum.value
    return datum.sample_count, datum.sum, datum.min, datum.max


def statistic(name, data):
    count = sum(_values(d)[0] for d in data)
    total = sum(_values(d)[1] for d in data)
    if name == "SampleCount":
        return count
    if name == "Sum":
        return total
    if name == "Average":
        return total / count if count else None
    if name == "Minimum":
        return min(_values(d)[2] for d in data)
    if name == "Maximum":
        return max(_values(d)[3] for d in data)
    return None


def evaluate(alarm, metric_data, now):
    """The state the alarm should be in as of ``now``: (state, reason) or None to keep it."""
    period = int(alarm.period)
    periods = int(alarm.evaluation_periods)
    needed = int(alarm.datapoints_to_alarm or periods)
    compare = OPERATORS[alarm.comparison_operator]
    wanted_dims = _dims(alarm.dimensions)
    newest_start = int(now // period) * period
    matching = [d for d in metric_data
                if d.namespace == alarm.namespace and d.name == alarm.metric_name and _dims(d.dimensions) == wanted_dims]
    outcomes = []
    for index in range(periods):
        start = newest_start - index * period
        data = [d for d in matching if start <= _epoch(d.timestamp) < start + period]
        value = statistic(alarm.statistic, data) if data else None
        outcomes.append(None if value is None else compare(value, float(alarm.threshold)))
    treat = alarm.treat_missing_data or "missing"
    missing = sum(1 for o in outcomes if o is None)
    if treat == "breaching":
        outcomes = [True if o is None else o for o in outcomes]
    elif treat == "notBreaching":
        outcomes = [False if o is None else o for o in outcomes]
    elif missing == periods:
        if treat == "ignore":
            return None
        return "INSUFFICIENT_DATA", "Insufficient Data: %d datapoints were unknown." % periods
    breaching = sum(1 for o in outcomes if o)
    if breaching >= needed:
        return "ALARM", "Threshold Crossed: %d out of the last %d periods breached (%d missing, treated as %s)." % (
            breaching, periods, missing, treat)
    return "OK", "Threshold Crossed: %d out of the last %d periods breached, fewer than %d." % (breaching, periods, needed)


def evaluate_all():
    """The flush hook: evaluate every single-metric alarm; returns how many changed state."""
    from moto.cloudwatch.models import cloudwatch_backends  # pylint: disable=import-outside-toplevel

    now = _now()
    changed = 0
    for _account_id, regions in list(cloudwatch_backends.items()):
        for _region, backend in list(regions.items()):
            alarms = list(backend.alarms.values())
            if not alarms:
                continue
            metric_data = list(backend.metric_data)
            for alarm in alarms:
                if not alarm.metric_name or alarm.rule or alarm.comparison_operator not in OPERATORS:
                    continue
                outcome = evaluate(alarm, metric_data, now)
                if outcome is None or outcome[0] == alarm.state_value:
                    continue
                backend.set_alarm_state(alarm.name, outcome[1], json.dumps({"evaluatedAt": now}), outcome[0])
                changed += 1
    return changed


def install():
    if _INSTALLED["done"]:
        return
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    hooks.register_flush_hooks(after=evaluate_all)
    hooks.register_reset(reset)
    _INSTALLED["done"] = True
