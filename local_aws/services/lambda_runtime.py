# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run Python Lambda functions from their deployed zip, without Docker.

moto stores a function's deployment package (``LambdaFunction.code_bytes``). We extract
it once per code digest and run each invocation in a fresh subprocess of the emulated
runtime's interpreter (``lambda_python()``: build/lambda-venv, not the toolchain's
``sys.executable``; see ``lambda_runner.py``) with:

* the function's handler string, environment variables and timeout (init phase limited
  to 10 s like on AWS, then ``Timeout`` seconds for the handler);
* ``AWS_ENDPOINT_URL`` pointing at this emulator, ``AWS_REGION``/``AWS_DEFAULT_REGION``,
  and credentials of the function's account, minted by moto's STS backend exactly as an
  ``sts:AssumeRole`` of the function's execution role would be;
* the Lambda runtime variables (``AWS_LAMBDA_FUNCTION_NAME``, ``_HANDLER``,
  ``LAMBDA_TASK_ROOT``...).

Layers (zip layers with a ``python/`` folder) are extracted too and put on sys.path.
Only Python runtimes can run; any other runtime gives a ``Runtime.InvalidRuntime`` error.
"""

import atexit
import base64
import datetime
import io
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
import zipfile

INIT_TIMEOUT = 10.0
RUNNER = os.path.join(os.path.dirname(os.path.abspath(__file__)), "lambda_runner.py")
REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LAMBDA_VENV_PYTHON = os.path.join(REPOSITORY, "build", "lambda-venv", "bin", "python")


def lambda_python():
    """The interpreter of the emulated Lambda runtime (issue 15 item 7).

    Not ``sys.executable``: the toolchain's site-packages (its own boto3) must not be what a
    function imports. ``LOGVAULT_AWS_LAMBDA_PYTHON``, else build/lambda-venv/bin/python, which
    ``make venv`` builds from lambda-requirements.txt: the SDK the roles vendor into the zips,
    and what a zip without its own SDK gets, as the runtime's bundled boto3 on AWS.
    """
    from local_aws import settings  # pylint: disable=import-outside-toplevel
    return settings.get("LOGVAULT_AWS_LAMBDA_PYTHON") or LAMBDA_VENV_PYTHON


_LOCK = threading.Lock()
_CODE_DIRS = {}
_CREDENTIALS = {}
_ROOT = {"dir": None}


class InvocationResult(object):
    """Outcome of one invocation: ``payload`` (the handler's return value) or ``error``."""

    def __init__(self, request_id, payload=None, error=None, logs="", duration=0.0):
        self.request_id = request_id
        self.payload = payload
        self.error = error
        self.logs = logs
        self.duration = duration

    @property
    def failed(self):
        return self.error is not None

    def payload_bytes(self):
        body = self.error if self.failed else self.payload
        return json.dumps(body).encode("utf-8")


def get_endpoint():
    """The emulator's own URL: what functions get as AWS_ENDPOINT_URL."""
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    endpoint = hooks.get_endpoint()
    if not endpoint:
        raise RuntimeError("no local AWS emulator is running in this process")
    return endpoint


def reset():
    """Forget cached credentials (the emulator's IAM/STS state was reset)."""
    with _LOCK:
        _CREDENTIALS.clear()


def _root_dir():
    with _LOCK:
        if _ROOT["dir"] is None:
            _ROOT["dir"] = tempfile.mkdtemp(prefix="logvault-lambda-")
            # Extracted code lives as long as the emulator's process.
            atexit.register(shutil.rmtree, _ROOT["dir"], True)
        return _ROOT["dir"]


def _extract(zip_bytes, target):
    tmp = target + ".tmp-%s" % uuid.uuid4().hex
    with zipfile.ZipFile(io.BytesIO(zip_bytes)) as archive:
        archive.extractall(tmp)
    try:
        os.rename(tmp, target)
    except OSError:  # another thread won the race
        shutil.rmtree(tmp, ignore_errors=True)


def _code_dir(fn):
    digest = getattr(fn, "code_sha_256", None) or uuid.uuid4().hex
    key = "%s-%s" % (fn.function_name, digest.replace("/", "_").replace("+", "-"))
    path = os.path.join(_root_dir(), key)
    if not os.path.isdir(path):
        if not getattr(fn, "code_bytes", b""):
            raise ValueError("the function has no zip deployment package the emulator can run")
        _extract(fn.code_bytes, path)
    return path


def _layer_dirs(fn):
    dirs = []
    for layer in getattr(fn, "layers", None) or []:
        arn = layer.get("Arn") if isinstance(layer, dict) else None
        if not arn:
            continue
        try:
            from moto.awslambda.models import lambda_backends  # pylint: disable=import-outside-toplevel
            version = lambda_backends[fn.account_id][fn.region].layers_versions_by_arn(arn)
        except Exception:  # pylint: disable=broad-exception-caught
            version = None
        code = getattr(version, "code_bytes", None) if version is not None else None
        if not code:
            continue
        path = os.path.join(_root_dir(), "layer-%s" % arn.replace(":", "_").replace("/", "_"))
        if not os.path.isdir(path):
            _extract(code, path)
        dirs.append(os.path.join(path, "python"))
        dirs.append(path)
    return dirs


def _role_arn(fn):
    role = fn.role or ""
    parts = role.split(":")
    if len(parts) >= 6 and parts[2] == "iam" and parts[4] == fn.account_id:
        return role
    name = role.rsplit("/", 1)[-1] or "lambda-execution"
    return "arn:aws:iam::%s:role/%s" % (fn.account_id, name)


def credentials_for(account_id, role_arn, session_name, region):
    """Credentials of ``account_id`` as moto's sts:AssumeRole would issue them (cached)."""
    from local_aws.services import service_roles  # pylint: disable=import-outside-toplevel
    key = (account_id, role_arn)
    with _LOCK:
        cached = _CREDENTIALS.get(key)
    if cached and cached["expires"] > time.time() + 600:
        # (issue 15 item 2) requests signed with these keys are evaluated against the role
        service_roles.register_lambda_credentials(cached["AWS_ACCESS_KEY_ID"], role_arn, session_name[:64])
        return cached
    from moto.sts.models import sts_backends  # pylint: disable=import-outside-toplevel
    from moto.utilities.utils import get_partition  # pylint: disable=import-outside-toplevel
    backend = sts_backends[account_id][get_partition(region)]
    role = backend.assume_role(
        region_name=region, role_session_name=session_name[:64], role_arn=role_arn,
        policy=None, duration=43200, external_id=None)
    creds = {
        "AWS_ACCESS_KEY_ID": role.access_key_id,
        "AWS_SECRET_ACCESS_KEY": role.secret_access_key,
        "AWS_SESSION_TOKEN": role.session_token,
        "expires": time.time() + 43200,
    }
    with _LOCK:
        _CREDENTIALS[key] = creds
    service_roles.register_lambda_credentials(creds["AWS_ACCESS_KEY_ID"], role_arn, session_name[:64])
    return creds


def _environment(fn, code_dir, layer_dirs, request_id):
    creds = credentials_for(fn.account_id, _role_arn(fn), fn.function_name, fn.region)
    scratch = os.path.join(_root_dir(), "home")
    os.makedirs(scratch, exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "TZ": ":UTC",
        "HOME": scratch,
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONPATH": os.pathsep.join([code_dir] + layer_dirs),
        "LAMBDA_TASK_ROOT": code_dir,
        "LAMBDA_RUNTIME_DIR": os.path.dirname(RUNNER),
        "_HANDLER": fn.handler or "",
        "AWS_EXECUTION_ENV": "AWS_Lambda_%s" % (fn.run_time or "python"),
        "AWS_LAMBDA_FUNCTION_NAME": fn.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(fn.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(fn.timeout),
        "AWS_LAMBDA_LOG_GROUP_NAME": fn.logs_group_name,
        "AWS_LAMBDA_LOG_STREAM_NAME": _log_stream_name(request_id),
        "AWS_REGION": fn.region,
        "AWS_DEFAULT_REGION": fn.region,
        "AWS_ENDPOINT_URL": get_endpoint(),
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.path.join(scratch, "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": os.path.join(scratch, "no-aws-credentials"),
        "AWS_ACCESS_KEY_ID": creds["AWS_ACCESS_KEY_ID"],
        "AWS_SECRET_ACCESS_KEY": creds["AWS_SECRET_ACCESS_KEY"],
        "AWS_SESSION_TOKEN": creds["AWS_SESSION_TOKEN"],
    }
    # AWS reserves the runtime keys above; the function's own variables cannot override them.
    for key, value in (fn.environment_vars or {}).items():
        if key not in env or key in ("PATH", "LANG", "TZ", "HOME"):
            env[key] = str(value)
    return env


def _log_stream_name(request_id):
    now = datetime.datetime.now(datetime.timezone.utc)
    return "%04d/%02d/%02d/[$LATEST]%s" % (now.year, now.month, now.day, request_id.replace("-", ""))


def background_niceness():
    """How much lower the CPU priority of an invocation started now is (0 = the emulator's own).

    On AWS a function runs on Lambda's fleet, not on the machine of the clients, so work that
    nobody waits for (the scheduler's background worker: schedules that come due in real
    time, such as the canaries of every member account and region) must not take the CPU of
    the clients the emulator serves. Event source mappings and Firehose transforms keep the
    emulator's priority: a flush can wait for them (the pass lock), and a flush must not wait
    on a process that yields to every other one. ``LOGVAULT_AWS_BACKGROUND_NICE`` (0 to 19,
    default 19) is added to the emulator's niceness for those; an invocation a client waits
    for (``Invoke``, a flush) runs at the emulator's own priority.
    """
    from local_aws import hooks, settings  # pylint: disable=import-outside-toplevel
    if not hooks.in_background():
        return 0
    value = settings.get("LOGVAULT_AWS_BACKGROUND_NICE")
    try:
        niceness = int(value)
    except ValueError:
        raise ValueError("LOGVAULT_AWS_BACKGROUND_NICE must be a whole number from 0 to 19, got %r" % value)
    if not 0 <= niceness <= 19:
        raise ValueError("LOGVAULT_AWS_BACKGROUND_NICE must be a whole number from 0 to 19, got %r" % value)
    return niceness


def _is_python(fn):
    runtime = fn.run_time or ""
    return runtime.startswith("python")


def invoke(fn, event):
    """Run ``fn`` (a moto LambdaFunction) with ``event``; return an InvocationResult."""
    request_id = str(uuid.uuid4())
    started = time.time()
    from local_aws import faults  # pylint: disable=import-outside-toplevel
    if faults.pick("lambda", "Invoke", codes={"Timeout"}):
        # LOGVAULT_AWS_FAULTS lambda:Invoke:Timeout: answered as Lambda does, without running.
        return InvocationResult(request_id, error={
            "errorMessage": "%s Task timed out after %.2f seconds" % (request_id, float(fn.timeout or 3)),
            "errorType": "Sandbox.Timedout",
        }, logs="Injected fault (LOGVAULT_AWS_FAULTS): Timeout\n")
    if not _is_python(fn):
        return InvocationResult(request_id, error={
            "errorType": "Runtime.InvalidRuntime",
            "errorMessage": "The local AWS emulator only runs Python runtimes, not %r" % fn.run_time,
        })
    try:
        code_dir = _code_dir(fn)
        layer_dirs = _layer_dirs(fn)
    except (ValueError, zipfile.BadZipFile) as exc:
        return InvocationResult(request_id, error={"errorType": "Runtime.InvalidEntrypoint", "errorMessage": str(exc)})
    python = lambda_python()
    if not os.access(python, os.X_OK):
        return InvocationResult(request_id, error={
            "errorType": "Runtime.Unavailable",
            "errorMessage": "the emulated Lambda runtime %s does not exist: run `make venv` "
                            "(it builds build/lambda-venv from lambda-requirements.txt)" % python,
        })
    env = _environment(fn, code_dir, layer_dirs, request_id)
    request = {
        "handler": fn.handler,
        "event": event,
        "timeout": fn.timeout,
        "context": {
            "function_name": fn.function_name,
            "function_version": "$LATEST",
            "invoked_function_arn": fn.function_arn,
            "memory_limit_in_mb": fn.memory_size,
            "aws_request_id": request_id,
            "log_group_name": fn.logs_group_name,
            "log_stream_name": env["AWS_LAMBDA_LOG_STREAM_NAME"],
        },
    }
    niceness = background_niceness()
    proc = subprocess.Popen(  # pylint: disable=consider-using-with
        [python, "-s", RUNNER], cwd=code_dir, env=env,
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if niceness:
        try:
            # Set on the child before it has read its request from stdin (written below), so
            # the handler runs at that priority; its interpreter start-up may already have begun.
            os.setpriority(os.PRIO_PROCESS, proc.pid, min(19, os.getpriority(os.PRIO_PROCESS, 0) + niceness))
        except OSError:
            pass  # it has exited already
    lines = []
    stderr_chunks = []

    def _read_stdout():
        for line in proc.stdout:
            lines.append(line)

    def _read_stderr():
        stderr_chunks.append(proc.stderr.read())

    readers = [threading.Thread(target=_read_stdout, daemon=True), threading.Thread(target=_read_stderr, daemon=True)]
    for reader in readers:
        reader.start()
    try:
        proc.stdin.write(json.dumps(request).encode("utf-8"))
        proc.stdin.close()
    except BrokenPipeError:
        pass
    try:
        proc.wait(timeout=INIT_TIMEOUT + float(fn.timeout or 3) + 5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    for reader in readers:
        reader.join(timeout=5)
    duration = time.time() - started
    logs = b"".join(stderr_chunks).decode("utf-8", "replace")
    result = None
    for raw in lines:
        try:
            message = json.loads(raw.decode("utf-8"))
        except ValueError:
            continue
        if "ok" in message:
            result = message
            break
    if result is None:
        outcome = InvocationResult(request_id, error={
            "errorType": "Runtime.ExitError",
            "errorMessage": "RequestId: %s Error: Runtime exited with error: exit status %s" % (request_id, proc.returncode),
        }, logs=logs, duration=duration)
    elif result["ok"]:
        outcome = InvocationResult(request_id, payload=result.get("result"), logs=logs, duration=duration)
    else:
        outcome = InvocationResult(request_id, error=result["error"], logs=logs, duration=duration)
    _save_logs(fn, env["AWS_LAMBDA_LOG_STREAM_NAME"], request_id, outcome)
    return outcome


def _save_logs(fn, stream_name, request_id, outcome):
    """Write START/function output/END/REPORT to /aws/lambda/<name>, like Lambda does."""
    lines = ["START RequestId: %s Version: $LATEST" % request_id]
    lines.extend(line for line in outcome.logs.splitlines() if line.strip())
    if outcome.failed:
        lines.append("[ERROR] %s: %s" % (outcome.error.get("errorType"), outcome.error.get("errorMessage")))
    lines.append("END RequestId: %s" % request_id)
    lines.append("REPORT RequestId: %s\tDuration: %.2f ms\tMemory Size: %s MB" % (request_id, outcome.duration * 1000, fn.memory_size))
    try:
        backend = fn.logs_backend
        backend.ensure_log_group(fn.logs_group_name)
        backend.create_log_stream(fn.logs_group_name, stream_name)
        now = int(time.time() * 1000)
        backend.put_log_events(fn.logs_group_name, stream_name, [{"timestamp": now, "message": line} for line in lines])
    except Exception:  # pylint: disable=broad-exception-caught
        # Logging is best effort, exactly as a full log group quota would not fail an invocation.
        pass


def service_put_object(account_id, region, bucket_name, key, body, kms_key_id=None):
    """Write an object the way an AWS service (Lambda destinations, Firehose) does.

    AWS services write over TLS with their own permissions, so the request is not replayed
    over this emulator's plain-HTTP endpoint (where a TLS-only ``aws:SecureTransport``
    bucket policy would deny it): the object goes to moto's S3 backend directly. What the
    HTTP path would apply is applied here too: the bucket's default encryption (moto),
    ``kms_key_id`` as SSE-KMS, the bucket's default Object Lock retention, and event
    notifications. Bucket policies are not evaluated (see "What is NOT emulated").
    Raises moto's MissingBucket when the bucket does not exist.
    """
    from moto.s3.models import s3_backends  # pylint: disable=import-outside-toplevel
    from moto.utilities.utils import get_partition  # pylint: disable=import-outside-toplevel

    partition = get_partition(region)
    bucket = s3_backends[account_id][partition].get_bucket(bucket_name)
    owner = s3_backends[bucket.account_id][partition]
    kwargs = {}
    if kms_key_id:
        kwargs.update(encryption="aws:kms", kms_key_id=kms_key_id)
    if getattr(bucket, "object_lock_enabled", False) and getattr(bucket, "has_default_lock", False):
        kwargs.update(lock_mode=bucket.default_lock_mode, lock_until=bucket.default_retention())
    return owner.put_object(bucket_name, key, body, **kwargs)


def log_tail(outcome):
    """The x-amz-log-result header value: base64 of the last 4 KB of the log."""
    text = outcome.logs.encode("utf-8")[-4096:]
    return base64.b64encode(text).decode("ascii")
