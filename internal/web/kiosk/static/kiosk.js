// The kiosk's few touches of script: on-screen pads and keyboard, the idle
// reset, keeping the session alive while touched, and the queue place.
(function () {
  "use strict";
  var body = document.body;
  var base = body.dataset.base;

  // Pads: a [data-pad-for] container's [data-key] buttons type into its input.
  document.querySelectorAll("[data-pad-for]").forEach(function (pad) {
    var input = document.getElementById(pad.dataset.padFor);
    if (!input) return;
    pad.addEventListener("click", function (e) {
      var key = e.target.closest("[data-key]");
      if (!key) return;
      var k = key.dataset.key;
      var max = input.maxLength > 0 ? input.maxLength : 64;
      if (k === "back") input.value = input.value.slice(0, -1);
      else if (k === "clear") input.value = "";
      else if (input.value.length < max) input.value += k;
    });
  });

  // Idle reset: after data-idle seconds without a touch, warn, then reset.
  // The server forgets the session on its own after the same time.
  var idle = parseInt(body.dataset.idle || "0", 10);
  var form = document.getElementById("reset-form");
  if (idle > 0 && form) {
    var warning = document.getElementById("idle-warning");
    var warnAt = Math.max(idle - 10, idle / 2) * 1000;
    var last = Date.now(), pinged = Date.now(), warnTimer, resetTimer;
    var arm = function () {
      clearTimeout(warnTimer);
      clearTimeout(resetTimer);
      warning.hidden = true;
      warnTimer = setTimeout(function () { warning.hidden = false; }, warnAt);
      resetTimer = setTimeout(function () { form.submit(); }, idle * 1000);
    };
    var touched = function () {
      last = Date.now();
      arm();
      // A touch that changes no page still counts on the server.
      if (last - pinged > idle * 250) {
        pinged = last;
        fetch(base + "/ping", { method: "POST", credentials: "same-origin" }).catch(function () {});
      }
    };
    ["pointerdown", "touchstart", "keydown"].forEach(function (t) {
      document.addEventListener(t, touched, { passive: true });
    });
    document.getElementById("still-here").addEventListener("click", touched);
    arm();
  }

  // The queue place refreshes every 5 s.
  var place = document.querySelector("[data-poll]");
  if (place) {
    setInterval(function () {
      fetch(place.dataset.poll, { credentials: "same-origin" }).then(function (r) {
        if (r.redirected || !r.ok) { window.location.reload(); return null; }
        return r.text();
      }).then(function (html) {
        if (html !== null && html !== undefined) place.innerHTML = html;
      }).catch(function () {});
    }, 5000);
  }
})();
