# Sourced by scripts that start `amibridge run` with `api.listen` on port 0 and its log in a file.
# daemon_api_port LOG: prints the port of the daemon's "HTTP API listening" line once it is in
# LOG (up to 30 s); returns 1 if it never comes.
daemon_api_port() {
    local log=$1 port=
    for _ in $(seq 300); do
        port=$(sed -n 's/.*"HTTP API listening".*"port":"\([0-9]*\)".*/\1/p; s/.*"port":"\([0-9]*\)".*"HTTP API listening".*/\1/p' "$log" | head -n 1)
        [ -n "$port" ] && { echo "$port"; return 0; }
        sleep 0.1
    done
    return 1
}
