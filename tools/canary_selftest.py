# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""TEST HELPER: the continuous canary (docs/health.md) on a converged estate in the local AWS emulator.

Run by the molecule `member` scenario's verify (inventories/local: two member accounts, two regions;
the canary monitor's alarms have 10-second high-resolution periods and MISSING_AFTER 30 s there).
In the emulator each flush fires every schedule once (local_aws/services/scheduler.py) and
evaluates every alarm at its end (local_aws/services/cloudwatch_alarms.py).

* ``metrics``: after two flushes (the canaries fire and are delivered; the monitor, fired at the
  start of the next flush, finds them), ``Logvault/Canary`` ``CanaryLatency`` exists for every
  member account, region and path (archive, search).
* ``alarms --silent ACCOUNT ...``: flushes every 2 s until the canary alarms of every silent account
  are ALARM and every other account's are OK (at most ``--timeout`` seconds; an account that was
  briefly without flushes may be in ALARM until a 10-second period holds only healthy datapoints).
  Without ``--silent``: until every canary alarm is OK.
Exits 0 when that holds; prints the alarm states and what was missing otherwise.
"""

from __future__ import absolute_import, division, print_function

import argparse
import sys
import time
import urllib.request

import boto3

CENTRAL = "123456789012"
MEMBERS = ("111111111111", "222222222222")
REGIONS = ("us-east-1", "eu-west-1")
NAMESPACE = "Logvault/Canary"
ALARM_PREFIX = "logvault-canary-"


def cloudwatch(endpoint):
    return boto3.client("cloudwatch", endpoint_url=endpoint, region_name=REGIONS[0],
                        aws_access_key_id="testing", aws_secret_access_key="testing")


def flush(endpoint):
    request = urllib.request.Request(endpoint + "/_logvault/flush", data=b"", method="POST")
    with urllib.request.urlopen(request, timeout=300) as response:  # nosec B310: the local emulator
        response.read()


def latency_metrics(cw):
    found = set()
    for page in cw.get_paginator("list_metrics").paginate(Namespace=NAMESPACE, MetricName="CanaryLatency"):
        for metric in page["Metrics"]:
            dims = dict((d["Name"], d["Value"]) for d in metric["Dimensions"])
            found.add((dims.get("Account"), dims.get("Region"), dims.get("Path")))
    return found


def alarm_states(cw):
    states = {}
    for page in cw.get_paginator("describe_alarms").paginate(AlarmNamePrefix=ALARM_PREFIX):
        for alarm in page["MetricAlarms"]:
            states[alarm["AlarmName"][len(ALARM_PREFIX):]] = alarm["StateValue"]
    return states


def check_metrics(endpoint):
    flush(endpoint)
    flush(endpoint)
    expected = set((a, r, p) for a in MEMBERS for r in REGIONS for p in ("archive", "search"))
    missing = sorted(expected - latency_metrics(cloudwatch(endpoint)))
    for row in missing:
        print("no CanaryLatency for account %s region %s path %s" % row)
    print("canary_selftest metrics: %d of %d (account, region, path) published" % (len(expected) - len(missing), len(expected)))
    return 1 if missing else 0


def check_alarms(endpoint, silent, timeout):
    cw = cloudwatch(endpoint)
    wanted = dict(("%s-%s" % (a, r), "ALARM" if a in silent else "OK") for a in MEMBERS for r in REGIONS)
    deadline = time.time() + timeout
    states = {}
    while time.time() < deadline:
        flush(endpoint)
        states = alarm_states(cw)
        if all(states.get(k) == v for k, v in wanted.items()):
            break
        time.sleep(2)
    for name in sorted(wanted):
        print("%-28s expected %-6s got %s" % (ALARM_PREFIX + name, wanted[name], states.get(name)))
    wrong = [k for k, v in wanted.items() if states.get(k) != v]
    print("canary_selftest alarms: %d wrong" % len(wrong))
    return 1 if wrong else 0


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("mode", choices=["metrics", "alarms"])
    parser.add_argument("--endpoint", required=True)
    parser.add_argument("--silent", nargs="*", default=[])
    parser.add_argument("--timeout", type=float, default=120)
    args = parser.parse_args(argv)
    if args.mode == "metrics":
        return check_metrics(args.endpoint)
    return check_alarms(args.endpoint, set(args.silent), args.timeout)


if __name__ == "__main__":
    sys.exit(main())
