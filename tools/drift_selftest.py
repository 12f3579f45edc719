# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Test of the drift report against a converged estate in the local AWS emulator.

Run by the molecule `member` scenario's verify (after site.yml converged, inventories/local).
1. tools/drift_report.py on the clean estate must exit 0 with no row.
2. Three changes are made behind the collection's back, with boto3:
   the account-level subscription filter policy of member account 111111111111 in us-east-1
   (its filter pattern), the access policy of the central destination in us-east-1 (one more
   account admitted), and the lifecycle rule of the central archive bucket (transition days).
   A fourth change is made to what role stream_alerts manages: the alert topic's KMS key
   (another key).
3. tools/drift_report.py must exit 1 and show each change as a row: account, region, resource.
Exits 0 when all of that holds; prints what was missing otherwise.
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import os
import subprocess
import sys
import tempfile

import boto3

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CENTRAL = "123456789012"
MEMBER = "111111111111"
REGION = "us-east-1"


def client(endpoint, service, account=None, region=REGION, role="logvault-admin"):
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)
    if account:
        creds = session.client("sts", endpoint_url=endpoint).assume_role(
            RoleArn="arn:aws:iam::%s:role/%s" % (account, role), RoleSessionName="drift-selftest")["Credentials"]
        session = boto3.session.Session(aws_access_key_id=creds["AccessKeyId"], aws_secret_access_key=creds["SecretAccessKey"],
                                        aws_session_token=creds["SessionToken"], region_name=region)
    return session.client(service, endpoint_url=endpoint)


def report(playbook_args, workdir, name):
    json_path = os.path.join(workdir, name + ".json")
    md_path = os.path.join(workdir, name + ".md")
    result = subprocess.run([sys.executable, os.path.join(ROOT, "tools", "drift_report.py"), "--json", json_path,
                             "--markdown", md_path, "--"] + playbook_args, capture_output=True, text=True, check=False)
    print(result.stdout)
    if result.stderr.strip():
        print(result.stderr[-3000:], file=sys.stderr)
    rows = []
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as handle:
            rows = json.load(handle)["rows"]
    markdown = open(md_path, encoding="utf-8").read() if os.path.exists(md_path) else ""  # pylint: disable=consider-using-with
    return result.returncode, rows, markdown


def tamper(endpoint):
    # 1. The member's account-level subscription filter policy: another filter pattern.
    logs = client(endpoint, "logs", MEMBER)
    policy = logs.describe_account_policies(policyType="SUBSCRIPTION_FILTER_POLICY")["accountPolicies"][0]
    document = json.loads(policy["policyDocument"])
    document["FilterPattern"] = "tampered"
    logs.put_account_policy(policyName=policy["policyName"], policyType="SUBSCRIPTION_FILTER_POLICY",
                            policyDocument=json.dumps(document), scope=policy.get("scope", "ALL"),
                            **({"selectionCriteria": policy["selectionCriteria"]} if policy.get("selectionCriteria") else {}))
    # 2. The central destination's access policy: one more account admitted.
    central_logs = client(endpoint, "logs")
    destination = central_logs.describe_destinations()["destinations"][0]
    access = json.loads(destination["accessPolicy"])
    access["Statement"].append({"Sid": "Tampered", "Effect": "Allow", "Principal": {"AWS": "999999999999"},
                                "Action": "logs:PutSubscriptionFilter", "Resource": destination["arn"]})
    central_logs.put_destination_policy(destinationName=destination["destinationName"], accessPolicy=json.dumps(access),
                                        forceUpdate=True)
    # 4. The stream alerts' topic (role stream_alerts): encrypted with another key.
    sns = client(endpoint, "sns")
    topic = [t["TopicArn"] for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(":logvault-alerts")][0]
    sns.set_topic_attributes(TopicArn=topic, AttributeName="KmsMasterKeyId", AttributeValue="alias/aws/sns")
    # 3. The archive bucket's lifecycle rule: a shorter transition. The bucket policy denies
    # lifecycle changes to everyone but the break-glass principals and the deployer (the emulator
    # enforces its Deny statements, as AWS does), so the change is made as the break-glass role
    # of inventories/local, the person who could drift it on a real account.
    s3 = client(endpoint, "s3", CENTRAL, role="logvault-break-glass")
    for bucket in s3.list_buckets()["Buckets"]:
        try:
            rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket["Name"])["Rules"]
        except s3.exceptions.ClientError:
            continue
        if any(r.get("ID") == "archive-transition-never-expire" for r in rules) and "-archive-" in bucket["Name"]:
            for rule in rules:
                for transition in rule.get("Transitions", []):
                    transition["Days"] = 1
            s3.put_bucket_lifecycle_configuration(Bucket=bucket["Name"], LifecycleConfiguration={"Rules": rules})
            return destination["destinationName"], bucket["Name"]
    raise SystemExit("drift_selftest: no archive bucket with the collection's lifecycle rule found")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("playbook_args", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    playbook_args = args.playbook_args[1:] if args.playbook_args[:1] == ["--"] else args.playbook_args
    problems = []
    with tempfile.TemporaryDirectory() as workdir:
        rc, rows, markdown = report(playbook_args, workdir, "clean")
        if rc != 0 or rows:
            problems.append("clean estate: expected exit 0 and no row, got exit %d and %d row(s)" % (rc, len(rows)))
        if "No drift" not in markdown:
            problems.append("clean estate: the Markdown report does not say 'No drift'")
        destination, bucket = tamper(args.endpoint)
        rc, rows, markdown = report(playbook_args, workdir, "drifted")
        if rc != 1:
            problems.append("drifted estate: expected exit 1, got %d" % rc)
        expected = {
            "subscription filter policy of %s in %s" % (MEMBER, REGION):
                lambda r: r["account"] == MEMBER and r["region"] == REGION and "account-level policy" in r["resource"],
            "destination policy of %s in %s" % (destination, REGION):
                lambda r: r["account"] == CENTRAL and r["region"] == REGION and destination in r["resource"]
                and "policy" in r["differs"].lower(),
            "alert topic's key (stream_alerts)":
                lambda r: r["account"] == CENTRAL and "stream_alerts" in r["resource"] and "alias/aws/sns" in r["differs"],
            "lifecycle of %s" % bucket:
                lambda r: r["account"] == CENTRAL and bucket in r["resource"] + r["differs"]
                and "lifecycle" in (r["resource"] + r["differs"]).lower() and "Transitions" in r["differs"],
        }
        for what, match in expected.items():
            if not any(match(r) for r in rows):
                problems.append("drifted estate: no row for the %s" % what)
        if "| account |" not in markdown or len(markdown.strip().splitlines()) < 4 + len(expected) - 1:
            problems.append("drifted estate: the Markdown table is missing rows")
    for problem in problems:
        print("drift_selftest: " + problem, file=sys.stderr)
    if not problems:
        print("drift_selftest: the clean estate reports no drift; each of the four changes is reported")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
