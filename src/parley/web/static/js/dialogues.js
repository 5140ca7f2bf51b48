// Progressive enhancements for dialogue pages; everything works without JavaScript.
(function () {
  "use strict";
  // Show each dialogue time in the browser's own time zone too, when it differs.
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = null; }
  var lang = document.documentElement.lang || undefined;
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!zone || isNaN(when.getTime())) return;
    var shown = el.querySelector(".tz");
    if (shown && shown.textContent.indexOf(zone) !== -1) return;
    var span = document.createElement("span");
    span.className = "local-time";
    span.textContent = when.toLocaleString(lang, { dateStyle: "medium", timeStyle: "short" }) + " (" + zone + ")";
    el.insertAdjacentElement("afterend", span);
  });
  // "Copy" buttons next to read-only links.
  document.querySelectorAll("button[data-copy]").forEach(function (btn) {
    var input = document.getElementById(btn.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) return;
    btn.hidden = false;
    var label = btn.textContent;
    btn.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        btn.textContent = "✓ " + label;
        setTimeout(function () { btn.textContent = label; }, 2000);
      });
    });
  });
  // Selecting a read-only link selects all of it.
  document.querySelectorAll("input.secret[readonly]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });
})();
