# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The emulator's strictness switches, and their defaults, in one place.

Every switch is an environment variable read when it is used (so a test can change it
with ``monkeypatch.setenv``). When a variable is unset, the value in :data:`DEFAULTS`
applies: **this dict is the default of the whole offline suite** (pytest, integration,
molecule, ``make demo``), since each of them starts the emulator without setting these.
To make the suite stricter, change a value here (and nowhere else).
"""

import os

DEFAULTS = {
    # IAM eventual consistency (docs/local-aws.md, "IAM eventual consistency"): seconds
    # during which a role just created or changed is refused by services handed it.
    # 0 = off. Off until the collection's modules retry these errors (issue 15 report).
    "LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "0",
    # DynamoDB UpdateTimeToLive (docs/local-aws.md, "Strict service rules"): seconds during
    # which a table's TTL cannot be changed again. AWS: 3600. 0 = off, because the
    # dynamodb_time_to_live integration target changes TTL three times in a row (issue 15 report).
    "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS": "0",
    # Trust policies (docs/local-aws.md, "Trust policies"): "1" = a service refuses a role
    # whose trust policy does not let it assume the role with the context it sends.
    "LOGVAULT_AWS_TRUST_POLICIES": "0",
    # Fault injection (docs/local-aws.md, "Fault injection"): empty = none.
    "LOGVAULT_AWS_FAULTS": "",
    "LOGVAULT_AWS_FAULTS_SEED": "0",
    # OpenSearch delivery (docs/local-aws.md, "OpenSearch delivery"): the base URL of an
    # OpenSearch stand-in (the test double in tests/opensearch_stub) that the search streams
    # send their documents to with a SigV4-signed _bulk; empty = documents are not indexed.
    "LOGVAULT_AWS_OPENSEARCH_URL": "",
    # Its CA file and the access key / secret Firehose signs with (key:secret).
    "LOGVAULT_AWS_OPENSEARCH_CA": "",
    "LOGVAULT_AWS_OPENSEARCH_CREDENTIAL": "firehose:firehose",
}


def get(name):
    """The variable's value, else its default from :data:`DEFAULTS`."""
    value = os.environ.get(name)
    if value is None or value == "":
        return DEFAULTS[name]
    return value


def get_float(name):
    value = get(name)
    try:
        number = float(value)
    except ValueError:
        raise ValueError("%s must be a number of seconds, got %r" % (name, value))
    if number < 0:
        raise ValueError("%s must be >= 0, got %r" % (name, value))
    return number
