"""Which landing CSV files a raw->processed run reads, and what it remembers.

Glue's bookmarks follow only DynamicFrame reads, and Glue's CSV reader
infers a type per value: ``00123`` becomes the integer 123 before the job
sees it (leading zeros lost, keys may collide). So the job reads landing CSV
files with Spark's own CSV reader, every value a string that the
declaration then casts, and keeps its own record of the files it read: a
JSON manifest ``{"files": {"<s3 path>": "<size>:<modified ms>"}}`` under
``--landing_files_path``, rewritten after each run's MERGE committed.

A file is new when its path is not in the manifest or its size or
modification time changed (re-uploaded under the same name), like Glue's
own S3 bookmarks. A file no longer listed (the raw bucket's lifecycle
expired it, or it was deleted) leaves the manifest, so the manifest each
run reads and rewrites holds at most the files the raw retention keeps
(``lifecycle.raw_expiration_days``), not every file ever uploaded. A run that fails after its commit and before the manifest
reads the files again next time; the MERGE keeps the stored rows on a full
tie, so nothing is counted twice.

Pure functions; the job does the listing and the I/O (lakelib.hadoopfs).
"""

from __future__ import annotations

import json

from . import pipeline

MANIFEST_NAME = "files.json"


def signature(size, modified_ms):
    """The manifest value of one file."""
    return f"{int(size)}:{int(modified_ms)}"


def is_data_file(path):
    """Whether a listed object is a landing CSV data file (not hidden, not a folder marker)."""
    name = path.rstrip("/").rsplit("/", 1)[-1]
    if not name or name.startswith(("_", ".")) or path.endswith("/"):
        return False
    return pipeline.landing_format(name) == "csv"


def parse_manifest(text):
    """{path: signature} of a manifest's text (None or empty: no files yet).

    A manifest that is not the expected JSON stops the job with the path to
    fix: reading every file again would repeat their rows' quarantine.
    """
    if text is None or not text.strip():
        return {}
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise ValueError(f"landing manifest is not JSON ({exc}); fix or delete it to read every landing CSV file again") from None
    files = doc.get("files") if isinstance(doc, dict) else None
    if not isinstance(files, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in files.items()):
        raise ValueError('landing manifest has no {"files": {path: "size:modified"}} object; '
                         "fix or delete it to read every landing CSV file again")
    return dict(files)


def new_files(listed, manifest):
    """The listed (path, size, modified_ms) CSV data files not yet read, sorted by path."""
    out = []
    for path, size, modified in listed:
        if is_data_file(path) and manifest.get(path) != signature(size, modified):
            out.append((path, size, modified))
    return sorted(out)


def seed(listed, before_ms):
    """A first manifest: the listed CSV data files last modified before ``before_ms``.

    For the first run of this job version on a lake whose previous version
    read landing CSV through Glue's bookmarks: the files its last
    successful run saw (modified before that run started) are not read
    again, so their rows are not quarantined a second time.
    """
    return {path: signature(size, modified) for path, size, modified in listed
            if is_data_file(path) and int(modified) < int(before_ms)}


def still_listed(manifest, listed):
    """The manifest without the files that are gone from the listing."""
    present = {path for path, _, _ in listed}
    return {path: sig for path, sig in manifest.items() if path in present}


def render_manifest(manifest, read):
    """The manifest text after a run that read ``read`` [(path, size, modified_ms)]."""
    files = dict(manifest)
    for path, size, modified in read:
        files[path] = signature(size, modified)
    return json.dumps({"files": dict(sorted(files.items()))}, indent=0, sort_keys=True) + "\n"
