// The other half of working offline (see sw.js): registers the service worker, sends the forms
// kept on the phone when the signal returns (each as it was typed, with the version it was based
// on, so the server refuses one that meets a newer change), shows how many wait, and on /sync
// lists them, with each refusal the server gave (a stale edit shows "mine / current"; its form
// resolves it). Signing out forgets the kept pages. No inline script: the CSP forbids it.
(function () {
  "use strict";
  if (!("serviceWorker" in navigator) || !("indexedDB" in window)) return;

  function openQueue() {
    return new Promise(function (resolve, reject) {
      var open = indexedDB.open("donornet-offline", 1);
      open.onupgradeneeded = function () {
        open.result.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
      };
      open.onsuccess = function () { resolve(open.result); };
      open.onerror = function () { reject(open.error); };
    });
  }

  function store(mode, work) {
    return openQueue().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction("queue", mode);
        var result = work(tx.objectStore("queue"));
        tx.oncomplete = function () { db.close(); resolve(result && result.result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function all() { return store("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return store("readwrite", function (s) { return s.put(item); }); }
  function remove(id) { return store("readwrite", function (s) { return s.delete(id); }); }

  var flushing = false;
  function flush() {
    if (flushing) return Promise.resolve();
    if (!navigator.onLine) return show(); // what waits, shown; sent when the signal returns
    flushing = true;
    return all()
      .then(function (items) {
        var chain = Promise.resolve();
        items.filter(function (i) { return !i.refused; }).forEach(function (item) {
          chain = chain.then(function () {
            return fetch(item.url, {
              method: "POST",
              body: item.body,
              headers: { "content-type": "application/x-www-form-urlencoded" },
              credentials: "same-origin",
              redirect: "manual",
            }).then(function (response) {
              if (response.type === "opaqueredirect" || response.ok) return remove(item.id);
              return response.text().then(function (html) {
                item.refused = { status: response.status, html: html };
                return put(item);
              });
            });
          });
        });
        return chain;
      })
      .catch(function () { /* still no signal: try again later */ })
      .then(function () { flushing = false; return show(); });
  }

  function show() {
    return all().then(function (items) {
      var banner = document.getElementById("offline-banner");
      if (banner) {
        var waiting = items.filter(function (i) { return !i.refused; }).length;
        var refused = items.length - waiting;
        banner.hidden = items.length === 0;
        banner.querySelector("[data-waiting]").textContent = waiting;
        banner.querySelector("[data-refused]").textContent = refused;
        banner.classList.toggle("has-refused", refused > 0);
      }
      var list = document.getElementById("sync-list");
      if (list) renderSync(list, items);
    });
  }

  function renderSync(list, items) {
    list.textContent = "";
    var empty = document.getElementById("sync-empty");
    if (empty) empty.hidden = items.length > 0;
    items.forEach(function (item) {
      var li = document.createElement("li");
      li.className = "sync-item" + (item.refused ? " refused" : "");
      var title = document.createElement("p");
      title.className = "sync-label";
      title.textContent = item.label + " · " + new Date(item.at).toLocaleString(document.documentElement.lang);
      li.appendChild(title);
      if (item.refused) {
        // The server's own page for the refusal (ours, escaped): its main part, with its forms.
        var doc = new DOMParser().parseFromString(item.refused.html, "text/html");
        var main = doc.querySelector("main");
        var part = document.createElement("div");
        part.className = "sync-refusal";
        if (main) {
          Array.prototype.forEach.call(main.childNodes, function (n) {
            part.appendChild(document.importNode(n, true));
          });
        }
        li.appendChild(part);
        // Sending the refused form again, or leaving it for the page's other way out (Skip:
        // keep what the server has), settles it.
        // (The item goes first: a page that is leaving may not finish writing to IndexedDB.)
        part.querySelectorAll("form").forEach(function (form) {
          form.addEventListener("submit", function (event) {
            if (form.dataset.settled) return;
            event.preventDefault();
            var by = event.submitter;
            remove(item.id).then(function () {
              form.dataset.settled = "1";
              if (by) form.requestSubmit(by); else form.requestSubmit();
            });
          });
        });
        part.querySelectorAll("a.button").forEach(function (link) {
          link.addEventListener("click", function (event) {
            event.preventDefault();
            remove(item.id).then(function () { window.location.assign(link.href); });
          });
        });
        var drop = document.createElement("button");
        drop.type = "button";
        drop.className = "button secondary";
        drop.textContent = list.dataset.discard;
        drop.addEventListener("click", function () {
          if (window.confirm(list.dataset.discardConfirm)) remove(item.id).then(show);
        });
        li.appendChild(drop);
      } else {
        var wait = document.createElement("p");
        wait.className = "hint";
        wait.textContent = list.dataset.waiting;
        li.appendChild(wait);
      }
      list.appendChild(li);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    document.querySelectorAll("form[action='/logout']").forEach(function (form) {
      form.addEventListener("submit", function () {
        if (navigator.serviceWorker.controller) {
          navigator.serviceWorker.controller.postMessage("forget-pages");
        }
      });
    });
    // Pages the official will need without a signal (the next villages), kept ahead.
    document.querySelectorAll("[data-keep-ahead]").forEach(function (el) {
      var urls = el.dataset.keepAhead.split(" ").filter(Boolean);
      if (urls.length && "caches" in window) {
        caches.open("donornet-pages").then(function (cache) {
          urls.forEach(function (u) {
            fetch(u, { credentials: "same-origin" }).then(function (r) {
              if (r.ok) cache.put(u, r);
            }).catch(function () {});
          });
        });
      }
    });
    window.addEventListener("online", flush);
    var sync = document.getElementById("sync-now");
    if (sync) sync.addEventListener("click", flush);
    flush();
  });
})();
