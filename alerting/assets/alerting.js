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

  function draw(el) {
    var d = JSON.parse(el.dataset.alertChart);
    var series = [{}], data = [d.times];
    d.series.forEach(function (s, i) {
      var c = palette[i % palette.length];
      series.push({ label: label(s.labels), stroke: c, width: 1.5, points: { show: false } });
      data.push(s.values);
      if (s.upper) { series.push({ label: "upper", stroke: "#d92d20", dash: [6, 4], width: 1, points: { show: false } }); data.push(s.upper); }
      if (s.lower) { series.push({ label: "lower", stroke: "#d92d20", dash: [6, 4], width: 1, points: { show: false } }); data.push(s.lower); }
      if (s.baseline) { series.push({ label: "expected", stroke: c, dash: [2, 3], width: 1, points: { show: false } }); data.push(s.baseline); }
    });
    var spans = breachSpans(d);
    var width = el.clientWidth || 800;
    var u = new uPlot({
      width: width, height: 300, series: series, scales: { x: { time: true } }, axes: [{}, { size: 70 }],
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
    window.addEventListener("resize", function () { u.setSize({ width: el.clientWidth || width, height: 300 }); });
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-alert-chart]").forEach(draw);
  });
})();
