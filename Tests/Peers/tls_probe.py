#!/usr/bin/env python3
"""A TLS handshake probe (Python's ssl module, i.e. OpenSSL) for wsgate's TLS listener tests.

Usage: tls_probe.py HOST PORT [--ca PEM] [--server-name NAME] [--min-version 1.2] [--max-version 1.3]
                    [--client-cert PEM --client-key PEM] [--no-verify | --no-check-hostname] [--await-verdict] [--timeout S]

Connects, performs only the TLS handshake, and prints exactly one JSON line:
  {"ok": true, "version": "TLSv1.3", "cipher": "...", "alpn": "http/1.1", "peer_dns_names": [...]}
  {"ok": false, "error": "...", "reason": "TLSV1_ALERT_PROTOCOL_VERSION"}   (reason: OpenSSL's, if any)
Exit code 0 either way (the JSON says what happened); 2 on bad arguments.
--await-verdict reads for up to 1 s after the handshake: a TLS 1.3 server checks a client certificate
after the client's Finished, so its refusal only arrives then ("closed_after_handshake" or an error).
To offer TLS 1.0/1.1 the client lowers OpenSSL's security level, so that a refusal comes from the server.
"""

import argparse
import json
import socket
import ssl
import sys

VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("host")
    parser.add_argument("port", type=int)
    parser.add_argument("--ca")
    parser.add_argument("--server-name")
    parser.add_argument("--min-version", choices=VERSIONS, default=None)
    parser.add_argument("--max-version", choices=VERSIONS, default=None)
    parser.add_argument("--client-cert")
    parser.add_argument("--client-key")
    parser.add_argument("--no-verify", action="store_true")
    parser.add_argument("--no-check-hostname", action="store_true", help="verify the chain but not the name")
    parser.add_argument("--await-verdict", action="store_true", help="wait up to 1 s for an alert after the handshake")
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    if args.no_verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    else:
        context.check_hostname = not args.no_check_hostname
        if args.ca:
            context.load_verify_locations(args.ca)
        else:
            context.load_default_certs()
    if args.min_version:
        context.minimum_version = VERSIONS[args.min_version]
    if args.max_version:
        context.maximum_version = VERSIONS[args.max_version]
    if args.min_version in ("1.0", "1.1") or args.max_version in ("1.0", "1.1"):
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.set_alpn_protocols(["http/1.1"])
    if args.client_cert:
        context.load_cert_chain(args.client_cert, args.client_key)

    server_name = args.server_name or args.host
    try:
        with socket.create_connection((args.host, args.port), timeout=args.timeout) as raw:
            with context.wrap_socket(raw, server_hostname=server_name) as tls:
                cert = tls.getpeercert() or {}
                names = [value for kind, value in cert.get("subjectAltName", ()) if kind == "DNS"]
                result = {
                    "ok": True,
                    "version": tls.version(),
                    "cipher": tls.cipher()[0],
                    "alpn": tls.selected_alpn_protocol(),
                    "peer_dns_names": names,
                }
                if args.await_verdict:
                    # A TLS 1.3 server checks a client certificate after the client's Finished:
                    # read once so that a refusal arrives as an alert here.
                    tls.settimeout(1.0)
                    try:
                        data = tls.recv(1)
                        if data == b"":
                            result["closed_after_handshake"] = True
                    except TimeoutError:
                        pass
    except ssl.SSLError as error:
        result = {"ok": False, "error": str(error), "reason": error.reason}
    except (OSError, TimeoutError) as error:
        result = {"ok": False, "error": f"{type(error).__name__}: {error}", "reason": None}
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
