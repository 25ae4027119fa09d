import datetime as dt
import json
import unittest

import support
from lakelib import args
from lakelib.args import ArgumentError


def raw_args(**overrides):
    base = {
        "JOB_NAME": "data-pipeline-dev-clickstream-raw-to-processed",
        "dataset_spec": json.dumps(support.dataset("clickstream")),
        "raw_path": "s3://raw-bucket/source=clickstream/",
        "landing_path": "s3://raw-bucket/landing/clickstream",
        "landing_files_path": "s3://processed-bucket/_landing_files/clickstream",
        "processed_path": "s3://processed-bucket/clickstream/",
        "quarantine_path": "s3://processed-bucket/_quarantine/clickstream/",
        "database": "data_pipeline_dev_catalog",
        "table": "clickstream",
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def quality_args(**overrides):
    base = {"JOB_NAME": "dq", "database": "data_pipeline_dev_catalog", "table": "clickstream_processed",
            "ruleset": 'Rules = [ RowCount > 0, IsComplete "event_id" ]', "dataset_name": "clickstream",
            "lookback_days": "2"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


def curated_args(**overrides):
    base = {"JOB_NAME": "curated", "datasets": json.dumps(support.datasets()), "joins": json.dumps(support.joins()),
            "processed_root": "s3://processed-bucket", "curated_root": "s3://curated-bucket/",
            "database": "data_pipeline_dev_catalog"}
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


class ContractTest(unittest.TestCase):
    def test_argument_names(self):
        self.assertEqual(args.RAW_TO_PROCESSED_REQUIRED, ("JOB_NAME", "dataset_spec", "raw_path", "landing_path",
                                                          "landing_files_path", "processed_path", "quarantine_path",
                                                          "database", "table"))
        self.assertEqual(args.RAW_TO_PROCESSED_OPTIONAL, {"target_file_mb": "256", "changes_path": "",
                                                          "max_future_skew_minutes": "15", "landing_read_before": ""})
        self.assertEqual(args.QUALITY_CHECK_REQUIRED, ("JOB_NAME", "database", "table", "ruleset", "dataset_name",
                                                       "lookback_days"))
        self.assertEqual(args.PROCESSED_TO_CURATED_REQUIRED, ("JOB_NAME", "datasets", "joins", "processed_root",
                                                              "curated_root", "database"))
        self.assertEqual(args.PROCESSED_TO_CURATED_OPTIONAL, {"lookback_days": "3", "quality_root": "", "changes_root": "",
                                                              "recompute_from": ""})
        self.assertEqual(args.QUALITY_CHECK_OPTIONAL,
                         {"verdict_path": "", "metrics_namespace": "DataLake/Quality", "environment": ""})

    def test_resolvable_names_include_only_present_optionals(self):
        argv = ["script.py", "--JOB_NAME", "j", "--lookback_days", "5", "--job-bookmark-option", "x"]
        self.assertEqual(args.resolvable_names(argv, args.PROCESSED_TO_CURATED_REQUIRED,
                                               args.PROCESSED_TO_CURATED_OPTIONAL),
                         list(args.PROCESSED_TO_CURATED_REQUIRED) + ["lookback_days"])
        self.assertEqual(args.resolvable_names(["script.py", "--JOB_NAME=j"], args.RAW_TO_PROCESSED_REQUIRED,
                                               args.RAW_TO_PROCESSED_OPTIONAL),
                         list(args.RAW_TO_PROCESSED_REQUIRED))
        self.assertIn("target_file_mb", args.present_arg_names(["s", "--target_file_mb=512"]))


class RawToProcessedArgsTest(unittest.TestCase):
    def test_parse(self):
        cfg = args.parse_raw_to_processed_args(raw_args())
        self.assertEqual(cfg.spec["name"], "clickstream")
        self.assertEqual(cfg.landing_path, "s3://raw-bucket/landing/clickstream/")
        self.assertEqual(cfg.landing_files_path, "s3://processed-bucket/_landing_files/clickstream/")
        self.assertEqual(cfg.target_file_mb, 256)
        self.assertEqual(args.parse_raw_to_processed_args(raw_args(target_file_mb="512")).target_file_mb, 512)

    def test_bad_json_names_the_argument(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_raw_to_processed_args(raw_args(dataset_spec='{"name": "clickstream",'))
        message = str(ctx.exception)
        self.assertTrue(message.startswith("--dataset_spec is not valid JSON"), message)
        self.assertIn("line 1", message)

    def test_wrong_json_kind(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_raw_to_processed_args(raw_args(dataset_spec="[1]"))
        self.assertIn("--dataset_spec must be a JSON object", str(ctx.exception))

    def test_invalid_declaration_lists_problems(self):
        spec = support.dataset("clickstream")
        spec["event_time_field"] = "nope"
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_raw_to_processed_args(raw_args(dataset_spec=json.dumps(spec)))
        self.assertIn("--dataset_spec.event_time_field: 'nope' is not one of the declared columns", str(ctx.exception))

    def test_missing_and_empty(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_raw_to_processed_args(raw_args(raw_path=None))
        self.assertEqual(str(ctx.exception), "--raw_path is required but was not passed")
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_raw_to_processed_args(raw_args(dataset_spec=" "))
        self.assertIn("--dataset_spec is empty", str(ctx.exception))

    def test_paths_must_be_s3(self):
        for bad in ("/tmp/x", "s3:///x", "s3://", "https://b/x"):
            with self.subTest(bad=bad), self.assertRaises(ArgumentError) as ctx:
                args.parse_raw_to_processed_args(raw_args(processed_path=bad))
            self.assertIn("--processed_path", str(ctx.exception))

    def test_landing_read_before(self):
        self.assertIsNone(args.parse_raw_to_processed_args(raw_args()).landing_read_before_ms)
        for text in ("2026-12-01T10:00:00Z", "2026-12-01T11:00:00+01:00", "2026-12-01 10:00:00 UTC"):
            with self.subTest(text=text):
                cfg = args.parse_raw_to_processed_args(raw_args(landing_read_before=text))
                want = dt.datetime(2026, 12, 1, 10, tzinfo=dt.timezone.utc).timestamp() * 1000
                self.assertEqual(cfg.landing_read_before_ms, want)
        for bad, why in (("2026-12-01T10:00:00", "with an offset"), ("2026-12-01", "with an offset"),
                         ("yesterday", "with an offset"), ("2026-02-30T10:00:00Z", "not a valid timestamp")):
            with self.subTest(bad=bad), self.assertRaises(ArgumentError) as ctx:
                args.parse_raw_to_processed_args(raw_args(landing_read_before=bad))
            self.assertIn("--landing_read_before", str(ctx.exception))
            self.assertIn(repr(bad), str(ctx.exception))
            self.assertIn(why, str(ctx.exception))

    def test_target_file_mb(self):
        for bad, text in (("abc", "must be an integer"), ("64", ">= 128"), ("4096", "<= 1024")):
            with self.subTest(bad=bad), self.assertRaises(ArgumentError) as ctx:
                args.parse_raw_to_processed_args(raw_args(target_file_mb=bad))
            self.assertIn("--target_file_mb", str(ctx.exception))
            self.assertIn(text, str(ctx.exception))


class QualityArgsTest(unittest.TestCase):
    def test_quality_gate_arguments(self):
        cfg = args.parse_quality_check_args(quality_args())
        self.assertEqual((cfg.verdict_path, cfg.metrics_namespace, cfg.environment), ("", "DataLake/Quality", ""))
        cfg = args.parse_quality_check_args(quality_args(
            verdict_path="s3://p/_quality/clickstream/verdict.json", metrics_namespace="X/Y", environment="e"))
        self.assertEqual((cfg.verdict_path, cfg.metrics_namespace, cfg.environment),
                         ("s3://p/_quality/clickstream/verdict.json", "X/Y", "e"))
        with self.assertRaises(args.ArgumentError) as ctx:
            args.parse_quality_check_args(quality_args(verdict_path="/tmp/verdict.json"))
        self.assertIn("--verdict_path must be an s3://", str(ctx.exception))
        self.assertEqual(args.parse_processed_to_curated_args(curated_args()).quality_root, "")
        self.assertEqual(args.parse_processed_to_curated_args(curated_args(quality_root="s3://p/_quality")).quality_root,
                         "s3://p/_quality/")

    def test_parse(self):
        cfg = args.parse_quality_check_args(quality_args())
        self.assertEqual((cfg.database, cfg.table, cfg.dataset_name, cfg.lookback_days),
                         ("data_pipeline_dev_catalog", "clickstream_processed", "clickstream", 2))

    def test_lookback_days_required_int(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_quality_check_args(quality_args(lookback_days=None))
        self.assertIn("--lookback_days", str(ctx.exception))
        with self.assertRaises(ArgumentError):
            args.parse_quality_check_args(quality_args(lookback_days="-1"))
        with self.assertRaises(ArgumentError):
            args.parse_quality_check_args(quality_args(lookback_days="two"))

    def test_ruleset(self):
        self.assertEqual(args.parse_ruleset("ruleset", "Rules=[RowCount > 0]"), "Rules=[RowCount > 0]")
        multi = 'Rules = [\n  IsComplete "a",\n  RowCount > 0\n]'
        self.assertEqual(args.parse_ruleset("ruleset", multi), multi)
        for bad in ("", "RowCount > 0", "Rules = RowCount"):
            with self.subTest(bad=bad), self.assertRaises(ArgumentError) as ctx:
                args.parse_quality_check_args(quality_args(ruleset=bad))
            self.assertIn("--ruleset", str(ctx.exception))

    def test_dataset_name_is_an_evaluation_context(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_quality_check_args(quality_args(dataset_name="click stream"))
        self.assertIn("--dataset_name", str(ctx.exception))


class CuratedArgsTest(unittest.TestCase):
    def test_parse_with_default_lookback(self):
        cfg = args.parse_processed_to_curated_args(curated_args())
        self.assertEqual([d["name"] for d in cfg.datasets], ["clickstream", "orders"])
        self.assertEqual(cfg.joins[0]["name"], "customer_activity")
        self.assertEqual(cfg.processed_root, "s3://processed-bucket/")
        self.assertEqual(cfg.lookback_days, 3)
        self.assertEqual(args.parse_processed_to_curated_args(curated_args(lookback_days="7")).lookback_days, 7)

    def test_bad_json(self):
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_processed_to_curated_args(curated_args(joins="[{]"))
        self.assertTrue(str(ctx.exception).startswith("--joins is not valid JSON"))
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_processed_to_curated_args(curated_args(datasets='{"name": "x"}'))
        self.assertIn("--datasets must be a JSON array", str(ctx.exception))

    def test_join_against_unknown_dataset(self):
        joins = support.joins()
        joins[0]["datasets"] = ["clickstream", "refunds"]
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_processed_to_curated_args(curated_args(joins=json.dumps(joins)))
        self.assertIn("--joins[0].datasets[1]: 'refunds' is not a declared dataset", str(ctx.exception))

    def test_duplicate_dataset(self):
        specs = support.datasets() + [support.dataset("orders")]
        with self.assertRaises(ArgumentError) as ctx:
            args.parse_processed_to_curated_args(curated_args(datasets=json.dumps(specs)))
        self.assertIn("--datasets[2].name: 'orders' is declared twice", str(ctx.exception))

    def test_empty_joins_are_fine(self):
        self.assertEqual(args.parse_processed_to_curated_args(curated_args(joins="[]")).joins, [])

    def test_recompute_from_is_a_day(self):
        self.assertEqual(args.parse_processed_to_curated_args(curated_args()).recompute_from, "")
        self.assertEqual(args.parse_processed_to_curated_args(curated_args(recompute_from=" 2023-01-31 ")).recompute_from,
                         "2023-01-31")
        for bad in ("2023-02-30", "31/01/2023", "2023-01-31T00:00:00Z"):
            with self.subTest(bad=bad), self.assertRaises(ArgumentError) as ctx:
                args.parse_processed_to_curated_args(curated_args(recompute_from=bad))
            self.assertEqual(str(ctx.exception), f"--recompute_from must be a day as YYYY-MM-DD (e.g. 2024-01-31), got {bad!r}")


if __name__ == "__main__":
    unittest.main()
