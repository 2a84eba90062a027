// The voice call: short audio clips the app serves (a chime, "nomor antrean", letters, digits, "silakan ke
// loket", desk numbers, agency names), played back to back with the Web Audio API. They come from the app, not
// from the PC, so the call sounds the same on an offline projector PC with no Indonesian speech voice.
// The browser's speech synthesis is only the fallback for a part without a clip (a new agency's name).
//
// window.botramVoice:
//   unlock()          inside a click: browsers start audio only after a user gesture
//   announce(call)    queue {key, code, desk, agency}; calls never overlap
//   playUrl(url)      one clip (the admin page's play buttons)
//   played            what was heard, in order: clip keys, "speech:<text>" for a spoken fallback,
//                     "silent:<text>" for a part that could not be voiced at all
//   announcements     [{key, code, parts}] for every finished announcement
//   requested         keys of the calls handed to announce(), at once, in order (what was asked, before it plays)
//   skipped           keys of calls not announced because the browser still blocks audio (it then fires
//                     "botram:voice-locked" on document, and board.js asks for the click again)
(function () {
  "use strict";
  var holder = document.querySelector("[data-voice-manifest]");
  var manifestUrl = holder ? holder.dataset.voiceManifest : null;
  var MANIFEST_REFRESH_MS = 120000;  // an admin's new recording reaches a running board within two minutes
  var GAP_MS = 400;  // between two announcements

  var LETTERS = { A: "a", B: "be", C: "ce", D: "de", E: "e", F: "ef", G: "ge", H: "ha", I: "i", J: "je", K: "ka",
    L: "el", M: "em", N: "en", O: "o", P: "pe", Q: "ki", R: "er", S: "es", T: "te", U: "u", V: "ve", W: "we",
    X: "eks", Y: "ye", Z: "zet" };
  var DIGITS = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"];
  var UNITS = ["", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan", "sepuluh", "sebelas"];
  function numberWords(n) {
    if (!(n > 0) || n > 99) return String(n);
    if (n < 12) return UNITS[n];
    if (n < 20) return UNITS[n - 10] + " belas";
    return UNITS[Math.floor(n / 10)] + " puluh" + (n % 10 ? " " + UNITS[n % 10] : "");
  }

  // Desk numbers as botram/domain/voice.py desk_number_keys says them: 1-20 and the tens have a clip each,
  // 21-99 are a tens clip and a unit clip ("tiga puluh" + "tujuh").
  function deskParts(n) {
    if (n > 20 && n < 100 && n % 10) {
      var tens = n - n % 10;
      return [{ key: "loket-" + tens, text: numberWords(tens) }, { key: "loket-" + (n % 10), text: numberWords(n % 10) }];
    }
    return [{ key: "loket-" + n, text: numberWords(n) }];
  }

  var manifest = { clips: {}, agencies: {} };
  var manifestLoaded = null;
  function loadManifest() {
    if (!manifestUrl) return Promise.resolve(manifest);
    return fetch(manifestUrl, { cache: "no-cache" })
      .then(function (r) { if (!r.ok) throw new Error("status " + r.status); return r.json(); })
      .then(function (m) { manifest = m; preload(); return m; })
      .catch(function () { return manifest; });  // offline: keep the clips already known
  }
  manifestLoaded = loadManifest();
  if (manifestUrl) setInterval(function () { manifestLoaded = loadManifest(); }, MANIFEST_REFRESH_MS);

  // ---- audio
  var ctx = null;
  function context() {
    if (!ctx) {
      var Ctx = window.AudioContext || window.webkitAudioContext;
      if (!Ctx) return null;
      ctx = new Ctx();
    }
    return ctx;
  }
  function unlock() {
    var c = context();
    if (c && c.state !== "running") c.resume().catch(function () {});
    decodeAll();
  }
  // A kiosk started without a click: the first touch or key anywhere on the page unlocks the sound.
  ["pointerdown", "keydown"].forEach(function (type) {
    document.addEventListener(type, function () { if (ctx && ctx.state !== "running") unlock(); }, true);
  });
  function audible() {
    var c = context();
    if (!c) return Promise.resolve(false);
    if (c.state === "running") return Promise.resolve(true);
    // Without a user gesture resume() stays pending forever: give it a moment, then report the truth.
    return Promise.race([c.resume().catch(function () {}), new Promise(function (r) { setTimeout(r, 300); })])
      .then(function () { return c.state === "running"; });
  }

  var raw = {};      // url -> Promise<ArrayBuffer>: fetched as soon as the manifest is known
  var decoded = {};  // url -> Promise<AudioBuffer|null>: decoded once an audio context exists
  function fetchClip(url) {
    if (!raw[url]) {
      raw[url] = fetch(url).then(function (r) { if (!r.ok) throw new Error("status " + r.status); return r.arrayBuffer(); });
      raw[url].catch(function () { delete raw[url]; });  // try again on the next call
    }
    return raw[url];
  }
  function buffer(url) {
    var c = context();
    if (!c) return Promise.resolve(null);
    if (!decoded[url]) {
      decoded[url] = fetchClip(url).then(function (data) {
        // decodeAudioData detaches what it is given; keep the fetched bytes for a retry
        return new Promise(function (resolve, reject) { c.decodeAudioData(data.slice(0), resolve, reject); });
      }).catch(function () { delete decoded[url]; return null; });  // missing or not audio: the fallback speaks
    }
    return decoded[url];
  }
  function preload() {
    Object.keys(manifest.clips || {}).forEach(function (key) { fetchClip(manifest.clips[key]).catch(function () {}); });
    if (ctx) decodeAll();
  }
  function decodeAll() {
    Object.keys(manifest.clips || {}).forEach(function (key) { buffer(manifest.clips[key]); });
  }

  // Plays buffers back to back on the audio clock (no gap, no overlap); resolves when the last one ends.
  function playBuffers(items, report) {
    var c = context();
    return new Promise(function (resolve) {
      var t = c.currentTime + 0.05, left = items.length, done = false;
      function finish() { if (!done) { done = true; resolve(); } }
      items.forEach(function (item) {
        var source = c.createBufferSource();
        source.buffer = item.buffer;
        source.connect(c.destination);
        source.onended = function () { report(item.part.key); if (--left === 0) finish(); };
        source.start(t);
        t += item.buffer.duration;
      });
      // onended is reliable, but never let one lost event hold up every later call
      setTimeout(finish, (t - c.currentTime) * 1000 + 1500);
    });
  }

  // Chromium loads its voice list lazily: ask once now, so it is known by the first call.
  if ("speechSynthesis" in window) { try { speechSynthesis.getVoices(); } catch (e) {} }
  function speak(text) {
    return new Promise(function (resolve) {
      if (!text || !("speechSynthesis" in window) || !window.SpeechSynthesisUtterance) { resolve(false); return; }
      var voices = speechSynthesis.getVoices();
      var voice = voices.filter(function (v) { return /^id/i.test(v.lang); })[0];
      // An English voice reading an Indonesian name is what the clips are here to avoid: say nothing instead.
      // (An empty list may just not be loaded yet; then the engine picks for "id-ID" itself.)
      if (!voice && voices.length) { resolve(false); return; }
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "id-ID"; u.rate = 0.9;
      if (voice) u.voice = voice;
      var finished = false;
      function end(ok) { if (!finished) { finished = true; resolve(ok); } }
      u.onend = function () { end(true); };
      u.onerror = function () { end(false); };
      setTimeout(function () { end(true); }, 1500 + text.length * 120);  // some engines never fire onend
      speechSynthesis.speak(u);
    });
  }

  // ---- announcements
  function parts(call) {
    var list = [{ key: "chime", text: "" }, { key: "nomor-antrean", text: "nomor antrean" }];
    String(call.code || "").toUpperCase().split("").forEach(function (ch) {
      if (LETTERS[ch]) list.push({ key: "huruf-" + ch.toLowerCase(), text: LETTERS[ch] });
      else if (/[0-9]/.test(ch)) list.push({ key: "angka-" + ch, text: DIGITS[+ch] });
    });
    list.push({ key: "silakan-ke-loket", text: "silakan ke loket" });
    deskParts(parseInt(call.desk, 10)).forEach(function (part) { list.push(part); });
    if (call.agency) list.push({ key: (manifest.agencies || {})[call.agency] || null, text: call.agency });
    return list;
  }

  var api = { played: [], announcements: [], skipped: [], requested: [] };
  var queue = [], busy = false;

  function run(call) {
    var heard = [];
    function report(entry) { heard.push(entry); api.played.push(entry); }
    var list = parts(call);
    return audible().then(function (ok) {
      if (!ok) {
        api.skipped.push(call.key);
        if (holder) holder.dataset.voiceSkipped = api.skipped.join(" ");
        document.dispatchEvent(new CustomEvent("botram:voice-locked"));
        return;
      }
      return Promise.all(list.map(function (part) {
        var url = part.key && manifest.clips[part.key];
        return url ? buffer(url) : Promise.resolve(null);
      })).then(function (buffers) {
        // Runs of clips play gaplessly; a run of parts without a clip is spoken as one phrase.
        var segments = [];
        list.forEach(function (part, i) {
          var kind = buffers[i] ? "clips" : "speech", last = segments[segments.length - 1];
          if (!buffers[i] && !part.text) return;  // a missing chime is simply left out
          if (!last || last.kind !== kind) segments.push(last = { kind: kind, items: [] });
          last.items.push({ part: part, buffer: buffers[i] });
        });
        return segments.reduce(function (chain, segment) {
          return chain.then(function () {
            if (segment.kind === "clips") return playBuffers(segment.items, report);
            var text = segment.items.map(function (item) { return item.part.text; }).join(" ");
            return speak(text).then(function (ok) { report((ok ? "speech:" : "silent:") + text); });
          });
        }, Promise.resolve());
      }).then(function () {
        api.announcements.push({ key: call.key, code: call.code, parts: heard });
        if (holder) holder.dataset.voicePlayed = heard.join(" ");
      });
    });
  }

  function next() {
    if (busy || !queue.length) return;
    busy = true;
    var call = queue.shift();
    manifestLoaded.then(function () { return run(call); })
      .catch(function () {})
      .then(function () { setTimeout(function () { busy = false; next(); }, GAP_MS); });
  }

  api.unlock = unlock;
  api.parts = parts;
  api.announce = function (call) { api.requested.push(call.key); queue.push(call); next(); };
  api.playUrl = function (url) {
    unlock();
    return buffer(url).then(function (b) { return b ? playBuffers([{ part: { key: url }, buffer: b }], function () {}) : null; });
  };
  window.botramVoice = api;

  // ---- admin page: play one clip, or a whole sample call
  document.addEventListener("click", function (evt) {
    var play = evt.target.closest && evt.target.closest("[data-voice-play]");
    if (play) {
      play.classList.add("is-playing");
      api.playUrl(play.dataset.voicePlay).then(function () { play.classList.remove("is-playing"); });
      return;
    }
    var sample = evt.target.closest && evt.target.closest("[data-voice-sample]");
    if (sample) {
      unlock();
      api.announce({ key: "sample-" + Date.now(), code: sample.dataset.code, desk: sample.dataset.desk,
                     agency: sample.dataset.agency });
    }
  });
})();
