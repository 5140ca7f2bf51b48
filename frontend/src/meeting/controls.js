import { live } from "./live.js";
import { hangup } from "./connection.js";
import { forgetJoin, startPreview, stopLocal } from "./lobby.js";
import { $, api, fail, show, text } from "./page.js";
import { onState } from "./socket.js";

// --- controls ---------------------------------------------------------------------------------
export function controlsSetup() {
  $("mute-btn").addEventListener("click", function () {
    live.selfMuted = !live.selfMuted;
    if (live.conn && live.conn.pub && live.conn.published && !(live.you && live.you.force_muted)) {
      if (live.selfMuted) live.conn.pub.muteAudio(); else live.conn.pub.unmuteAudio();
    }
    api("POST", "/me/status", { self_muted: live.selfMuted }).then(onState).catch(fail);
  });
  $("camera-btn").addEventListener("click", function () {
    live.cameraOn = !live.cameraOn;
    if (live.conn && live.conn.pub) { if (live.cameraOn) live.conn.pub.unmuteVideo(); else live.conn.pub.muteVideo(); }
    api("POST", "/me/status", { camera_on: live.cameraOn }).then(onState).catch(fail);
  });
  $("hand-btn").addEventListener("click", function () {
    api("POST", "/me/hand", { raised: !(live.you && live.you.hand_raised) }).then(onState).catch(fail);
  });
  $("consent-btn").addEventListener("click", function () {
    api("POST", "/me/consent", { consent: !(live.you && live.you.consent) }).then(onState).catch(fail);
  });
  $("leave-btn").addEventListener("click", function () {
    live.wantRoom = false;
    forgetJoin();
    hangup();
    stopLocal();
    api("POST", "/me/leave").then(function (next) {
      show("room", false);
      text($("left-text"), live.leftText);
      show("rejoin-btn", true);
      show("left", true);
      onState(next);
    }).catch(fail);
  });
  $("rejoin-btn").addEventListener("click", function () {
    show("left", false);
    $("consent").checked = !!(live.you && live.you.consent); // what they chose in this meeting, nothing else
    show("lobby", true);
    startPreview();
  });
}
