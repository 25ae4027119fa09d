"""The ``dt=YYYY-MM-DD`` event days: derivation, paths, windows; the target file size of the tables."""

from __future__ import annotations

import datetime as _dt
import re

from . import schema

DT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

MIB = 1024 * 1024
MIN_TARGET_FILE_MB = 128
MAX_TARGET_FILE_MB = 1024
DEFAULT_TARGET_FILE_MB = 256


def dt_of(value):
    """``YYYY-MM-DD`` of an event time (aware datetime -> its UTC date, or a date)."""
    if isinstance(value, _dt.datetime):
        return schema.to_utc(value).date().isoformat()
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise ValueError(f"cannot derive dt from {value!r}: need a timestamp or date")


def dt_of_record(record, spec):
    """The dt partition of a canonical record, from its event-time column."""
    return dt_of(record[spec["event_time_field"]])


def parse_dt(text):
    """Validate a ``YYYY-MM-DD`` partition value and return it as a date."""
    if not isinstance(text, str) or not DT_RE.match(text):
        raise ValueError(f"{text!r} is not a dt partition value (YYYY-MM-DD)")
    return _dt.date.fromisoformat(text)


def ensure_prefix(path):
    """An S3 prefix with exactly one trailing slash."""
    return path.rstrip("/") + "/"


def partition_path(root, dt):
    """``<root>/dt=<dt>/`` (root is the table prefix, e.g. s3://p/clickstream/)."""
    parse_dt(dt)
    return f"{ensure_prefix(root)}dt={dt}/"


def dataset_path(root, name):
    """``<root>/<name>/`` (e.g. processed root + dataset name)."""
    return f"{ensure_prefix(root)}{name}/"


def today_utc(now=None):
    """Today's date in UTC (``now`` is an aware datetime, default the clock)."""
    now = now or _dt.datetime.now(schema.UTC)
    return schema.to_utc(now).date()


def lookback_start(today, lookback_days):
    """First dt of the window ``dt >= today - lookback_days`` (as YYYY-MM-DD)."""
    if lookback_days < 0:
        raise ValueError(f"lookback_days must be >= 0, got {lookback_days}")
    return (today - _dt.timedelta(days=lookback_days)).isoformat()
