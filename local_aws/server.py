# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Start and stop the local AWS emulator.

``start(port=0)`` runs moto's WSGI application (every service from one endpoint,
state in memory) in a werkzeug server thread of this process, after installing every
patch in :mod:`local_aws.services`. The application is wrapped so that
``POST /_logvault/flush`` (and ``GET /_logvault/health``) are answered before moto's
dispatcher sees the request.

State: moto's backends are process-global. When ``start()`` is called while no other
emulator runs in this process, the state is reset first (moto's backends and every
``local_aws.hooks.register_reset`` hook), so each emulator starts empty. Emulators
running at the same time in one process share their state.
"""

import importlib
import json
import logging
import pkgutil
import threading

from werkzeug.serving import make_server

from local_aws import faults, hooks

LOG = logging.getLogger("local_aws")

_INSTALL_LOCK = threading.Lock()
_INSTALLED = []
_LIFECYCLE_LOCK = threading.Lock()


def install_patches():
    """Call ``install()`` of every module of :mod:`local_aws.services`, once each.

    Modules are found with pkgutil, so a new service module needs no registration.
    Returns the names of the modules installed so far.
    """
    import local_aws.services as services  # pylint: disable=import-outside-toplevel

    with _INSTALL_LOCK:
        for info in sorted(pkgutil.iter_modules(services.__path__), key=lambda i: i.name):
            name = "%s.%s" % (services.__name__, info.name)
            if name in _INSTALLED:
                continue
            module = importlib.import_module(name)
            install = getattr(module, "install", None)
            if callable(install):
                install()
                _INSTALLED.append(name)
        return list(_INSTALLED)


def reset_state():
    """Empty every moto backend and the state kept by the patches."""
    from moto.moto_api._internal.models import moto_api_backend  # pylint: disable=import-outside-toplevel
    from moto.organizations.models import organizations_backends  # pylint: disable=import-outside-toplevel

    moto_api_backend.reset()
    # moto keeps "which account belongs to which management account" beside the
    # backends; a reset that leaves it makes CreateOrganization fail for those accounts.
    organizations_backends.master_accounts.clear()
    hooks.reset()
    faults.reset()


def _json_response(start_response, status, body):
    data = json.dumps(body, sort_keys=True).encode("utf-8")
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


def _quiet_handler(base, verbose):
    """moto's request handler, logging each request only when ``verbose``."""

    class Handler(base):
        def log_request(self, code="-", size="-"):
            if verbose:
                base.log_request(self, code, size)

    return Handler


def _service_role_refusal(environ):
    """AWS's refusal when a Lambda function's execution role may not make this request
    (local_aws.services.service_roles); the body is read once and put back for moto."""
    import io  # pylint: disable=import-outside-toplevel
    from local_aws.services import service_roles  # pylint: disable=import-outside-toplevel

    if not service_roles._any_enabled() or not service_roles.lambda_key(environ):  # pylint: disable=protected-access
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(length) if length > 0 else b""
    environ["wsgi.input"] = io.BytesIO(body)
    return service_roles.check_request(environ, body)


def _caller_policy_refusal(environ):
    """AWS's AccessDenied when the caller's assumed role may not make this request
    (local_aws.services.caller_policies, LOGVAULT_AWS_CALLER_POLICIES)."""
    from local_aws.services import caller_policies  # pylint: disable=import-outside-toplevel
    return caller_policies.check(environ)


def _resource_policy_refusal(environ):
    """AWS's refusal when an S3 bucket policy's Deny statement applies to the request."""
    from local_aws.services import resource_policies  # pylint: disable=import-outside-toplevel
    return resource_policies.check_s3(environ)


def _delete_objects_with_policy(app, environ, start_response):
    """DeleteObjects with the bucket policy's Deny statements evaluated per object, or None."""
    from local_aws.services import resource_policies  # pylint: disable=import-outside-toplevel
    return resource_policies.delete_objects(app, environ, start_response)


_OMIT_FUNCTION_TAGS = "logvault.omit_function_tags"  # local_aws.services.caller_policies.OMIT_TAGS


def _without_function_tags(app, environ, start_response):
    """moto's GetFunction answer without the function's tags (caller_policies: no lambda:ListTags)."""
    from local_aws.services import caller_policies  # pylint: disable=import-outside-toplevel
    from local_aws.wsgi_answer import rewritten  # pylint: disable=import-outside-toplevel

    return rewritten(app, environ, start_response,
                     lambda status, body: caller_policies.without_tags(body) if status.startswith("200") else body)


class _Application(object):
    """WSGI wrapper: ``/_logvault/*`` is ours, everything else goes to moto."""

    def __init__(self, moto_app):
        self.moto_app = moto_app

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if not path.startswith("/_logvault/"):
            injected = faults.intercept(environ, start_response)  # LOGVAULT_AWS_FAULTS
            if injected is not None:
                return injected
            refused = _service_role_refusal(environ)  # LOGVAULT_AWS_SERVICE_ROLE_POLICIES
            if refused is None:
                refused = _caller_policy_refusal(environ)  # LOGVAULT_AWS_CALLER_POLICIES
            if refused is None:
                refused = _resource_policy_refusal(environ)  # LOGVAULT_AWS_RESOURCE_POLICIES
            if refused is not None:
                status, content_type, body = refused
                start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(body)))])
                return [body]
            if environ.get("HTTP_X_AMZ_TARGET", "").startswith("Kinesis_"):
                with hooks.KINESIS_LOCK:
                    return list(self.moto_app(environ, start_response))
            if environ.get(_OMIT_FUNCTION_TAGS):
                return _without_function_tags(self.moto_app, environ, start_response)
            answered = _delete_objects_with_policy(self.moto_app, environ, start_response)  # LOGVAULT_AWS_RESOURCE_POLICIES
            if answered is not None:
                return answered
            return self.moto_app(environ, start_response)
        method = environ.get("REQUEST_METHOD", "GET")
        if path == "/_logvault/flush":
            if method != "POST":
                return _json_response(start_response, "405 Method Not Allowed", {"error": "use POST /_logvault/flush"})
            return _json_response(start_response, "200 OK", hooks.flush())
        if path == "/_logvault/health":
            health = {"status": "ready", "patches": list(_INSTALLED), "faults_fired": faults.fired()}
            return _json_response(start_response, "200 OK", health)
        return _json_response(start_response, "404 Not Found", {"error": "unknown path %s" % path})


class LocalAWS(object):
    """A running emulator. Use :func:`start` to create one."""

    def __init__(self, host="127.0.0.1", port=0, verbose=False):
        self.host = host
        self.verbose = verbose
        self._requested_port = port
        self._server = None
        self._thread = None
        self.port = None
        self.endpoint = None

    def _start(self, reset=None):
        from moto.moto_server.werkzeug_app import (  # pylint: disable=import-outside-toplevel
            DomainDispatcherApplication,
            MotoRequestHandler,
            create_backend_app,
        )

        install_patches()
        faults.entries()  # a malformed LOGVAULT_AWS_FAULTS fails here, naming the variable
        with _LIFECYCLE_LOCK:
            if reset is None:
                reset = hooks.running() == 0
            if reset:
                reset_state()
            app = _Application(DomainDispatcherApplication(create_backend_app))
            try:
                self._server = make_server(self.host, self._requested_port, app, threaded=True,
                                           request_handler=_quiet_handler(MotoRequestHandler, self.verbose))
            except SystemExit:
                # werkzeug prints the reason and exits; a library must raise instead.
                raise OSError("cannot listen on %s:%s (address in use or not available)" % (self.host, self._requested_port))
            self.port = self._server.server_address[1]
            self.endpoint = "http://%s:%d" % (self.host, self.port)
            self._thread = threading.Thread(target=self._server.serve_forever, name="local-aws-%d" % self.port, daemon=True)
            self._thread.start()
            hooks.push_endpoint(self.endpoint)
            hooks.start_background()
        return self

    def flush(self, max_passes=hooks.MAX_PASSES):
        """Make every poller deliver now; returns the summary of :func:`local_aws.hooks.flush`."""
        return hooks.flush(max_passes=max_passes)

    def client(self, service, account_id="123456789012", region="us-east-1"):
        """A boto3 client for ``service`` acting as ``account_id`` on this emulator."""
        from local_aws import client  # pylint: disable=import-outside-toplevel

        return client(service, account_id=account_id, endpoint=self.endpoint, region=region)

    def stop(self):
        """Stop serving. The last emulator of the process also stops the pollers."""
        with _LIFECYCLE_LOCK:
            if self._server is None:
                return
            if hooks.running() == 1 and hooks.get_endpoint() == self.endpoint:
                # The last emulator: the pollers stop first, so that a pass under way (a scheduled
                # Lambda invocation, say) ends while its endpoint still answers, instead of failing
                # with "no local AWS emulator is running" or a refused connection after the stop.
                hooks.stop_background()
            self._server.shutdown()
            self._server.server_close()
            self._thread.join(10)
            self._server = None
            if hooks.pop_endpoint(self.endpoint) == 0:
                hooks.stop_background()

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.stop()

    def __repr__(self):
        return "<LocalAWS %s>" % (self.endpoint or "stopped")


def start(port=0, host="127.0.0.1", reset=None, verbose=False):
    """Start an emulator on ``host:port`` (``port=0``: a free port) and return it.

    ``reset=None`` empties the state when no other emulator runs in this process;
    True/False force it. ``verbose=True`` logs every request to stderr.
    """
    return LocalAWS(host=host, port=port, verbose=verbose)._start(reset=reset)
