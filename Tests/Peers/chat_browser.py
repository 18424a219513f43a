#!/usr/bin/env python3
"""Two headless Chromium pages on the chat example (examples/chat) through URL: a message typed into
the first page must appear in the second page's DOM, over the page's own WebSocket.

    chat_browser.py URL [--room general] [--timeout 20]

Drives Debian's /usr/bin/chromium with Playwright (no browser download). Certificate errors are
ignored (the gateway's development certificate is self-signed). Prints one JSON line:
{"ok", "received", "received_user", "event" (the text as the receiver's EventSource got it),
"websockets": [URL, ...], "history"} and exits 0 when the message
arrived, else {"ok": false, "error"} and exits 1.
"""

import argparse
import json
import sys
import time

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--disable-component-update", "--no-sandbox", "--disable-dev-shm-usage"]


def open_page(browser, url, room, timeout_ms, sockets):
    context = browser.new_context(ignore_https_errors=True)
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.on("websocket", lambda ws: sockets.append(ws.url))
    page.goto(f"{url}#{room}")
    page.wait_for_function("document.getElementById('status').textContent === 'live'")
    return page


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--room", default="general")
    parser.add_argument("--timeout", type=float, default=20)
    arguments = parser.parse_args()
    timeout_ms = arguments.timeout * 1000
    text = f"hello from the first page {time.time_ns()}"
    sockets = []
    result = {"ok": False}
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            try:
                sender = open_page(browser, arguments.url, arguments.room, timeout_ms, sockets)
                receiver = open_page(browser, arguments.url, arguments.room, timeout_ms, sockets)
                # The receiver also listens to the room's Server-Sent Events, through the same origin.
                receiver.evaluate(
                    """room => new Promise((resolve, reject) => {
                        window.events = [];
                        const source = new EventSource(`/api/rooms/${room}/events`);
                        source.addEventListener("message", (e) => window.events.push(JSON.parse(e.data).text));
                        source.onopen = () => resolve();
                        source.onerror = () => reject(new Error("EventSource failed"));
                    })""",
                    arguments.room,
                )
                sender.fill("#user", "alice")
                sender.fill("#text", text)
                sender.click("button[type=submit]")
                arrived = receiver.locator("#messages li", has_text=text)
                arrived.wait_for()
                result["received"] = arrived.locator(".text").inner_text()
                result["received_user"] = arrived.locator(".user").inner_text()
                receiver.wait_for_function("text => window.events.includes(text)", arg=text)
                result["event"] = text
                # A third page loads it from the REST history, not from a live socket.
                late = open_page(browser, arguments.url, arguments.room, timeout_ms, sockets)
                result["history"] = late.locator("#messages li .text").all_inner_texts()
                result["websockets"] = sockets
                result["ok"] = result["received"] == text and text in result["history"]
                if not result["ok"]:
                    result["error"] = f"expected {text!r}"
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 - reported as the result line
        result["error"] = f"{type(error).__name__}: {error}"
        result["websockets"] = sockets
    print(json.dumps(result), flush=True)
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
