# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 15 item 7: the emulated Lambda runtime is build/lambda-venv (lambda-requirements.txt),
not the toolchain's interpreter.

* A zip without its own SDK imports the pinned boto3/botocore of lambda-requirements.txt (the
  "runtime's" copy), never the toolchain's (requirements-test.txt pins a different release, so
  running with ``sys.executable`` fails this test).
* A zip that vendors its own package wins over the runtime's, since the code directory comes
  first on sys.path, as /var/task does on AWS.
* A missing runtime interpreter is a loud invocation error that names ``make venv``.
"""

import io
import json
import os
import re
import zipfile

import boto3 as toolchain_boto3
import pytest

REPOSITORY = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

REPORTER = """
import sys
import boto3
import botocore

def handler(event, context):
    return {"boto3": boto3.__version__, "botocore": botocore.__version__,
            "botocore_file": botocore.__file__, "boto3_file": boto3.__file__,
            "executable": sys.executable, "path": sys.path}
"""


def _pins():
    pins = {}
    with open(os.path.join(REPOSITORY, "lambda-requirements.txt")) as handle:
        for line in handle:
            match = re.match(r"^([A-Za-z0-9_.-]+)==(\S+)\s*$", line)
            if match:
                pins[match.group(1).lower()] = match.group(2)
    return pins


def _zip(files):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, body in files.items():
            archive.writestr(name, body)
    return buf.getvalue()


@pytest.fixture
def function(aws_client, unique):
    lam = aws_client("lambda")
    iam = aws_client("iam")
    role = iam.create_role(RoleName=unique("runtime-role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]

    def create(files):
        name = unique("runtime")
        lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler="app.handler",
                            Code={"ZipFile": _zip(files)}, Timeout=30)
        resp = lam.invoke(FunctionName=name, Payload=b"{}")
        return resp.get("FunctionError"), json.loads(resp["Payload"].read())

    return create


def test_the_pins_differ_from_the_toolchain_so_this_layer_can_tell_them_apart():
    pins = _pins()
    assert set(pins) >= {"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six", "urllib3"}
    assert pins["boto3"] != toolchain_boto3.__version__


def test_a_zip_without_an_sdk_gets_the_pinned_runtime_sdk_not_the_toolchains(function):
    error, result = function({"app.py": REPORTER})
    assert error is None, result
    pins = _pins()
    assert result["boto3"] == pins["boto3"]
    assert result["botocore"] == pins["botocore"]
    assert result["boto3"] != toolchain_boto3.__version__
    venv = os.path.join(REPOSITORY, "build", "lambda-venv")
    assert result["botocore_file"].startswith(venv + os.sep)
    toolchain_site = os.path.dirname(os.path.dirname(toolchain_boto3.__file__))
    assert not any(entry.startswith(toolchain_site) for entry in result["path"])


def test_a_vendored_package_in_the_zip_comes_before_the_runtimes(function):
    error, result = function({
        "app.py": REPORTER,
        "boto3/__init__.py": "__version__ = '0.0.0-vendored'\n",
    })
    assert error is None, result
    assert result["boto3"] == "0.0.0-vendored"
    assert result["botocore"] == _pins()["botocore"]  # not vendored: the runtime's


def test_a_missing_runtime_interpreter_is_an_invocation_error_naming_make_venv(function, monkeypatch, tmp_path):
    monkeypatch.setenv("LOGVAULT_AWS_LAMBDA_PYTHON", str(tmp_path / "no-python"))
    error, result = function({"app.py": REPORTER})
    assert error == "Unhandled"
    assert result["errorType"] == "Runtime.Unavailable"
    assert "make venv" in result["errorMessage"]


@pytest.mark.parametrize("handler_file", [
    "roles/central_account/files/transform_lambda/logvault_transform.py",
    "roles/stream_alerts/files/alerts_lambda/logvault_alerts.py",
])
def test_each_lambda_logs_the_sdk_it_runs_with_at_cold_start(aws_client, unique, grant, handler_file):
    lam = aws_client("lambda")
    logs = aws_client("logs")
    role = aws_client("iam").create_role(RoleName=unique("cold-role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    grant(role)  # a test double: the function may write its own logs
    files = {}
    with open(os.path.join(REPOSITORY, handler_file)) as handle:
        files[os.path.basename(handler_file)] = handle.read()
    with open(os.path.join(REPOSITORY, "plugins", "module_utils", "cwl_filter_pattern.py")) as handle:
        files["cwl_filter_pattern.py"] = handle.read()
    name = unique("cold")
    module = os.path.basename(handler_file)[:-3]
    lam.create_function(FunctionName=name, Runtime="python3.12", Role=role, Handler=module + ".handler",
                        Code={"ZipFile": _zip(files)}, Timeout=30)
    lam.invoke(FunctionName=name, Payload=b'{"Records": []}')  # its result does not matter here
    messages = [e["message"] for e in logs.filter_log_events(logGroupName="/aws/lambda/" + name)["events"]]
    cold = [json.loads(m) for m in messages if "logvault cold start" in m]
    pins = _pins()
    assert cold == [{"message": "logvault cold start", "boto3": pins["boto3"], "botocore": pins["botocore"]}]
