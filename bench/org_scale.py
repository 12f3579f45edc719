# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Organization scale: site.yml across many member accounts and regions in the emulator.

    python bench/org_scale.py [--accounts 100] [--regions 17] [--forks 20] [--poll-interval 0.01] [--baseline-sample 2]

Issue 17's figure is 100 member accounts x 17 regions, the default. --accounts/--regions scale it
down for a quick look; the figures are then also extrapolated linearly in accounts to 100 accounts
at the measured number of regions (marked "extrapolated"; an estimate, not a measurement).

What it measures, in one run against a fresh emulator (local_aws, in this process) and the
OpenSearch test double:
1. first site.yml (central account + N members x R regions, -f FORKS), wall time;
2. second site.yml: wall time, and it must report changed=0 for every host;
3. API calls the emulator served, per member account-region, for each run;
3b. API calls per member account-region, from the one-at-a-time runs (which call one account only);
3c. where the control node's CPU went in each run: ansible-playbook with its workers and modules,
    the emulator serving the requests, and the emulator's Lambda subprocesses (the canaries);
3d. the CPU ceiling of each run: a run that used C seconds of CPU takes at least C / cores of wall
    time, so it is at most baseline x cores / C times faster than the baseline; printed with the CPU
    that 10x would allow (docs/organization-scale.md, Figures);
4. the baseline: the same work one account at a time. The central account's share is the same
   in both (one account), so it is taken as measured in the site.yml run; the member accounts
   are onboarded one at a time (members.yml --limit <one account> -f 1, in a loop) on
   --baseline-sample extra accounts, first run and rerun. Baseline for N accounts = central
   share + per-account mean x N (a sample of accounts, extrapolated to N: stated in the output).
Every ansible-playbook of the bench (the baseline's too) reads an ansible.cfg written in the work
directory with ``internal_poll_interval = --poll-interval``: the controller setting that
docs/organization-scale.md recommends for runs over many accounts (the free strategy's main loop
looks at every host once per interval, 1 ms by default).

Targets (issue 17, full scale): first run <= 15 min, rerun <= 5 min, both >= 10x faster than
the baseline. Exits 1 when a target is missed (on extrapolated figures at reduced scale).
"""

from __future__ import absolute_import, division, print_function

import argparse
import collections
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "tools"))
BIN = os.path.dirname(sys.executable)
CENTRAL = "123456789012"
# The 17 regions enabled by default in every AWS account (opt-in regions left out).
REGIONS = ["us-east-1", "us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1",
           "eu-north-1", "ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1",
           "ap-southeast-2", "ca-central-1", "sa-east-1"]
FULL_ACCOUNTS, FULL_REGIONS = 100, 17
TARGET_FIRST, TARGET_RERUN, TARGET_RATIO = 15 * 60.0, 5 * 60.0, 10.0
SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([a-z0-9-]+)/([a-z0-9-]+)/aws4_request")


class CallCounter(object):
    """Counts the requests the emulator serves, by (service, region) of their SigV4 scope."""

    def __init__(self):
        self.lock = threading.Lock()
        self.counts = collections.Counter()

    def install(self):
        from local_aws import server  # pylint: disable=import-outside-toplevel

        original = server._Application.__call__  # pylint: disable=protected-access
        counter = self

        def counting(app, environ, start_response):
            found = SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
            key = (found.group(2), found.group(1)) if found else ("unsigned", "-")
            with counter.lock:
                counter.counts[key] += 1
            return original(app, environ, start_response)

        server._Application.__call__ = counting  # pylint: disable=protected-access

    def snapshot(self):
        with self.lock:
            return collections.Counter(self.counts)


def account_ids(count, start):
    return ["%012d" % (start + i) for i in range(count)]


def write_inventory(directory, members, baseline, regions, endpoint):
    os.makedirs(os.path.join(directory, "group_vars"))
    with open(os.path.join(ROOT, "inventories", "local", "group_vars", "all.yml"), encoding="utf-8") as handle:
        group_vars = yaml.safe_load(handle)
    group_vars.update({"logvault_regions": regions, "logvault_aws_endpoint_url": endpoint})
    with open(os.path.join(directory, "group_vars", "all.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(group_vars, handle)

    def host(account):
        return {"logvault_account_id": account, "logvault_assume_role_arn": "arn:aws:iam::%s:role/logvault-admin" % account}

    # The central host as inventories/local defines it (its break-glass principals admit the
    # emulator's user, so that the archive bucket policy check passes).
    with open(os.path.join(ROOT, "inventories", "local", "hosts.yml"), encoding="utf-8") as handle:
        central = yaml.safe_load(handle)["all"]["children"]["central"]["hosts"]["security"]
    central["logvault_account_id"] = CENTRAL
    inventory = {"all": {"children": {
        "central": {"hosts": {"security": central}},
        "members": {"children": {
            "scale": {"hosts": {"m%s" % a: host(a) for a in members}},
            "baseline": {"hosts": {"b%s" % a: host(a) for a in baseline}},
        }},
        "fleet": {"hosts": {}},
    }}}
    with open(os.path.join(directory, "hosts.yml"), "w", encoding="utf-8") as handle:
        yaml.safe_dump(inventory, handle)


CPU = {}


def cpu_seconds(usage):
    return usage.ru_utime + usage.ru_stime


def run(args, env, log_path):
    """Runs one ansible-playbook; records in CPU[log_path] where the control node's CPU went."""
    started = time.time()
    own = cpu_seconds(resource.getrusage(resource.RUSAGE_SELF))
    children = cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN))
    with open(log_path, "w", encoding="utf-8") as log:
        proc = subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT)  # pylint: disable=consider-using-with
        # wait4: the CPU of ansible-playbook and every process it waited for (workers, modules).
        _pid, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.time() - started
    ansible = cpu_seconds(usage)
    CPU[log_path] = {
        "ansible": ansible,
        # The bench's own threads: the emulator serving requests, and its scheduler.
        "emulator": cpu_seconds(resource.getrusage(resource.RUSAGE_SELF)) - own,
        # The emulator's subprocesses (the canary Lambda invocations), without ansible-playbook.
        "lambda": cpu_seconds(resource.getrusage(resource.RUSAGE_CHILDREN)) - children - ansible,
    }
    with open(log_path, encoding="utf-8") as handle:
        output = handle.read()
    return proc.returncode, elapsed, output


def cpu_line(log_path):
    used = CPU.get(log_path, {})
    # max(): the children's CPU less ansible-playbook's can come out a rounding error below zero.
    return "ansible %.1f s, emulator %.1f s, its Lambda runs %.1f s" % (
        used.get("ansible", 0.0), used.get("emulator", 0.0), max(used.get("lambda", 0.0), 0.0))


def cores():
    """The cores this process may run on (the control node's, for ansible-playbook and the emulator)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def ceiling(baseline, cpu, cores_available):
    """The highest speed-up over ``baseline`` seconds that a run using ``cpu`` seconds of CPU could reach on
    ``cores_available`` cores: it takes at least cpu / cores of wall time, with every core busy all along."""
    if cpu <= 0 or cores_available < 1:
        return float("inf")
    return baseline / (cpu / float(cores_available))


def ceiling_line(name, baseline, used, cores_available, members):
    """Where a run's speed-up is bounded by the CPU it used (docs/organization-scale.md, Figures)."""
    cpu = sum(max(used.get(key, 0.0), 0.0) for key in ("ansible", "emulator", "lambda"))
    needed = baseline * cores_available / TARGET_RATIO
    return ("  CPU ceiling, %-6s %8.1f s of CPU on %d cores: at least %.1f s of wall time, so at most %.1fx the baseline;"
            " %dx needs at most %.1f s of CPU (%.2f s per account, the central account counted as one)"
            % (name, cpu, cores_available, cpu / float(cores_available), ceiling(baseline, cpu, cores_available),
               TARGET_RATIO, needed, needed / float(members + 1)))


def recap(output):
    return {m.group(1): int(m.group(2)) for m in re.finditer(r"(?m)^(\S+)\s+: ok=\d+\s+changed=(\d+)", output)}


def central_share(output):
    """Seconds from the start of site.yml to the first task of its second play (profile_tasks), where the
    member accounts are connected. The stream alerts run in that play, alongside the member accounts, so
    the central share (and the baseline built on it) leaves them out."""
    index = output.find("PLAY [Alert on the central stream, and connect the member accounts")
    found = re.search(r"\s(\d+):(\d\d):(\d\d)\.(\d+) \*+", output[index:]) if index >= 0 else None
    if not found:
        return 0.0
    hours, minutes, seconds = (int(found.group(i)) for i in (1, 2, 3))
    return hours * 3600 + minutes * 60 + seconds + float("0." + found.group(4))


def member_calls(before, after):
    """Requests between two snapshots, without those of the OpenSearch double (unsigned)."""
    return sum((after - before).values())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--accounts", type=int, default=FULL_ACCOUNTS)
    parser.add_argument("--regions", type=int, default=FULL_REGIONS, choices=range(1, len(REGIONS) + 1),
                        metavar="1..17")
    parser.add_argument("--forks", type=int, default=20)
    parser.add_argument("--poll-interval", type=float, default=0.01,
                        help="ansible.cfg [defaults] internal_poll_interval for every run (Ansible's default: 0.001)")
    parser.add_argument("--baseline-sample", type=int, default=3,
                        help="accounts onboarded one at a time for the baseline (its mean x --accounts)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs, inventory)")
    args = parser.parse_args()

    import demo  # tools/demo.py: the OpenSearch test double  pylint: disable=import-outside-toplevel
    from local_aws.server import start  # pylint: disable=import-outside-toplevel

    work = tempfile.mkdtemp(prefix="org-scale-")
    counter = CallCounter()
    counter.install()
    emulator = start(port=0)
    opensearch, os_endpoint, os_ca = demo.start_opensearch_double(os.path.join(work, "opensearch"),
                                                                 os.path.join(work, "opensearch.log"))
    regions = REGIONS[: args.regions]
    members = account_ids(args.accounts, 300000000000)
    baseline = account_ids(args.baseline_sample, 900000000000)
    inventory = os.path.join(work, "inventory")
    write_inventory(inventory, members, baseline, regions, emulator.endpoint)
    env = dict(os.environ)
    env.update({
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_DEFAULT_REGION": "us-east-1",
        "ANSIBLE_NOCOLOR": "1", "ANSIBLE_ROLES_PATH": os.path.join(ROOT, "roles"),
        "LOGVAULT_OPENSEARCH_ENDPOINT": os_endpoint, "LOGVAULT_OPENSEARCH_CA": os_ca,
        "ANSIBLE_CALLBACKS_ENABLED": "ansible.posix.profile_tasks",
    })
    # What the Makefile exports, so that the bench also runs outside make (make collection first).
    env.setdefault("ANSIBLE_COLLECTIONS_PATH", os.path.join(ROOT, "build", "collections"))
    env.setdefault("ANSIBLE_COLLECTIONS_SCAN_SYS_PATH", "true")
    env.setdefault("ANSIBLE_LOCAL_TEMP", os.path.join(ROOT, "build", "ansible-tmp"))
    env.setdefault("ANSIBLE_HOME", os.path.join(ROOT, "build", "ansible-home"))
    # The controller configuration docs/organization-scale.md recommends (Parallelism), for every run.
    config = os.path.join(work, "ansible.cfg")
    with open(config, "w", encoding="utf-8") as handle:
        handle.write("[defaults]\ninternal_poll_interval = %s\n" % args.poll_interval)
    env["ANSIBLE_CONFIG"] = config
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    playbook = os.path.join(BIN, "ansible-playbook")
    site = os.path.join(ROOT, "playbooks", "site.yml")
    members_yml = os.path.join(ROOT, "playbooks", "members.yml")
    account_regions = args.accounts * len(regions)
    figures = {}
    failures = []
    try:
        print("org_scale: %d member accounts x %d regions, forks %d, internal_poll_interval %s, baseline sample %d (work dir %s)"
              % (args.accounts, len(regions), args.forks, args.poll_interval, args.baseline_sample, work), flush=True)
        from local_aws import settings  # pylint: disable=import-outside-toplevel
        print("  the emulator's background schedule firings (the canaries) run at niceness +%s "
              "(LOGVAULT_AWS_BACKGROUND_NICE; on AWS they run on Lambda's fleet)" % settings.get("LOGVAULT_AWS_BACKGROUND_NICE"),
              flush=True)
        snap = counter.snapshot()
        rc, first, out = run([playbook, "-f", str(args.forks), "-i", inventory, site, "--limit", "all:!baseline"],
                             env, os.path.join(work, "site-1.log"))
        if rc != 0:
            print(out[-6000:])
            return 1
        calls_first = member_calls(snap, counter.snapshot())
        central_first = central_share(out)
        snap = counter.snapshot()
        rc, rerun, out = run([playbook, "-f", str(args.forks), "-i", inventory, site, "--limit", "all:!baseline"],
                             env, os.path.join(work, "site-2.log"))
        changed = recap(out)
        calls_rerun = member_calls(snap, counter.snapshot())
        central_rerun = central_share(out)
        if rc != 0 or any(changed.values()):
            failures.append("rerun: rc=%d, changed %s (must be changed=0)" % (rc, {h: c for h, c in changed.items() if c}))
        base_first, base_rerun = [], []
        base_calls = {"1": 0, "2": 0}
        for account in baseline:
            for runs, name in ((base_first, "1"), (base_rerun, "2")):
                snap = counter.snapshot()
                rc, elapsed, out = run([playbook, "-f", "1", "-i", inventory, members_yml, "--limit", "b%s" % account],
                                       env, os.path.join(work, "baseline-%s-%s.log" % (account, name)))
                base_calls[name] += member_calls(snap, counter.snapshot())
                if rc != 0:
                    print(out[-4000:])
                    return 1
                runs.append(elapsed)
        mean_first = sum(base_first) / len(base_first) if base_first else 0.0
        mean_rerun = sum(base_rerun) / len(base_rerun) if base_rerun else 0.0
        figures = {
            "first": first, "rerun": rerun,
            "baseline_first": central_first + mean_first * args.accounts,
            "baseline_rerun": central_rerun + mean_rerun * args.accounts,
        }
        print("\nmeasured at %d accounts x %d regions (%d account-regions):" % (args.accounts, len(regions), account_regions))
        print("  first site.yml                 %8.1f s" % first)
        print("  second site.yml (changed=0)    %8.1f s   %s" % (rerun, "changed=0" if not any(changed.values()) else "CHANGED"))
        print("  API calls per account-region   %8.1f first, %.1f rerun (all calls of site.yml, the central account's included,"
              " / member account-regions)" % (calls_first / float(account_regions), calls_rerun / float(account_regions)))
        if baseline:
            # members.yml --limit <one account> calls only that account: its calls are one member's.
            print("  member calls per account-region %7.1f first, %.1f rerun (the one-at-a-time runs: one member account's calls"
                  " / its regions)" % (base_calls["1"] / float(len(baseline) * len(regions)),
                                      base_calls["2"] / float(len(baseline) * len(regions))))
        print("  baseline, one account at a time: %.1f s first, %.1f s rerun per member account (mean of a sample of %d,"
              " extrapolated x%d accounts) + the central share" % (mean_first, mean_rerun, len(base_first), args.accounts))
        print("  baseline                       %8.1f s first, %.1f s rerun" % (figures["baseline_first"], figures["baseline_rerun"]))
        print("  speed-up vs baseline           %8.1fx first, %.1fx rerun"
              % (figures["baseline_first"] / first, figures["baseline_rerun"] / rerun))
        print("  of which the central account   %8.1f s first, %.1f s rerun (until the member play starts)"
              % (central_first, central_rerun))
        print("  control node CPU, first run    %s" % cpu_line(os.path.join(work, "site-1.log")))
        print("  control node CPU, rerun        %s" % cpu_line(os.path.join(work, "site-2.log")))
        for name, log_name, key in (("first", "site-1.log", "baseline_first"), ("rerun", "site-2.log", "baseline_rerun")):
            print(ceiling_line(name, figures[key], CPU.get(os.path.join(work, log_name), {}), cores(), args.accounts))
        label = "measured"
        if (args.accounts, len(regions)) != (FULL_ACCOUNTS, FULL_REGIONS):
            # An estimate, at the measured number of regions only: member_account makes a constant
            # number of module runs per account whatever the regions (its CloudWatch Logs modules take
            # every region in one run), but its API calls grow with the regions, so no region factor is
            # guessed. The central account's share is kept as measured; the member share and the
            # baseline grow with the accounts.
            label = "extrapolated to %d accounts at %d regions" % (FULL_ACCOUNTS, len(regions))
            by_account = FULL_ACCOUNTS / float(args.accounts)
            figures = {
                "first": central_first + (first - central_first) * by_account,
                "rerun": central_rerun + (rerun - central_rerun) * by_account,
                "baseline_first": central_first + mean_first * FULL_ACCOUNTS,
                "baseline_rerun": central_rerun + mean_rerun * FULL_ACCOUNTS,
            }
            print("\n%s (an estimate, not a measurement: central share as measured, member share x%.1f accounts;"
                  " the %d-region figure is only measured by the default run):" % (label, by_account, FULL_REGIONS))
            print("  first site.yml                 %8.1f s" % figures["first"])
            print("  second site.yml                %8.1f s" % figures["rerun"])
            print("  baseline                       %8.1f s first, %.1f s rerun"
                  % (figures["baseline_first"], figures["baseline_rerun"]))
        checks = [
            ("first run <= %d s (%s)" % (TARGET_FIRST, label), figures["first"] <= TARGET_FIRST),
            ("rerun <= %d s (%s)" % (TARGET_RERUN, label), figures["rerun"] <= TARGET_RERUN),
            ("first run >= %dx faster than the baseline" % TARGET_RATIO, figures["baseline_first"] >= TARGET_RATIO * figures["first"]),
            ("rerun >= %dx faster than the baseline" % TARGET_RATIO, figures["baseline_rerun"] >= TARGET_RATIO * figures["rerun"]),
        ]
        print("\ntargets:")
        for text, ok in checks:
            print("  [%s] %s" % ("ok" if ok else "MISSED", text))
            if not ok:
                failures.append(text)
        print("profile (slowest tasks of the first run): %s" % os.path.join(work, "site-1.log"))
    finally:
        opensearch.terminate()
        opensearch.wait()
        emulator.stop()
        if not args.keep and not failures:
            shutil.rmtree(work, ignore_errors=True)
    for failure in failures:
        print("org_scale: MISSED " + failure)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
