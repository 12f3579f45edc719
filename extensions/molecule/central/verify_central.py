#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the converged central account back through boto3 and check every property that
issue 6 lists. Prints one line per check (PASS/FAIL) and exits 1 when any check fails.

Usage: verify_central.py --endpoint URL --opensearch-endpoint URL --opensearch-ca PEM
                         --prefix P --account ID --regions R1,R2 --members A,B
                         --break-glass ARN[,ARN]
"""

from __future__ import absolute_import, division, print_function

import argparse
import json
import ssl
import sys
import urllib.request

import boto3
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest

RESULTS = []


def check(name, condition, detail=""):
    RESULTS.append((bool(condition), name, detail))
    print("%s  %s%s" % ("PASS" if condition else "FAIL", name, "" if condition else "  -- %s" % (detail,)), flush=True)


def listify(value):
    return value if isinstance(value, list) else [value]


def statements(policy):
    return {s.get("Sid"): s for s in policy.get("Statement", [])}


def names_its_resources(policy):
    """No Allow statement of an identity policy may use Resource '*'."""
    bad = [s.get("Sid") for s in policy.get("Statement", []) if s.get("Effect") == "Allow" and "*" in listify(s.get("Resource"))]
    return not bad, bad


def check_key_alarm_and_firehose_logging(client, account, region, prefix, key_arn, key_policy, search, archive, role):
    """EventBridge rules on the pipeline key to their own topic; Firehose error logging."""
    events = client("events")
    key_topic = "arn:aws:sns:%s:%s:%s-key-alarms" % (region, account, prefix)
    rule_arns = []
    expected_patterns = {
        "kms-key-api-calls": {
            "source": ["aws.kms"], "detail-type": ["AWS API Call via CloudTrail"],
            "detail": {"eventSource": ["kms.amazonaws.com"], "eventName": ["DisableKey", "PutKeyPolicy", "ScheduleKeyDeletion"],
                       "requestParameters": {"keyId": [key_arn, key_arn.split("/")[-1]]}}},
        "kms-key-deleted": {"source": ["aws.kms"], "detail-type": ["KMS CMK Deletion"], "resources": [key_arn]},
    }
    for short, expected in expected_patterns.items():
        name = "%s-%s" % (prefix, short)
        try:
            rule = events.describe_rule(Name=name)
        except events.exceptions.ResourceNotFoundException:
            rule = {}
        rule_arns.append(rule.get("Arn"))
        pattern = json.loads(rule.get("EventPattern") or "{}")
        check("events %s: enabled, matches exactly the pipeline key's events" % short,
              rule.get("State") == "ENABLED" and pattern == expected
              and rule.get("Arn") == "arn:aws:events:%s:%s:rule/%s" % (region, account, name), rule)
        targets = events.list_targets_by_rule(Rule=name)["Targets"] if rule else []
        check("events %s: its only target is the key alarm topic" % short,
              targets == [{"Id": "key-alarm-topic", "Arn": key_topic}], targets)
    sns = client("sns")
    attributes = sns.get_topic_attributes(TopicArn=key_topic)["Attributes"]
    check("sns key alarms: not encrypted with the pipeline key (SNS could not publish once it is disabled or deleted)",
          attributes.get("KmsMasterKeyId", "") != key_arn, attributes.get("KmsMasterKeyId"))
    policy = json.loads(attributes["Policy"])
    publishers = [s for s in policy["Statement"] if s["Effect"] == "Allow" and "sns:Publish" in listify(s.get("Action"))]
    check("sns key alarms: only the two key alarm rules may publish (events.amazonaws.com, aws:SourceArn)",
          len(publishers) == 1 and publishers[0].get("Principal") == {"Service": "events.amazonaws.com"}
          and sorted(listify(publishers[0].get("Condition", {}).get("ArnEquals", {}).get("aws:SourceArn"))) == sorted(rule_arns)
          and publishers[0].get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") == account, policy)
    subscriptions = sns.list_subscriptions_by_topic(TopicArn=key_topic)["Subscriptions"]
    check("sns key alarms: the alarm e-mail addresses are subscribed",
          [s.get("Endpoint") for s in subscriptions if s.get("Protocol") == "email"] == ["security-alerts@example.com"], subscriptions)
    alarm_topic = "arn:aws:sns:%s:%s:%s-alarms" % (region, account, prefix)
    alarm_policy = json.loads(sns.get_topic_attributes(TopicArn=alarm_topic)["Attributes"]["Policy"])
    check("sns alarms: EventBridge may not publish to the alarm topic",
          not [s for s in alarm_policy["Statement"] if s.get("Principal") == {"Service": "events.amazonaws.com"}], alarm_policy)

    # Firehose error logging: log groups, streams, destinations, key policy and IAM.
    logs = client("logs")
    expected_streams = {"search": ["BackupDelivery", "DestinationDelivery"], "archive": ["DestinationDelivery"]}
    group_arns = []
    for label, streams in expected_streams.items():
        group = "/aws/kinesisfirehose/%s-%s" % (prefix, label)
        group_arns.append("arn:aws:logs:%s:%s:log-group:%s" % (region, account, group))
        found = [g for g in logs.describe_log_groups(logGroupNamePrefix=group)["logGroups"] if g["logGroupName"] == group]
        check("firehose %s: error log group with 30 days retention and the pipeline key" % label,
              found and found[0].get("retentionInDays") == 30 and found[0].get("kmsKeyId") == key_arn, found)
        names = sorted(s["logStreamName"] for s in logs.describe_log_streams(logGroupName=group)["logStreams"]) if found else []
        check("firehose %s: log streams %s exist" % (label, streams), names == streams, names)
        _trust, inline = role("%s-%s-firehose" % (prefix, label))
        allowed = sorted(r for doc in inline.values() for s in doc["Statement"] if s["Effect"] == "Allow"
                         and any(a.startswith("logs:") for a in listify(s["Action"])) for r in listify(s["Resource"]))
        actions = sorted(a for doc in inline.values() for s in doc["Statement"] for a in listify(s["Action"]) if a.startswith("logs:"))
        check("iam %s-firehose: may only put log events into its own error log streams" % label,
              actions == ["logs:PutLogEvents"] and allowed == ["%s:log-stream:%s" % (group_arns[-1], s) for s in streams], allowed)
    search_os = (search["Destinations"][0].get("AmazonopensearchserviceDestinationDescription")
                 or search["Destinations"][0].get("AmazonOpenSearchServiceDestinationDescription") or {})
    check("firehose search: delivery errors logged to its log group (DestinationDelivery)",
          search_os.get("CloudWatchLoggingOptions") == {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/%s-search" % prefix,
                                                         "LogStreamName": "DestinationDelivery"}, search_os.get("CloudWatchLoggingOptions"))
    check("firehose search: S3 backup errors logged to its log group (BackupDelivery)",
          search_os.get("S3DestinationDescription", {}).get("CloudWatchLoggingOptions")
          == {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/%s-search" % prefix, "LogStreamName": "BackupDelivery"},
          search_os.get("S3DestinationDescription", {}).get("CloudWatchLoggingOptions"))
    archive_s3 = archive["Destinations"][0].get("ExtendedS3DestinationDescription", {})
    check("firehose archive: delivery errors logged to its log group (DestinationDelivery)",
          archive_s3.get("CloudWatchLoggingOptions") == {"Enabled": True, "LogGroupName": "/aws/kinesisfirehose/%s-archive" % prefix,
                                                          "LogStreamName": "DestinationDelivery"}, archive_s3.get("CloudWatchLoggingOptions"))
    st = statements(key_policy).get("CloudWatchLogsPipelineLogGroups", {})
    lambda_group = "arn:aws:logs:%s:%s:log-group:/aws/lambda/%s-transform" % (region, account, prefix)
    opensearch_groups = ["arn:aws:logs:%s:%s:log-group:/aws/opensearch/%s-search/%s" % (region, account, prefix, kind)
                         for kind in ("audit", "error")]
    check("kms: CloudWatch Logs may use the key for exactly the Lambda, the two Firehose and the two OpenSearch log groups",
          sorted(listify(st.get("Condition", {}).get("ArnEquals", {}).get("kms:EncryptionContext:aws:logs:arn")))
          == sorted(group_arns + [lambda_group] + opensearch_groups), st)


def main():
    parser = argparse.ArgumentParser()
    for name in ("endpoint", "opensearch-endpoint", "opensearch-ca", "prefix", "account", "regions", "members", "break-glass"):
        parser.add_argument("--" + name, required=True)
    args = parser.parse_args()
    region = args.regions.split(",")[0]
    regions = args.regions.split(",")
    members = sorted(args.members.split(","))
    account, prefix = args.account, args.prefix
    session = boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing", region_name=region)

    def client(service, in_region=region):
        return session.client(service, endpoint_url=args.endpoint, region_name=in_region)

    # ------------------------------------------------------------------ KMS
    kms = client("kms")
    alias = [a for a in kms.list_aliases()["Aliases"] if a["AliasName"] == "alias/%s-central" % prefix]
    check("kms: alias alias/%s-central exists" % prefix, alias, kms.list_aliases()["Aliases"])
    key_id = alias[0]["TargetKeyId"]
    key_arn = kms.describe_key(KeyId=key_id)["KeyMetadata"]["Arn"]
    check("kms: key rotation is on", kms.get_key_rotation_status(KeyId=key_id)["KeyRotationEnabled"])
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])
    sids = statements(key_policy)
    for sid, service in (("KinesisStreamOfThisPipeline", "kinesis"), ("S3BucketsOfThisPipeline", "s3"),
                         ("LambdaEnvironmentOfTheTransformFunction", "lambda"), ("SnsAlarmTopicOfThisPipeline", "sns")):
        st = sids.get(sid, {})
        cond = st.get("Condition", {})
        via = listify(cond.get("StringEquals", {}).get("kms:ViaService"))
        context = [k for block in cond.values() for k in block if k.startswith("kms:EncryptionContext:")]
        check("kms: %s is used only via %s.%s.amazonaws.com with an encryption context" % (sid, service, region),
              via == ["%s.%s.amazonaws.com" % (service, region)] and context and cond.get("StringEquals", {}).get("kms:CallerAccount") == account, st)
    st = sids.get("FirehoseAndOpenSearchOfThisAccount", {})
    check("kms: Firehose and OpenSearch use the key only through their services",
          sorted(listify(st.get("Condition", {}).get("StringEquals", {}).get("kms:ViaService"))) ==
          ["es.%s.amazonaws.com" % region, "firehose.%s.amazonaws.com" % region], st)
    st = sids.get("CloudWatchLogsPipelineLogGroups", {})
    check("kms: CloudWatch Logs may use the key only for the pipeline's log group",
          st.get("Principal") == {"Service": "logs.%s.amazonaws.com" % region}
          and "kms:EncryptionContext:aws:logs:arn" in st.get("Condition", {}).get("ArnEquals", {}), st)
    st = sids.get("CloudWatchAlarmsPublishToEncryptedTopic", {})
    check("kms: CloudWatch alarms get the grant SNS documents, scoped to the alarm topic by its encryption context",
          st.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
          and sorted(listify(st.get("Action"))) == ["kms:Decrypt", "kms:GenerateDataKey*"]
          and st.get("Condition") == {"StringEquals": {
              "kms:EncryptionContext:aws:sns:topicArn": "arn:aws:sns:%s:%s:%s-alarms" % (region, account, prefix)}}, st)
    st = sids.get("GrantsForAwsServicesOnly", {})
    check("kms: grants only for AWS resources", st.get("Condition", {}).get("Bool", {}).get("kms:GrantIsForAWSResource") == "true", st)
    open_allows = [s.get("Sid") for s in key_policy["Statement"]
                   if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]
    check("kms: no statement allows every principal", not open_allows, open_allows)
    usage = [s for s in key_policy["Statement"] if "kms:Decrypt" in listify(s.get("Action")) and "Condition" not in s]
    check("kms: every statement that allows Decrypt carries conditions", not usage, usage)

    # ------------------------------------------------------------------ S3
    s3 = client("s3")
    break_glass = sorted(args.break_glass.split(","))
    for kind in ("archive", "dead-letter"):
        bucket = "%s-%s-%s-%s" % (prefix, kind, account, region)
        bucket_arn = "arn:aws:s3:::%s" % bucket
        check("s3 %s: versioning is enabled" % kind, s3.get_bucket_versioning(Bucket=bucket).get("Status") == "Enabled")
        lock = s3.get_object_lock_configuration(Bucket=bucket)["ObjectLockConfiguration"]
        retention = lock.get("Rule", {}).get("DefaultRetention", {})
        check("s3 %s: Object Lock with default retention GOVERNANCE 365 days" % kind,
              lock.get("ObjectLockEnabled") == "Enabled" and retention.get("Mode") == "GOVERNANCE" and retention.get("Days") == 365, lock)
        rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
        check("s3 %s: SSE-KMS with the pipeline key and a bucket key" % kind,
              rule["ApplyServerSideEncryptionByDefault"] == {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}
              and rule.get("BucketKeyEnabled") is True, rule)
        block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
        check("s3 %s: every public access is blocked" % kind, all(block.get(k) is True for k in (
            "BlockPublicAcls", "BlockPublicPolicy", "IgnorePublicAcls", "RestrictPublicBuckets")), block)
        owner = s3.get_bucket_ownership_controls(Bucket=bucket)["OwnershipControls"]["Rules"][0]["ObjectOwnership"]
        check("s3 %s: ACLs are disabled (BucketOwnerEnforced)" % kind, owner == "BucketOwnerEnforced", owner)
        pol = statements(json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]))
        tls = pol.get("DenyRequestsWithoutTls", {})
        check("s3 %s: policy denies every request without TLS" % kind,
              tls.get("Effect") == "Deny" and tls.get("Principal") == "*" and tls.get("Action") == "s3:*"
              and sorted(listify(tls.get("Resource"))) == [bucket_arn, bucket_arn + "/*"]
              and tls.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}, tls)
        delete = pol.get("DenyDeletionExceptBreakGlass", {})
        check("s3 %s: policy denies object deletion to all but the break-glass principals" % kind,
              delete.get("Effect") == "Deny" and delete.get("Principal") == "*"
              and {"s3:DeleteObject", "s3:DeleteObjectVersion", "s3:BypassGovernanceRetention", "s3:DeleteBucket"} <= set(listify(delete.get("Action")))
              and sorted(listify(delete.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn"))) == break_glass, delete)
        change = pol.get("DenyPolicyAndLifecycleChangesExceptAdministrators", {})
        check("s3 %s: policy denies lifecycle, policy and lock changes to all but break-glass" % kind,
              change.get("Effect") == "Deny"
              and {"s3:PutLifecycleConfiguration", "s3:PutBucketPolicy", "s3:DeleteBucketPolicy", "s3:PutBucketObjectLockConfiguration"}
              <= set(listify(change.get("Action")))
              and set(break_glass) <= set(listify(change.get("Condition", {}).get("ArnNotLike", {}).get("aws:PrincipalArn"))), change)
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket)["Rules"]
        transitions = [t for r in rules for t in r.get("Transitions", [])]
        check("s3 %s: lifecycle moves objects to GLACIER after 180 days" % kind,
              any(t.get("Days") == 180 and t.get("StorageClass") == "GLACIER" for t in transitions) and all(r["Status"] == "Enabled" for r in rules), rules)
        expiring = [r.get("ID") for r in rules
                    if (r.get("Expiration", {}).get("Days") or r.get("Expiration", {}).get("Date")) or "NoncurrentVersionExpiration" in r]
        check("s3 %s: lifecycle never expires anything" % kind, not expiring, rules)
    dlq = "%s-dead-letter-%s-%s" % (prefix, account, region)
    metrics = s3.get_bucket_metrics_configuration(Bucket=dlq, Id="all-objects").get("MetricsConfiguration", {})
    check("s3 dead-letter: request metrics count every object (feeds the alarm)", metrics.get("Id") == "all-objects", metrics)
    metrics = s3.get_bucket_metrics_configuration(Bucket=dlq, Id="on-failure").get("MetricsConfiguration", {})
    check("s3 dead-letter: request metrics count on-failure objects (feeds the on-failure alarm)",
          metrics.get("Filter", {}).get("Prefix") == "aws/lambda/", metrics)

    # ------------------------------------------------------------------ Kinesis
    stream = client("kinesis").describe_stream_summary(StreamName="%s-hub" % prefix)["StreamDescriptionSummary"]
    stream_arn = stream["StreamARN"]
    check("kinesis: hub stream is KMS-encrypted with the pipeline key",
          stream.get("EncryptionType") == "KMS" and stream.get("KeyId") in (key_arn, key_id), stream)
    # converge.yml sets central_account_stream_mode: on_demand; the stream was created with
    # one provisioned shard and switched (an on-demand stream is never resized by the role).
    check("kinesis: retention 168 h, on-demand capacity mode (switched from its 1 provisioned shard)",
          stream["RetentionPeriodHours"] == 168 and stream["OpenShardCount"] == 1
          and stream.get("StreamModeDetails", {}).get("StreamMode") == "ON_DEMAND", stream)

    # ------------------------------------------------------------------ IAM
    iam = client("iam")

    def role(name):
        data = iam.get_role(RoleName=name)["Role"]
        trust = data["AssumeRolePolicyDocument"]
        trust = json.loads(trust) if isinstance(trust, str) else trust
        inline = {}
        for policy_name in iam.list_role_policies(RoleName=name)["PolicyNames"]:
            doc = iam.get_role_policy(RoleName=name, PolicyName=policy_name)["PolicyDocument"]
            inline[policy_name] = json.loads(doc) if isinstance(doc, str) else doc
        return trust, inline

    trust, inline = role("%s-cwl-to-kinesis" % prefix)
    st = trust["Statement"][0]
    expected_sources = sorted("arn:aws:logs:%s:%s:*" % (r, a) for r in regions for a in members + [account])
    check("iam cwl-to-kinesis: trusts logs.amazonaws.com only for the subscribed accounts' log ARNs (aws:SourceArn)",
          st["Principal"] == {"Service": "logs.amazonaws.com"}
          and sorted(listify(st["Condition"]["StringLike"]["aws:SourceArn"])) == expected_sources, st)
    # Firehose: sts:ExternalId = the account, as the Firehose developer guide documents.
    for name, service, key in (("search-firehose", "firehose", "sts:ExternalId"), ("archive-firehose", "firehose", "sts:ExternalId")):
        trust, _inline = role("%s-%s" % (prefix, name))
        st = trust["Statement"][0]
        check("iam %s: trusts %s.amazonaws.com with %s %s" % (name, service, key, account),
              st["Principal"] == {"Service": "%s.amazonaws.com" % service}
              and st.get("Condition") == {"StringEquals": {key: account}}, st)
    # Lambda: the form of "Lambda execution role" (no condition: Lambda documents no context key).
    trust, _inline = role("%s-transform" % prefix)
    st = trust["Statement"][0]
    check("iam transform: trusts lambda.amazonaws.com in the documented form (no condition)",
          st["Principal"] == {"Service": "lambda.amazonaws.com"} and "Condition" not in st, st)
    for name in ("cwl-to-kinesis", "search-firehose", "archive-firehose", "transform"):
        _trust, inline = role("%s-%s" % (prefix, name))
        check("iam %s: has its inline policy" % name, inline, inline)
        for policy_name, doc in inline.items():
            ok, bad = names_its_resources(doc)
            check("iam %s: policy %s names its resources (no '*')" % (name, policy_name), ok, bad)
    _trust, inline = role("%s-cwl-to-kinesis" % prefix)
    resources = [r for doc in inline.values() for s in doc["Statement"] if "kinesis:PutRecord" in listify(s["Action"]) for r in listify(s["Resource"])]
    check("iam cwl-to-kinesis: may put records into the hub stream only", resources == [stream_arn], resources)

    # ------------------------------------------------------------------ Firehose
    firehose = client("firehose")
    search = firehose.describe_delivery_stream(DeliveryStreamName="%s-search" % prefix)["DeliveryStreamDescription"]
    archive = firehose.describe_delivery_stream(DeliveryStreamName="%s-archive" % prefix)["DeliveryStreamDescription"]
    for label, desc in (("search", search), ("archive", archive)):
        sse = desc.get("DeliveryStreamEncryptionConfiguration", {})
        check("firehose %s: DirectPut, encrypted with the pipeline key" % label,
              desc["DeliveryStreamType"] == "DirectPut" and sse.get("KeyType") == "CUSTOMER_MANAGED_CMK" and sse.get("KeyARN") == key_arn, sse)
    dest = search["Destinations"][0]
    osd = dest.get("AmazonopensearchserviceDestinationDescription") or dest.get("AmazonOpenSearchServiceDestinationDescription") or {}
    check("firehose search: OpenSearch destination, daily index rotation",
          osd.get("DomainARN") == "arn:aws:es:%s:%s:domain/%s-search" % (region, account, prefix)
          and osd.get("IndexName") == "logs" and osd.get("IndexRotationPeriod") == "OneDay", osd)
    s3d = osd.get("S3DestinationDescription", {})
    check("firehose search: failed documents backed up to the dead-letter bucket under their own prefix",
          osd.get("S3BackupMode") == "FailedDocumentsOnly" and s3d.get("BucketARN") == "arn:aws:s3:::" + dlq
          and s3d.get("Prefix") == "search-failed/"
          and s3d.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig", {}).get("AWSKMSKeyARN") == key_arn, osd)
    ext = archive["Destinations"][0].get("ExtendedS3DestinationDescription", {})
    check("firehose archive: GZIP, KMS, account/day-partitioned prefix and error prefix into the archive bucket",
          ext.get("BucketARN") == "arn:aws:s3:::%s-archive-%s-%s" % (prefix, account, region)
          and ext.get("CompressionFormat") == "GZIP"
          and ext.get("EncryptionConfiguration", {}).get("KMSEncryptionConfig", {}).get("AWSKMSKeyARN") == key_arn
          and ext.get("Prefix") == "logs/account_id=!{partitionKeyFromQuery:account_id}/dt=!{partitionKeyFromQuery:dt}/"
          and "!{firehose:error-output-type}" in ext.get("ErrorOutputPrefix", ""), ext)
    processors = [p.get("Type") for p in (ext.get("ProcessingConfiguration") or {}).get("Processors", [])]
    check("firehose archive: dynamic partitioning (deaggregation, jq keys, newline delimiter) (issue 19)",
          (ext.get("DynamicPartitioningConfiguration") or {}).get("Enabled") is True
          and processors == ["RecordDeAggregation", "MetadataExtraction", "AppendDelimiterToRecord"], ext)

    # ------------------------------------------------------------------ Athena over the archive (issue 19)
    glue = client("glue")
    database = prefix.replace("-", "_") + "_archive"
    table = glue.get_table(DatabaseName=database, Name="logs")["Table"]
    params = table.get("Parameters", {})
    check("glue %s.logs: JSON SerDe, projected on account and day, over the partitioned layout" % database,
          table["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"] == "org.openx.data.jsonserde.JsonSerDe"
          and [k["Name"] for k in table.get("PartitionKeys", [])] == ["account", "dt"]
          and params.get("projection.enabled") == "true" and params.get("projection.dt.type") == "date"
          and params.get("storage.location.template") == "s3://%s-archive-%s-%s/logs/account_id=${account}/dt=${dt}/" % (prefix, account, region),
          params)
    athena = client("athena")
    workgroup = athena.get_work_group(WorkGroup="%s-archive" % prefix)["WorkGroup"]["Configuration"]
    result = workgroup.get("ResultConfiguration", {})
    check("athena %s-archive: KMS-encrypted results in their own bucket, bytes-scanned limit" % prefix,
          result.get("OutputLocation") == "s3://%s-athena-results-%s-%s/results/" % (prefix, account, region)
          and result.get("EncryptionConfiguration") == {"EncryptionOption": "SSE_KMS", "KmsKey": key_arn}
          and workgroup.get("BytesScannedCutoffPerQuery", 0) > 0, workgroup)
    ids = athena.list_named_queries(WorkGroup="%s-archive" % prefix)["NamedQueryIds"]
    names = sorted(athena.get_named_query(NamedQueryId=i)["NamedQuery"]["Name"] for i in ids)
    check("athena %s-archive: the four named queries" % prefix,
          names == ["account-day", "dedupe-by-event-id", "log-group-time-range", "request-id-across-accounts"], names)

    # ------------------------------------------------------------------ Lambda and its event source mapping
    lam = client("lambda")
    fn = lam.get_function_configuration(FunctionName="%s-transform" % prefix)
    env = fn.get("Environment", {}).get("Variables", {})
    check("lambda: deployed from the collection's source, configuration in KMS-encrypted environment variables",
          fn["Handler"] == "logvault_transform.handler" and fn.get("KMSKeyArn") == key_arn
          and env.get("LOGVAULT_SEARCH_STREAM") == "%s-search" % prefix and env.get("LOGVAULT_ARCHIVE_STREAM") == "%s-archive" % prefix
          and env.get("LOGVAULT_DLQ_BUCKET") == dlq and "/aws/lambda/%s-*" % prefix in env.get("LOGVAULT_EXCLUDED_LOG_GROUPS", ""), fn)
    mappings = lam.list_event_source_mappings(FunctionName="%s-transform" % prefix, EventSourceArn=stream_arn)["EventSourceMappings"]
    check("esm: exactly one mapping from the hub stream", len(mappings) == 1, mappings)
    esm = mappings[0] if mappings else {}
    check("esm: bisect on error and ReportBatchItemFailures",
          esm.get("BisectBatchOnFunctionError") is True and esm.get("FunctionResponseTypes") == ["ReportBatchItemFailures"], esm)
    check("esm: finite retries and a maximum record age below the stream retention",
          0 <= esm.get("MaximumRetryAttempts", -1) <= 10000
          and 0 < esm.get("MaximumRecordAgeInSeconds", -1) < stream["RetentionPeriodHours"] * 3600, esm)
    check("esm: failed batches go to the dead-letter bucket",
          esm.get("DestinationConfig", {}).get("OnFailure", {}).get("Destination") == "arn:aws:s3:::" + dlq, esm)
    logs = client("logs")
    groups = logs.describe_log_groups(logGroupNamePrefix="/aws/lambda/%s-transform" % prefix)["logGroups"]
    check("lambda: its log group has a retention and the pipeline key",
          groups and groups[0].get("retentionInDays") == 30 and groups[0].get("kmsKeyId") == key_arn, groups)

    # ------------------------------------------------------------------ OpenSearch
    domain = client("opensearch").describe_domain(DomainName="%s-search" % prefix)["DomainStatus"]
    check("opensearch: encryption at rest with the pipeline key",
          domain["EncryptionAtRestOptions"].get("Enabled") is True and domain["EncryptionAtRestOptions"].get("KmsKeyId") in (key_arn, key_id),
          domain["EncryptionAtRestOptions"])
    check("opensearch: node-to-node encryption", domain["NodeToNodeEncryptionOptions"].get("Enabled") is True)
    endpoint_options = domain["DomainEndpointOptions"]
    check("opensearch: HTTPS enforced with the TLS 1.2 perfect-forward-secrecy policy",
          endpoint_options.get("EnforceHTTPS") is True and endpoint_options.get("TLSSecurityPolicy") == "Policy-Min-TLS-1-2-PFS-2023-10",
          endpoint_options)
    security = domain["AdvancedSecurityOptions"]
    check("opensearch: fine-grained access control with IAM (no internal user database)",
          security.get("Enabled") is True and security.get("InternalUserDatabaseEnabled") is False, security)
    access = json.loads(domain["AccessPolicies"])
    principals = sorted(p for s in access["Statement"] for p in listify(s.get("Principal", {}).get("AWS", "*")))
    check("opensearch: never public - the access policy names its principals",
          "*" not in principals and all(s.get("Principal") != "*" for s in access["Statement"])
          and "arn:aws:iam::%s:role/%s-search-firehose" % (account, prefix) in principals, access)

    # ISM retention through the OpenSearch test double, signed like the modules sign.
    url = args.opensearch_endpoint.rstrip("/") + "/_plugins/_ism/policies/%s-retention" % prefix
    request = AWSRequest(method="GET", url=url)
    SigV4Auth(session.get_credentials(), "es", region).add_auth(request)
    context = ssl.create_default_context(cafile=args.opensearch_ca)
    with urllib.request.urlopen(urllib.request.Request(url, headers=dict(request.headers.items())), context=context) as response:
        ism = json.loads(response.read().decode("utf-8"))["policy"]
    text = json.dumps(ism)
    check("opensearch: ISM policy deletes indices after 30 days",
          '"min_index_age": "30d"' in text and '"delete"' in text
          and any("logs-*" in t.get("index_patterns", []) for t in listify(ism.get("ism_template", []))), ism)

    # Fine-grained access control: the search Firehose role is the only member of the writer role,
    # which may only write the logs-* indices (read back from the test double, signed the same way).
    fgac = {}
    for kind in ("roles", "rolesmapping"):
        url = args.opensearch_endpoint.rstrip("/") + "/_plugins/_security/api/%s/%s_firehose_writer" % (kind, prefix)
        request = AWSRequest(method="GET", url=url)
        SigV4Auth(session.get_credentials(), "es", region).add_auth(request)
        with urllib.request.urlopen(urllib.request.Request(url, headers=dict(request.headers.items())), context=context) as response:
            fgac[kind] = json.loads(response.read().decode("utf-8"))["%s_firehose_writer" % prefix]
    mapping, writer = fgac["rolesmapping"], fgac["roles"]
    check("opensearch: the search Firehose role (only) is mapped to the writer role",
          mapping.get("backend_roles") == ["arn:aws:iam::%s:role/%s-search-firehose" % (account, prefix)]
          and mapping.get("users") == [] and mapping.get("hosts") == [] and mapping.get("and_backend_roles") == [], mapping)
    check("opensearch: the writer role has what AWS documents for Firehose, on logs-* only",
          sorted(writer.get("cluster_permissions", [])) == ["cluster_composite_ops", "cluster_monitor"]
          and [(p["index_patterns"], sorted(p["allowed_actions"])) for p in writer.get("index_permissions", [])]
          == [(["logs-*"], ["create_index", "crud", "manage"])] and writer.get("tenant_permissions") == [], writer)

    # ------------------------------------------------------------------ destinations
    for dest_region in regions:
        found = client("logs", dest_region).describe_destinations(DestinationNamePrefix="%s-central" % prefix)["destinations"]
        check("destination %s: exists and targets the hub stream through the CloudWatch Logs role" % dest_region,
              len(found) == 1 and found[0]["targetArn"] == stream_arn
              and found[0]["roleArn"] == "arn:aws:iam::%s:role/%s-cwl-to-kinesis" % (account, prefix), found)
        policy = json.loads(found[0].get("accessPolicy") or "{}") if found else {}
        st = policy.get("Statement", [{}])[0]
        allowed = sorted(str(p).replace("arn:aws:iam::", "").replace(":root", "") for p in listify(st.get("Principal", {}).get("AWS", [])))
        check("destination %s: access policy lets exactly the member accounts subscribe to it" % dest_region,
              allowed == members and "logs:PutSubscriptionFilter" in listify(st.get("Action"))
              and st.get("Resource") == "arn:aws:logs:%s:%s:destination:%s-central" % (dest_region, account, prefix), policy)

    # ------------------------------------------------------------------ alarms and topic
    sns = client("sns")
    topic_arn = "arn:aws:sns:%s:%s:%s-alarms" % (region, account, prefix)
    attributes = sns.get_topic_attributes(TopicArn=topic_arn)["Attributes"]
    check("sns: alarm topic is encrypted with the pipeline key", attributes.get("KmsMasterKeyId") == key_arn, attributes.get("KmsMasterKeyId"))
    topic_policy = json.loads(attributes["Policy"])
    check("sns: only CloudWatch alarms of this account may publish",
          not [s for s in topic_policy["Statement"] if s["Effect"] == "Allow" and s.get("Principal") in ("*", {"AWS": "*"})]
          and any(s.get("Principal") == {"Service": "cloudwatch.amazonaws.com"}
                  and s.get("Condition", {}).get("StringEquals", {}).get("aws:SourceAccount") == account for s in topic_policy["Statement"]),
          topic_policy)
    alarm_pages = client("cloudwatch").get_paginator("describe_alarms").paginate(AlarmNamePrefix=prefix + "-")
    alarms = {a["AlarmName"]: a for a in alarm_pages.build_full_result()["MetricAlarms"]}
    expected = {
        "search-delivery-failed": ("AWS/Firehose", "DeliveryToAmazonOpenSearchService.Success"),
        "archive-delivery-failed": ("AWS/Firehose", "DeliveryToS3.Success"),
        "transform-iterator-age": ("AWS/Lambda", "IteratorAge"),
        "transform-failed-batches": ("AWS/Lambda", "DestinationDeliveryFailures"),
        "transform-errors": ("AWS/Lambda", "Errors"),
        "transform-throttles": ("AWS/Lambda", "Throttles"),
        "dead-letter-objects": ("AWS/S3", "PutRequests"),
        "on-failure-objects": ("AWS/S3", "PutRequests"),
        "stream-write-throttled": ("AWS/Kinesis", "WriteProvisionedThroughputExceeded"),
        "archive-key-access-denied": ("AWS/Firehose", "KMSKeyAccessDenied"),
        "search-key-access-denied": ("AWS/Firehose", "KMSKeyAccessDenied"),
    }
    for short, (namespace, metric) in expected.items():
        alarm = alarms.get("%s-%s" % (prefix, short), {})
        check("alarm %s: %s %s notifies the topic" % (short, namespace, metric),
              alarm.get("Namespace") == namespace and alarm.get("MetricName") == metric and alarm.get("AlarmActions") == [topic_arn], alarm)

    # ------------------------------------------------------------------ key alarm (EventBridge) and Firehose error logging
    check_key_alarm_and_firehose_logging(client, account, region, prefix, key_arn, key_policy, search, archive, role)

    failed = [name for ok, name, _detail in RESULTS if not ok]
    print("%d checks, %d failed" % (len(RESULTS), len(failed)))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
