"""lakelib.migration: the Parquet design's rows into the Iceberg table.

The statement runs on Spark with Iceberg in the local lake (e2e/, step
"migration"); these tests pin its shape for every shipped dataset.
"""

import unittest

import support  # noqa: F401  (puts glue/ on sys.path)

from lakelib import migration, schema


def split_top_level(text):
    """The comma-separated items of a select list, outside parentheses."""
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            items.append(text[start:i].strip())
            start = i + 1
    return items + [text[start:].strip()]


class MigrationTest(unittest.TestCase):
    def test_every_processed_column_once_in_table_order(self):
        for spec in support.datasets():
            sql = migration.insert_sql("glue_catalog.`db`.`t`", "s3://p/_parquet/t/", spec)
            select = sql.split(" SELECT ", 1)[1].split(" FROM ", 1)[0]
            aliases = [part.rsplit(" AS ", 1)[1].strip("`") for part in split_top_level(select)]
            want = [n for n, _ in schema.processed_columns(spec)] + [schema.PARTITION_COLUMN]
            self.assertEqual(aliases, want, spec["name"])

    def test_old_delete_marker_is_renamed_not_dropped(self):
        sql = migration.insert_sql("glue_catalog.`db`.`t`", "s3://p/_parquet/t", support.dataset("orders"))
        self.assertIn("coalesce(CAST(`_deleted` AS BOOLEAN), false) AS `_is_deleted`", sql)
        self.assertIn("CAST(NULL AS STRING) AS `_change_seq`", sql)
        self.assertTrue(sql.endswith("FROM parquet.`s3://p/_parquet/t/`"))

    def test_path_must_be_a_folder_url(self):
        with self.assertRaises(ValueError):
            migration.insert_sql("t", "bucket/prefix", support.dataset("orders"))


if __name__ == "__main__":
    unittest.main()
