import datetime as dt
import functools
import itertools
import unittest

import support
from support import ts
from lakelib import dedup


def row(order_id, updated, received=None, deleted=False, status="placed", seq=None):
    return {"order_id": order_id, "customer_id": "c", "status": status, "amount": 1.0, "currency": "EUR",
            "item_count": 1, "updated_at": updated, "_is_deleted": deleted, "_received_at": received,
            "_change_seq": seq, "dt": updated.date().isoformat()}


class DedupTest(unittest.TestCase):
    def setUp(self):
        self.orders = support.dataset("orders")
        self.pick = dedup.latest_picker(self.orders)

    def test_key_columns_and_key(self):
        self.assertEqual(dedup.dedup_key_columns(self.orders), ["order_id"])
        self.assertEqual(dedup.dedup_key(row("o-1", ts(2024, 5, 1)), self.orders), ("o-1",))
        self.assertEqual(dedup.dedup_key({"a": 1, "b": None}, ["b", "a"]), (None, 1))

    def test_latest_event_time_wins(self):
        old = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 3), status="placed")
        new = row("o-1", ts(2024, 5, 2, 9), received=ts(2024, 5, 2, 9), status="paid")
        self.assertIs(self.pick(old, new), new)
        self.assertIs(self.pick(new, old), new)

    def test_tie_on_event_time_breaks_on_received_at(self):
        first = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 10, 0, 1), status="placed")
        second = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 10, 0, 2), status="paid")
        self.assertIs(self.pick(first, second), second)
        self.assertIs(self.pick(second, first), second)

    def test_changes_of_one_transaction_order_by_change_sequence(self):
        # Same event time and commit time (one transaction): the sequence
        # decides, whatever the arrival order; without one the row loses.
        commit = ts(2024, 5, 1, 10, 0, 1)
        first = row("o-1", ts(2024, 5, 1, 10), received=commit, status="placed", seq="0" * 39 + "7")
        second = row("o-1", ts(2024, 5, 1, 10), received=commit, status="paid", seq="0" * 38 + "12")
        self.assertIs(self.pick(first, second), second)
        self.assertIs(self.pick(second, first), second)
        bare = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 11), status="shipped")
        self.assertIs(self.pick(bare, first), first, "a change sequence outranks a later receive time")
        later = row("o-1", ts(2024, 5, 1, 10, 0, 1), received=commit, status="cancelled", seq="0" * 40)
        self.assertIs(self.pick(second, later), later, "event time comes first")

    def test_missing_received_at_loses_the_tie(self):
        landing = row("o-1", ts(2024, 5, 1, 10), received=None, status="placed")
        api = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 10), status="paid")
        self.assertIs(self.pick(landing, api), api)

    def test_delete_wins_a_full_tie(self):
        alive = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 11))
        gone = row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 11), deleted=True)
        self.assertIs(self.pick(alive, gone), gone)
        self.assertIs(self.pick(gone, alive), gone)

    def test_older_delete_does_not_remove_a_newer_row(self):
        newer = row("o-1", ts(2024, 5, 2), received=ts(2024, 5, 2))
        delete = row("o-1", ts(2024, 5, 1), received=ts(2024, 5, 3), deleted=True)
        self.assertIs(self.pick(newer, delete), newer)

    def test_pick_is_commutative_and_associative(self):
        versions = [
            row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 10), status="placed"),
            row("o-1", ts(2024, 5, 1, 10), received=ts(2024, 5, 1, 10), status="paid"),
            row("o-1", ts(2024, 5, 1, 10), received=None, status="shipped"),
            row("o-1", ts(2024, 5, 1, 9), received=ts(2024, 5, 9), status="cancelled"),
        ]
        results = {dedup.canonical_json(functools.reduce(self.pick, perm)) for perm in itertools.permutations(versions)}
        self.assertEqual(len(results), 1, "same winner in every order")

    def test_dedup_records_keeps_one_row_per_key(self):
        records = [
            row("o-1", ts(2024, 5, 1), received=ts(2024, 5, 1), status="placed"),
            row("o-2", ts(2024, 5, 1), received=ts(2024, 5, 1)),
            row("o-1", ts(2024, 5, 2), received=ts(2024, 5, 2), status="paid"),
            row("o-1", ts(2024, 5, 2), received=ts(2024, 5, 1, 23), status="placed"),
        ]
        out = dedup.dedup_records(records, self.orders)
        self.assertEqual([(r["order_id"], r["status"]) for r in out], [("o-1", "paid"), ("o-2", "placed")])

    def test_reprocessing_is_idempotent(self):
        records = [row("o-1", ts(2024, 5, 1), ts(2024, 5, 1)), row("o-1", ts(2024, 5, 2), ts(2024, 5, 2))]
        once = dedup.dedup_records(records, self.orders)
        twice = dedup.dedup_records(once + records, self.orders)
        self.assertEqual(once, twice)

    def test_date_event_times(self):
        spec = {"event_time_field": "day", "key": ["k"]}
        a = {"k": 1, "day": dt.date(2024, 5, 1)}
        b = {"k": 1, "day": dt.date(2024, 5, 2)}
        self.assertIs(dedup.latest_picker(spec)(a, b), b)


if __name__ == "__main__":
    unittest.main()
