// The page itself: its root element and texts (in the reader's language, from data
// attributes), and the small DOM and API helpers every part uses.
export const root = document.getElementById("meeting");
export const T = root ? document.getElementById("meeting-text").dataset : {};
export const dialogueId = root ? root.dataset.dialogue : "";
export const isHost = !!root && root.dataset.host === "true";
export const MONITOR_LIMIT = 1 << 20;

export function $(id) { return document.getElementById(id); }
export function show(id, on) { var el = $(id); if (el) el.hidden = !on; }
export function text(el, value) { if (el) el.textContent = value; }
export function fmt(template, values) {
  return template.replace(/%\((\w+)\)s/g, function (_, k) { return values[k] !== undefined ? values[k] : ""; });
}
export function api(method, path, body) {
  return window.parley.api(method, "/api/v1/meetings/" + dialogueId + path, body);
}
export function status(message) { text($("status-line"), message || ""); }
export function fail(err) {
  status((err && err.message) || T.error);
  if (window.console) console.warn("meeting:", err && (err.code || err.message || err));
}
export function clock(seconds) {
  seconds = Math.max(0, Math.round(seconds));
  var m = Math.floor(seconds / 60), s = seconds % 60;
  return m + ":" + (s < 10 ? "0" : "") + s;
}
