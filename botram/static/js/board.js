// The projector board: live updates (server-sent events with a slow poll as a safety net),
// an offline marker, the clock, and the voice call (voice.js) for every new call or recall.
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
  var POLL_MS = 10000;

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
      call.el.classList.add("pulse");
      queue.push(call);
    });
    var latest = panel.querySelector("[data-latest-key]");
    if (latest && !first && board.dataset.latest !== latest.dataset.latestKey) latest.classList.add("pulse");
    if (latest) board.dataset.latest = latest.dataset.latestKey;
    speakNext();
  }

  // ---- live updates
  // A new panel replaces only the parts that changed: a finish at one desk repaints that desk's tile and the
  // waiting counts, not the 250-pixel latest call. Projector PCs often render in software, and a full
  // 1920x1080 repaint on every change is what delays the next call on screen.
  function ownText(el) {
    var text = "";
    for (var n = el.firstChild; n; n = n.nextSibling) if (n.nodeType === 3) text += n.nodeValue;
    return text.trim();
  }
  function syncAttributes(from, to) {
    Array.prototype.slice.call(to.attributes).forEach(function (a) {
      if (!from.hasAttribute(a.name)) to.removeAttribute(a.name);
    });
    Array.prototype.slice.call(from.attributes).forEach(function (a) {
      if (to.getAttribute(a.name) !== a.value) to.setAttribute(a.name, a.value);
    });
  }
  function patch(current, next, depth) {
    if (current.isEqualNode(next)) return;
    // a new latest call is a new card, so its pop-and-ring animation starts afresh
    if (depth === 0 || current.tagName !== next.tagName || !next.children.length ||
        current.getAttribute("data-latest-key") !== next.getAttribute("data-latest-key") ||
        current.children.length !== next.children.length || ownText(current) !== ownText(next)) {
      current.replaceWith(next);
      return;
    }
    syncAttributes(next, current);
    var nextChildren = Array.prototype.slice.call(next.children);
    Array.prototype.slice.call(current.children).forEach(function (child, i) { patch(child, nextChildren[i], depth - 1); });
  }
  function showPanel(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var next = holder.content.firstElementChild, current = panel.firstElementChild;
    if (current && next && !holder.content.firstElementChild.nextElementSibling) patch(current, next, 3);
    else panel.innerHTML = html;
    collectCalls(false);
  }
  var fetching = false, again = false;
  function setOnline(ok) { offline.hidden = ok; }
  function refresh() {
    if (fetching) { again = true; return; }
    fetching = true;
    var asked = version();
    fetch(board.dataset.panelUrl + "?v=" + asked, { cache: "no-store", headers: { "HX-Request": "true" } })
      .then(function (r) {
        setOnline(true);
        if (r.status === 204) return null;
        if (!r.ok) throw new Error("status " + r.status);
        return r.text();
      })
      // a pushed panel that arrived while this poll was on its way is newer: keep it
      .then(function (html) { if (html !== null && version() === asked) showPanel(html); })
      .catch(function () { setOnline(false); })
      .then(function () { fetching = false; if (again) { again = false; refresh(); } });
  }
  var source = null;
  function connect() {
    if (!window.EventSource) return;
    source = new EventSource(board.dataset.streamUrl + "?v=" + version());
    source.addEventListener("open", function () { setOnline(true); refresh(); });
    source.addEventListener("panel", function (e) {
      setOnline(true);
      showPanel(e.data);  // the stream carries the panel itself: no second request per call
    });
    source.addEventListener("reconnect", function () { source.close(); setTimeout(connect, 200); });
    source.addEventListener("error", function () {
      setOnline(false);
      if (source.readyState === EventSource.CLOSED) setTimeout(connect, 3000);
    });
  }
  setInterval(refresh, POLL_MS);
  window.addEventListener("online", refresh);

  // ---- clock (WIB)
  var clock = document.getElementById("board-clock");
  var fmt = new Intl.DateTimeFormat("id-ID", { timeZone: "Asia/Jakarta", hour: "2-digit", minute: "2-digit", hour12: false });
  function tick() { clock.textContent = fmt.format(new Date()).replace(":", "."); }
  setInterval(tick, 1000); tick();

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

  collectCalls(true);
  connect();
})();
