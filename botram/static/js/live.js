// The coordinator's live view. While this page's own press (the forecast's extension) is on its way, the
// stream's next panel is probably that very change: swapped in first, it would remove the pressed form, and
// htmx would drop the answer that carries the toast and the fresh panel. The pushed panel is let go; the
// answer brings the same state, and the stream's following panels go in as usual (as desk.js does).
(function () {
  document.addEventListener("htmx:sseBeforeMessage", function (evt) {
    var target = evt.target;
    if (target && target.id === "live-panel" && target.querySelector(".htmx-request")) evt.preventDefault();
  });
})();
