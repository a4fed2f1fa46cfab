# Veil. `make run` and `make test` work from a fresh clone: they install
# what they need (Go modules, npm packages from package-lock.json, Debian's
# awscli, poppler-utils and curl) themselves.
SHELL := /bin/bash
.DEFAULT_GOAL := help

GO        ?= go
NPM       ?= npm
ROLE      ?= admin
FUNCTIONS := IntakeFunction IndexFunction SearchFunction ExportFunction PseudonymizeFunction
# The AWS CLI the tests drive: Debian's, installed by `make deps`.
AWS_CLI   ?= /usr/bin/aws
export AWS_CLI

.PHONY: help deps go-deps node-deps aws-cli pdftotext cfn-lint run token test test-go test-asl test-template lint bench soak clean $(addprefix build-,$(FUNCTIONS))

help: ## List the targets.
	@grep -E '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | sed 's/:.*## /\t/' | sort

deps: go-deps node-deps aws-cli cfn-lint ## Install everything run and test need.

go-deps:
	@$(GO) mod download

# npm ci only when the lockfile is newer than the installed tree.
node-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	@command -v node >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }
	$(NPM) ci --no-audit --no-fund
	@touch $@

aws-cli:
	@test -x $(AWS_CLI) || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends awscli; }

# cfn-lint runs the real SAM transform (aws-sam-translator, its dependency)
# before CloudFormation's own checks: what `sam deploy` would meet first.
# It comes with these machines; elsewhere pip installs it.
CFN_LINT ?= cfn-lint
cfn-lint:
	@command -v $(CFN_LINT) >/dev/null || python3 -m pip install --quiet cfn-lint

# The PDF export's tests read its volumes back with Debian's pdftotext; the
# end-to-end export test downloads through its links with curl.
pdftotext:
	@command -v pdftotext >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends poppler-utils; }
	@command -v curl >/dev/null || { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl; }

run: go-deps node-deps ## Run the local stack in the foreground (Ctrl-C stops it).
	$(GO) run ./cmd/veil-local -root .

token: ## Print a local dev token for ROLE (agent|supervisor|admin|auditor|api) as the last line.
	@$(GO) run ./cmd/veil token -role $(ROLE) -data .local

test: deps pdftotext lint test-template test-asl test-go ## Every test: gofmt, vet, cfn-lint, ASL validation, go test -race.

# Any finding fails, warnings included; a rule silenced goes in .cfnlintrc
# with its reason.
test-template: cfn-lint
	$(CFN_LINT) template.yaml

# Allocation counts are asserted without the race detector, whose
# instrumentation allocates on its own.
test-go:
	$(GO) test -race -count=1 -timeout 15m ./...
	$(GO) test -count=1 -run 'Alloc|MarksPlaceholders|MultiValue' ./pkg/identifiers/

test-asl:
	@for f in statemachine/*.asl.json; do node_modules/.bin/asl-validator --json-path "$$f" || exit 1; done

lint: ## gofmt and go vet.
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './node_modules/*')); \
	  if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...

bench: go-deps node-deps ## Performance figures as side-by-side ratios, one `name value` per line.
	$(GO) run ./cmd/veil-bench

soak: go-deps node-deps ## Not part of test: 500,000 rows chunked on the local stack, replaced while searches check every answer.
	$(GO) run ./cmd/veil-bench -soak

clean: ## Remove the local stack's data and build output.
	rm -rf .local .aws-sam

# sam build calls build-<LogicalId> with ARTIFACTS_DIR set (BuildMethod: makefile).
ARTIFACTS_DIR ?= .aws-sam/manual
define lambda_build
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) build -tags lambda.norpc -trimpath -ldflags "-s -w" -o $(ARTIFACTS_DIR)/bootstrap ./functions/$(1)
endef
build-IntakeFunction:
	$(call lambda_build,intake)
build-IndexFunction:
	$(call lambda_build,index)
build-SearchFunction:
	$(call lambda_build,search)
build-ExportFunction:
	$(call lambda_build,export)
build-PseudonymizeFunction:
	$(call lambda_build,pseudonymize)
