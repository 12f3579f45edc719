# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resource policies that deny (issue 15 item 5; local_aws/services/resource_policies.py):
bucket policy Deny statements, SNS topic policies for EventBridge and CloudWatch alarms."""

import json

import pytest
from botocore.exceptions import ClientError

from local_aws.services import kms_policies, resource_policies

ACCOUNT = "123456789012"
ROOT = "arn:aws:iam::%s:root" % ACCOUNT


@pytest.fixture(autouse=True)
def _on(monkeypatch):
    monkeypatch.setenv(resource_policies.SETTING, "1")
    monkeypatch.setenv(kms_policies.SETTING, "1")


def _error(caught):
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def _bucket_policy(bucket, admins):
    arn = "arn:aws:s3:::%s" % bucket
    # the statements the central_account role renders (DenyRequestsWithoutTls, DenyPolicyAndLifecycleChanges...)
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "DenyRequestsWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": [arn, arn + "/*"], "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "DenyPolicyChanges", "Effect": "Deny", "Principal": "*",
         "Action": ["s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutLifecycleConfiguration"], "Resource": arn,
         "Condition": {"ArnNotLike": {"aws:PrincipalArn": admins}}},
        {"Sid": "DenyDeletion", "Effect": "Deny", "Principal": "*", "Action": ["s3:DeleteObject", "s3:DeleteBucket"],
         "Resource": [arn, arn + "/*"], "Condition": {"ArnNotLike": {"aws:PrincipalArn": admins}}},
    ]}


def test_bucket_policy_denies_others_and_lets_tls_requests_through(aws_client, unique, member_account_ids):
    s3 = aws_client("s3")
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    admin = "arn:aws:iam::%s:role/logvault-test" % member_account_ids[0]   # the role the member's client assumes
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_bucket_policy(bucket, [admin])))
    # TLS-only: every request to the emulator stands for an HTTPS request, so it is not denied
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"x"
    # the account's root is not an admin: deleting is denied ...
    with pytest.raises(ClientError) as caught:
        s3.delete_object(Bucket=bucket, Key="k")
    assert _error(caught) == ("AccessDenied", 'User: %s is not authorized to perform: s3:DeleteObject on resource: '
                                              '"arn:aws:s3:::%s/k" with an explicit deny in a resource-based policy' % (ROOT, bucket))
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_lifecycle_configuration(Bucket=bucket, LifecycleConfiguration={"Rules": [
            {"ID": "r", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 1}}]})
    assert _error(caught)[0] == "AccessDenied"
    # ... but the owner's root user can always replace the policy (S3 API Reference, PutBucketPolicy)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_bucket_policy(bucket, [admin, ROOT])))
    s3.delete_object(Bucket=bucket, Key="k")


def test_lock_out_applies_to_roles(aws_client, unique, member_account_ids):
    member = member_account_ids[0]
    s3 = aws_client("s3", account_id=member)
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_bucket_policy(bucket, ["arn:aws:iam::%s:role/break-glass" % member])))
    with pytest.raises(ClientError) as caught:
        s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_bucket_policy(bucket, [])))
    assert _error(caught)[1] == (
        'User: arn:aws:iam::%s:role/logvault-test is not authorized to perform: s3:PutBucketPolicy on resource: '
        '"arn:aws:s3:::%s" with an explicit deny in a resource-based policy' % (member, bucket))


# DeleteObjects (POST ?delete, the keys in the body): the Deny statements apply to each object
# (S3 API Reference, DeleteObjects: s3:DeleteObject, and s3:DeleteObjectVersion for a VersionId);
# a refused object is an Error with AccessDenied in a 200 answer, the others are deleted.

def _new_bucket(s3, unique, policy):
    """A new bucket with ``policy(bucket name)`` as its bucket policy."""
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy(bucket)))
    return bucket


def _keys(s3, bucket):
    return sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket).get("Contents", []))


def test_delete_objects_is_refused_per_object(aws_client, unique, member_account_ids):
    s3 = aws_client("s3")
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    arn = "arn:aws:s3:::%s" % bucket
    policy = _bucket_policy(bucket, ["arn:aws:iam::%s:role/break-glass" % ACCOUNT])
    policy["Statement"][2]["Resource"] = arn + "/archive/*"   # deletion denied under archive/ only
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(policy))
    for key in ("archive/a", "archive/b", "tmp/c"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in ("archive/a", "tmp/c", "archive/b")]})
    assert [d["Key"] for d in answer.get("Deleted", [])] == ["tmp/c"]
    assert sorted((e["Key"], e["Code"], e["Message"]) for e in answer["Errors"]) == [
        ("archive/a", "AccessDenied", "Access Denied"), ("archive/b", "AccessDenied", "Access Denied")]
    assert _keys(s3, bucket) == ["archive/a", "archive/b"]
    # every object refused: nothing reaches the bucket, the answer has only the errors
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "archive/a"}, {"Key": "archive/b"}], "Quiet": True})
    assert not answer.get("Deleted") and [e["Key"] for e in answer["Errors"]] == ["archive/a", "archive/b"]
    assert _keys(s3, bucket) == ["archive/a", "archive/b"]


def test_delete_objects_by_the_exempt_role_deletes(aws_client, unique, member_account_ids):
    member = member_account_ids[0]
    s3 = aws_client("s3", account_id=member)
    bucket = _new_bucket(s3, unique, lambda name: _bucket_policy(name, ["arn:aws:iam::%s:role/logvault-test" % member]))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["k"] and not answer.get("Errors")
    assert _keys(s3, bucket) == []


def test_delete_objects_with_a_version_id_needs_delete_object_version(aws_client, unique):
    s3 = aws_client("s3")
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    arn = "arn:aws:s3:::%s" % bucket
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "KeepVersions", "Effect": "Deny", "Principal": "*", "Action": "s3:DeleteObjectVersion",
         "Resource": arn + "/*", "Condition": {"ArnNotLike": {"aws:PrincipalArn": "arn:aws:iam::%s:role/break-glass" % ACCOUNT}}}]}))
    version = s3.put_object(Bucket=bucket, Key="k", Body=b"x")["VersionId"]
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k", "VersionId": version}]})
    assert not answer.get("Deleted")
    assert [(e["Key"], e.get("VersionId"), e["Code"]) for e in answer["Errors"]] == [("k", version, "AccessDenied")]
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=version)["Body"].read() == b"x"
    # without a VersionId it is a delete marker (s3:DeleteObject), which this policy allows
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
    assert [d["Key"] for d in answer["Deleted"]] == ["k"] and answer["Deleted"][0]["DeleteMarker"] is True
    assert s3.get_object(Bucket=bucket, Key="k", VersionId=version)["Body"].read() == b"x"


def test_delete_objects_bypassing_governance_needs_bypass_governance_retention(aws_client, unique):
    s3 = aws_client("s3")
    bucket = _new_bucket(s3, unique, lambda name: {"Version": "2012-10-17", "Statement": [
        {"Sid": "NoBypass", "Effect": "Deny", "Principal": "*", "Action": "s3:BypassGovernanceRetention",
         "Resource": "arn:aws:s3:::%s/*" % name}]})
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    answer = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]}, BypassGovernanceRetention=True)
    assert not answer.get("Deleted") and [(e["Key"], e["Code"]) for e in answer["Errors"]] == [("k", "AccessDenied")]
    assert _keys(s3, bucket) == ["k"]
    assert [d["Key"] for d in s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})["Deleted"]] == ["k"]


def test_switch_off(aws_client, unique, monkeypatch):
    s3 = aws_client("s3")
    bucket = unique("rp")
    s3.create_bucket(Bucket=bucket)
    s3.put_bucket_policy(Bucket=bucket, Policy=json.dumps(_bucket_policy(bucket, [])))
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    monkeypatch.setenv(resource_policies.SETTING, "0")
    s3.delete_object(Bucket=bucket, Key="k")


@pytest.mark.parametrize("method, path, query, actions", [
    ("PUT", "/b", "policy=", ["s3:PutBucketPolicy"]),
    ("DELETE", "/b", "policy=", ["s3:DeleteBucketPolicy"]),
    ("DELETE", "/b", "lifecycle=", ["s3:PutLifecycleConfiguration"]),
    ("PUT", "/b", "object-lock=", ["s3:PutBucketObjectLockConfiguration"]),
    ("DELETE", "/b", "", ["s3:DeleteBucket"]),
    ("PUT", "/b/k", "x-id=PutObject", ["s3:PutObject"]),
    ("PUT", "/b/k", "retention=", ["s3:PutObjectRetention"]),
    ("DELETE", "/b/k", "versionId=1", ["s3:DeleteObjectVersion"]),
    ("GET", "/b/k", "", ["s3:GetObject"]),
    ("GET", "/b", "list-type=2", ["s3:ListBucket"]),
])
def test_s3_actions(method, path, query, actions):
    assert resource_policies.s3_action({"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
                                        "HTTP_HOST": "127.0.0.1:4566"})[0] == actions


# --------------------------------------------------------------------------- SNS from EventBridge and alarms

def _topic_policy(topic_arn, service, source_arn):
    return {"Version": "2012-10-17", "Statement": [
        {"Sid": "ServicePublishes", "Effect": "Allow", "Principal": {"Service": service}, "Action": "sns:Publish",
         "Resource": topic_arn, "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT},
                                              "ArnLike": {"aws:SourceArn": source_arn}}},
        {"Sid": "DenyPublishingWithoutTls", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
         "Resource": topic_arn, "Condition": {"Bool": {"aws:SecureTransport": "false"}}}]}


def _queue(aws_client, unique, topic_arn):
    sqs = aws_client("sqs")
    url = sqs.create_queue(QueueName=unique("rp"))["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    aws_client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    return url


def _messages(aws_client, url):
    return [m["Body"] for m in aws_client("sqs").receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])]


def test_eventbridge_publishes_only_when_the_topic_policy_allows_it(aws_client, unique):
    sns, events = aws_client("sns"), aws_client("events")
    topic = sns.create_topic(Name=unique("rp"))["TopicArn"]
    url = _queue(aws_client, unique, topic)
    rule = unique("rp")
    rule_arn = events.put_rule(Name=rule, EventPattern=json.dumps({"source": ["logvault.test"]}))["RuleArn"]
    events.put_targets(Rule=rule, Targets=[{"Id": "t", "Arn": topic}])
    # moto's default topic policy does not name events.amazonaws.com: nothing is delivered
    events.put_events(Entries=[{"Source": "logvault.test", "DetailType": "d", "Detail": json.dumps({"n": 1})}])
    assert _messages(aws_client, url) == []
    assert resource_policies.failed_deliveries()[-1]["topic"] == topic
    # a policy for another rule: still refused
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(_topic_policy(topic, "events.amazonaws.com", rule_arn + "-other")))
    events.put_events(Entries=[{"Source": "logvault.test", "DetailType": "d", "Detail": json.dumps({"n": 2})}])
    assert _messages(aws_client, url) == []
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(_topic_policy(topic, "events.amazonaws.com", rule_arn)))
    events.put_events(Entries=[{"Source": "logvault.test", "DetailType": "d", "Detail": json.dumps({"n": 3})}])
    bodies = _messages(aws_client, url)
    assert len(bodies) == 1 and json.loads(bodies[0])["detail"] == {"n": 3}


def _alarm(aws_client, unique, topic):
    cloudwatch = aws_client("cloudwatch")
    name = unique("rp-alarm")
    cloudwatch.put_metric_alarm(AlarmName=name, MetricName="m", Namespace="n", Statistic="Sum", Period=60,
                                EvaluationPeriods=1, Threshold=1, ComparisonOperator="GreaterThanThreshold",
                                AlarmActions=[topic])
    return name, cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"][0]["AlarmArn"]


def test_alarm_publishes_to_an_encrypted_topic_with_topic_and_key_policy(aws_client, unique):
    sns, kms, cloudwatch = aws_client("sns"), aws_client("kms"), aws_client("cloudwatch")
    admin = {"Effect": "Allow", "Principal": {"AWS": ROOT}, "Action": "kms:*", "Resource": "*"}
    key = kms.create_key(Policy=json.dumps({"Version": "2012-10-17", "Statement": [admin]}))["KeyMetadata"]["Arn"]
    topic = sns.create_topic(Name=unique("rp"), Attributes={"KmsMasterKeyId": key})["TopicArn"]
    url = _queue(aws_client, unique, topic)
    name, alarm_arn = _alarm(aws_client, unique, topic)
    sns.set_topic_attributes(TopicArn=topic, AttributeName="Policy",
                             AttributeValue=json.dumps(_topic_policy(topic, "cloudwatch.amazonaws.com", alarm_arn)))
    # the topic policy allows CloudWatch, the key policy does not: the action fails
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="test")
    assert _messages(aws_client, url) == []
    failed = resource_policies.failed_deliveries()[-1]
    assert (failed["topic"], failed["service"], failed["source"]) == (topic, "cloudwatch.amazonaws.com", alarm_arn)
    assert failed["reason"] == "the key policy of %s does not allow cloudwatch.amazonaws.com" % key
    # the statement the central_account role renders (CloudWatchAlarmsPublishToEncryptedTopic)
    kms.put_key_policy(KeyId=key, PolicyName="default", Policy=json.dumps({"Version": "2012-10-17", "Statement": [admin, {
        "Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*", "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": topic}}}]}))
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="OK", StateReason="test")
    cloudwatch.set_alarm_state(AlarmName=name, StateValue="ALARM", StateReason="again")
    bodies = _messages(aws_client, url)
    assert len(bodies) == 1 and json.loads(bodies[0])["AlarmName"] == name
    assert json.loads(bodies[0])["NewStateValue"] == "ALARM"
