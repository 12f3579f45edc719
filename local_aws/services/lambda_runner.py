# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runs ONE Lambda invocation in this (sub)process. Not imported by the emulator.

The emulator starts ``<lambda venv python> lambda_runner.py`` with the function's extracted
code directory as working directory and the function's environment. Protocol:

* stdin: one JSON document ``{"handler": "module.func", "event": ..., "context": {...},
  "timeout": seconds}``.
* stdout: ``READY`` once the handler module is imported (the init phase, which has its
  own limit like on AWS), then exactly one JSON line: ``{"ok": true, "result": ...}``
  or ``{"ok": false, "error": {"errorMessage", "errorType", "stackTrace"}}``.
* Everything the function prints goes to stderr, which the emulator stores in the
  function's CloudWatch Logs group like Lambda does.

The handler's timeout is enforced here (a watchdog ends the process with a
``Task timed out`` error, as Lambda does) and by the emulator as a backstop.
"""

import importlib
import json
import os
import sys
import threading
import time
import traceback


class LambdaContext(object):
    """The attributes and method of the Python runtime's context object."""

    def __init__(self, data, deadline):
        self.function_name = data.get("function_name")
        self.function_version = data.get("function_version")
        self.invoked_function_arn = data.get("invoked_function_arn")
        self.memory_limit_in_mb = data.get("memory_limit_in_mb")
        self.aws_request_id = data.get("aws_request_id")
        self.log_group_name = data.get("log_group_name")
        self.log_stream_name = data.get("log_stream_name")
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self):
        return max(0, int((self._deadline - time.time()) * 1000))


def _emit(out, payload):
    out.write(json.dumps(payload, default=str) + "\n")
    out.flush()


def _error(exc):
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def main():
    request = json.loads(sys.stdin.read())
    # The protocol channel is the real stdout; the function's own prints go to stderr.
    out = os.fdopen(os.dup(sys.stdout.fileno()), "w")
    sys.stdout.flush()
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())
    sys.stdout = sys.stderr

    sys.path.insert(0, os.getcwd())
    handler_string = request["handler"] or ""
    module_name, _, func_name = handler_string.rpartition(".")
    try:
        if not module_name or not func_name:
            raise ValueError("Bad handler '%s': expected 'module.function'" % handler_string)
        module = importlib.import_module(module_name.replace("/", "."))
        handler = getattr(module, func_name)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        error = _error(exc)
        error["errorType"] = "Runtime.ImportModuleError" if isinstance(exc, ImportError) else "Runtime.HandlerNotFound"
        error["errorMessage"] = "Unable to import module '%s': %s" % (module_name, exc)
        _emit(out, {"ok": False, "error": error})
        return 0
    _emit(out, {"ready": True})

    timeout = float(request.get("timeout") or 3)
    deadline = time.time() + timeout
    context = LambdaContext(request.get("context") or {}, deadline)
    lock = threading.Lock()

    def _timed_out():
        with lock:
            _emit(out, {"ok": False, "error": {
                "errorMessage": "%s Task timed out after %.2f seconds" % (context.aws_request_id, timeout),
                "errorType": "Sandbox.Timedout",
            }})
            os._exit(3)  # pylint: disable=protected-access

    watchdog = threading.Timer(timeout, _timed_out)
    watchdog.daemon = True
    watchdog.start()
    try:
        result = handler(request.get("event"), context)
        payload = {"ok": True, "result": result}
        json.dumps(payload)
    except Exception as exc:  # pylint: disable=broad-exception-caught
        payload = {"ok": False, "error": _error(exc)}
    watchdog.cancel()
    with lock:
        sys.stderr.flush()
        _emit(out, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
