import datetime as dt
import fnmatch
import json
import unittest

import support
from support import ts
from lakelib import pipeline, quarantine as q
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


class RowsTest(unittest.TestCase):
    def setUp(self):
        self.orders = support.dataset("orders")

    def test_rows_for_spark(self):
        cols = pipeline.row_columns(self.orders)
        self.assertEqual(cols[-4:], ["_is_deleted", "_received_at", "_change_seq", "dt"])
        self.assertTrue(pipeline.row_ddl(self.orders).endswith(
            "`_is_deleted` BOOLEAN, `_received_at` TIMESTAMP, `_change_seq` STRING, `dt` STRING"))
        self.assertEqual(pipeline.to_row({"order_id": "o", "dt": "2024-05-01"}, ["order_id", "amount", "dt"]),
                         ("o", None, "2024-05-01"))


class SourcesTest(unittest.TestCase):
    def test_two_bookmarked_line_reads(self):
        reads = pipeline.source_reads("s3://r/source=orders/", "s3://r/landing/orders/")
        # The contexts keep the names of the JSON reads they replaced: the
        # deployed bookmarks carry on.
        self.assertEqual([r["transformation_ctx"] for r in reads], ["raw_firehose", "landing_json"])
        self.assertEqual([r["kind"] for r in reads], [FIREHOSE, LANDING])
        for r in reads:
            self.assertEqual((r["format"], r["format_options"]), ("csv", pipeline.LINE_FORMAT_OPTIONS))
        self.assertEqual(pipeline.LINE_FORMAT_OPTIONS["quoteChar"], -1, "quoting off: a line arrives as written")
        opts = pipeline.s3_connection_options(reads[1])
        self.assertEqual(opts["paths"], ["s3://r/landing/orders/"])
        self.assertTrue(opts["recurse"])
        self.assertEqual(json.loads(opts["exclusions"]), list(pipeline.LANDING_JSON_EXCLUSIONS))
        self.assertNotIn("exclusions", pipeline.s3_connection_options(reads[0]))

    def test_each_landing_file_is_read_by_exactly_one_reader(self):
        # The JSON line read (globs) and the CSV reader (lakelib.landing) split
        # the landing files between them by name.
        from lakelib import landing
        names = ["landing/orders/2024/a.csv", "landing/orders/b.csv.gz", "landing/orders/c.json",
                 "landing/orders/d.jsonl.gz", "landing/orders/e.ndjson", "landing/orders/f.txt",
                 "landing/orders/g", "landing/orders/h.tsv", "landing/orders/i.gz", "landing/orders/jcsv",
                 "landing/orders/k.xcsv.gz", "landing/orders/l.csv.bz2", "landing/orders/m.json.gz",
                 "landing/orders/n.z", "landing/orders/o.v"]
        for name in names:
            with self.subTest(name=name):
                by_json = not any(fnmatch.fnmatchcase(name, g) for g in pipeline.LANDING_JSON_EXCLUSIONS)
                by_csv = landing.is_data_file("s3://r/" + name)
                self.assertNotEqual(by_json, by_csv, "read by exactly one reader")
                self.assertEqual("csv" if by_csv else "json", pipeline.landing_format(name))

    def test_line_of_joins_the_columns_back(self):
        sep = pipeline.LINE_SEPARATOR
        self.assertEqual(pipeline.line_of(['{"a": 1}']), '{"a": 1}')
        self.assertEqual(pipeline.line_of(['{"a": "x', 'y"}']), '{"a": "x' + sep + 'y"}')
        self.assertEqual(pipeline.line_of(['{"a": 1}', None, None]), '{"a": 1}', "missing trailing columns")
        self.assertEqual(pipeline.line_of([{"int": 123, "string": None}]), "123")
        self.assertIsNone(pipeline.line_of([None]))
        self.assertIsNone(pipeline.line_of(["   "]))

    def test_malformed_lines_are_quarantined_and_counted(self):
        clicks = support.dataset("clickstream")
        good = json.dumps({"dataset": "clickstream", "received_at": 1714557605000, "data": support.click()})
        items = [(FIREHOSE, good), (FIREHOSE, good[:-7]), (LANDING, "not json at all"),
                 (pipeline.GLUE_ERROR, '{"error": "bad input"}')]
        out = list(pipeline.process_partition(iter(items), clicks, "2024-05-01T10:00:00.000000Z"))
        self.assertEqual([t for t, _ in out], [pipeline.VALID, pipeline.QUARANTINE, pipeline.QUARANTINE, pipeline.QUARANTINE])
        for _, rec in out[1:]:
            self.assertIn("malformed_record", rec["_quarantine_reason"])
        self.assertEqual(out[1][1]["_raw"], good[:-7], "the line is kept as it was, for replay")

    def test_quarantine_file_count(self):
        self.assertEqual(pipeline.quarantine_file_count(1), 1)
        self.assertEqual(pipeline.quarantine_file_count(500_000), 1)
        self.assertEqual(pipeline.quarantine_file_count(500_001), 2)


if __name__ == "__main__":
    unittest.main()
