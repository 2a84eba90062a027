// Small behaviours htmx does not cover: toasts from the server and focus after swaps.
(function () {
  "use strict";
  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var el = document.createElement("div");
    el.className = "toast " + (kind || "ok");
    el.setAttribute("role", "status");
    el.textContent = message;
    box.appendChild(el);
    setTimeout(function () { el.remove(); }, 5200);
  }
  window.botramToast = toast;
  // Sentences come from the page (a meta tag base.html renders through Babel), never from this file.
  var text = {};
  var meta = document.querySelector('meta[name="botram-text"]');
  try { text = JSON.parse(meta ? meta.content : "{}"); } catch (e) { text = {}; }
  window.botramText = function (key) { return text[key] || ""; };
  // Server sends HX-Trigger: {"botram:toast": {"message": "...", "kind": "ok"}}
  document.addEventListener("botram:toast", function (evt) {
    var d = evt.detail || {};
    toast(d.message || d.value, d.kind);
  });
  document.addEventListener("htmx:responseError", function (evt) {
    var xhr = evt.detail.xhr;
    if (xhr && xhr.status >= 500) toast(window.botramText("server_error"), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(window.botramText("offline"), "error");
  });
  // A refused form (422) or a conflict (409) comes back as a fragment carrying the message next to the
  // field: swap it like a success. A full error page (a whole document) is never swapped into a panel;
  // a boosted form's target is the whole body, so its refused page (the message by the field) is swapped.
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr;
    if (!xhr || (xhr.status !== 422 && xhr.status !== 409)) return;
    if (/^\s*<!doctype/i.test(xhr.responseText || "") && !evt.detail.boosted) return;
    evt.detail.shouldSwap = true;
    evt.detail.isError = false;
  });

  // Autofocus inside swapped-in content.
  document.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail.target;
    var el = target && target.querySelector && target.querySelector("[autofocus]");
    if (el) el.focus();
  });
})();
