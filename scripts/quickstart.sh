#!/usr/bin/env bash
# The README's first command: installs what amibridge needs, builds it, starts a private MariaDB,
# the built-in AMI simulator (recorded Asterisk 20 call traffic) and a webhook receiver, and runs
# the daemon on the example configuration: the calls it follows are logged, and their webhooks
# are printed by the receiver as they arrive ("signature ok  POST call_complete ..."). Ctrl-C
# stops the daemon, then the receiver, the simulator and the database.
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
"$bin" simulate --port "$port" &
simulator_pid=$!
# A stand-in CRM: prints each webhook with its signature checked.
hooks_port=${RECEIVE_PORT:-8099}
RECEIVE_SECRET=quickstart-secret "$bin" receive --port "$hooks_port" &
receiver_pid=$!
# Let both bind before the daemon's first connection attempt.
for listener in "$port" "$hooks_port"; do
    for _ in $(seq 100); do
        (exec 3<>"/dev/tcp/127.0.0.1/$listener") 2>/dev/null && break
        sleep 0.1
    done
done

# The simulator replays sessions recorded with user `bridge` and a plain login; the daemon reads
# the private MariaDB's ViciDial tables (empty here: the simulator writes no rows yet, so each
# call_complete goes out after a short wait without lead fields).
AMI_PORT=$port AMI_USERNAME=bridge AMI_SECRET=s3cret-AMI AMI_AUTH=plain \
VICIDIAL_DB_SOCKET=$AMIBRIDGE_DB_SOCKET VICIDIAL_DB_USER=$AMIBRIDGE_DB_USER VICIDIAL_DB_PASSWORD=$AMIBRIDGE_DB_PASSWORD \
VICIDIAL_DB_NAME=$AMIBRIDGE_DB_NAME VICIDIAL_ROW_WAIT_SECONDS=${VICIDIAL_ROW_WAIT_SECONDS:-5} \
STATE_DIR=$work/state WEBHOOKS_ENDPOINTS=demo WEBHOOKS_DEMO_URL=http://127.0.0.1:$hooks_port/hooks \
WEBHOOKS_DEMO_SECRET=quickstart-secret \
LOG_LEVEL=${LOG_LEVEL:-info} \
    "$bin" run --config Config/amibridge.example.yaml &
daemon_pid=$!
# In the background and waited for, so Ctrl-C or a TERM to this script runs the cleanup at once
# (a foreground child would make bash hold the signal until the child exits).
status=0
wait "$daemon_pid" || status=$?
daemon_pid=""
exit "$status"
