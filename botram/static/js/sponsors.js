// Funding pages: print buttons, modal dialogs (void, cancel, receive), and the contribution form's sections.
(function () {
  "use strict";
  function init(root) {
    root.querySelectorAll("dialog[open]").forEach(function (dialog) {
      // The server re-rendered a dialog with an error: show it as a real modal.
      if (dialog.showModal && !dialog.dataset.modal) {
        dialog.dataset.modal = "1";
        dialog.close();
        dialog.showModal();
      }
    });
    var form = root.querySelector("[data-contribution-form]");
    if (form && !form.dataset.bound) {
      form.dataset.bound = "1";
      var sync = function () {
        var kind = form.querySelector("input[name=form]:checked");
        var status = form.querySelector("input[name=status]:checked");
        var inkind = form.querySelector("[data-inkind]");
        var received = form.querySelector("[data-received]");
        if (inkind) inkind.hidden = !(kind && kind.value === "in_kind");
        if (received) received.hidden = !(status && status.value === "received");
      };
      form.addEventListener("change", sync);
      sync();
    }
  }
  document.addEventListener("click", function (evt) {
    var opener = evt.target.closest("[data-open-dialog]");
    if (opener) {
      var dialog = document.getElementById(opener.getAttribute("data-open-dialog"));
      if (dialog && dialog.showModal) {
        evt.preventDefault();
        dialog.showModal();
        var first = dialog.querySelector("textarea, input:not([type=hidden])");
        if (first) first.focus();
      }
      return;
    }
    var closer = evt.target.closest("[data-close-dialog]");
    if (closer) {
      var box = closer.closest("dialog");
      if (box) box.close();
      return;
    }
    if (evt.target.closest("[data-print]")) window.print();
  });
  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:afterSettle", function (evt) { init(evt.detail.target || document); });
})();
