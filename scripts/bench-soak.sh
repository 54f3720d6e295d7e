#!/usr/bin/env bash
# The storm at a fixed rate for a long time against a release `amibridge run`, its RSS
# (/proc/PID/status VmRSS) sampled every 10 s; the closing line has the calls sent, call_complete
# received once each, duplicates, missing, and RSS first/last/max.
#   scripts/bench-soak.sh [minutes] [calls_per_s]     (default 10 minutes, 2000 calls/s)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
minutes=${1:-10}
rate=${2:-2000}

scripts/install-deps.sh
swift build -c release --scratch-path .build-release --product amibridge
swift build -c release --scratch-path .build-release --product amibridge-bench
bin=$(swift build -c release --scratch-path .build-release --show-bin-path)

AMIBRIDGE_BIN="$bin/amibridge" "$bin/amibridge-bench" storm soak --minutes "$minutes" --rate "$rate" --sample-seconds 10
