#!/usr/bin/env python3
"""Checks that the folders of Sources/WSGate are layers: a folder uses only types declared in the
folders of earlier layers (or its own layer), never a later one. Exits 1 and names each use that
breaks the order. Types are the top-level declarations (struct, class, enum, protocol, actor,
typealias) of each folder; a use is the type's name appearing in another folder's code (comments
left out). Run by .ci/run; by hand: python3 scripts/layers.py"""
import os
import re
import sys

# Bottom first; folders on one line form one layer (README "Layout").
LAYERS = [
    ["Configuration"],
    ["HTTP", "Routing", "TLS"],
    ["WebSocket"],
    ["Compression", "ConnectionPool", "Limits"],
    ["Stats"],
    ["AccessLog"],
    ["Auth"],
    ["Proxy"],
    ["Upstream"],
    ["HTTPProxy"],
    ["HTTP2Server"],
    ["Handshake"],
    ["Gateway"],
    ["Admin", "Lifecycle"],
]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Sources", "WSGate")
DECLARATION = re.compile(
    r"^(?:public |internal |private |fileprivate |final |indirect )*"
    r"(?:struct|class|enum|protocol|actor|typealias)\s+([A-Z]\w*)",
    re.M,
)

layer_of = {folder: index for index, row in enumerate(LAYERS) for folder in row}
sources = {}
owner = {}
for folder in sorted(os.listdir(ROOT)):
    directory = os.path.join(ROOT, folder)
    if not os.path.isdir(directory):
        continue
    if folder not in layer_of:
        sys.exit(f"layers.py: Sources/WSGate/{folder} is in no layer; add it to LAYERS")
    for base, _, files in os.walk(directory):
        for name in files:
            if name.endswith(".swift"):
                path = os.path.join(base, name)
                text = open(path, encoding="utf-8").read()
                sources[path] = (folder, re.sub(r"//.*", "", text))
                for match in DECLARATION.finditer(text):
                    owner[match.group(1)] = folder

broken = []
for path, (folder, text) in sorted(sources.items()):
    for name in sorted(set(re.findall(r"\b[A-Z]\w*\b", text))):
        used = owner.get(name)
        if used and layer_of[used] > layer_of[folder]:
            broken.append(f"{os.path.relpath(path, ROOT)} uses {name} from {used}, a later layer")
for line in broken:
    print(line)
print(f"layers: {len(sources)} files, {len(owner)} types, {len(broken)} uses against the order")
sys.exit(1 if broken else 0)
