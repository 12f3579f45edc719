# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function

__metaclass__ = type

DOCUMENTATION = r"""
name: cost_estimate
short_description: Estimate a month of the logvault pipeline's cost per account from a day of archive bytes
version_added: 0.1.0
author: logvault.aws maintainers (@logvault)
description:
  - Takes the day's archive partitions per account (as M(logvault.aws.archive_partition_info) returns them) and a
    price table, and returns per account and in total the day's bytes, the month's volume (30 days of that day) and
    an estimate of the month's Kinesis, Lambda, Firehose, OpenSearch storage and S3/Glacier cost, with the report as
    Markdown and CSV.
  - The archive stores gzip-compressed NDJSON; the uncompressed volume is the stored bytes times
    C(compression_ratio). See docs/cost-report.md for every price and assumption.
options:
  _input:
    description:
      - Per account, C(account_id), C(objects) and C(bytes) (stored, compressed) of one day, and optionally C(events),
        the day's log events of the account (the transform Lambda's C(AccountEvents) metric, which
        M(logvault.aws.cloudwatch_metric_totals_info) sums); reported as C(events_day), V(-) when not given.
    type: list
    elements: dict
    required: true
  prices:
    description: The price table; keys not given keep their defaults (docs/cost-report.md).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Estimate the month
  ansible.builtin.set_fact:
    report: "{{ partitions.accounts | logvault.aws.cost_estimate({'opensearch_gb_month': 0.135}) }}"
"""

RETURN = r"""
_value:
  description: C(rows) (per account), C(total), C(prices) (the table used), C(markdown) and C(csv).
  type: dict
"""

from ansible.errors import AnsibleFilterError

GB = 1024.0 ** 3
DAYS = 30
# Example list prices, us-east-1, on demand, in USD (docs/cost-report.md cites the pricing pages).
# They change: override them with the prices of your region and agreement.
DEFAULT_PRICES = {
    "compression_ratio": 8.0,             # uncompressed bytes per stored (gzip) byte in the archive
    "kinesis_ingest_gb": 0.08,            # on-demand stream: per GB written
    "kinesis_retrieval_gb": 0.04,         # on-demand stream: per GB read, per consumer
    "kinesis_consumers": 2,               # the transform and the alerts Lambdas
    "kinesis_stream_hour": 0.04,          # on-demand stream-hour (shared by all accounts)
    "lambda_gb": 0.002,                   # both Lambdas, per GB of logs (GB-seconds and requests; bench/ figures)
    "firehose_ingest_gb": 0.029,          # Direct PUT, per GB, per stream (5 KB rounding not modelled)
    "firehose_streams": 2,                # search and archive
    "firehose_partitioning_gb": 0.02,     # dynamic partitioning of the archive stream, per GB
    "opensearch_gb_month": 0.122,         # gp3 EBS storage, per GB-month
    "opensearch_index_overhead": 1.1,     # index size per uncompressed byte
    "opensearch_replicas": 1,
    "search_retention_days": 30,
    "s3_standard_gb_month": 0.023,        # archive in S3 Standard
    "glacier_gb_month": 0.0036,           # archive in Glacier Flexible Retrieval
    "archive_standard_days": 30,          # days in Standard before the lifecycle moves objects to Glacier
}
COLUMNS = ("account_id", "objects", "stored_bytes_day", "events_day", "gb_month", "kinesis", "lambda", "firehose",
           "opensearch_storage", "s3_glacier", "total")


def _prices(overrides):
    prices = dict(DEFAULT_PRICES)
    for key, value in (overrides or {}).items():
        if key not in DEFAULT_PRICES:
            raise AnsibleFilterError("cost_estimate - unknown price %r (known: %s)" % (key, ", ".join(sorted(DEFAULT_PRICES))))
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise AnsibleFilterError("cost_estimate - price %r must be a number, got %r" % (key, value))
        if number < 0:
            raise AnsibleFilterError("cost_estimate - price %r must not be negative, got %r" % (key, value))
        prices[key] = number
    return prices


def _row(account, objects, stored, p, events=None):
    gb_month = stored * p["compression_ratio"] * DAYS / GB
    search_gb = gb_month / DAYS * min(p["search_retention_days"], DAYS * 12) * p["opensearch_index_overhead"] * (1 + p["opensearch_replicas"])
    stored_gb_month = stored * DAYS / GB  # one month of archive objects, as stored
    standard = min(p["archive_standard_days"], DAYS) / DAYS
    row = {
        "account_id": account, "objects": objects, "stored_bytes_day": stored, "events_day": events, "gb_month": gb_month,
        "kinesis": gb_month * (p["kinesis_ingest_gb"] + p["kinesis_retrieval_gb"] * p["kinesis_consumers"]),
        "lambda": gb_month * p["lambda_gb"],
        "firehose": gb_month * (p["firehose_ingest_gb"] * p["firehose_streams"] + p["firehose_partitioning_gb"]),
        "opensearch_storage": search_gb * p["opensearch_gb_month"],
        "s3_glacier": stored_gb_month * (standard * p["s3_standard_gb_month"] + (1 - standard) * p["glacier_gb_month"]),
    }
    row["total"] = sum(row[k] for k in ("kinesis", "lambda", "firehose", "opensearch_storage", "s3_glacier"))
    return row


def _fmt(key, value):
    if key in ("account_id",):
        return str(value)
    if key in ("objects", "stored_bytes_day", "events_day"):
        return "-" if value is None else "%d" % value
    if key == "gb_month":
        return "%.3f" % value
    return "%.2f" % value


def cost_estimate(accounts, prices=None):
    """See DOCUMENTATION."""
    if not isinstance(accounts, (list, tuple)):
        raise AnsibleFilterError("cost_estimate - the input must be a list of partitions, got %s" % type(accounts).__name__)
    p = _prices(prices)
    rows = []
    for entry in accounts:
        try:
            events = entry.get("events")
            rows.append(_row(str(entry["account_id"]), int(entry.get("objects", 0)), int(entry["bytes"]), p,
                             None if events is None else int(events)))
        except (KeyError, TypeError, ValueError) as exc:
            raise AnsibleFilterError("cost_estimate - each partition needs account_id and bytes: %r (%s)" % (entry, exc))
    total = {"account_id": "total"}
    for key in COLUMNS[1:]:
        if key == "events_day":
            known = [row[key] for row in rows if row[key] is not None]
            total[key] = sum(known) if known else None
        else:
            total[key] = sum(row[key] for row in rows)
    total["kinesis"] += p["kinesis_stream_hour"] * 24 * DAYS  # the stream itself, once
    total["total"] += p["kinesis_stream_hour"] * 24 * DAYS
    lines = ["| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows + [total]:
        lines.append("| " + " | ".join(_fmt(k, row[k]) for k in COLUMNS) + " |")
    csv = [",".join(COLUMNS)] + [",".join(_fmt(k, row[k]) for k in COLUMNS) for row in rows + [total]]
    return {"rows": rows, "total": total, "prices": p, "markdown": "\n".join(lines) + "\n", "csv": "\n".join(csv) + "\n"}


class FilterModule(object):
    """The cost_estimate filter."""

    def filters(self):
        return {"cost_estimate": cost_estimate}
