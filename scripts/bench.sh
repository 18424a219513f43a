#!/usr/bin/env bash
# Benchmarks wsgate against nginx, HAProxy and the upstream itself, on loopback:
#   1. installs nginx and haproxy from Debian if they are missing (apt-get);
#   2. builds the release products (wsgate, wsgate-bench, echo-upstream);
#   3. starts examples/echo-upstream (the upstream, and the "direct" target), wsgate fronting it
#      (scripts/bench-wsgate.yaml), nginx and HAProxy fronting it (configs generated into a temp dir);
#      target wsgate-h2 (not in the default list) is wsgate multiplexing the clients as HTTP/2
#      streams (scripts/bench-wsgate-h2.yaml) to a second `echo-upstream --h2`;
#   4. runs every scenario of wsgate-bench against every target, interleaved (scenario by
#      scenario), measuring each server's CPU time and memory from /proc;
#   5. prints one table with the figures and the ratios wsgate/nginx and wsgate/direct, and the
#      upstream TCP connections each target held in the middle of each run (from /proc/net/tcp).
#
#   scripts/bench.sh --targets "wsgate wsgate-h2" --subject wsgate-h2 --peer wsgate
#      compares the multiplexed mode with one-to-one on the same load.
# Target wsgate-client-h2 (with --tls only) is target wsgate (whose clients offer no ALPN, so stay on
# HTTP/1.1) on its own ports with 256 streams a connection, its clients' WebSockets all extended
# CONNECT streams of one HTTP/2 connection (wsgate-bench --http2):
#   scripts/bench.sh --tls --targets "wsgate wsgate-client-h2" --scenarios "echo32 echo16k idle" \
#       --subject wsgate-client-h2 --peer wsgate
#   puts the same load on one HTTP/2 connection and on a TCP connection per WebSocket; for idle,
#   the HTTP/2 connections (256 streams each) are open before the first memory sample, so the
#   figure is per stream.
# An extra target, `wsgate_nostats`, is wsgate with `admin.stats: false` (no per-frame counting), for
# the cost of the counters: scripts/bench.sh --targets "wsgate wsgate_nostats" --peer wsgate_nostats
# Target `wsgate_base` is another build of wsgate (WSGATE_BASE=path/to/its/wsgate binary) on the
# same config, for a before/after comparison in one interleaved run:
#   WSGATE_BASE=/path/to/old/.build/release/wsgate scripts/bench.sh --targets "wsgate wsgate_base nginx" \
#       --peer wsgate_base --peer nginx
#
# With --tls every target but direct (the upstream speaks plain ws) terminates TLS 1.3 on the client
# leg with the same ECDSA P-256 certificate and cipher (TLS_AES_128_GCM_SHA256), and the clients
# connect with wss://; the upstream leg stays plain.
#
# usage: scripts/bench.sh [--quick] [--duration 5s] [--warmup 1s] [--idle N] [--repeat N]
#                         [--targets "direct wsgate nginx haproxy"] [--scenarios "idle pingpong ..."]
#                         [--out DIR] [--no-build] [--tls] [--subject T] [--peer T]...
#   --quick      2 s per run, 0.5 s warm-up (the whole suite in about 2 minutes after the build)
#   --idle N     connections of the idle scenario (default 10000)
#   --repeat N   run the whole matrix N times; the table shows medians
#   --out DIR    where results.jsonl, table.md and the servers' logs go (default: a new temp dir)
#   --tls        TLS 1.3 on the client leg of every target (direct is left out)
#   --peer NAME  a target the report compares wsgate with (repeatable; default: nginx, haproxy, direct)
# The JSON lines (one per scenario run) are in DIR/results.jsonl.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

# ---- options -----------------------------------------------------------------------------------
DURATION=5s
WARMUP=1s
IDLE=10000
REPEAT=1
TARGETS="direct wsgate nginx haproxy"
SCENARIOS="idle pingpong echo32 echo16k hol echo32-deflate echo32-deflate-shared idle-deflate idle-deflate-shared"
OUT=""
BUILD=1
SUBJECT=wsgate
PEERS=()
TLS=0
while [ $# -gt 0 ]; do
    case "$1" in
        --quick) DURATION=2s; WARMUP=0.5s ;;
        --duration) DURATION="$2"; shift ;;
        --warmup) WARMUP="$2"; shift ;;
        --idle) IDLE="$2"; shift ;;
        --repeat) REPEAT="$2"; shift ;;
        --targets) TARGETS="$2"; shift ;;
        --scenarios) SCENARIOS="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --tls) TLS=1 ;;
        --subject) SUBJECT="$2"; shift ;;
        --peer) PEERS+=("$2"); shift ;;
        --http) shift; exec scripts/bench_http.sh "$@" ;;  # the HTTP scenario (wrk), scripts/bench_http.sh
        -h|--help) sed -n '2,44p' "$0"; exit 0 ;;
        *) echo "bench.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

# Loopback ports (below the ephemeral range, so they do not collide with test servers on port 0).
UPSTREAM_PORT=18001
UPSTREAM_H2_PORT=18002  # must match scripts/bench-wsgate-h2.yaml
WSGATE_PORT=18080     # must match scripts/bench-wsgate.yaml
WSGATE_ADMIN_PORT=18901
WSGATE_H2_PORT=18082  # must match scripts/bench-wsgate-h2.yaml
WSGATE_H2_ADMIN_PORT=18902
NGINX_PORT=18081
HAPROXY_PORT=18085
NOSTATS_PORT=18083
NOSTATS_ADMIN_PORT=18903
BASE_PORT=18084
BASE_ADMIN_PORT=18904
CLIENT_H2_PORT=18086
CLIENT_H2_ADMIN_PORT=18906
# Event-loop threads of wsgate (NIO's singleton group: one per core) and nginx worker processes.
SERVER_THREADS=$(nproc)

# 10,000 idle connections: the load generator holds 10k sockets, each proxy 20k, the upstream 10k.
WANT_FILES=65536
hard=$(ulimit -Hn)
if [ "$hard" != unlimited ] && [ "$hard" -lt "$WANT_FILES" ]; then
    ulimit -Hn "$WANT_FILES" 2>/dev/null || WANT_FILES=$hard
fi
ulimit -Sn "$WANT_FILES"
# A proxy holds two sockets per idle client: fit the idle scenario in the open-file limit
# (a container may cap the hard limit, e.g. at 20000, where even root cannot raise it).
MAX_IDLE=$(((WANT_FILES - 512) / 2))
if [ "$IDLE" -gt "$MAX_IDLE" ]; then
    echo "==> open-file limit $WANT_FILES: idle scenario with $MAX_IDLE connections instead of $IDLE" >&2
    IDLE=$MAX_IDLE
fi

WORK=$(mktemp -d /tmp/wsgate-bench.XXXXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: >"$RESULTS"
# log, stop_servers (STARTED_PIDS), install_debian_package, port_free, wait_port, children_of.
source scripts/bench/lib.sh

cleanup() {
    stop_servers
    [ "$OUT" = "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT

# ---- peers from Debian ---------------------------------------------------------------------------
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
HAPROXY=$(command -v haproxy || echo /usr/sbin/haproxy)
[[ " $TARGETS " != *" nginx "* ]] || install_debian_package nginx "$NGINX"
[[ " $TARGETS " != *" haproxy "* ]] || install_debian_package haproxy "$HAPROXY"

# ---- TLS ----------------------------------------------------------------------------------------
SCHEME=ws
if [ "$TLS" -eq 1 ]; then
    SCHEME=wss
    if [[ " $TARGETS " == *" direct "* ]]; then
        log "--tls: target direct left out (the upstream speaks plain ws)"
        TARGETS=$(echo " $TARGETS " | sed 's/ direct / /; s/^ *//; s/ *$//')
    fi
    TLS_DIR="$WORK/tls"
    mkdir -p "$TLS_DIR"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$TLS_DIR/key.pem" -out "$TLS_DIR/cert.pem" 2>/dev/null
    cat "$TLS_DIR/cert.pem" "$TLS_DIR/key.pem" >"$TLS_DIR/combined.pem"  # HAProxy's crt
elif [[ " $TARGETS " == *" wsgate-client-h2 "* ]]; then
    echo "bench.sh: target wsgate-client-h2 needs --tls (wsgate offers HTTP/2 to clients over TLS only)" >&2
    exit 2
fi

# ---- build --------------------------------------------------------------------------------------
if [ "$BUILD" -eq 1 ]; then
    # One `swift build` builds all three products (its --product flag takes one product only).
    log "swift build -c release (wsgate, wsgate-bench, echo-upstream)"
    swift build -c release >&2
fi
BIN=$(swift build -c release --show-bin-path)
for product in wsgate wsgate-bench echo-upstream; do
    [ -x "$BIN/$product" ] || { echo "bench.sh: $BIN/$product missing; run without --no-build" >&2; exit 1; }
done

require_free_ports $UPSTREAM_PORT $UPSTREAM_H2_PORT $WSGATE_PORT $WSGATE_ADMIN_PORT $WSGATE_H2_PORT $WSGATE_H2_ADMIN_PORT \
    $NGINX_PORT $HAPROXY_PORT $NOSTATS_PORT $NOSTATS_ADMIN_PORT $BASE_PORT $BASE_ADMIN_PORT \
    $CLIENT_H2_PORT $CLIENT_H2_ADMIN_PORT

# ---- targets ------------------------------------------------------------------------------------
# Each target NAME has a start_NAME function that starts its server (if it is not the upstream)
# and sets URL[NAME] and SERVER_PIDS[NAME] (the processes whose CPU and memory are measured), and
# CLIENT_ARGS[NAME] if its clients need wsgate-bench options of their own.
# A new target (a TLS-terminating wsgate or nginx, wsgate multiplexed) is one more function and
# one more name in --targets.
declare -A URL SERVER_PIDS CLIENT_ARGS
UPSTREAM_PID=""

start_upstream() {
    "$BIN/echo-upstream" --host 127.0.0.1 --port "$UPSTREAM_PORT" >>"$OUT/echo-upstream.log" 2>&1 &
    UPSTREAM_PID=$!
    STARTED_PIDS+=("$UPSTREAM_PID")
    wait_port "$UPSTREAM_PORT"
}

start_direct() {
    URL[direct]="ws://127.0.0.1:$UPSTREAM_PORT"
    SERVER_PIDS[direct]=$UPSTREAM_PID
}

# A wsgate config for this run:
#   CONFIG LISTENER_PORT NEW_PORT ADMIN_PORT NEW_ADMIN_PORT [ADMIN_EXTRA] [LISTENER_EXTRA]
# prints CONFIG with the listener and admin on the new ports, ADMIN_EXTRA (a line) added to the
# admin section, LISTENER_EXTRA (a line) to the listener, and with --tls the listener terminating
# TLS with the run's certificate.
wsgate_config() {
    local config=$1 port=$2 new_port=$3 admin_port=$4 new_admin_port=$5 admin_extra=${6:-} listener_extra=${7:-}
    local tls_lines=""
    [ "$TLS" -eq 0 ] || tls_lines="\\n    tls:\\n      min_version: \"1.3\"\\n      certificates: [{cert: $TLS_DIR/cert.pem, key: $TLS_DIR/key.pem}]\\n      watch_interval: 0"
    [ -z "$listener_extra" ] || tls_lines="$tls_lines\\n    $listener_extra"
    sed -e "s|^    address: 127.0.0.1:$port\$|    address: 127.0.0.1:$new_port$tls_lines|" \
        -e "s/^  address: 127.0.0.1:$admin_port\$/  address: 127.0.0.1:$new_admin_port${admin_extra:+\\n  $admin_extra}/" \
        "$config"
}

# Starts a wsgate: NAME BINARY CONFIG PORT (the listener's, for the URL).
start_wsgate_process() {
    local name=$1 binary=$2 config=$3 port=$4
    "$binary" run --config "$config" --log-level warning >>"$OUT/$name.log" 2>&1 &
    local pid=$!
    STARTED_PIDS+=("$pid")
    wait_port "$port"
    URL[$name]="$SCHEME://127.0.0.1:$port"
    SERVER_PIDS[$name]=$pid
}

start_wsgate() {
    wsgate_config scripts/bench-wsgate.yaml "$WSGATE_PORT" "$WSGATE_PORT" "$WSGATE_ADMIN_PORT" "$WSGATE_ADMIN_PORT" \
        >"$WORK/wsgate.yaml"
    start_wsgate_process wsgate "$BIN/wsgate" "$WORK/wsgate.yaml" "$WSGATE_PORT"
}

# A variant of the wsgate target on its own ports: NAME PORT ADMIN_PORT BINARY [ADMIN_EXTRA], where
# ADMIN_EXTRA is a line added to the admin section of scripts/bench-wsgate.yaml.
start_wsgate_variant() {
    local name=$1 port=$2 admin_port=$3 binary=$4 admin_extra=${5:-}
    wsgate_config scripts/bench-wsgate.yaml "$WSGATE_PORT" "$port" "$WSGATE_ADMIN_PORT" "$admin_port" "$admin_extra" \
        >"$WORK/$name.yaml"
    start_wsgate_process "$name" "$binary" "$WORK/$name.yaml" "$port"
}

# wsgate with the per-frame counters off (admin.stats: false).
start_wsgate_nostats() {
    start_wsgate_variant wsgate_nostats "$NOSTATS_PORT" "$NOSTATS_ADMIN_PORT" "$BIN/wsgate" "stats: false"
}

# Another build of wsgate (WSGATE_BASE), same config.
start_wsgate_base() {
    [ -x "${WSGATE_BASE:-}" ] || { echo "bench.sh: target wsgate_base needs WSGATE_BASE=path/to/wsgate" >&2; exit 2; }
    start_wsgate_variant wsgate_base "$BASE_PORT" "$BASE_ADMIN_PORT" "$WSGATE_BASE"
}

# wsgate multiplexed, in front of its own `echo-upstream --h2`; as for the other proxies, only the
# gateway's process is measured.
start_wsgate-h2() {
    "$BIN/echo-upstream" --host 127.0.0.1 --port "$UPSTREAM_H2_PORT" --h2 >>"$OUT/echo-upstream-h2.log" 2>&1 &
    STARTED_PIDS+=("$!")
    wait_port "$UPSTREAM_H2_PORT"
    wsgate_config scripts/bench-wsgate-h2.yaml "$WSGATE_H2_PORT" "$WSGATE_H2_PORT" "$WSGATE_H2_ADMIN_PORT" \
        "$WSGATE_H2_ADMIN_PORT" >"$WORK/wsgate-h2.yaml"
    start_wsgate_process wsgate-h2 "$BIN/wsgate" "$WORK/wsgate-h2.yaml" "$WSGATE_H2_PORT"
}

# wsgate as target wsgate (same config, one-to-one upstream), HTTP/2 explicitly on for clients; its
# clients carry every WebSocket as a stream of one HTTP/2 connection (--tls only, checked above).
# max_concurrent_streams is raised from its default (100) to 256, the most whose windows fit in
# 16 MiB at the default initial_window_size (64 KiB): the echo scenarios' 64 streams share one
# connection, and the idle scenario's streams fill ceil(IDLE / 256) connections.
start_wsgate-client-h2() {
    wsgate_config scripts/bench-wsgate.yaml "$WSGATE_PORT" "$CLIENT_H2_PORT" "$WSGATE_ADMIN_PORT" "$CLIENT_H2_ADMIN_PORT" \
        "" "http2: {enabled: true, max_concurrent_streams: 256}" >"$WORK/wsgate-client-h2.yaml"
    start_wsgate_process wsgate-client-h2 "$BIN/wsgate" "$WORK/wsgate-client-h2.yaml" "$CLIENT_H2_PORT"
    CLIENT_ARGS[wsgate-client-h2]="--http2"
}

# Established TCP connections to 127.0.0.1:PORT, from /proc/net/tcp (local side of each connection).
upstream_connections() {
    local hex
    hex=$(printf '%04X' "$1")
    awk -v port=":$hex" '$3 ~ port"$" && $4 == "01" { n++ } END { print n + 0 }' /proc/net/tcp
}

upstream_port_of() {
    case "$1" in
        wsgate-h2) echo "$UPSTREAM_H2_PORT" ;;
        *) echo "$UPSTREAM_PORT" ;;
    esac
}

seconds_of() {
    case "$1" in
        *ms) awk -v v="${1%ms}" 'BEGIN { print v / 1000 }' ;;
        *s) echo "${1%s}" ;;
        *m) awk -v v="${1%m}" 'BEGIN { print v * 60 }' ;;
        *) echo "$1" ;;
    esac
}

start_nginx() {
    local dir="$WORK/nginx"
    mkdir -p "$dir/logs" "$dir/temp"
    # The equivalent of wsgate's one-to-one mode: an HTTP/1.1 WebSocket tunnel, unbuffered.
    cat >"$dir/nginx.conf" <<EOF
worker_processes $SERVER_THREADS;
worker_rlimit_nofile $WANT_FILES;
daemon off;
pid $dir/nginx.pid;
error_log $OUT/nginx-error.log warn;
events {
    worker_connections 32768;
}
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    map \$http_upgrade \$connection_upgrade {
        default upgrade;
        ''      close;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT $([ "$TLS" -eq 0 ] || echo ssl) backlog=1024;
$([ "$TLS" -eq 0 ] || cat <<TLS
        ssl_certificate $TLS_DIR/cert.pem;
        ssl_certificate_key $TLS_DIR/key.pem;
        ssl_protocols TLSv1.3;
        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;
        ssl_session_tickets off;
TLS
)
        location / {
            proxy_pass http://127.0.0.1:$UPSTREAM_PORT;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection \$connection_upgrade;
            proxy_set_header Host \$host;
            proxy_buffering off;
            proxy_read_timeout 1h;
            proxy_send_timeout 1h;
        }
    }
}
EOF
    "$NGINX" -c "$dir/nginx.conf" -p "$dir" -e "$OUT/nginx-error.log" >>"$OUT/nginx.log" 2>&1 &
    local master=$!
    STARTED_PIDS+=("$master")
    wait_port "$NGINX_PORT"
    local workers
    workers=$(children_of "$master" | tr '\n' ' ')
    [ -n "$workers" ] || { echo "bench.sh: no nginx worker processes found" >&2; exit 1; }
    URL[nginx]="$SCHEME://127.0.0.1:$NGINX_PORT"
    SERVER_PIDS[nginx]="$master $workers"
}

# HAProxy as the equivalent WebSocket proxy: HTTP mode (it recognises the upgrade and then tunnels),
# one process with one thread per core like wsgate's event loops, no logging, timeouts as long as nginx's.
start_haproxy() {
    local dir="$WORK/haproxy" bind="127.0.0.1:$HAPROXY_PORT"
    mkdir -p "$dir"
    [ "$TLS" -eq 0 ] || bind="$bind ssl crt $TLS_DIR/combined.pem ssl-min-ver TLSv1.3 ciphersuites TLS_AES_128_GCM_SHA256 no-tls-tickets"
    cat >"$dir/haproxy.cfg" <<CFG
global
    nbthread $SERVER_THREADS
    maxconn $((IDLE + 64))
    tune.ssl.cachesize 0
defaults
    mode http
    timeout connect 5s
    timeout client 1h
    timeout server 1h
    timeout tunnel 1h
frontend bench
    bind $bind backlog 1024
    default_backend echo
backend echo
    server echo 127.0.0.1:$UPSTREAM_PORT
CFG
    "$HAPROXY" -db -f "$dir/haproxy.cfg" >>"$OUT/haproxy.log" 2>&1 &
    local pid=$!
    STARTED_PIDS+=("$pid")
    wait_port "$HAPROXY_PORT"
    URL[haproxy]="$SCHEME://127.0.0.1:$HAPROXY_PORT"
    SERVER_PIDS[haproxy]=$pid
}

for target in $TARGETS; do
    declare -F "start_$target" >/dev/null || { echo "bench.sh: unknown target $target" >&2; exit 2; }
done

# ---- runs ---------------------------------------------------------------------------------------
# Every scenario starts fresh servers: memory figures only mean something on a process whose heap
# an earlier scenario has not grown (10,000 idle connections leave a heap that hides later growth).
failed_runs=0
for round in $(seq 1 "$REPEAT"); do
    for scenario in $SCENARIOS; do
        start_upstream
        for target in $TARGETS; do
            "start_$target"
        done
        for target in $TARGETS; do
            log "round $round/$REPEAT: $scenario against $target (${URL[$target]})"
            pid_args=()
            for pid in ${SERVER_PIDS[$target]}; do
                pid_args+=(--server-pid "$pid")
            done
            # Sample the upstream connections halfway through the measured part of the run.
            midway=$(awk -v w="$(seconds_of "$WARMUP")" -v d="$(seconds_of "$DURATION")" 'BEGIN { print w + d / 2 }')
            upstream_port=$(upstream_port_of "$target")
            (sleep "$midway"; echo "$round $scenario $target $(upstream_connections "$upstream_port")" >>"$OUT/upstream-connections.txt") &
            sampler=$!
            if ! "$BIN/wsgate-bench" run --url "${URL[$target]}" --target "$target" --scenario "$scenario" \
                --duration "$DURATION" --warmup "$WARMUP" --idle-connections "$IDLE" \
                "${pid_args[@]}" ${CLIENT_ARGS[$target]:-} >>"$RESULTS" 2>>"$OUT/wsgate-bench.log"; then
                failed_runs=$((failed_runs + 1))
                log "  run reported errors (see $OUT/wsgate-bench.log)"
            fi
            wait "$sampler" 2>/dev/null || true
        done
        stop_servers
    done
done

# ---- report -------------------------------------------------------------------------------------
{
    echo "wsgate benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(uname -sr)"
    echo "runs of $DURATION after $WARMUP warm-up, $REPEAT round(s), $IDLE idle connections; $([ "$TLS" -eq 0 ] && echo "plain ws" || echo "TLS 1.3 (TLS_AES_128_GCM_SHA256, ECDSA P-256) on the client leg")"
    echo "nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') with $SERVER_THREADS workers; HAProxy $("$HAPROXY" -v 2>/dev/null | awk 'NR == 1 { print $3 }') with $SERVER_THREADS threads; wsgate on $SERVER_THREADS event loops"
    echo
    if [ "${#PEERS[@]}" -eq 0 ]; then
        for peer in nginx haproxy direct; do
            [[ " $TARGETS " != *" $peer "* ]] || PEERS+=("$peer")
        done
    fi
    peer_args=()
    for peer in "${PEERS[@]}"; do
        peer_args+=(--peer "$peer")
    done
    "$BIN/wsgate-bench" report "$RESULTS" --subject "$SUBJECT" "${peer_args[@]}"
    echo
    echo "upstream TCP connections halfway through each run (round scenario target count; direct: the clients' own):"
    sed 's/^/    /' "$OUT/upstream-connections.txt" 2>/dev/null || true
    echo
    echo "server CPU s / M msgs: user+system CPU of the target's processes per million echoed messages (direct: the upstream itself)."
    echo "Servers are restarted for every scenario. With several rounds a figure is the median. '!' marks a figure from a run that reported errors."
    echo "JSON lines: $RESULTS"
} | tee "$OUT/table.md"
[ "$failed_runs" -eq 0 ] || { log "$failed_runs run(s) reported errors"; exit 1; }
