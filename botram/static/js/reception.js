// Reception: package chips tick their services, Enter submits from a chip, focus for the next citizen,
// 422 answers swapped in (htmx 2 does not swap 4xx by default), and printing the ticket.
(function () {
  "use strict";
  var PAPER_KEY = "botram.paper";

  function form() { return document.getElementById("visit-form"); }

  function paper() {
    try { return localStorage.getItem(PAPER_KEY) || "80"; } catch (e) { return "80"; }
  }

  function applyPaper(width) {
    if (!document.body.classList.contains("reception-screen")) return;
    document.body.classList.remove("paper-58", "paper-80");
    document.body.classList.add("paper-" + width);
    document.querySelectorAll("[data-paper]").forEach(function (el) {
      el.classList.toggle("secondary", el.getAttribute("data-paper") !== width);
      // with this script the links are toggle buttons (the click picks the paper and prints): say so, since
      // aria-pressed belongs to a button, not to a link
      el.setAttribute("role", "button");
      el.setAttribute("aria-pressed", el.getAttribute("data-paper") === width ? "true" : "false");
    });
  }

  function syncPackages() {
    var f = form();
    if (!f) return;
    f.querySelectorAll("input[name='packages']").forEach(function (pkg) {
      var ids = (pkg.getAttribute("data-services") || "").split(",");
      var all = ids.every(function (id) {
        var box = f.querySelector("input[name='services'][value='" + id + "']");
        return box && box.checked;
      });
      if (pkg.checked && !all) pkg.checked = false;
    });
  }

  document.addEventListener("change", function (evt) {
    var el = evt.target;
    var f = form();
    if (!f || !f.contains(el)) return;
    if (el.name === "packages") {
      (el.getAttribute("data-services") || "").split(",").forEach(function (id) {
        var box = f.querySelector("input[name='services'][value='" + id + "']");
        if (box) box.checked = el.checked;
      });
    } else if (el.name === "services") {
      syncPackages();
    }
  });

  // Enter on a chip submits, like Enter in a text field.
  document.addEventListener("keydown", function (evt) {
    var el = evt.target;
    var f = form();
    if (evt.key !== "Enter" || !f || !f.contains(el)) return;
    if (el.type === "checkbox" || el.type === "radio") {
      evt.preventDefault();
      f.requestSubmit();
    }
  });

  document.addEventListener("htmx:afterSettle", function (evt) {
    var target = evt.detail.target;
    if (!target || target.id !== "workspace") return;
    applyPaper(paper());
    var f = form();
    if (!f) return;
    var bad = f.querySelector("[aria-invalid='true'], .has-error input");
    if (bad) { bad.focus(); return; }
    var first = f.querySelector("[autofocus]");
    if (first) first.focus();
  });

  document.addEventListener("click", function (evt) {
    var paperButton = evt.target.closest && evt.target.closest("[data-paper]");
    if (paperButton && document.body.classList.contains("reception-screen")) {
      evt.preventDefault();
      var width = paperButton.getAttribute("data-paper");
      try { localStorage.setItem(PAPER_KEY, width); } catch (e) { /* private mode */ }
      applyPaper(width);
      window.print();
      return;
    }
    if (evt.target.closest && evt.target.closest("[data-print]")) {
      evt.preventDefault();
      window.print();
    }
  });

  document.addEventListener("keydown", function (evt) {
    // a button is pressed with Space too
    if (evt.key !== " " || !evt.target.closest || !evt.target.closest("[data-paper][role='button']")) return;
    evt.preventDefault();
    evt.target.closest("[data-paper]").click();
  });

  document.addEventListener("DOMContentLoaded", function () {
    applyPaper(paper());
    if (document.body.hasAttribute("data-autoprint")) window.print();
  });
})();
