import adapter from "webrtc-adapter";
import { live } from "./live.js";
import { stopLocal } from "./lobby.js";
import { T, api, fail, status } from "./page.js";
import { renderRoom, tileForFeed } from "./room.js";
import { onState } from "./socket.js";
import { dropRemote, forget, syncSubscriptions } from "./subscriber.js";

// --- Janus ------------------------------------------------------------------------------------
let janusReady = false;
function withJanus(callback) {
  if (janusReady) { callback(); return; }
  window.Janus.init({ debug: false, dependencies: window.Janus.useDefaultDependencies({ adapter: adapter }), callback: function () {
    janusReady = true; callback();
  } });
}

export function connect() {
  if (live.conn) return;
  var c = live.conn = { ready: false, published: false, pub: null, sub: null, publishers: {}, subscribed: {},
                   midToFeed: {}, displays: {}, subBusy: false, info: null, janus: null, closed: false };
  status(T.connecting);
  api("POST", "/me/connect").then(function (info) {
    if (c.closed) return;
    c.info = info;
    var server = info.server.charAt(0) === "/"
      ? (location.protocol === "https:" ? "wss://" : "ws://") + location.host + info.server : info.server;
    withJanus(function () {
      c.janus = new window.Janus({
        server: server, token: info.token, iceServers: info.ice_servers, destroyOnUnload: true,
        success: function () { attachPublisher(c); },
        error: function () { if (!c.closed) lost(c); },
      });
    });
  }).catch(function (err) {
    if (c.closed) return;
    fail(err);
    lost(c);
  });
}

export function lost(c) {
  if (c !== live.conn || c.closed) return;
  status(T.lost);
  api("POST", "/me/status", { presence: "reconnecting" }).catch(function () {});
  reconnect(live.reconnectDelay);
  live.reconnectDelay = Math.min(live.reconnectDelay * 2, 10000);
}

export function reconnect(delay) {
  hangup();
  if (live.reconnectTimer) clearTimeout(live.reconnectTimer);
  live.reconnectTimer = setTimeout(function () {
    live.reconnectTimer = null;
    if (live.wantRoom && live.you && live.you.status === "admitted") connect();
  }, delay);
}

export function hangup() {
  var c = live.conn;
  live.conn = null;
  Object.keys(live.remote).forEach(dropRemote);
  if (!c) return;
  c.closed = true;
  if (c.janus) {
    try { c.janus.destroy({ cleanupHandles: true, notifyDestroyed: false }); } catch (e) { /* already gone */ }
  }
}

function attachPublisher(c) {
  c.janus.attach({
    plugin: "janus.plugin.videoroom",
    success: function (handle) {
      c.pub = handle;
      handle.send({ message: { request: "join", ptype: "publisher", room: c.info.room_id, id: c.info.feed_id,
                               display: "p" + c.info.participant_id, token: c.info.token, pin: c.info.pin } });
    },
    error: function () { lost(c); },
    onmessage: function (msg, jsep) { onPublisherMessage(c, msg, jsep); },
    onlocaltrack: function () { renderRoom(); },
    webrtcState: function (up) {
      if (c !== live.conn) return;
      if (up) {
        c.published = true;
        online(c);
      } else { lost(c); }
    },
    iceState: function (s) { if (s === "failed" && c === live.conn) lost(c); },
  });
}

function online(c) {
  c.ready = true;
  live.reconnectDelay = 1000;
  status(T.connected);
  api("POST", "/me/status", { presence: "online", self_muted: live.selfMuted, camera_on: live.cameraOn && live.mode === "video" })
    .then(onState).catch(function () {});
}

function onPublisherMessage(c, msg, jsep) {
  if (c !== live.conn) return;
  var kind = msg.videoroom;
  if (kind === "joined") {
    (msg.publishers || []).forEach(function (p) { c.publishers[p.id] = p.streams || []; c.displays[p.id] = p.display; });
    if (live.mode === "listen") online(c);
    else publish(c);
    syncSubscriptions(c);
  } else if (kind === "event") {
    if (msg.error_code) { fail({ message: msg.error }); if (msg.error_code === 433 || msg.error_code === 426) lost(c); }
    (msg.publishers || []).forEach(function (p) { c.publishers[p.id] = p.streams || []; c.displays[p.id] = p.display; });
    var gone = msg.leaving || msg.unpublished;
    if (gone === "ok") { lost(c); return; } // we were kicked or unpublished by the server
    if (gone) { delete c.publishers[gone]; forget(c, gone); }
    syncSubscriptions(c);
  } else if (kind === "talking" || kind === "stopped-talking") {
    var tile = tileForFeed(msg.id);
    if (tile) tile.classList.toggle("talking", kind === "talking");
  }
  if (jsep) c.pub.handleRemoteJsep({ jsep: jsep });
}

function liveTrack(kind) {
  var list = live.localStream ? (kind === "audio" ? live.localStream.getAudioTracks() : live.localStream.getVideoTracks()) : [];
  return list.filter(function (t) { return t.readyState === "live"; })[0] || null;
}

function publish(c) {
  // Tearing a connection down can stop the captured tracks: capture again if needed.
  if (!liveTrack("audio") || (live.mode === "video" && !liveTrack("video"))) {
    stopLocal();
    navigator.mediaDevices.getUserMedia({ audio: true, video: live.mode === "video" }).then(function (stream) {
      live.localStream = stream;
      if (c === live.conn) sendOffer(c);
    }).catch(function () { if (c === live.conn) sendOffer(c); });
    return;
  }
  sendOffer(c);
}

function sendOffer(c) {
  var tracks = [];
  var audio = liveTrack("audio");
  var video = live.mode === "video" && liveTrack("video");
  tracks.push({ type: "audio", capture: audio || true, recv: false });
  if (live.mode === "video") tracks.push({ type: "video", capture: video || true, recv: false });
  c.pub.createOffer({
    tracks: tracks,
    success: function (offer) {
      c.pub.send({ message: { request: "publish", audio: true, video: live.mode === "video" }, jsep: offer });
      if (live.selfMuted || (live.you && live.you.force_muted)) c.pub.muteAudio();
      if (live.mode === "video" && !live.cameraOn) c.pub.muteVideo();
    },
    error: function (err) { fail(err); lost(c); },
  });
}
