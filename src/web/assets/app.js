// donornet's pages work without this script; it makes them nicer where it runs:
// the booking form shows only the fields of the kind chosen, "use my location" fills the
// schedule's place, forms that undo something ask first, and htmx requests carry the
// session's CSRF token. No inline script anywhere (the Content-Security-Policy forbids it).
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function bookingKind() {
    var form = document.querySelector("form.booking");
    if (!form) return;
    function show() {
      var chosen = form.querySelector("input[name=kind]:checked");
      var group = chosen && chosen.value === "group";
      form.classList.toggle("as-group", group);
      form.classList.toggle("as-person", !group);
    }
    form.querySelectorAll("input[name=kind]").forEach(function (r) {
      r.addEventListener("change", show);
    });
    show();
  }

  function useLocation() {
    var button = document.getElementById("use-location");
    var form = document.getElementById("near-form");
    if (!button || !form || !("geolocation" in navigator)) return;
    var status = document.getElementById("location-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          var lon = pos.coords.longitude.toFixed(5);
          var lat = pos.coords.latitude.toFixed(5);
          document.getElementById("near").value = lon + "," + lat;
          form.submit();
        },
        function () {
          status.textContent = status.dataset.denied;
        },
        { enableHighAccuracy: false, timeout: 10000, maximumAge: 600000 }
      );
    });
  }

  function confirmations() {
    document.querySelectorAll("form[data-confirm]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        if (!window.confirm(form.dataset.confirm)) event.preventDefault();
      });
    });
  }

  function csrf() {
    var meta = document.querySelector("meta[name=csrf-token]");
    if (!meta) return;
    document.body.addEventListener("htmx:configRequest", function (event) {
      event.detail.headers["X-CSRF-Token"] = meta.content;
    });
  }

  function focusProblem() {
    var problem = document.getElementById("problem");
    if (problem) {
      problem.setAttribute("tabindex", "-1");
      // At the top of the screen, with the fields it speaks of below it (a bare focus
      // scrolls only until it shows, at the bottom edge of a phone's screen).
      problem.focus({ preventScroll: true });
      problem.scrollIntoView({ block: "start" });
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    bookingKind();
    useLocation();
    confirmations();
    csrf();
    focusProblem();
  });
})();
