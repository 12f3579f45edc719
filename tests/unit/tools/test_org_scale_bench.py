# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The figures bench/org_scale.py computes from a run (not the run itself: the bench is not part of
make test): the CPU ceiling, the recap's changed counts, the central account's share, and the CPU
line. Fed made-up figures and log excerpts."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import re
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, REPO)
SPEC = importlib.util.spec_from_file_location("org_scale", os.path.join(REPO, "bench", "org_scale.py"))
org_scale = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(org_scale)


def test_ceiling_is_the_baseline_over_the_cpu_spread_on_every_core():
    # 528 s of CPU on 2 cores is at least 264 s of wall time: at most 554 / 264 times the baseline.
    assert abs(org_scale.ceiling(554.0, 528.0, 2) - 554.0 / 264.0) < 1e-9
    # More cores raise it, more CPU lowers it.
    assert org_scale.ceiling(554.0, 528.0, 4) > org_scale.ceiling(554.0, 528.0, 2)
    assert org_scale.ceiling(554.0, 600.0, 2) < org_scale.ceiling(554.0, 528.0, 2)
    assert org_scale.ceiling(554.0, 0.0, 2) == float("inf")


def test_ceiling_line_names_the_cpu_that_the_target_allows():
    used = {"ansible": 464.6, "emulator": 46.0, "lambda": 17.4}
    line = org_scale.ceiling_line("rerun", 554.0, used, 2, 100)
    assert "528.0 s of CPU on 2 cores" in line
    assert "at least 264.0 s of wall time" in line
    assert "at most 2.1x the baseline" in line
    # 10x of 554 s is 55.4 s of wall time: 110.8 s of CPU on 2 cores, 1.10 s for each of 101 accounts.
    assert "10x needs at most 110.8 s of CPU (1.10 s per account, the central account counted as one)" in line


def test_a_negative_lambda_share_counts_as_zero():
    used = {"ansible": 10.0, "emulator": 2.0, "lambda": -1e-15}
    assert "12.0 s of CPU" in org_scale.ceiling_line("first", 100.0, used, 2, 1)
    org_scale.CPU["x.log"] = used
    try:
        assert org_scale.cpu_line("x.log").endswith("its Lambda runs 0.0 s")
    finally:
        del org_scale.CPU["x.log"]


def test_recap_reads_changed_per_host():
    output = (
        "PLAY RECAP *********\n"
        "security                   : ok=80   changed=0    unreachable=0    failed=0\n"
        "m300000000000              : ok=9    changed=2    unreachable=0    failed=0\n"
    )
    assert org_scale.recap(output) == {"security": 0, "m300000000000": 2}


def test_central_share_is_the_time_until_the_member_play_starts():
    output = (
        "PLAY [Build the central pipeline, and the member accounts' CloudTrail trails] ***\n"
        "Monday 07 December 2026  21:18:00 +0000 (0:00:00.021)       0:00:00.100 ******* \n"
        "PLAY [Alert on the central stream, and connect the member accounts to the central pipeline] ***\n"
        "TASK [Assert that the central account finished building the pipeline] ***\n"
        "Monday 07 December 2026  21:18:58 +0000 (0:00:00.021)       0:00:58.250 ******* \n"
    )
    assert abs(org_scale.central_share(output) - 58.25) < 1e-9
    assert org_scale.central_share("PLAY [something else] ***\n") == 0.0


def test_the_scope_pattern_reads_service_and_region_from_sigv4():
    header = ("AWS4-HMAC-SHA256 Credential=testing/20261207/eu-west-1/logs/aws4_request, "
              "SignedHeaders=host;x-amz-date, Signature=abc")
    found = org_scale.SCOPE.search(header)
    assert found and (found.group(2), found.group(1)) == ("logs", "eu-west-1")
    assert not re.search(org_scale.SCOPE, "Bearer token")
