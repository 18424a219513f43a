#!/usr/bin/env python3
"""A small chat app with rooms, in aiohttp: the app wsgate's examples/chat/wsgate.yaml fronts.

It serves, all from one host and port:
  GET  /                               the page (static/index.html, chat.js, chat.css)
  GET  /api/rooms                      the rooms, with how many messages and listeners each has
  GET  /api/rooms/ROOM/messages        the room's history (the last 200 messages; ?after=ID for newer ones)
  POST /api/rooms/ROOM/messages        post {"user": ..., "text": ...}; answers the stored message
  GET  /ws/ROOM                        WebSocket: the room's live messages as JSON; send {"user", "text"} to post
  GET  /api/rooms/ROOM/events          Server-Sent Events: the same live messages (event "message")

Messages live in memory. Prints `listening on HOST:PORT` once it accepts connections (port 0: any free one).
"""

import argparse
import asyncio
import collections
import json
import pathlib
import time

from aiohttp import WSMsgType, web

ROOMS = ("general", "random", "swift")
HISTORY = 200
MAX_TEXT = 2000
MAX_USER = 40
KEEPALIVE = 15
STATIC = pathlib.Path(__file__).resolve().parent / "static"


class Room:
    """One room's history and the queues of its live listeners (WebSockets and event streams)."""

    def __init__(self, name):
        self.name = name
        self.messages = collections.deque(maxlen=HISTORY)
        self.listeners = set()

    def post(self, message):
        self.messages.append(message)
        for queue in self.listeners:
            queue.put_nowait(message)


class Chat:
    def __init__(self):
        self.rooms = {name: Room(name) for name in ROOMS}
        self.next_id = 1

    def room(self, request):
        room = self.rooms.get(request.match_info["room"])
        if room is None:
            raise web.HTTPNotFound(text=json.dumps({"error": "no such room"}), content_type="application/json")
        return room

    def post(self, room, fields):
        """Stores and broadcasts a message; `fields` comes from a client and is checked here."""
        if not isinstance(fields, dict):
            raise ValueError("a message is a JSON object")
        user = str(fields.get("user", "")).strip()[:MAX_USER] or "anonymous"
        text = str(fields.get("text", "")).strip()
        if not text:
            raise ValueError("text is empty")
        if len(text) > MAX_TEXT:
            raise ValueError(f"text is over {MAX_TEXT} characters")
        message = {"id": self.next_id, "room": room.name, "user": user, "text": text, "time": time.time()}
        self.next_id += 1
        room.post(message)
        return message


chat_key = web.AppKey("chat", Chat)


async def index(request):
    return web.FileResponse(STATIC / "index.html")


async def rooms(request):
    chat = request.app[chat_key]
    return web.json_response(
        [{"name": r.name, "messages": len(r.messages), "listeners": len(r.listeners)} for r in chat.rooms.values()]
    )


async def history(request):
    room = request.app[chat_key].room(request)
    after = int(request.query.get("after", "0") or 0)
    return web.json_response([m for m in room.messages if m["id"] > after])


async def post_message(request):
    chat = request.app[chat_key]
    room = chat.room(request)
    try:
        message = chat.post(room, await request.json())
    except (ValueError, json.JSONDecodeError) as error:
        return web.json_response({"error": str(error)}, status=400)
    return web.json_response(message, status=201)


async def websocket(request):
    chat = request.app[chat_key]
    room = chat.room(request)
    ws = web.WebSocketResponse(heartbeat=30, compress=True)
    await ws.prepare(request)
    queue = asyncio.Queue()
    room.listeners.add(queue)

    async def forward():
        while True:
            await ws.send_json({"type": "message", "message": await queue.get()})

    sender = asyncio.create_task(forward())
    try:
        async for frame in ws:
            if frame.type != WSMsgType.TEXT:
                continue
            try:
                chat.post(room, json.loads(frame.data))
            except (ValueError, json.JSONDecodeError) as error:
                await ws.send_json({"type": "error", "error": str(error)})
    finally:
        room.listeners.discard(queue)
        sender.cancel()
    return ws


async def events(request):
    room = request.app[chat_key].room(request)
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
    await response.prepare(request)
    queue = asyncio.Queue()
    room.listeners.add(queue)
    try:
        await response.write(b": connected\n\n")
        while True:
            try:
                message = await asyncio.wait_for(queue.get(), KEEPALIVE)
            except asyncio.TimeoutError:
                # A comment line: keeps proxies from timing the stream out, and fails once the client left.
                await response.write(b": keepalive\n\n")
                continue
            await response.write(f"id: {message['id']}\nevent: message\ndata: {json.dumps(message)}\n\n".encode())
    finally:
        room.listeners.discard(queue)
    return response


def make_app():
    app = web.Application(client_max_size=64 * 1024)
    app[chat_key] = Chat()
    app.router.add_get("/", index)
    app.router.add_get("/api/rooms", rooms)
    app.router.add_get("/api/rooms/{room}/messages", history)
    app.router.add_post("/api/rooms/{room}/messages", post_message)
    app.router.add_get("/api/rooms/{room}/events", events)
    app.router.add_get("/ws/{room}", websocket)
    app.router.add_static("/static/", STATIC)
    return app


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    arguments = parser.parse_args()
    runner = web.AppRunner(make_app(), access_log=None, shutdown_timeout=1)
    await runner.setup()
    site = web.TCPSite(runner, arguments.host, arguments.port)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]
    print(f"listening on {arguments.host}:{port}", flush=True)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
