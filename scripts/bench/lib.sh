# Helpers shared by the benchmark scripts (scripts/bench.sh, scripts/bench_http.sh); sourced, with
# the repository root as the working directory. The servers a script starts go into STARTED_PIDS
# (stop_servers stops exactly those); messages are prefixed with the script's name.

BENCH_NAME=$(basename "$0")
STARTED_PIDS=()

log() { echo "==> $*" >&2; }

# Stops the servers this script started (by their pids) and waits for them to exit.
stop_servers() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${STARTED_PIDS[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    STARTED_PIDS=()
}

# Installs the Debian package NAME (apt-get) unless BINARY exists, without starting its service
# (we run our own server on our own ports): install_debian_package NAME BINARY
install_debian_package() {
    local package=$1 binary=$2
    [ ! -x "$binary" ] || return 0
    log "installing $package (apt-get)"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    export DEBIAN_FRONTEND=noninteractive
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null
        $sudo chmod +x "$policy"
        added_policy=1
    fi
    $sudo apt-get update -qq </dev/null
    $sudo apt-get install -y -qq --no-install-recommends "$package" </dev/null
    [ "$added_policy" -eq 0 ] || $sudo rm -f "$policy"
}

port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# Exits unless each of the ports is free.
require_free_ports() {
    local port
    for port in "$@"; do
        port_free "$port" || { echo "$BENCH_NAME: port $port is in use; stop what uses it first" >&2; exit 1; }
    done
}

# Waits (at most 10 s) until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 tries=0
    until ! port_free "$port"; do
        tries=$((tries + 1))
        [ "$tries" -le 100 ] || { echo "$BENCH_NAME: nothing listening on port $port after 10 s" >&2; exit 1; }
        sleep 0.1
    done
}

# Child processes of PID (nginx workers), read from /proc so procps is not needed.
children_of() {
    local parent=$1 stat rest
    for stat in /proc/[0-9]*/stat; do
        rest=$(cat "$stat" 2>/dev/null) || continue
        rest=${rest##*") "}
        set -- $rest
        [ "${2:-}" = "$parent" ] && basename "$(dirname "$stat")"
    done
    return 0
}
