# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A function's KMSKeyArn is set by CreateFunction and changed by UpdateFunctionConfiguration (lambda_kms_key)."""

import io
import json
import zipfile


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return event\n")
    return buf.getvalue()


def test_update_function_configuration_sets_and_removes_the_key(aws_client, unique):
    lam, iam, kms = aws_client("lambda"), aws_client("iam"), aws_client("kms")
    role = iam.create_role(RoleName=unique("kms-fn"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    first, second = (kms.create_key()["KeyMetadata"]["Arn"] for dummy in range(2))
    name = unique("kms-fn")
    lam.create_function(FunctionName=name, Runtime="python3.11", Role=role, Handler="app.handler",
                        Code={"ZipFile": _zip()}, Environment={"Variables": {"A": "b"}})
    # no customer managed key: the member is absent, as FunctionConfiguration documents it
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName=name)
    assert "KMSKeyArn" not in lam.get_function(FunctionName=name)["Configuration"]

    lam.update_function_configuration(FunctionName=name, KMSKeyArn=first)
    assert lam.get_function_configuration(FunctionName=name)["KMSKeyArn"] == first
    lam.update_function_configuration(FunctionName=name, KMSKeyArn=second)
    assert lam.get_function(FunctionName=name)["Configuration"]["KMSKeyArn"] == second
    # an update without the member keeps the key
    lam.update_function_configuration(FunctionName=name, Timeout=9)
    assert lam.get_function_configuration(FunctionName=name)["KMSKeyArn"] == second
    # an empty value turns the customer managed key off
    lam.update_function_configuration(FunctionName=name, KMSKeyArn="")
    assert "KMSKeyArn" not in lam.get_function_configuration(FunctionName=name)
    lam.delete_function(FunctionName=name)
