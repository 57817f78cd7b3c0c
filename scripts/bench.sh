#!/usr/bin/env bash
# `make bench`: the benchmarks, against a private Temporal dev server (SQLite file, WAL) and the
# local PostgreSQL, each printing its results next to a baseline measured in the same run.
# Extra arguments go to `go run ./bench` (see `go run ./bench -h`), e.g. `-only open-tickets`.
# SWITCHBOARD_BENCH_GO=0 skips the Go benchmarks; SWITCHBOARD_BENCH_OPEN_TICKETS=2000 holds fewer
# open tickets than the full 20,000 for a quick run.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .data

# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"
start_services

if [[ "${SWITCHBOARD_BENCH_GO:-1}" != 0 ]]; then
  printf '\n==> Go benchmarks (go test -bench)\n'
  go test -run '^$' -bench . -benchmem ./...
fi

printf '\n==> service benchmarks (go run ./bench)\n'
go run ./bench "$@"
