#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Zip a directory so that the same files always give the same bytes.

Usage: deterministic_zip.py SOURCE_DIR DEST_ZIP

Entries are sorted, carry a fixed timestamp (1980-01-01) and mode 0644, and byte-code
caches are left out, so a Lambda deployed from the zip keeps its CodeSha256 until the
source really changes. Prints {"path", "sha256_base64", "files"} as JSON.
"""

from __future__ import absolute_import, division, print_function

import base64
import hashlib
import json
import os
import sys
import zipfile

FIXED_DATE = (1980, 1, 1, 0, 0, 0)


def build(source, dest):
    names = []
    for root, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in files:
            if name.endswith((".pyc", ".pyo")):
                continue
            names.append(os.path.relpath(os.path.join(root, name), source))
    names.sort()
    if not names:
        raise SystemExit("deterministic_zip: %s holds no files" % source)
    tmp = dest + ".tmp"
    with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in names:
            info = zipfile.ZipInfo(name.replace(os.sep, "/"), date_time=FIXED_DATE)
            info.external_attr = 0o100644 << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(os.path.join(source, name), "rb") as handle:
                archive.writestr(info, handle.read())
    os.replace(tmp, dest)
    with open(dest, "rb") as handle:
        digest = base64.b64encode(hashlib.sha256(handle.read()).digest()).decode("ascii")
    return {"path": dest, "sha256_base64": digest, "files": names}


def main(argv):
    if len(argv) != 3:
        raise SystemExit("usage: deterministic_zip.py SOURCE_DIR DEST_ZIP")
    print(json.dumps(build(argv[1], argv[2]), sort_keys=True))


if __name__ == "__main__":
    main(sys.argv)
