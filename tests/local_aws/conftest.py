# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests.

* ``local_aws``: one emulator per test session, on a free port (``.endpoint``,
  ``.flush()``...). Tests share its state, so they name resources with ``unique``.
* ``aws_client``: factory ``aws_client(service, account_id="123456789012",
  region="us-east-1")`` returning a boto3 client acting as that account (other accounts
  through sts:AssumeRole, like on AWS).
* ``unique``: factory of unique resource names.
* ``central_account_id`` / ``member_account_ids``: the accounts the scenario uses.
"""

import importlib
import itertools
import os
import sys
import uuid

import pytest


def _use_the_real_package():
    """This folder is named like the emulator package, and pytest's importlib mode
    registers it as the module ``local_aws`` (an empty namespace) before importing
    this conftest. Replace that stand-in with the real package at the repository root,
    so ``import local_aws`` works here and in every test collected after this folder."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    expected = os.path.join(repo, "local_aws", "__init__.py")
    current = sys.modules.get("local_aws")
    if current is not None and os.path.abspath(getattr(current, "__file__", None) or "") == expected:
        return
    sys.modules.pop("local_aws", None)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    try:
        importlib.import_module("local_aws")
    except ImportError as exc:
        raise pytest.UsageError("the local AWS emulator (local_aws/ at the repository root) cannot be imported: %s" % exc)


_use_the_real_package()

CENTRAL_ACCOUNT = "123456789012"
MEMBER_ACCOUNTS = ("111111111111", "222222222222")
REGION = "us-east-1"


def _server_module():
    try:
        from local_aws import server  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        pytest.fail("the local AWS emulator (local_aws/ at the repository root) cannot be imported: %s" % exc)
    return server


@pytest.fixture(scope="session")
def local_aws():
    emu = _server_module().start(port=0)
    try:
        yield emu
    finally:
        emu.stop()


# The emulator's own feature tests (Firehose delivery, filter patterns, destinations...) use
# ad-hoc roles as test doubles, created a moment before use and trusted loosely. Each test
# here therefore starts with the three switchable strictness rules OFF; the tests of those
# rules turn them on themselves (test_iam_propagation.py, test_trust_policies.py,
# test_service_rules.py). Everything that runs the collection (integration, molecule,
# `make demo`, `make chaos`) runs with the strict defaults of local_aws/settings.py.
FEATURE_TEST_SWITCHES = {
    "LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "0",
    "LOGVAULT_AWS_TRUST_POLICIES": "0",
    "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS": "0",
}


@pytest.fixture(scope="session", autouse=True)
def _strictness_off_for_feature_tests():
    # Session scope: module-scoped fixtures that build scenarios see it too.
    with pytest.MonkeyPatch.context() as patch:
        for name, value in FEATURE_TEST_SWITCHES.items():
            patch.setenv(name, value)
        yield


@pytest.fixture(scope="session")
def aws_client(local_aws):  # pylint: disable=redefined-outer-name
    import local_aws as package  # pylint: disable=import-outside-toplevel

    cache = {}

    def factory(service, account_id=CENTRAL_ACCOUNT, region=REGION):
        key = (service, account_id, region)
        if key not in cache:
            cache[key] = package.client(service, account_id=account_id, endpoint=local_aws.endpoint, region=region)
        return cache[key]

    return factory


@pytest.fixture()
def unique():
    base = uuid.uuid4().hex[:8]
    counter = itertools.count()

    def factory(prefix="lv"):
        return "%s-%s-%d" % (prefix, base, next(counter))

    return factory


@pytest.fixture(scope="session")
def central_account_id():
    return CENTRAL_ACCOUNT


@pytest.fixture(scope="session")
def member_account_ids():
    return list(MEMBER_ACCOUNTS)


def decode_record(data):
    """A CloudWatch Logs subscription record (gzip JSON) -> dict."""
    import gzip  # pylint: disable=import-outside-toplevel
    import json  # pylint: disable=import-outside-toplevel

    return json.loads(gzip.decompress(data).decode("utf-8"))


@pytest.fixture(scope="session")
def kinesis_stream(aws_client):  # pylint: disable=redefined-outer-name
    """Factory: create a Kinesis stream, return its ARN."""

    def factory(name, account_id=CENTRAL_ACCOUNT, region=REGION, shards=1):
        kinesis = aws_client("kinesis", account_id=account_id, region=region)
        kinesis.create_stream(StreamName=name, ShardCount=shards)
        return kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]

    return factory


@pytest.fixture(scope="session")
def read_stream(aws_client):  # pylint: disable=redefined-outer-name
    """Factory: every record of a stream from TRIM_HORIZON as dicts with
    ``partition_key``, ``shard`` and ``payload`` (the decoded gzip JSON)."""

    def factory(name, account_id=CENTRAL_ACCOUNT, region=REGION):
        kinesis = aws_client("kinesis", account_id=account_id, region=region)
        out = []
        for shard in kinesis.list_shards(StreamName=name)["Shards"]:
            iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON")["ShardIterator"]
            while iterator:
                page = kinesis.get_records(ShardIterator=iterator, Limit=1000)
                for record in page["Records"]:
                    out.append({"partition_key": record["PartitionKey"], "shard": shard["ShardId"],
                                "sequence": record["SequenceNumber"], "payload": decode_record(record["Data"])})
                if not page["Records"]:
                    break
                iterator = page.get("NextShardIterator")
        return out

    return factory


@pytest.fixture(scope="session")
def log_group(aws_client):  # pylint: disable=redefined-outer-name
    """Factory: create a log group and one log stream in it."""

    def factory(name, account_id=CENTRAL_ACCOUNT, region=REGION, stream="stream-1"):
        logs = aws_client("logs", account_id=account_id, region=region)
        logs.create_log_group(logGroupName=name)
        if stream:
            logs.create_log_stream(logGroupName=name, logStreamName=stream)
        return logs

    return factory


@pytest.fixture(scope="session")
def put_events(aws_client):  # pylint: disable=redefined-outer-name
    """Factory: put messages (now, in order) into a log stream; returns the timestamps."""
    import time  # pylint: disable=import-outside-toplevel

    def factory(group, messages, account_id=CENTRAL_ACCOUNT, region=REGION, stream="stream-1"):
        now = int(time.time() * 1000)
        events = [{"timestamp": now + i, "message": m} for i, m in enumerate(messages)]
        aws_client("logs", account_id=account_id, region=region).put_log_events(
            logGroupName=group, logStreamName=stream, logEvents=events)
        return [e["timestamp"] for e in events]

    return factory


@pytest.fixture(scope="session")
def destination(aws_client):  # pylint: disable=redefined-outer-name
    """Factory: a CloudWatch Logs destination in front of a stream, with an access policy
    (a dict, or None for no policy). Returns the destination ARN."""
    import json  # pylint: disable=import-outside-toplevel

    def factory(name, target_arn, policy=None, account_id=CENTRAL_ACCOUNT, region=REGION):
        logs = aws_client("logs", account_id=account_id, region=region)
        arn = logs.put_destination(destinationName=name, targetArn=target_arn,
                                   roleArn="arn:aws:iam::%s:role/CWLtoKinesisRole" % account_id)["destination"]["arn"]
        if policy is not None:
            if callable(policy):
                policy = policy(arn)
            logs.put_destination_policy(destinationName=name, accessPolicy=json.dumps(policy))
        return arn

    return factory


def allow_accounts(*accounts, actions=("logs:PutSubscriptionFilter", "logs:PutAccountPolicy")):
    """An access policy (as a function of the destination ARN) allowing ``accounts``."""

    def build(arn):
        return {"Version": "2012-10-17", "Statement": [{
            "Sid": "AllowAccounts", "Effect": "Allow", "Principal": {"AWS": list(accounts)},
            "Action": list(actions), "Resource": arn,
        }]}

    return build


@pytest.fixture(scope="session")
def allow():
    """``allow(*accounts, actions=(...))`` -> access policy builder (see allow_accounts)."""
    return allow_accounts


@pytest.fixture(scope="session")
def decode():
    """``decode(data)`` -> the decoded CloudWatch Logs subscription payload."""
    return decode_record


# Test double: the permissions policy the emulator's own tests give the roles they create.
# The emulator evaluates a service role's identity policies (LOGVAULT_AWS_SERVICE_ROLE_POLICIES,
# local_aws/services/service_roles.py), so a role with only a trust policy can do nothing,
# as on AWS. Tests about other behaviours grant their roles these services' actions; the
# collection's own, scoped policies are exercised by the integration/molecule layers.
TEST_DOUBLE_ACTIONS = ("kinesis:*", "firehose:*", "s3:*", "kms:*", "lambda:*", "logs:*", "sqs:*", "sns:*",
                       "dynamodb:*", "cloudwatch:*")


def grant_role(iam, role, actions=TEST_DOUBLE_ACTIONS, resource="*", name="test-double"):
    """Put an inline policy allowing ``actions`` on ``resource`` on ``role`` (name or ARN)."""
    import json  # pylint: disable=import-outside-toplevel

    iam.put_role_policy(RoleName=role.rsplit("/", 1)[-1], PolicyName=name, PolicyDocument=json.dumps({
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": list(actions), "Resource": resource}]}))
    return role


@pytest.fixture(scope="session")
def grant(aws_client):  # pylint: disable=redefined-outer-name
    """``grant(role, actions=TEST_DOUBLE_ACTIONS, account_id=...)``: see grant_role."""

    def factory(role, actions=TEST_DOUBLE_ACTIONS, account_id=CENTRAL_ACCOUNT, resource="*"):
        return grant_role(aws_client("iam", account_id=account_id), role, actions, resource)

    return factory
