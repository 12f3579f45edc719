# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests run moto in this process (``mock_aws``) with stand-in roles created a moment
before use. A few of them also start the local emulator in this process
(``local_aws.server.start``), which installs its patches into moto for the rest of the
process. With the emulator's strict defaults (local_aws/settings.py) those patches would
then refuse the later tests' stand-in roles (IAM propagation, trust, service-role and key
policies), and the modules under test would retry for minutes. So the unit layer runs with
the switchable rules OFF, as the emulator's feature tests do (tests/local_aws/conftest.py);
a test of a rule turns it on itself with ``monkeypatch.setenv``. Everything that runs the
collection against the emulator (integration, molecule, ``make demo``, ``make chaos``)
keeps the strict defaults.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

UNIT_TEST_SWITCHES = {
    "LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "0",
    "LOGVAULT_AWS_TRUST_POLICIES": "0",
    "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS": "0",
    "LOGVAULT_AWS_SERVICE_ROLE_POLICIES": "0",
    "LOGVAULT_AWS_KMS_KEY_POLICIES": "0",
    "LOGVAULT_AWS_RESOURCE_POLICIES": "0",
}


@pytest.fixture(scope="session", autouse=True)
def _strictness_off_for_unit_tests():
    with pytest.MonkeyPatch.context() as patch:
        for name, value in UNIT_TEST_SWITCHES.items():
            patch.setenv(name, value)
        yield
