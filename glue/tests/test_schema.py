import datetime as dt
import json
import os
import unittest

import support
from support import ts
from lakelib import schema
from lakelib.schema import CastError, cast_value


class CastStringTest(unittest.TestCase):
    def test_trims_and_keeps_text(self):
        self.assertEqual(cast_value("  abc \t", "string"), "abc")

    def test_empty_and_blank_are_null(self):
        self.assertIsNone(cast_value("", "string"))
        self.assertIsNone(cast_value("   ", "string"))
        self.assertIsNone(cast_value(None, "string"))

    def test_scalars_become_text(self):
        self.assertEqual(cast_value(42, "string"), "42")
        self.assertEqual(cast_value(2.5, "string"), "2.5")
        self.assertEqual(cast_value(3.0, "string"), "3")
        self.assertEqual(cast_value(True, "string"), "true")

    def test_objects_and_arrays_fail(self):
        with self.assertRaises(CastError):
            cast_value({"a": 1}, "string")
        with self.assertRaises(CastError):
            cast_value([1, 2], "string")


class CastBigintTest(unittest.TestCase):
    def test_ints_and_integral_text(self):
        self.assertEqual(cast_value(5, "bigint"), 5)
        self.assertEqual(cast_value(" -17 ", "bigint"), -17)
        self.assertEqual(cast_value("+3", "bigint"), 3)
        self.assertEqual(cast_value(7.0, "bigint"), 7)
        self.assertEqual(cast_value("12.0", "bigint"), 12)
        self.assertEqual(cast_value("1e3", "bigint"), 1000)

    def test_limits(self):
        self.assertEqual(cast_value(str(2**63 - 1), "bigint"), 2**63 - 1)
        self.assertEqual(cast_value(-(2**63), "bigint"), -(2**63))
        with self.assertRaises(CastError):
            cast_value(2**63, "bigint")
        with self.assertRaises(CastError):
            cast_value(str(-(2**63) - 1), "bigint")

    def test_failures(self):
        for bad in ("abc", "1.5", 1.5, True, "1_000", "0x10", float("nan"), [1], {"x": 1}):
            with self.subTest(bad=bad), self.assertRaises(CastError):
                cast_value(bad, "bigint")

    def test_blank_is_null(self):
        self.assertIsNone(cast_value("  ", "bigint"))


class CastDoubleTest(unittest.TestCase):
    def test_numbers_and_text(self):
        self.assertEqual(cast_value(1, "double"), 1.0)
        self.assertIsInstance(cast_value(1, "double"), float)
        self.assertEqual(cast_value(" 19.99 ", "double"), 19.99)
        self.assertEqual(cast_value("-.5", "double"), -0.5)
        self.assertEqual(cast_value("2E2", "double"), 200.0)

    def test_failures(self):
        for bad in ("nan", "inf", "Infinity", "1,5", "abc", "1_0", True, float("inf"), [1]):
            with self.subTest(bad=bad), self.assertRaises(CastError):
                cast_value(bad, "double")


class CastBooleanTest(unittest.TestCase):
    def test_accepted_spellings(self):
        for text in ("true", "TRUE", " yes ", "y", "t", "1"):
            self.assertIs(cast_value(text, "boolean"), True, text)
        for text in ("false", "False", "no", "n", "f", "0"):
            self.assertIs(cast_value(text, "boolean"), False, text)
        self.assertIs(cast_value(True, "boolean"), True)
        self.assertIs(cast_value(0, "boolean"), False)
        self.assertIs(cast_value(1, "boolean"), True)

    def test_failures(self):
        for bad in ("maybe", 2, -1, 1.0, [True]):
            with self.subTest(bad=bad), self.assertRaises(CastError):
                cast_value(bad, "boolean")


class CastTimestampTest(unittest.TestCase):
    def test_rfc3339_variants_to_utc(self):
        cases = {
            "2024-05-01T10:00:00Z": ts(2024, 5, 1, 10),
            "2024-05-01T10:00:00.5Z": ts(2024, 5, 1, 10, 0, 0, 500000),
            "2024-05-01T10:00:00.123456789Z": ts(2024, 5, 1, 10, 0, 0, 123456),
            "2024-05-01T12:00:00+02:00": ts(2024, 5, 1, 10),
            "2024-05-01T05:30:00-0430": ts(2024, 5, 1, 10),
            "2024-04-30T23:00:00-11": ts(2024, 5, 1, 10),
            "2024-05-01 10:00:00": ts(2024, 5, 1, 10),
            "2024-05-01T10:00": ts(2024, 5, 1, 10),
            "2024-05-01": ts(2024, 5, 1),
            " 2024-05-01T10:00:00 UTC ": ts(2024, 5, 1, 10),
        }
        for text, expected in cases.items():
            with self.subTest(text=text):
                value = cast_value(text, "timestamp")
                self.assertEqual(value, expected)
                self.assertEqual(value.utcoffset(), dt.timedelta(0))

    def test_grammar_shared_with_the_validator(self):
        """The validator (functions/validator TestTimestampGrammarSharedWithTheJobs)
        reads the same cases: what the API accepts the job reads to the same
        instant, and what one refuses the other refuses."""
        with open(os.path.join(support.REPO_DIR, "dataset", "testdata", "timestamps.json"), encoding="utf-8") as f:
            cases = json.load(f)["cases"]
        self.assertTrue(cases)
        for case in cases:
            zone = schema.zone_of({"timezone": case["zone"]}) if case.get("zone") else None
            with self.subTest(text=case["text"], zone=case.get("zone")):
                if case["want"] is None:
                    with self.assertRaises(CastError):
                        schema.parse_timestamp(case["text"], zone)
                else:
                    want = dt.datetime.strptime(case["want"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=dt.timezone.utc)
                    self.assertEqual(schema.parse_timestamp(case["text"], zone), want)

    def test_offset_can_change_the_utc_date(self):
        self.assertEqual(cast_value("2024-05-01T23:30:00-02:00", "timestamp"), ts(2024, 5, 2, 1, 30))

    def test_datetime_objects(self):
        self.assertEqual(cast_value(dt.datetime(2024, 5, 1, 10), "timestamp"), ts(2024, 5, 1, 10))
        paris = dt.timezone(dt.timedelta(hours=2))
        self.assertEqual(cast_value(dt.datetime(2024, 5, 1, 12, tzinfo=paris), "timestamp"), ts(2024, 5, 1, 10))
        self.assertEqual(cast_value(dt.date(2024, 5, 1), "timestamp"), ts(2024, 5, 1))

    def test_failures(self):
        for bad in ("yesterday", "2024-13-01T00:00:00Z", "2024-02-30", "2024-05-01T25:00:00Z",
                    "2024-05-01T10:00:00+24:00", "01/05/2024", 1714557600, 1714557600.0, True):
            with self.subTest(bad=bad), self.assertRaises(CastError):
                cast_value(bad, "timestamp")

    def test_format_timestamp(self):
        self.assertEqual(schema.format_timestamp(ts(2024, 5, 1, 10, 0, 0, 123)), "2024-05-01T10:00:00.000123Z")


class CastDateTest(unittest.TestCase):
    def test_dates(self):
        self.assertEqual(cast_value("2024-05-01", "date"), dt.date(2024, 5, 1))
        self.assertEqual(cast_value(dt.date(2024, 5, 1), "date"), dt.date(2024, 5, 1))
        self.assertEqual(cast_value(ts(2024, 5, 1, 23), "date"), dt.date(2024, 5, 1))

    def test_failures(self):
        for bad in ("2024-5-1", "2024-02-30", "2024-05-01T10:00:00Z", 20240501, True):
            with self.subTest(bad=bad), self.assertRaises(CastError):
                cast_value(bad, "date")


class CastGeneralTest(unittest.TestCase):
    def test_unknown_type(self):
        with self.assertRaises(CastError):
            cast_value("x", "varchar")

    def test_every_declared_type_has_a_caster(self):
        for type_name in schema.TYPES:
            self.assertIsNone(cast_value(None, type_name))

    def test_glue_choice_structs_are_unwrapped(self):
        self.assertEqual(cast_value({"int": None, "string": "42"}, "bigint"), 42)
        self.assertEqual(cast_value({"long": 7, "string": None}, "bigint"), 7)
        self.assertIsNone(cast_value({"int": None, "string": None}, "bigint"))
        self.assertEqual(schema.unchoice({"not_a_type": 1}), {"not_a_type": 1})

    def test_epoch_millis(self):
        self.assertEqual(schema.epoch_millis_to_timestamp(1714557600000), ts(2024, 5, 1, 10))
        self.assertEqual(schema.epoch_millis_to_timestamp("1714557600123"), ts(2024, 5, 1, 10, 0, 0, 123000))
        for bad in ("soon", True, 1.5):
            with self.assertRaises(CastError):
                schema.epoch_millis_to_timestamp(bad)


class DeclarationTest(unittest.TestCase):
    def test_column_casts_follow_declaration_order(self):
        self.assertEqual(schema.column_casts(support.dataset("orders")), [
            ("order_id", "string"), ("customer_id", "string"), ("status", "string"), ("amount", "double"),
            ("currency", "string"), ("item_count", "bigint"), ("updated_at", "timestamp"),
        ])

    def test_processed_columns_append_meta_columns(self):
        cols = schema.processed_columns(support.dataset("clickstream"))
        self.assertEqual(cols[:7], schema.column_casts(support.dataset("clickstream")))
        self.assertEqual(cols[7:], [("_is_deleted", "boolean"), ("_received_at", "timestamp"), ("_change_seq", "string")])

    def test_ddl(self):
        self.assertEqual(schema.ddl([("a", "string"), ("b", "bigint"), ("c", "timestamp")]),
                         "`a` STRING, `b` BIGINT, `c` TIMESTAMP")

    def test_numeric_columns(self):
        self.assertEqual([c["name"] for c in schema.numeric_columns(support.dataset("orders"))],
                         ["amount", "item_count"])


class SpecProblemsTest(unittest.TestCase):
    def problems(self, mutate, name="orders"):
        spec = support.dataset(name)
        mutate(spec)
        return schema.spec_problems(spec, "ds")

    def test_valid(self):
        self.assertEqual(self.problems(lambda s: None), [])

    def test_bad_name(self):
        self.assertIn("ds.name", self.problems(lambda s: s.update(name="Orders"))[0])

    def test_bad_type(self):
        def mutate(s):
            s["columns"][4]["type"] = "float"
        problems = self.problems(mutate)
        self.assertEqual(problems, ["ds.columns[4].type: 'float' is not a supported type: use one of "
                                    "string, bigint, double, boolean, timestamp, date"])

    def test_reserved_and_duplicate_columns(self):
        def mutate(s):
            s["columns"].append({"name": "dt", "type": "string"})
            s["columns"].append({"name": "amount", "type": "double"})
        problems = self.problems(mutate)
        self.assertTrue(any("reserved" in p for p in problems))
        self.assertTrue(any("declared twice" in p for p in problems))

    def test_rules_on_wrong_types(self):
        def mutate(s):
            s["columns"][5]["allowed"] = ["a"]
            s["columns"][0]["min"] = 1
            s["columns"][3]["max"] = -1
        problems = self.problems(mutate)
        self.assertTrue(any("columns[5].allowed: is set on a bigint column" in p for p in problems))
        self.assertTrue(any("columns[0].min/max" in p for p in problems))
        self.assertTrue(any("columns[3].min: 0 is greater than max -1" in p for p in problems))

    def test_event_time_key_group_by(self):
        def mutate(s):
            s["event_time_field"] = "currency"
            s["key"] = ["nope", "item_count"]
            s["group_by"] = ["amount"]
        problems = self.problems(mutate)
        self.assertTrue(any("event_time_field: 'currency' is a string column" in p for p in problems))
        self.assertTrue(any("key[0]: 'nope' is not one of the declared columns" in p for p in problems))
        self.assertTrue(any("key[1]: 'item_count' must be a required column" in p for p in problems))
        self.assertTrue(any("group_by[0]: 'amount' is a double column" in p for p in problems))

    def test_validate_spec_raises_with_all_problems(self):
        spec = support.dataset("orders")
        spec["key"] = []
        spec["columns"][6]["required"] = False
        with self.assertRaises(schema.SpecError) as ctx:
            schema.validate_spec(spec)
        self.assertEqual(len(ctx.exception.problems), 2)


if __name__ == "__main__":
    unittest.main()


class TimezoneSpecTest(unittest.TestCase):
    def test_timezone_must_be_an_iana_name(self):
        spec = support.dataset("orders")
        self.assertEqual(schema.spec_problems(dict(spec, timezone="Asia/Tokyo")), [])
        for bad in ("Europe/Atlantis", "Local", "/etc/localtime", "../x", 9, ""):
            with self.subTest(tz=bad):
                problems = schema.spec_problems(dict(spec, timezone=bad))
                self.assertEqual(len(problems), 1, problems)
                self.assertIn("timezone", problems[0])
                self.assertIn("is not an IANA time zone name", problems[0])

