#!/usr/bin/env bash
# The README's test command (`make test`) runs this: everything CI checks.
#   scripts/test.sh        all checks
#   scripts/test.sh lint   static checks only
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-all}"
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION=1
CDK=(cdk --no-notices)
step() { printf '\n== %s\n' "$*"; }

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
  # Errors fail the build; warnings (mostly CDK-generated redundancies) are shown.
  local rc=0
  cfn-lint "$@" || rc=$?
  if (( rc & 2 )); then echo "cfn-lint found errors"; exit 1; fi
  echo "cfn-lint: no errors in $# templates"
}

if [[ "$mode" == "lint" ]]; then
  if compgen -G "cdk.out/*.template.json" >/dev/null; then
    step "cfn-lint cdk.out"; lint_templates cdk.out/*.template.json
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
go test -count=1 ./...

# One strict synth per environment and in pipeline mode: cdk-nag runs on
# every stack, the built-in CloudFormation validator treats findings as
# errors (cdk.json), and the CLI exits non-zero on any error annotation.
rm -rf cdk.out.strict
envs="$(python3 -c 'import json;print(" ".join(json.load(open("cdk.json"))["context"]["environments"]))')"
for env in $envs; do
  step "strict synth: env=$env"
  "${CDK[@]}" synth --quiet -c env="$env" -o "cdk.out.strict/$env"
done
step "strict synth: pipeline mode"
"${CDK[@]}" synth --quiet -c pipeline=true -o cdk.out.strict/pipeline

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
echo "$diff_out"
for want in "== ${storage%.template.json}" "[~] AWS::KMS::Key" "[-] offline-diff-probe" \
            "== ${analytics%.template.json}" "There were no differences" "new (no $base/"; do
  grep -qF -- "$want" <<<"$diff_out" || { echo "offline diff output lacks: $want"; exit 1; }
done

step "docs/architecture.md matches the dev synthesis (make diagram regenerates it)"
go run ./cmd/diagram -assembly cdk.out.strict/dev -env dev -check docs/architecture.md

step "all checks passed"
