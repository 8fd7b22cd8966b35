"""The backtest loop: one market session through the trading core and the matching engine.

Clocks: the engine runs on the exchange clock (row ``exch_ts``); the core on the local clock.
Four streams are merged in time order (ties: engine first, then responses, market, timer):

1. commands on their way to the engine (sent at core time ``t``, arriving at ``t + order
   latency``; one ordered connection, so a later command never overtakes an earlier one);
2. engine outputs on their way back (responses and order/trade/portfolio notifications, at
   engine time ``+ response latency``);
3. market batches (see ``thalex_mm.backtest.tape``): one aggregated ``BookDeltaReceived`` (or
   snapshot) per batch, a ``TickerUpdated`` when the batch has a mark (or every second from
   the mid when the data has no marks);
4. the core's timer (``next_deadline_ns``).

Each event's step: its commands go to stream 1, its notices to a ``NoticeCounter`` (the
report's halt, denial and risk-event counters).

Before anything happens at time ``t`` the engine first sees every market row with
``exch_ts <= t`` (``SimExchange.advance``), so a fill can never precede its order's arrival
and the core never learns of a fill before ``fill time + response latency``.

Funding accrues every second of simulated time on the engine's ledger (rate from the data's
FUNDING_RATE rows, per ``funding_interval_h``, or a configured 24 h rate).
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np

from thalex_mm.backtest.exchange import ACCOUNT, SimExchange
from thalex_mm.backtest.notices import NoticeCounter
from thalex_mm.backtest.tape import MarketTape, build_tape, infer_tick_size
from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import AmendOrder, Command, Halt, InsertOrder, MassQuote, Resynchronise
from thalex_mm.core.events import (
    BookDeltaReceived,
    BookSnapshotReceived,
    Connected,
    InstrumentsUpdated,
    PublicTrade,
    TickerUpdated,
    TimerFired,
)
from thalex_mm.core.order_ids import seeded_base
from thalex_mm.core.step import CoreLike
from thalex_mm.core.types import Instrument, Side, TimeInForce
from thalex_mm.data.events import EventKind
from thalex_mm.frozen_pickle import reduce_frozen
from thalex_mm.progress import ProgressSink
from thalex_mm.reports import RunRecorder
from thalex_mm.sim.engine import (
    EngineConfig,
    LogProbQueue,
    PowerProbQueue,
    QueueModel,
    RiskAverseQueue,
)
from thalex_mm.sim.engine.fast import fast_positional_constructor

__all__ = [
    "DEFAULT_BATCH_MS",
    "QUEUE_MODELS",
    "BacktestSettings",
    "LatencyModel",
    "SessionResult",
    "effective_batch_ms",
    "make_queue_model",
    "run_session",
]

_NS_PER_MS = 1_000_000
_BUY = Side.BUY
_SELL = Side.SELL
# PublicTrade from all its fields, positionally (one per recorded print: ~0.4 us, not ~1 us)
_public_trade = fast_positional_constructor(
    PublicTrade, ("instrument", "price", "amount", "aggressor", "ts_ns"))
_NS = 1_000_000_000
_INF = 1 << 62
_REQUOTES = (InsertOrder, AmendOrder, MassQuote)  # a tuple: an inline A | B builds a union per call

DEFAULT_BATCH_MS: float = 1.0
"""Default market-data batch length, ms (see :class:`BacktestSettings` for the measurements)."""

QUEUE_MODELS: tuple[str, ...] = ("risk_averse", "power2", "power3", "log")
"""Names accepted by ``--queue-model``: risk-averse (cancels come from behind us) and the
probabilistic family of hftbacktest (``power2``/``power3``: f(x) = x^n; ``log``)."""


#: How often the loop reports progress, in market-data batches (cheap: a few µs per report).
_PROGRESS_EVERY_BATCHES = 256


def _is_flatten(cmd: InsertOrder) -> bool:
    """The kill switch's flatten: a reduce-only IOC order (the only insert a halt allows)."""
    return cmd.reduce_only and cmd.time_in_force is TimeInForce.IOC


def make_queue_model(name: str) -> QueueModel:
    """The engine queue model called ``name`` (one of :data:`QUEUE_MODELS`).

    Raises:
        ValueError: unknown name (the message lists the allowed ones).
    """
    if name == "risk_averse":
        return RiskAverseQueue()
    if name == "power2":
        return PowerProbQueue(2.0)
    if name == "power3":
        return PowerProbQueue(3.0)
    if name == "log":
        return LogProbQueue()
    raise ValueError(f"queue model: got {name!r}, expected one of {', '.join(QUEUE_MODELS)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class BacktestSettings:
    """How the simulated world behaves (the strategy itself comes from ``BotConfig``).

    Attributes:
        order_latency_ms: order-entry latency, core → engine, ms (median when jittered).
        response_latency_ms: engine → core latency of responses and notifications, ms.
        latency_jitter: sigma of a lognormal factor on both latencies (0 = constant).
        feed_latency_ms: constant market-data latency, ms; None = from the recorded local −
            exchange timestamps (median clock offset removed) plus ``feed_base_latency_ms``.
        feed_base_latency_ms: see ``feed_latency_ms``.
        batch_ms: market-data batch length, ms (default :data:`DEFAULT_BATCH_MS` = 1 ms);
            None = the quoter's minimum requote interval (the old default, at least 1 ms).
            See "Batch length" below.
        queue_model: one of :data:`QUEUE_MODELS`.
        maker_fee_rate / taker_fee_rate: fee fractions of notional; None = from the config's
            ``avellaneda`` section.
        funding_rate_24h: fixed funding rate per 24 h (fraction); None = from the data.
        funding_interval_h: the interval a recorded funding rate refers to (Binance: 8 h).
        tick_size: price grid; None = inferred from the data.
        volume_tick_size: amount step of the simulated instrument, contracts.
        core_band_bps: deliver to the core only net level changes within this distance of
            the batch's mid, bps (None = all). Deep levels do not move the quotes, and the
            core's book update is the loop's largest cost; a level that is outside the band
            when it changes and later comes inside stays stale in the core's view (the
            engine's fills never use the core's view).
        seed: seeds the latency jitter (the only randomness of a backtest).

    Batch length. Market rows reach the core in batches on a fixed ``batch_ms`` grid, so after
    a quiet period the core learns of a change up to ``batch_ms`` late; live trading is
    event-driven (the quote step runs on each update, only limited by the quoter's minimum
    requote interval, 100 ms by default), so the batch must be much shorter than that
    interval. Measured (default config and settings, ``thalex-mm backtest --data <session>
    --batch-ms B``; throughput from ``benchmarks/backtest_throughput.py --batch-ms B``, both
    sessions, tape + loop, cache warm, 2-core machine shared with other jobs):

    ======  ======  ===========  ======  =====  ======  ========  ========  ===========
    batch   2024-07-18/19 session                        2023-04-04/05       throughput
    ------  -------------------------------------------  ------------------  -----------
    ms      uptime  markout_10s  fills   pnl    reqts   fills     pnl       rows/s
    ======  ======  ===========  ======  =====  ======  ========  ========  ===========
    1       0.9885  -7.30        196     -5.77  406     72        0.037     315k
    2       0.9888  -7.30        195     -5.77  406     92        0.032     --
    5       0.9887  -7.27        193     -5.92  406     91        0.083     332k
    10      0.9888  -7.58        193     -6.05  410     70        0.158     335k
    20      0.9260  -7.85        188     -5.45  382     --        --        --
    100     0.8701  -10.20       173     -6.16  345     74        0.076     479k
    ======  ======  ===========  ======  =====  ======  ========  ========  ===========

    Noise: on 2024, 1 ms batches with ``--latency-jitter 0.2`` and seeds 1-3 give uptime
    0.9878-0.9884, markout_10s -7.30..-7.43, 193-196 fills, PnL -5.74..-5.89; 5 ms lies in
    that band, 10 ms does not (markout -7.58, PnL -6.05), 20 ms and 100 ms are far off
    (uptime 0.93 / 0.87). The 2023 session is short and path-dependent (72 fills at 1 ms with
    any jitter seed, 92 at 2-5 ms). 1 ms is the default: the closest to event-driven, and
    5-10 ms would buy only ~5 % of throughput (within the benchmark's run-to-run spread);
    100 ms batches are ~50 % faster but bias uptime, markouts and fills.
    """

    order_latency_ms: float = 5.0
    response_latency_ms: float = 5.0
    latency_jitter: float = 0.0
    feed_latency_ms: float | None = None
    feed_base_latency_ms: float = 1.0
    batch_ms: float | None = DEFAULT_BATCH_MS
    queue_model: str = "risk_averse"
    maker_fee_rate: float | None = None
    taker_fee_rate: float | None = None
    funding_rate_24h: float | None = None
    funding_interval_h: float = 8.0
    tick_size: float | None = None
    volume_tick_size: float = 0.001
    core_band_bps: float | None = None
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("order_latency_ms", "response_latency_ms", "latency_jitter",
                     "feed_base_latency_ms"):
            v = getattr(self, name)
            if not (v >= 0 and math.isfinite(v)):
                raise ValueError(f"backtest {name}: got {v!r}, expected a number >= 0")
        if self.core_band_bps is not None and not self.core_band_bps > 0:
            raise ValueError(f"backtest core_band_bps: got {self.core_band_bps!r}, "
                             "expected > 0 or None")
        if self.batch_ms is not None and not self.batch_ms > 0:
            raise ValueError(f"backtest batch_ms: got {self.batch_ms!r}, expected > 0")
        make_queue_model(self.queue_model)

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses to spawn / Ray workers; compiled, it cannot unpickle field by field.
        return reduce_frozen(self)


def effective_batch_ms(config: BotConfig, settings: BacktestSettings) -> float:
    """The batch length a run uses, ms: ``settings.batch_ms``, or (None) the quoter's minimum
    requote interval (at least 1 ms)."""
    if settings.batch_ms is not None:
        return float(settings.batch_ms)
    return max(1.0, float(config.quoting.min_requote_interval_ms))


class LatencyModel:
    """Constant latency, or lognormal around the median with a seeded numpy generator.

    Args:
        median_ns: the latency (median), ns.
        jitter: lognormal sigma (0 = constant).
        rng: the seeded generator (draws are taken in blocks).
    """

    __slots__ = ("_buf", "_i", "_jitter", "_median", "_rng")

    def __init__(self, median_ns: int, jitter: float, rng: np.random.Generator) -> None:
        self._median = int(median_ns)
        self._jitter = float(jitter)
        self._rng = rng
        self._buf: list[int] = []
        self._i = 0

    def __call__(self) -> int:
        if self._jitter <= 0.0:
            return self._median
        if self._i >= len(self._buf):
            draws = self._median * self._rng.lognormal(0.0, self._jitter, 4096)
            self._buf = draws.astype(np.int64).tolist()
            self._i = 0
        v = self._buf[self._i]
        self._i += 1
        return v


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionResult:
    """What one session's run produced besides the recorder's series.

    Attributes:
        rows: market rows replayed.
        batches: market batches delivered to the core.
        rows_to_engine: rows that needed the engine (the rest only updated the truth book).
        engine_ops: commands executed by the engine.
        core_events: events handled by the core.
        commands: commands sent.
        rejects: our commands the engine refused (error replies + failed mass-quote levels).
        batch_ms: the market-data batch length used, ms.
        tick_size: the price grid used (configured or inferred), quote currency.
        start_ts_ns / end_ts_ns: first and last exchange timestamp, ns.
        tape_seconds: wall time spent building the tape, s.
        loop_seconds: wall time of the event loop, s.
        final_position: engine position at the end, contracts.
        calibration: the core's calibration at the end (see :func:`calibration_figures`);
            None for a core without a status.
    """

    rows: int
    batches: int
    rows_to_engine: int
    engine_ops: int
    core_events: int
    commands: int
    rejects: int
    batch_ms: float
    tick_size: float
    start_ts_ns: int
    end_ts_ns: int
    tape_seconds: float
    loop_seconds: float
    final_position: float
    calibration: dict | None = None

    def __reduce__(self) -> tuple[Any, ...]:
        # Crosses to spawn / Ray workers; compiled, it cannot unpickle field by field.
        return reduce_frozen(self)


def calibration_figures(core: object) -> dict | None:
    """What the core calibrated, for ``summary.json``: A (1/s per side, the fill intensity the
    model used, and the tape's), k per tick and per quote-currency unit, the fit's confidence
    (0..1), its source, the fraction of quoting time on fitted values, and σ (quote currency
    per √second). None when the core has no ``status()``."""
    status = getattr(core, "status", None)
    if status is None:
        return None
    st = status()
    return {
        "A_per_s": st.A,
        "A_market_per_s": getattr(st, "A_market", None),
        "k_per_tick": getattr(st, "k_per_tick", None),
        "k_per_quote_ccy": st.k,
        "intensity_confidence": getattr(st, "intensity_confidence", None),
        "intensity_source": st.intensity_source,
        "intensity_fitted_fraction": getattr(st, "intensity_fitted_fraction", None),
        "sigma_per_sqrt_s": st.sigma,
        # what the instrument-relative defaults resolved to (contracts; γ per quote ccy·unit)
        "gamma": getattr(st, "gamma", None),
        **_resolved_sizes(getattr(core, "config", None)),
    }


def _resolved_sizes(config: object) -> dict:
    """Order size and position limits the core quoted with, contracts (None if unresolved)."""
    order, risk = getattr(config, "order", None), getattr(config, "risk", None)
    sizes = getattr(order, "sizes", None)
    return {
        "order_size": sizes[0] if sizes else None,
        "position_soft_limit": getattr(risk, "position_soft_limit", None),
        "position_hard_limit": getattr(risk, "position_hard_limit", None),
    }


def _engine_config(config: BotConfig, s: BacktestSettings) -> EngineConfig:
    av = config.avellaneda
    return EngineConfig(
        maker_fee_rate=av.maker_fee_rate if s.maker_fee_rate is None else s.maker_fee_rate,
        taker_fee_rate=av.taker_fee_rate if s.taker_fee_rate is None else s.taker_fee_rate,
        queue_model=make_queue_model(s.queue_model),
    )


def run_session(
    events: np.ndarray,
    config: BotConfig,
    settings: BacktestSettings,
    recorder: RunRecorder,
    *,
    core_factory: Callable[[BotConfig], CoreLike] | None = None,
    progress: ProgressSink | None = None,
) -> SessionResult:
    """Replay one market session (rows of one continuous capture) through a fresh core.

    Args:
        events: ``MARKET_EVENT_DTYPE`` rows sorted by ``exch_ts`` (non-empty).
        config: the strategy configuration.
        settings: the simulated world.
        recorder: receives mids, our quotes, fills and funding.
        core_factory: builds the core (default ``MarketMakerCore``); tests pass stand-ins.
        progress: told the simulated seconds done, the rows replayed and the core's PnL every
            ``_PROGRESS_EVERY_BATCHES`` batches (``thalex_mm.progress``); None = silent.

    Raises:
        ValueError: empty events or bad settings.
    """
    if events.size == 0:
        raise ValueError("run_session: no market events in the selected window")
    if core_factory is None:
        from thalex_mm.core.market_maker import MarketMakerCore

        # client order ids from the seed: deterministic, and unlike any live run's (order_ids)
        core_factory = partial(MarketMakerCore, first_client_order_id=seeded_base(settings.seed))
    t_tape = time.perf_counter()
    tick = settings.tick_size or infer_tick_size(events)
    interval_ms = effective_batch_ms(config, settings)
    feed = None if settings.feed_latency_ms is None else int(settings.feed_latency_ms * 1e6)
    tape = build_tape(events, tick_size=tick, batch_ns=int(interval_ms * _NS_PER_MS),
                      feed_latency_ns=feed,
                      feed_base_latency_ns=int(settings.feed_base_latency_ms * 1e6))
    tape_s = time.perf_counter() - t_tape
    t_loop = time.perf_counter()
    loop = _Loop(tape, config, settings, recorder, core_factory)
    loop.progress = progress
    loop.run()
    loop_s = time.perf_counter() - t_loop
    ex = loop.ex
    return SessionResult(
        rows=tape.rows, batches=tape.batches, rows_to_engine=ex.rows_to_engine,
        engine_ops=ex.engine_ops, core_events=loop.core_events, commands=loop.commands,
        rejects=ex.rejects, batch_ms=interval_ms, tick_size=tape.tick_size,
        start_ts_ns=int(tape.exch_ts[0]), end_ts_ns=int(tape.exch_ts[-1]),
        tape_seconds=tape_s, loop_seconds=loop_s,
        final_position=ex.engine.ledger.position(ACCOUNT, ex.name),
        calibration=calibration_figures(loop.core),
    )


class _Loop:
    """The merged event loop of one session (see the module docstring)."""

    def __init__(
        self, tape: MarketTape, config: BotConfig, settings: BacktestSettings,
        recorder: RunRecorder, core_factory: Callable[[BotConfig], CoreLike],
    ) -> None:
        self.tape = tape
        self.config = config
        self.settings = settings
        self.rec = recorder
        m = config.market
        vt = settings.volume_tick_size
        self.instrument = Instrument(
            name=m.instrument, product=f"F{m.underlying}", tick_size=tape.tick_size,
            volume_tick_size=vt, min_order_amount=vt, underlying=m.underlying,
        )
        rng = np.random.default_rng(settings.seed)
        self.order_latency = LatencyModel(int(settings.order_latency_ms * 1e6),
                                          settings.latency_jitter, rng)
        self.ex = SimExchange(tape, self.instrument, _engine_config(config, settings),
                              on_trade=self._on_trade, on_orders=self._on_orders)
        self.ex.response_latency = LatencyModel(int(settings.response_latency_ms * 1e6),
                                                settings.latency_jitter, rng)
        self.core = core_factory(config)
        self.notices = NoticeCounter(recorder)
        self.cmd_q: deque[tuple[int, int, Command]] = deque()
        self._last_arrival = 0
        self._rid = 0
        self.halted = False
        self.core_events = 0
        self.commands = 0
        self.timer: int | None = None
        self._last_timer = -1
        self._funding_rate_24h = settings.funding_rate_24h or 0.0
        self._funding_fixed = settings.funding_rate_24h is not None
        self._last_funding_ts: int | None = None
        self._funding_booked = 0.0
        self._mark: float | None = None
        self._index: float | None = None
        self._next_synth_ticker = 0
        self.progress: ProgressSink | None = None

    # ------------------------------------------------------------ recorder hooks

    def _on_trade(self, ts_ns: int, trade) -> None:
        self.rec.on_fill(ts_ns, trade.side, trade.price, trade.amount, trade.fee,
                         trade.maker_taker == "maker", trade_id=trade.trade_id,
                         position_after=trade.position_after)

    def _on_orders(self, ts_ns: int) -> None:
        bid, ask = self.ex.our_quotes()
        self.rec.on_quote(ts_ns, bid, ask)

    # ------------------------------------------------------------ core side

    def _handle(self, event) -> None:
        self.core_events += 1
        step = self.core.handle(event)
        now = event.local_ts_ns
        if step.notices:
            self.notices.on_notices(step.notices, now)
        if step.commands:
            self._dispatch(step.commands, now)
        dl = self.core.next_deadline_ns()
        if dl is not None and dl <= self._last_timer:
            dl = None
        self.timer = dl if dl is None or dl > now else now

    def _dispatch(self, cmds: tuple[Command, ...], now: int) -> None:
        for cmd in cmds:
            if isinstance(cmd, Halt):
                self.halted = True
                continue
            if isinstance(cmd, Resynchronise):
                continue  # no connection to renew: the tape loses no frame and stays in order
            if (self.halted and isinstance(cmd, AmendOrder | MassQuote)) or (
                self.halted and isinstance(cmd, InsertOrder) and not _is_flatten(cmd)
            ):
                continue  # after a halt only the kill switch's flatten trades, as live
            self._rid += 1
            self.core.on_sent(self._rid, cmd)
            arrive = now + self.order_latency()
            if arrive < self._last_arrival:
                arrive = self._last_arrival
            self._last_arrival = arrive
            self.cmd_q.append((arrive, self._rid, cmd))
            self.commands += 1
            if isinstance(cmd, _REQUOTES):
                self.rec.count_requote()

    def _deliver_batch(self, k: int, lists: dict) -> None:
        tape = self.tape
        t = lists["ts"][k]
        exch = lists["exch"][k]
        name = self.instrument.name
        mid = lists["mid"][k]
        mark = lists["mark"][k]
        if mark == mark:  # not NaN
            self._mark = mark
            idx = lists["index"][k]
            if idx == idx:
                self._index = idx
            fr = lists["funding"][k]
            if fr == fr:
                # the data's rate is per ``funding_interval_h`` (Binance: 8 h); the core and
                # the engine take a rate per 24 h (Thalex's convention, core.fair_value)
                fr = fr * 24.0 / self.settings.funding_interval_h
                if not self._funding_fixed:
                    self._funding_rate_24h = fr
            self.ex.engine.set_mark(name, mark)
            self._handle(TickerUpdated(
                exchange_ts_ns=exch, local_ts_ns=t, instrument=name, mark_price=mark,
                index_price=self._index if self._index is not None else mark,
                funding_rate=None if fr != fr else fr))
        elif not tape.has_mark and mid == mid and t >= self._next_synth_ticker:
            self._next_synth_ticker = t + _NS
            self._mark = mid
            self.ex.engine.set_mark(name, mid)
            self._handle(TickerUpdated(exchange_ts_ns=exch, local_ts_ns=t, instrument=name,
                                       mark_price=mid, index_price=mid))
        tr = lists["trade_start"]
        t0, t1 = tr[k], tr[k + 1]
        trades: tuple[PublicTrade, ...] = ()
        if t1 > t0:  # the batch's prints (per-trade lists, indexed by trade number)
            px, qt, sd, ts = lists["px"], lists["qty"], lists["side"], lists["ets"]
            trades = tuple(
                _public_trade(name, px[i], qt[i], _BUY if sd[i] > 0 else _SELL, ts[i])
                for i in range(t0, t1)
            )
        if lists["snap"][k]:
            bids, asks = tape.snapshot_levels(k)
            ev: BookSnapshotReceived | BookDeltaReceived = BookSnapshotReceived(exchange_ts_ns=exch, local_ts_ns=t, instrument=name,
                                      bids=bids, asks=asks, trades=trades)
        else:
            s0, sp, s1 = lists["lv0"][k], lists["lvs"][k], lists["lv1"][k]
            pairs = lists["lv"]
            ev = BookDeltaReceived(exchange_ts_ns=exch, local_ts_ns=t, instrument=name,
                                   bids=tuple(pairs[s0:sp]), asks=tuple(pairs[sp:s1]),
                                   trades=trades)
        if mid == mid:
            self.rec.on_mid(exch, mid)
        self._accrue_funding(exch)
        self._handle(ev)

    def _report_progress(self, k: int, now_ns: int) -> None:
        """Simulated seconds done, rows replayed, the core's PnL so far (if it reports one)."""
        assert self.progress is not None
        status = getattr(self.core, "status", None)
        pnl = status().pnl_total if status is not None else None
        self.progress.update(done=(now_ns - int(self.tape.exch_ts[0])) / _NS,
                             events=int(self.tape.batch_row_end[k - 1]), pnl=pnl)

    def _accrue_funding(self, exch: int) -> None:
        if self._last_funding_ts is None:
            self._last_funding_ts = exch
            return
        dt = exch - self._last_funding_ts
        if dt < _NS or self._mark is None:
            return
        self._last_funding_ts = exch
        if self._funding_rate_24h == 0.0:
            return
        eng = self.ex.engine
        eng.accrue_funding(self.instrument.name, self._funding_rate_24h, self._mark, dt / _NS,
                           ts_ns=exch)
        total = eng.ledger.get(ACCOUNT, self.instrument.name).funding
        delta = total - self._funding_booked
        if delta != 0.0:
            self._funding_booked = total
            self.rec.on_funding(exch, delta)

    # ------------------------------------------------------------ the loop

    def _lists(self) -> dict:
        tape = self.tape
        trade_rows = np.flatnonzero(tape.kind == int(EventKind.TRADE))
        ends = tape.batch_row_end
        trade_start = np.searchsorted(trade_rows, np.r_[0, ends]).tolist()
        lv_price, lv_qty = tape.lv_price, tape.lv_qty
        lv0, lvs, lv1 = tape.batch_lv_start, tape.batch_lv_split, tape.batch_lv_end
        band = self.settings.core_band_bps
        if band is not None and lv_price.size:
            b2 = tape.lv_b2
            mid = tape.batch_mid[b2 // 2]
            keep = ~(np.abs(lv_price - mid) > mid * band * 1e-4)  # NaN mid: keep
            lv_price, lv_qty, b2 = lv_price[keep], lv_qty[keep], b2[keep]
            ar = np.arange(tape.batches, dtype=np.int64)
            lv0 = np.searchsorted(b2, ar * 2, "left")
            lvs = np.searchsorted(b2, ar * 2 + 1, "left")
            lv1 = np.searchsorted(b2, ar * 2 + 2, "left")
        return {
            "ts": tape.batch_ts.tolist(), "exch": tape.batch_exch_ts.tolist(),
            "mid": tape.batch_mid.tolist(), "mark": tape.batch_mark.tolist(),
            "index": tape.batch_index.tolist(), "funding": tape.batch_funding.tolist(),
            "snap": tape.batch_snapshot.tolist(), "lv0": lv0.tolist(),
            "lvs": lvs.tolist(), "lv1": lv1.tolist(),
            # every net level change as its (price, amount) pair, made once for the session
            "lv": list(zip(lv_price.tolist(), lv_qty.tolist(), strict=True)),
            "trade_start": trade_start,
            # trade rows only (the rest of the rows never reaches the core one by one)
            "px": np.round(tape.ticks[trade_rows] * tape.tick_size, 10).tolist(),
            "qty": tape.qty[trade_rows].tolist(), "side": tape.side[trade_rows].tolist(),
            "ets": tape.exch_ts[trade_rows].tolist(),
        }

    def run(self) -> None:
        tape = self.tape
        ex = self.ex
        outbox = ex.outbox
        cmd_q = self.cmd_q
        lists = self._lists()
        batch_ts = lists["ts"]
        nb = len(batch_ts)
        t0 = int(tape.exch_ts[0])
        end_ts = max(int(tape.exch_ts[-1]), batch_ts[-1])
        self._handle(InstrumentsUpdated(exchange_ts_ns=t0, local_ts_ns=t0,
                                        added=(self.instrument,), snapshot=True))
        ex.engine.set_session_persistent("backtest", False)
        self._handle(Connected(exchange_ts_ns=t0, local_ts_ns=t0, cancel_on_disconnect=True))
        k = 0
        while True:
            t_batch = batch_ts[k] if k < nb else _INF
            t_out = outbox[0][0] if outbox else _INF
            timer = self.timer
            t_timer = timer if timer is not None and timer <= end_ts else _INF
            t_core = min(t_batch, t_out, t_timer)
            if cmd_q and cmd_q[0][0] <= t_core:
                t_cmd = cmd_q[0][0]
                if ex.advance(t_cmd):
                    continue
                _, rid, cmd = cmd_q.popleft()
                ex.execute(rid, cmd, t_cmd)
                continue
            if t_core == _INF:
                break
            if ex.advance(t_core):
                continue
            if t_out == t_core:
                self._handle(outbox.popleft()[1])
            elif t_batch == t_core:
                self._deliver_batch(k, lists)
                k += 1
                if not k % _PROGRESS_EVERY_BATCHES and self.progress is not None:
                    self._report_progress(k, t_core)
            else:
                self._last_timer = t_core
                self.timer = None
                self._handle(TimerFired(exchange_ts_ns=t_core, local_ts_ns=t_core))
