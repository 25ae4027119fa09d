"""GlueContext stand-in: Spark session, logger, S3 reads with job bookmarks.

s3://bucket/key lives at $E2E_S3_ROOT/bucket/key (the same mapping as the
Hadoop FileSystem e2e.LocalS3FileSystem the Spark session uses for s3://).
Bookmarks: per job name and transformation_ctx, the files (path, size, mtime)
already handed over; pending ones are saved by Job.commit.
"""
import json
import logging
import os
import re

ARGV = []  # the job run's full argument list, set by the driver before main()


def s3_root():
    return os.environ["E2E_S3_ROOT"]


def s3_to_local(uri):
    m = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    if not m:
        raise ValueError(f"e2e awsglue stand-in: not an s3:// path: {uri!r}")
    return os.path.join(s3_root(), m.group(1), m.group(2))


def local_to_s3(path):
    rel = os.path.relpath(path, s3_root())
    bucket, _, key = rel.partition(os.sep)
    return f"s3://{bucket}/{key}"


def glob_regex(pattern):
    """Glue exclusions: Unix glob, ** crosses folders, [!x] negates."""
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            out += ".*"
            i += 2
            continue
        if c == "*":
            out += "[^/]*"
        elif c == "?":
            out += "[^/]"
        elif c == "[":
            j = pattern.index("]", i + 1)
            body = pattern[i + 1:j]
            if body.startswith("!"):
                body = "^" + body[1:]
            out += "[" + body + "]"
            i = j
        else:
            out += re.escape(c)
        i += 1
    return re.compile("^" + out + "$")


class _Bookmarks:
    def __init__(self):
        self.pending = {}
        self.current = None

    def _file(self):
        return os.path.join(os.environ["E2E_RUN_DIR"], "bookmarks.json")

    def load(self):
        try:
            with open(self._file()) as f:
                return json.load(f)
        except FileNotFoundError:
            return {}

    def begin(self, job):
        self.current = job
        self.pending[job] = {}

    def enabled(self):
        for i, arg in enumerate(ARGV):
            if arg == "--job-bookmark-option" and i + 1 < len(ARGV):
                return ARGV[i + 1] == "job-bookmark-enable"
        return False

    def seen(self, job, ctx):
        return set(self.load().get(job, {}).get(ctx, []))

    def add(self, job, ctx, files):
        self.pending.setdefault(job, {}).setdefault(ctx, []).extend(files)

    def commit(self, job):
        state = self.load()
        for ctx, files in self.pending.pop(job, {}).items():
            state.setdefault(job, {}).setdefault(ctx, [])
            state[job][ctx] = sorted(set(state[job][ctx]) | set(files))
        with open(self._file(), "w") as f:
            json.dump(state, f, indent=1, sort_keys=True)


BOOKMARKS = _Bookmarks()


class _Logger:
    def __init__(self):
        self._log = logging.getLogger("glue")

    def info(self, msg):
        self._log.info(msg)

    def warn(self, msg):
        self._log.warning(msg)

    warning = warn

    def error(self, msg):
        self._log.error(msg)


class _DynamicFrameReader:
    def __init__(self, glue_context):
        self._gc = glue_context

    def from_options(self, connection_type, connection_options=None, format=None, format_options=None,
                     transformation_ctx="", push_down_predicate="", **kwargs):
        from awsglue.dynamicframe import DynamicFrame
        from pyspark.sql.types import StructType

        if connection_type != "s3":
            raise NotImplementedError(f"e2e awsglue stand-in: connection_type {connection_type!r} is not emulated")
        opts = dict(connection_options or {})
        known = {"paths", "recurse", "exclusions", "groupFiles", "groupSize"}
        unknown = set(opts) - known
        if unknown:
            raise NotImplementedError(f"e2e awsglue stand-in: connection_options {sorted(unknown)} are not emulated")
        exclusions = [glob_regex(p) for p in json.loads(opts.get("exclusions") or "[]")]
        recurse = str(opts.get("recurse", False)).lower() == "true"
        files = []
        for prefix in opts.get("paths") or []:
            base = s3_to_local(prefix)
            if not os.path.isdir(base):
                continue
            for dirpath, dirnames, names in os.walk(base):
                dirnames.sort()
                if not recurse and dirpath != base:
                    continue
                for n in sorted(names):
                    if n.startswith(("_", ".")) or n.endswith(".crc"):
                        continue
                    uri = local_to_s3(os.path.join(dirpath, n))
                    if any(rx.match(uri) for rx in exclusions):
                        continue
                    st = os.stat(os.path.join(dirpath, n))
                    files.append((uri, f"{uri}|{st.st_size}|{int(st.st_mtime_ns)}"))
        job = BOOKMARKS.current
        if BOOKMARKS.enabled() and transformation_ctx:
            seen = BOOKMARKS.seen(job, transformation_ctx)
            files = [f for f in files if f[1] not in seen]
            BOOKMARKS.add(job, transformation_ctx, [f[1] for f in files])
        spark = self._gc.spark_session
        paths = [f[0] for f in files]
        fo = dict(format_options or {})
        if not paths:
            return DynamicFrame(spark.createDataFrame([], StructType([])), self._gc, transformation_ctx)
        if format == "json":
            if fo:
                raise NotImplementedError(f"e2e awsglue stand-in: json format_options {fo} are not emulated")
            df = spark.read.json(paths)
        elif format == "csv":
            unknown = set(fo) - {"withHeader", "separator", "quoteChar"}
            if unknown:
                raise NotImplementedError(f"e2e awsglue stand-in: csv format_options {sorted(unknown)} are not emulated")
            # quoteChar -1 turns quoting off (Glue); Spark's equivalent is an
            # empty quote. Glue's per-value type inference is not emulated:
            # the job's reads must not depend on it (lines of text, or CSV
            # read by Spark as strings).
            quote = fo.get("quoteChar", '"')
            quote = "" if quote in (-1, "-1") else quote
            df = (spark.read.option("header", str(fo.get("withHeader", False)).lower())
                  .option("sep", fo.get("separator", ",")).option("quote", quote)
                  .option("escape", quote or "\\").option("inferSchema", "false").csv(paths))
        else:
            raise NotImplementedError(f"e2e awsglue stand-in: format {format!r} is not emulated")
        return DynamicFrame(df, self._gc, transformation_ctx)


class GlueContext:
    def __init__(self, sc):
        from pyspark.sql import SparkSession
        self._sc = sc
        self.spark_session = SparkSession.builder.getOrCreate()
        self.create_dynamic_frame = _DynamicFrameReader(self)

    def get_logger(self):
        return _Logger()
