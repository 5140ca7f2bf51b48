// Dashboard enhancements (the page works without them): filters apply as soon as a choice
// changes, and the Apply button stays for the date fields.
(function () {
  "use strict";
  var form = document.getElementById("dashboard-filters");
  if (!form) return;
  Array.prototype.forEach.call(form.querySelectorAll("select"), function (select) {
    select.addEventListener("change", function () { form.submit(); });
  });
})();
