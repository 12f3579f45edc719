# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the emulator's own tests.

* ``local_aws``: one emulator per test session, on a free port (``.endpoint``,
  ``.flush()``...). Tests share its state, so they name resources with ``unique``.
* ``aws_client``: factory ``aws_client(service, account_id="123456789012",
  region="us-east-1")`` returning a boto3 client acting as that account (other accounts
  through sts:AssumeRole, like on AWS).
* ``unique``: factory of unique resource names.
* ``central_account_id`` / ``member_account_ids``: the accounts the scenario uses.
"""

import importlib
import itertools
import os
import sys
import uuid

import pytest


def _use_the_real_package():
    """This folder is named like the emulator package, and pytest's importlib mode
    registers it as the module ``local_aws`` (an empty namespace) before importing
    this conftest. Replace that stand-in with the real package at the repository root,
    so ``import local_aws`` works here and in every test collected after this folder."""
    repo = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    expected = os.path.join(repo, "local_aws", "__init__.py")
    current = sys.modules.get("local_aws")
    if current is not None and os.path.abspath(getattr(current, "__file__", None) or "") == expected:
        return
    sys.modules.pop("local_aws", None)
    if repo not in sys.path:
        sys.path.insert(0, repo)
    try:
        importlib.import_module("local_aws")
    except ImportError as exc:
        raise pytest.UsageError("the local AWS emulator (local_aws/ at the repository root) cannot be imported: %s" % exc)


_use_the_real_package()

CENTRAL_ACCOUNT = "123456789012"
MEMBER_ACCOUNTS = ("111111111111", "222222222222")
REGION = "us-east-1"


def _server_module():
    try:
        from local_aws import server  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        pytest.fail("the local AWS emulator (local_aws/ at the repository root) cannot be imported: %s" % exc)
    return server


@pytest.fixture(scope="session")
def local_aws():
    emu = _server_module().start(port=0)
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture(scope="session")
def aws_client(local_aws):  # pylint: disable=redefined-outer-name
    import local_aws as package  # pylint: disable=import-outside-toplevel

    cache = {}

    def factory(service, account_id=CENTRAL_ACCOUNT, region=REGION):
        key = (service, account_id, region)
        if key not in cache:
            cache[key] = package.client(service, account_id=account_id, endpoint=local_aws.endpoint, region=region)
        return cache[key]

    return factory


@pytest.fixture()
def unique():
    base = uuid.uuid4().hex[:8]
    counter = itertools.count()

    def factory(prefix="lv"):
        return "%s-%s-%d" % (prefix, base, next(counter))

    return factory


@pytest.fixture(scope="session")
def central_account_id():
    return CENTRAL_ACCOUNT


@pytest.fixture(scope="session")
def member_account_ids():
    return list(MEMBER_ACCOUNTS)
