# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every relative link in README.md, docs/ and the role READMEs points at a file that exists."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import glob
import os
import re

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


def _documents():
    docs = [os.path.join(ROOT, "README.md")]
    docs += glob.glob(os.path.join(ROOT, "docs", "*.md"))
    docs += glob.glob(os.path.join(ROOT, "roles", "*", "README.md"))
    return sorted(docs)


@pytest.mark.parametrize("document", _documents(), ids=lambda p: os.path.relpath(p, ROOT))
def test_relative_links_resolve(document):
    with open(document, encoding="utf-8") as handle:
        text = handle.read()
    broken = []
    for target in LINK.findall(text):
        if re.match(r"^[a-z]+:", target):
            continue
        if not os.path.exists(os.path.normpath(os.path.join(os.path.dirname(document), target))):
            broken.append(target)
    assert broken == [], "%s links to missing files: %s" % (os.path.relpath(document, ROOT), broken)


def test_readme_starts_with_the_two_commands():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as handle:
        head = handle.read().split("## ", 1)[0]
    assert "make demo" in head and "make test" in head
