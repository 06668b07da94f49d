#!/usr/bin/env bash
# make tools: install Debian's chromium for the UI end-to-end test (e2e/ui_test.go) when it is
# missing. Silent when it is there. It never fails `make tools`: where it cannot install, it says
# why and goes on, and the test then skips (or, under CI, fails naming what is missing).
set -uo pipefail

CHROMIUM=/usr/bin/chromium
[[ -x "$CHROMIUM" ]] && exit 0

note() { printf 'tools: %s\n' "$*" >&2; }

if ! command -v apt-get >/dev/null 2>&1; then
	note "$CHROMIUM is missing and apt-get is not available here: install Chromium at $CHROMIUM yourself to run the UI test (it skips without it, and fails under CI)"
	exit 0
fi
if [[ "$(id -u)" -ne 0 ]]; then
	note "$CHROMIUM is missing: run 'sudo apt-get update && sudo apt-get install -y chromium' for the UI test (it skips without it, and fails under CI)"
	exit 0
fi

note "installing Debian's chromium for the UI test (once, about a minute)"
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! apt-get update -qq >"$log" 2>&1 || ! apt-get install -y -qq chromium >>"$log" 2>&1; then
	tail -n 15 "$log" >&2
	note "could not install chromium (are Debian's package mirrors reachable?): the UI test skips without it, and fails under CI"
	exit 0
fi
if [[ ! -x "$CHROMIUM" ]]; then
	note "apt-get installed chromium but $CHROMIUM is not there: the UI test needs it at that path"
	exit 0
fi
note "$("$CHROMIUM" --version 2>/dev/null || echo chromium) installed"
