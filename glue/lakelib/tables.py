"""The lake's Iceberg tables from a job's Spark session: state and upkeep.

``state`` reads a table through Iceberg's own API; ``ensure`` brings a
table to its declared partition spec, write properties and columns with
the statements of lakelib.iceberg (idempotent: nothing runs when the table
already matches). Both jobs that write tables (raw->processed, curated)
call ``ensure`` before they write.

Duck-typed over the session's py4j gateway (``spark._jvm``); pyspark is not
imported, so the module loads without Spark.
"""

from __future__ import annotations

from collections import namedtuple

from . import iceberg

# snapshot_id: the current snapshot (None before the first commit), summary
# its summary map; fields: the partition spec as (transform, source column);
# properties, types ({column: Spark simpleString}) and location.
State = namedtuple("State", "snapshot_id summary fields properties types location")


def state(spark, table):
    """The State of ``table`` (a ``glue_catalog.`db`.`name``` Spark name).

    Read through Iceberg's own API: the *current* snapshot, which after a
    rollback is not the newest one committed.
    """
    jtable = spark._jvm.org.apache.iceberg.spark.Spark3Util.loadIcebergTable(spark._jsparkSession, table.replace("`", ""))
    jtable.refresh()
    current = jtable.currentSnapshot()
    snapshot_id = current.snapshotId() if current is not None else None
    summary = {str(k): str(v) for k, v in dict(current.summary()).items()} if current is not None else {}
    jschema = jtable.schema()
    fields = [(str(pf.transform().toString()), str(jschema.findColumnName(pf.sourceId()))) for pf in jtable.spec().fields()]
    props = {str(k): str(v) for k, v in dict(jtable.properties()).items()}
    types = {f.name: f.dataType.simpleString() for f in spark.table(table).schema.fields}
    return State(snapshot_id, summary, fields, props, types, str(jtable.location()))


def ensure(spark, table, want_fields, columns, declared_by, target_file_mb, log):
    """Bring ``table`` to ``want_fields``, the write properties and ``columns`` ([(name, hive type)]).

    Returns the table's State after the statements ran (``log`` is called
    with each statement). A column whose stored type differs fails the run,
    naming the column and ``declared_by``.
    """
    current = state(spark, table)
    statements = iceberg.add_column_statements(table, columns, current.types, declared_by)
    statements += iceberg.ensure_statements(table, want_fields, current.fields, current.properties, target_file_mb)
    for sql in statements:
        log(sql)
        spark.sql(sql)
    return state(spark, table) if statements else current
