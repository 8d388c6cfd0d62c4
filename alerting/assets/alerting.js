// The alert rule page's chart: each series' values with uPlot, the
// rule's threshold or band dashed, its prediction (or earlier values)
// dotted, and red shading where the condition held.
//
// [data-alert-chart] holds {"times": [...], "series": [{"labels",
// "values", "breach", "lower", "upper", "baseline"}]}.
(function () {
  "use strict";

  var palette = ["#1f5fbf", "#079455", "#7a5af8", "#dc6803", "#0e9384", "#c11574", "#475467", "#1d2433"];

  function label(ls) {
    var keys = Object.keys(ls || {}).sort();
    return keys.map(function (k) { return k + "=" + ls[k]; }).join(", ") || "value";
  }

  // breachSpans returns [from, to] time spans where any series breached.
  function breachSpans(d) {
    var out = [], step = d.step_seconds || 60;
    d.times.forEach(function (t, i) {
      var any = d.series.some(function (s) { return s.breach && s.breach[i]; });
      if (!any) { return; }
      var last = out[out.length - 1];
      if (last && Math.abs(last[1] - t) < step / 2) { last[1] = t + step; } else { out.push([t, t + step]); }
    });
    return out;
  }

  // maxSeries is how many of the rule's series the chart draws: those
  // where the condition held first, then in the order the rule gave (the
  // page sends them so ordered, and at most that many).
  var maxSeries = 6;

  function draw(el) {
    var d = JSON.parse(el.dataset.alertChart);
    var total = d.total || d.series.length;
    var has = window.gaffer.hasData;
    var withData = d.series.filter(function (s) { return has(s.values); });
    var breached = function (s) { return (s.breach || []).some(Boolean) ? 0 : 1; };
    var shown = withData.map(function (s, i) { return [breached(s), i, s]; })
      .sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; })
      .slice(0, maxSeries).map(function (x) { return x[2]; });
    var series = [{}], data = [d.times], bands = [];
    var line = function (lbl, stroke, dash, values) {
      series.push({ label: lbl, stroke: stroke, width: dash ? 1 : 1.5, dash: dash, points: { show: false } });
      data.push(values);
      if (dash) { bands.push(series.length - 1); }
    };
    shown.forEach(function (s, i) {
      var c = palette[i % palette.length];
      line(label(s.labels), c, undefined, s.values);
      if (has(s.upper)) { line("upper", "#d92d20", [6, 4], s.upper); }
      if (has(s.lower)) { line("lower", "#d92d20", [6, 4], s.lower); }
      if (has(s.baseline)) { line("expected", c, [2, 3], s.baseline); }
    });
    d.series = shown;
    var spans = breachSpans(d);
    var u = window.gaffer.plot({
      height: 300, series: series, scales: { x: { time: true } }, axes: [{}, {}],
      hooks: { drawClear: [function (u) {
        u.ctx.save();
        u.ctx.fillStyle = "rgba(217, 45, 32, 0.12)";
        spans.forEach(function (sp) {
          var x0 = Math.max(u.valToPos(sp[0], "x", true), u.bbox.left);
          var x1 = Math.min(u.valToPos(sp[1], "x", true), u.bbox.left + u.bbox.width);
          if (x1 > x0) { u.ctx.fillRect(x0, u.bbox.top, x1 - x0, u.bbox.height); }
        });
        u.ctx.restore();
      }] }
    }, data, el);
    // The legend lists the series; thresholds, bands and predictions are
    // explained under the chart rather than listed once per series.
    var rows = u.root.querySelectorAll(".u-legend .u-series");
    bands.forEach(function (i) { if (rows[i]) { rows[i].style.display = "none"; } });
    if (shown.length < total) {
      window.gaffer.note(el, "Drawn: " + shown.length + " of " + total + " series, those where the condition held first" +
        " (series without data in this range are left out).");
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-alert-chart]").forEach(draw);
  });
})();
