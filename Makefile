# dockerd-lite: build, run and test. `make run` and `make test` do all set-up
# on a fresh Debian 12 machine (as root they install what is missing).
GO      ?= go
TAGS    := exclude_graphdriver_btrfs seccomp osusergo netgo
BIN     := bin/dockerd-lite
SHIM    := internal/shimbin/dockerd-lite-shim
PKG     := github.com/dockerd-lite/dockerd-lite
COMMIT  := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
# Statically linked: the same binary runs inside any image as --init.
LDFLAGS := -s -w -linkmode=external -extldflags=-static \
           -X $(PKG)/internal/version.GitCommit=$(COMMIT) \
           -X $(PKG)/internal/version.BuildTime=$(shell date -u +%Y-%m-%dT%H:%M:%SZ)
ARGS    ?=

export CGO_ENABLED := 1

.PHONY: build run setup test test-unit test-e2e bench lint clean

# The shim (cmd/dockerd-lite-shim) is built first and embedded: the process
# that stays with every container then carries only the runtime's code.
build:
	$(GO) build -tags "$(TAGS)" -trimpath -ldflags "$(LDFLAGS)" -o $(SHIM) ./cmd/dockerd-lite-shim
	$(GO) build -tags "$(TAGS) shimembed" -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/dockerd-lite

# Install missing runtime packages (when root), build, run in the foreground.
run: setup build
	$(BIN) $(ARGS)

setup:
	@bash hack/setup-host.sh

# The whole suite. As root it creates the unprivileged test user the
# end-to-end daemon runs as.
test: setup test-unit test-e2e

test-unit:
	$(GO) test -tags "$(TAGS)" -count=1 ./cmd/... ./internal/...

test-e2e: build
	@if [ "$$(id -u)" = 0 ]; then bash hack/setup-test-user.sh; fi
	DOCKERD_LITE_BIN=$(CURDIR)/$(BIN) $(GO) test -tags "$(TAGS)" -count=1 -timeout 20m ./tests/...

bench: build
	DOCKERD_LITE_BIN=$(CURDIR)/$(BIN) $(GO) run -tags "$(TAGS)" ./hack/bench/startup
	DOCKERD_LITE_BIN=$(CURDIR)/$(BIN) $(GO) run -tags "$(TAGS)" ./hack/bench/pull
	DOCKERD_LITE_BIN=$(CURDIR)/$(BIN) $(GO) run -tags "$(TAGS)" ./hack/bench/containers
	DOCKERD_LITE_BIN=$(CURDIR)/$(BIN) $(GO) run -tags "$(TAGS)" ./hack/bench/ports
	$(GO) test -tags "$(TAGS)" -count=1 -run '^$$' -bench PortForwarders -benchtime 20x ./internal/netns

lint:
	@out=$$(gofmt -l cmd internal tests hack); if [ -n "$$out" ]; then echo "gofmt:"; echo "$$out"; exit 1; fi
	$(GO) vet -tags "$(TAGS)" ./...

clean:
	rm -rf bin $(SHIM)
