#!/usr/bin/env python3
"""Opens N idle wss:// (or ws://) WebSocket connections (Python websockets, no verification: the
benchmark certificate is self-signed), prints `ready N` once all are upgraded, holds them until stdin
closes or a line arrives, then closes them. Used by scripts/bench-tls.sh and
scripts/bench_instructions.sh --idle to measure per-connection memory.

Usage: idle_tls_clients.py URL N [--concurrency 50]
"""

import argparse
import asyncio
import ssl
import sys

from websockets.asyncio.client import connect


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("count", type=int)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()

    context = None
    if args.url.startswith("wss://"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    gate = asyncio.Semaphore(args.concurrency)
    connections = []

    async def open_one():
        async with gate:
            ws = await connect(args.url, ssl=context, ping_interval=None, compression=None, open_timeout=60)
            connections.append(ws)

    await asyncio.gather(*(open_one() for _ in range(args.count)))
    # One round trip on each, so both legs are fully set up before memory is read.
    for ws in connections:
        await ws.send("x")
    for ws in connections:
        await ws.recv()
    print(f"ready {len(connections)}", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await asyncio.gather(*(ws.close() for ws in connections), return_exceptions=True)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
