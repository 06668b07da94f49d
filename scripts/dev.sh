#!/usr/bin/env bash
# make dev: a Temporal dev server (UI on :8233), the Atomicwork simulator (awsim, :8090) and the
# worker on this machine. Ctrl-C stops all three, worker first so running activities finish.
# State lives in .dev/ (the Temporal database survives restarts); logs go to .dev/*.log.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DEV=.dev
TEMPORAL_ADDR=127.0.0.1:7233
UI_URL=http://localhost:8233
AWSIM_URL=http://127.0.0.1:8090
STARTUP_TIMEOUT=90 # seconds for each process to answer

# Only our own pids, in start order.
names=()
pids=()

say() { printf 'dev: %s\n' "$*"; }

# stop_all stops what this script started, newest first, each by its own pid.
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		if kill -0 "${pids[i]}" 2>/dev/null; then
			say "stopping ${names[i]} (pid ${pids[i]})"
			kill -TERM "${pids[i]}" 2>/dev/null || true
			wait "${pids[i]}" 2>/dev/null || true
		fi
	done
}

# fail reports a startup problem, shows the log's end, stops everything and exits 1.
fail() {
	say "$1"
	if [[ -n "${2:-}" && -f "$2" ]]; then
		say "last lines of $2:"
		tail -n 20 "$2" >&2
	fi
	stop_all
	exit 1
}

trap 'echo; stop_all; say "stopped; state kept in $DEV/"; exit 0' INT TERM

# start NAME LOG CMD...: runs CMD in the background with its output in LOG. Job control puts it
# in its own process group, so Ctrl-C reaches this script only, which then stops the processes
# in order (the worker first, while the simulator and Temporal still answer) instead of all at once.
start() {
	local name=$1 log=$2
	shift 2
	set -m
	"$@" >"$log" 2>&1 &
	set +m
	names+=("$name")
	pids+=("$!")
}

# wait_until NAME LOG CMD...: polls CMD until it succeeds, the process dies or time runs out.
wait_until() {
	local name=$1 log=$2 deadline=$((SECONDS + STARTUP_TIMEOUT))
	shift 2
	until "$@" >/dev/null 2>&1; do
		kill -0 "${pids[-1]}" 2>/dev/null || fail "$name exited during startup" "$log"
		((SECONDS < deadline)) || fail "$name did not answer within ${STARTUP_TIMEOUT}s" "$log"
		sleep 0.5
	done
}

command -v go >/dev/null || fail "Go is not installed: install Go 1.26 (https://go.dev/dl/)"
command -v curl >/dev/null || fail "curl is not installed: install it (apt-get install curl)"
[[ -x bin/temporal ]] || make tools

# The Temporal CLI reads the user's own temporal.toml and TEMPORAL_* variables; pin it to ours.
temporal_cli() { bin/temporal --disable-config-file --disable-config-env --address "$TEMPORAL_ADDR" "$@"; }
cluster_health() { temporal_cli operator cluster health --command-timeout 2s; }

if cluster_health >/dev/null 2>&1; then
	fail "a Temporal server already answers on $TEMPORAL_ADDR: stop it (another make dev?) and retry"
fi
if curl -fsS "$AWSIM_URL/_sim/stats" >/dev/null 2>&1; then
	fail "something already answers on $AWSIM_URL: stop it (another awsim?) and retry"
fi

mkdir -p "$DEV/bin"
say "building starter, worker and awsim into $DEV/bin"
go build -o "$DEV/bin/" ./starter ./worker ./awsim

# The same flags as the tests' dev servers: the contract's search attributes and atomicflow's
# dynamic config (internal/serverconfig).
mapfile -t server_flags < <("$DEV/bin/starter" dev-server-flags)
((${#server_flags[@]} > 0)) || fail "$DEV/bin/starter dev-server-flags printed nothing"
say "starting the Temporal dev server on $TEMPORAL_ADDR (UI $UI_URL; log $DEV/temporal.log)"
start temporal "$DEV/temporal.log" bin/temporal server start-dev \
	--port 7233 --ui-port 8233 \
	--db-filename "$DEV/temporal.db" --log-level warn "${server_flags[@]}"
wait_until temporal "$DEV/temporal.log" cluster_health

say "starting awsim on $AWSIM_URL (demo dataset, key dev-key, bo.li@example.com holds 300 more laptops; log $DEV/awsim.log)"
start awsim "$DEV/awsim.log" "$DEV/bin/awsim" --extra-assets 300
wait_until awsim "$DEV/awsim.log" curl -fsS "$AWSIM_URL/_sim/stats"

say "starting the worker (log $DEV/worker.log)"
# A clean environment, so the developer's TEMPORAL_* variables and temporal.toml play no part.
start worker "$DEV/worker.log" env -i PATH="$PATH" HOME="$HOME" \
	TEMPORAL_ADDRESS="$TEMPORAL_ADDR" TEMPORAL_NAMESPACE=default TEMPORAL_CONFIG_FILE=/dev/null \
	ATOMICWORK_BASE_URL="$AWSIM_URL" ATOMICWORK_API_KEY=dev-key ATOMICWORK_WORKSPACE_ID=1 \
	ATOMICFLOW_POLICY_FILE=examples/policy.yaml LOG_FORMAT=text \
	"$DEV/bin/worker"
wait_until worker "$DEV/worker.log" grep -q "Started Worker" "$DEV/worker.log"

start_date=$(date -d '+3 days' +%F 2>/dev/null || date -v+3d +%F)
cat <<EOF

atomicflow is running. Try an onboarding (day one in 3 days):

  $DEV/bin/starter onboard --employee-id E-2002 --email ada.lovelace@example.com \\
    --first-name Ada --last-name Lovelace --department Engineering --title "Software Engineer" \\
    --start-date $start_date --timezone Europe/London

  (or: go run ./starter onboard ...; --help shows every flag)

Temporal UI:  $UI_URL
Logs:         tail -f $DEV/worker.log $DEV/awsim.log $DEV/temporal.log
Simulator:    curl -s $AWSIM_URL/_sim/stats
Ctrl-C stops everything; $DEV/ keeps the Temporal database for next time.

EOF

# Wait for Ctrl-C, or for one of the processes to die on its own.
while true; do
	for i in "${!pids[@]}"; do
		if ! kill -0 "${pids[i]}" 2>/dev/null; then
			fail "${names[i]} exited unexpectedly" "$DEV/${names[i]}.log"
		fi
	done
	wait -n "${pids[@]}" 2>/dev/null || true
done
