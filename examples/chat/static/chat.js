"use strict";
// The chat page: the room's history over REST, its live messages over a WebSocket to the same
// origin (wss:// when the page came over https://), posting over the WebSocket (REST while it is down).

const state = { room: null, socket: null, lastID: 0, retry: 500 };
const $ = (id) => document.getElementById(id);

function roomFromHash() {
  return decodeURIComponent(location.hash.slice(1)) || "general";
}

function setStatus(text, live) {
  $("status").textContent = text;
  $("status").className = live ? "status live" : "status";
}

function show(message) {
  if (message.room !== state.room || document.querySelector(`#messages [data-id="${message.id}"]`)) return;
  state.lastID = Math.max(state.lastID, message.id);
  const item = document.createElement("li");
  item.dataset.id = message.id;
  const time = document.createElement("time");
  time.textContent = new Date(message.time * 1000).toLocaleTimeString();
  const user = document.createElement("span");
  user.className = "user";
  user.textContent = message.user;
  const text = document.createElement("span");
  text.className = "text";
  text.textContent = message.text;
  item.append(time, user, text);
  const list = $("messages");
  const atBottom = list.scrollTop + list.clientHeight >= list.scrollHeight - 4;
  list.append(item);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

async function loadRooms() {
  const rooms = await (await fetch("/api/rooms")).json();
  $("rooms").replaceChildren(...rooms.map((room) => {
    const link = document.createElement("a");
    link.href = "#" + encodeURIComponent(room.name);
    link.textContent = "# " + room.name;
    link.className = room.name === state.room ? "current" : "";
    const item = document.createElement("li");
    item.append(link);
    return item;
  }));
}

async function loadHistory() {
  const response = await fetch(`/api/rooms/${encodeURIComponent(state.room)}/messages?after=${state.lastID}`);
  if (!response.ok) throw new Error("history: HTTP " + response.status);
  for (const message of await response.json()) show(message);
}

function connect() {
  const room = state.room;
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/ws/${encodeURIComponent(room)}`);
  state.socket = socket;
  socket.onopen = () => {
    state.retry = 500;
    setStatus("live", true);
    // Whatever arrived while the socket was down.
    loadHistory().catch((error) => setStatus(error.message, false));
  };
  socket.onmessage = (event) => {
    const data = JSON.parse(event.data);
    if (data.type === "message") show(data.message);
    else if (data.type === "error") setStatus(data.error, true);
  };
  socket.onclose = () => {
    if (state.socket !== socket) return;
    setStatus("reconnecting…", false);
    setTimeout(() => state.room === room && connect(), state.retry);
    state.retry = Math.min(state.retry * 2, 10000);
  };
}

async function enter(room) {
  if (state.socket) {
    const old = state.socket;
    state.socket = null;
    old.close();
  }
  state.room = room;
  state.lastID = 0;
  $("room-title").textContent = "# " + room;
  $("messages").replaceChildren();
  setStatus("connecting…", false);
  await loadRooms();
  await loadHistory();
  connect();
}

async function send(text) {
  const message = { user: $("user").value || "anonymous", text };
  if (state.socket && state.socket.readyState === WebSocket.OPEN) {
    state.socket.send(JSON.stringify(message));
    return;
  }
  const response = await fetch(`/api/rooms/${encodeURIComponent(state.room)}/messages`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(message),
  });
  if (response.ok) show(await response.json());
}

$("user").value = localStorage.getItem("chat-user") || "guest-" + Math.floor(Math.random() * 1000);
$("user").addEventListener("change", () => localStorage.setItem("chat-user", $("user").value));
$("compose").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("text").value.trim();
  if (!text) return;
  $("text").value = "";
  send(text).catch((error) => setStatus(error.message, false));
});
window.addEventListener("hashchange", () => enter(roomFromHash()));
enter(roomFromHash()).catch((error) => setStatus(error.message, false));
