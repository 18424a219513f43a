"""A fixed number of WebSocket connection lifetimes, for scripts/bench_instructions.sh --connects:
COUNT connections to URL, at most CONCURRENCY at a time, each opened (TCP, TLS for wss://, the
upgrade), sent one SIZE-byte message and its echo awaited (so both legs are set up), then closed
with a close handshake. wss:// is not verified (the benchmark certificate is self-signed). Exits
non-zero when a connection fails or an echo differs."""

import argparse
import asyncio
import os
import ssl

from websockets.asyncio.client import connect


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()

    context = None
    if args.url.startswith("wss://"):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    payload = os.urandom(args.size)
    remaining = args.count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            async with connect(
                args.url, ssl=context, compression=None, ping_interval=None, open_timeout=120, close_timeout=120
            ) as ws:
                await ws.send(payload)
                if await ws.recv() != payload:
                    raise SystemExit("echo differs")

    await asyncio.gather(*(worker() for _ in range(args.concurrency)))


asyncio.run(main())
