import json
import os
import unittest

import support  # noqa: F401  (sys.path)
from lakelib import curated, schema


class FixtureDriftTest(unittest.TestCase):
    """The fixtures must stay identical to the declarations in cdk.json."""

    def setUp(self):
        with open(os.path.join(support.REPO_DIR, "cdk.json"), encoding="utf-8") as f:
            self.context = json.load(f)["context"]

    def test_datasets_fixture_equals_cdk_json(self):
        self.assertEqual(support.load_fixture("datasets.json"), self.context["datasets"])

    def test_joins_fixture_equals_cdk_json(self):
        self.assertEqual(support.load_fixture("joins.json"), self.context["joins"])

    def test_fixtures_are_valid_declarations(self):
        specs = support.datasets()
        for i, spec in enumerate(specs):
            self.assertEqual(schema.spec_problems(spec, f"datasets[{i}]"), [])
        for i, join in enumerate(support.joins()):
            self.assertEqual(curated.join_problems(join, specs, f"joins[{i}]"), [])


if __name__ == "__main__":
    unittest.main()
