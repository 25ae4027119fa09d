"""The local lake's driver: scenario, engines, model, checks, report.

Usage: python e2e/driver.py ASSEMBLY_DIR   (e2e/run.sh sets the environment)
Every piece of wiring comes from the assembly; the expectations come from a
small independent model of the inputs (never from the outputs it checks).
"""
import base64
import collections
import contextlib
import csv
import datetime as dtm
import gzip
import hashlib
import importlib.util
import io
import json
import os
import random
import re
import shutil
import sys
import time
import traceback
import types
import zoneinfo

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "standins"))

from assembly import Assembly  # noqa: E402
import services  # noqa: E402

UTC = dtm.timezone.utc
T0 = time.time()
NOW = dtm.datetime.now(UTC)
TODAY = NOW.date()
RND = random.Random(20261201)


# ---- checks ------------------------------------------------------------------

CHECKS = []
REPORT = []


def check(name, ok, detail=""):
    CHECKS.append((name, bool(ok), detail))
    if not ok:
        print(f"  FAIL {name}: {detail}", flush=True)
    return ok


def say(line=""):
    REPORT.append(line)


def stage(msg):
    print(f"e2e [{time.time() - T0:6.1f}s] {msg}", flush=True)


# ---- value helpers -------------------------------------------------------------

def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def ts_key(t, zone=UTC):
    """Canonical text of a timestamp for comparisons (UTC, microseconds);
    a value without an offset is local time in ``zone`` (the dataset's)."""
    if t is None:
        return None
    if isinstance(t, str):
        t = dtm.datetime.fromisoformat(t.replace("Z", "+00:00").replace(" ", "T"))
    if t.tzinfo is None:
        t = t.replace(tzinfo=zone)
    return t.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def when_on(day, rnd):
    """A random time on `day` (UTC) that is not in the future."""
    start = dtm.datetime.combine(day, dtm.time(0, 0), UTC)
    end = min(start + dtm.timedelta(days=1), NOW - dtm.timedelta(minutes=2))
    span = max(1, int((end - start).total_seconds()))
    t = start + dtm.timedelta(seconds=rnd.randrange(span), milliseconds=rnd.randrange(1000))
    return t.replace(microsecond=(t.microsecond // 1000) * 1000)


class Spec:
    def __init__(self, d):
        self.d = d
        self.name = d["name"]
        self.columns = d["columns"]
        self.col = {c["name"]: c for c in self.columns}
        self.key = list(d["key"])
        self.event = d["event_time_field"]
        self.group_by = list(d.get("group_by") or [])
        self.numeric = [c["name"] for c in self.columns if c["type"] in ("bigint", "double")]
        # offset-less timestamps are local time here (the declaration's timezone)
        self.zone = zoneinfo.ZoneInfo(d["timezone"]) if d.get("timezone", "UTC") != "UTC" else UTC

    def value(self, c, i, when, rnd):
        name, t = c["name"], c["type"]
        if name == self.event:
            return rfc3339(when) if t == "timestamp" else when.date().isoformat()
        if name in self.key:
            # Unique per record where the type allows it; an enumerated key
            # column cycles through its values (another key column keeps
            # the composite key unique, or versions collide as updates).
            if c.get("allowed"):
                return c["allowed"][i % len(c["allowed"])]
            if t == "string":
                return f"{self.name}-{name}-{i:05d}"
            if t in ("bigint", "double"):
                lo = c.get("min", 0)
                v = lo + i if c.get("max") is None else lo + i % max(1, int(c["max"] - lo) + 1)
                return int(v) if t == "bigint" else float(v)
            if t == "date":
                return (dtm.date(2020, 1, 1) + dtm.timedelta(days=i)).isoformat()
            if t == "timestamp":
                return rfc3339(dtm.datetime(2020, 1, 1, tzinfo=UTC) + dtm.timedelta(seconds=i))
            if t == "boolean":
                return i % 2 == 0
            raise ValueError(f"key column type {t} is not generated")
        if not c.get("required") and rnd.random() < 0.25:
            return None
        if c.get("allowed"):
            return rnd.choice(c["allowed"])
        lo = c.get("min", 0 if t != "double" else 0.0)
        hi = c.get("max", lo + 1000)
        if t == "string":
            return f"{name}-{rnd.randrange(5)}"
        if t == "bigint":
            return int(rnd.randint(int(lo), int(min(hi, lo + 1000))))
        if t == "double":
            return round(rnd.uniform(float(lo), float(min(hi, lo + 500))), 2)
        if t == "boolean":
            return rnd.random() < 0.5
        if t == "timestamp":
            return rfc3339(when - dtm.timedelta(minutes=rnd.randrange(600)))
        if t == "date":
            return when.date().isoformat()
        raise ValueError(f"column type {t} is not generated")

    def event_value(self, when):
        """The event-time column's value for a moment (timestamp text or date)."""
        return rfc3339(when) if self.col[self.event]["type"] == "timestamp" else when.date().isoformat()

    def record(self, i, when, rnd):
        return {c["name"]: self.value(c, i, when, rnd) for c in self.columns}

    def normalize(self, rec):
        """What the processed table holds for an accepted record (plain model of the documented rules)."""
        out = {}
        for c in self.columns:
            v = rec.get(c["name"])
            t = c["type"]
            if isinstance(v, str):
                v = v.strip()
                if v == "":
                    v = None
            if v is None:
                out[c["name"]] = None
            elif t == "string":
                out[c["name"]] = v.lower() if c.get("allowed") else str(v)
            elif t == "bigint":
                out[c["name"]] = int(float(v)) if isinstance(v, str) else int(v)
            elif t == "double":
                out[c["name"]] = float(v)
            elif t == "boolean":
                out[c["name"]] = v if isinstance(v, bool) else str(v).lower() in ("true", "t", "yes", "y", "1")
            elif t == "timestamp":
                out[c["name"]] = ts_key(v, self.zone)
            elif t == "date":
                out[c["name"]] = str(v)
        return out

    def event_dt(self, rec):
        v = rec[self.event]
        return ts_key(v, self.zone)[:10]


# ---- the model -----------------------------------------------------------------

def dms_change_seq(commit, n):
    """An AR_H_CHANGE_SEQ-shaped value: 16 digits of the commit time, then a
    19-digit record number (DMS User Guide, transformation expressions)."""
    return commit.strftime("%Y%m%d%H%M%S%f")[:16] + str(n).zfill(19)


class Model:
    def __init__(self, specs):
        self.specs = specs
        self.versions = {s: [] for s in specs}     # accepted versions per dataset
        self.validator_rejects = []              # (dataset or None, data bytes, reason)
        self.api_rejects = []                    # (dataset, route, why)
        self.quarantine = {s: [] for s in specs}  # (match dict, expected codes set)
        self.stream_valid = {s: 0 for s in specs}
        self.landing_rows = {s: 0 for s in specs}
        self.same_transaction = {}               # ds -> (key, the last change, its sequence)
        self.leading_zeros = {}                  # ds -> (key column, a digits-only key with leading zeros)

    def accept(self, ds, rec, received_at, deleted=False, via="", seq=None):
        spec = self.specs[ds]
        norm = spec.normalize(rec)
        # the key as the job sees it: trimmed, allowed values lower-cased;
        # seq the DMS change sequence as sent (the job zero-pads it to 40)
        self.versions[ds].append({"key": tuple(norm[k] for k in spec.key), "rec": rec, "norm": norm,
                                  "event": ts_key(rec[spec.event], spec.zone), "received": ts_key(received_at) if received_at else None,
                                  "deleted": deleted, "via": via, "seq": seq.zfill(40) if seq else None})

    def canonical(self, ds, v):
        """The documented last tie-break (glue/README.md "Merge and dedup"): the
        canonical JSON of the stored row (sorted keys, timestamps as
        YYYY-MM-DDTHH:MM:SS.ffffffZ, dates as YYYY-MM-DD), rendered here from
        the model's own row."""
        spec = self.specs[ds]
        row = {}
        for c in spec.columns:
            x = v["norm"][c["name"]]
            if x is not None and c["type"] == "timestamp":
                x = x.replace(" ", "T") + "Z"
            row[c["name"]] = x
        row["_is_deleted"] = v["deleted"]
        row["_received_at"] = v["received"].replace(" ", "T") + "Z" if v["received"] else None
        row["_change_seq"] = v["seq"]
        row["dt"] = v["event"][:10]
        return json.dumps(row, sort_keys=True, ensure_ascii=False)

    def latest(self, ds):
        best = {}
        for v in self.versions[ds]:
            # event time, change sequence, arrival (none first), a delete
            # wins, then the canonical row
            order = (v["event"], v["seq"] or "", v["received"] or "", v["deleted"], self.canonical(ds, v))
            if v["key"] not in best or order > best[v["key"]][0]:
                best[v["key"]] = (order, v)
        return {k: v for k, (_, v) in best.items()}

    def processed_rows(self, ds):
        spec = self.specs[ds]
        rows = []
        for v in self.latest(ds).values():
            r = dict(v["norm"])
            r["_is_deleted"] = v["deleted"]
            r["_received_at"] = v["received"]
            r["_change_seq"] = v["seq"]
            r["dt"] = v["event"][:10]
            rows.append(r)
        return rows


# ---- scenario ------------------------------------------------------------------

def build_scenario(specs, api, stream, s3_root, jobs_by_dataset, model):
    """Drive the API, the stream and the landing prefixes; fill the model."""
    counter = [0]

    def next_i():
        counter[0] += 1
        return counter[0]

    days = [TODAY, TODAY - dtm.timedelta(days=1), TODAY - dtm.timedelta(days=2)]
    routes = api.routes()
    summary = {}
    for ds, spec in specs.items():
        rnd = random.Random(f"{RND.random()}-{ds}")
        single = [r for r in routes if r[0] == "POST" and r[1].rstrip("/").endswith("/" + ds)]
        batch = [r for r in routes if r[0] == "POST" and r[1].rstrip("/").endswith("/" + ds + "/batch")]
        check(f"api: {ds} has a one-record and a batch route", single and batch, f"routes: {routes}")
        if not (single and batch):
            continue
        single, batch = single[0], batch[0]
        st = {"api_ok": 0, "api_400": 0, "stream_put": 0, "landing": 0}
        summary[ds] = st

        def post(route, body, expect_ok=True):
            status, resp, rid = api.request(route[0], route[1], json.dumps(body))
            ok = (status == 200) if expect_ok else (status == 400)
            check(f"api: {route[1]} {'accepts' if expect_ok else 'rejects (400)'} "
                  f"{'a valid' if expect_ok else 'an invalid'} body", ok, f"status {status}: {json.dumps(resp)[:300]}")
            if status == 200:
                st["api_ok"] += len(body["records"]) if "records" in body else 1
                check(f"api: {route[1]} response has no failed records", not resp.get("failed_record_count"),
                      json.dumps(resp)[:200])
            elif status == 400:
                st["api_400"] += 1
            return status, (api.requests[-1].get("epoch") if status == 200 else None)

        def received(epoch):
            return dtm.datetime.fromtimestamp(epoch / 1000, UTC)

        def accept_sent(rec, epoch, via):
            # A request the API refused (its check already failed) sent nothing.
            if epoch is not None:
                model.accept(ds, rec, received(epoch), via=via)

        # 1. valid records, one per request
        sent = []
        for j in range(8):
            rec = spec.record(next_i(), when_on(days[j % 3], rnd), rnd)
            _, epoch = post(single, rec)
            accept_sent(rec, epoch, "api")
            sent.append(rec)
        # 2. batches
        for b in range(2):
            recs = [spec.record(next_i(), when_on(days[(b + k) % 3], rnd), rnd) for k in range(5)]
            _, epoch = post(batch, {"records": recs})
            for rec in recs:
                accept_sent(rec, epoch, "api-batch")
            sent.extend(recs)
        # 3. duplicates: the same bodies again
        for rec in sent[:2]:
            _, epoch = post(single, rec)
            accept_sent(rec, epoch, "api-duplicate")
        # 4. updates of the same key, out of order (newest first), one moving to another dt
        newer_batch, older_batch = [], []
        for rec in sent[2:5]:
            t = dtm.datetime.fromisoformat(ts_key(rec[spec.event]))
            newer = dict(spec.record(0, min(t.replace(tzinfo=UTC) + dtm.timedelta(minutes=30), NOW - dtm.timedelta(minutes=1)), rnd),
                         **{k: rec[k] for k in spec.key})
            older = dict(spec.record(0, t.replace(tzinfo=UTC) - dtm.timedelta(minutes=30), rnd), **{k: rec[k] for k in spec.key})
            newer_batch.append(newer)
            older_batch.append(older)
        # Two requests, so no two versions of a key share both event time and
        # arrival (an event-time key column pins the event time): the
        # documented order then decides, never the tie-break.
        for label, upd in (("api-update", newer_batch), ("api-update-late", older_batch)):
            _, epoch = post(batch, {"records": upd})
            for rec in upd:
                accept_sent(rec, epoch, label)
        moved = next(r for r in sent if spec.event_dt(r) != TODAY.isoformat())
        mv = dict(spec.record(0, when_on(TODAY, rnd), rnd), **{k: moved[k] for k in spec.key})
        _, epoch = post(single, mv)
        accept_sent(mv, epoch, "api-move-dt")
        # 5. invalid bodies: the API model rejects them (400), nothing reaches the stream
        before = sum(len(s) for s in stream.shards)
        schema = api.methods[single]["models"].get("application/json", {})
        props = schema.get("properties", {})
        base = spec.record(next_i(), when_on(TODAY, rnd), rnd)
        bad_bodies = []
        for req in schema.get("required", [])[:1]:
            bad_bodies.append((f"missing {req}", {k: v for k, v in base.items() if k != req}))
        for name, p in props.items():
            if "enum" in p:
                bad_bodies.append((f"{name} not in enum", dict(base, **{name: "e2e_not_allowed"})))
                break
        for name, p in props.items():
            if "pattern" in p:
                bad_bodies.append((f"{name} does not match pattern", dict(base, **{name: "yesterday"})))
                break
        for name, p in props.items():
            # a declared bound (the type's own ±2^63 / ±1.8e308 cannot be undershot by 1)
            if "minimum" in p and abs(p["minimum"]) < 1e15:
                bad_bodies.append((f"{name} below minimum", dict(base, **{name: p["minimum"] - 1})))
                break
        for why, body in bad_bodies:
            post(single, body, expect_ok=False)
            model.api_rejects.append((ds, single[1], why))
        bschema = api.methods[batch]["models"].get("application/json", {})
        if bschema.get("additionalProperties") is False:
            post(batch, {"records": [base], "e2e_extra": 1}, expect_ok=False)
            model.api_rejects.append((ds, batch[1], "additional property"))
        if (bschema.get("properties", {}).get("records") or {}).get("minItems"):
            post(batch, {"records": []}, expect_ok=False)
            model.api_rejects.append((ds, batch[1], "empty records"))
        if bad_bodies:
            post(batch, {"records": [base, bad_bodies[0][1]]}, expect_ok=False)
            model.api_rejects.append((ds, batch[1], "one bad record in a batch"))
        check(f"api: {ds} rejected bodies never reach the stream", sum(len(s) for s in stream.shards) == before,
              "stream grew")
        # 5b. a record the model admits but Kinesis refuses (over 1 MiB): the
        # caller's fault, so 400 with a JSON body, not a 500 for the 5xx alarm.
        free = next((n for n, p in props.items() if p.get("type") == "string" and "pattern" not in p
                     and "enum" not in p and n not in spec.key and n != spec.event), None)
        if free:
            big = dict(base, **{free: "x" * (1024 * 1024 + 1)})
            status, resp, _ = api.request(single[0], single[1], json.dumps(big))
            check(f"api: {single[1]} maps a Kinesis ValidationException (record over 1 MiB) to 400 with a JSON body",
                  status == 400 and isinstance(resp, dict) and resp.get("error") == "stream_error",
                  f"status {status}: {str(resp)[:200]}")
            model.api_rejects.append((ds, single[1], "record over 1 MiB (Kinesis)"))
            check(f"api: {ds} a record Kinesis refused never reaches the stream", sum(len(s) for s in stream.shards) == before,
                  "stream grew")

        # 6. envelopes put straight onto the stream (valid, late, DMS) and invalid ones
        puts = []
        for k in range(4):
            rec = spec.record(next_i(), when_on(days[k % 3], rnd), rnd)
            ra = services.now_ms()
            puts.append(json.dumps({"dataset": ds, "received_at": ra, "data": rec}).encode())
            model.accept(ds, rec, received(ra), via="stream")
        for k in range(2):  # late: 10 days old
            rec = spec.record(next_i(), when_on(TODAY - dtm.timedelta(days=10), rnd), rnd)
            ra = services.now_ms()
            puts.append(json.dumps({"dataset": ds, "received_at": ra, "data": rec}).encode())
            model.accept(ds, rec, received(ra), via="stream-late")
        # DMS: inserts, updates, a delete
        dms = []
        for k in range(3):
            t = when_on(days[1], rnd)
            rec = spec.record(next_i(), t, rnd)
            dms.append(("insert", rec, t))
        for op, idx, minutes in (("update", 0, 10), ("update", 1, 20), ("delete", 2, 30)):
            rec0, t0 = dms[idx][1], dms[idx][2]
            t = t0 + dtm.timedelta(minutes=minutes)
            rec = dict(spec.record(0, t, rnd), **{k: rec0[k] for k in spec.key}) if op == "update" else dict(rec0, **{spec.event: spec.event_value(t)})
            dms.append((op, rec, t))
        for n, (op, rec, t) in enumerate(dms):
            commit = t + dtm.timedelta(seconds=1)
            md = {"timestamp": commit.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "record-type": "data", "operation": op,
                  "partition-key-type": "primary-key", "schema-name": "public", "table-name": ds, "transaction-id": 1000 + n}
            seq = dms_change_seq(commit, n)
            puts.append(json.dumps({"data": dict(rec, _dms_change_seq=seq), "metadata": md}).encode())
            model.accept(ds, rec, commit, deleted=(op == "delete"), via=f"dms-{op}", seq=seq)
        # One transaction updating one key twice: the same event time (set by
        # the transaction) and the same commit timestamp; only the change
        # sequence orders them, and they arrive in reverse order. The commit
        # is the scenario's latest (a minute ago), so where the key space is
        # small (a date and an allowed value) and other records share the
        # key and its event day, this pair still outranks them by change
        # sequence (the others have none, or an earlier commit) and its
        # tie-break is what processed shows.
        t = when_on(days[1], rnd)
        commit = NOW - dtm.timedelta(minutes=1)
        key = spec.record(next_i(), t, rnd)
        tx = []
        for n in range(2):
            rec = dict(spec.record(next_i(), t, rnd), **{k: key[k] for k in spec.key})
            tx.append((rec, dms_change_seq(commit, 10 + n)))
        md = {"timestamp": commit.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "record-type": "data", "operation": "update",
              "partition-key-type": "primary-key", "schema-name": "public", "table-name": ds, "transaction-id": 2000}
        for rec, seq in reversed(tx):
            puts.append(json.dumps({"data": dict(rec, _dms_change_seq=seq), "metadata": md}).encode())
            model.accept(ds, rec, commit, via="dms-same-transaction", seq=seq)
        model.same_transaction[ds] = (tuple(spec.normalize(tx[1][0])[k] for k in spec.key), tx[1][0], tx[1][1])
        model.stream_valid[ds] += len(puts)
        # invalid for the validator, one reason each
        bad = []
        good = spec.record(next_i(), when_on(TODAY, rnd), rnd)

        def env(data, **extra):
            return json.dumps(dict({"dataset": ds, "received_at": services.now_ms(), "data": data}, **extra)).encode()
        big = next((c for c in spec.columns if c["type"] == "bigint" and c["name"] not in spec.key), None)
        if big:
            bad.append((env(dict(good, **{big["name"]: "12"})), "wrong_type"))
        al = next((c for c in spec.columns if c.get("allowed")), None)
        if al:
            bad.append((env(dict(good, **{al["name"]: al["allowed"][0].upper()})), "not_allowed"))
        mn = next((c for c in spec.columns if "min" in c and c["type"] in ("bigint", "double")), None)
        if mn:
            bad.append((env(dict(good, **{mn["name"]: (mn["min"] - 1) if mn["type"] == "bigint" else mn["min"] - 0.5})), "out_of_range"))
        req = next((c for c in spec.columns if c.get("required") and c["name"] not in spec.key and c["name"] != spec.event), None)
        if req:
            bad.append((env({k: v for k, v in good.items() if k != req["name"]}), "missing_field"))
        bad.append((env(dict(good, **{spec.event: "not-a-time"})), "bad_event_time"))
        bad.append((env(dict(good, **{spec.event: spec.event_value(NOW + dtm.timedelta(days=2))})), "future_event_time"))
        bad.append((json.dumps({"dataset": ds, "received_at": services.now_ms()}).encode(), "missing_data"))
        bad.append((json.dumps({"control": {}, "metadata": {"record-type": "control", "operation": "create-table",
                                                            "schema-name": "public", "table-name": ds,
                                                            "timestamp": NOW.strftime("%Y-%m-%dT%H:%M:%S.%fZ")}}).encode(),
                    "dms_control_record"))
        for data, reason in bad:
            model.validator_rejects.append((ds, data, reason))
        puts += [b for b, _ in bad]
        RND.shuffle(puts)
        for i in range(0, len(puts), 10):
            chunk = puts[i:i + 10]
            status, resp = stream.api("PutRecords", {"StreamName": stream.name, "Records": [
                {"PartitionKey": f"producer-{ds}-{i + k}", "Data": base64.b64encode(b).decode()} for k, b in enumerate(chunk)]},
                f"producer {ds} {i}")
            check(f"stream: producer PutRecords for {ds}", status == 200 and resp["FailedRecordCount"] == 0, str(resp)[:200])
            st["stream_put"] += len(chunk)

        # 7. landing files: JSON lines and CSV with a header
        job = jobs_by_dataset[ds]
        landing = job["args"]["--landing_path"].split(",")[0]
        lroot = os.path.join(s3_root, *landing[len("s3://"):].rstrip("/").split("/"))
        os.makedirs(lroot, exist_ok=True)
        lines = []
        for k in range(4):
            rec = spec.record(next_i(), when_on(days[k % 3], rnd), rnd)
            lines.append(json.dumps(rec))
            model.accept(ds, rec, None, via="landing-json")
        qbase = spec.record(next_i(), when_on(TODAY, rnd), rnd)
        # Each quarantined row carries a unique marker in a field the
        # declaration does not know (the job ignores it; the quarantine keeps
        # the record as read), by which the check finds it.
        keyname = "e2e_tag"

        def qrec(label, **changes):
            r = dict(qbase, **{keyname: f"{ds}-quarantine-{label}"})
            r.update(changes)
            return r
        inv = []
        num = next((c for c in spec.columns if c["type"] in ("bigint", "double") and c["name"] not in spec.key), None)
        if num:
            inv.append((qrec("type", **{num["name"]: "abc"}), {f"type_mismatch({num['name']})"}))
        if al:
            inv.append((qrec("allowed", **{al["name"]: "e2e_bogus"}), {f"not_allowed({al['name']})"}))
        if mn:
            inv.append((qrec("min", **{mn["name"]: mn["min"] - 1}), {f"below_min({mn['name']})"}))
        if req:
            r = qrec("required")
            r.pop(req["name"])
            inv.append((r, {f"missing_required({req['name']})"}))
        # Dated two days ahead: beyond the run's time plus the allowed skew
        # (a landing row has no arrival time).
        inv.append((qrec("future", **{spec.event: spec.event_value(dtm.datetime.now(dtm.timezone.utc) + dtm.timedelta(days=2))}),
                    {f"future_event_time({spec.event})"}))
        for r, codes in inv:
            lines.append(json.dumps(r))
            model.quarantine[ds].append(({keyname: r[keyname]}, codes))
        lines.append('{"broken json line ' + ds)
        model.quarantine[ds].append(({"_raw|_corrupt_record": '{"broken json line ' + ds}, {"malformed_record"}))
        with open(os.path.join(lroot, "e2e-batch-1.jsonl"), "w") as f:
            f.write("\n".join(lines) + "\n")
        st["landing"] += len(lines)
        model.landing_rows[ds] += len(lines)
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow([c["name"] for c in spec.columns] + [keyname])
        for k in range(4):
            rec = spec.record(next_i(), when_on(days[k % 3], rnd), rnd)
            if spec.col[spec.event]["type"] == "timestamp":
                rec[spec.event] = ts_key(rec[spec.event])[:19]  # database export form: space, no offset (the dataset's zone)
            row = dict(rec)
            if k == 0 and al and row[al["name"]]:
                row[al["name"]] = "  " + row[al["name"]].upper() + " "  # normalized by the job
            w.writerow(["" if row[c["name"]] is None else row[c["name"]] for c in spec.columns] + [""])
            model.accept(ds, row, None, via="landing-csv")
        # A string key that looks like a number, alone in its file: Glue's
        # CSV inference (and Spark's, for a column of digits only) would
        # read 0000123 as 123; the job reads CSV as strings.
        zkey = next((c["name"] for c in spec.columns if c["name"] in spec.key and c["type"] == "string" and not c.get("allowed")), None)
        if zkey:
            rec = spec.record(next_i(), when_on(days[0], rnd), rnd)
            if spec.col[spec.event]["type"] == "timestamp":
                rec[spec.event] = ts_key(rec[spec.event])[:19]
            rec[zkey] = f"{next_i():07d}"
            zbuf = io.StringIO()
            zw = csv.writer(zbuf, lineterminator="\n")
            zw.writerow([c["name"] for c in spec.columns])
            zw.writerow(["" if rec[c["name"]] is None else rec[c["name"]] for c in spec.columns])
            with open(os.path.join(lroot, "e2e-export-2.csv"), "w") as f:
                f.write(zbuf.getvalue())
            model.accept(ds, rec, None, via="landing-csv-leading-zeros")
            model.leading_zeros[ds] = (zkey, rec[zkey])
            st["landing"] += 1
            model.landing_rows[ds] += 1
        csv_bad = []
        if req:
            r = qrec("csv-required", **{req["name"]: ""})
            csv_bad.append((r, {f"missing_required({req['name']})"}))
        if num:
            csv_bad.append((qrec("csv-type", **{num["name"]: "12x"}), {f"type_mismatch({num['name']})"}))
        for r, codes in csv_bad:
            w.writerow(["" if r.get(c["name"]) is None else r[c["name"]] for c in spec.columns] + [r[keyname]])
            model.quarantine[ds].append(({keyname: r[keyname]}, codes))
        with open(os.path.join(lroot, "e2e-export-1.csv"), "w") as f:
            f.write(buf.getvalue())
        st["landing"] += 4 + len(csv_bad)
        model.landing_rows[ds] += 4 + len(csv_bad)

    # stream-level invalid records that belong to no dataset
    for data, reason in ((b"{not json", "not_json"),
                         (json.dumps({"dataset": "e2e_undeclared", "received_at": services.now_ms(), "data": {}}).encode(),
                          "unknown_dataset")):
        model.validator_rejects.append((None, data, reason))
        stream.api("PutRecord", {"StreamName": stream.name, "PartitionKey": reason, "Data": base64.b64encode(data).decode()},
                   f"producer {reason}")
    return summary


# ---- Glue ----------------------------------------------------------------------

class Glue:
    def __init__(self, asm, run_dir, s3_root):
        self.asm, self.run_dir, self.s3_root = asm, run_dir, s3_root
        self.jobs = {}
        for stack, lid, r in asm.resources("AWS::Glue::Job"):
            p = asm.props(stack, lid)
            args = {k: str(v) for k, v in (p.get("DefaultArguments") or {}).items()}
            if p["Command"]["Name"] != "glueetl":
                raise services.EmulationError(f"{lid}: Glue command {p['Command']['Name']} is not emulated")
            self.jobs[p["Name"]] = {"lid": lid, "stack": stack, "name": p["Name"], "args": args,
                                    "script": asm.asset_for_s3(p["Command"]["ScriptLocation"]),
                                    "py_files": [asm.asset_for_s3(x) for x in args.get("--extra-py-files", "").split(",") if x]}
        self.by_lid = {(j["stack"], j["lid"]): n for n, j in self.jobs.items()}
        self.spark = None
        self.modules = {}
        self.runs = []

    def catalog_conf(self):
        """The Spark settings of the jobs' --conf (one value each across jobs), local catalog swapped in.

        Glue takes one --conf argument whose value holds further " --conf k=v"
        settings. The Iceberg's JDBC catalog on a SQLite file of
        the run (every table at the location its create call names), and
        S3FileIO Hadoop's FileIO over the s3 -> local FileSystem, so the
        tables' files are where the jobs' grants and the optimizers point
        (e2e/README.md).
        """
        conf = {}
        for j in self.jobs.values():
            raw = j["args"].get("--conf")
            if not raw:
                continue
            if "iceberg" not in j["args"].get("--datalake-formats", "").split(","):
                raise services.EmulationError(f"job {j['name']}: --conf configures Iceberg but --datalake-formats "
                                              "does not load it (Glue would not have the Iceberg classes)")
            for item in raw.split(" --conf "):
                k, _, v = item.strip().partition("=")
                if conf.get(k, v) != v:
                    raise services.EmulationError(f"jobs disagree on --conf {k}: {conf[k]} vs {v}")
                conf[k] = v
        self.iceberg_catalogs = sorted({k.split(".")[3] for k in conf
                                        if k.startswith("spark.sql.catalog.") and k.count(".") == 3})
        for name in self.iceberg_catalogs:
            base = f"spark.sql.catalog.{name}"
            if conf.get(f"{base}.catalog-impl") != "org.apache.iceberg.aws.glue.GlueCatalog":
                raise services.EmulationError(f"{base}.catalog-impl is {conf.get(base + '.catalog-impl')}: only the Glue catalog is emulated")
            conf[f"{base}.catalog-impl"] = "org.apache.iceberg.jdbc.JdbcCatalog"
            conf[f"{base}.uri"] = "jdbc:sqlite:" + os.path.join(self.run_dir, f"iceberg-{name}.db")
            conf[f"{base}.jdbc.schema-version"] = "V1"
            conf[f"{base}.io-impl"] = "org.apache.iceberg.hadoop.HadoopFileIO"
        return conf

    def start_spark(self):
        from pyspark.sql import SparkSession
        builder = (SparkSession.builder.master("local[2]").appName("e2e-local-lake")
                   .config("spark.jars", os.environ["E2E_SPARK_JARS"])
                   .config("spark.driver.extraClassPath", os.environ["E2E_SPARK_DRIVER_CP"])
                   .config("spark.hadoop.fs.s3.impl", "e2e.LocalS3FileSystem")
                   .config("spark.hadoop.fs.s3a.impl", "e2e.LocalS3FileSystem")
                   .config("spark.hadoop.fs.s3.local.root", self.s3_root)
                   .config("spark.ui.enabled", "false")
                   .config("spark.ui.showConsoleProgress", "false")
                   .config("spark.sql.shuffle.partitions", os.environ.get("E2E_SHUFFLE_PARTITIONS", "4"))
                   .config("spark.default.parallelism", "2")
                   .config("spark.driver.memory", os.environ.get("E2E_DRIVER_MEMORY", "1g"))
                   .config("spark.sql.session.timeZone", "UTC")
                   .config("spark.driver.extraJavaOptions", "-Duser.timezone=UTC -XX:+UseSerialGC")
                   .config("spark.executor.extraJavaOptions", "-Duser.timezone=UTC")
                   .config("spark.python.worker.reuse", "true")
                   # Iceberg's vectorized Parquet reads allocate through its
                   # shaded Arrow/netty, which crashed this machine's JVM
                   # (SIGSEGV in netty's PoolArena) on 10-million-row scans;
                   # row-based reads give the same rows.
                   .config("spark.sql.iceberg.vectorization.enabled", "false"))
        for k, v in self.catalog_conf().items():
            builder = builder.config(k, v)
        self.spark = builder.getOrCreate()
        self.spark.sparkContext.setLogLevel("ERROR")
        added = set()
        for j in self.jobs.values():
            for z in j["py_files"]:
                if z not in added:
                    added.add(z)
                    self.spark.sparkContext.addPyFile(z)
                    sys.path.insert(0, z)

    def create_iceberg_tables(self, only=None):
        """What glue:CreateTable with IcebergInput CREATE does: an empty v2 table, unpartitioned."""
        for db, name, ti in catalog_tables(self.asm):
            if not ti.get("_iceberg") or (only and name != only):
                continue
            fmt = ti["_iceberg"]
            if fmt != {"MetadataOperation": "CREATE", "Version": "2"}:
                raise services.EmulationError(f"{db}.{name}: IcebergInput {fmt} is not emulated")
            sd = ti["StorageDescriptor"]
            cols = ", ".join(f"`{c['Name']}` {c['Type']}" for c in sd["Columns"])
            for cat in self.iceberg_catalogs:
                self.spark.sql(f"CREATE NAMESPACE IF NOT EXISTS {cat}.`{db}`")
                self.spark.sql(f"CREATE TABLE {cat}.`{db}`.`{name}` ({cols}) USING iceberg "
                               f"LOCATION '{sd['Location']}' TBLPROPERTIES ('format-version' = '2')")

    def iceberg_rows(self, db, name):
        """Rows (dicts) of an Iceberg table's current snapshot, as Athena reads it."""
        cat = self.iceberg_catalogs[0]
        return [r.asDict() for r in self.spark.table(f"{cat}.`{db}`.`{name}`").collect()]

    def iceberg_table(self, db, name):
        return f"{self.iceberg_catalogs[0]}.`{db}`.`{name}`"

    def iceberg_head(self, db, name):
        """The table's current snapshot id (its main branch), None before the first commit."""
        got = self.spark.sql(f"SELECT snapshot_id FROM {self.iceberg_table(db, name)}.refs WHERE name = 'main'").collect()
        return got[0][0] if got else None

    def iceberg_content(self, db, name):
        """The table's rows as a sorted list of texts (order-free comparison)."""
        return sorted(map(repr, (tuple(sorted(r.items())) for r in self.iceberg_rows(db, name))))

    def module(self, script):
        if script not in self.modules:
            from pyspark import cloudpickle
            name = "gluejob_" + hashlib.sha1(script.encode()).hexdigest()[:10]
            spec = importlib.util.spec_from_file_location(name, script)
            mod = importlib.util.module_from_spec(spec)
            sys.modules[name] = mod
            spec.loader.exec_module(mod)
            cloudpickle.register_pickle_by_value(mod)
            self.modules[script] = mod
        return self.modules[script]

    def run_job(self, name, log, extra=None):
        """Run one job with its template arguments (plus ``extra``, as a run's own arguments)."""
        import awsglue.context as gctx
        job = self.jobs[name]
        argv = [job["script"], "--JOB_NAME", name]
        for k, v in dict(job["args"], **(extra or {})).items():
            argv += [k, v]
        gctx.ARGV = argv
        out = io.StringIO()
        t = time.time()
        state, error = "SUCCEEDED", None
        old_argv = sys.argv
        sys.argv = argv
        try:
            with contextlib.redirect_stdout(out):
                self.module(job["script"]).main(argv)
        except Exception as exc:  # the job run FAILED
            state, error = "FAILED", f"{type(exc).__name__}: {exc}"
            log.write(traceback.format_exc())
        finally:
            sys.argv = old_argv
        text = out.getvalue()
        log.write(f"==== {name} {state} ({time.time() - t:.1f}s)\n{text}\n")
        if error:
            log.write(error + "\n")
        run = {"job": name, "state": state, "error": error, "output": text, "seconds": time.time() - t}
        self.runs.append(run)
        stage(f"glue job {name}: {state} ({run['seconds']:.1f}s)" + (f" {error.splitlines()[0][:160]}" if error else ""))
        return run

    def workflow(self, log):
        """Run the workflow's jobs in the order of its AWS::Glue::Trigger resources."""
        triggers = []
        for stack, lid, r in self.asm.resources("AWS::Glue::Trigger"):
            p = r["Properties"]
            actions = [self.by_lid[(stack, self.asm.ref_target(stack, a["JobName"]))] for a in p.get("Actions", [])
                       if "JobName" in a]
            conds = []
            for c in (p.get("Predicate") or {}).get("Conditions", []):
                if "JobName" not in c:
                    raise services.EmulationError(f"{lid}: trigger condition {c} is not emulated (jobs only)")
                conds.append((self.by_lid[(stack, self.asm.ref_target(stack, c["JobName"]))], c.get("State", "SUCCEEDED")))
            triggers.append({"lid": lid, "type": p["Type"], "actions": actions, "conds": conds,
                             "logical": (p.get("Predicate") or {}).get("Logical", "AND")})
        states = {}
        fired = set()
        order = []
        progress = True
        while progress:
            progress = False
            for t in triggers:
                if t["lid"] in fired:
                    continue
                if t["type"] == "CONDITIONAL":
                    met = [states.get(j) == s for j, s in t["conds"]]
                    if not t["conds"] or not (all(met) if t["logical"] == "AND" else any(met)):
                        continue
                fired.add(t["lid"])
                progress = True
                for j in t["actions"]:
                    states[j] = self.run_job(j, log)["state"]
                    order.append(j)
        return states, order


# ---- Athena (DuckDB over the lake's files) -----------------------------------------

HIVE_TO_DUCK = {"string": "VARCHAR", "bigint": "BIGINT", "int": "INTEGER", "double": "DOUBLE", "boolean": "BOOLEAN",
                "timestamp": "TIMESTAMP", "date": "DATE", "float": "FLOAT", "smallint": "SMALLINT", "tinyint": "TINYINT"}


def duck_type(t):
    if t in HIVE_TO_DUCK:
        return HIVE_TO_DUCK[t]
    if t.startswith(("struct<", "array<", "map<", "decimal")):
        return "VARCHAR"
    raise services.EmulationError(f"Glue column type {t} is not mapped to DuckDB")


def catalog_tables(asm):
    """[(database, table name, TableInput)] of every AWS::Glue::Table and Custom::IcebergTable.

    An Iceberg table's TableInput carries "_iceberg": its IcebergInput.
    """
    out = []
    for stack, lid, r in asm.resources("AWS::Glue::Table"):
        p = asm.props(stack, lid)
        out.append((p["DatabaseName"], p["TableInput"]["Name"], p["TableInput"]))
    for stack, lid, r in asm.resources("Custom::IcebergTable"):
        call = json.loads(asm.props(stack, lid)["Create"])
        if (call.get("service"), call.get("action")) != ("Glue", "CreateTable"):
            raise services.EmulationError(f"{lid}: {call.get('service')}.{call.get('action')} is not emulated")
        prm = call["parameters"]
        ti = dict(prm["TableInput"], _iceberg=prm["OpenTableFormatInput"]["IcebergInput"])
        out.append((prm["DatabaseName"], ti["Name"], ti))
    return out


def s3_local(s3_root, uri):
    m = re.match(r"^s3a?://([^/]+)/?(.*)$", uri)
    return os.path.join(s3_root, m.group(1), m.group(2))


def duck_connect(tables, rows_for=None, s3_root=None, iceberg_rows=None):
    """A DuckDB database with one schema per Glue database. rows_for(db, name, ti) -> rows (model) or None (files).

    Iceberg tables are read through Spark (their current snapshot, deletes
    applied: what Athena engine 3 reads): iceberg_rows(db, name) -> rows.
    """
    import duckdb
    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    for db in sorted({t[0] for t in tables}):
        con.execute(f'CREATE SCHEMA IF NOT EXISTS "{db}"')
    for db, name, ti in tables:
        sd = ti["StorageDescriptor"]
        cols = [(c["Name"], duck_type(c["Type"])) for c in sd["Columns"]]
        parts = [(c["Name"], duck_type(c["Type"])) for c in ti.get("PartitionKeys", [])]
        allc = cols + parts
        ddl = ", ".join(f'"{n}" {t}' for n, t in allc)
        fq = f'"{db}"."{name}"'
        if rows_for is not None or ti.get("_iceberg"):
            con.execute(f"CREATE TABLE {fq} ({ddl})")
            rows = rows_for(db, name, ti) if rows_for is not None else iceberg_rows(db, name)
            if rows:
                con.executemany(f"INSERT INTO {fq} VALUES ({', '.join('?' for _ in allc)})",
                                [[r.get(n) for n, _ in allc] for r in rows])
            continue
        loc = s3_local(s3_root, sd["Location"])
        serde = sd.get("SerdeInfo", {}).get("SerializationLibrary", "")
        pattern = os.path.join(loc, *(["*=*"] * len(parts)), "*")
        import glob as _g
        files = [f for f in _g.glob(pattern) if not os.path.basename(f).startswith(("_", "."))]
        if not files:
            con.execute(f"CREATE TABLE {fq} ({ddl})")
            continue
        flist = "[" + ", ".join("'" + f.replace("'", "''") + "'" for f in files) + "]"
        hive_types = "{" + ", ".join(f"'{n}': '{t}'" for n, t in parts) + "}"
        sel = ", ".join(f'CAST("{n}" AS {t}) AS "{n}"' for n, t in allc)
        if "parquet" in serde.lower():
            src = f"read_parquet({flist}, hive_partitioning=true, hive_types={hive_types}, union_by_name=true)"
        elif "json" in serde.lower():
            colspec = "{" + ", ".join(f"'{n}': 'JSON'" if t == "VARCHAR" else f"'{n}': '{t}'" for n, t in cols) + "}"
            src = (f"read_json({flist}, format='newline_delimited', columns={colspec}, hive_partitioning=true, "
                   f"hive_types={hive_types}, compression='{'gzip' if sd.get('Compressed') or files[0].endswith('.gz') else 'none'}')")
            sel = ", ".join((f'CASE WHEN json_type("{n}") = \'VARCHAR\' THEN "{n}"->>\'$\' ELSE CAST("{n}" AS VARCHAR) END AS "{n}"'
                             if t == "VARCHAR" and (n, t) in cols else f'CAST("{n}" AS {t}) AS "{n}"') for n, t in allc)
        else:
            raise services.EmulationError(f"table {db}.{name}: SerDe {serde} is not emulated")
        try:
            con.execute(f"CREATE VIEW {fq} AS SELECT {sel} FROM {src}")
            con.execute(f"SELECT count(*) FROM {fq}").fetchall()
        except Exception as exc:  # the files do not fit the table definition
            check(f"athena: {db}.{name} reads its files with the catalog's columns", False,
                  f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
            con.execute(f"DROP VIEW IF EXISTS {fq}")
            con.execute(f"CREATE TABLE {fq} ({ddl})")
    return con


def transpile(sql):
    import sqlglot
    return sqlglot.transpile(sql, read="athena", write="duckdb")[0]


def run_query(con, database, sql):
    con.execute(f"SET search_path = '{database}'")
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    return cols, cur.fetchall()


# ---- main ----------------------------------------------------------------------

def norm_cell(v):
    if isinstance(v, float):
        return round(v, 6)
    if isinstance(v, (dtm.datetime,)):
        return ts_key(v)
    if isinstance(v, dtm.date):
        return v.isoformat()
    return v


def read_gz_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return [l for l in data.decode().split("\n") if l.strip()]


def walk_files(root):
    out = []
    for d, _, names in os.walk(root):
        for n in names:
            out.append(os.path.join(d, n))
    return sorted(out)


def main():
    assembly_dir = sys.argv[1]
    cache = os.environ["E2E_CACHE"]
    run_dir = os.path.join(cache, "run")
    shutil.rmtree(run_dir, ignore_errors=True)
    s3_root = os.path.join(run_dir, "s3")
    os.makedirs(s3_root)
    os.environ["E2E_S3_ROOT"] = s3_root
    os.environ["E2E_RUN_DIR"] = run_dir
    log = open(os.path.join(run_dir, "jobs.log"), "w")
    stage(f"assembly {assembly_dir}")
    asm = Assembly(assembly_dir)

    # --- wiring from the assembly
    glue = Glue(asm, run_dir, s3_root)
    specs, jobs_by_dataset = {}, {}
    for j in glue.jobs.values():
        if "--dataset_spec" in j["args"]:
            s = Spec(json.loads(j["args"]["--dataset_spec"]))
            specs[s.name] = s
            jobs_by_dataset[s.name] = j
    check("assembly: datasets declared by raw->processed jobs", specs, "no --dataset_spec on any Glue job")
    catalog = {}
    for db, name, ti in catalog_tables(asm):
        catalog.setdefault(db, {})[name] = ti
    with open(os.path.join(run_dir, "catalog.json"), "w") as f:
        json.dump(catalog, f)

    (sstack, slid, _), = asm.resources("AWS::Kinesis::Stream")
    sp = asm.props(sstack, slid)
    shard_count = sp.get("ShardCount")
    if (sp.get("StreamModeDetails") or {}).get("StreamMode") == "ON_DEMAND" or shard_count is None:
        raise services.EmulationError("on-demand streams are not emulated (no ShardCount)")
    stream = services.Stream(asm.physical_id(sstack, slid), asm.arn(sstack, slid), int(shard_count))

    lambdas = {}
    runtimes = []
    vbin = os.path.join(cache, "validator", "bootstrap")
    for stack, lid, r in asm.resources("AWS::Lambda::Function"):
        p = r["Properties"]
        key = asm.resolve(stack, (p.get("Code") or {}).get("S3Key"))
        if not key or key not in asm.assets or not os.path.isdir(asm.assets[key]) or \
                not os.path.exists(os.path.join(asm.assets[key], "datasets.json")):
            continue
        asset_dir = asm.assets[key]
        shutil.copy(os.path.join(asset_dir, "datasets.json"), os.path.join(os.path.dirname(vbin), "datasets.json"))
        env = asm.resolve(stack, (p.get("Environment") or {}).get("Variables") or {})
        arn = asm.arn(stack, lid)
        rt = services.LambdaRuntime(vbin, {k: str(v) for k, v in env.items()}, arn)
        lambdas[arn] = rt
        runtimes.append(rt)
        validator_datasets = json.load(open(os.path.join(asset_dir, "datasets.json")))
        check("assembly: validator datasets.json declares the same datasets as the Glue jobs",
              sorted(d["name"] for d in validator_datasets) == sorted(specs), f"{[d['name'] for d in validator_datasets]} vs {sorted(specs)}")
    vtl = services.Vtl(os.environ["E2E_VTL_CP"], os.path.join(os.environ.get("JAVA_HOME", "/usr"), "bin", "java"))
    api = services.Api(asm, stream, vtl)
    (fstack, flid, _), = asm.resources("AWS::KinesisFirehose::DeliveryStream")
    firehose = services.Firehose(asm, fstack, flid, s3_root, lambdas)
    check("firehose: reads the stream of the assembly", firehose.source_arn == stream.arn,
          f"{firehose.source_arn} vs {stream.arn}")

    model = Model(specs)
    try:
        # --- 1. ingestion
        stage("API Gateway + Kinesis: sending the scenario")
        summary = build_scenario(specs, api, stream, s3_root, jobs_by_dataset, model)
        # partition keys: distinct within a batch request, different across requests
        api_keys = [(label, keys) for label, keys in stream.keys_by_request if not label.startswith("producer")]
        dup_in_batch = [(l, k) for l, k in api_keys if len(set(k)) != len(k)]
        check("stream: partition keys are distinct within each API batch", not dup_in_batch,
              f"{len(dup_in_batch)} requests with repeated keys, e.g. {dup_in_batch[:1]}")
        seen, shared = {}, []
        for label, keys in api_keys:
            for k in set(keys):
                if k in seen and seen[k] != label:
                    shared.append(k)
                seen.setdefault(k, label)
        check("stream: partition keys differ across API requests", not shared,
              f"{len(set(shared))} keys reused by different requests, e.g. {sorted(set(shared))[:3]} "
              f"(a template that renders a constant key puts every record on one shard)")
        per_shard = [len(s) for s in stream.shards]
        stage(f"stream: {sum(per_shard)} records on {stream.shard_count} shards {per_shard}")

        # --- 2. Firehose -> validator -> raw zone
        stage("Firehose: Lambda processor (validator) and S3 delivery")
        records = stream.read_all()
        firehose.deliver(records)
        fs = firehose.stats
        check("firehose: records in = Ok + ProcessingFailed + Dropped (+ partitioning-failed)",
              fs["read"] == fs["Ok"] + fs["ProcessingFailed"] + fs["Dropped"] + fs["partitioning-failed"], str(fs))
        expected_ok = sum(s["api_ok"] for s in summary.values()) + sum(model.stream_valid.values())
        check("firehose: Ok records = valid records sent", fs["Ok"] == expected_ok, f"Ok {fs['Ok']}, expected {expected_ok}")
        check("firehose: ProcessingFailed = invalid records sent", fs["ProcessingFailed"] == len(model.validator_rejects),
              f"{fs['ProcessingFailed']} vs {len(model.validator_rejects)}")
        check("firehose: nothing Dropped", fs["Dropped"] == 0, str(fs))
        # the validator's reasons
        reasons = {}
        for line in sum((rt.logs for rt in runtimes), []):
            try:
                j = json.loads(line)
            except ValueError:
                continue
            if j.get("msg") == "record rejected":
                reasons[j.get("record_id")] = j.get("reason")
        by_data = {}
        for rid, rec in firehose.record_ids.items():
            if rid in reasons:
                by_data[rec["data"]] = reasons[rid]
        wrong = [(r, by_data.get(d)) for _, d, r in model.validator_rejects if by_data.get(d) != r]
        check("validator: every invalid record rejected with its expected reason", not wrong,
              f"expected vs logged: {wrong[:4]}")
        say(f"API: {len(api.requests)} requests ({sum(1 for r in api.requests if r.get('status') == 200)} x 200, "
            f"{sum(1 for r in api.requests if r.get('status') == 400)} x 400), {vtl.rendered} templates rendered by Velocity")
        say(f"stream: {sum(len(s) for s in stream.shards)} records on {stream.shard_count} shard(s)")
        say(f"firehose: read {fs['read']}, Ok {fs['Ok']}, ProcessingFailed {fs['ProcessingFailed']}, Dropped {fs['Dropped']}, "
            f"{fs['invocations']} Lambda invocation(s), {fs['objects']} S3 objects")
 
        for ds, st in summary.items():
            say(f"{ds}: API accepted {st['api_ok']} records, {st['api_400']} requests rejected (400); "
                f"{st['stream_put']} put straight on the stream; {st['landing']} landing rows")
        rej = {}
        for r in reasons.values():
            rej[r] = rej.get(r, 0) + 1
        say("validator rejections (from its log): " + ", ".join(f"{k} {v}" for k, v in sorted(rej.items())))
        say(f"API model rejections (400): {len(model.api_rejects)} (" + ", ".join(sorted({why for _, _, why in model.api_rejects})) + ")")
        # the raw zone
        raw_bucket = firehose.bucket
        err_files = [f for f in walk_files(os.path.join(s3_root, raw_bucket)) if "/errors/" in f]
        err_recs = [json.loads(l) for f in err_files for l in read_gz_lines(f)]
        err_data = sorted(base64.b64decode(e["rawData"]) for e in err_recs)
        check("raw: every rejected record is under the error prefix, once",
              err_data == sorted(d for _, d, _ in model.validator_rejects), f"{len(err_data)} error records")
        fields = {"attemptsMade", "arrivalTimestamp", "errorCode", "errorMessage", "attemptEndingTimestamp", "rawData", "lambdaArn"}
        check("raw: error records have Firehose's error-output fields", all(fields <= set(e) for e in err_recs), "")
        raw_counts = {}
        for ds, spec in specs.items():
            raw_path = jobs_by_dataset[ds]["args"]["--raw_path"]
            files = walk_files(s3_local(s3_root, raw_path))
            lines = [(f, l) for f in files for l in read_gz_lines(f)]
            raw_counts[ds] = len(lines)
            want = summary[ds]["api_ok"] + model.stream_valid[ds]
            check(f"raw: {ds} Firehose prefix holds every valid record", len(lines) == want, f"{len(lines)} vs {want} under {raw_path}")
            bad_dt = []
            for f, l in lines:
                j = json.loads(l)
                m = re.search(r"/dt=(\d{4}-\d{2}-\d{2})/", f)
                if not m or m.group(1) != spec.event_dt(j["data"]):
                    bad_dt.append(f)
            check(f"raw: {ds} records are in the dt= folder of their event time", not bad_dt, f"{bad_dt[:2]}")
        for rt in runtimes:
            rt.close()
        runtimes = []

        # --- 2b. valid records stranded under errors/ (Firehose's partition
        # limit) go back into the lake through the replay command
        stage("replay: records under errors/activePartitionExceeded/ back through landing/")
        raw_root = os.path.join(s3_root, raw_bucket)
        probe = os.path.join(raw_root, "errors", "activePartitionExceeded", "dt=" + TODAY.isoformat(), "e2e-overflow.gz")
        os.makedirs(os.path.dirname(probe), exist_ok=True)
        lines, replayed = [], {}
        for ds, spec in specs.items():
            rnd = random.Random(f"replay-{ds}")
            for k in range(3):
                rec = spec.record(90000 + k, when_on(TODAY - dtm.timedelta(days=400 + k), rnd), rnd)
                ra = services.now_ms()
                raw = json.dumps({"dataset": ds, "received_at": ra, "data": rec}).encode()
                lines.append(json.dumps({"attemptsMade": 1, "arrivalTimestamp": ra,
                                         "errorCode": "DynamicPartitioning.ActivePartitionsLimitExceeded",
                                         "errorMessage": "e2e", "attemptEndingTimestamp": ra,
                                         "rawData": base64.b64encode(raw).decode()}))
                model.accept(ds, rec, dtm.datetime.fromtimestamp(ra / 1000, UTC), via="replay")
                model.landing_rows[ds] += 1
                replayed[ds] = replayed.get(ds, 0) + 1
        with open(probe, "wb") as f:
            f.write(gzip.compress(("\n".join(lines) + "\n").encode()))
        import subprocess  # noqa: PLC0415
        rp = subprocess.run([sys.executable, os.path.join(REPO, "ingestion", "replay", "replay_errors.py"), "--local", raw_root],
                            capture_output=True, text=True)
        check("replay: the command replays the overflow records and exits 0", rp.returncode == 0, rp.stdout + rp.stderr)
        for ds, n in replayed.items():
            check(f"replay: {ds} records land under its landing prefix", f"replayed into landing/{ds}/replay/: {n} records" in rp.stdout,
                  rp.stdout)
        check("replay: the replayed error object is gone from errors/", not os.path.exists(probe), probe)
        say("replay: " + "; ".join(l for l in rp.stdout.splitlines() if "replayed" in l))

        # --- 3. Glue workflow
        stage("Glue: starting Spark (local[2])")
        glue.start_spark()
        stage("Glue Data Catalog: the deployment's Iceberg tables (CreateTable, IcebergInput)")
        glue.create_iceberg_tables()
        states, order = glue.workflow(log)
        check("glue: every job of the workflow ran and SUCCEEDED", set(order) == set(glue.jobs) and
              all(s == "SUCCEEDED" for s in states.values()),
              "; ".join(f"{j}: {s}" for j, s in states.items() if s != "SUCCEEDED") + (f" never ran: {sorted(set(glue.jobs) - set(order))}" if set(order) != set(glue.jobs) else ""))
        runs1 = {r["job"]: r for r in glue.runs}
        verify_lake(asm, glue, specs, jobs_by_dataset, model, s3_root, runs1, raw_counts)
        first = snapshot(asm, s3_root, glue)

        # --- 4. a second run with no new input changes nothing
        stage("Glue: second workflow run, no new input")
        glue.runs = []
        states2, _ = glue.workflow(log)
        second = snapshot(asm, s3_root, glue)
        changed = sorted(k for k in set(first) | set(second) if first.get(k) != second.get(k))
        check("idempotence: a rerun with no new input changes no file and no row", not changed, f"changed: {changed[:5]}")

        # --- 5. a deliberately bad batch: the quality job reports the failing rules
        quality_bad_batch(asm, glue, specs, jobs_by_dataset, model, s3_root, log, second)

        # --- 6. a batch against stored rows: newer wins, older is superseded, one commit
        merge_against_history(glue, specs, jobs_by_dataset, s3_root, log)

        # --- 6b. one dataset quiet, one with a new row: the quiet one does not
        # block the other's processed and curated output
        quiet_dataset_does_not_block(glue, specs, jobs_by_dataset, s3_root, log)

        # --- 7. the saved Iceberg history and time travel, while the tables
        # hold several snapshots
        iceberg_named_queries(asm, glue, specs, jobs_by_dataset, ("history", "as_of"))

        # --- 8. a failed commit, then the table optimizers of the template
        failed_commit_and_maintenance(asm, glue, specs, jobs_by_dataset, s3_root)

        # --- 9. the saved OPTIMIZE and VACUUM, then the documented migration
        iceberg_named_queries(asm, glue, specs, jobs_by_dataset, ("optimize", "vacuum"))
        migration_from_parquet(glue, specs, jobs_by_dataset, s3_root)
        curated_rebuilt_from_history(glue, specs, jobs_by_dataset)
    finally:
        for rt in runtimes:
            rt.close()
        vtl.close()
        log.close()

    print()
    print("==== local lake report ====")
    for line in REPORT:
        print(line)
    failed = [c for c in CHECKS if not c[1]]
    if failed:
        print("\nfailed checks:")
        for name, _, detail in failed:
            print(f"  - {name}: {detail}")
    print(f"wall time {time.time() - T0:.0f}s; job log {os.path.join(run_dir, 'jobs.log')}")
    print(f"e2e: {len(CHECKS) - len(failed)} checks passed, {len(failed)} failed")
    return 1 if failed else 0


def job_counts(run, ds):
    m = re.search(r"raw_to_processed " + re.escape(ds) + r": (\{.*\"read\".*\})", run["output"])
    return json.loads(m.group(1)) if m else None


def verify_lake(asm, glue, specs, jobs_by_dataset, model, s3_root, runs, raw_counts):
    tables = catalog_tables(asm)
    actual = duck_connect(tables, s3_root=s3_root, iceberg_rows=glue.iceberg_rows)
    counts = []
    for db, name, ti in tables:
        try:
            sql = 'SELECT count(*) FROM "%s"."%s"' % (db, name)
            counts.append(f"{db}.{name} {actual.execute(sql).fetchone()[0]}")
        except Exception as exc:
            counts.append(f"{db}.{name} unreadable ({type(exc).__name__})")
    say("rows per catalog table: " + ", ".join(counts))
    lookback = {}
    cur_job = curated_job(glue)
    for ds, spec in specs.items():
        job = jobs_by_dataset[ds]
        want = model.processed_rows(ds)
        cols = [c["name"] for c in spec.columns] + ["_is_deleted", "_change_seq", "dt"]
        got = glue.iceberg_rows(job["args"]["--database"], job["args"]["--table"])
        key = lambda r: tuple(str(r[k]) for k in spec.key)
        got_keys = [key(r) for r in got]
        dups = sorted({k for k in got_keys if got_keys.count(k) > 1})
        check(f"processed: {ds} has one row per key", not dups, f"duplicated keys {dups[:3]}")
        gm = {key(r): {c: norm_cell(r.get(c)) for c in cols} for r in got}
        wm = {key(r): {c: norm_cell(r.get(c)) for c in cols} for r in want}
        missing = sorted(set(wm) - set(gm))
        extra = sorted(set(gm) - set(wm))
        diff = [(k, {c: (gm[k][c], wm[k][c]) for c in cols if gm[k][c] != wm[k][c]}) for k in sorted(set(gm) & set(wm))
                if gm[k] != wm[k]]
        check(f"processed: {ds} holds exactly the latest version of every key (deletes marked _is_deleted)",
              not missing and not extra and not diff,
              f"missing {missing[:3]}, unexpected {extra[:3]}, different (got, want) {diff[:2]}")
        if ds in model.leading_zeros:
            col, value = model.leading_zeros[ds]
            check(f"landing CSV: {ds} keeps the leading zeros of {col} {value!r} (CSV read as strings)",
                  any(str(r.get(col)) == value for r in got), f"no processed row with {col} = {value!r}")
        if ds in model.same_transaction:
            k, rec, seq = model.same_transaction[ds]
            row = gm.get(tuple(str(x) for x in k))
            last = {c["name"]: norm_cell(spec.normalize(rec)[c["name"]]) for c in spec.columns}
            check(f"dedup: {ds} two changes of one key in one transaction (same event and commit time, arriving "
                  "in reverse) keep the higher DMS change sequence",
                  row is not None and all(row[c] == v for c, v in last.items()) and row["_change_seq"] == seq.zfill(40),
                  f"got {row}, want {last} with sequence {seq}")
        # quarantine
        qpath = job["args"]["--quarantine_path"]
        qlines = [json.loads(l) for f in walk_files(s3_local(s3_root, qpath)) if not os.path.basename(f).startswith(("_", "."))
                  for l in read_gz_lines(f)]
        problems = []
        for match, codes in model.quarantine[ds]:
            hits = [q for q in qlines if all(any(str(q.get(a)) == str(v) for a in k.split("|")) for k, v in match.items())]
            if len(hits) != 1:
                problems.append(f"{match}: found {len(hits)} times")
                continue
            got_codes = set()
            for part in str(hits[0].get("_quarantine_reason", "")).split("; "):
                m = re.match(r"^([a-z_]+)(\(([^)]*)\))?:", part)
                if m:
                    got_codes.add(m.group(1) + (f"({m.group(3)})" if m.group(3) else ""))
            if got_codes != codes:
                problems.append(f"{match}: reasons {sorted(got_codes)}, expected {sorted(codes)}")
        check(f"quarantine: {ds} holds every invalid landing record with its reason", not problems and
              len(qlines) == len(model.quarantine[ds]), f"{len(qlines)} lines vs {len(model.quarantine[ds])}; {problems[:3]}")
        # records in = records out
        counts = job_counts(runs.get(job["name"], {"output": ""}), ds)
        n_in = raw_counts[ds] + model.landing_rows[ds]
        if counts is not None:
            check(f"glue: {ds} records in = valid + quarantined ({n_in} read)",
                  counts["read"] == n_in and counts["valid"] + counts["quarantined"] == n_in
                  and counts["quarantined"] == len(model.quarantine[ds]) and counts["valid"] == len(model.versions[ds]),
                  f"job counts {counts}; expected read {n_in}, valid {len(model.versions[ds])}, quarantined {len(model.quarantine[ds])}")
        say(f"{ds}: raw {raw_counts[ds]} + landing {model.landing_rows[ds]} records -> processed {len(got)} rows "
            f"({sum(1 for r in got if r.get('_is_deleted'))} deleted), quarantine {len(qlines)}"
            + (f"; job counts {json.dumps(counts, sort_keys=True)}" if counts else ""))
    # quality on good data: what the job reports = what the rules say about the model's rows
    qpass = {}
    for name, run in runs.items():
        args = glue.jobs[name]["args"]
        if "--ruleset" in args:
            ds = args.get("--dataset_name")
            rules = rule_texts(args["--ruleset"])
            failed = failed_rules_in(run, rules)
            want = model_dq_failures(model, ds, args, [])
            qpass[ds] = not want
            check(f"quality: {name} reports the rule outcomes the model expects", sorted(failed) == sorted(want),
                  f"reported failed {failed}, expected failed {want}; state {run['state']}")
            check(f"quality: {ds} good data passes every declared rule", not want and run["state"] == "SUCCEEDED",
                  f"rules that fail on valid data: {want}; job state {run['state']}")
    check_verdicts(glue, runs, qpass, s3_root, "good data")
    # curated
    if cur_job is None:
        check("curated: a processed->curated job exists", False, "no job with --curated_root")
        return
    lb = int(cur_job["args"].get("--lookback_days", "3"))
    start = (TODAY - dtm.timedelta(days=lb)).isoformat()
    joins = json.loads(cur_job["args"].get("--joins", "[]"))
    # The raw jobs' change records name every day they wrote (all of them:
    # the tables were empty), which curated recomputes besides its window.
    changed = ({r["dt"] for ds in specs for r in model.processed_rows(ds)}
               if cur_job["args"].get("--changes_root") else set())
    want_tables = curated_model(specs, model, joins, start, changed)
    members = {f"{ds}_daily": [ds] for ds in specs}
    members.update({j["name"]: list(j["datasets"]) for j in joins})
    gated = "--quality_root" in cur_job["args"]
    for table in list(want_tables):
        failing = [d for d in members.get(table, []) if not qpass.get(d, True)]
        if failing:
            # documented: a dataset whose verdict failed (and every join using it) keeps its curated partitions;
            # without a verdict gate the workflow stops before the curated job: either way nothing is written
            want_tables[table] = (want_tables[table][0], [])
            say(f"curated {table}: expected unchanged (quality of {', '.join(failing)} fails in the model"
                + (", verdict gate" if gated else ", workflow stops") + ")")
    curated_root = cur_job["args"]["--curated_root"]
    for table, (cols, rows) in want_tables.items():
        # Through the catalog, as Athena reads the Iceberg table.
        got = glue.iceberg_rows(cur_job["args"]["--database"], table)
        g = sorted((tuple(norm_cell(r.get(c)) for c in cols) for r in got), key=repr)
        w = sorted((tuple(norm_cell(r.get(c)) for c in cols) for r in rows), key=repr)
        check(f"curated: {table} equals the recomputation from the inputs (dt >= {start} and the changed days)", g == w,
              f"{len(g)} rows vs {len(w)} expected; first difference: "
              f"{next(((a, b) for a, b in zip(g, w) if a != b), (g[len(w):len(w)+1], w[len(g):len(g)+1]))}")
        say(f"curated {table}: {len(got)} rows")
    # named queries
    model_tables = model_catalog(asm, specs, jobs_by_dataset, model, want_tables, curated_root)
    expected = duck_connect(tables, rows_for=model_tables)
    for stack, lid, r in asm.resources("AWS::Athena::NamedQuery"):
        p = asm.props(stack, lid)
        qname, db = p.get("Name", lid), p["Database"]
        if iceberg_kind(p["QueryString"]):
            continue  # Athena's Iceberg statements run on Spark (iceberg_named_queries)
        try:
            sql = transpile(p["QueryString"])
            cols, rows = run_query(actual, db, sql)
            _, wrows = run_query(expected, db, sql)
            # ORDER BY ... LIMIT n picks any of the rows tied at the cut: the
            # limited result is checked by its size, its rows without the
            # limit (a multiset), which is what they must agree on.
            limited = re.search(r"\blimit\s+\d+\s*;?\s*$", sql, re.I)
            if limited:
                check(f"athena: '{qname}' returns as many rows as the model expects", len(rows) == len(wrows),
                      f"{len(rows)} vs {len(wrows)}")
                full = sql[:limited.start()]
                _, rows_all = run_query(actual, db, full)
                _, wrows_all = run_query(expected, db, full)
            else:
                rows_all, wrows_all = rows, wrows
        except Exception as exc:
            check(f"athena: '{qname}' runs", False, f"{type(exc).__name__}: {exc}")
            continue
        check(f"athena: '{qname}' runs", True)
        # compare columns the model knows (a column that is NULL in every model row is not modelled)
        known = [i for i in range(len(cols)) if any(wr[i] is not None for wr in wrows_all)]
        g = [tuple(norm_cell(r[i]) for i in known) for r in rows_all]
        w = [tuple(norm_cell(r[i]) for i in known) for r in wrows_all]
        ordered = "order by" in p["QueryString"].lower()
        same = (g == w) if ordered and not has_ties(p["QueryString"]) else (sorted(map(repr, g)) == sorted(map(repr, w)))
        check(f"athena: '{qname}' returns the rows the model expects" + ("" if wrows else " (none)"), same,
              f"got {g[:4]} expected {w[:4]}")
        say(f"query '{qname}': {len(rows)} rows: " + "; ".join(
            ", ".join(f"{c}={norm_cell(v)}" for c, v in zip(cols, row)) for row in rows[:4]) + (" ..." if len(rows) > 4 else ""))


def has_ties(sql):
    return True  # sort both sides: ORDER BY on aggregates may tie


def rule_texts(ruleset):
    from awsgluedq.transforms import parse_ruleset
    return [t for t, _ in parse_ruleset(ruleset)]


def failed_rules_in(run, rules):
    """Rules the job reported as failed, read from what it logged or raised."""
    text = run["output"] + "\n" + (run["error"] or "")
    failed = []
    for rule in rules:
        flat = " ".join(rule.split())
        for line in text.splitlines():
            if flat in " ".join(line.split()) and re.search(r"fail", line, re.I):
                failed.append(rule)
                break
    return failed


def check_verdicts(glue, runs, expected, s3_root, label):
    """Quality jobs with --verdict_path: the verdict they wrote must match the model (passed or failed)."""
    for name, run in runs.items():
        args = glue.jobs[name]["args"]
        if "--verdict_path" not in args or "--ruleset" not in args:
            continue
        ds = args.get("--dataset_name")
        path = s3_local(s3_root, args["--verdict_path"])
        try:
            with open(path) as f:
                verdict = json.load(f)
        except (OSError, ValueError) as exc:
            check(f"quality: {ds} verdict written ({label})", False, f"{args['--verdict_path']}: {exc}")
            continue
        state = next((verdict[k] for k in ("state", "verdict", "status") if k in verdict), None)
        want = "passed" if expected.get(ds) else "failed"
        check(f"quality: {ds} verdict is {want} ({label})", state == want,
              f"verdict {json.dumps(verdict)[:300]}")
        say(f"quality verdict {ds} ({label}): {state}")


def dq_method(ds):
    try:
        with open(os.path.join(os.environ["E2E_RUN_DIR"], "dq_calls.jsonl")) as f:
            calls = [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        calls = []
    methods = [c["composite_method"] for c in calls if c.get("context") == ds]
    return methods[-1] if methods else "COLUMN"


def model_dq_failures(model, ds, args, extra_rows):
    from awsgluedq.transforms import evaluate_rows
    lb = int(args.get("--lookback_days", "3"))
    start = (TODAY - dtm.timedelta(days=lb)).isoformat()
    rows = [r for r in model.processed_rows(ds) if not r["_is_deleted"] and r["dt"] >= start] + list(extra_rows)
    return [t for t, ok in evaluate_rows(args["--ruleset"], rows, row_mode=(dq_method(ds) == "ROW")) if not ok]


def curated_model(specs, model, joins, start, changed=()):
    """{table: (columns, rows)} recomputed from the model's processed rows (window and changed days)."""
    out = {}
    live = {ds: [r for r in model.processed_rows(ds) if not r["_is_deleted"] and (r["dt"] >= start or r["dt"] in changed)]
            for ds in specs}
    for ds, spec in specs.items():
        groups = {}
        for r in live[ds]:
            groups.setdefault((r["dt"],) + tuple(r[g] for g in spec.group_by), []).append(r)
        cols = spec.group_by + ["record_count", "distinct_keys"]
        for c in spec.numeric:
            cols += [f"sum_{c}", f"min_{c}", f"max_{c}"]
        rows = []
        for k, rs in groups.items():
            row = {"dt": k[0], **{g: v for g, v in zip(spec.group_by, k[1:])}, "record_count": len(rs),
                   "distinct_keys": len({tuple(r[x] for x in spec.key) for r in rs})}
            for c in spec.numeric:
                vals = [r[c] for r in rs if r[c] is not None]
                row[f"sum_{c}"] = sum(vals) if vals else None
                row[f"min_{c}"] = min(vals) if vals else None
                row[f"max_{c}"] = max(vals) if vals else None
            rows.append(row)
        out[f"{ds}_daily"] = (cols + ["dt"], rows)
    for j in joins:
        on = list(j["on"])
        agg = {}
        for ds in j["datasets"]:
            spec = specs[ds]
            for r in live[ds]:
                k = (r["dt"],) + tuple(r[c] for c in on)
                a = agg.setdefault(k, {})
                a[f"{ds}_record_count"] = a.get(f"{ds}_record_count", 0) + 1
                for c in spec.numeric:
                    a[f"{ds}_sum_{c}"] = a.get(f"{ds}_sum_{c}", 0) + (r[c] or 0)
        cols = on[:]
        for ds in j["datasets"]:
            cols += [f"{ds}_record_count"] + [f"{ds}_sum_{c}" for c in specs[ds].numeric]
        rows = []
        for k, a in agg.items():
            row = {"dt": k[0], **dict(zip(on, k[1:]))}
            for c in cols[len(on):]:
                row[c] = a.get(c, 0)
            rows.append(row)
        out[j["name"]] = (cols + ["dt"], rows)
    return out


def model_catalog(asm, specs, jobs_by_dataset, model, curated_tables, curated_root):
    """rows_for(db, table, TableInput) for the model's DuckDB.

    Tables are matched by the lake's naming convention (processed <dataset>,
    <dataset>_quarantine, <dataset>_daily, <join name>), never by their
    Location, so a wrong Location makes the real query differ from the model.
    Also checks that each of those tables points where its job writes.
    """
    by_name, where = {}, {}
    for ds in specs:
        a = jobs_by_dataset[ds]["args"]
        by_name[ds] = lambda ds=ds: model.processed_rows(ds)
        where[ds] = a["--processed_path"]
        by_name[f"{ds}_quarantine"] = lambda ds=ds: [
            {"_quarantine_reason": "; ".join(f"{c}: x" for c in sorted(codes)), "dt": TODAY.isoformat()}
            for _, codes in model.quarantine[ds]]
        where[f"{ds}_quarantine"] = a["--quarantine_path"]
    for table, (_, rows) in curated_tables.items():
        by_name[table] = lambda rows=rows: rows
        where[table] = curated_root + table + "/"
    for db, name, ti in catalog_tables(asm):
        if name in where:
            loc = ti["StorageDescriptor"]["Location"]
            check(f"catalog: {db}.{name} points where its job writes", loc.rstrip("/") == where[name].rstrip("/"),
                  f"Location {loc}, the job writes {where[name]}")

    def rows_for(db, name, ti):
        f = by_name.get(name)
        return f() if f else []
    return rows_for


def snapshot(asm, s3_root, glue):
    """Content of everything the jobs write: processed, quarantine, curated (rows per file set)."""
    import duckdb
    roots = set()
    for j in glue.jobs.values():
        for k in ("--processed_path", "--quarantine_path", "--curated_root"):
            if k in j["args"]:
                roots.add(s3_local(s3_root, j["args"][k]))
    snap = {}
    # Iceberg tables: the current snapshot and its rows (their files are
    # Iceberg's business: a commit adds files, maintenance rewrites them).
    iceberg_dirs = []
    for db, name, ti in catalog_tables(asm):
        if ti.get("_iceberg"):
            iceberg_dirs.append(s3_local(s3_root, ti["StorageDescriptor"]["Location"]).rstrip("/") + "/")
            rows = glue.iceberg_content(db, name)
            snap[f"iceberg:{db}.{name}"] = f"{glue.iceberg_head(db, name)}:" + hashlib.sha256("\n".join(rows).encode()).hexdigest()
    for root in sorted(roots):
        for f in walk_files(root):
            if any(f.startswith(d) for d in iceberg_dirs):
                continue
            rel = os.path.relpath(f, s3_root)
            if f.endswith(".parquet"):
                rows = sorted(map(repr, duckdb.sql(f"SELECT * FROM read_parquet('{f}')").fetchall()))
                part = os.path.dirname(rel)
                snap.setdefault(part, []).append(hashlib.sha256("\n".join(rows).encode()).hexdigest())
            elif not os.path.basename(f).startswith(("_", ".")):
                with open(f, "rb") as fh:
                    snap[rel] = hashlib.sha256(fh.read()).hexdigest()
    return {k: (sorted(v) if isinstance(v, list) else v) for k, v in snap.items()}


def record_value(v):
    """A stored value as a record's JSON value (timestamps RFC 3339 UTC, dates ISO)."""
    if isinstance(v, dtm.datetime):
        return v.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return v.isoformat() if isinstance(v, dtm.date) else v


def unused_key_value(col_type, present, text):
    """A first-key value no stored row has (``text`` for strings), or None
    when the type has none to offer (a date beyond today)."""
    value = {"string": lambda: text, "bigint": lambda: max(present) + 1, "double": lambda: max(present) + 1.0,
             "date": lambda: max(present) + dtm.timedelta(days=1)}.get(col_type, lambda: None)()
    return None if col_type == "date" and value is not None and value > TODAY else value


def merge_against_history(glue, specs, jobs_by_dataset, s3_root, log):
    """A batch against stored rows, through the whole workflow.

    First the bad batch of step 5 is rolled back (Iceberg's rollback_to_snapshot,
    the documented way to undo a commit), which opens the quality gate again.
    Then per dataset: a newer version of stored key A, an older version of
    stored key B, a new key C (A and B share the stored event time and differ
    by receive time, so they mean the same for event_day and key_bucket
    tables) and, for a key_bucket dataset, a stored row M from before the
    curated window moved to today: curated must count M on today only.
    """
    stage("Iceberg: roll back the bad batch (rollback_to_snapshot)")
    spark = glue.spark
    for ds in specs:
        job = jobs_by_dataset[ds]
        db, name = job["args"]["--database"], job["args"]["--table"]
        table = glue.iceberg_table(db, name)
        snaps = spark.sql(f"SELECT snapshot_id, parent_id FROM {table}.snapshots ORDER BY committed_at DESC LIMIT 1").collect()
        spark.sql(f"CALL {glue.iceberg_catalogs[0]}.system.rollback_to_snapshot('{db}.{name}', {int(snaps[0][1])})")
    stage("Glue: workflow run with a batch against stored rows (MERGE newer wins, a moved row)")
    now = dtm.datetime.now(dtm.timezone.utc).replace(microsecond=0)
    now_ms = int(now.timestamp() * 1000)
    fmt = record_value
    ms = lambda t: int(t.replace(tzinfo=dtm.timezone.utc).timestamp() * 1000) if t.tzinfo is None else int(t.timestamp() * 1000)  # noqa: E731
    cur_job = curated_job(glue)
    start = (TODAY - dtm.timedelta(days=int(cur_job["args"].get("--lookback_days", "3")))).isoformat() if cur_job else ""
    plans = {}
    for ds, spec in specs.items():
        job = jobs_by_dataset[ds]
        db, name = job["args"]["--database"], job["args"]["--table"]
        table = glue.iceberg_table(db, name)
        before = glue.iceberg_rows(db, name)
        keyof = lambda r, spec=spec: tuple(r[k] for k in spec.key)  # noqa: E731
        counts = collections.Counter(keyof(r) for r in before)
        # Rows without a DMS change sequence: the batch's API envelopes carry
        # none, and a sequence outranks the receive time A and B differ by.
        single = [r for r in before if counts[keyof(r)] == 1 and not r["_is_deleted"] and r["_received_at"]
                  and not r["_change_seq"]]
        if len(single) < 2:
            check(f"merge: {ds} has two stored rows to version", False, f"{len(single)} candidates")
            continue
        k0, k0type = spec.key[0], spec.col[spec.key[0]]["type"]
        present = [r[k0] for r in before if r[k0] is not None]
        new_key = unused_key_value(k0type, present, "e2e-merge-new-key")
        a, b = single[0], single[1]
        data = lambda r, spec=spec: {c["name"]: fmt(r[c["name"]]) for c in spec.columns if r.get(c["name"]) is not None}  # noqa: E731
        # B arrives 1 ms before its stored version: older, and still within
        # the allowed skew of its event time (which the stored one was).
        lines = [{"dataset": ds, "received_at": now_ms, "data": data(a)},
                 {"dataset": ds, "received_at": ms(b["_received_at"]) - 1, "data": data(b)}]
        c_row = dict(data(a), **{k0: fmt(new_key)}) if new_key is not None else None
        if c_row:
            lines.append({"dataset": ds, "received_at": now_ms, "data": c_row})
        moved = None
        movable = [r for r in single[2:] if r["dt"] < start and k0 != spec.event and spec.event not in spec.key]
        if spec.d.get("partitioning") == "key_bucket" and movable and spec.col[spec.event]["type"] == "timestamp":
            moved = movable[0]
            lines.append({"dataset": ds, "received_at": now_ms,
                          "data": dict(data(moved), **{spec.event: fmt(now - dtm.timedelta(minutes=1))})})
        path = os.path.join(s3_local(s3_root, job["args"]["--raw_path"]), f"dt={TODAY.isoformat()}", "e2e-merge-batch.gz")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(gzip.compress(("\n".join(json.dumps(x) for x in lines) + "\n").encode()))
        plans[ds] = dict(table=table, db=db, name=name, before=before, counts=counts, keyof=keyof, a=a, b=b,
                         new_key=new_key, moved=moved, n_new=1 if c_row else 0, n_move=1 if moved else 0,
                         main=glue.iceberg_head(db, name))
    cur_db = cur_job["args"]["--database"] if cur_job else None
    cur_tables = curated_table_names(cur_job)
    cur_before = {t: (glue.iceberg_head(cur_db, t), glue.iceberg_content(cur_db, t)) for t in cur_tables}
    glue.runs = []
    states, _ = glue.workflow(log)
    check("merge: the workflow run with the batch SUCCEEDED (the rollback opened the quality gate)",
          all(v == "SUCCEEDED" for v in states.values()), f"{states}")
    runs = {r["job"]: r for r in glue.runs}
    for ds, pl in plans.items():
        job = jobs_by_dataset[ds]
        got = job_counts(runs.get(job["name"], {"output": ""}), ds) or {}
        n_new, n_move = pl["n_new"], pl["n_move"]
        check(f"merge: {ds} counts a newer, an older, a new and a moved row (written = newer + new + moved, superseded by stored 1)",
              (got.get("batch_rows"), got.get("written"), got.get("superseded_by_stored")) == (2 + n_new + n_move, 1 + n_new + n_move, 1),
              f"counts {got}")
        keyof = pl["keyof"]
        after_rows = glue.iceberg_rows(pl["db"], pl["name"])
        after = {keyof(r): r for r in after_rows}
        check(f"merge: {ds} still holds one row per key", len(after_rows) == len(after),
              f"{len(after_rows)} rows, {len(after)} keys")
        ka, kb = keyof(pl["a"]), keyof(pl["b"])
        check(f"merge: {ds} the newer version of a stored key replaced it", ms(after[ka]["_received_at"]) == now_ms, f"{after.get(ka)}")
        check(f"merge: {ds} a late older version left the stored row as it was", after[kb] == pl["b"], f"stored {pl['b']}, now {after.get(kb)}")
        check(f"merge: {ds} the new key was added and no key doubled",
              (not n_new or (pl["new_key"],) + ka[1:] in after) and len(after) == len(pl["counts"]) + n_new,
              f"{len(after)} keys after, {len(pl['counts'])} before")
        if pl["moved"]:
            km = keyof(pl["moved"])
            check(f"merge: {ds} the moved row is on today only", after[km]["dt"] == TODAY.isoformat(), f"{after.get(km)}")
        head = glue.iceberg_head(pl["db"], pl["name"])
        parent = spark.sql(f"SELECT parent_id FROM {pl['table']}.snapshots WHERE snapshot_id = {head}").collect()[0][0]
        old_rows = spark.sql(f"SELECT count(*) FROM {pl['table']} VERSION AS OF {pl['main']}").collect()[0][0]
        check(f"merge: {ds} the run is one commit on the table it read; that snapshot still reads the old rows",
              parent == pl["main"] and old_rows == len(pl["before"]),
              f"new head {head} has parent {parent}, the run started at {pl['main']}; old snapshot rows {old_rows} vs {len(pl['before'])}")
        say(f"merge {ds}: batch {got.get('batch_rows')} rows -> written {got.get('written')}, superseded by stored "
            f"{got.get('superseded_by_stored')}, replaced {got.get('replaced')}, days changed {got.get('days_changed')}"
            + (f"; moved {pl['moved']['dt']} -> {TODAY.isoformat()}" if pl["moved"] else ""))
        if cur_job is None:
            continue
        # Curated counts every live row once, on its day, for every day it holds.
        cur = curated_daily_counts(glue, cur_job, ds)
        live = collections.Counter(r["dt"] for r in after.values() if not r["_is_deleted"] and r["dt"] in cur)
        wrong = {d: (cur[d], live.get(d, 0)) for d in cur if cur[d] != live.get(d, 0)}
        check(f"curated: {ds}_daily counts every live row once, on its current day (record_count per day = processed rows)",
              not wrong, f"day: (curated, processed) {wrong}")
        if pl["moved"]:
            check(f"curated: {ds}_daily no longer counts the moved row on the day it left",
                  cur.get(pl["moved"]["dt"], 0) == live.get(pl["moved"]["dt"], 0),
                  f"{pl['moved']['dt']}: curated {cur.get(pl['moved']['dt'])}, processed {live.get(pl['moved']['dt'], 0)}")
    # Each curated table the run changed got one overwrite commit on the
    # snapshot it had: a reader during the run reads that snapshot (the table
    # before) or the new one (after), never a mix; time travel proves the
    # parent still reads exactly the rows from before.
    for t in cur_tables:
        head0, content0 = cur_before[t]
        head = glue.iceberg_head(cur_db, t)
        if head == head0:
            check(f"curated: {t} unchanged by the run is not committed to", glue.iceberg_content(cur_db, t) == content0,
                  "same snapshot, different rows")
            continue
        table = glue.iceberg_table(cur_db, t)
        parent, op = spark.sql(f"SELECT parent_id, operation FROM {table}.snapshots WHERE snapshot_id = {head}").collect()[0]
        at_parent = sorted(map(repr, (tuple(sorted(r.asDict().items()))
                                      for r in spark.sql(f"SELECT * FROM {table} VERSION AS OF {head0}").collect()))) if head0 else []
        check(f"atomic: curated {t} is replaced by one overwrite commit; the snapshot before it still reads the old rows",
              parent == head0 and op == "overwrite" and at_parent == content0,
              f"head {head} ({op}) has parent {parent}, the run started at {head0}; old rows equal: {at_parent == content0}")


def curated_job(glue):
    """The processed->curated job (the one with --curated_root), or None."""
    return next((j for j in glue.jobs.values() if "--curated_root" in j["args"]), None)


def curated_table_names(cur_job):
    """The curated tables a curated job writes: <dataset>_daily per dataset, one per join."""
    if cur_job is None:
        return []
    return ([f"{d['name']}_daily" for d in json.loads(cur_job["args"]["--datasets"])]
            + [j["name"] for j in json.loads(cur_job["args"].get("--joins", "[]"))])


def curated_daily_counts(glue, cur_job, ds):
    """{dt: record_count summed} of a dataset's curated daily table."""
    out = {}
    for r in glue.iceberg_rows(cur_job["args"]["--database"], f"{ds}_daily"):
        out[r["dt"]] = out.get(r["dt"], 0) + r["record_count"]
    return out


def quiet_dataset_does_not_block(glue, specs, jobs_by_dataset, s3_root, log):
    """A workflow run in which only the first dataset has new input: every
    job SUCCEEDS, the quiet datasets' jobs read nothing and commit nothing,
    their curated rows stay as they were, and the active dataset's new row
    reaches processed and its curated day."""
    stage("Glue: workflow run with one dataset quiet (no new input) and one with a new row")
    spark = glue.spark
    cur_job = curated_job(glue)
    names = sorted(specs)
    active, quiet = names[0], names[1:]
    spec, job = specs[active], jobs_by_dataset[active]
    db, name = job["args"]["--database"], job["args"]["--table"]
    before = glue.iceberg_rows(db, name)
    keyof = lambda r: tuple(r[k] for k in spec.key)  # noqa: E731
    live = [r for r in before if not r["_is_deleted"] and r["_received_at"]]
    k0, k0type = spec.key[0], spec.col[spec.key[0]]["type"]
    present = [r[k0] for r in before if r[k0] is not None]
    new_key = unused_key_value(k0type, present, "e2e-quiet-new-key")
    if new_key is None and k0type == "date" and present:
        new_key = min(present) - dtm.timedelta(days=1)  # the days up to today are taken
    if not live or new_key is None:
        check(f"quiet: {active} has a stored row to copy under a new key", False, f"{len(live)} rows, key type {k0type}")
        return
    row = live[0]
    data = {c["name"]: record_value(row[c["name"]]) for c in spec.columns if row.get(c["name"]) is not None}
    data[k0] = record_value(new_key)
    now_ms = int(dtm.datetime.now(dtm.timezone.utc).timestamp() * 1000)
    path = os.path.join(s3_local(s3_root, job["args"]["--raw_path"]), f"dt={TODAY.isoformat()}", "e2e-quiet-batch.gz")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(gzip.compress((json.dumps({"dataset": active, "received_at": now_ms, "data": data}) + "\n").encode()))
    heads = {ds: glue.iceberg_head(jobs_by_dataset[ds]["args"]["--database"], jobs_by_dataset[ds]["args"]["--table"]) for ds in quiet}
    # Rows as a multiset: curated values may be NULL (an optional column's sum), which do not sort.
    cur_db = cur_job["args"]["--database"] if cur_job else None
    curated_rows = lambda ds: collections.Counter(tuple(sorted(r.items())) for r in glue.iceberg_rows(cur_db, f"{ds}_daily"))  # noqa: E731
    curated_before = {ds: (curated_rows(ds), glue.iceberg_head(cur_db, f"{ds}_daily")) for ds in quiet} if cur_job else {}
    glue.runs = []
    states, _ = glue.workflow(log)
    check("quiet: the workflow run SUCCEEDED with only one dataset receiving input",
          bool(states) and all(v == "SUCCEEDED" for v in states.values()), f"{states}")
    runs = {r["job"]: r for r in glue.runs}
    for ds in quiet:
        qjob = jobs_by_dataset[ds]
        got = job_counts(runs.get(qjob["name"], {"output": ""}), ds) or {}
        head = glue.iceberg_head(qjob["args"]["--database"], qjob["args"]["--table"])
        check(f"quiet: {ds} read nothing and committed nothing", got.get("read", 0) == 0 and head == heads[ds],
              f"counts {got}, head {heads[ds]} -> {head}")
        if cur_job:
            after, rows_before = curated_rows(ds), curated_before[ds][0]
            check(f"quiet: {ds}_daily is as it was and got no commit", after == rows_before
                  and glue.iceberg_head(cur_db, f"{ds}_daily") == curated_before[ds][1],
                  f"{sum(rows_before.values())} rows -> {sum(after.values())}, head {curated_before[ds][1]} -> "
                  f"{glue.iceberg_head(cur_db, f'{ds}_daily')}")
    after = {keyof(r): r for r in glue.iceberg_rows(db, name)}
    added = after.get((new_key,) + keyof(row)[1:])
    check(f"quiet: {active}'s new row reached processed", added is not None and len(after) == len({keyof(r) for r in before}) + 1,
          f"{len(after)} keys after, {len({keyof(r) for r in before})} before")
    if cur_job and added is not None:
        day = added["dt"]
        cur = curated_daily_counts(glue, cur_job, active)
        want = sum(1 for r in after.values() if not r["_is_deleted"] and r["dt"] == day)
        check(f"quiet: {active}_daily counts the new row on its day ({day})", cur.get(day) == want,
              f"curated {cur.get(day)}, processed live rows {want}")
    say(f"quiet: {', '.join(quiet)} quiet, {active} +1 row" + (f" on {added['dt']}" if added else ""))


def failed_commit_and_maintenance(asm, glue, specs, jobs_by_dataset, s3_root):
    """A MERGE that fails mid-write and a curated overwrite that fails
    mid-write leave their tables as they were; then each
    AWS::Glue::TableOptimizer of the template runs as the Iceberg procedure
    it is (compaction: rewrite_data_files binpack, retention:
    expire_snapshots, orphan_file_deletion: remove_orphan_files) with the
    template's settings, "later": as if their periods had passed, on every
    table it names. Rows never change; delete files, old snapshots and
    stray files go.
    """
    stage("Iceberg: a MERGE and a curated overwrite that fail mid-write, then the template's table optimizers")
    spark = glue.spark
    cat = glue.iceberg_catalogs[0]
    lakelib_iceberg = importlib.import_module("lakelib.iceberg")
    from pyspark.sql import functions as F
    # One task of four dies while the others write their files.
    die = F.expr("CASE WHEN spark_partition_id() = 3 THEN CAST(raise_error('e2e: a task dies mid-write') AS STRING) ELSE dt END")
    for ds, spec in specs.items():
        job = jobs_by_dataset[ds]
        db, name = job["args"]["--database"], job["args"]["--table"]
        table = glue.iceberg_table(db, name)
        before, head0 = glue.iceberg_content(db, name), glue.iceberg_head(db, name)
        # Every row again, newer.
        src = spark.table(table).withColumn("_received_at", F.current_timestamp()).repartition(4).withColumn("dt", die)
        src.createOrReplaceTempView("e2e_fail_src")
        dts = [r[0] for r in spark.sql(f"SELECT DISTINCT dt FROM {table}").collect()]
        err = None
        try:
            spark.sql(lakelib_iceberg.merge_sql(table, "e2e_fail_src", spec.d, dts))
        except Exception as exc:  # the MERGE must fail
            err = f"{type(exc).__name__}"
        check(f"atomic: {ds} a MERGE that fails mid-write leaves the table as it was (same snapshot, same rows)",
              err is not None and glue.iceberg_head(db, name) == head0 and glue.iceberg_content(db, name) == before,
              f"error {err}, head {head0} -> {glue.iceberg_head(db, name)}")
    cur_job = curated_job(glue)
    if cur_job is not None:
        # The curated job's own publish step, handed every stored row with a
        # count changed; its write (not the comparison before it) loses one
        # task of four after the others wrote their files.
        from pyspark.sql import DataFrame
        publish = glue.module(cur_job["script"]).publish
        tables = importlib.import_module("lakelib.tables")
        db = cur_job["args"]["--database"]
        write_to = DataFrame.writeTo
        for t in curated_table_names(cur_job):
            table = glue.iceberg_table(db, t)
            before, head0 = glue.iceberg_content(db, t), glue.iceberg_head(db, t)
            count = next(c for c in spark.table(table).columns if c.endswith("record_count"))
            out = spark.table(table).withColumn(count, F.col(count) + 1)
            err = None
            DataFrame.writeTo = lambda df, name: write_to(df.repartition(4).withColumn("dt", die), name)
            try:
                with contextlib.redirect_stdout(io.StringIO()):
                    publish(spark, table, tables.state(spark, table), out, "(dt IS NOT NULL)", None, t)
            except Exception as exc:  # the overwrite must fail
                err = f"{type(exc).__name__}"
            finally:
                DataFrame.writeTo = write_to
            check(f"atomic: curated {t} an overwrite that fails mid-write leaves the table as it was (same snapshot, same rows)",
                  err is not None and glue.iceberg_head(db, t) == head0 and glue.iceberg_content(db, t) == before,
                  f"error {err}, head {head0} -> {glue.iceberg_head(db, t)}")
    optimizers = {}
    for stack, lid, r in asm.resources("AWS::Glue::TableOptimizer"):
        p = asm.props(stack, lid)
        optimizers.setdefault((p["DatabaseName"], p["TableName"]), {})[p["Type"]] = p["TableOptimizerConfiguration"]
    every = [(db, name) for db, name, ti in catalog_tables(asm) if ti.get("_iceberg")]
    for db, name in every:
        table = glue.iceberg_table(db, name)
        rows = lambda db=db, name=name: glue.iceberg_content(db, name)  # noqa: E731
        before = rows()
        opts = optimizers.get((db, name))
        if not opts:
            check(f"maintenance: {name} has table optimizers in the template", False, "none")
            continue
        deletes = spark.sql(f"SELECT count(*) FROM {table}.delete_files").collect()[0][0]
        if "compaction" in opts:
            strategy = ((opts["compaction"].get("CompactionConfiguration") or {}).get("IcebergConfiguration") or {}).get("Strategy", "binpack")
            spark.sql(f"CALL {cat}.system.rewrite_data_files(table => '{db}.{name}', strategy => '{strategy}', "
                      "options => map('delete-file-threshold', '1', 'min-input-files', '1'))")
            spark.sql(f"CALL {cat}.system.rewrite_position_delete_files(table => '{db}.{name}', "
                      "options => map('rewrite-all', 'true'))")
            live_deletes = spark.sql(f"SELECT count(*) FROM {table}.delete_files").collect()[0][0]
            check(f"maintenance: {name} compaction folds the {deletes} merge-on-read delete files into data files, rows unchanged",
                  rows() == before and live_deletes == 0, f"delete files {deletes} -> {live_deletes}")
        if "retention" in opts:
            ret = opts["retention"]["RetentionConfiguration"]["IcebergConfiguration"]
            keep = int(ret.get("NumberOfSnapshotsToRetain", 1))
            later = (dtm.datetime.now(dtm.timezone.utc) + dtm.timedelta(seconds=1)).strftime("%Y-%m-%d %H:%M:%S")
            spark.sql(f"CALL {cat}.system.expire_snapshots(table => '{db}.{name}', older_than => TIMESTAMP '{later}', "
                      f"retain_last => {keep})")
            n = spark.sql(f"SELECT count(*) FROM {table}.snapshots").collect()[0][0]
            check(f"maintenance: {name} retention keeps {keep} snapshot(s) once {ret.get('SnapshotRetentionPeriodInDays')} days passed, rows unchanged",
                  rows() == before and n == keep, f"{n} snapshots left")
        if "orphan_file_deletion" in opts:
            orph = opts["orphan_file_deletion"]["OrphanFileDeletionConfiguration"]["IcebergConfiguration"]
            days = int(orph.get("OrphanFileRetentionPeriodInDays", 3))
            data_dir = os.path.join(s3_local(s3_root, orph["Location"]), "data")
            os.makedirs(data_dir, exist_ok=True)
            old_stray, new_stray = os.path.join(data_dir, "e2e-stray-old.parquet"), os.path.join(data_dir, "e2e-stray-new.parquet")
            for f in (old_stray, new_stray):
                with open(f, "wb") as fh:
                    fh.write(b"not referenced by any snapshot")
            past = time.time() - (days + 1) * 86400
            os.utime(old_stray, (past, past))
            cutoff = (dtm.datetime.now(dtm.timezone.utc) - dtm.timedelta(days=days)).strftime("%Y-%m-%d %H:%M:%S")
            spark.sql(f"CALL {cat}.system.remove_orphan_files(table => '{db}.{name}', older_than => TIMESTAMP '{cutoff}')")
            check(f"maintenance: {name} orphan-file deletion removes unreferenced files older than {days} days, keeps newer ones and the rows",
                  not os.path.exists(old_stray) and os.path.exists(new_stray) and rows() == before,
                  f"old stray there: {os.path.exists(old_stray)}, new stray there: {os.path.exists(new_stray)}")
            os.remove(new_stray)
        say(f"maintenance {name}: {', '.join(sorted(opts))} ran; {deletes} delete files folded, rows unchanged")


def migration_from_parquet(glue, specs, jobs_by_dataset, s3_root):
    """The documented migration (README "Processed tables"): each processed
    table written the old way (Parquet under dt= folders, delete marker
    _deleted), moved into an empty Iceberg table by lakelib.migration's
    INSERT. Every row comes across with its values, its delete flag and its
    day; the old rows have no change sequence.
    """
    stage("migration: the Parquet design's processed tables into Iceberg (lakelib.migration)")
    spark = glue.spark
    migration = importlib.import_module("lakelib.migration")
    from pyspark.sql import functions as F
    for ds, spec in specs.items():
        job = jobs_by_dataset[ds]
        db, name = job["args"]["--database"], job["args"]["--table"]
        table = glue.iceberg_table(db, name)
        current = spark.table(table)
        # The old layout: the same rows, _deleted instead of _is_deleted, no
        # _change_seq, dt as the partition folder.
        old_path = os.path.join(s3_root, "e2e-migration", ds)
        (current.withColumnRenamed("_is_deleted", "_deleted").drop("_change_seq")
         .write.mode("overwrite").partitionBy("dt").parquet(old_path))
        target = glue.iceberg_table(db, name + "_migrated")
        spark.sql(f"DROP TABLE IF EXISTS {target}")
        spark.sql(f"CREATE TABLE {target} USING iceberg AS SELECT * FROM {table} WHERE false")
        spark.sql(migration.insert_sql(target, "file://" + old_path, spec.d))
        cols = [c for c in current.columns if c != "_change_seq"]
        want = sorted(map(repr, (tuple(norm_cell(r[c]) for c in cols) for r in current.select(*cols).collect())))
        got_df = spark.table(target)
        got = sorted(map(repr, (tuple(norm_cell(r[c]) for c in cols) for r in got_df.select(*cols).collect())))
        deleted = current.where(F.col("_is_deleted")).count()
        seqs = got_df.where(F.col("_change_seq").isNotNull()).count()
        check(f"migration: {ds} every Parquet-design row reaches the Iceberg table with its values, day and "
              f"delete flag ({deleted} deleted)", got == want and seqs == 0,
              f"{len(got)} rows vs {len(want)}; {seqs} with a change sequence; first difference "
              f"{next(((a, b) for a, b in zip(got, want) if a != b), None)}")
        say(f"migration {ds}: {len(got)} rows ({deleted} deleted) moved by one INSERT")
        spark.sql(f"DROP TABLE IF EXISTS {target}")


def curated_rebuilt_from_history(glue, specs, jobs_by_dataset):
    """The curated half of the migration (README "Migration"): the curated
    Iceberg tables start empty, and one run of the curated job with
    --recompute_from=<first day> rebuilds every day from the processed
    tables, not only the lookback window. Expected: the e2e's own
    recomputation (curated_model) over the processed rows as they are now.
    """
    stage("migration: the curated tables rebuilt from history (--recompute_from)")
    cur_job = curated_job(glue)
    if cur_job is None:
        return
    spark = glue.spark
    db = cur_job["args"]["--database"]
    names = curated_table_names(cur_job)
    for t in names:
        spark.sql(f"DROP TABLE IF EXISTS {glue.iceberg_table(db, t)}")
        glue.create_iceberg_tables(only=t)
    processed = {ds: glue.iceberg_rows(jobs_by_dataset[ds]["args"]["--database"], jobs_by_dataset[ds]["args"]["--table"])
                 for ds in specs}
    first = min(r["dt"] for rows in processed.values() for r in rows)
    lb = int(cur_job["args"].get("--lookback_days", "3"))
    window = (TODAY - dtm.timedelta(days=lb)).isoformat()
    run = glue.run_job(cur_job["name"], io.StringIO(), extra={"--recompute_from": first})
    as_now = types.SimpleNamespace(processed_rows=lambda ds: processed[ds])
    want = curated_model(specs, as_now, json.loads(cur_job["args"].get("--joins", "[]")), first)
    for t in names:
        cols, rows = want[t]
        got = glue.iceberg_rows(db, t)
        g = sorted((tuple(norm_cell(r.get(c)) for c in cols) for r in got), key=repr)
        w = sorted((tuple(norm_cell(r.get(c)) for c in cols) for r in rows), key=repr)
        older = sorted({r["dt"] for r in got if r["dt"] < window})
        check(f"migration: curated {t} rebuilt from {first} equals the recomputation of every processed day "
              f"({len(older)} days before the lookback window)", run["state"] == "SUCCEEDED" and g == w and (older or not
              any(r["dt"] < window for r in rows)),
              f"job {run['state']} {run['error']}; {len(g)} rows vs {len(w)}; first difference "
              f"{next(((a, b) for a, b in zip(g, w) if a != b), None)}")
        say(f"migration curated {t}: {len(got)} rows over {len({r['dt'] for r in got})} days from {first}")


def iceberg_kind(sql):
    """Which of Athena's Iceberg statements a named query is: history
    ("$snapshots"), as_of (FOR TIMESTAMP/VERSION AS OF), optimize or vacuum;
    None for a plain query (those run on DuckDB, these on Spark)."""
    text = strip_comments(sql)
    if re.search(r'\$snapshots"', text, re.I):
        return "history"
    if re.search(r"\bFOR\s+(TIMESTAMP|VERSION)\s+AS\s+OF\b", text, re.I):
        return "as_of"
    m = re.match(r"(OPTIMIZE|VACUUM)\b", text, re.I)
    return m[1].lower() if m else None


def strip_comments(sql):
    return "\n".join(l for l in sql.splitlines() if not l.lstrip().startswith("--")).strip()


def athena_iceberg_to_spark(sql, cat, as_of):
    """Athena's Iceberg statements as Spark's: "<db>"."<t>$snapshots" ->
    <cat>.<db>.<t>.snapshots, <db>.<t> FOR TIMESTAMP AS OF (...) -> TIMESTAMP
    AS OF '<as_of>' (the local tables are minutes old: the oldest snapshot's
    time stands in for "a day ago"), OPTIMIZE ... BIN_PACK ->
    rewrite_data_files binpack, VACUUM -> expire_snapshots with Athena's
    default age (5 days, keeping 1) and remove_orphan_files.
    """
    text = strip_comments(sql)
    m = re.match(r"(?is)^OPTIMIZE\s+(\w+)\.(\w+)\s+REWRITE\s+DATA\s+USING\s+BIN_PACK\s*$", text)
    if m:
        return [f"CALL {cat}.system.rewrite_data_files(table => '{m[1]}.{m[2]}', strategy => 'binpack')"]
    m = re.match(r"(?is)^VACUUM\s+(\w+)\.(\w+)\s*$", text)
    if m:
        older = (dtm.datetime.now(UTC) - dtm.timedelta(days=5)).strftime("%Y-%m-%d %H:%M:%S")
        return [f"CALL {cat}.system.expire_snapshots(table => '{m[1]}.{m[2]}', older_than => TIMESTAMP '{older}', retain_last => 1)",
                f"CALL {cat}.system.remove_orphan_files(table => '{m[1]}.{m[2]}', older_than => TIMESTAMP '{older}')"]
    text = re.sub(r'"(\w+)"\."(\w+)\$snapshots"', lambda g: f"{cat}.`{g[1]}`.`{g[2]}`.snapshots", text)
    text = re.sub(r"\bFOR\s+TIMESTAMP\s+AS\s+OF\s+\([^)]*\)", f"TIMESTAMP AS OF '{as_of}'", text, flags=re.I)
    text = re.sub(r"\bFROM\s+(\w+)\.(\w+)\b", lambda g: f"FROM {cat}.`{g[1]}`.`{g[2]}`", text)
    return [text]


def iceberg_named_queries(asm, glue, specs, jobs_by_dataset, kinds):
    """The saved Athena Iceberg statements of each dataset (those of
    ``kinds``), run as their Spark equivalents on the processed table: the
    history lists its snapshots, newest first; time travel counts the live
    rows at the first snapshot; OPTIMIZE and VACUUM run and change no row."""
    stage(f"Athena Iceberg statements (named queries: {', '.join(kinds)}) on the processed tables")
    spark, cat = glue.spark, glue.iceberg_catalogs[0]
    by_table = {}
    for stack, lid, r in asm.resources("AWS::Athena::NamedQuery"):
        p = asm.props(stack, lid)
        if iceberg_kind(p["QueryString"]) in kinds:
            by_table.setdefault(p["Name"].split(": ", 1)[0], []).append((p["Name"], p["QueryString"]))
    for ds in specs:
        job = jobs_by_dataset[ds]
        db, name = job["args"]["--database"], job["args"]["--table"]
        table = glue.iceberg_table(db, name)
        snaps = spark.sql(f"SELECT snapshot_id, committed_at FROM {table}.snapshots ORDER BY committed_at").collect()
        oldest = snaps[0]
        as_of = oldest[1].strftime("%Y-%m-%d %H:%M:%S.%f")
        live_then = spark.sql(f"SELECT count(*) FROM {table} VERSION AS OF {int(oldest[0])} WHERE NOT _is_deleted").collect()[0][0]
        live_now = spark.sql(f"SELECT count(*) FROM {table} WHERE NOT _is_deleted").collect()[0][0]
        queries = by_table.get(ds, [])
        check(f"athena iceberg: {ds} has its {', '.join(kinds)} queries", sorted(iceberg_kind(q) for _, q in queries) == sorted(kinds),
              f"{[q for q, _ in queries]}")
        for qname, sql in sorted(queries):
            before, head = glue.iceberg_content(db, name), glue.iceberg_head(db, name)
            try:
                results = [spark.sql(s).collect() for s in athena_iceberg_to_spark(sql, cat, as_of)]
            except Exception as exc:
                check(f"athena iceberg: '{qname}' runs", False, f"{type(exc).__name__}: {str(exc)[:300]}")
                continue
            rows = results[0]
            kind = iceberg_kind(sql)
            if kind == "history":
                ok = len(rows) == min(50, len(snaps)) and rows[0]["snapshot_id"] == head
                check(f"athena iceberg: '{qname}' lists the snapshots newest first", ok, f"{len(rows)} rows, first {rows[:1]}, head {head}")
            elif kind == "as_of":
                got = {r["version"]: r["live_rows"] for r in rows}
                check(f"athena iceberg: '{qname}' counts the live rows now and at an earlier snapshot",
                      got == {"now": live_now, "a day ago": live_then}, f"{got} vs now {live_now}, then {live_then}")
            else:
                check(f"athena iceberg: '{qname}' runs and changes no row", glue.iceberg_content(db, name) == before,
                      f"rows changed by {kind}")
        say(f"athena iceberg {ds}: {len(snaps)} snapshots; live rows {live_then} at the first, {live_now} now")


def quality_bad_batch(asm, glue, specs, jobs_by_dataset, model, s3_root, log, before):
    """Put rows that break declared rules straight into processed; the quality job must name those rules."""
    from awsgluedq.transforms import parse_ruleset
    spark = glue.spark
    qjobs = {j["args"].get("--dataset_name"): j for j in glue.jobs.values() if "--ruleset" in j["args"]}
    expected_fail = {}
    for ds, spec in specs.items():
        q = qjobs.get(ds)
        if not q:
            continue
        rules = parse_ruleset(q["args"]["--ruleset"])
        live = [r for r in model.processed_rows(ds) if not r["_is_deleted"] and r["dt"] == TODAY.isoformat()]
        if not live:
            continue
        bad = dict(live[0])  # same key again: IsPrimaryKey must fail
        inrule = next(((t, r) for t, r in rules if r["type"] == "ColumnValues" and r["op"] == "in"), None)
        if inrule:
            bad[inrule[1]["column"]] = "e2e_not_in_the_list"
        expected_fail[ds] = model_dq_failures(model, ds, q["args"], [bad])
        good_fail = set(model_dq_failures(model, ds, q["args"], []))
        check(f"quality: {ds} bad batch breaks at least one rule that passes on good data",
              set(expected_fail[ds]) - good_fail, f"{expected_fail[ds]}")
        # The table's own columns (the job may have added some since create).
        tname = glue.iceberg_table(jobs_by_dataset[ds]["args"]["--database"], jobs_by_dataset[ds]["args"]["--table"])
        cols = [(f.name, f.dataType.simpleString()) for f in spark.table(tname).schema.fields]
        from pyspark.sql import functions as F
        row = [bad.get(n) for n, _ in cols]
        ddl = ", ".join(f"`{n}` STRING" for n, _ in cols)
        df = spark.createDataFrame([tuple(None if v is None else str(v) for v in row)], ddl)
        df = df.select(*[F.col(f"`{n}`").cast(t).alias(n) for n, t in cols])
        df.writeTo(tname).append()
    stage("Glue: workflow run after a deliberately bad batch in processed")
    glue.runs = []
    glue.workflow(log)
    runs = {r["job"]: r for r in glue.runs}
    after = snapshot(asm, s3_root, glue)
    check_verdicts(glue, runs, {ds: False for ds in expected_fail}, s3_root, "bad batch")
    for ds, exp in expected_fail.items():
        q = qjobs[ds]
        run = runs.get(q["name"])
        if run is None:
            check(f"quality: {ds} bad batch evaluated", False, "the quality job did not run")
            continue
        rules = rule_texts(q["args"]["--ruleset"])
        failed = failed_rules_in(run, rules)
        check(f"quality: {ds} bad batch reports exactly the broken rules", sorted(failed) == sorted(exp),
              f"reported {failed}, expected {exp} (job state {run['state']})")
        say(f"quality bad batch {ds}: job {run['state']}, failed rules reported: {failed}")
        j = curated_job(glue)
        if j is None:
            continue
        tables = [f"{ds}_daily"] + [x["name"] for x in json.loads(j["args"].get("--joins", "[]")) if ds in x["datasets"]]
        for table in tables:
            key = f"iceberg:{j['args']['--database']}.{table}"
            check(f"curated: {table} untouched after the quality of {ds} failed (same snapshot, same rows)",
                  key in before and before.get(key) == after.get(key), f"{before.get(key)} -> {after.get(key)}")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as exc:
        if not isinstance(exc, services.EmulationError):
            traceback.print_exc()
        print(f"e2e: stopped: {type(exc).__name__}: {exc}")
        failed = [c for c in CHECKS if not c[1]]
        for name, _, detail in failed:
            print(f"  - {name}: {detail}")
        print(f"e2e: {len(CHECKS) - len(failed)} checks passed, {len(failed) + 1} failed")
        sys.exit(1)
