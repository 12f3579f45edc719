# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""DynamoDB ``TableId`` in table descriptions.

What moto 5.2.5 does: ``Table.describe`` (DescribeTable, CreateTable, UpdateTable,
DeleteTable) has no ``TableId`` (the field is a comment in moto's code).

What AWS does (DynamoDB API Reference, "TableDescription"): ``TableId`` is the unique
identifier of the table, a UUID assigned when the table is created; it stays the same for
the table's life, and a table created again under the same name gets a new one.

Why it matters: community.aws.dynamodb_table 10.0.0 reads ``table["table_id"]`` from
DescribeTable and fails with ``KeyError`` without it, so the stream_alerts role could not
use it against the emulator.

What this patch does: every table object gets a random UUID the first time it is
described, kept on the object, and every description carries it as ``TableId``.
"""

import threading
import uuid

_LOCK = threading.Lock()


def table_id(table):
    """The table's id, assigned once per table object."""
    with _LOCK:
        value = getattr(table, "_logvault_table_id", None)
        if value is None:
            value = str(uuid.uuid4())
            table._logvault_table_id = value  # pylint: disable=protected-access
        return value


def install():
    from moto.dynamodb.models import table as tables  # pylint: disable=import-outside-toplevel

    cls = tables.Table
    if getattr(cls, "_logvault_table_id_patch", False):
        return
    cls._logvault_table_id_patch = True  # pylint: disable=protected-access
    original = cls.describe

    def describe(self, base_key="TableDescription"):
        result = original(self, base_key=base_key)
        result[base_key]["TableId"] = table_id(self)
        return result

    cls.describe = describe
