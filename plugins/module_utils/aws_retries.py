# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Retry decorators of the logvault.aws modules, built on amazon.aws's AWSRetry.

amazon.aws's ``AWSRetry.jittered_backoff(catch_extra_error_codes=[...])`` matches an error
by its code only. Two kinds of errors need more:

* **IAM propagation.** A role created or changed a second earlier is not yet usable by the
  service that must assume it (IAM is eventually consistent:
  https://docs.aws.amazon.com/IAM/latest/UserGuide/troubleshoot_general.html#troubleshoot_general_eventual-consistency).
  The service then answers a generic validation code (``InvalidParameterException``,
  ``InvalidArgumentException``, ``InvalidParameterValueException``) that also reports real
  mistakes, so the retry must match the code AND the message. :data:`IAM_PROPAGATION`
  lists exactly the (code, message) pairs each service returns.
* **Service throttling codes** that AWSRetry does not know (Firehose's
  ``LimitExceededException``), given as plain codes.

:class:`LogvaultRetry` accepts both in ``catch_extra_error_codes``: a plain string is a
code, a ``(code, text)`` pair matches that code when ``text`` occurs in the message.
:func:`propagation_retry` bounds the total wait to about two minutes.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import copy
import random

from ansible_collections.amazon.aws.plugins.module_utils.cloud import BackoffIterator
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# (error code, text of the message) of each service while a new role has not propagated.
# The texts are those AWS returns (the same substrings Terraform's AWS provider retries on).
IAM_PROPAGATION = {
    # CloudWatch Logs PutDestination, PutSubscriptionFilter and PutAccountPolicy test the
    # target with the role before saving: "Could not deliver test message to specified
    # destination. Check if the destination is valid." / "... specified Kinesis stream. Check
    # if the given kinesis stream is in ACTIVE state." / "... specified Firehose stream. ...".
    "logs": (
        ("InvalidParameterException", "Could not deliver test message to specified"),
    ),
    # Firehose CreateDeliveryStream: "Firehose is unable to assume role arn:aws:iam::...:role/...
    # Please check the role provided." and, while the role's policy propagates, "Role ... is
    # not authorized to perform: kinesis:DescribeStream on resource ...".
    "firehose": (
        ("InvalidArgumentException", "Firehose is unable to assume role"),
        ("InvalidArgumentException", "is not authorized to perform"),
    ),
    # Lambda CreateEventSourceMapping, CreateFunction and UpdateFunctionConfiguration (lambda_function):
    # "The role defined for the function cannot be assumed by Lambda.", "The provided execution role
    # does not have permissions to call ..." and
    # "Cannot access stream arn:... Please ensure the role can perform the GetRecords,
    # GetShardIterator, DescribeStream, and ListStreams Actions on your stream in IAM."
    "lambda": (
        ("InvalidParameterValueException", "cannot be assumed by Lambda"),
        ("InvalidParameterValueException", "execution role does not have permissions"),
        ("InvalidParameterValueException", "ensure the role can perform"),
    ),
    # EventBridge Scheduler CreateSchedule / UpdateSchedule check that Scheduler may assume the
    # target's role: "The execution role you provide must allow AWS EventBridge Scheduler to
    # assume the role." (ValidationException), also while a new role's trust policy propagates.
    "scheduler": (
        ("ValidationException", "must allow AWS EventBridge Scheduler to assume the role"),
    ),
}

# Bounded retry for IAM propagation: 12 attempts, 11 waits of 2, 4, 8 then 15 s, each
# between half and all of that ("equal jitter"): 67 to 134 s in total, about two minutes.
PROPAGATION_RETRIES = 12
PROPAGATION_DELAY = 2
PROPAGATION_MAX_DELAY = 15


class ErrorKey(tuple):
    """(code, message) of a ClientError, as LogvaultRetry.found receives it."""

    __slots__ = ()

    def __new__(cls, code, message):
        return tuple.__new__(cls, (code or "", message or ""))


def error_matches(code, message, catch_extra_error_codes):
    """True when (code, message) is one of ``catch_extra_error_codes`` (codes or (code, text) pairs)."""
    for item in catch_extra_error_codes or ():
        if isinstance(item, str):
            if item == code:
                return True
        elif item[0] == code and item[1] in (message or ""):
            return True
    return False


class LogvaultRetry(AWSRetry):
    """AWSRetry whose ``catch_extra_error_codes`` may hold (code, message text) pairs."""

    @staticmethod
    def status_code_from_exception(error):
        details = error.response.get("Error", {})
        return ErrorKey(details.get("Code"), details.get("Message"))

    @staticmethod
    def found(response_code, catch_extra_error_codes=None):
        code, message = response_code
        if AWSRetry.found(code):
            return True
        return error_matches(code, message, catch_extra_error_codes)

    @classmethod
    def jittered_backoff(cls, retries=10, delay=3, backoff=2.0, max_delay=60, catch_extra_error_codes=None):
        """AWSRetry.jittered_backoff, safe for calls that retry at the same time in several threads."""
        return cls.base_decorator(
            retries=retries,
            found=cls.found,
            status_code_from_exception=cls.status_code_from_exception,
            catch_extra_error_codes=catch_extra_error_codes,
            sleep_time_generator=_PerCallBackoff(delay=delay, backoff=backoff, max_delay=max_delay, jitter=True),
        )

    @classmethod
    def equal_jitter_backoff(cls, retries, delay, backoff=2.0, max_delay=60, catch_extra_error_codes=None):
        """Like jittered_backoff, but each wait is between half and all of the nominal delay,
        so the total wait has a lower bound as well as an upper one."""
        return cls.base_decorator(
            retries=retries,
            found=cls.found,
            status_code_from_exception=cls.status_code_from_exception,
            catch_extra_error_codes=catch_extra_error_codes,
            sleep_time_generator=_EqualJitter(delay=delay, backoff=backoff, max_delay=max_delay),
        )


class _PerCallBackoff(BackoffIterator):
    """A BackoffIterator whose every iteration (one decorated call) gets its own delay state.

    amazon.aws's BackoffIterator keeps ``current_delay`` on the one object that the decorator
    holds, and ``iter()`` resets it: two calls retrying at the same time in two threads (the
    regions of a multi-region module) reset and double each other's delays, so one call's
    waits can add up to far less than the bound. Each iteration here is a copy.
    """

    def __iter__(self):
        running = copy.copy(self)
        running.current_delay = self.delay
        return running

    def __next__(self):
        return BackoffIterator.__next__(self)


class _EqualJitter(_PerCallBackoff):
    def __next__(self):
        nominal = min(self.current_delay, self.max_delay) if self.max_delay is not None else self.current_delay
        self.current_delay *= self.backoff
        return nominal / 2.0 + random.uniform(0.0, nominal / 2.0)


def propagation_retry(service, extra_codes=()):
    """Retry decorator for a client of ``service`` ("logs", "firehose", "lambda" or "scheduler").

    Retries AWSRetry's throttling codes, ``extra_codes`` and the IAM propagation errors of
    the service (code AND message) for about two minutes (see PROPAGATION_* above).
    """
    return LogvaultRetry.equal_jitter_backoff(
        retries=PROPAGATION_RETRIES,
        delay=PROPAGATION_DELAY,
        max_delay=PROPAGATION_MAX_DELAY,
        catch_extra_error_codes=list(extra_codes) + list(IAM_PROPAGATION[service]),
    )


def max_propagation_wait():
    """Upper bound, in seconds, of the waits of propagation_retry (for the docs and tests)."""
    total = 0.0
    delay = PROPAGATION_DELAY
    for dummy in range(PROPAGATION_RETRIES - 1):
        total += min(delay, PROPAGATION_MAX_DELAY)
        delay *= 2
    return total
