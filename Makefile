# Switchboard developer tasks. `make` alone lists them.
GO ?= go

.DEFAULT_GOAL := help

.PHONY: help run test test-cluster bench build temporal fmt vet clean

help:
	@echo "Switchboard make targets:"
	@echo "  make run       start Temporal dev server (UI :8233), PostgreSQL, API+worker on :8080, seed demo data"
	@echo "  make test      gofmt + go vet + go test -race against a private Temporal dev server and PostgreSQL"
	@echo "  make test-cluster  the cluster tests: a Temporal server on PostgreSQL, 2 APIs, 2 workers, faults"
	@echo "  make bench     run the benchmarks (scripts/bench.sh)"
	@echo "  make build     build bin/switchboard"
	@echo "  make temporal  install the pinned Temporal CLI into bin/"
	@echo "  make fmt       gofmt -w the Go sources"
	@echo "  make vet       go vet ./..."
	@echo "  make clean     remove bin/ and .data/ (stops the private PostgreSQL first)"
	@echo
	@echo "  GOTEST_FLAGS='-run TestX -v' make test   passes extra flags to go test"

run:
	bash scripts/run.sh

test:
	bash scripts/test.sh

test-cluster:
	bash scripts/cluster.sh test

bench:
	bash scripts/bench.sh

build:
	$(GO) build -o bin/switchboard ./cmd/switchboard

temporal:
	bash scripts/temporal.sh install

fmt:
	@find . \( -path ./.git -o -path ./bin -o -path ./.data -o -path ./vendor -o -name node_modules \) -prune \
		-o -type f -name '*.go' -print0 | xargs -0 -r gofmt -w -l

vet:
	$(GO) vet ./...

clean:
	-@bash scripts/postgres.sh stop >/dev/null 2>&1
	rm -rf bin .data
