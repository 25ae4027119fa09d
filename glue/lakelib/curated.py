"""Curated tables: column derivation, aggregation plans, reference aggregates.

Two kinds of curated tables, both partitioned by ``dt`` (string, not part
of the column lists below), both excluding rows with ``_is_deleted = true``:

Daily table ``<dataset>_daily`` (one row per dt and group_by values)::

    <group_by columns...>        string, in group_by order
    record_count                 bigint   count of rows
    distinct_keys                bigint   count of distinct key tuples
    for each bigint/double column c, in declaration order:
      sum_<c>                    type of c (bigint -> bigint, double -> double)
      min_<c>                    type of c
      max_<c>                    type of c

Join table ``<join name>`` (one row per dt and ``on`` values; full outer
join of the two datasets' per-dt/per-key aggregates, missing metrics -> 0)::

    <on columns...>              type of the column (identical in both datasets)
    for each dataset d of the join, in the join's ``datasets`` order:
      <d>_record_count           bigint
      for each bigint/double column c of d, in declaration order:
        <d>_sum_<c>              type of c

``curated_columns`` is the single source of these lists; the Go CDK code
mirrors it (see glue/README.md).
"""

from __future__ import annotations

from . import schema

COUNT = "count"
COUNT_DISTINCT = "count_distinct"
SUM = "sum"
MIN = "min"
MAX = "max"
AGG_FUNCS = (COUNT, COUNT_DISTINCT, SUM, MIN, MAX)

DAILY_SUFFIX = "_daily"


def is_join(obj):
    """Whether a declaration is a join (has ``datasets`` and ``on``) rather than a dataset."""
    return isinstance(obj, dict) and "on" in obj and "datasets" in obj and "columns" not in obj


def datasets_by_name(datasets):
    """{name: declaration} from a list of declarations (or such a dict)."""
    if isinstance(datasets, dict):
        return dict(datasets)
    return {d["name"]: d for d in datasets}


def table_name(obj):
    """Curated table (and S3 folder) name: ``<dataset>_daily`` or the join name."""
    return obj["name"] if is_join(obj) else obj["name"] + DAILY_SUFFIX


def _agg(name, func, columns, hive_type):
    return {"name": name, "func": func, "columns": list(columns), "type": hive_type}


def daily_plan(spec):
    """Aggregations of the daily table, in output order (after the group_by columns).

    Each entry: {"name", "func" (one of AGG_FUNCS), "columns", "type"}.
    """
    plan = [
        _agg("record_count", COUNT, [], schema.BIGINT),
        _agg("distinct_keys", COUNT_DISTINCT, spec["key"], schema.BIGINT),
    ]
    for c in schema.numeric_columns(spec):
        plan.append(_agg(f"sum_{c['name']}", SUM, [c["name"]], c["type"]))
        plan.append(_agg(f"min_{c['name']}", MIN, [c["name"]], c["type"]))
        plan.append(_agg(f"max_{c['name']}", MAX, [c["name"]], c["type"]))
    return plan


def join_side_plan(spec):
    """Aggregations one dataset contributes to a join table, in output order."""
    name = spec["name"]
    plan = [_agg(f"{name}_record_count", COUNT, [], schema.BIGINT)]
    for c in schema.numeric_columns(spec):
        plan.append(_agg(f"{name}_sum_{c['name']}", SUM, [c["name"]], c["type"]))
    return plan


def join_problems(join, datasets, path="join"):
    """Every problem of a join declaration against the dataset declarations."""
    problems = []
    by_name = datasets_by_name(datasets)

    def add(field, message):
        problems.append(f"{path}.{field}: {message}")

    if not isinstance(join, dict):
        return [f"{path}: is a {type(join).__name__}, expected a JSON object"]
    name = join.get("name")
    if not isinstance(name, str) or not schema.IDENTIFIER.match(name):
        add("name", f"{name!r} is not a valid join name: use 1-64 lowercase letters, digits and "
                    "underscores, starting with a letter")
    elif (name in by_name or name.endswith((DAILY_SUFFIX, "_raw", "_quarantine"))
          or name.startswith("landing_")):
        # The Go config's rule: a join is a table of the catalog database.
        add("name", f"{name!r} collides with a dataset or a table name: names ending in _raw, _daily or "
                    "_quarantine are the datasets' own tables, names starting with landing_ the landing crawler's")
    names = join.get("datasets")
    if not isinstance(names, list) or len(names) != 2 or len(set(map(str, names))) != 2:
        add("datasets", f"{names!r} must name exactly two different datasets")
        names = [n for n in names if isinstance(n, str)] if isinstance(names, list) else []
    for i, n in enumerate(names):
        if n not in by_name:
            add(f"datasets[{i}]", f"{n!r} is not a declared dataset ({', '.join(sorted(by_name))})")
    on = join.get("on")
    if not isinstance(on, list) or not on:
        add("on", "is empty: name the column(s) both datasets are joined on")
        on = []
    known = [by_name[n] for n in names if n in by_name]
    for i, col in enumerate(on):
        types = set()
        for spec in known:
            try:
                types.add(schema.get_column(spec, col)["type"])
            except KeyError:
                add(f"on[{i}]", f"{col!r} is not a column of dataset {spec['name']!r}")
        if len(types) > 1:
            add(f"on[{i}]", f"{col!r} has different types in the joined datasets ({', '.join(sorted(types))})")
    return problems


def validate_join(join, datasets, path="join"):
    problems = join_problems(join, datasets, path)
    if problems:
        raise schema.SpecError(problems)
    return join


def _check_unique(columns, what):
    seen = set()
    for name, _ in columns:
        if name in seen:
            raise schema.SpecError([f"{what}: output column {name!r} appears twice; rename a column"])
        seen.add(name)
    if schema.PARTITION_COLUMN in seen:
        raise schema.SpecError([f"{what}: output column {schema.PARTITION_COLUMN!r} is the partition column"])
    return columns


def curated_columns(dataset_or_join, datasets):
    """Columns of the curated table of a dataset or a join: [(name, hive type)].

    ``datasets`` are all dataset declarations (list or {name: spec}); they
    give a join its columns. ``dt`` is the partition column, not listed.
    """
    by_name = datasets_by_name(datasets)
    if is_join(dataset_or_join):
        join = validate_join(dataset_or_join, by_name)
        first = by_name[join["datasets"][0]]
        columns = [(col, schema.get_column(first, col)["type"]) for col in join["on"]]
        for name in join["datasets"]:
            columns += [(a["name"], a["type"]) for a in join_side_plan(by_name[name])]
        return _check_unique(columns, f"join {join['name']}")
    spec = dataset_or_join
    columns = [(g, schema.get_column(spec, g)["type"]) for g in spec.get("group_by") or []]
    columns += [(a["name"], a["type"]) for a in daily_plan(spec)]
    return _check_unique(columns, f"table {table_name(spec)}")


# --------------------------------------------------------------------------
# Reference implementations on Python records (the Spark job builds the same
# aggregations from daily_plan / join_side_plan; tests compare both shapes).


def _active(records):
    return [r for r in records if not r.get(schema.DELETED_COLUMN)]


def _apply(agg, rows):
    func, cols = agg["func"], agg["columns"]
    if func == COUNT:
        return len(rows)
    if func == COUNT_DISTINCT:
        keys = {tuple(r.get(c) for c in cols) for r in rows}
        return len({k for k in keys if all(v is not None for v in k)})
    values = [r.get(cols[0]) for r in rows if r.get(cols[0]) is not None]
    if not values:
        return None
    if func == SUM:
        total = sum(values)
        return float(total) if agg["type"] == schema.DOUBLE else int(total)
    if func == MIN:
        return min(values)
    if func == MAX:
        return max(values)
    raise ValueError(f"unknown aggregation {func!r}")


def _group(records, columns):
    groups = {}
    for r in records:
        groups.setdefault(tuple(r.get(c) for c in columns), []).append(r)
    return groups


def _sort_key(key):
    return tuple((v is not None, v if v is not None else "") for v in key)


def aggregate_daily(records, spec):
    """The ``<dataset>_daily`` rows (dicts incl. dt) of canonical records."""
    group_cols = [schema.PARTITION_COLUMN] + list(spec.get("group_by") or [])
    plan = daily_plan(spec)
    out = []
    groups = _group(_active(records), group_cols)
    for key in sorted(groups, key=_sort_key):
        row = dict(zip(group_cols, key))
        for agg in plan:
            row[agg["name"]] = _apply(agg, groups[key])
        out.append(row)
    return out


def aggregate_join(records_by_dataset, join, datasets):
    """The join table rows (dicts incl. dt): full outer join, missing metrics -> 0."""
    by_name = datasets_by_name(datasets)
    validate_join(join, by_name)
    group_cols = [schema.PARTITION_COLUMN] + list(join["on"])
    merged = {}
    metric_names = []
    for name in join["datasets"]:
        plan = join_side_plan(by_name[name])
        metric_names += [a["name"] for a in plan]
        groups = _group(_active(records_by_dataset.get(name, [])), group_cols)
        for key, rows in groups.items():
            row = merged.setdefault(key, dict(zip(group_cols, key)))
            for agg in plan:
                row[agg["name"]] = _apply(agg, rows)
    types = dict(curated_columns(join, by_name))
    out = []
    for key in sorted(merged, key=_sort_key):
        row = merged[key]
        for m in metric_names:
            if row.get(m) is None:
                row[m] = 0.0 if types[m] == schema.DOUBLE else 0
        out.append(row)
    return out
