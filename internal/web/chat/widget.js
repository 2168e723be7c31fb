// Touchpoint chat widget. One tag on any page:
//   <script src="https://touchpoint.example/widget.js" data-contact-point="ID" async></script>
// Optional: data-user-id and data-user-hash (a signed-in user; the hash is
// made by the site's server), data-name, data-email.
//
// It lives in a Shadow DOM so that the page's CSS and ours stay apart, and
// it shows every word of the server and of the visitor with textContent,
// never as HTML. Messages go out with fetch (JSON) and come in over
// EventSource; the visitor's token is kept in localStorage, so the
// conversation survives page loads. While the visitor writes it offers help
// articles from the knowledge base; an article's HTML (already sanitized by
// the server) is copied element by element through an allow-list, never
// assigned as markup.
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[data-contact-point]");
  if (!script || script.getAttribute("data-touchpoint-started")) return;
  script.setAttribute("data-touchpoint-started", "1");
  var cp = script.getAttribute("data-contact-point") || "";
  var base = new URL(script.src, location.href).origin;
  var api = base + "/chat/v1/points/" + encodeURIComponent(cp);
  var who = {
    user_id: script.getAttribute("data-user-id") || "",
    user_hash: script.getAttribute("data-user-hash") || "",
    name: script.getAttribute("data-name") || "",
    email: script.getAttribute("data-email") || ""
  };
  var storeKey = "touchpoint-chat:" + cp + (who.user_id ? ":" + who.user_id : "");

  var token = load();
  var config = { title: "Chat", pre_chat_form: false, agents_available: true };
  var seen = {};        // message key → element
  var toAck = {};       // agent message ids shown but not yet acknowledged
  var unread = 0;
  var source = null;    // the EventSource
  var offlineAsked = false;
  var visitorKey = "touchpoint-chat-visitor:" + cp;

  function load() {
    try { return localStorage.getItem(storeKey) || ""; } catch (e) { return ""; }
  }
  function save(v) {
    try { if (v) localStorage.setItem(storeKey, v); else localStorage.removeItem(storeKey); } catch (e) { /* private mode: this page only */ }
  }

  // el makes an element; text is set as text, never parsed.
  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    for (var k in attrs) if (Object.prototype.hasOwnProperty.call(attrs, k)) e.setAttribute(k, attrs[k]);
    if (text != null) e.textContent = text;
    return e;
  }

  var css = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;font-size:15px;line-height:1.4}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:14px 20px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25)}",
    ".launcher:focus-visible,button:focus-visible,input:focus-visible,textarea:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}",
    ".badge{display:inline-block;margin-left:8px;min-width:20px;padding:0 6px;border-radius:10px;background:#dc2626;color:#fff;font-size:12px;line-height:20px;text-align:center}",
    ".panel{position:fixed;right:20px;bottom:84px;z-index:2147483001;width:360px;max-width:calc(100vw - 40px);height:520px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;color:#111827;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".panel[hidden]{display:none}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 16px;background:#1d4ed8;color:#fff}",
    "h2{margin:0;font-size:16px;font-weight:600}",
    ".close{border:0;background:transparent;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:4px 8px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f9fafb}",
    ".log[hidden]{display:none}",
    ".msg{max-width:80%;padding:8px 12px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".visitor{align-self:flex-end;background:#1d4ed8;color:#fff}",
    ".agent{align-self:flex-start;background:#e5e7eb;color:#111827}",
    ".system{align-self:center;color:#4b5563;font-size:13px;text-align:center}",
    ".meta{display:block;font-size:11px;opacity:.8;margin-top:2px}",
    ".failed{background:#fee2e2;color:#991b1b}",
    ".notice{padding:8px 12px;background:#fef3c7;color:#78350f;font-size:13px}",
    ".notice:empty{display:none}",
    "form{display:flex;gap:8px;padding:10px;border-top:1px solid #e5e7eb;background:#fff}",
    "form.stack{flex-direction:column}",
    "form[hidden]{display:none}",
    "textarea,input{flex:1;border:1px solid #9ca3af;border-radius:8px;padding:8px;color:#111827;background:#fff;resize:none}",
    "button.send{border:0;border-radius:8px;padding:8px 14px;background:#1d4ed8;color:#fff;font-weight:600;cursor:pointer}",
    "label{font-size:13px;color:#374151}",
    ".answers{padding:8px 10px;border-top:1px solid #e5e7eb;background:#fff;max-height:40%;overflow-y:auto}",
    ".answers[hidden]{display:none}",
    ".answers h3{margin:0 0 4px;font-size:13px;font-weight:600;color:#374151}",
    ".answer{display:block;width:100%;text-align:left;border:1px solid #d1d5db;border-radius:8px;background:#f9fafb;padding:6px 10px;margin-top:6px;cursor:pointer;color:#111827}",
    ".answer strong{display:block;color:#1d4ed8}",
    ".answer span{display:block;font-size:13px;color:#4b5563}",
    ".article{flex:1;overflow-y:auto;padding:12px 16px;background:#fff}",
    ".article[hidden]{display:none}",
    ".article h3{margin:8px 0;font-size:17px}",
    ".article table{border-collapse:collapse}.article td,.article th{border:1px solid #d1d5db;padding:4px 8px;text-align:left}",
    ".back{border:0;background:transparent;color:#1d4ed8;font-weight:600;cursor:pointer;padding:4px 0}",
    ".sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}.launcher{right:12px;bottom:12px}}"
  ].join("\n");

  var host = el("div", { "data-touchpoint-chat": "" });
  var root = host.attachShadow({ mode: "open" });
  // A constructed style sheet works under a page's strict CSP (the help
  // center's: style-src 'self'), where a <style> element is refused.
  try {
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } catch (e) {
    root.appendChild(el("style", {}, css));
  }
  var launcher = el("button", { type: "button", class: "launcher", "aria-expanded": "false", "aria-controls": "tp-panel" }, "Chat");
  var badge = el("span", { class: "badge", hidden: "" });
  launcher.appendChild(badge);
  var panel = el("div", { id: "tp-panel", class: "panel", role: "dialog", "aria-modal": "false", "aria-labelledby": "tp-title", hidden: "" });
  var title = el("h2", { id: "tp-title" }, "Chat");
  var close = el("button", { type: "button", class: "close", "aria-label": "Close chat" }, "\u00d7");
  var header = el("header", {});
  header.appendChild(title);
  header.appendChild(close);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite", "aria-label": "Messages", tabindex: "0" });
  var notice = el("div", { class: "notice", role: "status" });

  var prechat = el("form", { class: "stack prechat", hidden: "" });
  prechat.appendChild(el("label", { for: "tp-name" }, "Your name"));
  var preName = el("input", { id: "tp-name", name: "name", autocomplete: "name", maxlength: "200" });
  prechat.appendChild(preName);
  prechat.appendChild(el("label", { for: "tp-email" }, "Your email"));
  var preEmail = el("input", { id: "tp-email", name: "email", type: "email", autocomplete: "email", maxlength: "254" });
  prechat.appendChild(preEmail);
  prechat.appendChild(el("button", { type: "submit", class: "send" }, "Start chat"));

  var offline = el("form", { class: "stack offline", hidden: "" });
  offline.appendChild(el("label", { for: "tp-offline-email" }, "Your email, for our answer"));
  var offEmail = el("input", { id: "tp-offline-email", name: "email", type: "email", autocomplete: "email", required: "", maxlength: "254" });
  offline.appendChild(offEmail);
  offline.appendChild(el("button", { type: "submit", class: "send" }, "Send me the answer"));

  var answers = el("div", { class: "answers", role: "region", "aria-label": "Suggested articles", hidden: "" });
  var article = el("div", { class: "article", role: "document", "aria-labelledby": "tp-article-title", tabindex: "-1", hidden: "" });

  var composer = el("form", { class: "composer" });
  composer.appendChild(el("label", { for: "tp-text", class: "sr" }, "Your message"));
  var text = el("textarea", { id: "tp-text", name: "text", rows: "2", maxlength: "4000", placeholder: "Write a message\u2026" });
  composer.appendChild(text);
  composer.appendChild(el("button", { type: "submit", class: "send" }, "Send"));

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(article);
  panel.appendChild(notice);
  panel.appendChild(answers);
  panel.appendChild(prechat);
  panel.appendChild(offline);
  panel.appendChild(composer);
  root.appendChild(launcher);
  root.appendChild(panel);

  function isOpen() { return !panel.hasAttribute("hidden"); }

  function labelLauncher() {
    var l = "Open chat: " + config.title;
    if (unread > 0) l += " (" + unread + " new)";
    launcher.setAttribute("aria-label", isOpen() ? "Close chat: " + config.title : l);
    if (unread > 0 && !isOpen()) { badge.textContent = String(unread); badge.removeAttribute("hidden"); }
    else badge.setAttribute("hidden", "");
  }

  function needForm() { return config.pre_chat_form && !token && !who.user_id; }

  function open() {
    panel.removeAttribute("hidden");
    launcher.setAttribute("aria-expanded", "true");
    unread = 0;
    labelLauncher();
    showForms();
    var first = needForm() ? preName : text;
    first.focus();
    log.scrollTop = log.scrollHeight;
    ack();
  }
  function shut() {
    panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", "false");
    labelLauncher();
    launcher.focus();
  }
  launcher.addEventListener("click", function () { if (isOpen()) shut(); else open(); });
  close.addEventListener("click", shut);
  root.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && isOpen()) { e.preventDefault(); shut(); }
  });

  function showForms() {
    if (needForm()) { prechat.removeAttribute("hidden"); composer.setAttribute("hidden", ""); }
    else { prechat.setAttribute("hidden", ""); composer.removeAttribute("hidden"); }
  }

  function call(method, path, body) {
    var headers = {};
    if (token) headers.Authorization = "Bearer " + token;
    if (body) headers["Content-Type"] = "application/json";
    return fetch(api + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined,
      mode: "cors", credentials: "omit", cache: "no-store"
    }).then(function (r) {
      if (r.status === 204) return null;
      return r.json().catch(function () { return {}; }).then(function (j) {
        if (!r.ok) {
          var err = new Error(j.detail || "the chat answered " + r.status);
          err.status = r.status;
          err.field = j.field || "";
          throw err;
        }
        return j;
      });
    });
  }

  function sleep(ms) { return new Promise(function (ok) { setTimeout(ok, ms); }); }

  function randomId() {
    var b = new Uint8Array(12);
    crypto.getRandomValues(b);
    return Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
  }

  function timeOf(at) {
    var d = at ? new Date(at) : new Date();
    return isNaN(d) ? "" : d.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  }

  // show adds or updates one message line; m comes from the server or is
  // the visitor's own message before the server has it.
  function show(m) {
    var key = m.from === "visitor" && m.client_id ? "c:" + m.client_id : "i:" + m.id;
    var line = seen[key];
    var fresh = !line;
    if (fresh) {
      line = el("div", { class: "msg " + (m.from === "agent" ? "agent" : "visitor") });
      line.appendChild(el("span", { class: "text" }));
      line.appendChild(el("span", { class: "meta" }));
      seen[key] = line;
      log.appendChild(line);
    }
    line.firstChild.textContent = m.text || "";
    var meta = m.from === "agent" ? (m.author || "Agent") + " \u00b7 " + timeOf(m.at) : timeOf(m.at);
    if (m.pending) meta += " \u00b7 sending\u2026";
    if (m.failed) meta += " \u00b7 not sent";
    line.lastChild.textContent = meta;
    line.classList.toggle("failed", !!m.failed);
    if (m.id) line.setAttribute("data-id", m.id);
    if (fresh && m.from === "agent") {
      toAck[m.id] = true;
      if (!isOpen()) { unread++; labelLauncher(); }
    }
    if (fresh) log.scrollTop = log.scrollHeight;
  }

  function system(words) {
    log.appendChild(el("div", { class: "system" }, words));
  }

  var ackTimer = null;
  function ack() {
    if (!isOpen() || !token || ackTimer) return;
    ackTimer = setTimeout(function () {
      ackTimer = null;
      var ids = Object.keys(toAck);
      if (!ids.length) return;
      toAck = {};
      call("POST", "/delivered", { ids: ids }).catch(function () { /* best effort */ });
    }, 300);
  }

  function forget() {
    token = "";
    save("");
    if (source) { source.close(); source = null; }
  }

  function history() {
    return call("GET", "/messages").then(function (h) {
      (h.items || []).forEach(show);
      ack();
      if (!h.agents_available) config.agents_available = false;
    }).catch(function (e) {
      if (e.status === 401) { forget(); showForms(); }
    });
  }

  // connect follows the conversation live; on every (re)connect the server
  // sends the whole history again and show() keeps what is already there.
  function connect() {
    if (!token || source || typeof EventSource === "undefined") return;
    source = new EventSource(api + "/events?token=" + encodeURIComponent(token));
    source.addEventListener("message", function (ev) {
      try { show(JSON.parse(ev.data)); } catch (e) { return; }
      ack();
    });
    source.addEventListener("lagged", function () { reconnect(1000); });
    source.addEventListener("error", function () {
      // EventSource retries by itself unless the server refused the stream.
      if (source && source.readyState === EventSource.CLOSED) reconnect(5000);
    });
  }
  function reconnect(after) {
    if (source) { source.close(); source = null; }
    setTimeout(function () { history().then(connect); }, after);
  }

  function start(form) {
    if (token) return Promise.resolve();
    var body = {
      name: form.name || who.name, email: form.email || who.email,
      user_id: who.user_id, user_hash: who.user_hash,
      visitor_id: visitorId() // the articles read before writing were recorded on it
    };
    return call("POST", "/conversations", body).then(function (c) {
      token = c.token;
      save(token);
      connect();
    });
  }

  function askEmail() {
    if (offlineAsked) return;
    offlineAsked = true;
    notice.textContent = "No agent is available right now. Leave your email and we will answer you there.";
    offEmail.value = who.email || preEmail.value || "";
    offline.removeAttribute("hidden");
  }

  async function sendText(words) {
    var cid = randomId();
    var m = { client_id: cid, from: "visitor", text: words, pending: true };
    show(m);
    for (var attempt = 0; ; attempt++) {
      try {
        await start({});
        var res = await call("POST", "/messages", { id: cid, text: words });
        show(res.message);
        if (!res.agents_available) askEmail();
        return;
      } catch (e) {
        if (e.status === 401 && attempt < 4) { forget(); continue; }
        var retry = !e.status || e.status >= 500 || e.status === 429;
        if (!retry || attempt >= 4) {
          m.pending = false;
          m.failed = true;
          show(m);
          notice.textContent = e.message;
          return;
        }
        // The same id again: the server stores the message once.
        await sleep(1000 * Math.pow(2, attempt));
      }
    }
  }

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    var words = text.value.trim();
    if (!words) return;
    text.value = "";
    notice.textContent = offlineAsked ? notice.textContent : "";
    clearTimeout(suggestTimer);
    suggestFor = "";
    suggest(words, "While you wait, these may help");
    sendText(words);
  });
  text.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });

  prechat.addEventListener("submit", function (e) {
    e.preventDefault();
    notice.textContent = "";
    start({ name: preName.value.trim(), email: preEmail.value.trim() }).then(function () {
      showForms();
      text.focus();
    }).catch(function (err) {
      notice.textContent = err.message;
      (err.field === "email" ? preEmail : preName).focus();
    });
  });

  offline.addEventListener("submit", function (e) {
    e.preventDefault();
    var email = offEmail.value.trim();
    start({}).then(function () {
      return call("PATCH", "/conversation", { email: email, answer_by_email: true });
    }).then(function () {
      offline.setAttribute("hidden", "");
      notice.textContent = "Thank you. We will answer at " + email + ".";
    }).catch(function (err) {
      notice.textContent = err.message;
      offEmail.focus();
    });
  });

  // ---- Answers from the knowledge base ----

  function visitorId() {
    var v = "";
    try { v = localStorage.getItem(visitorKey) || ""; } catch (e) { /* private mode */ }
    if (!v) {
      v = randomId();
      try { localStorage.setItem(visitorKey, v); } catch (e) { /* this page only */ }
    }
    return v;
  }

  // plain reads the text of a snippet (escaped HTML with <mark> only) in an
  // inert document: nothing in it runs or loads.
  function plain(html) {
    return new DOMParser().parseFromString(html || "", "text/html").body.textContent || "";
  }

  var allowed = { P: 1, BR: 1, STRONG: 1, EM: 1, B: 1, I: 1, UL: 1, OL: 1, LI: 1, H1: 1, H2: 1, H3: 1, H4: 1, H5: 1, H6: 1,
    TABLE: 1, THEAD: 1, TBODY: 1, TR: 1, TH: 1, TD: 1, CODE: 1, PRE: 1, BLOCKQUOTE: 1, HR: 1, MARK: 1, A: 1, DEL: 1 };

  // copy rebuilds the nodes of an inert document under into: allowed
  // elements as new elements, links only to http(s) and in a new tab, text
  // as text; everything else is dropped or flattened to its text.
  function copy(from, into) {
    for (var n = from.firstChild; n; n = n.nextSibling) {
      if (n.nodeType === 3) { into.appendChild(document.createTextNode(n.nodeValue)); continue; }
      if (n.nodeType !== 1) continue;
      if (n.tagName === "SCRIPT" || n.tagName === "STYLE") continue;
      if (!allowed[n.tagName]) { copy(n, into); continue; }
      var e = document.createElement(n.tagName.toLowerCase());
      if (n.tagName === "A") {
        var href = n.getAttribute("href") || "";
        if (/^https?:\/\//i.test(href)) { e.setAttribute("href", href); e.setAttribute("target", "_blank"); e.setAttribute("rel", "noopener noreferrer"); }
      }
      copy(n, e);
      into.appendChild(e);
    }
  }

  var suggestTimer = null;
  var suggestFor = "";
  function suggest(words, heading) {
    words = words.trim();
    if (words.length < 3 || words === suggestFor) return;
    suggestFor = words;
    call("GET", "/answers?q=" + encodeURIComponent(words.slice(0, 500))).then(function (res) {
      if (words !== suggestFor) return; // a later search is on its way
      answers.textContent = "";
      var items = res.items || [];
      if (!items.length) { answers.setAttribute("hidden", ""); return; }
      answers.appendChild(el("h3", {}, heading));
      items.forEach(function (it) {
        var b = el("button", { type: "button", class: "answer", "data-article": it.article_id });
        b.appendChild(el("strong", {}, it.title));
        var snip = plain(it.snippet_html);
        if (snip) b.appendChild(el("span", {}, snip));
        b.addEventListener("click", function () { showArticle(it.article_id); });
        answers.appendChild(b);
      });
      answers.removeAttribute("hidden");
    }).catch(function () { /* suggestions are a help, not a must */ });
  }

  function showArticle(articleID) {
    var q = token ? "" : "?visitor=" + encodeURIComponent(visitorId());
    call("GET", "/answers/" + encodeURIComponent(articleID) + q).then(function (a) {
      article.textContent = "";
      var back = el("button", { type: "button", class: "back" }, "\u2190 Back to the chat");
      back.addEventListener("click", closeArticle);
      article.appendChild(back);
      article.appendChild(el("h3", { id: "tp-article-title" }, a.title));
      var body = el("div", { class: "body" });
      copy(new DOMParser().parseFromString(a.html || "", "text/html").body, body);
      article.appendChild(body);
      log.setAttribute("hidden", "");
      article.removeAttribute("hidden");
      article.scrollTop = 0;
      article.focus();
    }).catch(function (e) { notice.textContent = e.message; });
  }
  function closeArticle() {
    article.setAttribute("hidden", "");
    article.textContent = "";
    log.removeAttribute("hidden");
    text.focus();
  }

  text.addEventListener("input", function () {
    clearTimeout(suggestTimer);
    suggestTimer = setTimeout(function () { suggest(text.value, "These articles may answer your question"); }, 350);
  });

  function mount() {
    document.body.appendChild(host);
    labelLauncher();
    call("GET", "/config").then(function (c) {
      config = c;
      title.textContent = c.title;
      labelLauncher();
      if (c.greeting) system(c.greeting);
      if (!c.agents_available) {
        system("No agent is available right now; write anyway and we will answer by email.");
      }
      showForms();
      if (token) history().then(connect);
    }).catch(function (e) {
      // A page not allowed to use this chat shows no launcher.
      host.remove();
      if (window.console) console.warn("Touchpoint chat: " + e.message);
    });
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
