# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST HELPER shared by the tests of the OpenSearch document modules (ingest pipeline, index
template, index policy): the SigV4-verifying OpenSearch TEST DOUBLE (tests/opensearch_stub),
a fixture that starts it, and a runner for a module against it.

The test double is loaded from its file, so tests/ never goes on sys.path. Import this as
``ansible_collections.logvault.aws.tests.unit.plugins.modules.opensearch_double``.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os

import pytest

from ansible_collections.logvault.aws.tests.unit.plugins.modules.module_runner import run_module

_STUB_PATH = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))),
                          "opensearch_stub", "server.py")
_SPEC = importlib.util.spec_from_file_location("logvault_tests_opensearch_stub", _STUB_PATH)
STUB = importlib.util.module_from_spec(_SPEC)
_SPEC.loader.exec_module(STUB)
start = STUB.start

# The signing identities of the double: a full one, and one that fine-grained access control refuses.
CREDENTIALS = {"testing": "testing", "AKIDREADONLY": "ro"}
READ_ONLY = ["AKIDREADONLY"]
MODULE_DEFAULTS = {"region": "us-east-1", "access_key": "testing", "secret_key": "testing"}


def runner(module_under_test):
    """``run(args, check_mode=False, diff=False)``: the module's result, signed as ``testing``."""
    def run(args, check_mode=False, diff=False):
        return run_module(module_under_test, args, check_mode=check_mode, diff=diff, defaults=MODULE_DEFAULTS)
    return run


def stub_fixture():
    """A fixture that starts the double (no AWS credentials from the environment leak in)."""
    @pytest.fixture
    def stub(monkeypatch):
        for key in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
            monkeypatch.delenv(key, raising=False)
        server = start(dict(CREDENTIALS), fgac_denied=list(READ_ONLY))
        yield server
        server.stop()
    return stub
