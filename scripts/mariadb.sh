#!/usr/bin/env bash
# A private MariaDB for development and tests: its own data directory, socket, pid file and
# 127.0.0.1 port, no system service, no Docker, nothing read from /etc/mysql.
#
#   eval "$(scripts/mariadb.sh start DIR)"   initialise DIR once, start, load the ViciDial fixture
#                                          schema into `asterisk`, print `export AMIBRIDGE_DB_*=...`
#   scripts/mariadb.sh stop DIR              shut down cleanly and wait for the process to exit
#
# Only the export lines go to stdout (callers eval them); everything else goes to stderr.
# Environment: MARIADB_PORT (default: the first free port from 3307 up; when set, exactly that
# port), AMIBRIDGE_DB_PASSWORD (default amibridge-dev), MARIADB_START_TIMEOUT (seconds, default 60).
set -euo pipefail

readonly DB_NAME=asterisk
readonly DB_USER=amibridge
readonly ROOT_USER=root
readonly SCHEMA="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/Tests/Fixtures/vicidial-schema.sql"

log() { printf 'mariadb.sh: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

usage() {
    echo "usage: $0 start|stop DIR" >&2
    exit 2
}

[ $# -eq 2 ] || usage
command=$1
mkdir -p "$2"
dir=$(cd "$2" && pwd)
data="$dir/data"
socket="$dir/mysqld.sock"
pidfile="$dir/mariadbd.pid"
errlog="$dir/error.log"
portfile="$dir/port"
# Written only after mariadb-install-db succeeded, so a half-initialised data directory (an
# interrupted first run) is recognised and rebuilt instead of being started.
initialised="$dir/.initialised"

# sun_path is 108 bytes including the terminating NUL; a longer path fails deep inside mariadbd
# with a confusing message, so say it here.
[ ${#socket} -lt 108 ] || die "socket path $socket is too long for a unix socket (max 107 bytes); use a shorter DIR"

client() { mariadb --no-defaults --socket="$socket" --user="$ROOT_USER" --connect-timeout=5 "$@"; }
admin() { mariadb-admin --no-defaults --socket="$socket" --user="$ROOT_USER" --connect-timeout=5 "$@"; }

# The pid of the running server from its pid file, or nothing when it is not running.
running_pid() {
    local pid
    [ -f "$pidfile" ] || return 0
    pid=$(cat "$pidfile" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid"; fi
}

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

sql_string() {
    # A value as a single-quoted SQL literal: double the quotes and backslashes.
    local value=${1//\\/\\\\}
    printf "'%s'" "${value//\'/\'\'}"
}

initialise() {
    [ -f "$initialised" ] && return 0
    # Only ever delete a data directory this script began to create: DIR may be any folder.
    if [ -e "$data" ] && [ ! -f "$dir/.initialising" ]; then
        die "$data exists but was not created by this script; choose another DIR"
    fi
    touch "$dir/.initialising"
    rm -rf "$data"
    mkdir -p "$data" "$dir/tmp"
    log "initialising $data"
    local user_args=()
    # mariadbd refuses to run as root unless told to; CI containers run everything as root.
    [ "$(id -u)" -eq 0 ] && user_args=(--user=root)
    if ! mariadb-install-db --no-defaults --datadir="$data" --auth-root-authentication-method=normal \
        --skip-test-db --skip-name-resolve "${user_args[@]}" >"$dir/install.log" 2>&1; then
        tail -n 30 "$dir/install.log" >&2
        die "mariadb-install-db failed (full log: $dir/install.log)"
    fi
    touch "$initialised"
    rm -f "$dir/.initialising"
}

# Starts mariadbd on $1 and waits until it answers a ping. Returns 3 when the port was taken
# between our probe and the server's bind, so the caller can try the next one.
launch() {
    local port=$1 user_args=() pid log_start
    [ "$(id -u)" -eq 0 ] && user_args=(--user=root)
    log_start=$(($(wc -l 2>/dev/null <"$errlog" || echo 0) + 1))
    # All descriptors are redirected: `eval "$(mariadb.sh start ...)"` would otherwise wait for the
    # server to close the command substitution's pipe, that is forever.
    mariadbd --no-defaults --datadir="$data" --socket="$socket" --pid-file="$pidfile" \
        --port="$port" --bind-address=127.0.0.1 --skip-name-resolve --tmpdir="$dir/tmp" \
        --log-error="$errlog" --character-set-server=utf8mb4 --collation-server=utf8mb4_unicode_ci \
        --innodb-buffer-pool-size=64M --skip-log-bin "${user_args[@]}" \
        </dev/null >>"$dir/mariadbd.out" 2>&1 &
    pid=$!
    wait_for_ping "$pid" "$log_start" || return $?
    echo "$port" >"$portfile"
    log "mariadbd $pid listening on $socket and 127.0.0.1:$port"
}

# Polls until the server answers; fails early with the new part of the error log when it dies.
wait_for_ping() {
    local pid=$1 log_start=$2 deadline
    deadline=$((SECONDS + ${MARIADB_START_TIMEOUT:-60}))
    until admin ping >/dev/null 2>&1; do
        if ! kill -0 "$pid" 2>/dev/null; then
            if tail -n "+$log_start" "$errlog" 2>/dev/null | grep -q 'Address already in use'; then return 3; fi
            tail -n "+$log_start" "$errlog" >&2 2>/dev/null || true
            die "mariadbd exited during start-up (log: $errlog)"
        fi
        if [ "$SECONDS" -ge "$deadline" ]; then
            tail -n "+$log_start" "$errlog" >&2 2>/dev/null || true
            kill "$pid" 2>/dev/null || true
            die "mariadbd did not answer a ping within ${MARIADB_START_TIMEOUT:-60}s (log: $errlog)"
        fi
        sleep 0.2
    done
}

start_server() {
    local pid
    pid=$(running_pid)
    if [ -n "$pid" ]; then
        # A second mariadbd on the same data directory would only fail on its locks: wait for
        # the one that is there (it may still be starting) instead.
        log "already running (pid $pid)"
        wait_for_ping "$pid" 1
        return 0
    fi
    local port status
    if [ -n "${MARIADB_PORT:-}" ]; then
        port_in_use "$MARIADB_PORT" && die "MARIADB_PORT=$MARIADB_PORT is already in use on 127.0.0.1"
        launch "$MARIADB_PORT" || die "port $MARIADB_PORT is already in use on 127.0.0.1"
        return 0
    fi
    for port in $(seq 3307 3406); do
        port_in_use "$port" && continue
        status=0
        launch "$port" || status=$?
        [ "$status" -eq 3 ] || return "$status"
        log "port $port was taken while starting; trying the next one"
    done
    die "no free port on 127.0.0.1 between 3307 and 3406"
}

provision() {
    [ -f "$SCHEMA" ] || die "fixture schema $SCHEMA is missing"
    local password=${AMIBRIDGE_DB_PASSWORD:-amibridge-dev} tables grants="" table host users=""
    # The tables come from the fixture itself, so a table added there is granted here too.
    tables=$(sed -n 's/^CREATE TABLE IF NOT EXISTS `\{0,1\}\([A-Za-z0-9_]*\)`\{0,1\}.*/\1/p' "$SCHEMA")
    [ -n "$tables" ] || die "no CREATE TABLE IF NOT EXISTS statements in $SCHEMA"
    for host in localhost 127.0.0.1; do
        users+="CREATE USER IF NOT EXISTS '$DB_USER'@'$host' IDENTIFIED BY $(sql_string "$password");"$'\n'
        # A re-run with another password must not leave the old one in place.
        users+="ALTER USER '$DB_USER'@'$host' IDENTIFIED BY $(sql_string "$password");"$'\n'
        # Least privilege, as in production (deploy/): SELECT on the ViciDial tables the bridge
        # reads, INSERT on vicidial_list only (lead import: POST /v1/leads and add_lead). No
        # UPDATE, DELETE or DDL anywhere: the bridge never changes what ViciDial wrote.
        for table in $tables; do
            grants+="GRANT SELECT ON \`$DB_NAME\`.\`$table\` TO '$DB_USER'@'$host';"$'\n'
        done
        grants+="GRANT INSERT ON \`$DB_NAME\`.\`vicidial_list\` TO '$DB_USER'@'$host';"$'\n'
    done
    {
        echo "CREATE DATABASE IF NOT EXISTS \`$DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
        echo "USE \`$DB_NAME\`;"
        cat "$SCHEMA"
        printf '%s%s' "$users" "$grants"
    } | client || die "loading $SCHEMA or creating user $DB_USER failed"
}

print_exports() {
    local name value
    for name in SOCKET HOST PORT USER PASSWORD NAME ROOT_USER; do
        case $name in
            SOCKET) value=$socket ;;
            HOST) value=127.0.0.1 ;;
            PORT) value=$(cat "$portfile") ;;
            USER) value=$DB_USER ;;
            PASSWORD) value=${AMIBRIDGE_DB_PASSWORD:-amibridge-dev} ;;
            NAME) value=$DB_NAME ;;
            ROOT_USER) value=$ROOT_USER ;;
        esac
        printf 'export AMIBRIDGE_DB_%s=%q\n' "$name" "$value"
    done
}

stop_server() {
    local pid deadline
    pid=$(running_pid)
    if [ -z "$pid" ]; then
        log "not running"
        rm -f "$pidfile"
        return 0
    fi
    if ! admin shutdown >/dev/null 2>&1; then
        # SIGTERM is mariadbd's own clean shutdown too; it only skips the client round trip.
        log "mariadb-admin shutdown failed; sending SIGTERM to $pid"
        kill -TERM "$pid" 2>/dev/null || true
    fi
    deadline=$((SECONDS + 60))
    while kill -0 "$pid" 2>/dev/null; do
        if [ "$SECONDS" -ge "$deadline" ]; then
            log "mariadbd $pid still running after 60s; sending SIGKILL"
            kill -KILL "$pid" 2>/dev/null || true
            break
        fi
        sleep 0.2
    done
    rm -f "$pidfile"
    log "stopped"
}

case $command in
    start)
        for tool in mariadb-install-db mariadbd mariadb mariadb-admin; do
            command -v "$tool" >/dev/null || die "$tool not found; run scripts/install-deps.sh"
        done
        initialise
        start_server
        provision
        print_exports
        ;;
    stop) stop_server ;;
    *) usage ;;
esac
