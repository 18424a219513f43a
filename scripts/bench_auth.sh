#!/usr/bin/env bash
# The cost of authentication at the edge: handshakes per second and the gateway's CPU time per
# handshake on three routes of one gateway, in the same interleaved run (scripts/bench/auth_handshakes.py):
#   none   no auth
#   es256  auth.jwt with ES256 (a PEM public key)
#   rs256  auth.jwt with RS256 (a 2048-bit PEM public key)
#   hs256  auth.jwt with HS256 (an HMAC secret): what the auth step costs besides public-key crypto
# Tokens are made by PyJWT (Tests/Peers/auth_peer.py); the upstream is the built-in echo, so the
# figures are the gateway's alone. The client is Python asyncio on the same 2-core machine: it bounds
# handshakes/s; the CPU per handshake is the gateway's, read from /proc.
#
# usage: scripts/bench_auth.sh [--no-build] [--count N] [--rounds R] [--concurrency C]
#   SCRATCH=.build-release scripts/bench_auth.sh   builds in (or takes the binary from) another build folder
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

BUILD=1 COUNT=2000 ROUNDS=5 CONCURRENCY=16
while [ $# -gt 0 ]; do
    case "$1" in
        --no-build) BUILD=0 ;;
        --count) COUNT="$2"; shift ;;
        --rounds) ROUNDS="$2"; shift ;;
        --concurrency) CONCURRENCY="$2"; shift ;;
        *) echo "unknown option $1" >&2; exit 2 ;;
    esac
    shift
done

SCRATCH="${SCRATCH:-.build}"
if [ "$BUILD" = 1 ]; then
    swift build -c release --product wsgate --scratch-path "$SCRATCH"
fi
WSGATE="$(swift build -c release --scratch-path "$SCRATCH" --show-bin-path)/wsgate"
WORK="$(mktemp -d)"
trap 'kill "$GATEWAY_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT

python3 Tests/Peers/auth_peer.py keys --dir "$WORK/keys" >/dev/null
TOKENS="$(python3 Tests/Peers/auth_peer.py mint --dir "$WORK/keys" --spec \
    '{"es256": {"alg": "ES256", "key": "es256", "claims": {"sub": "bench"}, "exp_in": 3600},
      "rs256": {"alg": "RS256", "key": "rs", "claims": {"sub": "bench"}, "exp_in": 3600},
      "hs256": {"alg": "HS256", "key": "hmac", "claims": {"sub": "bench"}, "exp_in": 3600}}')"
token() { python3 -c 'import json,sys; print(json.loads(sys.argv[1])["tokens"][sys.argv[2]])' "$TOKENS" "$1"; }

PORT="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
ADMIN="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
cat >"$WORK/wsgate.yaml" <<YAML
listeners:
  - {name: public, address: 127.0.0.1:$PORT}
admin: {address: 127.0.0.1:$ADMIN}
limits: {max_pending_handshakes: 4096}
upstreams:
  echo: {protocol: echo}
routes:
  - {name: none, match: {path: /none}, upstream: echo}
  - name: es256
    match: {path: /es256}
    upstream: echo
    auth: {jwt: {algorithms: [ES256], pem_files: [$WORK/keys/es256.pem]}, claim_headers: {sub: X-User-Id}}
  - name: rs256
    match: {path: /rs256}
    upstream: echo
    auth: {jwt: {algorithms: [RS256], pem_files: [$WORK/keys/rs.pem]}, claim_headers: {sub: X-User-Id}}
  - name: hs256
    match: {path: /hs256}
    upstream: echo
    auth: {jwt: {algorithms: [HS256], hmac_secret_env: BENCH_HMAC_SECRET}, claim_headers: {sub: X-User-Id}}
YAML
BENCH_HMAC_SECRET="$(cat "$WORK/keys/hmac.secret")" "$WSGATE" run --config "$WORK/wsgate.yaml" --log-level error >"$WORK/wsgate.log" 2>&1 &
GATEWAY_PID=$!
for _ in $(seq 1 100); do
    curl -fs "http://127.0.0.1:$ADMIN/readyz" >/dev/null 2>&1 && break
    sleep 0.1
done

python3 scripts/bench/auth_handshakes.py --port "$PORT" --pid "$GATEWAY_PID" \
    --count "$COUNT" --rounds "$ROUNDS" --concurrency "$CONCURRENCY" \
    --scenario "none=/none=-" \
    --scenario "es256=/es256=$(token es256)" \
    --scenario "rs256=/rs256=$(token rs256)" \
    --scenario "hs256=/hs256=$(token hs256)" | tee "$WORK/results.jsonl"
python3 - "$WORK/results.jsonl" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
base = next(r for r in rows if r["scenario"] == "none")
print("\n| route | handshakes/s | gateway CPU µs/handshake | CPU vs none |")
print("| --- | --- | --- | --- |")
for r in rows:
    print(f"| {r['scenario']} | {r['handshakes_per_second']} | {r['cpu_us_per_handshake']} | "
          f"{r['cpu_us_per_handshake'] / base['cpu_us_per_handshake']:.2f}x (+{r['cpu_us_per_handshake'] - base['cpu_us_per_handshake']:.1f} µs) |")
PY
