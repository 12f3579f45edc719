# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The validate_alert_rules filter."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

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
])
def test_bad_rules_fail_with_the_key_at_fault(validate, rules, fragment):
    with pytest.raises(AnsibleFilterError) as caught:
        validate(rules)
    assert str(caught.value).startswith("validate_alert_rules - ")
    assert fragment in str(caught.value)
