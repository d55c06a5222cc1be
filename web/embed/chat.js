/* Nubilo lead qualifier: the chat widget loader. Served by the product at /embed/chat.js.
 *
 *   <script async src="https://PRODUCT/embed/chat.js" data-socket-url="https://RASA"
 *           data-lang="es" data-open-on="/precios,/pricing" data-open-after="20"></script>
 *
 * Loads rasa-webchat's bundle from the same product (/embed/webchat.js) and connects it to Rasa's
 * socket.io channel. Each message carries customData {anonymous_id, lang, locale}: the visitor id kept in
 * localStorage ("nubilo_aid", shared with track.js), the page's language and the browser's locale (its
 * region places the seasons of a timing answer). The conversation is
 * kept in localStorage, so it survives page loads.
 *
 * Proactive teaser: on pages whose path contains one of data-open-on, after data-open-after seconds a
 * small greeting bubble appears next to the launcher, once per browser session, as Intercom and Drift
 * do on phones and desktops alike: it does not open the chat (on a phone that covers the whole
 * screen). Tapping it opens the chat; its × dismisses it for the session. Its text is
 * config/messages.yml's `responses.chat_teaser`, which the product writes into this file as it serves it.
 *
 * Live chat: a line an SDR sends (leadqual/leads/takeover.py) arrives with metadata {sdr, sdr_name};
 * its bubble shows the SDR's name and initials in a circle. The look is rasa-webchat's own per-message
 * `customCss`, so it is stored with the conversation and survives a reload.
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.nubiloChat) return;
  var base = new URL(script.src, location.href).origin;
  var attr = function (name, fallback) { var v = script.getAttribute("data-" + name); return v === null ? fallback : v; };
  var lang = (attr("lang", document.documentElement.lang || "es") || "es").slice(0, 2).toLowerCase() === "en" ? "en" : "es";
  var KEY = "nubilo_aid";
  var TEASER_KEY = "nubilo_teaser";  // sessionStorage: "shown", "dismissed" or "opened"
  // rasa-webchat holds each reply 30 ms per character (0.8 to 3 s a bubble) to look like typing: a
  // visitor waited 2 s for a reply the server gave in 0.15 s. A short flat pause instead, with the
  // typing dots (bench/widget_latency.py measures what the visitor sees).
  var REPLY_DELAY_MS = 350;
  var TEXTS = {
    es: { title: "Nubilo", subtitle: "Te ayudamos a elegir", hint: "Escribe un mensaje…", connecting: "Conectando…", close: "Cerrar" },
    en: { title: "Nubilo", subtitle: "We help you choose", hint: "Type a message…", connecting: "Connecting…", close: "Close" }
  };
  // From config/messages.yml, written in by the product as it serves this file (leadqual/http/embed.py).
  var SERVED = /*nubilo:texts*/null;
  var served = (SERVED && SERVED[lang]) || {};

  var CSS = [
    ".nubilo-teaser{position:fixed;z-index:10000;right:20px;bottom:92px;box-sizing:border-box;",
    "max-width:min(280px,calc(100vw - 24px));display:flex;align-items:flex-start;background:#fff;color:#1d2433;",
    "border-radius:14px 14px 4px 14px;box-shadow:0 4px 18px rgba(0,0,0,.18);font:15px/1.35 system-ui,-apple-system,",
    "'Segoe UI',Roboto,sans-serif;animation:nubilo-teaser-in .25s ease-out}",
    ".nubilo-teaser[hidden]{display:none}",
    ".nubilo-teaser-text{all:unset;box-sizing:border-box;cursor:pointer;padding:12px 4px 12px 14px;flex:1;text-align:left}",
    ".nubilo-teaser-text:focus-visible,.nubilo-teaser-close:focus-visible{outline:2px solid #135afe;outline-offset:2px}",
    ".nubilo-teaser-close{all:unset;box-sizing:border-box;cursor:pointer;flex:none;width:32px;height:32px;margin:4px 4px 0 0;",
    "border-radius:50%;text-align:center;font-size:20px;line-height:32px;color:#6b7280}",
    ".nubilo-teaser-close:hover{background:#f1f3f6;color:#1d2433}",
    "@media screen and (max-width:800px){.nubilo-teaser{right:12px;bottom:84px}}",
    "@keyframes nubilo-teaser-in{from{opacity:0;transform:translateY(8px)}to{opacity:1;transform:none}}",
    // An SDR's bubble: their name above the text, their initials in a circle beside it.
    ".rw-conversation-container .rw-response[style*='--nubilo-sdr-name']{position:relative;margin-left:38px;",
    "max-width:calc(85% - 38px);background:#eef4ff;color:#1d2433}",
    ".rw-conversation-container .rw-response[style*='--nubilo-sdr-name']::before{content:var(--nubilo-sdr-name);display:block;",
    "font-size:12px;font-weight:600;line-height:16px;color:#0b4fd1;margin-bottom:2px}",
    ".rw-conversation-container .rw-response[style*='--nubilo-sdr-name']::after{content:var(--nubilo-sdr-initials);",
    "position:absolute;left:-36px;top:0;width:30px;height:30px;border-radius:50%;background:#0b4fd1;color:#fff;",
    "font-size:12px;font-weight:700;line-height:30px;text-align:center;letter-spacing:.3px}"
  ].join("");

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

  function session(key, value) {
    try {
      if (value === undefined) return sessionStorage.getItem(key);
      sessionStorage.setItem(key, value);
    } catch (e) { /* storage blocked */ }
    return null;
  }

  function isOpen() { return !!document.querySelector(".rw-widget-container.rw-chat-open, .rw-conversation-container"); }

  function open() {
    hideTeaser("opened");
    if (isOpen()) return true;
    var launcher = document.querySelector(".rw-launcher");
    if (!launcher) return false;
    launcher.click();
    return true;
  }

  // -- the proactive teaser ---------------------------------------------------------------------

  var teaser = null;

  function hideTeaser(why) {
    if (teaser) teaser.hidden = true;
    if (why) session(TEASER_KEY, why);
  }

  function showTeaser() {
    if (isOpen() || session(TEASER_KEY)) return;  // the visitor opened the chat meanwhile
    var t = TEXTS[lang];
    teaser = document.createElement("div");
    teaser.className = "nubilo-teaser";
    teaser.setAttribute("role", "status");
    teaser.lang = lang;
    var text = document.createElement("button");
    text.type = "button";
    text.className = "nubilo-teaser-text";
    var words = served.teaser;  // a list in messages.yml gives variations
    text.textContent = Array.isArray(words) ? words[Math.floor(Math.random() * words.length)] : words;
    text.addEventListener("click", function () { open(); });
    var close = document.createElement("button");
    close.type = "button";
    close.className = "nubilo-teaser-close";
    close.setAttribute("aria-label", t.close);
    close.textContent = "×";
    close.addEventListener("click", function () { hideTeaser("dismissed"); });
    teaser.appendChild(text);
    teaser.appendChild(close);
    document.body.appendChild(teaser);
    session(TEASER_KEY, "shown");
  }

  function proactive() {
    var paths = attr("open-on", "").split(",").map(function (p) { return p.trim(); }).filter(Boolean);
    var seconds = parseFloat(attr("open-after", "20"));
    if (!paths.length || !(seconds >= 0)) return;
    if (!paths.some(function (p) { return location.pathname.indexOf(p) !== -1; })) return;
    if (session(TEASER_KEY) || session("nubilo_opened")) return;  // once per browser session
    if (!served.teaser) { if (window.console) console.warn("nubilo chat: no teaser text was served"); return; }
    setTimeout(function tryShow() {
      var launcher = document.querySelector(".rw-launcher");
      if (!launcher || !launcher.getClientRects().length) { setTimeout(tryShow, 500); return; }  // widget not shown yet
      showTeaser();
    }, seconds * 1000);
  }

  // The visitor using the launcher puts the teaser away (and it does not come later).
  document.addEventListener("click", function (event) {
    if (event.target.closest && event.target.closest(".rw-launcher")) hideTeaser("opened");
  }, true);

  // -- an SDR's lines -----------------------------------------------------------------------------

  function cssString(text) {
    // Every character but letters, digits and spaces as a CSS escape: nothing in a name can end the string.
    return "\"" + String(text).replace(/[^A-Za-z0-9 \u00C0-\u024F]/gu, function (c) {
      return "\\" + c.codePointAt(0).toString(16) + " ";
    }) + "\"";
  }

  function initials(name) {
    var words = String(name).trim().split(/\s+/).filter(Boolean);
    var letters = words.length > 1 ? [words[0], words[words.length - 1]] : words;
    return letters.map(function (w) { return Array.from(w)[0] || ""; }).join("").toUpperCase();
  }

  // Runs before rasa-webchat's own handler (registered first, same payload object): an SDR's line gets
  // rasa-webchat's per-message customCss, which carries the name and initials the stylesheet shows.
  function markSdrLine(message) {
    var meta = message && message.metadata;
    if (!meta || !meta.sdr) return;
    var name = String(meta.sdr_name || meta.sdr).slice(0, 80);
    meta.customCss = {
      style: "custom",
      css: "--nubilo-sdr-name:" + cssString(name) + ";--nubilo-sdr-initials:" + cssString(initials(name)) + ";"
    };
  }

  function start() {
    var t = TEXTS[lang];
    var style = document.createElement("style");
    style.textContent = CSS;
    document.head.appendChild(style);
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
      customMessageDelay: function () { return REPLY_DELAY_MS; },
      onSocketEvent: { bot_uttered: markSdrLine },
      showMessageDate: false,
      hideWhenNotConnected: false,
      showFullScreenButton: false
    }, null);
    proactive();
  }

  window.nubiloChat = { open: open, isOpen: isOpen, lang: lang, replyDelay: REPLY_DELAY_MS };
  var s = document.createElement("script");
  s.src = base + "/embed/webchat.js";
  s.async = true;
  s.onload = start;
  document.head.appendChild(s);
})();
