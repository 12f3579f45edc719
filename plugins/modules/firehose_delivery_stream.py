#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: firehose_delivery_stream
version_added: 0.1.0
short_description: Manage Amazon Data Firehose delivery streams to OpenSearch Service or S3
description:
  - Creates, updates and deletes an Amazon Data Firehose (Kinesis Data Firehose) delivery stream whose destination
    is an Amazon OpenSearch Service domain (O(opensearch)) or Amazon S3 (O(extended_s3)).
  - Neither amazon.aws nor community.aws can create a Firehose delivery stream; this module exists for that.
  - Creation waits until the stream is C(ACTIVE) (with O(wait=true)). Destination changes go through
    C(UpdateDestination) with the current version id and destination id; AWS merges the options given with the
    existing configuration, so options that are not set are left alone.
  - What AWS cannot change in place (the source type, the Kinesis source, the destination type, the OpenSearch
    S3 backup mode) makes the module fail with a message listing the differences, unless O(recreate=true),
    which deletes the stream and creates it again (records buffered in the old stream are lost).
  - Server-side encryption of a C(DirectPut) stream is started or stopped with
    C(StartDeliveryStreamEncryption)/C(StopDeliveryStreamEncryption).
author:
  - logvault.aws maintainers (@logvault)
options:
  name:
    description: Name of the delivery stream (1-64 letters, digits, C(_), C(.) or C(-)).
    type: str
    required: true
    aliases: [delivery_stream_name]
  state:
    description: Whether the delivery stream should exist.
    type: str
    choices: [present, absent]
    default: present
  delivery_stream_type:
    description:
      - C(DirectPut) when producers call C(PutRecord)/C(PutRecordBatch); C(KinesisStreamAsSource) to read a Kinesis
        data stream (then O(kinesis_source) is required).
      - When not set, a new stream is C(DirectPut) and an existing stream keeps its type.
      - Cannot be changed in place; see O(recreate).
    type: str
    choices: [DirectPut, KinesisStreamAsSource]
  kinesis_source:
    description: The Kinesis data stream a C(KinesisStreamAsSource) stream reads.
    type: dict
    suboptions:
      stream_arn:
        description: ARN of the Kinesis data stream.
        type: str
        required: true
      role_arn:
        description: ARN of the IAM role Firehose assumes to read the stream.
        type: str
        required: true
  server_side_encryption:
    description:
      - Server-side encryption of the data Firehose holds (C(DirectPut) streams only). Not set leaves it alone.
    type: dict
    suboptions:
      enabled:
        description: Whether encryption is on.
        type: bool
        required: true
      kms_key_arn:
        description: ARN of a customer managed KMS key (C(CUSTOMER_MANAGED_CMK)). Without it an AWS owned key is used.
        type: str
  cloudwatch_logging:
    description: CloudWatch Logs error logging of the destination. Not set leaves it alone.
    type: dict
    suboptions: &cloudwatch
      enabled:
        description: Whether delivery errors are logged.
        type: bool
        required: true
      log_group_name:
        description: Log group for the errors. Required when O(cloudwatch_logging.enabled=true).
        type: str
      log_stream_name:
        description: Log stream for the errors. Required when O(cloudwatch_logging.enabled=true).
        type: str
  opensearch:
    description:
      - An Amazon OpenSearch Service destination. Mutually exclusive with O(extended_s3).
      - When the stream exists and neither destination is given, the destination is left alone.
    type: dict
    suboptions:
      role_arn:
        description: ARN of the IAM role Firehose assumes to write to the domain (and, by default, to the backup bucket).
        type: str
        required: true
      domain_arn:
        description: ARN of the domain. Exactly one of O(opensearch.domain_arn) and O(opensearch.cluster_endpoint).
        type: str
      cluster_endpoint:
        description: HTTPS endpoint of the cluster, instead of O(opensearch.domain_arn).
        type: str
      index_name:
        description: The index name (lowercase). With a rotation, Firehose appends a date suffix, for example C(logs-2026-11-27).
        type: str
        required: true
      index_rotation:
        description: How often a new index is started.
        type: str
        choices: [NoRotation, OneHour, OneDay, OneWeek, OneMonth]
      buffering: &buffering
        description: Buffering hints. Unset values keep the current (or AWS default) values.
        type: dict
        suboptions:
          interval_seconds:
            description: Seconds to buffer before delivering (0-900).
            type: int
          size_mb:
            description: MiB to buffer before delivering (1-100 for OpenSearch, 1-128 for S3).
            type: int
      retry_duration:
        description: Seconds Firehose retries a failed delivery to the domain before writing it to S3 (0-7200).
        type: int
      s3_backup_mode:
        description:
          - C(FailedDocumentsOnly) writes only the documents the domain rejected to the backup bucket;
            C(AllDocuments) writes every document. Cannot be changed in place; see O(recreate).
        type: str
        choices: [FailedDocumentsOnly, AllDocuments]
      s3:
        description: The S3 bucket for failed (or all) documents.
        type: dict
        required: true
        suboptions: &s3
          bucket_arn:
            description: ARN of the bucket.
            type: str
            required: true
          role_arn:
            description: IAM role for the bucket; defaults to the destination's role.
            type: str
          prefix:
            description:
              - Object key prefix. May use C(!{timestamp:<format>}) and C(!{firehose:random-string}); then
                an error output prefix is required.
            type: str
          error_output_prefix:
            description:
              - Object key prefix for records that failed; with expressions it must contain C(!{firehose:error-output-type}).
            type: str
          compression_format:
            description: Compression of the objects.
            type: str
            choices: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]
          kms_key_arn:
            description: ARN of the KMS key that encrypts the objects.
            type: str
          buffering: *buffering
          cloudwatch_logging:
            description: CloudWatch Logs error logging of the S3 delivery.
            type: dict
            suboptions: *cloudwatch
      processors: &processors
        description:
          - Record processors, in order. An empty list disables processing; not set leaves it alone.
        type: list
        elements: dict
        suboptions:
          type:
            description: The processor.
            type: str
            required: true
            choices: [lambda, decompression, append_delimiter, cloudwatch_log_processing, record_deaggregation, metadata_extraction]
          parameters:
            description:
              - Processor parameters in snake_case, for example C(lambda_arn), C(number_of_retries),
                C(buffer_size_in_mbs), C(buffer_interval_in_seconds), C(role_arn), C(compression_format),
                C(data_message_extraction), C(delimiter), C(sub_record_type), C(metadata_extraction_query),
                C(json_parsing_engine). Values are sent as strings.
            type: dict
            default: {}
      vpc:
        description:
          - Deliver into a domain that is in a VPC (C(VpcConfiguration)). Firehose creates network interfaces in
            the subnets, so O(opensearch.vpc.role_arn) needs the C(ec2:DescribeVpcs), C(ec2:DescribeVpcAttribute),
            C(ec2:DescribeSubnets), C(ec2:DescribeSecurityGroups), C(ec2:DescribeNetworkInterfaces),
            C(ec2:CreateNetworkInterface), C(ec2:CreateNetworkInterfacePermission) and C(ec2:DeleteNetworkInterface)
            permissions listed in the Firehose developer guide.
          - Set at creation only (it is not part of C(UpdateDestination)); a different value needs O(recreate=true).
            Not set leaves an existing stream's VPC delivery alone.
        type: dict
        suboptions:
          subnet_ids:
            description: 1 to 16 subnet ids (C(subnet-...)), in the domain's VPC.
            type: list
            elements: str
            required: true
          security_group_ids:
            description: 1 to 5 security group ids (C(sg-...)) that may reach the domain on HTTPS.
            type: list
            elements: str
            required: true
          role_arn:
            description: ARN of the IAM role Firehose uses to manage the network interfaces.
            type: str
            required: true
  extended_s3:
    description:
      - An Amazon S3 destination. Mutually exclusive with O(opensearch).
    type: dict
    suboptions:
      role_arn:
        description: ARN of the IAM role Firehose assumes to write to the bucket.
        type: str
        required: true
      bucket_arn:
        description: ARN of the bucket.
        type: str
        required: true
      prefix:
        description:
          - Object key prefix, for example C(logs/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/). With
            expressions, O(extended_s3.error_output_prefix) is required.
        type: str
      error_output_prefix:
        description:
          - Object key prefix for records that failed; with expressions it must contain C(!{firehose:error-output-type}).
        type: str
      compression_format:
        description: Compression of the objects.
        type: str
        choices: [UNCOMPRESSED, GZIP, ZIP, Snappy, HADOOP_SNAPPY]
      kms_key_arn:
        description: ARN of the KMS key that encrypts the objects.
        type: str
      buffering: *buffering
      processors: *processors
      file_extension:
        description: Extension of the delivered objects, for example C(.json.gz).
        type: str
      custom_time_zone:
        description: Time zone of the C(!{timestamp:...}) expressions, for example C(UTC).
        type: str
      dynamic_partitioning:
        description:
          - Dynamic partitioning, see U(https://docs.aws.amazon.com/firehose/latest/dev/dynamic-partitioning.html). Records
            are grouped by the C(!{partitionKeyFromQuery:<key>}) values of O(extended_s3.prefix), extracted by a
            C(metadata_extraction) processor; packed records need a C(record_deaggregation) processor first.
          - AWS enables it only when the stream is created and never disables it, so changing
            O(extended_s3.dynamic_partitioning.enabled) on an existing stream needs O(recreate=true).
          - With it, O(extended_s3.error_output_prefix) is required and the buffer size is at least 64 MiB.
          - Not set leaves it alone.
        type: dict
        suboptions:
          enabled:
            description: Whether records are partitioned.
            type: bool
            required: true
          retry_duration:
            description: Seconds Firehose retries delivering to an S3 prefix (0-7200).
            type: int
  recreate:
    description:
      - Delete and create the stream again when a change cannot be made in place. Records still buffered in the
        stream are lost.
      - Also recreates a stream whose creation failed (C(CREATING_FAILED)); without it, such a stream makes the
        module fail with AWS's C(FailureDescription).
    type: bool
    default: false
    aliases: [force]
  wait:
    description: Wait for the stream to become C(ACTIVE) after creation (and gone after deletion).
    type: bool
    default: true
  wait_timeout:
    description: Seconds to wait.
    type: int
    default: 600
notes:
  - Supports check mode and diff mode. In check mode only C(Describe*)/C(List*) calls are made.
  - C(ListTagsForDeliveryStream) has no paginator in botocore; the module follows C(HasMoreTags)/C(ExclusiveStartTagKey) itself.
  - A stream that is still C(CREATING) is waited for before it is compared; a stream that is C(DELETING) counts as absent
    (with O(state=present) the deletion is waited for and the stream is created again).
  - A stream in C(CREATING_FAILED) is not a usable stream (see C(DeliveryStreamStatus) and C(FailureDescription) in
    U(https://docs.aws.amazon.com/firehose/latest/APIReference/API_DeliveryStreamDescription.html)). With
    O(state=present) the module fails with the failure reason, or with O(recreate=true) deletes it and creates it
    again. Check mode predicts the same.
  - Firehose throttles with C(LimitExceededException), which neither botocore nor amazon.aws's AWSRetry retries
    (U(https://docs.aws.amazon.com/firehose/latest/APIReference/CommonErrors.html)); the module retries it with
    backoff on every call, including the status polling.
  - A role created a moment before is not usable by Firehose at once (IAM is eventually consistent,
    U(https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency)).
    C(InvalidArgumentException) with the message C(Firehose is unable to assume role) or C(is not authorized to
    perform) is retried for about two minutes; any other C(InvalidArgumentException) fails at once.
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.tags
  - amazon.aws.boto3
"""

EXAMPLES = r"""
- name: Search stream into OpenSearch, one index per day, failed documents to S3
  logvault.aws.firehose_delivery_stream:
    name: logvault-search
    server_side_encryption:
      enabled: true
      kms_key_arn: "{{ kms_key_arn }}"
    opensearch:
      role_arn: "arn:aws:iam::123456789012:role/logvault-firehose-search"
      domain_arn: "arn:aws:es:us-east-1:123456789012:domain/logvault"
      index_name: logs
      index_rotation: OneDay
      buffering:
        interval_seconds: 60
        size_mb: 5
      retry_duration: 300
      s3_backup_mode: FailedDocumentsOnly
      s3:
        bucket_arn: "arn:aws:s3:::logvault-archive-123456789012"
        prefix: "search-failed/"
        error_output_prefix: "search-errors/!{firehose:error-output-type}/!{timestamp:yyyy/MM/dd}/"
        compression_format: GZIP
        kms_key_arn: "{{ kms_key_arn }}"
    cloudwatch_logging:
      enabled: true
      log_group_name: /aws/kinesisfirehose/logvault-search
      log_stream_name: DestinationDelivery
    tags:
      project: logvault

- name: Archive stream into S3, GZIP, KMS, time-based prefix
  logvault.aws.firehose_delivery_stream:
    name: logvault-archive
    server_side_encryption:
      enabled: true
      kms_key_arn: "{{ kms_key_arn }}"
    extended_s3:
      role_arn: "arn:aws:iam::123456789012:role/logvault-firehose-archive"
      bucket_arn: "arn:aws:s3:::logvault-archive-123456789012"
      prefix: "logs/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
      error_output_prefix: "errors/!{firehose:error-output-type}/!{timestamp:yyyy}/!{timestamp:MM}/!{timestamp:dd}/"
      compression_format: GZIP
      kms_key_arn: "{{ kms_key_arn }}"
      buffering:
        interval_seconds: 300
        size_mb: 64

- name: Delete a stream
  logvault.aws.firehose_delivery_stream:
    name: logvault-old
    state: absent
"""

RETURN = r"""
delivery_stream:
  description:
    - The stream as C(DescribeDeliveryStream) returns it, in snake_case, plus C(tags) as a dict.
    - In check mode, when the stream would be created, the name, type and tags only. Empty when O(state=absent).
  returned: always
  type: dict
  contains:
    delivery_stream_name:
      description: Name of the stream.
      type: str
      sample: logvault-archive
    delivery_stream_arn:
      description: ARN of the stream.
      type: str
      sample: arn:aws:firehose:us-east-1:123456789012:deliverystream/logvault-archive
    delivery_stream_status:
      description: C(CREATING), C(ACTIVE), C(DELETING)...
      type: str
      sample: ACTIVE
    delivery_stream_type:
      description: C(DirectPut) or C(KinesisStreamAsSource).
      type: str
      sample: DirectPut
    version_id:
      description: Version of the configuration, increased by each update.
      type: str
      sample: "2"
    delivery_stream_encryption_configuration:
      description: Server-side encryption (key_arn, key_type, status).
      type: dict
      sample: {key_type: CUSTOMER_MANAGED_CMK, status: ENABLED}
    destinations:
      description: The destination (one), with its id and description.
      type: list
      elements: dict
    tags:
      description: Tags of the stream.
      type: dict
      sample: {project: logvault}
"""

import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.dict_transformations import camel_dict_to_snake_dict

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.tagging import ansible_dict_to_boto3_tag_list
from ansible_collections.amazon.aws.plugins.module_utils.tagging import compare_aws_tags

from ansible_collections.logvault.aws.plugins.module_utils import firehose as fh
from ansible_collections.logvault.aws.plugins.module_utils.aws_retries import propagation_retry

WAIT_DELAY = 5
# Firehose answers LimitExceededException when throttling; AWSRetry does not know that code.
THROTTLING_CODES = ["LimitExceededException", "ServiceUnavailableException"]


def failure_text(description):
    failure = (description or {}).get("FailureDescription") or {}
    if not failure:
        return "no failure description"
    return "%s: %s" % (failure.get("Type"), failure.get("Details"))


def describe_stream(module, client, name):
    """The DeliveryStreamDescription, or None when the stream does not exist."""
    try:
        return client.describe_delivery_stream(aws_retry=True, DeliveryStreamName=name)["DeliveryStreamDescription"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe delivery stream %s" % name)


def list_tags(module, client, name):
    """All tags; ListTagsForDeliveryStream has no botocore paginator, so HasMoreTags is followed here."""
    tags = {}
    kwargs = dict(DeliveryStreamName=name, Limit=50)
    try:
        while True:
            page = client.list_tags_for_delivery_stream(aws_retry=True, **kwargs)
            for tag in page.get("Tags", []):
                tags[tag["Key"]] = tag.get("Value", "")
            if not page.get("HasMoreTags") or not page.get("Tags"):
                return tags
            kwargs["ExclusiveStartTagKey"] = page["Tags"][-1]["Key"]
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list tags of delivery stream %s" % name)


def wait_for(module, client, name, predicate, what, failed_states=("CREATING_FAILED", "DELETING_FAILED")):
    """Poll DescribeDeliveryStream until predicate(description) is true; fail on failed_states."""
    deadline = time.time() + module.params["wait_timeout"]
    while True:
        description = describe_stream(module, client, name)
        if predicate(description):
            return description
        if description and description.get("DeliveryStreamStatus") in failed_states:
            module.fail_json(
                msg="Delivery stream %s is %s: %s" % (name, description["DeliveryStreamStatus"], description.get("FailureDescription")),
                delivery_stream=camel_dict_to_snake_dict(description),
            )
        sse = (description or {}).get("DeliveryStreamEncryptionConfiguration") or {}
        if sse.get("Status") in ("ENABLING_FAILED", "DISABLING_FAILED"):
            module.fail_json(msg="Encryption of delivery stream %s is %s: %s" % (name, sse["Status"], sse.get("FailureDescription")))
        if time.time() >= deadline:
            module.fail_json(msg="Timed out after %ss waiting for delivery stream %s to be %s" % (module.params["wait_timeout"], name, what))
        time.sleep(WAIT_DELAY)


def is_active(description):
    return bool(description) and description.get("DeliveryStreamStatus") == "ACTIVE"


def sse_settled(description):
    status = ((description or {}).get("DeliveryStreamEncryptionConfiguration") or {}).get("Status")
    return is_active(description) and status not in ("ENABLING", "DISABLING")


def view(description, tags):
    """The comparable state shown in diffs."""
    if description is None:
        return {}
    destination_type, config, dummy = fh.current_destination(description)
    return {
        "delivery_stream_type": description.get("DeliveryStreamType"),
        "kinesis_source": fh.current_source(description),
        "destination_type": destination_type,
        "destination": config,
        "server_side_encryption": fh.current_sse(description),
        "tags": tags,
    }


def delete_stream(module, client, name, wait=None, force=False):
    """Delete the stream; wait until it is gone when wait (default: the wait option) is true.

    ``force`` sends AllowForceDelete, for a stream whose creation failed (its KMS grant may
    not be retirable).
    """
    kwargs = dict(DeliveryStreamName=name)
    if force:
        kwargs["AllowForceDelete"] = True
    try:
        client.delete_delivery_stream(aws_retry=True, **kwargs)
    except is_boto3_error_code("ResourceNotFoundException"):
        return
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to delete delivery stream %s" % name)
    if module.params["wait"] if wait is None else wait:
        wait_for(module, client, name, lambda d: d is None, "deleted", failed_states=("DELETING_FAILED",))


def create_stream(module, client, destination_type, destination_config):
    name = module.params["name"]
    tags = ansible_dict_to_boto3_tag_list(module.params["tags"] or {})
    request = fh.create_request(module.params, destination_type, destination_config, tags)
    try:
        client.create_delivery_stream(aws_retry=True, **request)
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to create delivery stream %s" % name)
    if module.params["wait"]:
        return wait_for(module, client, name, is_active, "ACTIVE")
    return describe_stream(module, client, name)


def ensure_present(module, client, current):
    params = module.params
    name = params["name"]
    destination_type, destination_config = fh.desired_destination(params)
    current_tags = list_tags(module, client, name) if current else {}
    before = view(current, current_tags)

    if current is not None:
        reasons = fh.recreate_reasons(params, current, destination_type, destination_config or {})
        if reasons and not params["recreate"]:
            module.fail_json(
                msg="Delivery stream %s cannot be changed in place (%s); set recreate=true to delete and create it again"
                % (name, "; ".join(reasons)),
                delivery_stream=camel_dict_to_snake_dict(current),
            )
        if reasons:
            if not module.check_mode:
                # Deletion must be complete before the name can be reused, whatever wait says.
                delete_stream(module, client, name, wait=True)
            current = None
            current_tags = {}

    if current is None:
        if destination_type is None:
            module.fail_json(msg="Creating delivery stream %s needs a destination: set opensearch or extended_s3" % name)
        after = {
            "delivery_stream_type": params["delivery_stream_type"] or "DirectPut",
            "kinesis_source": params["kinesis_source"],
            "destination_type": destination_type,
            "destination": destination_config,
            "server_side_encryption": fh.desired_sse(params) or {"Enabled": False},
            "tags": params["tags"] or {},
        }
        if module.check_mode:
            stream = {"delivery_stream_name": name, "delivery_stream_type": params["delivery_stream_type"] or "DirectPut", "tags": params["tags"] or {}}
            return True, stream, before, after
        description = create_stream(module, client, destination_type, destination_config)
        return True, description, before, after

    changed = False
    after = view(current, current_tags)

    # Destination: UpdateDestination merges what is given into what exists.
    current_type, current_config, destination_id = fh.current_destination(current)
    if destination_type and fh.destination_differs(destination_config, current_config):
        changed = True
        after["destination"] = fh.merge(current_config, destination_config)
        if not module.check_mode:
            try:
                client.update_destination(
                    aws_retry=True,
                    DeliveryStreamName=name,
                    CurrentDeliveryStreamVersionId=current["VersionId"],
                    DestinationId=destination_id,
                    **fh.update_request(destination_type, destination_config)
                )
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to update the destination of delivery stream %s" % name)

    # Server-side encryption.
    wanted_sse = fh.desired_sse(params)
    have_sse = fh.current_sse(current)
    if wanted_sse is not None and wanted_sse != have_sse:
        changed = True
        after["server_side_encryption"] = wanted_sse
        if not module.check_mode:
            try:
                if wanted_sse["Enabled"]:
                    config = dict((k, v) for k, v in wanted_sse.items() if k != "Enabled")
                    client.start_delivery_stream_encryption(
                        aws_retry=True, DeliveryStreamName=name, DeliveryStreamEncryptionConfigurationInput=config
                    )
                elif have_sse["Enabled"]:
                    client.stop_delivery_stream_encryption(aws_retry=True, DeliveryStreamName=name)
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                module.fail_json_aws(e, msg="Failed to change server-side encryption of delivery stream %s" % name)
            if params["wait"]:
                wait_for(module, client, name, sse_settled, "ACTIVE with encryption settled")

    # Tags.
    if params["tags"] is not None:
        to_set, to_remove = compare_aws_tags(current_tags, params["tags"], params["purge_tags"])
        if to_set or to_remove:
            changed = True
            new_tags = dict((k, v) for k, v in current_tags.items() if k not in to_remove)
            new_tags.update(to_set)
            after["tags"] = new_tags
            if not module.check_mode:
                try:
                    if to_remove:
                        client.untag_delivery_stream(aws_retry=True, DeliveryStreamName=name, TagKeys=to_remove)
                    items = ansible_dict_to_boto3_tag_list(to_set)
                    for start in range(0, len(items), 50):
                        client.tag_delivery_stream(aws_retry=True, DeliveryStreamName=name, Tags=items[start:start + 50])
                except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                    module.fail_json_aws(e, msg="Failed to update tags of delivery stream %s" % name)

    description = current
    if changed and not module.check_mode:
        description = describe_stream(module, client, name) or current
    return changed, description, before, after


def main():
    buffering = dict(interval_seconds=dict(type="int"), size_mb=dict(type="int"))
    cloudwatch = dict(enabled=dict(type="bool", required=True), log_group_name=dict(type="str"), log_stream_name=dict(type="str"))
    processors = dict(
        type=dict(type="str", required=True, choices=sorted(fh.PROCESSOR_TYPES)),
        parameters=dict(type="dict", default={}),
    )
    s3 = dict(
        bucket_arn=dict(type="str", required=True),
        role_arn=dict(type="str"),
        prefix=dict(type="str"),
        error_output_prefix=dict(type="str"),
        compression_format=dict(type="str", choices=list(fh.COMPRESSION_FORMATS)),
        kms_key_arn=dict(type="str", no_log=False),
        buffering=dict(type="dict", options=buffering),
        cloudwatch_logging=dict(type="dict", options=cloudwatch),
    )
    argument_spec = dict(
        name=dict(type="str", required=True, aliases=["delivery_stream_name"]),
        state=dict(type="str", default="present", choices=["present", "absent"]),
        delivery_stream_type=dict(type="str", choices=list(fh.STREAM_TYPES)),
        kinesis_source=dict(type="dict", options=dict(stream_arn=dict(type="str", required=True), role_arn=dict(type="str", required=True))),
        server_side_encryption=dict(type="dict", options=dict(enabled=dict(type="bool", required=True), kms_key_arn=dict(type="str", no_log=False))),
        cloudwatch_logging=dict(type="dict", options=cloudwatch),
        opensearch=dict(
            type="dict",
            options=dict(
                role_arn=dict(type="str", required=True),
                domain_arn=dict(type="str"),
                cluster_endpoint=dict(type="str"),
                index_name=dict(type="str", required=True),
                index_rotation=dict(type="str", choices=list(fh.ROTATIONS)),
                buffering=dict(type="dict", options=buffering),
                retry_duration=dict(type="int"),
                s3_backup_mode=dict(type="str", choices=list(fh.BACKUP_MODES)),
                s3=dict(type="dict", required=True, options=s3),
                processors=dict(type="list", elements="dict", options=processors),
                vpc=dict(
                    type="dict",
                    options=dict(
                        subnet_ids=dict(type="list", elements="str", required=True),
                        security_group_ids=dict(type="list", elements="str", required=True),
                        role_arn=dict(type="str", required=True),
                    ),
                ),
            ),
        ),
        extended_s3=dict(
            type="dict",
            options=dict(
                role_arn=dict(type="str", required=True),
                bucket_arn=dict(type="str", required=True),
                prefix=dict(type="str"),
                error_output_prefix=dict(type="str"),
                compression_format=dict(type="str", choices=list(fh.COMPRESSION_FORMATS)),
                kms_key_arn=dict(type="str", no_log=False),
                buffering=dict(type="dict", options=buffering),
                processors=dict(type="list", elements="dict", options=processors),
                file_extension=dict(type="str"),
                custom_time_zone=dict(type="str"),
                dynamic_partitioning=dict(type="dict", options=dict(enabled=dict(type="bool", required=True), retry_duration=dict(type="int"))),
            ),
        ),
        recreate=dict(type="bool", default=False, aliases=["force"]),
        wait=dict(type="bool", default=True),
        wait_timeout=dict(type="int", default=600),
        tags=dict(type="dict", aliases=["resource_tags"]),
        purge_tags=dict(type="bool", default=True),
    )
    module = AnsibleAWSModule(
        argument_spec=argument_spec,
        supports_check_mode=True,
        mutually_exclusive=[["opensearch", "extended_s3"]],
    )
    try:
        fh.validate(module.params)
    except fh.ValidationError as e:
        module.fail_json(msg=str(e))
    if module.region and not fh.REGION_RE.match(module.region):
        module.fail_json(msg="region %r is not a valid AWS region name (for example us-east-1)" % module.region)

    name = module.params["name"]
    # Throttling (LimitExceededException) and IAM propagation are retried on every call.
    client = module.client("firehose", retry_decorator=propagation_retry("firehose", THROTTLING_CODES))
    current = describe_stream(module, client, name)
    status = (current or {}).get("DeliveryStreamStatus")
    if status == "CREATING_FAILED" and module.params["state"] == "present":
        if not module.params["recreate"]:
            module.fail_json(
                msg="Delivery stream %s exists but its creation failed (CREATING_FAILED): %s; set recreate=true to delete and "
                "create it again" % (name, failure_text(current)),
                delivery_stream=camel_dict_to_snake_dict(current),
            )
        if not module.check_mode:
            # CreateDeliveryStream cannot be called again on a CREATING_FAILED stream; it must be deleted first.
            delete_stream(module, client, name, wait=True, force=True)
        current = None
    elif status == "DELETING":
        # A deletion in progress cannot be undone: the stream is as good as gone.
        if module.params["state"] == "present" and not module.check_mode:
            wait_for(module, client, name, lambda d: d is None, "deleted")
        current = None
    elif status == "CREATING" and module.params["state"] == "present" and not module.check_mode:
        current = wait_for(module, client, name, is_active, "ACTIVE")

    if module.params["state"] == "absent":
        result = dict(changed=current is not None, delivery_stream={})
        if module._diff:
            result["diff"] = dict(before=view(current, list_tags(module, client, name)) if current else {}, after={})
        if current is not None and not module.check_mode:
            delete_stream(module, client, name)
        module.exit_json(**result)

    changed, description, before, after = ensure_present(module, client, current)
    if isinstance(description, dict) and "DeliveryStreamName" in description:
        tags = list_tags(module, client, name) if not module.check_mode or current else {}
        stream = camel_dict_to_snake_dict(description)
        stream["tags"] = tags
        if module.check_mode and module.params["tags"] is not None:
            stream["tags"] = after.get("tags", tags)
    else:
        stream = description
    result = dict(changed=changed, delivery_stream=stream)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
