#!/usr/bin/env bash
# TLS figures for wsgate against nginx (Debian's package), measured in the same run with the same
# clients and the same ECDSA P-256 certificate, reported as ratios:
#   1. TLS handshake rate: `openssl s_time -new` (full TLS 1.3 handshakes, no resumption, one
#      client process) for DURATION seconds against each server, ROUNDS rounds, alternating.
#   2. Idle-connection memory: N idle wss:// WebSocket connections (Python websockets,
#      scripts/bench/idle_tls_clients.py), each proxied to the same upstream (Tests/Peers/
#      ws_echo_server.py); RSS growth of the proxy (nginx: master + workers) divided by N.
# Both servers get 2 workers (wsgate: one event loop per core; nginx: worker_processes 2).
#
# Usage: scripts/bench-tls.sh [N=2000] [DURATION=10] [ROUNDS=3]
# Needs: a release build (swift build -c release --product wsgate; WSGATE_BIN overrides the binary),
# openssl, python3 with websockets;
# installs nginx with apt-get when missing.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
N="${1:-2000}"; DURATION="${2:-10}"; ROUNDS="${3:-3}"
WSGATE_PORT=28443; NGINX_PORT=28444; UPSTREAM_PORT=28001; ADMIN_PORT=28901

if ! command -v nginx >/dev/null 2>&1 && [ ! -x /usr/sbin/nginx ]; then
    echo "==> installing nginx (Debian package)"
    SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nginx </dev/null
fi
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
WSGATE="${WSGATE_BIN:-.build/release/wsgate}"
[ -x "$WSGATE" ] || { echo "error: build first: swift build -c release --product wsgate" >&2; exit 1; }

WORK=$(mktemp -d /tmp/wsgate-bench-tls.XXXXXX)
PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; rm -rf "$WORK"; }
trap cleanup EXIT

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" -keyout "$WORK/key.pem" -out "$WORK/cert.pem" 2>/dev/null

python3 -u Tests/Peers/ws_echo_server.py --port "$UPSTREAM_PORT" >"$WORK/upstream.log" 2>&1 &
PIDS+=($!)

cat >"$WORK/wsgate.yaml" <<YAML
listeners:
  - name: tls
    address: 127.0.0.1:$WSGATE_PORT
    tls:
      certificates: [{cert: $WORK/cert.pem, key: $WORK/key.pem}]
      watch_interval: 0
admin: {address: 127.0.0.1:$ADMIN_PORT}
upstreams:
  app: {endpoints: [127.0.0.1:$UPSTREAM_PORT]}
routes:
  - match: {path_prefix: /}
    upstream: app
defaults:
  limits: {idle_timeout: 0, ping_interval: 0}
YAML
"$WSGATE" run --config "$WORK/wsgate.yaml" --log-level warning >"$WORK/wsgate.log" 2>&1 &
WSGATE_PID=$!; PIDS+=($WSGATE_PID)

mkdir -p "$WORK/nginx/logs"
cat >"$WORK/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log warn;
events { worker_connections 20000; }
http {
    access_log off;
    client_body_temp_path $WORK/nginx; proxy_temp_path $WORK/nginx; fastcgi_temp_path $WORK/nginx;
    uwsgi_temp_path $WORK/nginx; scgi_temp_path $WORK/nginx;
    server {
        listen 127.0.0.1:$NGINX_PORT ssl;
        ssl_certificate $WORK/cert.pem;
        ssl_certificate_key $WORK/key.pem;
        ssl_protocols TLSv1.2 TLSv1.3;
        location / {
            proxy_pass http://127.0.0.1:$UPSTREAM_PORT;
            proxy_http_version 1.1;
            proxy_set_header Upgrade \$http_upgrade;
            proxy_set_header Connection "upgrade";
            proxy_read_timeout 3600s;
        }
    }
}
CONF
"$NGINX" -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g "daemon off;" &
NGINX_PID=$!; PIDS+=($NGINX_PID)

wait_port() { for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done; echo "port $1 not up" >&2; exit 1; }
wait_port "$UPSTREAM_PORT"; wait_port "$WSGATE_PORT"; wait_port "$NGINX_PORT"

# RSS in KiB of a process and its children (nginx master + workers).
rss_tree() { ps -o rss= --pid "$1" --ppid "$1" | awk '{s+=$1} END {print s}'; }

handshakes() {  # port -> full handshakes per wall-clock second
    local start end count
    start=$(date +%s.%N)
    count=$(openssl s_time -connect "127.0.0.1:$1" -new -time "$DURATION" 2>/dev/null \
        | awk '/connections in .* real seconds/ {print $1; exit}')
    end=$(date +%s.%N)
    awk -v c="$count" -v s="$start" -v e="$end" 'BEGIN {printf "%.0f", c / (e - s)}'
}

echo "==> handshake rate: openssl s_time -new, ${DURATION}s x $ROUNDS rounds each, alternating"
declare -a W=() X=()
for r in $(seq "$ROUNDS"); do
    W+=("$(handshakes $WSGATE_PORT)"); X+=("$(handshakes $NGINX_PORT)")
    echo "    round $r: wsgate ${W[-1]}/s  nginx ${X[-1]}/s"
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
WM=$(median "${W[@]}"); XM=$(median "${X[@]}")

idle_memory() {  # pid port -> KiB per connection
    local pid=$1 port=$2 before after
    before=$(rss_tree "$pid")
    coproc CLIENTS { python3 -u scripts/bench/idle_tls_clients.py "wss://127.0.0.1:$port/echo" "$N"; }
    read -r line <&"${CLIENTS[0]}"
    [[ "$line" == "ready $N" ]] || { echo "clients: $line" >&2; exit 1; }
    after=$(rss_tree "$pid")
    echo "done" >&"${CLIENTS[1]}"; wait "$CLIENTS_PID" || true
    awk -v a="$after" -v b="$before" -v n="$N" 'BEGIN {printf "%.1f", (a - b) / n}'
}
echo "==> idle memory: $N idle wss connections each"
WMEM=$(idle_memory "$WSGATE_PID" "$WSGATE_PORT"); echo "    wsgate: ${WMEM} KiB/connection (RSS growth)"
XMEM=$(idle_memory "$NGINX_PID" "$NGINX_PORT"); echo "    nginx:  ${XMEM} KiB/connection (RSS growth, master + workers)"

echo "==> results (median of $ROUNDS rounds)"
awk -v w="$WM" -v x="$XM" 'BEGIN {printf "TLS handshakes/s: wsgate %.0f, nginx %.0f, wsgate/nginx = %.2f\n", w, x, w / x}'
awk -v w="$WMEM" -v x="$XMEM" 'BEGIN {printf "idle wss KiB/connection: wsgate %.1f, nginx %.1f, wsgate/nginx = %.2f\n", w, x, w / x}'
