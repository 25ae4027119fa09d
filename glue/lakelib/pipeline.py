"""One raw record -> a processed row or a quarantine record, and row I/O.

The raw->processed job runs ``process_partition`` inside ``mapPartitions``
over the JSON text of every record read, then splits the tagged results.
A processed row ("canonical record") is a dict with every declared column,
``_is_deleted``, ``_received_at``, ``_change_seq`` and ``dt``.
"""

from __future__ import annotations

import datetime as _dt
import json

from . import envelope, normalize, partitions
from . import quarantine as q
from . import schema

VALID = "valid"
QUARANTINE = "quarantine"
CORRUPT_RECORD_FIELD = "_corrupt_record"
# Source kind of a Glue error record (input Glue's reader could not read).
GLUE_ERROR = "glue_error"


def future_problem(record, spec, received_at, now, skew):
    """A future_event_time reason if the event time is after (arrival or now) + skew, else None.

    A date event time counts from the start of its day. ``skew`` is a
    timedelta; None disables the check.
    """
    if skew is None:
        return None
    etf = spec["event_time_field"]
    value = record.get(etf)
    if value is None:
        return None
    if not isinstance(value, _dt.datetime):
        value = _dt.datetime(value.year, value.month, value.day, tzinfo=schema.UTC)
    limit = schema.to_utc(received_at or now) + skew
    if schema.to_utc(value) > limit:
        return q.reason(q.FUTURE_EVENT_TIME, f"{schema.format_timestamp(value)} is after "
                        f"{schema.format_timestamp(limit)} (arrival + {int(skew.total_seconds() // 60)} min allowed skew)", etf)
    return None


def process_record(kind, raw, spec, now=None, skew=None):
    """Canonical row of one raw record dict; raises quarantine.Quarantined.

    With ``now`` and ``skew``, an event time beyond the arrival (or ``now``
    when the record has no arrival time) plus ``skew`` is quarantined.
    """
    if not isinstance(raw, dict):
        raise q.Quarantined(q.reason(q.MALFORMED_RECORD, f"record is a {type(raw).__name__}, not a JSON object"))
    if raw.get(CORRUPT_RECORD_FIELD) is not None:
        raise q.Quarantined(q.reason(q.MALFORMED_RECORD, "the line is not valid JSON"))
    env = envelope.unwrap(kind, raw, spec)
    data = env.data
    etf = spec["event_time_field"]
    if env.deleted and env.fallback_event_time is not None:
        current = schema.unchoice(normalize.lookup(data, etf))
        if current is None or (isinstance(current, str) and not current.strip()):
            data = dict(data)
            data[etf] = env.fallback_event_time
    record, problems = normalize.normalize_record(data, spec, deleted=env.deleted)
    if not problems and now is not None:
        future = future_problem(record, spec, env.received_at, now, skew)
        if future:
            problems = [future]
    if problems:
        raise q.Quarantined(problems)
    record[schema.DELETED_COLUMN] = env.deleted
    record[schema.RECEIVED_AT_COLUMN] = env.received_at
    record[schema.CHANGE_SEQ_COLUMN] = env.sequence
    record[schema.PARTITION_COLUMN] = partitions.dt_of(record[etf])
    return record


def process_raw(kind, raw, spec, quarantined_at, now=None, skew=None):
    """(VALID, row) or (QUARANTINE, quarantine record) for one raw record dict."""
    try:
        return VALID, process_record(kind, raw, spec, now, skew)
    except q.Quarantined as exc:
        return QUARANTINE, q.quarantine_record(raw, exc.reasons, quarantined_at)


def process_json_line(kind, line, spec, quarantined_at, now=None, skew=None):
    """Like process_raw for the JSON text of one record."""
    try:
        raw = json.loads(line)
    except (TypeError, ValueError) as exc:
        return QUARANTINE, q.quarantine_record(
            line, [q.reason(q.MALFORMED_RECORD, f"not valid JSON ({exc})")], quarantined_at)
    return process_raw(kind, raw, spec, quarantined_at, now, skew)


def process_partition(items, spec, quarantined_at, now=None, skew=None):
    """mapPartitions function over (source kind, JSON text) pairs."""
    for kind, line in items:
        if kind == GLUE_ERROR:
            yield QUARANTINE, q.quarantine_record(
                line, [q.reason(q.MALFORMED_RECORD, "Glue's reader could not read this input (its error record)")], quarantined_at)
            continue
        yield process_json_line(kind, line, spec, quarantined_at, now, skew)


# ---- sources of the raw->processed job -----------------------------------

JSON_LINES_SUFFIXES = (".json", ".jsonl", ".ndjson")
CSV_SUFFIX = ".csv"
GZIP_SUFFIX = ".gz"

# Glue S3 "exclusions" (Unix glob, ** crosses folders) of the landing JSON
# lines read: every landing file except CSV files (read by lakelib.landing).
LANDING_JSON_EXCLUSIONS = ("**.csv", "**.csv.gz")
# JSON lines are read as lines of text, not parsed by Glue: Glue's JSON
# reader turns a malformed line into an error record that toDF() leaves
# out, so it would vanish uncounted. Glue's CSV reader (bookmarked like any
# DynamicFrame read) with a separator that JSON text does not contain and
# quoting off ("quoteChar": -1, Glue developer guide, CSV format options)
# hands over each line as it is; json.loads then decides, and a line that
# is not JSON is quarantined as malformed_record. Should a line contain the
# separator, it arrives in several columns and is joined back (LINE_COLUMNS_JOIN).
LINE_SEPARATOR = "\u0001"
LINE_FORMAT_OPTIONS = {"separator": LINE_SEPARATOR, "quoteChar": -1, "withHeader": False}
GROUP_SIZE_BYTES = 128 * 1024 * 1024


def landing_format(file_name):
    """"csv" or "json": how a landing file is read, by its name (see README)."""
    name = file_name.rsplit("/", 1)[-1]
    if name.endswith(CSV_SUFFIX) or name.endswith(CSV_SUFFIX + GZIP_SUFFIX):
        return "csv"
    return "json"


def source_reads(raw_path, landing_path):
    """The bookmarked line reads of the raw->processed job, one bookmark context each.

    Each entry: transformation_ctx, kind (envelope.FIREHOSE/LANDING), path,
    format, format_options, exclusions (glob list). Landing CSV files are
    not among them (lakelib.landing). The contexts keep the names of the
    JSON reads they replaced, so a deployed job's bookmarks carry on.
    """
    return [
        {"transformation_ctx": "raw_firehose", "kind": envelope.FIREHOSE, "path": raw_path,
         "format": "csv", "format_options": dict(LINE_FORMAT_OPTIONS), "exclusions": []},
        {"transformation_ctx": "landing_json", "kind": envelope.LANDING, "path": landing_path,
         "format": "csv", "format_options": dict(LINE_FORMAT_OPTIONS), "exclusions": list(LANDING_JSON_EXCLUSIONS)},
    ]


def line_of(values):
    """The text of one line from the columns a line read produced (None: a blank line).

    Values are strings, or numbers where Glue's CSV reader typed a bare
    number (such a line is not a JSON object and is quarantined anyway).
    """
    parts = ["" if v is None else str(schema.unchoice(v)) for v in values]
    text = LINE_SEPARATOR.join(parts).rstrip(LINE_SEPARATOR)
    return text if text.strip() else None


def s3_connection_options(source):
    """connection_options of create_dynamic_frame.from_options for one source_reads entry."""
    options = {
        # --landing_path may list several prefixes separated by commas
        # (landing/<dataset>/ and the DMS S3 target's folder).
        "paths": [p for p in source["path"].split(",") if p],
        "recurse": True,
        "groupFiles": "inPartition",
        "groupSize": str(GROUP_SIZE_BYTES),
    }
    if source["exclusions"]:
        options["exclusions"] = json.dumps(source["exclusions"])
    return options


def quarantine_file_count(records, records_per_file=500_000):
    """Number of quarantine files to write for ``records`` quarantined records."""
    return max(1, -(-records // records_per_file))


# ---- rows handed to Spark ---------------------------------------------------


def row_columns(spec):
    """Column order of the tuples handed to Spark: processed columns, then dt."""
    return [name for name, _ in schema.processed_columns(spec)] + [schema.PARTITION_COLUMN]


def row_ddl(spec):
    """Spark DDL schema matching row_columns (dt is a string)."""
    return schema.ddl(schema.processed_columns(spec) + [(schema.PARTITION_COLUMN, schema.PARTITION_COLUMN_TYPE)])


def to_row(record, columns):
    """Tuple of a canonical record in ``columns`` order (for createDataFrame)."""
    return tuple(record.get(c) for c in columns)
