#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Micro-benchmark of the filter-pattern engine (plugins/module_utils/cwl_filter_pattern.py).

Workload: the CIS AWS Foundations monitoring filter patterns (as AWS Security Hub
CloudWatch.1-14 and CIS 4.15 print them) evaluated against a mix of log events of which
90% match no rule: CloudTrail management events (read-only calls, data-plane calls,
assumed-role sessions), application JSON logs and plain-text access logs. The other 10%
are CloudTrail events that each fire one of the rules.

Figures printed, all per core (time.process_time, one thread):

1. ``match_many`` over the raw messages: the way the alerts Lambda uses the engine
   (prefilter, JSON parsed at most once per event, compiled rules). Target >= 50,000
   events/s.
2. ``parse_json_message`` once + ``match_many(parsed=...)``: the same with the parse
   always done by the caller.
3. Baseline "compile-once, parse per rule": each rule's ``matches(message)`` on its own
   (every JSON rule parses the message again).
4. Baseline "naive": what an implementation without a compile step does: the pattern is
   compiled for every (event, rule) pair and the message parsed for each rule.

Every strategy must give the same alerts; the script checks that and exits with status 1
on a difference or when figure 1 misses its target. No test asserts on these timings.

Usage: .venv/bin/python bench/filter_pattern.py [--events 20000] [--seconds 2]
"""

import argparse
import importlib.util
import json
import os
import random
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ENGINE = os.path.join(os.path.dirname(HERE), "plugins", "module_utils", "cwl_filter_pattern.py")


def _load_engine():
    # By file path, exactly as the Lambda package and the emulator load it.
    spec = importlib.util.spec_from_file_location("cwl_filter_pattern", ENGINE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


fp = _load_engine()

TARGET_EVENTS_PER_SECOND = 50000

CIS_RULES = {
    'root_account_usage': '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    'unauthorized_api_calls': (
        '{ (($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*")) && ($.sourceIPAddress != '
        '"delivery.logs.amazonaws.com") && ($.eventName != "HeadBucket") }'
    ),
    'console_signin_without_mfa': (
        '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = '
        '"IAMUser") && ($.responseElements.ConsoleLogin = "Success") }'
    ),
    'iam_policy_changes': (
        '{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || '
        '($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || '
        '($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || '
        '($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || '
        '($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || '
        '($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy))}'
    ),
    'cloudtrail_changes': (
        '{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || '
        '($.eventName=StartLogging) || ($.eventName=StopLogging)}'
    ),
    'console_auth_failures': '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    'cmk_disable_or_deletion': '{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}',
    's3_bucket_policy_changes': (
        '{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || '
        '($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || '
        '($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || '
        '($.eventName=DeleteBucketReplication))}'
    ),
    'config_changes': (
        '{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || '
        '($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || '
        '($.eventName=PutConfigurationRecorder))}'
    ),
    'security_group_changes': (
        '{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || '
        '($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || '
        '($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}'
    ),
    'nacl_changes': (
        '{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || '
        '($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || '
        '($.eventName=ReplaceNetworkAclAssociation)}'
    ),
    'network_gateway_changes': (
        '{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || '
        '($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || '
        '($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}'
    ),
    'route_table_changes': (
        '{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || '
        '($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || '
        '($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}'
    ),
    'vpc_changes': (
        '{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || '
        '($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || '
        '($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || '
        '($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || '
        '($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}'
    ),
    'organizations_changes': (
        '{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = '
        '"AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || '
        '($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") '
        '|| ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = '
        '"DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = '
        '"InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || '
        '($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = '
        '"UpdateOrganizationalUnit")) }'
    ),
}


def cloudtrail(rng, event_name, event_source, **extra):
    """A CloudTrail management event shaped as CloudTrail delivers it to CloudWatch Logs."""
    account = rng.choice(["111111111111", "222222222222", "123456789012"])
    principal = "AROA%016d" % rng.randrange(10 ** 15)
    event = {
        "eventVersion": "1.09",
        "userIdentity": {
            "type": "AssumedRole",
            "principalId": "%s:session-%d" % (principal, rng.randrange(1000)),
            "arn": "arn:aws:sts::%s:assumed-role/app-role/session-%d" % (account, rng.randrange(1000)),
            "accountId": account,
            "accessKeyId": "ASIA%016d" % rng.randrange(10 ** 15),
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": principal,
                    "arn": "arn:aws:iam::%s:role/app-role" % account,
                    "accountId": account,
                    "userName": "app-role",
                },
                "attributes": {"creationDate": "2026-11-27T07:00:00Z", "mfaAuthenticated": "false"},
            },
        },
        "eventTime": "2026-11-27T07:%02d:%02dZ" % (rng.randrange(60), rng.randrange(60)),
        "eventSource": event_source,
        "eventName": event_name,
        "awsRegion": rng.choice(["us-east-1", "eu-west-1", "ap-southeast-2"]),
        "sourceIPAddress": "10.%d.%d.%d" % (rng.randrange(256), rng.randrange(256), rng.randrange(256)),
        "userAgent": "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.171.0",
        "requestParameters": {"maxResults": 1000, "filterSet": {}},
        "responseElements": None,
        "requestID": "%08x-0000-4000-8000-%012x" % (rng.randrange(16 ** 8), rng.randrange(16 ** 12)),
        "eventID": "%08x-1111-4111-8111-%012x" % (rng.randrange(16 ** 8), rng.randrange(16 ** 12)),
        "readOnly": event_name.startswith(("Describe", "Get", "List", "Head")),
        "eventType": "AwsApiCall",
        "managementEvent": True,
        "recipientAccountId": account,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256", "clientProvidedHostHeader": "ec2.amazonaws.com"},
    }
    event.update(extra)
    return json.dumps(event)


NON_MATCHING_CALLS = [
    ("DescribeInstances", "ec2.amazonaws.com"),
    ("DescribeSecurityGroups", "ec2.amazonaws.com"),
    ("DescribeRouteTables", "ec2.amazonaws.com"),
    ("GetObject", "s3.amazonaws.com"),
    ("PutObject", "s3.amazonaws.com"),
    ("GetBucketPolicy", "s3.amazonaws.com"),
    ("AssumeRole", "sts.amazonaws.com"),
    ("GetCallerIdentity", "sts.amazonaws.com"),
    ("Decrypt", "kms.amazonaws.com"),
    ("GenerateDataKey", "kms.amazonaws.com"),
    ("ListPolicies", "iam.amazonaws.com"),
    ("GetRole", "iam.amazonaws.com"),
    ("PutLogEvents", "logs.amazonaws.com"),
    ("DescribeConfigRules", "config.amazonaws.com"),
    ("DescribeTrails", "cloudtrail.amazonaws.com"),
    ("ListAccounts", "organizations.amazonaws.com"),
]


def firing_event(rng):
    """A CloudTrail event that fires exactly one CIS rule."""
    kind = rng.randrange(8)
    if kind == 0:
        return cloudtrail(rng, "ConsoleLogin", "signin.amazonaws.com",
                          userIdentity={"type": "IAMUser", "userName": "alice", "accountId": "111111111111"},
                          additionalEventData={"MFAUsed": "No", "LoginTo": "https://console.aws.amazon.com"},
                          responseElements={"ConsoleLogin": "Success"})
    if kind == 1:
        return cloudtrail(rng, "DescribeInstances", "ec2.amazonaws.com",
                          userIdentity={"type": "Root", "principalId": "111111111111", "accountId": "111111111111"})
    if kind == 2:
        return cloudtrail(rng, "DescribeInstances", "ec2.amazonaws.com", errorCode="Client.UnauthorizedOperation",
                          errorMessage="You are not authorized to perform this operation.")
    if kind == 3:
        return cloudtrail(rng, "AuthorizeSecurityGroupIngress", "ec2.amazonaws.com")
    if kind == 4:
        return cloudtrail(rng, "StopLogging", "cloudtrail.amazonaws.com")
    if kind == 5:
        return cloudtrail(rng, "ScheduleKeyDeletion", "kms.amazonaws.com")
    if kind == 6:
        return cloudtrail(rng, "PutBucketPolicy", "s3.amazonaws.com")
    return cloudtrail(rng, "AttachRolePolicy", "iam.amazonaws.com")


def application_log(rng):
    if rng.random() < 0.5:
        return json.dumps({
            "level": rng.choice(["INFO", "DEBUG", "WARN"]),
            "logger": "com.example.orders.OrderService",
            "message": "order %d processed in %d ms" % (rng.randrange(10 ** 6), rng.randrange(500)),
            "traceId": "1-%08x-%024x" % (rng.randrange(16 ** 8), rng.randrange(16 ** 24)),
            "eventName": "OrderProcessed",
        })
    return '10.0.%d.%d - - [27/Nov/2026:07:%02d:%02d +0000] "GET /api/orders/%d HTTP/1.1" 200 %d "-" "curl/8.5.0"' % (
        rng.randrange(256), rng.randrange(256), rng.randrange(60), rng.randrange(60), rng.randrange(10 ** 5), rng.randrange(10 ** 4))


def workload(count, seed=20261127):
    rng = random.Random(seed)
    events = []
    for _ in range(count):
        draw = rng.random()
        if draw < 0.10:
            events.append(firing_event(rng))
        elif draw < 0.70:
            name, source = rng.choice(NON_MATCHING_CALLS)
            events.append(cloudtrail(rng, name, source))
        else:
            events.append(application_log(rng))
    return events


def measure(label, function, events, seconds):
    """Run ``function(events)`` until ``seconds`` of CPU time; return (events/s, result)."""
    done = 0
    result = None
    start = time.process_time()
    while True:
        result = function(events)
        done += len(events)
        elapsed = time.process_time() - start
        if elapsed >= seconds:
            break
    rate = done / elapsed
    print("%-58s %10.0f events/s" % (label, rate))
    return rate, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seconds", type=float, default=2.0)
    args = parser.parse_args()

    events = workload(args.events)
    names = list(CIS_RULES)
    rules = [fp.compile_pattern(CIS_RULES[name]) for name in names]
    sources = [CIS_RULES[name] for name in names]
    by_id = {id(rule): index for index, rule in enumerate(rules)}

    def engine(batch):
        return [[by_id[id(rule)] for rule in fp.match_many(rules, message)] for message in batch]

    def engine_parsed(batch):
        found = []
        for message in batch:
            parsed = fp.parse_json_message(message)
            found.append([by_id[id(rule)] for rule in fp.match_many(rules, message, parsed=parsed)])
        return found

    def per_rule(batch):
        return [[index for index, rule in enumerate(rules) if rule.matches(message)] for message in batch]

    slow = events[:max(1, len(events) // 10)]

    def naive(batch):
        found = []
        for message in batch:
            hits = []
            for index, source in enumerate(sources):
                if fp.compile_pattern(source).matches(message):
                    hits.append(index)
            found.append(hits)
        return found

    print("filter-pattern engine: %d CIS rules, %d events (90%% match no rule)" % (len(rules), len(events)))
    rate, expected = measure("1. match_many on raw messages (the alerts Lambda)", engine, events, args.seconds)
    rate_parsed, got_parsed = measure("2. parse once + match_many(parsed=...)", engine_parsed, events, args.seconds)
    rate_rule, got_rule = measure("3. baseline: compiled, each rule parses the message", per_rule, events, args.seconds)
    rate_naive, got_naive = measure("4. baseline: compile per event and rule (10% sample)", naive, slow, args.seconds)

    firing = sum(1 for hits in expected if hits)
    print("events that fire a rule: %d of %d (%.1f%%)" % (firing, len(events), 100.0 * firing / len(events)))
    print("ratio 1 vs 3 (compiled, per-rule parse): %.1fx" % (rate / rate_rule))
    print("ratio 1 vs 4 (naive, compile per use):   %.1fx" % (rate / rate_naive))
    print("target: >= %d events/s per core for 1: %s" % (TARGET_EVENTS_PER_SECOND, "met" if rate >= TARGET_EVENTS_PER_SECOND else "MISSED"))

    status = 0
    if got_parsed != expected or got_rule != expected or got_naive != expected[:len(slow)]:
        print("ERROR: the strategies disagree on which rules fire", file=sys.stderr)
        status = 1
    if not 0.05 <= firing / float(len(events)) <= 0.15:
        print("ERROR: the workload is not the intended ~10%% firing mix", file=sys.stderr)
        status = 1
    if rate < TARGET_EVENTS_PER_SECOND:
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(main())
