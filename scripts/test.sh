#!/usr/bin/env bash
# The README's test command (`make test`) runs this: everything CI checks.
#   scripts/test.sh        all checks
#   scripts/test.sh lint   static checks only
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1
export CDK_DISABLE_STACK_TRACE=1
CDK=(cdk --no-notices)
# The pinned Python tools (.ci/run installs them into .venv/) come first.
[[ -x .venv/bin/cfn-lint ]] && export PATH="$PWD/.venv/bin:$PATH"
step() { printf '\n== %s\n' "$*"; }
# A green synth prints only what needs a reader: the CLI's progress lines
# and the by-design QuickSight hint (README: quicksight.principal_arn) are
# dropped; every warning and error stays, and the exit code is the CLI's.
quiet_synth() {
  "${CDK[@]}" synth --quiet "$@" 2>&1 | awk '
    /^Bundling asset / || /^Successfully synthesized to / || /^Supply a stack id / { next }
    /^INFO QuickSight is off:/ { skip = 2; next }
    skip > 0 && /^   / { skip--; next }
    /^$/ { next }
    { skip = 0; print }'
}

step "gofmt"
unformatted="$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*'))"
if [[ -n "$unformatted" ]]; then
  echo "not gofmt-formatted (run gofmt -w):"; echo "$unformatted"; exit 1
fi

step "go vet"
go vet ./...

step "actionlint (.github/workflows)"
make --no-print-directory actionlint

lint_templates() {
  # cfn-lint's exit code is a bitmask: 2 = error, 4 = warning, 8 = info.
  # Errors fail the build and are printed; warnings (CDK-generated
  # redundancies, by design) are counted: `cfn-lint <template>` shows them.
  local rc=0 out
  out="$(cfn-lint --format parseable "$@")" || rc=$?
  if (( rc & 2 )) || (( rc & 1 )); then
    grep -E ':E[0-9]+:' <<<"$out" || echo "$out"
    echo "cfn-lint found errors"; exit 1
  fi
  local warnings
  warnings="$(grep -cE ':W[0-9]+:' <<<"$out" || true)"
  echo "cfn-lint: no errors in $# templates ($warnings warnings: CDK-generated redundancies; cfn-lint <template> lists them)"
}

if [[ "$mode" == "lint" ]]; then
  # make synth writes cdk.out/<env>/, make synth-pipeline cdk.out/pipeline/.
  mapfile -t synthesized < <(find cdk.out -name '*.template.json' 2>/dev/null | sort)
  if (( ${#synthesized[@]} > 0 )); then
    step "cfn-lint cdk.out"; lint_templates "${synthesized[@]}"
  fi
  exit 0
fi

step "Glue job scripts (py_compile + unittest)"
bash glue/check.sh

step "errors/ replay (unittest)"
python3 -m unittest discover -s ingestion/replay -t ingestion/replay

step "shell scripts (pr-comment.sh with a stub gh, smoke-test.sh dry run)"
bash scripts/pr-comment_test.sh

step "go test ./..."
# ./test first: go test starts packages in the order given, and the
# whole-app template tests are the longest (14 s); last, they ran alone
# after everything else (43 s wall on 2 cores, 33 s this way).
go test -count=1 ./test ./...

# One strict synth per environment and in pipeline mode: cdk-nag runs on
# every stack, the built-in CloudFormation validator treats findings as
# errors (cdk.json), and the CLI exits non-zero on any error annotation.
rm -rf cdk.out.strict
envs="$(python3 -c 'import json;print(" ".join(json.load(open("cdk.json"))["context"]["environments"]))')"
for env in $envs; do
  step "strict synth: env=$env"
  quiet_synth -c env="$env" -o "cdk.out.strict/$env"
done
step "strict synth: pipeline mode"
quiet_synth -c pipeline=true -o cdk.out.strict/pipeline

step "cfn-lint on every synthesized template"
mapfile -t templates < <(find cdk.out.strict -name '*.template.json' | sort)
lint_templates "${templates[@]}"

# The offline diff (make diff-templates, which make diff-offline runs after
# its synth) on the strict dev synthesis: a base copy whose storage key
# differs must show that change; an identical stack shows none.
step "offline diff: make diff-templates against a changed base"
base="$(mktemp -d)"
trap 'rm -rf "$base"' EXIT
storage="$(basename cdk.out.strict/dev/*-dev-storage.template.json)"
analytics="$(basename cdk.out.strict/dev/*-dev-analytics.template.json)"
cp "cdk.out.strict/dev/$analytics" "$base/"
python3 - "cdk.out.strict/dev/$storage" "$base/$storage" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
key = next(r for r in t["Resources"].values() if r["Type"] == "AWS::KMS::Key")
key["Properties"]["Description"] = "offline-diff-probe"
json.dump(t, open(sys.argv[2], "w"))
PY
diff_out="$(make --no-print-directory diff-templates ENV=dev BASE="$base" OUT=cdk.out.strict/dev)"
for want in "== ${storage%.template.json}" "[~] AWS::KMS::Key" "[-] offline-diff-probe" \
            "== ${analytics%.template.json}" "There were no differences" "new (no $base/"; do
  grep -qF -- "$want" <<<"$diff_out" || { echo "$diff_out"; echo "offline diff output lacks: $want"; exit 1; }
done
echo "offline diff: the changed storage key is shown, the unchanged analytics stack has no differences, stacks without a base are new"

# The local lake (make e2e) on the strict dev synthesis: the data path runs
# end to end on real engines and every seam of the assembly is checked.
step "local lake: the dev assembly end to end (make e2e ASSEMBLY=cdk.out.strict/dev)"
mkdir -p .cache && e2e_log=.cache/e2e-last.log
if ! bash e2e/run.sh cdk.out.strict/dev >"$e2e_log" 2>&1; then
  grep -A 60 "^failed checks" "$e2e_log" || tail -n 60 "$e2e_log"
  echo "the local lake failed: full report in $e2e_log"; exit 1
fi
grep -E "^(wall time|e2e: [0-9]+ checks)" "$e2e_log"

step "docs/architecture.md matches the dev synthesis (make diagram regenerates it)"
go run ./cmd/diagram -assembly cdk.out.strict/dev -env dev -check docs/architecture.md

step "cdk.schema.json matches the Go config types (make schema regenerates it)"
go run ./cmd/configschema -check cdk.schema.json

step "make targets: help, the missing-base hint, the no-credentials hint"
help_out="$(make --no-print-directory)"
for want in "usage: make TARGET" "synth " "test " "baseline " "diff-offline "; do
  grep -qF -- "$want" <<<"$help_out" || { echo "make (help) lacks: $want"; exit 1; }
done
nobase="$(mktemp -d)"
if out="$(make --no-print-directory diff-templates ENV=dev BASE="$nobase/none" OUT=cdk.out.strict/dev 2>&1)"; then
  echo "diff-templates without a base succeeded"; exit 1
fi
grep -qF "make baseline ENV=dev" <<<"$out" || { echo "diff-templates without a base does not say make baseline: $out"; exit 1; }
if out="$(env -u AWS_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_WEB_IDENTITY_TOKEN_FILE -u AWS_CONTAINER_CREDENTIALS_RELATIVE_URI \
            -u AWS_CONTAINER_CREDENTIALS_FULL_URI -u GITHUB_ACTIONS -u CODEBUILD_BUILD_ID HOME="$nobase" \
            AWS_SHARED_CREDENTIALS_FILE="$nobase/c" AWS_CONFIG_FILE="$nobase/c" make --no-print-directory deploy ENV=dev 2>&1)"; then
  echo "make deploy without credentials did not stop"; exit 1
fi
rm -rf "$nobase"
for want in "no AWS credentials found" "AWS_PROFILE=NAME make deploy ENV=dev" "docs/deploy.md"; do
  grep -qF -- "$want" <<<"$out" || { echo "make deploy without credentials lacks: $want"; echo "$out"; exit 1; }
done
# With credentials, the shipped placeholder project is refused before the CLI runs.
if out="$(AWS_ACCESS_KEY_ID=test-not-a-key make --no-print-directory deploy ENV=dev 2>&1)"; then
  echo "make deploy with the placeholder project did not stop"; exit 1
fi
grep -qF 'deploys the shipped project name "data-pipeline"' <<<"$out" || { echo "make deploy does not refuse the placeholder project: $out"; exit 1; }

# Adding a dataset is a few lines of cdk.json and breaks no test: run the
# suite once more on a copy of the repository whose cdk.json declares an
# extra generated dataset (every column type, optional columns, allowed
# values, also on a key column, min/max, a date event time) and a join.
step "a new dataset needs no code or test change: the suite on a copy with a generated dataset"
extra="$(mktemp -d)"
trap 'rm -rf "$base" "$extra"' EXIT
python3 - "$extra" <<'PY'
import json, os, shutil, subprocess, sys
dst = sys.argv[1]
files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard", "-z"], capture_output=True, check=True).stdout
for f in filter(None, files.decode().split("\0")):
    if os.path.isfile(f) and not f.startswith(("e2e/", ".tools/", ".cache/", ".venv")):
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(f, os.path.join(dst, f))
cdk = json.load(open("cdk.json"))
ctx = cdk["context"]
ctx["datasets"].append({
    "name": "probe_events", "description": "generated by scripts/test.sh", "classification": "internal",
    "event_time_field": "observed_at", "key": ["probe_id"], "group_by": ["kind"], "freshness_hours": 48,
    # offset-less timestamps (the landing CSV export) are Tokyo time
    "timezone": "Asia/Tokyo",
    "columns": [
        {"name": "probe_id", "type": "string", "required": True},
        {"name": "customer_id", "type": "string", "required": True},
        {"name": "kind", "type": "string", "required": True, "allowed": ["alpha", "beta", "gamma"]},
        {"name": "note", "type": "string", "description": "optional free text"},
        {"name": "quantity", "type": "bigint", "min": 0, "max": 1000},
        {"name": "ratio", "type": "double", "required": True, "min": -1.5, "max": 1.5},
        {"name": "flagged", "type": "boolean"},
        {"name": "business_day", "type": "date"},
        {"name": "observed_at", "type": "timestamp", "required": True},
    ],
})
# key_bucket on a date key: the MERGE's stored-key filter names DATE literals.
ctx["datasets"].append({
    "name": "probe_days", "event_time_field": "day", "key": ["day", "site"],
    "partitioning": "key_bucket", "key_buckets": 4,
    "columns": [
        {"name": "day", "type": "date", "required": True},
        {"name": "site", "type": "string", "required": True, "allowed": ["north", "south"]},
        {"name": "visits", "type": "bigint", "min": 0},
        {"name": "share", "type": "double", "max": 1},
        {"name": "open", "type": "boolean", "required": True},
    ],
})
ctx.setdefault("joins", []).append(
    {"name": "probe_activity", "description": "generated", "datasets": ["clickstream", "probe_events"], "on": ["customer_id"]})
json.dump(cdk, open(os.path.join(dst, "cdk.json"), "w"), indent=2)
PY
(
  cd "$extra"
  go test -count=1 ./config ./dataset ./test ./functions/validator
  bash glue/check.sh | tail -n 3
  quiet_synth -c env=dev -o cdk.out.strict/dev
  go run ./cmd/diagram -assembly cdk.out.strict/dev -env dev -check docs/architecture.md
)
# ... and the local lake on that assembly: the generated datasets flow end to end too.
if ! bash e2e/run.sh "$extra/cdk.out.strict/dev" >"$e2e_log" 2>&1; then
  grep -A 60 "^failed checks" "$e2e_log" || tail -n 60 "$e2e_log"
  echo "the local lake failed on the generated datasets: full report in $e2e_log"; exit 1
fi
grep -E "^e2e: [0-9]+ checks" "$e2e_log"

step "all checks passed"
