"""Unwrap the record formats found in the raw zone.

Three shapes reach the raw->processed job:

API envelope (Firehose, ``s3://<raw>/source=<dataset>/dt=.../*.gz``)::

    {"dataset": "clickstream", "received_at": 1714557600000, "data": {...}}

AWS DMS record (Firehose, same prefix)::

    {"data": {...}, "metadata": {"operation": "insert|update|delete|load",
     "record-type": "data", "table-name": "orders",
     "timestamp": "2024-05-01T10:00:00.123456Z", ...}}

Plain record (files dropped under ``s3://<raw>/landing/<dataset>/``):
the row itself, CSV or JSON lines. A landing record that has the exact
shape of an envelope is unwrapped as such.

AWS DMS S3 target row (``s3://<raw>/landing/dms/<schema>/<table>/``, CSV
with a header): the row plus ``Op`` (I, U or D) and ``_dms_timestamp``
(``YYYY-MM-DD HH:MM:SS.ffffff``, UTC); ``D`` rows are deletes.

Both DMS shapes carry ``_dms_change_seq`` in the row when the task's table
mapping adds it (constructs/replication: ``$AR_H_CHANGE_SEQ``, "a 35 digit
unique number at task level", DMS User Guide, "Using transformation rule
expressions to define column content"): the order of the changes of one
transaction, which share a commit timestamp. It becomes the envelope's
``sequence``, zero-padded to SEQUENCE_DIGITS so text order is number order.

``unwrap`` returns an ``Envelope``; anything unusable raises
``quarantine.Quarantined`` with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Optional

from . import quarantine as q
from . import schema

FIREHOSE = "firehose"
LANDING = "landing"
SOURCE_KINDS = (FIREHOSE, LANDING)

API = "api"
DMS = "dms"
PLAIN = "plain"

DMS_DATA_OPERATIONS = ("load", "insert", "update", "delete")
DMS_CSV = "dms_csv"
DMS_CSV_OPERATIONS = {"I": "insert", "U": "update", "D": "delete"}
DMS_CHANGE_SEQ_FIELD = "_dms_change_seq"
SEQUENCE_DIGITS = 40


@dataclass(frozen=True)
class Envelope:
    """The payload of one raw record and what the envelope says about it."""

    data: dict
    fmt: str  # API, DMS or PLAIN
    deleted: bool = False
    received_at: Optional[Any] = None  # aware UTC datetime or None
    # Event time to use when a DMS delete carries no event-time value: the
    # DMS commit timestamp (string as sent), so the delete sorts after the
    # versions it removes.
    fallback_event_time: Optional[str] = None
    # The source's change sequence (DMS), zero-padded digits, or None.
    sequence: Optional[str] = None


def change_sequence(value):
    """The zero-padded text of a DMS change sequence (None when absent or empty).

    Anything but up to SEQUENCE_DIGITS digits quarantines the record: a
    sequence that does not sort would decide ties wrongly.
    """
    value = schema.unchoice(value)
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else None
    if text is None or not text.isdigit() or len(text) > SEQUENCE_DIGITS:
        raise q.Quarantined(q.reason(q.INVALID_ENVELOPE,
                                     f"{DMS_CHANGE_SEQ_FIELD}: {value!r} is not a DMS change sequence (up to {SEQUENCE_DIGITS} digits)"))
    return text.zfill(SEQUENCE_DIGITS)


def _without_sequence(data):
    """(row without the change-sequence field, its sequence)."""
    if not isinstance(data, dict) or DMS_CHANGE_SEQ_FIELD not in data:
        return data, None
    seq = change_sequence(data[DMS_CHANGE_SEQ_FIELD])
    return {k: v for k, v in data.items() if k != DMS_CHANGE_SEQ_FIELD}, seq


def detect_format(raw):
    """API, DMS or PLAIN for a raw record dict (by shape only)."""
    data = schema.unchoice(raw.get("data"))
    if isinstance(data, dict):
        if isinstance(raw.get("metadata"), dict):
            return DMS
        if "dataset" in raw or "received_at" in raw:
            return API
    return PLAIN


def _unwrap_api(raw, spec):
    dataset = schema.unchoice(raw.get("dataset"))
    if dataset is not None and dataset != spec["name"]:
        raise q.Quarantined(q.reason(q.DATASET_MISMATCH,
                                     f"envelope is for dataset {dataset!r}, this job loads {spec['name']!r}"))
    received_at = raw.get("received_at")
    if schema.unchoice(received_at) is not None:
        try:
            received_at = schema.epoch_millis_to_timestamp(received_at)
        except schema.CastError as exc:
            raise q.Quarantined(q.reason(q.INVALID_ENVELOPE, f"received_at: {exc}")) from None
    else:
        received_at = None
    return Envelope(data=schema.unchoice(raw["data"]), fmt=API, received_at=received_at)


def _unwrap_dms(raw):
    metadata = raw["metadata"]
    record_type = schema.unchoice(metadata.get("record-type"))
    if isinstance(record_type, str) and record_type.strip().lower() == "control":
        operation = schema.unchoice(metadata.get("operation"))
        raise q.Quarantined(q.reason(q.DMS_CONTROL_RECORD,
                                     f"DMS control record (operation {operation!r}) is not a row"))
    operation = schema.unchoice(metadata.get("operation"))
    op = operation.strip().lower() if isinstance(operation, str) else None
    if op not in DMS_DATA_OPERATIONS:
        raise q.Quarantined(q.reason(q.UNKNOWN_OPERATION,
                                     f"DMS operation {operation!r} is not one of {', '.join(DMS_DATA_OPERATIONS)}"))
    stamp = schema.unchoice(metadata.get("timestamp"))
    received_at = _commit_time(stamp, "metadata.timestamp")
    data, seq = _without_sequence(schema.unchoice(raw["data"]))
    return Envelope(
        data=data,
        fmt=DMS,
        deleted=(op == "delete"),
        received_at=received_at,
        fallback_event_time=stamp if isinstance(stamp, str) else None,
        sequence=seq,
    )


def unwrap(kind, raw, spec):
    """Return the Envelope of one raw record read from ``kind`` (FIREHOSE or LANDING).

    Raises quarantine.Quarantined when the record cannot be unwrapped.
    """
    if kind not in SOURCE_KINDS:
        raise ValueError(f"unknown source kind {kind!r}: use one of {', '.join(SOURCE_KINDS)}")
    if not isinstance(raw, dict):
        raise q.Quarantined(q.reason(q.MALFORMED_RECORD, f"record is a {type(raw).__name__}, not a JSON object"))
    fmt = detect_format(raw)
    if fmt == DMS:
        return _unwrap_dms(raw)
    if fmt == API:
        return _unwrap_api(raw, spec)
    if kind == FIREHOSE:
        if isinstance(schema.unchoice(raw.get("data")), dict):
            # An API envelope without dataset/received_at: still an envelope.
            return _unwrap_api(raw, spec)
        keys = ", ".join(sorted(str(k) for k in raw)) or "none"
        raise q.Quarantined(q.reason(
            q.INVALID_ENVELOPE,
            f"not an API envelope (dataset, received_at, data) or a DMS record (data, metadata); record keys: {keys}"))
    if "Op" in raw:
        return _unwrap_dms_csv(raw)
    return Envelope(data=raw, fmt=PLAIN)


def _unwrap_dms_csv(raw):
    op = schema.unchoice(raw.get("Op"))
    op = op.strip().upper() if isinstance(op, str) else op
    if op not in DMS_CSV_OPERATIONS:
        raise q.Quarantined(q.reason(q.UNKNOWN_OPERATION,
                                     f"DMS Op {op!r} is not one of {', '.join(DMS_CSV_OPERATIONS)}"))
    stamp = schema.unchoice(raw.get("_dms_timestamp"))
    received_at = None
    if isinstance(stamp, str) and stamp.strip():
        # DMS writes "YYYY-MM-DD HH:MM:SS.ffffff" in UTC without a zone.
        stamp = stamp.strip().replace(" ", "T", 1) + "Z"
        received_at = _commit_time(stamp, "_dms_timestamp")
    data, seq = _without_sequence({k: v for k, v in raw.items() if k not in ("Op", "_dms_timestamp")})
    return Envelope(data=data, fmt=DMS_CSV, deleted=(op == "D"), received_at=received_at,
                    fallback_event_time=stamp if isinstance(stamp, str) else None, sequence=seq)


def _commit_time(stamp, field):
    """The DMS commit timestamp as an aware UTC datetime (None when absent).

    A value that is not a timestamp quarantines the record, naming ``field``.
    """
    if stamp is None:
        return None
    try:
        return schema.cast_value(stamp, schema.TIMESTAMP)
    except schema.CastError as exc:
        raise q.Quarantined(q.reason(q.INVALID_ENVELOPE, f"{field}: {exc}")) from None
