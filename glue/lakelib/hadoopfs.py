"""Minimal helpers over the Hadoop FileSystem of a Spark session.

They only use the session's py4j gateway (``spark._jvm``, ``spark._jsc``),
never import pyspark, and are duck-typed so tests can pass a fake session.
Used by the jobs to list ``dt=`` partitions and to delete partitions that
a recompute left empty.
"""

from __future__ import annotations

from . import partitions


def _fs(spark, path):
    jpath = spark._jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark._jsc.hadoopConfiguration()), jpath


def exists(spark, path):
    """Whether the path (file or prefix) exists."""
    fs, jpath = _fs(spark, path)
    return bool(fs.exists(jpath))


def list_child_names(spark, path):
    """Names of the direct children of a prefix ([] if it does not exist)."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return []
    return [status.getPath().getName() for status in fs.listStatus(jpath)]


def list_partition_dts(spark, path):
    """Sorted dt values of the ``dt=YYYY-MM-DD`` folders directly under ``path``."""
    return partitions.parse_partition_dirs(list_child_names(spark, path))


def delete_recursive(spark, path):
    """Delete a prefix and everything under it; returns whether something was deleted."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return False
    return bool(fs.delete(jpath, True))
