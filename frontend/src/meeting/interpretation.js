import { finalsShown } from "./caption_finals.js";
import { live } from "./live.js";
import { $, T, api, dialogueId, fail, fmt, isHost, show, text } from "./page.js";
import { syncSubscriptions } from "./subscriber.js";

// --- interpretation: captions, caption language, what to listen to -----------------------------
// Every original line arrives, and translations into the language this page reads; a line
// grows as partial results come and settles when final. Voices and interpreters are feeds
// like any other, subscribed only when chosen; the floor is turned down while one plays.
const lines = {};             // speaker|utterance -> {li, orig, trans, origRev, transRev}
const lineOrder = [];
const finals = finalsShown();  // a final broadcast again (a new owner, a re-send) is shown once
const MAX_LINES = 80;
const FLOOR_UNDER_CHANNEL = 0.15;
let refreshTimer = null;

// A language's name in the page's language, from the caption menu (the dialogue's languages).
export function languageName(code) {
  var opt = document.querySelector('#caption-language option[value="' + code + '"]');
  return opt ? opt.textContent : code;
}

export function sendReading() {
  if (live.socket && live.socket.readyState === 1 && live.reading) live.socket.send(JSON.stringify({ type: "captions", language: live.reading }));
}

export function feedsOf(st) {
  return st ? st.participants.map(function (p) { return p.id + ":" + p.feed_id + ":" + p.presence; }).join(",") : "";
}

export function channelOfFeed(c, feed) {
  var display = c.displays[feed] || "";
  if (display.indexOf("parley:voice:") === 0) return "voice:" + display.slice(13);
  if (!live.interp) return null;
  var match = live.interp.channels.filter(function (ch) { return ch.kind === "interpreter" && ch.feed_id === feed; })[0];
  return match ? match.id : null;
}

export function applyVolume(feed) {
  var r = live.remote[feed];
  if (!r || !r.audio || !live.conn) return;
  var channel = channelOfFeed(live.conn, Number(feed));
  var volume = channel ? (channel === live.listening ? 1 : 0) : (live.listening ? FLOOR_UNDER_CHANNEL : 1);
  r.audio.volume = volume;
  r.audio.muted = volume === 0;
}

function applyVolumes() {
  Object.keys(live.remote).forEach(applyVolume);
  if (live.conn && live.conn.ready) syncSubscriptions(live.conn);
}

export function interpRefresh() {
  api("GET", "/interpretation").then(renderInterp).catch(function () {});
}

export function interpRefreshSoon() {
  if (refreshTimer) return;
  refreshTimer = setTimeout(function () { refreshTimer = null; interpRefresh(); }, 500);
}

function option(select, value, label) {
  var o = document.createElement("option");
  o.value = value; o.textContent = label;
  select.appendChild(o);
}

function renderInterp(view) {
  live.interp = view;
  var first = live.reading === null;
  live.reading = view.caption_language;
  live.listening = view.listen_channel;
  if (first) sendReading();
  var captionSelect = $("caption-language");
  if (captionSelect) captionSelect.value = live.reading;
  var listen = $("listen-channel");
  if (listen) {
    listen.textContent = "";
    option(listen, "", T.floorChannel);
    view.channels.forEach(function (ch) {
      var name = languageName(ch.language);
      option(listen, ch.id, ch.kind === "voice" ? fmt(T.voiceChannel, { language: name })
        : fmt(T.interpreterChannel, { language: name, name: ch.name || "" }));
    });
    listen.value = live.listening || "";
    // An interpreter listens to the floor they interpret: no channel to choose, not even their own.
    listen.parentNode.hidden = !!view.interpreting;
  }
  var you_ = $("interpreting-note");
  if (you_) {
    you_.hidden = !view.interpreting;
    if (view.interpreting) text(you_, fmt(T.interpreting, { language: languageName(view.interpreting) }));
  }
  if (view.interpreting) show("hand-btn", false); // the room keeps it hidden from now on (room.js)
  var problems = view.health.filter(function (h) { return h.status !== "ok"; }).map(healthText);
  text($("captions-health"), problems.filter(function (t, i) { return t && problems.indexOf(t) === i; }).join(" "));
  if (isHost) renderInterpHost(view);
  renderOffer(view);
  applyVolumes();
}

// Someone who listens to the floor is offered the channel in their own language when the
// meeting has one (an interpreter before a synthesized voice), once: they accept or decline.
let offerKey = "parley.offer." + dialogueId;
function offeredChannel(view) {
  if (view.interpreting || live.listening) return null;
  var mine = (live.you && live.you.language) || live.reading;
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
export function offerSetup() {
  if (!$("channel-offer")) return;
  $("channel-offer-yes").addEventListener("click", function () {
    live.listening = $("channel-offer").dataset.channel || null;
    show("channel-offer", false);
    applyVolumes();
    choose({ caption_language: live.reading, listen_channel: live.listening });
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
    return h.target_language === live.reading ? fmt(T.noTranslation, { language: languageName(live.reading) }) : "";
  }
  if (h.stage === "tts") {
    return h.target_language && live.listening === "voice:" + h.target_language
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

export function onCaption(c) {
  var list = $("captions");
  if (!list) return;
  if (finals.repeats(c)) return;
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
  finals.shown(c);
  el.textContent = c.text;
  el.lang = c.language;
  el.dir = c.language === "ar" ? "rtl" : "auto";
  el.classList.toggle("partial", !c.is_final);
  var translated = c.source_language !== live.reading;
  // a final with no text ends a translation that failed: the original stays in view
  line.li.classList.toggle("translated", translated && line.transRev >= 0 && line.trans.textContent !== "");
  if (c.is_final && (c.role === "translation" || !translated)) {
    text($("captions-live"), (c.speaker_name ? c.speaker_name + ": " : "") + c.text);
  }
}

export function interpSetup() {
  var captionSelect = $("caption-language");
  if (!captionSelect) return;
  captionSelect.addEventListener("change", function () {
    live.reading = captionSelect.value;
    sendReading();
    choose({ caption_language: live.reading, listen_channel: live.listening });
  });
  $("listen-channel").addEventListener("change", function (ev) {
    live.listening = ev.target.value || null;
    applyVolumes();
    choose({ caption_language: live.reading, listen_channel: live.listening });
  });
  $("show-original").addEventListener("change", function (ev) {
    $("captions").classList.toggle("hide-original", !ev.target.checked);
  });
  if (isHost) setInterval(function () { if (live.interp && !$("room").hidden) interpRefresh(); }, 5000);
}

// For the browser tests: the caption lines as shown, and the channel listened to.
export function captionLines() {
  return lineOrder.map(function (k) {
    var l = lines[k];
    return { original: l.orig.textContent, translation: l.trans.textContent, lang: l.trans.lang || l.orig.lang,
             final: !l.orig.classList.contains("partial") };
  });
}
