#!/usr/bin/env bash
# The high-availability drill of README "Running more than one bridge", at a dialer's rate:
#   scripts/drill-ha.sh [calls] [calls_per_s]        (default 2000 calls at 200/s)
#
# On this machine, on loopback: three nats-server nodes (deploy/nats-cluster's configurations on
# free ports, stores in a temporary directory) with an R3 stream; two release `amibridge run`
# bridges logged in to one fake Asterisk that streams the same calls to both; a receiver as the
# CRM. Mid-stream bridge B is SIGKILLed (a third of the calls done), then the nats-server leading
# the stream (two thirds). Then every call is counted in the stream (by Nats-Msg-Id = event_id)
# and at the receiver (`amibridge-bench drill-ha`, Sources/AMIBenchmarks/EventLog/HADrill.swift).
# Progress lines while it runs; the last line is
#   calls N, in stream N, delivered N, duplicates in stream 0, lost 0
# and the exit status is non-zero when anything is lost or stored twice.
# Extra flags after the two numbers go to amibridge-bench drill-ha (e.g. --window 256).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
calls=${1:-2000}
rate=${2:-200}
shift $(($# < 2 ? $# : 2))

scripts/install-deps.sh nats-server
swift build -c release --scratch-path .build-release --product amibridge >&2
swift build -c release --scratch-path .build-release --product amibridge-bench >&2
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)

# The bench stops its daemons and nats-servers on SIGINT/SIGTERM and after its own time limit.
exec "$bin/amibridge-bench" drill-ha --calls "$calls" --rate "$rate" --daemon "$bin/amibridge" "$@"
