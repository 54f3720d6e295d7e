#!/usr/bin/env bash
# The storm, end to end, and the panoramisk comparison on the same bytes.
#   scripts/bench-storm.sh [burst_calls] [latency_seconds] [latency_calls_per_s]
#
# 1. `amibridge-bench storm`: a release `amibridge run` fed by a fake Asterisk streaming recorded
#    Asterisk 20 calls (100 events and 3 webhooks each), webhooks into a local receiver: the burst
#    (events/s, drops, calls/s end to end) and the latency at a fixed rate (hangup -> webhook).
# 2. The same burst's byte stream (`amibridge-bench storm feed`) into panoramisk, the asyncio AMI
#    client, logged in and only counting events (scripts/bench/panoramisk_count.py), in a venv
#    under .build-release.
# The closing line compares the events/s amibridge read with those panoramisk counted.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
calls=${1:-20000}
latency_seconds=${2:-20}
latency_rate=${3:-500}

scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product amibridge
swift build -c release --scratch-path .build-release --product amibridge-bench
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)
export AMIBRIDGE_BIN="$bin/amibridge"

venv=.build-release/panoramisk-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" 2>/dev/null || { scripts/install-deps.sh python3-venv && python3 -m venv "$venv"; }
    "$venv/bin/pip" install --quiet panoramisk
fi

work=$(mktemp -d /tmp/amibridge-bench-storm.XXXXXX)
feed=
cleanup() {
    [ -n "$feed" ] && kill "$feed" 2>/dev/null || true
    wait 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "== amibridge: burst of $calls calls, then $latency_rate calls/s for $latency_seconds s"
"$bin/amibridge-bench" storm --calls "$calls" --seconds "$latency_seconds" --rate "$latency_rate" --json | tee "$work/storm.out"
grep '^{' "$work/storm.out" | tail -1 >"$work/storm.json"

echo "== panoramisk: the same $calls calls"
"$bin/amibridge-bench" storm feed --calls "$calls" >"$work/feed.log" 2>&1 &
feed=$!
until grep -q "storm feed: 127.0.0.1:" "$work/feed.log"; do
    kill -0 "$feed" 2>/dev/null || { cat "$work/feed.log" >&2; exit 1; }
    sleep 0.1
done
port=$(sed -n 's/^storm feed: 127.0.0.1:\([0-9]*\) .*/\1/p' "$work/feed.log")
events=$(sed -n 's/^storm feed: .* events \([0-9]*\)$/\1/p' "$work/feed.log")
"$venv/bin/python" scripts/bench/panoramisk_count.py "$port" "$events" 600 | tee "$work/panoramisk.out"
wait "$feed" || true
feed=
cat "$work/feed.log"

python3 - "$work/storm.json" "$work/panoramisk.out" <<'PY'
import json, re, sys
storm = json.load(open(sys.argv[1])).get("burst", {})
match = re.search(r"= (\d+) events/s", open(sys.argv[2]).read())
ours = storm.get("events_per_second_read", 0.0)
theirs = float(match.group(1)) if match else 0.0
dropped = "DROPPED events" if storm.get("dropped") else "no drop"
ratio = f"{ours / theirs:.1f}x" if theirs else "n/a"
print(f"bench-storm: amibridge decoded {ours:,.0f} events/s ({dropped}, whole pipeline running), "
      f"panoramisk counted {theirs:,.0f} events/s; amibridge/panoramisk = {ratio}")
PY
