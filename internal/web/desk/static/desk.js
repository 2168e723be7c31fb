// Touchpoint desk: live updates over Server-Sent Events, presence and
// typing on cases, keyboard navigation. Plain JavaScript, no build step.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf || "";
  var me = body.dataset.user || "";
  var caseID = body.dataset.case || "";

  function post(url, fields) {
    var data = new URLSearchParams(fields || {});
    return fetch(url, {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-CSRF-Token": csrf, "X-Requested-With": "fetch" }
    });
  }

  // Swap a live region for a fresh rendering of this page.
  var refreshing = {}, again = {};
  function refresh(part, id) {
    var el = document.getElementById(id);
    if (!el || el.dataset.live === "off") return;
    if (refreshing[part]) { again[part] = true; return; }
    refreshing[part] = true;
    var u = new URL(location.href);
    u.searchParams.set("partial", part);
    fetch(u, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        if (part === "controls" && isDirty(el)) return;
        var before = {};
        el.querySelectorAll("[id]").forEach(function (n) { before[n.id] = true; });
        // Keep what the agent was doing in the region: split selections.
        var picked = Array.prototype.map.call(el.querySelectorAll("input[form=split-form]:checked"), function (c) { return c.value; });
        var subj = el.querySelector("#split-form input[name=subject]");
        var subjVal = subj ? subj.value : "";
        el.innerHTML = html;
        picked.forEach(function (v) {
          var c = el.querySelector('input[form=split-form][value="' + v + '"]');
          if (c) c.checked = true;
        });
        var subj2 = el.querySelector("#split-form input[name=subject]");
        if (subj2 && subjVal) subj2.value = subjVal;
        el.querySelectorAll(".entry[id]").forEach(function (n) { if (!before[n.id]) n.classList.add("fresh"); });
        showViews(el);
        wireForms(el);
        markSelection();
      })
      .catch(function () {})
      .then(function () {
        refreshing[part] = false;
        if (again[part]) { again[part] = false; refresh(part, id); }
      });
  }
  function isDirty(el) {
    return Array.prototype.some.call(el.querySelectorAll("input,select,textarea"), function (f) {
      if (f.type === "hidden") return false;
      if (f.tagName === "SELECT") return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      return f.value !== f.defaultValue;
    }) || el.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON";
  }

  // Presence: who else has this case open, and who is typing.
  var others = {}, shown = "";
  function showPresence() {
    var box = document.getElementById("presence");
    if (!box) return;
    var now = Date.now(), parts = [], text = "";
    Object.keys(others).forEach(function (uid) {
      var o = others[uid];
      if (now - o.seen > 35000) { delete others[uid]; return; }
      var typing = o.typing && now - o.typing < 5000;
      var span = document.createElement("span");
      span.className = "who" + (typing ? " typing" : "");
      span.textContent = o.name + (typing ? " is typing a reply…" : " is viewing this case");
      text += span.className + span.textContent;
      parts.push(span);
    });
    // Redraw only on change, so screen readers do not hear it again.
    if (text === shown) return;
    shown = text;
    box.replaceChildren.apply(box, parts);
  }
  function announce(state) { if (caseID) post("/cases/" + caseID + "/presence", { state: state }).catch(function () {}); }

  // The event stream.
  var status = document.getElementById("live-status");
  function connect() {
    // Every signed-in page listens at least to its user's topic (offers).
    var topics = body.dataset.topics || "";
    if (!me || !window.EventSource) return;
    var es = new EventSource("/events?topics=" + encodeURIComponent(topics));
    es.onopen = function () { if (status) { status.className = "live-status on"; status.title = "Live"; } if (caseID) announce("viewing"); };
    es.onerror = function () { if (status) { status.className = "live-status off"; status.title = "Reconnecting…"; } };
    function changed(ev) {
      refresh("live", "live");
      if (document.getElementById("controls")) refresh("controls", "controls");
      // A new message may be about something else: suggest again.
      if (ev && ev.type === "interaction.created" && document.getElementById("assist-live")) refresh("assist", "assist-live");
      if (document.querySelector("[data-count]")) counts();
    }
    ["interaction.created", "interaction.updated", "case.created", "case.updated", "case.note", "case.sla"].forEach(function (t) {
      es.addEventListener(t, changed);
    });
    es.addEventListener("presence", function (ev) {
      var d = JSON.parse(ev.data).data || {};
      if (String(d.user_id) === me || String(d.case_id) !== caseID) return;
      if (d.state === "left") { delete others[d.user_id]; showPresence(); return; }
      var known = others[d.user_id];
      var o = known || { name: d.name };
      o.seen = Date.now();
      if (d.state === "typing") { o.typing = Date.now(); setTimeout(showPresence, 5100); }
      others[d.user_id] = o;
      if (!known) announce("viewing"); // let the newcomer see us at once
      showPresence();
    });
    es.addEventListener("lagged", function () { es.close(); location.reload(); });
    // Routing: an offer for this agent shows at once, with who and why.
    es.addEventListener("routing.offer_made", function (ev) {
      var d = JSON.parse(ev.data).data || {};
      if (String(d.agent_id) !== me) return;
      showOffer(d.item_id);
    });
    ["routing.offer_timed_out", "routing.offer_revoked", "routing.offer_accepted", "routing.offer_declined", "routing.item_abandoned"].forEach(function (t) {
      es.addEventListener(t, function (ev) {
        var d = JSON.parse(ev.data).data || {};
        var card = document.querySelector('.offer-card[data-item="' + d.item_id + '"]');
        if (card) card.remove();
      });
    });
    if (document.getElementById("live") && topics.indexOf("routing") >= 0) {
      ["routing.item_queued", "routing.offer_made", "routing.item_assigned", "routing.item_completed", "routing.item_abandoned",
       "routing.presence_changed", "routing.item_overflowed", "routing.offer_timed_out"].forEach(function (t) {
        es.addEventListener(t, function () { refresh("live", "live"); });
      });
    }
  }
  function counts() {
    // Counts live in the view tabs; a full page fetch keeps them exact.
    fetch(location.href, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var doc = new DOMParser().parseFromString(html, "text/html");
      doc.querySelectorAll("[data-count]").forEach(function (n) {
        var here = document.querySelector('[data-count="' + n.dataset.count + '"]');
        if (here) here.textContent = n.textContent;
      });
    }).catch(function () {});
  }

  function showOffer(item) {
    var box = document.getElementById("offers");
    if (!box || document.querySelector('.offer-card[data-item="' + item + '"]')) return;
    fetch("/work/" + encodeURIComponent(item), { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.text(); })
      .then(function (html) {
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var card = holder.querySelector(".offer-card");
        if (!card) return;
        box.appendChild(card);
        var accept = card.querySelector("[data-accept]");
        if (accept) accept.focus();
      })
      .catch(function () {});
  }

  // Email bodies: formatted (sanitized HTML) or plain text, remembered per
  // entry across live refreshes.
  var plainShown = {};
  function setView(button, plain) {
    var entry = button.closest("li");
    entry.querySelectorAll("[data-view]").forEach(function (n) { n.hidden = (n.dataset.view === "text") !== plain; });
    button.textContent = plain ? "Show formatted" : "Show plain text";
  }
  function showViews(root) {
    root.querySelectorAll("[data-toggle-view]").forEach(function (b) { setView(b, !!plainShown[b.closest("li").id]); });
  }
  // Copy buttons next to read-only fields (secrets shown once, webhook URLs).
  document.addEventListener("click", function (e) {
    var t = e.target.closest ? e.target : null;
    var toggle = t && t.closest("[data-toggle-view]");
    if (toggle) {
      var id = toggle.closest("li").id;
      plainShown[id] = !plainShown[id];
      setView(toggle, plainShown[id]);
      return;
    }
    var copy = t && t.closest("[data-copy]");
    if (!copy) return;
    var field = document.getElementById(copy.dataset.copy);
    if (!field) return;
    field.select();
    var done = function () { copy.textContent = "Copied"; };
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () { if (document.execCommand("copy")) done(); });
    else if (document.execCommand("copy")) done();
  });

  // Forms: autosubmit of case controls, canned responses, typing signals.
  function wireForms(root) {
    root.querySelectorAll("form[data-autosubmit] select").forEach(function (s) {
      s.addEventListener("change", function () { s.form.requestSubmit ? s.form.requestSubmit() : s.form.submit(); });
    });
  }
  wireForms(document);
  // Canned responses are inserted with the suggested answers (at the end).
  var lastTyping = 0;
  document.querySelectorAll("[data-typing]").forEach(function (ta) {
    ta.addEventListener("input", function () {
      var now = Date.now();
      if (now - lastTyping > 2000) { lastTyping = now; announce("typing"); }
    });
  });
  document.querySelectorAll("form").forEach(function (f) {
    f.addEventListener("submit", function () {
      f.querySelectorAll("button[type=submit],button:not([type])").forEach(function (b) { b.disabled = true; });
    });
  });

  // Keyboard: j/k through lists, Enter to open, r to reply, n for a note.
  var rows = [], sel = -1;
  function markSelection() {
    rows = Array.prototype.slice.call(document.querySelectorAll("[data-nav] tr[data-href]"));
    rows.forEach(function (r, i) { r.classList.toggle("selected", i === sel); });
  }
  document.addEventListener("click", function (e) {
    var tr = e.target.closest && e.target.closest("tr[data-href]");
    if (tr && !e.target.closest("a,button,input,select,label")) location.href = tr.dataset.href;
  });
  document.addEventListener("keydown", function (e) {
    var t = e.target.tagName;
    if (t === "INPUT" || t === "TEXTAREA" || t === "SELECT" || e.ctrlKey || e.metaKey || e.altKey) {
      if (e.key === "Escape") e.target.blur();
      return;
    }
    markSelection();
    if (e.key === "j" || e.key === "ArrowDown") { if (rows.length) { sel = Math.min(rows.length - 1, sel + 1); markSelection(); rows[sel].scrollIntoView({ block: "nearest" }); e.preventDefault(); } }
    else if (e.key === "k" || e.key === "ArrowUp") { if (rows.length) { sel = Math.max(0, sel - 1); markSelection(); rows[sel].scrollIntoView({ block: "nearest" }); e.preventDefault(); } }
    else if ((e.key === "Enter" || e.key === "o") && sel >= 0 && rows[sel]) { location.href = rows[sel].dataset.href; }
    else if (e.key === "/") { var q = document.getElementById("q-top") || document.getElementById("q"); if (q) { q.focus(); e.preventDefault(); } }
    else if (e.key === "r") { var rb = document.getElementById("reply-body"); if (rb) { rb.focus(); e.preventDefault(); } }
    else if (e.key === "n") { var nb = document.querySelector(".note-box"); if (nb) { nb.open = true; document.getElementById("note-body").focus(); e.preventDefault(); } }
    else if (e.key === "g") { location.href = "/"; }
    else if (e.key === "a") { var acc = document.querySelector(".offer-card [data-accept]"); if (acc) { acc.click(); e.preventDefault(); } }
  });

  connect();
  if (caseID) {
    setInterval(function () { announce("viewing"); showPresence(); }, 10000);
    window.addEventListener("pagehide", function () {
      var data = new URLSearchParams({ state: "left", csrf: csrf });
      if (navigator.sendBeacon) navigator.sendBeacon("/cases/" + caseID + "/presence", data);
    });
  }
})();

// Suggested answers and canned responses: insert the form for the chosen
// channel (plain text for SMS-like channels) and keep what it cites, sent
// with the reply as cite fields.
(function () {
  var form = document.getElementById("reply-form");
  var ta = document.getElementById("reply-body");
  var cites = document.getElementById("reply-cites");
  if (!form || !ta || !cites) return;
  var plainKinds = { sms: true, whatsapp: true, social: true };
  function plainChannel() {
    var sel = document.getElementById("reply-channel");
    var opt = sel && sel.options[sel.selectedIndex];
    return !!(opt && plainKinds[opt.getAttribute("data-kind")]);
  }
  function addCites(s) {
    (s || "").split(" ").forEach(function (tok) {
      if (!tok || cites.querySelector('input[value="' + tok.replace(/[^a-z0-9:]/gi, "") + '"]')) return;
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "cite";
      input.value = tok;
      cites.appendChild(input);
    });
  }
  function insert(rich, plain, cite) {
    var text = plainChannel() && plain ? plain : rich;
    if (!text) return;
    ta.value = (ta.value ? ta.value + "\n\n" : "") + text;
    addCites(cite);
    ta.focus();
  }
  // Delegated: the suggestions are replaced when the conversation moves on.
  document.addEventListener("click", function (ev) {
    var b = ev.target.closest && ev.target.closest("[data-insert]");
    if (b) insert(b.getAttribute("data-text"), b.getAttribute("data-plain"), b.getAttribute("data-refs"));
  });
  var canned = document.querySelector("[data-canned]");
  if (canned) canned.addEventListener("change", function () {
    var opt = canned.options[canned.selectedIndex];
    if (opt && opt.value) insert(opt.value, opt.getAttribute("data-plain"), opt.getAttribute("data-refs"));
    canned.selectedIndex = 0;
  });
})();
