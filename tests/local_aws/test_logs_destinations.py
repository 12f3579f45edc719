# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""PutSubscriptionFilter onto CloudWatch Logs destinations: access policy evaluation."""

import botocore.exceptions
import pytest

CENTRAL, MEMBER, OUTSIDER = "123456789012", "111111111111", "222222222222"


def _denied_message(account, destination_arn, action="logs:PutSubscriptionFilter"):
    return "User with accountId: %s is not authorized to perform: %s on resource: %s" % (account, action, destination_arn)


@pytest.fixture()
def target(unique, kinesis_stream):
    name = unique("hub")
    return name, kinesis_stream(name)


def _subscribe(logs, group, destination_arn, **extra):
    return logs.put_subscription_filter(logGroupName=group, filterName="central", filterPattern="",
                                        destinationArn=destination_arn, **extra)


def _error(excinfo):
    return excinfo.value.response["Error"]["Code"], excinfo.value.response["Error"]["Message"]


@pytest.mark.parametrize("principal", [
    MEMBER,
    "arn:aws:iam::%s:root" % MEMBER,
    [OUTSIDER, "arn:aws:iam::%s:root" % MEMBER],
])
def test_account_principal_forms_are_allowed(unique, target, destination, log_group, principal):
    arn = destination(unique("dest"), target[1], lambda a: {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": principal}, "Action": "logs:PutSubscriptionFilter", "Resource": a}]})
    group = unique("/g")
    logs = log_group(group, account_id=MEMBER)
    _subscribe(logs, group, arn)
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"][0]["destinationArn"] == arn


def test_account_not_in_policy_is_denied_and_nothing_changes(unique, target, destination, allow, log_group, read_stream, local_aws):
    arn = destination(unique("dest"), target[1], allow(MEMBER))
    group = unique("/g")
    logs = log_group(group, account_id=OUTSIDER)
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(logs, group, arn)
    assert _error(err) == ("AccessDeniedException", _denied_message(OUTSIDER, arn))
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"] == []
    local_aws.flush()
    assert read_stream(target[0]) == []  # not even a control message


def test_destination_without_policy_denies_everyone_even_its_own_account(unique, target, destination, log_group):
    arn = destination(unique("dest"), target[1], policy=None)
    for account in (CENTRAL, MEMBER):
        group = unique("/g")
        logs = log_group(group, account_id=account)
        with pytest.raises(botocore.exceptions.ClientError) as err:
            _subscribe(logs, group, arn)
        assert _error(err) == ("AccessDeniedException", _denied_message(account, arn))


def test_same_account_allowed_by_policy(unique, target, destination, allow, log_group):
    arn = destination(unique("dest"), target[1], allow(CENTRAL))
    group = unique("/g")
    logs = log_group(group, account_id=CENTRAL)
    _subscribe(logs, group, arn)
    assert len(logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]) == 1


def test_policy_for_another_action_does_not_allow_subscriptions(unique, target, destination, allow, log_group):
    arn = destination(unique("dest"), target[1], allow(MEMBER, actions=("logs:PutAccountPolicy",)))
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=MEMBER), group, arn)
    assert _error(err) == ("AccessDeniedException", _denied_message(MEMBER, arn))


def test_wildcard_action_allows(unique, target, destination, allow, log_group):
    arn = destination(unique("dest"), target[1], allow(MEMBER, actions=("logs:*",)))
    group = unique("/g")
    _subscribe(log_group(group, account_id=MEMBER), group, arn)


def test_explicit_deny_wins(unique, target, destination, log_group):
    arn = destination(unique("dest"), target[1], lambda a: {"Statement": [
        {"Effect": "Allow", "Principal": "*", "Action": "logs:PutSubscriptionFilter", "Resource": a},
        {"Effect": "Deny", "Principal": {"AWS": MEMBER}, "Action": "logs:PutSubscriptionFilter", "Resource": a},
    ]})
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=MEMBER), group, arn)
    assert _error(err) == ("AccessDeniedException", _denied_message(MEMBER, arn))
    other = unique("/g")
    _subscribe(log_group(other, account_id=OUTSIDER), other, arn)


def test_policy_for_another_resource_does_not_allow(unique, target, destination, log_group):
    arn = destination(unique("dest"), target[1], lambda a: {"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": MEMBER}, "Action": "logs:PutSubscriptionFilter", "Resource": a + "-other"}]})
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=MEMBER), group, arn)
    assert _error(err)[0] == "AccessDeniedException"


def test_missing_destination_is_denied(unique, log_group):
    arn = "arn:aws:logs:us-east-1:%s:destination:%s" % (CENTRAL, unique("nothing"))
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=MEMBER), group, arn)
    assert _error(err) == ("AccessDeniedException", _denied_message(MEMBER, arn))


def test_destination_in_another_region_is_rejected(unique, kinesis_stream, destination, allow, log_group):
    stream = kinesis_stream(unique("hub"), region="eu-west-1")
    arn = destination(unique("dest"), stream, allow(MEMBER), region="eu-west-1")
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=MEMBER), group, arn)
    code, message = _error(err)
    assert code == "InvalidParameterException"
    assert "same region" in message


def _organization(aws_client):
    org = aws_client("organizations")
    try:
        return org.create_organization(FeatureSet="ALL")["Organization"]["Id"]
    except org.exceptions.AlreadyInOrganizationException:
        return org.describe_organization()["Organization"]["Id"]


def test_organization_condition(unique, aws_client, target, destination, log_group):
    org_id = _organization(aws_client)
    status = aws_client("organizations").create_account(Email="%s@example.com" % unique("acct"), AccountName=unique("member"))
    joined = status["CreateAccountStatus"]["AccountId"]
    arn = destination(unique("dest"), target[1], lambda a: {"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "logs:PutSubscriptionFilter", "Resource": a,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": [org_id]}}}]})
    role = "arn:aws:iam::%s:role/CWLtoSubscriptionFilterRole" % joined

    group = unique("/g")
    logs = log_group(group, account_id=joined)
    # AWS requires a role when the destination grants access to an organization.
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(logs, group, arn)
    assert _error(err) == ("InvalidParameterException",
                           "Role ARN is required when creating subscription filter against destination with Organization access policy")
    _subscribe(logs, group, arn, roleArn=role)
    assert logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"][0]["roleArn"] == role

    # An account outside the organization is denied.
    outside = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(outside, account_id=OUTSIDER), outside, arn, roleArn="arn:aws:iam::%s:role/r" % OUTSIDER)
    assert _error(err) == ("AccessDeniedException", _denied_message(OUTSIDER, arn))


def test_organization_condition_with_another_org_id_denies(unique, aws_client, target, destination, log_group):
    _organization(aws_client)
    arn = destination(unique("dest"), target[1], lambda a: {"Statement": [{
        "Effect": "Allow", "Principal": "*", "Action": "logs:PutSubscriptionFilter", "Resource": a,
        "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-doesnotexist"}}}]})
    group = unique("/g")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        _subscribe(log_group(group, account_id=CENTRAL), group, arn, roleArn="arn:aws:iam::%s:role/r" % CENTRAL)
    assert _error(err)[0] == "AccessDeniedException"


def test_two_filters_per_group_and_updates(unique, target, destination, allow, log_group):
    arn = destination(unique("dest"), target[1], allow(MEMBER))
    group = unique("/g")
    logs = log_group(group, account_id=MEMBER)
    logs.put_subscription_filter(logGroupName=group, filterName="a", filterPattern="", destinationArn=arn)
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="", destinationArn=arn)
    # Updating one of the two is allowed (moto raised LimitExceededException here).
    logs.put_subscription_filter(logGroupName=group, filterName="b", filterPattern="", destinationArn=arn, distribution="Random")
    with pytest.raises(botocore.exceptions.ClientError) as err:
        logs.put_subscription_filter(logGroupName=group, filterName="c", filterPattern="", destinationArn=arn)
    assert _error(err)[0] == "LimitExceededException"
    filters = {f["filterName"]: f for f in logs.describe_subscription_filters(logGroupName=group)["subscriptionFilters"]}
    assert sorted(filters) == ["a", "b"]
    assert filters["a"]["distribution"] == "ByLogStream"
    assert filters["b"]["distribution"] == "Random"
