#!/usr/bin/env bash
# Runs a command (default .ci/run) while every CPU is kept busy beside it, as on a shared CI
# machine: stress-ng --cpu N when it is installed (Debian package stress-ng), else N shell busy
# loops. The tests must pass like this: none may depend on how fast the machine is.
#   scripts/ci-under-load.sh                       # the whole CI run
#   scripts/ci-under-load.sh go test -race -count=1 -timeout 30m ./e2e/ ./starter/
# CI_LOAD_CPUS sets N (default: the number of CPUs).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -gt 0 ] || set -- .ci/run
cpus=${CI_LOAD_CPUS:-$(nproc)}

pids=()
stop_load() {
	[ ${#pids[@]} -gt 0 ] || return 0
	kill "${pids[@]}" 2>/dev/null || true # only the load this script started
	wait "${pids[@]}" 2>/dev/null || true
}
trap stop_load EXIT

if command -v stress-ng >/dev/null; then
	stress-ng --cpu "$cpus" --timeout 0 --quiet &
	pids+=($!)
	load="stress-ng --cpu $cpus"
else
	for _ in $(seq "$cpus"); do
		(while :; do :; done) &
		pids+=($!)
	done
	load="$cpus busy loops (install stress-ng for its CPU stressors)"
fi
echo "ci-under-load: $load beside: $*" >&2
"$@"
