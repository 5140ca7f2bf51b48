// Progressive enhancements for dialogue pages; everything works without JavaScript.
(function () {
  "use strict";
  // Show each dialogue time in the browser's own time zone too, when it reads differently
  // there (not twice the same time for a zone of the same offset, such as Dakar and UTC).
  var zone;
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { zone = null; }
  var lang = document.documentElement.lang || undefined;
  var style = { dateStyle: "medium", timeStyle: "short" };
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var when = new Date(el.getAttribute("datetime"));
    if (!zone || isNaN(when.getTime())) return;
    var here = when.toLocaleString(lang, style);
    var there = null;
    try { there = when.toLocaleString(lang, Object.assign({ timeZone: el.getAttribute("data-zone") }, style)); }
    catch (e) { there = null; } // a zone this browser does not know: show the local time
    if (there === here) return;
    var span = document.createElement("span");
    span.className = "local-time";
    span.textContent = (el.getAttribute("data-your-time") || "") + " " + here + " (" + zone + ")";
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
