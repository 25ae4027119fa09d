"""EvaluateDataQuality stand-in: DQDL for exactly the rule types the lake's rulesets use.

Rules = [ ... ] with RowCount <op> n, IsComplete "c", IsPrimaryKey "c" ["c2" ...],
ColumnValues "c" in [...] / not in [...] (NULL allowed in the list),
ColumnValues "c" <op> value (>=, <=, >, <, =, !=; value a number, a "string" or NULL),
and composite (rule) and/or (rule). Semantics from the DQDL reference:
- a ColumnValues rule passes when every row satisfies it; NULL rows fail every
  ColumnValues rule except != and NOT IN (and = NULL, which asks for NULL);
- composite rules are evaluated per rule over the whole dataset and the
  outcomes combined (the default), or row by row when additional_options has
  "compositeRuleEvaluation.method": "ROW".
Anything else (thresholds, where clauses, other rule types) raises.
Returns one row per rule: Rule, Outcome (Passed/Failed), FailureReason, EvaluatedMetrics.
"""
import re

OPS = (">=", "<=", "!=", "=", ">", "<")


class DQDLError(ValueError):
    pass


def split_top(text, sep=","):
    parts, depth, quote, cur = [], 0, False, ""
    for ch in text:
        if ch == '"':
            quote = not quote
        elif not quote and ch in "([":
            depth += 1
        elif not quote and ch in ")]":
            depth -= 1
        if ch == sep and depth == 0 and not quote:
            parts.append(cur)
            cur = ""
        else:
            cur += ch
    if quote or depth:
        raise DQDLError(f"unbalanced quotes or brackets in {text!r}")
    parts.append(cur)
    return [p.strip() for p in parts if p.strip()]


def parse_ruleset(ruleset):
    m = re.match(r"^\s*Rules\s*=\s*\[(.*)\]\s*$", ruleset, re.S)
    if not m:
        raise DQDLError(f"not a DQDL ruleset (expected Rules = [ ... ]): {ruleset[:80]!r}")
    return [(text, parse_rule(text)) for text in split_top(m.group(1))]


def parse_value(text):
    text = text.strip()
    if text.upper() == "NULL":
        return None
    if len(text) >= 2 and text[0] == '"' and text[-1] == '"':
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        try:
            return float(text)
        except ValueError:
            raise DQDLError(f"unsupported DQDL value {text!r}") from None


def _groups(text):
    """'(a) or (b) and (c)' -> ['a', 'b', 'c'], ['or', 'and'] (None if not composite)."""
    items, ops, i = [], [], 0
    text = text.strip()
    while i < len(text):
        if text[i] != "(":
            return None
        depth, j, quote = 0, i, False
        while j < len(text):
            if text[j] == '"':
                quote = not quote
            elif not quote and text[j] == "(":
                depth += 1
            elif not quote and text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        items.append(text[i + 1:j])
        rest = text[j + 1:].lstrip()
        if not rest:
            break
        m = re.match(r"^(and|or)\s*", rest, re.I)
        if not m:
            raise DQDLError(f"expected and/or after ({items[-1]}) in {text!r}")
        ops.append(m.group(1).lower())
        text = rest[m.end():]
        i = 0
    return items, ops


def parse_rule(text):
    text = text.strip()
    if text.startswith("("):
        items, ops = _groups(text)
        if len(set(ops)) > 1:
            raise DQDLError(f"mixed and/or without parentheses is not emulated: {text!r}")
        if not ops:
            return parse_rule(items[0])
        return {"type": "composite", "op": ops[0], "rules": [parse_rule(t) for t in items]}
    if re.search(r"\bwith\s+threshold\b|\bwhere\b", text, re.I):
        raise DQDLError(f"thresholds and where clauses are not emulated: {text!r}")
    m = re.match(r'^RowCount\s*(>=|<=|!=|=|>|<)\s*(\S+)$', text)
    if m:
        return {"type": "RowCount", "op": m.group(1), "value": parse_value(m.group(2))}
    m = re.match(r'^IsComplete\s+"([^"]+)"$', text)
    if m:
        return {"type": "IsComplete", "column": m.group(1)}
    m = re.match(r'^IsPrimaryKey((?:\s+"[^"]+")+)$', text)
    if m:
        return {"type": "IsPrimaryKey", "columns": re.findall(r'"([^"]+)"', m.group(1))}
    m = re.match(r'^ColumnValues\s+"([^"]+)"\s+(not\s+in|in)\s*\[(.*)\]$', text, re.S | re.I)
    if m:
        return {"type": "ColumnValues", "column": m.group(1), "op": " ".join(m.group(2).lower().split()),
                "values": [parse_value(v) for v in split_top(m.group(3))]}
    m = re.match(r'^ColumnValues\s+"([^"]+)"\s*(>=|<=|!=|=|>|<)\s*(.+)$', text, re.S)
    if m:
        return {"type": "ColumnValues", "column": m.group(1), "op": m.group(2), "value": parse_value(m.group(3))}
    raise DQDLError(f"DQDL rule type not emulated by the local lake: {text!r}")


def _compare(a, op, b):
    return {">=": a >= b, "<=": a <= b, ">": a > b, "<": a < b, "=": a == b, "!=": a != b}[op]


def _fmt(x):
    return f"{x:.4g}" if isinstance(x, float) else str(x)


class _Eval:
    def __init__(self, df, row_mode):
        from pyspark.sql import functions as F
        self.F = F
        self.df = df
        self.row_mode = row_mode
        self.n = df.count()
        self.metrics = {}

    def col(self, name):
        if name not in self.df.columns:
            raise DQDLError(f"column {name!r} is not in the data (columns: {', '.join(self.df.columns)})")
        return self.F.col(f"`{name}`")

    def predicate(self, rule):
        """Row-level boolean Column (never null) or None when the rule is dataset-level."""
        F = self.F
        t = rule["type"]
        if t == "IsComplete":
            return self.col(rule["column"]).isNotNull()
        if t == "ColumnValues":
            c = self.col(rule["column"])
            op = rule["op"]
            if op in ("in", "not in"):
                vals = [v for v in rule["values"] if v is not None]
                has_null = len(vals) != len(rule["values"])
                member = c.cast("string").isin([str(v) for v in vals]) if all(isinstance(v, str) for v in vals) else c.isin(vals)
                if op == "in":
                    expr = (c.isNotNull() & member) | (F.lit(has_null) & c.isNull())
                else:
                    expr = c.isNull() & F.lit(not has_null) | (c.isNotNull() & ~member)
                return F.coalesce(expr, F.lit(False))
            v = rule["value"]
            if v is None:
                if op == "=":
                    return c.isNull()
                if op == "!=":
                    return c.isNotNull()
                raise DQDLError(f"ColumnValues {op} NULL is not meaningful")
            lit = F.lit(v)
            cc = c.cast("double") if isinstance(v, (int, float)) else c.cast("string")
            expr = {">=": cc >= lit, "<=": cc <= lit, ">": cc > lit, "<": cc < lit, "=": cc == lit, "!=": cc != lit}[op]
            if op == "!=":
                return F.coalesce(expr, c.isNull())  # NULL passes !=
            return F.coalesce(expr, F.lit(False))    # NULL fails the others
        if t == "composite" and self.row_mode:
            parts = [self.predicate(r) for r in rule["rules"]]
            if all(p is not None for p in parts):
                out = parts[0]
                for p in parts[1:]:
                    out = (out | p) if rule["op"] == "or" else (out & p)
                return out
        return None

    def outcome(self, rule):
        """(passed, reason)."""
        F = self.F
        t = rule["type"]
        if t == "RowCount":
            self.metrics["Dataset.*.RowCount"] = float(self.n)
            ok = _compare(self.n, rule["op"], rule["value"])
            return ok, None if ok else f"Value: {self.n} does not meet the constraint requirement!"
        if t == "IsPrimaryKey":
            cols = [self.col(c) for c in rule["columns"]]
            complete = self.df.where(~F.greatest(*[c.isNull() for c in cols])).count() if len(cols) > 1 else self.df.where(cols[0].isNotNull()).count()
            distinct = self.df.select(*cols).distinct().count()
            uniq = (distinct / self.n) if self.n else 0.0
            name = ",".join(rule["columns"])
            self.metrics[f"Column.{name}.Uniqueness"] = float(uniq)
            ok = self.n > 0 and complete == self.n and distinct == self.n
            return ok, None if ok else (f"Value: {_fmt(uniq)} does not meet the constraint requirement!"
                                        + ("" if complete == self.n else f" ({self.n - complete} rows with null key)"))
        if t == "composite":
            pred = self.predicate(rule) if self.row_mode else None
            if pred is None:
                results = [self.outcome(r) for r in rule["rules"]]
                oks = [r[0] for r in results]
                ok = any(oks) if rule["op"] == "or" else all(oks)
                reasons = [r[1] for r in results if r[1]]
                return ok, None if ok else "; ".join(reasons)
        else:
            pred = self.predicate(rule)
        passing = self.df.where(pred).count()
        ratio = passing / self.n if self.n else 1.0
        key = rule.get("column", "composite")
        self.metrics[f"Column.{key}.{'Completeness' if t == 'IsComplete' else 'Compliance'}"] = float(ratio)
        ok = self.n > 0 and passing == self.n
        if ok:
            return True, None
        if self.n == 0:
            return False, "Value: no rows to evaluate"
        return False, f"Value: {_fmt(ratio)} does not meet the constraint requirement! ({self.n - passing} of {self.n} rows failed)"


class EvaluateDataQuality:
    @staticmethod
    def apply(frame, ruleset, publishing_options=None, additional_options=None, **kwargs):
        from awsglue.dynamicframe import DynamicFrame
        from pyspark.sql.types import DoubleType, MapType, StringType, StructField, StructType

        opts = dict(additional_options or {})
        method = str(opts.pop("compositeRuleEvaluation.method", "COLUMN")).upper()
        if opts:
            raise NotImplementedError(f"e2e awsgluedq stand-in: additional_options {sorted(opts)} are not emulated")
        import json as _json
        import os as _os
        if _os.environ.get("E2E_RUN_DIR"):
            with open(_os.path.join(_os.environ["E2E_RUN_DIR"], "dq_calls.jsonl"), "a") as f:
                f.write(_json.dumps({"context": (publishing_options or {}).get("dataQualityEvaluationContext"),
                                     "composite_method": method}) + "\n")
        df = frame.toDF()
        ev = _Eval(df, row_mode=(method == "ROW"))
        rows = []
        for text, rule in parse_ruleset(ruleset):
            ev.metrics = {}
            try:
                ok, reason = ev.outcome(rule)
            except DQDLError as exc:  # e.g. a column the data does not have: the rule fails, the run goes on
                ok, reason = False, f"Rule could not be evaluated: {exc}"

            rows.append((text, "Passed" if ok else "Failed", reason, dict(ev.metrics)))
        schema = StructType([StructField("Rule", StringType()), StructField("Outcome", StringType()),
                             StructField("FailureReason", StringType()),
                             StructField("EvaluatedMetrics", MapType(StringType(), DoubleType()))])
        spark = df.sparkSession
        return DynamicFrame(spark.createDataFrame(rows, schema), frame.glue_ctx, "dq_results")


# ---- the same semantics on plain rows (the e2e model's independent evaluation) ----

def _row_ok(rule, row):
    t = rule["type"]
    if t == "IsComplete":
        return row.get(rule["column"]) is not None
    if t == "ColumnValues":
        v = row.get(rule["column"])
        op = rule["op"]
        if op in ("in", "not in"):
            vals = rule["values"]
            member = (v is None and None in vals) or (v is not None and any(x is not None and str(x) == str(v) if isinstance(x, str) else x == v for x in vals))
            if op == "in":
                return bool(member)
            return (v is None and None not in vals) or (v is not None and not member)
        x = rule["value"]
        if x is None:
            return (v is None) if op == "=" else (v is not None)
        if v is None:
            return op == "!="
        a = float(v) if isinstance(x, (int, float)) else str(v)
        return _compare(a, op, x)
    if t == "composite":
        parts = [_row_ok(r, row) for r in rule["rules"]]
        if any(p is None for p in parts):
            return None
        return any(parts) if rule["op"] == "or" else all(parts)
    return None


def evaluate_rows(ruleset, rows, row_mode=False):
    """[(rule text, passed)] for plain dict rows."""
    def outcome(rule):
        n = len(rows)
        if rule["type"] == "RowCount":
            return _compare(n, rule["op"], rule["value"])
        if rule["type"] == "IsPrimaryKey":
            keys = [tuple(r.get(c) for c in rule["columns"]) for r in rows]
            return n > 0 and all(None not in k for k in keys) and len(set(keys)) == n
        if rule["type"] == "composite" and not row_mode:
            oks = [outcome(r) for r in rule["rules"]]
            return any(oks) if rule["op"] == "or" else all(oks)
        oks = [_row_ok(rule, r) for r in rows]
        if any(o is None for o in oks):
            oks2 = [outcome(r) for r in rule["rules"]]
            return any(oks2) if rule["op"] == "or" else all(oks2)
        return n > 0 and all(oks)
    return [(text, outcome(rule)) for text, rule in parse_ruleset(ruleset)]
