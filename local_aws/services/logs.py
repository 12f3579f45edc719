# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""CloudWatch Logs behaviours added to moto (work in progress: nothing patched yet)."""


def install():
    """Install the CloudWatch Logs patches (none yet)."""
