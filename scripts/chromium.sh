#!/usr/bin/env bash
# Installs Debian's chromium package when /usr/bin/chromium is missing: the browser the widget's
# headless test (integration/widget_browser_test.go) drives. Needs root (apt-get); CI runs it
# before the tests (scripts/test.sh does, on every `make test`).
#
#   bash scripts/chromium.sh install   install if missing (the default)
#   bash scripts/chromium.sh check     exit 0 when chromium is there, 1 when not
set -euo pipefail

bin=/usr/bin/chromium
case "${1:-install}" in
check)
  [[ -x "$bin" ]]
  ;;
install)
  if [[ -x "$bin" ]]; then
    echo "chromium.sh: $("$bin" --version 2>/dev/null || echo chromium) is installed"
    exit 0
  fi
  if [[ "$(id -u)" != 0 ]]; then
    echo "chromium.sh: installing chromium needs root (apt-get install -y chromium)" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium
  echo "chromium.sh: installed $("$bin" --version 2>/dev/null || echo chromium)"
  ;;
*)
  echo "usage: $0 [install|check]" >&2
  exit 2
  ;;
esac
