// The event browser's live tail: new events arrive over server-sent events
// (/api/v1/events/stream, with the form's type, source and CEL filter) and
// are added to the top of the table.
(function () {
  "use strict";
  var maxRows = 500;

  function cell(tr, text, cls) {
    var td = document.createElement("td");
    if (cls) { td.className = cls; }
    td.textContent = text;
    tr.appendChild(td);
    return td;
  }

  function row(ev, seq) {
    var tr = document.createElement("tr");
    tr.className = "tailed";
    cell(tr, seq || "new", "mono");
    cell(tr, ev.time || "", "mono");
    cell(tr, ev.type || "", "mono");
    cell(tr, ev.source || "", "mono");
    cell(tr, ev.subject || "");
    var td = cell(tr, "");
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    summary.className = "mono";
    summary.textContent = (ev.id || "").slice(0, 24);
    var pre = document.createElement("pre");
    pre.textContent = JSON.stringify(ev, null, 2);
    details.appendChild(summary);
    details.appendChild(pre);
    td.appendChild(details);
    return tr;
  }

  function start(form, rows, status, button) {
    var q = new URLSearchParams();
    ["type", "source", "filter"].forEach(function (name) {
      var v = form.elements[name].value;
      if (v) { q.set(name, v); }
    });
    var es = new EventSource("/api/v1/events/stream?" + q.toString());
    status.hidden = false;
    status.textContent = "Connecting…";
    es.addEventListener("open", function () { status.textContent = "Tailing new events as they arrive."; });
    es.addEventListener("cloudevent", function (e) {
      var none = document.getElementById("no-events");
      if (none) { none.remove(); }
      rows.insertBefore(row(JSON.parse(e.data)), rows.firstChild);
      while (rows.children.length > maxRows) { rows.removeChild(rows.lastChild); }
    });
    es.addEventListener("dropped", function (e) {
      status.textContent = "Fell behind: " + JSON.parse(e.data).dropped + " events were not shown.";
    });
    es.addEventListener("error", function () {
      status.textContent = "Connection lost; reconnecting…";
    });
    button.textContent = "Stop tail";
    return es;
  }

  document.addEventListener("DOMContentLoaded", function () {
    var button = document.getElementById("tail-toggle");
    if (!button) { return; }
    var form = document.getElementById("event-filters");
    var rows = document.getElementById("event-rows");
    var status = document.getElementById("tail-status");
    var es = null;
    button.addEventListener("click", function () {
      if (es) {
        es.close();
        es = null;
        button.textContent = "Live tail";
        status.textContent = "Tail stopped.";
        return;
      }
      es = start(form, rows, status, button);
    });
  });
})();
