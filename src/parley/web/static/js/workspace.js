// Workspace, live: a WebSocket to /ws/workspace keeps messages, unread badges and mentions
// current; posting, editing and deleting happen in place. Without JavaScript the page's
// plain forms do the same. User text is only ever set with textContent, never as HTML.
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  if (!root || !window.WebSocket || !window.fetch || !window.parley) return;

  var api = window.parley.api;
  var me = Number(root.dataset.userId);
  var channelId = Number(root.dataset.channelId) || null;
  var canModerate = root.dataset.canModerate === "true";
  var text = root.dataset;
  var list = document.getElementById("ws-messages");
  var tpl = document.getElementById("ws-message-template");
  var composer = root.querySelector(".ws-composer");
  var statusLine = root.querySelector(".ws-status");
  var lang = document.documentElement.lang || undefined;

  var socket = null;
  var backoff = 1000;
  var reconnectTimer = null;
  var pingTimer = null;
  var stopped = false;
  var nextRef = 1;
  var pending = {};        // ref -> {resolve, reject}
  var readTimer = null;

  // --- small helpers ---------------------------------------------------------------------

  function setStatus(message) { if (statusLine) statusLine.textContent = message || ""; }

  function formatTime(iso) {
    try { return new Date(iso).toLocaleString(lang, { dateStyle: "short", timeStyle: "short" }); }
    catch (e) { return iso; }
  }

  function lastId() {
    if (!list) return 0;
    var items = list.querySelectorAll(".ws-message[data-id]");
    var max = 0;
    for (var i = 0; i < items.length; i++) max = Math.max(max, Number(items[i].dataset.id));
    return max;
  }

  function firstId() {
    var first = list && list.querySelector(".ws-message[data-id]");
    return first ? Number(first.dataset.id) : 0;
  }

  function nearBottom() {
    if (!list) return true;
    if (list.scrollHeight > list.clientHeight + 4) return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
    return window.innerHeight + window.scrollY >= document.body.scrollHeight - 120;
  }

  function scrollToBottom() {
    if (!list) return;
    list.scrollTop = list.scrollHeight;
    if (composer && composer.scrollIntoView && list.scrollHeight <= list.clientHeight + 4) composer.scrollIntoView({ block: "end" });
  }

  // --- rendering ---------------------------------------------------------------------------

  function fillMessage(li, m) {
    li.id = "m-" + m.id;
    li.dataset.id = String(m.id);
    li.dataset.authorId = m.author_id == null ? "" : String(m.author_id);
    li.classList.toggle("ws-deleted", !!m.deleted_at);
    li.querySelector(".ws-author").textContent = m.author_name || "";
    var time = li.querySelector("time");
    time.dateTime = m.created_at;
    time.textContent = formatTime(m.created_at);
    var edited = li.querySelector(".ws-edited");
    if (edited) edited.hidden = !m.edited_at || !!m.deleted_at;
    var bodies = li.querySelectorAll(".ws-body");
    for (var i = 0; i < bodies.length; i++) {
      var deletedBody = bodies[i].classList.contains("ws-body--deleted");
      bodies[i].hidden = deletedBody ? !m.deleted_at : !!m.deleted_at;
      if (!deletedBody) bodies[i].textContent = m.deleted_at ? "" : m.body;
    }
    var actions = li.querySelector(".ws-actions");
    var mine = m.author_id === me;
    if (actions) {
      actions.hidden = !!m.deleted_at || !(mine || canModerate);
      if (m.deleted_at) actions.remove();
      var edit = actions.querySelector(".ws-edit, .ws-edit-button");
      if (edit) edit.hidden = !mine;
    }
  }

  function renderMessage(m) {
    var li = tpl.content.firstElementChild.cloneNode(true);
    fillMessage(li, m);
    return li;
  }

  function ensureMetaParts(li) {
    // Server-rendered items lack the template's hidden parts; add what an update needs.
    if (!li.querySelector(".ws-edited")) {
      var edited = tpl.content.querySelector(".ws-edited").cloneNode(true);
      li.querySelector(".ws-meta").appendChild(edited);
    }
    if (!li.querySelector(".ws-body--deleted")) {
      li.appendChild(tpl.content.querySelector(".ws-body--deleted").cloneNode(true));
    }
    if (!li.querySelector(".ws-body:not(.ws-body--deleted)")) {
      var body = tpl.content.querySelector(".ws-body:not(.ws-body--deleted)").cloneNode(true);
      li.insertBefore(body, li.querySelector(".ws-body--deleted"));
    }
  }

  function upsert(m, highlight) {
    if (!list || m.channel_id !== channelId) return;
    var existing = document.getElementById("m-" + m.id);
    if (existing) {
      ensureMetaParts(existing);
      fillMessage(existing, m);
      return;
    }
    var stick = nearBottom();
    var li = renderMessage(m);
    if (highlight && m.author_id !== me) li.classList.add("ws-new");
    var items = list.querySelectorAll(".ws-message[data-id]");
    var before = null;
    for (var i = items.length - 1; i >= 0; i--) {
      if (Number(items[i].dataset.id) < m.id) break;
      before = items[i];
    }
    list.insertBefore(li, before);
    var empty = root.querySelector(".ws-empty");
    if (empty) empty.remove();
    if (stick || m.author_id === me) scrollToBottom();
  }

  function channelItem(id) { return root.querySelector('.ws-channels li[data-channel-id="' + id + '"]'); }

  function setBadge(badge, count) {
    if (!badge) return;
    badge.querySelector(".ws-count").textContent = String(count);
    badge.hidden = !count;
  }

  function setUnread(id, count) {
    var li = channelItem(id);
    if (li) setBadge(li.querySelector(".ws-unread"), id === channelId && document.visibilityState === "visible" ? 0 : count);
  }

  function setTotal(total) {
    setBadge(root.querySelector(".ws-total"), total);
    var base = document.title.replace(/^\(\d+\) /, "");
    document.title = total ? "(" + total + ") " + base : base;
  }

  function addChannel(c) {
    if (channelItem(c.id)) return;
    var ul = root.querySelector('.ws-channels[data-kind="' + c.kind + '"]');
    if (!ul) return;
    var none = ul.querySelector(".ws-none");
    if (none) none.remove();
    var li = document.createElement("li");
    li.dataset.channelId = String(c.id);
    li.dataset.kind = c.kind;
    var a = document.createElement("a");
    a.href = "/workspace/c/" + c.id;
    var title = document.createElement("span");
    title.className = "ws-title";
    title.textContent = (c.kind === "team" ? "# " : "") + c.title;
    var badge = document.createElement("span");
    badge.className = "badge ws-unread";
    var count = document.createElement("span");
    count.className = "ws-count";
    badge.appendChild(count);
    a.appendChild(title);
    a.appendChild(badge);
    li.appendChild(a);
    ul.appendChild(li);
    setBadge(badge, c.unread || 0);
  }

  function removeChannel(id) {
    var li = channelItem(id);
    if (li) li.remove();
    if (id === channelId && composer) {
      composer.querySelector("textarea").disabled = true;
      composer.querySelector("button").disabled = true;
    }
  }

  function toast(message, href) {
    var box = document.createElement("div");
    box.className = "ws-toast";
    box.setAttribute("role", "status");
    var a = document.createElement("a");
    a.textContent = message;
    a.href = href;
    box.appendChild(a);
    document.body.appendChild(box);
    setTimeout(function () { box.remove(); }, 8000);
  }

  // --- the socket --------------------------------------------------------------------------

  function request(frame) {
    return new Promise(function (resolve, reject) {
      if (!socket || socket.readyState !== WebSocket.OPEN) { reject(new Error("offline")); return; }
      var ref = "r" + nextRef++;
      frame.ref = ref;
      pending[ref] = { resolve: resolve, reject: reject };
      socket.send(JSON.stringify(frame));
    });
  }

  function markRead(messageId) {
    if (!channelId || document.visibilityState !== "visible") return;
    clearTimeout(readTimer);
    readTimer = setTimeout(function () {
      var frame = { type: "read", channel_id: channelId, message_id: messageId || lastId() || null };
      request(frame).catch(function () {
        api("POST", "/api/v1/workspace/channels/" + channelId + "/read", { message_id: frame.message_id }).catch(function () {});
      });
    }, 300);
  }

  function catchUp(after) {
    // Fetch what arrived while we were away, oldest first, until nothing is left.
    if (!channelId) return;
    request({ type: "fetch", channel_id: channelId, after: after, limit: 100 }).then(function (page) {
      page.messages.forEach(function (m) { upsert(m, true); });
      if (page.has_more && page.messages.length) catchUp(page.messages[page.messages.length - 1].id);
      else markRead();
    }).catch(function () {});
  }

  function onFrame(frame) {
    switch (frame.type) {
      case "hello":
        backoff = 1000;
        setStatus(text.textLive);
        frame.channels.forEach(function (c) { setUnread(c.channel_id, c.unread); });
        setTotal(frame.total_unread);
        catchUp(lastId());
        break;
      case "ack": case "messages": case "pong": case "error":
        var waiter = frame.ref && pending[frame.ref];
        if (waiter) {
          delete pending[frame.ref];
          if (frame.type === "error") { var e = new Error(frame.message); e.code = frame.code; waiter.reject(e); }
          else waiter.resolve(frame);
        }
        break;
      case "message.new":
        upsert(frame.message, true);
        setUnread(frame.channel_id, frame.unread);
        setTotal(frame.total_unread);
        if (frame.channel_id === channelId && frame.message.author_id !== me && frame.unread) markRead(frame.message.id);
        break;
      case "message.edited":
        upsert(frame.message, false);
        break;
      case "message.deleted":
        upsert(frame.message, false);
        setUnread(frame.channel_id, frame.unread);
        setTotal(frame.total_unread);
        break;
      case "unread":
        setUnread(frame.channel_id, frame.count);
        setTotal(frame.total);
        break;
      case "channel.added":
        addChannel(frame.channel);
        setTotal(frame.total_unread);
        break;
      case "channel.removed":
        removeChannel(frame.channel_id);
        setTotal(frame.total_unread);
        break;
      case "channel.updated":
        var item = channelItem(frame.channel_id);
        if (item) item.querySelector(".ws-title").textContent = (item.dataset.kind === "team" ? "# " : "") + frame.title;
        if (frame.channel_id === channelId) {
          var heading = document.getElementById("ws-pane-title");
          if (heading) heading.textContent = (item && item.dataset.kind === "team" ? "# " : "") + frame.title;
        }
        break;
      case "member.joined": case "member.left":
        if (frame.channel_id === channelId) {
          var members = root.querySelector(".ws-members ul");
          var uid = frame.type === "member.joined" ? frame.user.id : frame.user_id;
          var existing = members && members.querySelector('li[data-user-id="' + uid + '"]');
          if (frame.type === "member.left" && existing) existing.remove();
          if (frame.type === "member.joined" && members && !existing) {
            var li = document.createElement("li");
            li.dataset.userId = String(uid);
            li.textContent = frame.user.display_name;
            members.appendChild(li);
          }
        }
        break;
      case "notification":
        var n = frame.notification;
        toast(text.textMention.replace("{name}", n.actor_name).replace("{channel}", n.channel_title),
              "/workspace/c/" + n.channel_id + "#m-" + n.message_id);
        break;
      default:
        break;
    }
  }

  function connect() {
    if (stopped) return;
    clearTimeout(reconnectTimer);
    var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/workspace";
    var ws = new WebSocket(url);
    socket = ws;
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      onFrame(frame);
    };
    ws.onopen = function () {
      clearInterval(pingTimer);
      pingTimer = setInterval(function () { request({ type: "ping" }).catch(function () {}); }, 30000);
    };
    ws.onclose = function (event) {
      clearInterval(pingTimer);
      if (socket === ws) socket = null;
      Object.keys(pending).forEach(function (ref) { pending[ref].reject(new Error("offline")); delete pending[ref]; });
      if (event.code === 4401 || event.code === 4403) { stopped = true; setStatus(""); return; }
      setStatus(navigator.onLine === false ? text.textOffline : text.textReconnecting);
      // Exponential backoff with jitter, so a restarted server is not stampeded.
      var wait = backoff + Math.random() * backoff * 0.3;
      backoff = Math.min(backoff * 2, 30000);
      reconnectTimer = setTimeout(connect, wait);
    };
  }

  window.addEventListener("online", function () { if (!socket) { backoff = 1000; connect(); } });
  window.addEventListener("pagehide", function () { stopped = true; if (socket) socket.close(1000); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible") { setUnread(channelId, 0); markRead(); }
  });

  // --- actions -----------------------------------------------------------------------------

  function showComposerError(message) {
    var error = composer.querySelector(".field-error");
    if (!error) {
      error = document.createElement("p");
      error.className = "field-error";
      error.id = "ws-body-error";
      composer.insertBefore(error, composer.querySelector("button"));
    }
    error.textContent = message || "";
    error.hidden = !message;
    var area = composer.querySelector("textarea");
    if (message) { area.setAttribute("aria-invalid", "true"); area.setAttribute("aria-describedby", "ws-body-error"); }
    else area.removeAttribute("aria-invalid");
  }

  function send(body) {
    return request({ type: "post", channel_id: channelId, body: body }).then(function (ack) { return ack.message; },
      function (err) {
        if (err.code) throw err;
        return api("POST", "/api/v1/workspace/channels/" + channelId + "/messages", { body: body });
      });
  }

  if (composer && channelId) {
    var area = composer.querySelector("textarea");
    composer.addEventListener("submit", function (event) {
      event.preventDefault();
      var body = area.value;
      if (!body.trim()) { area.focus(); return; }
      area.value = "";
      showComposerError("");
      send(body).then(function (m) { upsert(m, false); }).catch(function (err) {
        if (!area.value) area.value = body;  // nothing typed is lost
        showComposerError(err.message || text.textSendFailed);
      });
    });
    area.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        composer.requestSubmit ? composer.requestSubmit() : composer.dispatchEvent(new Event("submit", { cancelable: true }));
      }
    });
  }

  function editMessage(li) {
    if (li.querySelector(".ws-edit-inline")) return;
    var id = Number(li.dataset.id);
    var body = li.querySelector(".ws-body:not(.ws-body--deleted)");
    var form = document.createElement("form");
    form.className = "ws-edit-inline";
    var label = document.createElement("label");
    label.className = "visually-hidden";
    label.htmlFor = "ws-edit-" + id;
    label.textContent = text.textSave;
    var ta = document.createElement("textarea");
    ta.id = "ws-edit-" + id;
    ta.maxLength = 4000;
    ta.value = body.textContent;
    var row = document.createElement("div");
    row.className = "ws-actions";
    var save = document.createElement("button");
    save.type = "submit";
    save.textContent = text.textSave;
    var cancel = document.createElement("button");
    cancel.type = "button";
    cancel.className = "secondary";
    cancel.textContent = text.textCancel;
    var error = document.createElement("p");
    error.className = "field-error";
    error.hidden = true;
    row.appendChild(save);
    row.appendChild(cancel);
    form.appendChild(label);
    form.appendChild(ta);
    form.appendChild(error);
    form.appendChild(row);
    body.hidden = true;
    body.after(form);
    ta.focus();
    cancel.addEventListener("click", function () { form.remove(); body.hidden = false; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var value = ta.value;
      request({ type: "edit", message_id: id, body: value }).then(function (ack) { return ack.message; }, function (err) {
        if (err.code) throw err;
        return api("PATCH", "/api/v1/workspace/messages/" + id, { body: value });
      }).then(function (m) { form.remove(); body.hidden = false; upsert(m, false); }).catch(function (err) {
        error.textContent = err.message;
        error.hidden = false;
      });
    });
  }

  function deleteMessage(li) {
    if (!window.confirm(text.textConfirmDelete)) return;
    var id = Number(li.dataset.id);
    request({ type: "delete", message_id: id }).then(function (ack) { return ack.message; }, function (err) {
      if (err.code) throw err;
      return api("DELETE", "/api/v1/workspace/messages/" + id);
    }).then(function (m) { upsert(m, false); }).catch(function (err) { toast(err.message, "#m-" + id); });
  }

  if (list) {
    list.addEventListener("click", function (event) {
      var target = event.target.closest(".ws-edit, .ws-edit-button, .ws-delete-button");
      if (!target) return;
      event.preventDefault();
      var li = target.closest(".ws-message");
      if (target.classList.contains("ws-delete-button")) deleteMessage(li); else editMessage(li);
    });
    list.addEventListener("submit", function (event) {
      var form = event.target.closest(".ws-delete");
      if (!form) return;
      event.preventDefault();
      deleteMessage(form.closest(".ws-message"));
    });
    var older = root.querySelector(".ws-older a");
    if (older) {
      older.addEventListener("click", function (event) {
        event.preventDefault();
        var height = list.scrollHeight;
        api("GET", "/api/v1/workspace/channels/" + channelId + "/messages?limit=50&before=" + firstId()).then(function (page) {
          page.messages.forEach(function (m) { upsert(m, false); });
          list.scrollTop += list.scrollHeight - height;
          if (!page.has_more) older.parentNode.remove();
        }).catch(function () {});
      });
    }
    if (!location.hash) scrollToBottom();
  }

  connect();
})();
