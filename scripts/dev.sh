#!/usr/bin/env bash
# make dev: a Temporal dev server (UI on :8233), the Atomicwork simulator (awsim, :8090) and the
# worker on this machine. Ctrl-C stops all three, worker first so running activities finish, also
# under `make dev | tee log` (where the Ctrl-C ends tee too).
# State lives in .dev/ (the Temporal database and the simulator's data, .dev/awsim.json, survive
# restarts; delete them to start afresh); logs go to .dev/*.log.
# ATOMICFLOW_DEV_DIR and ATOMICFLOW_DEV_{TEMPORAL,UI,AWSIM}_PORT move the state and the ports
# (for tests; the defaults are the documented ones).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
DEV=${ATOMICFLOW_DEV_DIR:-.dev}
TEMPORAL_PORT=${ATOMICFLOW_DEV_TEMPORAL_PORT:-7233}
UI_PORT=${ATOMICFLOW_DEV_UI_PORT:-8233}
AWSIM_PORT=${ATOMICFLOW_DEV_AWSIM_PORT:-8090}
TEMPORAL_ADDR=127.0.0.1:$TEMPORAL_PORT
UI_URL=http://localhost:$UI_PORT
AWSIM_URL=http://127.0.0.1:$AWSIM_PORT
STARTUP_TIMEOUT=90 # seconds for each process to answer

# Only our own pids, in start order.
names=()
pids=()

# say never fails: after a Ctrl-C under `| tee` stdout is a pipe nobody reads (EPIPE; SIGPIPE is
# ignored on the stop path), and the stop must go on regardless.
say() { { printf 'dev: %s\n' "$*"; } 2>/dev/null || true; }

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

# fail reports a startup problem, shows the log's end, stops everything and exits 1. Like the
# signal path it must not die on a closed stdout before the processes are stopped.
fail() {
	trap '' PIPE
	say "$1"
	if [[ -n "${2:-}" && -f "$2" ]]; then
		say "last lines of $2:"
		{ tail -n 20 "$2" >&2; } 2>/dev/null || true
	fi
	stop_all
	exit 1
}

# on_signal stops everything on Ctrl-C or SIGTERM. It ignores SIGPIPE first: under `make dev | tee`,
# the Ctrl-C also ended tee, and the first write to the dead pipe would otherwise kill this script
# and leave the three processes running. A second Ctrl-C does not interrupt the stop.
on_signal() {
	trap '' PIPE INT TERM
	{ echo; } 2>/dev/null || true # after the ^C
	stop_all
	say "stopped; state kept in $DEV/"
	exit 0
}
trap on_signal INT TERM

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
	say "$name is pid $!"
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
# -buildvcs=auto: --version names the commit even where GOFLAGS turns stamping off.
go build -buildvcs=auto -o "$DEV/bin/" ./starter ./worker ./awsim

# The same flags as the tests' dev servers: the contract's search attributes and atomicflow's
# dynamic config (internal/serverconfig).
mapfile -t server_flags < <("$DEV/bin/starter" dev-server-flags)
((${#server_flags[@]} > 0)) || fail "$DEV/bin/starter dev-server-flags printed nothing"
say "starting the Temporal dev server on $TEMPORAL_ADDR (UI $UI_URL; log $DEV/temporal.log)"
start temporal "$DEV/temporal.log" bin/temporal server start-dev \
	--port "$TEMPORAL_PORT" --ui-port "$UI_PORT" \
	--db-filename "$DEV/temporal.db" --log-level warn "${server_flags[@]}"
wait_until temporal "$DEV/temporal.log" cluster_health

# The simulator keeps its data in $DEV/awsim.json like Temporal keeps its database: a restart
# finds the users, requests and grants of the last session. A first start seeds the demo data.
say "starting awsim on $AWSIM_URL (data in $DEV/awsim.json, first start: demo dataset with 300 more laptops for bo.li@example.com; key dev-key; log $DEV/awsim.log)"
start awsim "$DEV/awsim.log" "$DEV/bin/awsim" --addr "127.0.0.1:$AWSIM_PORT" --extra-assets 300 --state-file "$DEV/awsim.json"
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
Ctrl-C stops everything; $DEV/ keeps the Temporal database and the simulator's data
($DEV/awsim.json; delete it to start from the demo data) for next time.

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
