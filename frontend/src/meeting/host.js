import { live } from "./live.js";
import { hangup } from "./connection.js";
import { forgetJoin, stopLocal, stopPreview } from "./lobby.js";
import { $, T, api, clock, dialogueId, fail, fmt, isHost, show, status, text } from "./page.js";
import { button } from "./room.js";
import { onState } from "./socket.js";

// --- facilitator panel -------------------------------------------------------------------------
export function renderHost(byId) {
  var waiting = $("waiting-list");
  waiting.textContent = "";
  live.state.waiting.forEach(function (p) {
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
  $("admit-all").hidden = live.state.waiting.length < 2;
  renderWaitingAlert();
  $("lock-toggle").checked = live.state.locked;
  $("turn-length").value = live.state.turn_seconds ? String(live.state.turn_seconds) : "";
  var rec = $("record-btn");
  rec.setAttribute("aria-pressed", String(!!live.state.recording));
  text(rec, live.state.recording ? T.stopRec : T.startRec);
  // everyone in the room agrees first, the host included (starting is not agreeing)
  rec.disabled = !live.state.recording && !live.state.can_record;
  var names = live.state.blockers.map(function (id) { return byId[id] ? byId[id].display_name : ""; });
  text($("consent-status"), names.length ? fmt(T.missingConsent, { names: names.join(", ") }) : T.allConsent);
  var body = $("speaking-body");
  body.textContent = "";
  live.state.participants.slice().sort(function (a, b) { return a.speaking_seconds - b.speaking_seconds; })
    .forEach(function (p) {
      var tr = document.createElement("tr");
      [p.display_name, clock(p.speaking_seconds), String(p.turns)].forEach(function (v) {
        var td = document.createElement("td"); td.textContent = v; tr.appendChild(td);
      });
      body.appendChild(tr);
    });
}

// Whoever knocks shows at the top of the room: one person can be let in from there, several
// are let in (or turned away) one by one from the waiting room it links to.
function renderWaitingAlert() {
  var waiting = live.state.waiting;
  show("waiting-alert", waiting.length > 0);
  if (!waiting.length) return;
  var names = waiting.map(function (p) { return p.display_name; });
  text($("waiting-alert-text"), waiting.length === 1 ? fmt(T.waitingOne, { name: names[0] })
    : fmt(T.waitingMany, { names: names.join(", ") }));
  var admit = $("waiting-alert-admit");
  admit.hidden = waiting.length !== 1;
  admit.dataset.participant = String(waiting[0].id);
}

export function hostSetup() {
  if (!isHost) return;
  $("waiting-alert-admit").addEventListener("click", function (ev) {
    api("POST", "/participants/" + ev.target.dataset.participant + "/admit").then(onState).catch(fail);
  });
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
    api("POST", "/recording", { on: !live.state.recording }).then(onState).catch(fail);
  });
  $("end-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    api("POST", "/end").then(function (summary) { onEnded(summary.speakers); }).catch(fail);
  });
  loadRecordings();
}

export function loadRecordings() {
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
      // The whole meeting first (the file most people want), then each person's own voice.
      r.files.forEach(function (f) {
        var a = document.createElement("a");
        a.href = "/api/v1/meetings/" + dialogueId + "/recordings/" + r.id + "/files/" + f.file;
        var what = f.kind === "mix" ? T.wholeMeeting : fmt(T.oneSpeaker, { name: f.display_name || f.file });
        var secs = Math.round(f.seconds);
        var length = fmt(T.duration, { minutes: Math.floor(secs / 60), seconds: secs % 60 });
        a.textContent = T.download + ": " + what + " (" + length + ")";
        a.setAttribute("download", f.download || f.file);
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
export function showEnded() {
  forgetJoin();
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

export function onEnded(summary) {
  live.wantRoom = false;
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
