import { live } from "./live.js";
import { $, api, fail } from "./page.js";

// --- chats ------------------------------------------------------------------------------------
export function addChat(list, author, body) {
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

export function loadChat() {
  live.chatLoaded = true;
  api("GET", "/chat").then(function (page) {
    var list = $("chat-messages");
    list.textContent = "";
    page.messages.forEach(function (m) { addChat(list, m.author_name, m.body); });
  }).catch(function () { live.chatLoaded = false; });
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

export function chatSetup() {
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
