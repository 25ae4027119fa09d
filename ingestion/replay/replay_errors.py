#!/usr/bin/env python3
"""Replay records Firehose could not deliver back into the lake.

Firehose writes every record it could not deliver under the raw bucket's
error prefix, ``errors/<error-output-type>/dt=<day>/...``, as JSON lines in
its documented error-record format (Firehose Developer Guide,
dynamic-partitioning-error-handling.html and
data-transformation-failure-handling.html)::

    {"attemptsMade": 4, "arrivalTimestamp": 1714557600000,
     "errorCode": "...", "errorMessage": "...",
     "attemptEndingTimestamp": 1714557660000,
     "rawData": "<base64 of the record>", "lambdaArn": "..."}

Valid records end up there when Firehose's limits, not the records, are the
problem: more than 500 active partitions in one buffer (a backfill, a DMS
full load of old rows: error type ``activePartitionExceeded``), or S3
delivery failing past the retry window. No job reads ``errors/``, so this
command puts them back: each record is decoded and written, as JSON lines,
to ``landing/<dataset>/replay/<error object>.json``, which the dataset's
raw->processed job reads like any landing file (envelopes are unwrapped
there; it validates every row again and quarantines what fails). Going
through ``landing/`` rather than the stream avoids the partition limit that
sent them to ``errors/`` in the first place; bulk history should take that
route from the start.

``processing-failed`` holds the validator's rejections (invalid records,
which replaying cannot fix) and also batches whose Lambda invocation failed
(valid records): it is left out unless ``--include-processing-failed`` is
given, after the cause of an invocation failure (FirehoseProcessingFailed
alarm) is fixed. The raw->processed job re-validates, so a rejected record
replayed by mistake is quarantined with its reason, never loaded.

Every record is accounted for: replayed (per dataset), or left where it is
as unroutable (not JSON, or naming no dataset) and listed. An error object
is deleted after its records are written, unless ``--keep``; the raw bucket
is versioned, so the deleted object stays recoverable as a noncurrent
version. Rerunning is safe: the landing key is derived from the error
object's key, so a replayed object is overwritten, not duplicated, and the
job's de-duplication keeps one row per key.

Usage (credentials of a role that may read errors/ and write landing/)::

    python3 ingestion/replay/replay_errors.py --bucket <raw bucket> [--dry-run] [--keep]
        [--types activePartitionExceeded,...] [--include-processing-failed] [--local DIR]

``--local DIR`` works on a folder laid out like the bucket (the local lake
and the tests); otherwise boto3 is used.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import gzip
import json
import os
import sys
from dataclasses import dataclass, field

ERRORS_PREFIX = "errors/"
LANDING_PREFIX = "landing/"
# Not "_replay": Spark and Glue skip files and folders whose name starts
# with "_" or "." when they list an input path.
REPLAY_FOLDER = "replay"
PROCESSING_FAILED = "processing-failed"


class LocalStore:
    """A folder laid out like the bucket (keys are relative paths)."""

    def __init__(self, root):
        self.root = root

    def list(self, prefix):
        base = os.path.join(self.root, prefix)
        out = []
        for folder, _, files in os.walk(base):
            for f in files:
                out.append(os.path.relpath(os.path.join(folder, f), self.root).replace(os.sep, "/"))
        return sorted(out)

    def get(self, key):
        with open(os.path.join(self.root, key), "rb") as f:
            return f.read()

    def put(self, key, body):
        path = os.path.join(self.root, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(body)

    def delete(self, key):
        os.remove(os.path.join(self.root, key))


class S3Store:
    """The raw bucket through boto3 (imported only when used)."""

    def __init__(self, bucket):
        import boto3  # noqa: PLC0415 - only the S3 mode needs it

        self.bucket, self.s3 = bucket, boto3.client("s3")

    def list(self, prefix):
        out = []
        for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
            out += [o["Key"] for o in page.get("Contents", [])]
        return sorted(out)

    def get(self, key):
        return self.s3.get_object(Bucket=self.bucket, Key=key)["Body"].read()

    def put(self, key, body):
        # No encryption header: the bucket's default encryption (the lake
        # key) applies, which its policy allows.
        self.s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType="application/x-ndjson")

    def delete(self, key):
        self.s3.delete_object(Bucket=self.bucket, Key=key)


def error_type(key):
    """The error-output-type folder of an error object key (errors/<type>/...)."""
    rest = key[len(ERRORS_PREFIX):] if key.startswith(ERRORS_PREFIX) else ""
    return rest.split("/", 1)[0] if "/" in rest else ""


def decode_object(body):
    """The error records of one error object (gzip or plain JSON lines).

    Returns (records, problems): each record is the decoded rawData bytes;
    a line that is not an error record is a problem, never dropped silently.
    """
    if body[:2] == b"\x1f\x8b":
        body = gzip.decompress(body)
    records, problems = [], []
    for n, line in enumerate(body.decode("utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            raw = entry.get("rawData") if isinstance(entry, dict) else None
            if not isinstance(raw, str):
                raise ValueError("no rawData field")
            records.append(base64.b64decode(raw, validate=True))
        except (ValueError, binascii.Error) as exc:
            problems.append(f"line {n}: not a Firehose error record ({exc})")
    return records, problems


def dataset_of(record):
    """The dataset a record belongs to (API envelope, or DMS metadata), or None."""
    try:
        obj = json.loads(record.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    if not isinstance(obj, dict):
        return None
    name = obj.get("dataset")
    if not isinstance(name, str) or not name:
        meta = obj.get("metadata")
        name = meta.get("table-name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) and name else None


def landing_key(dataset, error_key):
    """Where the records of one error object are replayed (stable per object)."""
    stem = error_key[len(ERRORS_PREFIX):].replace("/", "_")
    if stem.endswith(".gz"):
        stem = stem[:-3]
    return f"{LANDING_PREFIX}{dataset}/{REPLAY_FOLDER}/{stem}.json"


@dataclass
class Report:
    objects: int = 0
    replayed: dict = field(default_factory=dict)  # dataset -> records
    unroutable: list = field(default_factory=list)  # (key, reason)
    skipped_types: dict = field(default_factory=dict)  # type -> objects

    def lines(self):
        out = [f"error objects read: {self.objects}"]
        for d in sorted(self.replayed):
            out.append(f"replayed into landing/{d}/{REPLAY_FOLDER}/: {self.replayed[d]} records")
        for t in sorted(self.skipped_types):
            out.append(f"left under errors/{t}/: {self.skipped_types[t]} objects (type not replayed)")
        for key, why in self.unroutable:
            out.append(f"left in {key}: {why}")
        return out


def replay(store, types=None, include_processing_failed=False, dry_run=False, keep=False):
    """Replay every error object of the replayed types; returns the Report."""
    report = Report()
    for key in store.list(ERRORS_PREFIX):
        kind = error_type(key)
        wanted = (kind in types) if types else (kind != PROCESSING_FAILED or include_processing_failed)
        if not wanted:
            report.skipped_types[kind] = report.skipped_types.get(kind, 0) + 1
            continue
        report.objects += 1
        records, problems = decode_object(store.get(key))
        by_dataset, unroutable = {}, 0
        for r in records:
            d = dataset_of(r)
            if d is None:
                unroutable += 1
            else:
                by_dataset.setdefault(d, []).append(r)
        if problems or unroutable:
            # Keep the object: it holds something that cannot be replayed.
            why = problems + ([f"{unroutable} records name no dataset"] if unroutable else [])
            report.unroutable.append((key, "; ".join(why)))
        for d, rs in sorted(by_dataset.items()):
            report.replayed[d] = report.replayed.get(d, 0) + len(rs)
            if not dry_run:
                store.put(landing_key(d, key), b"\n".join(rs) + b"\n")
        if not dry_run and not keep and not problems and not unroutable:
            store.delete(key)
    return report


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--bucket", help="the raw bucket (S3 mode)")
    p.add_argument("--local", help="a folder laid out like the raw bucket (instead of --bucket)")
    p.add_argument("--types", help="comma-separated error types to replay (default: all but processing-failed)")
    p.add_argument("--include-processing-failed", action="store_true")
    p.add_argument("--dry-run", action="store_true", help="count only, write and delete nothing")
    p.add_argument("--keep", action="store_true", help="do not delete replayed error objects")
    a = p.parse_args(argv)
    if bool(a.bucket) == bool(a.local):
        p.error("give exactly one of --bucket BUCKET or --local DIR")
    store = LocalStore(a.local) if a.local else S3Store(a.bucket)
    types = {t.strip() for t in a.types.split(",") if t.strip()} if a.types else None
    report = replay(store, types, a.include_processing_failed, a.dry_run, a.keep)
    print("\n".join(report.lines()))
    return 1 if report.unroutable else 0


if __name__ == "__main__":
    sys.exit(main())
