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
  // The header's menu on a phone (base.html): Escape or a tap elsewhere closes it, the focus back
  // on its button. A browser without ::details-content cannot show a closed <details>'s links on a
  // wide screen: there it is opened instead.
  var menu = document.getElementById("site-menu");
  if (menu) {
    var summary = menu.querySelector("summary");
    var folded = function () { return getComputedStyle(summary).display !== "none"; };
    menu.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && menu.open && folded()) { menu.open = false; summary.focus(); }
    });
    document.addEventListener("click", function (e) {
      if (menu.open && folded() && !menu.contains(e.target)) menu.open = false;
    });
    if (!(window.CSS && CSS.supports && CSS.supports("selector(::details-content)"))) {
      var wide = window.matchMedia("(min-width: 48rem)");
      var fit = function () { menu.open = wide.matches; };
      fit();
      wide.addEventListener("change", fit);
    }
  }
  // A wide table's frame (.scroll-region): its hint shows only while columns are out of view.
  Array.prototype.forEach.call(document.querySelectorAll(".scroll-region[data-hint]"), function (region) {
    var hint = document.getElementById(region.getAttribute("data-hint"));
    if (!hint || !window.ResizeObserver) return;
    new ResizeObserver(function () { hint.hidden = region.scrollWidth <= region.clientWidth + 1; }).observe(region);
  });
  // A date field shows its date the way the browser's own language writes it (a French page
  // in an English browser reads 12/10/2026): beside it, the chosen date in the page's language,
  // spelled out so no order of day and month is left to guess.
  var pageLang = document.documentElement.lang || undefined;
  Array.prototype.forEach.call(document.querySelectorAll("input[type=date], input[type=datetime-local]"), function (input) {
    if (!window.Intl || !Intl.DateTimeFormat) return;
    var timed = input.type === "datetime-local";
    var format = new Intl.DateTimeFormat(pageLang, timed
      ? { weekday: "long", day: "numeric", month: "long", year: "numeric", hour: "numeric", minute: "2-digit" }
      : { weekday: "long", day: "numeric", month: "long", year: "numeric", timeZone: "UTC" });
    var out = document.createElement("output");
    out.className = "date-spelled";
    out.id = input.id ? input.id + "-spelled" : "";
    out.setAttribute("for", input.id || "");
    out.setAttribute("aria-live", "polite");
    input.insertAdjacentElement("afterend", out);
    var show = function () {
      var v = input.value;
      // A date alone is read at UTC midnight so no time zone moves it to the day before.
      var d = v ? new Date(timed ? v : v + "T00:00:00Z") : null;
      out.textContent = d && !isNaN(d.getTime()) ? format.format(d) : "";
    };
    input.addEventListener("input", show);
    input.addEventListener("change", show);
    show();
  });
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
