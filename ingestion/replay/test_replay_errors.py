"""Replay of Firehose error records (stdlib unittest, a local folder as the bucket)."""

import base64
import gzip
import json
import os
import tempfile
import unittest

import replay_errors as rp


def error_line(record_bytes, code="DynamicPartitioning.ActivePartitionsLimitExceeded"):
    # Firehose's documented error-record format.
    return json.dumps({"attemptsMade": 1, "arrivalTimestamp": 1714557600000, "errorCode": code,
                       "errorMessage": "m", "attemptEndingTimestamp": 1714557660000,
                       "rawData": base64.b64encode(record_bytes).decode()})


def api(dataset, **data):
    return json.dumps({"dataset": dataset, "received_at": 1714557600000, "data": data}).encode()


def dms(table, **data):
    return json.dumps({"data": data, "metadata": {"record-type": "data", "operation": "insert", "table-name": table}}).encode()


class ReplayTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.store = rp.LocalStore(self.dir.name)

    def tearDown(self):
        self.dir.cleanup()

    def put_error(self, key, lines, compress=True):
        body = ("\n".join(lines) + "\n").encode()
        self.store.put(key, gzip.compress(body) if compress else body)

    def landed(self, dataset):
        out = []
        for key in self.store.list(f"landing/{dataset}/"):
            out += self.store.get(key).decode().splitlines()
        return out

    def test_partition_overflow_is_replayed_into_landing_per_dataset(self):
        a, b, c = api("clickstream", event_id="e1"), api("clickstream", event_id="e2"), dms("orders", order_id="o1")
        key = "errors/activePartitionExceeded/dt=2024-05-01/stream-1-2024-05-01-00-00-00-abc.gz"
        self.put_error(key, [error_line(a), error_line(b), error_line(c)])
        report = rp.replay(self.store)
        self.assertEqual(report.replayed, {"clickstream": 2, "orders": 1})
        self.assertEqual(self.landed("clickstream"), [a.decode(), b.decode()])
        self.assertEqual(self.landed("orders"), [c.decode()])
        self.assertEqual(self.store.list("errors/"), [], "a fully replayed object is removed")
        # Records in = records out: every decoded record landed exactly once.
        self.assertEqual(sum(report.replayed.values()), 3)

    def test_rerun_overwrites_instead_of_duplicating(self):
        key = "errors/AmazonS3Exception/dt=2024-05-01/x.gz"
        self.put_error(key, [error_line(api("orders", order_id="o1"))])
        rp.replay(self.store, keep=True)
        rp.replay(self.store, keep=True)
        self.assertEqual(len(self.landed("orders")), 1)
        self.assertEqual(self.store.list("errors/"), [key], "--keep leaves the error object")

    def test_processing_failed_is_left_unless_asked(self):
        key = "errors/processing-failed/dt=2024-05-01/y.gz"
        self.put_error(key, [error_line(api("orders", order_id="bad"), code="Lambda.ProcessingFailed")])
        report = rp.replay(self.store)
        self.assertEqual(report.replayed, {})
        self.assertEqual(report.skipped_types, {"processing-failed": 1})
        self.assertEqual(self.store.list("errors/"), [key])
        report = rp.replay(self.store, include_processing_failed=True)
        self.assertEqual(report.replayed, {"orders": 1})

    def test_unroutable_records_keep_their_object_and_are_reported(self):
        key = "errors/activePartitionExceeded/dt=2024-05-01/z"
        self.put_error(key, [error_line(b"not json"), error_line(api("orders", order_id="o1")), "garbage"], compress=False)
        report = rp.replay(self.store)
        self.assertEqual(report.replayed, {"orders": 1})
        self.assertEqual(len(report.unroutable), 1)
        self.assertIn("line 3: not a Firehose error record", report.unroutable[0][1])
        self.assertIn("1 records name no dataset", report.unroutable[0][1])
        self.assertEqual(self.store.list("errors/"), [key], "an object with unroutable records is kept")
        self.assertEqual(rp.main(["--local", self.dir.name, "--dry-run"]), 1)

    def test_dry_run_writes_nothing(self):
        key = "errors/activePartitionExceeded/dt=2024-05-01/w.gz"
        self.put_error(key, [error_line(api("orders", order_id="o1"))])
        report = rp.replay(self.store, dry_run=True)
        self.assertEqual(report.replayed, {"orders": 1})
        self.assertEqual(self.store.list("landing/"), [])
        self.assertEqual(self.store.list("errors/"), [key])

    def test_landing_key_is_under_the_dataset_landing_prefix(self):
        k = rp.landing_key("orders", "errors/activePartitionExceeded/dt=2024-05-01/a-b.gz")
        self.assertEqual(k, "landing/orders/replay/activePartitionExceeded_dt=2024-05-01_a-b.json")
        self.assertTrue(os.path.basename(k).endswith(".json"), "read as JSON lines by the job")


if __name__ == "__main__":
    unittest.main()
