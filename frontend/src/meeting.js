// The meeting page: lobby (device check, level meter, language, name, mode), the room on
// Janus (publish through one VideoRoom handle, receive everyone through one multistream
// subscriber), facilitator controls, chats, and automatic reconnection.
//
// Meeting state comes from Parley's socket /ws/meetings/<id> (the database is the truth);
// media goes between the browser and Janus only. Uses window.Janus from build/janus.js;
// janus.js looks for a global `adapter` unless given one, so webrtc-adapter is passed in.
import adapter from "webrtc-adapter";

(function () {
  "use strict";
  var root = document.getElementById("meeting");
  if (!root || !window.Janus) return;
  var T = document.getElementById("meeting-text").dataset;
  var dialogueId = root.dataset.dialogue;
  var isHost = root.dataset.host === "true";
  var MONITOR_LIMIT = 1 << 20;

  function $(id) { return document.getElementById(id); }
  function show(id, on) { var el = $(id); if (el) el.hidden = !on; }
  function text(el, value) { if (el) el.textContent = value; }
  function fmt(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
  }
  function api(method, path, body) {
    return window.parley.api(method, "/api/v1/meetings/" + dialogueId + path, body);
  }
  function status(message) { text($("status-line"), message || ""); }
  function fail(err) {
    status((err && err.message) || T.error);
    if (window.console) console.warn("meeting:", err && (err.code || err.message || err));
  }
  function clock(seconds) {
    seconds = Math.max(0, Math.round(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  // --- state --------------------------------------------------------------------------------
  var state = null;
  var you = null;
  var serverOffset = 0;
  var wantRoom = false;       // true between joining and leaving (drives reconnection)
  var mode = "video";
  var selfMuted = false;
  var cameraOn = true;
  var localStream = null;
  var conn = null;            // the current Janus connection
  var remote = {};            // feed id -> {stream, audio, video}
  var chatLoaded = false;
  var reconnectDelay = 1000;
  var reconnectTimer = null;
  var leftText = $("left-text").textContent;

  window.parleyMeeting = {
    state: function () { return state; },
    connected: function () { return !!(conn && conn.ready); },
    published: function () { return !!(conn && conn.published); },
    subscribedFeeds: function () { return conn ? Object.keys(conn.subscribed).map(function (k) { return k.split(":")[0]; }) : []; },
    remoteStreams: function () {
      return Object.keys(remote).map(function (feed) { return { feed: Number(feed), stream: remote[feed].stream }; });
    },
    localStream: function () { return localStream; },
  };

  // --- the meeting socket ---------------------------------------------------------------------
  var socket = null;
  var socketDelay = 500;
  function openSocket() {
    var proto = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(proto + location.host + "/ws/meetings/" + dialogueId);
    socket.onmessage = function (ev) {
      var frame = JSON.parse(ev.data);
      if (frame.type === "state") onState(frame.state);
      else if (frame.type === "chat") addChat($("chat-messages"), frame.message.author_name, frame.message.body);
      else if (frame.type === "ended") onEnded(frame.summary);
      else if (frame.type === "media_restarted") { if (conn) { status(T.mediaRestart); reconnect(0); } }
      else if (frame.type === "recordings") loadRecordings();
      else if (frame.type === "caption") onCaption(frame.caption);
      else if (frame.type === "interpretation") interpRefreshSoon();
    };
    socket.onopen = function () { socketDelay = 500; sendReading(); };
    socket.onclose = function (ev) {
      if (ev.code === 4401 || ev.code === 4403) return;
      setTimeout(openSocket, socketDelay);
      socketDelay = Math.min(socketDelay * 2, 10000);
    };
  }
  setInterval(function () {
    if (socket && socket.readyState === 1) socket.send('{"type":"ping"}');
  }, 25000);

  function onState(next) {
    if (state && next.version < state.version && next.status === state.status) return;
    var before = state;
    state = next;
    you = next.you;
    // The room's pin changes when someone is removed: later subscriptions need the new one.
    if (next.room_pin && conn && conn.info) conn.info.pin = next.room_pin;
    serverOffset = Date.parse(next.server_time) - Date.now();
    if (!before && next.status === "not_started") return; // the page itself says so
    if (before && before.status === "not_started" && next.status !== "not_started") { location.reload(); return; }
    if (interp && feedsOf(next) !== feedsOf(before)) interpRefreshSoon(); // an interpreter (re)connected
    render();
  }

  // --- what to show ---------------------------------------------------------------------------
  function render() {
    show("rec-indicator", !!state.recording);
    text($("rec-indicator"), state.recording && state.recording.paused ? T.recPaused : T.recordingLabel);
    show("lock-indicator", state.locked);
    if (state.status === "ended") {
      hangup();
      wantRoom = false;
      showEnded();
      return;
    }
    show("end-form", state.status === "open");
    if (state.status !== "open") return;
    var st = you ? you.status : null;
    if (st === "removed" || st === "denied") {
      wantRoom = false;
      hangup();
      stopPreview();
      ["lobby", "waiting", "room"].forEach(function (id) { show(id, false); });
      text($("left-text"), st === "removed" ? T.removed : T.denied);
      show("rejoin-btn", false);
      show("left", true);
      return;
    }
    if (st === "admitted" && wantRoom) {
      show("lobby", false); show("waiting", false); show("left", false); show("room", true);
      if (!interp) interpRefresh();
      if (!conn && !reconnectTimer) connect();
      renderRoom();
      return;
    }
    if (st === "waiting" && wantRoom) {
      show("lobby", false); show("room", false); show("left", false); show("waiting", true);
      return;
    }
    if (!wantRoom && $("left").hidden && $("lobby").hidden) {
      show("room", false); show("waiting", false); show("lobby", true);
      startPreview();
    }
  }

  // --- lobby: devices, preview, level meter ---------------------------------------------------
  var meterContext = null, meterTimer = null;
  function chosenMode() {
    var checked = document.querySelector('input[name="mode"]:checked');
    return checked ? checked.value : "audio";
  }
  function stopPreview() {
    if (meterTimer) { clearInterval(meterTimer); meterTimer = null; }
    if (meterContext) { meterContext.close(); meterContext = null; }
  }
  function stopLocal() {
    if (localStream) localStream.getTracks().forEach(function (t) { t.stop(); });
    localStream = null;
  }
  function startPreview() {
    var m = chosenMode();
    stopPreview();
    stopLocal();
    $("preview").srcObject = null;
    if (m === "listen" || !navigator.mediaDevices) { text($("device-status"), ""); return; }
    var mic = $("microphone").value, cam = $("camera").value;
    var constraints = {
      audio: mic ? { deviceId: { exact: mic } } : true,
      video: m === "video" ? (cam ? { deviceId: { exact: cam } } : { width: 640, height: 360 }) : false,
    };
    navigator.mediaDevices.getUserMedia(constraints).then(function (stream) {
      localStream = stream;
      $("preview").srcObject = stream;
      text($("device-status"), T.deviceOk);
      listDevices();
      meter(stream);
    }).catch(function (err) {
      text($("device-status"), err && err.name === "NotFoundError" ? T.noDevices : T.deniedDevices);
    });
  }
  function listDevices() {
    navigator.mediaDevices.enumerateDevices().then(function (devices) {
      [["audioinput", "microphone"], ["videoinput", "camera"]].forEach(function (pair) {
        var select = $(pair[1]), current = select.value;
        var list = devices.filter(function (d) { return d.kind === pair[0]; });
        if (select.options.length === list.length) return;
        select.textContent = "";
        list.forEach(function (d, i) {
          var o = document.createElement("option");
          o.value = d.deviceId; o.textContent = d.label || (pair[1] + " " + (i + 1));
          if (d.deviceId === current) o.selected = true;
          select.appendChild(o);
        });
      });
    });
  }
  function meter(stream) {
    if (!stream.getAudioTracks().length) return;
    var Ctx = window.AudioContext || window.webkitAudioContext;
    meterContext = new Ctx();
    var analyser = meterContext.createAnalyser();
    analyser.fftSize = 512;
    meterContext.createMediaStreamSource(stream).connect(analyser);
    var data = new Uint8Array(analyser.fftSize);
    meterTimer = setInterval(function () {
      analyser.getByteTimeDomainData(data);
      var peak = 0;
      for (var i = 0; i < data.length; i++) peak = Math.max(peak, Math.abs(data[i] - 128));
      var pct = Math.min(100, Math.round(peak / 128 * 180));
      $("level").style.inlineSize = pct + "%";
      $("meter").setAttribute("aria-valuenow", String(pct));
    }, 100);
  }

  function lobbySetup() {
    document.querySelectorAll('input[name="mode"]').forEach(function (r) {
      r.addEventListener("change", function () { show("camera", chosenMode() === "video"); startPreview(); });
    });
    $("microphone").addEventListener("change", startPreview);
    $("camera").addEventListener("change", startPreview);
    $("lobby-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      text($("lobby-error"), "");
      mode = chosenMode();
      cameraOn = mode === "video";
      api("POST", "/join", {
        mode: mode, language: $("language").value, display_name: $("display-name").value,
        consent: $("consent").checked,
      }).then(function (next) {
        wantRoom = true;
        if (next.you && next.you.mode) mode = next.you.mode; // observers always listen
        stopPreview();
        onState(next);
      }).catch(function (err) { text($("lobby-error"), err.message || T.error); });
    });
  }

  // --- Janus ------------------------------------------------------------------------------------
  var janusReady = false;
  function withJanus(callback) {
    if (janusReady) { callback(); return; }
    window.Janus.init({ debug: false, dependencies: window.Janus.useDefaultDependencies({ adapter: adapter }), callback: function () {
      janusReady = true; callback();
    } });
  }

  function connect() {
    if (conn) return;
    var c = conn = { ready: false, published: false, pub: null, sub: null, publishers: {}, subscribed: {},
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

  function lost(c) {
    if (c !== conn || c.closed) return;
    status(T.lost);
    api("POST", "/me/status", { presence: "reconnecting" }).catch(function () {});
    reconnect(reconnectDelay);
    reconnectDelay = Math.min(reconnectDelay * 2, 10000);
  }

  function reconnect(delay) {
    hangup();
    if (reconnectTimer) clearTimeout(reconnectTimer);
    reconnectTimer = setTimeout(function () {
      reconnectTimer = null;
      if (wantRoom && you && you.status === "admitted") connect();
    }, delay);
  }

  function hangup() {
    var c = conn;
    conn = null;
    Object.keys(remote).forEach(dropRemote);
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
        if (c !== conn) return;
        if (up) {
          c.published = true;
          online(c);
        } else { lost(c); }
      },
      iceState: function (s) { if (s === "failed" && c === conn) lost(c); },
    });
  }

  function online(c) {
    c.ready = true;
    reconnectDelay = 1000;
    status(T.connected);
    api("POST", "/me/status", { presence: "online", self_muted: selfMuted, camera_on: cameraOn && mode === "video" })
      .then(onState).catch(function () {});
  }

  function onPublisherMessage(c, msg, jsep) {
    if (c !== conn) return;
    var kind = msg.videoroom;
    if (kind === "joined") {
      (msg.publishers || []).forEach(function (p) { c.publishers[p.id] = p.streams || []; c.displays[p.id] = p.display; });
      if (mode === "listen") online(c);
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
    var list = localStream ? (kind === "audio" ? localStream.getAudioTracks() : localStream.getVideoTracks()) : [];
    return list.filter(function (t) { return t.readyState === "live"; })[0] || null;
  }

  function publish(c) {
    // Tearing a connection down can stop the captured tracks: capture again if needed.
    if (!liveTrack("audio") || (mode === "video" && !liveTrack("video"))) {
      stopLocal();
      navigator.mediaDevices.getUserMedia({ audio: true, video: mode === "video" }).then(function (stream) {
        localStream = stream;
        if (c === conn) sendOffer(c);
      }).catch(function () { if (c === conn) sendOffer(c); });
      return;
    }
    sendOffer(c);
  }

  function sendOffer(c) {
    var tracks = [];
    var audio = liveTrack("audio");
    var video = mode === "video" && liveTrack("video");
    tracks.push({ type: "audio", capture: audio || true, recv: false });
    if (mode === "video") tracks.push({ type: "video", capture: video || true, recv: false });
    c.pub.createOffer({
      tracks: tracks,
      success: function (offer) {
        c.pub.send({ message: { request: "publish", audio: true, video: mode === "video" }, jsep: offer });
        if (selfMuted || (you && you.force_muted)) c.pub.muteAudio();
        if (mode === "video" && !cameraOn) c.pub.muteVideo();
      },
      error: function (err) { fail(err); lost(c); },
    });
  }

  // --- receiving: one multistream subscriber ----------------------------------------------------
  function wantedStreams(c) {
    var out = [];
    Object.keys(c.publishers).forEach(function (feed) {
      var id = Number(feed);
      if (id < MONITOR_LIMIT || (c.info && id === c.info.feed_id)) return;
      var channel = channelOfFeed(c, id);
      if (channel && channel !== listening) return; // voices and interpreters: only the one chosen
      (c.publishers[feed] || []).forEach(function (s) {
        if (s.disabled) return;
        if (s.type === "audio" || (s.type === "video" && mode === "video")) out.push({ feed: id, mid: s.mid });
      });
    });
    return out;
  }

  function syncSubscriptions(c) {
    if (c.subBusy || c !== conn) return;
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

  function forget(c, feed) {
    Object.keys(c.subscribed).forEach(function (k) { if (k.split(":")[0] === String(feed)) delete c.subscribed[k]; });
    dropRemote(feed);
  }

  function onSubscriberMessage(c, msg, jsep) {
    if (c !== conn) return;
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
    var r = remote[feed];
    if (!r) r = remote[feed] = { stream: new MediaStream(), audio: null, video: null };
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

  function dropRemote(feed) {
    var r = remote[feed];
    if (!r) return;
    if (r.audio) r.audio.remove();
    if (r.video) r.video.remove();
    delete remote[feed];
  }

  // --- the room -----------------------------------------------------------------------------------
  var tiles = {};
  function tileForFeed(feed) {
    if (!state) return null;
    var p = state.participants.filter(function (x) { return x.feed_id === feed; })[0];
    return p ? tiles[p.id] : null;
  }

  function tag(list, label, cls) {
    var s = document.createElement("span");
    s.className = "badge " + (cls || "");
    s.textContent = label;
    list.appendChild(s);
  }

  function button(label, handler, cls) {
    var b = document.createElement("button");
    b.type = "button"; b.textContent = label;
    if (cls) b.className = cls;
    b.addEventListener("click", handler);
    return b;
  }

  function renderRoom() {
    if (!state || $("room").hidden) return;
    var list = $("tiles");
    var seen = {};
    var byId = {};
    state.participants.forEach(function (p) { byId[p.id] = p; });
    state.participants.forEach(function (p) {
      seen[p.id] = true;
      var tile = tiles[p.id];
      if (!tile) {
        tile = tiles[p.id] = $("tile-template").content.firstElementChild.cloneNode(true);
        tile.dataset.participant = p.id;
        list.appendChild(tile);
      }
      var mine = you && p.id === you.id;
      tile.classList.toggle("me", !!mine);
      tile.classList.toggle("talking", p.talking);
      tile.classList.toggle("reconnecting", p.presence !== "online");
      tile.classList.toggle("floor", !!(state.turn && state.turn.participant_id === p.id));
      text(tile.querySelector(".name"), p.display_name + (mine ? " (" + T.you + ")" : ""));
      text(tile.querySelector(".initials"), p.display_name.split(/\s+/).map(function (w) { return w.charAt(0); })
        .join("").slice(0, 2).toUpperCase());
      var tags = tile.querySelector(".tags");
      tags.textContent = "";
      if (state.turn && state.turn.participant_id === p.id) tag(tags, T.floor, "live");
      if (p.talking) tag(tags, T.talking, "talking");
      if (p.force_muted) tag(tags, T.hostMuted);
      else if (p.self_muted) tag(tags, T.muted);
      if (p.hand_raised) tag(tags, T.hand);
      if (p.presence === "reconnecting") tag(tags, T.reconnecting);
      if (p.presence === "offline") tag(tags, T.offline);
      if (p.role === "observer") tag(tags, T.observer, "observer");
      else if (p.mode === "listen") tag(tags, T.listening);
      if (p.mode === "audio") tag(tags, T.audioOnly);
      var media = tile.querySelector(".media");
      var video = null;
      if (mine && mode === "video" && cameraOn && localStream && localStream.getVideoTracks().length) {
        video = tile.querySelector("video.local");
        if (!video) {
          video = document.createElement("video");
          video.className = "local"; video.muted = true; video.autoplay = true; video.playsInline = true;
          video.srcObject = new MediaStream(localStream.getVideoTracks());
        }
      } else if (!mine && p.feed_id && remote[p.feed_id] && remote[p.feed_id].video && p.camera_on) {
        video = remote[p.feed_id].video;
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
    if (!chatLoaded) loadChat();
  }

  function renderControls() {
    if (!you) return;
    var forced = you.force_muted;
    if (conn && conn.pub && conn.published && mode !== "listen") {
      // The facilitator's block is enforced by Janus; muting locally too keeps the UI honest.
      var shouldMute = selfMuted || forced;
      if (shouldMute !== conn.pub.isAudioMuted()) {
        if (shouldMute) conn.pub.muteAudio(); else conn.pub.unmuteAudio();
      }
    }
    var muteBtn = $("mute-btn");
    muteBtn.hidden = mode === "listen";
    muteBtn.disabled = forced;
    muteBtn.setAttribute("aria-pressed", String(selfMuted || forced));
    text(muteBtn, forced ? T.hostMuted : (selfMuted ? T.unmute : T.mute));
    var camBtn = $("camera-btn");
    camBtn.hidden = mode !== "video";
    camBtn.setAttribute("aria-pressed", String(cameraOn));
    text(camBtn, cameraOn ? T.cameraOff : T.cameraOn);
    var handBtn = $("hand-btn");
    handBtn.hidden = mode === "listen";
    handBtn.setAttribute("aria-pressed", String(you.hand_raised));
    text(handBtn, you.hand_raised ? T.lower : T.raise);
    // Everyone in the room, listeners included, agrees or withdraws here at any time.
    var consentBtn = $("consent-btn");
    consentBtn.setAttribute("aria-pressed", String(!!you.consent));
    text(consentBtn, you.consent ? T.refuseRec : T.allowRec);
    var note = state.recording ? (state.recording.paused ? T.recPausedNote : T.recOnNote) : T.recWaitsNote;
    if (!state.recording && state.can_record) note = "";
    text($("recording-note"), (note ? note + " " : "") + (you.consent ? T.youAgreed : T.youNotAgreed));
  }

  function renderQueue(byId) {
    var list = $("queue");
    list.textContent = "";
    state.queue.forEach(function (pid) {
      var p = byId[pid];
      if (!p) return;
      var li = document.createElement("li");
      li.textContent = p.display_name;
      list.appendChild(li);
    });
    show("queue-empty", !state.queue.length);
  }

  var countdownTimer = null;
  function renderTurn(byId) {
    var turn = state.turn;
    show("turn", !!turn);
    if (countdownTimer) { clearInterval(countdownTimer); countdownTimer = null; }
    if (!turn) return;
    var p = byId[turn.participant_id];
    text($("turn-name"), (p ? p.display_name : "") + ": " + T.floor);
    var ends = turn.ends_at ? Date.parse(turn.ends_at) : null;
    function tickDown() {
      text($("countdown"), ends === null ? "" : clock((ends - (Date.now() + serverOffset)) / 1000));
    }
    tickDown();
    if (ends !== null) countdownTimer = setInterval(tickDown, 250);
  }

  // --- facilitator panel -------------------------------------------------------------------------
  function renderHost(byId) {
    var waiting = $("waiting-list");
    waiting.textContent = "";
    state.waiting.forEach(function (p) {
      var li = document.createElement("li");
      var name = document.createElement("span");
      name.textContent = p.display_name;
      li.appendChild(name);
      li.appendChild(button(T.admit, function () {
        api("POST", "/participants/" + p.id + "/admit").then(onState).catch(fail);
      }));
      li.appendChild(button(T.deny, function () {
        api("POST", "/participants/" + p.id + "/deny").then(onState).catch(fail);
      }, "secondary"));
      waiting.appendChild(li);
    });
    $("admit-all").hidden = state.waiting.length < 2;
    $("lock-toggle").checked = state.locked;
    $("turn-length").value = state.turn_seconds ? String(state.turn_seconds) : "";
    var rec = $("record-btn");
    rec.setAttribute("aria-pressed", String(!!state.recording));
    text(rec, state.recording ? T.stopRec : T.startRec);
    // everyone in the room agrees first, the host included (starting is not agreeing)
    rec.disabled = !state.recording && !state.can_record;
    var names = state.blockers.map(function (id) { return byId[id] ? byId[id].display_name : ""; });
    text($("consent-status"), names.length ? fmt(T.missingConsent, { names: names.join(", ") }) : T.allConsent);
    var body = $("speaking-body");
    body.textContent = "";
    state.participants.slice().sort(function (a, b) { return a.speaking_seconds - b.speaking_seconds; })
      .forEach(function (p) {
        var tr = document.createElement("tr");
        [p.display_name, clock(p.speaking_seconds), String(p.turns)].forEach(function (v) {
          var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
        });
        body.appendChild(tr);
      });
  }

  function hostSetup() {
    if (!isHost) return;
    $("admit-all").addEventListener("click", function () { api("POST", "/admit-all").then(onState).catch(fail); });
    $("lock-toggle").addEventListener("change", function (ev) {
      api("POST", "/lock", { locked: ev.target.checked }).then(onState).catch(fail);
    });
    $("next-speaker").addEventListener("click", function () {
      api("POST", "/floor", { action: "next" }).then(onState).catch(fail);
    });
    $("end-turn").addEventListener("click", function () {
      api("POST", "/floor", { action: "end" }).then(onState).catch(fail);
    });
    $("turn-length").addEventListener("change", function (ev) {
      var v = ev.target.value;
      api("POST", "/floor", { action: "length", seconds: v ? Number(v) : null }).then(onState).catch(fail);
    });
    $("record-btn").addEventListener("click", function () {
      api("POST", "/recording", { on: !state.recording }).then(onState).catch(fail);
    });
    $("end-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      api("POST", "/end").then(function (summary) { onEnded(summary.speakers); }).catch(fail);
    });
    loadRecordings();
  }

  function loadRecordings() {
    if (!isHost) return;
    api("GET", "/recordings").then(function (data) {
      var list = $("recordings");
      list.textContent = "";
      show("after-recordings", data.recordings.length > 0 && list.parentNode === $("after-recordings"));
      data.recordings.forEach(function (r) {
        var li = document.createElement("li");
        var title = document.createElement("p");
        title.textContent = fmt(T.recordingOf, { time: new Date(r.started_at).toLocaleTimeString() });
        li.appendChild(title);
        if (r.status === "processing" || r.status === "recording") li.appendChild(document.createTextNode(T.processing));
        if (r.status === "failed") li.appendChild(document.createTextNode(T.failed));
        r.files.forEach(function (f) {
          var a = document.createElement("a");
          a.href = "/api/v1/meetings/" + dialogueId + "/recordings/" + r.id + "/files/" + f.file;
          a.textContent = T.download + ": " + (f.display_name || f.file);
          a.setAttribute("download", f.file);
          var p = document.createElement("p");
          p.appendChild(a);
          li.appendChild(p);
        });
        if (r.status === "ready" || r.status === "failed") {
          li.appendChild(button(T.delete, function () {
            api("DELETE", "/recordings/" + r.id).then(loadRecordings).catch(fail);
          }, "secondary"));
        }
        list.appendChild(li);
      });
    }).catch(function () {});
  }

  // The meeting is over: nothing of the room stays, and the next steps (transcript, report,
  // survey, my dialogues) take its place, so nobody is left on an empty page.
  function showEnded() {
    ["lobby", "waiting", "room", "left", "end-form", "media-unavailable"].forEach(function (id) { show(id, false); });
    stopPreview();
    status(T.ended);
    show("next-steps", true);
    var after = $("after-recordings"), list = $("recordings");
    if (isHost && after && list && list.parentNode !== after) {
      after.appendChild(list);
      loadRecordings();
    }
  }

  function onEnded(summary) {
    wantRoom = false;
    hangup();
    stopLocal();
    showEnded();
    if (!summary || !summary.length) return;
    var body = $("summary-body");
    body.textContent = "";
    summary.forEach(function (s) {
      var tr = document.createElement("tr");
      [s.display_name, clock(s.seconds), Math.round(s.share * 100) + "%"].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    show("summary", true);
  }

  // --- controls ---------------------------------------------------------------------------------
  function controlsSetup() {
    $("mute-btn").addEventListener("click", function () {
      selfMuted = !selfMuted;
      if (conn && conn.pub && conn.published && !(you && you.force_muted)) {
        if (selfMuted) conn.pub.muteAudio(); else conn.pub.unmuteAudio();
      }
      api("POST", "/me/status", { self_muted: selfMuted }).then(onState).catch(fail);
    });
    $("camera-btn").addEventListener("click", function () {
      cameraOn = !cameraOn;
      if (conn && conn.pub) { if (cameraOn) conn.pub.unmuteVideo(); else conn.pub.muteVideo(); }
      api("POST", "/me/status", { camera_on: cameraOn }).then(onState).catch(fail);
    });
    $("hand-btn").addEventListener("click", function () {
      api("POST", "/me/hand", { raised: !(you && you.hand_raised) }).then(onState).catch(fail);
    });
    $("consent-btn").addEventListener("click", function () {
      api("POST", "/me/consent", { consent: !(you && you.consent) }).then(onState).catch(fail);
    });
    $("leave-btn").addEventListener("click", function () {
      wantRoom = false;
      hangup();
      stopLocal();
      api("POST", "/me/leave").then(function (next) {
        show("room", false);
        text($("left-text"), leftText);
        show("rejoin-btn", true);
        show("left", true);
        onState(next);
      }).catch(fail);
    });
    $("rejoin-btn").addEventListener("click", function () {
      show("left", false);
      $("consent").checked = !!(you && you.consent); // what they chose in this meeting, nothing else
      show("lobby", true);
      startPreview();
    });
  }

  // --- chats ------------------------------------------------------------------------------------
  function addChat(list, author, body) {
    if (!list) return;
    var li = document.createElement("li");
    var who = document.createElement("strong");
    who.textContent = author;
    var p = document.createElement("p");
    p.textContent = body;
    li.appendChild(who);
    li.appendChild(p);
    list.appendChild(li);
    list.scrollTop = list.scrollHeight;
  }

  function loadChat() {
    chatLoaded = true;
    api("GET", "/chat").then(function (page) {
      var list = $("chat-messages");
      list.textContent = "";
      page.messages.forEach(function (m) { addChat(list, m.author_name, m.body); });
    }).catch(function () { chatLoaded = false; });
  }

  // As in the workspace chat: Enter sends, Shift+Enter starts a new line (and an input
  // method still composing a word keeps its Enter).
  function enterSends(input, form) {
    if (!input || !form) return;
    input.addEventListener("keydown", function (ev) {
      if (ev.key !== "Enter" || ev.shiftKey || ev.isComposing || ev.keyCode === 229) return;
      ev.preventDefault();
      form.requestSubmit();
    });
  }

  function chatSetup() {
    $("chat-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("chat-input");
      if (!input.value.trim()) return;
      api("POST", "/chat", { body: input.value }).then(function () { input.value = ""; }).catch(fail);
    });
    enterSends($("chat-input"), $("chat-form"));
    var staff = $("staff-chat");
    if (!staff) return;
    var channel = Number(staff.dataset.channel);
    var ws = null, refs = 0;
    function send(frame) { if (ws && ws.readyState === 1) ws.send(JSON.stringify(frame)); }
    function open() {
      var proto = location.protocol === "https:" ? "wss://" : "ws://";
      ws = new WebSocket(proto + location.host + "/ws/workspace");
      ws.onopen = function () {
        send({ type: "fetch", ref: "m" + (++refs), channel_id: channel, before: null, after: null, limit: 50 });
      };
      ws.onmessage = function (ev) {
        var f = JSON.parse(ev.data);
        var list = $("staff-messages");
        if (f.type === "messages" && f.channel_id === channel) {
          list.textContent = "";
          f.messages.forEach(function (m) { if (!m.deleted_at) addChat(list, m.author_name, m.body); });
        } else if (f.type === "message.new" && f.channel_id === channel) {
          addChat(list, f.message.author_name, f.message.body);
        }
      };
      ws.onclose = function () { setTimeout(open, 3000); };
    }
    open();
    enterSends($("staff-input"), $("staff-form"));
    $("staff-form").addEventListener("submit", function (ev) {
      ev.preventDefault();
      var input = $("staff-input");
      if (!input.value.trim()) return;
      send({ type: "post", ref: "m" + (++refs), channel_id: channel, body: input.value });
      input.value = "";
    });
  }

  // --- interpretation: captions, caption language, what to listen to -----------------------------
  // Every original line arrives, and translations into the language this page reads; a line
  // grows as partial results come and settles when final. Voices and interpreters are feeds
  // like any other, subscribed only when chosen; the floor is turned down while one plays.
  var interp = null;          // GET /interpretation
  var reading = null;         // caption language
  var listening = null;       // null = the floor, "voice:xx" or "interpreter:xx"
  var lines = {};             // speaker|utterance -> {li, orig, trans, origRev, transRev}
  var lineOrder = [];
  var MAX_LINES = 80;
  var FLOOR_UNDER_CHANNEL = 0.15;
  var refreshTimer = null;

  function languageName(code) {
    var opt = document.querySelector('#caption-language option[value="' + code + '"]');
    return opt ? opt.textContent : code;
  }

  function sendReading() {
    if (socket && socket.readyState === 1 && reading) socket.send(JSON.stringify({ type: "captions", language: reading }));
  }

  function feedsOf(st) {
    return st ? st.participants.map(function (p) { return p.id + ":" + p.feed_id + ":" + p.presence; }).join(",") : "";
  }

  function channelOfFeed(c, feed) {
    var display = c.displays[feed] || "";
    if (display.indexOf("parley:voice:") === 0) return "voice:" + display.slice(13);
    if (!interp) return null;
    var match = interp.channels.filter(function (ch) { return ch.kind === "interpreter" && ch.feed_id === feed; })[0];
    return match ? match.id : null;
  }

  function applyVolume(feed) {
    var r = remote[feed];
    if (!r || !r.audio || !conn) return;
    var channel = channelOfFeed(conn, Number(feed));
    var volume = channel ? (channel === listening ? 1 : 0) : (listening ? FLOOR_UNDER_CHANNEL : 1);
    r.audio.volume = volume;
    r.audio.muted = volume === 0;
  }

  function applyVolumes() {
    Object.keys(remote).forEach(applyVolume);
    if (conn && conn.ready) syncSubscriptions(conn);
  }

  function interpRefresh() {
    api("GET", "/interpretation").then(renderInterp).catch(function () {});
  }

  function interpRefreshSoon() {
    if (refreshTimer) return;
    refreshTimer = setTimeout(function () { refreshTimer = null; interpRefresh(); }, 500);
  }

  function option(select, value, label) {
    var o = document.createElement("option");
    o.value = value; o.textContent = label;
    select.appendChild(o);
  }

  function renderInterp(view) {
    interp = view;
    var first = reading === null;
    reading = view.caption_language;
    listening = view.listen_channel;
    if (first) sendReading();
    var captionSelect = $("caption-language");
    if (captionSelect) captionSelect.value = reading;
    var listen = $("listen-channel");
    if (listen) {
      listen.textContent = "";
      option(listen, "", T.floorChannel);
      view.channels.forEach(function (ch) {
        var name = languageName(ch.language);
        option(listen, ch.id, ch.kind === "voice" ? fmt(T.voiceChannel, { language: name })
          : fmt(T.interpreterChannel, { language: name, name: ch.name || "" }));
      });
      listen.value = listening || "";
    }
    var you_ = $("interpreting-note");
    if (you_) {
      you_.hidden = !view.interpreting;
      if (view.interpreting) text(you_, fmt(T.interpreting, { language: languageName(view.interpreting) }));
    }
    var problems = view.health.filter(function (h) { return h.status !== "ok"; }).map(healthText);
    text($("captions-health"), problems.filter(function (t, i) { return t && problems.indexOf(t) === i; }).join(" "));
    if (isHost) renderInterpHost(view);
    renderOffer(view);
    applyVolumes();
  }

  // Someone who listens to the floor is offered the channel in their own language when the
  // meeting has one (an interpreter before a synthesized voice), once: they accept or decline.
  var offerKey = "parley.offer." + dialogueId;
  function offeredChannel(view) {
    if (view.interpreting || listening) return null;
    var mine = (you && you.language) || reading;
    var inMine = view.channels.filter(function (ch) { return ch.language === mine; });
    return inMine.filter(function (ch) { return ch.kind === "interpreter"; })[0] || inMine[0] || null;
  }
  function renderOffer(view) {
    var box = $("channel-offer");
    if (!box) return;
    var ch = offeredChannel(view);
    var declined = false;
    try { declined = sessionStorage.getItem(offerKey) === (ch && ch.id); } catch (e) { /* storage off */ }
    if (!ch || declined) { box.hidden = true; return; }
    var name = languageName(ch.language);
    text($("channel-offer-text"), ch.kind === "interpreter"
      ? fmt(T.offerInterpreter, { language: name, name: ch.name || "" }) : fmt(T.offerVoice, { language: name }));
    box.dataset.channel = ch.id;
    box.hidden = false;
  }
  function offerSetup() {
    if (!$("channel-offer")) return;
    $("channel-offer-yes").addEventListener("click", function () {
      listening = $("channel-offer").dataset.channel || null;
      show("channel-offer", false);
      applyVolumes();
      choose({ caption_language: reading, listen_channel: listening });
    });
    $("channel-offer-no").addEventListener("click", function () {
      try { sessionStorage.setItem(offerKey, $("channel-offer").dataset.channel || ""); } catch (e) { /* storage off */ }
      show("channel-offer", false);
    });
  }

  // What a participant is told: only what affects what they chose (an engine missing while
  // another covers the same languages is the facilitator's business, in their panel).
  function healthText(h) {
    if (h.stage === "mt") {
      return h.target_language === reading ? fmt(T.noTranslation, { language: languageName(reading) }) : "";
    }
    if (h.stage === "tts") {
      return h.target_language && listening === "voice:" + h.target_language
        ? fmt(T.noVoice, { language: languageName(h.target_language) }) : "";
    }
    if (h.stage === "rtp") return T.audioLost;
    return h.stage === "asr" ? T.noCaptions : "";
  }

  function renderInterpHost(view) {
    var body = $("interp-body");
    if (!body) return;
    body.textContent = "";
    (view.languages_status || []).forEach(function (row) {
      var tr = document.createElement("tr");
      // no delay to speak of before the first caption line
      [languageName(row.language), String(row.captions),
       row.median_lag_s === null || !row.captions ? "–" : fmt(T.seconds, { n: row.median_lag_s.toFixed(1) }),
       String(row.listeners)].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
    text($("interp-worker"), view.worker ? fmt(T.interpretedBy, { worker: view.worker }) : "");
    var list = $("interp-problems");
    list.textContent = "";
    var said = {};
    view.health.filter(function (h) { return h.status !== "ok"; }).forEach(function (h) {
      var line = staffHealthText(h);
      if (!line || said[line]) return;
      said[line] = true;
      var li = document.createElement("li");
      li.className = h.status === "failing" ? "error" : "hint";
      li.textContent = line;
      list.appendChild(li);
    });
  }

  // What the facilitator is told, in words they can act on: the server's own message (an
  // engine's reason, a path on the server) stays in the server's logs.
  function staffHealthText(h) {
    var target = h.target_language ? languageName(h.target_language) : "";
    var source = h.source_language ? languageName(h.source_language) : "";
    if (h.stage === "asr" && h.engine === "off") return T.staffInterpretationOff;
    if (h.stage === "asr" && h.engine === "worker") return T.staffNoWorker;
    if (h.stage === "asr") return h.status === "failing" ? T.staffAsrFailing : T.staffNoAsr;
    if (h.stage === "mt" && target) {
      if (h.status === "failing") return fmt(T.staffMtFailing, { language: target });
      return source ? fmt(T.staffNoPair, { source: source, target: target }) : fmt(T.noTranslation, { language: target });
    }
    if (h.stage === "tts" && target) {
      return h.status === "failing" ? fmt(T.staffTtsFailing, { language: target }) : fmt(T.noVoice, { language: target });
    }
    if (h.stage === "rtp") return T.audioLost;
    return "";
  }

  function choose(body) {
    api("PUT", "/me/interpretation", body).then(renderInterp).catch(fail);
  }

  function onCaption(c) {
    var list = $("captions");
    if (!list) return;
    show("captions-empty", false);
    var key = c.speaker_id + "|" + c.utterance_id;
    var line = lines[key];
    if (!line) {
      var li = document.createElement("li");
      li.className = "caption";
      var who = document.createElement("span"); who.className = "who"; who.textContent = c.speaker_name || "";
      var trans = document.createElement("span"); trans.className = "trans";
      var orig = document.createElement("span"); orig.className = "orig";
      li.appendChild(who); li.appendChild(trans); li.appendChild(orig);
      line = lines[key] = { li: li, orig: orig, trans: trans, origRev: -1, transRev: -1, final: false };
      lineOrder.push(key);
      var stick = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
      list.appendChild(li);
      while (lineOrder.length > MAX_LINES) {
        var old = lines[lineOrder.shift()];
        if (old) old.li.remove();
      }
      if (stick) list.scrollTop = list.scrollHeight;
    }
    var el = c.role === "original" ? line.orig : line.trans;
    var rev = c.role === "original" ? "origRev" : "transRev";
    if (c.revision < line[rev]) return;
    line[rev] = c.revision;
    el.textContent = c.text;
    el.lang = c.language;
    el.dir = c.language === "ar" ? "rtl" : "auto";
    el.classList.toggle("partial", !c.is_final);
    var translated = c.source_language !== reading;
    // a final with no text ends a translation that failed: the original stays in view
    line.li.classList.toggle("translated", translated && line.transRev >= 0 && line.trans.textContent !== "");
    if (c.is_final && (c.role === "translation" || !translated)) {
      text($("captions-live"), (c.speaker_name ? c.speaker_name + ": " : "") + c.text);
    }
  }

  function interpSetup() {
    var captionSelect = $("caption-language");
    if (!captionSelect) return;
    captionSelect.addEventListener("change", function () {
      reading = captionSelect.value;
      sendReading();
      choose({ caption_language: reading, listen_channel: listening });
    });
    $("listen-channel").addEventListener("change", function (ev) {
      listening = ev.target.value || null;
      applyVolumes();
      choose({ caption_language: reading, listen_channel: listening });
    });
    $("show-original").addEventListener("change", function (ev) {
      $("captions").classList.toggle("hide-original", !ev.target.checked);
    });
    if (isHost) setInterval(function () { if (interp && !$("room").hidden) interpRefresh(); }, 5000);
  }

  window.parleyMeeting.captions = function () {
    return lineOrder.map(function (k) {
      var l = lines[k];
      return { original: l.orig.textContent, translation: l.trans.textContent, lang: l.trans.lang || l.orig.lang,
               final: !l.orig.classList.contains("partial") };
    });
  };
  window.parleyMeeting.listening = function () { return listening; };

  // --- start ------------------------------------------------------------------------------------
  lobbySetup();
  controlsSetup();
  hostSetup();
  chatSetup();
  interpSetup();
  offerSetup();
  if (root.dataset.status === "open") { show("lobby", true); startPreview(); }
  openSocket();
})();
