# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One module run for every region of an account (option ``regions``).

CloudWatch Logs has no multi-region call: each region is its own endpoint. A task looped over
17 regions starts 17 Python processes on the control node, each importing boto3 and building
its client; at organization scale that CPU is the limit (docs/organization-scale.md). The
modules that take ``regions`` do the same calls as the loop, in one process: one boto3 session,
one client per region, one thread per region.

A region's work is a function ``work(client, region)`` that returns a result dict or raises
:class:`RegionError`; it never calls ``exit_json``/``fail_json`` (that would end the process from
a thread). :func:`run_regions` runs every region and :func:`region_failure_message` names every
region that failed.
"""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import weakref
from concurrent.futures import ThreadPoolExecutor

try:
    import boto3
    import botocore
except ImportError:
    pass  # Handled by AnsibleAWSModule

from ansible.module_utils.common.text.converters import to_native

from ansible_collections.amazon.aws.plugins.module_utils.botocore import get_aws_connection_info
from ansible_collections.amazon.aws.plugins.module_utils.retries import RetryingBotoClientWrapper

from ansible_collections.logvault.aws.plugins.module_utils.cloudwatchlogs import ValidationError

# Regions handled at once. 17 (the regions enabled by default) fit; a higher count queues.
MAX_REGION_THREADS = 17


class RegionError(Exception):
    """A region's work failed. ``extra`` goes into that region's result; ``error`` is the boto3 exception, if any."""

    def __init__(self, msg, error=None, **extra):
        super(RegionError, self).__init__(msg)
        self.msg = msg
        self.error = error
        self.extra = extra

    def describe(self):
        """The message with the AWS error text appended, as fail_json_aws words it."""
        if self.error is None:
            return self.msg
        return "%s: %s" % (self.msg, to_native(self.error))

    def error_code(self):
        if isinstance(self.error, botocore.exceptions.ClientError):
            return self.error.response.get("Error", {}).get("Code")
        return None


def regional_clients(module, service, regions, retry_decorator=None, config=None):
    """{region: client}, built from ONE boto3 session (per module object and profile) with the module's credentials and endpoint.

    ``module.client()`` makes a new session (and loads the service model again) for every
    client: about 75 ms each; one session makes the next clients in about 5 ms.
    """
    dummy, endpoint_url, connect = get_aws_connection_info(module)
    connect = dict(connect)
    profile = connect.pop("profile_name", None)
    merged = botocore.config.Config(user_agent_extra="logvault.aws")
    for key in ("config", "aws_config"):
        extra = connect.pop(key, None)
        if extra:
            merged = merged.merge(extra if isinstance(extra, botocore.config.Config) else botocore.config.Config(**extra))
    if config:
        merged = merged.merge(botocore.config.Config(**config))
    session = _session(module, profile)
    clients = {}
    for region in regions:
        client = session.client(service, config=merged, region_name=region, endpoint_url=endpoint_url, **connect)
        if not clients:
            load_paginator_model(client)
        clients[region] = RetryingBotoClientWrapper(client, retry_decorator) if retry_decorator else client
    return clients


_SESSIONS = weakref.WeakKeyDictionary()


def _session(module, profile):
    """One boto3 session per module object and profile, whatever the services.

    The session's loader caches what it read from botocore's data directories (the list of
    services for each model type, and the models): a second session for a second service (the
    canary's Lambda and Scheduler clients) would scan and read them again. Credentials are
    passed to each client, not held by the session; a new module object (a new module run, or
    a new test) gets a new session.
    """
    sessions = _SESSIONS.setdefault(module, {})
    if profile not in sessions:
        sessions[profile] = boto3.session.Session(profile_name=profile)
    return sessions[profile]


def load_paginator_model(client):
    """Load the service's paginator model into the session's loader once, before the region threads.

    Every client's first ``get_paginator``/``can_paginate`` asks the session's (shared, caching)
    loader for the paginator model, and the loader's first such request lists every service's
    data directory. When the region threads do that at once, each of them misses the cache and
    does it again: a fifth of a 17-region module run's CPU. One request here, from this thread,
    fills the cache, and the threads' requests are cache hits.
    """
    operations = client.meta.service_model.operation_names
    if operations:
        client.can_paginate(botocore.xform_name(operations[0]))


def run_regions(clients, work):
    """Run ``work(client, region)`` for every region at once; {region: result or RegionError}."""
    regions = list(clients)

    def one(region):
        try:
            return work(clients[region], region)
        except RegionError as e:
            return e
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
            return RegionError("AWS call failed", error=e)

    if len(regions) == 1:
        return {regions[0]: one(regions[0])}
    with ThreadPoolExecutor(max_workers=min(MAX_REGION_THREADS, len(regions))) as pool:
        return dict(zip(regions, pool.map(one, regions)))


def region_failure_message(outcomes, what):
    """'<what> failed in N of M regions: us-east-1: ...; eu-west-1: ...', or None when none failed."""
    failed = [(region, outcome) for region, outcome in outcomes.items() if isinstance(outcome, RegionError)]
    if not failed:
        return None
    return "%s failed in %d of %d regions: %s" % (
        what, len(failed), len(outcomes), "; ".join("%s: %s" % (region, error.describe()) for region, error in failed))


def validate_regions(value, param, validate_region):
    """A non-empty list of distinct region names (``validate_region`` checks one)."""
    if not value:
        raise ValidationError(param, "must list at least one region")
    seen = set()
    for region in value:
        validate_region(region, param)
        if region in seen:
            raise ValidationError(param, "lists %s twice" % region)
        seen.add(region)
    return list(value)
