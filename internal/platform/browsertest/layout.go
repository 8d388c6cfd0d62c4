package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/chromedp/chromedp"
)

// Viewport sets the page's viewport to width×height CSS pixels at a
// device scale of 1, as a desktop window or a phone would have; the page
// reflows at once, and stays so until the next Viewport.
func Viewport(width, height int64) chromedp.Action[chromedp.Void] {
	return chromedp.EmulateViewport(width, height)
}

// maxShotHeight bounds a screenshot's height in CSS pixels.
const maxShotHeight = 12000

// Screenshot saves a PNG of the whole page as dir/name.png and returns its
// path. The page is laid out width CSS pixels wide: for the capture the
// viewport is stretched to the page's height (at most maxShotHeight), and
// then set back to width×height.
func Screenshot(ctx context.Context, dir, name string, width, height int64) (string, error) {
	full, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`Math.ceil(document.scrollingElement.scrollHeight)`))
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	full = min(max(full, height), maxShotHeight)
	if err := chromedp.Do(ctx, Viewport(width, full)); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if rerr := chromedp.Do(ctx, Viewport(width, height)); err == nil && rerr != nil {
		err = rerr
	}
	if err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	path := filepath.Join(dir, name+".png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		return "", fmt.Errorf("screenshot %s: %w", name, err)
	}
	return path, nil
}

// chartsDrawn is true once the page has loaded and every chart container
// has its uPlot chart (containers inside closed <details> are drawn only
// when opened), and no request of the page's own scripts is in flight.
const chartsDrawn = `(() => {
  if (document.readyState !== "complete") return false;
  const sel = "[data-chart-json],[data-alert-chart],[data-cp-chart],[data-report-chart],[data-report-spark]";
  for (const el of document.querySelectorAll(sel)) {
    if (el.closest("details:not([open])")) continue;
    if (!el.querySelector(".uplot")) return false;
  }
  const atlas = document.getElementById("atlas-chart");
  if (atlas && document.getElementById("atlas-q") && document.getElementById("atlas-q").value.trim() &&
      !atlas.querySelector(".uplot") && document.getElementById("atlas-error").hidden) return false;
  return true;
})()`

// WaitCharts waits, up to timeout, until every chart on the page is drawn.
func WaitCharts(ctx context.Context, timeout time.Duration) error {
	_, err := chromedp.Run(ctx, chromedp.Poll[bool](chartsDrawn,
		chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(timeout)))
	if err != nil {
		return fmt.Errorf("charts not drawn within %s: %w", timeout, err)
	}
	return nil
}

// MaxLegend is the most series a chart's legend may list.
const MaxLegend = 12

// LayoutProblems inspects the page as it is drawn and describes what is
// wrong, one problem a line:
//
//   - the page scrolls sideways: document.scrollingElement.scrollWidth
//     exceeds innerWidth; the problem names the widest element that
//     sticks out of the viewport (not counting what scrolls inside a
//     scrolling box), and the innermost ones;
//   - on any uPlot chart drawn with gaffer.plot (window.gaffer.plots):
//     tick labels of an axis that overlap each other, or that are cut off
//     by the chart's canvas; a canvas wider than the chart's box; a legend
//     listing more than MaxLegend series, or a series without any data, or
//     showing no value at all while the cursor is off the chart.
//
// Tick label boxes are computed as uPlot draws them: from the axis's
// splits and formatted values, its font, side, tick size and gap.
func LayoutProblems(ctx context.Context) ([]string, error) {
	problems, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](fmt.Sprintf(layoutScript, MaxLegend)))
	if err != nil {
		return nil, fmt.Errorf("layout check: %w", err)
	}
	return problems, nil
}

const layoutScript = `(() => {
  const out = [];
  const describe = (el) => {
    let s = el.tagName.toLowerCase();
    if (el.id) s += "#" + el.id;
    if (typeof el.className === "string" && el.className.trim()) s += "." + el.className.trim().split(/\s+/).join(".");
    const text = (el.textContent || "").trim().replace(/\s+/g, " ");
    const r = el.getBoundingClientRect();
    return s + " (" + Math.round(r.width) + "px wide, right edge at " + Math.round(r.right) + "px" +
      (text ? ", \"" + text.slice(0, 40) + "\"" : "") + ")";
  };
  // clipped reports whether el is inside a box that clips or scrolls
  // sideways and itself ends inside the viewport.
  const clipped = (el) => {
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible" && p.getBoundingClientRect().right <= window.innerWidth + 0.5) return true;
    }
    return false;
  };
  const sw = document.scrollingElement.scrollWidth, iw = window.innerWidth;
  if (sw > iw) {
    // An element sticks out with its box, or with text that overflows it
    // (a long word), which its scrollWidth counts.
    const reach = (el) => {
      const r = el.getBoundingClientRect();
      return getComputedStyle(el).overflowX === "visible" ? Math.max(r.right, r.left + el.scrollWidth) : r.right;
    };
    const off = [];
    for (const el of document.body.querySelectorAll("*")) {
      const r = el.getBoundingClientRect();
      if (r.width > 0 && reach(el) > iw + 0.5 && !clipped(el)) off.push(el);
    }
    off.sort((a, b) => b.getBoundingClientRect().width - a.getBoundingClientRect().width);
    const inner = off.filter((el) => !off.some((o) => o !== el && el.contains(o)));
    const label = (el) => describe(el) + (reach(el) > el.getBoundingClientRect().right + 0.5 ? " whose text reaches " + Math.round(reach(el)) + "px" : "");
    let far = "";
    if (!off.length) {
      const all = [...document.body.querySelectorAll("*")].filter((el) => el.getBoundingClientRect().right > iw + 0.5);
      all.sort((a, b) => b.getBoundingClientRect().right - a.getBoundingClientRect().right);
      far = "; no element sticks out but for these, inside scrolling boxes: " + all.slice(0, 3).map(describe).join(", ");
    }
    out.push("page scrolls sideways: scrollWidth " + sw + " > innerWidth " + iw + far +
      (off.length ? "; widest offender " + label(off[0]) : "") +
      (inner.length ? "; innermost: " + inner.slice(0, 3).map(label).join(", ") : ""));
  }
  const plots = (window.gaffer && window.gaffer.plots) || [];
  let n = 0;
  for (const u of plots) {
    if (!document.body.contains(u.root) || u.root.offsetParent === null) continue;
    n++;
    const name = "chart " + n + " in " + describe(u.root.parentElement);
    const canvas = u.ctx.canvas, cr = canvas.getBoundingClientRect();
    const scale = canvas.width / cr.width || 1;
    const box = u.root.parentElement.getBoundingClientRect();
    if (cr.right > box.right + 1 || cr.left < box.left - 1) {
      out.push(name + ": canvas " + Math.round(cr.width) + "px wide sticks out of its " + Math.round(box.width) + "px box");
    }
    const ctx = document.createElement("canvas").getContext("2d");
    u.axes.forEach((a, ai) => {
      if (a.show === false || !a._values || !a._splits) return;
      const font = Array.isArray(a.font) ? a.font : [a.font, 12];
      ctx.font = font[0];
      const fs = font[1] / scale, lineH = fs * (a.lineGap || 1.5);
      const horizontal = a.side === 0 || a.side === 2;
      const tick = a.ticks && a.ticks.show !== false ? a.ticks.size : 0;
      const boxes = [];
      a._values.forEach((v, i) => {
        if (v == null || v === "") return;
        const lines = String(v).split("\n");
        const w = Math.max(...lines.map((l) => ctx.measureText(l).width)) / scale;
        const h = fs + (lines.length - 1) * lineH;
        const p = u.valToPos(a._splits[i], a.scale, true) / scale;
        if (horizontal) {
          if (a._rotate) return;
          const y = a.side === 2 ? a._pos + tick + a.gap : a._pos - tick - a.gap - h;
          boxes.push({ v: String(v).replace(/\n/g, " "), l: p - w / 2, r: p + w / 2, t: y, b: y + h });
        } else {
          // uPlot's _pos is the axis's edge next to the plot.
          const x = a.side === 3 ? a._pos - tick - a.gap - w : a._pos + tick + a.gap;
          boxes.push({ v: String(v).replace(/\n/g, " "), l: x, r: x + w, t: p - fs / 2, b: p - fs / 2 + h });
        }
      });
      const W = cr.width, H = cr.height;
      boxes.forEach((b) => {
        if (b.l < -0.5 || b.r > W + 0.5 || b.t < -0.5 || b.b > H + 0.5) {
          out.push(name + ": axis " + ai + " label \"" + b.v + "\" is cut off by the chart's edge (label " +
            Math.round(b.l) + ".." + Math.round(b.r) + " x " + Math.round(b.t) + ".." + Math.round(b.b) + ", canvas " + Math.round(W) + "x" + Math.round(H) + ")");
        }
      });
      boxes.sort((x, y) => horizontal ? x.l - y.l : x.t - y.t);
      const overlaps = [];
      for (let i = 1; i < boxes.length; i++) {
        const p = boxes[i - 1], q = boxes[i];
        if (horizontal ? q.l < p.r - 0.5 : q.t < p.b - 0.5) overlaps.push("\"" + p.v + "\" and \"" + q.v + "\"");
      }
      if (overlaps.length) {
        out.push(name + ": axis " + ai + " labels " + overlaps.slice(0, 3).join(", ") +
          (overlaps.length > 3 ? " and " + (overlaps.length - 3) + " more pairs" : "") + " overlap");
      }
    });
    if (u.root.querySelector(".u-legend")) {
      const rows = [...u.root.querySelectorAll(".u-legend .u-series")].slice(1).filter((r) => r.style.display !== "none");
      if (rows.length > %d) out.push(name + ": the legend lists " + rows.length + " series");
      const shown = rows.map((r) => ((r.querySelector(".u-value") || {}).textContent || "").trim());
      if (u.cursor.idx == null && shown.length && shown.every((v) => v === "" || v === "--")) {
        out.push(name + ": the legend shows no values until the chart is hovered");
      }
      u.series.forEach((s, i) => {
        if (i === 0 || !s.show) return;
        const row = u.root.querySelectorAll(".u-legend .u-series")[i];
        if (row && row.style.display === "none") return;
        const vals = u.data[i] || [];
        if (!vals.some((v) => typeof v === "number" && isFinite(v))) out.push(name + ": the legend lists \"" + s.label + "\", which has no data");
      });
    }
  }
  return out;
})()`
