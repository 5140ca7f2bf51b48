// The meeting page: lobby (device check, level meter, language, name, mode), the room on
// Janus (publish through one VideoRoom handle, receive everyone through one multistream
// subscriber), facilitator controls, chats, captions and interpretation, and automatic
// reconnection. Each part is a module under meeting/; they share what the page knows now
// through meeting/live.js.
//
// Meeting state comes from Parley's socket /ws/meetings/<id> (the database is the truth);
// media goes between the browser and Janus only. Uses window.Janus from build/janus.js.
import { live } from "./meeting/live.js";
import { $, root, show } from "./meeting/page.js";
import { openSocket, keepAlive } from "./meeting/socket.js";
import { lobbySetup, rememberedJoin, startPreview } from "./meeting/lobby.js";
import { controlsSetup } from "./meeting/controls.js";
import { hostSetup } from "./meeting/host.js";
import { chatSetup } from "./meeting/chat.js";
import { captionLines, interpSetup, offerSetup } from "./meeting/interpretation.js";

function testHooks() {
  // What the browser tests read of the page (never used by the page itself).
  window.parleyMeeting = {
    state: function () { return live.state; },
    connected: function () { return !!(live.conn && live.conn.ready); },
    published: function () { return !!(live.conn && live.conn.published); },
    subscribedFeeds: function () {
      return live.conn ? Object.keys(live.conn.subscribed).map(function (k) { return k.split(":")[0]; }) : [];
    },
    remoteStreams: function () {
      return Object.keys(live.remote).map(function (feed) { return { feed: Number(feed), stream: live.remote[feed].stream }; });
    },
    localStream: function () { return live.localStream; },
    captions: captionLines,
    listening: function () { return live.listening; },
  };
}

function start() {
  live.leftText = $("left-text").textContent;
  testHooks();
  lobbySetup();
  controlsSetup();
  hostSetup();
  chatSetup();
  interpSetup();
  offerSetup();
  // A tab that had joined waits for the state instead (it may go straight back in).
  if (root.dataset.status === "open" && !rememberedJoin()) { show("lobby", true); startPreview(); }
  openSocket();
  keepAlive();
}

if (root && window.Janus) start();
