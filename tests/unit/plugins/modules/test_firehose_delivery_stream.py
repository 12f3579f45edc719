# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""firehose_delivery_stream: every bad input (failing before any AWS client exists), the
pure helpers of module_utils/firehose.py, and the module's calls checked with a botocore
Stubber (a test double) so each test states exactly which Firehose calls are made."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import datetime
import os
import sys
import time
from unittest import mock

import boto3
import pytest
from botocore.stub import Stubber


from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper
from ansible_collections.logvault.aws.plugins.module_utils import aws_retries
from ansible_collections.logvault.aws.plugins.module_utils import firehose as fh
from ansible_collections.logvault.aws.plugins.modules import firehose_delivery_stream as module_under_test
from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module, set_test_credentials

REGION = "us-east-1"
ROLE = "arn:aws:iam::123456789012:role/logvault-firehose"
BUCKET = "arn:aws:s3:::logvault-archive"
KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555"
DOMAIN = "arn:aws:es:us-east-1:123456789012:domain/logvault"
PREFIX = "logs/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
ERROR_PREFIX = "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
NOW = datetime.datetime(2026, 11, 27, tzinfo=datetime.timezone.utc)


def run(args, check_mode=False, diff=False):
    return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults={"region": REGION})


@pytest.fixture
def env(monkeypatch):
    set_test_credentials(monkeypatch)


@pytest.fixture
def stubbed(env):
    """A Stubber-backed firehose client handed to the module instead of a real one (a test double)."""
    client = boto3.client("firehose", region_name=REGION)
    stubber = Stubber(client)

    def fake_client(self, service, retry_decorator=None, **kwargs):
        assert service == "firehose"
        return RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client

    with stubber, mock.patch.object(AnsibleAWSModule, "client", fake_client), mock.patch.object(module_under_test.time, "sleep"):
        yield stubber
    stubber.assert_no_pending_responses()


@pytest.fixture
def no_client(env):
    """Any attempt to create an AWS client fails the test: bad input must be refused first."""
    def fake_client(self, service, retry_decorator=None, **kwargs):
        raise AssertionError("an AWS client was created for bad input")

    with mock.patch.object(AnsibleAWSModule, "client", fake_client):
        yield


# ----------------------------------------------------------------------------- data


def archive_args(**extra):
    args = dict(
        name="archive",
        server_side_encryption={"enabled": True, "kms_key_arn": KEY},
        extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix=PREFIX, error_output_prefix=ERROR_PREFIX,
                         compression_format="GZIP", kms_key_arn=KEY, buffering={"interval_seconds": 300, "size_mb": 64}),
    )
    args.update(extra)
    return args


def search_args(**extra):
    args = dict(
        name="search",
        opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", index_rotation="OneDay",
                        buffering={"interval_seconds": 60, "size_mb": 5}, retry_duration=300, s3_backup_mode="FailedDocumentsOnly",
                        s3=dict(bucket_arn=BUCKET, prefix="search-failed/", compression_format="GZIP")),
    )
    args.update(extra)
    return args


def s3_description(**extra):
    desc = {
        "RoleARN": ROLE, "BucketARN": BUCKET, "Prefix": PREFIX, "ErrorOutputPrefix": ERROR_PREFIX,
        "BufferingHints": {"IntervalInSeconds": 300, "SizeInMBs": 64}, "CompressionFormat": "GZIP",
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": KEY}},
        "CloudWatchLoggingOptions": {"Enabled": False}, "S3BackupMode": "Disabled",
    }
    desc.update(extra)
    return desc


def description(name="archive", destination=None, version="1", sse=None, status="ACTIVE", stream_type="DirectPut"):
    if destination is None:
        destination = {"ExtendedS3DestinationDescription": s3_description()}
    dest = {"DestinationId": "destinationId-000000000001"}
    dest.update(destination)
    return {"DeliveryStreamDescription": {
        "DeliveryStreamName": name,
        "DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/%s" % name,
        "DeliveryStreamStatus": status,
        "DeliveryStreamType": stream_type,
        "DeliveryStreamEncryptionConfiguration": sse if sse is not None else {"KeyARN": KEY, "KeyType": "CUSTOMER_MANAGED_CMK", "Status": "ENABLED"},
        "VersionId": version,
        "CreateTimestamp": NOW,
        "Destinations": [dest],
        "HasMoreDestinations": False,
    }}


def search_description(**kwargs):
    dest = {"AmazonopensearchserviceDestinationDescription": {
        "RoleARN": ROLE, "DomainARN": DOMAIN, "IndexName": "logs", "IndexRotationPeriod": "OneDay",
        "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5}, "RetryOptions": {"DurationInSeconds": 300},
        "S3BackupMode": "FailedDocumentsOnly",
        "S3DestinationDescription": {"RoleARN": ROLE, "BucketARN": BUCKET, "Prefix": "search-failed/", "CompressionFormat": "GZIP",
                                     "BufferingHints": {"IntervalInSeconds": 300, "SizeInMBs": 5},
                                     "EncryptionConfiguration": {"NoEncryptionConfig": "NoEncryption"},
                                     "CloudWatchLoggingOptions": {"Enabled": False}},
        "ProcessingConfiguration": {"Enabled": False, "Processors": []},
        "CloudWatchLoggingOptions": {"Enabled": False},
        "DocumentIdOptions": {"DefaultDocumentIdFormat": "FIREHOSE_DEFAULT"},
    }}
    kwargs.setdefault("sse", {"Status": "DISABLED"})
    return description(name="search", destination=dest, **kwargs)


def not_found(stubber):
    stubber.add_client_error("describe_delivery_stream", "ResourceNotFoundException", "Firehose x not found.", 400)


def expect_describe(stubber, response, name="archive"):
    stubber.add_response("describe_delivery_stream", response, {"DeliveryStreamName": name})


def expect_tags(stubber, tags=None, name="archive", more=False, start=None):
    expected = {"DeliveryStreamName": name, "Limit": 50}
    if start:
        expected["ExclusiveStartTagKey"] = start
    stubber.add_response("list_tags_for_delivery_stream", {"Tags": tags or [], "HasMoreTags": more}, expected)


# ----------------------------------------------------------------------- bad input


@pytest.mark.parametrize("args,fragment", [
    (archive_args(name="bad name"), "name"),
    (archive_args(name="x" * 65), "name"),
    (archive_args(wait_timeout=0), "wait_timeout"),
    (archive_args(region="us-east-1a"), "region"),
    (archive_args(region="US_EAST_1"), "region"),
    (archive_args(tags=dict(("k%d" % i, "v") for i in range(51))), "tags"),
    (archive_args(tags={"aws:reserved": "x"}), "tags"),
    (archive_args(tags={"k": "v" * 257}), "tags"),
    (archive_args(kinesis_source={"stream_arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "role_arn": ROLE}), "kinesis_source"),
    (archive_args(delivery_stream_type="KinesisStreamAsSource", server_side_encryption=None), "delivery_stream_type"),
    (archive_args(delivery_stream_type="KinesisStreamAsSource", kinesis_source={"stream_arn": "stream/s", "role_arn": ROLE},
                  server_side_encryption=None), "kinesis_source.stream_arn"),
    (archive_args(delivery_stream_type="KinesisStreamAsSource", kinesis_source={
        "stream_arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "role_arn": "role"}, server_side_encryption=None), "kinesis_source.role_arn"),
    (archive_args(delivery_stream_type="KinesisStreamAsSource", kinesis_source={
        "stream_arn": "arn:aws:kinesis:us-east-1:123456789012:stream/s", "role_arn": ROLE}), "server_side_encryption"),
    (archive_args(server_side_encryption={"enabled": True, "kms_key_arn": "alias/logs"}), "server_side_encryption.kms_key_arn"),
    (archive_args(server_side_encryption={"enabled": False, "kms_key_arn": KEY}), "server_side_encryption.kms_key_arn"),
    (archive_args(cloudwatch_logging={"enabled": True}), "cloudwatch_logging"),
    (archive_args(cloudwatch_logging={"enabled": True, "log_group_name": "bad group!", "log_stream_name": "s"}), "cloudwatch_logging.log_group_name"),
    (archive_args(cloudwatch_logging={"enabled": True, "log_group_name": "g", "log_stream_name": "a:b"}), "cloudwatch_logging.log_stream_name"),
    (archive_args(extended_s3=dict(role_arn="not-an-arn", bucket_arn=BUCKET)), "extended_s3.role_arn"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn="logvault-archive")), "extended_s3.bucket_arn"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, kms_key_arn="key")), "extended_s3.kms_key_arn"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix=PREFIX)), "extended_s3.error_output_prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="a/!{timestamp:yyyy", error_output_prefix="e/")), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="a/!{bogus:x}/", error_output_prefix=ERROR_PREFIX)), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="a/!{timestamp:}/", error_output_prefix=ERROR_PREFIX)), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="a/!{firehose:error-output-type}/",
                                   error_output_prefix=ERROR_PREFIX)), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="a/!{firehose:nope}/", error_output_prefix=ERROR_PREFIX)), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix=PREFIX, error_output_prefix="e/!{timestamp:yyyy}/")),
     "extended_s3.error_output_prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="p" * 1025)), "extended_s3.prefix"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, buffering={"interval_seconds": 901})), "extended_s3.buffering.interval_seconds"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, buffering={"size_mb": 129})), "extended_s3.buffering.size_mb"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, buffering={"size_mb": 0})), "extended_s3.buffering.size_mb"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, file_extension="gz")), "extended_s3.file_extension"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, processors=[{"type": "lambda"}])), "extended_s3.processors[0]"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, processors=[{"type": "lambda", "parameters": {"lambda_arn": "fn"}}])),
     "extended_s3.processors[0].parameters.lambda_arn"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, processors=[{"type": "decompression", "parameters": {"bogus": 1}}])),
     "extended_s3.processors[0].parameters"),
    (archive_args(extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, processors=[{"type": "lambda", "parameters": {
        "lambda_arn": "arn:aws:lambda:us-east-1:123456789012:function:f", "role_arn": "r"}}])), "extended_s3.processors[0].parameters.role_arn"),
    (search_args(opensearch=dict(role_arn=ROLE, index_name="logs", s3={"bucket_arn": BUCKET})), "opensearch needs exactly one"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, cluster_endpoint="https://x", index_name="logs", s3={"bucket_arn": BUCKET})),
     "opensearch needs exactly one"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn="arn:aws:es:us-east-1:123456789012:domain/X", index_name="logs",
                                 s3={"bucket_arn": BUCKET})), "opensearch.domain_arn"),
    (search_args(opensearch=dict(role_arn=ROLE, cluster_endpoint="http://x", index_name="logs", s3={"bucket_arn": BUCKET})), "opensearch.cluster_endpoint"),
    (search_args(opensearch=dict(role_arn="r", domain_arn=DOMAIN, index_name="logs", s3={"bucket_arn": BUCKET})), "opensearch.role_arn"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="Logs", s3={"bucket_arn": BUCKET})), "opensearch.index_name"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="x" * 81, s3={"bucket_arn": BUCKET})), "opensearch.index_name"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", retry_duration=7201, s3={"bucket_arn": BUCKET})),
     "opensearch.retry_duration"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", buffering={"size_mb": 101}, s3={"bucket_arn": BUCKET})),
     "opensearch.buffering.size_mb"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", s3={"bucket_arn": "b"})), "opensearch.s3.bucket_arn"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", s3={"bucket_arn": BUCKET, "role_arn": "r"})),
     "opensearch.s3.role_arn"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", s3={"bucket_arn": BUCKET, "prefix": PREFIX})),
     "opensearch.s3.error_output_prefix"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", s3={
        "bucket_arn": BUCKET, "cloudwatch_logging": {"enabled": True}})), "opensearch.s3.cloudwatch_logging"),
    (search_args(opensearch=dict(role_arn=ROLE, domain_arn=DOMAIN, index_name="logs", s3={"bucket_arn": BUCKET},
                                 processors=[{"type": "lambda", "parameters": {}}])), "opensearch.processors[0]"),
])
def test_bad_input_is_refused_before_any_aws_call(no_client, args, fragment):
    result = run(args)
    assert result.get("failed") is True, result
    assert result["msg"].startswith(fragment), result["msg"]


def test_both_destinations_are_mutually_exclusive(no_client):
    args = archive_args()
    args.update(search_args(name="archive"))
    result = run(args)
    assert result["failed"] is True
    assert "mutually exclusive" in result["msg"] and "opensearch" in result["msg"]


def test_absent_needs_only_a_valid_name(no_client):
    assert run({"name": "a/b", "state": "absent"})["msg"].startswith("name")


# ------------------------------------------------------------------------ helpers


def test_desired_extended_s3_configuration():
    kind, config = fh.desired_destination(dict(module_params(archive_args())))
    assert kind == "extended_s3"
    assert config == {
        "RoleARN": ROLE, "BucketARN": BUCKET, "Prefix": PREFIX, "ErrorOutputPrefix": ERROR_PREFIX,
        "BufferingHints": {"IntervalInSeconds": 300, "SizeInMBs": 64}, "CompressionFormat": "GZIP",
        "EncryptionConfiguration": {"KMSEncryptionConfig": {"AWSKMSKeyARN": KEY}},
    }


def test_desired_opensearch_configuration_defaults_the_backup_role():
    kind, config = fh.desired_destination(module_params(search_args()))
    assert kind == "opensearch"
    assert config["S3Configuration"] == {"RoleARN": ROLE, "BucketARN": BUCKET, "Prefix": "search-failed/", "CompressionFormat": "GZIP"}
    assert config["IndexRotationPeriod"] == "OneDay" and config["S3BackupMode"] == "FailedDocumentsOnly"
    assert config["RetryOptions"] == {"DurationInSeconds": 300}
    update = fh.update_request(kind, config)["AmazonopensearchserviceDestinationUpdate"]
    assert "S3BackupMode" not in update and "S3Configuration" not in update
    assert update["S3Update"]["BucketARN"] == BUCKET


def test_processors_are_built_with_api_names():
    built = fh.build_processing([{"type": "lambda", "parameters": {"lambda_arn": "arn:x", "number_of_retries": 3}},
                                 {"type": "append_delimiter", "parameters": {}}])
    assert built == {"Enabled": True, "Processors": [
        {"Type": "Lambda", "Parameters": [{"ParameterName": "LambdaArn", "ParameterValue": "arn:x"},
                                          {"ParameterName": "NumberOfRetries", "ParameterValue": "3"}]},
        {"Type": "AppendDelimiterToRecord", "Parameters": []},
    ]}
    assert fh.build_processing([]) == {"Enabled": False, "Processors": []}
    assert fh.build_processing(None) is None


def test_aws_filled_defaults_do_not_count_as_differences():
    kind, config = fh.desired_destination(module_params(search_args()))
    dummy, current, dummy = fh.current_destination(search_description()["DeliveryStreamDescription"])
    assert fh.destination_differs(config, current) is False
    # processor parameters AWS adds (defaults) are not differences either
    desired = {"ProcessingConfiguration": fh.build_processing([{"type": "lambda", "parameters": {"lambda_arn": "arn:x"}}])}
    current = {"ProcessingConfiguration": {"Enabled": True, "Processors": [{"Type": "Lambda", "Parameters": [
        {"ParameterName": "LambdaArn", "ParameterValue": "arn:x"}, {"ParameterName": "NumberOfRetries", "ParameterValue": "3"}]}]}}
    assert fh.destination_differs(desired, current) is False
    assert fh.destination_differs({"ProcessingConfiguration": {"Enabled": False, "Processors": []}}, current) is True
    assert fh.destination_differs({"ProcessingConfiguration": {"Enabled": False, "Processors": []}}, {}) is False
    assert fh.destination_differs({"CloudWatchLoggingOptions": {"Enabled": False}}, {}) is False
    assert fh.destination_differs({"Prefix": ""}, {}) is False


def test_current_sse_reading():
    assert fh.current_sse({"DeliveryStreamEncryptionConfiguration": {"Status": "DISABLED"}}) == {"Enabled": False}
    assert fh.current_sse({}) == {"Enabled": False}
    assert fh.current_sse({"DeliveryStreamEncryptionConfiguration": {"Status": "ENABLED", "KeyType": "AWS_OWNED_CMK"}}) == {
        "Enabled": True, "KeyType": "AWS_OWNED_CMK"}
    assert fh.current_sse({"DeliveryStreamEncryptionConfiguration": {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": KEY}})["KeyARN"] == KEY


def test_recreate_reasons():
    current = search_description()["DeliveryStreamDescription"]
    params = module_params(archive_args(name="search"))
    kind, config = fh.desired_destination(params)
    assert fh.recreate_reasons(params, current, kind, config) == ["destination type opensearch -> extended_s3"]
    params = module_params(search_args())
    params["opensearch"]["s3_backup_mode"] = "AllDocuments"
    kind, config = fh.desired_destination(params)
    assert fh.recreate_reasons(params, current, kind, config) == ["opensearch.s3_backup_mode FailedDocumentsOnly -> AllDocuments"]
    params["delivery_stream_type"] = "KinesisStreamAsSource"
    assert "delivery_stream_type DirectPut -> KinesisStreamAsSource" in fh.recreate_reasons(params, current, kind, config)


def module_params(args):
    """The params the module would see, with every suboption present (None when unset)."""
    params = dict(delivery_stream_type="DirectPut", kinesis_source=None, server_side_encryption=None, cloudwatch_logging=None,
                  opensearch=None, extended_s3=None, tags=None, state="present", wait_timeout=600)
    params.update(copy.deepcopy(args))
    for key in ("opensearch", "extended_s3"):
        if params.get(key):
            for option in ("domain_arn", "cluster_endpoint", "index_rotation", "buffering", "retry_duration", "s3_backup_mode", "processors",
                           "prefix", "error_output_prefix", "compression_format", "kms_key_arn", "file_extension", "custom_time_zone",
                           "dynamic_partitioning"):
                params[key].setdefault(option, None)
            if "s3" in params[key]:
                for option in ("role_arn", "prefix", "error_output_prefix", "compression_format", "kms_key_arn", "buffering", "cloudwatch_logging"):
                    params[key]["s3"].setdefault(option, None)
    return params


# --------------------------------------------------------------- calls (Stubber)


def test_check_mode_create_makes_no_write(stubbed):
    not_found(stubbed)
    result = run(archive_args(), check_mode=True, diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["destination"]["Prefix"] == PREFIX
    assert result["diff"]["after"]["server_side_encryption"] == {"Enabled": True, "KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": KEY}


def test_create_search_stream_sends_the_opensearch_configuration_and_waits(stubbed):
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", {"DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/search"}, {
        "DeliveryStreamName": "search",
        "DeliveryStreamType": "DirectPut",
        "AmazonopensearchserviceDestinationConfiguration": {
            "RoleARN": ROLE, "DomainARN": DOMAIN, "IndexName": "logs", "IndexRotationPeriod": "OneDay",
            "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 5}, "RetryOptions": {"DurationInSeconds": 300},
            "S3BackupMode": "FailedDocumentsOnly",
            "S3Configuration": {"RoleARN": ROLE, "BucketARN": BUCKET, "Prefix": "search-failed/", "CompressionFormat": "GZIP"},
        },
        "Tags": [{"Key": "project", "Value": "logvault"}],
    })
    expect_describe(stubbed, search_description(status="CREATING"), name="search")
    expect_describe(stubbed, search_description(), name="search")
    expect_tags(stubbed, [{"Key": "project", "Value": "logvault"}], name="search")
    result = run(search_args(tags={"project": "logvault"}))
    assert result["changed"] is True
    assert result["delivery_stream"]["delivery_stream_status"] == "ACTIVE"
    assert result["delivery_stream"]["tags"] == {"project": "logvault"}
    dest = result["delivery_stream"]["destinations"][0]["amazonopensearchservice_destination_description"]
    assert dest["index_rotation_period"] == "OneDay"


def test_create_failure_is_reported(stubbed):
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", {"DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive"})
    failed = description(status="CREATING_FAILED")
    failed["DeliveryStreamDescription"]["FailureDescription"] = {"Type": "INVALID_KMS_KEY", "Details": "key disabled"}
    expect_describe(stubbed, failed)
    result = run(archive_args())
    assert result["failed"] is True
    assert "CREATING_FAILED" in result["msg"] and "INVALID_KMS_KEY" in result["msg"]


def test_unchanged_stream_makes_only_reads(stubbed):
    for check_mode in (True, False):
        expect_describe(stubbed, description())
        expect_tags(stubbed)
        expect_tags(stubbed)
        result = run(archive_args(), check_mode=check_mode)
        assert result["changed"] is False


def test_buffering_update_uses_version_and_destination_ids(stubbed):
    expect_describe(stubbed, description(version="7"))
    expect_tags(stubbed)
    stubbed.add_response("update_destination", {}, {
        "DeliveryStreamName": "archive", "CurrentDeliveryStreamVersionId": "7", "DestinationId": "destinationId-000000000001",
        "ExtendedS3DestinationUpdate": {"RoleARN": ROLE, "BucketARN": BUCKET, "BufferingHints": {"IntervalInSeconds": 60, "SizeInMBs": 64}},
    })
    expect_describe(stubbed, description(version="8", destination={"ExtendedS3DestinationDescription": s3_description(
        BufferingHints={"IntervalInSeconds": 60, "SizeInMBs": 64})}))
    expect_tags(stubbed)
    result = run(dict(name="archive", extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, buffering={"interval_seconds": 60, "size_mb": 64})), diff=True)
    assert result["changed"] is True
    assert result["delivery_stream"]["version_id"] == "8"
    assert result["diff"]["before"]["destination"]["BufferingHints"]["IntervalInSeconds"] == 300
    assert result["diff"]["after"]["destination"]["BufferingHints"]["IntervalInSeconds"] == 60
    assert result["diff"]["after"]["destination"]["Prefix"] == PREFIX  # unset options are left alone


def test_check_mode_update_makes_no_write(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    expect_tags(stubbed)
    result = run(dict(name="archive", extended_s3=dict(role_arn=ROLE, bucket_arn=BUCKET, prefix="new/")), check_mode=True)
    assert result["changed"] is True


def test_destination_type_change_is_refused_without_recreate(stubbed):
    expect_describe(stubbed, search_description(), name="search")
    expect_tags(stubbed, name="search")
    result = run(archive_args(name="search"))
    assert result["failed"] is True
    assert "cannot be changed in place (destination type opensearch -> extended_s3)" in result["msg"]
    assert "recreate=true" in result["msg"]


def test_recreate_deletes_waits_and_creates(stubbed):
    expect_describe(stubbed, search_description(), name="search")
    expect_tags(stubbed, name="search")
    stubbed.add_response("delete_delivery_stream", {}, {"DeliveryStreamName": "search"})
    expect_describe(stubbed, search_description(status="DELETING"), name="search")
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", {"DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/search"})
    expect_describe(stubbed, description(name="search"), name="search")
    expect_tags(stubbed, name="search")
    result = run(archive_args(name="search", recreate=True, wait=False))
    assert result["changed"] is True
    assert "extended_s3_destination_description" in result["delivery_stream"]["destinations"][0]


def test_encryption_is_started_and_waited_for(stubbed):
    expect_describe(stubbed, description(sse={"Status": "DISABLED"}))
    expect_tags(stubbed)
    stubbed.add_response("start_delivery_stream_encryption", {}, {
        "DeliveryStreamName": "archive", "DeliveryStreamEncryptionConfigurationInput": {"KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": KEY}})
    expect_describe(stubbed, description(sse={"Status": "ENABLING", "KeyType": "CUSTOMER_MANAGED_CMK", "KeyARN": KEY}))
    expect_describe(stubbed, description())
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    result = run(dict(name="archive", server_side_encryption={"enabled": True, "kms_key_arn": KEY}))
    assert result["changed"] is True


def test_encryption_is_stopped(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    stubbed.add_response("stop_delivery_stream_encryption", {}, {"DeliveryStreamName": "archive"})
    expect_describe(stubbed, description(sse={"Status": "DISABLED"}))
    expect_describe(stubbed, description(sse={"Status": "DISABLED"}))
    expect_tags(stubbed)
    assert run(dict(name="archive", server_side_encryption={"enabled": False}))["changed"] is True


def test_tags_are_read_across_pages_and_purged(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed, [{"Key": "a", "Value": "1"}], more=True)
    expect_tags(stubbed, [{"Key": "b", "Value": "2"}], start="a")
    stubbed.add_response("untag_delivery_stream", {}, {"DeliveryStreamName": "archive", "TagKeys": ["b"]})
    stubbed.add_response("tag_delivery_stream", {}, {"DeliveryStreamName": "archive", "Tags": [{"Key": "c", "Value": "3"}]})
    expect_describe(stubbed, description())
    expect_tags(stubbed, [{"Key": "a", "Value": "1"}, {"Key": "c", "Value": "3"}])
    result = run(dict(name="archive", tags={"a": "1", "c": "3"}), diff=True)
    assert result["changed"] is True
    assert result["diff"]["before"]["tags"] == {"a": "1", "b": "2"}
    assert result["diff"]["after"]["tags"] == {"a": "1", "c": "3"}


def test_tags_kept_without_purge(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed, [{"Key": "a", "Value": "1"}])
    expect_tags(stubbed, [{"Key": "a", "Value": "1"}])
    assert run(dict(name="archive", tags={}, purge_tags=False))["changed"] is False


def test_absent_cycle(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    check = run(dict(name="archive", state="absent"), check_mode=True, diff=True)
    assert check["changed"] is True and check["diff"]["after"] == {}
    expect_describe(stubbed, description())
    stubbed.add_response("delete_delivery_stream", {}, {"DeliveryStreamName": "archive"})
    not_found(stubbed)
    assert run(dict(name="archive", state="absent"))["changed"] is True
    for check_mode in (True, False):
        not_found(stubbed)
        assert run(dict(name="archive", state="absent"), check_mode=check_mode)["changed"] is False


def test_creation_needs_a_destination(stubbed):
    not_found(stubbed)
    result = run(dict(name="archive"))
    assert result["failed"] is True
    assert "needs a destination" in result["msg"]


def test_api_errors_are_reported(stubbed):
    stubbed.add_client_error("describe_delivery_stream", "AccessDeniedException", "not allowed", 400)
    result = run(archive_args())
    assert result["failed"] is True
    assert result["msg"].startswith("Failed to describe delivery stream archive")


def test_unset_stream_type_keeps_an_existing_kinesis_source_stream(stubbed):
    source = {"KinesisStreamSourceDescription": {"KinesisStreamARN": "arn:aws:kinesis:us-east-1:123456789012:stream/hub", "RoleARN": ROLE}}
    existing = description(stream_type="KinesisStreamAsSource", sse={"Status": "DISABLED"})
    existing["DeliveryStreamDescription"]["Source"] = source
    expect_describe(stubbed, existing)
    expect_tags(stubbed)
    expect_tags(stubbed)
    args = archive_args(server_side_encryption=None)
    assert run(args, check_mode=True)["changed"] is False
    # naming another source stream is a change AWS cannot make in place
    expect_describe(stubbed, existing)
    expect_tags(stubbed)
    args["kinesis_source"] = {"stream_arn": "arn:aws:kinesis:us-east-1:123456789012:stream/other", "role_arn": ROLE}
    args["delivery_stream_type"] = "KinesisStreamAsSource"
    result = run(args, check_mode=True)
    assert result["failed"] is True and "kinesis_source" in result["msg"]


def test_ansible_doc_renders_with_examples():
    """ansible-doc renders the module from the working tree, with examples that use it."""
    import json
    import subprocess

    import yaml

    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=os.path.join(repo, "build", "pytest-root"), ANSIBLE_COLLECTIONS_SCAN_SYS_PATH="true", ANSIBLE_NOCOLOR="1")
    ansible_doc = os.path.join(os.path.dirname(sys.executable), "ansible-doc")
    fqcn = "logvault.aws.firehose_delivery_stream"
    text = subprocess.run([ansible_doc, "-t", "module", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    assert "EXAMPLES" in text.stdout and fqcn in text.stdout
    assert "[WARNING]" not in text.stderr and "[ERROR]" not in text.stderr, text.stderr
    raw = subprocess.run([ansible_doc, "-t", "module", "--json", fqcn], env=env, capture_output=True, text=True, timeout=300, check=True)
    doc = json.loads(raw.stdout)[fqcn]
    assert doc["doc"]["version_added"] == "0.1.0"
    assert {"region", "access_key", "secret_key", "profile"} <= set(doc["doc"]["options"])
    assert doc["return"]
    examples = yaml.safe_load(doc["examples"])
    assert examples and all(task.get("name") and fqcn in task for task in examples)


def test_a_stream_being_deleted_is_waited_for_then_created(stubbed):
    expect_describe(stubbed, description(status="DELETING"))
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", {"DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive"})
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    assert run(archive_args())["changed"] is True
    expect_describe(stubbed, description(status="DELETING"))
    assert run(dict(name="archive", state="absent"))["changed"] is False


def test_a_stream_being_created_is_waited_for_before_comparing(stubbed):
    expect_describe(stubbed, description(status="CREATING"))
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    expect_tags(stubbed)
    assert run(archive_args())["changed"] is False


# ------------------------------------------------ IAM propagation, throttling, failed streams (issue 14)

# The messages AWS returns (see plugins/module_utils/aws_retries.py for the sources).
ASSUME_ROLE = "Firehose is unable to assume role %s. Please check the role provided." % ROLE
NOT_AUTHORIZED = ("Role %s is not authorized to perform: kinesis:DescribeStream on resource "
                  "arn:aws:kinesis:us-east-1:123456789012:stream/hub." % ROLE)
CREATED = {"DeliveryStreamARN": "arn:aws:firehose:us-east-1:123456789012:deliverystream/archive"}


def slept():
    """Seconds passed to time.sleep (patched by the stubbed fixture)."""
    return [c.args[0] for c in time.sleep.call_args_list]


@pytest.mark.parametrize("message", [ASSUME_ROLE, NOT_AUTHORIZED])
def test_create_is_retried_while_a_new_role_propagates(stubbed, message):
    not_found(stubbed)
    stubbed.add_client_error("create_delivery_stream", "InvalidArgumentException", message, 400)
    stubbed.add_client_error("create_delivery_stream", "InvalidArgumentException", message, 400)
    stubbed.add_response("create_delivery_stream", CREATED)
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    result = run(archive_args())
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True
    assert len(slept()) == 2


def test_other_invalid_argument_errors_fail_at_once(stubbed):
    not_found(stubbed)
    stubbed.add_client_error("create_delivery_stream", "InvalidArgumentException", "Prefix is not valid.", 400)
    result = run(archive_args())
    assert result["failed"] is True and "Prefix is not valid" in result["msg"]
    assert slept() == []


def test_propagation_retry_is_bounded_to_about_two_minutes(stubbed):
    not_found(stubbed)
    for dummy in range(aws_retries.PROPAGATION_RETRIES):
        stubbed.add_client_error("create_delivery_stream", "InvalidArgumentException", ASSUME_ROLE, 400)
    result = run(archive_args())
    assert result["failed"] is True and "unable to assume role" in result["msg"]
    waits = slept()
    assert len(waits) == aws_retries.PROPAGATION_RETRIES - 1
    assert 60 <= sum(waits) <= aws_retries.max_propagation_wait() <= 150


def test_limit_exceeded_is_retried_on_create_and_while_polling(stubbed):
    not_found(stubbed)
    stubbed.add_client_error("create_delivery_stream", "LimitExceededException", "Rate exceeded for stream archive.", 400)
    stubbed.add_response("create_delivery_stream", CREATED)
    stubbed.add_client_error("describe_delivery_stream", "LimitExceededException", "Rate exceeded.", 400)
    expect_describe(stubbed, description(status="CREATING"))
    stubbed.add_client_error("describe_delivery_stream", "LimitExceededException", "Rate exceeded.", 400)
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    result = run(archive_args())
    assert result.get("failed") is not True, result.get("msg")
    assert result["delivery_stream"]["delivery_stream_status"] == "ACTIVE"


def creating_failed():
    failed = description(status="CREATING_FAILED")
    failed["DeliveryStreamDescription"]["FailureDescription"] = {"Type": "INVALID_KMS_KEY", "Details": "The key is disabled."}
    return failed


@pytest.mark.parametrize("check_mode", [True, False])
def test_a_stream_whose_creation_failed_is_reported_not_taken_as_existing(stubbed, check_mode):
    expect_describe(stubbed, creating_failed())
    result = run(archive_args(), check_mode=check_mode)
    assert result["failed"] is True
    assert "CREATING_FAILED" in result["msg"] and "INVALID_KMS_KEY: The key is disabled." in result["msg"]
    assert "recreate" in result["msg"]


def test_force_recreates_a_stream_whose_creation_failed(stubbed):
    expect_describe(stubbed, creating_failed())
    result = run(archive_args(force=True), check_mode=True)
    assert result["changed"] is True

    expect_describe(stubbed, creating_failed())
    stubbed.add_response("delete_delivery_stream", {}, {"DeliveryStreamName": "archive", "AllowForceDelete": True})
    expect_describe(stubbed, description(status="DELETING"))
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", CREATED)
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    result = run(archive_args(force=True))
    assert result.get("failed") is not True, result.get("msg")
    assert result["changed"] is True


SUBNETS = ["subnet-0bbbbbbbbbbbbbbbb", "subnet-0aaaaaaaaaaaaaaaa"]
GROUPS = ["sg-0123456789abcdef0"]


def vpc_args(**vpc):
    args = search_args()
    args["opensearch"]["vpc"] = dict(dict(subnet_ids=SUBNETS, security_group_ids=GROUPS, role_arn=ROLE), **vpc)
    return args


def test_vpc_configuration_is_sent_at_creation(stubbed):
    not_found(stubbed)
    stubbed.add_response("create_delivery_stream", CREATED)
    expect_describe(stubbed, search_description(), name="search")
    expect_tags(stubbed, name="search")
    captured = {}
    original = stubbed.client.create_delivery_stream

    def spy(**kwargs):
        captured.update(kwargs)
        return original(**kwargs)

    with mock.patch.object(stubbed.client, "create_delivery_stream", spy):
        assert run(vpc_args())["changed"] is True
    vpc = captured["AmazonopensearchserviceDestinationConfiguration"]["VpcConfiguration"]
    assert vpc == {"SubnetIds": sorted(SUBNETS), "RoleARN": ROLE, "SecurityGroupIds": GROUPS}


def with_vpc(desc, subnets=None):
    dest = desc["DeliveryStreamDescription"]["Destinations"][0]["AmazonopensearchserviceDestinationDescription"]
    dest["VpcConfigurationDescription"] = {"SubnetIds": list(SUBNETS if subnets is None else subnets), "RoleARN": ROLE,
                                           "SecurityGroupIds": GROUPS, "VpcId": "vpc-0123456789abcdef0"}
    return desc


def test_same_vpc_is_unchanged_and_another_needs_recreate(stubbed):
    expect_describe(stubbed, with_vpc(search_description(), subnets=list(reversed(SUBNETS))), name="search")
    expect_tags(stubbed, name="search")
    expect_tags(stubbed, name="search")
    assert run(vpc_args())["changed"] is False

    expect_describe(stubbed, with_vpc(search_description(), subnets=["subnet-0cccccccccccccccc"]), name="search")
    expect_tags(stubbed, name="search")
    result = run(vpc_args())
    assert result["failed"] is True and "opensearch.vpc" in result["msg"]


@pytest.mark.parametrize("vpc,fragment", [
    (dict(subnet_ids=[]), "opensearch.vpc.subnet_ids"),
    (dict(subnet_ids=["subnet-x"]), "opensearch.vpc.subnet_ids"),
    (dict(security_group_ids=["sg-%017d" % i for i in range(6)]), "opensearch.vpc.security_group_ids"),
    (dict(role_arn="role"), "opensearch.vpc.role_arn"),
])
def test_bad_vpc_is_refused_before_any_aws_call(no_client, vpc, fragment):
    result = run(vpc_args(**vpc))
    assert result["failed"] is True and fragment in result["msg"]


# ------------------------------------------------------------ dynamic partitioning (issue 19)

DP_PREFIX = "logs/account_id=!{partitionKeyFromQuery:account_id}/dt=!{partitionKeyFromQuery:dt}/"


def dp_args(**dynamic):
    args = archive_args()
    args["extended_s3"].update(prefix=DP_PREFIX, dynamic_partitioning=dict(enabled=True, retry_duration=300, **dynamic),
                               processors=[{"type": "metadata_extraction", "parameters": {
                                   "metadata_extraction_query": "{account_id: .account_id}", "json_parsing_engine": "JQ-1.6"}}])
    return args


@pytest.mark.parametrize("change, fragment", [
    ({"prefix": PREFIX}, "extended_s3.dynamic_partitioning.enabled=true needs an extended_s3.prefix"),
    ({"error_output_prefix": None}, "extended_s3.error_output_prefix is required"),
    ({"buffering": {"size_mb": 5}}, "extended_s3.buffering.size_mb must be at least 64"),
    ({"dynamic_partitioning": {"enabled": True, "retry_duration": 7201}}, "extended_s3.dynamic_partitioning.retry_duration"),
    ({"dynamic_partitioning": {"enabled": False}}, "extended_s3.prefix uses partitionKeyFrom"),
])
def test_dynamic_partitioning_input_is_validated_before_any_aws_call(no_client, change, fragment):
    args = dp_args()
    args["extended_s3"].update(change)
    result = run(args)
    assert result.get("failed") is True, result
    assert result["msg"].startswith(fragment), result["msg"]


def test_dynamic_partitioning_is_sent_and_compared():
    kind, config = fh.desired_destination(module_params(dp_args()))
    assert config["DynamicPartitioningConfiguration"] == {"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}}
    described = dict(config, DynamicPartitioningConfiguration={"Enabled": True, "RetryOptions": {"DurationInSeconds": 300}})
    assert fh.destination_differs(config, described) is False
    # a stream AWS describes without the structure has it disabled
    assert fh.destination_differs({"DynamicPartitioningConfiguration": {"Enabled": False}}, {}) is False


def test_dynamic_partitioning_change_needs_recreate():
    current = description()["DeliveryStreamDescription"]
    params = module_params(dp_args())
    kind, config = fh.desired_destination(params)
    assert fh.recreate_reasons(params, current, kind, config) == ["extended_s3.dynamic_partitioning.enabled False -> True"]
    enabled = description(destination={"ExtendedS3DestinationDescription": s3_description(
        DynamicPartitioningConfiguration={"Enabled": True})})["DeliveryStreamDescription"]
    assert fh.recreate_reasons(params, enabled, kind, config) == []


def test_dynamic_partitioning_on_an_existing_plain_stream_is_refused_without_recreate(stubbed):
    expect_describe(stubbed, description())
    expect_tags(stubbed)
    result = run(dp_args())
    assert result["failed"] is True
    assert "extended_s3.dynamic_partitioning.enabled False -> True" in result["msg"]
