"""lakelib.iceberg: the declared table layout and the MERGE statement.

The MERGE itself runs on Spark with the Iceberg runtime in the local lake
(e2e/); these tests pin what the job asks Iceberg to do.
"""

import datetime as dt
import itertools
import unittest

import support  # noqa: F401  (puts glue/ on sys.path)
from support import ts

from lakelib import curated, dedup, iceberg, schema

try:  # in the .venv of make test (requirements-ci.txt); not stdlib
    import duckdb
    import sqlglot
except ImportError:  # pragma: no cover
    duckdb = sqlglot = None

T = "glue_catalog.`db`.`t`"


def spec_with(**fields):
    spec = dict(support.dataset("orders"))
    spec.pop("partitioning", None)
    spec.update(fields)
    return spec


class LayoutTest(unittest.TestCase):
    def test_partition_fields_follow_the_declaration(self):
        for spec in support.datasets():
            fields = iceberg.partition_fields(spec)
            if iceberg.partitioning(spec) == iceberg.KEY_BUCKET:
                self.assertEqual(fields, [(f"bucket[{iceberg.key_buckets(spec)}]", spec["key"][0])], spec["name"])
            else:
                self.assertEqual(fields, [("identity", schema.PARTITION_COLUMN)], spec["name"])

    def test_default_is_event_day_and_16_buckets(self):
        self.assertEqual(iceberg.partitioning(spec_with()), iceberg.EVENT_DAY)
        self.assertEqual(iceberg.key_buckets(spec_with(partitioning="key_bucket")), 16)
        self.assertEqual(iceberg.partition_fields(spec_with(partitioning="key_bucket", key_buckets=4)),
                         [("bucket[4]", "order_id")])

    def test_ensure_adds_the_spec_to_a_table_created_unpartitioned(self):
        spec = spec_with(partitioning="key_bucket", key_buckets=8)
        sql = iceberg.ensure_statements(T, iceberg.partition_fields(spec), [], {})
        self.assertIn(f"ALTER TABLE {T} ADD PARTITION FIELD bucket(8, `order_id`)", sql)
        self.assertTrue(any("'write.merge.mode' = 'merge-on-read'" in s for s in sql), sql)

    def test_ensure_is_idempotent(self):
        for spec in support.datasets():
            props = iceberg.table_properties(300)
            self.assertEqual(iceberg.ensure_statements(T, iceberg.partition_fields(spec), iceberg.partition_fields(spec), props, 300), [])

    def test_a_changed_partitioning_drops_the_old_field(self):
        spec = spec_with(partitioning="key_bucket")
        sql = iceberg.ensure_statements(T, iceberg.partition_fields(spec), [("identity", "dt")], iceberg.table_properties())
        self.assertEqual(sql, [f"ALTER TABLE {T} DROP PARTITION FIELD `dt`",
                               f"ALTER TABLE {T} ADD PARTITION FIELD bucket(16, `order_id`)"])

    def test_target_file_size_reaches_the_table(self):
        self.assertEqual(iceberg.table_properties(512)["write.target-file-size-bytes"], str(512 * 1024 * 1024))

    def test_declared_partitioning_is_validated(self):
        self.assertIn("dataset.partitioning: 'daily' is not allowed: use one of event_day, key_bucket",
                      schema.spec_problems(spec_with(partitioning="daily")))
        self.assertIn("dataset.key_buckets: is set but partitioning is 'event_day': key buckets apply to "
                      "partitioning 'key_bucket' only", schema.spec_problems(spec_with(key_buckets=8)))
        self.assertTrue(any(p.startswith("dataset.key_buckets: 2000 is out of range")
                            for p in schema.spec_problems(spec_with(partitioning="key_bucket", key_buckets=2000))))


def add_columns(spec, have):
    return iceberg.add_column_statements(T, iceberg.processed_table_columns(spec), have, spec["name"])


class SchemaEvolutionTest(unittest.TestCase):
    def test_missing_declared_columns_are_added(self):
        spec = support.dataset("clickstream")
        have = {n: "timestamp" if t == "timestamp" else t for n, t in schema.processed_columns(spec)}
        have["dt"] = "string"
        self.assertEqual(add_columns(spec, have), [])
        del have["page_url"]
        self.assertEqual(add_columns(spec, have), [f"ALTER TABLE {T} ADD COLUMN `page_url` string"])

    def test_a_timestamp_without_zone_is_accepted(self):
        spec = support.dataset("clickstream")
        have = {n: "timestamp_ntz" if t == "timestamp" else t for n, t in schema.processed_columns(spec)}
        have["dt"] = "string"
        self.assertEqual(add_columns(spec, have), [])

    def test_a_changed_type_names_the_column(self):
        spec = support.dataset("clickstream")
        have = dict(schema.processed_columns(spec), dt="string", duration_ms="string")
        with self.assertRaises(ValueError) as ctx:
            add_columns(spec, have)
        self.assertIn("duration_ms is string in the table but declared bigint", str(ctx.exception))
        self.assertIn("declaration of clickstream", str(ctx.exception))

    def test_curated_tables_gain_the_columns_a_declaration_adds(self):
        # A new numeric column of a dataset adds sum_/min_/max_ columns to its
        # daily table: the curated job adds them to the Iceberg table.
        spec = support.dataset("orders")
        cols = curated.curated_columns(spec, support.datasets()) + [("dt", "string")]
        have = dict(cols)
        self.assertEqual(iceberg.add_column_statements(T, cols, have, "orders_daily"), [])
        grown = dict(spec, columns=spec["columns"] + [{"name": "discount", "type": "double"}])
        new = curated.curated_columns(grown, support.datasets()) + [("dt", "string")]
        self.assertEqual(iceberg.add_column_statements(T, new, have, "orders_daily"),
                         [f"ALTER TABLE {T} ADD COLUMN `{c}_discount` double" for c in ("sum", "min", "max")])

    def test_curated_tables_are_partitioned_by_day(self):
        self.assertEqual(iceberg.ensure_statements(T, iceberg.CURATED_PARTITION_FIELDS, [], iceberg.table_properties())[0],
                         f"ALTER TABLE {T} ADD PARTITION FIELD `dt`")


class RecomputedDaysTest(unittest.TestCase):
    def test_window_only(self):
        self.assertEqual(iceberg.recomputed_days_sql("2024-05-01"), "(`dt` >= '2024-05-01')")

    def test_changed_days_before_the_window_are_named(self):
        # Days inside the window are already covered; duplicates go.
        self.assertEqual(iceberg.recomputed_days_sql("2024-05-01", ["2024-05-03", "2024-04-02", "2024-03-30", "2024-04-02"]),
                         "(`dt` >= '2024-05-01' OR `dt` IN ('2024-03-30', '2024-04-02'))")

    def test_days_are_validated(self):
        with self.assertRaises(ValueError):
            iceberg.recomputed_days_sql("2024-05-01", ["2024-04-02'; DROP TABLE x; --"])

    def test_the_condition_selects_exactly_the_recomputed_days(self):
        if duckdb is None:
            self.skipTest("duckdb is installed by make test (requirements-ci.txt)")
        days = [f"2024-04-{d:02d}" for d in range(1, 31)] + ["2024-05-01", "2024-05-02"]
        cond = iceberg.recomputed_days_sql("2024-04-28", ["2024-04-03", "2024-04-29"])
        con = duckdb.connect()
        con.execute("CREATE TABLE t (dt VARCHAR)")
        con.executemany("INSERT INTO t VALUES (?)", [[d] for d in days])
        sql = sqlglot.transpile(f"SELECT dt FROM t WHERE {cond} ORDER BY dt", read="spark", write="duckdb")[0]
        got = [r[0] for r in con.execute(sql).fetchall()]
        self.assertEqual(got, ["2024-04-03", "2024-04-28", "2024-04-29", "2024-04-30", "2024-05-01", "2024-05-02"])


class MergeTest(unittest.TestCase):
    def test_event_day_merge_reads_the_batch_days_only(self):
        spec = spec_with()
        sql = iceberg.merge_sql(T, "b", spec, ["2024-05-02", "2024-05-01"])
        self.assertIn("ON t.`order_id` = s.`order_id` AND t.`dt` IN ('2024-05-01', '2024-05-02')", sql)
        with self.assertRaises(ValueError):
            iceberg.merge_sql(T, "b", spec, [])
        with self.assertRaises(ValueError):
            iceberg.merge_sql(T, "b", spec, ["2024-5-1"])

    def test_key_bucket_merge_matches_on_the_key(self):
        sql = iceberg.merge_sql(T, "b", spec_with(partitioning="key_bucket"), ["2024-05-01"])
        self.assertIn("ON t.`order_id` = s.`order_id` WHEN MATCHED", sql)

    def test_only_a_newer_row_replaces_the_stored_one(self):
        cond = iceberg.newer_condition(support.dataset("orders"))
        self.assertIn("coalesce(s.`updated_at`, TIMESTAMP '0001-01-01 00:00:00') > coalesce(t.`updated_at`", cond)
        self.assertIn("coalesce(s.`_received_at`", cond)
        self.assertIn("coalesce(s.`_is_deleted`, false) AND NOT coalesce(t.`_is_deleted`, false)", cond)
        sql = iceberg.merge_sql(T, "b", support.dataset("orders"), ["2024-05-01"])
        self.assertIn(f"WHEN MATCHED AND {cond} THEN UPDATE SET * WHEN NOT MATCHED THEN INSERT *", sql)

    def test_key_bucket_merge_is_limited_to_the_stored_keys_it_matches(self):
        spec = spec_with(partitioning="key_bucket")
        sql = iceberg.merge_sql(T, "b", spec, ["2024-05-01"], stored_keys=["o-2", "o-1", "o-2"])
        self.assertIn("ON t.`order_id` = s.`order_id` AND t.`order_id` IN ('o-1', 'o-2') WHEN MATCHED", sql)
        # No stored row matches: nothing to look up, every batch row is new.
        self.assertIn("ON t.`order_id` = s.`order_id` AND FALSE WHEN MATCHED",
                      iceberg.merge_sql(T, "b", spec, ["2024-05-01"], stored_keys=[]))
        # Not known (too many to list): the MERGE matches on the key alone.
        self.assertIn("ON t.`order_id` = s.`order_id` WHEN MATCHED", iceberg.merge_sql(T, "b", spec, ["2024-05-01"]))

    def test_key_literals_by_type(self):
        spec = spec_with(partitioning="key_bucket")
        for kind, values, want in (
                ("bigint", [12, 3], "t.`order_id` IN (12, 3)"),
                ("date", [dt.date(2024, 5, 2)], "t.`order_id` IN (DATE '2024-05-02')")):
            typed = dict(spec, columns=[dict(c, type=kind) if c["name"] == "order_id" else c for c in spec["columns"]])
            self.assertEqual(iceberg.key_filter_sql(typed, values), want)
        doubled = dict(spec, columns=[dict(c, type="double") if c["name"] == "order_id" else c for c in spec["columns"]])
        self.assertFalse(iceberg.can_filter_keys(doubled))
        with self.assertRaises(ValueError):
            iceberg.key_filter_sql(doubled, [1.5])

    @unittest.skipUnless(sqlglot, "needs sqlglot (pip install -r requirements-ci.txt)")
    def test_string_keys_survive_quoting(self):
        # Spark SQL reads a backslash in a string literal as an escape.
        odd = ["it's", "back\\slash", "both\\'", "plain"]
        sql = iceberg.key_filter_sql(spec_with(partitioning="key_bucket"), odd)
        parsed = sqlglot.parse_one(f"SELECT 1 WHERE {sql}", read="spark")
        got = sorted(lit.this for lit in parsed.find(sqlglot.exp.In).expressions)
        self.assertEqual(got, sorted(odd))

    @unittest.skipUnless(duckdb, "needs duckdb and sqlglot (pip install -r requirements-ci.txt)")
    def test_stored_matches_name_every_matched_key_and_its_day(self):
        spec = spec_with(partitioning="key_bucket")
        con = duckdb.connect()
        cols = ("order_id VARCHAR, updated_at TIMESTAMP, _change_seq VARCHAR, _received_at TIMESTAMP, "
                "_is_deleted BOOLEAN")
        con.execute(f"CREATE TABLE t ({cols}, dt VARCHAR)")
        con.execute(f"CREATE TABLE b ({cols})")
        con.executemany("INSERT INTO t VALUES (?, ?, NULL, ?, false, ?)", [
            ("o-1", dt.datetime(2024, 5, 1, 10), dt.datetime(2024, 5, 1, 10), "2024-05-01"),
            ("o-2", dt.datetime(2024, 4, 2, 10), dt.datetime(2024, 4, 2, 10), "2024-04-02"),
            ("o-9", dt.datetime(2024, 3, 3, 10), dt.datetime(2024, 3, 3, 10), "2024-03-03")])
        con.executemany("INSERT INTO b VALUES (?, ?, NULL, ?, false)", [
            ("o-1", dt.datetime(2024, 5, 3, 10), dt.datetime(2024, 5, 3, 10)),  # newer: leaves 2024-05-01
            ("o-2", dt.datetime(2024, 4, 1, 10), dt.datetime(2024, 5, 3, 10)),  # older: the stored row stays
            ("o-3", dt.datetime(2024, 5, 3, 10), dt.datetime(2024, 5, 3, 10))])  # new
        self.assertIn("SELECT /*+ BROADCAST(s) */ t.`order_id`", iceberg.stored_matches_sql("t", "b", spec))
        sql = sqlglot.transpile(iceberg.stored_matches_sql("t", "b", spec, broadcast=False), read="spark", write="duckdb")[0]
        got = sorted(con.execute(sql).fetchall())
        # o-1 leaves 2024-05-01; o-2 stays (its day is recomputed, unchanged).
        self.assertEqual(got, [("o-1", "2024-05-01"), ("o-2", "2024-04-02")])

    def test_commit_counts(self):
        self.assertEqual(iceberg.commit_counts(1, 1, None), {"written": 0, "replaced": 0, "snapshot_id": 1})
        self.assertEqual(iceberg.commit_counts(1, 2, {"added-records": "5", "added-position-deletes": "2"}),
                         {"written": 5, "replaced": 2, "snapshot_id": 2})


class ReservedNameTest(unittest.TestCase):
    def test_dms_is_not_a_dataset_name(self):
        self.assertIn("dataset.name: 'dms' is reserved: landing/dms/ is the DMS S3 target's folder",
                      schema.spec_problems(spec_with(name="dms")))


if __name__ == "__main__":
    unittest.main()


@unittest.skipUnless(duckdb, "needs duckdb and sqlglot (pip install -r requirements-ci.txt)")
class NewerConditionAgreesWithDedupTest(unittest.TestCase):
    """The MERGE's "newer wins" and the batch dedup must pick the same row.

    Every pair of versions over ties and nulls of event time, change
    sequence, receive time and delete flag: the SQL condition (run in DuckDB,
    transpiled from Spark SQL by sqlglot) is true exactly when dedup's order
    ranks the incoming row above the stored one (without dedup's last
    resort, the canonical JSON: on a full tie the stored row stays).
    """

    def test_every_pair(self):
        spec = support.dataset("orders")
        etf = spec["event_time_field"]
        versions = list(itertools.product(
            [None, ts(2024, 5, 1, 10), ts(2024, 5, 1, 11)],
            [None, "7".zfill(40), "12".zfill(40)],
            [None, ts(2024, 5, 1, 10, 0, 1), ts(2024, 5, 1, 10, 0, 2)],
            [False, True]))
        con = duckdb.connect()
        con.execute(f"CREATE TABLE v (id INT, {etf} TIMESTAMP, {schema.CHANGE_SEQ_COLUMN} VARCHAR, "
                    f"{schema.RECEIVED_AT_COLUMN} TIMESTAMP, {schema.DELETED_COLUMN} BOOLEAN)")
        naive = lambda x: x.replace(tzinfo=None) if x is not None else None  # noqa: E731
        con.executemany("INSERT INTO v VALUES (?, ?, ?, ?, ?)",
                        [(i, naive(e), q, naive(r), d) for i, (e, q, r, d) in enumerate(versions)])
        cond = sqlglot.transpile(iceberg.newer_condition(spec), read="spark", write="duckdb")[0]
        got = {(a, b): n for a, b, n in con.execute(f"SELECT s.id, t.id, {cond} FROM v s, v t").fetchall()}
        self.assertEqual(len(got), len(versions) ** 2)
        rank = {}
        for i, (e, q, r, d) in enumerate(versions):
            rec = {etf: e, schema.CHANGE_SEQ_COLUMN: q, schema.RECEIVED_AT_COLUMN: r, schema.DELETED_COLUMN: d}
            rank[i] = dedup.order_key(rec, etf)[:4]
        wrong = [(versions[a], versions[b], n) for (a, b), n in got.items() if bool(n) != (rank[a] > rank[b])]
        self.assertEqual(wrong[:3], [], f"{len(wrong)} of {len(got)} pairs disagree")

