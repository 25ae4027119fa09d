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

step "all checks passed"
