// Admin pages: what htmx does not cover. Everything works without it; this only smooths the edges.
(function () {
  "use strict";

  // Copy the freshly issued token.
  document.addEventListener("click", function (evt) {
    var button = evt.target.closest && evt.target.closest("[data-copy]");
    if (!button) return;
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    input.select();
    var done = function () { if (window.botramToast) window.botramToast(window.botramText("copied"), "ok"); };
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(input.value).then(done);
    } else {
      try { document.execCommand("copy"); done(); } catch (e) { /* the text stays selected */ }
    }
  });
  document.addEventListener("focusin", function (evt) {
    if (evt.target.hasAttribute && evt.target.hasAttribute("data-select-on-focus")) evt.target.select();
  });

  // Package picker: live count of chosen services.
  document.addEventListener("change", function (evt) {
    var box = evt.target;
    if (box.name === "services") {
      var form = box.form;
      var count = form.querySelectorAll('input[name="services"]:checked').length;
      var label = form.querySelector("[data-picked-count]");
      if (label) label.textContent = count + " dipilih";
    }
    // Service form: suggest the agency's ticket letter when the field is empty.
    if (box.hasAttribute && box.hasAttribute("data-letter-source")) {
      var letters = JSON.parse(box.getAttribute("data-letter-source") || "{}");
      var letter = box.form.querySelector('[name="ticket_letter"]');
      if (letter && !letter.value && letters[box.value]) letter.value = letters[box.value];
    }
  });
})();
