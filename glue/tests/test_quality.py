import unittest

import support  # noqa: F401
from lakelib import quality


def outcome(rule, result, reason=None):
    return {"Rule": rule, "Outcome": result, "FailureReason": reason, "EvaluatedMetrics": {}}


class DecisionTest(unittest.TestCase):
    def test_all_passed(self):
        outcomes = [outcome('IsComplete "order_id"', "Passed"), outcome("RowCount > 0", "Passed")]
        verdict = quality.assert_passed(outcomes, "orders")
        self.assertTrue(verdict.passed)
        self.assertEqual(verdict.total, 2)
        self.assertEqual(verdict.failed, [])
        self.assertIn("all 2 rules passed", verdict.message)

    def test_one_failed_raises_listing_it(self):
        outcomes = [
            outcome('IsComplete "order_id"', "Passed"),
            outcome('ColumnValues "amount" >= 0', "Failed", "Value: -1.0 does not meet the constraint requirement!"),
            outcome('IsUnique "order_id"', "Failed", None),
        ]
        with self.assertRaises(quality.DataQualityFailed) as ctx:
            quality.assert_passed(outcomes, "orders")
        message = str(ctx.exception)
        self.assertIn("data quality of orders: 2 of 3 rules failed", message)
        self.assertIn('ColumnValues "amount" >= 0 [Failed]: Value: -1.0 does not meet', message)
        self.assertIn('IsUnique "order_id" [Failed]: no reason given', message)
        self.assertNotIn('IsComplete', message)
        self.assertEqual([f["Rule"] for f in ctx.exception.failed_rules],
                         ['ColumnValues "amount" >= 0', 'IsUnique "order_id"'])

    def test_error_and_unknown_outcomes_fail(self):
        for result in ("Error", "", None, "passed?"):
            with self.subTest(result=result):
                verdict = quality.decide([outcome("RowCount > 0", result)], "orders")
                self.assertFalse(verdict.passed)

    def test_outcome_is_case_insensitive(self):
        self.assertTrue(quality.decide([outcome("RowCount > 0", "PASSED")], "orders").passed)

    def test_lowercase_keys_are_accepted(self):
        verdict = quality.decide([{"rule": "RowCount > 0", "outcome": "Failed", "failurereason": "0 rows"}], "x")
        self.assertFalse(verdict.passed)
        self.assertIn("RowCount > 0 [Failed]: 0 rows", verdict.message)

    def test_no_outcomes_fail(self):
        with self.assertRaises(quality.DataQualityFailed) as ctx:
            quality.assert_passed([], "clickstream")
        self.assertIn("no rule outcomes", str(ctx.exception))

    def test_publishing_options(self):
        self.assertEqual(quality.publishing_options("clickstream"), {
            "dataQualityEvaluationContext": "clickstream",
            "enableDataQualityCloudWatchMetrics": True,
            "enableDataQualityResultsPublishing": True,
        })

    def test_table_location(self):
        response = {"Table": {"StorageDescriptor": {"Location": "s3://p/orders"}}}
        self.assertEqual(quality.table_location(response, "db", "orders"), "s3://p/orders/")
        response = {"Table": {"StorageDescriptor": {"Location": "s3a://p/orders/"}}}
        self.assertEqual(quality.table_location(response, "db", "orders"), "s3://p/orders/")
        with self.assertRaises(ValueError) as ctx:
            quality.table_location({"Table": {}}, "db", "orders")
        self.assertIn("db.orders", str(ctx.exception))

    def test_active_rows_filter(self):
        self.assertEqual(quality.active_rows_filter_sql(), "coalesce(`_deleted`, false) = false")


if __name__ == "__main__":
    unittest.main()
