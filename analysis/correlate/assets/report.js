// The analysis report page: the target's chart, each candidate's
// sparkline and, when opened, its overlay on the target, all with uPlot.
// The baseline is shaded and the onset drawn as a dashed line; a
// candidate's own change is a dot on its sparkline.
//
// Each [data-report-chart] or [data-report-spark] element holds
// {"x": [unix seconds], "lines": [{"label", "values"}], "from", "onset", "marker"}.
(function () {
  "use strict";

  var palette = ["#1f5fbf", "#d92d20", "#079455", "#dc6803"];

  function hooks(d) {
    return {
      drawClear: [function (u) {
        var x0 = u.valToPos(d.from, "x", true), x1 = u.valToPos(d.onset, "x", true);
        u.ctx.save();
        u.ctx.fillStyle = "rgba(31, 95, 191, 0.08)";
        u.ctx.fillRect(Math.max(x0, u.bbox.left), u.bbox.top, Math.max(0, x1 - Math.max(x0, u.bbox.left)), u.bbox.height);
        u.ctx.restore();
      }],
      draw: [function (u) {
        var ctx = u.ctx, x = Math.round(u.valToPos(d.onset, "x", true));
        ctx.save();
        ctx.strokeStyle = "rgba(217, 45, 32, 0.8)";
        ctx.setLineDash([5, 4]);
        ctx.beginPath();
        ctx.moveTo(x, u.bbox.top);
        ctx.lineTo(x, u.bbox.top + u.bbox.height);
        ctx.stroke();
        if (d.marker) {
          var mx = u.valToPos(d.marker, "x", true);
          ctx.setLineDash([]);
          ctx.fillStyle = "#dc6803";
          ctx.beginPath();
          ctx.arc(mx, u.bbox.top + 4, 3.5 * (window.devicePixelRatio || 1), 0, 2 * Math.PI);
          ctx.fill();
        }
        ctx.restore();
      }]
    };
  }

  function draw(el, d, spark) {
    if (el.dataset.drawn) { return; }
    el.dataset.drawn = "1";
    var series = [{}], data = [d.x];
    d.lines.forEach(function (l, i) {
      series.push({ label: l.label || "value", stroke: palette[i % palette.length], width: spark ? 1 : 1.5, points: { show: false } });
      data.push(l.values);
    });
    var width = el.clientWidth || (spark ? 220 : 800), height = spark ? 48 : (el.classList.contains("an-overlay") ? 220 : 260);
    var opts = { width: width, height: height, series: series, scales: { x: { time: true } }, hooks: hooks(d) };
    if (spark) {
      opts.legend = { show: false };
      opts.cursor = { show: false };
      opts.axes = [{ show: false }, { show: false }];
      opts.padding = [2, 2, 2, 2];
    } else {
      opts.axes = [{}, {}];
    }
    window.gaffer.plot(opts, data, el);
  }

  function drawAll(root) {
    root.querySelectorAll("[data-report-spark]").forEach(function (el) {
      draw(el, JSON.parse(el.dataset.reportSpark), true);
    });
    root.querySelectorAll("[data-report-chart]").forEach(function (el) {
      var det = el.closest("details");
      if (det && !det.open) {
        det.addEventListener("toggle", function () { draw(el, JSON.parse(el.dataset.reportChart), false); }, { once: true });
        return;
      }
      draw(el, JSON.parse(el.dataset.reportChart), false);
    });
  }

  document.addEventListener("DOMContentLoaded", function () { drawAll(document); });
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });
})();
