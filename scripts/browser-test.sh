#!/usr/bin/env bash
# The status page (GET /) in a real headless Chromium, against the built daemon.
#
#   scripts/browser-test.sh [--screenshot PNG]
#
# Builds nothing: uses the debug-built amibridge (`swift build --show-bin-path`, or AMIBRIDGE_BIN).
# Starts a private MariaDB (or reuses the one whose AMIBRIDGE_DB_* variables are exported, as
# scripts/test.sh does), a webhook receiver that answers 400 until told to accept
# (scripts/browser/receiver.py), the daemon with an API key, and then scripts/browser/status_page.py
# (Selenium, in a venv under .build, driving Debian's chromium and chromium-driver), which starts
# `amibridge simulate` (writing its ViciDial rows to the same MariaDB) once the page is open and
# checks: no console error after load, a call the simulator placed shows within seconds, refused
# webhooks become dead letters, and "Retry" on one (with the key typed into the page) gets it
# delivered. Saves a screenshot of the page to PNG
# (default .build/status-page.png; `--screenshot docs/status-page.png` refreshes the README's).
# Ends with one summary line; every process it started is stopped on exit.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/daemon-api-port.sh

readonly SELENIUM_VERSION=4.40.0
# What the simulator plays once the page is open: generated ViciDial traffic (2 calls/s, a fixed
# seed), its rows written to the test's MariaDB; BROWSER_TEST_SIMULATE="--capture burst-20-calls"
# replays the recorded burst instead.
simulate_args=${BROWSER_TEST_SIMULATE:---rate 2 --talk 4-10 --seed 42}
log() { printf 'browser-test: %s\n' "$*" >&2; }
screenshot=.build/status-page.png
case "${1:-}" in
    --screenshot) [ -n "${2:-}" ] || { echo "usage: $0 [--screenshot PNG]" >&2; exit 2; }; screenshot=$2 ;;
    '') ;;
    *) echo "usage: $0 [--screenshot PNG]" >&2; exit 2 ;;
esac

bin=${AMIBRIDGE_BIN:-$(swift build --show-bin-path)/amibridge}
[ -x "$bin" ] || { log "$bin is not built (swift build)"; exit 1; }

scripts/install-deps.sh chromium chromium-driver python3-venv
venv=.build/browser-venv
if ! "$venv/bin/python" -c "import selenium, sys; sys.exit(selenium.__version__ != '$SELENIUM_VERSION')" 2>/dev/null; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "selenium==$SELENIUM_VERSION"
fi

# A short path: the MariaDB socket lives in it (sun_path holds 107 bytes).
work=$(mktemp -d /tmp/amibridge-browser.XXXXXX)
pids=()
own_db=false
cleanup() {
    local code=$? pid
    # The simulators status_page.py started, in case it was killed before it stopped them.
    if [ -f "$work/simulator.pids" ]; then
        while read -r pid; do kill "$pid" 2>/dev/null || true; done <"$work/simulator.pids"
    fi
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if $own_db; then scripts/mariadb.sh stop "$work/db" >/dev/null || true; fi
    if [ "$code" -ne 0 ]; then
        for file in daemon.log receiver.jsonl simulator.log; do
            [ -f "$work/$file" ] && { log "last lines of $file:"; tail -n 15 "$work/$file" >&2; }
        done
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
started=$SECONDS

if [ -z "${AMIBRIDGE_DB_SOCKET:-}" ]; then
    own_db=true
    eval "$(scripts/mariadb.sh start "$work/db")"
fi

"$venv/bin/python" scripts/browser/receiver.py --port-file "$work/receiver.port" --log "$work/receiver.jsonl" \
    --accept-file "$work/accept" &
pids+=($!)
for _ in $(seq 100); do [ -s "$work/receiver.port" ] && break; sleep 0.1; done
receiver_port=$(cat "$work/receiver.port" 2>/dev/null) || { log "the receiver did not start"; exit 1; }
touch "$work/receiver.jsonl"

# The simulator's port: free now; status_page.py starts the simulator on it once the page is open
# (its recorded burst of calls is over in 5 s), and the daemon reconnects within half a second.
ami_port=$("$venv/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

mkdir -p "$work/state"
key=$("$bin" keys create --state-dir "$work/state" --name browser-test)
cat >"$work/amibridge.yaml" <<YAML
ami:
  name: dialer1
  host: 127.0.0.1
  port: $ami_port
  username: bridge
  auth: plain
  reconnect_initial_ms: 200
  reconnect_max_ms: 500
state_dir: $work/state
webhooks:
  endpoints: [crm]
  crm:
    url: http://127.0.0.1:$receiver_port/hooks
api:
  listen: 127.0.0.1:0
vicidial:
  db:
    socket: $AMIBRIDGE_DB_SOCKET
    user: $AMIBRIDGE_DB_USER
    name: $AMIBRIDGE_DB_NAME
  row_wait_seconds: 6
log:
  level: info
  mask_phone_numbers: true
YAML
AMI_SECRET=s3cret-AMI VICIDIAL_DB_PASSWORD=$AMIBRIDGE_DB_PASSWORD "$bin" run --config "$work/amibridge.yaml" >"$work/daemon.log" 2>&1 &
pids+=($!)
port=$(daemon_api_port "$work/daemon.log") || { log "the daemon did not start"; exit 1; }
base=http://127.0.0.1:$port
log "daemon on $base, receiver on $receiver_port (refusing), AMI port $ami_port (simulator not started yet)"

# The simulator writes ViciDial's rows as ViciDial would, as the database's root.
export SIMULATE_DB_SOCKET=$AMIBRIDGE_DB_SOCKET SIMULATE_DB_USER=$AMIBRIDGE_DB_ROOT_USER SIMULATE_DB_NAME=$AMIBRIDGE_DB_NAME
result=$(timeout 120 "$venv/bin/python" scripts/browser/status_page.py --base "$base" --key "$key" \
    --receiver-log "$work/receiver.jsonl" --accept-file "$work/accept" \
    --simulate "$bin simulate --port $ami_port $simulate_args" --simulator-pid-file "$work/simulator.pids" \
    --simulator-log "$work/simulator.log" \
    --screenshot "$screenshot")
read -r shown where dead retried < <(python3 -c 'import json, sys; r = json.loads(sys.argv[1]); print(r["call_shown_seconds"], r["call_shown_in"], r["dead_letters"], r["retried"])' "$result")
echo "browser-test: page loaded with no console error; a simulated call showed ($where) after $shown s; $dead dead letters, #$retried retried from the page and delivered; screenshot $screenshot; $((SECONDS - started)) s; ok"
