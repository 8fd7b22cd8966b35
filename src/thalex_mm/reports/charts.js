// thalex-mm report charts: uPlot (vendored, inlined) fed from JSON blocks in the page.
// Drag across a chart to zoom (all charts follow), double-click to reset. Dashed vertical
// lines mark the run's timeline (halts, kills, errors, reconnects). Times are UTC.
"use strict";
(function () {
  const charts = {};
  // a flat series (e.g. position 0 all along) gets ±1 around its value, not uPlot's 0..100
  const yRange = (u, min, max) => (min === null || min === max
    ? [(min || 0) - 1, (max || 0) + 1] : uPlot.rangeNum(min, max, 0.1, true));
  window.thalexCharts = charts;
  let syncing = false;

  function drawMarks(u, marks) {
    if (!marks || !marks.length) return;
    const ctx = u.ctx, dpr = window.devicePixelRatio || 1, b = u.bbox;
    ctx.save();
    ctx.font = Math.round(10 * dpr) + "px system-ui, sans-serif";
    for (const [t, color, label] of marks) {
      const x = Math.round(u.valToPos(t, "x", true));
      if (x < b.left || x > b.left + b.width) continue;
      ctx.strokeStyle = color;
      ctx.fillStyle = color;
      ctx.lineWidth = 1.5 * dpr;
      ctx.setLineDash([5 * dpr, 3 * dpr]);
      ctx.beginPath();
      ctx.moveTo(x, b.top);
      ctx.lineTo(x, b.top + b.height);
      ctx.stroke();
      ctx.fillText(label, x + 3 * dpr, b.top + 11 * dpr);
    }
    ctx.restore();
  }

  function zoomOthers(src) {
    if (syncing) return;
    const { min, max } = src.scales.x;
    syncing = true;
    try {
      for (const id in charts) {
        const u = charts[id];
        if (u !== src && (u.scales.x.min !== min || u.scales.x.max !== max)) {
          u.setScale("x", { min, max });
        }
      }
    } finally {
      syncing = false;
    }
  }

  function build(block) {
    const d = JSON.parse(block.textContent);
    const host = document.getElementById("plot-" + d.id);
    if (!host) return;
    const full = [d.x[0], d.x[d.x.length - 1]];
    const utc = (v) => new Date(v * 1e3).toISOString();
    const tick = (u, v) => {
      const shown = u.scales.x.max - u.scales.x.min;  // the zoomed range picks the precision
      if (shown > 86400) return utc(v).slice(5, 16).replace("T", " ");
      return shown < 20 ? utc(v).slice(11, 22) : utc(v).slice(11, 19);
    };
    const series = [{
      label: "time (UTC)",
      value: (u, v) => (v == null ? "--" : utc(v).replace("T", " ").slice(0, 23)),
    }];
    for (const s of d.series) {
      const opt = { label: s.label, stroke: s.color, width: s.width || 1.5, spanGaps: true };
      if (s.dash) opt.dash = s.dash;
      if (s.step) opt.paths = uPlot.paths.stepped({ align: 1 });
      if (s.fill) opt.fill = s.fill;
      if (s.points) {
        opt.paths = () => null;
        opt.points = { show: true, size: 8, fill: s.color, stroke: s.color };
      } else {
        opt.points = { show: false };
      }
      series.push(opt);
    }
    const timeAxis = !d.x_label;
    if (!timeAxis) series[0] = { label: d.x_label };
    const opts = {
      width: Math.max(320, host.clientWidth || 900),
      height: d.height || 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: timeAxis }, y: { range: yRange } },
      axes: [timeAxis ? { values: (u, splits) => splits.map((v) => tick(u, v)), label: "time (UTC)" }
                      : { label: d.x_label },
             { label: d.y_label, size: 80 }],
      series: series,
      legend: { live: true },
      cursor: { sync: { key: "thalex-run" }, drag: { x: true, y: false } },
      hooks: {
        draw: [(u) => drawMarks(u, d.marks)],
        setScale: [(u, key) => {
          if (key !== "x") return;
          const zoomed = u.scales.x.min > full[0] + 1e-9 || u.scales.x.max < full[1] - 1e-9;
          host.dataset.zoomed = zoomed ? "1" : "0";
          zoomOthers(u);
        }],
      },
    };
    const data = [d.x, ...d.series.map((s) => s.values)];
    host.dataset.points = String(d.x.length);
    charts[d.id] = new uPlot(opts, data, host);
  }

  function buildAll() {
    document.querySelectorAll('script[type="application/json"][data-chart]').forEach(build);
    window.addEventListener("resize", () => {
      for (const id in charts) {
        const host = document.getElementById("plot-" + id);
        charts[id].setSize({ width: Math.max(320, host.clientWidth), height: charts[id].height });
      }
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", buildAll);
  else buildAll();
})();
