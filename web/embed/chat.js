/* Nubilo lead qualifier: the chat widget loader. Served by the product at /embed/chat.js.
 *
 *   <script async src="https://PRODUCT/embed/chat.js" data-socket-url="https://RASA"
 *           data-lang="es" data-open-on="/precios,/pricing" data-open-after="20"></script>
 *
 * Loads rasa-webchat's bundle from the same product (/embed/webchat.js) and connects it to Rasa's
 * socket.io channel. Each message carries customData {anonymous_id, lang, locale}: the visitor id kept in
 * localStorage ("nubilo_aid", shared with track.js), the page's language and the browser's locale (its
 * region places the seasons of a timing answer). The conversation is
 * kept in localStorage, so it survives page loads. On pages whose path contains one of data-open-on,
 * the chat opens by itself after data-open-after seconds, once per browser session.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.nubiloChat) return;
  var base = new URL(script.src, location.href).origin;
  var attr = function (name, fallback) { var v = script.getAttribute("data-" + name); return v === null ? fallback : v; };
  var lang = (attr("lang", document.documentElement.lang || "es") || "es").slice(0, 2).toLowerCase() === "en" ? "en" : "es";
  var KEY = "nubilo_aid";
  var TEXTS = {
    es: { title: "Nubilo", subtitle: "Te ayudamos a elegir", hint: "Escribe un mensaje…", connecting: "Conectando…" },
    en: { title: "Nubilo", subtitle: "We help you choose", hint: "Type a message…", connecting: "Connecting…" }
  };

  function visitorId() {
    if (window.nubiloTrack) return window.nubiloTrack.anonymousId;
    var id = null;
    try { id = localStorage.getItem(KEY); } catch (e) { /* storage blocked */ }
    if (!id || !/^[A-Za-z0-9_.:-]{8,64}$/.test(id)) {
      id = (window.crypto && crypto.randomUUID) ? crypto.randomUUID()
        : "v" + Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
      try { localStorage.setItem(KEY, id); } catch (e) { /* storage blocked */ }
    }
    return id;
  }

  function isOpen() { return !!document.querySelector(".rw-widget-container.rw-chat-open, .rw-conversation-container"); }

  function open() {
    if (isOpen()) return true;
    var launcher = document.querySelector(".rw-launcher");
    if (!launcher) return false;
    launcher.click();
    return true;
  }

  function proactive() {
    var paths = attr("open-on", "").split(",").map(function (p) { return p.trim(); }).filter(Boolean);
    var seconds = parseFloat(attr("open-after", "20"));
    if (!paths.length || !(seconds >= 0)) return;
    if (!paths.some(function (p) { return location.pathname.indexOf(p) !== -1; })) return;
    try { if (sessionStorage.getItem("nubilo_opened")) return; } catch (e) { /* ignore */ }
    setTimeout(function tryOpen() {
      if (!open()) { setTimeout(tryOpen, 500); return; }  // widget not mounted yet
      try { sessionStorage.setItem("nubilo_opened", "1"); } catch (e) { /* ignore */ }
    }, seconds * 1000);
  }

  function start() {
    var t = TEXTS[lang];
    window.WebChat.default({
      socketUrl: attr("socket-url", "http://localhost:5005"),
      socketPath: "/socket.io/",
      customData: { anonymous_id: visitorId(), lang: lang, locale: navigator.language || "" },
      initPayload: "/greet",
      title: attr("title", t.title),
      subtitle: t.subtitle,
      inputTextFieldHint: t.hint,
      connectingText: t.connecting,
      params: { storage: "local" },
      // rasa-webchat holds each reply 30 ms per character (0.8 to 3 s) to look like typing: a
      // visitor waited 2 s for a reply the server gave in 0.15 s. A short flat pause instead.
      customMessageDelay: function () { return 350; },
      showMessageDate: false,
      hideWhenNotConnected: false,
      showFullScreenButton: false
    }, null);
    proactive();
  }

  window.nubiloChat = { open: open, isOpen: isOpen, lang: lang };
  var s = document.createElement("script");
  s.src = base + "/embed/webchat.js";
  s.async = true;
  s.onload = start;
  document.head.appendChild(s);
})();
