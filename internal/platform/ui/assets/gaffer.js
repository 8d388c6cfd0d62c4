// Gaffer's small amount of browser code: CSRF on htmx requests, and a
// helper that draws time series with uPlot.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { e.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  var palette = ["#1f5fbf", "#d92d20", "#079455", "#dc6803", "#7a5af8", "#0e9384", "#c11574", "#475467"];

  // gaffer.chart(element, {times: [unix seconds...], series: [{label, values: [...]}]}, options)
  function chart(el, data, opts) {
    opts = opts || {};
    var series = [{}];
    var columns = [data.times];
    (data.series || []).forEach(function (s, i) {
      series.push({ label: s.label, stroke: s.color || palette[i % palette.length], width: 1.5,
                    fill: s.fill || undefined, dash: s.dash || undefined, points: { show: false } });
      columns.push(s.values);
    });
    var width = el.clientWidth || 800;
    var u = new uPlot({ width: width, height: opts.height || 260, series: series,
                        scales: { x: { time: true } }, axes: [{}, { size: 60 }],
                        hooks: opts.hooks || {} }, columns, el);
    window.addEventListener("resize", function () { u.setSize({ width: el.clientWidth || width, height: opts.height || 260 }); });
    return u;
  }

  // Draw every <div class="chart" data-chart="url-or-json"> on load.
  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart-json]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      chart(el, JSON.parse(el.dataset.chartJson), { height: parseInt(el.dataset.height || "260", 10) });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { drawAll(); });
  document.addEventListener("htmx:afterSwap", function (e) { drawAll(e.target); });

  window.gaffer = { chart: chart, drawAll: drawAll, palette: palette };
})();
