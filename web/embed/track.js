/* Nubilo lead qualifier: tracking snippet. Served by the product at /embed/track.js.
 *
 *   <script async src="https://PRODUCT/embed/track.js" data-write-key="pub_..."></script>
 *
 * Sends a Segment `page` call for this page view and a `track` "cta_click" for every click on an
 * element marked data-track="Label" (e.g. "Solicitar demo"), to PRODUCT/v1/p and /v1/t, with the
 * public browser write key in the body. The visitor id is a random UUID kept in localStorage
 * ("nubilo_aid"), sent as `anonymousId`; the chat widget sends the same id as `anonymous_id`.
 * Never blocks the page: it runs async, sends with navigator.sendBeacon (or fetch keepalive) as
 * text/plain JSON (no CORS preflight), never waits for an answer and swallows every error.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.nubiloTrack) return;
  var base = script.getAttribute("data-api") || new URL(script.src, location.href).origin;
  var key = script.getAttribute("data-write-key") || "";
  var KEY = "nubilo_aid";

  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx".replace(/[xy]/g, function (c) {
      var r = (Math.random() * 16) | 0;
      return (c === "x" ? r : (r & 3) | 8).toString(16);
    });
  }

  // The same visitor id the chat uses (8-64 of [A-Za-z0-9_.:-]); a fresh one if storage is blocked.
  function visitorId() {
    var id = null;
    try { id = localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    if (!id || !/^[A-Za-z0-9_.:-]{8,64}$/.test(id)) {
      id = uuid();
      try { localStorage.setItem(KEY, id); } catch (e) { /* storage blocked */ }
    }
    return id;
  }

  var anonymousId = visitorId();

  function send(path, call) {
    call.writeKey = key;
    call.anonymousId = anonymousId;
    call.messageId = uuid();
    call.timestamp = new Date().toISOString();
    call.context = {
      locale: navigator.language,
      userAgent: navigator.userAgent,
      page: { url: location.href, path: location.pathname, title: document.title, referrer: document.referrer },
      library: { name: "nubilo-track", version: "1" }
    };
    var body = JSON.stringify(call);
    try {
      if (navigator.sendBeacon && navigator.sendBeacon(base + path, new Blob([body], { type: "text/plain" }))) return;
    } catch (e) { /* fall back to fetch */ }
    try {
      fetch(base + path, { method: "POST", body: body, keepalive: true, mode: "no-cors",
                           headers: { "Content-Type": "text/plain" } }).catch(function () {});
    } catch (e) { /* never break the page */ }
  }

  function page() {
    send("/v1/p", { type: "page", name: document.title,
                    properties: { url: location.href, path: location.pathname, title: document.title,
                                  referrer: document.referrer } });
  }

  function track(event, properties) {
    send("/v1/t", { type: "track", event: event, properties: properties || {} });
  }

  document.addEventListener("click", function (e) {
    var el = e.target && e.target.closest ? e.target.closest("[data-track]") : null;
    if (el) track("cta_click", { label: el.getAttribute("data-track"), url: location.href });
  }, true);

  window.nubiloTrack = { anonymousId: anonymousId, page: page, track: track };
  page();
})();
