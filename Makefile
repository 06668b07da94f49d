# atomicflow: two commands for a newcomer, `make dev` and `make test`.
SHELL := /bin/bash
GO ?= go
TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL := $(CURDIR)/bin/temporal
WORKFLOWCHECK_VERSION := v0.6.0
WORKFLOWCHECK := $(CURDIR)/bin/workflowcheck
STATICCHECK_VERSION := v0.8.2
STATICCHECK := $(CURDIR)/bin/staticcheck
ERRCHECK_VERSION := v1.30.0
ERRCHECK := $(CURDIR)/bin/errcheck

.PHONY: test test-unit tools lint vet fmt build dev chromium

## tools: install the pinned Temporal CLI, workflowcheck, staticcheck and errcheck into ./bin when
## they are missing, and Debian's chromium for the UI test where apt-get can (it says so and goes
## on where it cannot).
tools: $(TEMPORAL) $(WORKFLOWCHECK) $(STATICCHECK) $(ERRCHECK) chromium

$(TEMPORAL):
	@echo "installing Temporal CLI $(TEMPORAL_CLI_VERSION) into ./bin (a few minutes, once)"
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

$(WORKFLOWCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install go.temporal.io/sdk/contrib/tools/workflowcheck@$(WORKFLOWCHECK_VERSION)

$(STATICCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

$(ERRCHECK):
	GOBIN=$(CURDIR)/bin $(GO) install github.com/kisielk/errcheck@$(ERRCHECK_VERSION)

chromium:
	@scripts/install-chromium.sh

## dev: Temporal dev server (UI http://localhost:8233), the simulator and the worker; Ctrl-C stops them.
dev: tools
	@scripts/dev.sh

## test: lint, then every test with the race detector (unit, contract, replay, e2e on the dev server).
## This is what CI runs.
test: tools lint
	$(GO) test -race -count=1 -timeout 30m ./...

## test-unit: the fast local loop: every package but e2e/, with the race detector and -short, which
## skips the tests that start a Temporal dev server or make dev's processes (starter's
## *_devserver_test.go, workerapp's TestRun, scripts/); make test runs them. Needs no ./bin.
test-unit:
	$(GO) test -race -count=1 -short $$($(GO) list ./... | grep -v /e2e)

## lint: gofmt, go vet, staticcheck, errcheck (its exclusions, each with its reason, are in
## .errcheck-excludes) and workflowcheck (workflow determinism).
lint: $(WORKFLOWCHECK) $(STATICCHECK) $(ERRCHECK)
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...
	$(STATICCHECK) ./...
	$(ERRCHECK) -exclude .errcheck-excludes ./...
	$(WORKFLOWCHECK) ./workflows/...

fmt:
	gofmt -w $$(git ls-files '*.go')

build:
	$(GO) build ./...
