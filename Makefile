# Every target runs with the pinned Node.js and CDK CLI from .tools/
# (installed on first use). ENV selects the environment block of cdk.json.
# `make` alone lists the targets (the `## target:` comments below).
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= dev
STAGE ?= prod
TOOLS := $(CURDIR)/.tools/node_modules/.bin
export PATH := $(TOOLS):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
# Annotations carry no construction stack trace (otherwise the CLI prints a
# stray ".../program.js:1:5591" line per synth).
export CDK_DISABLE_STACK_TRACE := 1
CDK := $(TOOLS)/cdk --no-notices

.PHONY: help actionlint tools venv build synth test lint diff deploy destroy synth-pipeline diff-pipeline diff-offline diff-templates baseline diagram schema clean aws-credentials placeholder-project

# One cloud assembly per environment and mode, so a synth of one never
# leaves templates behind that another target picks up. The pipeline's
# CodeBuild synth step (stacks/pipeline.go) expects its assembly in cdk.out/
# itself, so there (CODEBUILD_BUILD_ID is set) pipeline mode keeps cdk.out.
OUT_DIR = cdk.out/$(ENV)
PIPELINE_OUT := $(if $(CODEBUILD_BUILD_ID),cdk.out,cdk.out/pipeline)

## help: list the targets (also what plain `make` prints)
help:
	@echo "usage: make TARGET [ENV=dev] (ENV is a block of cdk.json context.environments)"
	@awk '/^## [a-z][a-z0-9 -\/]*:/ { sub(/^## /, ""); split($$0, a, ": "); printf "  %-22s %s\n", a[1], substr($$0, length(a[1]) + 3); next } \
	     /^## / { sub(/^## /, ""); printf "  %-22s %s\n", "", $$0 }' $(firstword $(MAKEFILE_LIST))

# actionlint checks .github/workflows (make test, make lint); built from the
# Go module proxy into .cache/bin (git-ignored), pinned here.
ACTIONLINT_VERSION := v1.7.12
ACTIONLINT := $(CURDIR)/.cache/bin/actionlint-$(ACTIONLINT_VERSION)

## tools: install the pinned Node.js and CDK CLI into .tools/ (once)
tools: $(TOOLS)/cdk
$(TOOLS)/cdk: .tools/package.json .tools/package-lock.json
	npm ci --prefix .tools --no-audit --no-fund --loglevel=error
	@touch $@
$(ACTIONLINT):
	@echo "building actionlint $(ACTIONLINT_VERSION) from the Go module proxy into .cache/bin (once per machine, about 30 s)"
	@GOBIN=$(CURDIR)/.cache/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	@mv $(CURDIR)/.cache/bin/actionlint $@

## build: compile the CDK app (the first time on a machine this compiles the
## Go CDK bindings, 1.5-3 minutes, and says so)
build:
	@if [[ "$$(go list -f '{{.Stale}}' github.com/aws/aws-cdk-go/awscdk/v2 2>/dev/null)" != false ]]; then \
	  echo "compiling the CDK app and the Go CDK bindings (cold Go build cache: about 1.5 minutes on 2 idle cores, up to 3 on a busy machine; seconds afterwards)"; \
	  go build -o /dev/null . && echo "compiled"; fi

## synth: synthesize ENV (default dev) into cdk.out/ENV/
synth: tools build
	$(CDK) synth --quiet -c env=$(ENV) -o $(OUT_DIR)
	@echo "templates of $(ENV): $(OUT_DIR)/"

## test: every check CI runs (formatting, vet, unit and template tests, job scripts, strict synth, cfn-lint, the local lake)
test: tools $(ACTIONLINT) venv
	bash scripts/test.sh

## venv: install the pinned Python tools (requirements-ci.txt: cfn-lint, PySpark, ...) into .venv/
VENV := $(CURDIR)/.venv
venv: $(VENV)/.installed
$(VENV)/.installed: requirements-ci.txt e2e/requirements.txt
	@echo "installing requirements-ci.txt into .venv/ (first run: PySpark is a 317 MB download, about 2 minutes)"
	@[[ -x $(VENV)/bin/python ]] || python3 -m venv $(VENV)
	@$(VENV)/bin/pip install -q --disable-pip-version-check -r requirements-ci.txt
	@touch $@

## lint: static checks only (gofmt, go vet, actionlint, cfn-lint on cdk.out)
lint: tools $(ACTIONLINT)
	bash scripts/test.sh lint

# Deploy, destroy and diff need AWS credentials; without any the CLI ends
# with a bare "Unable to resolve AWS account". Say what to do first. CI
# (GitHub Actions, CodeBuild) passes; on a machine whose only credentials
# are an instance role, AWS_CHECK=0 skips the check.
aws-credentials:
	@if [[ "$${AWS_CHECK:-1}" != 0 && -z "$${GITHUB_ACTIONS:-}$${CODEBUILD_BUILD_ID:-}$${AWS_ACCESS_KEY_ID:-}$${AWS_PROFILE:-}$${AWS_WEB_IDENTITY_TOKEN_FILE:-}$${AWS_CONTAINER_CREDENTIALS_RELATIVE_URI:-}$${AWS_CONTAINER_CREDENTIALS_FULL_URI:-}" \
	      && ! -s "$${AWS_SHARED_CREDENTIALS_FILE:-$$HOME/.aws/credentials}" && ! -s "$${AWS_CONFIG_FILE:-$$HOME/.aws/config}" ]]; then \
	  echo "no AWS credentials found (no AWS_PROFILE or AWS_ACCESS_KEY_ID, no ~/.aws/credentials or ~/.aws/config)." >&2; \
	  echo "  make $(MAKECMDGOALS) needs an AWS account: run 'aws configure' or 'aws sso login --profile NAME', then" >&2; \
	  echo "  AWS_PROFILE=NAME make $(MAKECMDGOALS) ENV=$(ENV) (bootstrap once per account and region: ./cdk bootstrap aws://ACCOUNT/REGION; see docs/deploy.md)." >&2; \
	  echo "  Offline alternatives: make synth, make diff-offline (docs/deploy.md). On an instance role: AWS_CHECK=0." >&2; \
	  exit 2; fi

## diff: compare ENV with what is deployed (needs AWS credentials)
diff: tools aws-credentials
	$(CDK) diff -c env=$(ENV) -o $(OUT_DIR)

## deploy / destroy: ENV to the account of your credentials. Data is
## retained unless ENV's block has allow_destroy and the deploy was run with
## CONFIRM_DESTROY=<ENV> (the removal policy is in the deployed template).
CONFIRM := $(if $(CONFIRM_DESTROY),-c confirm_destroy=$(CONFIRM_DESTROY))
# S3 bucket names are global: every clone that deploys the shipped project
# name without an account asks for the same data-pipeline-raw-dev (taken by
# the first). Refuse it before CloudFormation fails half-way.
placeholder-project:
	@if jq -e --arg e '$(ENV)' '.context.environments[$$e] as $$b | ($$b.project == "data-pipeline") and (($$b.account // "") == "") and ([$$b.raw_bucket_name, $$b.processed_bucket_name, $$b.curated_bucket_name] | any(. == null))' cdk.json >/dev/null; then \
	  echo "environment $(ENV) deploys the shipped project name \"data-pipeline\": its bucket names (data-pipeline-raw-$(ENV), ...) are global in S3" >&2; \
	  echo "  and probably taken. In cdk.json context.environments.$(ENV), set \"project\" to a name of your own (3-20 lowercase" >&2; \
	  echo "  letters, digits, -), or \"account\" (derived bucket names then end in the account id), or the three *_bucket_name keys." >&2; \
	  exit 2; fi

deploy: tools aws-credentials placeholder-project
	$(CDK) deploy -c env=$(ENV) $(CONFIRM) -o $(OUT_DIR) --all
destroy: tools aws-credentials
	$(CDK) destroy -c env=$(ENV) $(CONFIRM) -o $(OUT_DIR) --all

## synth-pipeline: pipeline mode (what the pipeline's synth step runs) into cdk.out/pipeline/
synth-pipeline: tools build
	$(CDK) synth --quiet -c pipeline=true -o $(PIPELINE_OUT)

## diff-pipeline: diff of every stack of STAGE against what is deployed
diff-pipeline: tools aws-credentials
	$(CDK) diff -c pipeline=true --app $(PIPELINE_OUT) '$(shell jq -r .context.delivery.project cdk.json)-pipeline/$(STAGE)/*'

## baseline: synthesize ENV and save its templates in BASE (default cdk.base/)
## as the base of diff-offline (run it on the commit you compare against)
BASE ?= cdk.base
baseline: synth
	@mkdir -p $(BASE) && rm -f $(BASE)/*-$(ENV)-*.template.json
	@cp $(OUT_DIR)/*-$(ENV)-*.template.json $(BASE)/
	@echo "saved $$(ls $(BASE)/*-$(ENV)-*.template.json | wc -l) templates of $(ENV) in $(BASE)/: later, make diff-offline ENV=$(ENV) shows what changed"

## diff-offline: synthesize ENV, then diff its stacks against templates saved in BASE (default cdk.base/), no AWS needed
diff-offline: synth
	@$(MAKE) --no-print-directory diff-templates ENV=$(ENV) BASE=$(BASE) OUT=$(OUT_DIR)

## diff-templates: diff ENV's stacks already synthesized in OUT (default cdk.out/ENV) against BASE;
## a stack without a template in BASE is reported as new and not diffed
OUT ?= $(OUT_DIR)
diff-templates: tools
	@if ! compgen -G "$(BASE)/*-$(ENV)-*.template.json" >/dev/null; then \
	  echo "no saved $(ENV) templates in $(BASE)/: nothing to diff against." >&2; \
	  echo "  Save a base first: make baseline ENV=$(ENV) [BASE=$(BASE)] on the commit to compare with (e.g. main)," >&2; \
	  echo "  then come back to your branch and run make diff-offline ENV=$(ENV)." >&2; exit 1; fi
	@set -e; found=0; for t in $(OUT)/*-$(ENV)-*.template.json; do \
	  [[ -e $$t ]] || continue; found=1; \
	  n=$$(basename $$t .template.json); \
	  if [[ ! -f $(BASE)/$$n.template.json ]]; then echo "== $$n: new (no $(BASE)/$$n.template.json)"; continue; fi; \
	  echo "== $$n"; $(CDK) diff --app $(OUT) --exclusively --template $(BASE)/$$n.template.json $$n 2>&1; \
	done; \
	if [[ $$found == 0 ]]; then echo "no $(ENV) templates in $(OUT)/: run make synth ENV=$(ENV)" >&2; exit 1; fi

## diagram: regenerate docs/architecture.md (data flow and stacks, Mermaid) and
## docs/architecture.svg (Graphviz: apt-get install graphviz) from a synth of ENV
diagram: synth
	@command -v dot >/dev/null || { echo "make diagram renders the SVG with Graphviz: apt-get install graphviz" >&2; exit 1; }
	go run ./cmd/diagram -assembly $(OUT_DIR) -env $(ENV) -o docs/architecture.md -svg docs/architecture.svg

## e2e: run the synthesized data path end to end on this machine (the local lake:
## API templates, validator, Firehose, Glue jobs on PySpark, DQ rules, named
## queries); synthesizes dev into cdk.out.e2e/, or runs ASSEMBLY=<dir>
.PHONY: e2e
e2e: tools
	bash e2e/run.sh $(ASSEMBLY)

## bench-etl: raw->processed with one new batch (BENCH_BATCH rows) against processed history of
## BENCH_HISTORY and 10 x BENCH_HISTORY rows in local Spark; ends with the cost ratio.
## BENCH_DATASET=orders runs another dataset (default: the first declared)
BENCH_HISTORY ?= 1000000
BENCH_BATCH ?= 100000
.PHONY: bench-etl
bench-etl: tools venv
	E2E_DRIVER_MEMORY=6g E2E_SHUFFLE_PARTITIONS=8 bash e2e/run.sh --bench $(ASSEMBLY) --history $(BENCH_HISTORY) --batch $(BENCH_BATCH) $(if $(BENCH_DATASET),--dataset $(BENCH_DATASET))

## schema: regenerate cdk.schema.json (the JSON Schema editors use for cdk.json) from the Go config types
schema:
	go run ./cmd/configschema -o cdk.schema.json

## actionlint: check the GitHub Actions workflows
actionlint: $(ACTIONLINT)
	$(ACTIONLINT) -no-color

## clean: remove every synthesized assembly and the saved base
clean:
	rm -rf cdk.out cdk.out.* cdk.base
