#!/usr/bin/env bash
# Shared by test.sh and bench.sh: a private, throwaway Temporal dev server on a free port and a
# reachable PostgreSQL, stopped again when the calling script exits. Source it, then call
# start_services; it exports SWITCHBOARD_TEST_TEMPORAL_ADDRESS and SWITCHBOARD_TEST_DATABASE_URL.

die() { echo "$(basename "$0"): error: $*" >&2; exit 1; }

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

start_services() {
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
}
