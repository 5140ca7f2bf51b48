import { live } from "./live.js";
import { loadChat } from "./chat.js";
import { renderHost } from "./host.js";
import { languageName } from "./interpretation.js";
import { $, T, api, clock, fail, fmt, isHost, show, text } from "./page.js";
import { onState } from "./socket.js";

// --- the room -----------------------------------------------------------------------------------
let tiles = {};
export function tileForFeed(feed) {
  if (!live.state) return null;
  var p = live.state.participants.filter(function (x) { return x.feed_id === feed; })[0];
  return p ? tiles[p.id] : null;
}

function tag(list, label, cls) {
  var s = document.createElement("span");
  s.className = "badge " + (cls || "");
  s.textContent = label;
  list.appendChild(s);
}

export function button(label, handler, cls) {
  var b = document.createElement("button");
  b.type = "button"; b.textContent = label;
  if (cls) b.className = cls;
  b.addEventListener("click", handler);
  return b;
}

export function renderRoom() {
  if (!live.state || $("room").hidden) return;
  var list = $("tiles");
  var seen = {};
  var byId = {};
  live.state.participants.forEach(function (p) { byId[p.id] = p; });
  live.state.participants.forEach(function (p) {
    seen[p.id] = true;
    var tile = tiles[p.id];
    if (!tile) {
      tile = tiles[p.id] = $("tile-template").content.firstElementChild.cloneNode(true);
      tile.dataset.participant = p.id;
      list.appendChild(tile);
    }
    var mine = live.you && p.id === live.you.id;
    tile.classList.toggle("me", !!mine);
    tile.classList.toggle("talking", p.talking);
    tile.classList.toggle("reconnecting", p.presence !== "online");
    tile.classList.toggle("floor", !!(live.state.turn && live.state.turn.participant_id === p.id));
    text(tile.querySelector(".name"), p.display_name + (mine ? " (" + T.you + ")" : ""));
    text(tile.querySelector(".initials"), p.display_name.split(/\s+/).map(function (w) { return w.charAt(0); })
      .join("").slice(0, 2).toUpperCase());
    var tags = tile.querySelector(".tags");
    tags.textContent = "";
    if (live.state.turn && live.state.turn.participant_id === p.id) tag(tags, T.floor, "live");
    if (p.talking) tag(tags, T.talking, "talking");
    if (p.force_muted) tag(tags, T.hostMuted);
    else if (p.self_muted) tag(tags, T.muted);
    if (p.hand_raised) tag(tags, T.hand);
    if (p.presence === "reconnecting") tag(tags, T.reconnecting);
    if (p.presence === "offline") tag(tags, T.offline);
    // Everyone sees who interprets, and into what: their voice is a channel, not the floor.
    if (p.role === "staff") tag(tags, fmt(T.interpreterOf, { language: languageName(p.language) }), "interpreter");
    if (p.role === "observer") tag(tags, T.observer, "observer");
    else if (p.mode === "listen") tag(tags, T.listening);
    if (p.mode === "audio") tag(tags, T.audioOnly);
    var media = tile.querySelector(".media");
    var video = null;
    if (mine && live.mode === "video" && live.cameraOn && live.localStream && live.localStream.getVideoTracks().length) {
      video = tile.querySelector("video.local");
      if (!video) {
        video = document.createElement("video");
        video.className = "local"; video.muted = true; video.autoplay = true; video.playsInline = true;
        video.srcObject = new MediaStream(live.localStream.getVideoTracks());
      }
    } else if (!mine && p.feed_id && live.remote[p.feed_id] && live.remote[p.feed_id].video && p.camera_on) {
      video = live.remote[p.feed_id].video;
    }
    Array.prototype.slice.call(media.querySelectorAll("video")).forEach(function (v) {
      if (v !== video) v.remove();
    });
    if (video && video.parentNode !== media) media.appendChild(video);
    media.classList.toggle("has-video", !!video);
    var actions = tile.querySelector(".tile-actions");
    actions.textContent = "";
    if (isHost && !mine) {
      actions.appendChild(button(p.force_muted ? T.release : T.forceMute, function () {
        api("POST", "/participants/" + p.id + "/mute", { muted: !p.force_muted }).then(onState).catch(fail);
      }, "secondary"));
      if (p.mode !== "listen") {
        actions.appendChild(button(T.give, function () {
          api("POST", "/floor", { action: "give", participant_id: p.id }).then(onState).catch(fail);
        }, "secondary"));
      }
      if (p.role !== "host") {
        actions.appendChild(button(T.remove, function () {
          api("POST", "/participants/" + p.id + "/remove").then(onState).catch(fail);
        }, "danger"));
      }
    }
  });
  Object.keys(tiles).forEach(function (id) {
    if (!seen[id]) { tiles[id].remove(); delete tiles[id]; }
  });
  renderControls();
  renderQueue(byId);
  renderTurn(byId);
  if (isHost) renderHost(byId);
  if (!live.chatLoaded) loadChat();
}

function renderControls() {
  if (!live.you) return;
  var forced = live.you.force_muted;
  if (live.conn && live.conn.pub && live.conn.published && live.mode !== "listen") {
    // The facilitator's block is enforced by Janus; muting locally too keeps the UI honest.
    var shouldMute = live.selfMuted || forced;
    if (shouldMute !== live.conn.pub.isAudioMuted()) {
      if (shouldMute) live.conn.pub.muteAudio(); else live.conn.pub.unmuteAudio();
    }
  }
  var muteBtn = $("mute-btn");
  muteBtn.hidden = live.mode === "listen";
  muteBtn.disabled = forced;
  muteBtn.setAttribute("aria-pressed", String(live.selfMuted || forced));
  text(muteBtn, forced ? T.hostMuted : (live.selfMuted ? T.unmute : T.mute));
  var camBtn = $("camera-btn");
  camBtn.hidden = live.mode !== "video";
  camBtn.setAttribute("aria-pressed", String(live.cameraOn));
  text(camBtn, live.cameraOn ? T.cameraOff : T.cameraOn);
  var handBtn = $("hand-btn");
  // Listeners do not speak; an interpreter speaks into their channel, never on the floor.
  handBtn.hidden = live.mode === "listen" || !!(live.interp && live.interp.interpreting);
  handBtn.setAttribute("aria-pressed", String(live.you.hand_raised));
  text(handBtn, live.you.hand_raised ? T.lower : T.raise);
  // Everyone in the room, listeners included, agrees or withdraws here at any time.
  var consentBtn = $("consent-btn");
  consentBtn.setAttribute("aria-pressed", String(!!live.you.consent));
  text(consentBtn, live.you.consent ? T.refuseRec : T.allowRec);
  var note = live.state.recording ? (live.state.recording.paused ? T.recPausedNote : T.recOnNote) : T.recWaitsNote;
  if (!live.state.recording && live.state.can_record) note = "";
  text($("recording-note"), (note ? note + " " : "") + (live.you.consent ? T.youAgreed : T.youNotAgreed));
}

function renderQueue(byId) {
  var list = $("queue");
  list.textContent = "";
  live.state.queue.forEach(function (pid) {
    var p = byId[pid];
    if (!p) return;
    var li = document.createElement("li");
    li.textContent = p.display_name;
    list.appendChild(li);
  });
  show("queue-empty", !live.state.queue.length);
}

let countdownTimer = null;
function renderTurn(byId) {
  var turn = live.state.turn;
  show("turn", !!turn);
  if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
  if (!turn) return;
  var p = byId[turn.participant_id];
  text($("turn-name"), (p ? p.display_name : "") + ": " + T.floor);
  var ends = turn.ends_at ? Date.parse(turn.ends_at) : null;
  function tickDown() {
    text($("countdown"), ends === null ? "" : clock((ends - (Date.now() + live.serverOffset)) / 1000));
  }
  tickDown();
  if (ends !== null) countdownTimer = setInterval(tickDown, 250);
}
