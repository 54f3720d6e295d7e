#!/usr/bin/env bash
# Prints the path of a `promtool` (Prometheus' rule checker), for the tests of
# deploy/prometheus-alerts.yml. One on PATH is used as is; otherwise Debian's `prometheus` package
# is downloaded (not installed: installing it would enable a Prometheus server on this machine) and
# unpacked under .build/promtool, once.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if command -v promtool >/dev/null; then
    command -v promtool
    exit 0
fi
readonly DIR=.build/promtool
if [ ! -x "$DIR/usr/bin/promtool" ]; then
    mkdir -p "$DIR"
    # apt-get download writes into the current directory; as root its sandbox user may not write there.
    (cd "$DIR" && apt-get download -o APT::Sandbox::User=root prometheus >&2)
    dpkg-deb -x "$DIR"/prometheus_*.deb "$DIR"
    rm -f "$DIR"/prometheus_*.deb
fi
echo "$PWD/$DIR/usr/bin/promtool"
