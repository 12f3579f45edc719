#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
---
module: lambda_package
version_added: 0.1.0
short_description: Zip Lambda source deterministically, so that the same source keeps the same CodeSha256
description:
  - Builds a zip from a directory (O(src) as a path) or from a list of files and directories
    placed at chosen paths in the zip (O(src) as a list of C(src)/C(dest) pairs),
    and writes it to O(dest) only when its bytes differ from what O(dest) already holds.
  - The same files always give the same bytes. Entries are sorted by their path in the zip,
    carry the fixed timestamp 1980-01-01 00:00:00 and the mode V(0644), or V(0755) when the source file
    has an execute bit (a C(bootstrap) of a custom runtime, a vendored binary), are compressed with
    deflate, and byte-code caches (C(__pycache__) directories, C(*.pyc) and C(*.pyo) files) are
    left out of the directories that are walked. So a function deployed from the zip with
    M(amazon.aws.lambda) keeps its C(CodeSha256) until the source really changes, and
    M(amazon.aws.lambda) can predict in check mode whether the code would change.
  - Only the content of the files and whether they are executable count; their timestamps, other mode
    bits and owners do not. Lambda runs a custom runtime's C(bootstrap) and other executables only
    when the zip keeps their execute permission
    (U(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-package.html#gettingstarted-package-permissions)).
    Empty directories are not stored.
  - Runs where the task runs (the controller with a local connection) and makes no AWS call.
  - C(community.general.archive) is not deterministic, so it cannot serve here. It stores
    each file's modification time and mode (C(ZipFile.write)), adds the entries in the order
    C(os.walk) returns them (filesystem order, not sorted) plus one entry per directory,
    and compares only names and CRCs to decide C(changed). A checkout or copy of the same
    source therefore gives different bytes (a different C(CodeSha256)) without a
    reported change. Neither C(amazon.aws) nor C(community.aws) has a packaging module;
    M(amazon.aws.lambda) takes a finished O(amazon.aws.lambda#module:zip_file).
author:
  - logvault.aws maintainers (@logvault)
options:
  src:
    description:
      - What to zip.
      - A path to a directory; every file below it is stored under its path relative to
        that directory.
      - Or a list of dicts with the keys C(src) and C(dest), to assemble a package from
        several places. C(src) is a file or a directory. For a file, C(dest) is its path in the
        zip (default its base name). For a directory, C(dest) is the folder in the zip that
        receives the directory's files (default the root of the zip).
      - Paths in the zip must be relative and must not contain C(..). Two entries that end
        up at the same path in the zip are an error.
      - A file named explicitly in the list is stored even if it is byte code; only walked
        directories skip it.
    type: raw
    required: true
  dest:
    description:
      - Path of the zip to write. Its directory must exist.
      - The file is replaced atomically, and only when the new bytes differ.
    type: path
    required: true
notes:
  - Supports check mode. The zip is built in memory, nothing is written, and C(changed)
    says whether O(dest) would change. The return values are those of the zip that would
    be written.
  - Supports diff mode; the diff shows the SHA-256 and the file list before and after.
  - "The bytes depend on the deflate implementation (zlib) of the Python that runs the
    module: a controller with a different zlib can produce a different C(CodeSha256) for the
    same source. Build on the same controller image to keep it stable."
  - To use the zip with M(amazon.aws.lambda) in check mode, run this task with
    C(check_mode) set to V(false) into a scratch directory, so that the zip exists when
    M(amazon.aws.lambda) compares it with the deployed code.
seealso:
  - module: amazon.aws.lambda
  - name: Lambda FunctionConfiguration CodeSha256
    description: The base64-encoded SHA-256 that RV(sha256_base64) matches.
    link: https://docs.aws.amazon.com/lambda/latest/api/API_FunctionConfiguration.html
"""

EXAMPLES = r"""
- name: Zip the function's source directory
  logvault.aws.lambda_package:
    src: "{{ role_path }}/files/my_lambda"
    dest: "{{ scratch.path }}/my_lambda.zip"
  check_mode: false
  register: package

- name: Deploy it; the code is updated only when the zip's SHA-256 differs from the deployed one
  amazon.aws.lambda:
    name: my-function
    runtime: python3.12
    handler: app.handler
    role: my-function-role
    zip_file: "{{ package.path }}"

- name: Assemble a package from files in several places
  logvault.aws.lambda_package:
    src:
      - src: "{{ role_path }}/files/alerts_lambda/logvault_alerts.py"
        dest: logvault_alerts.py
      - src: "{{ playbook_dir }}/shared/engine.py"
        dest: engine.py
      - src: "{{ scratch.path }}/rules.json"
      - src: "{{ role_path }}/files/vendor"
        dest: vendor
    dest: "{{ scratch.path }}/alerts.zip"
  check_mode: false
"""

RETURN = r"""
path:
  description: The path of the zip (O(dest)).
  returned: success
  type: str
  sample: /tmp/logvault-transform/transform.zip
sha256_base64:
  description:
    - Base64 of the SHA-256 of the zip's bytes; the same encoding as C(CodeSha256) of a
      Lambda function deployed from it.
  returned: success
  type: str
  sample: 7Oa/VbTOnjG4kuB+o3vDnQ0JDuYLUYB7ALqXyBQpSAw=
files:
  description: The paths in the zip, sorted, in the order they are stored.
  returned: success
  type: list
  elements: str
  sample: [cwl_filter_pattern.py, logvault_alerts.py, rules.json]
size:
  description: The size of the zip in bytes.
  returned: success
  type: int
  sample: 18342
"""

import io
import os
import tempfile
import zipfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native

from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import PackageError
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import build
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import collect
from ansible_collections.logvault.aws.plugins.module_utils.lambda_zip import sha256_base64


def _existing(path):
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except (IOError, OSError):
        return None


def _listing(data):
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return sorted(archive.namelist())
    except zipfile.BadZipfile:
        return []


def _write(module, dest, data):
    directory = os.path.dirname(dest)
    handle, tmp = tempfile.mkstemp(prefix=".%s." % os.path.basename(dest), dir=directory)
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        module.atomic_move(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def main():
    module = AnsibleModule(
        argument_spec=dict(
            src=dict(type="raw", required=True),
            dest=dict(type="path", required=True),
        ),
        supports_check_mode=True,
    )
    dest = module.params["dest"]
    try:
        if not dest or os.path.isdir(dest):
            raise PackageError("dest: %r must be the path of a zip file, not a directory" % dest)
        if not os.path.isdir(os.path.dirname(os.path.abspath(dest))):
            raise PackageError("dest: the directory of %s does not exist" % dest)
        members = collect(module.params["src"])
        data = build(members)
    except PackageError as e:
        module.fail_json(msg=to_native(e))
    except (IOError, OSError) as e:
        module.fail_json(msg="src: cannot read a file to package: %s" % to_native(e))

    before = _existing(dest)
    changed = before != data
    result = dict(
        changed=changed,
        path=dest,
        sha256_base64=sha256_base64(data),
        files=sorted(members),
        size=len(data),
    )
    if module._diff:
        result["diff"] = dict(
            before={} if before is None else dict(sha256_base64=sha256_base64(before), files=_listing(before)),
            after=dict(sha256_base64=result["sha256_base64"], files=result["files"]),
            before_header=dest,
            after_header=dest,
        )
    if changed and not module.check_mode:
        try:
            _write(module, dest, data)
        except (IOError, OSError) as e:
            module.fail_json(msg="dest: cannot write %s: %s" % (dest, to_native(e)))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
