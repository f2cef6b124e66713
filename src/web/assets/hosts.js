// The host pages (issue 16), nicer where script runs; they work without it. A new sign-up
// link gets a copy button (the link is shown once), and the host form's "use my location"
// fills the longitude and latitude from the phone (WGS-84, as GPS gives them). No inline
// script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";

  function copyButtons() {
    document.querySelectorAll("button[data-copy]").forEach(function (button) {
      var field = document.getElementById(button.dataset.copy);
      if (!field) return;
      var status = document.querySelector("[data-copy-status]");
      button.hidden = false;
      button.addEventListener("click", function () {
        field.focus();
        field.select();
        var done = function () {
          if (status) status.textContent = button.dataset.copied;
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(field.value).then(done, function () {
            if (document.execCommand("copy")) done();
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
  }

  function locate() {
    var button = document.getElementById("shost-locate");
    if (!button || !("geolocation" in navigator)) return;
    var status = document.getElementById("shost-locate-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          document.getElementById("longitude").value = pos.coords.longitude.toFixed(6);
          document.getElementById("latitude").value = pos.coords.latitude.toFixed(6);
          document.getElementById("crs").value = "wgs84";
          status.textContent = status.dataset.done;
        },
        function () {
          status.textContent = status.dataset.denied;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    copyButtons();
    locate();
  });
})();
