// The projector board. htmx brings the panel (templates/board/show.html: the SSE extension, idiomorph's
// morph swap, a 10 s poll as a safety net); this keeps what htmx cannot do: the voice call (voice.js) for
// every new call or recall, the layout that pages through what does not fit, the clock, and the offline marker.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board) return;
  var panel = document.getElementById("board-panel");
  var offline = document.getElementById("board-offline");
  var soundButton = document.getElementById("board-sound");
  var eventId = board.dataset.event;
  var storeKey = "botram.board." + eventId + ".announced";
  var soundKey = "botram.board.sound";
  var OFFLINE_AFTER_MS = 2500;  // a stream that reconnects within this (every ten minutes it does) is no outage

  function version() {
    var live = panel.querySelector("[data-version]");
    return live ? parseInt(live.dataset.version, 10) : -1;
  }

  // ---- announced calls survive a reload so old calls are not spoken again
  var announced = {};
  try { JSON.parse(localStorage.getItem(storeKey) || "[]").forEach(function (k) { announced[k] = true; }); } catch (e) {}
  function remember(key) {
    announced[key] = true;
    var keys = Object.keys(announced).slice(-200);
    try { localStorage.setItem(storeKey, JSON.stringify(keys)); } catch (e) {}
  }

  // ---- voice: the clips of botram/static/js/voice.js, played one call after another (it queues them)
  var soundOn = localStorage.getItem(soundKey) === "on";
  var queue = [];
  function speakNext() {
    while (queue.length) {
      var call = queue.shift();
      if (soundOn && window.botramVoice) window.botramVoice.announce(call);
    }
  }

  function collectCalls(first) {
    var calls = Array.prototype.slice.call(panel.querySelectorAll("[data-call-key]")).map(function (el) {
      return { key: el.dataset.callKey, state: el.dataset.callState, code: el.dataset.code, desk: el.dataset.desk,
               agency: el.dataset.agency, at: el.dataset.calledAt, el: el };
    }).sort(function (a, b) { return a.at < b.at ? -1 : 1; });
    calls.forEach(function (call) {
      if (announced[call.key]) return;
      remember(call.key);
      if (first || call.state !== "called") return;  // a reload does not repeat calls
      pulse(call.el);
      queue.push(call);
    });
    var latest = panel.querySelector("[data-latest-key]");
    if (latest && !first && board.dataset.latest !== latest.dataset.latestKey) pulse(latest);
    if (latest) board.dataset.latest = latest.dataset.latestKey;
    speakNext();
  }


  // ---- layout: nothing scrolls and nothing is dropped
  // A [data-pager] section shows the items ([data-item]) that fit its .pager-items box and rotates through
  // the rest every PAGE_MS, saying how many are on the other pages. Pages follow the wall clock, so every
  // projector in the hall shows the same page. Sizes are measured, not guessed: long agency and service
  // names, 1 or 20 desks and any projector resolution all come out right.
  var PAGE_MS = 8000;
  var DENSITIES = ["0", "1", "2", "3", "4", "5", "6"];  // desk tiles: largest first; 4-6 compact (see board.css)
  var pagers = [];
  var fittingRecent = 5;
  var laidOutPage = -1;

  function itemsOf(box) { return Array.prototype.slice.call(box.querySelectorAll("[data-item]")); }
  function fits(el, box) {
    var r = el.getBoundingClientRect();
    return r.bottom <= box.bottom + 0.5 && r.right <= box.right + 0.5;
  }
  function paginate(box) {
    var items = itemsOf(box), pages = [], start = 0, tooBig = false;
    while (start < items.length) {
      items.forEach(function (el, i) { el.hidden = i < start; });
      var rect = box.getBoundingClientRect(), end = start + 1;  // a page shows at least one item
      if (!fits(items[start], rect)) tooBig = true;
      while (end < items.length && fits(items[end], rect)) end++;
      pages.push([start, end]);
      start = end;
    }
    items.forEach(function (el) { el.hidden = false; });
    return { box: box, items: items, pages: pages, tooBig: tooBig,
             more: box.parentNode.querySelector(".pager-more") };
  }
  function pageIndex(count) { return Math.floor(Date.now() / PAGE_MS) % count; }
  function showPage(pager, animate) {
    var count = pager.pages.length, items = pager.items;
    if (!count) { if (pager.more) pager.more.textContent = ""; return; }
    var index = pageIndex(count), page = pager.pages[index];
    items.forEach(function (el, i) { el.hidden = i < page[0] || i >= page[1]; });
    if (pager.more) {
      pager.more.textContent = count > 1 ? pager.more.dataset.more.replace("{n}", items.length - (page[1] - page[0])) +
        " · " + (index + 1) + "/" + count : "";
    }
    if (animate && count > 1) {
      pager.box.classList.remove("page-in");
      void pager.box.offsetWidth;  // restart the fade
      pager.box.classList.add("page-in");
    }
  }
  function fitRecent() {
    // older calls that do not fit the column are left out: they are history, not anyone's place in a queue
    var list = panel.querySelector(".recent-list[data-fit]");
    if (!list) return;
    var items = itemsOf(list), rect = list.getBoundingClientRect(), full = false;
    items.forEach(function (el) { el.hidden = false; });
    items.forEach(function (el) { if (full || !fits(el, rect)) { full = true; el.hidden = true; } });
    fittingRecent = items.filter(function (el) { return !el.hidden; }).length;
  }
  function height(el) { return el.getBoundingClientRect().height; }
  function paginateDesks(box) {
    // the largest tiles that show every desk at once, else the smallest, so the fewest pages go round
    var pager = null;
    for (var i = 0; i < DENSITIES.length; i++) {
      box.setAttribute("data-density", DENSITIES[i]);
      pager = paginate(box);
      if (pager.pages.length <= 1 && !pager.tooBig) break;
    }
    pager.density = box.getAttribute("data-density");
    return pager;
  }
  // Desks and services share the height between the latest call and the footer. Each split gives the
  // services a whole number of chip rows and the desks the rest; the one chosen pages the desks least
  // (a citizen looks for their desk: 24 desks at 1920x1080 and 12 at 1024x768 fit on one page), then the
  // services, then has the larger desk tiles. The services row is then fixed at its height, so it does not
  // make the desks jump when a shorter page comes round.
  function splitDesksAndServices(desks, services) {
    var chips = itemsOf(services), tiles = itemsOf(desks);
    var boxTop = services.getBoundingClientRect().top, heights = [], tallestChip = 0;
    chips.forEach(function (el) { tallestChip = Math.max(tallestChip, Math.ceil(height(el)) + 1); });
    chips.forEach(function (el) {  // the bottom of every chip row, all chips shown; a page holds any chip
      var h = Math.max(tallestChip, Math.ceil(el.getBoundingClientRect().bottom - boxTop) + 1);
      if (heights.indexOf(h) < 0) heights.push(h);
    });
    services.style.height = "0px";
    desks.setAttribute("data-density", DENSITIES[DENSITIES.length - 1]);
    var room = height(desks), smallestRow = 0;
    tiles.forEach(function (el) { smallestRow = Math.max(smallestRow, height(el)); });
    // desks keep at least one row of their smallest tiles; services at least one row of chips
    var fitting = heights.filter(function (h) { return h <= room - smallestRow; }).sort(function (a, b) { return a - b; });
    if (!fitting.length) fitting = [Math.min.apply(null, heights)];
    var best = null;
    fitting.forEach(function (h) {
      services.style.height = h + "px";
      var d = paginateDesks(desks), s = paginate(services);
      // every desk at once before anything else: the service panel yields its room first
      var score = [d.pages.length, s.pages.length, +d.density];
      var better = !best;
      for (var i = 0; !better && i < score.length; i++) {
        if (score[i] !== best.score[i]) { better = score[i] < best.score[i]; break; }
      }
      if (better) best = { score: score, height: h, desks: d, services: s };
    });
    services.style.height = best.height + "px";
    desks.setAttribute("data-density", best.desks.density);
    return best;
  }
  var dense = false;  // the latest call a little smaller, so that more desks fit at once (board.css)
  function setDense(on) {
    var live = panel.querySelector(".board-live");
    dense = on;
    if (live) live.toggleAttribute("data-dense", on);
  }
  function layout() {
    setDense(false);
    var boxes = Array.prototype.slice.call(panel.querySelectorAll("[data-pager] .pager-items"));
    var services = panel.querySelector(".board-services .pager-items");
    var desks = panel.querySelector(".board-desks .pager-items");
    measure(boxes, services, desks);
    if (desks && pagers[boxes.indexOf(desks)].pages.length > 1) {
      setDense(true);
      measure(boxes, services, desks);
    }
    // a lone tile on the last page keeps the width of the others instead of filling the row
    if (desks && pagers[boxes.indexOf(desks)].pages.length > 1) desks.setAttribute("data-paged", "");
    fitRecent();
    pagers.forEach(function (pager) {
      pager.selector = "." + pager.box.parentNode.classList[0] + " > .pager-items";
      pager.saved = { style: pager.box.style.cssText, density: pager.box.getAttribute("data-density"),
                      paged: pager.box.hasAttribute("data-paged") };
      showPage(pager, false);
    });
    laidOutPage = Math.floor(Date.now() / PAGE_MS);
  }
  function measure(boxes, services, desks) {
    boxes.forEach(function (box) {
      box.style.height = "";
      box.removeAttribute("data-density");
      box.removeAttribute("data-paged");
      itemsOf(box).forEach(function (el) { el.hidden = false; });
    });
    if (desks) {
      // tiles as wide as the widest code on them needs ("W-888" is a third wider than "I-111")
      desks.style.removeProperty("--code-em");
      var widest = 0;
      Array.prototype.forEach.call(desks.querySelectorAll(".desk-code"), function (el) {
        widest = Math.max(widest, el.getBoundingClientRect().width / parseFloat(getComputedStyle(el).fontSize));
      });
      if (widest) desks.style.setProperty("--code-em", (widest + 0.03).toFixed(3));
    }
    // with nobody waiting the services row is one line of text in its natural height
    var split = services && desks && itemsOf(services).length ? splitDesksAndServices(desks, services) : null;
    pagers = boxes.map(function (box) {
      if (split && box === desks) return split.desks;
      if (split && box === services) return split.services;
      return box === desks ? paginateDesks(box) : paginate(box);
    });
  }
  // Measuring takes a projector PC a tenth of a second or more. A new panel (a call!) goes on screen at once
  // with the pages measured last time; the layout is measured again right after it has been painted.
  function reapply() {
    setDense(dense);  // the morph gave the panel the server's attributes
    pagers.forEach(function (pager) {
      var box = panel.querySelector(pager.selector);
      if (!box) return;
      box.style.cssText = pager.saved.style;
      if (pager.saved.density) box.setAttribute("data-density", pager.saved.density);
      if (pager.saved.paged) box.setAttribute("data-paged", "");
      pager.box = box;
      pager.items = itemsOf(box);
      pager.more = box.parentNode.querySelector(".pager-more");
      showPage(pager, false);
    });
    var recent = panel.querySelector(".recent-list[data-fit]");
    if (recent) itemsOf(recent).forEach(function (el, i) { el.hidden = i >= fittingRecent; });
  }
  var layoutPending = false;
  function layoutSoon() {
    if (layoutPending) return;
    layoutPending = true;
    requestAnimationFrame(function () { setTimeout(function () { layoutPending = false; layout(); }, 0); });
  }
  function rotate() {
    var now = Math.floor(Date.now() / PAGE_MS);
    if (now === laidOutPage) return;
    laidOutPage = now;
    pagers.forEach(function (pager) { if (pager.pages.length > 1) showPage(pager, true); });
  }
  var relayoutTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(relayoutTimer);
    relayoutTimer = setTimeout(layout, 150);
  });
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(layout);

  // ---- live updates (htmx): what changed moves, nothing steps back
  function pulse(el) {
    el.classList.add("pulse");
    el.addEventListener("animationend", function () { el.classList.remove("pulse"); }, { once: true });
  }
  // A morph syncs every attribute to the server's markup; a pulse running on a card the next panel keeps
  // would be cut short, so its class is left alone until the animation ends.
  if (window.Idiomorph) {
    var before = Idiomorph.defaults.callbacks.beforeAttributeUpdated;
    Idiomorph.defaults.callbacks.beforeAttributeUpdated = function (name, el, kind) {
      if (name === "class" && el.classList.contains("pulse") && board.contains(el)) return false;
      return before(name, el, kind);
    };
  }
  // A push and a poll answer may cross: the panel shown is never replaced by an older one.
  panel.addEventListener("htmx:sseBeforeMessage", function (evt) {
    if (parseInt(evt.detail.lastEventId, 10) <= version()) evt.preventDefault();
  });
  panel.addEventListener("htmx:beforeSwap", function (evt) {
    var xhr = evt.detail.xhr, sent = xhr && parseInt(xhr.getResponseHeader("X-Board-Version"), 10);
    if (sent && sent <= version()) evt.detail.shouldSwap = false;
  });
  // The swap and this run in one task: the pages measured last time are back before the browser paints.
  panel.addEventListener("htmx:afterSwap", function (evt) {
    if (evt.target !== panel) return;
    reapply();
    collectCalls(false);
    layoutSoon();
  });

  var streamOpen = false, offlineTimer = null;
  function setOnline(ok) {
    clearTimeout(offlineTimer);
    if (offline.hidden === ok) return;
    offline.hidden = ok;
    layout();  // the marker takes its place in the header; the panel below gives up that height
  }
  panel.addEventListener("htmx:sseOpen", function () { streamOpen = true; setOnline(true); });
  panel.addEventListener("htmx:sseMessage", function () { setOnline(true); });
  panel.addEventListener("htmx:sseError", function () {
    // the browser, or else the extension, reconnects by itself; say so only if that does not work at once
    streamOpen = false;
    clearTimeout(offlineTimer);
    offlineTimer = setTimeout(function () { if (!streamOpen) setOnline(false); }, OFFLINE_AFTER_MS);
  });
  document.body.addEventListener("htmx:afterRequest", function (evt) {
    if (panel.contains(evt.detail.elt)) setOnline(!!evt.detail.successful);  // the poll
  });

  // ---- clock (WIB)
  var clock = document.getElementById("board-clock");
  var fmt = new Intl.DateTimeFormat("id-ID", { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", hour12: false });
  function tick() { clock.textContent = fmt.format(new Date()).replace(":", "."); }
  setInterval(function () { tick(); rotate(); }, 1000); tick();

  // ---- sound: browsers need one click before audio; remembered for the next start
  function showSound() {
    soundButton.classList.toggle("is-on", soundOn);
    if (soundOn) soundButton.textContent = soundButton.dataset.onLabel;
  }
  soundButton.addEventListener("click", function () {
    soundOn = true;
    localStorage.setItem(soundKey, "on");
    if (window.botramVoice) window.botramVoice.unlock();
    showSound();
  });
  // remembered "on", but this browser still wants a click before it plays sound: ask for it again
  var offLabel = soundButton.textContent;
  document.addEventListener("botram:voice-locked", function () {
    soundButton.classList.remove("is-on");
    soundButton.textContent = offLabel;
  });
  showSound();

  layout();
  collectCalls(true);
})();
