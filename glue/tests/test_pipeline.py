import datetime as dt
import fnmatch
import json
import unittest

import support
from support import ts
from lakelib import pipeline, quarantine as q, schema
from lakelib.envelope import FIREHOSE, LANDING

NOW = "2024-05-02T08:00:00.000000Z"


def api(data, dataset="clickstream", received_at=1714557605000):
    return {"dataset": dataset, "received_at": received_at, "data": data}


def dms(op, data, stamp="2024-05-01T10:00:05.000000Z"):
    return {"data": data, "metadata": {"operation": op, "record-type": "data", "table-name": "orders",
                                       "timestamp": stamp}}


class ProcessRecordTest(unittest.TestCase):
    def setUp(self):
        self.clicks = support.dataset("clickstream")
        self.orders = support.dataset("orders")

    def test_api_record_becomes_a_processed_row(self):
        tag, row = pipeline.process_raw(FIREHOSE, api(support.click(event_type="Purchase ")), self.clicks, NOW)
        self.assertEqual(tag, pipeline.VALID)
        self.assertEqual(row["event_type"], "purchase")
        self.assertEqual(row["_is_deleted"], False)
        self.assertEqual(row["_received_at"], ts(2024, 5, 1, 10, 0, 5))
        self.assertEqual(row["dt"], "2024-05-01")
        self.assertEqual(set(row), set(pipeline.row_columns(self.clicks)))

    def test_dt_follows_utc_event_time(self):
        _, row = pipeline.process_raw(FIREHOSE, api(support.click(event_time="2024-05-01T22:30:00-03:00")),
                                      self.clicks, NOW)
        self.assertEqual(row["dt"], "2024-05-02")

    def test_dms_update_and_delete(self):
        tag, row = pipeline.process_raw(FIREHOSE, dms("update", support.order(status="PAID")), self.orders, NOW)
        self.assertEqual((tag, row["status"], row["_is_deleted"]), (pipeline.VALID, "paid", False))
        tag, row = pipeline.process_raw(FIREHOSE, dms("delete", support.order()), self.orders, NOW)
        self.assertEqual((tag, row["_is_deleted"]), (pipeline.VALID, True))
        self.assertEqual(row["updated_at"], ts(2024, 5, 1, 10))

    def test_dms_delete_with_key_only_uses_commit_time(self):
        tag, row = pipeline.process_raw(FIREHOSE, dms("delete", {"order_id": "o-7"}), self.orders, NOW)
        self.assertEqual(tag, pipeline.VALID)
        self.assertTrue(row["_is_deleted"])
        self.assertEqual(row["order_id"], "o-7")
        self.assertEqual(row["updated_at"], ts(2024, 5, 1, 10, 0, 5))
        self.assertIsNone(row["amount"])
        self.assertEqual(row["dt"], "2024-05-01")

    def test_landing_csv_record(self):
        csv_row = {"order_id": " o-2 ", "customer_id": "c-2", "status": "Shipped", "amount": "5.00",
                   "currency": "USD", "item_count": "", "updated_at": "2024-05-03 08:00:00"}
        tag, row = pipeline.process_raw(LANDING, csv_row, self.orders, NOW)
        self.assertEqual(tag, pipeline.VALID)
        self.assertEqual((row["order_id"], row["status"], row["amount"], row["item_count"]),
                         ("o-2", "shipped", 5.0, None))
        self.assertIsNone(row["_received_at"])
        self.assertEqual(row["dt"], "2024-05-03")


class QuarantineTest(unittest.TestCase):
    """Every quarantine reason, end to end through process_json_line."""

    def setUp(self):
        self.clicks = support.dataset("clickstream")
        self.orders = support.dataset("orders")

    def quarantined(self, kind, raw, spec, code):
        line = raw if isinstance(raw, str) else json.dumps(raw)
        tag, record = pipeline.process_json_line(kind, line, spec, NOW)
        self.assertEqual(tag, pipeline.QUARANTINE, record)
        self.assertIn(code, q.reason_codes(record["_quarantine_reason"]))
        self.assertEqual(record["_quarantined_at"], NOW)
        if not isinstance(raw, str):
            original = {k: v for k, v in record.items() if not k.startswith("_quarantine")}
            self.assertEqual(original, raw, "the original record is kept unchanged")
        return record

    def test_malformed_json(self):
        record = self.quarantined(FIREHOSE, '{"dataset": "clickstream", ', self.clicks, q.MALFORMED_RECORD)
        self.assertEqual(record["_raw"], '{"dataset": "clickstream", ')

    def test_malformed_not_an_object(self):
        record = self.quarantined(LANDING, "[1, 2]", self.clicks, q.MALFORMED_RECORD)
        self.assertEqual(record["_raw"], [1, 2])

    def test_spark_corrupt_record(self):
        self.quarantined(LANDING, {"_corrupt_record": "{oops"}, self.clicks, q.MALFORMED_RECORD)

    def test_invalid_envelope(self):
        self.quarantined(FIREHOSE, support.click(), self.clicks, q.INVALID_ENVELOPE)

    def test_dataset_mismatch(self):
        self.quarantined(FIREHOSE, api(support.click(), dataset="orders"), self.clicks, q.DATASET_MISMATCH)

    def test_dms_control_record(self):
        raw = {"data": {}, "metadata": {"record-type": "control", "operation": "drop-table"}}
        self.quarantined(FIREHOSE, raw, self.orders, q.DMS_CONTROL_RECORD)

    def test_unknown_operation(self):
        self.quarantined(FIREHOSE, dms("merge", support.order()), self.orders, q.UNKNOWN_OPERATION)

    def test_type_mismatch(self):
        self.quarantined(FIREHOSE, api(support.click(duration_ms="1.5s")), self.clicks, q.TYPE_MISMATCH)

    def test_missing_required(self):
        self.quarantined(FIREHOSE, api(support.click(session_id=None)), self.clicks, q.MISSING_REQUIRED)

    def test_not_allowed(self):
        self.quarantined(LANDING, support.order(status="lost"), self.orders, q.NOT_ALLOWED)

    def test_below_min(self):
        self.quarantined(LANDING, support.order(amount=-1), self.orders, q.BELOW_MIN)

    def test_above_max(self):
        self.quarantined(FIREHOSE, api(support.click(duration_ms=86400001)), self.clicks, q.ABOVE_MAX)

    def test_future_event_time(self):
        # A landing row has no arrival time: the run's time plus the skew is the limit.
        now = dt.datetime(2024, 5, 1, 10, 0, tzinfo=dt.timezone.utc)
        skew = dt.timedelta(minutes=15)
        late = json.dumps(support.order(updated_at="2024-05-01T10:16:00Z"))
        tag, record = pipeline.process_json_line(LANDING, late, self.orders, NOW, now, skew)
        self.assertEqual((tag, q.reason_codes(record["_quarantine_reason"])), (pipeline.QUARANTINE, [q.FUTURE_EVENT_TIME]))
        self.assertIn("future_event_time(updated_at): 2024-05-01T10:16:00.000000Z is after 2024-05-01T10:15:00.000000Z",
                      record["_quarantine_reason"])
        ok = json.dumps(support.order(updated_at="2024-05-01T10:15:00Z"))
        self.assertEqual(pipeline.process_json_line(LANDING, ok, self.orders, NOW, now, skew)[0], pipeline.VALID)
        # An API record counts from its arrival (received_at), not from the run.
        sent = api(support.click(event_time="2024-05-01T10:30:00Z"), received_at=1714557600000)  # 10:00:00Z
        tag, record = pipeline.process_json_line(FIREHOSE, json.dumps(sent), self.clicks, NOW,
                                                 now + dt.timedelta(hours=1), skew)
        self.assertEqual(tag, pipeline.QUARANTINE)
        # Without a skew there is no check (the tests above, older callers).
        self.assertEqual(pipeline.process_json_line(LANDING, late, self.orders, NOW)[0], pipeline.VALID)

    def test_all_codes_covered(self):
        tested = {name[len("test_"):] for name in dir(self) if name.startswith("test_")}
        tested.add("malformed_record")
        for code in q.REASON_CODES:
            self.assertIn(code, tested)

    def test_several_reasons_are_joined(self):
        record = self.quarantined(LANDING, support.order(status="lost", amount=-1), self.orders, q.NOT_ALLOWED)
        self.assertEqual(q.reason_codes(record["_quarantine_reason"]), [q.NOT_ALLOWED, q.BELOW_MIN])
        self.assertIn("; ", record["_quarantine_reason"])

    def test_quarantine_json_line(self):
        rec = q.quarantine_record({"a": 1}, [q.reason(q.NOT_ALLOWED, "x", "a")], NOW)
        self.assertEqual(json.loads(q.to_json_line(rec)),
                         {"a": 1, "_quarantine_reason": "not_allowed(a): x", "_quarantined_at": NOW})
        with self.assertRaises(ValueError):
            q.reason("bogus", "x")

    def test_process_partition(self):
        items = [(FIREHOSE, json.dumps(api(support.click()))), (LANDING, "nope")]
        tags = [tag for tag, _ in pipeline.process_partition(iter(items), self.clicks, NOW)]
        self.assertEqual(tags, [pipeline.VALID, pipeline.QUARANTINE])


class StorageTest(unittest.TestCase):
    def setUp(self):
        self.orders = support.dataset("orders")

    def test_round_trip_through_storage_text(self):
        _, row = pipeline.process_raw(FIREHOSE, dms("update", support.order(updated_at="2024-05-01T10:00:00.123456Z")),
                                      self.orders, NOW)
        text = pipeline.to_storage_text(row, self.orders)
        self.assertEqual(text["updated_at"], "2024-05-01T10:00:00.123456Z")
        self.assertEqual(pipeline.from_storage(json.loads(json.dumps(text)), self.orders), row)

    def test_from_storage_defaults_deleted_and_checks_dt(self):
        stored = {"order_id": "o", "customer_id": "c", "status": "paid", "amount": 1.0, "currency": "EUR",
                  "updated_at": "2024-05-01T10:00:00.000000Z", "dt": "2024-05-01"}
        record = pipeline.from_storage(stored, self.orders)
        self.assertIs(record["_is_deleted"], False)
        self.assertIsNone(record["_received_at"])
        with self.assertRaises(ValueError):
            pipeline.from_storage(dict(stored, dt="2024/05/01"), self.orders)
        with self.assertRaises(ValueError):
            pipeline.from_storage(dict(stored, amount="lots"), self.orders)

    def test_storage_text_columns(self):
        kinds = dict(pipeline.storage_text_columns(self.orders))
        self.assertEqual(kinds["updated_at"], "timestamp")
        self.assertEqual(kinds["_received_at"], "timestamp")
        self.assertEqual(kinds["amount"], "plain")
        self.assertEqual(kinds["dt"], "plain")

    def test_rows_for_spark(self):
        cols = pipeline.row_columns(self.orders)
        self.assertEqual(cols[-3:], ["_is_deleted", "_received_at", "dt"])
        self.assertTrue(pipeline.row_ddl(self.orders).endswith("`_is_deleted` BOOLEAN, `_received_at` TIMESTAMP, `dt` STRING"))
        self.assertEqual(pipeline.to_row({"order_id": "o", "dt": "2024-05-01"}, ["order_id", "amount", "dt"]),
                         ("o", None, "2024-05-01"))

    def test_spark_and_python_timestamp_text_agree(self):
        # Spark pattern yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z' <-> schema.format_timestamp
        self.assertEqual(schema.SPARK_TIMESTAMP_TEXT_FORMAT, "yyyy-MM-dd'T'HH:mm:ss.SSSSSS'Z'")
        self.assertEqual(schema.format_timestamp(ts(2024, 1, 2, 3, 4, 5, 6)), "2024-01-02T03:04:05.000006Z")


class SourcesTest(unittest.TestCase):
    def test_three_bookmarked_reads(self):
        reads = pipeline.source_reads("s3://r/source=orders/", "s3://r/landing/orders/")
        self.assertEqual([r["transformation_ctx"] for r in reads], ["raw_firehose", "landing_json", "landing_csv"])
        self.assertEqual([r["kind"] for r in reads], [FIREHOSE, LANDING, LANDING])
        self.assertEqual([r["format"] for r in reads], ["json", "json", "csv"])
        opts = pipeline.s3_connection_options(reads[2])
        self.assertEqual(opts["paths"], ["s3://r/landing/orders/"])
        self.assertTrue(opts["recurse"])
        self.assertEqual(json.loads(opts["exclusions"]), list(pipeline.LANDING_CSV_EXCLUSIONS))
        self.assertNotIn("exclusions", pipeline.s3_connection_options(reads[0]))

    def test_each_landing_file_is_read_by_exactly_one_reader(self):
        names = ["landing/orders/2024/a.csv", "landing/orders/b.csv.gz", "landing/orders/c.json",
                 "landing/orders/d.jsonl.gz", "landing/orders/e.ndjson", "landing/orders/f.txt",
                 "landing/orders/g", "landing/orders/h.tsv", "landing/orders/i.gz", "landing/orders/jcsv",
                 "landing/orders/k.xcsv.gz", "landing/orders/l.csv.bz2", "landing/orders/m.json.gz",
                 "landing/orders/n.z", "landing/orders/o.v"]

        def excluded(name, globs):
            return any(fnmatch.fnmatchcase(name, g) for g in globs)

        for name in names:
            with self.subTest(name=name):
                by_json = not excluded(name, pipeline.LANDING_JSON_EXCLUSIONS)
                by_csv = not excluded(name, pipeline.LANDING_CSV_EXCLUSIONS)
                self.assertNotEqual(by_json, by_csv, "read by exactly one reader")
                self.assertEqual("csv" if by_csv else "json", pipeline.landing_format(name))

    def test_quarantine_file_count(self):
        self.assertEqual(pipeline.quarantine_file_count(1), 1)
        self.assertEqual(pipeline.quarantine_file_count(500_000), 1)
        self.assertEqual(pipeline.quarantine_file_count(500_001), 2)


if __name__ == "__main__":
    unittest.main()


class MergeBatchTest(unittest.TestCase):
    """Semantics of the processed-table merge across runs."""

    def setUp(self):
        self.orders = support.dataset("orders")

    def rows(self, *raws):
        out = []
        for raw in raws:
            tag, row = pipeline.process_raw(FIREHOSE, raw, self.orders, NOW)
            self.assertEqual(tag, pipeline.VALID, row)
            out.append(row)
        return out

    @staticmethod
    def apply(table, result):
        table = {dt: list(rows) for dt, rows in table.items()}
        for dt, rows in result.items():
            if rows:
                table[dt] = rows
            else:
                table.pop(dt, None)
        return table

    @staticmethod
    def all_rows(table):
        return [r for rows in table.values() for r in rows]

    def test_first_load(self):
        batch = self.rows(dms("insert", support.order(order_id="o-1")), dms("insert", support.order(order_id="o-2")))
        result = pipeline.merge_batch(batch, [], self.orders)
        self.assertEqual(sorted(result), ["2024-05-01"])
        self.assertEqual(len(result["2024-05-01"]), 2)

    def test_update_moves_a_key_to_its_new_partition(self):
        table = self.apply({}, pipeline.merge_batch(
            self.rows(dms("insert", support.order(order_id="o-1")),
                      dms("insert", support.order(order_id="o-2"))), [], self.orders))
        update = self.rows(dms("update", support.order(order_id="o-1", status="paid",
                                                       updated_at="2024-05-03T09:00:00Z"),
                               stamp="2024-05-03T09:00:01Z"))
        result = pipeline.merge_batch(update, self.all_rows(table), self.orders)
        self.assertEqual(sorted(result), ["2024-05-01", "2024-05-03"], "old partition of the key is rewritten")
        table = self.apply(table, result)
        self.assertEqual([r["order_id"] for r in table["2024-05-01"]], ["o-2"])
        self.assertEqual([(r["order_id"], r["status"]) for r in table["2024-05-03"]], [("o-1", "paid")])

    def test_partition_left_empty_is_deleted(self):
        table = self.apply({}, pipeline.merge_batch(self.rows(dms("insert", support.order())), [], self.orders))
        update = self.rows(dms("update", support.order(updated_at="2024-05-04T00:00:00Z"),
                               stamp="2024-05-04T00:00:01Z"))
        result = pipeline.merge_batch(update, self.all_rows(table), self.orders)
        self.assertEqual(result["2024-05-01"], [])
        self.assertEqual(sorted(self.apply(table, result)), ["2024-05-04"])

    def test_late_older_version_does_not_win(self):
        table = self.apply({}, pipeline.merge_batch(self.rows(
            dms("update", support.order(status="paid", updated_at="2024-05-02T00:00:00Z"))), [], self.orders))
        late = self.rows(dms("insert", support.order(status="placed"), stamp="2024-05-05T00:00:00Z"))
        table = self.apply(table, pipeline.merge_batch(late, self.all_rows(table), self.orders))
        self.assertEqual([(r["dt"], r["status"]) for r in self.all_rows(table)], [("2024-05-02", "paid")])

    def test_delete_replaces_the_row_with_a_tombstone(self):
        table = self.apply({}, pipeline.merge_batch(self.rows(dms("insert", support.order())), [], self.orders))
        delete = self.rows(dms("delete", {"order_id": "o-1"}, stamp="2024-05-01T12:00:00Z"))
        table = self.apply(table, pipeline.merge_batch(delete, self.all_rows(table), self.orders))
        rows = self.all_rows(table)
        self.assertEqual(len(rows), 1)
        self.assertTrue(rows[0]["_is_deleted"])

    def test_reprocessing_the_same_input_is_idempotent(self):
        batch = self.rows(dms("insert", support.order(order_id="o-1")),
                          dms("update", support.order(order_id="o-1", status="paid",
                                                      updated_at="2024-05-02T00:00:00Z")),
                          dms("insert", support.order(order_id="o-2")))
        once = self.apply({}, pipeline.merge_batch(batch, [], self.orders))
        twice = self.apply(once, pipeline.merge_batch(batch, self.all_rows(once), self.orders))
        self.assertEqual(once, twice)

    def test_storage_round_trip_keeps_merge_stable(self):
        batch = self.rows(dms("insert", support.order()))
        table = self.apply({}, pipeline.merge_batch(batch, [], self.orders))
        stored = [pipeline.from_storage(json.loads(json.dumps(pipeline.to_storage_text(r, self.orders))), self.orders)
                  for r in self.all_rows(table)]
        again = self.apply(table, pipeline.merge_batch(batch, stored, self.orders))
        self.assertEqual(again, table)
