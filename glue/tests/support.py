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
FIXTURES_DIR = os.path.join(TESTS_DIR, "fixtures")

if GLUE_DIR not in sys.path:
    sys.path.insert(0, GLUE_DIR)

UTC = dt.timezone.utc


def load_fixture(name):
    with open(os.path.join(FIXTURES_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def datasets():
    """The example dataset declarations (deep copies, safe to mutate)."""
    return copy.deepcopy(load_fixture("datasets.json"))


def joins():
    return copy.deepcopy(load_fixture("joins.json"))


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
