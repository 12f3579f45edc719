# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Make the working tree importable as ``ansible_collections.logvault.aws``.

``ansible_collections`` is a namespace package: the venv's site-packages holds
amazon.aws, community.aws and community.general, and build/pytest-root holds a
symlink ``ansible_collections/logvault/aws`` to this repository, so unit tests always
import the code being edited (never a stale installed copy).
"""

import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PYTEST_ROOT = os.path.join(REPO, "build", "pytest-root")
LINK = os.path.join(PYTEST_ROOT, "ansible_collections", "logvault", "aws")


def _link_collection():
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    if os.path.islink(LINK) and os.path.realpath(LINK) == os.path.realpath(REPO):
        return
    if os.path.lexists(LINK):
        os.remove(LINK)
    os.symlink(REPO, LINK)


_link_collection()
for path in (PYTEST_ROOT, REPO):
    if path not in sys.path:
        sys.path.insert(0, path)

# tests/local_aws has the same name as the emulator package at the repository root;
# import the real package first so that no test folder can shadow it.
import local_aws  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

# Property tests (hypothesis) run derandomized by default, so a CI run and a local
# run draw the same examples and a red build is reproducible. Set
# HYPOTHESIS_PROFILE=explore to draw fresh random examples while developing.
from hypothesis import settings as _hypothesis_settings  # noqa: E402  pylint: disable=wrong-import-position

_hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
_hypothesis_settings.register_profile("explore", derandomize=False, print_blob=True)
_hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
