import unittest

import support
from support import ts
from lakelib import normalize, quarantine as q


def codes(problems):
    return [q.reason_codes(p)[0] for p in problems]


class NormalizeTest(unittest.TestCase):
    def setUp(self):
        self.clicks = support.dataset("clickstream")
        self.orders = support.dataset("orders")

    def test_valid_record_is_typed(self):
        record, problems = normalize.normalize_record(support.click(), self.clicks)
        self.assertEqual(problems, [])
        self.assertEqual(record, {
            "event_id": "e-1", "session_id": "s-1", "customer_id": "c-1", "event_type": "page_view",
            "page_url": "https://shop.example.com/", "duration_ms": 1200, "event_time": ts(2024, 5, 1, 10),
        })

    def test_strings_are_trimmed(self):
        record, problems = normalize.normalize_record(support.click(event_id="  e-9 \n", page_url=" /x "), self.clicks)
        self.assertEqual(problems, [])
        self.assertEqual(record["event_id"], "e-9")
        self.assertEqual(record["page_url"], "/x")

    def test_allowed_values_are_lowercased(self):
        record, problems = normalize.normalize_record(support.click(event_type="  Add_To_Cart "), self.clicks)
        self.assertEqual(problems, [])
        self.assertEqual(record["event_type"], "add_to_cart")

    def test_non_enum_strings_keep_case(self):
        record, _ = normalize.normalize_record(support.order(currency="EUR"), self.orders)
        self.assertEqual(record["currency"], "EUR")

    def test_timestamps_to_utc(self):
        record, _ = normalize.normalize_record(support.order(updated_at="2024-05-01T03:00:00-07:00"), self.orders)
        self.assertEqual(record["updated_at"], ts(2024, 5, 1, 10))

    def test_offsetless_timestamps_in_the_dataset_timezone(self):
        # Default UTC; with a timezone, a value without an offset is local
        # time there (daylight saving included); Z and offsets are kept.
        ny = dict(self.orders, timezone="America/New_York")
        cases = [
            (self.orders, "2024-05-01 10:00:00", ts(2024, 5, 1, 10)),
            (ny, "2024-05-01 10:00:00", ts(2024, 5, 1, 14)),   # EDT, UTC-4
            (ny, "2024-01-15T10:00:00", ts(2024, 1, 15, 15)),  # EST, UTC-5
            (ny, "2024-05-01T10:00:00Z", ts(2024, 5, 1, 10)),
            (ny, "2024-05-01T10:00:00+02:00", ts(2024, 5, 1, 8)),
        ]
        for spec, value, want in cases:
            with self.subTest(tz=spec.get("timezone"), value=value):
                record, problems = normalize.normalize_record(support.order(updated_at=value), spec)
                self.assertEqual(problems, [])
                self.assertEqual(record["updated_at"], want)

    def test_numbers_from_text(self):
        record, problems = normalize.normalize_record(support.order(amount="10.5", item_count="3"), self.orders)
        self.assertEqual(problems, [])
        self.assertEqual((record["amount"], record["item_count"]), (10.5, 3))

    def test_undeclared_fields_are_ignored(self):
        record, problems = normalize.normalize_record(support.click(extra="x"), self.clicks)
        self.assertEqual(problems, [])
        self.assertNotIn("extra", record)

    def test_case_insensitive_column_lookup(self):
        data = {"Order_ID ": "o-1", "CUSTOMER_ID": "c", "Status": "Paid", "amount": "1", "currency": "USD",
                "updated_at": "2024-05-01T00:00:00Z"}
        record, problems = normalize.normalize_record(data, self.orders)
        self.assertEqual(problems, [])
        self.assertEqual((record["order_id"], record["status"]), ("o-1", "paid"))

    def test_optional_absent_is_null(self):
        record, problems = normalize.normalize_record(support.click(page_url=..., duration_ms=""), self.clicks)
        self.assertEqual(problems, [])
        self.assertIsNone(record["page_url"])
        self.assertIsNone(record["duration_ms"])


class RuleFailureTest(unittest.TestCase):
    def setUp(self):
        self.clicks = support.dataset("clickstream")
        self.orders = support.dataset("orders")

    def test_type_mismatch(self):
        _, problems = normalize.normalize_record(support.click(duration_ms="soon"), self.clicks)
        self.assertEqual(codes(problems), [q.TYPE_MISMATCH])
        self.assertIn("type_mismatch(duration_ms): 'soon' is not a bigint", problems[0])

    def test_type_mismatch_is_not_also_missing(self):
        _, problems = normalize.normalize_record(support.click(event_time="later"), self.clicks)
        self.assertEqual(codes(problems), [q.TYPE_MISMATCH])

    def test_missing_required_absent_null_blank(self):
        for value in (..., None, "   "):
            with self.subTest(value=value):
                _, problems = normalize.normalize_record(support.click(customer_id=value), self.clicks)
                self.assertEqual(problems, ["missing_required(customer_id): required value is missing or empty"])

    def test_not_allowed(self):
        _, problems = normalize.normalize_record(support.click(event_type="scroll"), self.clicks)
        self.assertEqual(codes(problems), [q.NOT_ALLOWED])
        self.assertIn("'scroll' is not one of page_view, add_to_cart, checkout, purchase", problems[0])

    def test_below_min_and_above_max(self):
        _, problems = normalize.normalize_record(support.click(duration_ms=-1), self.clicks)
        self.assertEqual(problems, ["below_min(duration_ms): -1 is below the minimum 0"])
        _, problems = normalize.normalize_record(support.click(duration_ms=86400001), self.clicks)
        self.assertEqual(problems, ["above_max(duration_ms): 86400001 is above the maximum 86400000"])
        _, problems = normalize.normalize_record(support.order(amount=-0.01, item_count=0), self.orders)
        self.assertEqual(codes(problems), [q.BELOW_MIN, q.BELOW_MIN])

    def test_bounds_are_inclusive(self):
        for value in (0, 86400000):
            _, problems = normalize.normalize_record(support.click(duration_ms=value), self.clicks)
            self.assertEqual(problems, [])

    def test_every_problem_is_reported(self):
        data = support.order(order_id=None, status="lost", amount="x", item_count=0)
        _, problems = normalize.normalize_record(data, self.orders)
        self.assertEqual(codes(problems), [q.MISSING_REQUIRED, q.NOT_ALLOWED, q.TYPE_MISMATCH, q.BELOW_MIN])

    def test_deleted_rows_only_need_key_and_event_time(self):
        data = {"order_id": "o-1", "updated_at": "2024-05-01T10:00:00Z"}
        record, problems = normalize.normalize_record(data, self.orders, deleted=True)
        self.assertEqual(problems, [])
        self.assertIsNone(record["status"])
        _, problems = normalize.normalize_record({"updated_at": "2024-05-01T10:00:00Z"}, self.orders, deleted=True)
        self.assertEqual(codes(problems), [q.MISSING_REQUIRED])

    def test_deleted_rows_still_check_present_values(self):
        data = {"order_id": "o-1", "updated_at": "2024-05-01T10:00:00Z", "amount": -5}
        _, problems = normalize.normalize_record(data, self.orders, deleted=True)
        self.assertEqual(codes(problems), [q.BELOW_MIN])


if __name__ == "__main__":
    unittest.main()
