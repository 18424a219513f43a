#!/usr/bin/env python3
"""An HTTP/2 client of wsgate's TLS listener, written with the Python `h2` library (and `hyperframe`
for the frames a well-behaved client would never send): plain requests and RFC 8441 WebSockets on
streams of one connection, and the hostile peers the gateway must survive. Prints one JSON line;
exits 0 when the scenario's checks held, 1 otherwise.

  h2_client.py PORT request PATH          one GET: status, body, ALPN
  h2_client.py PORT websocket PATH        extended CONNECT, then echoes (--count, --size, --deflate)
  h2_client.py PORT stalled PATH          two WebSockets on one connection: the first never opens its
                                          window while the gateway owes it echoes; the second must echo on
  h2_client.py PORT reset PATH            half a WebSocket message, RST_STREAM, then a new stream echoes
  h2_client.py PORT overflow PATH         DATA beyond the stream's flow-control window: the gateway must
                                          reset the stream or the connection
  h2_client.py PORT rapid-reset PATH      HEADERS + RST_STREAM many times: the gateway must close the connection
  h2_client.py PORT drain PATH            a WebSocket that waits (--wait seconds) for the gateway's GOAWAY and
                                          close 1001; prints "opened" on stderr once it echoed
  h2_client.py PORT plain-connect HOST    CONNECT without :protocol: 501
  h2_client.py PORT zero-window PATH      a client that gives every stream a window of 0, refused (version 8):
                                          the gateway's HEADERS come, its body never can; the stream must end
  h2_client.py PORT authority-mismatch PATH
                                          a GET and an extended CONNECT whose host names another authority than
                                          :authority: 400 both
  h2_client.py PORT reload PATH --after PATH2 --admin-port N
                                          a WebSocket on PATH, then POST /reload on the admin port (the test has
                                          rewritten the file), then on the same connection a stream on PATH and one
                                          on PATH2: their statuses; the first WebSocket must still echo
  h2_client.py PORT streams PATH          --count WebSockets on one connection: their statuses

The certificate is not verified (the gateway's is self-signed in the tests).
"""
import argparse
import http.client
import json
import os
import socket
import ssl
import struct
import sys
import time
import zlib

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings
from hyperframe.frame import DataFrame, HeadersFrame, RstStreamFrame


def connect(port, window=65535):
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    context.set_alpn_protocols(["h2"])
    raw = socket.create_connection(("127.0.0.1", port), timeout=10)
    sock = context.wrap_socket(raw, server_hostname="localhost")
    conn = h2.connection.H2Connection(config=h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
    conn.local_settings = h2.settings.Settings(client=True, initial_values={h2.settings.SettingCodes.INITIAL_WINDOW_SIZE: window})
    conn.initiate_connection()
    sock.sendall(conn.data_to_send())
    client = Client(sock, conn)
    client.alpn = sock.selected_alpn_protocol()
    client.wait(lambda: client.remote_settings_seen, 10)
    return client


class Client:
    def __init__(self, sock, conn):
        self.sock = sock
        self.conn = conn
        self.alpn = None
        self.remote_settings_seen = False
        self.enable_connect = None
        self.responses = {}  # stream id -> headers dict
        self.data = {}  # stream id -> bytearray
        self.ended = set()
        self.resets = {}  # stream id -> error code
        self.goaway = None
        self.closed = False
        self.stalled = set()  # streams whose window is never opened
        # The frames as they came, parsed apart from h2 (which stops at a GOAWAY, while a server may
        # go on serving the streams it took, RFC 9113 section 6.8).
        self.raw = bytearray()
        self.raw_data = {}
        self.raw_goaway = None
        self.h2_done = False

    def pump(self, timeout):
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except socket.timeout:
            return
        except (ConnectionResetError, ssl.SSLError, OSError):
            self.closed = True
            return
        if not chunk:
            self.closed = True
            return
        self.parse_raw(chunk)
        if self.h2_done:
            return
        try:
            events = self.conn.receive_data(chunk)
        except h2.exceptions.ProtocolError:
            if self.raw_goaway is None:
                raise
            self.h2_done = True
            return
        for event in events:
            self.on(event)
        out = self.conn.data_to_send()
        if out:
            try:
                self.sock.sendall(out)
            except OSError:
                self.closed = True

    def parse_raw(self, chunk):
        self.raw.extend(chunk)
        while len(self.raw) >= 9:
            length = int.from_bytes(self.raw[0:3], "big")
            if len(self.raw) < 9 + length:
                break
            kind, flags = self.raw[3], self.raw[4]
            stream = int.from_bytes(self.raw[5:9], "big") & 0x7FFFFFFF
            body = bytes(self.raw[9:9 + length])
            del self.raw[:9 + length]
            if kind == 0:
                if flags & 0x8:
                    body = body[1:len(body) - body[0]]
                self.raw_data.setdefault(stream, bytearray()).extend(body)
            elif kind == 7 and len(body) >= 8:
                self.raw_goaway = int.from_bytes(body[4:8], "big")

    def on(self, event):
        if isinstance(event, h2.events.RemoteSettingsChanged):
            self.remote_settings_seen = True
            setting = event.changed_settings.get(h2.settings.SettingCodes.ENABLE_CONNECT_PROTOCOL)
            if setting is not None:
                self.enable_connect = setting.new_value
        elif isinstance(event, h2.events.ResponseReceived):
            self.responses[event.stream_id] = dict(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            self.data.setdefault(event.stream_id, bytearray()).extend(event.data)
            if event.stream_id in self.stalled:
                # The connection window is given back, the stream's is not.
                self.conn.increment_flow_control_window(event.flow_controlled_length)
            else:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.StreamEnded):
            self.ended.add(event.stream_id)
        elif isinstance(event, h2.events.StreamReset):
            self.resets[event.stream_id] = int(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = int(event.error_code)

    def wait(self, condition, seconds):
        deadline = time.monotonic() + seconds
        while not condition():
            if self.closed or time.monotonic() > deadline:
                return condition()
            self.pump(min(0.5, max(0.01, deadline - time.monotonic())))
        return True

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            self.sock.sendall(out)

    def request(self, path):
        stream = self.conn.get_next_available_stream_id()
        self.conn.send_headers(
            stream, [(":method", "GET"), (":scheme", "https"), (":path", path), (":authority", "localhost")], end_stream=True
        )
        self.flush()
        self.wait(lambda: stream in self.ended or stream in self.resets, 15)
        return stream

    def open_websocket(self, path, deflate=False, version="13", extra=()):
        stream = self.conn.get_next_available_stream_id()
        headers = [
            (":method", "CONNECT"), (":protocol", "websocket"), (":scheme", "https"), (":path", path),
            (":authority", "localhost"), ("sec-websocket-version", version),
        ]
        if deflate:
            headers.append(("sec-websocket-extensions", "permessage-deflate"))
        headers.extend(extra)
        self.conn.send_headers(stream, headers)
        self.flush()
        self.wait(lambda: stream in self.responses or stream in self.resets, 15)
        return stream, self.responses.get(stream, {})

    def send_frame(self, stream, opcode, payload, fin=True, block=True):
        """Sends one WebSocket frame as the stream's flow-control window allows, waiting (at most 10 s)
        for WINDOW_UPDATEs; with block=False gives up at a shut window. Returns whether all went."""
        data = encode_frame(opcode, payload, fin)
        deadline = time.monotonic() + 10
        while data:
            window = min(self.conn.local_flow_control_window(stream), self.conn.max_outbound_frame_size)
            if window <= 0:
                if not block or time.monotonic() > deadline or self.closed:
                    return False
                self.pump(0.2)
                continue
            self.conn.send_data(stream, data[:window])
            data = data[window:]
            self.flush()
        return True


def encode_frame(opcode, payload, fin=True):
    first = (0x80 if fin else 0) | opcode
    mask = os.urandom(4)
    length = len(payload)
    if length < 126:
        header = struct.pack("!BB", first, 0x80 | length)
    elif length < 65536:
        header = struct.pack("!BBH", first, 0x80 | 126, length)
    else:
        header = struct.pack("!BBQ", first, 0x80 | 127, length)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return header + mask + masked


def parse_frames(buffer):
    """Whole server frames at the start of `buffer`: [(fin, rsv1, opcode, payload)], bytes used."""
    frames, offset = [], 0
    while len(buffer) - offset >= 2:
        first, second = buffer[offset], buffer[offset + 1]
        length, at = second & 0x7F, offset + 2
        if length == 126:
            if len(buffer) - at < 2:
                break
            length, at = struct.unpack("!H", buffer[at:at + 2])[0], at + 2
        elif length == 127:
            if len(buffer) - at < 8:
                break
            length, at = struct.unpack("!Q", buffer[at:at + 8])[0], at + 8
        if len(buffer) - at < length:
            break
        frames.append((bool(first & 0x80), bool(first & 0x40), first & 0x0F, bytes(buffer[at:at + length])))
        offset = at + length
    return frames, offset


class Messages:
    """The messages of one stream's WebSocket, inflated when compressed."""

    def __init__(self, client, stream):
        self.client, self.stream, self.used = client, stream, 0
        self.inflater = zlib.decompressobj(-15)
        self.compressed = 0
        self.partial, self.partial_rsv1 = bytearray(), False
        self.messages, self.close_code = [], None

    def update(self):
        data = self.client.data.get(self.stream, bytearray())
        frames, used = parse_frames(data[self.used:])
        self.used += used
        for fin, rsv1, opcode, payload in frames:
            if opcode == 8:
                self.close_code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                continue
            if opcode in (1, 2):
                self.partial, self.partial_rsv1 = bytearray(), rsv1
            if opcode in (0, 1, 2):
                self.partial.extend(payload)
                if fin:
                    message = bytes(self.partial)
                    if self.partial_rsv1:
                        self.compressed += 1
                        message = self.inflater.decompress(message + b"\x00\x00\xff\xff")
                    self.messages.append(message)

    def wait_count(self, count, seconds):
        return self.client.wait(lambda: (self.update(), len(self.messages) >= count)[1], seconds)


def echo(client, stream, count, size, seconds=20):
    messages = Messages(client, stream)
    # Only what comes from now on (an earlier echo on the stream is read already).
    messages.used = len(client.data.get(stream, b""))
    sent = []
    for index in range(count):
        payload = (b"%06d" % index + b"x" * size)[: max(size, 6)]
        sent.append(payload)
        client.send_frame(stream, 2, payload)
    ok = messages.wait_count(count, seconds)
    return ok and messages.messages[:count] == sent, messages


def run(args):
    result = {}
    if args.scenario == "plain-connect":
        client = connect(args.port)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, [(":method", "CONNECT"), (":authority", args.path)])
        client.flush()
        client.wait(lambda: stream in client.responses or stream in client.resets, 10)
        result["status"] = client.responses.get(stream, {}).get(":status")
        return result["status"] == "501", result

    client = connect(args.port, window=args.window)
    result["alpn"] = client.alpn
    result["enable_connect_protocol"] = client.enable_connect

    if args.scenario == "request":
        stream = client.request(args.path)
        headers = client.responses.get(stream, {})
        result["status"] = headers.get(":status")
        result["headers"] = headers
        result["body"] = bytes(client.data.get(stream, b"")).decode("utf-8", "replace")
        return result["status"] is not None, result

    if args.scenario == "websocket":
        stream, headers = client.open_websocket(args.path, deflate=args.deflate)
        result["status"] = headers.get(":status")
        result["extensions"] = headers.get("sec-websocket-extensions")
        result["accept"] = headers.get("sec-websocket-accept")
        if result["status"] != "200":
            return False, result
        ok, messages = echo(client, stream, args.count, args.size)
        result["echoed"] = len(messages.messages)
        result["compressed"] = messages.compressed
        client.send_frame(stream, 8, struct.pack("!H", 1000))
        client.wait(lambda: (messages.update(), messages.close_code is not None)[1], 10)
        result["close_code"] = messages.close_code
        return ok and messages.close_code == 1000, result

    if args.scenario == "stalled":
        stalled, _ = client.open_websocket(args.path)
        flowing, _ = client.open_websocket(args.path)
        client.stalled.add(stalled)
        # The gateway owes the stalled stream far more than its window: its echoes wait at the gateway.
        big = b"s" * 60000
        sent = 0
        for _ in range(args.count):
            if not client.send_frame(stalled, 2, big, block=False):
                break
            sent += 1
            client.pump(0.05)
        client.wait(lambda: len(client.data.get(stalled, b"")) >= args.window, 10)
        result["stalled_sent_messages"] = sent
        ok, messages = echo(client, flowing, 50, 1000)
        result["stalled_received"] = len(client.data.get(stalled, b""))
        result["flowing_echoed"] = len(messages.messages)
        return ok and result["stalled_received"] <= args.window + 16, result

    if args.scenario == "reset":
        first, _ = client.open_websocket(args.path)
        # A frame header announcing 1000 bytes, 10 of them, then the reset.
        frame = encode_frame(2, b"r" * 1000)
        client.conn.send_data(first, frame[:18])
        client.conn.reset_stream(first, error_code=8)
        client.flush()
        second, headers = client.open_websocket(args.path)
        ok, messages = echo(client, second, 10, 100)
        result["second_status"] = headers.get(":status")
        result["echoed"] = len(messages.messages)
        return ok, result

    if args.scenario == "overflow":
        stream, _ = client.open_websocket(args.path)
        # The echoes are never read (the stream's window stays shut), so the gateway stops reading
        # this stream once its own buffer toward the client is full, and stops opening its window;
        # the client sends on regardless, in raw DATA frames (h2 itself would refuse to).
        client.stalled.add(stream)
        frame = encode_frame(2, b"o" * 16000)
        try:
            for _ in range(args.count):
                client.sock.sendall(DataFrame(stream, data=frame).serialize())
                client.pump(0.001)
                if stream in client.resets or client.goaway is not None or client.closed:
                    break
        except OSError:
            client.closed = True
        client.wait(lambda: stream in client.resets or client.goaway is not None or client.closed, 15)
        result["reset"] = client.resets.get(stream)
        result["goaway"] = client.goaway
        result["closed"] = client.closed
        return result["reset"] == 3 or result["goaway"] == 3, result

    if args.scenario == "rapid-reset":
        encoder = client.conn.encoder
        sent = 0
        stream = client.conn.get_next_available_stream_id()
        try:
            for _ in range(args.count):
                block = encoder.encode([(":method", "GET"), (":scheme", "https"), (":path", args.path), (":authority", "localhost")])
                headers = HeadersFrame(stream, data=block, flags=["END_HEADERS", "END_STREAM"])
                client.sock.sendall(headers.serialize() + RstStreamFrame(stream, error_code=8).serialize())
                sent += 1
                stream += 2
        except OSError:
            pass
        deadline = time.monotonic() + 15
        # Read raw until the gateway closes: its GOAWAY names the error.
        buffer = b""
        client.sock.settimeout(1)
        while time.monotonic() < deadline:
            try:
                chunk = client.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            buffer += chunk
        result["sent"] = sent
        result["goaway_error"] = find_goaway(buffer)
        return result["goaway_error"] is not None and result["goaway_error"] != 0, result

    if args.scenario == "zero-window":
        # Refused at once (no upstream dialled): the answer's HEADERS need no window, its body does.
        stream, headers = client.open_websocket(args.path, version="8")
        result["status"] = headers.get(":status")
        client.wait(lambda: stream in client.resets or stream in client.ended or client.closed, 15)
        result["reset"] = client.resets.get(stream)
        result["ended"] = stream in client.ended
        return result["status"] == "426" and (result["reset"] is not None or result["ended"]), result

    if args.scenario == "authority-mismatch":
        # h2 itself refuses to send such a request; a hostile client is not h2.
        client.conn.config.validate_outbound_headers = False
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(
            stream,
            [(":method", "GET"), (":scheme", "https"), (":path", args.path), (":authority", "localhost"),
             ("host", "elsewhere.example")],
            end_stream=True,
        )
        client.flush()
        client.wait(lambda: stream in client.ended or stream in client.resets, 15)
        result["request_status"] = client.responses.get(stream, {}).get(":status")
        _, headers = client.open_websocket(args.path, extra=[("host", "elsewhere.example")])
        result["websocket_status"] = headers.get(":status")
        return result["request_status"] == "400" and result["websocket_status"] == "400", result

    if args.scenario == "reload":
        first, headers = client.open_websocket(args.path)
        result["first_status"] = headers.get(":status")
        ok, _ = echo(client, first, 1, 10)
        admin = http.client.HTTPConnection("127.0.0.1", args.admin_port, timeout=30)
        admin.request("POST", "/reload", headers={"X-WSGate-Admin": "1", "Content-Length": "0"})
        result["reload_status"] = admin.getresponse().status
        admin.close()
        _, again = client.open_websocket(args.path)
        result["old_path_status"] = again.get(":status")
        added, added_headers = client.open_websocket(args.after)
        result["new_path_status"] = added_headers.get(":status")
        result["new_path_echoed"] = added_headers.get(":status") == "200" and echo(client, added, 2, 10)[0]
        result["first_still_echoes"] = ok and echo(client, first, 2, 10)[0]
        return result["reload_status"] == 200 and result["first_still_echoes"], result

    if args.scenario == "streams":
        statuses = []
        for _ in range(args.count):
            _, headers = client.open_websocket(args.path)
            statuses.append(headers.get(":status"))
        result["statuses"] = statuses
        return True, result

    if args.scenario == "drain":
        stream, headers = client.open_websocket(args.path)
        ok, messages = echo(client, stream, 1, 10)
        # After the GOAWAY h2 takes no more frames: the stream's WebSocket is read from the raw frames.
        client.data = client.raw_data
        client.h2_done = True
        client.wait(lambda: (messages.update(), messages.close_code is not None)[1], args.wait)
        result["goaway"] = client.raw_goaway
        result["close_code"] = messages.close_code
        if messages.close_code is not None:
            client.sock.sendall(DataFrame(stream, data=encode_frame(8, struct.pack("!H", messages.close_code))).serialize())
        client.wait(lambda: client.closed, 10)
        result["connection_closed"] = client.closed
        return ok and client.raw_goaway == 0 and messages.close_code == 1001 and client.closed, result

    return False, {"error": "unknown scenario"}


def find_goaway(buffer):
    """The error code of the first GOAWAY among the raw frames in `buffer` (the connection preface's
    SETTINGS and everything else skipped)."""
    offset = 0
    while len(buffer) - offset >= 9:
        length = int.from_bytes(buffer[offset:offset + 3], "big")
        kind = buffer[offset + 3]
        body = buffer[offset + 9:offset + 9 + length]
        if kind == 7 and len(body) >= 8:
            return int.from_bytes(body[4:8], "big")
        offset += 9 + length
    return None


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("port", type=int)
    parser.add_argument("scenario")
    parser.add_argument("path")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--size", type=int, default=100)
    parser.add_argument("--deflate", action="store_true")
    parser.add_argument("--window", type=int, default=65535)
    parser.add_argument("--wait", type=float, default=30)
    parser.add_argument("--after", default="/")
    parser.add_argument("--admin-port", type=int, default=0)
    args = parser.parse_args()
    try:
        ok, result = run(args)
    except Exception as error:  # noqa: BLE001 - reported as the result
        ok, result = False, {"error": repr(error)}
    result["ok"] = bool(ok)
    print(json.dumps(result, default=str))
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
