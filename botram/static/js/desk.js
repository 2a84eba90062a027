// Desk console: keyboard shortcuts, the transfer dialog, the guidance link, and letting htmx show
// 409/422 answers (alerts inside the console fragment). Every shortcut clicks its button so htmx does the work.
(function () {
  "use strict";

  var TEXT_INPUTS = ["text", "search", "email", "number", "tel", "url", "password", "date", "time"];

  function isTyping(el) {
    if (!el || !el.tagName) return false;
    if (el.isContentEditable) return true;
    var tag = el.tagName.toUpperCase();
    if (tag === "TEXTAREA" || tag === "SELECT") return true;
    if (tag === "INPUT") return TEXT_INPUTS.indexOf((el.type || "text").toLowerCase()) !== -1;
    return false;
  }

  // While an action is in flight a key is dropped (never act twice, never act on a visitor not yet seen);
  // while its answer is being swapped in (htmx wires new content up ~20 ms later) the key waits for it.
  function consoleState() {
    var console_ = document.getElementById("desk-console");
    if (!console_) return "gone";
    if (console_.querySelector("form.htmx-request")) return "busy";
    if (console_.matches(".htmx-added, .htmx-swapping, .htmx-settling") || console_.querySelector(".htmx-added")) {
      return "settling";
    }
    return "ready";
  }

  function pressShortcut(key, attempt) {
    var state = consoleState();
    if (state === "settling" && attempt < 20) {
      setTimeout(function () { pressShortcut(key, attempt + 1); }, 25);
      return;
    }
    if (state !== "ready") return;
    var button = shortcutButton(key);
    if (button && !button.disabled) button.click();
  }

  // A key's own button first; else the button that stands in for it (U after the undo bar is gone opens
  // the list of today's closed steps, so a late U is never silent).
  function shortcutButton(key) {
    return document.querySelector('#desk-console [data-shortcut="' + key + '"]') ||
      document.querySelector('#desk-console [data-shortcut-alt~="' + key + '"]');
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.repeat) return;
    if (isTyping(evt.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var key = (evt.key || "").toLowerCase();
    if (!/^[a-z]$/.test(key)) return;
    if (!shortcutButton(key)) return;
    evt.preventDefault();
    pressShortcut(key, 0);
  });

  // A modal dialog keeps Tab inside it: from the last control back to the first (Chromium would otherwise
  // move focus out to the browser's own toolbar).
  document.addEventListener("keydown", function (evt) {
    if (evt.key !== "Tab") return;
    var dialog = document.querySelector("#desk-console dialog[open]");
    if (!dialog) return;
    var items = Array.prototype.filter.call(
      dialog.querySelectorAll("button, [href], input:not([type=hidden]), select, textarea"),
      function (el) { return !el.disabled && el.offsetParent !== null; });
    if (!items.length) return;
    var first = items[0], last = items[items.length - 1];
    if (evt.shiftKey && (document.activeElement === first || !dialog.contains(document.activeElement))) {
      evt.preventDefault();
      last.focus();
    } else if (!evt.shiftKey && (document.activeElement === last || !dialog.contains(document.activeElement))) {
      evt.preventDefault();
      first.focus();
    }
  });

  function openDialog(dialog) {
    if (!dialog || dialog.open || !dialog.showModal) return;
    dialog.showModal();
    var first = dialog.querySelector("[autofocus], [aria-invalid='true'], select, input:not([type=hidden]), textarea");
    if (first) first.focus();
  }

  document.addEventListener("click", function (evt) {
    var target = evt.target;
    if (!target || !target.closest) return;
    var opener = target.closest("[data-open-dialog]");
    if (opener) {
      openDialog(document.getElementById(opener.getAttribute("data-open-dialog")));
      return;
    }
    var closer = target.closest("[data-close-dialog]");
    if (closer) {
      var dialog = closer.closest("dialog");
      if (dialog) dialog.close();
      return;
    }
    var guide = target.closest("a[data-guidance]");
    if (guide) {
      // The sheet lists what is still missing: pass the boxes ticked so far.
      var form = document.getElementById(guide.getAttribute("data-guidance"));
      var url = new URL(guide.href, window.location.href);
      url.searchParams.delete("ada");
      if (form) {
        form.querySelectorAll("input[name='requirements']:checked").forEach(function (box) {
          url.searchParams.append("ada", box.value);
        });
      }
      guide.href = url.toString();
      return;
    }
    if (target.closest("[data-print]")) window.print();
  });

  document.addEventListener("htmx:responseError", function (evt) {
    var status = evt.detail.xhr && evt.detail.xhr.status;
    if (!window.botramToast || evt.detail.requestConfig && evt.detail.requestConfig.verb === "get") return;
    if (status === 403) window.botramToast(window.botramText("forbidden"), "error");
    if (status === 404) window.botramToast(window.botramText("not_found"), "error");
    if (status === 400) window.botramToast(window.botramText("expired"), "error");
  });

  // A transfer refused by the server comes back with its dialog flagged open.
  function reopen(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("dialog[data-open='true']").forEach(openDialog);
  }

  // The undo bar after M or S goes away by itself: the desk keeps its pace. The server holds the real
  // time limit (botram.domain.queue.UNDO_SECONDS); this only stops offering it.
  function expireUndo(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-undo-seconds]").forEach(function (bar) {
      var seconds = parseInt(bar.getAttribute("data-undo-seconds"), 10) || 8;
      bar.style.setProperty("--undo-seconds", seconds + "s");
      setTimeout(function () { bar.remove(); }, seconds * 1000);
    });
  }

  // The console's stream sends the whole console when this desk's visitor changed elsewhere. While this
  // console's own action is on its way, that change is probably the action itself, and its answer brings the
  // console with what only it carries (the undo bar, the guidance banner): the pushed one is not swapped in.
  // An answer that came first has already replaced the console, and the extension drops the late push.
  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var target = evt.target;
    if (target && target.id === "desk-console" && target.querySelector(".htmx-request")) evt.preventDefault();
  });

  // M counts down to the moment the rules accept "tidak hadir" without another recall. The server decides
  // (botram.domain.queue.no_show_wait); a console swapped in brings its own fresh count.
  function countDown(root) {
    var scope = root && root.querySelectorAll ? root : document;
    scope.querySelectorAll("[data-ready-in]").forEach(function (button) {
      if (button.botramCounting) return;  // htmx:load and DOMContentLoaded both see the first console
      button.botramCounting = true;
      var readyAt = Date.now() + (parseInt(button.getAttribute("data-ready-in"), 10) || 0) * 1000;
      var count = button.querySelector("[data-count]");
      var timer = setInterval(function () {
        var left = Math.ceil((readyAt - Date.now()) / 1000);
        if (!button.isConnected) { clearInterval(timer); return; }
        if (left > 0) { if (count) count.textContent = left; return; }
        clearInterval(timer);
        button.classList.remove("not-ready");
        button.removeAttribute("data-ready-in");
        button.removeAttribute("title");
        var label = button.querySelector(".ready-in");
        if (label) label.remove();
      }, 1000);
    });
  }

  document.addEventListener("htmx:load", function (evt) { reopen(evt.detail.elt); expireUndo(evt.detail.elt); countDown(evt.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { reopen(document); expireUndo(document); countDown(document); });
})();
