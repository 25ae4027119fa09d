import ast
import json
import os
import unittest

import support
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

    def test_composite_rules_are_evaluated_per_row(self):
        # The job passes the option; without it the NULL-tolerant OR rules
        # fail on any optional column holding both values and NULLs.
        self.assertEqual(quality.EVALUATION_OPTIONS, {"compositeRuleEvaluation.method": "ROW"})
        with open(os.path.join(support.GLUE_DIR, "jobs", "quality_check.py"), encoding="utf-8") as f:
            tree = ast.parse(f.read())
        calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "apply"]
        self.assertTrue(calls, "quality_check calls EvaluateDataQuality.apply")
        for call in calls:
            self.assertIn("additional_options", [k.arg for k in call.keywords])

    def test_table_location(self):
        response = {"Table": {"StorageDescriptor": {"Location": "s3://p/orders"}}}
        self.assertEqual(quality.table_location(response, "db", "orders"), "s3://p/orders/")
        response = {"Table": {"StorageDescriptor": {"Location": "s3a://p/orders/"}}}
        self.assertEqual(quality.table_location(response, "db", "orders"), "s3://p/orders/")
        with self.assertRaises(ValueError) as ctx:
            quality.table_location({"Table": {}}, "db", "orders")
        self.assertIn("db.orders", str(ctx.exception))

    def test_active_rows_filter(self):
        self.assertEqual(quality.active_rows_filter_sql(), "coalesce(`_is_deleted`, false) = false")



class GateTest(unittest.TestCase):
    """One dataset's failed rules stop only that dataset (and its joins)."""

    def test_failed_dataset_and_its_joins_are_skipped_others_built(self):
        datasets, joins = support.datasets(), support.joins()
        for failed in datasets:
            with self.subTest(failed=failed["name"]):
                states = {d["name"]: quality.PASSED_STATE for d in datasets}
                states[failed["name"]] = quality.FAILED_STATE
                keep, keep_joins, skipped = quality.gate(datasets, joins, states)
                self.assertEqual([d["name"] for d in keep],
                                 [d["name"] for d in datasets if d["name"] != failed["name"]])
                for j in joins:
                    self.assertEqual(j in keep_joins, failed["name"] not in j["datasets"], j["name"])
                    self.assertEqual(j["name"] in skipped, failed["name"] in j["datasets"])
                self.assertIn(failed["name"], skipped)

    def test_no_data_and_missing_verdicts_do_not_block(self):
        datasets, joins = support.datasets(), support.joins()
        states = {datasets[0]["name"]: quality.NO_DATA_STATE}
        keep, keep_joins, skipped = quality.gate(datasets, joins, states)
        self.assertEqual(keep, datasets)
        self.assertEqual(keep_joins, joins)
        self.assertEqual(skipped, {})

    def test_verdict_round_trip_and_fail_closed(self):
        verdict = quality.decide([outcome('IsComplete "a"', "Failed", "3 nulls")], "orders")
        record = quality.verdict_record("orders", quality.FAILED_STATE, "2024-05-01T00:00:00Z", ["2024-05-01"], verdict)
        self.assertEqual(record["failed_rules"], [{"rule": 'IsComplete "a"', "outcome": "Failed", "reason": "3 nulls"}])
        self.assertEqual(quality.parse_verdict(json.dumps(record), "orders"), quality.FAILED_STATE)
        ok = quality.verdict_record("orders", quality.PASSED_STATE, "t")
        self.assertEqual(quality.parse_verdict(json.dumps(ok), "orders"), quality.PASSED_STATE)
        # A verdict of another dataset, a broken file or an unknown state fails closed.
        self.assertEqual(quality.parse_verdict(json.dumps(ok), "clickstream"), quality.FAILED_STATE)
        self.assertEqual(quality.parse_verdict("{", "orders"), quality.FAILED_STATE)
        self.assertEqual(quality.parse_verdict('{"dataset":"orders","state":"great"}', "orders"), quality.FAILED_STATE)
        with self.assertRaises(ValueError):
            quality.verdict_record("orders", "great", "t")

    def test_metric_data(self):
        self.assertEqual(quality.metric_data("orders", "data-pipeline-dev", True), [{
            "MetricName": "QualityFailed", "Value": 1.0, "Unit": "Count",
            "Dimensions": [{"Name": "Dataset", "Value": "orders"}, {"Name": "Environment", "Value": "data-pipeline-dev"}],
        }])
        self.assertEqual(quality.metric_data("orders", "", False)[0]["Value"], 0.0)
        self.assertEqual(quality.verdict_path("s3://p/_quality/", "orders"), "s3://p/_quality/orders/verdict.json")


if __name__ == "__main__":
    unittest.main()
