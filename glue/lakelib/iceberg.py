"""The lake's Apache Iceberg tables (format v2): spec, properties, MERGE, overwrite.

The deployment declares each processed and curated table in the Glue Data
Catalog as an Iceberg table (columns, location, format v2). What
CloudFormation cannot declare there (the partition spec and the write
properties: see constructs/icebergtable) the jobs set on their first run,
with ``ensure_statements`` and ``add_column_statements``: idempotent ALTER
TABLE statements that do nothing when the table already matches.

Processed tables, partitioned from the declaration's ``partitioning``
(default event_day):

- ``event_day``: identity on ``dt`` (the event day). For append-mostly data
  whose versions of a key share the event day (events re-delivered with the
  same event time). The MERGE looks keys up in the batch's days only.
- ``key_bucket``: ``bucket(key_buckets, <first key column>)``. For mutable
  entities (orders): an update of a row stays in its bucket, so the MERGE
  touches the buckets of the batch's keys, never moves a row across days.

Every processed row is written with MERGE INTO ... "newer wins"
(``newer_condition``): a late older version never overwrites a newer one, a
tie keeps the stored row (a rerun changes nothing).

Curated tables are identity-partitioned on ``dt``; the curated job replaces
the days it recomputed with one overwrite (``recomputed_days_sql``).

Each write is one Iceberg snapshot: readers see a table before or after it,
never between.

Pure functions of the declarations; no pyspark import.
"""

from __future__ import annotations

from . import dedup, partitions, schema

EVENT_DAY = schema.EVENT_DAY
KEY_BUCKET = schema.KEY_BUCKET
DEFAULT_PARTITIONING = EVENT_DAY

# The Spark catalog name the jobs address the Glue Data Catalog by (its
# spark.sql.catalog.<name> settings come from the job's --conf).
CATALOG = "glue_catalog"

# Merge-on-read: an update writes the new row plus a position delete, not a
# rewrite of the file that held the old row, so a run's write cost follows
# the batch, not the table. Compaction (the table optimizer) folds deletes
# back into data files. Athena engine 3 and Glue 5.0 read position deletes.
WRITE_MODE = "merge-on-read"

# Older than any event or receive time: nulls sort first, as in lakelib.dedup.
_MIN_TS = "TIMESTAMP '0001-01-01 00:00:00'"


def partitioning(spec):
    """The declaration's partitioning (default event_day)."""
    return spec.get("partitioning") or DEFAULT_PARTITIONING


def key_buckets(spec):
    """Number of key buckets of a key_bucket dataset (default 16)."""
    return int(spec.get("key_buckets") or schema.DEFAULT_KEY_BUCKETS)


def quote(name):
    """A Spark SQL identifier in backticks."""
    return "`" + name.replace("`", "``") + "`"


def table_name(database, table):
    """``glue_catalog.`db`.`table``` (the Spark name of a catalog table)."""
    return f"{CATALOG}.{quote(database)}.{quote(table)}"


# The curated tables' partition spec: one partition per event day, so the
# curated job's overwrite of recomputed days replaces whole partitions (a
# metadata operation: no file is rewritten).
CURATED_PARTITION_FIELDS = [("identity", schema.PARTITION_COLUMN)]


def partition_fields(spec):
    """The declared partition spec of a processed table, as Iceberg's ``partitions`` metadata names it.

    (transform, source column) pairs: ("identity", "dt") or ("bucket[16]", key).
    """
    if partitioning(spec) == KEY_BUCKET:
        return [(f"bucket[{key_buckets(spec)}]", spec["key"][0])]
    return [("identity", schema.PARTITION_COLUMN)]


def partition_field_sql(field):
    """Spark DDL of one partition field: ``dt`` or ``bucket(16, `order_id`)``."""
    transform, column = field
    if transform == "identity":
        return quote(column)
    if transform.startswith("bucket[") and transform.endswith("]"):
        return f"bucket({int(transform[7:-1])}, {quote(column)})"
    raise ValueError(f"partition transform {transform!r} is not one the declaration produces")


def table_properties(target_file_mb=partitions.DEFAULT_TARGET_FILE_MB):
    """Table properties the job keeps set (string values, as Iceberg stores them)."""
    return {
        "format-version": "2",
        "write.merge.mode": WRITE_MODE,
        "write.update.mode": WRITE_MODE,
        "write.delete.mode": WRITE_MODE,
        "write.parquet.compression-codec": "zstd",
        "write.target-file-size-bytes": str(int(target_file_mb) * partitions.MIB),
        # Rows of one partition are clustered before writing: few files per
        # partition per commit instead of one per task.
        "write.distribution-mode": "hash",
    }


def ensure_statements(table, want_fields, current_fields, current_properties,
                      target_file_mb=partitions.DEFAULT_TARGET_FILE_MB):
    """ALTER TABLE statements bringing ``table`` to a partition spec and the write properties.

    ``want_fields``: the (transform, source column) pairs the table must be
    partitioned by (``partition_fields(spec)`` for a processed table,
    ``CURATED_PARTITION_FIELDS`` for a curated one); ``current_fields``: the
    table's current spec; ``current_properties``: its properties. Returns []
    when nothing differs. A table that was partitioned differently (the
    declaration's partitioning changed) gets the old fields dropped: Iceberg
    keeps old files in their old layout and writes new ones in the new.
    """
    out = []
    want = list(want_fields)
    if list(current_fields) != want:
        for field in current_fields:
            if field not in want:
                out.append(f"ALTER TABLE {table} DROP PARTITION FIELD {partition_field_sql(field)}")
        for field in want:
            if field not in current_fields:
                out.append(f"ALTER TABLE {table} ADD PARTITION FIELD {partition_field_sql(field)}")
    props = table_properties(target_file_mb)
    changed = {k: v for k, v in props.items() if current_properties.get(k) != v and k != "format-version"}
    if changed:
        sets = ", ".join(f"'{k}' = '{v}'" for k, v in sorted(changed.items()))
        out.append(f"ALTER TABLE {table} SET TBLPROPERTIES ({sets})")
    return out


def processed_table_columns(spec):
    """[(name, hive type)] of a dataset's processed table: the processed columns, then dt."""
    return schema.processed_columns(spec) + [(schema.PARTITION_COLUMN, schema.STRING)]


# Spark's simpleString of each declared type; a timestamp column may also be
# timestamp_ntz (Iceberg's timestamp without zone: values are UTC either way).
_SPARK_TYPES = {schema.STRING: ("string",), schema.BIGINT: ("bigint",), schema.DOUBLE: ("double",),
                schema.BOOLEAN: ("boolean",), schema.TIMESTAMP: ("timestamp", "timestamp_ntz"),
                schema.DATE: ("date",)}


def add_column_statements(table, columns, current_types, declared_by):
    """ALTER TABLE ADD COLUMN for declared columns the table lacks (schema evolution).

    ``columns``: [(name, hive type)] the table must have (e.g.
    ``processed_table_columns(spec)``); ``current_types``: {column: Spark
    simpleString} of the table; ``declared_by`` names the declaration in
    the error. A column whose stored type differs from its declaration is an
    error naming both: Iceberg cannot change it in place (drop and
    re-declare the column).
    """
    out, wrong = [], []
    for name, hive_type in columns:
        have = current_types.get(name)
        if have is None:
            out.append(f"ALTER TABLE {table} ADD COLUMN {quote(name)} {hive_type}")
        elif have not in _SPARK_TYPES.get(hive_type, (hive_type,)):
            wrong.append(f"{name} is {have} in the table but declared {hive_type}")
    if wrong:
        raise ValueError(f"table {table} does not match the declaration of {declared_by}: " + "; ".join(wrong))
    return out


def newer_condition(spec, new="s", old="t"):
    """SQL true when row ``new`` is a later version than row ``old`` (lakelib.dedup order).

    Event time, then the change sequence (zero-padded text, so text order is
    number order), then receive time (nulls first everywhere), then a delete
    over a row with the same times. A full tie is not newer: the stored row
    stays, so a replayed batch changes nothing.
    """
    et = quote(spec["event_time_field"])
    seq = quote(schema.CHANGE_SEQ_COLUMN)
    rcv = quote(schema.RECEIVED_AT_COLUMN)
    dele = quote(schema.DELETED_COLUMN)
    is_date = schema.get_column(spec, spec["event_time_field"])["type"] == schema.DATE
    low = "DATE '0001-01-01'" if is_date else _MIN_TS

    def c(side, col, floor):
        return f"coalesce({side}.{col}, {floor})"

    # (a, b) pairs compared lexicographically: newer when the first differing
    # pair has new > old.
    pairs = [(c(new, et, low), c(old, et, low)), (c(new, seq, "''"), c(old, seq, "''")),
             (c(new, rcv, _MIN_TS), c(old, rcv, _MIN_TS))]
    cond = f"coalesce({new}.{dele}, false) AND NOT coalesce({old}.{dele}, false)"
    for a, b in reversed(pairs):
        cond = f"({a} > {b} OR ({a} = {b} AND {cond}))"
    return cond


# A key_bucket MERGE names the stored keys the batch matches (found first by
# stored_matches_sql) when there are at most this many: the filter reaches
# the table scan, so the MERGE's join (an outer join, which Spark shuffles
# on both sides) receives those rows instead of the whole table. With more
# keys than this the MERGE runs unfiltered (correct, slower).
MAX_KEY_FILTER = 10_000
# stored_matches_sql broadcasts the batch (its key and version columns)
# when it has at most this many rows, so the table is read, not shuffled.
MAX_BROADCAST_BATCH = 500_000
# Key types the filter can name as literals.
_KEY_LITERAL_TYPES = (schema.STRING, schema.BIGINT, schema.DATE)


def merge_sql(table, source, spec, batch_dts, stored_keys=None):
    """The MERGE INTO statement writing a de-duplicated batch (view ``source``).

    The batch holds at most one row per key (dedup inside the batch first).
    For event_day tables the match is limited to the batch's days, which
    Iceberg turns into a partition filter: the run reads those days only.
    ``stored_keys`` (key_bucket): the first-key values of the stored rows
    the batch matches (``stored_matches_sql``), or None when not known: the
    match is limited to them (none: nothing matches, every row is inserted).
    """
    keys = dedup.dedup_key_columns(spec)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
    if partitioning(spec) == EVENT_DAY:
        if not batch_dts:
            raise ValueError("an event_day MERGE needs the batch's days")
        days = ", ".join(f"'{partitions.parse_dt(d).isoformat()}'" for d in sorted(batch_dts))
        on += f" AND t.{quote(schema.PARTITION_COLUMN)} IN ({days})"
    elif stored_keys is not None:
        on += " AND " + key_filter_sql(spec, stored_keys)
    return (f"MERGE INTO {table} t USING {source} s ON {on} "
            f"WHEN MATCHED AND {newer_condition(spec)} THEN UPDATE SET * "
            f"WHEN NOT MATCHED THEN INSERT *")


def can_filter_keys(spec):
    """Whether the first key column's type can be listed in a MERGE's key filter."""
    return schema.get_column(spec, dedup.dedup_key_columns(spec)[0])["type"] in _KEY_LITERAL_TYPES


def _string_literal(value):
    # Spark SQL string literals treat the backslash as an escape character.
    backslash = chr(92)
    return "'" + str(value).replace(backslash, backslash * 2).replace("'", backslash + "'") + "'"


def key_filter_sql(spec, values):
    """``t.<first key> IN (<values as literals>)``, or ``FALSE`` when there are none."""
    key = dedup.dedup_key_columns(spec)[0]
    kind = schema.get_column(spec, key)["type"]
    if kind not in _KEY_LITERAL_TYPES:
        raise ValueError(f"key column {key} is {kind}: only {', '.join(_KEY_LITERAL_TYPES)} keys can be listed")
    values = sorted({v for v in values if v is not None}, key=str)
    if not values:
        return "FALSE"
    if kind == schema.BIGINT:
        items = [str(int(v)) for v in values]
    elif kind == schema.DATE:
        items = [f"DATE '{partitions.dt_of(v)}'" for v in values]
    else:
        items = [_string_literal(v) for v in values]
    return f"t.{quote(key)} IN ({', '.join(items)})"


def stored_matches_sql(table, source, spec, broadcast=True):
    """The stored rows the batch's keys match: their first-key value ``key`` and stored day ``dt``.

    One read of two columns of the table, joined with the batch's keys
    (broadcast when ``broadcast``: the table is read, never shuffled). The
    keys become the MERGE's filter; the days are the days a key_bucket run's
    change record names besides the batch's own: a replaced row leaves its
    day (the days of stored rows the MERGE keeps are in it too, which only
    makes curated recompute an unchanged day).
    """
    keys = dedup.dedup_key_columns(spec)
    on = " AND ".join(f"t.{quote(k)} = s.{quote(k)}" for k in keys)
    batch = f"(SELECT DISTINCT {', '.join(quote(k) for k in keys)} FROM {source})"
    hint = "/*+ BROADCAST(s) */ " if broadcast else ""
    return (f"SELECT {hint}t.{quote(keys[0])} AS key, t.{quote(schema.PARTITION_COLUMN)} AS dt "
            f"FROM {table} t JOIN {batch} s ON {on}")


def commit_counts(before_snapshot, after_snapshot, summary):
    """Rows written by the MERGE commit, from the Iceberg snapshot summary.

    ``summary`` is the committed snapshot's summary map (string values); no
    new snapshot (``after == before``) means nothing was written.
    """
    if after_snapshot is None or after_snapshot == before_snapshot:
        return {"written": 0, "replaced": 0, "snapshot_id": before_snapshot}
    summary = summary or {}
    return {
        "written": int(summary.get("added-records", 0)),
        # Stored rows the commit superseded with a newer version.
        "replaced": int(summary.get("added-position-deletes", 0)) + int(summary.get("deleted-records", 0)),
        "snapshot_id": after_snapshot,
    }


def recomputed_days_sql(start, changed=()):
    """SQL condition on ``dt`` selecting the days a curated run recomputes.

    The window (``dt >= start``) and the changed days before it (from the
    change records). The curated job reads the current rows with it and
    overwrites with it, so the overwrite replaces exactly the recomputed
    days, emptied days included, in one snapshot.
    """
    start = partitions.parse_dt(start).isoformat()
    dt = quote(schema.PARTITION_COLUMN)
    cond = f"{dt} >= '{start}'"
    before = sorted({d for d in (partitions.parse_dt(x).isoformat() for x in changed) if d < start})
    if before:
        cond += f" OR {dt} IN (" + ", ".join(f"'{d}'" for d in before) + ")"
    return f"({cond})"
