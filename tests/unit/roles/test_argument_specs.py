# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every role default is documented in meta/argument_specs.yml, with the same default."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os

import pytest
import yaml

ROLES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))), "roles")


def _roles():
    if not os.path.isdir(ROLES):
        return []
    return sorted(r for r in os.listdir(ROLES) if os.path.isdir(os.path.join(ROLES, r, "tasks")))


def _load(role, *parts):
    path = os.path.join(ROLES, role, *parts)
    if not os.path.isfile(path):
        return None
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def test_there_are_roles_to_check():
    assert _roles(), "no roles found under %s" % ROLES


@pytest.mark.parametrize("role", _roles())
def test_every_default_is_documented_with_the_same_value(role):
    defaults = _load(role, "defaults", "main.yml") or {}
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs is not None, "roles/%s has no meta/argument_specs.yml" % role
    options = specs["argument_specs"]["main"]["options"]
    undocumented = sorted(set(defaults) - set(options))
    assert undocumented == [], "roles/%s defaults not in argument_specs: %s" % (role, undocumented)
    for name, value in defaults.items():
        assert "default" in options[name], "roles/%s: %s has no default in argument_specs" % (role, name)
        assert options[name]["default"] == value, "roles/%s: %s default differs" % (role, name)


@pytest.mark.parametrize("role", _roles())
def test_every_option_has_a_description_and_a_type(role):
    specs = _load(role, "meta", "argument_specs.yml")
    assert specs is not None, "roles/%s has no meta/argument_specs.yml" % role
    for entry, spec in specs["argument_specs"].items():
        assert spec.get("short_description"), "roles/%s %s: no short_description" % (role, entry)
        for name, option in spec.get("options", {}).items():
            assert option.get("description"), "roles/%s %s: %s has no description" % (role, entry, name)
            assert option.get("type"), "roles/%s %s: %s has no type" % (role, entry, name)


@pytest.mark.parametrize("role", _roles())
def test_public_variables_use_the_role_prefix(role):
    defaults = _load(role, "defaults", "main.yml") or {}
    wrong = [v for v in defaults if not (v.startswith(role + "_") or v.startswith("logvault_"))]
    assert wrong == [], "roles/%s: public variables must start with %s_ or logvault_: %s" % (role, role, wrong)
