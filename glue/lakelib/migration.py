"""Move a processed table of the Parquet design into its Iceberg table.

Before the processed zone became Apache Iceberg, each dataset's processed
table was Parquet files under ``s3://<processed>/<dataset>/dt=<day>/``
with the declared columns, the delete marker ``_deleted`` and
``_received_at``. Iceberg reserves ``_deleted`` (its metadata column), so
the marker is now ``_is_deleted``, and ``_change_seq`` is new. Iceberg's
``add_files`` maps file columns by name and would leave every old delete
marker unset (deleted rows would come back), so the move is one
``INSERT INTO ... SELECT`` that renames the marker: it rewrites the data
once, in one Iceberg commit.

Run it from a Glue or EMR Spark session configured like the jobs (their
``--datalake-formats iceberg`` and ``--conf``), after the old files are
moved out of the table location (README "Processed tables", migration)::

    from lakelib import migration
    spark.sql(migration.insert_sql("glue_catalog.`db`.`orders`", "s3://<processed>/_parquet/orders/", spec))

on an empty Iceberg table (a second run would copy the rows twice).
"""

from __future__ import annotations

from . import iceberg, schema

# The delete marker's name in the Parquet design.
OLD_DELETED_COLUMN = "_deleted"


def insert_sql(table, parquet_path, spec):
    """The INSERT that copies the Parquet design's rows of ``spec`` into ``table``.

    Columns by name, in the table's order: the declared ones cast to their
    declared types, ``_deleted`` as ``_is_deleted`` (false when null),
    ``_received_at``, no change sequence (the old rows have none) and ``dt``
    from the partition folders.
    """
    if not parquet_path.startswith("s3://") and not parquet_path.startswith("file:") and not parquet_path.startswith("/"):
        raise ValueError(f"parquet_path {parquet_path!r} is not an s3:// (or local) folder")
    q = iceberg.quote
    cols = [f"CAST({q(name)} AS {hive_type.upper()}) AS {q(name)}" for name, hive_type in schema.column_casts(spec)]
    cols += [
        f"coalesce(CAST({q(OLD_DELETED_COLUMN)} AS BOOLEAN), false) AS {q(schema.DELETED_COLUMN)}",
        f"CAST({q(schema.RECEIVED_AT_COLUMN)} AS TIMESTAMP) AS {q(schema.RECEIVED_AT_COLUMN)}",
        f"CAST(NULL AS STRING) AS {q(schema.CHANGE_SEQ_COLUMN)}",
        f"CAST({q(schema.PARTITION_COLUMN)} AS STRING) AS {q(schema.PARTITION_COLUMN)}",
    ]
    source = f"parquet.`{parquet_path.rstrip('/')}/`"
    return f"INSERT INTO {table} SELECT {', '.join(cols)} FROM {source}"
