"""Break one seam in a COPY of a cloud assembly, to prove the local lake notices.

    python3 e2e/seams.py BASE_ASSEMBLY NAME OUT_DIR     make the copy
    python3 e2e/seams.py --list                         the seams

Then: bash e2e/run.sh OUT_DIR   (it must exit 1 and name the broken seam).
Also: 'rowmode' is not a break but the fix the quality job needs (see e2e/README.md).
"""
import json
import os
import re
import shutil
import sys


def templates(d):
    for f in os.listdir(d):
        if f.endswith(".template.json"):
            yield os.path.join(d, f)


def edit_resources(d, rtype, fn):
    hits = 0
    for path in templates(d):
        t = json.load(open(path))
        for lid, r in t.get("Resources", {}).items():
            if r["Type"] == rtype and fn(lid, r["Properties"]):
                hits += 1
        json.dump(t, open(path, "w"), indent=1)
    if not hits:
        raise SystemExit(f"seam not found: no {rtype} matched")


def firehose_prefix(d):
    def fn(lid, p):
        c = p["ExtendedS3DestinationConfiguration"]
        c["Prefix"] = c["Prefix"].replace("source=", "src=")
        return True
    edit_resources(d, "AWS::KinesisFirehose::DeliveryStream", fn)


def job_path(d):
    def fn(lid, p):
        a = p.get("DefaultArguments", {})
        if "--raw_path" in a and "clickstream" in json.dumps(a["--raw_path"]):
            a["--raw_path"] = json.loads(json.dumps(a["--raw_path"]).replace("/source=clickstream/", "/source=clickstreams/"))
            return True
    edit_resources(d, "AWS::Glue::Job", fn)


def table_location(d):
    def fn(lid, p):
        ti = p["TableInput"]
        if ti["Name"] == "orders_daily":
            ti["StorageDescriptor"]["Location"] = json.loads(
                json.dumps(ti["StorageDescriptor"]["Location"]).replace("/orders_daily/", "/orders_day/"))
            return True
    edit_resources(d, "AWS::Glue::Table", fn)


def query_column(d):
    def fn(lid, p):
        ti = p["TableInput"]
        if ti["Name"] == "clickstream_daily":
            for c in ti["StorageDescriptor"]["Columns"]:
                if c["Name"] == "record_count":
                    c["Name"] = "records_count"
            return True
    edit_resources(d, "AWS::Glue::Table", fn)


def rule_column(d):
    def fn(lid, p):
        a = p.get("DefaultArguments", {})
        if "--ruleset" in a and '"session_id"' in a["--ruleset"]:
            a["--ruleset"] = a["--ruleset"].replace('IsComplete "session_id"', 'IsComplete "session"')
            return True
    edit_resources(d, "AWS::Glue::Job", fn)


def validator_key(d):
    hit = False
    for name in os.listdir(d):
        f = os.path.join(d, name, "datasets.json")
        if name.startswith("asset.") and os.path.exists(f):
            specs = json.load(open(f))
            for s in specs:
                if s["name"] == "orders":
                    s["event_time_field"] = "updated"
            json.dump(specs, open(f, "w"))
            hit = True
    if not hit:
        raise SystemExit("seam not found: no Lambda asset with datasets.json")


def rowmode(d):
    for f in os.listdir(d):
        path = os.path.join(d, f)
        if f.startswith("asset.") and f.endswith(".py"):
            s = open(path).read()
            if "EvaluateDataQuality.apply(" in s and "compositeRuleEvaluation" not in s:
                s = re.sub(r"(publishing_options=quality\.publishing_options\(cfg\.dataset_name\),)",
                           r'\1\n            additional_options={"compositeRuleEvaluation.method": "ROW"},', s)
                open(path, "w").write(s)


SEAMS = {"firehose-prefix": firehose_prefix, "job-path": job_path, "table-location": table_location,
         "query-column": query_column, "rule-column": rule_column, "validator-key": validator_key,
         "rowmode": rowmode}

if __name__ == "__main__":
    if sys.argv[1:] == ["--list"]:
        print("\n".join(SEAMS))
        sys.exit(0)
    base, names, out = sys.argv[1], sys.argv[2].split(","), sys.argv[3]
    shutil.rmtree(out, ignore_errors=True)
    shutil.copytree(base, out, symlinks=True)
    for n in names:
        SEAMS[n](out)
    print(out)
