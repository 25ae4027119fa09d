"""lakelib.changes: the days a run changed, as the curated job reads them."""

import json
import unittest

import support  # noqa: F401  (puts glue/ on sys.path)

from lakelib import changes


class ChangeRecordTest(unittest.TestCase):
    def test_round_trip_sorted_unique(self):
        text = changes.change_record("orders", ["2024-05-02", "2024-05-01", "2024-05-02"], "2024-05-03T00:00:00Z")
        self.assertEqual(changes.parse_change_record(text, "orders"), ["2024-05-01", "2024-05-02"])

    def test_a_record_of_another_dataset_or_garbage_is_refused(self):
        text = changes.change_record("orders", ["2024-05-01"], "t")
        for bad, ds in ((text, "clickstream"), ("not json", "orders"), (json.dumps({"dataset": "orders"}), "orders"),
                        (json.dumps({"dataset": "orders", "days": ["May 1"]}), "orders")):
            with self.assertRaises(ValueError) as ctx:
                changes.parse_change_record(bad, ds)
            self.assertIn(f"change record of {ds} is not valid", str(ctx.exception))

    def test_bad_days_are_not_written(self):
        with self.assertRaises(ValueError):
            changes.change_record("orders", ["2024-5-1"], "t")

    def test_record_names(self):
        self.assertEqual(changes.record_name("20240503T000000Z-ab"), "20240503T000000Z-ab.json")
        with self.assertRaises(ValueError):
            changes.record_name("a/b")


if __name__ == "__main__":
    unittest.main()
