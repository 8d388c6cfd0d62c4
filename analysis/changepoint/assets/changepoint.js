// The "Change points" page: draws each segmented signal with uPlot, its
// segments shaded in alternating colours (as ruptures' display does) and
// a dashed line at every change.
//
// Each <div data-cp-chart='{"time":bool,"x":[...],"y":[[...],...],
// "labels":[...],"starts":[...]}'> is one chart; starts holds the x of
// the first point of every segment.
(function () {
  "use strict";

  var shades = ["rgba(31, 95, 191, 0.10)", "rgba(220, 104, 3, 0.13)"];
  var lineColour = "rgba(16, 24, 40, 0.55)";

  // segmentBounds returns [from, to] x ranges of the segments, each ending
  // where the next begins and the last at the end of the data.
  function segmentBounds(d) {
    var out = [];
    var last = d.x.length ? d.x[d.x.length - 1] : 0;
    for (var i = 0; i < d.starts.length; i++) {
      out.push([d.starts[i], i + 1 < d.starts.length ? d.starts[i + 1] : last]);
    }
    return out;
  }

  // shadeSegments paints the segment bands under the series.
  function shadeSegments(u, bounds) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    bounds.forEach(function (b, i) {
      var x0 = Math.max(u.valToPos(b[0], "x", true), u.bbox.left);
      var x1 = Math.min(u.valToPos(b[1], "x", true), u.bbox.left + u.bbox.width);
      if (x1 <= x0) { return; }
      ctx.fillStyle = shades[i % shades.length];
      ctx.fillRect(x0, top, x1 - x0, height);
    });
    ctx.restore();
  }

  // markChanges draws a dashed line at every change (segment start but the first).
  function markChanges(u, starts) {
    var ctx = u.ctx, top = u.bbox.top, bottom = u.bbox.top + u.bbox.height;
    ctx.save();
    ctx.strokeStyle = lineColour;
    ctx.lineWidth = Math.max(1, window.devicePixelRatio || 1);
    ctx.setLineDash([6, 4]);
    starts.slice(1).forEach(function (s) {
      var x = Math.round(u.valToPos(s, "x", true));
      ctx.beginPath();
      ctx.moveTo(x, top);
      ctx.lineTo(x, bottom);
      ctx.stroke();
    });
    ctx.restore();
  }

  function draw(el) {
    var d = JSON.parse(el.dataset.cpChart);
    var palette = (window.gaffer && window.gaffer.palette) || ["#1f5fbf", "#d92d20", "#079455"];
    var series = [{}];
    var data = [d.x];
    d.y.forEach(function (ys, i) {
      series.push({ label: d.labels[i], stroke: palette[i % palette.length], width: 1.25, points: { show: false } });
      data.push(ys);
    });
    var bounds = segmentBounds(d);
    window.gaffer.plot({
      height: 300, series: series,
      scales: { x: { time: !!d.time } }, axes: [{}, {}],
      hooks: {
        drawClear: [function (u) { shadeSegments(u, bounds); }],
        draw: [function (u) { markChanges(u, d.starts); }]
      }
    }, data, el);
  }

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll("[data-cp-chart]").forEach(draw);
  });
})();
