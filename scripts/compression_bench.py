#!/usr/bin/env python3
"""permessage-deflate figures for wsgate (a benchmark, not a test).

Starts the gateway binary on a generated config with three routes to the built-in echo upstream:
/plain (compression disabled), /dedicated (context_takeover: true) and /shared (context_takeover:
false), then:

1. memory: for each route, on a fresh gateway process (freed memory stays in the allocator, so
   routes must not share one), opens N idle connections (raw sockets, offering permessage-deflate),
   reads the gateway's RSS from /proc before and after, then sends one compressed message on each
   connection and reads the echo ("after traffic"), and reads RSS again. Prints KiB per connection,
   and the difference to /plain.
2. throughput: C concurrent Python `websockets` clients echo M-byte JSON-like text messages for
   S seconds through /plain (no compression offered) and /dedicated (compression="deflate").
   The Python clients share the machine with the gateway, so compare the two rows with each other.

  scripts/compression_bench.py [--binary .build/release/wsgate] [--connections 2000]
                               [--clients 64] [--seconds 10] [--message-size 4096]
"""

import argparse
import asyncio
import base64
import contextlib
import os
import resource
import socket
import subprocess
import sys
import tempfile
import time

CONFIG = """
listeners:
  - name: public
    address: 127.0.0.1:{port}
admin:
  address: 127.0.0.1:{admin}
upstreams:
  echo: {{protocol: echo}}
routes:
  - name: plain
    match: {{path_prefix: /plain}}
    upstream: echo
    compression: {{enabled: false}}
  - name: dedicated
    match: {{path_prefix: /dedicated}}
    upstream: echo
    compression: {{context_takeover: true}}
  - name: shared
    match: {{path_prefix: /shared}}
    upstream: echo
    compression: {{context_takeover: false}}
defaults:
  limits: {{idle_timeout: 0, ping_interval: 0}}
  compression: {{min_size: 0}}
"""

# "Hello" compressed (RFC 7692 section 7.2.3.1), valid as the first message in every mode.
HELLO = bytes([0xF2, 0x48, 0xCD, 0xC9, 0xC9, 0x07, 0x00])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


async def open_idle(port: int, path: str):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
        ).encode()
    )
    head = await reader.readuntil(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 101"):
        raise RuntimeError(head.decode(errors="replace"))
    return reader, writer, b"permessage-deflate" in head.lower()


async def send_hello(reader, writer, compressed: bool):
    mask = os.urandom(4)
    payload = HELLO if compressed else b"Hello"
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    writer.write(bytes([0xC1 if compressed else 0x81, 0x80 | len(payload)]) + mask + masked)
    header = await reader.readexactly(2)
    await reader.readexactly(header[1] & 0x7F)


async def memory(binary_pid: int, port: int, connections: int, route: str) -> dict:
    await asyncio.sleep(1)
    before = rss_kib(binary_pid)
    conns = []
    for start in range(0, connections, 200):
        conns += await asyncio.gather(*(open_idle(port, f"/{route}") for _ in range(min(200, connections - start))))
    await asyncio.sleep(1)
    idle = rss_kib(binary_pid)
    for start in range(0, len(conns), 200):
        await asyncio.gather(*(send_hello(r, w, c) for r, w, c in conns[start : start + 200]))
    await asyncio.sleep(1)
    after = rss_kib(binary_pid)
    negotiated = sum(1 for _, _, c in conns if c)
    for _, w, _ in conns:
        w.close()
    return {
        route: {
            "negotiated": negotiated,
            "idle_kib_per_conn": (idle - before) / connections,
            "after_traffic_kib_per_conn": (after - before) / connections,
        }
    }


async def throughput(port: int, route: str, compress: bool, clients: int, seconds: float, size: int) -> float:
    from websockets.asyncio.client import connect

    unit = '{"user": %d, "event": "update", "payload": "abcdefghij"}, '
    message = "".join(unit % (i % 97) for i in range(size // 50 + 1))[:size]
    deadline = time.monotonic() + seconds
    counts = []

    async def one():
        count = 0
        async with connect(f"ws://127.0.0.1:{port}/{route}", compression="deflate" if compress else None, max_size=None) as ws:
            while time.monotonic() < deadline:
                await ws.send(message)
                await ws.recv()
                count += 1
        counts.append(count)

    await asyncio.gather(*(one() for _ in range(clients)))
    return sum(counts) / seconds


@contextlib.contextmanager
def running_gateway(binary: str):
    port, admin = free_port(), free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(CONFIG.format(port=port, admin=admin))
        config = f.name
    gateway = subprocess.Popen([binary, "run", "--config", config], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        yield gateway.pid, port
    finally:
        gateway.terminate()
        gateway.wait(timeout=10)
        os.unlink(config)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=".build/release/wsgate")
    parser.add_argument("--connections", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--message-size", type=int, default=4096)
    args = parser.parse_args()

    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    mem = {}
    for route in ("plain", "dedicated", "shared"):
        with running_gateway(args.binary) as (pid, port):
            mem.update(asyncio.run(memory(pid, port, args.connections, route)))
    print(f"memory: {args.connections} idle connections per route, a fresh gateway each (RSS from /proc)")
    print(f"{'route':<10} {'negotiated':>10} {'idle KiB/conn':>14} {'after traffic KiB/conn':>23} {'idle vs plain':>14} {'after vs plain':>15}")
    for route, m in mem.items():
        print(
            f"{route:<10} {m['negotiated']:>10} {m['idle_kib_per_conn']:>14.2f} {m['after_traffic_kib_per_conn']:>23.2f}"
            f" {m['idle_kib_per_conn'] - mem['plain']['idle_kib_per_conn']:>14.2f}"
            f" {m['after_traffic_kib_per_conn'] - mem['plain']['after_traffic_kib_per_conn']:>15.2f}"
        )
    print(f"\nthroughput: {args.clients} Python websockets clients, {args.message_size}-byte text, {args.seconds:.0f} s each")
    with running_gateway(args.binary) as (pid, port):
        for route, compress in (("plain", False), ("dedicated", True), ("shared", True)):
            rate = asyncio.run(throughput(port, route, compress, args.clients, args.seconds, args.message_size))
            print(f"{route:<10} compression={str(compress):<5} {rate:>10.0f} messages/s echoed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
