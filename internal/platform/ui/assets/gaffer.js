// Gaffer's small amount of browser code: CSRF on htmx requests, and the
// one way every page draws a time series with uPlot (gaffer.plot), which
// sizes the axes to their labels, spaces the ticks so that labels never
// collide, keeps the legend short and follows the chart's width.
(function () {
  "use strict";
  document.addEventListener("htmx:configRequest", function (e) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) { e.detail.headers["X-CSRF-Token"] = meta.content; }
  });

  var palette = ["#1f5fbf", "#d92d20", "#079455", "#dc6803", "#7a5af8", "#0e9384", "#c11574", "#475467"];

  // maxLegend is how many series a legend lists; a chart with more says
  // how many it leaves out under the chart.
  var maxLegend = 10;

  // plots holds every chart drawn on the page (the layout tests read it).
  var plots = [];

  var measurer = null;
  function textWidth(font, text) {
    if (!measurer) { measurer = document.createElement("canvas").getContext("2d"); }
    measurer.font = font;
    var w = 0;
    String(text).split("\n").forEach(function (line) { w = Math.max(w, measurer.measureText(line).width); });
    return w;
  }

  // compact formats a tick value with an SI suffix once values are large,
  // so that "2,500,000" becomes "2.5M".
  function compact(v, span) {
    if (v == null) { return ""; }
    var a = Math.max(Math.abs(v), Math.abs(span || 0));
    var units = [[1e12, "T"], [1e9, "G"], [1e6, "M"], [1e4, "k"]];
    for (var i = 0; i < units.length; i++) {
      if (a >= units[i][0]) {
        var d = units[i][0] === 1e4 ? 1e3 : units[i][0];
        return +(v / d).toPrecision(4) + units[i][1];
      }
    }
    return +v.toPrecision(6) + "";
  }

  // sizeToLabels is a uPlot axis size: the widest tick label plus the tick
  // and the gap, so that labels are never cut off at the chart's edge.
  // The size only grows from one of uPlot's layout cycles to the next (the
  // ticks, and so the labels, can change between them), so it converges.
  function sizeToLabels(u, values, axisIdx, cycleNum) {
    var axis = u.axes[axisIdx];
    var size = (axis.ticks && axis.ticks.show !== false ? axis.ticks.size : 0) + axis.gap + 4;
    var font = Array.isArray(axis.font) ? axis.font[0] : axis.font;
    var pr = u.pxRatio || window.devicePixelRatio || 1;
    var widest = 0;
    (values || []).forEach(function (v) { if (v != null) { widest = Math.max(widest, textWidth(font, v) / pr); } });
    size = Math.ceil(size + widest);
    return cycleNum > 0 && axis._size > size ? axis._size : size;
  }

  // xSpace is the least room between time ticks: a label ("12:30" over
  // "12/7") is about 40px wide; narrow charts get fewer ticks.
  function xSpace(u, axisIdx, min, max, dim) { return dim < 500 ? 90 : 70; }

  // integerSteps are the y tick steps of counts: no "1.5 certificates".
  var integerSteps = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1e3, 2e3, 5e3, 1e4, 2e4, 5e4, 1e5, 2e5, 5e5, 1e6, 1e7, 1e8, 1e9];

  // allIntegers reports whether a column holds whole numbers only.
  function allIntegers(values) {
    return (values || []).every(function (v) { return v == null || Math.floor(v) === v; });
  }

  // hasData reports whether a column holds any number.
  function hasData(values) {
    for (var i = 0; i < (values || []).length; i++) {
      if (typeof values[i] === "number" && isFinite(values[i])) { return true; }
    }
    return false;
  }

  // contentWidth is el's width inside its padding: the room for a chart.
  function contentWidth(el) {
    var cs = getComputedStyle(el);
    return Math.floor(el.clientWidth - (parseFloat(cs.paddingLeft) || 0) - (parseFloat(cs.paddingRight) || 0));
  }

  // lastIndexWithData is the last index at which any series of columns
  // (after the x column) has a number, or -1.
  function lastIndexWithData(columns) {
    var n = columns[0] ? columns[0].length : 0;
    for (var i = n - 1; i >= 0; i--) {
      for (var c = 1; c < columns.length; c++) {
        var v = columns[c][i];
        if (typeof v === "number" && isFinite(v)) { return i; }
      }
    }
    return -1;
  }

  // plot draws a uPlot chart in el from uPlot options and columns, filling
  // in the axes (sized to their labels, compact numbers, spaced time
  // ticks), a width that follows el, and registers it in gaffer.plots.
  function plot(opts, data, el) {
    opts.width = contentWidth(el) || opts.width || 800;
    var axes = opts.axes || [{}, {}];
    axes.forEach(function (a, i) {
      if (a.show === false) { return; }
      if (i === 0) {
        if (a.space == null) { a.space = xSpace; }
        return;
      }
      if (a.size == null || typeof a.size === "number") { a.size = sizeToLabels; }
      if (a.values == null) {
        a.values = function (u, splits) {
          var span = splits.length ? Math.max(Math.abs(splits[0]), Math.abs(splits[splits.length - 1])) : 0;
          return splits.map(function (v) { return compact(v, span); });
        };
      }
    });
    opts.axes = axes;
    // A time tick at the right edge centres its label there: uPlot's
    // automatic right padding left half of a wide one ("12:15am") off
    // the canvas at some hours. Half the widest time label is room
    // enough; the other sides stay automatic (null).
    if (opts.padding == null && !axes.some(function (a) { return a.side === 1; })) {
      opts.padding = [null, 32, null, null];
    }
    // The legend shows the last values with data while the cursor is off
    // the chart, instead of uPlot's "--".
    var last = lastIndexWithData(data);
    if (last >= 0) {
      var showLast = function (u) { if (u.cursor.idx == null) { u.setLegend({ idx: last }); } };
      opts.hooks = opts.hooks || {};
      opts.hooks.ready = (opts.hooks.ready || []).concat([showLast]);
      opts.hooks.setCursor = (opts.hooks.setCursor || []).concat([showLast]);
    }
    var u = new uPlot(opts, data, el);
    plots.push(u);
    var width = opts.width;
    window.addEventListener("resize", function () {
      var w = contentWidth(el) || width;
      if (w !== u.width) { u.setSize({ width: w, height: u.height }); }
    });
    return u;
  }

  // note adds a short muted line under a chart.
  function note(el, text) {
    var p = document.createElement("p");
    p.className = "muted chart-note";
    p.textContent = text;
    el.appendChild(p);
  }

  // gaffer.chart(element, {times: [unix seconds...], series: [{label, values: [...]}]}, options)
  // draws the series that have data, the first maxLegend of them.
  function chart(el, data, opts) {
    opts = opts || {};
    var series = [{}];
    var columns = [data.times];
    var withData = (data.series || []).filter(function (s) { return hasData(s.values); });
    var shown = withData.slice(0, maxLegend);
    shown.forEach(function (s, i) {
      series.push({ label: s.label, stroke: s.color || palette[i % palette.length], width: 1.5,
                    fill: s.fill || undefined, dash: s.dash || undefined, points: { show: false } });
      columns.push(s.values);
    });
    var y = {};
    if (columns.slice(1).every(allIntegers)) { y.incrs = integerSteps; }
    var u = plot({ height: opts.height || 260, series: series, scales: { x: { time: true } },
                   axes: [{}, y], hooks: opts.hooks || {} }, columns, el);
    var total = (data.series || []).length;
    if (shown.length < total) {
      note(el, "Drawn: " + shown.length + " of " + total + " series" +
        (withData.length < total ? " (" + (total - withData.length) + " without data in this range)" : "") + ".");
    }
    return u;
  }

  // Draw every <div class="chart" data-chart-json="..."> on load.
  function drawAll(root) {
    (root || document).querySelectorAll("[data-chart-json]").forEach(function (el) {
      if (el.dataset.drawn) { return; }
      el.dataset.drawn = "1";
      chart(el, JSON.parse(el.dataset.chartJson), { height: parseInt(el.dataset.height || "260", 10) });
    });
  }
  // wrapTables puts every table in a .table-scroll box, so that a table
  // wider than the screen scrolls by itself instead of the whole page.
  function wrapTables(root) {
    (root || document).querySelectorAll("main table").forEach(function (t) {
      var p = t.parentElement;
      if (!p || p.classList.contains("table-scroll")) { return; }
      var box = document.createElement("div");
      box.className = "table-scroll";
      p.insertBefore(box, t);
      box.appendChild(t);
    });
  }

  // The Menu button shows and hides the side navigation on narrow screens.
  function navToggle() {
    var b = document.getElementById("nav-toggle");
    if (!b) { return; }
    b.addEventListener("click", function () {
      var open = document.body.classList.toggle("nav-open");
      b.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  document.addEventListener("DOMContentLoaded", function () { wrapTables(); navToggle(); drawAll(); });
  // After htmx swaps content in (an outerHTML swap replaces the target
  // itself), wrap and draw whatever is new anywhere on the page.
  document.addEventListener("htmx:afterSettle", function () { wrapTables(); drawAll(); });

  window.gaffer = { chart: chart, plot: plot, plots: plots, drawAll: drawAll, palette: palette,
                    hasData: hasData, maxLegend: maxLegend, note: note };
})();
