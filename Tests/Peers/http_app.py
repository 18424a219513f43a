#!/usr/bin/env python3
"""An HTTP app written with `aiohttp`, for wsgate's HTTP proxying tests: the kinds of answer a real
app behind the gateway gives, and counters of what reached it.

Usage: http_app.py [--host 127.0.0.1] [--port 0]

Prints exactly one line, `listening on HOST:PORT`, once it accepts connections, and runs until
killed. Routes:

  GET  /                     a small HTML page
  GET  /json                 {"method", "path", "headers": [[name, value], ...], "connection": N}
  GET  /download?size=N      N bytes (byte i = i % 251) streamed in 64 KiB writes, chunked;
                             with &length=1 announced by Content-Length instead (HEAD works too)
  POST /upload               reads the body as it streams, answers {"bytes", "sha256"}
  GET  /sse?n=N&interval=S   N Server-Sent Events S seconds apart, each `data: I TIME` (time.time())
  GET  /ws                   a WebSocket echo (aiohttp's own)
  GET  /drop                 answers on a connection's first request; on a later one closes the
                             connection without answering (an upstream that dropped a keep-alive
                             connection the gateway had pooled)
  GET  /slow?delay=S         answers after S seconds
  GET  /lie                  writes a response head with two different Content-Length values
                             (a framing lie) and closes
  GET  /coded?te=T           writes a response head with `Transfer-Encoding: T` and a body (chunked
                             when T ends in chunked, else until the close) that holds what reads as
                             a second response if relayed unframed (`0` chunk, then `HTTP/1.1 200`)
  GET  /status/CODE          an empty answer with that status (204, 304, ...)
  GET  /counters             {"connections": distinct connections seen, "requests": requests seen}
"""

import argparse
import asyncio
import hashlib
import json
import sys
import time

from aiohttp import web

connections: dict[int, int] = {}
requests_seen = 0


def count(request: web.Request) -> int:
    """Counts the request on its connection; returns the connection's number."""
    global requests_seen
    requests_seen += 1
    key = id(request.transport)
    if key not in connections:
        connections[key] = 0
    connections[key] += 1
    return list(connections).index(key) + 1


async def index(request: web.Request) -> web.Response:
    count(request)
    return web.Response(text="<!doctype html><title>app</title><h1>hello from the app</h1>", content_type="text/html")


async def json_echo(request: web.Request) -> web.Response:
    number = count(request)
    body = {
        "method": request.method,
        "path": request.path_qs,
        "headers": [[k, v] for k, v in request.headers.items()],
        "connection": number,
    }
    return web.json_response(body)


CHUNK = 64 * 1024
# Byte i of a download is i % 251; a chunk at offset o starts at o % 251 of this.
PATTERN = bytes(range(251)) * (CHUNK // 251 + 2)


async def download(request: web.Request) -> web.StreamResponse:
    count(request)
    size = int(request.query.get("size", "0"))
    response = web.StreamResponse()
    response.content_type = "application/octet-stream"
    if request.query.get("length") == "1":
        response.content_length = size
    else:
        response.enable_chunked_encoding()
    await response.prepare(request)
    if request.method == "HEAD":
        return response
    sent = 0
    while sent < size:
        n = min(CHUNK, size - sent)
        start = sent % 251
        await response.write(PATTERN[start : start + n])
        sent += n
    await response.write_eof()
    return response


async def upload(request: web.Request) -> web.Response:
    count(request)
    digest = hashlib.sha256()
    total = 0
    async for chunk in request.content.iter_any():
        digest.update(chunk)
        total += len(chunk)
    return web.json_response({"bytes": total, "sha256": digest.hexdigest()})


async def sse(request: web.Request) -> web.StreamResponse:
    count(request)
    n = int(request.query.get("n", "3"))
    interval = float(request.query.get("interval", "0.2"))
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    for i in range(n):
        await response.write(f"data: {i} {time.time()}\n\n".encode())
        await asyncio.sleep(interval)
    await response.write_eof()
    return response


async def websocket(request: web.Request) -> web.WebSocketResponse:
    count(request)
    ws = web.WebSocketResponse()
    await ws.prepare(request)
    async for message in ws:
        if message.type == web.WSMsgType.TEXT:
            await ws.send_str(message.data)
        elif message.type == web.WSMsgType.BINARY:
            await ws.send_bytes(message.data)
    return ws


async def drop(request: web.Request) -> web.Response:
    count(request)
    if connections[id(request.transport)] > 1:
        request.transport.close()
        raise asyncio.CancelledError()
    return web.json_response({"connection": list(connections).index(id(request.transport)) + 1})


async def lie(request: web.Request) -> web.Response:
    count(request)
    request.transport.write(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\nhello")
    request.transport.close()
    raise asyncio.CancelledError()


SMUGGLED = b"0\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nsmuggled"


async def coded(request: web.Request) -> web.Response:
    count(request)
    te = request.query.get("te", "gzip, chunked")
    body = b"%x\r\n%s\r\n0\r\n\r\n" % (len(SMUGGLED), SMUGGLED) if te.endswith("chunked") else SMUGGLED
    request.transport.write(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: " + te.encode() + b"\r\n\r\n" + body)
    if not te.endswith("chunked"):
        request.transport.close()
    raise asyncio.CancelledError()


async def slow(request: web.Request) -> web.Response:
    count(request)
    await asyncio.sleep(float(request.query.get("delay", "1")))
    return web.Response(text="late\n")


async def status(request: web.Request) -> web.Response:
    count(request)
    return web.Response(status=int(request.match_info["code"]))


async def counters(request: web.Request) -> web.Response:
    return web.json_response({"connections": len(connections), "requests": requests_seen})


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    args = parser.parse_args()

    app = web.Application(client_max_size=1 << 40)
    app.router.add_get("/", index)
    app.router.add_get("/json", json_echo)
    app.router.add_get("/download", download)
    app.router.add_post("/upload", upload)
    app.router.add_get("/sse", sse)
    app.router.add_get("/ws", websocket)
    app.router.add_get("/drop", drop)
    app.router.add_get("/slow", slow)
    app.router.add_get("/lie", lie)
    app.router.add_get("/coded", coded)
    app.router.add_get("/status/{code}", status)
    app.router.add_get("/counters", counters)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"listening on {args.host}:{port}", flush=True)
    await asyncio.Event().wait()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
