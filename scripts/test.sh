#!/usr/bin/env bash
# `make test` (and CI): formatting, vet, then the whole test suite against a
# private, throwaway Temporal dev server and the local PostgreSQL.
#
# Environment:
#   GOTEST_FLAGS                    extra `go test` flags, e.g. "-run TestX -v"
#   GOTEST_PKGS                     packages to test (default ./...)
#   SWITCHBOARD_TEST_DATABASE_URL   PostgreSQL server the tests create their
#                                   databases on (default: local postgres db)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .data

tier() { printf '\n==> %s\n' "$*"; }
die() { echo "test.sh: error: $*" >&2; exit 1; }

# --- cleanup: always stop what we started -----------------------------------
temporal_pidfile=""
temporal_db=""
started_pg=0
# shellcheck disable=SC2317 # invoked from traps
cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  set +e
  if [[ -n "$temporal_pidfile" ]]; then
    bash "$ROOT/scripts/temporal.sh" stop "$temporal_pidfile"
    rm -f "$temporal_db" "$temporal_db-wal" "$temporal_db-shm" "$temporal_db-journal"
  fi
  if ((started_pg)); then
    bash "$ROOT/scripts/postgres.sh" stop
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- tier 1: static checks --------------------------------------------------------
tier "[1/4] gofmt"
# Every .go file outside build/scratch directories (vendor would be excluded too).
unformatted="$(find . \( -path ./.git -o -path ./bin -o -path ./.data -o -path ./vendor -o -name node_modules \) -prune \
  -o -type f -name '*.go' -print0 | xargs -0 -r gofmt -l)"
if [[ -n "$unformatted" ]]; then
  echo "these files are not gofmt-formatted (run 'make fmt'):" >&2
  echo "$unformatted" | sed 's/^/  /' >&2
  exit 1
fi
echo "ok"

tier "[2/4] go vet ./..."
go vet ./...
echo "ok"

# --- tier 2: services ---------------------------------------------------------------
tier "[3/4] test services: Temporal dev server + PostgreSQL"
bash scripts/temporal.sh install

# First free port from 7300 upward (bash's /dev/tcp connect fails => free).
port=""
for ((p = 7300; p < 7400; p++)); do
  if ! (echo >"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
    port=$p
    break
  fi
done
[[ -n "$port" ]] || die "no free port in 7300-7399 for the Temporal dev server"

temporal_db="$ROOT/.data/test-$port.db"
rm -f "$temporal_db" "$temporal_db-wal" "$temporal_db-shm" "$temporal_db-journal"
temporal_pidfile="$ROOT/.data/test-temporal-$port.pid"
bash scripts/temporal.sh start "$port" none "$temporal_db" "$temporal_pidfile" >/dev/null
export SWITCHBOARD_TEST_TEMPORAL_ADDRESS="127.0.0.1:$port"

# Tests create (and drop) their own databases on this server.
test_db_url="${SWITCHBOARD_TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}"
pg_env="$(SWITCHBOARD_DATABASE_URL="$test_db_url" bash scripts/postgres.sh ensure)"
if [[ -n "$pg_env" ]]; then
  # The private cluster is in use: take its URL (same database name).
  test_db_url="$(eval "$pg_env" && echo "$SWITCHBOARD_DATABASE_URL")"
  if [[ "$pg_env" == *SWITCHBOARD_PRIVATE_PG_STARTED=1* ]]; then
    started_pg=1
  fi
fi
export SWITCHBOARD_TEST_DATABASE_URL="$test_db_url"

echo "SWITCHBOARD_TEST_TEMPORAL_ADDRESS=$SWITCHBOARD_TEST_TEMPORAL_ADDRESS"
echo "SWITCHBOARD_TEST_DATABASE_URL=$SWITCHBOARD_TEST_DATABASE_URL"

# --- tier 3: the test suite -------------------------------------------------------
# GOTEST_FLAGS / GOTEST_PKGS are split on whitespace on purpose.
read -r -a extra_flags <<<"${GOTEST_FLAGS:-}"
read -r -a pkgs <<<"${GOTEST_PKGS:-./...}"
cmd=(go test -race -count=1 -timeout 30m -p 2 "${extra_flags[@]}" "${pkgs[@]}")
tier "[4/4] ${cmd[*]}"
set +e
"${cmd[@]}"
rc=$?
set -e
if ((rc == 0)); then
  tier "all tests passed"
else
  tier "go test failed (exit $rc)"
  if [[ -f "$ROOT/.data/temporal-$port.log" ]]; then
    echo "--- last lines of the Temporal dev server log (.data/temporal-$port.log) ---"
    tail -n 20 "$ROOT/.data/temporal-$port.log" || true
  fi
fi
exit "$rc"
