// thalex-mm live dashboard: plain JS plus the vendored uPlot (served from /static), no network
// access beyond this server.
"use strict";
(function () {
  const token = new URLSearchParams(location.search).get("token");
  const withToken = (path) => (token ? path + "?token=" + encodeURIComponent(token) : path);
  const $ = (id) => document.getElementById(id);

  // [ts_ms, mid, fair, reservation, bid, ask, position, pnl_total]
  const points = [];
  const fills = []; // [ts_ms, side, price, amount]
  let historyMs = 600000;
  let last = null;

  // -- formatting -------------------------------------------------------------------------
  function fmt(x, digits) {
    if (x === null || x === undefined || !isFinite(x)) return "—";
    if (digits === undefined) {
      const a = Math.abs(x);
      digits = a >= 1000 ? 2 : a >= 1 ? 4 : a === 0 ? 0 : 6;
    }
    return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  }
  function fmtSig(x) {
    if (x === null || x === undefined || !isFinite(x)) return "—";
    if (x === 0) return "0";
    const a = Math.abs(x);
    return a >= 0.01 && a < 1e5 ? String(Number(x.toPrecision(4))) : x.toExponential(3);
  }
  function signed(el, x, digits) {
    el.textContent = (x > 0 ? "+" : "") + fmt(x, digits);
    el.classList.toggle("pos", x > 0);
    el.classList.toggle("neg", x < 0);
  }
  function hms(ms) {
    const d = new Date(ms);
    return d.toISOString().substring(11, 19);
  }
  const set = (id, text) => { $(id).textContent = text; };

  // -- charts (uPlot, vendored: drag to zoom, double-click to follow live again) ------------
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();
  const charts = {};
  // a flat series (e.g. position 0 all along) gets ±1 around its value, not uPlot's 0..100
  const yRange = (u, min, max) => (min === null || min === max
    ? [(min || 0) - 1, (max || 0) + 1] : uPlot.rangeNum(min, max, 0.1, true));
  let zoomed = false;   // while the user looks at a zoomed range, new data does not reset it
  let syncing = false;

  function axisOpts(label) {
    const grid = { stroke: color("--line"), width: 1 };
    return [
      { stroke: color("--muted"), grid: grid, ticks: grid, space: 90,
        values: (u, splits) => splits.map((v) => new Date(v * 1e3).toISOString()
          .slice(11, u.scales.x.max - u.scales.x.min < 10 ? 21 : 19)) },
      { stroke: color("--muted"), grid: grid, ticks: grid, size: 70, label: label },
    ];
  }

  function makeChart(id, label, series, height) {
    const host = $(id);
    const opts = {
      width: Math.max(300, host.clientWidth), height: height,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC"),
      scales: { x: { time: true }, y: { range: yRange } },
      axes: axisOpts(label),
      legend: { show: false },
      cursor: { sync: { key: "dash" }, drag: { x: true, y: false } },
      series: [{}, ...series.map((s) => Object.assign({ spanGaps: true, points: { show: false } }, s))],
      hooks: {
        setSelect: [() => { zoomed = true; }],
        setScale: [(u, key) => {
          if (key !== "x" || syncing) return;
          syncing = true;
          for (const other of Object.values(charts)) {
            if (other !== u) other.setScale("x", { min: u.scales.x.min, max: u.scales.x.max });
          }
          syncing = false;
        }],
      },
    };
    const u = new uPlot(opts, [[], ...series.map(() => [])], host);
    u.over.addEventListener("dblclick", () => { zoomed = false; scheduleDraw(); });
    charts[id] = u;
    return u;
  }

  const stepped = uPlot.paths.stepped({ align: 1 });
  function buildCharts() {
    makeChart("chart-price", "price", [
      { label: "mid", stroke: color("--mid"), width: 1.5 },
      { label: "fair value", stroke: color("--fair"), width: 1.2, dash: [5, 3] },
      { label: "reservation", stroke: color("--res"), width: 1.2, dash: [2, 2] },
      { label: "our bid", stroke: color("--buy"), width: 1.2, paths: stepped },
      { label: "our ask", stroke: color("--sell"), width: 1.2, paths: stepped },
      { label: "buy fill", stroke: color("--buy"), paths: () => null,
        points: { show: true, size: 9, fill: color("--buy"), stroke: "#0f1419" } },
      { label: "sell fill", stroke: color("--sell"), paths: () => null,
        points: { show: true, size: 9, fill: color("--sell"), stroke: "#0f1419" } },
    ], 300);
    makeChart("chart-position", "contracts",
      [{ label: "position", stroke: color("--fair"), width: 1.6, paths: stepped }], 190);
    makeChart("chart-pnl", "quote ccy",
      [{ label: "PnL", stroke: color("--buy"), width: 1.6 }], 190);
  }

  function col(i) { return points.map((p) => p[i]); }

  function fillSeries(side) {
    // each fill sits on the first chart point at or after its time (4 samples a second)
    const out = new Array(points.length).fill(null);
    let k = 0;
    for (const f of fills) {
      if (f[1] !== side) continue;
      while (k < points.length && points[k][0] < f[0]) k++;
      if (k < points.length) out[k] = f[2];
      else if (points.length) out[points.length - 1] = f[2];
    }
    return out;
  }

  function drawAll() {
    const x = points.map((p) => p[0] / 1000);
    const data = {
      "chart-price": [x, col(1), col(2), col(3), col(4), col(5), fillSeries("buy"), fillSeries("sell")],
      "chart-position": [x, col(6)],
      "chart-pnl": [x, col(7)],
    };
    for (const id in charts) {
      charts[id].setData(data[id], !zoomed);
      const n = data[id].slice(1).reduce((acc, s) => acc + s.filter((v) => v !== null && isFinite(v)).length, 0);
      $(id).dataset.points = String(n);
    }
  }

  // -- state ------------------------------------------------------------------------------
  function render(s) {
    last = s;
    if (s.history_s) historyMs = s.history_s * 1000;
    if (!s.ready) return;
    set("instrument", s.instrument || "");
    const st = $("state");
    st.textContent = s.trading_state;
    st.className = "badge state-" + (["ACTIVE", "REDUCING", "HALTED"].includes(s.trading_state) ? s.trading_state : "unknown");
    set("state-reason", s.state_reason || "");
    set("updated", "updated " + hms(s.ts_ms) + " UTC");
    set("v-mid", fmt(s.mid));
    set("v-book", fmt(s.best_bid) + " / " + fmt(s.best_ask));
    set("v-fair", fmt(s.fair_value));
    set("v-res", fmt(s.reservation));
    set("v-bid", fmt(s.our_bid));
    set("v-ask", fmt(s.our_ask));
    set("v-sizes", fmt(s.our_bid_size, 3) + " / " + fmt(s.our_ask_size, 3));
    signed($("v-pos"), s.position, 3);
    set("v-avg", fmt(s.avg_price));
    signed($("v-pnl"), s.pnl_total, 2);
    signed($("v-real"), s.pnl_realised, 2);
    signed($("v-unreal"), s.pnl_unrealised, 2);
    set("v-fees", fmt(s.fees, 2));
    set("v-sigma", fmtSig(s.sigma));
    set("v-A", fmtSig(s.A));
    set("v-k", fmtSig(s.k));
    set("v-gamma", fmtSig(s.gamma));
    set("v-ktick", fmtSig(s.k_per_tick));
    set("v-fit", (s.intensity_source || "—") +
        (s.intensity_confidence == null ? "" : " · conf " + fmt(s.intensity_confidence, 2)) +
        (s.intensity_fitted_fraction == null ? "" : " · " + fmt(100 * s.intensity_fitted_fraction, 0) + "% fitted"));
    if (s.budget_limit) {
      set("v-budget", s.budget_used + " / " + s.budget_limit);
      const frac = Math.min(1, s.budget_used / s.budget_limit);
      $("v-budget-bar").style.width = (frac * 100).toFixed(1) + "%";
      $("v-budget-bar").classList.toggle("hot", frac > 0.8);
    } else set("v-budget", s.budget_used === null || s.budget_used === undefined ? "—" : String(s.budget_used));
    set("v-fills", String(s.fills_count));
    set("v-reconnects", String(s.reconnects));
    set("v-errcount", String(s.recent_errors.length));
    const tb = $("orders");
    tb.replaceChildren(...s.open_orders.map((o) => {
      const tr = document.createElement("tr");
      for (const [text, cls] of [[o.side, o.side], [fmt(o.price), ""], [fmt(o.amount, 3), ""], [o.status, ""]]) {
        const td = document.createElement("td");
        td.textContent = text;
        if (cls) td.className = cls;
        tr.appendChild(td);
      }
      return tr;
    }));
    set("orders-count", String(s.open_orders.length));
    const ul = $("errors");
    if (s.recent_errors.length === 0) {
      const li = document.createElement("li"); li.className = "muted"; li.textContent = "none";
      ul.replaceChildren(li);
    } else {
      ul.replaceChildren(...s.recent_errors.slice().reverse().map((e) => {
        const li = document.createElement("li");
        if (e.ts_ms) { const t = document.createElement("span"); t.className = "t"; t.textContent = hms(e.ts_ms); li.appendChild(t); }
        li.appendChild(document.createTextNode(e.text));
        return li;
      }));
    }
    renderLimits(s);
    const canResume = s.trading_state === "HALTED" && s.resume && s.resume.available &&
      s.kill && s.kill.requested_ms && !(s.resume.requested_ms > s.kill.requested_ms);
    $("resume").hidden = !canResume;
    if (s.kill && s.kill.requested_ms) {
      const msg = $("kill-msg");
      msg.hidden = false;
      msg.textContent = "Kill switch triggered at " + hms(s.kill.requested_ms) + " UTC" +
        (s.kill.error ? " — FAILED: " + s.kill.error : " — state " + s.trading_state);
      if (s.resume && s.resume.requested_ms > s.kill.requested_ms) {
        msg.textContent += "; resumed at " + hms(s.resume.requested_ms) + " UTC by " + s.resume.source +
          (s.resume.error ? " — FAILED: " + s.resume.error : "");
      }
    }
  }

  function limitBar(barId, textId, value, soft, hard, unit) {
    const limit = hard || soft;
    if (value === null || value === undefined || !limit) { set(textId, "—"); return; }
    set(textId, fmt(value, unit === "contracts" ? 3 : 2) + " / " +
      (soft && hard ? fmt(soft, 3) + " soft, " + fmt(hard, 3) + " hard" : fmt(limit, 2)) + " " + unit);
    const frac = Math.min(1, Math.abs(value) / limit);
    const bar = $(barId);
    bar.style.width = (frac * 100).toFixed(1) + "%";
    bar.classList.toggle("warn", !!soft && !!hard && Math.abs(value) >= soft);
    bar.classList.toggle("hot", frac >= 0.8);
  }

  function renderLimits(s) {
    const L = s.limits || {};
    limitBar("v-pos-bar", "v-pos-limit", s.position === null ? null : Math.abs(s.position),
      L.position_soft_limit, L.position_hard_limit, "contracts");
    limitBar("v-loss-bar", "v-loss-limit", s.session_loss, null, L.session_loss_limit, "quote");
    limitBar("v-dd-bar", "v-dd-limit", s.drawdown, null, L.max_drawdown, "quote");
  }

  function ingest(msg) {
    for (const p of msg.points || []) points.push(p);
    for (const f of msg.fills || []) fills.push(f);
    const newest = points.length ? points[points.length - 1][0] : 0;
    while (points.length && points[0][0] < newest - historyMs) points.shift();
    while (fills.length && fills[0][0] < newest - historyMs) fills.shift();
    if (msg.status) render(msg.status);
    scheduleDraw();
  }

  let drawPending = false;
  function scheduleDraw() {
    if (drawPending) return;
    drawPending = true;
    requestAnimationFrame(() => { drawPending = false; drawAll(); });
  }
  window.addEventListener("resize", () => {
    for (const id in charts) charts[id].setSize({ width: Math.max(300, $(id).clientWidth), height: charts[id].height });
  });

  // -- live stream --------------------------------------------------------------------------
  function connect() {
    const es = new EventSource(withToken("api/stream"));
    es.onopen = () => { $("conn").textContent = "live"; $("conn").className = "conn conn-up"; };
    es.onmessage = (ev) => { ingest(JSON.parse(ev.data)); };
    es.onerror = () => {
      $("conn").textContent = "reconnecting"; $("conn").className = "conn conn-down";
      // EventSource retries by itself; the server resends the full history on reconnect.
      points.length = 0; fills.length = 0;
    };
  }

  // -- kill switch (two clicks: arm, then confirm within 5 s) ------------------------------
  let armTimer = null;
  function disarm() {
    clearTimeout(armTimer);
    $("kill").classList.remove("armed");
    $("kill").textContent = "Kill switch";
    $("kill-cancel").hidden = true;
  }
  $("kill").addEventListener("click", async () => {
    const btn = $("kill");
    if (!btn.classList.contains("armed")) {
      btn.classList.add("armed");
      btn.textContent = "Confirm: stop quoting";
      $("kill-cancel").hidden = false;
      armTimer = setTimeout(disarm, 5000);
      return;
    }
    disarm();
    btn.disabled = true;
    const msg = $("kill-msg");
    msg.hidden = false;
    msg.textContent = "Kill switch: sending…";
    try {
      const r = await fetch(withToken("api/kill"), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ confirm: true }),
      });
      const body = await r.json();
      msg.textContent = r.ok ? "Kill switch triggered — waiting for the bot to halt…" :
        "Kill switch FAILED: " + (body.error || (body.kill && body.kill.error) || r.status);
      if (!r.ok) btn.disabled = false;
    } catch (e) {
      msg.textContent = "Kill switch FAILED: " + e;
      btn.disabled = false;
    }
  });
  $("kill-cancel").addEventListener("click", disarm);

  // -- resume after a kill (two clicks, like the kill switch) -------------------------------
  let resumeTimer = null;
  $("resume").addEventListener("click", async () => {
    const btn = $("resume");
    if (!btn.classList.contains("armed")) {
      btn.classList.add("armed");
      btn.textContent = "Confirm: resume quoting";
      resumeTimer = setTimeout(() => { btn.classList.remove("armed"); btn.textContent = "Resume quoting"; }, 5000);
      return;
    }
    clearTimeout(resumeTimer);
    btn.classList.remove("armed");
    btn.textContent = "Resume quoting";
    const msg = $("kill-msg");
    msg.hidden = false;
    msg.textContent = "Resume: sending…";
    try {
      const r = await fetch(withToken("api/resume"), {
        method: "POST", headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ confirm: true }),
      });
      const body = await r.json();
      msg.textContent = r.ok ? "Resume requested — limits re-based at the current PnL; quoting restarts" :
        "Resume FAILED: " + (body.error || (body.resume && body.resume.error) || r.status);
      if (r.ok) $("kill").disabled = false;
    } catch (e) {
      msg.textContent = "Resume FAILED: " + e;
    }
  });

  buildCharts();
  // First paint from /api/status (no empty page until the stream's first message).
  fetch(withToken("api/status")).then((r) => r.json()).then((st) => { if (!last) render(st); })
    .catch(() => {});
  connect();
})();
