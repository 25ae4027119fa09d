import unittest

import support
from lakelib import curated, schema


class DeclarationsTest(unittest.TestCase):
    """The tests read the declarations from cdk.json (support.CDK_JSON), so
    there is no copy to keep in step; the job library must accept every one."""

    def test_declarations_are_valid(self):
        specs = support.datasets()
        self.assertTrue(specs, f"no datasets in {support.CDK_JSON}")
        for i, spec in enumerate(specs):
            self.assertEqual(schema.spec_problems(spec, f"datasets[{i}]"), [])
        for i, join in enumerate(support.joins()):
            self.assertEqual(curated.join_problems(join, specs, f"joins[{i}]"), [])


if __name__ == "__main__":
    unittest.main()
