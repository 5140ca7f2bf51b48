import { live } from "./live.js";
import { connect, hangup } from "./connection.js";
import { showEnded } from "./host.js";
import { interpRefresh } from "./interpretation.js";
import { forgetJoin, startPreview, stopPreview } from "./lobby.js";
import { $, T, show, text } from "./page.js";
import { renderRoom } from "./room.js";

// --- what to show ---------------------------------------------------------------------------
export function render() {
  show("rec-indicator", !!live.state.recording);
  text($("rec-indicator"), live.state.recording && live.state.recording.paused ? T.recPaused : T.recordingLabel);
  show("lock-indicator", live.state.locked);
  if (live.state.status === "ended") {
    hangup();
    live.wantRoom = false;
    showEnded();
    return;
  }
  show("end-form", live.state.status === "open");
  if (live.state.status !== "open") return;
  var st = live.you ? live.you.status : null;
  if (st === "removed" || st === "denied") {
    live.wantRoom = false;
    forgetJoin();
    hangup();
    stopPreview();
    ["lobby", "waiting", "room"].forEach(function (id) { show(id, false); });
    text($("left-text"), st === "removed" ? T.removed : T.denied);
    show("rejoin-btn", false);
    show("left", true);
    return;
  }
  if (st === "admitted" && live.wantRoom) {
    // Coming in from the lobby's bottom, the room is seen from its top (the meeting's title,
    // who knocks, the captions), not from wherever the lobby was scrolled to.
    if ($("room").hidden) window.scrollTo(0, 0);
    show("lobby", false); show("waiting", false); show("left", false); show("room", true);
    if (!live.interp) interpRefresh();
    if (!live.conn && !live.reconnectTimer) connect();
    renderRoom();
    return;
  }
  if (st === "waiting" && live.wantRoom) {
    show("lobby", false); show("room", false); show("left", false); show("waiting", true);
    return;
  }
  if (!live.wantRoom && $("left").hidden && $("lobby").hidden) {
    show("room", false); show("waiting", false); show("lobby", true);
    startPreview();
  }
}
