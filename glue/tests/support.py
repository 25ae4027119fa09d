"""Shared test helpers: puts glue/ on sys.path and loads the fixtures.

Every test module imports this first, which makes ``import lakelib`` and
``import jobs...`` work whatever directory unittest is started from.
"""

import copy
import datetime as dt
import json
import os
import sys

TESTS_DIR = os.path.dirname(os.path.abspath(__file__))
GLUE_DIR = os.path.dirname(TESTS_DIR)
REPO_DIR = os.path.dirname(GLUE_DIR)

# The declarations come from cdk.json itself (no copies that drift), or from
# the cdk.json that DATALAKE_CDK_JSON names: scripts/test.sh runs the suite
# once more on a copy with an extra generated dataset.
CDK_JSON = os.environ.get("DATALAKE_CDK_JSON") or os.path.join(REPO_DIR, "cdk.json")

if GLUE_DIR not in sys.path:
    sys.path.insert(0, GLUE_DIR)

UTC = dt.timezone.utc


def context():
    """The context of cdk.json (or of DATALAKE_CDK_JSON)."""
    with open(CDK_JSON, encoding="utf-8") as f:
        return json.load(f)["context"]


# The job-logic tests are written against the two shipped examples (their
# records, column names and results): they read those declarations from
# cdk.json by name. Every other declaration is checked by test_fixtures.py,
# so a dataset added to cdk.json is covered without changing a test.
EXAMPLES = ("clickstream", "orders")


def all_datasets():
    """Every dataset declaration of cdk.json (deep copies, safe to mutate)."""
    return copy.deepcopy(context()["datasets"])


def all_joins():
    return copy.deepcopy(context().get("joins", []))


def datasets():
    """The example declarations (clickstream, orders) as cdk.json has them."""
    return [d for d in all_datasets() if d["name"] in EXAMPLES]


def joins():
    """The joins of cdk.json between the examples (customer_activity)."""
    return [j for j in all_joins() if set(j["datasets"]) <= set(EXAMPLES)]


def dataset(name):
    for spec in datasets():
        if spec["name"] == name:
            return spec
    raise KeyError(name)


def ts(*parts):
    """Aware UTC datetime shorthand: ts(2024, 5, 1, 10) -> 2024-05-01T10:00Z."""
    return dt.datetime(*parts, tzinfo=UTC)


def click(**overrides):
    """A valid clickstream payload (raw JSON values)."""
    data = {
        "event_id": "e-1",
        "session_id": "s-1",
        "customer_id": "c-1",
        "event_type": "page_view",
        "page_url": "https://shop.example.com/",
        "duration_ms": 1200,
        "event_time": "2024-05-01T10:00:00Z",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}


def order(**overrides):
    """A valid orders payload (raw JSON values)."""
    data = {
        "order_id": "o-1",
        "customer_id": "c-1",
        "status": "placed",
        "amount": 19.99,
        "currency": "EUR",
        "item_count": 2,
        "updated_at": "2024-05-01T10:00:00Z",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not ...}
