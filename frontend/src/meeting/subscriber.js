import { live } from "./live.js";
import { lost } from "./connection.js";
import { applyVolume, channelOfFeed } from "./interpretation.js";
import { MONITOR_LIMIT } from "./page.js";
import { renderRoom } from "./room.js";

// --- receiving: one multistream subscriber ----------------------------------------------------
function wantedStreams(c) {
  var out = [];
  Object.keys(c.publishers).forEach(function (feed) {
    var id = Number(feed);
    if (id < MONITOR_LIMIT || (c.info && id === c.info.feed_id)) return;
    var channel = channelOfFeed(c, id);
    if (channel && channel !== live.listening) return; // voices and interpreters: only the one chosen
    (c.publishers[feed] || []).forEach(function (s) {
      if (s.disabled) return;
      if (s.type === "audio" || (s.type === "video" && live.mode === "video")) out.push({ feed: id, mid: s.mid });
    });
  });
  return out;
}

export function syncSubscriptions(c) {
  if (c.subBusy || c !== live.conn) return;
  var add = wantedStreams(c).filter(function (s) { return !c.subscribed[s.feed + ":" + s.mid]; });
  if (!add.length) return;
  c.subBusy = true;
  add.forEach(function (s) { c.subscribed[s.feed + ":" + s.mid] = true; });
  if (!c.sub) {
    c.janus.attach({
      plugin: "janus.plugin.videoroom",
      success: function (handle) {
        c.sub = handle;
        handle.send({ message: { request: "join", ptype: "subscriber", room: c.info.room_id, streams: add,
                                 token: c.info.token, pin: c.info.pin } });
      },
      error: function () { lost(c); },
      onmessage: function (msg, jsep) { onSubscriberMessage(c, msg, jsep); },
      onremotetrack: function (track, mid, on) { onRemoteTrack(c, track, mid, on); },
    });
  } else {
    c.sub.send({ message: { request: "subscribe", streams: add } });
  }
}

export function forget(c, feed) {
  Object.keys(c.subscribed).forEach(function (k) { if (k.split(":")[0] === String(feed)) delete c.subscribed[k]; });
  dropRemote(feed);
}

function onSubscriberMessage(c, msg, jsep) {
  if (c !== live.conn) return;
  if (msg.error_code) {
    c.subBusy = false;
    if (!c.subJoined) {
      // The join itself was refused (e.g. a pin changed meanwhile): start the subscriber
      // again with what the meeting says now, instead of hearing nobody.
      Object.keys(c.subscribed).forEach(function (k) { delete c.subscribed[k]; });
      var stale = c.sub;
      c.sub = null;
      if (stale) stale.detach();
      setTimeout(function () { syncSubscriptions(c); }, 1000);
    }
    return;
  }
  if (msg.videoroom === "attached") c.subJoined = true;
  (msg.streams || []).forEach(function (s) { if (s.feed_id) c.midToFeed[s.mid] = s.feed_id; });
  if (jsep) {
    c.sub.createAnswer({
      jsep: jsep, tracks: [{ type: "data" }],
      success: function (answer) {
        c.sub.send({ message: { request: "start", room: c.info.room_id }, jsep: answer });
        c.subBusy = false;
        syncSubscriptions(c);
      },
      error: function () { c.subBusy = false; },
    });
  } else if (msg.videoroom === "updated" || msg.videoroom === "attached") {
    c.subBusy = false;
  }
}

function onRemoteTrack(c, track, mid, on) {
  var feed = c.midToFeed[mid];
  if (!feed) return;
  var r = live.remote[feed];
  if (!r) r = live.remote[feed] = { stream: new MediaStream(), audio: null, video: null };
  if (on) {
    r.stream.getTracks().forEach(function (t) { if (t.kind === track.kind) r.stream.removeTrack(t); });
    r.stream.addTrack(track);
    if (track.kind === "audio" && !r.audio) {
      r.audio = document.createElement("audio");
      r.audio.autoplay = true;
      r.audio.srcObject = r.stream;
      document.body.appendChild(r.audio);
    }
    if (track.kind === "audio") applyVolume(feed);
    if (track.kind === "video" && !r.video) {
      r.video = document.createElement("video");
      r.video.autoplay = true; r.video.playsInline = true; r.video.muted = true;
      r.video.srcObject = new MediaStream([track]);
    } else if (track.kind === "video") {
      r.video.srcObject = new MediaStream([track]);
    }
  } else {
    r.stream.getTracks().forEach(function (t) { if (t.kind === track.kind) r.stream.removeTrack(t); });
    if (track.kind === "video" && r.video) { r.video.remove(); r.video = null; }
  }
  renderRoom();
}

export function dropRemote(feed) {
  var r = live.remote[feed];
  if (!r) return;
  if (r.audio) r.audio.remove();
  if (r.video) r.video.remove();
  delete live.remote[feed];
}
