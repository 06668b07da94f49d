# atomicflow: two commands for a newcomer, `make dev` and `make test`.
SHELL := /bin/bash
GO ?= go
TEMPORAL_CLI_VERSION := v1.5.1
TEMPORAL := $(CURDIR)/bin/temporal

.PHONY: test tools lint vet fmt build dev

## tools: install the pinned Temporal CLI into ./bin when it is missing.
tools: $(TEMPORAL)

$(TEMPORAL):
	@echo "installing Temporal CLI $(TEMPORAL_CLI_VERSION) into ./bin (a few minutes, once)"
	GOBIN=$(CURDIR)/bin $(GO) install github.com/temporalio/cli/cmd/temporal@$(TEMPORAL_CLI_VERSION)

## dev: Temporal dev server (UI http://localhost:8233), the simulator and the worker; Ctrl-C stops them.
dev: tools
	@scripts/dev.sh

## test: every test, with the race detector.
test: tools
	$(GO) vet ./...
	$(GO) test -race -count=1 -timeout 30m ./...

## lint: gofmt and go vet.
lint:
	@unformatted=$$(gofmt -l $$(git ls-files '*.go')); \
	if [ -n "$$unformatted" ]; then echo "gofmt would change:"; echo "$$unformatted"; exit 1; fi
	$(GO) vet ./...

fmt:
	gofmt -w $$(git ls-files '*.go')

build:
	$(GO) build ./...
