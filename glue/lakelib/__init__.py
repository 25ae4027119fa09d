"""Plain-Python logic of the data lake's Glue jobs.

Every module works on Python dicts and lists (one dict per record) and never
imports pyspark or awsglue at module level, so the whole package is testable
with the standard library. The job scripts under ``glue/jobs`` are the thin
Spark/Glue wiring around these functions; the stack ships this package to
Glue as a zip through ``--extra-py-files``.

Modules:

- ``args``       job argument parsing and validation (the CDK contract)
- ``schema``     dataset declarations, column types, casting, table columns
- ``normalize``  trimming, enum lower-casing, rule checks -> quarantine reasons
- ``envelope``   unwrapping of API / DMS envelopes and plain landing records
- ``quarantine`` quarantine reason codes and quarantine records
- ``dedup``      de-duplication key and latest-wins ordering
- ``partitions`` dt derivation, partition paths, lookback windows
- ``pipeline``   one raw record -> valid row or quarantine record; rows for Spark
- ``iceberg``    the processed Iceberg tables: spec, properties, schema evolution, MERGE
- ``changes``    change records: the days a raw->processed run changed
- ``quality``    the pass/fail decision on Glue Data Quality rule outcomes
- ``curated``    curated table columns, aggregation plans, reference aggregates
- ``hadoopfs``   tiny helpers over a JVM Hadoop FileSystem (duck-typed)
"""

__all__ = [
    "args",
    "curated",
    "dedup",
    "envelope",
    "hadoopfs",
    "normalize",
    "partitions",
    "pipeline",
    "quality",
    "quarantine",
    "schema",
]
