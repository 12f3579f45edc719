# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validate_alert_rules filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import re

import pytest
import yaml

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.filter.validate_alert_rules import FilterModule

ROLE_DEFAULTS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))),
                             "roles", "stream_alerts", "defaults", "main.yml")


@pytest.fixture
def validate():
    return FilterModule().filters()["validate_alert_rules"]


def test_a_minimal_rule_is_normalised(validate):
    assert validate([{"name": "root", "match": {"filter_pattern": '{ $.userIdentity.type = "Root" }'}}]) == [{
        "name": "root", "description": "", "severity": "medium",
        "match": {"accounts": [], "log_groups": [], "filter_pattern": '{ $.userIdentity.type = "Root" }'},
        "threshold": None, "suppress_for": 0}]


def test_a_full_rule_keeps_its_values(validate):
    rule = {"name": "burst.1", "description": "d", "severity": "critical", "suppress_for": "600",
            "match": {"accounts": ["222222222222", 111111111111, "222222222222"], "log_groups": ["/app/*"], "filter_pattern": "ERROR"},
            "threshold": {"count": 10, "window_seconds": 60, "group_by": "$.userIdentity.arn"}}
    [out] = validate([rule])
    assert out["match"]["accounts"] == ["111111111111", "222222222222"]
    assert out["threshold"] == {"count": 10, "window_seconds": 60, "group_by": "$.userIdentity.arn"}
    assert out["suppress_for"] == 600
    assert validate([{"name": "t", "threshold": {"count": 2}}])[0]["threshold"] == {"count": 2, "window_seconds": 300, "group_by": "log_group"}


def test_every_cis_default_rule_is_valid(validate):
    with open(ROLE_DEFAULTS, encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)["stream_alerts_cis_rules"]
    assert [r["name"] for r in validate(rules)] == [r["name"] for r in rules]


@pytest.mark.parametrize("pattern,position", [
    ('{ $.eventName = "x" && }', 23),
    ("{ $.a = 1 ", 10),
    ('[ip, user, status = 4*', None),
    ('"unterminated', 0),
])
def test_an_invalid_pattern_names_the_rule_and_the_position(validate, pattern, position):
    with pytest.raises(AnsibleFilterError) as caught:
        validate([{"name": "ok", "match": {"filter_pattern": "x"}}, {"name": "bad", "match": {"filter_pattern": pattern}}])
    message = str(caught.value)
    assert message.startswith("validate_alert_rules - rule 'bad' (rules[1]) match.filter_pattern is not valid at position ")
    reported = int(message.split("at position ")[1].split(":")[0])
    if position is not None:
        assert reported == position
    assert 0 <= reported <= len(pattern)
    assert message.endswith("%s\n%s^" % (pattern, " " * reported))


@pytest.mark.parametrize("rules,fragment", [
    ("not a list", "the input must be a list of rules"),
    (["x"], "rules[0] must be a dict"),
    ([{"name": "has space"}], "rules[0] name must be"),
    ([{"name": "a"}, {"name": "a"}], "rule 'a' (rules[1]) has the same name as rules[0]"),
    ([{"name": "a", "colour": "red"}], "rule 'a' (rules[0]) has unknown keys colour"),
    ([{"name": "a", "severity": "urgent"}], "severity must be one of informational, low, medium, high, critical"),
    ([{"name": "a", "match": "ERROR"}], "match must be a dict"),
    ([{"name": "a", "match": {"pattern": "x"}}], "match has unknown keys pattern"),
    ([{"name": "a", "match": {"accounts": ["12345"]}}], "match.accounts must hold 12-digit account ids"),
    ([{"name": "a", "match": {"accounts": "111111111111"}}], "match.accounts must be a list"),
    ([{"name": "a", "match": {"log_groups": [""]}}], "match.log_groups must hold non-empty"),
    ([{"name": "a", "match": {"filter_pattern": 5}}], "match.filter_pattern must be a string"),
    ([{"name": "a", "threshold": {"window_seconds": 60}}], "threshold.count is required"),
    ([{"name": "a", "threshold": {"count": 0}}], "threshold.count must be between 1 and 1000000"),
    ([{"name": "a", "threshold": {"count": True}}], "threshold.count must be an integer"),
    ([{"name": "a", "threshold": {"count": 1, "window_seconds": 10}}], "threshold.window_seconds must be between 60 and 86400"),
    ([{"name": "a", "threshold": {"count": 1, "group_by": "$.a b"}}], "threshold.group_by must be account, log_group or a JSON field path"),
    ([{"name": "a", "threshold": {"count": 1, "per": "x"}}], "threshold has unknown keys per"),
    ([{"name": "a", "suppress_for": -1}], "suppress_for must be between 0 and 604800"),
    ([{"name": "a", "suppress_for": "soon"}], "suppress_for must be an integer"),
    ([{"name": "a", "tests": ["x"]}], "rule 'a' (rules[0]) tests must be a dict with match and no_match"),
    ([{"name": "a", "tests": {"matches": ["x"]}}], "tests has unknown keys matches (allowed: match, no_match)"),
    ([{"name": "a", "tests": {"match": "x"}}], "tests.match must be a list"),
    ([{"name": "a", "tests": {"no_match": ["ok", 5]}}], "tests.no_match[1] must be a log event message (a string) or a JSON event"),
])
def test_bad_rules_fail_with_the_key_at_fault(validate, rules, fragment):
    with pytest.raises(AnsibleFilterError) as caught:
        validate(rules)
    assert str(caught.value).startswith("validate_alert_rules - ")
    assert fragment in str(caught.value)


# ----------------------------------------------------------------------------------- rule tests
def _cis_rules():
    with open(ROLE_DEFAULTS, encoding="utf-8") as handle:
        return yaml.safe_load(handle)["stream_alerts_cis_rules"]


def test_passing_tests_are_run_and_left_out_of_the_rules(validate):
    rule = {"name": "root", "match": {"filter_pattern": '{ $.userIdentity.type = "Root" }'},
            "tests": {"match": [{"userIdentity": {"type": "Root"}}, '{"userIdentity": {"type": "Root"}}'],
                      "no_match": [{"userIdentity": {"type": "IAMUser"}}, "plain text", {}]}}
    [out] = validate([rule])
    assert "tests" not in out
    assert out == validate([{"name": "root", "match": rule["match"]}])[0]
    assert validate([{"name": "t", "tests": {"match": [], "no_match": None}}])[0]["name"] == "t"


def test_a_failing_test_names_the_rule_the_test_and_the_event(validate):
    rules = [{"name": "ok", "match": {"filter_pattern": "ERROR"}, "tests": {"match": ["an ERROR"]}},
             {"name": "root", "match": {"filter_pattern": '{ $.userIdentity.type = "Root" }'},
              "tests": {"match": [{"userIdentity": {"type": "Root"}}, {"userIdentity": {"type": "root"}}],
                        "no_match": [{"eventName": "x", "userIdentity": {"type": "Root"}}]}}]
    with pytest.raises(AnsibleFilterError) as caught:
        validate(rules)
    lines = str(caught.value).split("\n")
    assert lines == [
        "validate_alert_rules - 2 rule test event(s) failed; nothing was changed:",
        "rule 'root' (rules[1]) tests.match[1] does not fire the rule but must: {\"userIdentity\":{\"type\":\"root\"}}",
        "rule 'root' (rules[1]) tests.no_match[0] fires the rule but must not: {\"eventName\":\"x\",\"userIdentity\":{\"type\":\"Root\"}}",
    ]


def test_string_events_are_messages_and_dicts_are_one_line_of_json(validate):
    # A phrase of compact JSON: a dict event is written without spaces, as CloudTrail writes a record.
    rule = {"name": "phrase", "match": {"filter_pattern": '"\\"eventName\\":\\"ConsoleLogin\\""'},
            "tests": {"match": [{"eventName": "ConsoleLogin"}, '{"eventName":"ConsoleLogin"}'],
                      "no_match": ['{"eventName": "ConsoleLogin"}']}}
    assert validate([rule])[0]["name"] == "phrase"


def test_long_events_are_cut_in_the_message(validate):
    with pytest.raises(AnsibleFilterError) as caught:
        validate([{"name": "big", "match": {"filter_pattern": "NEVER"}, "tests": {"match": ["x" * 5000]}}])
    assert str(caught.value).endswith(": " + "x" * 600 + "...")


def test_every_cis_rule_ships_tests_in_both_directions_and_passes_them(validate):
    rules = _cis_rules()
    for rule in rules:
        assert rule["tests"]["match"], rule["name"]
        assert rule["tests"]["no_match"], rule["name"]
        for event in rule["tests"]["match"] + rule["tests"]["no_match"]:
            # Written from CloudTrail records (record contents of the CloudTrail user guide).
            assert {"eventVersion", "userIdentity", "eventTime", "eventSource", "eventName", "awsRegion",
                    "sourceIPAddress", "eventType", "recipientAccountId"} <= set(event), rule["name"]
    assert len(validate(rules)) == 15


@pytest.mark.parametrize("name", [rule["name"] for rule in _cis_rules()])
def test_the_cis_rule_tests_fail_when_the_pattern_is_wrong(validate, name):
    rules = _cis_rules()
    rule = next(rule for rule in rules if rule["name"] == name)
    for pattern, failing in (("", "tests.no_match[0] fires the rule but must not"),
                             ("{ $.noSuchField = 1 }", "tests.match[0] does not fire the rule but must")):
        rule["match"]["filter_pattern"] = pattern
        with pytest.raises(AnsibleFilterError) as caught:
            validate(rules)
        assert "rule '%s' (rules[%d]) %s" % (name, rules.index(rule), failing) in str(caught.value)


def test_iam_policy_changes_without_security_hubs_event_source_fails_on_an_organizations_scp(validate):
    rules = _cis_rules()
    rule = next(rule for rule in rules if rule["name"] == "iam_policy_changes")
    pattern = rule["match"]["filter_pattern"]
    prefix = "{($.eventSource=iam.amazonaws.com) && ("
    assert pattern.startswith(prefix) and pattern.endswith(")}")
    # CIS v1.2.0's wording, without the eventSource clause (what the role had before).
    rule["match"]["filter_pattern"] = "{" + pattern[len(prefix):-2] + "}"
    with pytest.raises(AnsibleFilterError) as caught:
        validate(rules)
    message = str(caught.value)
    assert "rule 'iam_policy_changes' (rules[3]) tests.no_match[0] fires the rule but must not: " in message
    assert '"eventSource":"organizations.amazonaws.com","eventName":"CreatePolicy"' in message
    assert message.count("\n") == 1


# AWS Security Hub's filter patterns, as the Security Hub user guide prints them for each control
# (https://docs.aws.amazon.com/securityhub/latest/userguide/cloudwatch-controls.html).
SECURITY_HUB = {
    "CloudWatch.1": '{$.userIdentity.type="Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType !="AwsServiceEvent"}',
    "CloudWatch.3": '{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && '
                    '($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }',
    "CloudWatch.4": "{($.eventSource=iam.amazonaws.com) && (($.eventName=DeleteGroupPolicy) || ($.eventName=DeleteRolePolicy) || "
                    "($.eventName=DeleteUserPolicy) || ($.eventName=PutGroupPolicy) || ($.eventName=PutRolePolicy) || "
                    "($.eventName=PutUserPolicy) || ($.eventName=CreatePolicy) || ($.eventName=DeletePolicy) || "
                    "($.eventName=CreatePolicyVersion) || ($.eventName=DeletePolicyVersion) || ($.eventName=AttachRolePolicy) || "
                    "($.eventName=DetachRolePolicy) || ($.eventName=AttachUserPolicy) || ($.eventName=DetachUserPolicy) || "
                    "($.eventName=AttachGroupPolicy) || ($.eventName=DetachGroupPolicy))}",
    "CloudWatch.5": "{($.eventName=CreateTrail) || ($.eventName=UpdateTrail) || ($.eventName=DeleteTrail) || "
                    "($.eventName=StartLogging) || ($.eventName=StopLogging)}",
    "CloudWatch.6": '{($.eventName=ConsoleLogin) && ($.errorMessage="Failed authentication")}',
    "CloudWatch.7": "{($.eventSource=kms.amazonaws.com) && (($.eventName=DisableKey) || ($.eventName=ScheduleKeyDeletion))}",
    "CloudWatch.8": "{($.eventSource=s3.amazonaws.com) && (($.eventName=PutBucketAcl) || ($.eventName=PutBucketPolicy) || "
                    "($.eventName=PutBucketCors) || ($.eventName=PutBucketLifecycle) || ($.eventName=PutBucketReplication) || "
                    "($.eventName=DeleteBucketPolicy) || ($.eventName=DeleteBucketCors) || ($.eventName=DeleteBucketLifecycle) || "
                    "($.eventName=DeleteBucketReplication))}",
    "CloudWatch.9": "{($.eventSource=config.amazonaws.com) && (($.eventName=StopConfigurationRecorder) || "
                    "($.eventName=DeleteDeliveryChannel) || ($.eventName=PutDeliveryChannel) || ($.eventName=PutConfigurationRecorder))}",
    "CloudWatch.10": "{($.eventName=AuthorizeSecurityGroupIngress) || ($.eventName=AuthorizeSecurityGroupEgress) || "
                     "($.eventName=RevokeSecurityGroupIngress) || ($.eventName=RevokeSecurityGroupEgress) || "
                     "($.eventName=CreateSecurityGroup) || ($.eventName=DeleteSecurityGroup)}",
    "CloudWatch.11": "{($.eventName=CreateNetworkAcl) || ($.eventName=CreateNetworkAclEntry) || ($.eventName=DeleteNetworkAcl) || "
                     "($.eventName=DeleteNetworkAclEntry) || ($.eventName=ReplaceNetworkAclEntry) || "
                     "($.eventName=ReplaceNetworkAclAssociation)}",
    "CloudWatch.12": "{($.eventName=CreateCustomerGateway) || ($.eventName=DeleteCustomerGateway) || "
                     "($.eventName=AttachInternetGateway) || ($.eventName=CreateInternetGateway) || "
                     "($.eventName=DeleteInternetGateway) || ($.eventName=DetachInternetGateway)}",
    "CloudWatch.13": "{($.eventSource=ec2.amazonaws.com) && (($.eventName=CreateRoute) || ($.eventName=CreateRouteTable) || "
                     "($.eventName=ReplaceRoute) || ($.eventName=ReplaceRouteTableAssociation) || ($.eventName=DeleteRouteTable) || "
                     "($.eventName=DeleteRoute) || ($.eventName=DisassociateRouteTable))}",
    "CloudWatch.14": "{($.eventName=CreateVpc) || ($.eventName=DeleteVpc) || ($.eventName=ModifyVpcAttribute) || "
                     "($.eventName=AcceptVpcPeeringConnection) || ($.eventName=CreateVpcPeeringConnection) || "
                     "($.eventName=DeleteVpcPeeringConnection) || ($.eventName=RejectVpcPeeringConnection) || "
                     "($.eventName=AttachClassicLinkVpc) || ($.eventName=DetachClassicLinkVpc) || "
                     "($.eventName=DisableVpcClassicLink) || ($.eventName=EnableVpcClassicLink)}",
}


def test_every_cis_rule_names_its_source_and_security_hub_rules_use_its_words():
    sources = {}
    for rule in _cis_rules():
        control = re.match(r"^CIS 4\.\d+ / (CloudWatch\.\d+), Security Hub's pattern: ", rule["description"])
        if control:
            sources[control.group(1)] = rule["name"]
            assert rule["match"]["filter_pattern"] == SECURITY_HUB[control.group(1)], rule["name"]
        else:
            assert re.match(r"^CIS 4\.\d+, (CIS v3\.0\.0's pattern|the CIS pattern) ", rule["description"]), rule["name"]
    assert sorted(sources) == sorted(SECURITY_HUB)
    assert sources["CloudWatch.4"] == "iam_policy_changes"
    wording = {rule["name"]: rule["description"] for rule in _cis_rules()}
    assert wording["unauthorized_api_calls"].startswith("CIS 4.1, CIS v3.0.0's pattern ")
    assert "not Security Hub CloudWatch.2's" in wording["unauthorized_api_calls"]
    assert wording["organizations_changes"].startswith("CIS 4.15, the CIS pattern (no Security Hub control): ")


def test_outputs_are_kept_without_duplicates_and_checked_against_the_known_outputs(validate):
    rule = {"name": "root", "match": {"filter_pattern": "ERROR"}, "outputs": ["pager", "default", "pager"]}
    assert validate([rule], outputs=["default", "pager"])[0]["outputs"] == ["pager", "default"]
    assert "outputs" not in validate([{"name": "plain", "match": {"filter_pattern": "ERROR"}}])[0]
    with pytest.raises(AnsibleFilterError, match=r"rule 'root' \(rules\[0\]\) outputs names 'pager', which is not an output "
                                                 r"\(the outputs are default\)"):
        validate([rule], outputs=["default"])
    with pytest.raises(AnsibleFilterError, match=r"outputs must be a list"):
        validate([dict(rule, outputs="pager")])
    with pytest.raises(AnsibleFilterError, match=r"outputs must hold output names"):
        validate([dict(rule, outputs=["no spaces"])])
