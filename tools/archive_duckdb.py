# -*- coding: utf-8 -*-
# Copyright: logvault.aws contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Read the archive with DuckDB through the Glue table's own definition (issue 19).

Athena cannot run offline. This module turns the definition the role deploys
(roles/central_account/files/athena/archive_table.yml, the named queries next to it and
the Firehose prefix of roles/central_account/defaults/main.yml) into a DuckDB view of the
same name, so that the named queries run unchanged. The translation is mechanical:

* Hive column types -> DuckDB types (:data:`HIVE_TO_DUCKDB`);
* the OpenX SerDe's ``mapping.<column>`` (``json_key``) -> the JSON key read for the column;
* the partition projection's ``storage.location.template`` (derived from the Firehose
  prefix: ``!{partitionKeyFromQuery:<firehose_key>}`` -> ``${<partition column>}``) -> a glob
  for the files and a regular expression that extracts the partition columns from the path;
* ``"${database}"."${table}"`` in the queries -> a DuckDB schema and view with those names.

DuckDB would otherwise read ``account_id=...`` path segments as Hive partitions and let them
replace the document's ``account_id`` column; Athena's projected partitions are the columns
``account`` and ``dt`` only, so the view turns that off (``hive_partitioning = false``).

The SQL itself is not rewritten: the named queries only use syntax that Athena (Trino) and
DuckDB share (``?`` parameters, ``strpos``, ``row_number() OVER``, string comparisons).

Test-only: DuckDB is in requirements-test.txt, not a dependency of the collection.
"""

import os
import re

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATHENA_DIR = os.path.join(ROOT, "roles", "central_account", "files", "athena")
DEFAULTS = os.path.join(ROOT, "roles", "central_account", "defaults", "main.yml")

HIVE_TO_DUCKDB = {
    "string": "VARCHAR",
    "bigint": "BIGINT",
    "int": "INTEGER",
    "boolean": "BOOLEAN",
    "double": "DOUBLE",
    "array<string>": "VARCHAR[]",
}
_KEY = re.compile(r"!\{partitionKeyFromQuery:([A-Za-z0-9_]+)\}")


def definition():
    """The table definition (archive_table.yml) with each named query's SQL as ``sql``."""
    with open(os.path.join(ATHENA_DIR, "archive_table.yml"), encoding="utf-8") as handle:
        table = yaml.safe_load(handle)
    for query in table["named_queries"]:
        with open(os.path.join(ATHENA_DIR, "queries", query["name"] + ".sql"), encoding="utf-8") as handle:
            query["sql"] = handle.read()
    return table


def role_defaults():
    with open(DEFAULTS, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def render(sql, database, table):
    """What tasks/athena.yml stores as the named query."""
    return sql.replace("${database}", database).replace("${table}", table)


def location_template(prefix, partition_keys):
    """The storage.location.template suffix (after the bucket) for a Firehose prefix."""
    columns = dict((key.get("firehose_key", key["name"]), key["name"]) for key in partition_keys)

    def _column(match):
        if match.group(1) not in columns:
            raise ValueError("prefix key %s has no partition column" % match.group(1))
        return "${%s}" % columns[match.group(1)]

    template = _KEY.sub(_column, prefix)
    if "!{" in template:
        raise ValueError("prefix %r keeps expressions a projected table cannot follow" % prefix)
    return template


def table_root(prefix):
    """The table LOCATION suffix: the prefix up to the last '/' before its first expression."""
    head = prefix.split("!{", 1)[0]
    return head[:head.rfind("/") + 1]


def glob_and_regex(template):
    """(glob of the object files, regex with one group per ${column}, columns in order)."""
    columns = re.findall(r"\$\{([A-Za-z0-9_]+)\}", template)
    glob = re.sub(r"\$\{[A-Za-z0-9_]+\}", "*", template) + "*"
    regex = re.escape(template)
    for column in columns:
        regex = regex.replace(re.escape("${%s}" % column), "([^/]+)")
    return glob, regex, columns


def create_view(connection, root_dir, table_def, template, database, table):
    """Create ``"database"."table"`` in DuckDB over the objects below ``root_dir``
    (a directory holding the bucket's keys as paths)."""
    glob, regex, columns = glob_and_regex(template)
    json_columns = ", ".join("'%s': '%s'" % (col.get("json_key", col["name"]).replace("'", "''"), HIVE_TO_DUCKDB[col["type"]])
                             for col in table_def["columns"])
    select = ['"%s" AS "%s"' % (col.get("json_key", col["name"]), col["name"]) for col in table_def["columns"]]
    names = [key["name"] for key in table_def["partition_keys"]]
    for name in names:
        select.append("regexp_extract(filename, '%s', %d) AS \"%s\"" % (regex.replace("'", "''"), columns.index(name) + 1, name))
    path = os.path.join(root_dir, glob).replace("'", "''")
    connection.execute('CREATE SCHEMA IF NOT EXISTS "%s"' % database)
    connection.execute(
        'CREATE OR REPLACE VIEW "%s"."%s" AS SELECT %s FROM read_json(\'%s\', format = \'newline_delimited\', '
        "compression = 'gzip', filename = true, hive_partitioning = false, columns = {%s})" % (database, table, ", ".join(select), path, json_columns))


def download(s3, bucket, prefix, root_dir):
    """Copy every object under ``prefix`` of ``bucket`` to ``root_dir/<key>``; returns the keys."""
    keys = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            path = os.path.join(root_dir, obj["Key"])
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as handle:
                handle.write(s3.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read())
            keys.append(obj["Key"])
    return keys
