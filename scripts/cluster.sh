#!/usr/bin/env bash
# A production-shaped Switchboard on this machine: a Temporal server (built from the Go module
# proxy, pinned) on PostgreSQL, two `switchboard api` and two `switchboard worker` processes,
# all on a private PostgreSQL cluster that the fault tests may kill -9.
#
#   scripts/cluster.sh test            `make test-cluster`: install, up, the cluster tests, down
#   scripts/cluster.sh install         build bin/temporal-server and bin/temporal-sql-tool (cached)
#   scripts/cluster.sh up              start everything; prints the test environment (export lines)
#   scripts/cluster.sh down            stop everything this script started
#   scripts/cluster.sh kill  <name>    kill -9 one part: temporal, postgres, api1, api2, worker1, worker2
#   scripts/cluster.sh start <name>    start that part again (the tests do this after a kill)
#
# Ports (127.0.0.1): PostgreSQL 5442, Temporal frontend 7433 (+1, +2, +6, +10, +100.. for its
# other services), APIs 18081 and 18082. State and logs: .data/cluster/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

# The server the Temporal CLI v1.5.1 embeds as its dev server (`bin/temporal --version`), so the
# dev server and the cluster run the same server code. docker-compose.yml uses the same version.
TEMPORAL_SERVER_MODULE=go.temporal.io/server
TEMPORAL_SERVER_VERSION=v1.29.1

STATE="$ROOT/.data/cluster"
PG_PORT="${SWITCHBOARD_CLUSTER_PG_PORT:-5442}"
PG_DIR="$STATE/pg"
FRONTEND_PORT="${SWITCHBOARD_CLUSTER_TEMPORAL_PORT:-7433}"
API_PORTS=(18081 18082)
SB_DB=switchboard_cluster
READY_TIMEOUT="${SWITCHBOARD_CLUSTER_READY_TIMEOUT:-120}"

log() { echo "cluster.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

pg_url() { echo "postgres://postgres@127.0.0.1:$PG_PORT/${1:-postgres}?sslmode=disable"; }

# --- install ------------------------------------------------------------------------------------

# built_version BIN: the server module version BIN was built from (empty if none).
built_version() {
  [[ -x "$1" ]] || return 0
  go version -m "$1" 2>/dev/null | awk -v m="$TEMPORAL_SERVER_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

# build PKG NAME: go install PKG@version as bin/NAME, unless bin/NAME is that version already.
# Builds are kept in the user's cache too, so a fresh clone (CI) copies instead of rebuilding.
build() {
  local pkg="$1" name="$2" out="$ROOT/bin/$2"
  local cache="${XDG_CACHE_HOME:-$HOME/.cache}/switchboard/temporal-$TEMPORAL_SERVER_VERSION/$name"
  if [[ "$(built_version "$out")" == "$TEMPORAL_SERVER_VERSION" ]]; then
    return 0
  fi
  mkdir -p "$ROOT/bin" "$(dirname "$cache")"
  if [[ "$(built_version "$cache")" != "$TEMPORAL_SERVER_VERSION" ]]; then
    log "building $name from $pkg@$TEMPORAL_SERVER_VERSION (several minutes the first time)"
    local tmp
    tmp="$(mktemp -d)"
    # GOFLAGS from the caller must not leak into this module-less install.
    (cd "$tmp" && GOFLAGS="" GOBIN="$tmp" go install "$pkg@$TEMPORAL_SERVER_VERSION")
    mv "$tmp/$(basename "$pkg")" "$cache"
    rm -rf "$tmp"
  fi
  cp "$cache" "$out"
}

cmd_install() {
  command -v go >/dev/null 2>&1 || die "go is not on PATH"
  build "$TEMPORAL_SERVER_MODULE/cmd/server" temporal-server
  build "$TEMPORAL_SERVER_MODULE/cmd/tools/sql" temporal-sql-tool
  bash scripts/temporal.sh install # the CLI: namespace setup
  go build -o bin/switchboard ./cmd/switchboard
}

# schema_dir: the PostgreSQL schema shipped in the pinned server module.
schema_dir() {
  local dir
  dir="$(GOFLAGS="" go mod download -json "$TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')"
  [[ -d "$dir/schema/postgresql/v12" ]] || die "no schema/postgresql/v12 in $TEMPORAL_SERVER_MODULE@$TEMPORAL_SERVER_VERSION"
  echo "$dir/schema/postgresql/v12"
}

# --- processes ----------------------------------------------------------------------------------

alive() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# spawn NAME CMD...: start CMD in its own session, logging to $STATE/NAME.log.
spawn() {
  local name="$1"
  shift
  "$(command -v setsid || echo env)" "$@" </dev/null >>"$STATE/$name.log" 2>&1 &
  echo $! >"$STATE/$name.pid"
}

wait_for() {
  local what="$1" logf="$2"
  shift 2
  local deadline=$((SECONDS + READY_TIMEOUT))
  until "$@" >/dev/null 2>&1; do
    if ((SECONDS >= deadline)); then
      log "$what not ready after ${READY_TIMEOUT}s; last log lines:"
      tail -n 40 "$logf" >&2 || true
      return 1
    fi
    sleep 0.5
  done
}

pg_env() { env SWITCHBOARD_PRIVATE_PG_DIR="$PG_DIR" SWITCHBOARD_PRIVATE_PG_PORT="$PG_PORT" "$@"; }

start_postgres() {
  pg_env SWITCHBOARD_DATABASE_URL="$(pg_url)" bash scripts/postgres.sh ensure >/dev/null
  # The tests kill -9 this PostgreSQL and then hold every acknowledged commit to account (a 2xx
  # create must exist afterwards, and so must what Temporal acknowledged): commits are durable
  # when acknowledged, as in production. The dev/test cluster's synchronous_commit = off can
  # lose the last commits to a kill of every PostgreSQL process, shared buffers and all.
  psql_exec "ALTER SYSTEM SET synchronous_commit = on"
  psql_exec "SELECT pg_reload_conf()"
}

# kill_postgres: kill -9 the postmaster and every backend, as a crash of the machine would.
kill_postgres() {
  local pm="$PG_DIR/data/postmaster.pid" pid pids
  [[ -f "$pm" ]] || return 0
  pid="$(head -n 1 "$pm")"
  # Its children, from /proc (field 4 of stat is the parent).
  pids="$(awk -v p="$pid" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null || true)"
  # shellcheck disable=SC2086 # word splitting of the pid list is the point
  kill -9 "$pid" $pids 2>/dev/null || true
  local i
  for ((i = 0; i < 100; i++)); do
    # shellcheck disable=SC2086
    kill -0 "$pid" $pids 2>/dev/null || return 0
    sleep 0.1
  done
  die "PostgreSQL processes survived kill -9"
}

# The variables scripts/cluster/temporal.yaml reads (docker-compose.yml sets the same ones).
temporal_vars() {
  TEMPORAL_VARS=(TEMPORAL_DB_HOST=127.0.0.1 TEMPORAL_DB_PORT="$PG_PORT" TEMPORAL_DB_USER=postgres
    TEMPORAL_DB=temporal_cluster TEMPORAL_VISIBILITY_DB=temporal_cluster_visibility
    TEMPORAL_FRONTEND_PORT="$FRONTEND_PORT" TEMPORAL_DYNAMIC_CONFIG="$ROOT/scripts/cluster/dynamicconfig.yaml")
}

temporal_ready() { bash scripts/temporal.sh ready "127.0.0.1:$FRONTEND_PORT"; }

start_temporal() {
  alive "$STATE/temporal.pid" && return 0
  # --env temporal: the config is scripts/cluster/temporal.yaml.
  temporal_vars
  spawn temporal env "${TEMPORAL_VARS[@]}" "$ROOT/bin/temporal-server" --root "$ROOT" --config scripts/cluster --env temporal \
    --allow-no-auth start
  # The frontend answers before the default namespace exists on a fresh database.
  wait_for "Temporal frontend" "$STATE/temporal.log" bin/temporal operator cluster health \
    --address "127.0.0.1:$FRONTEND_PORT" --disable-config-env --disable-config-file
}

# setup_temporal_schema: fresh databases, then the same setup docker-compose.yml runs.
setup_temporal_schema() {
  local db
  temporal_vars
  for db in temporal_cluster temporal_cluster_visibility; do
    bin/temporal-sql-tool --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u postgres --db "$db" drop -f \
      >>"$STATE/schema.log" 2>&1 || true
  done
  env "${TEMPORAL_VARS[@]}" TEMPORAL_SQL_TOOL="$ROOT/bin/temporal-sql-tool" TEMPORAL_SCHEMA_DIR="$(schema_dir)" \
    sh scripts/cluster/setup-schema.sh >>"$STATE/schema.log" 2>&1 || {
    tail -n 20 "$STATE/schema.log" >&2
    die "Temporal schema setup failed"
  }
}

create_namespace() {
  bin/temporal operator namespace create --namespace default --retention 1d \
    --address "127.0.0.1:$FRONTEND_PORT" --disable-config-env --disable-config-file >/dev/null 2>&1 || true
  wait_for "default namespace" "$STATE/temporal.log" temporal_ready
}

# sb_vars: the environment every Switchboard process of the cluster shares.
sb_vars() {
  # shellcheck disable=SC1091
  source "$STATE/env"
  SB_VARS=(SWITCHBOARD_DATABASE_URL="$(pg_url "$SB_DB")" TEMPORAL_ADDRESS="127.0.0.1:$FRONTEND_PORT"
    SWITCHBOARD_ADMIN_TOKEN="$ADMIN_TOKEN" SWITCHBOARD_LOG_FORMAT=text SWITCHBOARD_LOG_LEVEL=warn
    SWITCHBOARD_RATE_LIMIT=0 SWITCHBOARD_AUTO_CLOSE_AFTER=1h)
}

start_switchboard() {
  local name="$1" port
  alive "$STATE/$name.pid" && return 0
  sb_vars
  case "$name" in
  api1 | api2)
    port="${API_PORTS[${name#api} - 1]}"
    spawn "$name" env "${SB_VARS[@]}" SWITCHBOARD_HTTP_ADDR="127.0.0.1:$port" "$ROOT/bin/switchboard" api
    wait_for "$name" "$STATE/$name.log" curl -fsS "http://127.0.0.1:$port/readyz"
    ;;
  worker1 | worker2) spawn "$name" env "${SB_VARS[@]}" "$ROOT/bin/switchboard" worker ;;
  *) die "unknown part: $name" ;;
  esac
}

cmd_start() {
  case "$1" in
  postgres) start_postgres ;;
  temporal) start_temporal ;;
  *) start_switchboard "$1" ;;
  esac
}

cmd_kill() {
  case "$1" in
  postgres) kill_postgres ;;
  temporal | api1 | api2 | worker1 | worker2)
    local pidfile="$STATE/$1.pid"
    alive "$pidfile" || die "$1 is not running"
    kill -9 "$(cat "$pidfile")"
    while kill -0 "$(cat "$pidfile")" 2>/dev/null; do sleep 0.1; done
    rm -f "$pidfile"
    ;;
  *) die "unknown part: $1" ;;
  esac
}

cmd_up() {
  mkdir -p "$STATE"
  cmd_install
  start_postgres
  log "PostgreSQL on 127.0.0.1:$PG_PORT; setting up the Temporal schema"
  setup_temporal_schema
  start_temporal
  create_namespace
  log "Temporal server $TEMPORAL_SERVER_VERSION on 127.0.0.1:$FRONTEND_PORT"
  echo "ADMIN_TOKEN=sb_cluster_$(od -An -N24 -tx1 /dev/urandom | tr -d ' \n')" >"$STATE/env"
  psql_exec "DROP DATABASE IF EXISTS $SB_DB WITH (FORCE)"
  # migrate creates the database and registers the search attributes on the namespace.
  sb_vars
  env "${SB_VARS[@]}" bin/switchboard migrate >>"$STATE/migrate.log" 2>&1 || {
    tail -n 20 "$STATE/migrate.log" >&2
    die "switchboard migrate failed"
  }
  local p
  for p in worker1 worker2 api1 api2; do start_switchboard "$p"; done
  log "two APIs on 127.0.0.1:${API_PORTS[0]} and :${API_PORTS[1]}, two workers; logs in $STATE"
  # shellcheck disable=SC1091
  source "$STATE/env"
  cat <<EOF
export SWITCHBOARD_CLUSTER_API1=http://127.0.0.1:${API_PORTS[0]}
export SWITCHBOARD_CLUSTER_API2=http://127.0.0.1:${API_PORTS[1]}
export SWITCHBOARD_CLUSTER_ADMIN_TOKEN=$ADMIN_TOKEN
export SWITCHBOARD_CLUSTER_DATABASE_URL='$(pg_url "$SB_DB")'
export SWITCHBOARD_CLUSTER_TEMPORAL_ADDRESS=127.0.0.1:$FRONTEND_PORT
export SWITCHBOARD_CLUSTER_CTL=$ROOT/scripts/cluster.sh
EOF
}

psql_exec() {
  local psql
  psql="$(command -v psql || ls -1d /usr/lib/postgresql/*/bin/psql | sort -V | tail -n 1)"
  PGOPTIONS=--client-min-messages=warning "$psql" -q -v ON_ERROR_STOP=1 "$(pg_url)" -c "$1" >/dev/null
}

cmd_down() {
  local p
  for p in api1 api2 worker1 worker2 temporal; do
    if alive "$STATE/$p.pid"; then
      kill -TERM "$(cat "$STATE/$p.pid")" 2>/dev/null || true
    fi
  done
  for p in api1 api2 worker1 worker2 temporal; do
    local i
    for ((i = 0; i < 150; i++)); do
      alive "$STATE/$p.pid" || break
      sleep 0.1
    done
    alive "$STATE/$p.pid" && kill -9 "$(cat "$STATE/$p.pid")" 2>/dev/null
    rm -f "$STATE/$p.pid"
  done
  pg_env bash scripts/postgres.sh stop >/dev/null 2>&1 || true
}

# check_compose: docker-compose.yml runs what these tests run. Its Temporal images are the pinned
# version, it mounts scripts/cluster/, and the server config renders with its environment (the
# server's own render-config, so a broken template or a missing variable fails here, without
# Docker).
check_compose() {
  local v="${TEMPORAL_SERVER_VERSION#v}" envs
  if ! python3 -c 'import yaml' 2>/dev/null; then
    # Without PyYAML: the same checks on the file's text; the environment is the x-temporal-env
    # block plus the temporal service's own two variables.
    grep -q "image: temporalio/server:$v\$" docker-compose.yml || die "docker-compose.yml: temporal must run temporalio/server:$v"
    [[ "$(grep -c "image: temporalio/admin-tools:$v-" docker-compose.yml)" == 2 ]] || die "docker-compose.yml: admin-tools must be $v"
    [[ "$(grep -c '\./scripts/cluster:/etc/switchboard/temporal:ro' docker-compose.yml)" == 2 ]] || die "docker-compose.yml: mount scripts/cluster"
    envs="$(awk '/^x-temporal-env:/ { on = 1; next } on && /^$/ { exit } on && $1 ~ /:$/ { k = $1; sub(/:$/, "", k); v = $2; gsub(/"/, "", v); printf "%s=%s ", k, v }' docker-compose.yml)"
    envs+="TEMPORAL_BIND_IP=0.0.0.0 TEMPORAL_DYNAMIC_CONFIG=/etc/switchboard/temporal/dynamicconfig.yaml"
  else
  envs="$(python3 - "$v" <<'PY'
import shlex, sys, yaml
v = sys.argv[1]
c = yaml.safe_load(open("docker-compose.yml"))["services"]
def need(ok, msg):
    if not ok:
        sys.exit("docker-compose.yml: " + msg)
need(c["temporal"]["image"] == "temporalio/server:" + v, "temporal must run temporalio/server:" + v)
for s in ("temporal-schema", "temporal-namespace"):
    need(c[s]["image"].startswith("temporalio/admin-tools:" + v + "-"), s + " must run temporalio/admin-tools:" + v + "-...")
for s in ("temporal", "temporal-schema"):
    need("./scripts/cluster:/etc/switchboard/temporal:ro" in c[s]["volumes"], s + " must mount scripts/cluster")
print(" ".join(shlex.quote(f"{k}={val}") for k, val in c["temporal"]["environment"].items()))
PY
  )" || die "docker-compose.yml does not match the cluster test"
  fi
  # shellcheck disable=SC2086 # envs is a quoted list
  eval "env $envs TEMPORAL_BROADCAST_ADDRESS=192.0.2.10 bin/temporal-server --root . --config scripts/cluster --env temporal render-config" \
    >"$STATE/compose-config.yaml" 2>>"$STATE/compose-config.log" || die "scripts/cluster/temporal.yaml does not render with docker-compose.yml's environment"
  grep -q 'connectAddr: postgres:5432' "$STATE/compose-config.yaml" || die "the compose config does not reach its postgres service"
  log "docker-compose.yml: temporalio/server:$v and admin-tools $v, config renders ($STATE/compose-config.yaml)"
}

cmd_test() {
  trap 'cmd_down' EXIT
  # A TERM (CI's timeout) still stops the cluster: the EXIT trap runs on this exit.
  trap 'exit 143' TERM INT
  cmd_down
  local started=$SECONDS
  eval "$(cmd_up)"
  check_compose
  log "cluster up in $((SECONDS - started))s"
  go vet -tags cluster ./cluster/
  local rc=0
  # CI=true makes a missing environment a failure, not a skip, in the tests.
  # In the background, so a TERM is handled at once rather than after go test ends.
  go test -tags cluster -race -count=1 -timeout 20m -v ./cluster/ &
  wait $! || rc=$?
  if ((rc != 0)); then
    for p in temporal api1 api2 worker1 worker2; do
      echo "--- last lines of $STATE/$p.log ---"
      tail -n 15 "$STATE/$p.log" 2>/dev/null || true
    done
  fi
  log "cluster tests took $((SECONDS - started))s in all (exit $rc)"
  return "$rc"
}

case "${1:-}" in
test) cmd_test ;;
install) cmd_install ;;
up) cmd_up ;;
down) cmd_down ;;
kill) cmd_kill "${2:?name}" ;;
start) cmd_start "${2:?name}" ;;
*)
  sed -n '2,13p' "$0" >&2
  exit 2
  ;;
esac
