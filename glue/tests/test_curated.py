import unittest

import support
from support import ts
from lakelib import curated, schema

CLICKSTREAM_DAILY = [
    ("event_type", "string"),
    ("record_count", "bigint"),
    ("distinct_keys", "bigint"),
    ("sum_duration_ms", "bigint"),
    ("min_duration_ms", "bigint"),
    ("max_duration_ms", "bigint"),
]

ORDERS_DAILY = [
    ("status", "string"),
    ("record_count", "bigint"),
    ("distinct_keys", "bigint"),
    ("sum_amount", "double"),
    ("min_amount", "double"),
    ("max_amount", "double"),
    ("sum_item_count", "bigint"),
    ("min_item_count", "bigint"),
    ("max_item_count", "bigint"),
]

CUSTOMER_ACTIVITY = [
    ("customer_id", "string"),
    ("clickstream_record_count", "bigint"),
    ("clickstream_sum_duration_ms", "bigint"),
    ("orders_record_count", "bigint"),
    ("orders_sum_amount", "double"),
    ("orders_sum_item_count", "bigint"),
]


class CuratedColumnsTest(unittest.TestCase):
    def setUp(self):
        self.datasets = support.datasets()
        self.join = support.joins()[0]

    def test_clickstream_daily(self):
        self.assertEqual(curated.curated_columns(support.dataset("clickstream"), self.datasets), CLICKSTREAM_DAILY)

    def test_orders_daily(self):
        self.assertEqual(curated.curated_columns(support.dataset("orders"), self.datasets), ORDERS_DAILY)

    def test_customer_activity_join(self):
        self.assertEqual(curated.curated_columns(self.join, self.datasets), CUSTOMER_ACTIVITY)

    def test_join_respects_dataset_order(self):
        join = dict(self.join, datasets=["orders", "clickstream"])
        names = [n for n, _ in curated.curated_columns(join, self.datasets)]
        self.assertEqual(names, ["customer_id", "orders_record_count", "orders_sum_amount", "orders_sum_item_count",
                                 "clickstream_record_count", "clickstream_sum_duration_ms"])

    def test_datasets_may_be_a_dict(self):
        by_name = curated.datasets_by_name(self.datasets)
        self.assertEqual(curated.curated_columns(self.join, by_name), CUSTOMER_ACTIVITY)

    def test_no_group_by_and_no_numeric_columns(self):
        spec = {"name": "pings", "event_time_field": "at", "key": ["id", "at"],
                "columns": [{"name": "id", "type": "string", "required": True},
                            {"name": "at", "type": "date", "required": True}]}
        self.assertEqual(curated.curated_columns(spec, [spec]), [("record_count", "bigint"), ("distinct_keys", "bigint")])

    def test_dt_is_never_a_column(self):
        for obj in support.datasets() + [self.join]:
            self.assertNotIn("dt", [n for n, _ in curated.curated_columns(obj, self.datasets)])

    def test_output_name_collision_is_an_error(self):
        spec = support.dataset("orders")
        spec["columns"].append({"name": "record_count", "type": "string"})
        spec["group_by"] = ["record_count"]
        with self.assertRaises(schema.SpecError):
            curated.curated_columns(spec, [spec])

    def test_table_names(self):
        self.assertEqual(curated.table_name(support.dataset("orders")), "orders_daily")
        self.assertEqual(curated.table_name(self.join), "customer_activity")
        self.assertTrue(curated.is_join(self.join))
        self.assertFalse(curated.is_join(support.dataset("orders")))

    def test_daily_plan(self):
        plan = curated.daily_plan(support.dataset("clickstream"))
        self.assertEqual([(a["name"], a["func"], a["columns"]) for a in plan], [
            ("record_count", "count", []),
            ("distinct_keys", "count_distinct", ["event_id"]),
            ("sum_duration_ms", "sum", ["duration_ms"]),
            ("min_duration_ms", "min", ["duration_ms"]),
            ("max_duration_ms", "max", ["duration_ms"]),
        ])


class JoinProblemsTest(unittest.TestCase):
    def setUp(self):
        self.datasets = support.datasets()

    def problems(self, **overrides):
        join = dict(support.joins()[0], **overrides)
        return curated.join_problems(join, self.datasets, "j")

    def test_valid(self):
        self.assertEqual(self.problems(), [])

    def test_unknown_dataset_and_column(self):
        problems = self.problems(datasets=["clickstream", "refunds"], on=["session_id"])
        self.assertTrue(any("j.datasets[1]: 'refunds' is not a declared dataset" in p for p in problems))
        problems = self.problems(on=["session_id"])
        self.assertEqual(problems, ["j.on[0]: 'session_id' is not a column of dataset 'orders'"])

    def test_shape(self):
        self.assertTrue(self.problems(datasets=["orders"]))
        self.assertTrue(self.problems(datasets=["orders", "orders"]))
        self.assertTrue(self.problems(on=[]))
        self.assertTrue(self.problems(name="Customer Activity"))
        self.assertTrue(self.problems(name="orders_daily"))

    def test_names_of_catalog_tables_are_refused(self):
        # Like the Go config: the catalog database also holds <dataset>_raw
        # and the landing crawler's landing_* tables.
        for name in ("orders", "orders_daily", "clickstream_raw", "x_quarantine", "landing_orders"):
            self.assertEqual(self.problems(name=name), [
                f"j.name: {name!r} collides with a dataset or a table name: names ending in _raw, _daily or "
                "_quarantine are the datasets' own tables, names starting with landing_ the landing crawler's"], name)

    def test_type_mismatch_on_join_column(self):
        datasets = support.datasets()
        datasets[1]["columns"][1]["type"] = "bigint"
        problems = curated.join_problems(support.joins()[0], datasets, "j")
        self.assertEqual(problems, ["j.on[0]: 'customer_id' has different types in the joined datasets (bigint, string)"])


def click_row(event_id, customer, event_type, duration, when, deleted=False):
    return {"event_id": event_id, "session_id": "s", "customer_id": customer, "event_type": event_type,
            "page_url": None, "duration_ms": duration, "event_time": when, "_is_deleted": deleted,
            "_received_at": None, "dt": when.date().isoformat()}


def order_row(order_id, customer, status, amount, items, when, deleted=False):
    return {"order_id": order_id, "customer_id": customer, "status": status, "amount": amount, "currency": "EUR",
            "item_count": items, "updated_at": when, "_is_deleted": deleted, "_received_at": None,
            "dt": when.date().isoformat()}


class ReferenceAggregateTest(unittest.TestCase):
    def setUp(self):
        self.datasets = support.datasets()
        self.clicks = [
            click_row("e1", "c1", "page_view", 100, ts(2024, 5, 1, 10)),
            click_row("e2", "c1", "page_view", None, ts(2024, 5, 1, 11)),
            click_row("e3", "c2", "purchase", 50, ts(2024, 5, 1, 12)),
            click_row("e4", "c2", "purchase", 70, ts(2024, 5, 2, 12)),
            click_row("e5", "c3", "purchase", 999, ts(2024, 5, 2, 13), deleted=True),
        ]
        self.orders = [
            order_row("o1", "c2", "paid", 10.5, 1, ts(2024, 5, 1, 12)),
            order_row("o2", "c4", "placed", 3.0, None, ts(2024, 5, 1, 13)),
            order_row("o3", "c2", "paid", 1.0, 2, ts(2024, 5, 2, 9), deleted=True),
        ]

    def test_daily_rows_match_curated_columns(self):
        spec = support.dataset("clickstream")
        rows = curated.aggregate_daily(self.clicks, spec)
        expected_keys = ["dt"] + [n for n, _ in curated.curated_columns(spec, self.datasets)]
        for r in rows:
            self.assertEqual(sorted(r), sorted(expected_keys))
        self.assertEqual(rows, [
            {"dt": "2024-05-01", "event_type": "page_view", "record_count": 2, "distinct_keys": 2,
             "sum_duration_ms": 100, "min_duration_ms": 100, "max_duration_ms": 100},
            {"dt": "2024-05-01", "event_type": "purchase", "record_count": 1, "distinct_keys": 1,
             "sum_duration_ms": 50, "min_duration_ms": 50, "max_duration_ms": 50},
            {"dt": "2024-05-02", "event_type": "purchase", "record_count": 1, "distinct_keys": 1,
             "sum_duration_ms": 70, "min_duration_ms": 70, "max_duration_ms": 70},
        ])

    def test_daily_orders_types(self):
        rows = curated.aggregate_daily(self.orders, support.dataset("orders"))
        placed = [r for r in rows if r["status"] == "placed"][0]
        self.assertIsInstance(placed["sum_amount"], float)
        self.assertIsNone(placed["sum_item_count"], "sum of only nulls is null in the daily table")
        self.assertEqual(len(rows), 2, "the deleted order is excluded")

    def test_join_full_outer_with_zeros(self):
        rows = curated.aggregate_join({"clickstream": self.clicks, "orders": self.orders}, support.joins()[0],
                                      self.datasets)
        expected_keys = ["dt"] + [n for n, _ in CUSTOMER_ACTIVITY]
        for r in rows:
            self.assertEqual(sorted(r), sorted(expected_keys))
        by_key = {(r["dt"], r["customer_id"]): r for r in rows}
        self.assertEqual(sorted(by_key), [("2024-05-01", "c1"), ("2024-05-01", "c2"), ("2024-05-01", "c4"),
                                          ("2024-05-02", "c2")])
        self.assertEqual(by_key[("2024-05-01", "c2")], {
            "dt": "2024-05-01", "customer_id": "c2", "clickstream_record_count": 1, "clickstream_sum_duration_ms": 50,
            "orders_record_count": 1, "orders_sum_amount": 10.5, "orders_sum_item_count": 1})
        only_orders = by_key[("2024-05-01", "c4")]
        self.assertEqual((only_orders["clickstream_record_count"], only_orders["clickstream_sum_duration_ms"]), (0, 0))
        self.assertEqual(only_orders["orders_sum_item_count"], 0, "null sum -> 0 in the join")
        only_clicks = by_key[("2024-05-01", "c1")]
        self.assertEqual((only_clicks["orders_record_count"], only_clicks["orders_sum_amount"]), (0, 0.0))
        self.assertIsInstance(only_clicks["orders_sum_amount"], float)
        self.assertEqual(by_key[("2024-05-02", "c2")]["orders_record_count"], 0, "deleted rows excluded")


if __name__ == "__main__":
    unittest.main()
