#!/usr/bin/env bash
# `make run`: a complete local Switchboard with demo data.
#
# Starts (or reuses) a Temporal dev server on 127.0.0.1:7233 with its UI on
# :8233, makes sure PostgreSQL is available, builds and migrates, starts
# `switchboard serve`, seeds the demo workspace and then waits. Ctrl-C stops
# exactly what this run started, in reverse order.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
mkdir -p .data

# A `temporal server start-dev` we start here persists across runs in this file.
TEMPORAL_DB="$ROOT/.data/temporal.db"
TEMPORAL_PIDFILE="$ROOT/.data/temporal-run.pid"
TOKEN_FILE="$ROOT/.data/admin-token"
READY_TIMEOUT=60

export TEMPORAL_ADDRESS="${TEMPORAL_ADDRESS:-127.0.0.1:7233}"
export SWITCHBOARD_HTTP_ADDR="${SWITCHBOARD_HTTP_ADDR:-:8080}"
HTTP_PORT="${SWITCHBOARD_HTTP_ADDR##*:}"
BASE_URL="http://127.0.0.1:$HTTP_PORT"

say() { printf '\n==> %s\n' "$*" >&2; }
die() { echo "run.sh: error: $*" >&2; exit 1; }

port_open() { (echo >"/dev/tcp/$1/$2") 2>/dev/null; }

# http_status URL: print the HTTP status code of a GET (000 when unreachable).
http_status() {
  if command -v curl >/dev/null 2>&1; then
    curl -s -o /dev/null -m 5 -w '%{http_code}' "$1" || true
  else
    # Bare-bones fallback for hosts without curl: HTTP/1.0 over /dev/tcp.
    local rest="${1#http://}" hostport path host port line
    hostport="${rest%%/*}" path="/${rest#*/}"
    host="${hostport%:*}" port="${hostport##*:}"
    if exec 3<>"/dev/tcp/$host/$port" 2>/dev/null; then
      printf 'GET %s HTTP/1.0\r\nHost: %s\r\n\r\n' "$path" "$hostport" >&3
      IFS=' ' read -r -t 5 _ line _ <&3 || true
      exec 3<&- 3>&-
      echo "${line:-000}"
    else
      echo 000
    fi
  fi
}

# --- cleanup: stop exactly what this run started --------------------------
serve_pid=""
started_temporal=0
started_pg=0
cleaning=0
# shellcheck disable=SC2317 # invoked from traps
cleanup() {
  local rc=$?
  ((cleaning)) && return
  cleaning=1
  trap - INT TERM
  set +e
  if [[ -n "$serve_pid" ]] && kill -0 "$serve_pid" 2>/dev/null; then
    say "stopping switchboard (pid $serve_pid)"
    kill -TERM "$serve_pid" 2>/dev/null
    local i
    for ((i = 0; i < 200; i++)); do # up to 20 s for a graceful shutdown
      kill -0 "$serve_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$serve_pid" 2>/dev/null
    wait "$serve_pid" 2>/dev/null
  fi
  if ((started_temporal)); then
    bash "$ROOT/scripts/temporal.sh" stop "$TEMPORAL_PIDFILE"
  fi
  if ((started_pg)); then
    bash "$ROOT/scripts/postgres.sh" stop
  fi
  exit "$rc"
}
trap cleanup EXIT
# Turn signals into a normal exit so the EXIT trap does the cleanup once.
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Temporal ---------------------------------------------------------------
say "Temporal CLI"
bash scripts/temporal.sh install

temporal_host="${TEMPORAL_ADDRESS%:*}"
temporal_port="${TEMPORAL_ADDRESS##*:}"
if port_open "$temporal_host" "$temporal_port"; then
  say "Temporal already answers on $TEMPORAL_ADDRESS; reusing it"
  # Something listens; give it a moment in case it is still booting.
  deadline=$((SECONDS + READY_TIMEOUT))
  until bash scripts/temporal.sh ready "$TEMPORAL_ADDRESS"; do
    ((SECONDS < deadline)) || die "something listens on $TEMPORAL_ADDRESS but does not answer as a Temporal frontend"
    sleep 1
  done
else
  case "$temporal_host" in
  127.0.0.1 | localhost) ;;
  *) die "no Temporal server at $TEMPORAL_ADDRESS (only a local one can be started here)" ;;
  esac
  ui_port=$((temporal_port + 1000)) # 7233 -> 8233, the Temporal default
  say "starting Temporal dev server on 127.0.0.1:$temporal_port (UI on :$ui_port)"
  bash scripts/temporal.sh start "$temporal_port" "$ui_port" "$TEMPORAL_DB" "$TEMPORAL_PIDFILE" >/dev/null
  started_temporal=1
  export TEMPORAL_ADDRESS="127.0.0.1:$temporal_port"
  export SWITCHBOARD_TEMPORAL_UI_URL="${SWITCHBOARD_TEMPORAL_UI_URL:-http://localhost:$ui_port}"
fi
export SWITCHBOARD_TEMPORAL_UI_URL="${SWITCHBOARD_TEMPORAL_UI_URL:-http://localhost:8233}"

# --- PostgreSQL ---------------------------------------------------------------
say "PostgreSQL"
pg_env="$(bash scripts/postgres.sh ensure)"
eval "$pg_env"
if [[ "${SWITCHBOARD_PRIVATE_PG_STARTED:-}" == 1 ]]; then
  started_pg=1
  unset SWITCHBOARD_PRIVATE_PG_STARTED
fi
export SWITCHBOARD_DATABASE_URL="${SWITCHBOARD_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/switchboard?sslmode=disable}"

# --- build and migrate --------------------------------------------------------
say "building bin/switchboard"
go build -o bin/switchboard ./cmd/switchboard

say "migrating"
bin/switchboard migrate

# --- admin token ------------------------------------------------------------------
# Generated once and kept, so API clients and bookmarks survive restarts.
if ! grep -Eqx 'sb_[A-Za-z0-9_-]{43}' "$TOKEN_FILE" 2>/dev/null; then
  (
    umask 077
    # 32 random bytes -> 43 chars of unpadded url-safe base64.
    printf 'sb_%s\n' "$(head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')" >"$TOKEN_FILE"
  )
fi
TOKEN="$(tr -d '[:space:]' <"$TOKEN_FILE")"
export SWITCHBOARD_ADMIN_TOKEN="$TOKEN"

# --- serve ------------------------------------------------------------------------
if port_open 127.0.0.1 "$HTTP_PORT"; then
  die "port $HTTP_PORT is already in use (another 'make run'?); stop it or set SWITCHBOARD_HTTP_ADDR"
fi
say "starting switchboard serve on $SWITCHBOARD_HTTP_ADDR"
bin/switchboard serve </dev/null &
serve_pid=$!

deadline=$((SECONDS + READY_TIMEOUT))
until [[ "$(http_status "$BASE_URL/readyz")" == 200 ]]; do
  kill -0 "$serve_pid" 2>/dev/null || die "switchboard serve exited during startup"
  ((SECONDS < deadline)) || die "switchboard not ready after ${READY_TIMEOUT}s ($BASE_URL/readyz)"
  sleep 1
done

say "seeding the demo workspace"
bin/switchboard demo --url "$BASE_URL" --token "$TOKEN"

cat <<EOF

============================================================================
 Switchboard is running. Press Ctrl-C to stop it.

   Admin token   $TOKEN
   API           http://localhost:$HTTP_PORT/api/v1
   OpenAPI       http://localhost:$HTTP_PORT/api/v1/openapi.json
   Temporal UI   $SWITCHBOARD_TEMPORAL_UI_URL
============================================================================

EOF

# `wait` returns early when a trapped signal arrives, so Ctrl-C runs cleanup
# right away; otherwise we exit with serve's status once it stops by itself.
set +e
wait "$serve_pid"
rc=$?
set -e
serve_pid=""
exit "$rc"
