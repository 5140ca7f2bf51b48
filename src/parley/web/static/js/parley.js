// Small progressive enhancements; every page works without JavaScript.
(function () {
  "use strict";
  // Submit the language picker as soon as a language is chosen.
  var picker = document.getElementById("locale-picker");
  if (picker) {
    picker.addEventListener("change", function () { picker.form.submit(); });
    var btn = picker.form.querySelector("button");
    if (btn) btn.hidden = true;
  }
  // fetch() wrapper that sends the CSRF token and JSON; other scripts use window.parley.api.
  var meta = document.querySelector('meta[name="csrf-token"]');
  window.parley = window.parley || {};
  window.parley.csrf = meta ? meta.content : "";
  window.parley.api = function (method, url, body) {
    var opts = { method: method, credentials: "same-origin",
                 headers: { "X-CSRF-Token": window.parley.csrf, "Accept": "application/json" } };
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(url, opts).then(function (r) {
      return r.text().then(function (t) {
        var data = t ? JSON.parse(t) : null;
        if (!r.ok) { var e = new Error((data && data.error && data.error.message) || r.statusText); e.status = r.status;
                     e.code = data && data.error && data.error.code; throw e; }
        return data;
      });
    });
  };
})();
