# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Issue 3, steps 1-4: the cross-account subscription scenario end to end."""

import re

import botocore.exceptions
import pytest


def test_cross_account_scenario(local_aws, aws_client, unique, kinesis_stream, destination, allow, log_group, put_events, read_stream):
    central, member, outsider = "123456789012", "111111111111", "222222222222"

    # 1. The central account creates a stream, a destination and a policy allowing 111111111111.
    stream = unique("hub")
    stream_arn = kinesis_stream(stream)
    destination_arn = destination(unique("dest"), stream_arn, allow(member, actions=("logs:PutSubscriptionFilter",)))
    assert destination_arn.startswith("arn:aws:logs:us-east-1:%s:destination:" % central)

    # 2. 111111111111 subscribes a log group and puts events.
    group = unique("/app/orders")
    logs = log_group(group, account_id=member)
    logs.put_subscription_filter(logGroupName=group, filterName="to-central", filterPattern="", destinationArn=destination_arn)
    filters = logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]
    assert [(f["filterName"], f["destinationArn"]) for f in filters] == [("to-central", destination_arn)]
    messages = ["order 1 created", "order 1 paid", "order 2 created"]
    timestamps = put_events(group, messages, account_id=member)

    # 3. 222222222222 is denied, with AWS's error code and message, and nothing is created.
    other_group = unique("/app/other")
    other = log_group(other_group, account_id=outsider)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        other.put_subscription_filter(logGroupName=other_group, filterName="to-central", filterPattern="", destinationArn=destination_arn)
    assert err.value.response["Error"]["Code"] == "AccessDeniedException"
    assert err.value.response["Error"]["Message"] == (
        "User with accountId: %s is not authorized to perform: logs:PutSubscriptionFilter on resource: %s" % (outsider, destination_arn))
    assert other.describe_subscription_filters(logGroupName=other_group)["subscriptionFilters"] == []

    # 4. The events are read back from the stream and decoded.
    summary = local_aws.flush()
    assert summary["settled"] is True
    records = read_stream(stream)
    control = [r["payload"] for r in records if r["payload"]["messageType"] == "CONTROL_MESSAGE"]
    data = [r["payload"] for r in records if r["payload"]["messageType"] == "DATA_MESSAGE"]
    assert len(control) == 1
    assert control[0]["owner"] == "CloudwatchLogs"
    assert control[0]["logEvents"][0]["message"] == "CWL CONTROL MESSAGE: Checking health of destination Kinesis stream."
    assert len(data) == 1
    payload = data[0]
    assert payload["owner"] == member
    assert payload["logGroup"] == group
    assert payload["logStream"] == "stream-1"
    assert payload["subscriptionFilters"] == ["to-central"]
    assert [e["message"] for e in payload["logEvents"]] == messages
    assert [e["timestamp"] for e in payload["logEvents"]] == timestamps
    ids = [e["id"] for e in payload["logEvents"]]
    assert all(isinstance(i, str) and re.fullmatch(r"[0-9]{56}", i) for i in ids), ids
    assert len(set(ids)) == 3
    # Nothing from the denied account reached the stream.
    assert all(r["payload"]["owner"] != outsider for r in records)
