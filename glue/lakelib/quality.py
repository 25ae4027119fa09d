"""Pass/fail decision on Glue Data Quality rule outcomes.

``EvaluateDataQuality.apply`` returns one row per rule with the columns
``Rule``, ``Outcome`` ("Passed"/"Failed"; Glue may also report "Error" for
a rule it could not evaluate), ``FailureReason`` and ``EvaluatedMetrics``.
The quality job collects those rows as dicts and calls ``assert_passed``:
any outcome other than "Passed" fails the job, and so does an empty list
(a ruleset that evaluated nothing proves nothing).
"""

from __future__ import annotations

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
    return "coalesce(`_deleted`, false) = false"


def table_location(get_table_response, database, table):
    """The S3 prefix of a catalog table from a glue.get_table response."""
    location = (((get_table_response or {}).get("Table") or {}).get("StorageDescriptor") or {}).get("Location")
    if not isinstance(location, str) or not location.startswith(("s3://", "s3a://")):
        raise ValueError(f"table {database}.{table} has no S3 location in the Data Catalog (got {location!r})")
    if location.startswith("s3a://"):
        location = "s3://" + location[len("s3a://"):]
    return location.rstrip("/") + "/"
