#!/usr/bin/env python3
"""A WebSocket client that wsgate did not write (the `websockets` library), for tests.

Every subcommand also takes --header K:V (repeatable), --subprotocol P (repeatable), --origin O,
--timeout S, and --compression (offer permessage-deflate the way `websockets` does by default),
optionally with --no-context-takeover (offer server_ and client_no_context_takeover). Each subcommand prints exactly one JSON line and exits 0 on success, 1 on failure
(the JSON then has an "error" key). Every network wait is bounded by --timeout seconds.

  echo URL [--sizes 0,1,125,126,65535,65536] [--fragment-size N] [--seed S]
      For each size, send a binary message (seeded random bytes) and a text message (that many
      bytes of valid UTF-8 with multi-byte characters), fragmented into frames of N bytes when
      --fragment-size is given (text fragments may split a character), and check each echo.
      -> {"ok": true, "messages": K, "subprotocol": P, "extensions": "the 101's Sec-WebSocket-Extensions"}
  close URL [--send TEXT]
      Send one text message, then read until the server closes.
      -> {"close_code": C, "close_reason": R, "received": K}   (code/reason null: no close frame)
  handshake URL
      -> {"status": 101, "subprotocol": P, "headers": {...}}  or, when the server refused the
         upgrade, {"status": S, "headers": {...}, "body": "..."}
  first URL
      -> {"message": M, "type": "text"} or {"message": BASE64, "type": "binary", "length": N}
"""

import argparse
import asyncio
import base64
import json
import random
import sys

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory

# Characters of 1, 2, 3 and 4 UTF-8 bytes, cycled through to build text payloads.
TEXT_ALPHABET = ["a", "é", "€", "😀", "Z", "ß", "中", "𝄞", " "]


def text_payload(size: int) -> str:
    """A string whose UTF-8 encoding is exactly `size` bytes, with multi-byte characters."""
    chars: list[str] = []
    remaining = size
    i = 0
    while remaining > 0:
        char = TEXT_ALPHABET[i % len(TEXT_ALPHABET)]
        width = len(char.encode())
        if width > remaining:
            char, width = "x", 1
        chars.append(char)
        remaining -= width
        i += 1
    text = "".join(chars)
    assert len(text.encode()) == size
    return text


def chunks(data: bytes, size: int) -> list[bytes]:
    if not data:
        return [b""]  # an empty fragmented message: one empty frame, then the final empty frame
    return [data[i : i + size] for i in range(0, len(data), size)]


def headers_dict(headers) -> dict[str, str]:
    result: dict[str, str] = {}
    for name, value in headers.raw_items():
        result[name] = f"{result[name]}, {value}" if name in result else value
    return result


def parse_headers(pairs: list[str]) -> list[tuple[str, str]]:
    result = []
    for pair in pairs:
        name, sep, value = pair.partition(":")
        if not sep:
            raise SystemExit(f"--header expects K:V, got {pair!r}")
        result.append((name.strip(), value.strip()))
    return result


def compression_extensions(args):
    """The `extensions` argument for connect(): none, or permessage-deflate as asked."""
    if not args.compression:
        return None
    return [
        ClientPerMessageDeflateFactory(
            server_no_context_takeover=args.no_context_takeover,
            client_no_context_takeover=args.no_context_takeover,
            client_max_window_bits=True,
            compress_settings={"memLevel": 5},
        )
    ]


def connect_to(args, **extra) -> connect:
    return connect(
        args.url,
        additional_headers=parse_headers(args.header or []),
        subprotocols=args.subprotocol or None,
        origin=args.origin,
        max_size=None,
        compression=None,
        extensions=compression_extensions(args),
        ping_interval=None,
        open_timeout=args.timeout,
        close_timeout=args.timeout,
        proxy=None,
        **extra,
    )


async def recv(ws: ClientConnection, timeout: float):
    return await asyncio.wait_for(ws.recv(), timeout)


# MARK: subcommands


async def cmd_echo(args) -> tuple[dict, bool]:
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rng = random.Random(args.seed)
    messages = 0
    async with connect_to(args) as ws:
        for size in sizes:
            # randbytes() is limited to 2**31 bits at a time: build large payloads from 1 MiB pieces.
            binary = b"".join(rng.randbytes(min(1 << 20, size - offset)) for offset in range(0, size, 1 << 20))
            kinds = [("binary", binary)] if args.binary_only else [("binary", binary), ("text", text_payload(size))]
            for kind, payload in kinds:
                if args.fragment_size:
                    data = payload if kind == "binary" else payload.encode()
                    await asyncio.wait_for(
                        ws.send(chunks(data, args.fragment_size), text=(kind == "text")), args.timeout
                    )
                else:
                    await asyncio.wait_for(ws.send(payload), args.timeout)
                echo = await recv(ws, args.timeout)
                if echo != payload:
                    got = f"{type(echo).__name__} of length {len(echo)}"
                    return {
                        "ok": False,
                        "messages": messages,
                        "error": f"echo mismatch for {kind} message of {size} bytes: got {got}",
                    }, False
                messages += 1
        subprotocol = ws.subprotocol
        extensions = ws.response.headers.get("Sec-WebSocket-Extensions")
        await ws.close()
    return {"ok": True, "messages": messages, "subprotocol": subprotocol, "extensions": extensions}, True


async def cmd_close(args) -> tuple[dict, bool]:
    received = 0
    async with connect_to(args) as ws:
        await asyncio.wait_for(ws.send(args.send), args.timeout)
        try:
            while True:
                await recv(ws, args.timeout)
                received += 1
        except ConnectionClosed:
            pass
        await asyncio.wait_for(ws.wait_closed(), args.timeout)
        rcvd = ws.protocol.close_rcvd
    return {
        "close_code": rcvd.code if rcvd else None,
        "close_reason": rcvd.reason if rcvd else None,
        "received": received,
    }, True


async def cmd_handshake(args) -> tuple[dict, bool]:
    try:
        async with connect_to(args) as ws:
            result = {
                "status": ws.response.status_code,
                "subprotocol": ws.subprotocol,
                "headers": headers_dict(ws.response.headers),
            }
            await ws.close()
            return result, True
    except InvalidStatus as error:
        response = error.response
        return {
            "status": response.status_code,
            "headers": headers_dict(response.headers),
            "body": bytes(response.body).decode("utf-8", errors="replace"),
        }, True


async def cmd_first(args) -> tuple[dict, bool]:
    async with connect_to(args) as ws:
        message = await recv(ws, args.timeout)
        await ws.close()
    if isinstance(message, str):
        return {"message": message, "type": "text"}, True
    return {"message": base64.b64encode(message).decode(), "type": "binary", "length": len(message)}, True


COMMANDS = {"echo": cmd_echo, "close": cmd_close, "handshake": cmd_handshake, "first": cmd_first}


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds for each network wait")
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name)
        p.add_argument("url")
        p.add_argument("--timeout", type=float, default=argparse.SUPPRESS)
        p.add_argument("--header", action="append", help="extra request header K:V (repeatable)")
        p.add_argument("--subprotocol", action="append", help="offered subprotocol (repeatable)")
        p.add_argument("--origin")
        p.add_argument("--compression", action="store_true", help="offer permessage-deflate")
        p.add_argument("--no-context-takeover", action="store_true", help="with --compression")
        return p

    echo = add("echo")
    echo.add_argument("--sizes", default="0,1,125,126,65535,65536")
    echo.add_argument("--fragment-size", type=int, default=None)
    echo.add_argument("--seed", type=int, default=1234)
    echo.add_argument("--binary-only", action="store_true", help="send only the binary message of each size")

    close = add("close")
    close.add_argument("--send", default="hello")

    add("handshake")
    add("first")
    args = parser.parse_args(argv)
    if getattr(args, "fragment_size", None) is not None and args.fragment_size <= 0:
        parser.error("--fragment-size must be positive")
    return args


async def run(args) -> tuple[dict, bool]:
    try:
        # A backstop on top of the per-wait timeouts, so that nothing can hang.
        async with asyncio.timeout(args.timeout * 4):
            return await COMMANDS[args.command](args)
    except TimeoutError:
        return {"ok": False, "error": f"timed out ({args.command})"}, False
    except Exception as error:  # report any failure as JSON
        return {"ok": False, "error": f"{type(error).__name__}: {error}"}, False


def main() -> int:
    args = parse_args(sys.argv[1:])
    result, ok = asyncio.run(run(args))
    print(json.dumps(result), flush=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
