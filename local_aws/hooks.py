# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Background work of the emulator: pollers, flush, reset hooks and the endpoint.

A *poller* is a function ``fn() -> int`` that does the background work pending right
now (deliver queued subscription batches, run due event source mappings, flush
Firehose buffers...) synchronously and returns how many items it handled.

* A daemon thread runs every registered poller about once a second, like AWS's own
  asynchronous delivery.
* :func:`flush` runs them all, pass after pass, until one full pass handles nothing
  (at most ``max_passes`` passes), so tests never sleep through a buffering interval.
  ``POST /_logvault/flush`` on the emulator's endpoint calls it too.

One re-entrant lock is held around every pass: the background thread and
:func:`flush` never run pollers at the same time, so a poller needs no lock of its
own against them (it still needs one around state it shares with request threads).
"""

import contextlib
import logging
import threading
import traceback

LOG = logging.getLogger("local_aws")

INTERVAL = 1.0
MAX_PASSES = 50

_POLLERS = []
_RESET_HOOKS = []
_BEFORE_FLUSH = []
_AFTER_FLUSH = []
_PASS_LOCK = threading.RLock()
_STATE_LOCK = threading.Lock()
_THREAD = {"thread": None, "stop": None}
_ENDPOINTS = []
_FLUSHING = threading.local()
_BACKGROUND = threading.local()

# moto's Kinesis shards are not safe for concurrent use ("not safe for concurrency" in
# moto; GetRecords iterates the dict PutRecord inserts into). The server holds this
# lock around every Kinesis API request, and in-process code that reads or writes
# Kinesis backends from a poller must hold it too. Never hold it while waiting for
# something that calls the emulator over HTTP (a Lambda subprocess): that deadlocks.
KINESIS_LOCK = threading.RLock()


def _key(fn):
    return (getattr(fn, "__module__", None), getattr(fn, "__qualname__", None) or repr(fn))


def register_poller(fn):
    """Register ``fn() -> int``; registering the same function again is a no-op.

    Returns ``fn`` so it can be used as a decorator.
    """
    with _STATE_LOCK:
        if _key(fn) not in [_key(p) for p in _POLLERS]:
            _POLLERS.append(fn)
    return fn


def unregister_poller(fn):
    """Remove a poller registered with :func:`register_poller` (tests use it)."""
    with _STATE_LOCK:
        _POLLERS[:] = [p for p in _POLLERS if _key(p) != _key(fn)]


def register_flush_hooks(before=None, after=None):
    """Register ``fn() -> int`` run once at the start of each :func:`flush` (``before``, e.g.
    the schedules that come due) or once after its passes settle (``after``, e.g. alarm
    evaluation). Registering the same function again is a no-op."""
    with _STATE_LOCK:
        for fn, hooks_list in ((before, _BEFORE_FLUSH), (after, _AFTER_FLUSH)):
            if fn is not None and _key(fn) not in [_key(p) for p in hooks_list]:
                hooks_list.append(fn)


def _run_flush_hooks(hooks_list, by_poller, errors):
    with _STATE_LOCK:
        functions = list(hooks_list)
    for fn in functions:
        name = _name(fn)
        try:
            count = fn() or 0
        except Exception as exc:  # pylint: disable=broad-except
            LOG.error("flush hook %s failed: %s\n%s", name, exc, traceback.format_exc())
            errors.append({"poller": name, "error": "%s: %s" % (type(exc).__name__, exc)})
            count = 0
        by_poller[name] = by_poller.get(name, 0) + int(count)


def register_reset(fn):
    """Register ``fn()`` to clear module state when the emulator's state is reset."""
    with _STATE_LOCK:
        if _key(fn) not in [_key(p) for p in _RESET_HOOKS]:
            _RESET_HOOKS.append(fn)
    return fn


def pollers():
    with _STATE_LOCK:
        return list(_POLLERS)


def _name(fn):
    return "%s.%s" % _key(fn)


def run_pass():
    """Run every poller once. Returns ``(handled_by_poller, errors)``."""
    handled = {}
    errors = []
    with _PASS_LOCK:
        for fn in pollers():
            name = _name(fn)
            try:
                count = fn() or 0
            except Exception as exc:  # pylint: disable=broad-except
                # A broken poller must not stop the others (nor the background thread).
                LOG.error("poller %s failed: %s\n%s", name, exc, traceback.format_exc())
                errors.append({"poller": name, "error": "%s: %s" % (type(exc).__name__, exc)})
                count = 0
            handled[name] = handled.get(name, 0) + int(count)
    return handled, errors


def flush(max_passes=MAX_PASSES):
    """Deliver everything pending now.

    Runs passes until one handles nothing or ``max_passes`` is reached. Returns a
    summary: ``{"passes", "handled", "by_poller", "settled", "errors"}``. ``settled``
    is False when work was still being produced after ``max_passes`` passes (for
    example a Lambda that writes to the stream it reads).
    """
    by_poller = {}
    errors = []
    with _PASS_LOCK:
        _FLUSHING.depth = getattr(_FLUSHING, "depth", 0) + 1
        try:
            _run_flush_hooks(_BEFORE_FLUSH, by_poller, errors)
            passes, settled = _flush_passes(max_passes, by_poller, errors)
            _run_flush_hooks(_AFTER_FLUSH, by_poller, errors)
        finally:
            _FLUSHING.depth -= 1
    return {
        "passes": passes,
        "handled": sum(by_poller.values()),
        "by_poller": by_poller,
        "settled": settled,
        "errors": errors,
    }


def is_flushing():
    """True while the current thread runs pollers for :func:`flush` (pollers that
    normally wait, such as batching windows or Firehose buffers, deliver at once)."""
    return getattr(_FLUSHING, "depth", 0) > 0


def _flush_passes(max_passes, by_poller, errors):
    passes = 0
    while passes < max_passes:
        passes += 1
        handled, pass_errors = run_pass()
        errors.extend(pass_errors)
        for name, count in handled.items():
            by_poller[name] = by_poller.get(name, 0) + count
        if sum(handled.values()) == 0:
            return passes, True
    return passes, False


def reset():
    """Call every reset hook (the server resets moto's backends itself)."""
    with _PASS_LOCK:
        for fn in list(_RESET_HOOKS):
            fn()


@contextlib.contextmanager
def background():
    """Mark the current thread as doing work nobody waits for while the block runs (the
    scheduler's background worker; :func:`local_aws.services.lambda_runtime.background_niceness`)."""
    _BACKGROUND.active = True
    try:
        yield
    finally:
        _BACKGROUND.active = False


def in_background():
    """True while the current thread does work nobody waits for (:func:`background`), False
    under :func:`flush` (a client waits for it) and in request threads."""
    return getattr(_BACKGROUND, "active", False) and not is_flushing()


def _loop(stop):
    while not stop.wait(INTERVAL):
        try:
            run_pass()
        except Exception:  # pylint: disable=broad-except
            LOG.exception("background pass failed")


def start_background():
    """Start the background thread (once per process)."""
    with _STATE_LOCK:
        thread = _THREAD["thread"]
        if thread is not None and thread.is_alive():
            return
        stop = threading.Event()
        thread = threading.Thread(target=_loop, args=(stop,), name="local-aws-pollers", daemon=True)
        _THREAD.update(thread=thread, stop=stop)
        thread.start()


def stop_background(timeout=10.0):
    with _STATE_LOCK:
        thread, stop = _THREAD["thread"], _THREAD["stop"]
        _THREAD.update(thread=None, stop=None)
    if thread is not None:
        stop.set()
        thread.join(timeout)


def push_endpoint(url):
    with _STATE_LOCK:
        _ENDPOINTS.append(url)


def pop_endpoint(url):
    with _STATE_LOCK:
        if url in _ENDPOINTS:
            _ENDPOINTS.remove(url)
        return len(_ENDPOINTS)


def get_endpoint():
    """URL of the most recently started emulator still running in this process, or None.

    Code that must call the emulator over HTTP (a Lambda's AWS_ENDPOINT_URL) uses it.
    """
    with _STATE_LOCK:
        return _ENDPOINTS[-1] if _ENDPOINTS else None


def running():
    with _STATE_LOCK:
        return len(_ENDPOINTS)
