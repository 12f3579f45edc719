# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ListEventSourceMappings filters by the function, whatever form named it (lambda_esm_list)."""

import io
import json
import zipfile

import pytest
from botocore.exceptions import ClientError


def _zip():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("app.py", "def handler(event, context):\n    return None\n")
    return buf.getvalue()


@pytest.fixture()
def setup(aws_client, unique, grant):
    lam = aws_client("lambda")
    kinesis = aws_client("kinesis")
    stream = unique("esm-list")
    kinesis.create_stream(StreamName=stream, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamARN"]
    role = aws_client("iam").create_role(RoleName=unique("esm-list-role"), AssumeRolePolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
    }))["Role"]["Arn"]
    grant(role)
    functions = []
    for _index in range(2):
        functions.append(lam.create_function(FunctionName=unique("esm-list-fn"), Runtime="python3.11", Role=role, Handler="app.handler",
                                             Code={"ZipFile": _zip()})["FunctionArn"])
    created = []
    yield lam, stream_arn, functions, created
    for mapping_uuid in created:
        lam.delete_event_source_mapping(UUID=mapping_uuid)
    kinesis.delete_stream(StreamName=stream, EnforceConsumerDeletion=True)


def test_mappings_are_listed_by_name_or_arn_whichever_created_them(setup):
    lam, stream_arn, (first, second), created = setup
    by_arn = lam.create_event_source_mapping(FunctionName=first, EventSourceArn=stream_arn, StartingPosition="LATEST")["UUID"]
    by_name = lam.create_event_source_mapping(FunctionName=second.rsplit(":", 1)[-1], EventSourceArn=stream_arn,
                                              StartingPosition="LATEST")["UUID"]
    created.extend([by_arn, by_name])
    for function, wanted in ((first, by_arn), (second, by_name)):
        for form in (function, function.rsplit(":", 1)[-1]):
            found = lam.list_event_source_mappings(FunctionName=form, EventSourceArn=stream_arn)["EventSourceMappings"]
            assert [m["UUID"] for m in found] == [wanted], form
    everything = lam.list_event_source_mappings(EventSourceArn=stream_arn)["EventSourceMappings"]
    assert sorted(m["UUID"] for m in everything) == sorted([by_arn, by_name])


def test_a_function_that_does_not_exist_is_resource_not_found(setup):
    lam, stream_arn, _functions, _created = setup
    with pytest.raises(ClientError) as info:
        lam.list_event_source_mappings(FunctionName="no-such-function", EventSourceArn=stream_arn)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
