// Events surface: let htmx swap validation answers (422/409) inside [data-swap-errors], and confirm
// destructive plain-form buttons marked data-confirm (no inline script: CSP script-src 'self').
(function () {
  "use strict";
  document.addEventListener("htmx:beforeSwap", function (evt) {
    var status = evt.detail.xhr && evt.detail.xhr.status;
    var elt = evt.detail.elt;
    if ((status === 422 || status === 409) && elt && elt.closest && elt.closest("[data-swap-errors]")) {
      evt.detail.shouldSwap = true;
      evt.detail.isError = false;
    }
  });
  document.addEventListener("submit", function (evt) {
    var button = evt.submitter;
    var message = button && button.getAttribute("data-confirm");
    if (message && !window.confirm(message)) evt.preventDefault();
  });
})();
