#!/usr/bin/env bash
# Make sure a PostgreSQL server is available for local runs and tests.
#
#   eval "$(scripts/postgres.sh ensure)"
#       If PostgreSQL answers at the host/port of SWITCHBOARD_DATABASE_URL
#       (default postgres://postgres@127.0.0.1:5432/switchboard?sslmode=disable)
#       this prints nothing. Otherwise it creates (once) and starts a private
#       cluster under .data/pg on 127.0.0.1:5433 (trust auth) and prints
#         export SWITCHBOARD_DATABASE_URL=<same database on the private cluster>
#       plus, when this invocation started the cluster,
#         export SWITCHBOARD_PRIVATE_PG_STARTED=1
#       so the caller knows it should run `scripts/postgres.sh stop` at the end.
#   scripts/postgres.sh stop
#       Stop the private cluster if this script started it.
#   scripts/postgres.sh status
#       Say whether the private cluster is running.
#
# Everything but the export lines goes to stderr.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DEFAULT_URL="postgres://postgres@127.0.0.1:5432/switchboard?sslmode=disable"
# SWITCHBOARD_PRIVATE_PG_DIR/_PORT: another private cluster (scripts/cluster.sh runs its own).
PG_DIR="${SWITCHBOARD_PRIVATE_PG_DIR:-$ROOT/.data/pg}"
PG_DATA="$PG_DIR/data"
PG_SOCK="$PG_DIR/sock"
PG_LOG="$PG_DIR/postgres.log"
PG_PORT="${SWITCHBOARD_PRIVATE_PG_PORT:-5433}"
# Present while a cluster started by this script is running; `stop` only
# touches the cluster when it is there.
MARKER="$PG_DIR/started-by-postgres.sh"

log() { echo "postgres.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# parse_url URL: sets URL_HOST, URL_PORT and URL_TAIL (the "/db?query" part).
parse_url() {
  local url="$1" rest authority hostport
  rest="${url#*://}"
  authority="${rest%%/*}"
  URL_TAIL=""
  [[ "$rest" == */* ]] && URL_TAIL="/${rest#*/}"
  hostport="${authority##*@}" # drop user[:password]@
  URL_HOST="" URL_PORT=""
  if [[ "$hostport" =~ ^\[([^]]*)\](:([0-9]+))?$ ]]; then # [ipv6]:port
    URL_HOST="${BASH_REMATCH[1]}" URL_PORT="${BASH_REMATCH[3]}"
  elif [[ "$hostport" == *:* ]]; then
    URL_HOST="${hostport%:*}" URL_PORT="${hostport##*:}"
  else
    URL_HOST="$hostport"
  fi
  URL_HOST="${URL_HOST:-127.0.0.1}"
  URL_PORT="${URL_PORT:-5432}"
}

# find_pg_bin NAME: NAME from PATH, else from the newest Debian PostgreSQL.
find_pg_bin() {
  local name="$1" p
  if p="$(command -v "$name" 2>/dev/null)"; then
    echo "$p"
    return 0
  fi
  # shellcheck disable=SC2012 # plain Debian paths
  p="$(ls -1d /usr/lib/postgresql/*/bin/"$name" 2>/dev/null | sort -V | tail -n 1 || true)"
  [[ -n "$p" && -x "$p" ]] || return 1
  echo "$p"
}

# as_pg CMD...: run CMD as the cluster owner. initdb and postgres refuse to
# run as root, so under root they run as the `postgres` OS user.
as_pg() {
  if [[ "$(id -u)" != 0 ]]; then
    "$@"
  elif command -v runuser >/dev/null 2>&1; then
    runuser -u postgres -- "$@"
  elif command -v su >/dev/null 2>&1; then
    su postgres -s /bin/sh -c "$(printf '%q ' "$@")"
  else
    die "running as root and neither runuser nor su is available"
  fi
}

# Resolve initdb/pg_ctl from the same installation so their versions match.
resolve_tools() {
  local initdb
  initdb="$(find_pg_bin initdb)" || return 1
  INITDB="$(readlink -f "$initdb")"
  PG_CTL="$(dirname "$INITDB")/pg_ctl"
  [[ -x "$PG_CTL" ]] || PG_CTL="$(find_pg_bin pg_ctl)" || return 1
}

cluster_running() {
  [[ -f "$PG_DATA/PG_VERSION" ]] || return 1
  (cd "$PG_DIR" && as_pg "$PG_CTL" -D "$PG_DATA" status >/dev/null 2>&1)
}

init_cluster() {
  if [[ "$(id -u)" == 0 ]]; then
    id postgres >/dev/null 2>&1 || die "running as root but there is no 'postgres' OS user to own the cluster"
    chown postgres: "$PG_DIR"
    as_pg test -w "$PG_DIR" ||
      die "the postgres OS user cannot write $PG_DIR (is a parent directory private?)"
  fi
  log "creating private PostgreSQL cluster in $PG_DATA"
  # -U postgres: the superuser is called postgres whoever owns the files.
  # --no-sync: a throwaway dev/test cluster does not need initdb's fsyncs.
  if ! (cd "$PG_DIR" && as_pg "$INITDB" -D "$PG_DATA" -U postgres -A trust -E UTF8 \
    --locale=C --no-sync) >"$PG_DIR/initdb.log" 2>&1; then
    cat "$PG_DIR/initdb.log" >&2
    rm -rf "$PG_DATA"
    die "initdb failed"
  fi

  # Unix socket paths are limited to ~107 bytes; fall back to TCP only.
  local sockdirs="$PG_SOCK"
  if ((${#PG_SOCK} + 20 > 107)); then
    sockdirs=""
  else
    mkdir -p "$PG_SOCK"
    [[ "$(id -u)" != 0 ]] || chown postgres: "$PG_SOCK"
  fi
  # Appending keeps the file's owner (postgres when running as root).
  cat >>"$PG_DATA/postgresql.conf" <<EOF

# --- added by scripts/postgres.sh (private dev/test cluster) ---
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$sockdirs'
# Tests open many connections and create many databases.
max_connections = 200
# Losing the last few commits on an OS crash is fine here; corruption is not
# possible with this setting (unlike fsync = off).
synchronous_commit = off
EOF
}

cmd_ensure() {
  local url="${SWITCHBOARD_DATABASE_URL:-$DEFAULT_URL}"
  parse_url "$url"

  local pg_isready
  if pg_isready="$(find_pg_bin pg_isready)"; then
    if "$pg_isready" -q -h "$URL_HOST" -p "$URL_PORT" -t 3; then
      log "PostgreSQL is up at $URL_HOST:$URL_PORT"
      return 0
    fi
  else
    # No client tools: a TCP connect is the best we can do.
    if (echo >"/dev/tcp/$URL_HOST/$URL_PORT") 2>/dev/null; then
      log "something listens on $URL_HOST:$URL_PORT; assuming PostgreSQL"
      return 0
    fi
  fi

  log "no PostgreSQL at $URL_HOST:$URL_PORT"
  resolve_tools || die "PostgreSQL is not reachable at $URL_HOST:$URL_PORT and initdb was not found; start PostgreSQL or set SWITCHBOARD_DATABASE_URL"

  mkdir -p "$PG_DIR"
  [[ -f "$PG_DATA/PG_VERSION" ]] || init_cluster

  local started=0
  if cluster_running; then
    log "private PostgreSQL cluster already running on 127.0.0.1:$PG_PORT"
  else
    if (echo >"/dev/tcp/127.0.0.1/$PG_PORT") 2>/dev/null; then
      die "port $PG_PORT is taken by something other than the private cluster in $PG_DATA"
    fi
    log "starting private PostgreSQL cluster on 127.0.0.1:$PG_PORT (log: $PG_LOG)"
    if [[ "$(id -u)" == 0 ]]; then
      touch "$PG_LOG" && chown postgres: "$PG_LOG"
    fi
    # pg_ctl puts the postmaster in its own session, so a Ctrl-C in the
    # terminal does not reach it; callers stop it explicitly.
    if ! (cd "$PG_DIR" && as_pg "$PG_CTL" -D "$PG_DATA" -l "$PG_LOG" -w -t 60 start) >&2; then
      tail -n 30 "$PG_LOG" >&2 || true
      die "could not start the private PostgreSQL cluster"
    fi
    touch "$MARKER"
    started=1
  fi

  # Same database name and options, on the private cluster.
  local db_tail="${URL_TAIL:-/switchboard}"
  [[ "$db_tail" != / ]] || db_tail=/switchboard
  # The private cluster has no TLS.
  if [[ "$db_tail" != *sslmode=* ]]; then
    if [[ "$db_tail" == *\?* ]]; then db_tail="$db_tail&sslmode=disable"; else db_tail="$db_tail?sslmode=disable"; fi
  fi
  printf 'export SWITCHBOARD_DATABASE_URL=%q\n' "postgres://postgres@127.0.0.1:$PG_PORT$db_tail"
  if ((started)); then
    echo "export SWITCHBOARD_PRIVATE_PG_STARTED=1"
  fi
}

cmd_stop() {
  if [[ ! -f "$MARKER" ]]; then
    log "private PostgreSQL cluster was not started by this script; leaving it alone"
    return 0
  fi
  resolve_tools || die "pg_ctl not found"
  if cluster_running; then
    log "stopping private PostgreSQL cluster"
    (cd "$PG_DIR" && as_pg "$PG_CTL" -D "$PG_DATA" -m fast -w -t 60 stop) >&2 ||
      die "pg_ctl stop failed"
  fi
  rm -f "$MARKER"
}

cmd_status() {
  resolve_tools || die "pg_ctl not found"
  if cluster_running; then
    log "private PostgreSQL cluster is running on 127.0.0.1:$PG_PORT"
  else
    log "private PostgreSQL cluster is not running"
    return 1
  fi
}

case "${1:-}" in
ensure) cmd_ensure ;;
stop) cmd_stop ;;
status) cmd_status ;;
*)
  echo "usage: $0 {ensure|stop|status}" >&2
  exit 2
  ;;
esac
