#!/usr/bin/env node
// A WebSocket client wsgate did not write: Node's `ws` (Debian package node-ws), for tests.
//
//   node ws_node_client.js URL [--sizes 0,1,125] [--no-context-takeover] [--timeout S] [--ca PEM]
//
// Offers permessage-deflate (with server_ and client_no_context_takeover when asked), sends for each
// size a binary message (seeded pseudo-random bytes, half of it repetitive so it compresses) and a
// text message with multi-byte characters, and checks each echo. Prints one JSON line:
//   {"ok": true, "messages": K, "extensions": "the 101's Sec-WebSocket-Extensions"}
// or {"ok": false, "error": "..."}; exits 0 on success, 1 on failure. For wss:// URLs, --ca names a PEM
// file of CA certificates to trust instead of the system store.
'use strict';

const fs = require('fs');
const WebSocket = require('ws');

function parseArgs(argv) {
  const args = { url: null, sizes: [0, 1, 125, 126, 65535, 65536], noContextTakeover: false, timeout: 60, ca: null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--sizes') args.sizes = argv[++i].split(',').filter((s) => s.trim()).map(Number);
    else if (arg === '--no-context-takeover') args.noContextTakeover = true;
    else if (arg === '--timeout') args.timeout = Number(argv[++i]);
    else if (arg === '--ca') args.ca = argv[++i];
    else args.url = arg;
  }
  return args;
}

function binaryPayload(size, seed) {
  const bytes = Buffer.alloc(size);
  let state = seed >>> 0;
  for (let i = 0; i < size; i++) {
    state = (Math.imul(state, 1103515245) + 12345) >>> 0;
    bytes[i] = i % 64 < 32 ? state >>> 24 : i % 7;
  }
  return bytes;
}

function textPayload(size) {
  const alphabet = ['a', 'é', '€', '😀', 'Z', 'ß', '中', '𝄞', ' '];
  let text = '';
  let remaining = size;
  for (let i = 0; remaining > 0; i++) {
    let char = alphabet[i % alphabet.length];
    let width = Buffer.byteLength(char);
    if (width > remaining) { char = 'x'; width = 1; }
    text += char;
    remaining -= width;
  }
  return text;
}

function finish(result) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(result.ok ? 0 : 1));
}

const args = parseArgs(process.argv.slice(2));
const backstop = setTimeout(() => finish({ ok: false, error: 'timed out' }), args.timeout * 1000);
const ws = new WebSocket(args.url, {
  // Left undefined unless asked: an explicit false would make ws refuse a server's unasked
  // client_no_context_takeover, which RFC 7692 section 7.1.1.2 allows.
  perMessageDeflate: args.noContextTakeover
    ? { serverNoContextTakeover: true, clientNoContextTakeover: true, threshold: 0 }
    : { threshold: 0 },
  maxPayload: 0,
  ...(args.ca ? { ca: fs.readFileSync(args.ca) } : {}),
});
const queue = [];
for (const size of args.sizes) {
  queue.push({ kind: 'binary', payload: binaryPayload(size, size + 1) });
  queue.push({ kind: 'text', payload: textPayload(size) });
}
let extensions = null;
let messages = 0;

function sendNext() {
  if (queue.length === 0) {
    ws.close(1000);
    return;
  }
  ws.send(queue[0].payload, { binary: queue[0].kind === 'binary', compress: true });
}

ws.on('upgrade', (response) => { extensions = response.headers['sec-websocket-extensions'] || null; });
ws.on('open', sendNext);
ws.on('message', (data, isBinary) => {
  const expected = queue.shift();
  const ok = expected.kind === 'binary'
    ? isBinary && Buffer.compare(data, expected.payload) === 0
    : !isBinary && data.toString('utf8') === expected.payload;
  if (!ok) {
    clearTimeout(backstop);
    finish({ ok: false, messages, error: `echo mismatch for ${expected.kind} message of ${Buffer.byteLength(expected.payload)} bytes` });
    return;
  }
  messages++;
  sendNext();
});
ws.on('close', (code) => {
  clearTimeout(backstop);
  finish(queue.length === 0 ? { ok: true, messages, extensions, close_code: code } : { ok: false, messages, error: `closed early with ${code}` });
});
ws.on('error', (error) => {
  clearTimeout(backstop);
  finish({ ok: false, messages, error: String(error) });
});
