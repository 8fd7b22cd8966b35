// thalex-mm live dashboard: plain JS, no dependencies, no network access beyond this server.
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

  // -- charts -----------------------------------------------------------------------------
  const css = getComputedStyle(document.documentElement);
  const color = (name) => css.getPropertyValue(name).trim();

  function niceTicks(lo, hi, n) {
    if (!(hi > lo)) return [lo];
    const raw = (hi - lo) / n;
    const mag = Math.pow(10, Math.floor(Math.log10(raw)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => s >= raw) || raw;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(v);
    return out;
  }

  function drawChart(canvas, series, opts) {
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    if (canvas.width !== Math.round(w * dpr) || canvas.height !== Math.round(h * dpr)) {
      canvas.width = Math.round(w * dpr);
      canvas.height = Math.round(h * dpr);
    }
    const g = canvas.getContext("2d");
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    g.clearRect(0, 0, w, h);
    const L = 70, R = 12, T = 8, B = 22;
    const pw = w - L - R, ph = h - T - B;
    let n = 0, ylo = Infinity, yhi = -Infinity, xlo = Infinity, xhi = -Infinity;
    for (const s of series) {
      for (const p of s.data) {
        if (p[1] === null || !isFinite(p[1])) continue;
        n++;
        if (p[1] < ylo) ylo = p[1];
        if (p[1] > yhi) yhi = p[1];
        if (p[0] < xlo) xlo = p[0];
        if (p[0] > xhi) xhi = p[0];
      }
    }
    canvas.dataset.points = String(n);
    g.font = "11px system-ui, sans-serif";
    if (n === 0) {
      g.fillStyle = color("--muted");
      g.textAlign = "center";
      g.fillText("waiting for data…", w / 2, h / 2);
      return;
    }
    if (opts.zero) { ylo = Math.min(ylo, 0); yhi = Math.max(yhi, 0); }
    if (yhi - ylo < 1e-12) { const c = ylo; ylo = c - (Math.abs(c) * 1e-4 || 1); yhi = c + (Math.abs(c) * 1e-4 || 1); }
    const pad = (yhi - ylo) * 0.08; ylo -= pad; yhi += pad;
    if (xhi - xlo < 1000) xlo = xhi - 1000;
    const X = (t) => L + ((t - xlo) / (xhi - xlo)) * pw;
    const Y = (v) => T + (1 - (v - ylo) / (yhi - ylo)) * ph;
    // grid + labels
    g.strokeStyle = color("--line");
    g.fillStyle = color("--muted");
    g.lineWidth = 1;
    g.textAlign = "right";
    g.textBaseline = "middle";
    const yt = niceTicks(ylo, yhi, Math.max(2, Math.floor(ph / 45)));
    const ystep = yt.length > 1 ? yt[1] - yt[0] : 1;
    let ydig = 0;
    while (ydig < 6 && Math.abs(Math.round(ystep * 10 ** ydig) - ystep * 10 ** ydig) > 1e-6) ydig++;
    for (const v of yt) {
      const y = Math.round(Y(v)) + 0.5;
      g.beginPath(); g.moveTo(L, y); g.lineTo(L + pw, y); g.stroke();
      g.fillText(fmt(Math.abs(v) < ystep * 1e-6 ? 0 : v, Math.min(ydig, 6)), L - 6, y);
    }
    g.textAlign = "center";
    g.textBaseline = "top";
    const want = (xhi - xlo) / 1000 / Math.max(2, Math.floor(pw / 110));
    const xstep = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600].find((v) => v >= want) || 7200;
    for (let s = Math.ceil(xlo / 1000 / xstep) * xstep; s * 1000 <= xhi; s += xstep) {
      const x = Math.round(X(s * 1000)) + 0.5;
      g.beginPath(); g.moveTo(x, T); g.lineTo(x, T + ph); g.stroke();
      g.fillText(hms(s * 1000), x, T + ph + 5);
    }
    if (opts.zero && ylo < 0 && yhi > 0) {
      g.strokeStyle = color("--muted");
      g.beginPath(); g.moveTo(L, Y(0)); g.lineTo(L + pw, Y(0)); g.stroke();
    }
    g.save();
    g.beginPath(); g.rect(L, T, pw, ph); g.clip();
    for (const s of series) {
      g.strokeStyle = s.color;
      g.lineWidth = s.width || 1.5;
      g.setLineDash(s.dash || []);
      g.beginPath();
      let pen = false, prev = null;
      for (const p of s.data) {
        if (p[1] === null || !isFinite(p[1])) { pen = false; prev = null; continue; }
        const x = X(p[0]), y = Y(p[1]);
        if (!pen) { g.moveTo(x, y); pen = true; }
        else if (s.step && prev !== null) { g.lineTo(x, prev); g.lineTo(x, y); }
        else g.lineTo(x, y);
        prev = y;
      }
      g.stroke();
    }
    g.setLineDash([]);
    for (const f of opts.fills || []) {
      if (f[0] < xlo) continue;
      const x = X(f[0]), y = Y(f[2]), buy = f[1] === "buy", r = 5;
      g.fillStyle = buy ? color("--buy") : color("--sell");
      g.strokeStyle = "#0f1419";
      g.beginPath();
      if (buy) { g.moveTo(x, y - r); g.lineTo(x - r, y + r); g.lineTo(x + r, y + r); }
      else { g.moveTo(x, y + r); g.lineTo(x - r, y - r); g.lineTo(x + r, y - r); }
      g.closePath(); g.fill(); g.stroke();
    }
    g.restore();
  }

  function col(i) { return points.map((p) => [p[0], p[i]]); }

  function drawAll() {
    drawChart($("chart-price"), [
      { data: col(1), color: color("--mid"), width: 1.5 },
      { data: col(2), color: color("--fair"), width: 1.2, dash: [5, 3] },
      { data: col(3), color: color("--res"), width: 1.2, dash: [2, 2] },
      { data: col(4), color: color("--buy"), width: 1.2, step: true },
      { data: col(5), color: color("--sell"), width: 1.2, step: true },
    ], { fills: fills });
    drawChart($("chart-position"), [{ data: col(6), color: color("--fair"), width: 1.6, step: true }], { zero: true });
    drawChart($("chart-pnl"), [{ data: col(7), color: color("--buy"), width: 1.6 }], { zero: true });
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
    if (s.kill && s.kill.requested_ms) {
      const msg = $("kill-msg");
      msg.hidden = false;
      msg.textContent = "Kill switch triggered at " + hms(s.kill.requested_ms) + " UTC" +
        (s.kill.error ? " — FAILED: " + s.kill.error : " — state " + s.trading_state);
    }
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
  window.addEventListener("resize", scheduleDraw);

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

  drawAll();
  connect();
})();
