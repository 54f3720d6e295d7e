#!/usr/bin/env bash
# The README's first command: installs what amibridge needs, builds it, starts a private MariaDB
# with ViciDial's tables, the built-in simulated ViciDial box (`amibridge simulate`: agents taking
# generated calls, writing the rows ViciDial writes, dispositions some seconds after the hangup)
# and a webhook receiver, and runs the daemon on the example configuration. The receiver prints one
# line per webhook as it arrives: calls joined with their lead and agent, then their dispositions,
# every signature checked. It also creates an API key and prints a ready click-to-call `curl`.
# Runs until Ctrl-C, which stops the daemon, then the receiver, the simulator and the database.
#
# QUICKSTART_RATE (calls/s, default 1), QUICKSTART_AGENTS (default 20), AMI_PORT, RECEIVE_PORT,
# API_PORT and LOG_LEVEL (the daemon's JSON log on stderr, default warning) change the demo.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

scripts/install-deps.sh
swift build --product amibridge
bin=$(swift build --show-bin-path)/amibridge

work=$(mktemp -d /tmp/amibridge-demo.XXXXXX)
simulator_pid=""
receiver_pid=""
daemon_pid=""
cleanup() {
    # Every step runs even if one fails (no errexit here: a killed child's `wait` is non-zero),
    # and a second Ctrl-C (the terminal signals the whole group) does not cut it short.
    set +e
    trap '' INT TERM
    # The daemon first (SIGTERM: graceful, logs off), so it has the others to talk to while it stops.
    if [ -n "$daemon_pid" ]; then kill "$daemon_pid" 2>/dev/null; wait "$daemon_pid" 2>/dev/null; fi
    for pid in "$simulator_pid" "$receiver_pid"; do
        if [ -n "$pid" ]; then kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null; fi
    done
    scripts/mariadb.sh stop "$work/db"
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

eval "$(scripts/mariadb.sh start "$work/db")"

port=${AMI_PORT:-5038}
hooks_port=${RECEIVE_PORT:-8099}
api_port=${API_PORT:-8088}
state=$work/state
mkdir -p "$state"

# The simulator, the receiver and the daemon each run in a session of their own (setsid): Ctrl-C
# signals the terminal's whole process group, and the simulator, stopping at once, would leave the
# daemon logging a lost AMI connection as it shuts down. Only this script gets the Ctrl-C, and the
# cleanup stops them in order.
# The simulated dialer writes ViciDial's rows as ViciDial does, as the database's root (its own
# SIMULATE_DB_* settings: never the daemon's read-only user, never a production database).
SIMULATE_DB_SOCKET=$AMIBRIDGE_DB_SOCKET SIMULATE_DB_USER=$AMIBRIDGE_DB_ROOT_USER SIMULATE_DB_NAME=$AMIBRIDGE_DB_NAME \
    setsid "$bin" simulate --port "$port" --rate "${QUICKSTART_RATE:-1}" --agents "${QUICKSTART_AGENTS:-20}" &
simulator_pid=$!
# A stand-in CRM: one readable line per webhook, signature checked.
RECEIVE_SECRET=quickstart-secret setsid "$bin" receive --port "$hooks_port" &
receiver_pid=$!
# Let both bind before the daemon's first connection attempt.
for listener in "$port" "$hooks_port"; do
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$listener") 2>/dev/null && break
        sleep 0.1
    done
done

# An API key for the click-to-call example (only its hash is stored).
key=$("$bin" keys create --state-dir "$state" --name quickstart 2>/dev/null)

# The daemon reads the private MariaDB's ViciDial tables as its least-privilege user; its JSON log
# goes to stderr at LOG_LEVEL (warning by default, so the receiver's lines are what you read).
AMI_PORT=$port AMI_USERNAME=bridge AMI_SECRET=s3cret-AMI AMI_AUTH=plain \
VICIDIAL_DB_SOCKET=$AMIBRIDGE_DB_SOCKET VICIDIAL_DB_USER=$AMIBRIDGE_DB_USER VICIDIAL_DB_PASSWORD=$AMIBRIDGE_DB_PASSWORD \
VICIDIAL_DB_NAME=$AMIBRIDGE_DB_NAME VICIDIAL_ROW_POLL_SECONDS=1 VICIDIAL_DISPO_POLL_SECONDS=1 \
STATE_DIR=$state API_LISTEN=127.0.0.1:$api_port WEBHOOKS_ENDPOINTS=demo WEBHOOKS_DEMO_URL=http://127.0.0.1:$hooks_port/hooks \
WEBHOOKS_DEMO_SECRET=quickstart-secret \
LOG_LEVEL=${LOG_LEVEL:-warning} \
    setsid "$bin" run --config Config/amibridge.example.yaml >&2 &
daemon_pid=$!

echo "amibridge quickstart: the daemon follows a simulated ViciDial box (${QUICKSTART_RATE:-1} call/s, ${QUICKSTART_AGENTS:-20} agents); webhooks below, Ctrl-C stops everything."
echo "  status page:    http://127.0.0.1:$api_port/"
echo "  click-to-call:  curl -s -H 'Authorization: Bearer $key' -H 'Content-Type: application/json' -d '{\"agent_user\": \"agent001\", \"phone_number\": \"18005550142\"}' http://127.0.0.1:$api_port/v1/calls"

# In the background and waited for, so Ctrl-C or a TERM to this script runs the cleanup at once
# (a foreground child would make bash hold the signal until the child exits).
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
exit "$status"
