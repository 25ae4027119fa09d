"""Glue job: raw zone -> processed zone, one job per dataset.

Reads the dataset's Firehose prefix (API / DMS envelopes, gzip JSON lines)
and its landing prefix (plain CSV or JSON lines records) with job bookmarks,
turns every record into a typed row or a quarantine record (lakelib.pipeline),
merges the valid rows with the stored rows of every partition they touch,
keeps the latest row per key (lakelib.dedup) and rewrites exactly those
partitions as Snappy Parquet with dynamic partition overwrite.

Arguments (see glue/README.md): --JOB_NAME --dataset_spec --raw_path
--landing_path --processed_path --quarantine_path [--target_file_mb 256]

All logic lives in lakelib; pyspark/awsglue are imported inside functions
so this module imports without Spark.
"""

import datetime
import json
import operator
import sys

from lakelib import args as jobargs
from lakelib import dedup, hadoopfs, partitions, pipeline, quarantine, schema

REQUIRED_ARGS = jobargs.RAW_TO_PROCESSED_REQUIRED
OPTIONAL_ARGS = jobargs.RAW_TO_PROCESSED_OPTIONAL


def _log(logger, message):
    print(message, flush=True)
    if logger is not None:
        logger.info(message)


def read_sources(glue_context, cfg):
    """[(kind, DataFrame)] of the three bookmarked S3 reads (empty ones skipped)."""
    frames = []
    for source in pipeline.source_reads(cfg.raw_path, cfg.landing_path):
        dyf = glue_context.create_dynamic_frame.from_options(
            connection_type="s3",
            connection_options=pipeline.s3_connection_options(source),
            format=source["format"],
            format_options=source["format_options"],
            transformation_ctx=source["transformation_ctx"],
        )
        # Columns whose type varies between records become {"int": .., "string": ..}
        # structs, which lakelib.schema.unchoice unwraps.
        df = dyf.resolveChoice(choice="make_struct").toDF()
        if df.columns:
            frames.append((source["kind"], df))
    return frames


def storage_text_select(spec):
    """Column expressions rendering stored rows as JSON-safe text (no local-time conversion)."""
    from pyspark.sql import functions as F

    exprs = []
    for name, kind in pipeline.storage_text_columns(spec):
        column = F.col(f"`{name}`")
        if kind == schema.TIMESTAMP:
            column = F.date_format(column, schema.SPARK_TIMESTAMP_TEXT_FORMAT)
        elif kind == schema.DATE:
            column = F.date_format(column, schema.SPARK_DATE_TEXT_FORMAT)
        exprs.append(column.alias(name))
    return exprs


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

    frames = read_sources(glue_context, cfg)
    counts = {"read": 0, "valid": 0, "quarantined": 0, "deleted": 0, "written": 0,
              "partitions_written": 0, "partitions_emptied": 0}
    if not frames:
        _log(logger, f"raw_to_processed {name}: nothing new to read " + json.dumps(counts, sort_keys=True))
        return counts

    lines = sc.union([df.toJSON().map(lambda line, k=kind: (k, line)) for kind, df in frames])
    tagged = lines.mapPartitions(lambda items: pipeline.process_partition(items, spec, quarantined_at))
    tagged.persist(StorageLevel.MEMORY_AND_DISK)
    by_tag = tagged.map(operator.itemgetter(0)).countByValue()
    counts["valid"] = int(by_tag.get(pipeline.VALID, 0))
    counts["quarantined"] = int(by_tag.get(pipeline.QUARANTINE, 0))
    counts["read"] = counts["valid"] + counts["quarantined"]

    valid = tagged.filter(lambda t: t[0] == pipeline.VALID).map(operator.itemgetter(1))
    quarantined = tagged.filter(lambda t: t[0] == pipeline.QUARANTINE).map(operator.itemgetter(1))

    if counts["valid"]:
        counts["deleted"] = valid.filter(lambda r: r[schema.DELETED_COLUMN]).count()
        write_processed(spark, cfg, valid, key_columns, picker, counts, logger)

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

    tagged.unpersist()
    _log(logger, f"raw_to_processed {name}: " + json.dumps(counts, sort_keys=True))
    return counts


def write_processed(spark, cfg, valid, key_columns, picker, counts, logger):
    """Merge valid rows into the touched partitions and overwrite them."""
    from pyspark import StorageLevel

    spec = cfg.spec
    name = spec["name"]
    row_ddl = pipeline.row_ddl(spec)
    columns = pipeline.row_columns(spec)
    touched = set(valid.map(lambda r: r[schema.PARTITION_COLUMN]).distinct().collect())
    merged = valid

    existing_dts = hadoopfs.list_partition_dts(spark, cfg.processed_path)
    if existing_dts:
        existing = spark.read.schema(row_ddl).parquet(cfg.processed_path)
        key_types = [(k, schema.get_column(spec, k)["type"]) for k in key_columns]
        incoming_keys = spark.createDataFrame(
            valid.map(lambda r: dedup.dedup_key(r, key_columns)).distinct(), schema.ddl(key_types))
        # Partitions holding older versions of incoming keys must be rewritten
        # too, so the table keeps one row per key across partitions.
        holders = (existing.select(*key_columns, schema.PARTITION_COLUMN)
                   .join(incoming_keys, on=key_columns, how="left_semi")
                   .select(schema.PARTITION_COLUMN).distinct().collect())
        touched |= {row[0] for row in holders}
        stored = (existing.where(existing[schema.PARTITION_COLUMN].isin(sorted(touched)))
                  .select(*storage_text_select(spec))
                  .toJSON()
                  .map(lambda text: pipeline.from_storage(json.loads(text), spec)))
        merged = valid.union(stored)

    latest = (merged.map(lambda r: (dedup.dedup_key(r, key_columns), r))
              .reduceByKey(picker)
              .values())
    latest.persist(StorageLevel.MEMORY_AND_DISK)
    sizes = (latest.map(lambda r: (r[schema.PARTITION_COLUMN], (1, partitions.estimated_row_bytes(r))))
             .reduceByKey(lambda a, b: (a[0] + b[0], a[1] + b[1]))
             .collectAsMap())
    bytes_by_dt = {dt: size for dt, (_, size) in sizes.items()}
    plan, total_files = partitions.plan_output_files(bytes_by_dt, cfg.target_file_mb)
    counts["written"] = sum(n for n, _ in sizes.values())
    counts["partitions_written"] = len(plan)

    routed = (latest.map(lambda r: ((r[schema.PARTITION_COLUMN], dedup.dedup_key(r, key_columns)),
                                    pipeline.to_row(r, columns)))
              .partitionBy(total_files, lambda k: partitions.output_partition(plan, k[0], k[1]))
              .values())
    (spark.createDataFrame(routed, row_ddl)
        .write.mode("overwrite")
        .option("partitionOverwriteMode", "dynamic")
        .option("compression", "snappy")
        .partitionBy(schema.PARTITION_COLUMN)
        .parquet(cfg.processed_path))
    latest.unpersist()

    # A touched partition whose rows all moved to other partitions received
    # no rows, so dynamic overwrite left it as it was: delete it.
    for dt in partitions.stale_partitions(touched, plan):
        if hadoopfs.delete_recursive(spark, partitions.partition_path(cfg.processed_path, dt)):
            counts["partitions_emptied"] += 1
    _log(logger, f"raw_to_processed {name}: rewrote {len(plan)} partitions "
                 f"({', '.join(sorted(plan))}) in {total_files} files")


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
    spark.conf.set("spark.sql.sources.partitionOverwriteMode", "dynamic")
    spark.conf.set("spark.sql.parquet.compression.codec", "snappy")
    logger = glue_context.get_logger()

    job = Job(glue_context)
    job.init(cfg.job_name, resolved)
    run(glue_context, spark, cfg, logger)
    job.commit()


if __name__ == "__main__":
    main()
