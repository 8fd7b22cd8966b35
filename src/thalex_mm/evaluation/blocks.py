"""Evaluation metrics as sums over time blocks, and their block-bootstrap confidence intervals.

The trading window of a session is cut into consecutive blocks of ``block_s`` seconds (the
last one may be shorter). Each block carries **additive sums** (:data:`FIELDS`): its PnL (the
change of mark-to-mid equity across the block, after fees and funding, quote ccy), traded
notional (quote ccy), volume (contracts), fill counts, seconds quoted on both sides, its
length, and per side the sums behind spread captured and markouts. Every metric
(:func:`metrics_from_sums`) is a ratio or a total of such sums, so the point estimate is the
metric of all blocks together and a bootstrap sample is the metric of a resample of blocks.

What is resampled (:func:`bootstrap_metrics`): **blocks of the trading window, with
replacement, within each session** (stratified: every session contributes as many blocks as it
has, so a sample keeps the mix of sessions and instruments). Blocks of tens of seconds keep
the short-range dependence of fills and markouts inside a block; dependence across blocks
(inventory carried over) is ignored, so intervals are, if anything, too narrow for PnL.
Intervals are percentile intervals (2.5 %, 97.5 %) of ``n`` samples from a seeded numpy
``Generator``; a metric undefined in a sample (e.g. no fills drawn) is left out of that
sample; the interval is ``None`` when it is undefined in every sample.

Units: PnL and notional in quote currency; ``*_bps`` are basis points of traded notional
(``1e4 · Σ amount · side · (mid − price) / Σ amount · price``, so sessions with different
instruments combine by notional); markouts and spread captured without ``_bps`` are quote
currency per contract (amount-weighted), as in ``summary.json``. A markout at horizon *h* uses
the last mid at or before fill time + *h* and only fills whose horizon ends within the data.
Spread captured uses the last mid at or before the fill.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from thalex_mm.reports import DEFAULT_MARKOUT_HORIZONS_S, RunRecord, equity_at, markout_key

__all__ = [
    "FIELDS",
    "METRIC_UNITS",
    "SIDES",
    "block_sums",
    "bootstrap_metrics",
    "metric_names",
    "metrics_from_sums",
    "units_of",
]

_NS = 1_000_000_000
SIDES: tuple[tuple[str, int], ...] = (("", 0), ("_buy", 1), ("_sell", -1))
"""Side suffixes of per-side metrics: "" both sides, "_buy" our buys, "_sell" our sells."""


def _fields(horizons_s: Sequence[float]) -> tuple[str, ...]:
    out = ["pnl", "notional", "volume", "fills", "fills_buy", "fills_sell", "quoted_s",
           "duration_s"]
    for sfx, _ in SIDES:
        out += [f"amt{sfx}", f"not{sfx}", f"spread{sfx}"]
        for h in horizons_s:
            out += [f"mk{h:g}{sfx}", f"mkamt{h:g}{sfx}", f"mknot{h:g}{sfx}"]
    return tuple(out)


FIELDS: tuple[str, ...] = _fields(DEFAULT_MARKOUT_HORIZONS_S)
"""Column names of :func:`block_sums` (default horizons)."""


def metric_names(horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S) -> list[str]:
    """Names of the metrics :func:`metrics_from_sums` returns, in display order."""
    names = ["pnl", "pnl_bps", "fills", "fills_buy", "fills_sell", "volume",
             "notional_volume", "quote_uptime"]
    for sfx, _ in SIDES:
        names += [f"spread_captured{sfx}_bps", f"spread_captured{sfx}"]
    for h in horizons_s:
        for sfx, _ in SIDES:
            names += [f"{markout_key(h)}{sfx}_bps", f"{markout_key(h)}{sfx}"]
    return names


METRIC_UNITS: dict[str, str] = {
    "pnl": "quote", "pnl_bps": "bps of notional", "fills": "", "fills_buy": "",
    "fills_sell": "", "volume": "contracts", "notional_volume": "quote",
    "quote_uptime": "fraction", "max_abs_position": "contracts",
}  # fmt: skip


def _unit(name: str) -> str:
    if name in METRIC_UNITS:
        return METRIC_UNITS[name]
    return "bps of notional" if name.endswith("_bps") else "quote / contract"


def _mid_at(record: RunRecord, ts_ns: np.ndarray, *, within: bool
            ) -> tuple[np.ndarray, np.ndarray]:
    """Last mid at or before each of ``ts_ns`` and whether there is one (``within``: and the
    instant is not after the last mid: a markout horizon must end inside the data)."""
    mts = record.mid_ts_ns
    if not len(mts):
        return np.full(len(ts_ns), np.nan), np.zeros(len(ts_ns), dtype=bool)
    idx = np.searchsorted(mts, ts_ns, side="right") - 1
    ok = (idx >= 0) & (ts_ns <= mts[-1]) if within else idx >= 0
    return record.mid_price[np.clip(idx, 0, len(mts) - 1)], ok


def _quoted_until(record: RunRecord, bounds: np.ndarray) -> np.ndarray:
    """Seconds with both sides quoted from the window start up to each of ``bounds``."""
    start, end = record.window_ns
    q = record.quote_ts_ns
    if not len(q):
        return np.zeros(len(bounds))
    seg0 = np.clip(q, start, end)
    seg1 = np.clip(np.append(q[1:], end), start, end)
    both = (np.isfinite(record.quote_bid) & np.isfinite(record.quote_ask)).astype(np.float64)
    cum = np.concatenate(([0.0], np.cumsum(both * (seg1 - seg0))))
    i = np.searchsorted(seg0, bounds, side="right") - 1
    ic = np.clip(i, 0, len(q) - 1)
    part = both[ic] * np.clip(bounds - seg0[ic], 0, seg1[ic] - seg0[ic])
    return np.where(i >= 0, cum[ic] + part, 0.0) / _NS


def block_sums(record: RunRecord, block_s: float,
               horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S) -> np.ndarray:
    """Per-block sums of the record's window, shape ``(blocks, len(FIELDS))``.

    Args:
        record: one session's trading window (``start_ts_ns``/``end_ts_ns`` set).
        block_s: block length, s (> 0).
        horizons_s: markout horizons, s.

    Raises:
        ValueError: ``block_s`` not > 0.
    """
    if not block_s > 0:
        raise ValueError(f"block_s: got {block_s!r}, expected a number > 0")
    fields = _fields(horizons_s)
    col = {f: i for i, f in enumerate(fields)}
    start, end = record.window_ns
    step = max(1, round(block_s * _NS))
    n = max(1, -(-(end - start) // step))
    bounds = np.minimum(start + step * np.arange(n + 1, dtype=np.int64), end)
    bounds[-1] = end
    out = np.zeros((n, len(fields)))
    out[:, col["pnl"]] = np.diff(equity_at(record, bounds))
    out[:, col["duration_s"]] = np.diff(bounds) / _NS
    out[:, col["quoted_s"]] = np.diff(_quoted_until(record, bounds))
    ts = record.fill_ts_ns
    if not len(ts):
        return out
    blk = np.clip(np.searchsorted(bounds, ts, side="right") - 1, 0, n - 1)
    side = record.fill_side.astype(np.float64)
    amt, px = record.fill_amount, record.fill_price

    def add(name: str, values: np.ndarray, mask: np.ndarray | None = None) -> None:
        sel = slice(None) if mask is None else mask
        out[:, col[name]] += np.bincount(blk[sel], weights=values[sel], minlength=n)

    ones = np.ones(len(ts))
    add("fills", ones)
    add("fills_buy", ones, side > 0)
    add("fills_sell", ones, side < 0)
    add("volume", amt)
    add("notional", amt * px)
    mid0, ok0 = _mid_at(record, ts, within=False)
    for sfx, s in SIDES:
        on = np.ones(len(ts), dtype=bool) if s == 0 else side == s
        add(f"amt{sfx}", amt, on)
        add(f"not{sfx}", amt * px, on)
        add(f"spread{sfx}", np.where(ok0, amt * side * (mid0 - px), 0.0), on & ok0)
        for h in horizons_s:
            mid_h, ok = _mid_at(record, ts + round(h * _NS), within=True)
            m = on & ok
            add(f"mk{h:g}{sfx}", np.where(ok, amt * side * (mid_h - px), 0.0), m)
            add(f"mkamt{h:g}{sfx}", amt, m)
            add(f"mknot{h:g}{sfx}", amt * px, m)
    return out


def _ratio(num: np.ndarray, den: np.ndarray, scale: float = 1.0) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, scale * num / np.where(den > 0, den, 1.0), np.nan)


def metrics_from_sums(sums: np.ndarray,
                      horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S
                      ) -> dict[str, np.ndarray]:
    """The metrics of summed blocks.

    Args:
        sums: shape ``(..., len(FIELDS))``: one row of sums per sample.

    Returns:
        ``{name: array of shape (...)}`` (NaN where undefined), names as in
        :func:`metric_names`.
    """
    col = {f: i for i, f in enumerate(_fields(horizons_s))}

    def g(name: str) -> np.ndarray:
        return sums[..., col[name]]

    m: dict[str, np.ndarray] = {
        "pnl": g("pnl"),
        "pnl_bps": _ratio(g("pnl"), g("notional"), 1e4),
        "fills": g("fills"), "fills_buy": g("fills_buy"), "fills_sell": g("fills_sell"),
        "volume": g("volume"), "notional_volume": g("notional"),
        "quote_uptime": _ratio(g("quoted_s"), g("duration_s")),
    }
    for sfx, _ in SIDES:
        m[f"spread_captured{sfx}_bps"] = _ratio(g(f"spread{sfx}"), g(f"not{sfx}"), 1e4)
        m[f"spread_captured{sfx}"] = _ratio(g(f"spread{sfx}"), g(f"amt{sfx}"))
    for h in horizons_s:
        for sfx, _ in SIDES:
            num = g(f"mk{h:g}{sfx}")
            m[f"{markout_key(h)}{sfx}_bps"] = _ratio(num, g(f"mknot{h:g}{sfx}"), 1e4)
            m[f"{markout_key(h)}{sfx}"] = _ratio(num, g(f"mkamt{h:g}{sfx}"))
    return {k: m[k] for k in metric_names(horizons_s)}


def _plain(x: float) -> float | int | None:
    x = float(x)
    if not math.isfinite(x):
        return None
    return int(x) if x.is_integer() and abs(x) < 2**53 else x


def bootstrap_metrics(
    strata: Sequence[np.ndarray],
    *,
    samples: int,
    rng: np.random.Generator,
    horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S,
    level: float = 0.95,
) -> tuple[dict[str, Any], dict[str, list[Any] | None]]:
    """Point estimates and block-bootstrap intervals of the metrics of several sessions.

    Args:
        strata: one :func:`block_sums` array per session (blocks are resampled within each).
        samples: bootstrap samples (0: no intervals).
        rng: the seeded generator (draws in a fixed order: reproducible).
        level: coverage of the percentile interval.

    Returns:
        ``(metrics, ci)``: ``{name: value or None}`` and ``{name: [low, high] or None}``.
    """
    total = sum(s.sum(axis=0) for s in strata)
    point = {k: _plain(v) for k, v in metrics_from_sums(np.asarray(total), horizons_s).items()}
    ci: dict[str, list[Any] | None] = dict.fromkeys(point)
    if samples <= 0 or not strata:
        return point, ci
    acc = np.zeros((samples, strata[0].shape[1]))
    rows = np.arange(samples)[:, None]
    for s in strata:
        idx = rng.integers(0, s.shape[0], size=(samples, s.shape[0]))
        counts = np.zeros((samples, s.shape[0]))  # how often each block was drawn
        np.add.at(counts, (rows, idx), 1.0)
        acc += counts @ s  # memory samples × blocks, not samples × blocks × fields
    lo_q, hi_q = 50 * (1 - level), 50 * (1 + level)
    for name, vals in metrics_from_sums(acc, horizons_s).items():
        finite = vals[np.isfinite(vals)]
        if finite.size:
            ci[name] = [_plain(np.percentile(finite, lo_q)), _plain(np.percentile(finite, hi_q))]
    return point, ci


def units_of(names: Mapping[str, Any] | Sequence[str]) -> dict[str, str]:
    """``{metric: unit}`` for the report."""
    return {n: _unit(n) for n in names}
