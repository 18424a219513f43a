"""A fixed amount of echo traffic, for scripts/bench_instructions.sh: CONNECTIONS WebSockets to URL
(opened together), each sends MESSAGES binary messages of SIZE bytes one at a time and waits for
each echo, then all close. Exits non-zero when an echo is missing or differs."""

import argparse
import asyncio
import os

from websockets.asyncio.client import connect


async def one(url: str, messages: int, size: int) -> None:
    payload = os.urandom(size)
    async with connect(url, compression=None, max_size=None, ping_interval=None) as ws:
        for _ in range(messages):
            await ws.send(payload)
            if await ws.recv() != payload:
                raise SystemExit("echo differs")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--messages", type=int, required=True, help="per connection")
    parser.add_argument("--size", type=int, default=32)
    args = parser.parse_args()
    await asyncio.gather(*(one(args.url, args.messages, args.size) for _ in range(args.connections)))


asyncio.run(main())
