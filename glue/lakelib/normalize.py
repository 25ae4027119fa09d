"""Apply a dataset declaration to one unwrapped record.

``normalize_record`` turns the payload of one record (a dict of raw JSON or
CSV values) into a dict holding exactly the declared columns with canonical
values, and lists every problem that sends the record to quarantine:

1. look the column up (exact name first, then trimmed case-insensitive name,
   so CSV headers like ``Event_ID`` match); undeclared fields are ignored;
2. cast to the declared type (strings are trimmed, empty means null,
   timestamps are converted to UTC; one without an offset is read in the
   dataset's ``timezone``, default UTC) -> ``type_mismatch``;
3. lower-case the value of columns that declare ``allowed`` values;
4. check ``required`` -> ``missing_required``;
5. check ``allowed`` (case-insensitively) -> ``not_allowed``;
6. check ``min``/``max`` (inclusive) -> ``below_min``/``above_max``.

For a DMS delete (``deleted=True``) only the key columns and the event-time
column are required: DMS may send only the primary key of a deleted row.
"""

from __future__ import annotations

from . import quarantine as q
from . import schema


def lookup(data, name):
    """Value of column ``name`` in ``data``: exact key, else trimmed case-insensitive key."""
    if name in data:
        return data[name]
    wanted = name.lower()
    for key, value in data.items():
        if isinstance(key, str) and key.strip().lower() == wanted:
            return value
    return None


def trim(value):
    """Strip surrounding whitespace of strings; other values unchanged."""
    return value.strip() if isinstance(value, str) else value


def normalize_enum(value):
    """Allowed-values columns are stored lower-case."""
    return value.lower() if isinstance(value, str) else value


def required_columns(spec, deleted=False):
    """Names of the columns that must be non-null for this record."""
    if deleted:
        names = set(spec["key"]) | {spec["event_time_field"]}
        return {c["name"] for c in spec["columns"] if c["name"] in names}
    return {c["name"] for c in spec["columns"] if c.get("required")}


def _fmt(v):
    return schema._fmt_number(v)


def check_rules(column, value):
    """Problems of one already-cast, non-null value against allowed/min/max."""
    problems = []
    name = column["name"]
    allowed = column.get("allowed")
    if allowed and isinstance(value, str):
        allowed_lower = [a.lower() for a in allowed]
        if value.lower() not in allowed_lower:
            problems.append(q.reason(q.NOT_ALLOWED, f"{value!r} is not one of {', '.join(allowed_lower)}", name))
    if column.get("type") in schema.NUMERIC_TYPES and isinstance(value, (int, float)):
        cmin, cmax = column.get("min"), column.get("max")
        if cmin is not None and value < cmin:
            problems.append(q.reason(q.BELOW_MIN, f"{_fmt(value)} is below the minimum {_fmt(cmin)}", name))
        if cmax is not None and value > cmax:
            problems.append(q.reason(q.ABOVE_MAX, f"{_fmt(value)} is above the maximum {_fmt(cmax)}", name))
    return problems


def normalize_record(data, spec, deleted=False):
    """Return (record, problems) for one payload dict.

    ``record`` maps every declared column to its canonical value (None when
    absent or when the cast failed); ``problems`` is a list of quarantine
    reason strings, empty when the record is valid.
    """
    required = required_columns(spec, deleted)
    zone = schema.zone_of(spec)
    record = {}
    problems = []
    for column in spec["columns"]:
        name = column["name"]
        raw = trim(schema.unchoice(lookup(data, name)))
        try:
            value = schema.cast_value(raw, column["type"], zone)
        except schema.CastError as exc:
            problems.append(q.reason(q.TYPE_MISMATCH, str(exc), name))
            record[name] = None
            continue
        if column.get("allowed") and value is not None:
            value = normalize_enum(value)
        record[name] = value
        if value is None:
            if name in required:
                problems.append(q.reason(q.MISSING_REQUIRED, "required value is missing or empty", name))
            continue
        problems.extend(check_rules(column, value))
    return record, problems
