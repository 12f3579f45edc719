# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 13 item 6, against the local AWS emulator: a member account that already ships its
logs elsewhere has an account-level subscription filter policy of another name, and AWS
allows one per account and Region. ``members.yml`` must stop in preflight, before any write,
naming that policy and pointing at the per-group mode; with
``member_account_subscription_mode: log_groups`` the same account is onboarded beside it.

The central destination is made with boto3 as in test_organization_onboarding.py; only
members.yml runs through ansible-playbook (one account, one region)."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import os
import subprocess
import sys
import time

import boto3
import pytest
import yaml

from ansible_collections.logvault.aws.plugins.filter.destination_policy import destination_policy

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
BIN = os.path.dirname(sys.executable)
COLLECTIONS = os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections")
INSTALLED = os.path.join(COLLECTIONS, "ansible_collections", "logvault", "aws", "MANIFEST.json")
CENTRAL, MEMBER = "123456789012", "111111111111"
REGION = "us-east-1"
ROLE = "logvault-admin"
OTHER = "datadog-forwarder"


@pytest.fixture()
def emulator():
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    server = start(port=0)
    try:
        yield server
    finally:
        server.stop()


def _client(endpoint, service, account=None):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION)
    if account:
        creds = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn="arn:aws:iam::%s:role/%s" % (account, ROLE), RoleSessionName="test"
        )["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=REGION)
    return session.client(service, endpoint_url=endpoint)


def _destination(endpoint, name):
    kinesis = _client(endpoint, "kinesis")
    kinesis.create_stream(StreamName=name, ShardCount=1)
    stream_arn = kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamARN"]
    role_arn = _client(endpoint, "iam").create_role(
        RoleName=name,
        AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}),
    )["Role"]["Arn"]
    # The emulator evaluates the destination's role (service roles, on by default): it may put
    # records into the stream, as central_account's PutIntoTheHubStream statement allows.
    _client(endpoint, "iam").put_role_policy(
        RoleName=name, PolicyName=name,
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": ["kinesis:PutRecord", "kinesis:PutRecords"], "Resource": stream_arn}]}),
    )
    logs = _client(endpoint, "logs")
    # The role was created a moment ago: like AWS (IAM eventual consistency), the emulator
    # refuses it for a few seconds with PutDestination's documented answer; retry exactly that.
    deadline = time.time() + 120
    while True:
        try:
            arn = logs.put_destination(destinationName=name, targetArn=stream_arn, roleArn=role_arn)["destination"]["arn"]
            break
        except logs.exceptions.InvalidParameterException as exc:
            if "Could not deliver test message" not in str(exc) or time.time() > deadline:
                raise
            time.sleep(1)
    logs.put_destination_policy(destinationName=name, accessPolicy=json.dumps(destination_policy(arn, [MEMBER])))
    return arn


def _run(tmp_path, endpoint, extra_member_vars):
    inventory = tmp_path / "hosts.yml"
    member = {"logvault_account_id": MEMBER, "logvault_assume_role_arn": "arn:aws:iam::%s:role/%s" % (MEMBER, ROLE)}
    member.update(extra_member_vars)
    inventory.write_text(yaml.safe_dump({"all": {
        "vars": {"ansible_connection": "local", "ansible_python_interpreter": sys.executable,
                 "logvault_name_prefix": "logvault", "logvault_regions": [REGION],
                 "logvault_aws_endpoint_url": endpoint},
        "children": {"central": {"hosts": {"security": {"logvault_account_id": CENTRAL}}},
                     "members": {"hosts": {"team-a": member}}}}}))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true",
               ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_LOCAL_TEMP=str(tmp_path / "tmp"), ANSIBLE_NOCOLOR="1",
               AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing", AWS_DEFAULT_REGION=REGION)
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    result = subprocess.run([os.path.join(BIN, "ansible-playbook"), "-i", str(inventory),
                             os.path.join(REPO, "playbooks", "members.yml"), "--limit", "team-a"],
                            env=env, capture_output=True, text=True, timeout=900, check=False)
    print(result.stdout[-20000:])
    print(result.stderr[-5000:], file=sys.stderr)
    return result.returncode, result.stdout + result.stderr


def test_another_account_policy_stops_preflight_before_any_write(emulator, tmp_path):
    if not os.path.isfile(INSTALLED):
        pytest.fail("logvault.aws is not installed in %s; run `make collection` first" % COLLECTIONS)
    endpoint = emulator.endpoint
    _destination(endpoint, "logvault-central")
    other = _destination(endpoint, "elsewhere")
    logs = _client(endpoint, "logs", MEMBER)
    logs.put_account_policy(policyName=OTHER, policyType="SUBSCRIPTION_FILTER_POLICY", scope="ALL",
                            policyDocument=json.dumps({"DestinationArn": other, "FilterPattern": ""}))
    iam = _client(endpoint, "iam", MEMBER)
    roles_before = sorted(r["RoleName"] for r in iam.list_roles()["Roles"])
    groups_before = sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"])

    rc, out = _run(tmp_path, endpoint, {})
    assert rc != 0
    assert "member_account (host team-a): the account already has an account-level subscription filter policy" in out
    assert "(%s: %s)" % (REGION, OTHER) in out
    assert "member_account_subscription_mode to log_groups" in out
    assert "Nothing was changed" in out
    # Before any write: no role, no log group, no policy of ours.
    assert sorted(r["RoleName"] for r in iam.list_roles()["Roles"]) == roles_before
    assert sorted(g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]) == groups_before
    policies = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    assert [p["policyName"] for p in policies] == [OTHER]

    # The per-group mode works beside the other policy. The instances' existing role "web"
    # gets the fleet policy (issue 13 item 9), whose groups include those of logvault_fleet_sources.
    logs.create_log_group(logGroupName="/app/orders")
    iam.create_role(RoleName="web", AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}]}))
    rc, out = _run(tmp_path, endpoint, {"member_account_subscription_mode": "log_groups",
                                        "member_account_subscribe_log_groups": ["/app/orders"],
                                        "member_account_fleet_policy_roles": ["web"],
                                        "logvault_fleet_sources": [{"name": "app", "paths": ["/var/log/app.log"],
                                                                    "log_group": "/logvault/hosts/app", "parser": "json"}]})
    assert rc == 0
    attached = iam.list_attached_role_policies(RoleName="web")["AttachedPolicies"]
    assert [p["PolicyName"] for p in attached] == ["logvault-fluentd-fleet"]
    version = iam.get_policy(PolicyArn=attached[0]["PolicyArn"])["Policy"]["DefaultVersionId"]
    document = iam.get_policy_version(PolicyArn=attached[0]["PolicyArn"], VersionId=version)["PolicyVersion"]["Document"]
    document = json.loads(document) if isinstance(document, str) else document
    assert "arn:aws:logs:%s:%s:log-group:/logvault/hosts/app" % (REGION, MEMBER) in document["Statement"][0]["Resource"]
    assert "/logvault/hosts/app" in [g["logGroupName"] for g in logs.describe_log_groups()["logGroups"]]
    filters = logs.describe_subscription_filters(logGroupName="/app/orders")["subscriptionFilters"]
    assert [f["destinationArn"].rsplit(":", 1)[1] for f in filters] == ["logvault-central"]
    policies = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"]
    assert [p["policyName"] for p in policies] == [OTHER]
