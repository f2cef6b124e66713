// The township official's map (Leaflet), on the points list and a point's page. Everything it
// draws comes from the same-site JSON named by the map element's data-src
// (/township/map.json): tile layers (none: a plain background), townships, villages coloured
// by eligible donors, points coloured by status, 5 km rings around active points. Its
// coordinates are already in the tiles' datum (the server shifts them to GCJ-02 for AMap).
//
// On a point's page (data-pick="1") a tap on the map moves the point: the form's hidden
// longitude/latitude get the tapped place and crs the map's datum (the server shifts GCJ-02
// back to WGS-84); "use my location" fills them from the phone (WGS-84). No inline script
// anywhere: the Content-Security-Policy forbids it.
(function () {
  "use strict";

  // WGS-84 -> GCJ-02, the published formula (the same as src/geo/gcj02.rs), used only to draw
  // the phone's position on GCJ-02 tiles; what is sent stays WGS-84 and the server converts.
  function gcj02(lon, lat) {
    var a = 6378245.0;
    var ee = 0.006693421622965943;
    var x = lon - 105.0;
    var y = lat - 35.0;
    var dLat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * Math.sqrt(Math.abs(x));
    dLat += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    dLat += (20.0 * Math.sin(y * Math.PI) + 40.0 * Math.sin(y / 3.0 * Math.PI)) * 2.0 / 3.0;
    dLat += (160.0 * Math.sin(y / 12.0 * Math.PI) + 320.0 * Math.sin(y * Math.PI / 30.0)) * 2.0 / 3.0;
    var dLon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * Math.sqrt(Math.abs(x));
    dLon += (20.0 * Math.sin(6.0 * x * Math.PI) + 20.0 * Math.sin(2.0 * x * Math.PI)) * 2.0 / 3.0;
    dLon += (20.0 * Math.sin(x * Math.PI) + 40.0 * Math.sin(x / 3.0 * Math.PI)) * 2.0 / 3.0;
    dLon += (150.0 * Math.sin(x / 12.0 * Math.PI) + 300.0 * Math.sin(x / 30.0 * Math.PI)) * 2.0 / 3.0;
    var radLat = lat / 180.0 * Math.PI;
    var magic = 1 - ee * Math.sin(radLat) * Math.sin(radLat);
    var sqrtMagic = Math.sqrt(magic);
    dLat = (dLat * 180.0) / ((a * (1 - ee)) / (magic * sqrtMagic) * Math.PI);
    dLon = (dLon * 180.0) / (a / sqrtMagic * Math.cos(radLat) * Math.PI);
    return [lon + dLon, lat + dLat];
  }

  function text(tag, className, content) {
    var el = document.createElement(tag);
    if (className) el.className = className;
    el.textContent = content;
    return el;
  }

  // A tooltip's content as text: names come from people (a point, a village, a vehicle), and
  // Leaflet would read a string as HTML.
  function tip(content) {
    return text("span", "", content);
  }

  // The network map (data-mode="network") draws thousands of villages: on one canvas, so
  // its colours are given here (the same as app.css's legend swatches).
  var COLOURS = {
    "pt-active": "#1e7b34", "pt-planned": "#1f5fbf", "pt-suspended": "#c77700", "pt-closed": "#6e7781",
    "vg-unknown": "#ffffff", "vg-few": "#fde2e1", "vg-some": "#f4978e", "vg-many": "#b3261e",
    "age-recent": "#1e7b34", "age-old": "#e0a100", "age-none": "#ffffff"
  };

  function network(el, map, data) {
    var shade = "eligible";
    var villages = data.villages.map(function (v) {
      var marker = L.circleMarker([v.lat, v.lon], {
        radius: 5, weight: 1, color: "#57606a", fillOpacity: 0.9,
        fillColor: COLOURS["vg-" + v.band]
      }).bindTooltip(tip(v.label));
      marker.on("click", function () { card("/station/map/village/" + v.code); });
      marker.addTo(map);
      return { v: v, marker: marker };
    });
    function recolour() {
      var started = performance.now();
      villages.forEach(function (x) {
        var key = shade === "age" ? "age-" + x.v.age : "vg-" + x.v.band;
        x.marker.setStyle({ fillColor: COLOURS[key] });
      });
      var byEligible = document.querySelector(".villages-legend");
      var byAge = document.querySelector(".age-legend");
      if (byEligible && byAge) {
        byEligible.hidden = shade === "age";
        byAge.hidden = shade !== "age";
      }
      // (What the network map's benchmark reads.)
      performance.measure("map-shade", { start: started });
    }
    document.querySelectorAll("input[name=shade]").forEach(function (radio) {
      radio.addEventListener("change", function () {
        if (radio.checked) { shade = radio.value; recolour(); }
      });
    });
    data.points.forEach(function (p) {
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: 7, weight: 2, color: "#ffffff", fillOpacity: 1, fillColor: COLOURS["pt-" + p.status]
      }).bindTooltip(tip(p.name + " · " + p.label));
      marker.on("click", function () { card("/station/map/point/" + p.id); });
      marker.addTo(map);
    });
    (data.suggestions || []).forEach(function (s) {
      L.circle([s.lat, s.lon], {
        radius: data.radius_m, color: "#0b57d0", weight: 2, dashArray: "6 5", fill: false,
        interactive: false
      }).addTo(map);
      L.marker([s.lat, s.lon], {
        icon: L.divIcon({ className: "suggest-label", html: text("span", "", String(s.rank)), iconSize: null }),
        title: s.label,
        keyboard: false
      }).bindTooltip(tip(s.label)).addTo(map);
    });
  }

  // A drive plan (data-mode="plan"): a line per vehicle-day in its colour, from the station
  // through its stops (numbered in order) and back; the stations as squares.
  function plan(map, data, bounds) {
    data.stations.forEach(function (s) {
      L.marker([s.lat, s.lon], {
        icon: L.divIcon({ className: "station-label", html: text("span", "", "⌂"), iconSize: null }),
        title: s.name,
        keyboard: false
      }).bindTooltip(tip(s.name)).addTo(map);
      bounds.push([s.lat, s.lon]);
    });
    data.routes.forEach(function (r) {
      L.polyline(r.path, { color: r.colour, weight: 3, opacity: 0.85 }).bindTooltip(tip(r.label)).addTo(map);
      r.stops.forEach(function (s) {
        var label = text("span", "", String(s.n));
        label.style.backgroundColor = r.colour;
        L.marker([s.lat, s.lon], {
          icon: L.divIcon({ className: "stop-number", html: label, iconSize: null }),
          title: s.label,
          keyboard: false
        }).bindTooltip(tip(r.label + " · " + s.label)).addTo(map);
        bounds.push([s.lat, s.lon]);
      });
    });
  }

  // A village's or point's card, beside the map (htmx brings it; without htmx, its page).
  function card(url) {
    if (window.htmx) {
      window.htmx.ajax("GET", url, { target: "#card", swap: "innerHTML" });
    } else {
      window.location.href = url;
    }
  }

  function draw(el, data) {
    var isNetwork = el.dataset.mode === "network";
    var map = L.map(el, {
      zoomControl: true, attributionControl: data.tiles.length > 0, preferCanvas: isNetwork
    });
    if (data.tiles.length === 0) {
      el.classList.add("no-tiles");
    }
    data.tiles.forEach(function (t) {
      var options = { attribution: t.attribution, maxZoom: 18 };
      if (t.subdomains) options.subdomains = t.subdomains;
      L.tileLayer(t.url, options).addTo(map);
    });
    L.control.scale({ imperial: false }).addTo(map);

    var bounds = [];
    var focus = el.dataset.focus ? Number(el.dataset.focus) : null;
    var focused = null;

    if (el.dataset.mode === "plan") {
      plan(map, data, bounds);
      if (bounds.length > 0) {
        map.fitBounds(bounds, { padding: [24, 24], maxZoom: 13 });
      } else {
        map.setView([35, 105], 4);
      }
      return;
    }

    data.points.forEach(function (p) {
      if (p.status === "active") {
        L.circle([p.lat, p.lon], {
          radius: data.radius_m,
          className: "ring",
          interactive: false,
          // (on a canvas, where classes do not style)
          color: "#1e7b34", opacity: 0.6, weight: 1.5, dashArray: "5 4",
          fillColor: "#1e7b34", fillOpacity: 0.06
        }).addTo(map);
      }
    });
    data.townships.forEach(function (t) {
      L.marker([t.lat, t.lon], {
        icon: L.divIcon({ className: "tw-label", html: text("span", "", t.name), iconSize: null }),
        interactive: false,
        keyboard: false
      }).addTo(map);
      bounds.push([t.lat, t.lon]);
    });
    if (isNetwork) {
      network(el, map, data);
      data.villages.concat(data.points).forEach(function (x) { bounds.push([x.lat, x.lon]); });
    } else {
      drawTownship(map, data, bounds, focus, function (at) { focused = at; });
    }

    if (focused) {
      map.setView(focused, 14);
    } else if (bounds.length > 0) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 14 });
    } else if (data.centre) {
      map.setView([data.centre[1], data.centre[0]], 12);
    } else {
      map.setView([35, 105], 4);
    }

    if (el.dataset.pick === "1") pick(map, data);
  }

  // The township's map: villages and points as SVG (a few dozen; styled by app.css).
  function drawTownship(map, data, bounds, focus, setFocused) {
    data.villages.forEach(function (v) {
      L.circleMarker([v.lat, v.lon], { radius: 6, className: "vg vg-" + v.band })
        .bindTooltip(tip(v.label))
        .addTo(map);
      bounds.push([v.lat, v.lon]);
    });
    data.points.forEach(function (p) {
      var isFocus = p.id === focus;
      var marker = L.circleMarker([p.lat, p.lon], {
        radius: isFocus ? 11 : 8,
        className: "pt pt-" + p.status + (isFocus ? " pt-focus" : "")
      });
      var box = document.createElement("div");
      var link = text("a", "", p.name);
      link.href = p.href;
      box.appendChild(link);
      box.appendChild(text("div", "meta", p.label));
      marker.bindPopup(box).addTo(map);
      if (isFocus) setFocused([p.lat, p.lon]);
      bounds.push([p.lat, p.lon]);
    });
  }

  // Moving the point: a tap on the map, or the phone's position.
  function pick(map, data) {
    var lon = document.getElementById("longitude");
    var lat = document.getElementById("latitude");
    var crs = document.getElementById("crs");
    var status = document.getElementById("location-status");
    if (!lon || !lat || !crs) return;
    var chosen = null;
    function place(drawLat, drawLon) {
      if (chosen) {
        chosen.setLatLng([drawLat, drawLon]);
      } else {
        chosen = L.circleMarker([drawLat, drawLon], { radius: 11, className: "pt pt-new" }).addTo(map);
      }
    }
    function say(x, y) {
      if (status) status.textContent = status.dataset.moved + " " + x + ", " + y;
    }
    map.on("click", function (event) {
      var x = event.latlng.lng.toFixed(6);
      var y = event.latlng.lat.toFixed(6);
      lon.value = x;
      lat.value = y;
      crs.value = data.crs;
      place(event.latlng.lat, event.latlng.lng);
      say(x, y);
    });
    var button = document.getElementById("use-my-location");
    if (!button || !("geolocation" in navigator)) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (status) status.textContent = status.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (pos) {
          var x = pos.coords.longitude;
          var y = pos.coords.latitude;
          lon.value = x.toFixed(6);
          lat.value = y.toFixed(6);
          crs.value = "wgs84";
          var shown = data.crs === "gcj02" ? gcj02(x, y) : [x, y];
          place(shown[1], shown[0]);
          map.setView([shown[1], shown[0]], Math.max(map.getZoom(), 15));
          say(lon.value, lat.value);
        },
        function () {
          if (status) status.textContent = status.dataset.denied;
        },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var el = document.getElementById("map");
    if (!el || !el.dataset.src || typeof L === "undefined") return;
    fetch(el.dataset.src, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) throw new Error(String(r.status));
        return r.json();
      })
      .then(function (data) {
        performance.mark("map-data");
        draw(el, data);
        performance.mark("map-drawn");
      })
      .catch(function () {
        el.classList.add("failed");
        el.textContent = el.dataset.failed || "";
      });
  });
})();
