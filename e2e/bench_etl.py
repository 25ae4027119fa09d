"""make bench-etl: the cost of one raw->processed run against history H and 10 x H.

The raw->processed job of the assembly's first dataset (or --dataset) runs
unchanged (the same stand-ins as the local lake) twice, on the same new
batch: once with a processed table of H rows, once with 10 x H. History is
appended straight into the processed Iceberg table (created as the
deployment declares it, laid out as the job keeps it; event days over a
year); the batch is API envelopes in the Firehose prefix: mostly new keys on
the last days, plus newer versions of keys already in history. For an
event_day dataset those are re-deliveries on the stored row's event day
(its versions share the day, as the declaration says); for a key_bucket
dataset any key with a new event time. Each run's result is checked (one
row per key: history + new keys; updated keys carry the batch's version),
then the line the contract names is printed:

    etl cost ratio (10x history / 1x history): R

A design whose run costs grow with the new data gives R near 1; one that
reads or rewrites history grows towards 10.

    python3 e2e/bench_etl.py ASSEMBLY [--history H] [--batch N] [--updates U]
"""

import argparse
import base64  # noqa: F401  (kept for parity with the driver's helpers)
import datetime as dtm
import gzip
import json
import os
import random
import shutil
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "standins"))

import driver  # noqa: E402
from assembly import Assembly  # noqa: E402

UTC = dtm.timezone.utc


def history_frame(spark, spec, rows, start, days):
    """rows processed rows of spec, keys k-<id>, event times over `days` days before `start`."""
    from pyspark.sql import functions as F

    df = spark.range(rows).withColumnRenamed("id", "_i")
    event = F.expr(f"timestamp'{start.strftime('%Y-%m-%d %H:%M:%S')}' - make_interval(0, 0, 0, cast(_i % {days} as int) + 1, 0, 0, cast(_i % 3600 as double))")
    cols = []
    for c in spec.columns:
        name, t = c["name"], c["type"]
        if name == spec.event:
            v = event if t == "timestamp" else F.to_date(event)
        elif name in spec.key:
            v = F.concat(F.lit(f"{spec.name}-{name}-h"), F.col("_i").cast("string")) if t == "string" else F.col("_i")
        elif c.get("allowed"):
            vals = F.array(*[F.lit(a.lower()) for a in c["allowed"]])
            v = F.element_at(vals, (F.col("_i") % len(c["allowed"]) + 1).cast("int"))
        elif t == "string":
            v = F.concat(F.lit(f"{name}-"), (F.col("_i") % 97).cast("string"))
        elif t in ("bigint", "double"):
            lo = c.get("min", 0)
            span = max(1, int(min(c.get("max", lo + 1000), lo + 1000) - lo))
            v = (F.lit(lo) + F.col("_i") % span).cast(t)
        elif t == "boolean":
            v = (F.col("_i") % 2) == 0
        elif t == "timestamp":
            v = event
        elif t == "date":
            v = F.to_date(event)
        else:
            raise ValueError(f"column type {t} is not generated")
        cols.append(v.alias(name))
    cols += [F.lit(False).alias("_is_deleted"), event.alias("_received_at"), F.lit(None).cast("string").alias("_change_seq"),
             F.date_format(event, "yyyy-MM-dd").alias("dt")]
    return df.select(*cols)


def history_event(hid, start, days):
    """The event time history_frame gives row hid."""
    return start - dtm.timedelta(days=hid % days + 1, seconds=hid % 3600)


def write_batch(path, spec, n_new, updates, history_rows, now, seed, start, days):
    """API envelopes of n_new new keys (last 2 days) and `updates` newer versions of history keys."""
    rnd = random.Random(seed)
    lines, new_keys, updated = [], set(), set()
    for i in range(n_new + updates):
        if i < n_new:
            when = now - dtm.timedelta(minutes=rnd.randrange(2 * 24 * 60 - 5) + 2)
            rec = spec.record(i, when, rnd)
            key = tuple(rec[k] for k in spec.key)
            new_keys.add(key)
        else:
            if spec.d.get("partitioning") == "key_bucket":
                hid = rnd.randrange(history_rows)
                when = now - dtm.timedelta(minutes=rnd.randrange(60) + 1)
            else:  # a re-delivery on the stored row's day (the last 2 days of history)
                hid = rnd.randrange(history_rows // days) * days + rnd.randrange(2)
                when = history_event(hid, start, days)
            rec = spec.record(0, when, rnd)
            for k in spec.key:
                col = spec.col[k]
                rec[k] = f"{spec.name}-{k}-h{hid}" if col["type"] == "string" else hid
            updated.add(tuple(rec[k] for k in spec.key))
        lines.append(json.dumps({"dataset": spec.name, "received_at": int(now.timestamp() * 1000), "data": rec}))
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress(("\n".join(lines) + "\n").encode()))
    return new_keys, updated


def run_once(asm, job_name, spec, history_rows, args, bench_root, warmup=False):
    run_dir = os.path.join(bench_root, f"h{history_rows}")
    shutil.rmtree(run_dir, ignore_errors=True)
    s3_root = os.path.join(bench_root, "s3")  # the Spark session's s3:// root, shared
    shutil.rmtree(s3_root, ignore_errors=True)
    os.makedirs(run_dir)
    os.environ["E2E_RUN_DIR"] = run_dir
    glue = driver.Glue(asm, run_dir, s3_root)
    if driver_spark[0] is None:
        glue.start_spark()
        driver_spark[0] = glue.spark
    else:
        glue.spark = driver_spark[0]
        glue.catalog_conf()  # the catalog names, as start_spark learns them
        for z in glue.jobs[job_name]["py_files"]:
            sys.path.insert(0, z)
    spark = glue.spark
    job = glue.jobs[job_name]
    now = dtm.datetime.now(UTC).replace(microsecond=0)
    start, days = now - dtm.timedelta(days=2), 365
    table = glue.iceberg_table(job["args"]["--database"], job["args"]["--table"])
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    glue.create_iceberg_tables(only=job["args"]["--table"])
    mod = glue.module(job["script"])
    from lakelib import args as jobargs
    cfg = jobargs.parse_raw_to_processed_args(dict({k.lstrip("-"): v for k, v in job["args"].items()}, JOB_NAME=job_name))
    mod.ensure_table(spark, cfg, None)
    t = time.time()
    history_frame(spark, spec, history_rows, start, days).writeTo(table).append()
    gen = time.time() - t
    raw = driver.s3_local(s3_root, job["args"]["--raw_path"])
    new_keys, updated = write_batch(os.path.join(raw, f"dt={now.date()}", "bench-batch.gz"), spec,
                                    args.batch, args.updates, history_rows, now, seed=history_rows,
                                    start=start, days=days)
    log = open(os.path.join(run_dir, "job.log"), "w")
    t = time.time()
    r = glue.run_job(job_name, log)
    seconds = time.time() - t
    log.close()
    if r["state"] != "SUCCEEDED":
        sys.exit(f"bench-etl: the job failed at history {history_rows}: {r['error']}")
    df = spark.table(table)
    rows = df.count()
    keys = df.select(*spec.key).distinct().count()
    want = history_rows + len(new_keys)
    ok = rows == want and keys == want
    # an updated key carries the batch's version (received now; history's was its event time)
    sample = sorted(updated)[:20]
    if sample and spec.key and spec.col[spec.key[0]]["type"] == "string":
        from pyspark.sql import functions as F
        got = df.where(F.col(spec.key[0]).isin([k[0] for k in sample])).select("_received_at").collect()
        ok = ok and len(got) == len(sample) and all(x[0].replace(tzinfo=UTC) >= now - dtm.timedelta(seconds=1) for x in got)
    if warmup:
        print(f"bench-etl: warm-up run on {history_rows:,} rows of history: {'ok' if ok else 'WRONG RESULT'}", flush=True)
    else:
        print(f"bench-etl: history {history_rows:>10,} rows (generated in {gen:5.1f} s), batch {args.batch:,} new + "
              f"{len(updated):,} updates -> {rows:,} rows: job {seconds:6.1f} s  {'ok' if ok else 'WRONG RESULT'}", flush=True)
    if not ok:
        sys.exit(f"bench-etl: wrong result at history {history_rows}: {rows} rows, {keys} keys, want {want}")
    # Now, while its files exist (the next run starts from an empty s3 root).
    spark.sql(f"DROP TABLE IF EXISTS {table}")
    return seconds


driver_spark = [None]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("assembly")
    p.add_argument("--history", type=int, default=1_000_000)
    p.add_argument("--batch", type=int, default=100_000)
    p.add_argument("--updates", type=int, default=1_000)
    p.add_argument("--dataset", default="", help="the dataset to run (default: the first)")
    args = p.parse_args()
    asm = Assembly(args.assembly)
    bench_root = os.path.join(os.environ["E2E_CACHE"], "bench")
    os.makedirs(bench_root, exist_ok=True)
    probe = driver.Glue(asm, bench_root, os.path.join(bench_root, "s3"))
    r2p = sorted(n for n, j in probe.jobs.items() if "--dataset_spec" in j["args"]
                 and (not args.dataset or json.loads(j["args"]["--dataset_spec"])["name"] == args.dataset))
    if not r2p:
        sys.exit("bench-etl: no raw->processed job in the assembly")
    job_name = r2p[0]
    spec = driver.Spec(json.loads(probe.jobs[job_name]["args"]["--dataset_spec"]))
    os.environ["E2E_S3_ROOT"] = os.path.join(bench_root, "s3")
    print(f"bench-etl: {job_name} ({spec.name}), history H = {args.history:,} and 10 x H", flush=True)
    # Not timed: the first job run of a Spark session pays for class loading
    # and JIT warm-up, which would count against whichever run came first.
    run_once(asm, job_name, spec, max(1000, args.history // 100), args, bench_root, warmup=True)
    one = run_once(asm, job_name, spec, args.history, args, bench_root)
    ten = run_once(asm, job_name, spec, 10 * args.history, args, bench_root)
    print(f"etl cost ratio (10x history / 1x history): {ten / one:.2f}")


if __name__ == "__main__":
    main()
