# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""aws_retries: the backoff of a decorator shared by the threads of a multi-region module."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import threading
from unittest import mock

import botocore.exceptions
import pytest

from ansible_collections.logvault.aws.plugins.module_utils import aws_retries


def _error(code, message):
    return botocore.exceptions.ClientError({"Error": {"Code": code, "Message": message}}, "PutDestination")


@pytest.mark.parametrize("make", [
    lambda: aws_retries._EqualJitter(delay=2, backoff=2.0, max_delay=15),
    lambda: aws_retries._PerCallBackoff(delay=2, backoff=2.0, max_delay=15, jitter=False),
])
def test_each_iteration_has_its_own_delays(make):
    generator = make()
    first = iter(generator)
    early = [next(first) for dummy in range(3)]
    second = iter(generator)  # another call starts retrying meanwhile (another region's thread)
    next(second)
    # The first call goes on from its own state (nominal 16, capped at 15), not from the second's reset.
    later = next(first)
    assert early[0] <= 2 and early[2] >= 4
    assert later >= 7.5, "the second iteration reset the first one's delay"


def test_a_call_that_starts_retrying_later_does_not_reset_the_first_ones_waits():
    """Region a retries; after its third wait region b starts retrying with the same decorator.
    Each call's n-th wait stays within its own equal-jitter bounds (2, 4, 8, then 15 s nominal)."""
    decorator = aws_retries.propagation_retry("logs")
    waits = {"a": [], "b": []}
    b_may_start, b_started, a_done = threading.Event(), threading.Event(), threading.Event()

    def call():
        failures = [aws_retries.IAM_PROPAGATION["logs"][0]] * (aws_retries.PROPAGATION_RETRIES - 1)

        @decorator
        def put():
            if failures:
                code, text = failures.pop()
                raise _error(code, text)
            return "ok"

        return put()

    def sleep(seconds):
        name = threading.current_thread().name
        waits[name].append(seconds)
        if name == "a" and len(waits["a"]) == 3:
            b_may_start.set()
            assert b_started.wait(10)
        if name == "b" and len(waits["b"]) == 1:
            b_started.set()
            assert a_done.wait(10)  # b holds still while a goes on, so a's waits are a's alone

    def run_a():
        try:
            call()
        finally:
            a_done.set()

    def run_b():
        assert b_may_start.wait(10)
        call()

    with mock.patch("time.sleep", sleep):
        threads = [threading.Thread(target=run_a, name="a"), threading.Thread(target=run_b, name="b")]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    for name, slept in waits.items():
        assert len(slept) == aws_retries.PROPAGATION_RETRIES - 1, (name, slept)
        for index, seconds in enumerate(slept):
            nominal = min(aws_retries.PROPAGATION_DELAY * 2 ** index, aws_retries.PROPAGATION_MAX_DELAY)
            assert nominal / 2.0 <= seconds <= nominal, (name, index, slept)
