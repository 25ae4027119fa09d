"""Job arguments: the contract with the CDK stack, parsed and validated.

The jobs read their arguments with ``awsglue.utils.getResolvedOptions``
inside ``main()``; that returns a dict of strings keyed by name without the
leading ``--``. The ``parse_*_args`` functions below turn that dict into a
validated config and raise ``ArgumentError`` naming the offending argument.

getResolvedOptions fails on a listed option that is absent, so optional
arguments are only listed when present on the command line
(``resolvable_names``); their defaults are applied here.
"""

from __future__ import annotations

import datetime as _dt
import json
import re
from dataclasses import dataclass

from . import curated, partitions, schema

# ---- the contract (names without the leading "--") -----------------------

# landing_files_path: where the job records the landing CSV files it read (lakelib.landing).
RAW_TO_PROCESSED_REQUIRED = (
    "JOB_NAME", "dataset_spec", "raw_path", "landing_path", "landing_files_path", "processed_path", "quarantine_path",
    "database", "table",
)
# changes_path: where the run records the days it changed (lakelib.changes); empty: no record.
# max_future_skew_minutes: an event time later than arrival (or the run)
# plus this is quarantined as future_event_time (the validator's default).
# landing_read_before: an instant (a timestamp with an offset); on the first
# run of this job version (no landing manifest yet) the landing CSV files
# last modified before it count as read: the previous version's bookmarks
# read them (README, "Migration"). Ignored once the manifest exists.
RAW_TO_PROCESSED_OPTIONAL = {"target_file_mb": str(partitions.DEFAULT_TARGET_FILE_MB), "changes_path": "",
                             "max_future_skew_minutes": "15", "landing_read_before": ""}

QUALITY_CHECK_REQUIRED = ("JOB_NAME", "database", "table", "ruleset", "dataset_name", "lookback_days")
# verdict_path: where the job writes its verdict (the curated job reads it);
# metrics_namespace/environment: the QualityFailed metric the alarm watches.
QUALITY_CHECK_OPTIONAL = {"verdict_path": "", "metrics_namespace": "DataLake/Quality", "environment": ""}

PROCESSED_TO_CURATED_REQUIRED = ("JOB_NAME", "datasets", "joins", "processed_root", "curated_root", "database")
# quality_root: s3://<processed>/_quality/; a dataset whose verdict there
# failed is skipped (its quality gate gates only that dataset). Empty: no gate.
# changes_root: s3://<processed>/_changes/; the days recorded there are
# recomputed besides the lookback window. Empty: the window only.
# recompute_from: a day (YYYY-MM-DD); this run recomputes every day from it
# on, besides the window: a one-off rebuild (README, "Migration"; after a
# declaration adds a numeric column, to fill its aggregates for old days).
PROCESSED_TO_CURATED_OPTIONAL = {"lookback_days": "3", "quality_root": "", "changes_root": "", "recompute_from": ""}

MAX_LOOKBACK_DAYS = 366


class ArgumentError(ValueError):
    """A job argument is missing or invalid; the message names it."""


# ---- generic helpers ------------------------------------------------------


def present_arg_names(argv):
    """Names (without ``--``) of the ``--name value`` / ``--name=value`` options in argv."""
    names = set()
    for item in argv[1:] if argv else []:
        if isinstance(item, str) and item.startswith("--") and len(item) > 2:
            names.add(item[2:].split("=", 1)[0])
    return names


def resolvable_names(argv, required, optional):
    """The names to pass to getResolvedOptions: all required + the optional ones present."""
    present = present_arg_names(argv)
    return list(required) + [name for name in optional if name in present]


def _arg(args, name):
    if name not in args or args[name] is None:
        raise ArgumentError(f"--{name} is required but was not passed")
    return args[name]


def parse_json_arg(name, raw, expected):
    """Parse a JSON argument; ``expected`` is dict or list."""
    if not isinstance(raw, str) or not raw.strip():
        raise ArgumentError(f"--{name} is empty: expected a JSON {'object' if expected is dict else 'array'}")
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise ArgumentError(f"--{name} is not valid JSON: {exc} (value starts with {raw[:60]!r})") from None
    if not isinstance(value, expected):
        want = "object" if expected is dict else "array"
        raise ArgumentError(f"--{name} must be a JSON {want}, got {type(value).__name__}")
    return value


def parse_int_arg(name, raw, default=None, minimum=None, maximum=None):
    """Parse an integer argument with optional default and inclusive bounds."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if default is None:
            raise ArgumentError(f"--{name} is required: expected an integer")
        raw = default
    try:
        value = int(str(raw).strip())
    except ValueError:
        raise ArgumentError(f"--{name} must be an integer, got {raw!r}") from None
    if minimum is not None and value < minimum:
        raise ArgumentError(f"--{name} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ArgumentError(f"--{name} must be <= {maximum}, got {value}")
    return value


def parse_s3_prefix(name, raw):
    """An ``s3://bucket/prefix/`` argument, normalized to one trailing slash."""
    if not isinstance(raw, str) or not raw.strip():
        raise ArgumentError(f"--{name} is empty: expected an s3://bucket/prefix/ path")
    return partitions.ensure_prefix(_s3_url(name, raw, "s3://bucket/prefix/"))


def _s3_url(name, raw, shape):
    """``raw`` stripped, if it is an s3:// URL with a bucket; ``shape`` names what is expected."""
    value = str(raw).strip()
    if not value.startswith("s3://") or len(value) <= len("s3://") or value[5] == "/":
        raise ArgumentError(f"--{name} must be an {shape} path, got {raw!r}")
    return value


def parse_identifier(name, raw):
    """A non-empty name argument (database, table, dataset) without whitespace."""
    if not isinstance(raw, str) or not raw.strip() or any(ch.isspace() for ch in raw.strip()):
        raise ArgumentError(f"--{name} must be a non-empty name without spaces, got {raw!r}")
    return raw.strip()


def parse_instant_ms(name, raw):
    """An optional instant (a timestamp with an explicit offset) as epoch ms; None when absent."""
    if raw is None or not str(raw).strip():
        return None
    example = "a timestamp with an offset (e.g. 2026-12-01T10:00:00Z)"
    try:
        value = schema.parse_timestamp(str(raw))
        # Read in two zones: equal only when the text names its offset.
        other = schema.parse_timestamp(str(raw), _dt.timezone(_dt.timedelta(hours=1)))
    except schema.CastError as exc:
        raise ArgumentError(f"--{name} must be {example}, got {raw!r}: {exc}") from None
    if value != other:
        raise ArgumentError(f"--{name} must be {example}, got {raw!r}: without an offset the instant "
                            "would depend on a timezone")
    return int((value - schema.EPOCH).total_seconds() * 1000)


def parse_nonempty(name, raw):
    """A non-empty string argument (e.g. JOB_NAME, which may contain spaces)."""
    if not isinstance(raw, str) or not raw.strip():
        raise ArgumentError(f"--{name} must be a non-empty string")
    return raw.strip()


_EVALUATION_CONTEXT = re.compile(r"^[A-Za-z0-9_-]{1,255}$")


def parse_evaluation_context(name, raw):
    """A name usable as Glue Data Quality evaluation context ([A-Za-z0-9_-]+)."""
    if not isinstance(raw, str) or not _EVALUATION_CONTEXT.match(raw.strip()):
        raise ArgumentError(f"--{name} must match [A-Za-z0-9_-]+ (it is the data quality evaluation "
                            f"context), got {raw!r}")
    return raw.strip()


def parse_dataset_spec(name, raw):
    """A dataset declaration (JSON object) argument, validated like the Go side."""
    spec = parse_json_arg(name, raw, dict)
    problems = schema.spec_problems(spec, path=f"--{name}")
    if problems:
        raise ArgumentError(f"--{name} is not a valid dataset declaration: " + "; ".join(problems))
    return spec


def parse_datasets(name, raw):
    """A JSON array of dataset declarations, each validated, names unique."""
    specs = parse_json_arg(name, raw, list)
    problems = []
    seen = set()
    for i, spec in enumerate(specs):
        problems += schema.spec_problems(spec, path=f"--{name}[{i}]")
        if isinstance(spec, dict):
            if spec.get("name") in seen:
                problems.append(f"--{name}[{i}].name: {spec.get('name')!r} is declared twice")
            seen.add(spec.get("name"))
    if problems:
        raise ArgumentError(f"--{name} has invalid dataset declarations: " + "; ".join(problems))
    return specs


def parse_joins(name, raw, datasets):
    """A JSON array of join declarations, validated against the datasets."""
    joins = parse_json_arg(name, raw, list)
    problems = []
    seen = set()
    for i, join in enumerate(joins):
        problems += curated.join_problems(join, datasets, path=f"--{name}[{i}]")
        if isinstance(join, dict):
            if join.get("name") in seen:
                problems.append(f"--{name}[{i}].name: {join.get('name')!r} is declared twice")
            seen.add(join.get("name"))
    if problems:
        raise ArgumentError(f"--{name} has invalid join declarations: " + "; ".join(problems))
    return joins


def parse_ruleset(name, raw):
    """A DQDL ruleset string: must contain a ``Rules = [...]`` block."""
    if not isinstance(raw, str) or not raw.strip():
        raise ArgumentError(f"--{name} is empty: expected a DQDL ruleset like 'Rules = [ RowCount > 0 ]'")
    text = raw.strip()
    head = text.split("[", 1)[0].replace(" ", "").replace("\n", "").replace("\t", "")
    if "Rules=" not in head or "]" not in text:
        raise ArgumentError(f"--{name} is not a DQDL ruleset (expected 'Rules = [ ... ]'), got {text[:60]!r}")
    return text


# ---- per-job configs ------------------------------------------------------


@dataclass(frozen=True)
class RawToProcessedConfig:
    job_name: str
    spec: dict
    raw_path: str
    landing_path: str
    processed_path: str
    quarantine_path: str
    target_file_mb: int
    # Where the landing CSV files read so far are recorded (lakelib.landing).
    landing_files_path: str = ""
    # The processed Iceberg table in the Glue Data Catalog.
    database: str = ""
    table: str = ""
    changes_path: str = ""
    max_future_skew_minutes: int = 15
    # Epoch ms of --landing_read_before, or None (lakelib.landing.seed).
    landing_read_before_ms: int | None = None


@dataclass(frozen=True)
class QualityCheckConfig:
    job_name: str
    database: str
    table: str
    ruleset: str
    dataset_name: str
    lookback_days: int
    verdict_path: str = QUALITY_CHECK_OPTIONAL["verdict_path"]
    metrics_namespace: str = QUALITY_CHECK_OPTIONAL["metrics_namespace"]
    environment: str = QUALITY_CHECK_OPTIONAL["environment"]


@dataclass(frozen=True)
class ProcessedToCuratedConfig:
    job_name: str
    datasets: list
    joins: list
    processed_root: str
    curated_root: str
    lookback_days: int
    quality_root: str = ""
    # The Glue database of the processed Iceberg tables (named like the datasets).
    database: str = ""
    changes_root: str = ""
    recompute_from: str = ""


def parse_raw_to_processed_args(args):
    return RawToProcessedConfig(
        job_name=parse_nonempty("JOB_NAME", _arg(args, "JOB_NAME")),
        spec=parse_dataset_spec("dataset_spec", _arg(args, "dataset_spec")),
        raw_path=parse_s3_prefix("raw_path", _arg(args, "raw_path")),
        landing_path=parse_s3_prefix("landing_path", _arg(args, "landing_path")),
        landing_files_path=parse_s3_prefix("landing_files_path", _arg(args, "landing_files_path")),
        processed_path=parse_s3_prefix("processed_path", _arg(args, "processed_path")),
        quarantine_path=parse_s3_prefix("quarantine_path", _arg(args, "quarantine_path")),
        target_file_mb=parse_int_arg(
            "target_file_mb", args.get("target_file_mb"), default=RAW_TO_PROCESSED_OPTIONAL["target_file_mb"],
            minimum=partitions.MIN_TARGET_FILE_MB, maximum=partitions.MAX_TARGET_FILE_MB),
        database=parse_identifier("database", _arg(args, "database")),
        table=parse_identifier("table", _arg(args, "table")),
        changes_path=_optional_prefix("changes_path", args.get("changes_path")),
        max_future_skew_minutes=parse_int_arg(
            "max_future_skew_minutes", args.get("max_future_skew_minutes"),
            default=RAW_TO_PROCESSED_OPTIONAL["max_future_skew_minutes"], minimum=0, maximum=7 * 24 * 60),
        landing_read_before_ms=parse_instant_ms("landing_read_before", args.get("landing_read_before")),
    )


def parse_quality_check_args(args):
    return QualityCheckConfig(
        job_name=parse_nonempty("JOB_NAME", _arg(args, "JOB_NAME")),
        database=parse_identifier("database", _arg(args, "database")),
        table=parse_identifier("table", _arg(args, "table")),
        ruleset=parse_ruleset("ruleset", _arg(args, "ruleset")),
        dataset_name=parse_evaluation_context("dataset_name", _arg(args, "dataset_name")),
        lookback_days=parse_int_arg("lookback_days", _arg(args, "lookback_days"),
                                    minimum=0, maximum=MAX_LOOKBACK_DAYS),
        verdict_path=_optional_s3_path("verdict_path", args.get("verdict_path")),
        metrics_namespace=parse_nonempty("metrics_namespace", args.get("metrics_namespace")
                                         or QUALITY_CHECK_OPTIONAL["metrics_namespace"]),
        environment=(args.get("environment") or "").strip(),
    )


def _optional_s3_path(name, raw):
    """An optional s3:// object or prefix argument ("" when absent)."""
    if raw is None or not str(raw).strip():
        return ""
    return _s3_url(name, raw, "s3://bucket/key")


def parse_processed_to_curated_args(args):
    datasets = parse_datasets("datasets", _arg(args, "datasets"))
    return ProcessedToCuratedConfig(
        job_name=parse_nonempty("JOB_NAME", _arg(args, "JOB_NAME")),
        datasets=datasets,
        joins=parse_joins("joins", _arg(args, "joins"), datasets),
        processed_root=parse_s3_prefix("processed_root", _arg(args, "processed_root")),
        curated_root=parse_s3_prefix("curated_root", _arg(args, "curated_root")),
        lookback_days=parse_int_arg("lookback_days", args.get("lookback_days"),
                                    default=PROCESSED_TO_CURATED_OPTIONAL["lookback_days"],
                                    minimum=0, maximum=MAX_LOOKBACK_DAYS),
        quality_root=(parse_s3_prefix("quality_root", args["quality_root"])
                      if (args.get("quality_root") or "").strip() else ""),
        database=parse_identifier("database", _arg(args, "database")),
        changes_root=_optional_prefix("changes_root", args.get("changes_root")),
        recompute_from=_optional_day("recompute_from", args.get("recompute_from")),
    )


def _optional_day(name, raw):
    """An optional day argument (YYYY-MM-DD, "" when absent)."""
    if raw is None or not str(raw).strip():
        return ""
    try:
        return partitions.parse_dt(str(raw).strip()).isoformat()
    except ValueError:
        raise ArgumentError(f"--{name} must be a day as YYYY-MM-DD (e.g. 2024-01-31), got {raw!r}") from None


def _optional_prefix(name, raw):
    """An optional s3:// prefix argument ("" when absent)."""
    if raw is None or not str(raw).strip():
        return ""
    return parse_s3_prefix(name, raw)
