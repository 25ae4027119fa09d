"""Quarantine reason codes and quarantine records.

A record that cannot be loaded into the processed table is never dropped:
it is written to ``s3://<processed>/_quarantine/<dataset>/dt=<run date>/``
as one JSON line holding the original record (as read, envelope included)
plus ``_quarantine_reason`` and ``_quarantined_at``.

``_quarantine_reason`` lists every problem found, separated by ``"; "``.
Each problem starts with one of the codes below, followed by the column in
parentheses when the problem concerns a column, a colon and a detail, e.g.
``type_mismatch(duration_ms): 'abc' is not a bigint``.
"""

from __future__ import annotations

import json
import re

# The raw line is not a JSON object (or Spark flagged it as corrupt).
MALFORMED_RECORD = "malformed_record"
# A Firehose record that is not an API or DMS envelope, or whose envelope
# fields (data, received_at, metadata.timestamp) are unusable.
INVALID_ENVELOPE = "invalid_envelope"
# An API envelope whose "dataset" names another dataset.
DATASET_MISMATCH = "dataset_mismatch"
# A DMS control record (DDL, table events): not a row of the dataset.
DMS_CONTROL_RECORD = "dms_control_record"
# A DMS record with an operation other than load/insert/update/delete.
UNKNOWN_OPERATION = "unknown_operation"
# A value that cannot be cast to the declared column type.
TYPE_MISMATCH = "type_mismatch"
# A required column is absent, null or empty.
MISSING_REQUIRED = "missing_required"
# A string column value outside the declared allowed values.
NOT_ALLOWED = "not_allowed"
# A numeric column value below the declared min / above the declared max.
BELOW_MIN = "below_min"
ABOVE_MAX = "above_max"
# An event time later than the record's arrival (or the run) plus the
# allowed clock skew: it would win de-duplication until its date.
FUTURE_EVENT_TIME = "future_event_time"

REASON_CODES = (
    MALFORMED_RECORD,
    INVALID_ENVELOPE,
    DATASET_MISMATCH,
    DMS_CONTROL_RECORD,
    UNKNOWN_OPERATION,
    TYPE_MISMATCH,
    MISSING_REQUIRED,
    NOT_ALLOWED,
    BELOW_MIN,
    ABOVE_MAX,
    FUTURE_EVENT_TIME,
)

# A code at the start of the text or right after a separator (details may
# themselves contain "; ", e.g. inside a quoted value, but never "; code(").
_CODE_AT_START = re.compile(r"(?:^|; )(" + "|".join(REASON_CODES) + r")(?=[(:])")

REASON_FIELD = "_quarantine_reason"
QUARANTINED_AT_FIELD = "_quarantined_at"
REASON_SEPARATOR = "; "


def reason(code, detail, column=None):
    """Format one problem: ``code(column): detail`` or ``code: detail``."""
    if code not in REASON_CODES:
        raise ValueError(f"unknown quarantine reason code {code!r}")
    prefix = f"{code}({column})" if column else code
    return f"{prefix}: {detail}"


def reason_codes(reason_text):
    """The codes of a ``_quarantine_reason`` value, in order (for tests/metrics)."""
    return _CODE_AT_START.findall(reason_text)


class Quarantined(Exception):
    """Raised by the record pipeline when a record must be quarantined."""

    def __init__(self, reasons):
        if isinstance(reasons, str):
            reasons = [reasons]
        self.reasons = list(reasons)
        super().__init__(REASON_SEPARATOR.join(self.reasons))


def quarantine_record(original, reasons, quarantined_at):
    """The quarantine JSON object: the original record plus the two fields.

    ``original`` is the record as read; a value that is not a JSON object
    (e.g. an unparsable line) is kept under ``_raw``.
    """
    if isinstance(reasons, str):
        reasons = [reasons]
    record = dict(original) if isinstance(original, dict) else {"_raw": original}
    record[REASON_FIELD] = REASON_SEPARATOR.join(reasons)
    record[QUARANTINED_AT_FIELD] = quarantined_at
    return record


def to_json_line(record):
    """Serialize a quarantine record as one JSON line (no newline)."""
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)
