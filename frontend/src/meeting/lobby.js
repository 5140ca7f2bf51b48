import { live } from "./live.js";
import { $, T, api, dialogueId, show, text } from "./page.js";
import { onState } from "./socket.js";

// --- staying in the meeting across a reload ---------------------------------------------------
// Someone who joined and reloads the page (or whose phone reloads it) comes straight back in,
// as they joined, without the lobby; leaving, being removed and the end forget it.
const joinedKey = "parley.joined." + dialogueId;
export function rememberJoin(mode) {
  try { sessionStorage.setItem(joinedKey, mode); } catch (e) { /* storage off: the lobby again */ }
}
export function forgetJoin() {
  try { sessionStorage.removeItem(joinedKey); } catch (e) { /* storage off */ }
}
export function rememberedJoin() {
  try { return sessionStorage.getItem(joinedKey); } catch (e) { return null; }
}
// The first state after loading the page: back in the room (or the waiting room) when this
// tab had joined and the server still has them there.
export function resumeJoin(state) {
  var mode = rememberedJoin();
  if (!mode) return;
  var where = state.you ? state.you.status : null;
  if (state.status !== "open" || (where !== "admitted" && where !== "waiting")) { forgetJoin(); return; }
  live.mode = state.you.mode || mode;
  live.cameraOn = live.mode === "video" && state.you.camera_on !== false;
  live.selfMuted = !!state.you.self_muted;
  live.wantRoom = true;
  show("lobby", false);
  stopPreview();
  stopLocal();
}

// --- lobby: devices, preview, level meter ---------------------------------------------------
let meterContext = null, meterTimer = null;
function chosenMode() {
  var checked = document.querySelector('input[name="mode"]:checked');
  return checked ? checked.value : "audio";
}
export function stopPreview() {
  if (meterTimer) { clearInterval(meterTimer); meterTimer = null; }
  if (meterContext) { meterContext.close(); meterContext = null; }
}
export function stopLocal() {
  if (live.localStream) live.localStream.getTracks().forEach(function (t) { t.stop(); });
  live.localStream = null;
}
export function startPreview() {
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
    live.localStream = stream;
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

export function lobbySetup() {
  document.querySelectorAll('input[name="mode"]').forEach(function (r) {
    r.addEventListener("change", function () { show("camera", chosenMode() === "video"); startPreview(); });
  });
  $("microphone").addEventListener("change", startPreview);
  $("camera").addEventListener("change", startPreview);
  $("lobby-form").addEventListener("submit", function (ev) {
    ev.preventDefault();
    text($("lobby-error"), "");
    live.mode = chosenMode();
    live.cameraOn = live.mode === "video";
    api("POST", "/join", {
      mode: live.mode, language: $("language").value, display_name: $("display-name").value,
      consent: $("consent").checked,
    }).then(function (next) {
      live.wantRoom = true;
      if (next.you && next.you.mode) live.mode = next.you.mode; // observers always listen
      rememberJoin(live.mode);
      stopPreview();
      onState(next);
    }).catch(function (err) { text($("lobby-error"), err.message || T.error); });
  });
}
