import unittest

import support
from lakelib import curated, schema


class DeclarationsTest(unittest.TestCase):
    """The tests read the declarations from cdk.json (support.CDK_JSON), so
    there is no copy to keep in step. The job library must accept every
    declared dataset and join, not only the examples the job-logic tests use,
    and derive its tables from each."""

    def test_examples_are_declared(self):
        names = [d["name"] for d in support.datasets()]
        self.assertEqual(names, list(support.EXAMPLES), f"the examples are missing from {support.CDK_JSON}")

    def test_every_declaration_is_valid(self):
        specs = support.all_datasets()
        for i, spec in enumerate(specs):
            with self.subTest(dataset=spec["name"]):
                self.assertEqual(schema.spec_problems(spec, f"datasets[{i}]"), [])
                self.assertTrue(schema.processed_columns(spec))
                self.assertTrue(curated.curated_columns(spec, specs))
        for i, join in enumerate(support.all_joins()):
            with self.subTest(join=join["name"]):
                self.assertEqual(curated.join_problems(join, specs, f"joins[{i}]"), [])
                self.assertTrue(curated.curated_columns(join, specs))


if __name__ == "__main__":
    unittest.main()
