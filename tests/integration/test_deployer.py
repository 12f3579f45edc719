# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 item 5, against the local AWS emulator with callers' identity policies enforced
(LOGVAULT_AWS_CALLER_POLICIES=1, docs/local-aws.md "Callers' identity policies"):

1. ``deployer.yml`` creates the deployer role in every account of the inventory through
   OrganizationAccountAccessRole, from the shipped CloudFormation template: the central policy
   in the central account, the member policy in a member account, trusted by the control
   node's principal only;
2. ``central.yml``, ``alerts.yml``, ``members.yml`` and ``cloudtrail.yml`` (the member account opts
   in) then run **as those roles**, and the emulator allows each of their requests only when the
   shipped policy allows its action on its resource (and iam:PassRole for each role handed to a
   service): all pass;
3. ``drift.yml`` (check mode) reads what it compares as those roles too, and finds no drift;
   ``restore.yml`` (an archived day of the member account) and ``redrive.yml`` (nothing to redrive)
   run as the central deployer role, ``offboard_member.yml`` as the member's; a second
   ``deployer.yml`` changes nothing;
4. with one action removed from the member role's policy, ``members.yml`` fails with the
   service's AccessDenied naming that action (the test can fail).

The accounts are not empty: like a real organization's (a Control Tower audit account holds
``aws-controltower-*`` functions and topics, a workload account its team's), each already holds
another team's resources of every kind the roles read, which the deployer's policy does not cover
(``_foreign_resources``). The roles must not need to read them, and must leave them as they were.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import io
import json
import os
import re
import sys
import time
import zipfile
from urllib.parse import unquote

import botocore.exceptions
import pytest
import yaml

from local_aws.services import caller_policies

CENTRAL, MEMBER = "123456789012", "111111111111"
REGION = "us-east-1"
CONTROL_NODE = "arn:aws:iam::123456789012:role/ansible-control-node"
DEPLOYER = "logvault-deployer"
# An action members.yml calls on every run (the preflight reads the account's policies).
REMOVED = "logs:DescribeAccountPolicies"


@pytest.fixture()
def enforced(monkeypatch):
    monkeypatch.setenv(caller_policies.SETTING, "1")
    # The refusals are recorded per process: forget those of the tests that ran before in this one
    # (tests/local_aws/test_caller_policies.py refuses on purpose).
    caller_policies.reset()
    yield
    caller_policies.reset()


class _EmulatorKeys(dict):
    """TEST DOUBLE glue: the OpenSearch stand-in verifies SigV4 with the secret of any access
    key the emulator of this process issued (the deployer's and the master role's sessions),
    as the real domain accepts any valid AWS credentials."""

    def _secret(self, key):
        from moto.iam.models import get_account_id_from, iam_backends  # pylint: disable=import-outside-toplevel

        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        found = iam_backends[get_account_id_from(key)]["global"].access_keys.get(key)
        return getattr(found, "secret_access_key", None)

    def __contains__(self, key):
        return self._secret(key) is not None

    def __getitem__(self, key):
        secret = self._secret(key)
        if secret is None:
            raise KeyError(key)
        return secret


@pytest.fixture()
def opensearch(helpers):
    path = os.path.join(helpers.REPO, "tests", "opensearch_stub", "server.py")
    spec = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    stub = module.OpenSearchStub({"testing": "testing"})
    stub.credentials = _EmulatorKeys(testing="testing")
    stub.start()
    try:
        yield stub
    finally:
        stub.stop()


def _inventory(tmp_path, endpoint, opensearch):
    inventory = tmp_path / "hosts.yml"
    role = "arn:aws:iam::%s:role/" + DEPLOYER
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "logvault_name_prefix": "logvault", "logvault_regions": [REGION], "logvault_local_aws": True,
                 "logvault_aws_endpoint_url": endpoint,
                 # the data plane of the OpenSearch test double (inventories/local does the same)
                 "central_account_opensearch_endpoint_override": opensearch.endpoint,
                 "central_account_opensearch_ca_path": opensearch.ca_path,
                 "central_account_search_backup_mode": "AllDocuments",
                 "central_account_opensearch_public": True},
        "children": {
            # The deployer writes the OpenSearch security configuration as the master role, so it is
            # listed next to the break-glass role, as inventories/example does (docs/first-run.md).
            "central": {"hosts": {"security": {
                "logvault_account_id": CENTRAL, "logvault_assume_role_arn": role % CENTRAL,
                "central_account_opensearch_master_principal_arns": [
                    "arn:aws:iam::%s:role/logvault-break-glass" % CENTRAL, role % CENTRAL]}}},
            # with the opt-in CloudTrail trail (cloudtrail.yml)
            "members": {"hosts": {"team-a": {"logvault_account_id": MEMBER, "logvault_assume_role_arn": role % MEMBER,
                                             "logvault_cloudtrail": True}}}}}}))
    return inventory


def _iam(helpers, endpoint, account):
    return helpers.client(endpoint, "iam", account, role="OrganizationAccountAccessRole")


def _document(value):
    return json.loads(unquote(value)) if isinstance(value, str) else value


def _shipped(helpers, kind):
    with open(os.path.join(helpers.REPO, "deployer", "%s-policy.json" % kind), encoding="utf-8") as handle:
        return json.load(handle)


FOREIGN = "team-x"


def _foreign_resources(helpers, endpoint, account):
    """Another team's resources in ``account``, made with the account's admin role (not evaluated):
    one of each kind the roles list or read, named outside the deployer policy's ``logvault-*``
    scope. Returns a description of each, to compare after the runs."""
    def client(service):
        return helpers.client(endpoint, service, account, role="OrganizationAccountAccessRole")

    name = "%s-%s" % (FOREIGN, account)
    trust = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": ["lambda.amazonaws.com", "firehose.amazonaws.com"]},
         "Action": "sts:AssumeRole"}]}
    role = client("iam").create_role(RoleName=FOREIGN, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    topic = client("sns").create_topic(Name=FOREIGN)["TopicArn"]
    key = client("kms").create_key(Description=FOREIGN)["KeyMetadata"]["KeyId"]
    client("kms").create_alias(AliasName="alias/%s" % FOREIGN, TargetKeyId=key)
    client("s3").create_bucket(Bucket=name)
    client("kinesis").create_stream(StreamName=FOREIGN, ShardCount=1)
    client("logs").create_log_group(logGroupName="/%s/app" % FOREIGN)
    client("cloudwatch").put_metric_alarm(AlarmName=FOREIGN, MetricName="Errors", Namespace="TeamX", Statistic="Sum",
                                          Period=300, EvaluationPeriods=1, Threshold=1,
                                          ComparisonOperator="GreaterThanThreshold")
    client("events").put_rule(Name=FOREIGN, ScheduleExpression="rate(1 hour)")
    client("dynamodb").create_table(TableName=FOREIGN, BillingMode="PAY_PER_REQUEST",
                                    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                                    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    client("sqs").create_queue(QueueName=FOREIGN)
    client("glue").create_database(DatabaseInput={"Name": FOREIGN.replace("-", "_")})
    client("athena").create_work_group(Name=FOREIGN)
    client("opensearch").create_domain(DomainName=FOREIGN)
    client("logs").put_resource_policy(policyName=FOREIGN, policyDocument=json.dumps({
        "Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
                                                "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:*:%s:log-group:/%s/*" % (account, FOREIGN)}]}))
    client("cloudtrail").create_trail(Name=FOREIGN, S3BucketName=name)
    # Lambda and Firehose refuse a new role until IAM propagated it, as AWS does
    _when_propagated(lambda: client("lambda").create_function(
        FunctionName=FOREIGN, Runtime="python3.12", Role=role, Handler="index.handler", Code={"ZipFile": _zip()}))
    _when_propagated(lambda: client("firehose").create_delivery_stream(DeliveryStreamName=FOREIGN, S3DestinationConfiguration={
        "RoleARN": role, "BucketARN": "arn:aws:s3:::%s" % name}))
    return _describe_foreign(helpers, endpoint, account, topic)


def _describe_foreign(helpers, endpoint, account, topic):
    def client(service):
        return helpers.client(endpoint, service, account, role="OrganizationAccountAccessRole")

    name = "%s-%s" % (FOREIGN, account)
    function = client("lambda").get_function_configuration(FunctionName=FOREIGN)
    return {
        "logs_resource_policy": [p["policyDocument"] for p in client("logs").describe_resource_policies()["resourcePolicies"]
                                 if p["policyName"] == FOREIGN],
        "delivery_stream": client("firehose").describe_delivery_stream(DeliveryStreamName=FOREIGN)[
            "DeliveryStreamDescription"]["Destinations"],
        "trail": client("cloudtrail").get_trail(Name=FOREIGN)["Trail"],
        "function": {k: function.get(k) for k in ("CodeSha256", "Role", "KMSKeyArn", "Environment", "Description")},
        "function_tags": client("lambda").list_tags(Resource=function["FunctionArn"])["Tags"],
        "topic": {k: v for k, v in client("sns").get_topic_attributes(TopicArn=topic)["Attributes"].items()
                  if k in ("Policy", "KmsMasterKeyId", "DisplayName")},
        "key": client("kms").describe_key(KeyId="alias/%s" % FOREIGN)["KeyMetadata"]["KeyState"],
        "bucket_policy": _bucket_policy(client("s3"), name),
        "stream": client("kinesis").describe_stream_summary(StreamName=FOREIGN)["StreamDescriptionSummary"].get(
            "EncryptionType"),
        "log_group": [{k: g.get(k) for k in ("retentionInDays", "kmsKeyId")} for g in client("logs").describe_log_groups(
            logGroupNamePrefix="/%s/" % FOREIGN)["logGroups"]],
        "alarm": [a.get("AlarmActions") for a in client("cloudwatch").describe_alarms(AlarmNames=[FOREIGN])["MetricAlarms"]],
        "rule_targets": client("events").list_targets_by_rule(Rule=FOREIGN)["Targets"],
        "table": client("dynamodb").describe_table(TableName=FOREIGN)["Table"]["TableStatus"],
        "database": client("glue").get_database(Name=FOREIGN.replace("-", "_"))["Database"]["Name"],
        "workgroup": client("athena").get_work_group(WorkGroup=FOREIGN)["WorkGroup"]["State"],
        "domain": client("opensearch").describe_domain(DomainName=FOREIGN)["DomainStatus"].get("AccessPolicies"),
    }


def _when_propagated(call, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        try:
            return call()
        except botocore.exceptions.ClientError as error:
            code = error.response["Error"]["Code"]
            if code not in ("InvalidParameterValueException", "InvalidArgumentException") or time.monotonic() > deadline:
                raise
            time.sleep(1)


def _bucket_policy(s3, bucket):
    try:
        return s3.get_bucket_policy(Bucket=bucket)["Policy"]
    except botocore.exceptions.ClientError as error:
        return error.response["Error"]["Code"]


def _zip():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.py", "def handler(event, context):\n    return 1\n")
    return buffer.getvalue()


def test_playbooks_run_as_the_shipped_deployer_roles(enforced, emulator, opensearch, installed_collection, helpers,
                                                     tmp_path):
    inventory = _inventory(tmp_path, emulator.endpoint, opensearch)
    trusted = "logvault_deployer_trusted_principal_arn=%s" % CONTROL_NODE
    result = helpers.playbook(tmp_path, inventory, "deployer.yml", "-e", trusted)
    assert result.returncode == 0
    for account, kind in ((CENTRAL, "central"), (MEMBER, "member")):
        iam = _iam(helpers, emulator.endpoint, account)
        role = iam.get_role(RoleName=DEPLOYER)["Role"]
        assert [s["Principal"] for s in _document(role["AssumeRolePolicyDocument"])["Statement"]] == [{"AWS": CONTROL_NODE}]
        assert iam.list_role_policies(RoleName=DEPLOYER)["PolicyNames"] == [DEPLOYER]
        assert iam.list_attached_role_policies(RoleName=DEPLOYER)["AttachedPolicies"] == []
        inline = _document(iam.get_role_policy(RoleName=DEPLOYER, PolicyName=DEPLOYER)["PolicyDocument"])
        assert inline == _shipped(helpers, kind), "account %s did not get the %s policy" % (account, kind)

    # another team's resources, which the deployer may not read, are in both accounts already
    foreign = {account: _foreign_resources(helpers, emulator.endpoint, account) for account in (CENTRAL, MEMBER)}

    # site.yml's default plays (central.yml, alerts.yml, members.yml) as the deployer roles,
    # every request evaluated
    # and the opt-in CloudTrail trail of the member account
    for name in ("central.yml", "alerts.yml", "members.yml", "cloudtrail.yml"):
        result = helpers.playbook(tmp_path, inventory, name)
        assert result.returncode == 0, "%s as the deployer role: %s" % (name, caller_policies.denials()[-3:])
    assert caller_policies.denials() == []
    # the drift report's reads (check mode) are allowed as well, and find nothing on the estate just built
    drift = helpers.playbook(tmp_path, inventory, "drift.yml", "--check", "--diff")
    assert drift.returncode == 0, "drift.yml as the deployer role: %s" % caller_policies.denials()[-3:]
    assert caller_policies.denials() == []
    assert re.findall(r"changed=(\d+)", helpers.recap(drift)) == ["0", "0"]
    # the end-to-end check as the deployer roles: a canary event written in the member account (PutLogEvents
    # as the member's role) reaches the archive and search, read as the central account's role
    verify = helpers.playbook(tmp_path, inventory, "verify.yml")
    assert verify.returncode == 0, "verify.yml as the deployer role: %s" % caller_policies.denials()[-3:]
    assert caller_policies.denials() == []
    assert re.search(r"%s\s+%s\s+yes\s+yes" % (MEMBER, REGION), verify.stdout), verify.stdout[-3000:]
    for account, before in foreign.items():
        topic = "arn:aws:sns:%s:%s:%s" % (REGION, account, FOREIGN)
        assert _describe_foreign(helpers, emulator.endpoint, account, topic) == before, "%s: another team's resource changed" % account
    if os.environ.get("LOGVAULT_DEPLOYER_EVALUATED"):  # what the roles did, for tools/deployer_policy.py's tables
        with open(os.environ["LOGVAULT_DEPLOYER_EVALUATED"], "w", encoding="utf-8") as handle:
            json.dump(sorted([list(k) + [v] for k, v in caller_policies.evaluated().items()], key=str), handle, indent=1)
    logs = helpers.client(emulator.endpoint, "logs", MEMBER, role=DEPLOYER)
    assert [p["policyName"] for p in logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")[
        "accountPolicies"]] != []

    # the central account's operator playbooks as its deployer role: an archived day of the member
    # account is restored and copied (one GLACIER object, as the archive's transition leaves it, written
    # with the admin role), and the dead-letter bucket, empty, has nothing to redrive
    archive = "logvault-archive-%s-%s" % (CENTRAL, REGION)
    archived = "logs/account_id=%s/dt=2026-06-01/logvault-archive-1-2026-06-01-00-00-00-a.gz" % MEMBER
    helpers.client(emulator.endpoint, "s3", CENTRAL, role="OrganizationAccountAccessRole").put_object(
        Bucket=archive, Key=archived, Body=b"archived", StorageClass="GLACIER")
    for name, extra in (("restore.yml", ("-e", "restore_account=%s" % MEMBER, "-e", "restore_from=2026-06-01",
                                         "-e", "restore_tier=Expedited")),
                        ("redrive.yml", ())):
        result = helpers.playbook(tmp_path, inventory, name, *extra)
        assert result.returncode == 0, "%s as the deployer role: %s" % (name, caller_policies.denials()[-3:])
    assert caller_policies.denials() == []
    results = "logvault-athena-results-%s-%s" % (CENTRAL, REGION)
    copy = helpers.client(emulator.endpoint, "s3", CENTRAL, role="OrganizationAccountAccessRole").get_object(
        Bucket=results, Key="restore/" + archived)
    assert copy["Body"].read() == b"archived"

    # offboarding the member account as its deployer role removes its subscription policy
    offboard = helpers.playbook(tmp_path, inventory, "offboard_member.yml", "--limit", "team-a")
    assert offboard.returncode == 0, "offboard_member.yml as the deployer role: %s" % caller_policies.denials()[-3:]
    assert caller_policies.denials() == []
    assert logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"] == []

    again = helpers.playbook(tmp_path, inventory, "deployer.yml", "-e", trusted)
    assert again.returncode == 0
    assert "changed=0" in helpers.recap(again)

    # one action less: members.yml stops with the service's AccessDenied naming it
    iam = _iam(helpers, emulator.endpoint, MEMBER)
    policy = _shipped(helpers, "member")
    for statement in policy["Statement"]:
        if isinstance(statement["Action"], list) and REMOVED in statement["Action"]:
            statement["Action"].remove(REMOVED)
            break
    else:
        pytest.fail("the member policy has no %s" % REMOVED)
    iam.put_role_policy(RoleName=DEPLOYER, PolicyName=DEPLOYER, PolicyDocument=json.dumps(policy))
    failed = helpers.playbook(tmp_path, inventory, "members.yml")
    assert failed.returncode != 0
    assert "AccessDeniedException" in failed.stdout and REMOVED in failed.stdout
    assert [d["action"] for d in caller_policies.denials()] == [REMOVED]
