"""Glue job: processed zone -> curated zone, one job for all datasets.

For every dataset, ``<dataset>_daily``; for every join, ``<join name>``
(column rules in lakelib.curated and glue/README.md). Only the partitions
dt >= today(UTC) - lookback_days are recomputed, rows with ``_is_deleted``
excluded, and written as Snappy Parquet with dynamic partition overwrite,
so a rerun is idempotent and never touches older partitions. A partition
of the window that now aggregates to nothing is deleted.

A dataset whose quality verdict (``--quality_root``<dataset>/verdict.json,
written by its quality job in the same workflow run) failed is skipped, and
so is every join that uses it: its curated partitions stay as they were
while the other datasets' output is built (its alarm says why).

Arguments (see glue/README.md): --JOB_NAME --datasets --joins
--processed_root --curated_root --database [--lookback_days 3] [--quality_root]
"""

import functools
import operator
import sys

from lakelib import args as jobargs
from lakelib import changes, curated, hadoopfs, iceberg, partitions, pipeline, quality, schema

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


def recomputed(column, start, changed):
    """Spark condition: a day of the lookback window (>= start) or a changed day."""
    from pyspark.sql import functions as F

    cond = column >= F.lit(start)
    if changed:
        cond = cond | column.isin(sorted(changed))
    return cond


def load_active(spark, cfg, spec, start, changed=()):
    """Non-deleted rows of the recomputed days of the dataset's Iceberg table, and their days."""
    from pyspark.sql import functions as F

    table = iceberg.table_name(cfg.database, spec["name"])
    columns = pipeline.row_columns(spec)
    df = (spark.table(table)
          .where(recomputed(F.col(DT), start, changed))
          .select(*[F.col(f"`{c}`") for c in columns]))
    df = df.where(~F.coalesce(F.col(schema.DELETED_COLUMN), F.lit(False)))
    dts = sorted(r[0] for r in df.select(DT).distinct().collect())
    return df, dts


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


def write_table(spark, out, table_root, start, logger, label, changed=()):
    """Dynamic-overwrite the recomputed partitions of one curated table (window and changed days)."""
    out = out.cache()
    written = sorted(row[0] for row in out.select(DT).distinct().collect())
    if written:
        (out.repartition(DT)
            .write.mode("overwrite")
            .option("partitionOverwriteMode", "dynamic")
            .option("compression", "snappy")
            .partitionBy(DT)
            .parquet(table_root))
    existing = hadoopfs.list_partition_dts(spark, table_root)
    stale = partitions.stale_partitions(existing, written, start)
    # A changed day before the window that now aggregates to nothing (its
    # only rows moved to another day) is stale too.
    stale = sorted(set(stale) | (set(changed) & set(existing)) - set(written))
    for dt in stale:
        hadoopfs.delete_recursive(spark, partitions.partition_path(table_root, dt))
    out.unpersist()
    _log(logger, f"processed_to_curated {label}: wrote partitions [{', '.join(written)}]"
                 + (f", deleted emptied partitions [{', '.join(stale)}]" if stale else ""))
    return written, stale


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
    _log(logger, f"processed_to_curated: recomputing dt >= {start} "
                 f"(expected {', '.join(partitions.lookback_partitions(today, cfg.lookback_days))})")
    frames = {}
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
    for spec in datasets:
        df, dts = load_active(spark, cfg, spec, start, changed)
        frames[spec["name"]] = df
        table = curated.table_name(spec)
        root = partitions.dataset_path(cfg.curated_root, table)
        summary[table] = write_table(spark, daily_frame(df, spec, cfg.datasets), root, start, logger, table, changed)
    for join in joins:
        root = partitions.dataset_path(cfg.curated_root, curated.table_name(join))
        summary[join["name"]] = write_table(
            spark, join_frame(frames, join, cfg.datasets), root, start, logger, join["name"], changed)
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
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    logger = glue_context.get_logger()

    job = Job(glue_context)
    job.init(cfg.job_name, resolved)
    run(spark, cfg, logger)
    job.commit()


if __name__ == "__main__":
    main()
