"""Dataset declarations, column types and value casting.

A dataset declaration is the JSON object of ``context.datasets`` in cdk.json
(mirrored by ``dataset.Spec`` in Go). This module validates it the same way
the Go side does, casts raw JSON/CSV values to the declared types and derives
the column list of the processed table.

Canonical Python values (what every other module works with):

=========  ===================================================
string     ``str`` (trimmed, never empty: empty means null)
bigint     ``int`` within the signed 64-bit range
double     ``float`` (finite)
boolean    ``bool``
timestamp  timezone-aware ``datetime.datetime`` in UTC
date       ``datetime.date``
=========  ===================================================
"""

from __future__ import annotations

import datetime as _dt
import functools
import math
import re
import zoneinfo

STRING = "string"
BIGINT = "bigint"
DOUBLE = "double"
BOOLEAN = "boolean"
TIMESTAMP = "timestamp"
DATE = "date"

# Same order as dataset.Types in Go (error messages list them in this order).
TYPES = (STRING, BIGINT, DOUBLE, BOOLEAN, TIMESTAMP, DATE)
NUMERIC_TYPES = (BIGINT, DOUBLE)

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1

CLASSIFICATIONS = ("public", "internal", "confidential", "restricted")
RESERVED_COLUMN_NAMES = ("dt", "source")
IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]{0,63}$")

# Columns the raw->processed job appends to the declared columns.
DELETED_COLUMN = "_is_deleted"
RECEIVED_AT_COLUMN = "_received_at"
# The source's change sequence (DMS: AR_H_CHANGE_SEQ, zero-padded so text
# order is number order), null for records without one.
CHANGE_SEQ_COLUMN = "_change_seq"
PROCESSED_META_COLUMNS = ((DELETED_COLUMN, BOOLEAN), (RECEIVED_AT_COLUMN, TIMESTAMP), (CHANGE_SEQ_COLUMN, STRING))
PARTITION_COLUMN = "dt"
# Partitionings of the processed Iceberg table (see lakelib.iceberg).
EVENT_DAY = "event_day"
KEY_BUCKET = "key_bucket"
PARTITIONINGS = (EVENT_DAY, KEY_BUCKET)
DEFAULT_KEY_BUCKETS = 16
MAX_KEY_BUCKETS = 1024
PARTITION_COLUMN_TYPE = STRING

TRUE_STRINGS = frozenset({"true", "t", "yes", "y", "1"})
FALSE_STRINGS = frozenset({"false", "f", "no", "n", "0"})

# Member names of the struct Glue produces for a ChoiceType resolved with
# make_struct (e.g. {"int": 5, "string": null}).
GLUE_CHOICE_MEMBERS = frozenset(
    {"int", "long", "short", "byte", "bigint", "double", "float", "decimal",
     "string", "boolean", "bool", "timestamp", "date", "null", "struct", "array"}
)

UTC = _dt.timezone.utc
EPOCH = _dt.datetime(1970, 1, 1, tzinfo=UTC)

_INT_RE = re.compile(r"^[+-]?\d+$")
_FLOAT_RE = re.compile(r"^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$")
_DATE_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
# The one timestamp grammar of the lake: the validator's parseTimestamp
# (functions/validator/values.go) reads the same; both are checked against
# dataset/testdata/timestamps.json. ASCII digits only (re.ASCII).
_TIMESTAMP_RE = re.compile(
    r"([0-9]{4})-([0-9]{2})-([0-9]{2})"
    r"(?:[Tt ]([0-9]{2}):([0-9]{2})(?::([0-9]{2})(?:[.,]([0-9]+))?)?)?"
    r" *(Z|z|UTC|[+-][0-9]{2}(?::?[0-9]{2})?)?",
    re.ASCII,
)
# What parse_timestamp trims around a value (the validator trims the same).
_BLANK = " \t"


class CastError(ValueError):
    """A value cannot be converted to the declared column type."""


class SpecError(ValueError):
    """A dataset or join declaration is invalid; ``problems`` lists why."""

    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


# --------------------------------------------------------------------------
# Declarations


def column_map(spec):
    """Return {column name: column declaration} of a dataset declaration."""
    return {c["name"]: c for c in spec.get("columns", [])}


def get_column(spec, name):
    """Return the declaration of the named column; KeyError if undeclared."""
    for c in spec.get("columns", []):
        if c.get("name") == name:
            return c
    raise KeyError(f"dataset {spec.get('name')!r} has no column {name!r}")


def numeric_columns(spec):
    """The bigint and double columns, in declaration order."""
    return [c for c in spec.get("columns", []) if c.get("type") in NUMERIC_TYPES]


def column_casts(spec):
    """(column name, declared type) for every declared column, in order."""
    return [(c["name"], c["type"]) for c in spec["columns"]]


def processed_columns(spec):
    """Columns of the processed table, in order, as (name, hive type).

    The declared columns in declaration order with their declared types,
    then ``_is_deleted boolean``, ``_received_at timestamp`` and
    ``_change_seq string``. The partition
    column ``dt string`` is not part of the list.
    """
    return column_casts(spec) + list(PROCESSED_META_COLUMNS)


def ddl(columns):
    """A Spark DDL schema string for [(name, hive type)], e.g. for createDataFrame."""
    return ", ".join(f"`{name}` {hive_type.upper()}" for name, hive_type in columns)


def _fmt_number(v):
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def spec_problems(spec, path="dataset"):
    """Every problem of a dataset declaration (mirror of Go Spec.Problems).

    An empty list means the declaration is valid.
    """
    problems = []

    def add(field, message):
        problems.append(f"{path}.{field}: {message}")

    if not isinstance(spec, dict):
        return [f"{path}: is a {type(spec).__name__}, expected a JSON object"]
    name = spec.get("name")
    if not isinstance(name, str) or not IDENTIFIER.match(name):
        add("name", f"{name!r} is not a valid dataset name: use 1-64 lowercase letters, "
                    "digits and underscores, starting with a letter")
    if name == "dms":
        add("name", "'dms' is reserved: landing/dms/ is the DMS S3 target's folder")
    classification = spec.get("classification")
    if classification not in (None, "") and classification not in CLASSIFICATIONS:
        add("classification", f"{classification!r} is not allowed: use one of {', '.join(CLASSIFICATIONS)}")
    freshness = spec.get("freshness_hours", 0)
    if not isinstance(freshness, int) or isinstance(freshness, bool) or freshness < 0 or freshness > 24 * 31:
        add("freshness_hours", f"{freshness!r} is out of range: use 1..744 hours (0 or absent means 26)")
    columns = spec.get("columns")
    if not isinstance(columns, list) or not columns:
        add("columns", "is empty: declare at least the key and the event-time column")
        columns = []
    seen = set()
    for i, c in enumerate(columns):
        cp = f"columns[{i}]"
        if not isinstance(c, dict):
            add(cp, "is not a JSON object")
            continue
        cname = c.get("name")
        ctype = c.get("type")
        if not isinstance(cname, str) or not IDENTIFIER.match(cname):
            add(cp + ".name", f"{cname!r} is not a valid column name: use 1-64 lowercase letters, "
                              "digits and underscores, starting with a letter")
        if cname in RESERVED_COLUMN_NAMES:
            add(cp + ".name", f"{cname!r} is reserved for the partition columns dt and source")
        if cname in seen:
            add(cp + ".name", f"{cname!r} is declared twice")
        seen.add(cname)
        if ctype not in TYPES:
            add(cp + ".type", f"{ctype!r} is not a supported type: use one of {', '.join(TYPES)}")
        allowed = c.get("allowed")
        if allowed:
            if ctype != STRING:
                add(cp + ".allowed", f"is set on a {ctype} column: allowed values apply to string columns only")
            if not isinstance(allowed, list) or not all(isinstance(a, str) for a in allowed):
                add(cp + ".allowed", "must be a list of strings")
        cmin, cmax = c.get("min"), c.get("max")
        for bound_name, bound in (("min", cmin), ("max", cmax)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float))):
                add(f"{cp}.{bound_name}", f"{bound!r} is not a number")
        if (cmin is not None or cmax is not None) and ctype not in NUMERIC_TYPES:
            add(cp + ".min/max", f"is set on a {ctype} column: ranges apply to bigint and double columns only")
        if (isinstance(cmin, (int, float)) and isinstance(cmax, (int, float))
                and not isinstance(cmin, bool) and not isinstance(cmax, bool) and cmin > cmax):
            add(cp + ".min", f"{_fmt_number(cmin)} is greater than max {_fmt_number(cmax)}")
    by_name = {c.get("name"): c for c in columns if isinstance(c, dict)}
    names = ", ".join(str(c.get("name")) for c in columns if isinstance(c, dict))
    etf = spec.get("event_time_field")
    if etf not in by_name:
        add("event_time_field", f"{etf!r} is not one of the declared columns ({names})")
    else:
        et = by_name[etf]
        if et.get("type") not in (TIMESTAMP, DATE):
            add("event_time_field", f"{etf!r} is a {et.get('type')} column: the event time must be a "
                                    "timestamp or date column")
        if not et.get("required"):
            add("event_time_field", f"{etf!r} must be a required column: every record needs an event "
                                    "time to be partitioned")
    key = spec.get("key")
    if not isinstance(key, list) or not key:
        add("key", "is empty: name the column(s) that identify a record, used for de-duplication")
        key = []
    for i, k in enumerate(key):
        if k not in by_name:
            add(f"key[{i}]", f"{k!r} is not one of the declared columns ({names})")
        elif not by_name[k].get("required"):
            add(f"key[{i}]", f"{k!r} must be a required column: a key column cannot be null")
    group_by = spec.get("group_by") or []
    if not isinstance(group_by, list):
        add("group_by", "must be a list of column names")
        group_by = []
    for i, g in enumerate(group_by):
        if g not in by_name:
            add(f"group_by[{i}]", f"{g!r} is not one of the declared columns ({names})")
        elif by_name[g].get("type") != STRING:
            add(f"group_by[{i}]", f"{g!r} is a {by_name[g].get('type')} column: group by string columns only")
    part = spec.get("partitioning")
    if part not in (None, "") and part not in PARTITIONINGS:
        add("partitioning", f"{part!r} is not allowed: use one of {', '.join(PARTITIONINGS)}")
    buckets = spec.get("key_buckets")
    if buckets is not None and (isinstance(buckets, bool) or not isinstance(buckets, int)
                                or not 0 <= buckets <= MAX_KEY_BUCKETS):
        add("key_buckets", f"{buckets!r} is out of range: use 1..{MAX_KEY_BUCKETS} (0 or absent means "
                           f"{DEFAULT_KEY_BUCKETS})")
    elif buckets and part != KEY_BUCKET:
        add("key_buckets", f"is set but partitioning is {part or EVENT_DAY!r}: key buckets apply to "
                           f"partitioning {KEY_BUCKET!r} only")
    tz = spec.get("timezone")
    if tz is not None and zone_problem(tz):
        add("timezone", zone_problem(tz) + ": use e.g. UTC, Europe/Berlin, America/New_York "
                                           "(offset-less timestamps are read in it)")
    return problems


def validate_spec(spec, path="dataset"):
    """Return spec unchanged if valid, else raise SpecError listing every problem."""
    problems = spec_problems(spec, path)
    if problems:
        raise SpecError(problems)
    return spec


# --------------------------------------------------------------------------
# Casting


def unchoice(value):
    """Unwrap a Glue make_struct choice value ({"int": 5, "string": null} -> 5).

    Declared columns are scalars, so a dict whose keys are all Glue type
    names can only be a resolved ChoiceType. Returns the first non-null
    member, or None. Any other value is returned unchanged.
    """
    if isinstance(value, dict) and value and set(value) <= GLUE_CHOICE_MEMBERS:
        for member in value.values():
            if member is not None:
                return unchoice(member)
        return None
    return value


def _short(value, limit=80):
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def format_timestamp(value):
    """Render a canonical timestamp as RFC 3339 UTC with microseconds and Z."""
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond:06d}Z"


def to_utc(value):
    """Return an aware UTC datetime; naive datetimes are taken as UTC."""
    if value.tzinfo is None or value.tzinfo.utcoffset(value) is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def parse_timestamp(text, zone=None):
    """Parse an RFC 3339 / ISO 8601 timestamp string into an aware UTC datetime.

    Accepts ``T`` or a space between date and time, optional seconds and
    fraction (``.`` or ``,``; truncated to microseconds), and ``Z``/``UTC``/
    ``+HH:MM``/``+HHMM``/``+HH`` offsets, after trimming spaces and tabs.
    No offset means ``zone`` (a tzinfo: the dataset's timezone; default
    UTC), a bare date midnight there. Raises CastError otherwise. The
    validator accepts exactly the same texts (dataset/testdata/timestamps.json).
    """
    m = _TIMESTAMP_RE.fullmatch(text.strip(_BLANK))
    if not m:
        raise CastError(f"{_short(text)} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second, fraction, offset = m.groups()
    micro = int((fraction or "0")[:6].ljust(6, "0"))
    tz = zone or UTC
    if offset in ("Z", "z", "UTC"):
        tz = UTC
    elif offset:
        sign = -1 if offset[0] == "-" else 1
        digits = offset[1:].replace(":", "")
        hours = int(digits[:2])
        minutes = int(digits[2:4]) if len(digits) > 2 else 0
        if hours > 23 or minutes > 59:
            raise CastError(f"{_short(text)} has an invalid UTC offset")
        tz = _dt.timezone(sign * _dt.timedelta(hours=hours, minutes=minutes))
    try:
        value = _dt.datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0),
                             int(second or 0), micro, tzinfo=tz)
        return value.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise CastError(f"{_short(text)} is not a valid timestamp ({exc})") from None


def epoch_millis_to_timestamp(value):
    """Epoch milliseconds (int or integral string/float) -> aware UTC datetime."""
    value = unchoice(value)
    if isinstance(value, bool):
        raise CastError(f"{_short(value)} is not epoch milliseconds")
    if isinstance(value, str) and _INT_RE.match(value.strip()):
        value = int(value.strip())
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        value = int(value)
    if not isinstance(value, int):
        raise CastError(f"{_short(value)} is not epoch milliseconds")
    try:
        return EPOCH + _dt.timedelta(milliseconds=value)
    except OverflowError:
        raise CastError(f"{_short(value)} is out of range for epoch milliseconds") from None


def _cast_string(value):
    if isinstance(value, str):
        value = value.strip()
        return value or None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CastError(f"{_short(value)} is not a finite number")
        return _fmt_number(value)
    if isinstance(value, _dt.datetime):
        return format_timestamp(to_utc(value))
    if isinstance(value, _dt.date):
        return value.isoformat()
    raise CastError(f"{_short(value)} is a {type(value).__name__}, not a string")


def _check_bigint_range(value, original):
    if value < BIGINT_MIN or value > BIGINT_MAX:
        raise CastError(f"{_short(original)} is out of the bigint range")
    return value


def _cast_bigint(value):
    original = value
    if isinstance(value, bool):
        raise CastError(f"{_short(value)} is a boolean, not a bigint")
    if isinstance(value, int):
        return _check_bigint_range(value, original)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer():
            return _check_bigint_range(int(value), original)
        raise CastError(f"{_short(value)} is not a whole number")
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if _INT_RE.match(text):
            return _check_bigint_range(int(text), original)
        if _FLOAT_RE.match(text):
            number = float(text)
            if math.isfinite(number) and number.is_integer():
                return _check_bigint_range(int(number), original)
        raise CastError(f"{_short(value)} is not a bigint")
    raise CastError(f"{_short(value)} is a {type(value).__name__}, not a bigint")


def _cast_double(value):
    if isinstance(value, bool):
        raise CastError(f"{_short(value)} is a boolean, not a double")
    if isinstance(value, (int, float)):
        try:
            number = float(value)
        except OverflowError:
            raise CastError(f"{_short(value)} is out of the double range") from None
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if not _FLOAT_RE.match(text):
            raise CastError(f"{_short(value)} is not a double")
        number = float(text)
    else:
        raise CastError(f"{_short(value)} is a {type(value).__name__}, not a double")
    if not math.isfinite(number):
        raise CastError(f"{_short(value)} is not a finite double")
    return number


def _cast_boolean(value):
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if not text:
            return None
        if text in TRUE_STRINGS:
            return True
        if text in FALSE_STRINGS:
            return False
    raise CastError(f"{_short(value)} is not a boolean (use true/false)")


def _cast_timestamp(value, zone=None):
    if isinstance(value, _dt.datetime):
        return to_utc(value) if value.tzinfo is not None or zone is None else value.replace(tzinfo=zone).astimezone(UTC)
    if isinstance(value, _dt.date):
        return _dt.datetime(value.year, value.month, value.day, tzinfo=zone or UTC).astimezone(UTC)
    if isinstance(value, str):
        if not value.strip():
            return None
        return parse_timestamp(value, zone)
    raise CastError(f"{_short(value)} is a {type(value).__name__}, not an RFC 3339 timestamp string")


def _cast_date(value):
    if isinstance(value, _dt.datetime):
        return to_utc(value).date()
    if isinstance(value, _dt.date):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        m = _DATE_RE.match(text)
        if m:
            try:
                return _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
            except ValueError as exc:
                raise CastError(f"{_short(value)} is not a valid date ({exc})") from None
        raise CastError(f"{_short(value)} is not a date (use YYYY-MM-DD)")
    raise CastError(f"{_short(value)} is a {type(value).__name__}, not a YYYY-MM-DD date string")


_CASTERS = {
    STRING: _cast_string,
    BIGINT: _cast_bigint,
    DOUBLE: _cast_double,
    BOOLEAN: _cast_boolean,
    TIMESTAMP: _cast_timestamp,
    DATE: _cast_date,
}


def cast_value(value, type_name, zone=None):
    """Cast one raw value to the canonical Python value of a declared type.

    None, and strings that are empty after trimming, become None. A
    timestamp without an offset is read in ``zone`` (a tzinfo; default
    UTC). Raises CastError with a human-readable message when the value
    does not fit.
    """
    try:
        caster = _CASTERS[type_name]
    except KeyError:
        raise CastError(f"unsupported column type {type_name!r}") from None
    value = unchoice(value)
    if value is None:
        return None
    if type_name == TIMESTAMP:
        return caster(value, zone)
    return caster(value)


DEFAULT_TIMEZONE = "UTC"


@functools.lru_cache(maxsize=64)
def _zone(name):
    return zoneinfo.ZoneInfo(name)


def zone_problem(name):
    """Why ``name`` is not an IANA time zone name (None when it is one)."""
    if not isinstance(name, str) or name in ("", "Local") or name.startswith("/") or ".." in name:
        return f"{name!r} is not an IANA time zone name"
    try:
        _zone(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        return f"{name!r} is not an IANA time zone name"
    return None


def zone_of(spec):
    """The tzinfo of the dataset's ``timezone`` (UTC when absent)."""
    name = spec.get("timezone") or DEFAULT_TIMEZONE
    return UTC if name == DEFAULT_TIMEZONE else _zone(name)
