#!/usr/bin/env bash
# The repeatable figures of a small message: instructions and heap allocations per echoed message
# in the gateway's process, for the one-to-one path (scripts/bench-wsgate.yaml, target wsgate) and
# the multiplexed one (scripts/bench-wsgate-h2.yaml, target wsgate-h2), on loopback.
#
# For each path one gateway process serves two loads of the same shape (CONNECTIONS WebSockets
# opened together, each echoing MESSAGES messages of SIZE bytes one at a time,
# scripts/bench/fixed_echo.py), the second with twice the messages of the first. Path `http` (not in
# the default list) is a proxied HTTP request instead of a message: an `http` upstream (nginx serving
# a 1 KiB file), CONNECTIONS keep-alive connections each sending MESSAGES `GET`s one at a time
# (scripts/bench/fixed_http.py); its figures are per request. Path `http-nginx` is nginx as the same
# keep-alive proxy (scripts/bench_http.sh's, in one process: `master_process off`) on the same loads,
# so the gateway's figures have nginx's beside them. The figure is the
# difference of the two loads divided by the difference of their message counts, so start-up,
# connection set-up and close cancel out:
#   instructions: the gateway under `valgrind --tool=callgrind` (Ir), counters zeroed before the
#     first load and dumped after each (callgrind_control);
#   allocations: the gateway natively, with scripts/bench/malloc_count.c preloaded (malloc, calloc,
#     realloc and the aligned allocators, read from a shared counter file before and after each load).
# A message is one round trip (client -> gateway -> upstream -> gateway -> client): two frames
# through the gateway, as in scripts/bench.sh's "CPU s per M msgs".
#
# valgrind 3.19 (Debian 12) dies with an internal SIGSEGV on any Swift program that parks its main
# thread in libdispatch's sigsuspend (async main); scripts/bench/valgrind_sigsuspend.c works around it,
# and it cannot read the toolchain's DWARF 5, so callgrind runs a copy stripped of debug info.
# Callgrind's counts move with wall-clock-driven work (timers) only; on a loaded machine they repeat
# within about 1 %.
#
# With --connects N the figure is the cost of a connection instead: instructions and allocations per
# connection lifetime (accept, TLS with --tls, the upgrade, the upstream leg opened and upgraded, one
# SIZE-byte echo, the close handshake, both sockets closed; scripts/bench/fixed_connects.py, at most
# CONNECTIONS at a time), from loads of N and 2N connections, the same way. Its paths: `wsgate`
# (one-to-one to echo-upstream), `wsgate-echo` (the built-in echo: no upstream leg) and `nginx` (the
# same WebSocket proxy as scripts/bench.sh's, one process, `master_process off`), so the gateway's
# figure has nginx's beside it from the same loads.
#
# With --idle N the figure is the memory of an idle connection: N connections (same paths; with
# --tls, wss://) opened, upgraded, one short message echoed on each, then held
# (scripts/bench/idle_tls_clients.py); per connection, the growth of the server's live heap (the
# usable size of the blocks allocated and not freed, from malloc_count.c: it repeats, unlike RSS) and
# of its VmRSS. With --profile P it also runs the server under `valgrind --tool=massif` and keeps a
# detailed snapshot taken while the N connections are held as P-PATH.massif (ms_print P-PATH.massif:
# who holds the heap).
#
# usage: scripts/bench_instructions.sh [--messages N] [--connections C] [--size BYTES]
#                                      [--paths "wsgate wsgate-h2 http http-nginx"] [--no-valgrind] [--no-build]
#                                      [--wsgate PATH/TO/wsgate] [--profile PREFIX]
#                                      [--connects N | --idle N] [--tls] [--port-offset N]
#   --messages N   messages per connection in the first load (default 400; the second has 2N)
#   --connects N   connections in the first load (the second has 2N); default paths
#                  "wsgate wsgate-echo nginx", CONNECTIONS default 4
#   --idle N       hold N idle connections; same default paths, CONNECTIONS (opened at a time) 50
#   --tls          (with --connects or --idle) TLS 1.3 on the client leg (ECDSA P-256,
#                  TLS_AES_128_GCM_SHA256, no session tickets, as scripts/bench.sh --tls)
#   --wsgate PATH  another build of the gateway (before/after); echo-upstream is this tree's
#   --profile P    keep the second load's callgrind profile as P-PATH.callgrind (callgrind_annotate)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

MESSAGES=400
CONNECTIONS=""
SIZE=32
PATHS=""
CONNECTS=0
PORT_OFFSET=0
IDLE=0
TLS=0
VALGRIND=1
BUILD=1
WSGATE=""
PROFILE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --messages) MESSAGES="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --size) SIZE="$2"; shift ;;
        --paths) PATHS="$2"; shift ;;
        --no-valgrind) VALGRIND=0 ;;
        --no-build) BUILD=0 ;;
        --wsgate) WSGATE="$2"; shift ;;
        --profile) PROFILE="$2"; shift ;;
        --connects) CONNECTS="$2"; shift ;;
        --idle) IDLE="$2"; shift ;;
        --port-offset) PORT_OFFSET="$2"; shift ;;
        --tls) TLS=1 ;;
        -h|--help) sed -n '2,60p' "$0"; exit 0 ;;
        *) echo "bench_instructions.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

log() { echo "==> $*" >&2; }

if [ "$CONNECTS" -gt 0 ] || [ "$IDLE" -gt 0 ]; then
    CONNECTIONS=${CONNECTIONS:-$([ "$IDLE" -gt 0 ] && echo 50 || echo 4)}
    PATHS=${PATHS:-"wsgate wsgate-echo nginx"}
else
    [ "$TLS" -eq 0 ] || { echo "bench_instructions.sh: --tls goes with --connects or --idle" >&2; exit 2; }
    CONNECTIONS=${CONNECTIONS:-8}
    PATHS=${PATHS:-"wsgate wsgate-h2"}
fi

if [ "$BUILD" -eq 1 ]; then
    log "swift build -c release"
    swift build -c release >&2
fi
BIN=$(swift build -c release --show-bin-path)
WSGATE=${WSGATE:-$BIN/wsgate}
[ -x "$WSGATE" ] || { echo "bench_instructions.sh: build first" >&2; exit 1; }
# The WebSocket paths' upstream (the http paths' is nginx).
[[ ! " $PATHS " =~ \ wsgate ]] || [ -x "$BIN/echo-upstream" ] || { echo "bench_instructions.sh: build first" >&2; exit 1; }

for tool in gcc python3; do
    command -v "$tool" >/dev/null || { echo "bench_instructions.sh: needs $tool" >&2; exit 1; }
done
if [ "$VALGRIND" -eq 1 ] && ! command -v valgrind >/dev/null; then
    echo "bench_instructions.sh: needs valgrind (apt-get install valgrind), or --no-valgrind" >&2
    exit 1
fi

WORK=$(mktemp -d /tmp/wsgate-instructions.XXXXXX)
STARTED_PIDS=()
stop_servers() {
    local pid
    for pid in "${STARTED_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${STARTED_PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
    STARTED_PIDS=()
}
cleanup() { stop_servers; rm -rf "$WORK"; }
trap cleanup EXIT

gcc -O2 -shared -fPIC scripts/bench/malloc_count.c -o "$WORK/malloc_count.so"
gcc -O2 -shared -fPIC scripts/bench/valgrind_sigsuspend.c -o "$WORK/valgrind_sigsuspend.so"
# valgrind 3.19 cannot read the DWARF 5 the Swift toolchain emits ("unhandled dwarf2 abbrev form
# code 0x25", then it gives up): callgrind runs a copy without debug info (symbols stay).
strip -g "$WSGATE" -o "$WORK/wsgate-stripped"

# Ports of their own (scripts/bench.sh's plus 1000), so both scripts can run at once.
# --port-offset N moves them, for two runs at once on a shared machine.
UPSTREAM_PORT=$((19001 + PORT_OFFSET))
GATEWAY_PORT=$((19080 + PORT_OFFSET))
ADMIN_PORT=$((19901 + PORT_OFFSET))
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for port in $UPSTREAM_PORT $GATEWAY_PORT $ADMIN_PORT; do
    port_free "$port" || { echo "bench_instructions.sh: port $port is in use" >&2; exit 1; }
done

# Waits (at most 300 s: valgrind starts slowly) until something accepts on 127.0.0.1:PORT.
wait_port() {
    local port=$1 tries=0
    until ! port_free "$port"; do
        tries=$((tries + 1))
        [ "$tries" -le 3000 ] || { echo "bench_instructions.sh: nothing on port $port" >&2; exit 1; }
        sleep 0.1
    done
}

SCHEME=ws
TLS_LINES=""
if [ "$TLS" -eq 1 ]; then
    SCHEME=wss
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
        -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null
    TLS_LINES="\\n    tls:\\n      min_version: \"1.3\"\\n      certificates: [{cert: $WORK/cert.pem, key: $WORK/key.pem}]\\n      watch_interval: 0"
fi

# The path's config with this script's ports (and the listener's TLS under --tls): config_of PATH > FILE
config_of() {
    case "$1" in
        wsgate) sed -e "s/127.0.0.1:18080/127.0.0.1:$GATEWAY_PORT/; s/127.0.0.1:18901/127.0.0.1:$ADMIN_PORT/; s/127.0.0.1:18001/127.0.0.1:$UPSTREAM_PORT/" scripts/bench-wsgate.yaml ;;
        wsgate-h2) sed -e "s/127.0.0.1:18082/127.0.0.1:$GATEWAY_PORT/; s/127.0.0.1:18902/127.0.0.1:$ADMIN_PORT/; s/127.0.0.1:18002/127.0.0.1:$UPSTREAM_PORT/" scripts/bench-wsgate-h2.yaml ;;
        # The pool's defaults, as an operator starts with them.
        http) printf 'listeners: [{name: bench, address: "127.0.0.1:%s"}]\nadmin: {address: "127.0.0.1:%s"}\nupstreams: {files: {protocol: http, endpoints: ["127.0.0.1:%s"]}}\nroutes: [{name: files, upstream: files}]\n' \
            "$GATEWAY_PORT" "$ADMIN_PORT" "$UPSTREAM_PORT" ;;
        http-nginx) nginx_proxy_config ;;
        wsgate-echo) printf 'listeners:\n  - name: bench\n    address: 127.0.0.1:%s\nadmin:\n  address: 127.0.0.1:%s\nupstreams:\n  echo:\n    protocol: echo\nroutes:\n  - name: all\n    upstream: echo\n' "$GATEWAY_PORT" "$ADMIN_PORT" ;;
        nginx) nginx_websocket_config ;;
        *) echo "bench_instructions.sh: unknown path $1" >&2; exit 2 ;;
    esac | sed -e "/^    address: 127.0.0.1:$GATEWAY_PORT\$/s|\$|$TLS_LINES|"
}

# nginx as scripts/bench.sh's WebSocket proxy, in one process (the figures are per process).
nginx_websocket_config() {
    mkdir -p "$WORK/nginx-ws/temp"
    cat <<CONF
daemon off;
master_process off;
pid $WORK/nginx-ws/nginx.pid;
error_log $WORK/nginx-ws/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-ws/temp/body;
    proxy_temp_path $WORK/nginx-ws/temp/proxy;
    fastcgi_temp_path $WORK/nginx-ws/temp/fastcgi;
    uwsgi_temp_path $WORK/nginx-ws/temp/uwsgi;
    scgi_temp_path $WORK/nginx-ws/temp/scgi;
    map \$http_upgrade \$connection_upgrade { default upgrade; '' close; }
    server {
        listen 127.0.0.1:$GATEWAY_PORT $([ "$TLS" -eq 0 ] || echo ssl) backlog=1024;
$([ "$TLS" -eq 0 ] || printf '        ssl_certificate %s;\n        ssl_certificate_key %s;\n        ssl_protocols TLSv1.3;\n        ssl_conf_command Ciphersuites TLS_AES_128_GCM_SHA256;\n        ssl_session_tickets off;\n' "$WORK/cert.pem" "$WORK/key.pem")
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
CONF
}

# nginx as scripts/bench_http.sh's keep-alive proxy, in one process (the figures are per process).
nginx_proxy_config() {
    mkdir -p "$WORK/nginx-proxy/temp"
    cat <<CONF
daemon off;
master_process off;
pid $WORK/nginx-proxy/nginx.pid;
error_log $WORK/nginx-proxy/error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx-proxy/temp/body;
    proxy_temp_path $WORK/nginx-proxy/temp/proxy;
    fastcgi_temp_path $WORK/nginx-proxy/temp/fastcgi;
    uwsgi_temp_path $WORK/nginx-proxy/temp/uwsgi;
    scgi_temp_path $WORK/nginx-proxy/temp/scgi;
    keepalive_requests 1000000;
    upstream files { server 127.0.0.1:$UPSTREAM_PORT; keepalive 64; }
    server {
        listen 127.0.0.1:$GATEWAY_PORT backlog=1024;
        location / {
            proxy_pass http://files;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host \$host;
        }
    }
}
CONF
}

# Starts the upstream of PATH and the gateway: the remaining args are the command that runs the
# gateway binary (its `run` arguments are appended; for http-nginx, nginx takes its place).
start_path() {
    local path=$1
    shift
    local h2=() command=("$@")
    [ "$path" = wsgate-h2 ] && h2=(--h2)
    if [ "$path" = http ] || [ "$path" = http-nginx ]; then
        start_file_server
    elif [ "$path" = wsgate-echo ]; then
        :  # the built-in echo: no upstream
    else
        "$BIN/echo-upstream" --host 127.0.0.1 --port "$UPSTREAM_PORT" "${h2[@]}" >>"$WORK/upstream.log" 2>&1 &
        STARTED_PIDS+=("$!")
    fi
    [ "$path" = wsgate-echo ] || wait_port "$UPSTREAM_PORT"
    config_of "$path" >"$WORK/$path.yaml"
    if [ "$path" = http-nginx ]; then
        command[-1]=$(command -v nginx || echo /usr/sbin/nginx)
        command+=(-c "$WORK/$path.yaml" -p "$WORK/nginx-proxy" -e "$WORK/nginx-proxy/error.log")
    elif [ "$path" = nginx ]; then
        command[-1]=$(command -v nginx || echo /usr/sbin/nginx)
        command+=(-c "$WORK/$path.yaml" -p "$WORK/nginx-ws" -e "$WORK/nginx-ws/error.log")
    else
        command+=(run --config "$WORK/$path.yaml" --log-level warning)
    fi
    "${command[@]}" >>"$WORK/gateway.log" 2>&1 &
    GATEWAY_PID=$!
    STARTED_PIDS+=("$GATEWAY_PID")
    wait_port "$GATEWAY_PORT"
}

# The upstream of path http: nginx serving a 1 KiB file at /1k.bin from its own prefix.
start_file_server() {
    local dir="$WORK/nginx"
    mkdir -p "$dir/temp" "$dir/www"
    head -c 1024 /dev/urandom >"$dir/www/1k.bin"
    # nginx's workers may run as another user (nobody, when started as root): let them read it.
    chmod a+rx "$WORK" "$dir" "$dir/www"
    chmod a+r "$dir/www/1k.bin"
    cat >"$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    keepalive_requests 1000000;
    server { listen 127.0.0.1:$UPSTREAM_PORT; root $dir/www; }
}
CONF
    "$(command -v nginx || echo /usr/sbin/nginx)" -c "$dir/nginx.conf" -p "$dir" -e "$WORK/nginx-error.log" \
        >>"$WORK/upstream.log" 2>&1 &
    STARTED_PIDS+=("$!")
}

# A load of N units: N messages (requests) per connection, or with --connects N connections.
load() {
    if [ "$CURRENT_PATH" = http ] || [ "$CURRENT_PATH" = http-nginx ]; then
        python3 scripts/bench/fixed_http.py --port "$GATEWAY_PORT" --path /1k.bin --connections "$CONNECTIONS" \
            --requests "$1"
        return
    fi
    if [ "$CONNECTS" -gt 0 ]; then
        python3 scripts/bench/fixed_connects.py --url "$SCHEME://127.0.0.1:$GATEWAY_PORT/" --count "$1" \
            --concurrency "$CONNECTIONS" --size "$SIZE"
        return
    fi
    python3 scripts/bench/fixed_echo.py --url "ws://127.0.0.1:$GATEWAY_PORT/" --connections "$CONNECTIONS" \
        --messages "$1" --size "$SIZE"
}

# Per message: (second load's count - first load's) / (its messages - the first's).
per_message() {
    RESULT=$(awk -v a="$1" -v b="$2" -v n="$UNITS" 'BEGIN { printf "%.1f", (b - a) / n }')
}

# The first load's units (the second has twice as many), and how many messages or connections the
# difference between them is.
FIRST=$MESSAGES
UNITS=$((MESSAGES * CONNECTIONS))
if [ "$CONNECTS" -gt 0 ]; then
    FIRST=$CONNECTS
    UNITS=$CONNECTS
fi

allocations_of() {
    local path=$1 counts="$WORK/malloc-$1.bin"
    start_path "$path" env MALLOC_COUNT_FILE="$counts" LD_PRELOAD="$WORK/malloc_count.so" "$WSGATE"
    read_allocs() { od -A n -t u8 -N 8 "$counts" | tr -d ' '; }
    local s0 s1 s2
    s0=$(read_allocs)
    load "$FIRST"
    s1=$(read_allocs)
    load $((2 * FIRST))
    s2=$(read_allocs)
    stop_servers
    per_message $((s1 - s0)) $((s2 - s1))
}

instructions_of() {
    local path=$1 out="$WORK/callgrind-$1"
    start_path "$path" env LD_PRELOAD="$WORK/valgrind_sigsuspend.so" \
        valgrind --tool=callgrind --callgrind-out-file="$out" --dump-line=no "$WORK/wsgate-stripped"
    callgrind_control -z "$GATEWAY_PID" >/dev/null
    load "$FIRST"
    callgrind_control -d "$GATEWAY_PID" >/dev/null
    load $((2 * FIRST))
    callgrind_control -d "$GATEWAY_PID" >/dev/null
    local a b
    a=$(awk '/^summary:/ { print $2 }' "$out.1")
    b=$(awk '/^summary:/ { print $2 }' "$out.2")
    [ -z "$PROFILE" ] || cp "$out.2" "$PROFILE-$path.callgrind"
    stop_servers
    per_message "$a" "$b"
}

# ---- --idle: memory per held connection ----------------------------------------------------------

# Opens IDLE connections and returns once they are held; close_idle lets them go.
hold_idle() {
    rm -f "$WORK/idle.in" "$WORK/idle.out"
    mkfifo "$WORK/idle.in"
    python3 scripts/bench/idle_tls_clients.py "$SCHEME://127.0.0.1:$GATEWAY_PORT/" "$IDLE" \
        --concurrency "$CONNECTIONS" <"$WORK/idle.in" >"$WORK/idle.out" 2>>"$WORK/idle.log" &
    IDLE_PID=$!
    STARTED_PIDS+=("$IDLE_PID")
    exec 4>"$WORK/idle.in"
    local tries=0
    until grep -q '^ready' "$WORK/idle.out" 2>/dev/null; do
        kill -0 "$IDLE_PID" 2>/dev/null || { echo "bench_instructions.sh: the idle clients failed ($WORK/idle.log)" >&2; exit 1; }
        tries=$((tries + 1))
        [ "$tries" -le 6000 ] || { echo "bench_instructions.sh: idle clients not ready in 600 s" >&2; exit 1; }
        sleep 0.1
    done
}
close_idle() {
    exec 4>&-
    wait "$IDLE_PID" 2>/dev/null || true
}

rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }

# Live heap bytes and RSS KiB per held connection: RESULT="HEAP RSS".
idle_memory_of() {
    local path=$1 counts="$WORK/malloc-$1.bin"
    start_path "$path" env MALLOC_COUNT_FILE="$counts" LD_PRELOAD="$WORK/malloc_count.so" "$WSGATE"
    live() { od -A n -t d8 -j 16 -N 8 "$counts" | tr -d ' '; }
    local h0 r0 h1 r1
    h0=$(live)
    r0=$(rss_kib "$GATEWAY_PID")
    hold_idle
    h1=$(live)
    r1=$(rss_kib "$GATEWAY_PID")
    close_idle
    stop_servers
    RESULT=$(awk -v h=$((h1 - h0)) -v r=$((r1 - r0)) -v n="$IDLE" 'BEGIN { printf "%.0f %.2f", h / n, r / n }')
}

# With --profile: a massif snapshot of the server while the connections are held.
idle_profile_of() {
    local path=$1 out="$WORK/massif-$1"
    start_path "$path" env LD_PRELOAD="$WORK/valgrind_sigsuspend.so" \
        valgrind --tool=massif --massif-out-file="$out" --depth=40 --threshold=0.2 "$WORK/wsgate-stripped"
    hold_idle
    vgdb --pid="$GATEWAY_PID" detailed_snapshot "$PROFILE-$path.massif" >/dev/null
    close_idle
    stop_servers
}

if [ "$IDLE" -gt 0 ]; then
    echo "wsgate memory per idle connection, $(date -u '+%Y-%m-%d %H:%M UTC'), $WSGATE"
    echo "$IDLE connections held ($SCHEME://, opened $CONNECTIONS at a time, one short echo each); growth per connection"
    echo
    echo "| path | live heap bytes / connection | RSS KiB / connection |"
    echo "|---|---|---|"
    for path in $PATHS; do
        CURRENT_PATH=$path
        log "$path: $IDLE idle connections"
        idle_memory_of "$path"
        read -r heap rss <<<"$RESULT"
        echo "| $path | $heap | $rss |"
        if [ -n "$PROFILE" ]; then
            log "$path: massif snapshot"
            idle_profile_of "$path"
        fi
    done
    exit 0
fi

if [ "$CONNECTS" -gt 0 ]; then
    echo "wsgate per-connection cost, $(date -u '+%Y-%m-%d %H:%M UTC'), $WSGATE"
    echo "$CONNECTS and $((2 * CONNECTS)) connections ($SCHEME://, $CONNECTIONS at a time), each upgraded, one $SIZE B echo, closed; per connection"
    echo
    echo "| path | instructions / connection | allocations / connection |"
else
    echo "wsgate per-message cost, $(date -u '+%Y-%m-%d %H:%M UTC'), $WSGATE"
    echo "$CONNECTIONS connections x $MESSAGES and x $((2 * MESSAGES)) echoes of $SIZE B; per round trip (2 frames through the gateway)"
    echo
    echo "(paths http, http-nginx: per proxied request of a 1 KiB file, $CONNECTIONS keep-alive connections x $MESSAGES and x $((2 * MESSAGES)) GETs)"
    echo
    echo "| path | instructions / msg | allocations / msg |"
fi
echo "|---|---|---|"
for path in $PATHS; do
    CURRENT_PATH=$path
    log "$path: allocations"
    allocations_of "$path"
    allocs=$RESULT
    instructions="-"
    if [ "$VALGRIND" -eq 1 ]; then
        log "$path: instructions (callgrind)"
        instructions_of "$path"
        instructions=$RESULT
    fi
    echo "| $path | $instructions | $allocs |"
done
