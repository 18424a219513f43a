#!/usr/bin/env python3
"""A WebSocket echo app served over HTTP/2 by hypercorn (RFC 8441 extended CONNECT, h2c with prior
knowledge): the upstream wsgate's websocket-h2 tests talk to, written with software wsgate does not
share code with.

Paths:
  /stats          answers one text message, JSON: {"connections": distinct upstream TCP connections
                  that carried a WebSocket, "websockets": WebSockets accepted}, then closes 1000
  /close/CODE     closes with CODE at once
  anything else   echoes text and binary messages; a text message "close:CODE" closes with CODE

Prints "listening on HOST:PORT" once it accepts connections.

After sending its close frame the app waits for the peer's close frame (websocket.disconnect) before
it returns. With hypercorn 0.18 this matters: when the app returns, hypercorn forgets the stream, and
the peer's close frame (which RFC 6455 requires) then arrives as DATA on an unknown stream, raises
KeyError in hypercorn's h2 protocol, and drops the whole TCP connection with every stream on it.
"""
import argparse
import asyncio
import json
import socket
import sys

from hypercorn.asyncio import serve
from hypercorn.config import Config

connections = set()
accepted = 0


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
    if scope["type"] != "websocket":
        await send({"type": "http.response.start", "status": 404, "headers": []})
        await send({"type": "http.response.body", "body": b"websocket only\n"})
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
    print(f"listening on {args.host}:{sock.getsockname()[1]}", flush=True)
    asyncio.run(serve(app, config))


if __name__ == "__main__":
    sys.exit(main())
