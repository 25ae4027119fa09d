"""Glue job: Glue Data Quality gate on a processed table, one job per dataset.

Evaluates the stack-generated DQDL ruleset with EvaluateDataQuality on the
recent partitions (dt >= today(UTC) - lookback_days) of the processed table,
rows marked ``_is_deleted`` excluded, publishing CloudWatch metrics and results
under the evaluation context ``--dataset_name``.

The verdict gates only this dataset: failed rules do not fail the run
(which would stop the curated output of every dataset). The job writes
``passed``, ``failed`` (with every failed rule) or ``no_data`` to
``--verdict_path``, publishes ``QualityFailed`` (1 or 0, dimension
Dataset) to ``--metrics_namespace`` for the dataset's alarm, and logs the
failed rules; the curated job skips a dataset whose verdict failed.

The table's S3 location comes from the Data Catalog (--database/--table)
and the recent partitions are read from S3 directly, so the job works
whether partitions are registered in the catalog or projected.

Arguments (see glue/README.md): --JOB_NAME --database --table --ruleset
--dataset_name --lookback_days [--verdict_path --metrics_namespace --environment]
"""

import datetime
import json
import sys

from lakelib import args as jobargs
from lakelib import hadoopfs, iceberg, partitions, quality

REQUIRED_ARGS = jobargs.QUALITY_CHECK_REQUIRED
OPTIONAL_ARGS = jobargs.QUALITY_CHECK_OPTIONAL


def _log(logger, message):
    print(message, flush=True)
    if logger is not None:
        logger.info(message)


def load_recent(spark, table, start):
    """DataFrame of the non-deleted rows of dt >= start of the Iceberg table (None if there are none)."""
    from pyspark.sql import functions as F

    df = spark.table(table).where(F.col("dt") >= F.lit(start))
    if "_is_deleted" in df.columns:
        df = df.where(quality.active_rows_filter_sql())
    dts = sorted(r[0] for r in df.select("dt").distinct().collect())
    if not dts:
        return None, dts
    return df, dts


def run(glue_context, spark, cfg, get_table, logger=None, today=None, put_metric_data=None, now=None):
    """Evaluate the ruleset; returns the verdict record it wrote (see lakelib.quality)."""
    from awsglue.dynamicframe import DynamicFrame
    from awsgluedq.transforms import EvaluateDataQuality

    location = quality.table_location(get_table(DatabaseName=cfg.database, Name=cfg.table),
                                      cfg.database, cfg.table)
    today = today or partitions.today_utc()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    start = partitions.lookback_start(today, cfg.lookback_days)
    df, dts = load_recent(spark, iceberg.table_name(cfg.database, cfg.table), start)
    verdict = None
    if df is None:
        state = quality.NO_DATA_STATE
        _log(logger, f"quality_check {cfg.dataset_name}: no partitions with dt >= {start} under {location}; "
                     "nothing to check (the freshness alarm reports a stopped feed)")
    else:
        _log(logger, f"quality_check {cfg.dataset_name}: evaluating {cfg.database}.{cfg.table} "
                     f"partitions {', '.join(dts)}")
        frame = DynamicFrame.fromDF(df, glue_context, f"{cfg.dataset_name}_recent")
        results = EvaluateDataQuality.apply(
            frame=frame,
            ruleset=cfg.ruleset,
            publishing_options=quality.publishing_options(cfg.dataset_name),
            additional_options=dict(quality.EVALUATION_OPTIONS),
        )
        outcomes = [row.asDict() for row in results.toDF().select("Rule", "Outcome", "FailureReason").collect()]
        for outcome in outcomes:
            _log(logger, f"quality_check {cfg.dataset_name}: {outcome['Outcome']}: {outcome['Rule']}"
                         + (f" ({outcome['FailureReason']})" if outcome.get("FailureReason") else ""))
        verdict = quality.decide(outcomes, cfg.dataset_name)
        state = quality.PASSED_STATE if verdict.passed else quality.FAILED_STATE
        _log(logger, verdict.message)
    record = quality.verdict_record(cfg.dataset_name, state, now.strftime("%Y-%m-%dT%H:%M:%SZ"), dts, verdict)
    if cfg.verdict_path:
        hadoopfs.write_text(spark, cfg.verdict_path, json.dumps(record, sort_keys=True))
    if put_metric_data is not None:
        put_metric_data(Namespace=cfg.metrics_namespace,
                        MetricData=quality.metric_data(cfg.dataset_name, cfg.environment,
                                                       state == quality.FAILED_STATE))
    _log(logger, f"quality_check {cfg.dataset_name}: verdict {state}"
                 + (f" written to {cfg.verdict_path}" if cfg.verdict_path else ""))
    return record


def main(argv=None):
    import boto3
    from awsglue.context import GlueContext
    from awsglue.job import Job
    from awsglue.utils import getResolvedOptions
    from pyspark.context import SparkContext

    argv = sys.argv if argv is None else argv
    resolved = getResolvedOptions(argv, jobargs.resolvable_names(argv, REQUIRED_ARGS, OPTIONAL_ARGS))
    cfg = jobargs.parse_quality_check_args(resolved)

    sc = SparkContext.getOrCreate()
    glue_context = GlueContext(sc)
    spark = glue_context.spark_session
    spark.conf.set("spark.sql.session.timeZone", "UTC")
    # Keep dt a string, as in the catalog, instead of an inferred date.
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    logger = glue_context.get_logger()

    job = Job(glue_context)
    job.init(cfg.job_name, resolved)
    run(glue_context, spark, cfg, boto3.client("glue").get_table, logger,
        put_metric_data=boto3.client("cloudwatch").put_metric_data)
    job.commit()


if __name__ == "__main__":
    main()
