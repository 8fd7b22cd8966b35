"""One walk-forward session run: a calibration window, then a trading window (a worker task).

:func:`run_walkforward_session` is a module-level function taking one picklable
:class:`SessionTask`, so the evaluation can spread (grid point × session) tasks over local
processes or a Ray cluster (:func:`thalex_mm.backtest.parallel.map_tasks`). It reuses the
backtester unchanged (:func:`thalex_mm.backtest.runner.run_session`: the same tape, matching
engine, latencies and queue model as ``thalex-mm backtest``) with the core wrapped in a
:class:`~thalex_mm.evaluation.gate.CalibrationGate`:

* ``[session start, trade_from)``: the **calibration window**. The core sees all market data
  but is not connected, so it places no order; the window is left out of every metric.
* ``[trade_from, session end]``: the **trading window**. The report window of the run record
  starts at ``trade_from`` (uptime, PnL, blocks); positions start flat.

The price grid is inferred from the calibration window only (unless configured): nothing the
core or the simulated venue is told depends on rows after ``trade_from``. (The backtester's
feed-latency model removes the median clock offset between the recorder and the exchange over
the whole capture: a property of the recording machine's clock, not market information; a
constant ``--feed-latency-ms`` avoids even that.)
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from thalex_mm.backtest.runner import BacktestSettings, run_session
from thalex_mm.backtest.sessions import SessionData, load_session
from thalex_mm.backtest.sweep import apply_overrides
from thalex_mm.backtest.tape import infer_tick_size
from thalex_mm.config.models import BotConfig
from thalex_mm.evaluation.blocks import block_sums
from thalex_mm.evaluation.gate import CalibrationGate
from thalex_mm.reports import DEFAULT_MARKOUT_HORIZONS_S, RunRecorder, compute_summary
from thalex_mm.reports.downsample import downsample_minmax
from thalex_mm.reports.metrics import equity_curve
from thalex_mm.reports.writer import MAX_PLOT_POINTS, position_steps

__all__ = ["CALIBRATION_FIELDS", "SessionRun", "SessionTask", "run_walkforward_session"]

CALIBRATION_FIELDS: tuple[str, ...] = ("sigma", "sigma_warm", "A", "k", "intensity_source")
"""What the core had learned when trading began (``CoreStatus`` fields: σ quote ccy per √s,
A 1/s, k 1/quote ccy, where A and k came from)."""

_NS = 1_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionTask:
    """One (grid point, session) run.

    Attributes:
        point: grid point index; session: session index (time order).
        label / paths: the session (see ``backtest.sessions``).
        config_json: the base configuration (``model_dump(mode="json")``).
        overrides: the grid point's ``section.key`` values.
        settings: the simulated world.
        trade_from_ns: first instant of the trading window, ns (exchange and core clock).
        block_s: bootstrap block length, s.
        horizons_s: markout horizons, s.
        core_factory: builds the core (None: ``MarketMakerCore``); tests pass wrappers.
        progress: where to report how far the session got: anything with ``put((point,
            session, fraction))`` (a ``multiprocessing.Manager`` queue across processes);
            None: no reports.
    """

    point: int
    session: int
    label: str
    paths: tuple[str, ...]
    config_json: dict[str, Any]
    overrides: dict[str, object]
    settings: BacktestSettings
    trade_from_ns: int
    block_s: float
    horizons_s: tuple[float, ...] = DEFAULT_MARKOUT_HORIZONS_S
    core_factory: Callable[[BotConfig], object] | None = None
    progress: Any = None


@dataclass(slots=True, kw_only=True)
class SessionRun:
    """What one task produced (small and picklable: it travels back from workers).

    Attributes:
        point / session / label: as in the task.
        blocks: :func:`~thalex_mm.evaluation.blocks.block_sums` of the trading window.
        max_abs_position: largest |position| in the trading window, contracts.
        summary: the backtester's ``compute_summary`` of the trading window (no config).
        calibration: :data:`CALIBRATION_FIELDS` when trading began (None: never connected).
        connected_at_ns: when the core was connected (core clock), ns.
        start_ts_ns / trade_from_ns / end_ts_ns: session start, trading start, end, ns.
        tick_size: the price grid used.
        equity_x_s / equity: equity (quote ccy) against seconds since ``trade_from_ns``.
        position_x_s / position: position (contracts), a step line, same axis.
        rows / wall_seconds: market rows replayed and wall time (not deterministic).
    """

    point: int
    session: int
    label: str
    blocks: np.ndarray
    max_abs_position: float
    summary: dict[str, Any]
    calibration: dict[str, Any] | None
    connected_at_ns: int | None
    start_ts_ns: int
    trade_from_ns: int
    end_ts_ns: int
    tick_size: float
    equity_x_s: np.ndarray = field(repr=False)
    equity: np.ndarray = field(repr=False)
    position_x_s: np.ndarray = field(repr=False)
    position: np.ndarray = field(repr=False)
    rows: int = 0
    wall_seconds: float = 0.0


_CALIBRATION_HINTS = ("intensity", "confidence", "fit", "sigma", "volatility")


def _calibration(status: Any) -> dict[str, Any] | None:
    """:data:`CALIBRATION_FIELDS`, plus any other scalar status field about the fit (its name
    mentions intensity, confidence, fit, sigma or volatility), so new estimator figures show
    up without a change here."""
    if status is None:
        return None
    names = list(CALIBRATION_FIELDS)
    if dataclasses.is_dataclass(status):
        names += [f.name for f in dataclasses.fields(status) if f.name not in names
                  and any(h in f.name.lower() for h in _CALIBRATION_HINTS)]
    out: dict[str, Any] = {}
    for name in names:
        v = getattr(status, name, None)
        if v is None or isinstance(v, bool | int | float | str):
            out[name] = v
        elif name in CALIBRATION_FIELDS:
            out[name] = str(v)
    return out


def run_walkforward_session(task: SessionTask) -> SessionRun:
    """Run one session: calibrate until ``trade_from_ns``, trade after (module docstring)."""
    from thalex_mm.config.loader import parse_config

    config = apply_overrides(parse_config(task.config_json), task.overrides)
    events = load_session(SessionData(label=task.label, paths=task.paths), task.settings.seed)
    settings = task.settings
    if settings.tick_size is None:
        calib = events[events["exch_ts"] < task.trade_from_ns]
        settings = replace(settings, tick_size=infer_tick_size(calib))
    gates: list[CalibrationGate] = []
    on_time = None
    if task.progress is not None and events.size:
        t0 = int(events["exch_ts"][0])
        span = max(1, int(events["exch_ts"][-1]) - t0)

        def on_time(ts_ns: int) -> None:
            frac = min(1.0, max(0.0, (ts_ns - t0) / span))
            task.progress.put((task.point, task.session, frac))

    def factory(cfg: BotConfig) -> CalibrationGate:
        if task.core_factory is None:
            from thalex_mm.core.market_maker import MarketMakerCore

            core: object = MarketMakerCore(cfg)
        else:
            core = task.core_factory(cfg)
        gates.append(CalibrationGate(core, task.trade_from_ns, on_time))
        return gates[-1]

    rec = RunRecorder(instrument=config.market.instrument)
    res = run_session(events, config, settings, rec, core_factory=factory)
    record = rec.finish(events=res.rows, wall_seconds=res.tape_seconds + res.loop_seconds,
                        start_ts_ns=task.trade_from_ns, end_ts_ns=res.end_ts_ns)
    summary = compute_summary(record, markout_horizons_s=task.horizons_s)
    ets, eq = equity_curve(record)
    pts, pos = position_steps(record)
    ex, ey = downsample_minmax((ets - task.trade_from_ns) / _NS, eq, MAX_PLOT_POINTS)
    px, py = downsample_minmax((pts - task.trade_from_ns) / _NS, pos, MAX_PLOT_POINTS)
    gate = gates[0]
    return SessionRun(
        point=task.point, session=task.session, label=task.label,
        blocks=block_sums(record, task.block_s, task.horizons_s),
        max_abs_position=float(summary["max_abs_position"]),
        summary={k: v for k, v in summary.items() if k != "config"},
        calibration=_calibration(gate.calibration), connected_at_ns=gate.connected_at_ns,
        start_ts_ns=res.start_ts_ns, trade_from_ns=task.trade_from_ns,
        end_ts_ns=res.end_ts_ns, tick_size=res.tick_size,
        equity_x_s=ex, equity=ey, position_x_s=px, position=py,
        rows=res.rows, wall_seconds=res.tape_seconds + res.loop_seconds,
    )
