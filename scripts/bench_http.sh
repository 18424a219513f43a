#!/usr/bin/env bash
# HTTP proxying benchmark (issue 13): wsgate against nginx as the same reverse proxy, in one run, on
# loopback. The upstream is nginx serving a static 1 KiB file (the fastest upstream to hand, and
# the same for both proxies); the load is wrk (Debian's package) with 64 keep-alive connections.
#   1. installs wrk and nginx from Debian if missing (apt-get);
#   2. builds wsgate in release mode (unless --no-build);
#   3. starts the upstream (nginx, static file, port 18101), wsgate with an `http` upstream
#      (config generated, port 18180) and nginx as a keep-alive proxy (port 18181);
#   4. runs wrk against each target in turn (direct: the upstream itself), --repeat times,
#      measuring each target's user+system CPU from /proc during the run;
#   5. prints one table: requests/s, latency p50/p99, CPU s per million requests, and the
#      wsgate/nginx ratios (medians over the rounds).
#
# usage: scripts/bench_http.sh [--duration 10s] [--connections 64] [--threads 2] [--repeat 1]
#                              [--targets "direct wsgate nginx"] [--out DIR] [--no-build]
#                              [--wsgate PATH/TO/wsgate]   (another build, e.g. before/after; implies --no-build)
# Also reached as `scripts/bench.sh --http [options]`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if ! command -v swift >/dev/null 2>&1 && [ -x /opt/swift/usr/bin/swift ]; then
    export PATH="/opt/swift/usr/bin:$PATH"
fi

DURATION=10s
CONNECTIONS=64
THREADS=2
REPEAT=1
TARGETS="direct wsgate nginx"
OUT=""
BUILD=1
WSGATE=""
while [ $# -gt 0 ]; do
    case "$1" in
        --duration) DURATION="$2"; shift ;;
        --connections) CONNECTIONS="$2"; shift ;;
        --threads) THREADS="$2"; shift ;;
        --repeat) REPEAT="$2"; shift ;;
        --targets) TARGETS="$2"; shift ;;
        --out) OUT="$2"; shift ;;
        --no-build) BUILD=0 ;;
        --wsgate) WSGATE="$2"; BUILD=0; shift ;;
        -h|--help) sed -n '2,18p' "$0"; exit 0 ;;
        *) echo "bench_http.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

UPSTREAM_PORT=18101
WSGATE_PORT=18180
WSGATE_ADMIN_PORT=18190
NGINX_PORT=18181
WORKERS=$(nproc)   # nginx workers per server; wsgate runs one event loop per core
FILE=/1k.bin

# log, stop_servers (STARTED_PIDS), install_debian_package, port_free, wait_port, children_of.
source scripts/bench/lib.sh
NGINX=$(command -v nginx || echo /usr/sbin/nginx)
install_debian_package wrk "$(command -v wrk || echo /usr/bin/wrk)"
install_debian_package nginx "$NGINX"

if [[ " $TARGETS " == *" wsgate "* ]]; then
    if [ "$BUILD" -eq 1 ]; then
        log "swift build -c release --product wsgate"
        swift build -c release --product wsgate >&2
    fi
    WSGATE=${WSGATE:-"$(swift build -c release --show-bin-path)/wsgate"}
    [ -x "$WSGATE" ] || { echo "bench_http.sh: $WSGATE missing; run without --no-build" >&2; exit 1; }
fi

WORK=$(mktemp -d /tmp/wsgate-bench-http.XXXXXX)
OUT=${OUT:-$WORK}
mkdir -p "$OUT"
RESULTS="$OUT/results.tsv"
printf 'round\ttarget\trequests_per_s\tp50_ms\tp99_ms\tcpu_s\trequests\terrors\n' >"$RESULTS"

cleanup() {
    stop_servers
    [ "$OUT" = "$WORK" ] || rm -rf "$WORK"
}
trap cleanup EXIT

require_free_ports $UPSTREAM_PORT $WSGATE_PORT $WSGATE_ADMIN_PORT $NGINX_PORT

# user+system CPU seconds of the given pids (fields 14 and 15 of /proc/PID/stat, in clock ticks).
cpu_seconds() {
    local ticks=0 pid rest
    for pid in "$@"; do
        rest=$(cat "/proc/$pid/stat" 2>/dev/null) || continue
        rest=${rest##*") "}
        set -- $rest
        ticks=$((ticks + ${12} + ${13}))
    done
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.3f", t / hz }'
}

# nginx NAME PORT BODY: an nginx under its own prefix with BODY in its http{} block; sets
# NGINX_PIDS to "master workers...".
start_nginx() {
    local name=$1 port=$2 body=$3 dir="$WORK/$1"
    mkdir -p "$dir/temp" "$dir/www"
    cat >"$dir/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $dir/nginx.pid;
error_log $OUT/$name-error.log warn;
events { worker_connections 4096; }
http {
    access_log off;
    client_body_temp_path $dir/temp/body;
    proxy_temp_path $dir/temp/proxy;
    fastcgi_temp_path $dir/temp/fastcgi;
    uwsgi_temp_path $dir/temp/uwsgi;
    scgi_temp_path $dir/temp/scgi;
    keepalive_requests 1000000;
$body
}
CONF
    "$NGINX" -c "$dir/nginx.conf" -p "$dir" -e "$OUT/$name-error.log" >>"$OUT/$name.log" 2>&1 &
    local master=$!
    STARTED_PIDS+=("$master")
    wait_port "$port"
    NGINX_PIDS="$master $(children_of "$master" | tr '\n' ' ')"
}

declare -A PIDS
start_upstream() {
    mkdir -p "$WORK/upstream/www"
    head -c 1024 /dev/urandom >"$WORK/upstream/www$FILE"
    # nginx's workers may run as another user (nobody, when started as root): let them read it.
    chmod a+rx "$WORK" "$WORK/upstream" "$WORK/upstream/www"
    chmod a+r "$WORK/upstream/www$FILE"
    start_nginx upstream "$UPSTREAM_PORT" "    server {
        listen 127.0.0.1:$UPSTREAM_PORT backlog=1024;
        root $WORK/upstream/www;
    }"
    PIDS[direct]=$NGINX_PIDS
}

start_wsgate() {
    cat >"$WORK/wsgate.yaml" <<YAML
listeners:
  - name: bench
    address: 127.0.0.1:$WSGATE_PORT
admin:
  address: 127.0.0.1:$WSGATE_ADMIN_PORT
upstreams:
  files:
    protocol: http
    endpoints: [127.0.0.1:$UPSTREAM_PORT]
    # The pool's defaults (nginx's proxy below keeps 64 idle upstream connections per worker).
routes:
  - name: files
    upstream: files
YAML
    "$WSGATE" run --config "$WORK/wsgate.yaml" --log-level warning >>"$OUT/wsgate.log" 2>&1 &
    PIDS[wsgate]=$!
    STARTED_PIDS+=("$!")
    wait_port "$WSGATE_PORT"
}

start_nginx_proxy() {
    start_nginx nginx-proxy "$NGINX_PORT" "    upstream files {
        server 127.0.0.1:$UPSTREAM_PORT;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:$NGINX_PORT backlog=1024;
        location / {
            proxy_pass http://files;
            proxy_http_version 1.1;
            proxy_set_header Connection \"\";
            proxy_set_header Host \$host;
        }
    }"
    PIDS[nginx]=$NGINX_PIDS
}

port_of() {
    case "$1" in
        direct) echo "$UPSTREAM_PORT" ;;
        wsgate) echo "$WSGATE_PORT" ;;
        nginx) echo "$NGINX_PORT" ;;
        *) echo "bench_http.sh: unknown target $1" >&2; exit 2 ;;
    esac
}

# wrk's latency line ("50%    1.23ms") in milliseconds.
latency_ms() {
    awk -v p="$1" '$1 == p {
        v = $2; unit = v; sub(/[0-9.]+/, "", unit); sub(/[a-z]+$/, "", v)
        if (unit == "us") v /= 1000; else if (unit == "s") v *= 1000; else if (unit == "m") v *= 60000
        printf "%.3f", v }'
}

for round in $(seq 1 "$REPEAT"); do
    start_upstream
    for target in $TARGETS; do
        case "$target" in
            wsgate) start_wsgate ;;
            nginx) start_nginx_proxy ;;
        esac
    done
    for target in $TARGETS; do
        url="http://127.0.0.1:$(port_of "$target")$FILE"
        curl -fsS -o /dev/null "$url" || { echo "bench_http.sh: $target does not serve $url" >&2; exit 1; }
        log "round $round/$REPEAT: wrk -t$THREADS -c$CONNECTIONS -d$DURATION against $target ($url)"
        # A short warm-up opens the connections (and the proxies' upstream pools).
        wrk -t"$THREADS" -c"$CONNECTIONS" -d1s "$url" >/dev/null
        before=$(cpu_seconds ${PIDS[$target]})
        wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency "$url" >"$OUT/wrk-$round-$target.txt"
        after=$(cpu_seconds ${PIDS[$target]})
        report="$OUT/wrk-$round-$target.txt"
        rps=$(awk '/^Requests\/sec:/ { print $2 }' "$report")
        requests=$(awk '/requests in/ { print $1 }' "$report")
        errors=$(awk '/Non-2xx or 3xx responses:/ { n += $NF } /Socket errors:/ { gsub(/,/, ""); n += $4 + $6 + $8 + $10 } END { print n + 0 }' "$report")
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$round" "$target" "$rps" \
            "$(latency_ms 50% <"$report")" "$(latency_ms 99% <"$report")" \
            "$(awk -v a="$after" -v b="$before" 'BEGIN { printf "%.3f", a - b }')" "$requests" "$errors" >>"$RESULTS"
    done
    stop_servers
done

{
    echo "wsgate HTTP benchmark, $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(uname -sr); wrk $CONNECTIONS keep-alive connections, $THREADS threads, $DURATION per run, $REPEAT round(s), 1 KiB static file from nginx $("$NGINX" -v 2>&1 | sed 's/.*nginx\///') ($WORKERS workers); wsgate on $WORKERS event loops, nginx proxy with $WORKERS workers and a keep-alive upstream pool"
    echo
    awk -F'\t' -v subject=wsgate -v peer=nginx '
        NR == 1 { next }
        { n[$2]++; rps[$2, n[$2]] = $3; p50[$2, n[$2]] = $4; p99[$2, n[$2]] = $5
          cpu[$2, n[$2]] = ($7 > 0 ? $6 * 1e6 / $7 : 0); err[$2] += $8; if (!($2 in seen)) { seen[$2] = 1; order[++targets] = $2 } }
        function median(a, t, count,   i, j, v, tmp) {
            for (i = 1; i <= count; i++) v[i] = a[t, i]
            for (i = 1; i <= count; i++) for (j = i + 1; j <= count; j++) if (v[j] < v[i]) { tmp = v[i]; v[i] = v[j]; v[j] = tmp }
            return count % 2 ? v[(count + 1) / 2] : (v[count / 2] + v[count / 2 + 1]) / 2
        }
        END {
            printf "| %-28s |", "figure"
            for (i = 1; i <= targets; i++) printf " %12s |", order[i]
            if ((subject in seen) && (peer in seen)) printf " %12s |", subject "/" peer
            printf "\n|%s|", "------------------------------"
            for (i = 1; i <= targets; i++) printf "%s|", "--------------"
            if ((subject in seen) && (peer in seen)) printf "%s|", "--------------"
            printf "\n"
            split("requests/s|p50 latency ms|p99 latency ms|server CPU s / M requests|errors", names, "|")
            for (f = 1; f <= 5; f++) {
                printf "| %-28s |", names[f]
                for (i = 1; i <= targets; i++) {
                    t = order[i]
                    if (f == 1) v[t] = median(rps, t, n[t]); else if (f == 2) v[t] = median(p50, t, n[t])
                    else if (f == 3) v[t] = median(p99, t, n[t]); else if (f == 4) v[t] = median(cpu, t, n[t]); else v[t] = err[t]
                    printf (f == 1 ? " %12.0f |" : (f == 5 ? " %12d |" : " %12.3f |")), v[t]
                }
                if ((subject in seen) && (peer in seen)) {
                    if (f < 5 && v[peer] > 0) printf " %12.2f |", v[subject] / v[peer]; else printf " %12s |", "-"
                }
                printf "\n"
            }
        }' "$RESULTS"
    echo
    echo "server CPU s / M requests: user+system CPU of the target's processes (nginx: master and workers; direct: the upstream) during the run, per million requests."
    echo "wrk, the upstream and the proxy share the machine's cores: compare within a run. Raw: $RESULTS and $OUT/wrk-*.txt"
} | tee "$OUT/table.md"
