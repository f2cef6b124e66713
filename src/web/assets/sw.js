// donornet's service worker (served at /sw.js, scope "/"): the official's pages keep working on
// a weak rural signal. Assets are cached at install (their addresses carry content hashes);
// pages and the township's data are fetched from the network first and kept, so that the last
// copy opens when the signal is gone; a form marked for offline use (a hidden `_offline` field)
// that cannot reach the server is kept in IndexedDB and sent again later by offline.js, and the
// phone goes on to the page the form names in `_offline_next`. Pages that carry a booking's
// token are never kept. The server fills in ASSETS and VERSION when it serves this file.
"use strict";

const VERSION = "__VERSION__";
const ASSETS = __ASSETS__;
const ASSET_CACHE = "donornet-assets-" + VERSION;
const PAGE_CACHE = "donornet-pages";
const OFFLINE_PAGE = "/offline";

self.addEventListener("install", (event) => {
  event.waitUntil(
    caches
      .open(ASSET_CACHE)
      .then((cache) => cache.addAll(ASSETS.concat([OFFLINE_PAGE])))
      .then(() => self.skipWaiting())
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) =>
        Promise.all(
          keys
            .filter((k) => k.startsWith("donornet-assets-") && k !== ASSET_CACHE)
            .map((k) => caches.delete(k))
        )
      )
      .then(() => self.clients.claim())
  );
});

function keepable(url) {
  // Booking pages carry their token in the address: never stored.
  return !url.pathname.startsWith("/bookings/") && !url.searchParams.has("t");
}

async function networkFirst(request) {
  const url = new URL(request.url);
  try {
    const response = await fetch(request);
    if (response.ok && keepable(url)) {
      const cache = await caches.open(PAGE_CACHE);
      await cache.put(request, response.clone());
    }
    return response;
  } catch (err) {
    // The page as kept; else the same page kept under another query (`?queued=1`).
    const cached =
      (await caches.match(request, { ignoreVary: true })) ||
      (await caches.match(request, { ignoreVary: true, ignoreSearch: true }));
    if (cached) return cached;
    if (request.mode === "navigate") {
      const offline = await caches.match(OFFLINE_PAGE, { ignoreVary: true });
      if (offline) return offline;
    }
    throw err;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { ignoreVary: true });
  return cached || fetch(request);
}

// ---- the queue (shared with offline.js) ----
function openQueue() {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open("donornet-offline", 1);
    open.onupgradeneeded = () => {
      open.result.createObjectStore("queue", { keyPath: "id", autoIncrement: true });
    };
    open.onsuccess = () => resolve(open.result);
    open.onerror = () => reject(open.error);
  });
}

async function enqueue(item) {
  const db = await openQueue();
  await new Promise((resolve, reject) => {
    const tx = db.transaction("queue", "readwrite");
    tx.objectStore("queue").add(item);
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
  });
  db.close();
}

async function postOrKeep(request) {
  const copy = request.clone();
  try {
    return await fetch(request);
  } catch (err) {
    const body = await copy.text();
    const fields = new URLSearchParams(body);
    if (!fields.has("_offline")) {
      const offline = await caches.match(OFFLINE_PAGE, { ignoreVary: true });
      if (offline) return offline;
      throw err;
    }
    await enqueue({
      url: request.url,
      body: body,
      label: fields.get("_offline"),
      at: new Date().toISOString(),
    });
    const next = fields.get("_offline_next") || "/sync";
    const target = new URL(next, self.location.origin);
    target.searchParams.set("queued", "1");
    return Response.redirect(target.href, 303);
  }
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return; // map tiles: the network's business
  if (url.pathname.startsWith("/api/") || url.pathname === "/sw.js") return;
  if (request.method === "POST") {
    if (request.mode === "navigate") event.respondWith(postOrKeep(request));
    return;
  }
  if (request.method !== "GET") return;
  if (url.pathname.startsWith("/assets/")) {
    event.respondWith(cacheFirst(request));
    return;
  }
  event.respondWith(networkFirst(request));
});

self.addEventListener("message", (event) => {
  if (event.data === "forget-pages") {
    event.waitUntil(caches.delete(PAGE_CACHE));
  }
});
