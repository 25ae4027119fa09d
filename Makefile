# Every target runs with the pinned Node.js and CDK CLI from .tools/
# (installed on first use). ENV selects the environment block of cdk.json.
SHELL := /bin/bash
ENV ?= dev
STAGE ?= prod
TOOLS := $(CURDIR)/.tools/node_modules/.bin
export PATH := $(TOOLS):$(PATH)
export JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION := 1
CDK := $(TOOLS)/cdk --no-notices

.PHONY: tools synth test lint diff deploy destroy synth-pipeline diff-pipeline diagram clean

## tools: install the pinned Node.js and CDK CLI into .tools/ (once)
tools: $(TOOLS)/cdk
$(TOOLS)/cdk: .tools/package.json .tools/package-lock.json
	npm ci --prefix .tools --no-audit --no-fund --loglevel=error
	@touch $@

## synth: synthesize ENV (default dev) into cdk.out/
synth: tools
	$(CDK) synth --quiet -c env=$(ENV) -o cdk.out

## test: every check CI runs (formatting, vet, unit and template tests, job scripts, strict synth, cfn-lint)
test: tools
	bash scripts/test.sh

## lint: static checks only (gofmt, go vet, cfn-lint on cdk.out)
lint: tools
	bash scripts/test.sh lint

## diff: compare ENV with what is deployed (needs AWS credentials)
diff: tools
	$(CDK) diff -c env=$(ENV) --all

## deploy / destroy: ENV to the account of your credentials
deploy: tools
	$(CDK) deploy -c env=$(ENV) --all
destroy: tools
	$(CDK) destroy -c env=$(ENV) -c confirm_destroy=$(ENV) --all

## synth-pipeline: pipeline mode (what the pipeline's synth step runs)
synth-pipeline: tools
	$(CDK) synth --quiet -c pipeline=true -o cdk.out

## diff-pipeline: diff of every stack of STAGE against what is deployed
diff-pipeline: tools
	$(CDK) diff -c pipeline=true --app cdk.out '$(shell jq -r .context.delivery.project cdk.json)-pipeline/$(STAGE)/*'

## diff-offline: ENV's stacks against templates saved in BASE (default cdk.base/), no AWS needed
BASE ?= cdk.base
diff-offline: synth
	@for t in cdk.out/*-$(ENV)-*.template.json; do \
	  n=$$(basename $$t .template.json); \
	  echo "== $$n"; $(CDK) diff --app cdk.out --template $(BASE)/$$n.template.json $$n || exit 1; \
	done

clean:
	rm -rf cdk.out cdk.out.* cdk.base
