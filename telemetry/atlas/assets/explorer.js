// The Atlas explorer: a tag browser that builds queries, a live chart of
// the expression (drawn with uPlot from the graph API's std.json), errors
// that point at the failing word, and saving the graph.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  function params() {
    var p = new URLSearchParams();
    p.set("q", $("atlas-q").value.trim());
    p.set("s", $("atlas-s").value.trim() || "e-3h");
    p.set("e", $("atlas-e").value.trim() || "now");
    return p;
  }
  function csrf() {
    var m = document.querySelector('meta[name="csrf-token"]');
    return m ? m.content : "";
  }
  function text(el, s) { el.textContent = s; }

  // showError prints the message and, when it names a position, the
  // expression with the failing token underlined.
  function showError(msg) {
    var box = $("atlas-error");
    box.hidden = false;
    box.textContent = "";
    var q = $("atlas-q").value;
    var m = /\(position (\d+)\)/.exec(msg) || /^position (\d+)/.exec(msg);
    box.appendChild(document.createTextNode(msg + "\n"));
    if (m) {
      var pos = parseInt(m[1], 10);
      var end = q.indexOf(",", pos);
      if (end < 0) { end = q.length; }
      box.appendChild(document.createTextNode(q.slice(0, pos)));
      var mark = document.createElement("mark");
      mark.textContent = q.slice(pos, end) || " ";
      box.appendChild(mark);
      box.appendChild(document.createTextNode(q.slice(end)));
      $("atlas-q").setSelectionRange(pos, end);
    }
  }

  function draw() {
    var q = $("atlas-q").value.trim();
    var el = $("atlas-chart");
    $("atlas-error").hidden = true;
    if (!q) { return; }
    var p = params();
    $("atlas-png").href = "/api/v1/graph?" + p.toString();
    var c = new URLSearchParams(p); c.set("format", "csv");
    $("atlas-csv").href = "/api/v1/graph?" + c.toString();
    var j = new URLSearchParams(p); j.set("format", "std.json"); j.set("w", String(Math.max(200, el.clientWidth || 800)));
    fetch("/api/v1/graph?" + j.toString(), { credentials: "same-origin" }).then(function (r) {
      return r.json().then(function (body) { return { ok: r.ok, body: body }; });
    }).then(function (res) {
      if (!res.ok) { showError(res.body.error ? res.body.error.message : "error"); return; }
      var d = res.body, times = [], series = [];
      for (var i = 0; i < d.values.length; i++) { times.push((d.start + i * d.step) / 1000); }
      d.legend.forEach(function (name, k) {
        series.push({ label: name, values: d.values.map(function (row) {
          var v = row[k]; return typeof v === "number" ? v : null; }) });
      });
      el.textContent = "";
      if (window.gaffer) { window.gaffer.chart(el, { times: times, series: series }, { height: 320 }); }
      (d.notices || []).forEach(function (n) { showError(n); });
    }).catch(function (e) { showError(String(e)); });
  }

  function tagLink(label, onClick) {
    var a = document.createElement("a");
    a.href = "#"; a.textContent = label;
    a.addEventListener("click", function (e) { e.preventDefault(); onClick(); });
    return a;
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) { return r.json(); });
  }

  function addTerm(k, v) {
    var q = $("atlas-q");
    var term = k + "," + v + ",:eq";
    q.value = q.value.trim() ? q.value.trim() + "," + term + ",:and" : term;
    draw();
  }

  function showKeys(li, name) {
    var sub = document.createElement("ul");
    li.appendChild(sub);
    getJSON("/api/v1/tags?q=" + encodeURIComponent("name," + name + ",:eq")).then(function (keys) {
      keys.filter(function (k) { return k !== "name"; }).forEach(function (k) {
        var kli = document.createElement("li");
        kli.appendChild(tagLink(k, function () {
          if (kli.querySelector("ul")) { kli.removeChild(kli.querySelector("ul")); return; }
          var vs = document.createElement("ul");
          kli.appendChild(vs);
          getJSON("/api/v1/tags/" + encodeURIComponent(k) + "?limit=50&q=" + encodeURIComponent("name," + name + ",:eq")).then(function (vals) {
            vals.forEach(function (v) {
              var vli = document.createElement("li");
              vli.appendChild(tagLink(v, function () { addTerm(k, v); }));
              vs.appendChild(vli);
            });
          });
        }));
        sub.appendChild(kli);
      });
    });
  }

  function loadNames() {
    var list = $("atlas-tag-list");
    getJSON("/api/v1/tags/name?limit=500").then(function (names) {
      list.textContent = "";
      if (!names.length) { var e = document.createElement("li"); e.className = "muted"; e.textContent = "No metrics yet."; list.appendChild(e); }
      names.forEach(function (n) {
        var li = document.createElement("li");
        li.appendChild(tagLink(n, function () {
          $("atlas-q").value = "name," + n + ",:eq";
          draw();
          if (!li.querySelector("ul")) { showKeys(li, n); }
        }));
        list.appendChild(li);
      });
    }).catch(function () { text(list, "Tags unavailable."); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!$("atlas-form")) { return; }
    $("atlas-form").addEventListener("submit", function (e) {
      e.preventDefault();
      history.replaceState(null, "", "/atlas?" + params().toString());
      draw();
    });
    $("atlas-save").addEventListener("submit", function (e) {
      e.preventDefault();
      var p = params();
      var body = { name: $("atlas-name").value, q: p.get("q"), params: "s=" + encodeURIComponent(p.get("s")) + "&e=" + encodeURIComponent(p.get("e")) };
      fetch("/api/v1/atlas/graphs", { method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() }, body: JSON.stringify(body) })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, b: b }; }); })
        .then(function (res) { text($("atlas-saved"), res.ok ? "Saved." : res.b.error.message); });
    });
    loadNames();
    draw();
  });
})();
