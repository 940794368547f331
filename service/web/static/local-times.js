/* Adds the visitor's own time next to agenda times published in the event's zone.
 * Reads data-utc-start / data-utc-end / data-zone; changes nothing where the visitor's
 * wall-clock time equals the published one. Pages work fully without this script.
 * Its words come translated from the page (data-your-time on <body>), its day names in the
 * page's language (<html lang>). */
(function () {
  "use strict";
  if (!window.Intl || typeof Intl.DateTimeFormat !== "function") { return; }
  var visitorZone;
  try { visitorZone = Intl.DateTimeFormat().resolvedOptions().timeZone; } catch (e) { return; }
  if (!visitorZone) { return; }

  var pageLanguage = document.documentElement.getAttribute("lang") || "en";
  var pageLocale = pageLanguage === "en" ? "en-GB" : pageLanguage;
  var yourTime = (document.body && document.body.getAttribute("data-your-time")) || "(your time)";
  var cache = {};
  function formatter(zone, withDay) {
    var key = zone + "|" + withDay;
    if (!cache[key]) {
      var options = { timeZone: zone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" };
      if (withDay) { options.weekday = "short"; options.day = "numeric"; options.month = "short"; }
      cache[key] = new Intl.DateTimeFormat(pageLocale, options);
    }
    return cache[key];
  }
  function dayKey(date, zone) {
    return new Intl.DateTimeFormat("en-CA", { timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit" }).format(date);
  }
  function zoneName(date, zone) {
    try {
      var parts = new Intl.DateTimeFormat("en-US", { timeZone: zone, timeZoneName: "short" }).formatToParts(date);
      for (var i = 0; i < parts.length; i += 1) {
        if (parts[i].type === "timeZoneName") { return parts[i].value; }
      }
    } catch (e) { /* fall through */ }
    return zone;
  }

  var shown = 0;
  var nodes = document.querySelectorAll("[data-utc-start][data-zone]");
  Array.prototype.forEach.call(nodes, function (node) {
    var eventZone = node.getAttribute("data-zone");
    var start = new Date(node.getAttribute("data-utc-start"));
    var endText = node.getAttribute("data-utc-end");
    var end = endText ? new Date(endText) : null;
    if (isNaN(start.getTime())) { return; }
    var sameClock;
    try {
      sameClock = formatter(eventZone, true).format(start) === formatter(visitorZone, true).format(start);
    } catch (e) { return; }
    if (sameClock) { return; }
    var otherDay = dayKey(start, eventZone) !== dayKey(start, visitorZone);
    var startZone = zoneName(start, visitorZone);
    var text = formatter(visitorZone, otherDay).format(start);
    if (end && !isNaN(end.getTime())) {
      // Each time with its own label when the visitor's clocks change in between.
      var endZone = zoneName(end, visitorZone);
      var endText = formatter(visitorZone, false).format(end);
      text += endZone === startZone ? "–" + endText + " " + startZone
        : " " + startZone + " – " + endText + " " + endZone;
    } else {
      text += " " + startZone;
    }
    var label = document.createElement("span");
    label.className = "visitor-time";
    label.setAttribute("data-visitor-time", "");
    label.textContent = text + " " + yourTime;
    node.insertAdjacentElement("afterend", label);
    shown += 1;
  });

  if (shown > 0) {
    var notes = document.querySelectorAll("[data-zone-note]");
    Array.prototype.forEach.call(notes, function (note) {
      var name = note.querySelector("[data-visitor-zone]");
      if (name) { name.textContent = visitorZone.replace(/_/g, " "); }
      note.hidden = false;
    });
  }
}());
