"""Walk-forward evaluation: every session in time order, calibrate on the past, trade the future.

The design (also in ``thalex-mm evaluate --help`` and ``docs/evaluate.md``); it never looks
ahead, at two levels:

1. **Inside a session.** The data files are grouped into sessions as for ``thalex-mm
   backtest`` (one continuous capture each) and ordered by start time. Each session runs with
   a fresh core: the first ``calibration_s`` seconds are a **calibration window** (the core
   sees the market data and its online estimators learn, but it is not connected and places no
   order; these seconds are left out of every metric), the rest is the **trading window**.
   A session shorter than ``calibration_s + min_trading_s`` is an input error. The core's
   estimator state is *not* carried from one session to the next: the shared captures are
   hours to months apart (and of different instruments), so each calibrates on its own
   recent past, and sessions are independent tasks that run in parallel.
2. **Across sessions, for a grid.** Every grid point is run on every session (in parallel).
   The *walk-forward track* then trades session *i* with the point that scored best
   (``select_by``, over the pooled blocks) on the sessions that **ended before session i's
   trading window began**; with no such session it uses the grid's first point. Without a
   grid the track is the configuration itself.

Metrics and their bootstrap intervals: :mod:`thalex_mm.evaluation.blocks`. The result is one
JSON-ready document (``evaluation.json``): per session and overall for the walk-forward track,
and per grid point when a grid was given. It is deterministic under ``seed`` (the backtests
are, and the bootstrap draws from ``numpy.random.default_rng((seed, runs pooled))``); wall
times are left out of it.
"""

from __future__ import annotations

import math
import multiprocessing
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from thalex_mm.backtest.api import settings_block
from thalex_mm.backtest.parallel import local_workers, map_tasks
from thalex_mm.backtest.runner import BacktestSettings
from thalex_mm.backtest.sessions import group_sessions, load_session
from thalex_mm.backtest.sweep import apply_overrides, grid_points
from thalex_mm.config.models import BotConfig
from thalex_mm.evaluation.blocks import bootstrap_metrics, metric_names, metrics_from_sums
from thalex_mm.evaluation.session_run import SessionRun, SessionTask, run_walkforward_session
from thalex_mm.progress import Progress
from thalex_mm.reports import DEFAULT_MARKOUT_HORIZONS_S, TIMING_KEYS

__all__ = [
    "DESIGN",
    "EvaluationInputError",
    "EvaluationSpec",
    "PlannedSession",
    "plan_sessions",
    "run_evaluation",
    "select_points",
]

DESIGN = (
    "Walk-forward, never looking ahead. Sessions (continuous captures) run in time order, "
    "each with a fresh core: its first --calibration-s seconds are a calibration window (the "
    "core sees the market data and its estimators learn, but it is not connected and places "
    "no order; excluded from every metric), the rest is the trading window. The price grid "
    "is inferred from the calibration window only. Estimator state is not carried across "
    "sessions (captures hours to months apart). With --grid every point runs on every "
    "session, and the walk-forward track trades each session with the point that scored best "
    "(--select-by) on the sessions that ended before its trading window began (the first "
    "point when none did). Confidence intervals: block bootstrap (--block-s blocks of the "
    "trading window resampled with replacement within each session; 95 % percentile "
    "intervals; seeded by --seed)."
)
_NS = 1_000_000_000
_SUMMARY_DROP = (*TIMING_KEYS, "config")


class EvaluationInputError(ValueError):
    """The evaluation cannot run on this input (one line naming the problem)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class EvaluationSpec:
    """What to evaluate and how.

    Attributes:
        data: data files/directories or ``synthetic:SECONDS[:SEED]`` specs.
        config: the base configuration.
        grids: ``(section.key, values)`` pairs (empty: the configuration alone).
        settings: the simulated world (latencies, queue model, fees, seed).
        calibration_s: calibration window at the start of each session, s (> 0).
        min_trading_s: shortest trading window a session must leave, s (> 0).
        block_s: bootstrap block length, s (> 0).
        bootstrap: bootstrap samples (0: no intervals).
        select_by: metric (higher is better) that picks the grid point for the next session.
        jobs: local worker processes (None: all cores).
        ray_address: run the tasks on this Ray cluster.
        horizons_s: markout horizons, s.
    """

    data: tuple[str, ...]
    config: BotConfig
    grids: tuple[tuple[str, tuple[object, ...]], ...] = ()
    settings: BacktestSettings = field(default_factory=BacktestSettings)
    calibration_s: float = 60.0
    min_trading_s: float = 60.0
    block_s: float = 30.0
    bootstrap: int = 1000
    select_by: str = "pnl_bps"
    jobs: int | None = None
    ray_address: str | None = None
    horizons_s: tuple[float, ...] = DEFAULT_MARKOUT_HORIZONS_S

    def __post_init__(self) -> None:
        for name in ("calibration_s", "min_trading_s", "block_s"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise EvaluationInputError(f"--{name.replace('_', '-')}: got {v!r}, "
                                           "expected a number > 0")
        if self.jobs is not None and self.jobs < 1:
            raise EvaluationInputError(f"--jobs: got {self.jobs}, expected >= 1")
        if self.bootstrap < 0:
            raise EvaluationInputError(f"--bootstrap: got {self.bootstrap}, expected >= 0")
        if self.settings.seed < 0:
            raise EvaluationInputError(f"--seed: got {self.settings.seed}, expected >= 0")
        if self.select_by not in metric_names(self.horizons_s):
            raise EvaluationInputError(
                f"--select-by: got {self.select_by!r}, expected one of "
                f"{', '.join(metric_names(self.horizons_s))}")


@dataclass(frozen=True, slots=True, kw_only=True)
class PlannedSession:
    """A session, its span and where its trading window begins (ns)."""

    label: str
    paths: tuple[str, ...]
    start_ts_ns: int
    trade_from_ns: int
    end_ts_ns: int


def plan_sessions(spec: EvaluationSpec) -> list[PlannedSession]:
    """The sessions in time order, each with its trading start.

    Raises:
        EvaluationInputError: no data, a session without market events, or one too short to
            calibrate (names the session, its length and the windows asked for).
        DataFileError: a missing, unreadable or corrupt data file.
    """
    if not spec.data:
        raise EvaluationInputError("--data: no data given, expected data files, directories "
                                   "or synthetic:SECONDS")
    need_s = spec.calibration_s + spec.min_trading_s
    out = []
    for sess in group_sessions(list(spec.data)):
        events = load_session(sess, spec.settings.seed)
        if events.size == 0:
            raise EvaluationInputError(f"session {sess.label} ({', '.join(sess.paths)}): "
                                       "holds no market events")
        start, end = int(events["exch_ts"][0]), int(events["exch_ts"][-1])
        if (end - start) / _NS < need_s:
            raise EvaluationInputError(
                f"session {sess.label}: covers {(end - start) / _NS:.1f} s, too short to "
                f"calibrate and trade: --calibration-s {spec.calibration_s:g} + "
                f"--min-trading-s {spec.min_trading_s:g} need {need_s:g} s")
        out.append(PlannedSession(label=sess.label, paths=tuple(sess.paths), start_ts_ns=start,
                                  trade_from_ns=start + round(spec.calibration_s * _NS),
                                  end_ts_ns=end))
    out.sort(key=lambda s: (s.start_ts_ns, s.end_ts_ns, s.label))
    return out


def _pooled_metric(runs: Sequence[SessionRun], name: str, horizons_s: Sequence[float]) -> float:
    total = sum(r.blocks.sum(axis=0) for r in runs)
    return float(metrics_from_sums(np.asarray(total), horizons_s)[name])


def select_points(
    sessions: Sequence[PlannedSession],
    runs: dict[tuple[int, int], SessionRun],
    n_points: int,
    select_by: str,
    horizons_s: Sequence[float] = DEFAULT_MARKOUT_HORIZONS_S,
) -> list[tuple[int, str]]:
    """The grid point that trades each session, chosen from earlier sessions only.

    Args:
        sessions: in time order.
        runs: ``(point, session) -> SessionRun``.
        n_points: grid points.
        select_by: metric, higher is better (pooled over the earlier sessions' blocks).

    Returns:
        ``(point, why)`` per session.
    """
    out = []
    for i, s in enumerate(sessions):
        past = [j for j, p in enumerate(sessions) if j != i and p.end_ts_ns <= s.trade_from_ns]
        if n_points == 1:
            out.append((0, "the only point"))
            continue
        if not past:
            out.append((0, "no earlier session: the grid's first point"))
            continue
        scores = [_pooled_metric([runs[(p, j)] for j in past], select_by, horizons_s)
                  for p in range(n_points)]
        finite = [(v, -p) for p, v in enumerate(scores) if math.isfinite(v)]
        labels = ", ".join(sessions[j].label for j in past)
        if not finite:
            out.append((0, f"{select_by} undefined on {labels}: the grid's first point"))
            continue
        best = -max(finite)[1]
        out.append((best, f"best {select_by} ({scores[best]:.6g}) on {labels}"))
    return out


def _ci_block(runs: Sequence[SessionRun], spec: EvaluationSpec) -> dict[str, Any]:
    # the draws depend only on the seed and which runs are pooled: the same runs (a session
    # on the track and in its grid point, one session and "overall") get the same interval
    tag = [x for r in runs for x in (r.point, r.session)]
    rng = np.random.default_rng([spec.settings.seed, len(runs), *tag])
    metrics, ci = bootstrap_metrics([r.blocks for r in runs], samples=spec.bootstrap, rng=rng,
                                    horizons_s=spec.horizons_s)
    metrics["max_abs_position"] = max((r.max_abs_position for r in runs), default=0.0)
    return {"metrics": metrics, "ci95": ci}


def _session_entry(run: SessionRun, plan: PlannedSession, spec: EvaluationSpec
                   ) -> dict[str, Any]:
    return {
        "label": plan.label,
        "data": [Path(p).name for p in plan.paths],
        "start_ts_ns": plan.start_ts_ns,
        "trade_from_ns": plan.trade_from_ns,
        "end_ts_ns": plan.end_ts_ns,
        "trading_seconds": (plan.end_ts_ns - plan.trade_from_ns) / _NS,
        "blocks": int(run.blocks.shape[0]),
        "tick_size": run.tick_size,
        "calibration": run.calibration,
        **_ci_block([run], spec),
        "backtest_summary": {k: v for k, v in run.summary.items() if k not in _SUMMARY_DROP},
    }


class _Progress:
    """Progress over all tasks, weighted by session seconds: whole tasks as they finish, and
    fractions of running ones as their workers report them (thread-safe). ``make`` builds
    the reporter from ``(title, total session seconds)``."""

    def __init__(self, tasks: Sequence[SessionTask], plans: Sequence[PlannedSession],
                 make: Callable[[str, float], Progress]) -> None:
        self.weight = [(plans[t.session].end_ts_ns - plans[t.session].start_ts_ns) / _NS
                       for t in tasks]
        self.index = {(t.point, t.session): i for i, t in enumerate(tasks)}
        self.frac = [0.0] * len(tasks)
        self.progress = make("evaluate", sum(self.weight))
        self.lock = threading.Lock()

    def _set(self, i: int, frac: float) -> None:
        with self.lock:
            if frac <= self.frac[i]:
                return
            self.frac[i] = frac
            self.progress.update(
                done=sum(w * f for w, f in zip(self.weight, self.frac, strict=True)))

    def finished(self, i: int, _run: object) -> None:
        self._set(i, 1.0)

    def put(self, item: tuple[int, int, float]) -> None:
        point, session, frac = item
        self._set(self.index[(point, session)], min(frac, 0.999))

    def drain(self, queue: Any) -> None:
        while (item := queue.get()) is not None:
            self.put(item)


def _run_tasks(tasks: list[SessionTask], plans: Sequence[PlannedSession], spec: EvaluationSpec,
               progress: Callable[[str, float], Progress] | None) -> list[SessionRun]:
    """Run the tasks locally or on Ray, reporting progress (within running sessions too,
    except on Ray, where only finished sessions count)."""
    if progress is None:
        return map_tasks(run_walkforward_session, tasks, jobs=spec.jobs,
                         ray_address=spec.ray_address)
    prog = _Progress(tasks, plans, progress)
    try:
        return _run_tasks_reporting(tasks, spec, prog)
    finally:
        prog.progress.close()


def _run_tasks_reporting(tasks: list[SessionTask], spec: EvaluationSpec,
                         prog: _Progress) -> list[SessionRun]:
    if spec.ray_address is not None:
        return map_tasks(run_walkforward_session, tasks, ray_address=spec.ray_address,
                         on_result=prog.finished)
    if local_workers(spec.jobs, len(tasks)) == 1:
        tasks = [replace(t, progress=prog) for t in tasks]
        return map_tasks(run_walkforward_session, tasks, jobs=1, on_result=prog.finished)
    with multiprocessing.get_context("spawn").Manager() as manager:
        queue = manager.Queue()
        reader = threading.Thread(target=prog.drain, args=(queue,), daemon=True)
        reader.start()
        try:
            return map_tasks(run_walkforward_session,
                             [replace(t, progress=queue) for t in tasks], jobs=spec.jobs,
                             on_result=prog.finished)
        finally:
            queue.put(None)
            reader.join(timeout=10)


def run_evaluation(
    spec: EvaluationSpec,
    *,
    progress: Callable[[str, float], Progress] | None = None,
    core_factory: Callable[[BotConfig], object] | None = None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the walk-forward evaluation.

    Args:
        spec: what to run.
        progress: makes the progress reporter from ``(title, total session seconds)``, e.g.
            ``thalex_mm.progress.Progress`` (told the session seconds done as the runs
            advance, closed at the end); None = silent.
        core_factory: the core to test (default ``MarketMakerCore``; local runs only).

    Returns:
        ``(document, extras)``: the JSON-ready evaluation document, and what the report
        needs besides it (``runs``: ``(point, session) -> SessionRun``, ``plans``,
        ``wall_seconds``, ``rows``).

    Raises:
        EvaluationInputError: bad input (see :func:`plan_sessions`).
        ConfigError: a grid key the configuration does not know, or a bad value.
        DataFileError: unreadable data.
    """
    plans = plan_sessions(spec)
    points = grid_points(list(spec.grids)) if spec.grids else [{}]
    for p in points:
        apply_overrides(spec.config, p)  # fail fast, before any work
    cfg_json = spec.config.model_dump(mode="json")
    tasks = [SessionTask(point=pi, session=si, label=s.label, paths=s.paths,
                         config_json=cfg_json, overrides=p, settings=spec.settings,
                         trade_from_ns=s.trade_from_ns, block_s=spec.block_s,
                         horizons_s=spec.horizons_s, core_factory=core_factory)
             for pi, p in enumerate(points) for si, s in enumerate(plans)]
    results = _run_tasks(tasks, plans, spec, progress)
    runs = {(r.point, r.session): r for r in results}
    chosen = select_points(plans, runs, len(points), spec.select_by, spec.horizons_s)
    track = [runs[(p, i)] for i, (p, _) in enumerate(chosen)]
    doc: dict[str, Any] = {
        "design": DESIGN,
        "settings": settings_block(spec.config, spec.settings,
                                   [p for s in plans for p in s.paths],
                                   tick_size=sorted({r.tick_size for r in results})),
        "windows": {"calibration_s": spec.calibration_s, "min_trading_s": spec.min_trading_s,
                    "block_s": spec.block_s, "bootstrap_samples": spec.bootstrap,
                    "resampled": "blocks of the trading window, with replacement, within "
                                 "each session (stratified); 95 % percentile intervals",
                    "select_by": spec.select_by},
        "grid": [{"point": i, "params": p} for i, p in enumerate(points)],
        "walk_forward": {
            "sessions": [{**_session_entry(r, plans[i], spec), "point": p, "why": why}
                         for i, (r, (p, why)) in enumerate(zip(track, chosen, strict=True))],
            "overall": _ci_block(track, spec),
        },
    }
    if spec.grids:
        doc["points"] = [{
            "point": pi, "params": p,
            "sessions": [_session_entry(runs[(pi, si)], s, spec)
                         for si, s in enumerate(plans)],
            "overall": _ci_block([runs[(pi, si)] for si in range(len(plans))], spec),
        } for pi, p in enumerate(points)]
    extras = {"runs": runs, "plans": plans, "track": track,
              "wall_seconds": sum(r.wall_seconds for r in results),
              "rows": sum(r.rows for r in results)}
    return doc, extras
