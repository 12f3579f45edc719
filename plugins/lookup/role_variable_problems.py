# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: role_variable_problems
short_description: Name the role variables a user misspelled and the account ids YAML did not read as strings
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Every role of this collection runs this lookup first in its preflight, before any AWS call,
    so that errors name what the user wrote.
  - Returns one message per problem (an empty list when there is none).
  - B(Unknown variables.) Every variable visible to the host whose name starts with the role's
    prefix (V(central_account_), V(member_account_), V(stream_alerts_), V(fluentd_),
    V(cloudtrail_)) must be an option of one of the role's entry points in
    C(meta/argument_specs.yml). A misspelled one (for example V(member_account_excluded_log_group))
    would otherwise be silently ignored; the message names it and, when there is one, the
    closest known name.
  - B(Account ids.) Each variable of O(account_ids) that is defined must be a 12-digit string,
    and each of O(account_id_lists) a list of them. YAML reads an unquoted number as an integer
    and one with a leading zero as octal (V(012345670123) becomes V(1402433619)); the message
    names the host and the variable and says to quote it.
options:
  _terms:
    description: The role's variable prefix without the trailing underscore, for example V(member_account).
    type: list
    elements: string
    required: true
  argument_specs:
    description:
      - Path of the role's C(meta/argument_specs.yml).
      - Defaults to C(<role_path>/meta/argument_specs.yml) of the role running the lookup.
    type: path
  account_ids:
    description: Names of variables that hold one AWS account id.
    type: list
    elements: string
    default: []
  account_id_lists:
    description: Names of variables that hold a list of AWS account ids.
    type: list
    elements: string
    default: []
"""

EXAMPLES = r"""
# A fail task whose condition holds the lookup: when all is well the lookup runs once, since
# the message (which runs it again) is templated only when there is a problem. (An assert
# templates its fail_msg even when it passes, so the lookup would run twice on every host.)
- name: Stop unless every member_account_* variable is known and the account id is quoted
  ansible.builtin.fail:
    msg: "member_account (host {{ inventory_hostname }}): {{ _problems | join(' ') }} Nothing was changed."
  when: _problems | length > 0
  vars:
    _problems: "{{ query('logvault.aws.role_variable_problems', 'member_account', account_ids=['logvault_account_id']) }}"
"""

RETURN = r"""
_raw:
  description: One message per problem found; empty when the variables are usable.
  type: list
  elements: string
"""

import difflib
import os
import re

from ansible.errors import AnsibleLookupError
from ansible.module_utils.six import string_types
from ansible.plugins.lookup import LookupBase

ACCOUNT_ID = re.compile(r"^[0-9]{12}$")
QUOTE_HINT = (
    "YAML reads an unquoted number as an integer, and one with a leading zero as octal: "
    'write it in quotes, e.g. %s: "012345678901"'
)


def known_options(specs):
    """Every option name of every entry point of a parsed argument_specs.yml."""
    names = set()
    for entry in ((specs or {}).get("argument_specs") or {}).values():
        names.update(((entry or {}).get("options") or {}).keys())
    return names


def unknown_variables(prefix, names, known):
    """Sorted names starting with ``prefix + '_'`` that are not in ``known``."""
    start = prefix + "_"
    return sorted(n for n in set(names) if n.startswith(start) and n not in known)


def unknown_message(prefix, unknown, known):
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, sorted(k for k in known if k.startswith(prefix + "_")), n=1, cutoff=0.8)
        hints.append("%s (did you mean %s?)" % (name, close[0]) if close else name)
    return (
        "unknown variable(s) %s; the role's variables are listed in its meta/argument_specs.yml "
        "(a misspelled one would be silently ignored)." % ", ".join(hints)
    )


def account_id_message(name, value, is_list=False):
    """A message when ``value`` is not a 12-digit string (or a list of them), else None."""
    values = value if is_list and isinstance(value, (list, tuple)) else [value]
    if is_list and not isinstance(value, (list, tuple)):
        return "%s must be a list of quoted 12-digit account ids, got %r." % (name, value)
    bad = [v for v in values if not (isinstance(v, string_types) and ACCOUNT_ID.match(v))]
    if not bad:
        return None
    # An integer, or the string of one (a playbook may have applied `string`), that is not 12 digits long.
    numbers = [v for v in bad if (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, string_types) and v.isdigit())]
    text = "%s must be %s, got %s" % (
        name,
        "a list of 12-digit strings" if is_list else "a quoted 12-digit string",
        ", ".join(repr(v) if isinstance(v, string_types) else str(v) for v in bad),
    )
    if numbers:
        text += "; " + QUOTE_HINT % name
    return text + "."


class LookupModule(LookupBase):
    def run(self, terms, variables=None, **kwargs):
        if variables is None:
            raise AnsibleLookupError("role_variable_problems: no variables available")
        self.set_options(var_options=variables, direct=kwargs)
        spec_path = self.get_option("argument_specs")
        problems = []
        for prefix in terms:
            if not isinstance(prefix, string_types) or not re.match(r"^[a-z][a-z0-9_]*[a-z0-9]$", prefix):
                raise AnsibleLookupError("role_variable_problems: the term must be a role variable prefix, got %r" % (prefix,))
            path = spec_path or os.path.join(str(variables.get("role_path", "")), "meta", "argument_specs.yml")
            known = known_options(self._load_specs(path))
            unknown = unknown_variables(prefix, variables.keys(), known)
            if unknown:
                problems.append(unknown_message(prefix, unknown, known))
        reported = False
        for names, is_list in ((self.get_option("account_ids"), False), (self.get_option("account_id_lists"), True)):
            for name in names:
                if name not in variables:
                    continue
                raw = variables[name]
                # A variable set from another one by a playbook (logvault_central_account_id:
                # "{{ logvault_account_id }}") repeats its problem: name only what the user wrote.
                derived = isinstance(raw, string_types) and "{{" in raw
                message = account_id_message(name, self._value(raw), is_list)
                if message and not (derived and reported):
                    problems.append(message)
                    reported = reported or not is_list
        return problems

    def _value(self, raw):
        templar = getattr(self, "_templar", None)
        if templar is None:
            return raw
        return templar.template(raw)

    def _load_specs(self, path):
        if not os.path.isfile(path):
            raise AnsibleLookupError("role_variable_problems: %s does not exist (run the lookup inside a role, or set argument_specs)" % path)
        try:
            import yaml  # pylint: disable=import-outside-toplevel
        except ImportError:  # pragma: no cover - ansible-core depends on PyYAML
            raise AnsibleLookupError("role_variable_problems: PyYAML is required")
        # Read once per process and file version; with libyaml's loader when PyYAML has it (the pure-Python
        # loader took about 13 ms for member_account's specs, in every account's worker).
        stat = os.stat(path)
        key = (path, stat.st_mtime_ns, stat.st_size)
        if key not in _SPECS:
            with open(path, encoding="utf-8") as handle:
                try:
                    _SPECS[key] = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader)) or {}
                except yaml.YAMLError as exc:
                    raise AnsibleLookupError("role_variable_problems: %s is not valid YAML: %s" % (path, exc))
        return _SPECS[key]


# Parsed argument_specs files: {(path, mtime_ns, size): specs}.
_SPECS = {}
