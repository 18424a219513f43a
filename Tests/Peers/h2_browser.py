#!/usr/bin/env python3
"""Headless Chromium on a page through the gateway's TLS listener, then a WebSocket from that page:
over HTTP/2 the browser opens it as an RFC 8441 extended CONNECT stream of the page's connection
(when the server announced SETTINGS_ENABLE_CONNECT_PROTOCOL), with permessage-deflate.

    h2_browser.py PAGE_URL WS_URL [--http1] [--timeout 20]

`--http1` starts Chromium with --disable-http2 (the same page and socket over HTTP/1.1). Drives
Debian's /usr/bin/chromium with Playwright; certificate errors are ignored (self-signed). Prints one
JSON line: {"ok", "page_protocol" (the navigation's nextHopProtocol), "echo", "extensions"} and
exits 0 when the socket echoed, else 1.
"""

import argparse
import json
import sys

from playwright.sync_api import sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--disable-background-networking", "--disable-component-update", "--no-sandbox", "--disable-dev-shm-usage"]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("page")
    parser.add_argument("ws")
    parser.add_argument("--http1", action="store_true")
    parser.add_argument("--timeout", type=float, default=20)
    arguments = parser.parse_args()
    result = {"ok": False}
    try:
        with sync_playwright() as playwright:
            args = ARGS + (["--disable-http2"] if arguments.http1 else [])
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=args)
            try:
                context = browser.new_context(ignore_https_errors=True)
                page = context.new_page()
                page.set_default_timeout(arguments.timeout * 1000)
                page.goto(arguments.page)
                result["page_protocol"] = page.evaluate("performance.getEntriesByType('navigation')[0].nextHopProtocol")
                answer = page.evaluate(
                    """url => new Promise((resolve, reject) => {
                        const socket = new WebSocket(url);
                        const text = "hello over the page's connection ".repeat(20);
                        socket.onopen = () => socket.send(text);
                        socket.onmessage = (event) => {
                            resolve({echo: event.data === text, extensions: socket.extensions});
                            socket.close(1000);
                        };
                        socket.onerror = () => reject(new Error("WebSocket failed"));
                    })""",
                    arguments.ws,
                )
                result.update(answer)
                result["ok"] = bool(answer.get("echo"))
            finally:
                browser.close()
    except Exception as error:  # noqa: BLE001 - reported as the result line
        result["error"] = repr(error)
    print(json.dumps(result))
    sys.exit(0 if result["ok"] else 1)


if __name__ == "__main__":
    main()
