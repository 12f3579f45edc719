"""Run every molecule scenario under extensions/molecule (converge, idempotence, verify).

Fails when any scenario fails. Scenarios are listed by directory, so a new scenario
runs without touching the Makefile.

Scenarios run side by side, LOGVAULT_MOLECULE_JOBS at a time (default 2, one per core of
the CI machine): each one mostly keeps one core busy (one ansible-playbook against its own
emulator), and they share nothing (each has its own emulator port and build/molecule-<name>
state directory; molecule keeps each scenario's state apart). The slowest scenarios start
first (SLOWEST_FIRST). Each scenario's output goes to build/molecule-<name>.log and is printed
whole when it ends, so that the output of two scenarios is never interleaved.
"""

import os
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
EXT = os.path.join(ROOT, "extensions")
BUILD = os.path.join(ROOT, "build")
# Measured one at a time on the 2-core machine: member ~840 s, central ~330 s, fluentd ~100 s (1,190 s in all).
SLOWEST_FIRST = ("member", "central", "fluentd")


def jobs():
    value = os.environ.get("LOGVAULT_MOLECULE_JOBS") or "2"
    try:
        count = int(value)
    except ValueError:
        raise SystemExit("run_molecule: LOGVAULT_MOLECULE_JOBS must be a whole number, got %r" % value)
    if count < 1:
        raise SystemExit("run_molecule: LOGVAULT_MOLECULE_JOBS must be >= 1, got %r" % value)
    return count


def ordered(scenarios):
    """Known slow scenarios first, in SLOWEST_FIRST order; any other after them, by name."""
    rank = {name: i for i, name in enumerate(SLOWEST_FIRST)}
    return sorted(scenarios, key=lambda name: (rank.get(name, len(rank)), name))


def run_scenario(name, results, print_lock):
    log_path = os.path.join(BUILD, "molecule-%s.log" % name)
    started = time.time()
    with open(log_path, "w", encoding="utf-8") as log:
        rc = subprocess.call(["molecule", "test", "-s", name], cwd=EXT, stdout=log, stderr=subprocess.STDOUT)
    elapsed = time.time() - started
    results[name] = rc
    with print_lock:
        print("== molecule test -s %s: %s in %.0f s (log: %s)" % (name, "passed" if rc == 0 else "FAILED rc=%d" % rc, elapsed, log_path),
              flush=True)
        with open(log_path, encoding="utf-8", errors="replace") as log:
            sys.stdout.write(log.read())
        print("== end of molecule test -s %s" % name, flush=True)


def main():
    base = os.path.join(EXT, "molecule")
    scenarios = ordered(
        d for d in (os.listdir(base) if os.path.isdir(base) else [])
        if os.path.isfile(os.path.join(base, d, "molecule.yml"))
    )
    if not scenarios:
        print("molecule: no scenarios under extensions/molecule yet; nothing to run")
        return 0
    os.makedirs(BUILD, exist_ok=True)
    results, print_lock = {}, threading.Lock()
    pending = list(scenarios)
    running = []
    started = time.time()
    print("== molecule: %d scenario(s), %d at a time: %s" % (len(scenarios), jobs(), ", ".join(scenarios)), flush=True)
    while pending or running:
        running = [t for t in running if t.is_alive()]
        while pending and len(running) < jobs():
            thread = threading.Thread(target=run_scenario, args=(pending.pop(0), results, print_lock))
            thread.start()
            running.append(thread)
        time.sleep(0.5)
    failed = [name for name in scenarios if results.get(name) != 0]
    if failed:
        print("molecule: failed scenarios: %s" % ", ".join(failed))
        return 1
    print("molecule: %d scenario(s) passed in %.0f s: %s" % (len(scenarios), time.time() - started, ", ".join(scenarios)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
