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


class FakeCsvReader:
    """spark.read.option(...).csv(path): the landing CSV rows of a fake file, all strings."""

    def __init__(self, files, log):
        self.files, self.log, self.opts = files, log, {}

    def option(self, k, v):
        self.opts[k] = v
        return self

    def csv(self, path):
        self.log.append(("csv", path, dict(self.opts)))
        rows = self.files[path][2]
        return types.SimpleNamespace(toJSON=lambda: FakeRDD([json.dumps(r) for r in rows]))


class FakeSpark:
    def __init__(self, csv_files=None):
        self.log = []
        self.csv_files = csv_files or {}
        self.sparkContext = types.SimpleNamespace(
            union=lambda rdds: FakeRDD(None, [p for r in rdds for p in r.partitions]))
        self._jvm = None

    @property
    def read(self):
        return FakeCsvReader(self.csv_files, self.log)

    def createDataFrame(self, rdd, schema):
        return FakeDF(rdd, schema, self.log)


class FakeRow:
    def __init__(self, line):
        self.line = line

    def asDict(self, recursive=False):
        return {"col0": self.line}


class FakeDynamicFrame:
    """A line read: one text column per line (dicts stand for their JSON text)."""

    def __init__(self, records, errors=()):
        self.lines = [r if isinstance(r, str) else json.dumps(r) for r in records]
        self.errors = list(errors)

    def resolveChoice(self, choice):
        assert choice == "make_struct"
        return self

    def stageErrorsCount(self):
        return len(self.errors)

    def errorsAsDynamicFrame(self):
        errors = FakeRDD(self.errors)
        return types.SimpleNamespace(toDF=lambda: types.SimpleNamespace(toJSON=lambda: errors))

    def toDF(self):
        return types.SimpleNamespace(columns=["col0"] if self.lines else [], rdd=FakeRDD([FakeRow(x) for x in self.lines]))


class FakeGlueContext:
    def __init__(self, by_ctx, errors=None):
        self.calls = []

        def from_options(**kw):
            self.calls.append(kw)
            ctx = kw["transformation_ctx"]
            return FakeDynamicFrame(by_ctx.get(ctx, []), (errors or {}).get(ctx, []))

        self.create_dynamic_frame = types.SimpleNamespace(from_options=from_options)


class FakeFiles:
    """lakelib.hadoopfs over a dict: listed files and the manifest text."""

    def __init__(self, files):
        self.files, self.texts = files, {}

    def list_files(self, spark, prefix):
        return [(p, f[0], f[1]) for p, f in sorted(self.files.items()) if p.startswith(prefix)]

    def read_text(self, spark, path):
        return self.texts.get(path)

    def write_text(self, spark, path, text):
        self.texts[path] = text


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
        self._saved_fs = {n: getattr(raw_to_processed.hadoopfs, n) for n in ("list_files", "read_text", "write_text")}

    def use_files(self, files):
        fake = FakeFiles(files)
        for n in self._saved_fs:
            setattr(self.job.hadoopfs, n, getattr(fake, n))
        return fake

    def tearDown(self):
        for n, f in self._saved_fs.items():
            setattr(self.job.hadoopfs, n, f)
        self.job.write_processed = self._saved_write
        if self._saved is None:
            sys.modules.pop("pyspark", None)
        else:
            sys.modules["pyspark"] = self._saved

    def cfg(self, name, **extra):
        return args.parse_raw_to_processed_args({
            "JOB_NAME": "j", "dataset_spec": json.dumps(support.dataset(name)), "raw_path": f"s3://r/source={name}/",
            "landing_path": f"s3://r/landing/{name}/", "landing_files_path": f"s3://p/_landing_files/{name}/",
            "processed_path": f"s3://p/{name}/", "quarantine_path": f"s3://p/_quarantine/{name}/",
            "database": "db", "table": name, **extra})

    def test_first_load(self):
        cfg = self.cfg("clickstream")
        api = lambda data, at: {"dataset": "clickstream", "received_at": at, "data": data}  # noqa: E731
        good = api(support.click(event_id="e-5"), 1714557600000)
        glue = FakeGlueContext({
            "raw_firehose": [
                api(support.click(event_id="e-1"), 1714557600000),
                api(support.click(event_id="e-1", event_type="purchase"), 1714557601000),  # same key, later
                api(support.click(event_id="e-2", event_time="2024-05-02T01:00:00Z"), 1714611600000),
                api(support.click(event_id="e-3", duration_ms=-5), 1714557600000),
                json.dumps(good)[:-9],  # a truncated line
            ],
        }, errors={"landing_json": ['{"error": "unreadable input"}']})
        csv_path = "s3://r/landing/clickstream/export.csv"
        files = {csv_path: (120, 1714557700000, [
            {"event_id": "e-4", "session_id": "00042", "customer_id": "c", "event_type": "Checkout",
             "event_time": "2024-05-01T12:00:00Z"}]),
            "s3://r/landing/clickstream/notes.json": (10, 1, [])}
        fs = self.use_files(files)
        spark = FakeSpark(files)
        now = dt.datetime(2024, 5, 3, 6, tzinfo=dt.timezone.utc)
        with contextlib.redirect_stdout(io.StringIO()):  # the job's log lines
            counts = self.job.run(glue, spark, cfg, logger=None, now=now)

        self.assertEqual([c["transformation_ctx"] for c in glue.calls], ["raw_firehose", "landing_json"])
        self.assertEqual([e[:2] for e in spark.log if e[0] == "csv"], [("csv", csv_path)], "only the CSV file, by Spark")
        csv_opts = next(e[2] for e in spark.log if e[0] == "csv")
        self.assertEqual((csv_opts["header"], csv_opts["inferSchema"]), (True, False))
        self.assertEqual((counts["read"], counts["valid"], counts["quarantined"], counts["deleted"], counts["csv_files"]),
                         (7, 4, 3, 0, 1))
        [(valid, key_columns)] = self.merged
        self.assertEqual(key_columns, ["event_id"])
        self.assertEqual(sorted(r["event_id"] for r in valid), ["e-1", "e-1", "e-2", "e-4"],
                         "every valid row reaches the MERGE (it de-duplicates the batch itself)")
        self.assertEqual({r["event_id"]: r["dt"] for r in valid}, {"e-1": "2024-05-01", "e-2": "2024-05-02",
                                                                   "e-4": "2024-05-01"})
        self.assertEqual(next(r["session_id"] for r in valid if r["event_id"] == "e-4"), "00042", "leading zeros kept")

        text = [entry for entry in spark.log if entry[0] == "text"]
        self.assertEqual(len(text), 1)
        _, qpath, qopts, qdf = text[0]
        self.assertEqual(qpath, "s3://p/_quarantine/clickstream/")
        self.assertEqual((qopts["mode"], qopts["partitionBy"]), ("append", ("dt",)))
        records = [json.loads(value) for value, _ in qdf.rdd.items]
        self.assertEqual({d for _, d in qdf.rdd.items}, {"2024-05-03"})
        reasons = sorted(r["_quarantine_reason"].split("(")[0].split(":")[0] for r in records)
        self.assertEqual(reasons, ["below_min", "malformed_record", "malformed_record"])
        self.assertEqual(next(r for r in records if "data" in r)["_quarantined_at"], "2024-05-03T06:00:00.000000Z")
        self.assertIn(json.dumps(good)[:-9], [r.get("_raw") for r in records], "the malformed line is kept as read")

        # The manifest names the CSV file; the next run reads nothing again.
        manifest = json.loads(fs.texts["s3://p/_landing_files/clickstream/files.json"])
        self.assertEqual(manifest, {"files": {csv_path: "120:1714557700000"}})
        spark2 = FakeSpark(files)
        with contextlib.redirect_stdout(io.StringIO()):
            again = self.job.run(FakeGlueContext({}), spark2, cfg, logger=None, now=now)
        self.assertEqual((again["read"], again["csv_files"]), (0, 0))
        self.assertEqual(spark2.log, [])

    def test_upgrade_run_skips_what_the_previous_version_read(self):
        # The first run of this version with --landing_read_before: CSV files
        # modified before it were read by the old job's bookmarks and are not
        # read again; the seeded manifest is written even when nothing is
        # new, so the next run (without the argument) does not read them.
        name = "clickstream"
        old, new = f"s3://r/landing/{name}/old.csv", f"s3://r/landing/{name}/new.csv"
        row = {"event_id": "e-9", "session_id": "s", "customer_id": "c", "event_type": "Checkout",
               "event_time": "2024-05-01T12:00:00Z"}
        before = int(dt.datetime(2024, 5, 1, 10, tzinfo=dt.timezone.utc).timestamp() * 1000)
        for files, read in (({old: (50, before - 1, [row])}, []),
                            ({old: (50, before - 1, [row]), new: (60, before + 1, [row])}, [new])):
            with self.subTest(files=sorted(files)):
                fs = self.use_files(files)
                cfg = self.cfg(name, landing_read_before="2024-05-01T10:00:00Z")
                self.assertEqual(cfg.landing_read_before_ms, before)
                spark = FakeSpark(files)
                with contextlib.redirect_stdout(io.StringIO()):
                    counts = self.job.run(FakeGlueContext({}), spark, cfg, now=dt.datetime(2024, 5, 3, tzinfo=dt.timezone.utc))
                self.assertEqual([e[1] for e in spark.log if e[0] == "csv"], read)
                self.assertEqual(counts["csv_files"], len(read))
                manifest = json.loads(fs.texts[f"s3://p/_landing_files/{name}/files.json"])["files"]
                self.assertEqual(sorted(manifest), sorted(files))
                # Without the argument, the next run reads nothing.
                spark2 = FakeSpark(files)
                with contextlib.redirect_stdout(io.StringIO()):
                    again = self.job.run(FakeGlueContext({}), spark2, self.cfg(name))
                self.assertEqual(again["csv_files"], 0)

    def test_nothing_new(self):
        cfg = self.cfg("orders")
        self.use_files({})
        spark = FakeSpark()
        with contextlib.redirect_stdout(io.StringIO()):
            counts = self.job.run(FakeGlueContext({}), spark, cfg)
        self.assertEqual(counts["read"], 0)
        self.assertEqual(spark.log, [])


if __name__ == "__main__":
    unittest.main()
