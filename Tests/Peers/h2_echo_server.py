#!/usr/bin/env python3
"""A WebSocket echo app served over HTTP/2 by hypercorn (RFC 8441 extended CONNECT, h2c with prior
knowledge): the upstream wsgate's websocket-h2 tests talk to, written with software wsgate does not
share code with.

Paths (WebSocket):
  /stats          answers one text message, JSON: {"connections": distinct upstream TCP connections
                  that carried a WebSocket, "websockets": WebSockets accepted}, then closes 1000
  /close/CODE     closes with CODE at once
  anything else   echoes text and binary messages; a text message "close:CODE" closes with CODE

Plain HTTP requests (ordinary HTTP/2 streams):
  /download?size=N   N bytes (byte i = i % 251) in 64 KiB body messages, no Content-Length
  /slow?delay=S      answers after S seconds
  /early-hints       a 103 Early Hints (a Link field), then 200 with the body "final\n"
  /http-stats        JSON: {"requests", "connections": distinct TCP connections that carried HTTP,
                     "max_in_flight": the most requests in progress at once on one connection,
                     "in_flight": requests in progress now, this one included}
  anything else      reads the whole body, answers JSON {"method", "path", "http_version",
                     "headers": [[name, value], ...], "bytes", "sha256"}

Usage: h2_echo_server.py [--host 127.0.0.1] [--port 0] [--max-streams N] (hypercorn's
h2_max_concurrent_streams, default 100)

Prints "listening on HOST:PORT" once it accepts connections.

After sending its close frame the app waits for the peer's close frame (websocket.disconnect) before
it returns. With hypercorn 0.18 this matters: when the app returns, hypercorn forgets the stream, and
the peer's close frame (which RFC 6455 requires) then arrives as DATA on an unknown stream, raises
KeyError in hypercorn's h2 protocol, and drops the whole TCP connection with every stream on it.
"""
import argparse
import asyncio
import hashlib
import json
import socket
import sys
from urllib.parse import parse_qs

from hypercorn.asyncio import serve
from hypercorn.config import Config

connections = set()
accepted = 0
http_requests = 0
http_connections = set()
in_flight: dict = {}
max_in_flight = 0
PATTERN = bytes(range(251)) * (65536 // 251 + 2)


async def http(scope, receive, send):
    global http_requests, max_in_flight
    http_requests += 1
    client = tuple(scope.get("client") or ())
    http_connections.add(client)
    in_flight[client] = in_flight.get(client, 0) + 1
    max_in_flight = max(max_in_flight, in_flight[client])
    try:
        query = parse_qs(scope.get("query_string", b"").decode())
        path = scope["path"]
        digest, total = hashlib.sha256(), 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            body = message.get("body", b"")
            digest.update(body)
            total += len(body)
            if not message.get("more_body"):
                break
        if path == "/slow":
            await asyncio.sleep(float(query.get("delay", ["1"])[0]))
        if path == "/early-hints":
            await send({"type": "http.response.early_hint", "links": [b"</style.css>; rel=preload; as=style"]})
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-length", b"6")]})
            await send({"type": "http.response.body", "body": b"final\n"})
            return
        if path == "/download":
            size = int(query.get("size", ["0"])[0])
            await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"application/octet-stream")]})
            sent = 0
            while sent < size:
                n = min(65536, size - sent)
                start = sent % 251
                await send({"type": "http.response.body", "body": PATTERN[start : start + n], "more_body": True})
                sent += n
            await send({"type": "http.response.body", "body": b""})
            return
        if path == "/http-stats":
            answer = {
                "requests": http_requests,
                "connections": len(http_connections),
                "max_in_flight": max_in_flight,
                "in_flight": sum(in_flight.values()),
            }
        else:
            answer = {
                "method": scope["method"],
                "path": path + ("?" + scope["query_string"].decode() if scope.get("query_string") else ""),
                "http_version": scope.get("http_version"),
                "headers": [[k.decode(), v.decode()] for k, v in scope.get("headers", [])],
                "bytes": total,
                "sha256": digest.hexdigest(),
            }
        body = json.dumps(answer).encode()
        await send({
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        })
        await send({"type": "http.response.body", "body": body})
    finally:
        in_flight[client] -= 1


async def app(scope, receive, send):
    global accepted
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "http":
        await http(scope, receive, send)
        return
    if scope["type"] != "websocket":
        return
    message = await receive()
    if message["type"] != "websocket.connect":
        return
    # The client's (host, port) names the TCP connection the stream came on.
    connections.add(tuple(scope.get("client") or ()))
    accepted += 1
    path = scope["path"]
    subprotocols = scope.get("subprotocols") or []
    await send({"type": "websocket.accept", "subprotocol": subprotocols[-1] if subprotocols else None})
    if path == "/stats":
        await send({"type": "websocket.send", "text": json.dumps({"connections": len(connections), "websockets": accepted})})
        await send({"type": "websocket.close", "code": 1000})
        return
    if path.startswith("/close/"):
        await close(int(path.rsplit("/", 1)[1]), receive, send)
        return
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            await close(int(text[6:]), receive, send)
            return
        if text is not None:
            await send({"type": "websocket.send", "text": text})
        else:
            await send({"type": "websocket.send", "bytes": message.get("bytes") or b""})


async def close(code, receive, send):
    await send({"type": "websocket.close", "code": code})
    while (await receive())["type"] != "websocket.disconnect":
        pass


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--max-streams", type=int, default=100)
    args = parser.parse_args()
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((args.host, args.port))
    sock.listen(1024)
    sock.set_inheritable(True)
    config = Config()
    config.bind = [f"fd://{sock.fileno()}"]
    config.accesslog = None
    config.errorlog = "-"
    config.loglevel = "WARNING"
    config.h2_max_concurrent_streams = args.max_streams
    print(f"listening on {args.host}:{sock.getsockname()[1]}", flush=True)
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    sys.exit(main())
