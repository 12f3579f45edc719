# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""EventBridge Scheduler schedules that fire (moto 5.2.5 stores them and never runs them).

* **On each flush** (``local_aws.hooks.register_flush_hooks``, before the passes), every
  ENABLED schedule whose target is a Lambda function fires once, as if its next occurrence
  had come: one flush is one tick of every schedule. The passes that follow then deliver
  what the functions wrote.
* **In the background** (the pollers' thread), a ``rate(...)`` schedule fires when its
  next occurrence comes in real time (its creation time plus a multiple of the rate), and
  an ``at(...)`` schedule once at its time; ``cron(...)`` fires on flushes only. The poller
  only queues the occurrences that came; one worker thread of their own fires them, one at a
  time, and its functions run at a lower CPU priority (``LOGVAULT_AWS_BACKGROUND_NICE``): on
  AWS they run on Lambda's fleet, not on the clients' machine. So neither the other pollers
  nor a flush wait for hundreds of canaries (organization scale: 1,700 every 5 minutes), and
  their CPU goes to the clients first. An occurrence that comes while the schedule's previous
  one still waits in the queue is skipped (the worker lags behind, it does not pile up).

A firing does what the Scheduler User Guide describes for a templated Lambda target
(https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-targets-templated.html):

* Scheduler assumes the schedule's role: with ``LOGVAULT_AWS_TRUST_POLICIES`` on, the
  trust policy must let ``scheduler.amazonaws.com`` assume it with the context
  ``aws:SourceAccount`` (the schedule's account) and ``aws:SourceArn`` (the ARN of the
  schedule's *group*, as "Cross-service confused deputy prevention" says,
  https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html),
  the keys of the documented trust policy
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/setting-up.html#setting-up-execution-role).
  CreateSchedule and UpdateSchedule refuse such a role too (ValidationException "The execution
  role you provide must allow AWS EventBridge Scheduler to assume the role.");
* with ``LOGVAULT_AWS_SERVICE_ROLE_POLICIES`` on, the role's policies must allow
  ``lambda:InvokeFunction`` on the function;
* the target's ``Input`` is the event, after the context attributes
  ``<aws.scheduler.schedule-arn>``, ``<aws.scheduler.scheduled-time>``,
  ``<aws.scheduler.execution-id>`` and ``<aws.scheduler.attempt-number>`` are replaced
  (https://docs.aws.amazon.com/scheduler/latest/UserGuide/managing-schedule-context-attributes.html);
* the function runs (``lambda_runtime``), as Scheduler's asynchronous invocation does.
  On a flush, the schedules fire concurrently, as separate schedules do on AWS (at most
  ``LOGVAULT_AWS_SCHEDULER_CONCURRENCY`` invocations at once, default the number of cores);
  the background worker fires one at a time, so that it does not take every core from the
  clients the emulator serves.

A refused or failed firing is not retried (the emulator has no retry clock); it is kept in
:func:`firings` with its reason, which tests read.
"""

import concurrent.futures
import datetime
import json
import logging
import os
import queue
import re
import threading
import time
import uuid

LOG = logging.getLogger("local_aws.scheduler")

RATE = re.compile(r"^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$")
UNIT_SECONDS = {"minute": 60, "minutes": 60, "hour": 3600, "hours": 3600, "day": 86400, "days": 86400}
AT = re.compile(r"^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$")
MAX_FIRINGS_KEPT = 1000

_LOCK = threading.Lock()
_NEXT_DUE = {}  # schedule ARN -> epoch seconds of its next background occurrence
_FIRINGS = []
_INSTALLED = {"done": False}
_QUEUE = queue.Queue()  # (generation, (account_id, region, schedule, epoch)) for the worker
_QUEUED = set()  # ARNs of the schedules with an occurrence in _QUEUE
_STATE = {"generation": 0, "worker": None}


def firings():
    """Every firing so far, oldest first: dicts with schedule, scheduled_time, status, reason."""
    with _LOCK:
        return list(_FIRINGS)


def reset():
    with _LOCK:
        _NEXT_DUE.clear()
        del _FIRINGS[:]
        _QUEUED.clear()
        _STATE["generation"] += 1  # what is queued belongs to the backends just reset


def rate_seconds(expression):
    match = RATE.match(expression or "")
    if not match:
        return None
    return int(match.group(1)) * UNIT_SECONDS[match.group(2)]


def _iso(epoch):
    return datetime.datetime.fromtimestamp(int(epoch), tz=datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _schedules():
    from moto.scheduler.models import scheduler_backends  # pylint: disable=import-outside-toplevel

    found = []
    for account_id, regions in list(scheduler_backends.items()):
        for region, backend in list(regions.items()):
            for group in list(backend.schedule_groups.values()):
                for schedule in list(group.schedules.values()):
                    found.append((account_id, region, schedule))
    return found


def _function(arn):
    from moto.awslambda.models import lambda_backends  # pylint: disable=import-outside-toplevel

    parts = (arn or "").split(":")
    if len(parts) < 7 or parts[2] != "lambda" or parts[5] != "function":
        return None
    try:
        return lambda_backends[parts[4]][parts[3]].get_function(arn)
    except Exception:  # pylint: disable=broad-except
        return None


def trust_context(account_id, region, group_name):
    """The context Scheduler sends when it assumes a schedule's role."""
    return {"aws:SourceAccount": account_id,
            "aws:SourceArn": "arn:aws:scheduler:%s:%s:schedule-group/%s" % (region, account_id, group_name or "default")}


def _check_role(backend, group_name, target):
    from local_aws.services import trust  # pylint: disable=import-outside-toplevel
    from moto.scheduler.exceptions import ValidationException  # pylint: disable=import-outside-toplevel

    role_arn = (target or {}).get("RoleArn")
    context = trust_context(backend.account_id, backend.region_name, group_name)
    if trust.refused(role_arn, "scheduler", backend.region_name, context):
        raise ValidationException("The execution role you provide must allow AWS EventBridge Scheduler to assume the role.")


def render_input(text, schedule_arn, scheduled_time, execution_id, attempt=1):
    """The target's Input with Scheduler's context attributes replaced."""
    text = text if text is not None else "{}"
    for name, value in (("schedule-arn", schedule_arn), ("scheduled-time", scheduled_time),
                        ("execution-id", execution_id), ("attempt-number", str(attempt))):
        text = text.replace("<aws.scheduler.%s>" % name, value)
    return text


def _record(entry):
    with _LOCK:
        _FIRINGS.append(entry)
        del _FIRINGS[:-MAX_FIRINGS_KEPT]


def fire(account_id, region, schedule, scheduled_epoch):
    """Invoke the schedule's target once; returns the recorded firing."""
    from local_aws.services import lambda_runtime, service_roles, trust  # pylint: disable=import-outside-toplevel

    target = schedule.target or {}
    scheduled_time = _iso(scheduled_epoch)
    entry = {"schedule": schedule.arn, "scheduled_time": scheduled_time, "status": "invoked", "reason": ""}
    role_arn, target_arn = target.get("RoleArn"), target.get("Arn")
    context = trust_context(account_id, region, schedule.group_name)
    fn = _function(target_arn)
    if trust.refused(role_arn, "scheduler", region, context):
        entry.update(status="refused", reason="scheduler.amazonaws.com may not assume %s" % role_arn)
    elif fn is None:
        entry.update(status="failed", reason="target %s is not a Lambda function that exists" % target_arn)
    else:
        refused = service_roles.denied(role_arn, "lambda:InvokeFunction", fn.function_arn, "scheduler")
        if refused:
            entry.update(status="refused", reason=service_roles.not_authorized_message(
                role_arn, refused[0], fn.function_arn, refused[1]))
    if entry["status"] == "invoked":
        text = render_input(target.get("Input"), schedule.arn, scheduled_time, str(uuid.uuid4()))
        try:
            event = json.loads(text)
        except ValueError:
            event = text
        outcome = lambda_runtime.invoke(fn, event)
        if outcome.failed:
            entry.update(status="function_error", reason=json.dumps(outcome.error)[:500])
    if entry["status"] != "invoked":
        LOG.warning("schedule %s: %s", schedule.arn, entry["reason"])
    _record(entry)
    return entry


def _fireable(schedule):
    """Enabled, with a Lambda function as target (the only target type emulated)."""
    return schedule.state == "ENABLED" and str((schedule.target or {}).get("Arn")).split(":")[2:3] == ["lambda"]


def _fire_together(due):
    """Fire ``(account_id, region, schedule, epoch)`` occurrences at the same time.

    Scheduler invokes each schedule's target on its own, so occurrences that come together
    run concurrently (each invocation is a subprocess; the threads only wait for them). At
    most ``LOGVAULT_AWS_SCHEDULER_CONCURRENCY`` at once (default: the number of cores, at
    least 2). Returns the firings in the order given.
    """
    from local_aws import settings  # pylint: disable=import-outside-toplevel

    if len(due) < 2:
        return [fire(*item) for item in due]
    value = settings.get("LOGVAULT_AWS_SCHEDULER_CONCURRENCY")
    try:
        workers = int(value) if value else max(2, os.cpu_count() or 2)
    except ValueError:
        raise ValueError("LOGVAULT_AWS_SCHEDULER_CONCURRENCY must be a whole number, got %r" % value)
    if workers < 1:
        raise ValueError("LOGVAULT_AWS_SCHEDULER_CONCURRENCY must be >= 1, got %r" % value)
    with concurrent.futures.ThreadPoolExecutor(max_workers=min(workers, len(due)),
                                               thread_name_prefix="scheduler-fire") as pool:
        return list(pool.map(lambda item: fire(*item), due))


def fire_all():
    """The flush hook: every enabled schedule with a Lambda target fires once, now."""
    now = time.time()
    due = [(account_id, region, schedule, now) for account_id, region, schedule in _schedules() if _fireable(schedule)]
    with _LOCK:
        for _account_id, _region, schedule, _epoch in due:
            seconds = rate_seconds(schedule.schedule_expression)
            if seconds:
                _NEXT_DUE[schedule.arn] = now + seconds
    _fire_together(due)
    return len(due)


def _due(schedule, now):
    """Epoch of an occurrence due now in real time, else None (background poller)."""
    expression = schedule.schedule_expression or ""
    seconds = rate_seconds(expression)
    with _LOCK:
        if seconds:
            due = _NEXT_DUE.setdefault(schedule.arn, float(schedule.creation_date) + seconds)
            if now < due:
                return None
            _NEXT_DUE[schedule.arn] = due + seconds * (1 + int((now - due) // seconds))
            return due
        match = AT.match(expression)
        if match and schedule.arn not in _NEXT_DUE:
            due = datetime.datetime.strptime(match.group(1), "%Y-%m-%dT%H:%M:%S").replace(
                tzinfo=datetime.timezone.utc).timestamp()
            if now >= due:
                _NEXT_DUE[schedule.arn] = float("inf")
                return due
    return None


def poll():
    """The background poller: schedules whose occurrence came in real time fire."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    if hooks.is_flushing():
        return 0  # the flush hook fired them already
    now = time.time()
    queued = 0
    for account_id, region, schedule in _schedules():
        if not _fireable(schedule):
            continue
        with _LOCK:
            if schedule.arn in _QUEUED:
                continue  # its previous occurrence has not fired yet
        epoch = _due(schedule, now)
        if epoch is not None:
            _enqueue((account_id, region, schedule, epoch))
            queued += 1
    return queued


def _enqueue(item):
    with _LOCK:
        _QUEUED.add(item[2].arn)
        generation = _STATE["generation"]
        worker = _STATE["worker"]
        if worker is None or not worker.is_alive():
            worker = threading.Thread(target=_work, name="local-aws-scheduler", daemon=True)
            _STATE["worker"] = worker
            worker.start()
    _QUEUE.put((generation, item))


def _work():
    """The background worker: fires the queued occurrences one at a time, at low priority."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel

    with hooks.background():
        while True:
            generation, item = _QUEUE.get()
            try:
                with _LOCK:
                    _QUEUED.discard(item[2].arn)
                    current = generation == _STATE["generation"]
                if current:
                    fire(*item)
            except Exception:  # pylint: disable=broad-except
                LOG.exception("schedule %s: background firing failed", item[2].arn)
            finally:
                _QUEUE.task_done()


def drain():
    """Wait until every queued background occurrence has fired (tests use it)."""
    _QUEUE.join()


def install():
    if _INSTALLED["done"]:
        return
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    from local_aws.services import trust  # pylint: disable=import-outside-toplevel

    from moto.scheduler.models import EventBridgeSchedulerBackend  # pylint: disable=import-outside-toplevel

    trust.PRINCIPALS.setdefault("scheduler", ("scheduler.amazonaws.com",))
    original_create = EventBridgeSchedulerBackend.create_schedule
    original_update = EventBridgeSchedulerBackend.update_schedule

    def create_schedule(self, *args, **kwargs):
        _check_role(self, kwargs.get("group_name"), kwargs.get("target"))
        return original_create(self, *args, **kwargs)

    def update_schedule(self, *args, **kwargs):
        _check_role(self, kwargs.get("group_name"), kwargs.get("target"))
        return original_update(self, *args, **kwargs)

    EventBridgeSchedulerBackend.create_schedule = create_schedule
    EventBridgeSchedulerBackend.update_schedule = update_schedule
    hooks.register_flush_hooks(before=fire_all)
    hooks.register_poller(poll)
    hooks.register_reset(reset)
    _INSTALLED["done"] = True
