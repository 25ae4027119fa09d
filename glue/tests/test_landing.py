"""lakelib.landing: which landing CSV files a run reads, and the manifest."""

import json
import unittest

import support  # noqa: F401  (puts glue/ on sys.path)

from lakelib import landing


class LandingFilesTest(unittest.TestCase):
    listed = [
        ("s3://r/landing/orders/a.csv", 10, 100),
        ("s3://r/landing/orders/b.csv.gz", 20, 200),
        ("s3://r/landing/orders/c.json", 30, 300),       # JSON lines: the bookmarked line read
        ("s3://r/landing/orders/_SUCCESS", 0, 1),         # hidden
        ("s3://r/landing/orders/.tmp.csv", 1, 1),         # hidden
        ("s3://r/landing/dms/sales/orders/LOAD00000001.csv", 40, 400),
    ]

    def test_first_run_reads_every_csv_file(self):
        got = landing.new_files(self.listed, landing.parse_manifest(None))
        self.assertEqual([p for p, _, _ in got], ["s3://r/landing/dms/sales/orders/LOAD00000001.csv",
                                                   "s3://r/landing/orders/a.csv", "s3://r/landing/orders/b.csv.gz"])

    def test_a_read_file_is_not_read_again_unless_it_changed(self):
        first = landing.new_files(self.listed, {})
        manifest = landing.parse_manifest(landing.render_manifest({}, first))
        self.assertEqual(landing.new_files(self.listed, manifest), [])
        reuploaded = [("s3://r/landing/orders/a.csv", 11, 500)] + self.listed[1:]
        self.assertEqual(landing.new_files(reuploaded, manifest), [("s3://r/landing/orders/a.csv", 11, 500)])
        newer = self.listed + [("s3://r/landing/orders/d.csv", 5, 600)]
        self.assertEqual(landing.new_files(newer, manifest), [("s3://r/landing/orders/d.csv", 5, 600)])

    def test_manifest_keeps_earlier_files(self):
        text = landing.render_manifest({"s3://r/old.csv": "1:1"}, [("s3://r/new.csv", 2, 3)])
        self.assertEqual(json.loads(text), {"files": {"s3://r/new.csv": "2:3", "s3://r/old.csv": "1:1"}})

    def test_files_gone_from_the_listing_leave_the_manifest(self):
        # The raw lifecycle expired b.csv.gz: the manifest stays bounded by
        # what the bucket keeps, and the files still there are not read again.
        manifest = landing.parse_manifest(landing.render_manifest({}, landing.new_files(self.listed, {})))
        listed = [f for f in self.listed if not f[0].endswith("b.csv.gz")]
        kept = landing.still_listed(manifest, listed)
        self.assertEqual(sorted(kept), sorted(set(manifest) - {"s3://r/landing/orders/b.csv.gz"}))
        self.assertEqual(landing.new_files(listed, kept), [])

    def test_seed_counts_what_the_previous_version_read(self):
        # Files modified before the instant were read by the old job's bookmarks.
        seeded = landing.seed(self.listed, before_ms=250)
        self.assertEqual(sorted(seeded), ["s3://r/landing/orders/a.csv", "s3://r/landing/orders/b.csv.gz"])
        self.assertEqual([p for p, _, _ in landing.new_files(self.listed, seeded)],
                         ["s3://r/landing/dms/sales/orders/LOAD00000001.csv"])
        self.assertEqual(landing.seed(self.listed, before_ms=0), {})

    def test_a_broken_manifest_stops_the_job_with_what_to_do(self):
        for bad in ("{not json", "[]", '{"files": ["a"]}', '{"files": {"a": 1}}'):
            with self.subTest(bad=bad), self.assertRaises(ValueError) as ctx:
                landing.parse_manifest(bad)
            self.assertIn("fix or delete it", str(ctx.exception))
        self.assertEqual(landing.parse_manifest("  "), {})


if __name__ == "__main__":
    unittest.main()
