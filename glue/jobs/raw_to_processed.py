"""Glue job: raw zone -> processed zone, one job per dataset.

Reads the dataset's Firehose prefix (API / DMS envelopes, gzip JSON lines)
and its landing prefix (JSON lines with job bookmarks, CSV files it has not
read before, lakelib.landing) as text,
turns every record into a typed row or a quarantine record (lakelib.pipeline),
keeps the latest row per key inside the batch (lakelib.dedup) and MERGEs
it into the dataset's Apache Iceberg table, newer wins (lakelib.iceberg):
one atomic commit whose cost follows the batch, not the table.

Arguments (see glue/README.md): --JOB_NAME --dataset_spec --raw_path
--landing_path --landing_files_path --processed_path --quarantine_path
--database --table [--target_file_mb 256] [--changes_path]
[--max_future_skew_minutes 15]

All logic lives in lakelib; pyspark/awsglue are imported inside functions
so this module imports without Spark.
"""

import datetime
import json
import operator
import sys
import uuid

from lakelib import args as jobargs
from lakelib import changes, dedup, envelope, hadoopfs, iceberg, landing, partitions, pipeline, quarantine, schema, tables

REQUIRED_ARGS = jobargs.RAW_TO_PROCESSED_REQUIRED
OPTIONAL_ARGS = jobargs.RAW_TO_PROCESSED_OPTIONAL


def _log(logger, message):
    print(message, flush=True)
    if logger is not None:
        logger.info(message)


def read_sources(glue_context, spark, cfg):
    """(RDD of (kind, text) pairs, landing CSV files read) of one run.

    The bookmarked line reads hand over Firehose and landing JSON lines as
    text (lakelib.pipeline); Glue's error records of a read come along as
    pipeline.GLUE_ERROR items, quarantined, never dropped. Landing CSV files
    not read before (lakelib.landing) are read with Spark's CSV reader, every
    value a string, one file at a time (each file's header names its
    columns), and handed over as JSON text.
    """
    sc = spark.sparkContext
    parts = []
    for source in pipeline.source_reads(cfg.raw_path, cfg.landing_path):
        dyf = glue_context.create_dynamic_frame.from_options(
            connection_type="s3",
            connection_options=pipeline.s3_connection_options(source),
            format=source["format"],
            format_options=source["format_options"],
            transformation_ctx=source["transformation_ctx"],
        )
        if dyf.stageErrorsCount():
            parts.append(dyf.errorsAsDynamicFrame().toDF().toJSON().map(lambda text: (pipeline.GLUE_ERROR, text)))
        # A column whose type varies between lines becomes an {"int": ..,
        # "string": ..} struct, which pipeline.line_of unwraps.
        df = dyf.resolveChoice(choice="make_struct").toDF()
        if df.columns:
            parts.append(df.rdd
                         .map(lambda row, k=source["kind"]: (k, pipeline.line_of(row.asDict(recursive=True).values())))
                         .filter(lambda item: item[1] is not None))
    manifest_text = hadoopfs.read_text(spark, cfg.landing_files_path + landing.MANIFEST_NAME)
    manifest = landing.parse_manifest(manifest_text)
    listed = [f for prefix in cfg.landing_path.split(",") if prefix for f in hadoopfs.list_files(spark, prefix)]
    if manifest_text is None and cfg.landing_read_before_ms is not None:
        # Written now: these files are the previous version's, this run
        # never reads them, whatever happens to it.
        manifest = landing.seed(listed, cfg.landing_read_before_ms)
        hadoopfs.write_text(spark, cfg.landing_files_path + landing.MANIFEST_NAME, landing.render_manifest(manifest, []))
    manifest = landing.still_listed(manifest, listed)
    csv_files = landing.new_files(listed, manifest)
    for path, _, _ in csv_files:
        df = (spark.read.option("header", True).option("multiLine", True).option("quote", '"').option("escape", '"')
              .option("inferSchema", False).option("mode", "PERMISSIVE").csv(path))
        parts.append(df.toJSON().map(lambda text: (envelope.LANDING, text)))
    lines = sc.union(parts) if parts else None
    return lines, manifest, csv_files


def run(glue_context, spark, cfg, logger=None, now=None):
    """Process whatever the bookmarks hand over; returns the counts logged."""
    from pyspark import StorageLevel

    spec = cfg.spec
    name = spec["name"]
    key_columns = dedup.dedup_key_columns(spec)
    picker = dedup.latest_picker(spec)
    now = now or datetime.datetime.now(schema.UTC)
    quarantined_at = schema.format_timestamp(now)
    run_dt = partitions.dt_of(now)
    sc = spark.sparkContext

    lines, manifest, csv_files = read_sources(glue_context, spark, cfg)
    counts = {"read": 0, "valid": 0, "quarantined": 0, "deleted": 0, "written": 0, "replaced": 0,
              "batch_rows": 0, "superseded_in_batch": 0, "superseded_by_stored": 0, "stored_matches": 0, "partitions_written": 0,
              "days_changed": 0, "csv_files": len(csv_files)}
    if lines is None:
        _log(logger, f"raw_to_processed {name}: nothing new to read " + json.dumps(counts, sort_keys=True))
        return counts

    # An event time beyond arrival (or now) plus the skew would win dedup
    # until its date: quarantined as future_event_time.
    skew = datetime.timedelta(minutes=cfg.max_future_skew_minutes)
    tagged = lines.mapPartitions(lambda items: pipeline.process_partition(items, spec, quarantined_at, now, skew))
    tagged.persist(StorageLevel.MEMORY_AND_DISK)
    by_tag = tagged.map(operator.itemgetter(0)).countByValue()
    counts["valid"] = int(by_tag.get(pipeline.VALID, 0))
    counts["quarantined"] = int(by_tag.get(pipeline.QUARANTINE, 0))
    counts["read"] = counts["valid"] + counts["quarantined"]

    valid = tagged.filter(lambda t: t[0] == pipeline.VALID).map(operator.itemgetter(1))
    quarantined = tagged.filter(lambda t: t[0] == pipeline.QUARANTINE).map(operator.itemgetter(1))

    if counts["valid"]:
        counts["deleted"] = valid.filter(lambda r: r[schema.DELETED_COLUMN]).count()
        write_processed(spark, cfg, valid, key_columns, picker, counts, logger, now=now)

    if counts["quarantined"]:
        q_lines = quarantined.map(lambda rec: (run_dt, quarantine.to_json_line(rec)))
        (spark.createDataFrame(q_lines, "dt STRING, value STRING")
            .select("value", "dt")
            .coalesce(pipeline.quarantine_file_count(counts["quarantined"]))
            .write.mode("append")
            .partitionBy(schema.PARTITION_COLUMN)
            .option("compression", "gzip")
            .text(cfg.quarantine_path))
        _log(logger, f"raw_to_processed {name}: quarantined {counts['quarantined']} records under "
                     f"{partitions.partition_path(cfg.quarantine_path, run_dt)}")

    if csv_files:
        # After the commit: a run that fails before this reads the files
        # again, and the MERGE keeps the stored rows on a full tie.
        hadoopfs.write_text(spark, cfg.landing_files_path + landing.MANIFEST_NAME, landing.render_manifest(manifest, csv_files))
    tagged.unpersist()
    _log(logger, f"raw_to_processed {name}: " + json.dumps(counts, sort_keys=True))
    return counts


def ensure_table(spark, cfg, logger):
    """(table name, its State) after bringing it to the declared spec, properties and columns (idempotent)."""
    name = cfg.spec["name"]
    table = iceberg.table_name(cfg.database, cfg.table)
    state = tables.ensure(spark, table, iceberg.partition_fields(cfg.spec), iceberg.processed_table_columns(cfg.spec),
                          name, cfg.target_file_mb, lambda sql: _log(logger, f"raw_to_processed {name}: {sql}"))
    return table, state


def write_processed(spark, cfg, valid, key_columns, picker, counts, logger, now=None, run_id=None):
    """De-duplicate the batch, then MERGE it into the Iceberg table in one commit."""
    from pyspark import StorageLevel
    from pyspark.sql import functions as F

    spec = cfg.spec
    name = spec["name"]
    now = now or datetime.datetime.now(schema.UTC)
    run_id = run_id or now.strftime("%Y%m%dT%H%M%S%fZ") + "-" + uuid.uuid4().hex[:8]
    table, current = ensure_table(spark, cfg, logger)
    before, types = current.snapshot_id, current.types
    columns = pipeline.row_columns(spec)
    latest = (valid.map(lambda r: (dedup.dedup_key(r, key_columns), r))
              .reduceByKey(picker)
              .values()
              .map(lambda r: pipeline.to_row(r, columns)))
    batch = spark.createDataFrame(latest, pipeline.row_ddl(spec))
    # The batch in the table's own column types (e.g. a timestamp column
    # Glue created without time zone), by name.
    batch = batch.select(*[F.col(f"`{c}`").cast(types[c]).alias(c) for c in columns])
    batch.persist(StorageLevel.MEMORY_AND_DISK)
    counts["batch_rows"] = batch.count()
    counts["superseded_in_batch"] = counts["valid"] - counts["batch_rows"]
    dts = [r[0] for r in batch.select(schema.PARTITION_COLUMN).distinct().collect()]
    view = f"batch_{name}"
    batch.createOrReplaceTempView(view)
    changed = set(dts)
    stored_keys = None
    if iceberg.partitioning(spec) == iceberg.KEY_BUCKET:
        # One read of the table's keys finds the stored rows the batch
        # matches: the days replaced rows leave (an event_day MERGE only
        # matches inside the batch's days), and the keys that limit the
        # MERGE's join.
        matches = spark.sql(iceberg.stored_matches_sql(
            table, view, spec, broadcast=counts["batch_rows"] <= iceberg.MAX_BROADCAST_BATCH))
        matches.persist(StorageLevel.MEMORY_AND_DISK)
        changed |= {r[0] for r in matches.select("dt").distinct().collect()}
        counts["stored_matches"] = matches.count()
        if counts["stored_matches"] <= iceberg.MAX_KEY_FILTER and iceberg.can_filter_keys(spec):
            stored_keys = [r[0] for r in matches.select("key").collect()]
        matches.unpersist()
    counts["days_changed"] = len(changed)
    if cfg.changes_path:
        # Before the commit: a record of a run that then fails only makes
        # curated recompute an unchanged day.
        hadoopfs.write_text(spark, cfg.changes_path + changes.record_name(run_id),
                            changes.change_record(name, changed, schema.format_timestamp(now)))
    spark.sql(iceberg.merge_sql(table, view, spec, dts, stored_keys))
    batch.unpersist()
    after = tables.state(spark, table)
    commit = iceberg.commit_counts(before, after.snapshot_id, after.summary)
    counts["written"] = commit["written"]
    counts["replaced"] = commit["replaced"]
    # Rows older than (or equal to) the stored version of their key.
    counts["superseded_by_stored"] = counts["batch_rows"] - commit["written"]
    counts["partitions_written"] = len(dts)
    _log(logger, f"raw_to_processed {name}: merged {counts['batch_rows']} rows of days "
                 f"{', '.join(sorted(dts)[:5])}{' ...' if len(dts) > 5 else ''} into {table} "
                 f"(snapshot {commit['snapshot_id']})")


def main(argv=None):
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    resolved = getResolvedOptions(argv, jobargs.resolvable_names(argv, REQUIRED_ARGS, OPTIONAL_ARGS))
    cfg = jobargs.parse_raw_to_processed_args(resolved)

    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    logger = glue_context.get_logger()

    job = Job(glue_context)
    job.init(cfg.job_name, resolved)
    run(glue_context, spark, cfg, logger)
    job.commit()


if __name__ == "__main__":
    main()
