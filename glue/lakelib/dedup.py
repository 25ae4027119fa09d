"""De-duplication on the declared key, latest record wins.

The processed table holds one row per key. Among the versions of a key the
winner is the one with the greatest

1. event time (the ``event_time_field`` value; null sorts first),
2. then ``_change_seq``, the source's change sequence (DMS; null sorts
   first): the changes of one transaction share event and commit times,
3. then ``_received_at`` (null sorts first),
4. then ``_is_deleted`` (a delete wins over a row with the same times),
5. then the canonical JSON of the whole record (an arbitrary but
   deterministic last resort, so the choice never depends on input order).

Because this is a total order, ``pick_latest`` is associative and
commutative: the job uses it directly as the ``reduceByKey`` function.
"""

from __future__ import annotations

import datetime as _dt
import functools
import json

from . import schema


def dedup_key_columns(spec):
    """The declared key columns, in declared order."""
    return list(spec["key"])


def dedup_key(record, spec_or_key):
    """The key tuple of a canonical record (spec dict or list of key columns)."""
    columns = spec_or_key["key"] if isinstance(spec_or_key, dict) else spec_or_key
    return tuple(record.get(c) for c in columns)


def _sortable(value):
    """(is_present, comparable) so None sorts before any value."""
    if value is None:
        return (0, 0)
    if isinstance(value, _dt.datetime):
        value = schema.to_utc(value)
        delta = value - schema.EPOCH
        return (1, (delta.days * 86400 + delta.seconds) * 1_000_000 + delta.microseconds)
    if isinstance(value, _dt.date):
        # Dates sort with timestamps at midnight UTC (same unit as above).
        return (1, (value - schema.EPOCH.date()).days * 86_400_000_000)
    return (1, value)


def _json_default(value):
    if isinstance(value, _dt.datetime):
        return schema.format_timestamp(schema.to_utc(value))
    if isinstance(value, _dt.date):
        return value.isoformat()
    return str(value)


def canonical_json(record):
    """Deterministic JSON text of a record (sorted keys, UTC timestamps)."""
    return json.dumps(record, sort_keys=True, default=_json_default, ensure_ascii=False)


def order_key(record, event_time_field):
    """The sort key deciding which version of a key is the latest."""
    return (
        _sortable(record.get(event_time_field)),
        _sortable(record.get(schema.CHANGE_SEQ_COLUMN)),
        _sortable(record.get(schema.RECEIVED_AT_COLUMN)),
        bool(record.get(schema.DELETED_COLUMN)),
        canonical_json(record),
    )


def pick_latest(a, b, event_time_field):
    """The later of two versions of the same key (see module doc)."""
    return a if order_key(a, event_time_field) >= order_key(b, event_time_field) else b


def latest_picker(spec):
    """A two-argument pick_latest bound to the dataset's event-time field (picklable)."""
    return functools.partial(pick_latest, event_time_field=spec["event_time_field"])


def dedup_records(records, spec):
    """Keep the latest record per key; result ordered by first appearance of each key."""
    pick = latest_picker(spec)
    latest = {}
    for record in records:
        key = dedup_key(record, spec)
        latest[key] = pick(latest[key], record) if key in latest else record
    return list(latest.values())
