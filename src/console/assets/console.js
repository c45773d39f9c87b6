// Minhu console: live updates only. A page that names an event source in `data-events` gets
// one JSON object per event: every element whose `data-live` names a key of its `text` shows
// that value, and every element whose `data-live-html` names a key of its `html` takes that
// server-rendered markup.
// No inline script anywhere (the Content-Security-Policy forbids it).
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  var holder = document.querySelector("[data-events]");
  if (!holder || !window.EventSource) {
    return;
  }
  var state = document.getElementById("live-state");
  var show = function (text) {
    if (state) {
      state.textContent = text;
    }
  };
  var source = new EventSource(holder.getAttribute("data-events"));
  source.addEventListener("open", function () {
    show("已连接 connected");
  });
  source.addEventListener("error", function () {
    show("重连中 reconnecting");
  });
  source.addEventListener("overview", function (e) {
    var values;
    try {
      values = JSON.parse(e.data);
    } catch (err) {
      return;
    }
    var has = function (o, key) {
      return o && Object.prototype.hasOwnProperty.call(o, key);
    };
    // Whole tables first (rendered and escaped by the server), then the single values.
    document.querySelectorAll("[data-live-html]").forEach(function (el) {
      var key = el.getAttribute("data-live-html");
      if (has(values.html, key)) {
        el.innerHTML = values.html[key];
      }
    });
    document.querySelectorAll("[data-live]").forEach(function (el) {
      var key = el.getAttribute("data-live");
      if (has(values.text, key)) {
        el.textContent = values.text[key];
      }
    });
    show("已连接 connected · " + new Date().toLocaleTimeString());
  });
});
