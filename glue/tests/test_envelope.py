import unittest

import support
from support import ts
from lakelib import envelope, quarantine as q
from lakelib.envelope import FIREHOSE, LANDING


def dms(operation, data, record_type="data", **metadata):
    meta = {"timestamp": "2024-05-01T10:00:05.123456Z", "record-type": record_type, "operation": operation,
            "partition-key-type": "schema-table", "schema-name": "shop", "table-name": "orders"}
    meta.update(metadata)
    return {"data": data, "metadata": meta}


class UnwrapTest(unittest.TestCase):
    def setUp(self):
        self.clicks = support.dataset("clickstream")
        self.orders = support.dataset("orders")

    def assertQuarantined(self, code, kind, raw, spec=None):
        with self.assertRaises(q.Quarantined) as ctx:
            envelope.unwrap(kind, raw, spec or self.orders)
        self.assertEqual(q.reason_codes(ctx.exception.reasons[0]), [code])
        return ctx.exception.reasons[0]

    def test_api_envelope(self):
        raw = {"dataset": "clickstream", "received_at": 1714557605000, "data": support.click()}
        env = envelope.unwrap(FIREHOSE, raw, self.clicks)
        self.assertEqual(env.fmt, envelope.API)
        self.assertEqual(env.data, support.click())
        self.assertEqual(env.received_at, ts(2024, 5, 1, 10, 0, 5))
        self.assertFalse(env.deleted)

    def test_api_envelope_without_received_at(self):
        env = envelope.unwrap(FIREHOSE, {"dataset": "clickstream", "data": support.click()}, self.clicks)
        self.assertIsNone(env.received_at)
        env = envelope.unwrap(FIREHOSE, {"data": support.click()}, self.clicks)
        self.assertEqual(env.fmt, envelope.API)

    def test_api_dataset_mismatch(self):
        raw = {"dataset": "orders", "received_at": 1, "data": support.click()}
        self.assertQuarantined(q.DATASET_MISMATCH, FIREHOSE, raw, self.clicks)

    def test_api_bad_received_at(self):
        raw = {"dataset": "clickstream", "received_at": "yesterday", "data": support.click()}
        self.assertQuarantined(q.INVALID_ENVELOPE, FIREHOSE, raw, self.clicks)

    def test_dms_insert_update_load(self):
        for op in ("insert", "update", "load", "INSERT"):
            with self.subTest(op=op):
                env = envelope.unwrap(FIREHOSE, dms(op, support.order()), self.orders)
                self.assertEqual(env.fmt, envelope.DMS)
                self.assertFalse(env.deleted)
                self.assertEqual(env.data, support.order())
                self.assertEqual(env.received_at, ts(2024, 5, 1, 10, 0, 5, 123456))

    def test_dms_delete(self):
        env = envelope.unwrap(FIREHOSE, dms("delete", {"order_id": "o-1"}), self.orders)
        self.assertTrue(env.deleted)
        self.assertEqual(env.fallback_event_time, "2024-05-01T10:00:05.123456Z")

    def test_dms_control_record(self):
        raw = dms("create-table", {}, record_type="control")
        reason = self.assertQuarantined(q.DMS_CONTROL_RECORD, FIREHOSE, raw)
        self.assertIn("create-table", reason)

    def test_dms_unknown_operation(self):
        self.assertQuarantined(q.UNKNOWN_OPERATION, FIREHOSE, dms("truncate", support.order()))
        self.assertQuarantined(q.UNKNOWN_OPERATION, FIREHOSE, dms(None, support.order()))

    def test_dms_change_sequence(self):
        # The table mapping's add-column rule puts it in the row; it leaves
        # the data and becomes the envelope's zero-padded sequence.
        seq = "20240501100005000000000000000000042"
        env = envelope.unwrap(FIREHOSE, dms("update", dict(support.order(), _dms_change_seq=seq)), self.orders)
        self.assertEqual(env.data, support.order())
        self.assertEqual(env.sequence, seq.zfill(envelope.SEQUENCE_DIGITS))
        self.assertEqual(len(env.sequence), envelope.SEQUENCE_DIGITS)
        self.assertIsNone(envelope.unwrap(FIREHOSE, dms("update", dict(support.order(), _dms_change_seq="")), self.orders).sequence)
        self.assertIsNone(envelope.unwrap(FIREHOSE, dms("update", support.order()), self.orders).sequence)
        # Text order of the padded values is number order.
        self.assertLess(envelope.change_sequence("99"), envelope.change_sequence("100"))

    def test_dms_bad_change_sequence(self):
        for bad in ("12a", "-5", "1" * 41, 1.5, True):
            with self.subTest(seq=bad):
                reason = self.assertQuarantined(q.INVALID_ENVELOPE, FIREHOSE, dms("update", dict(support.order(), _dms_change_seq=bad)))
                self.assertIn("_dms_change_seq", reason)

    def test_dms_bad_timestamp(self):
        self.assertQuarantined(q.INVALID_ENVELOPE, FIREHOSE, dms("insert", support.order(), timestamp="now"))

    def test_firehose_requires_an_envelope(self):
        reason = self.assertQuarantined(q.INVALID_ENVELOPE, FIREHOSE, support.order())
        self.assertIn("record keys: amount, currency", reason)
        self.assertQuarantined(q.INVALID_ENVELOPE, FIREHOSE, {"dataset": "orders", "data": "oops"})

    def test_plain_landing_record(self):
        env = envelope.unwrap(LANDING, support.order(), self.orders)
        self.assertEqual(env.fmt, envelope.PLAIN)
        self.assertEqual(env.data, support.order())
        self.assertIsNone(env.received_at)
        self.assertFalse(env.deleted)

    def test_landing_envelopes_are_unwrapped(self):
        env = envelope.unwrap(LANDING, dms("delete", {"order_id": "o-1"}), self.orders)
        self.assertTrue(env.deleted)

    def test_non_object(self):
        self.assertQuarantined(q.MALFORMED_RECORD, LANDING, ["a", "b"])

    def test_unknown_kind(self):
        with self.assertRaises(ValueError):
            envelope.unwrap("kinesis", {}, self.orders)


class DmsCsvTest(unittest.TestCase):
    """Rows the DMS S3 target writes under landing/dms/<schema>/<table>/."""

    def setUp(self):
        self.orders = support.dataset("orders")

    def row(self, op, **extra):
        r = dict(support.order())
        r.update({"Op": op, "_dms_timestamp": "2024-05-01 10:00:05.123456"})
        r.update(extra)
        return r

    def test_insert_update_delete(self):
        for op, deleted in (("I", False), ("U", False), ("D", True)):
            env = envelope.unwrap(LANDING, self.row(op), self.orders)
            self.assertEqual(env.fmt, envelope.DMS_CSV)
            self.assertEqual(env.deleted, deleted)
            self.assertNotIn("Op", env.data)
            self.assertNotIn("_dms_timestamp", env.data)
            self.assertEqual(env.received_at, ts(2024, 5, 1, 10, 0, 5, 123456))
            self.assertEqual(env.fallback_event_time, "2024-05-01T10:00:05.123456Z")

    def test_change_sequence_column(self):
        env = envelope.unwrap(LANDING, self.row("U", _dms_change_seq="20240501100005000000000000000000042"), self.orders)
        self.assertNotIn("_dms_change_seq", env.data)
        self.assertTrue(env.sequence.endswith("042") and len(env.sequence) == envelope.SEQUENCE_DIGITS)

    def test_unknown_op_is_quarantined(self):
        with self.assertRaises(q.Quarantined) as ctx:
            envelope.unwrap(LANDING, self.row("X"), self.orders)
        self.assertEqual(q.reason_codes(ctx.exception.reasons[0]), [q.UNKNOWN_OPERATION])

    def test_bad_timestamp_is_quarantined(self):
        with self.assertRaises(q.Quarantined) as ctx:
            envelope.unwrap(LANDING, self.row("I", _dms_timestamp="yesterday"), self.orders)
        self.assertEqual(q.reason_codes(ctx.exception.reasons[0]), [q.INVALID_ENVELOPE])

    def test_firehose_never_reads_op_rows_as_dms(self):
        # Only landing files are DMS CSV; on the Firehose path an Op field
        # is just an unknown field of a non-envelope record.
        with self.assertRaises(q.Quarantined):
            envelope.unwrap(FIREHOSE, self.row("I"), self.orders)


class LandingPathsTest(unittest.TestCase):
    def test_comma_separated_landing_paths(self):
        from lakelib import pipeline
        reads = pipeline.source_reads("s3://r/source=orders/", "s3://r/landing/orders/,s3://r/landing/dms/shop/orders/")
        opts = pipeline.s3_connection_options(reads[1])
        self.assertEqual(opts["paths"], ["s3://r/landing/orders/", "s3://r/landing/dms/shop/orders/"])


if __name__ == "__main__":
    unittest.main()
