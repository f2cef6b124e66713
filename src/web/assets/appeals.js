// The appeal page's copy button: copies the appeal's text to the clipboard and says so.
// Without this script the button stays hidden; the text can still be selected or downloaded.
// No inline script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var source = document.getElementById(button.dataset.copy);
      var status = document.getElementById("copy-status");
      if (!source) return;
      button.hidden = false;
      function say(text) {
        if (status) status.textContent = text;
      }
      button.addEventListener("click", function () {
        var text = source.value || source.textContent;
        if (navigator.clipboard && navigator.clipboard.writeText) {
          navigator.clipboard.writeText(text).then(
            function () { say(button.dataset.copied); },
            function () { fallback(); }
          );
        } else {
          fallback();
        }
        function fallback() {
          source.focus();
          source.select();
          var ok = false;
          try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
          say(ok ? button.dataset.copied : button.dataset.failed);
        }
      });
    });
  }

  document.addEventListener("DOMContentLoaded", copyButtons);
})();
