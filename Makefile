# Every target runs with the pinned Node.js and CDK CLI from .tools/
# (installed on first use). ENV selects the environment block of cdk.json.
SHELL := /bin/bash
ENV ?= dev
STAGE ?= prod
TOOLS := $(CURDIR)/.tools/node_modules/.bin
export PATH := $(TOOLS):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
CDK := $(TOOLS)/cdk --no-notices

.PHONY: actionlint tools synth test lint diff deploy destroy synth-pipeline diff-pipeline diff-offline diff-templates diagram clean

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
	GOBIN=$(CURDIR)/.cache/bin go install github.com/rhysd/actionlint/cmd/actionlint@$(ACTIONLINT_VERSION)
	mv $(CURDIR)/.cache/bin/actionlint $@

## synth: synthesize ENV (default dev) into cdk.out/
synth: tools
	$(CDK) synth --quiet -c env=$(ENV) -o cdk.out

## test: every check CI runs (formatting, vet, unit and template tests, job scripts, strict synth, cfn-lint)
test: tools $(ACTIONLINT)
	bash scripts/test.sh

## lint: static checks only (gofmt, go vet, actionlint, cfn-lint on cdk.out)
lint: tools $(ACTIONLINT)
	bash scripts/test.sh lint

## diff: compare ENV with what is deployed (needs AWS credentials)
diff: tools
	$(CDK) diff -c env=$(ENV) --all

## deploy / destroy: ENV to the account of your credentials. Data is
## retained unless ENV's block has allow_destroy and the deploy was run with
## CONFIRM_DESTROY=<ENV> (the removal policy is in the deployed template).
CONFIRM := $(if $(CONFIRM_DESTROY),-c confirm_destroy=$(CONFIRM_DESTROY))
deploy: tools
	$(CDK) deploy -c env=$(ENV) $(CONFIRM) --all
destroy: tools
	$(CDK) destroy -c env=$(ENV) $(CONFIRM) --all

## synth-pipeline: pipeline mode (what the pipeline's synth step runs)
synth-pipeline: tools
	$(CDK) synth --quiet -c pipeline=true -o cdk.out

## diff-pipeline: diff of every stack of STAGE against what is deployed
diff-pipeline: tools
	$(CDK) diff -c pipeline=true --app cdk.out '$(shell jq -r .context.delivery.project cdk.json)-pipeline/$(STAGE)/*'

## diff-offline: synthesize ENV, then diff its stacks against templates saved in BASE (default cdk.base/), no AWS needed
BASE ?= cdk.base
diff-offline: synth
	@$(MAKE) --no-print-directory diff-templates ENV=$(ENV) BASE=$(BASE) OUT=cdk.out

## diff-templates: diff ENV's stacks already synthesized in OUT (default cdk.out) against BASE;
## a stack without a template in BASE is reported as new and not diffed
OUT ?= cdk.out
diff-templates: tools
	@set -e; found=0; for t in $(OUT)/*-$(ENV)-*.template.json; do \
	  [[ -e $$t ]] || continue; found=1; \
	  n=$$(basename $$t .template.json); \
	  if [[ ! -f $(BASE)/$$n.template.json ]]; then echo "== $$n: new (no $(BASE)/$$n.template.json)"; continue; fi; \
	  echo "== $$n"; $(CDK) diff --app $(OUT) --exclusively --template $(BASE)/$$n.template.json $$n 2>&1; \
	done; \
	if [[ $$found == 0 ]]; then echo "no $(ENV) templates in $(OUT)/: run make synth ENV=$(ENV)" >&2; exit 1; fi

## diagram: regenerate docs/architecture.md (Mermaid) from a fresh synth of ENV
diagram: tools
	rm -rf cdk.out.diagram
	$(CDK) synth --quiet -c env=$(ENV) -o cdk.out.diagram
	go run ./cmd/diagram -assembly cdk.out.diagram -env $(ENV) -o docs/architecture.md

## actionlint: check the GitHub Actions workflows
actionlint: $(ACTIONLINT)
	$(ACTIONLINT) -no-color

clean:
	rm -rf cdk.out cdk.out.* cdk.base
