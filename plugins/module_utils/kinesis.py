# -*- coding: utf-8 -*-

# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Helpers shared by the kinesis_stream_info and kinesis_stream_mode modules: input
validation (no AWS call) and reading a Kinesis data stream (DescribeStreamSummary and
ListTagsForStream) into the modules' snake_case view."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import re
import time

try:
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible_collections.amazon.aws.plugins.module_utils.botocore import is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.tagging import boto3_tag_list_to_ansible_dict

STREAM_MODES = ("PROVISIONED", "ON_DEMAND")
RETRY_CODES = ["LimitExceededException", "ThrottlingException", "ServiceUnavailableException"]
# CreateStream: 1 to 128 characters of [a-zA-Z0-9_.-].
_STREAM_NAME_RE = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
# ListTagsForStream accepts at most 50 per page (and a stream has at most 50 tags).
TAG_PAGE_SIZE = 50


class ValidationError(ValueError):
    """Bad input; ``param`` names the module option."""

    def __init__(self, message, param):
        super(ValidationError, self).__init__(message)
        self.param = param


def validate_stream_name(value, param="name"):
    if not isinstance(value, str) or not _STREAM_NAME_RE.match(value):
        raise ValidationError(
            "'%s' must be a Kinesis stream name: 1 to 128 characters of letters, digits, '_', '.' and '-'; got %r"
            % (param, value),
            param,
        )
    return value


def describe_summary(summary, tags):
    """The modules' view of a DescribeStreamSummary result plus the stream's tags."""
    if not summary:
        return {}
    return {
        "name": summary.get("StreamName"),
        "arn": summary.get("StreamARN"),
        "status": summary.get("StreamStatus"),
        # Streams created before on-demand existed have no StreamModeDetails: provisioned.
        "stream_mode": (summary.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED",
        "open_shard_count": summary.get("OpenShardCount"),
        "retention_period_hours": summary.get("RetentionPeriodHours"),
        "encryption_type": summary.get("EncryptionType") or "NONE",
        "key_id": summary.get("KeyId"),
        "tags": tags or {},
    }


def get_summary(module, client, name):
    """DescribeStreamSummary of ``name``, or None when the stream does not exist."""
    try:
        return client.describe_stream_summary(aws_retry=True, StreamName=name)["StreamDescriptionSummary"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return None
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to describe Kinesis stream %s" % name)


def get_tags(module, client, name):
    """All tags of the stream (ListTagsForStream is paginated by tag key)."""
    tags = []
    kwargs = dict(StreamName=name, Limit=TAG_PAGE_SIZE)
    try:
        while True:
            page = client.list_tags_for_stream(aws_retry=True, **kwargs)
            tags.extend(page.get("Tags", []))
            if not page.get("HasMoreTags") or not page.get("Tags"):
                break
            kwargs["ExclusiveStartTagKey"] = page["Tags"][-1]["Key"]
    except is_boto3_error_code("ResourceNotFoundException"):
        return {}
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
        module.fail_json_aws(e, msg="Failed to list tags of Kinesis stream %s" % name)
    return boto3_tag_list_to_ansible_dict(tags)


def get_stream(module, client, name):
    """The module view of stream ``name`` (tags included), or {} when it does not exist."""
    summary = get_summary(module, client, name)
    if summary is None:
        return {}
    return describe_summary(summary, get_tags(module, client, name))


def list_stream_names(module, client):
    """Names of every stream of the region.

    ListStreams pages with NextToken; older servers (and the local emulator) only return
    HasMoreStreams, so the last name is the start of the next page then.
    """
    names = []
    kwargs = {}
    try:
        while True:
            page = client.list_streams(aws_retry=True, **kwargs)
            page_names = page.get("StreamNames", [])
            names.extend(page_names)
            if not page.get("HasMoreStreams"):
                break
            if page.get("NextToken"):
                kwargs = dict(NextToken=page["NextToken"])
            elif page_names:
                kwargs = dict(ExclusiveStartStreamName=page_names[-1])
            else:
                break
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg="Failed to list Kinesis streams")
    # A name seen twice (a stream created while paging) is listed once.
    seen = set()
    return [n for n in names if not (n in seen or seen.add(n))]


def wait_for_mode(module, client, name, mode, timeout, sleep=2):
    """Poll until the stream is ACTIVE (and in ``mode`` when given); return the summary."""
    deadline = time.time() + timeout
    while True:
        summary = get_summary(module, client, name)
        if summary is None:
            module.fail_json(msg="Kinesis stream %s disappeared while waiting for it to become ACTIVE" % name)
        current = (summary.get("StreamModeDetails") or {}).get("StreamMode") or "PROVISIONED"
        if summary.get("StreamStatus") == "ACTIVE" and (mode is None or current == mode):
            return summary
        if time.time() >= deadline:
            module.fail_json(
                msg="Timed out after %s seconds waiting for Kinesis stream %s to become ACTIVE%s (status %s, mode %s)"
                % (timeout, name, " in mode %s" % mode if mode else "", summary.get("StreamStatus"), current)
            )
        time.sleep(sleep)
