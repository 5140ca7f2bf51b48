// The survey works without this script. With it: answers are kept on this device while you
// type (and restored after a reload or a crash), at most N boxes can be ticked, an own answer
// ticks "other", and sending survives a bad connection: it retries until the server answers.
// Retries are safe because the form carries an idempotency key.
(function () {
  "use strict";
  var retryTimer = null;
  var delay = 2000;

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function draftKey(form) { return form.getAttribute("data-draft") + ":v" + form.getAttribute("data-version"); }

  function fields(form) {
    var out = [];
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || el.type === "submit") return;
      if ((el.type === "checkbox" || el.type === "radio") && !el.checked) return;
      out.push([el.name, el.value]);
    });
    return out;
  }

  function save(form) {
    var s = storage();
    if (!s) return;
    try { s.setItem(draftKey(form), JSON.stringify({ fields: fields(form), at: Date.now() })); } catch (e) { /* full */ }
  }

  function restore(form) {
    var s = storage();
    if (!s || document.getElementById("form-errors")) return; // the server already shows what was typed
    var raw = s.getItem(draftKey(form));
    if (!raw) return;
    var draft;
    try { draft = JSON.parse(raw); } catch (e) { return; }
    if (!draft || !draft.fields) return;
    var values = {};
    draft.fields.forEach(function (pair) { (values[pair[0]] = values[pair[0]] || []).push(pair[1]); });
    Array.prototype.forEach.call(form.elements, function (el) {
      if (!el.name || el.name === "csrf_token" || !(el.name in values)) return;
      if (el.type === "checkbox" || el.type === "radio") el.checked = values[el.name].indexOf(el.value) !== -1;
      else if (el.type !== "submit") el.value = values[el.name][0];
    });
  }

  function clearDraft(form) {
    var s = storage();
    if (s) s.removeItem(draftKey(form));
  }

  function limitChoices(form) {
    Array.prototype.forEach.call(form.querySelectorAll("fieldset[data-max]"), function (set) {
      var max = parseInt(set.getAttribute("data-max"), 10);
      var boxes = set.querySelectorAll("input[type=checkbox]");
      var ticked = set.querySelectorAll("input[type=checkbox]:checked").length;
      Array.prototype.forEach.call(boxes, function (box) { box.disabled = !box.checked && ticked >= max; });
    });
  }

  function status(form, text) {
    var el = document.getElementById("survey-status");
    if (el) el.textContent = text || "";
  }

  function swapPage(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var main = doc.querySelector("main");
    if (!main) return false;
    document.querySelector("main").innerHTML = main.innerHTML;
    document.title = doc.title;
    var focus = document.getElementById("form-errors") || document.querySelector("main h1");
    if (focus) { focus.setAttribute("tabindex", "-1"); focus.focus(); }
    init();
    return true;
  }

  function send(form) {
    var button = form.querySelector("button[type=submit]");
    if (retryTimer) { clearTimeout(retryTimer); retryTimer = null; }
    if (button) button.disabled = true;
    status(form, form.getAttribute("data-sending") || "…");
    fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin",
                         headers: { "Accept": "text/html" } })
      .then(function (response) {
        if (response.status >= 500) throw new Error("server " + response.status);
        return response.text().then(function (html) {
          delay = 2000;
          if (response.ok) clearDraft(form);
          if (!swapPage(html)) form.submit();
        });
      })
      .catch(function () {
        if (button) button.disabled = false;
        var seconds = Math.round(delay / 1000);
        status(form, (form.getAttribute("data-offline") || "Offline: retrying in %s s").replace("%s", seconds));
        retryTimer = setTimeout(function () { send(form); }, delay);
        delay = Math.min(delay * 2, 60000);
      });
  }

  function init() {
    var form = document.getElementById("survey-form");
    if (!form) return;
    restore(form);
    limitChoices(form);
    form.addEventListener("input", function (event) {
      var el = event.target;
      if (el.classList && el.classList.contains("other") && el.value) {
        var other = el.parentNode.querySelector("input[value=other]");
        if (other && !other.checked && !other.disabled) other.checked = true;
      }
      limitChoices(form);
      save(form);
    });
    form.addEventListener("change", function () { limitChoices(form); save(form); });
    if (!window.fetch || !window.FormData || !window.DOMParser) return;
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      save(form);
      send(form);
    });
    window.addEventListener("online", function () { if (retryTimer) send(form); });
  }

  init();
})();
