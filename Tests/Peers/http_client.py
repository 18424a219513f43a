#!/usr/bin/env python3
"""An HTTP client written with `httpx`, for wsgate's HTTP proxying tests. Prints one JSON line and
exits 0 (1 with an "error" key when something went wrong).

  http_client.py get URL [URL ...]        the URLs in turn on one keep-alive client:
                                          {"responses": [{"status", "headers", "body"}, ...]}
  http_client.py download URL SIZE [--rss-pid PID]
                                          streams the body, checks byte i == i % 251:
                                          {"status", "bytes", "pattern_ok", "rss_kib": [...]}
  http_client.py upload URL SIZE [--rss-pid PID]
                                          streams SIZE bytes (chunked) and returns the answer:
                                          {"status", "answer", "sha256", "rss_kib": [...]}
  http_client.py sse URL                  reads `data: I TIME` events as they arrive:
                                          {"status", "events", "lags": [arrival - TIME, ...]}
  http_client.py stall-read HOST PORT PATH SECONDS
                                          a raw socket (4 KiB receive buffer) that sends a GET and
                                          reads nothing for SECONDS, then reads to the end:
                                          {"bytes": read, "closed": whether the server had closed}
  http_client.py stall-body HOST PORT PATH
                                          a raw socket that announces a 1000-byte body, sends 10
                                          bytes and stops: {"answer": the server's first line}
  http_client.py slow-upload HOST PORT PATH
                                          a raw socket that POSTs a 20-byte body in two halves
                                          1.5 s apart: {"answer": the server's first line}
  http_client.py reset HOST PORT PATH     a raw socket that sends a keep-alive GET, reads its
                                          answer's status line and headers, then resets the
                                          connection (SO_LINGER 0): {"answer": that first line}

With --rss-pid, VmRSS of that process (KiB) is sampled every 8 MiB of body.
"""

import argparse
import hashlib
import json
import sys
import time

import httpx

STEP = 8 << 20
CHUNK = 64 * 1024
PATTERN = bytes(range(251)) * (CHUNK // 251 + 2)


def expected(offset, size):
    """Bytes offset..offset+size of a download (byte i is i % 251)."""
    pattern = PATTERN if size <= CHUNK else bytes(range(251)) * (size // 251 + 2)
    return pattern[offset % 251 : offset % 251 + size]


def rss(pid):
    if pid is None:
        return None
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def get(args):
    responses = []
    with httpx.Client(timeout=30) as client:
        for url in args.urls:
            response = client.get(url)
            body = response.content
            responses.append(
                {
                    "status": response.status_code,
                    "headers": [[k, v] for k, v in response.headers.items()],
                    "body": body.decode("utf-8", "replace") if len(body) < 65536 else f"<{len(body)} bytes>",
                }
            )
    return {"responses": responses}


def download(args):
    samples = [rss(args.rss_pid)]
    total = 0
    ok = True
    next_sample = STEP
    with httpx.Client(timeout=60) as client:
        with client.stream("GET", args.url) as response:
            for chunk in response.iter_raw():
                if chunk != expected(total, len(chunk)):
                    ok = False
                total += len(chunk)
                if total >= next_sample:
                    samples.append(rss(args.rss_pid))
                    next_sample += STEP
            status = response.status_code
    return {"status": status, "bytes": total, "pattern_ok": ok, "rss_kib": samples}


def upload(args):
    samples = [rss(args.rss_pid)]
    digest = hashlib.sha256()

    def body():
        sent = 0
        next_sample = STEP
        while sent < args.size:
            n = min(CHUNK, args.size - sent)
            chunk = PATTERN[sent % 251 : sent % 251 + n]
            digest.update(chunk)
            sent += n
            if sent >= next_sample:
                samples.append(rss(args.rss_pid))
                next_sample += STEP
            yield chunk

    with httpx.Client(timeout=120) as client:
        response = client.post(args.url, content=body())
    return {"status": response.status_code, "answer": response.json(), "sha256": digest.hexdigest(), "rss_kib": samples}


def sse(args):
    lags = []
    with httpx.Client(timeout=30) as client:
        with client.stream("GET", args.url) as response:
            for line in response.iter_lines():
                if line.startswith("data: "):
                    _, sent = line[len("data: ") :].split(" ")
                    lags.append(time.time() - float(sent))
            status = response.status_code
    return {"status": status, "events": len(lags), "lags": lags}


def stall_read(args):
    import socket

    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.connect((args.host, args.port))
    sock.sendall(f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\n\r\n".encode())
    time.sleep(args.seconds)
    sock.settimeout(10)
    total = 0
    closed = False
    try:
        while True:
            data = sock.recv(1 << 20)
            if not data:
                closed = True
                break
            total += len(data)
    except TimeoutError:
        closed = False
    except ConnectionResetError:
        closed = True
    return {"bytes": total, "closed": closed}


def read_until(sock, marker: bytes) -> bytes:
    """What the server sent until `marker` (or its close), waiting at most 30 s per read."""
    sock.settimeout(30)
    answer = b""
    while marker not in answer:
        data = sock.recv(4096)
        if not data:
            break
        answer += data
    return answer


def stall_body(args):
    import socket

    sock = socket.create_connection((args.host, args.port))
    sock.sendall(f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\nContent-Length: 1000\r\n\r\n".encode() + b"x" * 10)
    return {"answer": read_until(sock, b"\r\n").split(b"\r\n")[0].decode()}


def slow_upload(args):
    import socket

    sock = socket.create_connection((args.host, args.port))
    sock.sendall(f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\nContent-Length: 20\r\n\r\n".encode() + b"x" * 10)
    time.sleep(1.5)
    sock.sendall(b"y" * 10)
    return {"answer": read_until(sock, b"\r\n").split(b"\r\n")[0].decode()}


def reset(args):
    import socket
    import struct

    sock = socket.create_connection((args.host, args.port))
    sock.sendall(f"GET {args.path} HTTP/1.1\r\nHost: {args.host}\r\n\r\n".encode())
    answer = read_until(sock, b"\r\n\r\n")
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()
    return {"answer": answer.split(b"\r\n")[0].decode()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("get")
    p.add_argument("urls", nargs="+")
    for name in ("download", "upload"):
        p = commands.add_parser(name)
        p.add_argument("url")
        p.add_argument("size", type=int)
        p.add_argument("--rss-pid", type=int)
    p = commands.add_parser("sse")
    p.add_argument("url")
    for name in ("stall-read", "stall-body", "slow-upload", "reset"):
        p = commands.add_parser(name)
        p.add_argument("host")
        p.add_argument("port", type=int)
        p.add_argument("path")
        if name == "stall-read":
            p.add_argument("seconds", type=float)
    args = parser.parse_args()
    try:
        result = {
            "get": get,
            "download": download,
            "upload": upload,
            "sse": sse,
            "stall-read": stall_read,
            "stall-body": stall_body,
            "slow-upload": slow_upload,
            "reset": reset,
        }[args.command](args)
    except Exception as error:  # reported to the test as JSON
        print(json.dumps({"error": f"{type(error).__name__}: {error}"}))
        sys.exit(1)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
