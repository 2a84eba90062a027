// The kiosk: only what a plain form cannot do. Back to the start after the idle time untouched (in
// Indonesian), the browser's print where no thermal printer is attached, the booking scanner's field and
// the phone's number pad.
(function () {
  "use strict";
  var shell = document.querySelector(".kiosk-shell");
  if (!shell) return;
  var idle = (parseInt(shell.getAttribute("data-idle-seconds"), 10) || 30) * 1000;
  var timer = null;
  var start = shell.getAttribute("data-start-url");
  var onStart = location.pathname === start && !location.search;

  function reset() {
    var form = document.querySelector(".kiosk-reset-form");
    if (document.documentElement.lang !== "id" && form) { form.submit(); return; }
    if (onStart) {
      // Already at the start: clear what was ticked by someone who walked away.
      document.querySelectorAll(".kiosk-pick input:checked").forEach(function (box) { box.checked = false; });
      var half = document.querySelector("[data-kiosk-scan] [name=code]");
      if (half) half.value = "";  // half a scan (a QR pulled away mid-read) must not prefix the next one
      arm();
      return;
    }
    location.replace(start);
  }
  function arm() { clearTimeout(timer); timer = setTimeout(reset, idle); }
  ["pointerdown", "keydown", "touchstart"].forEach(function (name) {
    document.addEventListener(name, arm, { passive: true });
  });
  arm();

  // No thermal printer for this kiosk: the browser prints (silently with Chromium's --kiosk-printing).
  if (document.querySelector("[data-browser-print]")) {
    window.addEventListener("load", function () { window.print(); });
  }

  // The outbox worker prints within a moment of the commit: look again a few times while it is on its way.
  if (document.querySelector("[data-print-pending]")) {
    var url = new URL(location.href);
    var looks = parseInt(url.searchParams.get("cek") || "0", 10);
    if (looks < 6) {
      setTimeout(function () {
        url.searchParams.set("cek", String(looks + 1));
        location.replace(url.toString());
      }, 700);
    }
  }

  // The booking scanner types into the scan field: keep the focus there whatever was touched (a tick on a
  // tile moves it), and move it back before a key lands elsewhere. One scan, one submit: a scanner that
  // reads the QR twice must not garble the code or send a second request (the server answers a repeat of
  // the same press with the same ticket anyway).
  var scan = document.querySelector("[data-kiosk-scan]");
  if (scan) {
    var field = scan.querySelector("[name=code]");
    var sent = false;
    var keep = function () { if (!sent && document.activeElement !== field) field.focus({ preventScroll: true }); };
    document.addEventListener("click", keep);
    document.addEventListener("keydown", function (event) {
      if (event.key.length === 1 || event.key === "Enter") keep();
    }, true);
    scan.addEventListener("submit", function (event) {
      if (sent || !field.value.trim()) { event.preventDefault(); return; }
      sent = true;
      field.readOnly = true;
    });
    keep();
  }

  // The phone pad: digits into the read-only number field (touch only, no keyboard).
  var pad = document.querySelector("[data-kiosk-pad]");
  if (pad) {
    var number = pad.querySelector("[name=phone]");
    pad.addEventListener("click", function (event) {
      var key = event.target.closest(".kiosk-pad-key");
      if (!key) return;
      var digit = key.getAttribute("data-digit");
      if (digit !== null) {
        if (number.value.replace(/\D/g, "").length < 15) number.value += digit;
      } else if (key.getAttribute("data-pad") === "back") {
        number.value = number.value.slice(0, -1);
      } else {
        number.value = "";
      }
    });
  }
})();
