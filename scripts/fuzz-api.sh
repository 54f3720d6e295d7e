#!/usr/bin/env bash
# The HTTP API fuzzed against the built daemon, from its own OpenAPI document.
#
#   scripts/fuzz-api.sh [--short] [SECONDS]
#   scripts/fuzz-api.sh --serve     set everything up, print the URL and key, wait for Ctrl-C
#                                   (to replay a failure: st replay ID, curl ...)
#
# Starts a private MariaDB with the ViciDial fixture tables and a few rows (or reuses the one
# whose AMIBRIDGE_DB_* variables are exported, as scripts/test.sh does), `amibridge simulate
# --capture none --action-log` as Asterisk, and the daemon (AMIBRIDGE_BIN, default
# .build/debug/amibridge) with an API key and a configuration file written here. Then:
#   (a) schemathesis, positive and negative data, every check, against /openapi.json;
#   (b) schemathesis, negative data only: afterwards the fake Asterisk must have received no
#       action but the daemon's own session (Login, Events, Ping, CoreShowChannels, ...);
#   (c) scripts/fuzz_api/hostile.py: oversize, broken and hostile requests, SQL-looking strings
#       (the tables and rows are still there after), path traversal, slow-loris, 1,000
#       concurrent connections.
# SECONDS is phase (a)'s time budget (default 600; --short: 45, and smaller hostile phases);
# phase (b) gets a third of it. Ends with one summary line; exits non-zero on any failure.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/lib/daemon-api-port.sh
repo=$PWD

readonly SCHEMATHESIS_VERSION=4.32.5
short=false
serve=false
budget=
for arg in "$@"; do
    case $arg in
        --short) short=true ;;
        --serve) serve=true ;;
        '' | *[!0-9]*) echo "usage: $0 [--short] [SECONDS]" >&2; exit 2 ;;
        *) budget=$arg ;;
    esac
done
if [ -z "$budget" ]; then
    if $short; then budget=45; else budget=600; fi
fi
negative_budget=$(( budget / 3 > 10 ? budget / 3 : 10 ))
bin=${AMIBRIDGE_BIN:-.build/debug/amibridge}
[ -x "$bin" ] || { echo "fuzz-api: $bin is not built (swift build)" >&2; exit 1; }

log() { printf 'fuzz-api: %s\n' "$*" >&2; }

# python3 with venv (schemathesis, the hostile cases) and curl (probes); a no-op when present.
scripts/install-deps.sh curl python3-venv
# schemathesis in a venv of its own, created once and reused.
venv=.build/fuzz-venv
if [ ! -x "$venv/bin/schemathesis" ] || ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q " $SCHEMATHESIS_VERSION\$"; then
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

# Descriptors: 1,000 concurrent connections plus 500 slow-loris ones, for the daemon and the client.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge 4096 ] || ulimit -n 4096 2>/dev/null || true

# A short path: the MariaDB socket lives in it (sun_path holds 107 bytes).
work=$(mktemp -d /tmp/amibridge-fuzz.XXXXXX)
pids=()
own_db=false
kept=.build/fuzz-api-failed
cleanup() {
    local code=$? pid entry
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
    if $own_db; then scripts/mariadb.sh stop "$work/db" || true; fi
    # A failed run keeps its reports, logs and action log (not the database) for a look afterwards.
    if [ "$code" -ne 0 ]; then
        rm -rf "$kept" && mkdir -p "$kept"
        for entry in "$work"/*; do
            case ${entry##*/} in db | state) ;; *) cp -r "$entry" "$kept/" ;; esac
        done
        log "reports, logs and the action log of this run are in $kept"
    fi
    rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "${AMIBRIDGE_DB_SOCKET:-}" ]; then
    own_db=true
    eval "$(scripts/mariadb.sh start "$work/db")"
fi
sql() { mariadb --no-defaults --socket="$AMIBRIDGE_DB_SOCKET" --user="$AMIBRIDGE_DB_ROOT_USER" --batch --skip-column-names "$AMIBRIDGE_DB_NAME" "$@"; }
# An agent with a phone, logged in; recordings; a lead. Inserted as ViciDial would, by root.
sql <<'SQL'
DELETE FROM vicidial_users WHERE user = 'fuzzagent';
DELETE FROM phones WHERE extension = '7100';
DELETE FROM vicidial_live_agents WHERE user = 'fuzzagent';
DELETE FROM recording_log WHERE vicidial_id LIKE 'fuzz%';
INSERT INTO vicidial_users (user, pass, full_name, phone_login) VALUES ('fuzzagent', 'x', 'Fuzz Agent', '7100');
INSERT INTO phones (extension, server_ip, login, protocol, active) VALUES ('7100', '10.0.0.1', '7100', 'SIP', 'Y');
INSERT INTO vicidial_live_agents (user, server_ip, extension, status, campaign_id, calls_today)
    VALUES ('fuzzagent', '10.0.0.1', 'SIP/7100', 'READY', 'FUZZ', 3);
INSERT INTO vicidial_agent_log (user, server_ip, event_time, campaign_id, talk_sec, status)
    VALUES ('fuzzagent', '10.0.0.1', NOW(), 'FUZZ', 42, 'SALE');
INSERT INTO vicidial_list (entry_date, status, list_id, phone_code, phone_number, first_name)
    VALUES (NOW(), 'NEW', 999, '1', '5550100100', 'Fuzz');
INSERT INTO recording_log (channel, server_ip, extension, start_time, start_epoch, length_in_sec,
    filename, location, lead_id, user, vicidial_id)
    VALUES ('SIP/7100-00000001', '10.0.0.1', '7100', NOW(), UNIX_TIMESTAMP(), 61, 'fuzz_rec',
    'http://10.0.0.1/RECORDINGS/fuzz_rec.mp3', LAST_INSERT_ID(), 'fuzzagent', 'fuzz1700000000.1');
SQL

# The fake Asterisk: every action it receives goes to actions.jsonl.
actions=$work/actions.jsonl
"$bin" simulate --port 0 --capture none --action-log "$actions" >"$work/simulate.out" 2>&1 &
pids+=($!)
for _ in $(seq 100); do grep -q "AMI on" "$work/simulate.out" && break; sleep 0.1; done
ami_port=$(sed -n 's/.*AMI on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$work/simulate.out")
[ -n "$ami_port" ] || { cat "$work/simulate.out" >&2; log "simulate did not start"; exit 1; }

mkdir -p "$work/state"
key=$("$bin" keys create --state-dir "$work/state" --name fuzz)
cat >"$work/amibridge.yaml" <<EOF
ami:
  name: fuzz
  host: 127.0.0.1
  port: $ami_port
  username: bridge
  auth: plain
state_dir: $work/state
api:
  listen: 127.0.0.1:0
  rate_limit_per_minute: 1000000   # the fuzzer's requests must reach the routes
vicidial:
  db:
    socket: $AMIBRIDGE_DB_SOCKET
    user: $AMIBRIDGE_DB_USER
    name: $AMIBRIDGE_DB_NAME
  row_wait_seconds: 1
log:
  level: info
EOF
AMI_SECRET=fuzz VICIDIAL_DB_PASSWORD=$AMIBRIDGE_DB_PASSWORD "$bin" run --config "$work/amibridge.yaml" >"$work/daemon.log" 2>&1 &
daemon_pid=$!
pids+=("$daemon_pid")
port=$(daemon_api_port "$work/daemon.log") || { tail -n 20 "$work/daemon.log" >&2; log "the daemon did not start"; exit 1; }
base=http://127.0.0.1:$port
for _ in $(seq 100); do curl -sf "$base/readyz" >/dev/null && break; sleep 0.2; done
curl -sf "$base/readyz" >/dev/null || { curl -s "$base/readyz" >&2; log "the daemon is not ready"; exit 1; }
if $serve; then
    log "serving: $base, key $key, actions in $actions, daemon log $work/daemon.log; Ctrl-C stops"
    wait "$daemon_pid"
    exit 0
fi
log "daemon on $base (pid $daemon_pid), fake Asterisk on $ami_port, phase (a) $budget s, phase (b) $negative_budget s"

# The database as the fuzzing found it: every table's row count, and the fixture rows.
db_snapshot() {
    local table
    for table in $(sql -e "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY 1"); do
        printf '%s %s\n' "$table" "$(sql -e "SELECT COUNT(*) FROM \`$table\`")"
    done
}
db_before=$(db_snapshot)

# schemathesis MODE PHASES SECONDS NAME: one run, every check but those the config file explains.
schemathesis() {
    local mode=$1 phases=$2 seconds=$3 name=$4 status=0 attempt workers=2
    for attempt in 1 2 3 4; do
        status=0
        # From the work directory: schemathesis keeps a cache (.schemathesis/) where it runs.
        (cd "$work" && "$repo/$venv/bin/schemathesis" --config-file "$repo/scripts/fuzz_api/schemathesis.toml" run "$base/openapi.json" \
            --mode "$mode" --phases "$phases" --max-time "$seconds" --request-timeout 30 --workers "$workers" \
            --header "Authorization: Bearer $key" --suppress-health-check all --no-color \
            --report junit,ndjson --report-dir "$work/$name" >"$work/$name.out" 2>&1) || status=$?
        # CPython 3.11's ast.parse sometimes fails deep in a recursion ("AST constructor recursion
        # depth mismatch", CPython gh-106905, fixed in later CPythons) while hypothesis only names a
        # filter for its repr: the fuzzer broke, not the API. Run the phase again (up to 3 more
        # times, with one worker thread: it struck twice in a row with two); a real failure stays one.
        if [ "$status" -ne 0 ] && [ "$attempt" -lt 4 ] && grep -q "AST constructor recursion depth mismatch" "$work/$name.out" \
            && ! grep -q "^=* FAILURES =*$" "$work/$name.out"; then
            log "$name: schemathesis itself failed (CPython's ast.parse recursion bug); running the phase again"
            mv "$work/$name.out" "$work/$name.tool-error-$attempt.out"
            workers=1
            continue
        fi
        break
    done
    # The run's own verdict, with its failures, when it has any.
    if [ "$status" -ne 0 ]; then
        sed -n '/^=* \(ERRORS\|FAILURES\) =*$/,$p' "$work/$name.out" | head -n 300 >&2
        grep -q "^=* \(ERRORS\|FAILURES\) =*$" "$work/$name.out" || tail -n 40 "$work/$name.out" >&2
    fi
    grep -E "generated|passed|failed" "$work/$name.out" | tail -n 1 | sed "s/^/fuzz-api: $name: /" >&2
    return "$status"
}
status=0
started=$SECONDS

# (a) Positive and negative data, every phase (examples, coverage, fuzzing, stateful).
log "(a) schemathesis, positive and negative, $budget s"
schemathesis all examples,coverage,fuzzing,stateful "$budget" positive-negative || status=1

# (b) Negative data only (no examples or stateful phase: those send valid requests): no AMI action
# but the session's own may follow.
sleep 0.3
negative_from=$(wc -l <"$actions")
log "(b) schemathesis, negative only, $negative_budget s"
schemathesis negative coverage,fuzzing "$negative_budget" negative || status=1
sleep 0.5
negative_to=$(wc -l <"$actions")

# (c) Hand-written hostile requests.
log "(c) hostile requests"
hostile_args=(--port "$port" --key "$key")
$short && hostile_args+=(--short)
sql_marker="');DROP TABLE vicidial_list;#"
python3 scripts/fuzz_api/hostile.py "${hostile_args[@]}" --sql-marker "$sql_marker" | tee "$work/hostile.out" >&2 || status=1
sleep 0.5
hostile_to=$(wc -l <"$actions")

# The daemon is alive and answers; the database has every table and row it had (and the
# SQL-looking lead, imported as written).
if ! kill -0 "$daemon_pid" 2>/dev/null || ! curl -sf --max-time 5 "$base/healthz" >/dev/null; then
    log "the daemon is gone or does not answer /healthz"; tail -n 20 "$work/daemon.log" >&2; status=1
fi
db_after=$(db_snapshot)
db_problems=$(awk 'NR == FNR { before[$1] = $2; next } { after[$1] = $2 }
    END { for (t in before) if (!(t in after)) print t " is gone"; else if (after[t] < before[t]) print t " lost rows: " before[t] " -> " after[t] }' \
    <(echo "$db_before") <(echo "$db_after"))
marker_rows=$(sql -e "SELECT COUNT(*) FROM vicidial_list WHERE first_name = '${sql_marker//\'/\'\'}' AND list_id = 998")
[ "$marker_rows" -ge 1 ] || db_problems+="the SQL-looking lead was not stored as written"$'\n'
if [ -n "${db_problems//$'\n'/}" ]; then
    log "database damaged:"; echo "$db_problems" >&2; status=1
fi
if grep -q '"level":"\(error\|critical\)"' "$work/daemon.log"; then
    log "the daemon logged errors:"; grep '"level":"\(error\|critical\)"' "$work/daemon.log" | head -n 10 >&2; status=1
fi

# Counts for the closing line.
read -r cases server_errors nonconforming < <(python3 scripts/fuzz_api/report.py schemathesis "$work/positive-negative" "$work/negative" |
    sed 's/[a-z_]*=//g')
read -r _ negative_unexplained < <(python3 scripts/fuzz_api/report.py actions "$actions" "$negative_from" "$negative_to" "$work/negative" | sed 's/[a-z_]*=//g')
read -r _ hostile_unexplained < <(python3 scripts/fuzz_api/report.py actions "$actions" "$negative_to" "$hostile_to" | sed 's/[a-z_]*=//g')
invalid_actions=$((negative_unexplained + hostile_unexplained))
read -r valid_actions _ < <(python3 scripts/fuzz_api/report.py actions "$actions" 0 "$negative_from" 2>/dev/null | sed 's/[a-z_]*=//g')
hostile_line=$(grep -E '^hostile: [0-9]+ cases passed' "$work/hostile.out" | sed 's/^hostile: //; s/ in [0-9.]* s$//' || true)
[ -n "$hostile_line" ] || { hostile_line="did not finish"; status=1; }
[ "$server_errors" -eq 0 ] && [ "$nonconforming" -eq 0 ] && [ "$invalid_actions" -eq 0 ] || status=1
echo "fuzz-api: schemathesis $cases cases, 5xx $server_errors, nonconforming $nonconforming; hostile $hostile_line;" \
    "AMI actions from invalid requests $invalid_actions (from valid ones in (a): $valid_actions); $((SECONDS - started)) s; $([ "$status" -eq 0 ] && echo ok || echo FAILED)"
exit "$status"
