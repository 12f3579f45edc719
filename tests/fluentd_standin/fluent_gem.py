# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""STAND-IN for /opt/fluent/bin/fluent-gem -- a TEST DOUBLE, NOT RubyGems.

Installs nothing. `install NAME --version V [--source URL] ...` records the request (one
JSON line per call) in /var/lib/fluent-package-standin/gem-requests.jsonl and marks
NAME V as installed; `list --installed --exact NAME --version V` answers true/false
with exit status 0/1, like `gem list -i`.
"""

import json
import os
import sys

STATE_DIR = os.environ.get("FLUENT_STANDIN_STATE_DIR", "/var/lib/fluent-package-standin")
REQUESTS = os.path.join(STATE_DIR, "gem-requests.jsonl")
INSTALLED = os.path.join(STATE_DIR, "installed-gems.json")


def option(argv, *names):
    for name in names:
        if name in argv and argv.index(name) + 1 < len(argv):
            return argv[argv.index(name) + 1]
    return None


def load():
    try:
        with open(INSTALLED, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return {}


def main(argv):
    if not argv:
        sys.stderr.write("fluent-gem STAND-IN (test double): give a command\n")
        return 2
    command, rest = argv[0], argv[1:]
    if command == "install":
        names = [a for i, a in enumerate(rest) if not a.startswith("-") and (i == 0 or rest[i - 1] not in (
            "--version", "-v", "--source", "-s"))]
        version = option(rest, "--version", "-v")
        if len(names) != 1 or not version:
            sys.stderr.write("fluent-gem STAND-IN: install needs exactly one gem name and --version\n")
            return 2
        os.makedirs(STATE_DIR, exist_ok=True)
        with open(REQUESTS, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"command": "install", "gem": names[0], "version": version,
                                     "source": option(rest, "--source", "-s"), "argv": argv}) + "\n")
        installed = load()
        installed.setdefault(names[0], [])
        if version not in installed[names[0]]:
            installed[names[0]].append(version)
        with open(INSTALLED, "w", encoding="utf-8") as handle:
            json.dump(installed, handle, indent=1, sort_keys=True)
        print("fluent-gem STAND-IN (test double): recorded install of %s %s; nothing was installed" % (names[0], version))
        return 0
    if command == "list" and ("--installed" in rest or "-i" in rest):
        names = [a for i, a in enumerate(rest) if not a.startswith("-") and rest[i - 1] not in ("--version", "-v")]
        version = option(rest, "--version", "-v")
        found = bool(names) and (version in load().get(names[0], []) if version else names[0] in load())
        print("true" if found else "false")
        return 0 if found else 1
    sys.stderr.write("fluent-gem STAND-IN (test double): %s is not implemented\n" % command)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
