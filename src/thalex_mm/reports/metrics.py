"""Run metrics: pure, vectorised functions of a :class:`~thalex_mm.reports.inputs.RunRecord`.

Conventions (all amounts in quote currency unless named otherwise):

- **Marks.** The mark at time ``t`` is the last mid at or before ``t`` (the first mid before
  any mid was seen). A run with no mid samples is marked at its fill prices instead.
- **Equity** at ``t`` = cash(t) + funding(t) + position(t) · mark(t), where cash starts at
  ``-initial_position · initial_price`` and each fill adds ``-side · amount · price - fee``.
  A fill or funding payment at exactly ``t`` counts at ``t``.
- **PnL.** ``pnl_realised`` uses average cost (closing trades realise
  ``closed · (price - avg_cost) · sign(position)``); ``pnl_unrealised`` =
  ``position · (last mark - avg_cost)``; ``pnl_total = pnl_realised + pnl_unrealised - fees +
  funding``, which equals the final equity. ``fees`` is positive for a cost (a maker rebate is
  a negative fee); ``funding`` is positive when received.
- **Window.** Totals (fills, volume, PnL, fees, funding) use everything recorded. Time-based
  figures (``seconds_simulated``, uptime, time-weighted position, Sharpe) use the window
  ``[start_ts_ns, end_ts_ns]`` of the record.
- **Sharpe** (per interval, *not* annualised): equity is sampled every ``sharpe_grid_s``
  seconds across the window and the Sharpe is ``mean / std(ddof=1)`` of the per-interval
  equity changes (quote ccy; a constant capital base would turn them into returns without
  changing the ratio). The interval **adapts to the run's length**
  (:func:`adaptive_sharpe_interval_s`): the smallest of 1, 2, 5, 10, 15, 30 s, 1, 2, 5, 10,
  15, 30 min, 1 h … that gives at most ``SHARPE_TARGET_INTERVALS`` (100) intervals — a 60 s
  paper session is judged per second, a 45-minute one per 30 s, a day per 15 minutes. It is
  ``None`` unless the window holds at least ``MIN_SHARPE_INTERVALS`` (30) whole intervals
  (runs shorter than 30 s), and with zero variance. Because the interval differs between
  runs, compare Sharpes only at the same ``sharpe_grid_s`` (reported with it); pass a fixed
  ``sharpe_grid_s`` (e.g. ``SHARPE_INTERVAL_S`` = 60 s) to compare runs of different lengths.
  When the window would give more than ``MAX_SHARPE_SAMPLES`` steps the grid is widened.
- **Markout** at horizon ``h``: per fill ``side · (mid(t + h) - price)`` (quote ccy per
  contract; positive = the fill was good for us), averaged weighted by amount over the fills
  whose ``t + h`` is within the mid data (not after the last mid). ``None`` when no fill
  qualifies.
- **Quote uptime**: fraction of the window with both sides quoted (and per side); a quote
  sample holds until the next one; before the first sample nothing is quoted.

Every number returned is a plain ``int``/``float`` or ``None`` (never NaN).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from thalex_mm.reports.inputs import RunRecord

__all__ = [
    "DEFAULT_MARKOUT_HORIZONS_S",
    "MAX_SHARPE_SAMPLES",
    "MIN_SHARPE_INTERVALS",
    "SECONDS_PER_YEAR",
    "SHARPE_INTERVAL_S",
    "SHARPE_TARGET_INTERVALS",
    "adaptive_sharpe_interval_s",
    "average_cost_pnl",
    "compute_summary",
    "drawdown_curve",
    "equity_at",
    "equity_curve",
    "fill_markouts",
    "markout_key",
    "markouts",
    "markouts_by_side",
    "max_drawdown",
    "position_at",
    "positions_after_fills",
    "quote_uptime",
    "sharpe_ratio",
    "spread_captured",
    "time_weighted_abs_position",
]

SECONDS_PER_YEAR = 365 * 86_400
MAX_SHARPE_SAMPLES = 5_000_000
#: Sharpe sampling interval, s (per-interval Sharpe, not annualised).
SHARPE_INTERVAL_S = 60.0
#: Fewer whole intervals than this in the window: ``sharpe`` is None.
MIN_SHARPE_INTERVALS = 30
#: The adaptive interval aims at no more than this many intervals per run.
SHARPE_TARGET_INTERVALS = 100
_NICE_INTERVALS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14_400,
                     21_600, 43_200, 86_400)
DEFAULT_MARKOUT_HORIZONS_S: tuple[float, ...] = (1.0, 10.0, 60.0)
_NS = 1_000_000_000


def _num(x: float | None) -> float | None:
    """A plain float, or None for None/NaN/inf."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else None


def markout_key(horizon_s: float) -> str:
    """Summary key of a markout horizon: ``1.0 -> "markout_1s"``, ``0.5 -> "markout_0.5s"``."""
    return f"markout_{horizon_s:g}s"


def _marks(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """The mark series ``(ts_ns, price)``: mids, or fill prices when there are no mids."""
    if len(record.mid_ts_ns):
        return record.mid_ts_ns, record.mid_price
    return record.fill_ts_ns, record.fill_price


def _entry_price(record: RunRecord) -> float:
    if math.isfinite(record.initial_price):
        return float(record.initial_price)
    _, px = _marks(record)
    return float(px[0]) if len(px) else 0.0


def _mark_at(record: RunRecord, ts_ns: np.ndarray) -> np.ndarray:
    mts, mpx = _marks(record)
    if not len(mts):
        return np.zeros(len(ts_ns), dtype=np.float64)
    idx = np.searchsorted(mts, ts_ns, side="right") - 1
    return mpx[np.clip(idx, 0, len(mpx) - 1)]


def _cum_at(event_ts: np.ndarray, cum: np.ndarray, ts_ns: np.ndarray, base: float) -> np.ndarray:
    """Value of a step series (``base`` then ``cum[i]`` from ``event_ts[i]`` on) at ``ts_ns``."""
    if not len(event_ts):
        return np.full(len(ts_ns), base, dtype=np.float64)
    idx = np.searchsorted(event_ts, ts_ns, side="right")
    padded = np.concatenate(([base], cum))
    return padded[idx]


def position_at(record: RunRecord, ts_ns: np.ndarray) -> np.ndarray:
    """Position (contracts) at each of ``ts_ns`` (fills at exactly ``t`` included)."""
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    signed = record.fill_side * record.fill_amount
    cum = record.initial_position + np.cumsum(signed)
    return _cum_at(record.fill_ts_ns, cum, ts_ns, record.initial_position)


def equity_at(record: RunRecord, ts_ns: np.ndarray) -> np.ndarray:
    """Mark-to-market equity (quote ccy) at each of ``ts_ns``; see the module conventions."""
    ts_ns = np.asarray(ts_ns, dtype=np.int64)
    cash0 = -record.initial_position * _entry_price(record)
    flows = -(record.fill_side * record.fill_amount * record.fill_price) - record.fill_fee_quote
    cash = _cum_at(record.fill_ts_ns, cash0 + np.cumsum(flows), ts_ns, cash0)
    funding = _cum_at(record.funding_ts_ns, np.cumsum(record.funding_quote), ts_ns, 0.0)
    return cash + funding + position_at(record, ts_ns) * _mark_at(record, ts_ns)


def equity_curve(record: RunRecord) -> tuple[np.ndarray, np.ndarray]:
    """Equity (quote ccy) at every instant it can change inside the window.

    Returns:
        ``(ts_ns, equity)``: the window start and end plus every mid, fill and funding time
        within the window, sorted (duplicates kept).
    """
    start, end = record.window_ns
    parts = [np.array([start], dtype=np.int64)]
    for arr in (record.mid_ts_ns, record.fill_ts_ns, record.funding_ts_ns):
        lo = int(np.searchsorted(arr, start, side="left"))
        hi = int(np.searchsorted(arr, end, side="right"))
        parts.append(arr[lo:hi])
    parts.append(np.array([end], dtype=np.int64))
    ts = np.sort(np.concatenate(parts), kind="stable")
    return ts, equity_at(record, ts)


def max_drawdown(equity: np.ndarray) -> float:
    """Largest fall from a running peak (same unit as ``equity``; >= 0; 0 when empty)."""
    equity = np.asarray(equity, dtype=np.float64)
    if not len(equity):
        return 0.0
    return float(np.max(np.maximum.accumulate(equity) - equity))


def sharpe_ratio(
    record: RunRecord,
    grid_s: float = SHARPE_INTERVAL_S,
    min_intervals: int = MIN_SHARPE_INTERVALS,
) -> tuple[float | None, float]:
    """Per-interval Sharpe (not annualised) of equity changes on a fixed time grid.

    Args:
        record: the run.
        grid_s: sampling interval (s), > 0; widened so the window has at most
            ``MAX_SHARPE_SAMPLES`` steps.
        min_intervals: fewer whole intervals in the window than this (and always fewer
            than 2) gives ``None``.

    Returns:
        ``(mean / std(ddof=1) of the per-interval equity changes, or None; grid_s used)``.
    """
    if not grid_s > 0:
        raise ValueError(f"sharpe grid_s: got {grid_s!r}, expected a number > 0")
    start, end = record.window_ns
    duration_s = (end - start) / _NS
    grid_s = max(float(grid_s), duration_s / MAX_SHARPE_SAMPLES)
    step_ns = max(1, round(grid_s * _NS))
    n_steps = (end - start) // step_ns
    if n_steps < max(2, min_intervals):
        return None, grid_s
    grid = start + step_ns * np.arange(n_steps + 1, dtype=np.int64)
    changes = np.diff(equity_at(record, grid))
    std = float(np.std(changes, ddof=1))
    if not std > 1e-12 * max(1.0, float(np.max(np.abs(changes)))):
        return None, grid_s
    return float(np.mean(changes)) / std, grid_s


def adaptive_sharpe_interval_s(duration_s: float) -> float:
    """The Sharpe sampling interval for a run of ``duration_s`` seconds (see the module
    conventions): the smallest "nice" interval giving at most ``SHARPE_TARGET_INTERVALS``."""
    raw = max(0.0, float(duration_s)) / SHARPE_TARGET_INTERVALS
    for nice in _NICE_INTERVALS_S:
        if nice >= raw:
            return float(nice)
    return float(math.ceil(raw / 86_400) * 86_400)


def average_cost_pnl(record: RunRecord) -> tuple[float, float, float]:
    """Realised PnL by average cost, excluding fees and funding.

    Returns:
        ``(realised quote ccy, final position contracts, average cost quote ccy)``; the
        average cost is NaN when flat.
    """
    pos = float(record.initial_position)
    avg = _entry_price(record) if pos != 0.0 else math.nan
    realised = 0.0
    for side, price, amount in zip(
        record.fill_side.tolist(),
        record.fill_price.tolist(),
        record.fill_amount.tolist(),
        strict=True,
    ):
        signed = side * amount
        if pos == 0.0 or (pos > 0) == (signed > 0):
            new_pos = pos + signed
            avg = price if pos == 0.0 else (avg * abs(pos) + price * amount) / abs(new_pos)
            pos = new_pos
            continue
        closed = min(amount, abs(pos))
        realised += closed * (price - avg) * (1.0 if pos > 0 else -1.0)
        pos += signed
        if abs(pos) <= 1e-12 * max(1.0, amount):
            pos, avg = 0.0, math.nan
        elif (pos > 0) == (signed > 0):  # crossed through zero: the rest opens at this price
            avg = price
    return realised, pos, avg


def markouts(
    record: RunRecord, horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S
) -> dict[str, float | None]:
    """Amount-weighted mean markout per horizon (quote ccy per contract).

    Returns:
        ``{markout_key(h): value or None}``; see the module conventions.
    """
    per = fill_markouts(record, horizons_s)
    everything = np.ones(len(record.fill_ts_ns), dtype=bool)
    return {markout_key(h): _weighted_mean(per[:, j], record.fill_amount, everything)
            for j, h in enumerate(horizons_s)}


def _weighted_mean(values: np.ndarray, weights: np.ndarray, mask: np.ndarray) -> float | None:
    """Mean of ``values[mask]`` weighted by ``weights`` (NaN values skipped); None if none."""
    ok = mask & np.isfinite(values)
    if not bool(np.any(ok)):
        return None
    return _num(float(np.dot(weights[ok], values[ok]) / np.sum(weights[ok])))


def fill_markouts(
    record: RunRecord, horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S
) -> np.ndarray:
    """Markout of every fill at every horizon, quote ccy per contract (``+`` = good for us).

    Returns:
        ``(n_fills, n_horizons)`` float array; NaN where ``t + h`` is after the last mid or
        before the first.
    """
    n = len(record.fill_ts_ns)
    out = np.full((n, len(horizons_s)), np.nan)
    mts, mpx = record.mid_ts_ns, record.mid_price
    if not n or not len(mts):
        return out
    for j, h in enumerate(horizons_s):
        target = record.fill_ts_ns + round(h * _NS)
        idx = np.searchsorted(mts, target, side="right") - 1
        ok = (target <= mts[-1]) & (idx >= 0)
        out[ok, j] = record.fill_side[ok] * (mpx[idx[ok]] - record.fill_price[ok])
    return out


def positions_after_fills(record: RunRecord) -> np.ndarray:
    """Position after each fill, contracts: the exchange's figure where the record has one,
    else the running sum from ``initial_position``."""
    running = record.initial_position + np.cumsum(record.fill_side * record.fill_amount)
    known = record.fill_position_after
    if len(known) == len(running):
        return np.where(np.isfinite(known), known, running)
    return running


def spread_captured(record: RunRecord) -> tuple[float | None, float | None]:
    """Edge at the fill: amount-weighted ``side · (mid at fill − price)``.

    Returns:
        ``(quote ccy per contract, bps of the fill price)``; None without fills or mids.
    """
    mts, mpx = record.mid_ts_ns, record.mid_price
    if not len(record.fill_ts_ns) or not len(mts):
        return None, None
    idx = np.searchsorted(mts, record.fill_ts_ns, side="right") - 1
    ok = idx >= 0
    if not bool(np.any(ok)):
        return None, None
    amt = record.fill_amount[ok]
    edge = record.fill_side[ok] * (mpx[idx[ok]] - record.fill_price[ok])
    per = float(np.dot(amt, edge) / np.sum(amt))
    bps = float(np.dot(amt, edge / record.fill_price[ok] * 1e4) / np.sum(amt))
    return _num(per), _num(bps)


def markouts_by_side(
    record: RunRecord, horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S
) -> dict[str, dict[str, float | None]]:
    """``{"buy": {markout_key(h): …}, "sell": {…}}``: amount-weighted markouts of our buys
    and of our sells separately (quote ccy per contract; None when no fill qualifies)."""
    per = fill_markouts(record, horizons_s)
    return {
        name: {markout_key(h): _weighted_mean(per[:, j], record.fill_amount, record.fill_side == sign)
               for j, h in enumerate(horizons_s)}
        for name, sign in (("buy", 1), ("sell", -1))
    }


def drawdown_curve(equity: np.ndarray) -> np.ndarray:
    """Drawdown at every point: equity minus its running peak (<= 0, same unit)."""
    equity = np.asarray(equity, dtype=np.float64)
    if not len(equity):
        return equity
    return equity - np.maximum.accumulate(equity)


def quote_uptime(record: RunRecord) -> tuple[float | None, float | None, float | None]:
    """Fractions of the window with (both sides, the bid, the ask) quoted; None if empty window."""
    start, end = record.window_ns
    if end <= start:
        return None, None, None
    if not len(record.quote_ts_ns):
        return 0.0, 0.0, 0.0
    bounds = np.clip(np.append(record.quote_ts_ns, end), start, end)
    dt = np.diff(bounds).astype(np.float64)
    has_bid = np.isfinite(record.quote_bid)
    has_ask = np.isfinite(record.quote_ask)
    total = float(end - start)
    return (
        float(np.sum(dt[has_bid & has_ask])) / total,
        float(np.sum(dt[has_bid])) / total,
        float(np.sum(dt[has_ask])) / total,
    )


def time_weighted_abs_position(record: RunRecord) -> float | None:
    """Time average of |position| over the window (contracts); None if the window is empty."""
    start, end = record.window_ns
    if end <= start:
        return None
    bounds = np.clip(np.concatenate(([start], record.fill_ts_ns, [end])), start, end)
    dt = np.diff(bounds).astype(np.float64)
    cum = record.initial_position + np.cumsum(record.fill_side * record.fill_amount)
    pos = np.concatenate(([record.initial_position], cum))
    return float(np.dot(np.abs(pos), dt)) / float(end - start)


def compute_summary(
    record: RunRecord,
    *,
    markout_horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S,
    sharpe_grid_s: float | None = None,
) -> dict[str, Any]:
    """All summary figures of a run as a JSON-ready dict (NaN -> None).

    Args:
        record: the run.
        markout_horizons_s: markout horizons (s); keys ``markout_<h>s``.
        sharpe_grid_s: equity sampling interval for the per-interval Sharpe (s); None =
            :func:`adaptive_sharpe_interval_s` of the window's length.

    Returns:
        Keys: ``events``, ``seconds_simulated``, ``wall_seconds``, ``events_per_second``,
        ``fills``, ``fills_buy``, ``fills_sell``, ``fills_maker``, ``volume`` (contracts),
        ``notional_volume`` (quote ccy), ``pnl_total``, ``pnl_realised``, ``pnl_unrealised``,
        ``fees``, ``funding``, ``max_drawdown``, ``sharpe``, ``sharpe_grid_s``,
        ``final_position``, ``max_abs_position``, ``time_weighted_abs_position``,
        ``quote_uptime``, ``quote_uptime_bid``, ``quote_uptime_ask``, the markouts,
        ``requotes``, ``rejects`` (None when not counted), ``counters``, ``instrument``,
        ``start_ts_ns``, ``end_ts_ns``.
    """
    start, end = record.window_ns
    realised, final_pos, avg = average_cost_pnl(record)
    _, mpx = _marks(record)
    last_mark = float(mpx[-1]) if len(mpx) else math.nan
    unrealised = final_pos * (last_mark - avg) if final_pos != 0.0 else 0.0
    fees = float(np.sum(record.fill_fee_quote))
    funding = float(np.sum(record.funding_quote))
    _, eq = equity_curve(record)
    if sharpe_grid_s is None:
        sharpe_grid_s = adaptive_sharpe_interval_s((end - start) / _NS)
    sharpe, grid_used = sharpe_ratio(record, sharpe_grid_s)
    captured, captured_bps = spread_captured(record)
    both, bid_up, ask_up = quote_uptime(record)
    if len(record.fill_amount):
        cum = record.initial_position + np.cumsum(record.fill_side * record.fill_amount)
        max_abs_pos = max(abs(record.initial_position), float(np.max(np.abs(cum))))
    else:
        max_abs_pos = abs(record.initial_position)
    wall = float(record.wall_seconds)
    summary: dict[str, Any] = {
        "instrument": record.instrument,
        "start_ts_ns": int(start),
        "end_ts_ns": int(end),
        "events": int(record.events),
        "seconds_simulated": (end - start) / _NS,
        "wall_seconds": _num(wall),
        "events_per_second": _num(record.events / wall) if wall > 0 else None,
        "fills": len(record.fill_ts_ns),
        "fills_buy": int(np.sum(record.fill_side > 0)),
        "fills_sell": int(np.sum(record.fill_side < 0)),
        "fills_maker": int(np.sum(record.fill_is_maker)),
        "volume": float(np.sum(record.fill_amount)),
        "notional_volume": float(np.dot(record.fill_amount, record.fill_price)),
        "pnl_realised": _num(realised),
        "pnl_unrealised": _num(unrealised),
        "pnl_total": _num(realised + unrealised - fees + funding),
        "fees": fees,
        "funding": funding,
        "max_drawdown": _num(max_drawdown(eq)),
        "sharpe": _num(sharpe),
        "sharpe_grid_s": grid_used,
        "final_position": final_pos,
        "max_abs_position": max_abs_pos,
        "time_weighted_abs_position": time_weighted_abs_position(record),
        "quote_uptime": both,
        "quote_uptime_bid": bid_up,
        "quote_uptime_ask": ask_up,
        "requotes": record.requotes,
        "rejects": record.rejects,
        "counters": {str(k): int(v) for k, v in sorted(record.counters.items())},
        "spread_captured": captured,
        "spread_captured_bps": captured_bps,
        "markouts_by_side": markouts_by_side(record, markout_horizons_s),
    }
    notional = summary["notional_volume"]
    total = summary["pnl_total"]
    summary["pnl_bps_of_notional"] = (_num(total / notional * 1e4)
                                      if total is not None and notional > 0 else None)
    summary.update(markouts(record, markout_horizons_s))
    return summary
