"""The job scripts import without Spark and keep the argument contract."""

import ast
import importlib
import os
import sys
import unittest

import support
from lakelib import args

JOBS_DIR = os.path.join(support.GLUE_DIR, "jobs")
LAKELIB_DIR = os.path.join(support.GLUE_DIR, "lakelib")
SPARK_MODULES = ("pyspark", "awsglue", "awsgluedq", "boto3")


def module_level_imports(path):
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read(), path)
    names = []
    for node in tree.body:
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.append(node.module)
    return names


class JobModulesTest(unittest.TestCase):
    def load(self, name):
        if JOBS_DIR not in sys.path:
            sys.path.insert(0, JOBS_DIR)
        return importlib.import_module(name)

    def test_jobs_import_without_spark_and_expose_main(self):
        for name in ("raw_to_processed", "quality_check", "processed_to_curated"):
            with self.subTest(job=name):
                module = self.load(name)
                self.assertTrue(callable(module.main))
                self.assertTrue(callable(module.run))

    def test_jobs_use_the_contract(self):
        self.assertEqual(self.load("raw_to_processed").REQUIRED_ARGS, args.RAW_TO_PROCESSED_REQUIRED)
        self.assertEqual(self.load("raw_to_processed").OPTIONAL_ARGS, args.RAW_TO_PROCESSED_OPTIONAL)
        self.assertEqual(self.load("quality_check").REQUIRED_ARGS, args.QUALITY_CHECK_REQUIRED)
        self.assertEqual(self.load("processed_to_curated").REQUIRED_ARGS, args.PROCESSED_TO_CURATED_REQUIRED)
        self.assertEqual(self.load("processed_to_curated").OPTIONAL_ARGS, args.PROCESSED_TO_CURATED_OPTIONAL)

    def test_no_module_level_spark_imports(self):
        paths = [os.path.join(JOBS_DIR, f) for f in os.listdir(JOBS_DIR) if f.endswith(".py")]
        paths += [os.path.join(LAKELIB_DIR, f) for f in os.listdir(LAKELIB_DIR) if f.endswith(".py")]
        self.assertGreaterEqual(len(paths), 10)
        for path in paths:
            for name in module_level_imports(path):
                with self.subTest(file=os.path.basename(path), module=name):
                    self.assertFalse(name.split(".")[0] in SPARK_MODULES)

    def test_lakelib_never_imports_spark_at_all(self):
        for f in os.listdir(LAKELIB_DIR):
            if f.endswith(".py"):
                with open(os.path.join(LAKELIB_DIR, f), encoding="utf-8") as fh:
                    tree = ast.parse(fh.read())
                for node in ast.walk(tree):
                    if isinstance(node, (ast.Import, ast.ImportFrom)):
                        mods = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                        for m in mods:
                            self.assertNotIn(m.split(".")[0], SPARK_MODULES, f)

    def test_jobs_read_options_inside_main_only(self):
        for f in ("raw_to_processed.py", "quality_check.py", "processed_to_curated.py"):
            with open(os.path.join(JOBS_DIR, f), encoding="utf-8") as fh:
                tree = ast.parse(fh.read())
            callers = []
            for node in ast.walk(tree):
                if isinstance(node, ast.FunctionDef):
                    for inner in ast.walk(node):
                        if isinstance(inner, ast.Call) and getattr(inner.func, "id", "") == "getResolvedOptions":
                            callers.append(node.name)
            self.assertEqual(callers, ["main"], f)


if __name__ == "__main__":
    unittest.main()
