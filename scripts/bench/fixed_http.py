"""A fixed amount of keep-alive HTTP traffic, for scripts/bench_instructions.sh: CONNECTIONS
HTTP/1.1 connections to HOST:PORT (opened together), each sends REQUESTS `GET PATH` one at a time
and reads each answer (Content-Length framed), then all close. Exits non-zero on an answer that is
not 200 or a body of another length than the first one's."""

import argparse
import asyncio


async def one(host: str, port: int, path: str, requests: int) -> int:
    reader, writer = await asyncio.open_connection(host, port)
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: fixed_http\r\nAccept: */*\r\n\r\n".encode()
    size = -1
    for _ in range(requests):
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 200 "):
            raise SystemExit(f"answer: {lines[0]!r}")
        length = next((int(v) for k, _, v in (l.partition(":") for l in lines[1:]) if k.lower() == "content-length"), None)
        if length is None:
            raise SystemExit("an answer without Content-Length")
        await reader.readexactly(length)
        if size not in (-1, length):
            raise SystemExit(f"body of {length} bytes after {size}")
        size = length
    writer.close()
    await writer.wait_closed()
    return size


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--requests", type=int, required=True, help="per connection")
    args = parser.parse_args()
    await asyncio.gather(*(one(args.host, args.port, args.path, args.requests) for _ in range(args.connections)))


asyncio.run(main())
