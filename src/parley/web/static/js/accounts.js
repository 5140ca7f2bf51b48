// Account pages: copy buttons, confirmations and a time-zone suggestion. Without JavaScript
// the same pages work; the link or token can be selected and copied by hand.
(function () {
  "use strict";

  // Copy the text of the input named by data-copy; the button shows data-copied briefly.
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.getElementById(button.getAttribute("data-copy"));
    if (!input || !navigator.clipboard) return;
    button.hidden = false;
    var label = button.textContent;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(input.value).then(function () {
        button.textContent = button.getAttribute("data-copied") || label;
        setTimeout(function () { button.textContent = label; }, 2000);
      }, function () { input.focus(); input.select(); });
    });
  });

  // Select the whole secret on focus so it is easy to copy by hand too.
  document.querySelectorAll("input[data-select-all]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // Ask before destructive actions (revoke, withdraw, disable).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
    });
  });

  // The invitation form: the interpreter's language only shows for an interpreter, and offers
  // the chosen dialogue's languages (without JavaScript it lists them all and the server checks).
  var roleSelect = document.getElementById("f-role");
  var languageField = document.querySelector("[data-for-role]");
  var dialogueSelect = document.getElementById("f-dialogue_id");
  if (roleSelect && languageField && dialogueSelect) {
    var languageSelect = languageField.querySelector("select");
    var fit = function () {
      languageField.hidden = roleSelect.value !== languageField.getAttribute("data-for-role");
      var chosen = dialogueSelect.options[dialogueSelect.selectedIndex];
      var allowed = chosen && chosen.value ? (chosen.getAttribute("data-languages") || "").split(" ") : null;
      Array.prototype.forEach.call(languageSelect.options, function (option) {
        option.hidden = !!option.value && !!allowed && allowed.indexOf(option.value) < 0;
      });
      var picked = languageSelect.options[languageSelect.selectedIndex];
      if (picked && picked.hidden) languageSelect.value = "";
    };
    roleSelect.addEventListener("change", fit);
    dialogueSelect.addEventListener("change", fit);
    fit();
  }

  // Offer this device's time zone when it differs from the field.
  var zoneInput = document.querySelector("input[data-detect-zone]");
  var suggestion = document.querySelector("[data-zone-suggestion]");
  if (zoneInput && suggestion && window.Intl && Intl.DateTimeFormat) {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && zone !== zoneInput.value) {
      suggestion.querySelector("[data-zone-name]").textContent = zone;
      suggestion.hidden = false;
      suggestion.querySelector("[data-use-zone]").addEventListener("click", function () {
        zoneInput.value = zone;
        suggestion.hidden = true;
        zoneInput.focus();
      });
    }
  }
})();
