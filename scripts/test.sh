#!/usr/bin/env bash
# The whole test suite, as CI runs it: system packages, a private MariaDB in a temporary directory
# (always stopped again), then `swift build --build-tests` and `swift test "$@"`.
# Exits with swift test's status.
#
# SANITIZE=address or SANITIZE=thread runs the same suite under AddressSanitizer or ThreadSanitizer
# (its own build folder, .build-asan or .build-tsan; the daemon the tests start is built with it
# too). Every process writes its sanitizer reports into one folder; the run fails if any report is
# there at the end, whichever process wrote it. README "Sanitizers" has the figures.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# php-cli: the /agc/api.php tests read the answers with PHP's own parse_str, as the scripts do.
# php-mysql: the tutorial's webhook receiver (Tests/Fixtures/tutorial) stores each webhook with PDO.
# chromium, chromium-driver, python3-venv: scripts/browser-test.sh drives the status page in them.
# nats-server: the event-log tests publish to a real JetStream server (EventLog*, EventLogPublishTests).
scripts/install-deps.sh php-cli php-mysql chromium chromium-driver python3-venv nats-server
# promtool checks deploy/prometheus-alerts.yml and runs its unit tests (MonitoringFilesTests).
AMIBRIDGE_PROMTOOL=$(scripts/promtool.sh)
export AMIBRIDGE_PROMTOOL

# A short path: the server's unix socket lives in it (sun_path holds 107 bytes).
db_dir=$(mktemp -d /tmp/amibridge-db.XXXXXX)
cleanup() {
    scripts/mariadb.sh stop "$db_dir" || true
    rm -rf "$db_dir"
}
trap cleanup EXIT
# An interrupted run must still stop the server: exiting from these traps runs the EXIT trap.
trap 'exit 130' INT
trap 'exit 143' TERM

exports=$(scripts/mariadb.sh start "$db_dir")
eval "$exports"

build_options=()
reports="$db_dir/sanitizer-reports"
case "${SANITIZE:-}" in
    "") ;;
    address)
        build_options=(--sanitize=address --build-path .build-asan)
        mkdir -p "$reports"
        # The test runner without the leak check (what it leaves at exit is its fixtures); the
        # daemon and commands it starts with it (SanitizerEnvironment passes these on).
        export ASAN_OPTIONS="detect_leaks=0:log_path=$reports/asan"
        export AMIBRIDGE_CHILD_ASAN_OPTIONS="detect_leaks=1:log_path=$reports/asan"
        export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan-suppressions.txt:print_suppressions=0"
        ;;
    thread)
        build_options=(--sanitize=thread --build-path .build-tsan)
        mkdir -p "$reports"
        export TSAN_OPTIONS="log_path=$reports/tsan:suppressions=$PWD/scripts/sanitizers/tsan-suppressions.txt"
        ;;
    *) echo "test.sh: SANITIZE is address or thread, not '$SANITIZE'" >&2; exit 64 ;;
esac

swift build --build-tests "${build_options[@]}"
status=0
# One test at a time: many tests run the built daemon, MariaDB, fake Asterisks and receivers against
# deadlines, and on 2 cores running them all at once starved MariaDB's handshakes and the
# daemons' pings (timeouts that were the machine's, not the code's).
swift test --no-parallel "${build_options[@]}" "$@" || status=$?
# The HTTP API fuzzed from its OpenAPI document against the daemon just built, briefly (about 2
# minutes; scripts/fuzz-api.sh without --short is the long run). Only with the whole suite.
if [ $# -eq 0 ]; then
    AMIBRIDGE_BIN="$(swift build "${build_options[@]}" --show-bin-path)/amibridge" scripts/fuzz-api.sh --short || status=$?
    # The status page in headless Chromium (about 15 s): loads clean, shows a simulated call, retries a dead letter.
    AMIBRIDGE_BIN="$(swift build "${build_options[@]}" --show-bin-path)/amibridge" scripts/browser-test.sh || status=$?
fi
if [ -n "${SANITIZE:-}" ]; then
    if [ -n "$(ls -A "$reports")" ]; then
        cat "$reports"/* >&2
        echo "test.sh: $(ls "$reports" | wc -l) process(es) wrote $SANITIZE sanitizer reports (above)" >&2
        status=1
    else
        echo "test.sh: no $SANITIZE sanitizer report from the test runner or any process it started"
    fi
fi
exit "$status"
