#!/usr/bin/env python3
"""The identity side of wsgate's auth tests, written with PyJWT and cryptography (libraries we did not
write): key material, tokens, a JWKS server and a forward-auth app, all on loopback.

Usage:
  auth_peer.py keys --dir DIR [--kid-suffix S]
      Writes DIR/<name>.pem (public keys: rs, ps, es256, es384, es512, ed), DIR/<name>.key (private),
      DIR/jwks.json (every public key, kid = name + S, with its alg) and DIR/hmac.secret, then prints
      one JSON line {"ok": true}.
  auth_peer.py mint --dir DIR --spec JSON
      Signs each token of SPEC ({"name": {"alg": ..., "key": name, "kid": ..., "claims": {...},
      "exp_in": seconds, "nbf_in": seconds}}) and prints {"tokens": {"name": token}}. "key": "hmac" signs
      with DIR/hmac.secret; "secret" gives another HMAC secret (e.g. a public key's PEM text for the
      HS/RS confusion); "alg": "none" makes an unsigned token.
  auth_peer.py jwks-server --dir DIR [--port 0]
      Serves DIR/jwks.json at /jwks.json, read anew for each request (rewrite it to rotate keys);
      while DIR/down exists it answers 503 (the issuer is down). /count answers the number of JWKS
      requests served. Prints `listening on HOST:PORT`.
  auth_peer.py auth-app [--port 0] [--dir DIR] [--tls]
      A forward-auth endpoint at /auth: a `Cookie` with session=good (or an `Authorization: Bearer good`)
      gets 200 with X-User-Id: u-1 and X-User-Role: admin; X-Forwarded-Uri containing "slow" waits 5 s;
      anything else gets 401 with a JSON body and `WWW-Authenticate: Cookie realm="app"`. /calls answers
      the number of /auth calls. /login sets a cookie `session` holding an HS256 token for subject
      browser-user (signed with DIR/hmac.secret) and serves a page that opens
      wss://127.0.0.1:<gw>/app/headers (the gateway port from the `gw` query parameter), writes
      the upstream's first message (or "closed CODE") into the page's <pre id="out"> and POSTs it to
      /report; the page's last image, /wait, is answered only after that report (at most 20 s), so
      the page has not loaded before its WebSocket is done. With --tls it serves HTTPS with a
      self-signed certificate (so that the page and wss:// are same-site for the cookie). Prints
      `listening on HOST:PORT`.
"""

import argparse
import asyncio
import base64
import json
import os
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

PRIVATE_KEYS = {
    "rs": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "ps": lambda: rsa.generate_private_key(public_exponent=65537, key_size=2048),
    "es256": lambda: ec.generate_private_key(ec.SECP256R1()),
    "es384": lambda: ec.generate_private_key(ec.SECP384R1()),
    "es512": lambda: ec.generate_private_key(ec.SECP521R1()),
    "ed": lambda: ed25519.Ed25519PrivateKey.generate(),
}
ALGORITHMS = {"rs": "RS256", "ps": "PS256", "es256": "ES256", "es384": "ES384", "es512": "ES512", "ed": "EdDSA"}


def write_keys(directory: str, kid_suffix: str = "") -> None:
    os.makedirs(directory, exist_ok=True)
    jwks = []
    for name, make in PRIVATE_KEYS.items():
        key = make()
        with open(os.path.join(directory, name + ".key"), "wb") as f:
            f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        public = key.public_key()
        with open(os.path.join(directory, name + ".pem"), "wb") as f:
            f.write(public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
        algorithm = jwt.get_algorithm_by_name(ALGORITHMS[name])
        jwk = json.loads(algorithm.to_jwk(public))
        jwk.update({"kid": name + kid_suffix, "alg": ALGORITHMS[name], "use": "sig"})
        jwks.append(jwk)
    with open(os.path.join(directory, "jwks.json"), "w") as f:
        json.dump({"keys": jwks}, f)
    with open(os.path.join(directory, "hmac.secret"), "w") as f:
        f.write(base64.urlsafe_b64encode(os.urandom(32)).decode())


def mint(directory: str, spec: dict) -> dict:
    tokens = {}
    now = int(time.time())
    for name, item in spec.items():
        claims = dict(item.get("claims", {}))
        if "exp_in" in item:
            claims["exp"] = now + item["exp_in"]
        if "nbf_in" in item:
            claims["nbf"] = now + item["nbf_in"]
        headers = {"kid": item["kid"]} if "kid" in item else None
        alg = item["alg"]
        if alg == "none":
            tokens[name] = jwt.encode(claims, None, algorithm="none", headers=headers)
            continue
        if "secret" in item:
            key = item["secret"]
        elif item["key"] == "hmac":
            key = open(os.path.join(directory, "hmac.secret")).read()
        else:
            key = open(os.path.join(directory, item["key"] + ".key"), "rb").read()
        if alg.startswith("HS") and isinstance(key, str):
            key = key.encode()
        tokens[name] = sign_raw(claims, key, alg, headers) if alg.startswith("HS") and "secret" in item else jwt.encode(claims, key, algorithm=alg, headers=headers)
    return {"tokens": tokens}


def sign_raw(claims: dict, secret: bytes, alg: str, headers: dict | None) -> str:
    """HMAC-signs like jwt.encode, without PyJWT's refusal of PEM-looking secrets (the HS/RS
    confusion attack needs exactly such a token)."""
    import hashlib
    import hmac

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    header = {"alg": alg, "typ": "JWT", **(headers or {})}
    signing_input = b64(json.dumps(header, separators=(",", ":")).encode()) + "." + b64(json.dumps(claims, separators=(",", ":")).encode())
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    return signing_input + "." + b64(hmac.new(secret, signing_input.encode(), digest).digest())


def self_signed(directory: str) -> tuple[str, str]:
    """A self-signed certificate for 127.0.0.1 (the browser test runs with --ignore-certificate-errors)."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    certificate = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .sign(key, hashes.SHA256())
    )
    certificate_path = os.path.join(directory, "app-cert.pem")
    key_path = os.path.join(directory, "app-key.pem")
    with open(certificate_path, "wb") as f:
        f.write(certificate.public_bytes(serialization.Encoding.PEM))
    with open(key_path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return certificate_path, key_path


class Counter:
    def __init__(self) -> None:
        self.value = 0


def serve(handler_class, port: int, tls_directory: str | None = None) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", port), handler_class)
    server.daemon_threads = True
    if tls_directory:
        import ssl

        certificate, key = self_signed(tls_directory)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate, key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    print(f"listening on 127.0.0.1:{server.server_address[1]}", flush=True)
    server.serve_forever()


class QuietHandler(BaseHTTPRequestHandler):
    """A request handler that logs nothing and answers with one call."""

    def log_message(self, *args) -> None:
        pass

    def answer(self, status: int, body: bytes, content_type: str = "application/json", headers=()) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)


def jwks_server(directory: str, port: int) -> None:
    served = Counter()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            if self.path == "/count":
                return self.answer(200, json.dumps({"count": served.value}).encode())
            if os.path.exists(os.path.join(directory, "down")):
                return self.answer(503, b"down", "text/plain")
            served.value += 1
            with open(os.path.join(directory, "jwks.json"), "rb") as f:
                self.answer(200, f.read())

    serve(Handler, port)


def auth_app(directory: str | None, port: int, tls: bool) -> None:
    calls = Counter()
    reported = threading.Event()

    class Handler(QuietHandler):
        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            if path == "/calls":
                return self.answer(200, json.dumps({"calls": calls.value}).encode())
            if path == "/auth":
                calls.value += 1
                if "slow" in self.headers.get("X-Forwarded-Uri", ""):
                    time.sleep(5)
                elif "delay" in self.headers.get("X-Forwarded-Uri", ""):
                    time.sleep(1)
                cookie = self.headers.get("Cookie", "")
                if "session=good" in cookie or self.headers.get("Authorization") == "Bearer good":
                    return self.answer(200, b"", "text/plain", [("X-User-Id", "u-1"), ("X-User-Role", "admin"), ("X-Ignored", "x")])
                body = json.dumps({"error": "login required", "uri": self.headers.get("X-Forwarded-Uri")}).encode()
                return self.answer(401, body, headers=[("WWW-Authenticate", 'Cookie realm="app"')])
            if path == "/wait":
                # The page's last subresource: held until the page reported its WebSocket's outcome,
                # so that the page's load (and Chromium's --dump-dom) comes after it.
                reported.wait(timeout=20)
                return self.answer(200, b"GIF89a", "image/gif")
            if path == "/login":
                query = dict(part.split("=", 1) for part in self.path.split("?", 1)[1].split("&")) if "?" in self.path else {}
                secret = open(os.path.join(directory, "hmac.secret")).read().encode()
                token = jwt.encode({"sub": "browser-user", "exp": int(time.time()) + 600}, secret, algorithm="HS256")
                page = PAGE.replace("GATEWAY_PORT", query.get("gw", "0")).encode()
                return self.answer(200, page, "text/html; charset=utf-8", [("Set-Cookie", f"session={token}; Path=/; SameSite=Lax")])
            self.answer(404, b"{}")

        def do_POST(self) -> None:
            if self.path == "/report":
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                reported.set()
                return self.answer(204, b"")
            self.answer(404, b"{}")

    serve(Handler, port, directory if tls else None)


PAGE = """<!doctype html>
<html><body><pre id="out">waiting</pre>
<script>
const out = document.getElementById("out");
const report = (text) => { out.textContent = text; fetch("/report", {method: "POST", body: text}); };
const ws = new WebSocket("wss://127.0.0.1:GATEWAY_PORT/app/headers");
ws.onmessage = (event) => { report(event.data); ws.close(); };
ws.onclose = (event) => { if (out.textContent === "waiting") report("closed " + event.code); };
</script>
<img src="/wait" alt=""></body></html>
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    commands = parser.add_subparsers(dest="command", required=True)
    keys = commands.add_parser("keys")
    keys.add_argument("--dir", required=True)
    keys.add_argument("--kid-suffix", default="")
    minting = commands.add_parser("mint")
    minting.add_argument("--dir", required=True)
    minting.add_argument("--spec", required=True)
    server = commands.add_parser("jwks-server")
    server.add_argument("--dir", required=True)
    server.add_argument("--port", type=int, default=0)
    app = commands.add_parser("auth-app")
    app.add_argument("--dir")
    app.add_argument("--port", type=int, default=0)
    app.add_argument("--tls", action="store_true")
    arguments = parser.parse_args()
    if arguments.command == "keys":
        write_keys(arguments.dir, arguments.kid_suffix)
        print(json.dumps({"ok": True}), flush=True)
    elif arguments.command == "mint":
        print(json.dumps(mint(arguments.dir, json.loads(arguments.spec))), flush=True)
    elif arguments.command == "jwks-server":
        jwks_server(arguments.dir, arguments.port)
    else:
        auth_app(arguments.dir, arguments.port, arguments.tls)


if __name__ == "__main__":
    main()
