#!/usr/bin/env python3
"""Handshakes per second and the gateway's CPU per handshake, for routes with and without auth.

Usage: auth_handshakes.py --port P --pid PID --scenario NAME=PATH=TOKEN ... [--count N] [--concurrency C]
                          [--rounds R]

Each scenario is a route path and the bearer token sent to it ("-" for none). The scenarios run in
turn, round after round (interleaved, so a machine whose load drifts affects them alike). A
handshake is: TCP connect, the upgrade request with `Authorization: Bearer TOKEN`, the 101 read,
a masked close frame sent, the connection closed. The gateway's CPU time (user + system, from
/proc/PID/stat) is read before and after each scenario's batch. Prints one JSON line per scenario
with the medians over the rounds: handshakes_per_second, cpu_us_per_handshake.
"""

import argparse
import asyncio
import base64
import json
import os
import statistics
import time

CLOSE_FRAME = bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2])  # masked close 1000


def cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def handshake(port: int, path: str, token: str) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    auth = f"Authorization: Bearer {token}\r\n" if token != "-" else ""
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n{auth}\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(f"not upgraded: {head[:80]!r}")
    writer.write(CLOSE_FRAME)
    await writer.drain()
    writer.close()
    try:
        await writer.wait_closed()
    except ConnectionError:
        pass


async def batch(port: int, path: str, token: str, count: int, concurrency: int) -> float:
    remaining = count

    async def worker() -> None:
        nonlocal remaining
        while remaining > 0:
            remaining -= 1
            await handshake(port, path, token)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--pid", type=int, required=True)
    parser.add_argument("--scenario", action="append", required=True)
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    scenarios = [item.split("=", 2) for item in arguments.scenario]
    results: dict[str, list[tuple[float, float]]] = {name: [] for name, _, _ in scenarios}
    for name, path, token in scenarios:  # warm-up: keys loaded, collections built, pools warm
        await batch(arguments.port, path, token, 200, arguments.concurrency)
    for _ in range(arguments.rounds):
        for name, path, token in scenarios:
            before = cpu_seconds(arguments.pid)
            elapsed = await batch(arguments.port, path, token, arguments.count, arguments.concurrency)
            cpu = cpu_seconds(arguments.pid) - before
            results[name].append((arguments.count / elapsed, cpu / arguments.count * 1e6))
    for name, runs in results.items():
        print(
            json.dumps(
                {
                    "scenario": name,
                    "handshakes_per_second": round(statistics.median(r[0] for r in runs)),
                    "cpu_us_per_handshake": round(statistics.median(r[1] for r in runs), 1),
                    "rounds": len(runs),
                    "count": arguments.count,
                }
            ),
            flush=True,
        )


if __name__ == "__main__":
    asyncio.run(main())
