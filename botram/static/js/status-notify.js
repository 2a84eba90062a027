/* The ticket status page tells the phone when the turn is near and when it is called (issue 22): the
   browser's Notification API and a vibration, once each, while the page is open. It needs no internet (the
   event's Wi-Fi is enough). The page asks for permission once, from a button (browsers refuse a question
   nobody asked for); the answer, whatever it is, is remembered and the button does not come back.
   What to watch comes from #ticket-status's data attributes, which every poll renders anew. */
(function () {
  "use strict";
  var canNotify = "Notification" in window;

  function remembered(key) {
    try { return window.localStorage.getItem(key); } catch (e) { return null; }
  }
  function remember(key) {
    try { window.localStorage.setItem(key, "1"); } catch (e) { /* private mode: at worst a repeat */ }
  }

  function tell(key, text) {
    if (!text || remembered(key)) return;
    remember(key);
    // Chrome vibrates only for a page the citizen has touched (and logs an error otherwise).
    var touched = !navigator.userActivation || navigator.userActivation.hasBeenActive;
    if (navigator.vibrate && touched) navigator.vibrate([400, 150, 400]);
    if (canNotify && Notification.permission === "granted") {
      try {
        new Notification("BOTRAM", { body: text, tag: key });
      } catch (e) {
        /* Android Chrome allows notifications only from a service worker; the vibration and the page's own
           call banner still tell the citizen. */
      }
    }
  }

  function check() {
    var box = document.getElementById("ticket-status");
    if (!box) return;
    var token = box.getAttribute("data-token");
    var near = parseInt(box.getAttribute("data-near"), 10);
    var ahead = box.getAttribute("data-ahead");
    var called = box.getAttribute("data-called");
    if (called) {
      tell("botram-called-" + token + "-" + called, box.getAttribute("data-called-text"));
    } else if (ahead !== "" && parseInt(ahead, 10) <= near) {
      tell("botram-near-" + token, box.getAttribute("data-near-text"));
    }
  }

  function offer() {
    var panel = document.getElementById("notify-offer");
    var ask = document.getElementById("notify-ask");
    if (!panel || !ask || !canNotify || Notification.permission !== "default" || remembered("botram-asked")) return;
    panel.hidden = false;
    ask.addEventListener("click", function () {
      remember("botram-asked");
      panel.hidden = true;
      var answer = Notification.requestPermission();
      if (answer && answer.then) answer.then(check);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { offer(); check(); });
  document.addEventListener("htmx:afterSettle", check);
})();
