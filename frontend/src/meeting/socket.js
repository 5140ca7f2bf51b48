import { live } from "./live.js";
import { addChat } from "./chat.js";
import { reconnect } from "./connection.js";
import { loadRecordings, onEnded } from "./host.js";
import { feedsOf, interpRefreshSoon, onCaption, sendReading } from "./interpretation.js";
import { resumeJoin } from "./lobby.js";
import { $, T, dialogueId, status } from "./page.js";
import { render } from "./view.js";

// The meeting socket /ws/meetings/<id>: the meeting state (the database is the truth), chat,
// captions and what changed; it reconnects by itself.
let socketDelay = 500;
export function openSocket() {
  var proto = location.protocol === "https:" ? "wss://" : "ws://";
  live.socket = new WebSocket(proto + location.host + "/ws/meetings/" + dialogueId);
  live.socket.onmessage = function (ev) {
    var frame = JSON.parse(ev.data);
    if (frame.type === "state") onState(frame.state);
    else if (frame.type === "chat") addChat($("chat-messages"), frame.message.author_name, frame.message.body);
    else if (frame.type === "ended") onEnded(frame.summary);
    else if (frame.type === "media_restarted") { if (live.conn) { status(T.mediaRestart); reconnect(0); } }
    else if (frame.type === "recordings") loadRecordings();
    else if (frame.type === "caption") onCaption(frame.caption);
    else if (frame.type === "interpretation") interpRefreshSoon();
  };
  live.socket.onopen = function () { socketDelay = 500; sendReading(); };
  live.socket.onclose = function (ev) {
    if (ev.code === 4401 || ev.code === 4403) return;
    setTimeout(openSocket, socketDelay);
    socketDelay = Math.min(socketDelay * 2, 10000);
  };
}
export function keepAlive() {
  setInterval(function () {
    if (live.socket && live.socket.readyState === 1) live.socket.send('{"type":"ping"}');
  }, 25000);
}

export function onState(next) {
  if (live.state && next.version < live.state.version && next.status === live.state.status) return;
  var before = live.state;
  live.state = next;
  live.you = next.you;
  // The room's pin changes when someone is removed: later subscriptions need the new one.
  if (next.room_pin && live.conn && live.conn.info) live.conn.info.pin = next.room_pin;
  live.serverOffset = Date.parse(next.server_time) - Date.now();
  if (!before && next.status === "not_started") return; // the page itself says so
  if (!before) resumeJoin(next);
  if (before && before.status === "not_started" && next.status !== "not_started") { location.reload(); return; }
  if (live.interp && feedsOf(next) !== feedsOf(before)) interpRefreshSoon(); // an interpreter (re)connected
  render();
}
