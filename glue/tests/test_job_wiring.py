"""Smoke test of the raw_to_processed wiring with in-memory Spark/Glue fakes.

pyspark is not installable here, so this drives ``run`` through tiny fakes
of exactly the RDD/DataFrame calls the job makes on a first load (no stored
partitions yet): it proves the plumbing (tagging, counting, routing rows
to one output partition per file, the quarantine write) end to end.
"""

import datetime as dt
import contextlib
import io
import json
import os
import sys
import types
import unittest
from collections import Counter, defaultdict

import support
from lakelib import args

JOBS_DIR = os.path.join(support.GLUE_DIR, "jobs")


class FakeRDD:
    def __init__(self, items, partitions=None):
        self.partitions = partitions if partitions is not None else [list(items)]

    @property
    def items(self):
        return [x for p in self.partitions for x in p]

    def map(self, f):
        return FakeRDD(None, [[f(x) for x in p] for p in self.partitions])

    def filter(self, f):
        return FakeRDD(None, [[x for x in p if f(x)] for p in self.partitions])

    def mapPartitions(self, f):
        return FakeRDD(None, [list(f(iter(p))) for p in self.partitions])

    def union(self, other):
        return FakeRDD(None, self.partitions + other.partitions)

    def persist(self, level=None):
        return self

    def unpersist(self):
        return self

    def countByValue(self):
        return Counter(self.items)

    def count(self):
        return len(self.items)

    def distinct(self):
        return FakeRDD(list(dict.fromkeys(self.items)))

    def collect(self):
        return self.items

    def collectAsMap(self):
        return dict(self.items)

    def values(self):
        return FakeRDD(None, [[v for _, v in p] for p in self.partitions])

    def reduceByKey(self, f):
        acc = {}
        for k, v in self.items:
            acc[k] = f(acc[k], v) if k in acc else v
        return FakeRDD(list(acc.items()))

    def partitionBy(self, n, func):
        parts = [[] for _ in range(n)]
        for k, v in self.items:
            parts[func(k) % n].append((k, v))
        return FakeRDD(None, parts)


class FakeWriter:
    def __init__(self, df, log):
        self.df, self.log, self.opts = df, log, {}

    def mode(self, m):
        self.opts["mode"] = m
        return self

    def option(self, k, v):
        self.opts[k] = v
        return self

    def partitionBy(self, *cols):
        self.opts["partitionBy"] = cols
        return self

    def parquet(self, path):
        self.log.append(("parquet", path, self.opts, self.df))

    def text(self, path):
        self.log.append(("text", path, self.opts, self.df))


class FakeDF:
    def __init__(self, rdd, schema, log):
        self.rdd, self.schema, self.log = rdd, schema, log
        self.columns = [c.strip().split(" ")[0].strip("`") for c in schema.split(",")] if schema else []

    def toJSON(self):
        return self.rdd

    def select(self, *cols):
        idx = [self.columns.index(c) for c in cols]
        return FakeDF(self.rdd.map(lambda row: tuple(row[i] for i in idx)), ", ".join(f"{c} STRING" for c in cols),
                      self.log)

    def coalesce(self, n):
        self.coalesced = n
        return self

    @property
    def write(self):
        return FakeWriter(self, self.log)


class FakeSpark:
    def __init__(self):
        self.log = []
        self.sparkContext = types.SimpleNamespace(
            union=lambda rdds: FakeRDD(None, [p for r in rdds for p in r.partitions]))
        self._jvm = None

    def createDataFrame(self, rdd, schema):
        return FakeDF(rdd, schema, self.log)


class FakeDynamicFrame:
    def __init__(self, records):
        self.records = records

    def resolveChoice(self, choice):
        assert choice == "make_struct"
        return self

    def toDF(self):
        lines = FakeRDD([json.dumps(r) for r in self.records])
        return types.SimpleNamespace(columns=["x"] if self.records else [], toJSON=lambda: lines)


class FakeGlueContext:
    def __init__(self, by_ctx):
        self.calls = []

        def from_options(**kw):
            self.calls.append(kw)
            return FakeDynamicFrame(by_ctx.get(kw["transformation_ctx"], []))

        self.create_dynamic_frame = types.SimpleNamespace(from_options=from_options)


class RawToProcessedWiringTest(unittest.TestCase):
    def setUp(self):
        fake_pyspark = types.ModuleType("pyspark")
        fake_pyspark.StorageLevel = types.SimpleNamespace(MEMORY_AND_DISK="MEMORY_AND_DISK")
        self._saved = sys.modules.get("pyspark")
        sys.modules["pyspark"] = fake_pyspark
        if JOBS_DIR not in sys.path:
            sys.path.insert(0, JOBS_DIR)
        import raw_to_processed
        self.job = raw_to_processed
        # The Iceberg MERGE needs Spark: the local lake (e2e/) runs it. Here
        # it records what it was handed.
        self.merged = []
        self._saved_write = raw_to_processed.write_processed

        def write(spark, cfg, valid, key_columns, picker, counts, logger, now=None, run_id=None):
            self.merged.append((list(valid.items), key_columns))
        raw_to_processed.write_processed = write

    def tearDown(self):
        self.job.write_processed = self._saved_write
        if self._saved is None:
            sys.modules.pop("pyspark", None)
        else:
            sys.modules["pyspark"] = self._saved

    def test_first_load(self):
        spec = support.dataset("clickstream")
        cfg = args.parse_raw_to_processed_args({
            "JOB_NAME": "j", "dataset_spec": json.dumps(spec), "raw_path": "s3://r/source=clickstream/",
            "landing_path": "s3://r/landing/clickstream/", "processed_path": "s3://p/clickstream/",
            "quarantine_path": "s3://p/_quarantine/clickstream/",
            "database": "db", "table": "clickstream"})
        api = lambda data, at: {"dataset": "clickstream", "received_at": at, "data": data}  # noqa: E731
        glue = FakeGlueContext({
            "raw_firehose": [
                api(support.click(event_id="e-1"), 1714557600000),
                api(support.click(event_id="e-1", event_type="purchase"), 1714557601000),  # same key, later
                api(support.click(event_id="e-2", event_time="2024-05-02T01:00:00Z"), 1714611600000),
                api(support.click(event_id="e-3", duration_ms=-5), 1714557600000),
            ],
            "landing_csv": [{"event_id": "e-4", "session_id": "s", "customer_id": "c", "event_type": "Checkout",
                             "event_time": "2024-05-01T12:00:00Z"}],
        })
        spark = FakeSpark()
        now = dt.datetime(2024, 5, 3, 6, tzinfo=dt.timezone.utc)
        with contextlib.redirect_stdout(io.StringIO()):  # the job's log lines
            counts = self.job.run(glue, spark, cfg, logger=None, now=now)

        self.assertEqual([c["transformation_ctx"] for c in glue.calls], ["raw_firehose", "landing_json", "landing_csv"])
        self.assertEqual((counts["read"], counts["valid"], counts["quarantined"], counts["deleted"]), (5, 4, 1, 0))
        [(valid, key_columns)] = self.merged
        self.assertEqual(key_columns, ["event_id"])
        self.assertEqual(sorted(r["event_id"] for r in valid), ["e-1", "e-1", "e-2", "e-4"],
                         "every valid row reaches the MERGE (it de-duplicates the batch itself)")
        self.assertEqual({r["event_id"]: r["dt"] for r in valid}, {"e-1": "2024-05-01", "e-2": "2024-05-02",
                                                                   "e-4": "2024-05-01"})

        text = [entry for entry in spark.log if entry[0] == "text"]
        self.assertEqual(len(text), 1)
        _, qpath, qopts, qdf = text[0]
        self.assertEqual(qpath, "s3://p/_quarantine/clickstream/")
        self.assertEqual((qopts["mode"], qopts["partitionBy"]), ("append", ("dt",)))
        [(value, qdt)] = qdf.rdd.items
        self.assertEqual(qdt, "2024-05-03")
        record = json.loads(value)
        self.assertEqual(record["data"]["event_id"], "e-3")
        self.assertTrue(record["_quarantine_reason"].startswith("below_min(duration_ms)"))
        self.assertEqual(record["_quarantined_at"], "2024-05-03T06:00:00.000000Z")

    def test_nothing_new(self):
        spec = support.dataset("orders")
        cfg = args.parse_raw_to_processed_args({
            "JOB_NAME": "j", "dataset_spec": json.dumps(spec), "raw_path": "s3://r/source=orders/",
            "landing_path": "s3://r/landing/orders/", "processed_path": "s3://p/orders/",
            "quarantine_path": "s3://p/_quarantine/orders/",
            "database": "db", "table": "orders"})
        spark = FakeSpark()
        with contextlib.redirect_stdout(io.StringIO()):
            counts = self.job.run(FakeGlueContext({}), spark, cfg)
        self.assertEqual(counts["read"], 0)
        self.assertEqual(spark.log, [])


if __name__ == "__main__":
    unittest.main()
