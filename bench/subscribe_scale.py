#!/usr/bin/env python
# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of logvault.aws.cloudwatchlogs_subscription_filter: onboarding at scale.

Scenario (the real cross-account onboarding, on the local AWS emulator started here):
the central account 123456789012 has a Kinesis hub stream and a CloudWatch Logs
destination whose access policy allows member account 111111111111. The member account
has ``--groups`` log groups (default 1,000) and subscribes them to the destination.

Measured in the same run, with the same playbook style (one play on localhost, the same
module_defaults, the same credentials, the stdout callback ansible.posix.json):

1. **bulk**: one task of cloudwatchlogs_subscription_filter over every group
   (``log_group_prefix``, ``--concurrency`` workers);
2. **loop**: the baseline, an Ansible loop of one task per group (``log_groups: [item]``)
   over a separate set of ``--loop-sample`` groups (default 50). Unless the sample is as
   large as ``--groups``, the loop's cost for all groups is EXTRAPOLATED:
   ``base + per_item * groups``, where ``base`` is the wall time of the same loop playbook
   over zero items (ansible-playbook start-up) and ``per_item = (loop - base) / sample``.
   Pass ``--loop-sample`` equal to ``--groups`` to measure the whole loop (about
   0.37 s per item, so about 6 minutes for 1,000);
3. **idempotent second run** of the bulk task: the write calls reported by the module
   (``write_calls``) and, independently, the PutSubscriptionFilter/DeleteSubscriptionFilter
   requests counted at the emulator.

Printed: wall times, the task durations reported by the callback, CPU seconds (this
process, which runs the emulator, plus the ansible-playbook/module child processes), the
ratio loop/bulk on wall time (target >= 50x for 1,000 groups; also given on task time and
CPU time, which depends less on other load) and the write calls of the second run
(target 0). This is a benchmark, never a timed test; it is not part of ``make test``.

Usage: .venv/bin/python bench/subscribe_scale.py [--groups 1000] [--loop-sample 50]
       [--concurrency 5] [--collections build/collections]
Needs the collection installed (``make collection``). Exit status 1 when a target is
missed, 2 when the run itself failed.
"""

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)

BIN = os.path.dirname(sys.executable)
CENTRAL = "123456789012"
MEMBER = "111111111111"
REGION = "us-east-1"
RATIO_TARGET = 50.0
WRITE_ACTIONS = ("put_subscription_filter", "delete_subscription_filter")


class WriteCounter(object):
    """Counts subscription-filter write requests reaching the in-process emulator."""

    def __init__(self):
        self.count = 0
        self._lock = threading.Lock()

    def install(self):
        from moto.logs import responses  # pylint: disable=import-outside-toplevel

        counter = self
        for action in WRITE_ACTIONS:
            original = getattr(responses.LogsResponse, action)

            def counted(self, _original=original):
                with counter._lock:
                    counter.count += 1
                return _original(self)

            setattr(responses.LogsResponse, action, counted)

    def reset(self):
        with self._lock:
            self.count = 0


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--groups", type=int, default=1000, help="log groups subscribed by the bulk task (default 1000)")
    parser.add_argument("--loop-sample", type=int, default=50, help="groups the one-task-per-group loop really runs (default 50)")
    parser.add_argument("--concurrency", type=int, default=5, help="max_concurrency of the bulk task (default 5, the module's cap: CloudWatch Logs allows 5 PutSubscriptionFilter TPS)")
    parser.add_argument("--collections", default=os.environ.get("ANSIBLE_COLLECTIONS_PATH") or os.path.join(REPO, "build", "collections"),
                        help="ANSIBLE_COLLECTIONS_PATH holding logvault.aws (default build/collections)")
    args = parser.parse_args()
    if args.groups < 1 or args.loop_sample < 1 or args.loop_sample > args.groups:
        parser.error("need 1 <= --loop-sample <= --groups")
    manifest = os.path.join(args.collections, "ansible_collections", "logvault", "aws", "MANIFEST.json")
    if not os.path.isfile(manifest):
        parser.error("logvault.aws is not installed in %s; run `make collection` first" % args.collections)
    return args


def setup(emu, groups, loop_groups):
    """Central hub stream, role and destination; member credentials and log groups."""
    central_kinesis = emu.client("kinesis", account_id=CENTRAL)
    central_kinesis.create_stream(StreamName="bench-hub", ShardCount=1)
    iam = emu.client("iam", account_id=CENTRAL)
    trust = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "logs.amazonaws.com"}, "Action": "sts:AssumeRole"}]}
    role = iam.create_role(RoleName="bench-cwl-to-kinesis", AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    logs = emu.client("logs", account_id=CENTRAL)
    destination = logs.put_destination(
        destinationName="bench", targetArn="arn:aws:kinesis:%s:%s:stream/bench-hub" % (REGION, CENTRAL), roleArn=role,
    )["destination"]
    policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"AWS": [MEMBER]}, "Resource": destination["arn"],
        "Action": ["logs:PutAccountPolicy", "logs:PutSubscriptionFilter"],
    }]}
    logs.put_destination_policy(destinationName="bench", accessPolicy=json.dumps(policy))

    creds = emu.client("sts").assume_role(RoleArn="arn:aws:iam::%s:role/bench" % MEMBER, RoleSessionName="bench")["Credentials"]
    member_logs = emu.client("logs", account_id=MEMBER)
    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(lambda name: member_logs.create_log_group(logGroupName=name), groups + loop_groups))
    return destination["arn"], creds


def write_playbook(path, endpoint, creds, task, loop=None):
    defaults = {
        "endpoint_url": endpoint, "region": REGION, "access_key": creds["AccessKeyId"],
        "secret_key": creds["SecretAccessKey"], "session_token": creds["SessionToken"],
    }
    entry = {"name": "Subscribe log groups", "logvault.aws.cloudwatchlogs_subscription_filter": task, "register": "subscribed"}
    if loop is not None:
        entry["loop"] = loop
    play = [{
        "name": "Bench", "hosts": "localhost", "gather_facts": False,
        "module_defaults": {"group/logvault.aws.aws": defaults},
        "tasks": [entry],
    }]
    with open(path, "w") as handle:
        json.dump(play, handle)  # JSON is YAML


def run_playbook(path, collections, workdir):
    env = dict(os.environ)
    env.update({
        "ANSIBLE_COLLECTIONS_PATH": collections,
        "ANSIBLE_COLLECTIONS_SCAN_SYS_PATH": "true",
        "ANSIBLE_STDOUT_CALLBACK": "ansible.posix.json",
        "ANSIBLE_PYTHON_INTERPRETER": sys.executable,
        "ANSIBLE_HOME": os.path.join(workdir, "ansible-home"),
        "ANSIBLE_LOCAL_TEMP": os.path.join(workdir, "ansible-tmp"),
        "ANSIBLE_NOCOLOR": "1",
    })
    for leak in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        env.pop(leak, None)
    started = time.time()
    cpu_before = _cpu()
    result = subprocess.run(
        [os.path.join(BIN, "ansible-playbook"), "-i", "localhost,", "-c", "local", path],
        env=env, capture_output=True, text=True, cwd=workdir,
    )
    wall = time.time() - started
    cpu = tuple(after - before for after, before in zip(_cpu(), cpu_before))
    try:
        report = json.loads(result.stdout)
    except ValueError:
        sys.stderr.write(result.stdout[-5000:] + result.stderr[-5000:])
        raise SystemExit(2)
    task = report["plays"][0]["tasks"][0]
    host = task["hosts"]["localhost"]
    if result.returncode != 0 or host.get("failed"):
        sys.stderr.write(json.dumps(host, indent=1)[-5000:] + result.stderr[-3000:])
        raise SystemExit(2)
    duration = task["task"]["duration"]
    seconds = _seconds(duration["end"]) - _seconds(duration["start"])
    return wall, seconds, host, cpu


def _cpu():
    """(CPU seconds of this process, i.e. the in-process emulator; CPU seconds of finished children,
    i.e. ansible-playbook and the module processes)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime, children.ru_utime + children.ru_stime


def _seconds(stamp):
    from datetime import datetime  # pylint: disable=import-outside-toplevel

    return datetime.strptime(stamp.rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").timestamp()


def main():
    args = parse_args()
    try:
        from local_aws.server import start  # pylint: disable=import-outside-toplevel
    except ImportError as exc:
        sys.exit("bench/subscribe_scale.py: the local AWS emulator (local_aws/) cannot be imported: %s" % exc)

    groups = ["/bench/bulk/g-%05d" % i for i in range(args.groups)]
    loop_groups = ["/bench/loop/g-%05d" % i for i in range(args.loop_sample)]
    counter = WriteCounter()
    workdir = tempfile.mkdtemp(prefix="subscribe-scale-")
    with start(port=0) as emu:
        counter.install()
        print("emulator %s; creating %d + %d log groups in %s ..." % (emu.endpoint, len(groups), len(loop_groups), MEMBER))
        destination_arn, creds = setup(emu, groups, loop_groups)
        base_task = {"filter_name": "logvault", "destination_arn": destination_arn}

        bulk_path = os.path.join(workdir, "bulk.yml")
        write_playbook(bulk_path, emu.endpoint, creds, dict(base_task, log_group_prefix="/bench/bulk/", max_concurrency=args.concurrency))
        loop_path = os.path.join(workdir, "loop.yml")
        write_playbook(loop_path, emu.endpoint, creds, dict(base_task, log_groups=["{{ item }}"]), loop=loop_groups)
        empty_path = os.path.join(workdir, "empty-loop.yml")
        write_playbook(empty_path, emu.endpoint, creds, dict(base_task, log_groups=["{{ item }}"]), loop=[])

        counter.reset()
        bulk_wall, bulk_task, bulk, bulk_cpu = run_playbook(bulk_path, args.collections, workdir)
        bulk_writes_seen = counter.count
        counter.reset()
        again_wall, again_task, again, _unused = run_playbook(bulk_path, args.collections, workdir)
        again_writes_seen = counter.count
        base_wall, _unused, _unused2, base_cpu = run_playbook(empty_path, args.collections, workdir)
        loop_wall, loop_task, loop, loop_cpu = run_playbook(loop_path, args.collections, workdir)

    created = bulk["counts"]["created"]
    loop_created = sum(1 for item in loop["results"] if item["counts"]["created"] == 1)
    per_item = (loop_wall - base_wall) / args.loop_sample
    per_item_task = loop_task / args.loop_sample
    measured = args.loop_sample == args.groups
    loop_est = loop_wall if measured else base_wall + per_item * args.groups
    loop_task_est = loop_task if measured else per_item_task * args.groups
    ratio = loop_est / bulk_wall
    # CPU seconds (emulator + ansible-playbook + modules) depend much less on other load than wall time.
    bulk_cpu_total = sum(bulk_cpu)
    per_item_cpu = (sum(loop_cpu) - sum(base_cpu)) / args.loop_sample
    loop_cpu_est = sum(loop_cpu) if measured else sum(base_cpu) + per_item_cpu * args.groups
    ratio_cpu = loop_cpu_est / bulk_cpu_total
    ratio_task = loop_task_est / bulk_task

    print("")
    print("groups subscribed by one bulk task: %d (created %d, max_concurrency %d)" % (args.groups, created, args.concurrency))
    print("bulk task:        wall %7.2f s (ansible-playbook start to end), task %7.2f s" % (bulk_wall, bulk_task))
    print("loop baseline:    %d items really run: wall %.2f s, task %.2f s; empty-loop playbook %.2f s"
          % (args.loop_sample, loop_wall, loop_task, base_wall))
    print("                  per item %.3f s wall, %.3f s task (created %d of %d)" % (per_item, per_item_task, loop_created, args.loop_sample))
    print("loop for %d groups: %s wall %.1f s, task %.1f s"
          % (args.groups, "MEASURED" if measured else "EXTRAPOLATED (base + per_item x groups)", loop_est, loop_task_est))
    print("CPU seconds:      bulk %.2f (emulator %.2f, ansible+module %.2f); loop per item %.3f; loop for %d groups %.1f"
          % (bulk_cpu_total, bulk_cpu[0], bulk_cpu[1], per_item_cpu, args.groups, loop_cpu_est))
    print("ratio loop/bulk:  %.1fx wall, %.1fx task time, %.1fx CPU (target >= %.0fx, on wall time)"
          % (ratio, ratio_task, ratio_cpu, RATIO_TARGET))
    print("bulk first run:   write_calls %d reported, %d seen at the emulator" % (bulk["write_calls"], bulk_writes_seen))
    print("idempotent rerun: changed=%s, write_calls %d reported, %d seen at the emulator (target 0); wall %.2f s, task %.2f s"
          % (again["changed"], again["write_calls"], again_writes_seen, again_wall, again_task))

    missed = []
    if created != args.groups:
        missed.append("bulk created %d of %d groups" % (created, args.groups))
    if ratio < RATIO_TARGET:
        missed.append("ratio %.1fx below %.0fx" % (ratio, RATIO_TARGET))
    if again["changed"] or again["write_calls"] or again_writes_seen:
        missed.append("the second run wrote")
    if missed:
        print("TARGET MISSED: " + "; ".join(missed))
        return 1
    print("targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
