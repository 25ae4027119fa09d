"""Minimal helpers over the Hadoop FileSystem of a Spark session.

They only use the session's py4j gateway (``spark._jvm``, ``spark._jsc``),
never import pyspark, and are duck-typed so tests can pass a fake session.
Used by the jobs for their own files beside the tables: the landing
manifest, change records, quality verdicts.
"""

from __future__ import annotations


def _fs(spark, path):
    jpath = spark._jvm.org.apache.hadoop.fs.Path(path)
    return jpath.getFileSystem(spark._jsc.hadoopConfiguration()), jpath


def list_child_names(spark, path):
    """Names of the direct children of a prefix ([] if it does not exist)."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return []
    return [status.getPath().getName() for status in fs.listStatus(jpath)]


def list_files(spark, path):
    """[(path, size, modified ms)] of every file under a prefix, recursively ([] if absent)."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return []
    out = []
    it = fs.listFiles(jpath, True)
    while it.hasNext():
        status = it.next()
        out.append((str(status.getPath().toString()), int(status.getLen()), int(status.getModificationTime())))
    return out


def delete_recursive(spark, path):
    """Delete a prefix and everything under it; returns whether something was deleted."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return False
    return bool(fs.delete(jpath, True))


def write_text(spark, path, text):
    """Write ``text`` (UTF-8) to one file, replacing it."""
    fs, jpath = _fs(spark, path)
    stream = fs.create(jpath, True)
    try:
        stream.write(bytearray(text.encode("utf-8")))
    finally:
        stream.close()


def read_text(spark, path):
    """The UTF-8 text of one file, or None if it does not exist."""
    fs, jpath = _fs(spark, path)
    if not fs.exists(jpath):
        return None
    stream = fs.open(jpath)
    try:
        reader = spark._jvm.java.io.BufferedReader(spark._jvm.java.io.InputStreamReader(stream, "UTF-8"))
        lines = []
        line = reader.readLine()
        while line is not None:
            lines.append(line)
            line = reader.readLine()
        return "\n".join(lines)
    finally:
        stream.close()
