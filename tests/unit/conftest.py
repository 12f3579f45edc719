# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Unit tests run moto in this process (``mock_aws``) with stand-in roles created a moment
before use. A few of them also start the local emulator in this process
(``local_aws.server.start``), which installs its patches into moto for the rest of the
process. The emulator's strict defaults (local_aws/settings.py) apply only while an emulator
serves in the process (``settings.SERVING_ONLY``), so the later ``mock_aws`` tests get moto's
own behaviour without any switch set here; a unit test that starts the emulator and needs a
rule off (or on) sets it itself with ``monkeypatch.setenv``
(tests/unit/test_emulator_rules_only_while_serving.py proves it).
"""
