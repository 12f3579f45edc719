# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Account-level subscription filter policies: PutAccountPolicy, DescribeAccountPolicies,
DeleteAccountPolicy, selection criteria and delivery.

Each test works in its own region (one subscription filter policy per account and
region) and deletes its policy afterwards, so other tests see no extra deliveries.
"""

import itertools
import json

import botocore.exceptions
import pytest

CENTRAL, MEMBER, OUTSIDER = "123456789012", "111111111111", "222222222222"
REGIONS = itertools.cycle(["us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
                           "ap-southeast-1", "ap-southeast-2", "ap-northeast-1", "ca-central-1", "sa-east-1", "eu-north-1"])
TYPE = "SUBSCRIPTION_FILTER_POLICY"


@pytest.fixture()
def region(aws_client):
    name = next(REGIONS)
    yield name
    for account in (CENTRAL, MEMBER, OUTSIDER):
        logs = aws_client("logs", account_id=account, region=name)
        for policy in logs.describe_account_policies(policyType=TYPE)["accountPolicies"]:
            logs.delete_account_policy(policyName=policy["policyName"], policyType=TYPE)


def _doc(destination_arn, **extra):
    doc = {"DestinationArn": destination_arn}
    doc.update(extra)
    return json.dumps(doc)


def _code(excinfo):
    return excinfo.value.response["Error"]["Code"]


def _message(excinfo):
    return excinfo.value.response["Error"]["Message"]


@pytest.fixture()
def hub(unique, kinesis_stream, destination, allow, region):
    """A central stream behind a destination that allows MEMBER to put account policies."""
    stream = unique("hub")
    arn = kinesis_stream(stream, region=region)
    dest = destination(unique("dest"), arn, allow(MEMBER), region=region)
    return stream, dest


def test_put_describe_delete_round_trip(aws_client, hub, region):
    logs = aws_client("logs", account_id=MEMBER, region=region)
    document = _doc(hub[1], FilterPattern="", Distribution="Random")
    criteria = 'LogGroupName NOT IN ["/logvault/pipeline", "/aws/lambda/logvault-transform"]'
    put = logs.put_account_policy(policyName="to-central", policyDocument=document, policyType=TYPE,
                                  scope="ALL", selectionCriteria=criteria)["accountPolicy"]
    assert put["policyName"] == "to-central"
    assert put["policyDocument"] == document
    assert put["policyType"] == TYPE
    assert put["scope"] == "ALL"
    assert put["selectionCriteria"] == criteria
    assert put["accountId"] == MEMBER
    assert isinstance(put["lastUpdatedTime"], int)

    described = logs.describe_account_policies(policyType=TYPE)["accountPolicies"]
    assert described == [put]
    assert logs.describe_account_policies(policyType=TYPE, policyName="other")["accountPolicies"] == []
    assert logs.describe_account_policies(policyType="DATA_PROTECTION_POLICY")["accountPolicies"] == []
    # Other accounts and regions do not see it.
    assert aws_client("logs", account_id=OUTSIDER, region=region).describe_account_policies(policyType=TYPE)["accountPolicies"] == []

    logs.delete_account_policy(policyName="to-central", policyType=TYPE)
    assert logs.describe_account_policies(policyType=TYPE)["accountPolicies"] == []
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.delete_account_policy(policyName="to-central", policyType=TYPE)
    assert _code(err) == "ResourceNotFoundException"


def test_one_subscription_policy_per_account_and_region(aws_client, hub, region):
    logs = aws_client("logs", account_id=MEMBER, region=region)
    logs.put_account_policy(policyName="first", policyDocument=_doc(hub[1]), policyType=TYPE)
    # Same name: an update.
    logs.put_account_policy(policyName="first", policyDocument=_doc(hub[1], FilterPattern="ERROR"), policyType=TYPE)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_account_policy(policyName="second", policyDocument=_doc(hub[1]), policyType=TYPE)
    assert _code(err) == "LimitExceededException"
    described = logs.describe_account_policies(policyType=TYPE)["accountPolicies"]
    assert [(p["policyName"], json.loads(p["policyDocument"]).get("FilterPattern")) for p in described] == [("first", "ERROR")]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"selectionCriteria": "LogGroupNamePrefix /app"}, "selectionCriteria"),
    ({"selectionCriteria": "LogGroupName NOT IN [/a]"}, "selectionCriteria"),
    ({"selectionCriteria": "LogGroupName NOT IN [%s]" % ", ".join(['"%s"' % ("g" * 500)] * 60)}, "25 KB"),
    ({"policyDocument": "{not json"}, "policyDocument"),
    ({"policyDocument": json.dumps({"FilterPattern": ""})}, "DestinationArn"),
    ({"policyDocument": "DOC", "extra": {"Colour": "red"}}, "Colour"),
    ({"policyDocument": "DOC", "extra": {"Distribution": "Sideways"}}, "Distribution"),
    ({"policyDocument": "DOC", "extra": {"FilterPattern": "{ $.a = "}}, "FilterPattern"),
    ({"policyDocument": "DOC", "extra": {"RoleArn": "x" * 31000}}, "30720"),
    ({"policyName": "aws/reserved"}, "aws/"),
])
def test_bad_input_is_rejected_and_nothing_changes(aws_client, hub, region, unique, kwargs, fragment):
    logs = aws_client("logs", account_id=MEMBER, region=region)
    params = {"policyName": "p", "policyDocument": _doc(hub[1]), "policyType": TYPE}
    extra = kwargs.pop("extra", None) if "extra" in kwargs else None
    params.update(kwargs)
    if params["policyDocument"] == "DOC":
        params["policyDocument"] = _doc(hub[1], **extra)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_account_policy(**params)
    assert _code(err) == "InvalidParameterException"
    assert fragment in _message(err)
    assert logs.describe_account_policies(policyType=TYPE)["accountPolicies"] == []


def test_destination_policy_must_allow_put_account_policy(aws_client, unique, kinesis_stream, destination, allow, region, local_aws, read_stream):
    stream = unique("hub")
    arn = kinesis_stream(stream, region=region)
    dest = destination(unique("dest"), arn, allow(MEMBER, actions=("logs:PutSubscriptionFilter",)), region=region)
    logs = aws_client("logs", account_id=MEMBER, region=region)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_account_policy(policyName="p", policyDocument=_doc(dest), policyType=TYPE)
    assert _code(err) == "AccessDeniedException"
    assert _message(err) == "User with accountId: %s is not authorized to perform: logs:PutAccountPolicy on resource: %s" % (MEMBER, dest)
    assert logs.describe_account_policies(policyType=TYPE)["accountPolicies"] == []
    local_aws.flush()
    assert read_stream(stream, region=region) == []


def test_not_allowed_account_is_denied(aws_client, hub, region):
    logs = aws_client("logs", account_id=OUTSIDER, region=region)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_account_policy(policyName="p", policyDocument=_doc(hub[1]), policyType=TYPE)
    assert _code(err) == "AccessDeniedException"
    assert "User with accountId: %s is not authorized to perform: logs:PutAccountPolicy" % OUTSIDER in _message(err)


def test_every_group_not_excluded_is_delivered(aws_client, hub, region, log_group, put_events, read_stream, local_aws):
    stream, dest = hub
    logs = aws_client("logs", account_id=MEMBER, region=region)
    log_group("/app/before", account_id=MEMBER, region=region)
    log_group("/logvault/pipeline", account_id=MEMBER, region=region)
    logs.put_account_policy(policyName="to-central", policyDocument=_doc(dest), policyType=TYPE,
                            selectionCriteria='LogGroupName NOT IN ["/logvault/pipeline"]')
    # A group created after the policy is covered too.
    log_group("/app/after", account_id=MEMBER, region=region)
    for group in ("/app/before", "/logvault/pipeline", "/app/after"):
        put_events(group, ["hello from %s" % group], account_id=MEMBER, region=region)
    local_aws.flush()
    records = read_stream(stream, region=region)
    assert [r["payload"]["messageType"] for r in records].count("CONTROL_MESSAGE") == 1
    data = [r["payload"] for r in records if r["payload"]["messageType"] == "DATA_MESSAGE"]
    assert sorted(p["logGroup"] for p in data) == ["/app/after", "/app/before"]
    for payload in data:
        assert payload["owner"] == MEMBER
        assert payload["subscriptionFilters"] == ["to-central"]
        assert payload["logEvents"][0]["message"] == "hello from %s" % payload["logGroup"]


def test_policy_filter_pattern_applies(aws_client, hub, region, log_group, put_events, read_stream, local_aws):
    stream, dest = hub
    aws_client("logs", account_id=MEMBER, region=region).put_account_policy(
        policyName="errors", policyDocument=_doc(dest, FilterPattern='{ $.level = "error" }'), policyType=TYPE)
    log_group("/app/json", account_id=MEMBER, region=region)
    put_events("/app/json", ['{"level": "info"}', '{"level": "error"}'], account_id=MEMBER, region=region)
    local_aws.flush()
    data = [r["payload"] for r in read_stream(stream, region=region) if r["payload"]["messageType"] == "DATA_MESSAGE"]
    assert [e["message"] for p in data for e in p["logEvents"]] == ['{"level": "error"}']


def test_account_policy_and_group_filters_are_additive(aws_client, hub, region, log_group, put_events, read_stream, local_aws):
    stream, dest = hub
    logs = log_group("/app/both", account_id=MEMBER, region=region)
    logs.put_subscription_filter(logGroupName="/app/both", filterName="group-level", filterPattern="", destinationArn=dest)
    logs.put_account_policy(policyName="account-level", policyDocument=_doc(dest), policyType=TYPE)
    put_events("/app/both", ["twice"], account_id=MEMBER, region=region)
    local_aws.flush()
    data = [r["payload"] for r in read_stream(stream, region=region) if r["payload"]["messageType"] == "DATA_MESSAGE"]
    assert sorted(p["subscriptionFilters"][0] for p in data) == ["account-level", "group-level"]


def test_deleted_policy_stops_delivery(aws_client, hub, region, log_group, put_events, read_stream, local_aws):
    stream, dest = hub
    logs = log_group("/app/stop", account_id=MEMBER, region=region)
    logs.put_account_policy(policyName="p", policyDocument=_doc(dest), policyType=TYPE)
    logs.delete_account_policy(policyName="p", policyType=TYPE)
    put_events("/app/stop", ["after delete"], account_id=MEMBER, region=region)
    local_aws.flush()
    assert [r for r in read_stream(stream, region=region) if r["payload"]["messageType"] == "DATA_MESSAGE"] == []


def test_same_account_stream_policy(aws_client, unique, kinesis_stream, region, log_group, put_events, read_stream, local_aws):
    stream = unique("own")
    arn = kinesis_stream(stream, account_id=MEMBER, region=region)
    logs = log_group("/app/own", account_id=MEMBER, region=region)
    logs.put_account_policy(policyName="own", policyDocument=_doc(arn, RoleArn="arn:aws:iam::%s:role/cwl" % MEMBER), policyType=TYPE)
    put_events("/app/own", ["local"], account_id=MEMBER, region=region)
    local_aws.flush()
    types = [r["payload"]["messageType"] for r in read_stream(stream, account_id=MEMBER, region=region)]
    assert types == ["CONTROL_MESSAGE", "DATA_MESSAGE"]
