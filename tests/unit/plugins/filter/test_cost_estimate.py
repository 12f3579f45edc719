# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The cost_estimate filter and archive_partition_info's summary."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import pytest

from ansible.errors import AnsibleFilterError

from ansible_collections.logvault.aws.plugins.filter.cost_estimate import DEFAULT_PRICES, cost_estimate
from ansible_collections.logvault.aws.plugins.modules.archive_partition_info import summarise

GIB = 1024 ** 3


def test_one_gib_a_day_stored_is_priced_from_the_table():
    report = cost_estimate([{"account_id": "111111111111", "objects": 3, "bytes": GIB}], {"compression_ratio": 1})
    [row] = report["rows"]
    assert row["gb_month"] == 30
    assert row["kinesis"] == pytest.approx(30 * (0.08 + 2 * 0.04))
    assert row["firehose"] == pytest.approx(30 * (2 * 0.029 + 0.02))
    assert row["opensearch_storage"] == pytest.approx(30 * 1.1 * 2 * 0.122)
    assert row["s3_glacier"] == pytest.approx(30 * 0.023)
    assert report["total"]["total"] == pytest.approx(row["total"] + 0.04 * 24 * 30)
    assert report["csv"].splitlines()[0].startswith("account_id,objects,stored_bytes_day,events_day,gb_month,kinesis")
    assert report["csv"].splitlines()[1].startswith("111111111111,3,1073741824,-,30.000,")
    assert report["markdown"].splitlines()[2].startswith("| 111111111111 | 3 | 1073741824 | - | 30.000 |")


def test_prices_are_overridable_and_checked():
    cheap = cost_estimate([{"account_id": "1" * 12, "bytes": GIB}], {"opensearch_gb_month": 0})
    assert cheap["rows"][0]["opensearch_storage"] == 0 and cheap["prices"]["kinesis_ingest_gb"] == DEFAULT_PRICES["kinesis_ingest_gb"]
    with pytest.raises(AnsibleFilterError, match="unknown price 'kinesis'"):
        cost_estimate([], {"kinesis": 1})
    with pytest.raises(AnsibleFilterError, match="must not be negative"):
        cost_estimate([], {"glacier_gb_month": -1})
    with pytest.raises(AnsibleFilterError, match="needs account_id and bytes"):
        cost_estimate([{"account_id": "1" * 12}])


def test_partition_summary_per_account():
    prefixes = ["logs/account_id=222222222222/", "logs/account_id=111111111111/", "logs/other/"]
    listings = {"logs/account_id=111111111111/": [{"Size": 10}, {"Size": 5}], "logs/account_id=222222222222/": []}
    assert summarise(prefixes, listings) == [{"account_id": "111111111111", "objects": 2, "bytes": 15},
                                             {"account_id": "222222222222", "objects": 0, "bytes": 0}]


def test_events_per_account_are_reported_when_given():
    from ansible_collections.logvault.aws.plugins.filter.cost_estimate import cost_estimate  # pylint: disable=import-outside-toplevel
    report = cost_estimate([{"account_id": "111111111111", "objects": 2, "bytes": 1000, "events": 1500},
                            {"account_id": "222222222222", "objects": 1, "bytes": 10}])
    assert [row["events_day"] for row in report["rows"]] == [1500, None]
    assert report["total"]["events_day"] == 1500
    lines = report["csv"].splitlines()
    assert lines[1].split(",")[3] == "1500" and lines[2].split(",")[3] == "-"
