# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Run a module's main() in-process and return its result; shared by the module tests.

Import it as ``ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner``
(tests/conftest.py links the working tree there).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

from unittest import mock

import pytest

from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

REGION = "us-east-1"


class ModuleExit(Exception):
    """Raised instead of exit_json/fail_json; args[0] is the result dict."""


def run_module(module, args, check_mode=False, diff=False, defaults=None):
    """Run ``module.main()`` with ``args``; return its result dict (``failed`` set on failure).

    ``defaults`` fills options the test did not give (for example the region).
    """
    args = dict(args)
    for key, value in (defaults or {}).items():
        args.setdefault(key, value)
    args["_ansible_check_mode"] = check_mode
    args["_ansible_diff"] = diff

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs)

    def fail_json(self, **kwargs):
        kwargs["failed"] = True
        raise ModuleExit(kwargs)

    with patch_module_args(args), mock.patch.object(basic.AnsibleModule, "exit_json", exit_json), \
            mock.patch.object(basic.AnsibleModule, "fail_json", fail_json):
        with pytest.raises(ModuleExit) as info:
            module.main()
    return info.value.args[0]


def set_test_credentials(monkeypatch, region=REGION):
    """Fake credentials and region for moto or a Stubber; no profile, token or endpoint leaks in."""
    for key, value in (("AWS_ACCESS_KEY_ID", "testing"), ("AWS_SECRET_ACCESS_KEY", "testing"), ("AWS_DEFAULT_REGION", region)):
        monkeypatch.setenv(key, value)
    for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(key, raising=False)
