# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verdict of `make chaos` (tools/chaos.py check()): it fails on any loss, in either
place, and reports the duplicate ratio. Fed deliberately lossy and duplicated results."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import importlib.util
import os
import sys

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
sys.path.insert(0, os.path.join(REPO, "tools"))
SPEC = importlib.util.spec_from_file_location("chaos", os.path.join(REPO, "tools", "chaos.py"))
chaos = importlib.util.module_from_spec(SPEC)
SPEC.loader.exec_module(chaos)

SENT = ["chaos-0123abcd-0-111111111111-us-east-1-%d" % n for n in range(4)]


def test_nothing_lost_passes_and_reports_no_duplicates():
    verdict = chaos.check(SENT, dict.fromkeys(SENT, 1), dict.fromkeys(SENT, 1))
    assert verdict["ok"]
    assert verdict["duplicates_archive"] == 0.0 and verdict["duplicates_search"] == 0.0


def test_one_event_missing_from_the_archive_fails_and_names_it():
    archive = dict.fromkeys(SENT[1:], 1)
    verdict = chaos.check(SENT, archive, dict.fromkeys(SENT, 1))
    assert not verdict["ok"]
    assert verdict["lost_archive"] == [SENT[0]]
    assert verdict["lost_search"] == []


def test_one_event_missing_from_search_fails_even_if_archived_twice():
    search = dict.fromkeys(SENT, 1)
    search[SENT[3]] = 0
    verdict = chaos.check(SENT, dict.fromkeys(SENT, 2), search)
    assert not verdict["ok"]
    assert verdict["lost_search"] == [SENT[3]]
    assert verdict["duplicates_archive"] == 1.0


def test_duplicates_are_reported_not_failed():
    archive = dict.fromkeys(SENT, 1)
    archive[SENT[0]] = 3
    verdict = chaos.check(SENT, archive, dict.fromkeys(SENT, 1))
    assert verdict["ok"]
    assert verdict["duplicates_archive"] == 0.5


def test_ids_found_that_were_never_sent_do_not_hide_a_loss():
    other = "chaos-0123abcd-0-222222222222-eu-west-1-0"
    verdict = chaos.check(SENT, {other: 4}, {other: 4})
    assert not verdict["ok"]
    assert verdict["lost_archive"] == SENT


def test_nothing_sent_is_not_a_pass():
    assert not chaos.check([], {}, {})["ok"]


def test_the_id_pattern_matches_what_the_load_writes():
    text = '{"message": "{\\"chaos_id\\": \\"%s\\"}"}' % SENT[2]
    assert chaos.ID_PATTERN.findall(text) == [SENT[2]]


def test_an_id_twice_in_one_document_is_one_copy_and_two_documents_are_two():
    doc = '{"message": "{\\"chaos_id\\": \\"%s\\"}", "chaos_id": "%s"}' % (SENT[0], SENT[0])
    counts = {}
    chaos.count_ids(doc, counts)
    assert counts == {SENT[0]: 1}
    chaos.count_ids(doc + "\n" + doc, counts)
    assert counts == {SENT[0]: 3}
