"""Change records: the event days a raw->processed run changed.

A MERGE into a processed table changes the days of its batch, and for a
key_bucket table also the days its updated rows *left* (an order whose
``updated_at`` moves from Monday to Tuesday changes both days). The run
writes one record ``<changes_path><run id>.json`` before it commits; the
curated job recomputes those days (besides its lookback window), then
deletes the records it consumed. A record of a run that failed after
writing it only makes curated recompute a day that did not change, which is
harmless: recomputing is exact and idempotent. So no day that changed is
ever missed and no row counts on two days.

Why records and not the Iceberg snapshots since the last curated commit:
on Iceberg 1.7.1 (Glue 5.0), ``create_changelog_view`` refuses a table with
merge-on-read delete files ("Delete files are currently not supported in
changelog scans"), an incremental read (``start-snapshot-id``) returns the
appended files only and silently skips the MERGE's ``overwrite`` snapshots,
and a key_bucket table's partitions are buckets, not the days rows left.

Pure functions; the jobs do the S3 reads and writes (lakelib.hadoopfs).
"""

from __future__ import annotations

import json

from . import partitions

RECORD_SUFFIX = ".json"


def record_name(run_id):
    """File name of a run's change record."""
    if not run_id or "/" in run_id:
        raise ValueError(f"run id {run_id!r} cannot name a change record")
    return run_id + RECORD_SUFFIX


def change_record(dataset, days, written_at):
    """JSON text of a change record (days sorted, validated)."""
    days = sorted({partitions.parse_dt(d).isoformat() for d in days})
    return json.dumps({"dataset": dataset, "days": days, "written_at": written_at}, sort_keys=True)


def parse_change_record(text, dataset):
    """The days of a change record; ValueError naming the dataset if it is not one."""
    try:
        record = json.loads(text)
        days = record["days"]
        if record.get("dataset") != dataset or not isinstance(days, list):
            raise ValueError("not this dataset's record")
        return [partitions.parse_dt(d).isoformat() for d in days]
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"change record of {dataset} is not valid ({exc}): {str(text)[:120]!r}") from None
