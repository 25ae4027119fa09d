"""Pass/fail decision on Glue Data Quality rule outcomes, and the per-dataset gate.

``EvaluateDataQuality.apply`` returns one row per rule with the columns
``Rule``, ``Outcome`` ("Passed"/"Failed"; Glue may also report "Error" for
a rule it could not evaluate), ``FailureReason`` and ``EvaluatedMetrics``.
The quality job collects those rows as dicts and calls ``assert_passed``:
any outcome other than "Passed" fails the job, and so does an empty list
(a ruleset that evaluated nothing proves nothing).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

PASSED = "Passed"
FAILED = "Failed"


class DataQualityFailed(RuntimeError):
    """Raised to fail the Glue job (and stop the workflow) on failed rules."""

    def __init__(self, message, failed_rules=()):
        super().__init__(message)
        self.failed_rules = list(failed_rules)


@dataclass
class Verdict:
    passed: bool
    total: int
    failed: list = field(default_factory=list)  # [{"Rule", "Outcome", "FailureReason"}]
    message: str = ""


# Composite rules ("(ColumnValues "x" >= 0) OR (ColumnValues "x" = NULL)",
# the NULL-tolerant rules of optional columns) are by default evaluated as
# separate rules over the whole column and then combined: on a column with
# both values and NULLs both halves fail, and so does the OR. ROW evaluates
# the composite per row, which is what the rules mean (Glue Developer Guide,
# dqdl.html, "How composite rules work").
EVALUATION_OPTIONS = {"compositeRuleEvaluation.method": "ROW"}


def publishing_options(dataset_name):
    """publishing_options for EvaluateDataQuality: CloudWatch metrics and results on."""
    return {
        "dataQualityEvaluationContext": dataset_name,
        "enableDataQualityCloudWatchMetrics": True,
        "enableDataQualityResultsPublishing": True,
    }


def _get(outcome, name):
    if name in outcome:
        return outcome[name]
    lowered = name.lower()
    for key, value in outcome.items():
        if str(key).lower() == lowered:
            return value
    return None


def failed_rules(outcomes):
    """The outcomes whose Outcome is not "Passed", normalized to plain dicts."""
    failed = []
    for outcome in outcomes:
        result = _get(outcome, "Outcome")
        if str(result).strip().lower() != PASSED.lower():
            failed.append({
                "Rule": _get(outcome, "Rule"),
                "Outcome": result,
                "FailureReason": _get(outcome, "FailureReason"),
            })
    return failed


def decide(outcomes, dataset_name):
    """The Verdict for a list of rule outcome dicts."""
    outcomes = list(outcomes)
    if not outcomes:
        return Verdict(passed=False, total=0, message=(
            f"data quality of {dataset_name}: the ruleset produced no rule outcomes; "
            "refusing to pass an evaluation that checked nothing"))
    failed = failed_rules(outcomes)
    if not failed:
        return Verdict(passed=True, total=len(outcomes),
                       message=f"data quality of {dataset_name}: all {len(outcomes)} rules passed")
    lines = [f"data quality of {dataset_name}: {len(failed)} of {len(outcomes)} rules failed:"]
    for f in failed:
        reason = f["FailureReason"] or "no reason given"
        lines.append(f"  - {f['Rule']} [{f['Outcome']}]: {reason}")
    return Verdict(passed=False, total=len(outcomes), failed=failed, message="\n".join(lines))


def assert_passed(outcomes, dataset_name):
    """Return the Verdict if every rule passed, else raise DataQualityFailed."""
    verdict = decide(outcomes, dataset_name)
    if not verdict.passed:
        raise DataQualityFailed(verdict.message, verdict.failed)
    return verdict


def active_rows_filter_sql():
    """SQL predicate selecting the rows the ruleset is evaluated on (not deleted)."""
    return "coalesce(`_is_deleted`, false) = false"


def table_location(get_table_response, database, table):
    """The S3 prefix of a catalog table from a glue.get_table response."""
    location = (((get_table_response or {}).get("Table") or {}).get("StorageDescriptor") or {}).get("Location")
    if not isinstance(location, str) or not location.startswith(("s3://", "s3a://")):
        raise ValueError(f"table {database}.{table} has no S3 location in the Data Catalog (got {location!r})")
    if location.startswith("s3a://"):
        location = "s3://" + location[len("s3a://"):]
    return location.rstrip("/") + "/"


# ---- the per-dataset gate ---------------------------------------------------
#
# A failed ruleset must stop only its own dataset: the quality job records a
# verdict per dataset (s3://<processed>/_quality/<dataset>/verdict.json) and
# publishes QualityFailed (1 or 0) for that dataset's alarm instead of failing
# the run; the curated job skips a dataset whose verdict failed, and every
# join that uses it. A window with no rows is not a failure (NO_DATA): the
# freshness alarm reports a feed that stopped.

PASSED_STATE = "passed"
FAILED_STATE = "failed"
NO_DATA_STATE = "no_data"
VERDICT_STATES = (PASSED_STATE, FAILED_STATE, NO_DATA_STATE)
VERDICT_FILE = "verdict.json"
QUALITY_FAILED_METRIC = "QualityFailed"


def verdict_record(dataset_name, state, evaluated_at, partitions=(), verdict=None):
    """The JSON object the quality job writes for the curated job and people."""
    if state not in VERDICT_STATES:
        raise ValueError(f"unknown verdict state {state!r}: use one of {', '.join(VERDICT_STATES)}")
    record = {"dataset": dataset_name, "state": state, "evaluated_at": evaluated_at,
              "partitions": list(partitions), "rules": 0, "failed_rules": []}
    if verdict is not None:
        record["rules"] = verdict.total
        record["failed_rules"] = [{"rule": f["Rule"], "outcome": f["Outcome"], "reason": f["FailureReason"]}
                                  for f in verdict.failed]
        record["message"] = verdict.message
    return record


def verdict_path(quality_root, dataset_name):
    """``<quality_root><dataset>/verdict.json``."""
    return quality_root.rstrip("/") + "/" + dataset_name + "/" + VERDICT_FILE


def parse_verdict(text, dataset_name):
    """The state of a verdict file's text; a broken file counts as failed (fail closed)."""
    try:
        record = json.loads(text)
    except (TypeError, ValueError):
        return FAILED_STATE
    if not isinstance(record, dict) or record.get("dataset") != dataset_name:
        return FAILED_STATE
    state = record.get("state")
    return state if state in VERDICT_STATES else FAILED_STATE


def metric_data(dataset_name, environment, failed):
    """MetricData of cloudwatch.put_metric_data: QualityFailed 1 or 0 for one dataset."""
    dimensions = [{"Name": "Dataset", "Value": dataset_name}]
    if environment:
        dimensions.append({"Name": "Environment", "Value": environment})
    return [{"MetricName": QUALITY_FAILED_METRIC, "Dimensions": dimensions,
             "Value": 1.0 if failed else 0.0, "Unit": "Count"}]


def gate(datasets, joins, states):
    """(datasets to build, joins to build, {name: why skipped}).

    ``states`` maps a dataset name to its verdict state; a dataset without a
    verdict is built (no gate configured, or the first run before any check).
    """
    skipped = {d["name"]: f"its quality verdict is {states[d['name']]}"
               for d in datasets if states.get(d["name"]) == FAILED_STATE}
    keep = [d for d in datasets if d["name"] not in skipped]
    keep_joins = []
    for j in joins:
        bad = [n for n in j["datasets"] if n in skipped]
        if bad:
            skipped[j["name"]] = "it joins " + ", ".join(bad) + ", whose quality verdict failed"
        else:
            keep_joins.append(j)
    return keep, keep_joins, skipped
