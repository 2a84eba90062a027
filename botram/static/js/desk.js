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
    var button = document.querySelector('#desk-console [data-shortcut="' + key + '"]');
    if (button && !button.disabled) button.click();
  }

  document.addEventListener("keydown", function (evt) {
    if (evt.ctrlKey || evt.metaKey || evt.altKey || evt.repeat) return;
    if (isTyping(evt.target)) return;
    if (document.querySelector("dialog[open]")) return;
    var key = (evt.key || "").toLowerCase();
    if (!/^[a-z]$/.test(key)) return;
    if (!document.querySelector('#desk-console [data-shortcut="' + key + '"]')) return;
    evt.preventDefault();
    pressShortcut(key, 0);
  });

  function openDialog(dialog) {
    if (!dialog || dialog.open || !dialog.showModal) return;
    dialog.showModal();
    var first = dialog.querySelector("[aria-invalid='true'], select, input, textarea");
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

  document.addEventListener("htmx:load", function (evt) { reopen(evt.detail.elt); expireUndo(evt.detail.elt); });
  document.addEventListener("DOMContentLoaded", function () { reopen(document); expireUndo(document); });
})();
