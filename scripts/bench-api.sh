#!/usr/bin/env bash
# Click-to-call throughput and latency to the 202: wrk (Debian's package) POSTs /v1/calls to a
# release build of the daemon, whose AMI server is amibridge-bench's fake Asterisk that answers
# every Originate at once. No database (agent_phone given directly), no webhook endpoints.
#   scripts/bench-api.sh [seconds] [connections]
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
seconds=${1:-20}
connections=${2:-32}

scripts/install-deps.sh wrk
swift build -c release --product amibridge
swift build -c release --product amibridge-bench
bin=$(swift build -c release --show-bin-path)

work=$(mktemp -d /tmp/amibridge-bench-api.XXXXXX)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

"$bin/amibridge-bench" fake-ami >"$work/ami.log" &
pids+=($!)
until grep -q "fake AMI on" "$work/ami.log"; do sleep 0.1; done
ami_port=$(sed -n 's/.*127.0.0.1:\([0-9]*\).*/\1/p' "$work/ami.log")

key=$("$bin/amibridge" keys create --name bench --state-dir "$work/state")
AMI_PORT=$ami_port AMI_USERNAME=bridge AMI_SECRET=bench AMI_AUTH=plain STATE_DIR="$work/state" \
    API_LISTEN=127.0.0.1:0 API_RATE_LIMIT_PER_MINUTE=1000000 LOG_LEVEL=info CLICK_TO_CALL_CONTEXT=customers \
    "$bin/amibridge" run --config Config/amibridge.example.yaml >"$work/daemon.log" 2>&1 &
pids+=($!)
daemon=$!
alive() { kill -0 "$daemon" 2>/dev/null || { echo "bench-api.sh: the daemon exited:" >&2; cat "$work/daemon.log" >&2; exit 1; }; }
# The API's port and the AMI login, from the daemon's log.
until api_port=$(sed -n 's/.*"HTTP API listening".*"port":"\([0-9]*\)".*/\1/p' "$work/daemon.log" | head -1) && [ -n "$api_port" ]; do
    alive; sleep 0.1
done
until grep -q '"AMI logged in"' "$work/daemon.log"; do alive; sleep 0.1; done

cat >"$work/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"agent_phone":"SIP/1001","phone_number":"18005551234"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $key"
done = function(summary, latency, requests)
    io.write(string.format("requests %d, non-2xx or errors %d\n", summary.requests,
        summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
echo "warm-up (5 s)"
wrk -t2 -c"$connections" -d5s -s "$work/post.lua" "http://127.0.0.1:$api_port/v1/calls" >/dev/null
echo "measured: ${seconds} s, ${connections} connections, 2 threads"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$work/post.lua" "http://127.0.0.1:$api_port/v1/calls"
echo "daemon RSS after the run: $(ps -o rss= -p "$daemon") KiB"
