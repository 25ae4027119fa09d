"""Glue job: processed zone -> curated zone, one job for all datasets.

For every dataset, ``<dataset>_daily``; for every join, ``<join name>``
(column rules in lakelib.curated and glue/README.md). Both are Apache
Iceberg tables the deployment declares in the catalog database, partitioned
by ``dt``. A run recomputes the days ``dt >= today(UTC) - lookback_days``,
the days the raw->processed runs recorded as changed (``--changes_root``)
and, once, every day from ``--recompute_from``; rows with ``_is_deleted``
are excluded. Each table's recomputed days are replaced by one Iceberg
overwrite (one snapshot: a day that now aggregates to nothing goes in the
same commit), and a table whose recomputation equals what it holds is not
written at all, so a rerun commits nothing and new curated files mean new
data (what the freshness alarm counts).

A dataset whose quality verdict (``--quality_root``<dataset>/verdict.json,
written by its quality job in the same workflow run) failed is skipped, and
so is every join that uses it: its curated tables stay as they were while
the other datasets' output is built (its alarm says why).

Arguments (see glue/README.md): --JOB_NAME --datasets --joins
--processed_root --curated_root --database [--lookback_days 3]
[--quality_root] [--changes_root] [--recompute_from YYYY-MM-DD]
"""

import functools
import operator
import sys

from lakelib import args as jobargs
from lakelib import changes, curated, hadoopfs, iceberg, partitions, pipeline, quality, schema, tables

REQUIRED_ARGS = jobargs.PROCESSED_TO_CURATED_REQUIRED
OPTIONAL_ARGS = jobargs.PROCESSED_TO_CURATED_OPTIONAL

DT = schema.PARTITION_COLUMN


def _log(logger, message):
    print(message, flush=True)
    if logger is not None:
        logger.info(message)


def agg_expr(agg):
    """The Spark aggregate expression of one lakelib.curated plan entry."""
    from pyspark.sql import functions as F

    func, cols = agg["func"], [F.col(f"`{c}`") for c in agg["columns"]]
    if func == curated.COUNT:
        expr = F.count(F.lit(1))
    elif func == curated.COUNT_DISTINCT:
        expr = F.countDistinct(*cols)
    elif func == curated.SUM and agg["type"] == "double":
        # Summed as decimals: a double sum depends on the order Spark adds
        # the rows in, which follows the file layout, so a recompute of an
        # unchanged day could differ in the last digits. Decimal addition is
        # exact (values are rounded to 1e-10 first).
        expr = F.sum(cols[0].cast("decimal(38,10)"))
    elif func == curated.SUM:
        expr = F.sum(cols[0])
    elif func == curated.MIN:
        expr = F.min(cols[0])
    elif func == curated.MAX:
        expr = F.max(cols[0])
    else:
        raise ValueError(f"unknown aggregation {func!r}")
    return expr.cast(agg["type"]).alias(agg["name"])


def load_active(spark, cfg, spec, days):
    """Non-deleted rows of the recomputed days (SQL condition ``days``) of the dataset's processed table."""
    from pyspark.sql import functions as F

    table = iceberg.table_name(cfg.database, spec["name"])
    columns = pipeline.row_columns(spec)
    df = spark.table(table).where(F.expr(days)).select(*[F.col(f"`{c}`") for c in columns])
    return df.where(~F.coalesce(F.col(schema.DELETED_COLUMN), F.lit(False)))


def select_output(df, columns):
    """Columns in curated_columns order with their hive types, then dt."""
    from pyspark.sql import functions as F

    return df.select(*[F.col(f"`{n}`").cast(t).alias(n) for n, t in columns], F.col(DT))


def daily_frame(df, spec, datasets):
    group_cols = [DT] + list(spec.get("group_by") or [])
    out = df.groupBy(*group_cols).agg(*[agg_expr(a) for a in curated.daily_plan(spec)])
    return select_output(out, curated.curated_columns(spec, datasets))


def join_frame(frames, join, datasets):
    """Full outer join of both datasets' per dt/on aggregates, missing metrics -> 0."""
    from pyspark.sql import functions as F

    by_name = curated.datasets_by_name(datasets)
    keys = [DT] + list(join["on"])
    left_name, right_name = join["datasets"]
    left = frames[left_name].groupBy(*keys).agg(
        *[agg_expr(a) for a in curated.join_side_plan(by_name[left_name])])
    right_plan = curated.join_side_plan(by_name[right_name])
    right = frames[right_name].groupBy(*keys).agg(*[agg_expr(a) for a in right_plan])
    right = right.select(*[F.col(k).alias(f"__r_{k}") for k in keys], *[a["name"] for a in right_plan])
    condition = functools.reduce(operator.and_, [F.col(k).eqNullSafe(F.col(f"__r_{k}")) for k in keys])
    joined = left.join(right, on=condition, how="full_outer")
    columns = curated.curated_columns(join, by_name)
    key_set = set(keys)
    out = joined.select(
        *[F.coalesce(F.col(k), F.col(f"__r_{k}")).alias(k) for k in keys],
        *[F.coalesce(F.col(n), F.lit(0)).cast(t).alias(n) for n, t in columns if n not in key_set],
    )
    return select_output(out, columns)


def ensure_table(spark, cfg, obj, logger):
    """(Spark name, State) of the curated table of a dataset or join, brought to its declaration.

    Partitioned by dt, the write properties, and the columns the
    declarations give it today (a new numeric column adds its aggregates).
    The table must sit under ``--curated_root``, where the job may write.
    """
    name = curated.table_name(obj)
    table = iceberg.table_name(cfg.database, name)
    columns = curated.curated_columns(obj, cfg.datasets) + [(DT, schema.STRING)]
    state = tables.ensure(spark, table, iceberg.CURATED_PARTITION_FIELDS, columns, name,
                          partitions.DEFAULT_TARGET_FILE_MB,
                          lambda sql: _log(logger, f"processed_to_curated {name}: {sql}"))
    want = partitions.dataset_path(cfg.curated_root, name)
    if partitions.ensure_prefix(state.location) != want:
        raise ValueError(f"curated table {cfg.database}.{name} is located at {state.location}, not at {want} "
                         "(--curated_root + table name), where this job's role may write")
    return table, state


def publish(spark, table, state, out, days, logger, label):
    """Replace the recomputed days (SQL condition ``days``) of one curated table with ``out``.

    One Iceberg overwrite: the rows of those days go and ``out``'s come in a
    single snapshot, so readers see the table before or after, and a day
    that aggregates to nothing now is emptied in the same commit. Nothing
    is committed when ``out`` equals the stored rows of those days (as
    multisets). Returns (days written, days emptied, new snapshot id or None).
    """
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    columns = list(state.types)
    # In the table's column order and types; a column the declarations no
    # longer produce (a dropped numeric column's aggregates) stays NULL.
    out = out.select(*[(F.col(f"`{c}`") if c in out.columns else F.lit(None)).cast(t).alias(c)
                       for c, t in state.types.items()])
    out.persist(StorageLevel.MEMORY_AND_DISK)
    stored = spark.table(table).where(F.expr(days)).select(*columns)
    written = sorted(row[0] for row in out.select(DT).distinct().collect())
    before = sorted(row[0] for row in stored.select(DT).distinct().collect())
    emptied = sorted(set(before) - set(written))
    snapshot = None
    if out.exceptAll(stored).isEmpty() and stored.exceptAll(out).isEmpty():
        _log(logger, f"processed_to_curated {label}: unchanged, nothing committed (days {', '.join(written) or 'none'})")
        written, emptied = [], []
    else:
        out.writeTo(table).overwrite(F.expr(days))
        snapshot = tables.state(spark, table).snapshot_id
        _log(logger, f"processed_to_curated {label}: replaced days [{', '.join(written)}]"
                     + (f", emptied [{', '.join(emptied)}]" if emptied else "") + f" (snapshot {snapshot})")
    out.unpersist()
    return written, emptied, snapshot


def read_changes(spark, cfg, datasets, logger):
    """(changed days of the gated datasets, the record paths read); a skipped dataset's records stay."""
    days, paths = set(), []
    if not cfg.changes_root:
        return days, paths
    for spec in datasets:
        folder = partitions.dataset_path(cfg.changes_root, spec["name"])
        for name in sorted(hadoopfs.list_child_names(spark, folder)):
            if not name.endswith(changes.RECORD_SUFFIX):
                continue
            path = folder + name
            days |= set(changes.parse_change_record(hadoopfs.read_text(spark, path), spec["name"]))
            paths.append(path)
    if paths:
        _log(logger, f"processed_to_curated: {len(paths)} change records: recomputing also {', '.join(sorted(days))}")
    return days, paths


def run(spark, cfg, logger=None, today=None):
    today = today or partitions.today_utc()
    start = partitions.lookback_start(today, cfg.lookback_days)
    if cfg.recompute_from and cfg.recompute_from < start:
        start = cfg.recompute_from
    summary = {}
    states = {}
    if cfg.quality_root:
        for spec in cfg.datasets:
            text = hadoopfs.read_text(spark, quality.verdict_path(cfg.quality_root, spec["name"]))
            if text is not None:
                states[spec["name"]] = quality.parse_verdict(text, spec["name"])
    datasets, joins, skipped = quality.gate(cfg.datasets, cfg.joins, states)
    for name, why in sorted(skipped.items()):
        _log(logger, f"processed_to_curated: skipping {name}: {why}")
    summary["_skipped"] = skipped
    changed, consumed = read_changes(spark, cfg, datasets, logger)
    summary["_changed_days"] = sorted(changed)
    days = iceberg.recomputed_days_sql(start, changed)
    _log(logger, f"processed_to_curated: recomputing {days}")
    frames = {spec["name"]: load_active(spark, cfg, spec, days) for spec in datasets}
    for obj in list(datasets) + list(joins):
        table, state = ensure_table(spark, cfg, obj, logger)
        if curated.is_join(obj):
            out = join_frame(frames, obj, cfg.datasets)
        else:
            out = daily_frame(frames[obj["name"]], obj, cfg.datasets)
        summary[curated.table_name(obj)] = publish(spark, table, state, out, days, logger, curated.table_name(obj))
    # Only now, with every table written: a failure above leaves the records
    # for the next run, which recomputes the same days again.
    for path in consumed:
        hadoopfs.delete_recursive(spark, path)
    return summary


def main(argv=None):
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    resolved = getResolvedOptions(argv, jobargs.resolvable_names(argv, REQUIRED_ARGS, OPTIONAL_ARGS))
    cfg = jobargs.parse_processed_to_curated_args(resolved)

    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    logger = glue_context.get_logger()

    job = Job(glue_context)
    job.init(cfg.job_name, resolved)
    run(spark, cfg, logger)
    job.commit()


if __name__ == "__main__":
    main()
