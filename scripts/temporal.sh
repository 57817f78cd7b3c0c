#!/usr/bin/env bash
# Manage the pinned Temporal CLI and its local dev server.
#
#   scripts/temporal.sh install
#       Install the pinned Temporal CLI into ./bin (no-op when already there).
#   scripts/temporal.sh start <port> <ui-port|none> <db-file> <pidfile>
#       Start `temporal server start-dev` in the background on 127.0.0.1:<port>
#       (UI on <ui-port>, or headless with `none`), persisting to <db-file>.
#       Logs go to .data/temporal-<port>.log. Waits until the "default"
#       namespace answers, writes the pid to <pidfile> and prints it.
#   scripts/temporal.sh stop <pidfile>
#       Stop the server recorded in <pidfile> (no-op when it is not running).
#   scripts/temporal.sh ready <address>
#       Exit 0 when a Temporal frontend at <address> serves the default namespace.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TEMPORAL_CLI_MODULE=github.com/temporalio/cli
TEMPORAL_CLI_VERSION=v1.5.1
TEMPORAL_BIN="$ROOT/bin/temporal"
DATA_DIR="$ROOT/.data"
READY_TIMEOUT="${TEMPORAL_READY_TIMEOUT:-60}"

# Search attributes the ticket workflows upsert. `switchboard migrate` registers
# them too (for servers it did not start); the dev server gets them at boot.
SEARCH_ATTRIBUTES=(
  TicketId=Int
  TicketStatus=Keyword
  BaseStatus=Keyword
  Urgency=Keyword
  OwnerId=Keyword
  TeamId=Keyword
  SlaDue=Datetime
  ChatGroup=Keyword
  ChatAgent=Keyword
  ChatState=Keyword
  ApprovalState=Keyword
  Approvers=KeywordList
)

log() { echo "temporal.sh: $*" >&2; }
die() { log "error: $*"; exit 1; }

# installed_version prints the CLI module version ./bin/temporal was built
# from ("temporal --version" of a `go install` build only says 0.0.0-DEV, so
# the build info embedded by the Go toolchain is the reliable source).
installed_version() {
  go version -m "$TEMPORAL_BIN" 2>/dev/null |
    awk -v m="$TEMPORAL_CLI_MODULE" '$1 == "mod" && $2 == m { print $3 }'
}

cmd_install() {
  if [[ -x "$TEMPORAL_BIN" ]] && "$TEMPORAL_BIN" --version >/dev/null 2>&1; then
    local v
    v="$(installed_version || true)"
    # Accept the pinned version, or an unknown one (e.g. `go` missing from
    # PATH) rather than reinstalling on every run.
    if [[ -z "$v" || "$v" == "$TEMPORAL_CLI_VERSION" ]]; then
      return 0
    fi
    log "bin/temporal is $v, want $TEMPORAL_CLI_VERSION; reinstalling"
  fi
  command -v go >/dev/null 2>&1 || die "go is not on PATH"
  log "installing Temporal CLI $TEMPORAL_CLI_VERSION into bin/ (takes a few minutes the first time)"
  mkdir -p "$ROOT/bin"
  # GOFLAGS from the caller (e.g. -mod=vendor) must not leak into this
  # module-less install.
  (cd "$ROOT" && GOFLAGS="" GOBIN="$ROOT/bin" go install "$TEMPORAL_CLI_MODULE/cmd/temporal@$TEMPORAL_CLI_VERSION")
  "$TEMPORAL_BIN" --version >/dev/null || die "installed bin/temporal does not run"
}

# cmd_ready ADDRESS: does the frontend at ADDRESS serve the default namespace?
cmd_ready() {
  local address="$1"
  [[ -x "$TEMPORAL_BIN" ]] || die "bin/temporal missing; run: scripts/temporal.sh install"
  # --disable-config-env/--disable-config-file: TEMPORAL_* variables or a
  # user's temporal.toml must not redirect this probe somewhere else.
  "$TEMPORAL_BIN" operator namespace describe --namespace default \
    --address "$address" --command-timeout 3s \
    --disable-config-env --disable-config-file >/dev/null 2>&1
}

# is_running PID: alive, not a zombie, and actually a temporal process (the
# pid in a stale pidfile may have been reused by something else).
is_running() {
  local pid="$1"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  if [[ -r "/proc/$pid/stat" ]]; then
    local state
    state="$(awk '{print $3}' "/proc/$pid/stat" 2>/dev/null || true)"
    [[ "$state" != Z ]] || return 1
  fi
  if [[ -r "/proc/$pid/cmdline" ]]; then
    tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q temporal || return 1
  fi
  return 0
}

cmd_start() {
  [[ $# -eq 4 ]] || die "usage: temporal.sh start <port> <ui-port|none> <db-file> <pidfile>"
  local port="$1" ui_port="$2" db_file="$3" pidfile="$4"
  [[ "$port" =~ ^[0-9]+$ ]] || die "bad port: $port"
  [[ "$ui_port" == none || "$ui_port" =~ ^[0-9]+$ ]] || die "bad ui port: $ui_port"
  [[ -x "$TEMPORAL_BIN" ]] || cmd_install

  mkdir -p "$DATA_DIR" "$(dirname "$db_file")" "$(dirname "$pidfile")"
  if [[ -f "$pidfile" ]] && is_running "$(cat "$pidfile")"; then
    die "a dev server from $pidfile is already running (pid $(cat "$pidfile"))"
  fi
  if (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    die "port $port is already in use"
  fi

  local logfile="$DATA_DIR/temporal-$port.log"
  local args=(
    server start-dev
    --ip 127.0.0.1
    --port "$port"
    --db-filename "$db_file"
    # WAL + NORMAL sync: far fewer fsyncs, which matters on small machines.
    --sqlite-pragma journal_mode=wal
    --sqlite-pragma synchronous=NORMAL
    --log-level warn
  )
  if [[ "$ui_port" == none ]]; then
    args+=(--headless)
  else
    args+=(--ui-port "$ui_port")
  fi
  local sa
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    args+=(--search-attribute "$sa")
  done

  log "starting dev server on 127.0.0.1:$port (ui: $ui_port, db: $db_file, log: $logfile)"
  : >"$logfile"
  # setsid: own session/process group, so a Ctrl-C in the terminal reaches
  # the calling script (which stops things in order) rather than this server.
  # stdin/stdout/stderr are detached so `$(temporal.sh start ...)` returns.
  local launcher=()
  command -v setsid >/dev/null 2>&1 && launcher=(setsid)
  "${launcher[@]}" "$TEMPORAL_BIN" "${args[@]}" </dev/null >>"$logfile" 2>&1 &
  local pid=$!
  echo "$pid" >"$pidfile"

  local deadline=$((SECONDS + READY_TIMEOUT))
  until cmd_ready "127.0.0.1:$port"; do
    if ! is_running "$pid"; then
      log "dev server exited during startup; last log lines:"
      tail -n 40 "$logfile" >&2 || true
      rm -f "$pidfile"
      exit 1
    fi
    if ((SECONDS >= deadline)); then
      log "dev server not ready after ${READY_TIMEOUT}s; last log lines:"
      tail -n 40 "$logfile" >&2 || true
      cmd_stop "$pidfile" || true
      exit 1
    fi
    sleep 1
  done
  log "dev server ready on 127.0.0.1:$port (pid $pid)"
  echo "$pid"
}

cmd_stop() {
  [[ $# -eq 1 ]] || die "usage: temporal.sh stop <pidfile>"
  local pidfile="$1" pid
  [[ -f "$pidfile" ]] || return 0
  pid="$(cat "$pidfile")"
  if is_running "$pid"; then
    log "stopping dev server (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 150; i++)); do # up to 15 s for a clean shutdown
      is_running "$pid" || break
      sleep 0.1
    done
    if is_running "$pid"; then
      log "dev server (pid $pid) ignored SIGTERM; killing it"
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f "$pidfile"
}

main() {
  local cmd="${1:-}"
  shift || true
  case "$cmd" in
  install) cmd_install "$@" ;;
  start) cmd_start "$@" ;;
  stop) cmd_stop "$@" ;;
  ready) cmd_ready "$@" ;;
  *)
    echo "usage: $0 {install | start <port> <ui-port|none> <db-file> <pidfile> | stop <pidfile> | ready <address>}" >&2
    exit 2
    ;;
  esac
}

main "$@"
