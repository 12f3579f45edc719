# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fixtures for the transform Lambda unit tests; helpers live in transform_fixtures.py."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from transform_fixtures import FakeClock, FakeFirehose, FakeS3, lean_over, load_transform  # noqa: E402  pylint: disable=wrong-import-position


@pytest.fixture(scope="session")
def transform():
    return load_transform()


@pytest.fixture(params=["records", "lean"])
def transport(request, transform):
    """How the transform reaches a FakeFirehose: directly (a boto3-shaped client taking raw
    records) or through a real LeanFirehose (base64 text, SigV4, JSON body) whose HTTP
    layer decodes each request for it (WireHttp TEST DOUBLE)."""
    if request.param == "records":
        return lambda backend: backend
    return lambda backend: lean_over(transform, backend)


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def make_transformer(transform, clock):
    """Build a Transformer with test doubles; returns (transformer, log lines)."""
    built = []

    def build(firehose=None, s3=None, **config):
        config.setdefault("excluded_log_groups", ["/aws/lambda/logvault-transform", "/logvault/*"])
        lines = []
        settings = transform.Config("search", "archive", "dlq-bucket", **config)
        transformer = transform.Transformer(settings, firehose or FakeFirehose(), s3 or FakeS3(), sleep=clock.sleep,
                                            clock=clock, rand=lambda: 0.5, log=lines.append)
        built.append(transformer)
        return transformer, lines

    yield build
    for transformer in built:
        transformer.close()
