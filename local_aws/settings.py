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
    # 0 = off. AWS documents no figure ("eventually consistent"); a few seconds is enough
    # for every refusal path to run in the offline suite while keeping `make demo` short.
    "LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "6",
    # DynamoDB UpdateTimeToLive (docs/local-aws.md, "Strict service rules"): seconds during
    # which a table's TTL cannot be changed again. AWS: 3600 (the suite uses AWS's figure).
    "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS": "3600",
    # Trust policies (docs/local-aws.md, "Trust policies"): "1" = a service refuses a role
    # whose trust policy does not let it assume the role with the context it sends.
    "LOGVAULT_AWS_TRUST_POLICIES": "1",
    # Service roles (docs/local-aws.md, "Service roles evaluated"): "1" = a service acting
    # with a role (CloudWatch Logs, Firehose, Lambda mappings and functions) may do only what
    # the role's identity policies allow.
    "LOGVAULT_AWS_SERVICE_ROLE_POLICIES": "1",
    # Callers' identity policies (docs/local-aws.md, "Callers' identity policies"): "1" = a
    # request signed with an assumed role's credentials (a deployer role) may do only what the
    # role's identity policies allow, with iam:PassRole for the roles it hands to services.
    # Off for the suite until the whole suite has run with it on (some of it assumes stand-in
    # roles with policies written for other purposes); tests/integration/test_deployer.py turns it on.
    "LOGVAULT_AWS_CALLER_POLICIES": "0",
    # KMS key policies (docs/local-aws.md, "KMS key policies"): "1" = a service or role using a
    # customer managed key needs the key policy (with kms:ViaService, kms:CallerAccount and the
    # service's encryption context) and, when the key policy delegates to the account, its IAM policy.
    "LOGVAULT_AWS_KMS_KEY_POLICIES": "1",
    # Resource policies that deny (docs/local-aws.md, "Resource policies that deny"): "1" = S3
    # bucket policy Deny statements refuse requests; EventBridge and CloudWatch alarms publish to
    # SNS only when the topic policy (and its key policy) allow the service.
    "LOGVAULT_AWS_RESOURCE_POLICIES": "1",
    # Lambda runtime (docs/local-aws.md, "Lambda runtime and SDK"): the Python interpreter that
    # runs every Lambda invocation; empty = build/lambda-venv/bin/python at the repository root
    # (`make venv` builds it from lambda-requirements.txt, without the toolchain's packages).
    "LOGVAULT_AWS_LAMBDA_PYTHON": "",
    # EventBridge Scheduler (docs/local-aws.md, "Schedules that fire"): how many schedules due at
    # the same time fire at once (each firing runs a Lambda subprocess); empty = the number of cores, at least 2.
    "LOGVAULT_AWS_SCHEDULER_CONCURRENCY": "",
    # Background firings (docs/local-aws.md, "EventBridge Scheduler schedules fire"): how much lower
    # (0-19) the CPU priority of the functions the scheduler's background worker runs is; they run on
    # Lambda's fleet on AWS, so they take only the CPU the clients leave idle. 0 = the emulator's own.
    "LOGVAULT_AWS_BACKGROUND_NICE": "19",
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


# The rules that make the emulator refuse what plain moto allows, with their "off" value.
# Their DEFAULTS apply only while an emulator serves in this process: the emulator's patches
# stay installed in moto after it stops, and a test that then uses moto directly (mock_aws)
# must get moto's own behaviour, not a refusal of its stand-in roles. A value set in the
# environment applies whether or not an emulator serves (a test of a rule sets it itself).
SERVING_ONLY = {
    "LOGVAULT_AWS_IAM_PROPAGATION_SECONDS": "0",
    "LOGVAULT_AWS_DYNAMODB_TTL_INTERVAL_SECONDS": "0",
    "LOGVAULT_AWS_TRUST_POLICIES": "0",
    "LOGVAULT_AWS_SERVICE_ROLE_POLICIES": "0",
    "LOGVAULT_AWS_KMS_KEY_POLICIES": "0",
    "LOGVAULT_AWS_RESOURCE_POLICIES": "0",
}


def _serving():
    from local_aws import hooks  # pylint: disable=import-outside-toplevel
    return hooks.running() > 0


def get(name):
    """The variable's value, else its default from :data:`DEFAULTS` (see :data:`SERVING_ONLY`)."""
    value = os.environ.get(name)
    if value is None or value == "":
        if name in SERVING_ONLY and not _serving():
            return SERVING_ONLY[name]
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
