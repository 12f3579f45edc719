# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Deterministic Lambda zips: the same files always give the same bytes (and CodeSha256).

Used by the lambda_package module (which writes the zip to a file) and by modules that deploy
a function from a source directory (which zip it in memory): see lambda_package's documentation
for the rules (sorted entries, fixed timestamp, 0644/0755, deflate, no byte code).
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import base64
import hashlib
import io
import os
import posixpath
import zipfile

from ansible.module_utils.six import string_types

FIXED_DATE = (1980, 1, 1, 0, 0, 0)
FILE_MODE = 0o100644  # regular file, rw-r--r--
EXEC_MODE = 0o100755  # regular file, rwxr-xr-x: the source has an execute bit
SKIPPED_DIRS = ("__pycache__",)
SKIPPED_SUFFIXES = (".pyc", ".pyo")


class PackageError(Exception):
    """Bad input; the message names the parameter."""


def _archive_name(name, param):
    """Normalise a path inside the zip to forward slashes; refuse absolute paths and '..'."""
    name = name.replace(os.sep, "/").strip()
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        raise PackageError("%s: %r must be a relative path inside the zip" % (param, name))
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise PackageError("%s: %r must not contain '..'" % (param, name))
    return "/".join(parts)


def _walk(directory):
    """Files below ``directory`` as (relative path with '/', absolute path), byte code left out."""
    found = []
    for root, dirs, files in os.walk(directory):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in files:
            if name.endswith(SKIPPED_SUFFIXES):
                continue
            path = os.path.join(root, name)
            found.append((os.path.relpath(path, directory).replace(os.sep, "/"), path))
    return found


def collect(src):
    """Map every path in the zip to the file it comes from; raise PackageError on bad input."""
    if isinstance(src, string_types):
        if not src.strip():
            raise PackageError("src: must not be empty")
        entries = [{"src": src, "dest": ""}]
        directory_only = True
    elif isinstance(src, list):
        if not src:
            raise PackageError("src: the list must not be empty")
        entries = src
        directory_only = False
    else:
        raise PackageError("src: must be a directory path or a list of {src, dest} dicts, got %s" % type(src).__name__)

    members = {}
    for index, entry in enumerate(entries):
        param = "src" if directory_only else "src[%d]" % index
        if not isinstance(entry, dict):
            raise PackageError("%s: must be a dict with the keys src and dest, got %s" % (param, type(entry).__name__))
        unknown = sorted(set(entry) - set(("src", "dest")))
        if unknown:
            raise PackageError("%s: unknown keys %s (allowed: src, dest)" % (param, ", ".join(unknown)))
        source = entry.get("src")
        if not isinstance(source, string_types) or not source.strip():
            raise PackageError("%s.src: must be a non-empty path" % param if not directory_only else "src: must not be empty")
        source = os.path.abspath(source)
        dest = entry.get("dest")
        if dest is not None and not isinstance(dest, string_types):
            raise PackageError("%s.dest: must be a string" % param)
        label = param if directory_only else "%s.src" % param

        if os.path.isdir(source):
            prefix = _archive_name(dest or "", "%s.dest" % param)
            found = _walk(source)
            if not found:
                raise PackageError("%s: %s holds no files to package" % (label, source))
            pairs = [(posixpath.join(prefix, rel) if prefix else rel, path) for rel, path in found]
        elif os.path.isfile(source):
            if directory_only:
                raise PackageError("src: %s is a file; give a directory, or a list of {src, dest} dicts" % source)
            name = _archive_name(dest or os.path.basename(source), "%s.dest" % param)
            if not name:
                raise PackageError("%s.dest: must name a file inside the zip" % param)
            pairs = [(name, source)]
        else:
            raise PackageError("%s: %s does not exist" % (label, source))

        for name, path in pairs:
            if name in members:
                raise PackageError("%s: %s would be stored as %s, which %s already fills" % (label, path, name, members[name]))
            members[name] = path
    return members


def build(members):
    """The zip's bytes for ``members`` (path in the zip -> file); the same input, the same bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, date_time=FIXED_DATE)
            info.create_system = 3  # Unix, so that the mode bits mean the same everywhere
            executable = os.stat(members[name]).st_mode & 0o111
            info.external_attr = (EXEC_MODE if executable else FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            with open(members[name], "rb") as handle:
                archive.writestr(info, handle.read())
    return buffer.getvalue()


def sha256_base64(data):
    return base64.b64encode(hashlib.sha256(data).digest()).decode("ascii")
