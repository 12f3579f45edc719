"""Run every molecule scenario under extensions/molecule (converge, idempotence, verify).

Fails when any scenario fails. Scenarios are listed by directory, so a new scenario
runs without touching the Makefile.
"""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.path.join(ROOT, "extensions")


def main():
    base = os.path.join(EXT, "molecule")
    scenarios = sorted(
        d for d in (os.listdir(base) if os.path.isdir(base) else [])
        if os.path.isfile(os.path.join(base, d, "molecule.yml"))
    )
    if not scenarios:
        print("molecule: no scenarios under extensions/molecule yet; nothing to run")
        return 0
    failed = []
    for name in scenarios:
        print("== molecule test -s %s" % name, flush=True)
        if subprocess.call(["molecule", "test", "-s", name], cwd=EXT) != 0:
            failed.append(name)
    if failed:
        print("molecule: failed scenarios: %s" % ", ".join(failed))
        return 1
    print("molecule: %d scenario(s) passed: %s" % (len(scenarios), ", ".join(scenarios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
