#!/usr/bin/env python3
"""What hostile peers cost the gateway (issue 11; a benchmark, not a test).

Starts the wsgate binary on a generated config (and Tests/Peers/ws_echo_server.py as the upstream),
then runs each scenario on a fresh gateway process and prints one line of figures for it:

  pingflood   a client that never reads streams 125-byte pings for S seconds:
              gateway RSS growth, pings sent, close code if the gateway closed it
  bombs       4 connections each send 2 frames of ~65 KB that inflate to 64 MiB, toward an upstream
              that stopped reading (/stall): RSS growth, bytes relayed upstream, how each ended
  budget      N connections (--connections, default 10,000) offering permessage-deflate with context
              takeover (own zlib streams) each send one compressed message, against max_memory: 256MiB:
              gateway RSS before and after, how many negotiated shared streams or were refused 503
  silent      3,000 TCP connections that never send a byte, against max_connections: 100 and
              max_pending_handshakes: 100, with the gateway's file limit lowered to 1,024
              (prlimit): connections the gateway holds, its CPU while they are held, and whether a
              normal client is served afterwards

  scripts/hostile_bench.py [--binary .build/release/wsgate] [--seconds 20] [--scenarios pingflood,bombs,silent]

Every loop is bounded in count and time; all traffic goes to 127.0.0.1.
"""

import argparse
import asyncio
import base64
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

CONFIG = """
listeners:
  - name: public
    address: 127.0.0.1:{port}
admin:
  address: 127.0.0.1:{admin}
upstreams:
  echo: {{protocol: echo}}
  app: {{endpoints: [127.0.0.1:{upstream}]}}
routes:
  - name: echo
    match: {{path_prefix: /echo}}
    upstream: echo
    compression: {{enabled: true, context_takeover: true}}
    backpressure: {{on_limit: {on_limit}}}
  - name: stall
    match: {{path_prefix: /stall}}
    upstream: app
    limits: {{max_message: 128MiB, max_frame: 128MiB}}
    backpressure: {{on_limit: {on_limit}}}
limits: {{max_connections: {max_connections}, max_pending_handshakes: {max_pending}, max_memory: {max_memory}}}
defaults:
  limits: {{handshake_timeout: 10s, ping_interval: 0}}
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def open_sockets(pid):
    count = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}").startswith("socket:"):
                count += 1
        except OSError:
            pass
    return count


class Gateway:
    def __init__(self, binary, upstream_port, on_limit="close", max_connections=0, max_pending=1024, nofile=None, max_memory="0"):
        self.port, self.admin = free_port(), free_port()
        self.config = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        self.config.write(CONFIG.format(port=self.port, admin=self.admin, upstream=upstream_port, on_limit=on_limit,
                                        max_connections=max_connections, max_pending=max_pending, max_memory=max_memory))
        self.config.close()
        command = [binary, "run", "--config", self.config.name]
        if nofile:
            command = ["prlimit", f"--nofile={nofile}:{nofile}"] + command
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.admin), timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise SystemExit("gateway did not start")

    def stop(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
        os.unlink(self.config.name)


def upgrade_request(path, extensions=None):
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", "Upgrade: websocket", "Connection: Upgrade",
             f"Sec-WebSocket-Key: {key}", "Sec-WebSocket-Version: 13"]
    if extensions:
        lines.append(f"Sec-WebSocket-Extensions: {extensions}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def masked_frame(opcode, payload, rsv1=False):
    mask = os.urandom(4)
    first = 0x80 | (0x40 if rsv1 else 0) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", first, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", first, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", first, 0x80 | 127, n)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else _mask_fast(payload, mask)
    return head + mask + body


def _mask_fast(payload, mask):
    repeated = (mask * (len(payload) // 4 + 1))[: len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(repeated, "big")).to_bytes(len(payload), "big")


def connect(port, path, extensions=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    # A small receive buffer, set before connecting (so the window is scaled for it): the kernel
    # absorbs little of what the gateway sends to a client that does not read.
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    s.sendall(upgrade_request(path, extensions))
    response = b""
    while b"\r\n\r\n" not in response:
        chunk = s.recv(4096)
        if not chunk:
            raise SystemExit(f"no upgrade on {path}")
        response += chunk
    if not response.startswith(b"HTTP/1.1 101"):
        raise SystemExit(f"refused: {response[:60]!r}")
    return s


def ping_flood(binary, upstream_port, seconds, on_limit):
    gateway = Gateway(binary, upstream_port, on_limit=on_limit)
    try:
        before = rss_kib(gateway.process.pid)
        s = connect(gateway.port, "/echo")
        s.settimeout(0.5)
        ping = masked_frame(0x9, b"p" * 125)
        burst = ping * 256
        sent = 0
        ended = "still open"
        peak = before
        deadline = time.time() + seconds
        next_sample = time.time() + 0.5
        while time.time() < deadline:
            try:
                s.sendall(burst)
                sent += 256
            except (socket.timeout, BlockingIOError):
                pass  # the gateway stopped reading: that is allowed
            except OSError as error:
                ended = f"closed by the gateway ({error.strerror or error})"
                break
            if time.time() >= next_sample:
                peak = max(peak, rss_kib(gateway.process.pid))
                next_sample = time.time() + 0.5
        peak = max(peak, rss_kib(gateway.process.pid))
        s.close()
        return (f"pingflood on_limit={on_limit}: {sent:,} pings in {seconds} s, {ended}, gateway RSS "
                f"{before // 1024} -> peak {peak // 1024} MiB (+{(peak - before) / 1024:.1f} MiB)")
    finally:
        gateway.stop()


def bombs(binary, upstream_port, on_limit):
    gateway = Gateway(binary, upstream_port, on_limit=on_limit)
    try:
        compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
        bomb = compressor.compress(bytes(64 << 20)) + compressor.flush(zlib.Z_SYNC_FLUSH)
        bomb = bomb[:-4]  # RFC 7692: without the 00 00 ff ff tail
        frame = masked_frame(0x2, bomb, rsv1=True)
        before = rss_kib(gateway.process.pid)
        sockets = [connect(gateway.port, "/stall", "permessage-deflate; client_no_context_takeover; server_no_context_takeover")
                   for _ in range(4)]
        for s in sockets:
            s.sendall(frame + frame)
        peak = before
        deadline = time.time() + 40
        ended = []
        for s in sockets:
            s.settimeout(0.2)
        while time.time() < deadline and len(ended) < len(sockets):
            peak = max(peak, rss_kib(gateway.process.pid))
            for s in sockets:
                if s in [e[0] for e in ended]:
                    continue
                try:
                    data = s.recv(4096)
                    if data and data[0] == 0x88:
                        ended.append((s, int.from_bytes(data[2:4], "big"), time.time()))
                except socket.timeout:
                    pass
            time.sleep(0.05)
        for s in sockets:
            s.close()
        codes = sorted(code for _, code, _ in ended)
        return (f"bombs on_limit={on_limit}: 4 connections x 2 x 64 MiB (frame {len(bomb):,} B), gateway RSS "
                f"{before // 1024} -> peak {peak // 1024} MiB (+{(peak - before) / 1024:.1f} MiB), closes {codes or 'none within 40 s'}")
    finally:
        gateway.stop()


def budget(binary, upstream_port, connections):
    import resource
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    gateway = Gateway(binary, upstream_port, max_memory="256MiB")
    try:
        before = rss_kib(gateway.process.pid)
        hello = masked_frame(0x1, bytes([0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00]), rsv1=True)
        held, shared, refused, failed = [], 0, 0, 0
        peak = before
        started = time.time()
        for index in range(connections):
            try:
                s = socket.create_connection(("127.0.0.1", gateway.port), timeout=10)
                s.sendall(upgrade_request("/echo", "permessage-deflate"))
                response = b""
                while b"\r\n\r\n" not in response:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    response += chunk
                if response.startswith(b"HTTP/1.1 503"):
                    refused += 1
                    s.close()
                    continue
                if b"server_no_context_takeover" in response:
                    shared += 1
                s.sendall(hello)
                s.recv(64)
                held.append(s)
            except OSError:
                failed += 1
            if index % 500 == 0:
                peak = max(peak, rss_kib(gateway.process.pid))
        time.sleep(0.5)
        peak = max(peak, rss_kib(gateway.process.pid))
        for s in held:
            s.close()
        return (f"budget: {connections:,} compressed connections in {time.time() - started:.0f} s against max_memory 256 MiB: "
                f"{len(held):,} held ({shared:,} on shared zlib streams), {refused:,} refused 503, {failed} failed; "
                f"gateway RSS {before // 1024} -> peak {peak // 1024} MiB")
    finally:
        gateway.stop()


def silent(binary, upstream_port):
    gateway = Gateway(binary, upstream_port, max_connections=100, max_pending=100, nofile=1024)
    try:
        cpu_before = cpu_seconds(gateway.process.pid)
        held = []
        started = time.time()
        for _ in range(3000):
            try:
                held.append(socket.create_connection(("127.0.0.1", gateway.port), timeout=2))
            except OSError:
                pass
        time.sleep(2)
        sockets_held = open_sockets(gateway.process.pid)
        window_start, cpu_start = time.time(), cpu_seconds(gateway.process.pid)
        time.sleep(3)
        cpu_share = (cpu_seconds(gateway.process.pid) - cpu_start) / (time.time() - window_start)
        for s in held:
            s.close()
        time.sleep(1)
        s = connect(gateway.port, "/echo")
        s.sendall(masked_frame(0x1, b"served"))
        served = s.recv(64)[2:] == b"served"
        s.close()
        total_cpu = cpu_seconds(gateway.process.pid) - cpu_before
        return (f"silent: {len(held):,} connections opened in {time.time() - started:.1f} s, gateway holds {sockets_held} sockets "
                f"(listeners and admin included), CPU {cpu_share * 100:.1f} % of a core while they are held "
                f"({total_cpu:.2f} s in all), normal client served: {served}")
    finally:
        gateway.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", default=os.path.join(ROOT, ".build/release/wsgate"))
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--scenarios", default="pingflood,bombs,budget,silent")
    parser.add_argument("--connections", type=int, default=10_000)
    args = parser.parse_args()
    upstream = subprocess.Popen([sys.executable, os.path.join(ROOT, "Tests/Peers/ws_echo_server.py")],
                                stdout=subprocess.PIPE, text=True)
    try:
        line = upstream.stdout.readline()
        upstream_port = int(line.rsplit(":", 1)[1])
        for scenario in args.scenarios.split(","):
            if scenario == "pingflood":
                for on_limit in ("close", "pause"):
                    print(ping_flood(args.binary, upstream_port, args.seconds, on_limit), flush=True)
            elif scenario == "bombs":
                for on_limit in ("close", "pause"):
                    print(bombs(args.binary, upstream_port, on_limit), flush=True)
            elif scenario == "budget":
                print(budget(args.binary, upstream_port, args.connections), flush=True)
            elif scenario == "silent":
                print(silent(args.binary, upstream_port), flush=True)
    finally:
        upstream.terminate()
        upstream.wait(timeout=10)


if __name__ == "__main__":
    main()
