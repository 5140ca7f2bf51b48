// Report autosave and small comforts for the analysis pages. Every page works without it:
// the report form posts normally; this saves the draft through the JSON API as you type.
(function () {
  "use strict";
  var form = document.getElementById("report-form");
  if (!form || !window.parley || !window.fetch) return;
  var api = form.getAttribute("data-api");
  var status = document.getElementById("autosave-status");
  var versionInput = form.querySelector('input[name="version"]');
  var texts = {
    saving: form.getAttribute("data-saving") || "…",
    saved: form.getAttribute("data-saved") || "✓",
    failed: form.getAttribute("data-failed") || "!",
    conflict: form.getAttribute("data-conflict") || "!"
  };
  var timer = null;
  var saving = false;
  var stopped = false;
  var queuedSubmit = null;

  function say(text) { if (status) status.textContent = text; }

  function collect() {
    var fd = new FormData(form);
    var count = (fd.get("participant_count") || "").trim();
    var body = {
      version: parseInt(fd.get("version"), 10),
      language: fd.get("language") || null,
      future: fd.get("future") || "",
      on_track: fd.get("on_track") || "",
      on_track_text: fd.get("on_track_text") || "",
      actions: fd.get("actions") || "",
      notes: fd.get("notes") || "",
      // Ticked by name, then any typed as codes (as the form posts them).
      languages: fd.getAll("languages").concat((fd.get("languages_other") || "").split(","))
        .map(function (s) { return s.trim(); }).filter(function (s) { return s; }),
      quotes: []
    };
    if (/^\d+$/.test(count)) body.participant_count = parseInt(count, 10);
    fd.getAll("quote_ids").forEach(function (id) {
      var q = { id: parseInt(id, 10), included: fd.get("quote-" + id + "-included") === "1" };
      if (fd.has("quote-" + id + "-translation")) q.translation = fd.get("quote-" + id + "-translation");
      body.quotes.push(q);
    });
    return body;
  }

  function save() {
    timer = null;
    if (stopped || saving) return;
    saving = true;
    say(texts.saving);
    window.parley.api("PUT", api, collect()).then(function (report) {
      versionInput.value = report.version;
      var now = new Date();
      say(texts.saved + " " + now.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }));
    }, function (err) {
      if (err.status === 409) { stopped = true; say(texts.conflict); } else { say(texts.failed); }
    }).then(function () {
      saving = false;
      if (queuedSubmit !== null) {
        var button = queuedSubmit;
        queuedSubmit = null;
        if (form.requestSubmit) form.requestSubmit(button); else form.submit();
      }
    });
  }

  function schedule(event) {
    var name = event.target && event.target.name;
    if (!name || name.indexOf("new_quote") === 0 || /-remove$/.test(name)) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, 2000);
  }

  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  form.addEventListener("submit", function (event) {
    if (timer) { clearTimeout(timer); timer = null; }
    if (saving) { event.preventDefault(); queuedSubmit = event.submitter || null; }
  });
})();
