"""``run_backtest``: data sources → sessions → runs → report (one entry for CLI and sweeps).

One session (one continuous capture, or one synthetic run) gives one :class:`RunRecord` and
its report. Several sessions (e.g. the two shared Binance captures, 15 months apart) each run
with a fresh core and engine; each gets its own report under ``<out>/<session label>/`` and
the top-level ``summary.json`` aggregates them:

* sums: ``events``, ``seconds_simulated``, ``wall_seconds``, ``fills``, ``volume``, PnL parts,
  ``fees``, ``funding``, ``requotes``, ``rejects``; ``events_per_second`` = events / wall;
* maxima: ``max_drawdown`` (the worst session), ``max_abs_position``;
* time-weighted means (by ``seconds_simulated``): ``sharpe``, ``time_weighted_abs_position``,
  ``quote_uptime``; fill-weighted means: the markouts. ``sharpe`` is the *per-interval*
  Sharpe of each session (``sharpe_grid_s``, default 60 s; not annualised; null for a session
  shorter than ``reports.MIN_SHARPE_INTERVALS`` intervals, and such sessions are left out of
  the mean — null when all are).

Every ``summary.json`` (per session and aggregate) carries a ``settings`` block
(:func:`settings_block`): how the world was simulated (latencies, batch length, queue model,
fees, funding, tick size, seed, data file names), so two reports can be told apart and
reproduced. The top-level ``report.html`` of a multi-session run
(:func:`thalex_mm.reports.render_sessions_html`) links the session reports and plots equity
(cumulative) and inventory over all sessions laid end to end in time order. ``rejects`` counts our commands the matching engine refused. A time window that
selects no market data at all is an error naming ``--from``/``--to`` and the data's range.
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from thalex_mm.backtest.runner import (
    BacktestSettings,
    SessionResult,
    effective_batch_ms,
    run_session,
)
from thalex_mm.backtest.sessions import (
    SYNTHETIC_PREFIX,
    group_sessions,
    load_session,
    window_events,
)
from thalex_mm.config.models import BotConfig
from thalex_mm.progress import Progress
from thalex_mm.reports import (
    HTML_NAME,
    SUMMARY_NAME,
    RunRecorder,
    compute_summary,
    render_sessions_html,
    stable_json,
    write_report,
)

__all__ = [
    "TIMING_KEYS",
    "BacktestOutcome",
    "aggregate_summaries",
    "run_backtest",
    "settings_block",
]

TIMING_KEYS: tuple[str, ...] = ("wall_seconds", "events_per_second")
_SUM = ("events", "seconds_simulated", "wall_seconds", "fills", "fills_buy", "fills_sell",
        "fills_maker", "volume", "notional_volume", "pnl_total", "pnl_realised",
        "pnl_unrealised", "fees", "funding", "requotes", "rejects")
_MAX = ("max_drawdown", "max_abs_position")
_TIME_MEAN = ("sharpe", "time_weighted_abs_position", "quote_uptime", "quote_uptime_bid",
              "quote_uptime_ask")


@dataclass(slots=True, kw_only=True)
class BacktestOutcome:
    """The result of :func:`run_backtest`.

    Attributes:
        summary: the (aggregate) summary, as written to ``summary.json``.
        sessions: ``(label, summary, SessionResult)`` per session.
        out_dir: where the report was written (None when not written).
    """

    summary: dict[str, Any]
    sessions: list[tuple[str, dict[str, Any], SessionResult]] = field(default_factory=list)
    out_dir: Path | None = None


def _weighted(values: list[tuple[float | None, float]]) -> float | None:
    num = den = 0.0
    for v, w in values:
        if v is None or w <= 0 or (isinstance(v, float) and math.isnan(v)):
            continue
        num += v * w
        den += w
    return num / den if den > 0 else None


def aggregate_summaries(summaries: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Combine per-session summaries (see the module docstring for the rules)."""
    if len(summaries) == 1:
        return dict(summaries[0])
    out: dict[str, Any] = {"sessions": len(summaries)}
    for k in _SUM:
        vals = [s.get(k) for s in summaries]
        out[k] = None if all(v is None for v in vals) else sum(v or 0 for v in vals)
    for k in _MAX:
        vals = [s[k] for s in summaries if s.get(k) is not None]
        out[k] = max(vals) if vals else None
    for k in _TIME_MEAN:
        out[k] = _weighted([(s.get(k), s.get("seconds_simulated") or 0.0) for s in summaries])
    for k in sorted({k for s in summaries for k in s if k.startswith("markout_")}):
        out[k] = _weighted([(s.get(k), float(s.get("fills") or 0)) for s in summaries])
    wall = out.get("wall_seconds") or 0.0
    out["events_per_second"] = out["events"] / wall if wall > 0 else None
    out["instrument"] = summaries[0].get("instrument")
    out["start_ts_ns"] = min(s["start_ts_ns"] for s in summaries)
    out["end_ts_ns"] = max(s["end_ts_ns"] for s in summaries)
    out["final_position"] = summaries[-1].get("final_position")
    return out


def _data_name(path: str) -> str:
    return path if path.startswith(SYNTHETIC_PREFIX) else Path(path).name


def settings_block(
    config: BotConfig,
    settings: BacktestSettings,
    data: Sequence[str],
    *,
    tick_size: float | list[float] | None = None,
) -> dict[str, Any]:
    """How the world was simulated, for the ``settings`` key of ``summary.json``.

    Everything needed (with the ``config`` snapshot and the data) to reproduce the run, and
    to tell two reports apart: latencies (ms), jitter, feed latency (``null`` = from the
    recorded timestamps, plus ``feed_base_latency_ms``), the market-data batch length
    actually used (ms), queue model, the fee rates actually charged (fractions of notional),
    funding (``funding_source`` ``"fixed"`` with ``funding_rate_24h``, or ``"data"``:
    recorded rates per ``funding_interval_h``), tick size (quote currency; the inferred one
    when not configured; a list when sessions differ), seed and the data file names
    (base names; synthetic specs as given).
    """
    av = config.avellaneda
    return {
        "order_latency_ms": settings.order_latency_ms,
        "response_latency_ms": settings.response_latency_ms,
        "latency_jitter": settings.latency_jitter,
        "feed_latency_ms": settings.feed_latency_ms,
        "feed_base_latency_ms": settings.feed_base_latency_ms,
        "batch_ms": effective_batch_ms(config, settings),
        "queue_model": settings.queue_model,
        "maker_fee_rate": (av.maker_fee_rate if settings.maker_fee_rate is None
                           else settings.maker_fee_rate),
        "taker_fee_rate": (av.taker_fee_rate if settings.taker_fee_rate is None
                           else settings.taker_fee_rate),
        "funding_source": "data" if settings.funding_rate_24h is None else "fixed",
        "funding_rate_24h": settings.funding_rate_24h,
        "funding_interval_h": settings.funding_interval_h,
        "tick_size": settings.tick_size if tick_size is None else tick_size,
        "volume_tick_size": settings.volume_tick_size,
        "core_band_bps": settings.core_band_bps,
        "seed": settings.seed,
        "data": [_data_name(p) for p in data],
    }


def _iso(ts_ns: int) -> str:
    dt = datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _empty_window_message(start_ns: int | None, end_ns: int | None,
                          data_range: list[int]) -> str:
    if not data_range:
        return "the data holds no market events"
    window = ", ".join(
        f"{flag} {_iso(v)}" for flag, v in (("--from", start_ns), ("--to", end_ns))
        if v is not None
    )
    return (f"the time window ({window or 'all'}) selects no market events; the data "
            f"covers {_iso(min(data_range))} to {_iso(max(data_range))}")


def run_backtest(
    data: Sequence[str],
    config: BotConfig,
    settings: BacktestSettings | None = None,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    out_dir: str | Path | None = None,
    strip_timing: bool = False,
    core_factory: Callable[[BotConfig], object] | None = None,
    progress: Callable[[str, float], Progress] | None = None,
) -> BacktestOutcome:
    """Run a backtest over data files and/or ``synthetic:SECONDS`` specs.

    Args:
        data: files (grouped into sessions by :func:`group_sessions`) or synthetic specs.
        config: the strategy configuration.
        settings: the simulated world (default :class:`BacktestSettings`).
        start_ns / end_ns: exchange-time window, ns since the epoch (inclusive).
        out_dir: write ``summary.json`` + ``report.html`` there (None: compute only).
        strip_timing: write the timing keys as null (fully reproducible files).
        core_factory: the core to test (default ``MarketMakerCore``).
        progress: makes the progress reporter of one session from ``(title, simulated
            seconds)``, e.g. ``thalex_mm.progress.Progress``; None = silent.

    Raises:
        DataFileError: a corrupt or unreadable data file (names file and line).
        ValueError: no events in the window, or bad settings.
    """
    settings = settings or BacktestSettings()
    sessions = group_sessions(list(data))
    cfg_json = config.model_dump(mode="json")
    results: list[tuple[str, dict[str, Any], SessionResult]] = []
    records = []
    out = Path(out_dir) if out_dir is not None else None
    multi = len(sessions) > 1
    used: list[str] = []
    data_range: list[int] = []
    for sess in sessions:
        all_events = load_session(sess, settings.seed, progress=progress)
        if all_events.size:
            data_range += [int(all_events["exch_ts"][0]), int(all_events["exch_ts"][-1])]
        events = window_events(all_events, start_ns, end_ns)
        if events.size == 0:
            continue
        used += sess.paths
        rec = RunRecorder(instrument=config.market.instrument, config=cfg_json)
        span_s = (int(events["exch_ts"][-1]) - int(events["exch_ts"][0])) / 1e9
        title = f"backtest {sess.label}" if multi else "backtest"
        bar = progress(title, span_s) if progress is not None else None
        try:
            res = run_session(events, config, settings, rec, core_factory=core_factory,
                              progress=bar)
            if bar is not None:
                bar.update(done=span_s, events=int(events.size))
        finally:
            if bar is not None:
                bar.close()
        for name in ("rows_to_engine", "engine_ops", "core_events", "commands", "batches"):
            rec.count(name, int(getattr(res, name)))
        rec.count_reject(res.rejects)
        block = settings_block(config, settings, sess.paths, tick_size=res.tick_size)
        record = rec.finish(events=res.rows, wall_seconds=res.tape_seconds + res.loop_seconds,
                            start_ts_ns=res.start_ts_ns, end_ts_ns=res.end_ts_ns)
        records.append((sess.label, record))
        if out is not None:
            target = out / sess.label if multi else out
            summary = write_report(record, target, strip_timing=strip_timing,
                                   title=f"Backtest {sess.label}",
                                   extra={"settings": block, "calibration": res.calibration})
        else:
            summary = compute_summary(record)
            summary["settings"] = block
            summary["calibration"] = res.calibration
        results.append((sess.label, summary, res))
        del events, all_events, rec
        # the session's loop (core, engine, tape: tens of MB) is a reference cycle: free it
        # now, before the next session allocates its own (peak RSS, benchmarks/memory.py)
        gc.collect()
    if not results:
        raise ValueError(_empty_window_message(start_ns, end_ns, data_range))
    agg = aggregate_summaries([s for _, s, _ in results])
    if len(results) > 1:
        ticks = sorted({r.tick_size for _, _, r in results})
        agg["settings"] = settings_block(config, settings, used,
                                         tick_size=ticks[0] if len(ticks) == 1 else ticks)
    if out is not None and multi:
        agg_out = dict(agg)
        if strip_timing:
            for k in TIMING_KEYS:
                agg_out[k] = None
        agg_out["session_labels"] = [lb for lb, _, _ in results]
        (out / SUMMARY_NAME).write_text(stable_json(agg_out), encoding="utf-8")
        (out / HTML_NAME).write_text(render_sessions_html(agg_out, records), encoding="utf-8")
        agg = agg_out
    return BacktestOutcome(summary=agg, sessions=results, out_dir=out)
