#!/usr/bin/env bash
# Coverage-guided fuzzing of the wire with libFuzzer (the Fuzz/ package): the AMI frame decoder,
# the connection state machine and the call tracker, each seeded with every recorded session
# under shared/ami-captures (AMIBRIDGE_CAPTURES to use another folder).
#
#   scripts/fuzz.sh [seconds per fuzzer, default 60] [fuzzer names, default all three]
#
# Builds Fuzz/ in release with `-sanitize=fuzzer,address` on every Swift module, product code
# included (the first build compiles every dependency again: 8 minutes on 2 shared cores; later
# ones only what changed). Runs one fuzzer at a time and prints one line each: time, executions,
# coverage (libFuzzer's final cov/ft), corpus size and crashes (a run stops at its first). Corpora
# grow under Fuzz/.build/corpus across runs; a crash, hang or out-of-memory leaves its input in
# Fuzz/.build/artifacts and makes the script exit 1. Reproduce one with
#   Fuzz/.build/release/<Fuzzer> <artifact>
# CI does not run this; run it before a change to the decoder, the connection or the tracker.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

seconds=${1:-60}
shift || true
fuzzers=("$@")
[ ${#fuzzers[@]} -gt 0 ] || fuzzers=(FuzzAMIFrameDecoder FuzzAMIConnection FuzzCallTracker)

build=Fuzz/.build
swift build -c release --package-path Fuzz --build-path "$build" -j 2 \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library >&2

# Limits, from the documented caps:
# - a decoder input may hold twice the default 64 KiB line limit, so an over-long line with the
#   default limits is reachable; no single allocation may pass 4 MiB (a message is capped at
#   1 MiB, and the buffer holds at most that plus one read, rounded up to a power of two);
# - the connection and tracker programs need no more than 16 KiB to reach anything; the state
#   machine holds no more than a few messages (4 MiB per allocation), the tracker a few thousand
#   calls (16 MiB per allocation).
# - an input taking 10 s is a hang; the whole process stays under 2 GiB (ASan's own overhead
#   included).
limits() {
    case $1 in
    FuzzAMIFrameDecoder) echo "-max_len=131072 -malloc_limit_mb=4" ;;
    FuzzAMIConnection) echo "-max_len=16384 -malloc_limit_mb=4" ;;
    FuzzCallTracker) echo "-max_len=16384 -malloc_limit_mb=16" ;;
    esac
}

# Swift's own backtracer would read memory under ASan after a failed check; libFuzzer reports.
export SWIFT_BACKTRACE=enable=no
failed=0
for fuzzer in "${fuzzers[@]}"; do
    seeds=$build/seeds/$fuzzer corpus=$build/corpus/$fuzzer artifacts=$build/artifacts log=$build/fuzz-$fuzzer.log
    rm -rf "$seeds"
    mkdir -p "$seeds" "$corpus" "$artifacts"
    AMIBRIDGE_FUZZ_SEEDS=$seeds "$build/release/$fuzzer"
    before=$(ls "$artifacts" | grep -c "^$fuzzer-" || true)
    started=$SECONDS
    # shellcheck disable=SC2046
    "$build/release/$fuzzer" "$corpus" "$seeds" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
        $(limits "$fuzzer") -print_final_stats=1 -artifact_prefix="$artifacts/$fuzzer-" >"$log" 2>&1 || true
    elapsed=$((SECONDS - started))
    crashes=$(( $(ls "$artifacts" | grep -c "^$fuzzer-" || true) - before ))
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
    status=$(grep -E '^#[0-9]+.*cov: ' "$log" | tail -1)
    cov=$(sed -E 's/.*cov: ([0-9]+).*/\1/' <<<"$status")
    ft=$(sed -E 's/.*ft: ([0-9]+).*/\1/' <<<"$status")
    units=$(sed -E 's/.*corp: ([0-9]+).*/\1/' <<<"$status")
    echo "$fuzzer: ${elapsed}s, ${execs:-?} executions (${rate:-?}/s), cov ${cov:-?}, ft ${ft:-?}, corpus ${units:-?}, crashes $crashes"
    if [ "$crashes" -gt 0 ] || [ -z "$execs" ]; then
        failed=1
        echo "  see $log and $artifacts" >&2
    fi
done
exit $failed
