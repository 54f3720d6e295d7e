#!/usr/bin/env bash
# Installs the system packages amibridge builds and tests against (Debian 12): the libcurl, SQLite,
# libmariadb and libnats headers the CCurl/CSQLite/CMariaDB/CNats targets link, and the MariaDB server and client that
# scripts/mariadb.sh runs as a private instance, plus any packages given as arguments (scripts/test.sh
# adds what only the tests use). A no-op, without touching apt, when all are present.
set -euo pipefail

readonly PACKAGES=(libcurl4-openssl-dev libmariadb-dev libsqlite3-dev libnats-dev mariadb-server mariadb-client pkg-config "$@")

missing=()
for package in "${PACKAGES[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi
echo "install-deps.sh: installing ${missing[*]}" >&2

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "install-deps.sh: not root and no sudo; install ${missing[*]} by hand" >&2; exit 1; }
    # Without a terminal (CI) sudo must not wait for a password nobody can type.
    if [ -t 0 ]; then as_root=(sudo); else as_root=(sudo -n); fi
fi

# mariadb-server's postinst starts the system service; the tests use their own private instance
# (scripts/mariadb.sh), so keep services from starting during this install unless the machine
# already has a policy (Docker images ship one that does the same).
policy=/usr/sbin/policy-rc.d
if [ ! -e "$policy" ]; then
    "${as_root[@]}" sh -c "printf '#!/bin/sh\nexit 101\n' >$policy && chmod 755 $policy"
    trap '"${as_root[@]}" rm -f "$policy"' EXIT
fi

export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
