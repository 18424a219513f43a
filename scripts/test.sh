#!/usr/bin/env bash
# Runs wsgate's test suite on a fresh machine:
#   1. makes sure the Python packages of the test peers in Tests/Peers (websockets, prometheus_client, hypercorn, PyJWT,
#      cryptography, aiohttp, httpx, playwright) are importable, installing the pinned versions from Tests/Peers/requirements.txt if not;
#   2. swift build --build-tests   (builds wsgate, examples/echo-upstream and the tests);
#   3. swift test --disable-swift-testing "$@" (XCTest only; its exit code is this script's).
# Extra arguments go to `swift test`, e.g. scripts/test.sh --filter PeerSelfTests
# Set WSGATE_PYTHON to use another Python than `python3`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${WSGATE_PYTHON:-python3}"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore

# The peers need websockets 15 or later (asyncio API with send(text=...) and connect(proxy=...)),
# prometheus_client's parser (the /metrics tests), hypercorn (the HTTP/2 upstream of the websocket-h2 tests),
# PyJWT with cryptography (the tokens, JWKS server and auth app of the auth tests), aiohttp and httpx (the HTTP
# proxy tests' app and client; aiohttp also runs the chat example) and playwright (drives Debian's chromium in
# the chat example test; no browser download).
websockets_ok() {
    "$PYTHON" - <<'PY' 2>/dev/null
import sys
import websockets
import prometheus_client.parser
import hypercorn
import h2.connection
import hyperframe.frame
import jwt
import cryptography
import aiohttp
import httpx
import playwright.sync_api
sys.exit(0 if int(websockets.__version__.split(".")[0]) >= 15 else 1)
PY
}

if ! command -v "$PYTHON" >/dev/null 2>&1; then
    echo "error: $PYTHON not found; the test peers need Python 3.11+ (install python3 and python3-pip)" >&2
    exit 1
fi
if websockets_ok; then
    echo "==> Python websockets present ($("$PYTHON" -c 'import websockets; print(websockets.__version__)'))"
else
    echo "==> installing Python test dependencies from Tests/Peers/requirements.txt"
    if ! "$PYTHON" -m pip install --quiet -r Tests/Peers/requirements.txt; then
        # A distribution's own Python may refuse (PEP 668, "externally managed environment").
        "$PYTHON" -m pip install --quiet --break-system-packages -r Tests/Peers/requirements.txt
    fi
    websockets_ok || { echo "error: Python websockets, prometheus_client, hypercorn, PyJWT, cryptography, aiohttp, httpx or playwright still not importable" >&2; exit 1; }
fi

echo "==> swift build --build-tests"
swift build --build-tests

# The suite is XCTest only: without Swift Testing's own (empty) run, the last summary line is XCTest's.
echo "==> swift test --disable-swift-testing $*"
set +e
swift test --disable-swift-testing "$@"
status=$?
set -e
exit "$status"
