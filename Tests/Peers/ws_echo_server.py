#!/usr/bin/env python3
"""A WebSocket echo server written with the `websockets` library: a second, independent
upstream for wsgate's tests, with the same path-driven behaviours as examples/echo-upstream.

Usage: ws_echo_server.py [--host 127.0.0.1] [--port 0] [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]

With --tls-cert and --tls-key it serves wss:// (TLS 1.2+) instead of ws://; with --tls-client-ca
too it requires a client certificate issued by that CA (mTLS).

Prints exactly one line, `listening on HOST:PORT`, once it accepts connections, and runs
until killed. Behaviour by request path (the part before `?`):

  (default)      echo every message (message level; same type), answer pings and close frames
  /headers...    first send a text message {"uri": ..., "headers": [[name, value], ...]}, then echo
  /close/CODE    on the first message, close with CODE and reason "bye" (wait 2 s for the reply)
  /reject/STATUS refuse the upgrade with HTTP STATUS and a short body
  /drop          on the first message, close the TCP connection without a close frame
  /send/N        right after the upgrade send N binary messages of 1 KiB (byte i = i % 256), then echo
  /record-close  echo, and remember the close frame the client sends
  /last-close    first send a text message describing the last close frame received on a
                 /record-close connection ("CODE REASON", "CODE", "no-status" or "none"), then echo
  /bad-text      on the first message, answer with a text frame that is not UTF-8
  /bad-text-fragmented  the same as a fragmented message: a valid first frame, a bad continuation
  /stall         never read a message: once its receive queue is full, websockets stops reading
                 the socket (an app that hangs), until the connection closes

If the client offers subprotocols, the last one offered is selected.
"""

import argparse
import asyncio
import http
import json
import ssl
import sys

from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

SEND_MESSAGE = bytes(i % 256 for i in range(1024))

# The last close frame received on a /record-close connection (see /last-close).
last_close: str | None = None


class RecordingConnection(ServerConnection):
    """Records the client's close frame on /record-close as soon as it is parsed, i.e. before the
    reply close frame goes out, so that a later /last-close connection is sure to see it."""

    def data_received(self, data: bytes) -> None:
        global last_close
        super().data_received(data)
        rcvd = self.protocol.close_rcvd
        request = getattr(self, "request", None)
        if rcvd is not None and request is not None and request.path.split("?", 1)[0] == "/record-close":
            if rcvd.code == 1005:  # CloseCode.NO_STATUS_RCVD: the close frame had no payload
                last_close = "no-status"
            else:
                last_close = f"{rcvd.code} {rcvd.reason}" if rcvd.reason else f"{rcvd.code}"


def path_parts(request_path: str) -> list[str]:
    """'/close/4001?x=1' -> ['close', '4001']"""
    path = request_path.split("?", 1)[0]
    return path.split("/")[1:]


def reject_status(request_path: str) -> int | None:
    parts = path_parts(request_path)
    if len(parts) >= 2 and parts[0] == "reject" and parts[1].isdigit():
        status = int(parts[1])
        if 100 <= status <= 999:
            return status
    return None


def select_last_subprotocol(connection: ServerConnection, subprotocols):
    return subprotocols[-1] if subprotocols else None


def process_request(connection: ServerConnection, request: Request):
    status = reject_status(request.path)
    if status is None:
        return None  # go on with the WebSocket handshake
    try:
        phrase = http.HTTPStatus(status).phrase
    except ValueError:
        phrase = "Status"
    body = f"ws_echo_server: {status} {phrase}\n".encode()
    headers = Headers(
        [
            ("Content-Type", "text/plain; charset=utf-8"),
            ("Content-Length", str(len(body))),
            ("Connection", "close"),
        ]
    )
    return Response(status, phrase, headers, body)


async def handler(ws: ServerConnection) -> None:
    path = ws.request.path
    parts = path_parts(path)
    plain_path = path.split("?", 1)[0]
    try:
        if plain_path == "/last-close":
            await ws.send(last_close or "none")
        elif plain_path.startswith("/headers"):
            description = {"uri": path, "headers": [[k, v] for k, v in ws.request.headers.raw_items()]}
            await ws.send(json.dumps(description))
        elif len(parts) >= 2 and parts[0] == "send" and parts[1].isdigit():
            for _ in range(int(parts[1])):
                await ws.send(SEND_MESSAGE)

        if plain_path in ("/bad-text", "/bad-text-fragmented"):
            await ws.recv()
            if plain_path == "/bad-text":
                await ws.send(b"bad \xff\xfe text", text=True)
            else:
                await ws.send([b"good start, ", b"bad \xff end"], text=True)
            await ws.wait_closed()
            return

        if plain_path == "/stall":
            await ws.wait_closed()
            return

        close_code = int(parts[1]) if len(parts) >= 2 and parts[0] == "close" and parts[1].isdigit() else None
        drop = plain_path == "/drop"

        first = True
        async for message in ws:
            if first and close_code is not None:
                await ws.close(close_code, "bye")
                return
            if first and drop:
                ws.transport.close()  # no close frame
                return
            first = False
            await ws.send(message)
    except ConnectionClosed:
        pass


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tls-cert", help="serve TLS with this PEM certificate chain")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-client-ca", help="require a client certificate issued by this PEM CA")
    args = parser.parse_args()
    context = None
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            context.verify_mode = ssl.CERT_REQUIRED
            context.load_verify_locations(cafile=args.tls_client_ca)

    async with serve(
        handler,
        args.host,
        args.port,
        process_request=process_request,
        create_connection=RecordingConnection,
        select_subprotocol=select_last_subprotocol,
        max_size=None,
        compression=None,
        ping_interval=None,
        close_timeout=2,
        ssl=context,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        print(f"listening on {args.host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        sys.exit(0)
