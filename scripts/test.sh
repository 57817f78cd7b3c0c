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

# shellcheck source=scripts/services.sh
source "$ROOT/scripts/services.sh"

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
start_services
echo "SWITCHBOARD_TEST_TEMPORAL_ADDRESS=$SWITCHBOARD_TEST_TEMPORAL_ADDRESS"
echo "SWITCHBOARD_TEST_DATABASE_URL=$SWITCHBOARD_TEST_DATABASE_URL"
# The widget's browser test needs Debian's chromium: installed here when missing. In CI the test
# must run, so a failed install stops the run; elsewhere (no root, say) the test is skipped.
if [[ "${CI:-}" == "true" ]]; then
  bash "$ROOT/scripts/chromium.sh" install
elif ! bash "$ROOT/scripts/chromium.sh" install; then
  echo "test.sh: chromium is not installed; the widget's browser test will be skipped" >&2
fi

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
