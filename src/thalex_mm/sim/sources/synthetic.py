"""The Avellaneda–Stoikov world as a deterministic market-event source.

Model (all randomness from ``numpy.random.default_rng`` streams spawned from one seed):

- **Mid price**: a driftless arithmetic random walk sampled every ``dt_s`` seconds:
  ``mid[j] = mid[j-1] + sigma * sqrt(dt_s) * Z_j``, ``Z_j ~ N(0, 1)``; ``sigma`` in quote
  currency per √second. The mid is not snapped to the tick.
- **Market orders**: on each side, independently, a Poisson process of rate
  ``arrival_rate_per_s`` (*A*). Each order gets a depth ``δ ~ Exponential(k)`` (mean ``1/k``,
  quote currency) from the mid of its step. A buy trades everything on the ask side up to the
  limit ``mid + δ``; a sell everything on the bid side down to ``mid − δ``.
  *Equivalence with Avellaneda–Stoikov*: by Poisson thinning, the orders whose depth is at
  least δ form a Poisson process of rate ``A · P(depth ≥ δ) = A · e^(−kδ)``, which is exactly
  the AS fill intensity ``λ(δ) = A e^(−kδ)`` of a quote resting δ away from the mid.
  Each order is emitted as one ``TRADE`` row: ``side`` = +1 (buy) / −1 (sell), ``price`` = the
  limit aligned to ``tick_size`` towards the mid (floor for buys, ceil for sells: the deepest
  price the order can reach), ``qty`` = ``trade_qty``. The simulator treats it as a sweep: any
  resting order priced at or better than ``price`` on the hit side trades.
- **Background book**: ``len(background_sizes)`` levels per side, one every tick; the best bid
  is ``floor(mid/tick) − background_offset_ticks`` ticks and the best ask
  ``ceil(mid/tick) + background_offset_ticks`` ticks; level *i* from the top has size
  ``background_sizes[i]``. The first step emits ``BOOK_CLEAR`` plus all levels; later steps
  emit ``BOOK_LEVEL`` rows only for levels that changed (``qty = 0`` for removed ones).
- **MARK / INDEX / FUNDING_RATE** every ``mark_interval_s``: mark = mid, index = mid − basis,
  funding rate = ``funding_rate`` (when not ``None``).

Timestamps: step *j* happens at ``start_ts_ns + j · dt_s``; trades of step *j* at uniform
times inside ``[t_j, t_j + dt_s)``; ``local_ts = exch_ts + feed_latency_ns``. The output does
not depend on how time is chunked: ``generate(T)`` equals the concatenation of any sequence of
``events_until`` calls covering the same span.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind, empty_events
from thalex_mm.errors import ConfigError

__all__ = ["SyntheticMarket", "SyntheticParams"]

_MAX_STEPS_PER_BATCH = 200_000


@dataclass(frozen=True, slots=True, kw_only=True)
class SyntheticParams:
    """Parameters of the synthetic AS market.

    Attributes:
        start_ts_ns: exchange time of step 0, ns since the epoch.
        initial_mid: mid at step 0, quote currency.
        sigma: mid volatility, quote currency per √second.
        dt_s: mid sampling step, seconds.
        arrival_rate_per_s: A, market orders per second on each side.
        k: depth decay, 1/quote currency (mean depth 1/k).
        trade_qty: size of every market order, base units.
        tick_size: price tick, quote currency.
        background_offset_ticks: ticks between the mid (rounded outward) and the best
            background level on each side.
        background_sizes: sizes of the background levels from the top outward, base units;
            empty = no background book.
        basis: mark − index, quote currency.
        mark_interval_s: seconds between MARK/INDEX(/FUNDING_RATE) rows (a multiple of
            ``dt_s`` after rounding).
        funding_rate: funding rate fraction to publish with the mark, or ``None``.
        feed_latency_ns: ``local_ts − exch_ts`` on every row, ns.
    """

    start_ts_ns: int = 1_700_000_000_000_000_000
    initial_mid: float = 65_000.0
    sigma: float = 6.0
    dt_s: float = 0.1
    arrival_rate_per_s: float = 2.0
    k: float = 0.5
    trade_qty: float = 0.01
    tick_size: float = 1.0
    background_offset_ticks: int = 5
    background_sizes: tuple[float, ...] = (0.5,) * 10
    basis: float = 0.0
    mark_interval_s: float = 1.0
    funding_rate: float | None = None
    feed_latency_ns: int = 0

    def __post_init__(self) -> None:
        problems: list[tuple[str, object, str]] = []
        for name in ("initial_mid", "dt_s", "k", "trade_qty", "tick_size", "mark_interval_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                problems.append((f"synthetic.{name}", v, "a finite number > 0"))
        for name in ("sigma", "arrival_rate_per_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                problems.append((f"synthetic.{name}", v, "a finite number >= 0"))
        if self.background_offset_ticks < 0:
            problems.append(
                ("synthetic.background_offset_ticks", self.background_offset_ticks, "an int >= 0")
            )
        if any(not (s > 0) for s in self.background_sizes):
            problems.append(("synthetic.background_sizes", self.background_sizes, "sizes > 0"))
        if self.feed_latency_ns < 0:
            problems.append(("synthetic.feed_latency_ns", self.feed_latency_ns, "an int >= 0"))
        if problems:
            raise ConfigError(problems)


class SyntheticMarket:
    """A seeded stream of AS-world market events (see module docstring).

    Args:
        params: model parameters.
        seed: RNG seed; same params + seed → identical events.
        start_ts_ns: overrides ``params.start_ts_ns`` (e.g. the simulator's clock at start).
    """

    def __init__(
        self, params: SyntheticParams, seed: int, *, start_ts_ns: int | None = None
    ) -> None:
        self.params = params
        self.seed = seed
        self.start_ts_ns = params.start_ts_ns if start_ts_ns is None else int(start_ts_ns)
        self._dt_ns = round(params.dt_s * 1e9)
        self._mark_every = max(1, round(params.mark_interval_s / params.dt_s))
        streams = np.random.SeedSequence(seed).spawn(7)
        gens = [np.random.default_rng(s) for s in streams]
        self._rng_mid = gens[0]
        self._rng_side = {1: gens[1:4], -1: gens[4:7]}  # count, time, depth per side
        self._next_step = 0
        self._mid = float(params.initial_mid)
        self._bid_top: int | None = None  # ticks
        self._ask_top: int | None = None
        self._pending = empty_events()

    @property
    def mid(self) -> float:
        """Mid of the last generated step, quote currency."""
        return self._mid

    def next_step_ts_ns(self) -> int:
        """Exchange time of the next step not generated yet, ns."""
        return self.start_ts_ns + self._next_step * self._dt_ns

    def events_until(self, t_end_ns: int) -> np.ndarray:
        """All not yet returned events with ``exch_ts < t_end_ns``, sorted.

        Args:
            t_end_ns: exclusive end, exchange time ns.

        Returns:
            A ``MARKET_EVENT_DTYPE`` array (possibly empty).
        """
        parts = [self._pending]
        while self.next_step_ts_ns() < t_end_ns:
            n = min(
                _MAX_STEPS_PER_BATCH,
                -(-(t_end_ns - self.next_step_ts_ns()) // self._dt_ns),
            )
            parts.append(self._steps(n))
        arr = np.concatenate(parts) if len(parts) > 1 else parts[0]
        arr = arr[np.argsort(arr["exch_ts"], kind="stable")]
        cut = int(np.searchsorted(arr["exch_ts"], t_end_ns, side="left"))
        self._pending = arr[cut:]
        return arr[:cut]

    def due_until(self, now_ns: int) -> np.ndarray:
        """Events with ``exch_ts <= now_ns`` (the simulator's source protocol)."""
        return self.events_until(now_ns + 1)

    def generate(self, duration_s: float) -> np.ndarray:
        """The events of the next ``duration_s`` seconds (from the current position).

        Args:
            duration_s: span, seconds.
        """
        return self.events_until(self.next_step_ts_ns() + round(duration_s * 1e9))

    # ------------------------------------------------------------------------------------

    def _steps(self, n: int) -> np.ndarray:
        p = self.params
        j0 = self._next_step
        steps = np.arange(j0, j0 + n, dtype=np.int64)
        t = self.start_ts_ns + steps * self._dt_ns
        incs = self._rng_mid.standard_normal(n) * (p.sigma * math.sqrt(p.dt_s))
        if j0 == 0:
            incs[0] = 0.0  # step 0 is the initial mid
        # sequential accumulation from the last mid: identical however time is chunked
        mids = np.cumsum(np.concatenate(([self._mid], incs)))[1:]
        self._mid = float(mids[-1])
        self._next_step = j0 + n

        book = self._book(t, mids)
        marks = self._marks(steps, t, mids)
        trades = [self._trades(side, t, mids) for side in (1, -1)]
        out = np.concatenate([book, marks, *trades])
        out["local_ts"] = out["exch_ts"] + p.feed_latency_ns
        return out[np.argsort(out["exch_ts"], kind="stable")]

    def _trades(self, side: int, t: np.ndarray, mids: np.ndarray) -> np.ndarray:
        p = self.params
        rng_n, rng_t, rng_d = self._rng_side[side]
        counts = rng_n.poisson(p.arrival_rate_per_s * p.dt_s, size=len(t))
        m = int(counts.sum())
        offsets = (rng_t.random(m) * self._dt_ns).astype(np.int64)
        depths = rng_d.exponential(1.0 / p.k, size=m)
        step = np.repeat(np.arange(len(t)), counts)
        order = np.lexsort((offsets, step))
        step, offsets, depths = step[order], offsets[order], depths[order]
        limit = mids[step] + side * depths
        q = limit / p.tick_size
        ticks = np.floor(q + 1e-9) if side > 0 else np.ceil(q - 1e-9)
        out = empty_events(m)
        out["kind"] = EventKind.TRADE
        out["side"] = side
        out["exch_ts"] = t[step] + offsets
        out["price"] = np.round(ticks * p.tick_size, 10)
        out["qty"] = p.trade_qty
        return out

    def _marks(self, steps: np.ndarray, t: np.ndarray, mids: np.ndarray) -> np.ndarray:
        p = self.params
        sel = steps % self._mark_every == 0
        ts, mm = t[sel], mids[sel]
        kinds = [EventKind.MARK, EventKind.INDEX]
        values = [mm, mm - p.basis]
        if p.funding_rate is not None:
            kinds.append(EventKind.FUNDING_RATE)
            values.append(np.full(len(mm), p.funding_rate))
        out = np.zeros((len(mm), len(kinds)), dtype=MARKET_EVENT_DTYPE)
        for c, (k, v) in enumerate(zip(kinds, values, strict=True)):
            out[:, c]["kind"] = k
            out[:, c]["exch_ts"] = ts
            out[:, c]["price"] = v
        return out.reshape(-1)  # row-major: per timestamp MARK, INDEX(, FUNDING_RATE)

    def _book(self, t: np.ndarray, mids: np.ndarray) -> np.ndarray:
        p = self.params
        sizes = p.background_sizes
        depth = len(sizes)
        if depth == 0:
            return empty_events()
        tick = p.tick_size
        q = mids / tick
        bid_tops = (np.floor(q + 1e-9) - p.background_offset_ticks).astype(np.int64)
        ask_tops = (np.ceil(q - 1e-9) + p.background_offset_ticks).astype(np.int64)
        rows: list[tuple[int, int, int, float, float]] = []  # kind, side, ts, price, qty
        prev_b, prev_a = self._bid_top, self._ask_top
        if prev_b is None or prev_a is None:
            ts0 = int(t[0])
            rows.append((EventKind.BOOK_CLEAR, 0, ts0, 0.0, 0.0))
            b0, a0 = int(bid_tops[0]), int(ask_tops[0])
            rows.extend(
                (EventKind.BOOK_LEVEL, 1, ts0, (b0 - i) * tick, sizes[i]) for i in range(depth)
            )
            rows.extend(
                (EventKind.BOOK_LEVEL, -1, ts0, (a0 + i) * tick, sizes[i]) for i in range(depth)
            )
            prev_b, prev_a = b0, a0
        changed = np.flatnonzero(
            (bid_tops != np.roll(bid_tops, 1)) | (ask_tops != np.roll(ask_tops, 1))
        )
        first_b, first_a = int(bid_tops[0]), int(ask_tops[0])
        if first_b != prev_b or first_a != prev_a:
            changed = np.union1d(changed, [0])
        else:
            changed = changed[changed != 0]
        for j in changed.tolist():
            ts = int(t[j])
            nb, na = int(bid_tops[j]), int(ask_tops[j])
            # asks first when the book moves up, bids first when it moves down: never crossed
            order = (
                ((-1, prev_a, na), (1, prev_b, nb))
                if nb > prev_b
                else ((1, prev_b, nb), (-1, prev_a, na))
            )
            for side, old, new in order:
                if old != new:
                    _diff_side(rows, side, ts, old, new, sizes, tick)
            prev_b, prev_a = nb, na
        self._bid_top, self._ask_top = prev_b, prev_a
        if not rows:
            return empty_events()
        out = empty_events(len(rows))
        k, s, ts_, pr, qt = zip(*rows, strict=True)
        out["kind"], out["side"], out["exch_ts"], out["price"], out["qty"] = k, s, ts_, pr, qt
        out["price"] = np.round(out["price"], 10)
        return out


def _diff_side(
    rows: list[tuple[int, int, int, float, float]],
    side: int,
    ts: int,
    old_top: int,
    new_top: int,
    sizes: tuple[float, ...],
    tick: float,
) -> None:
    """Append the level changes of one side moving its top from ``old_top`` to ``new_top``."""
    depth = len(sizes)
    # level i sits at top - side * i ticks (bids go down, asks go up)
    old = {old_top - side * i: sizes[i] for i in range(depth)}
    new = {new_top - side * i: sizes[i] for i in range(depth)}
    for px, _sz in old.items():
        if px not in new:
            rows.append((EventKind.BOOK_LEVEL, side, ts, px * tick, 0.0))
    for px, sz in new.items():
        if old.get(px) != sz:
            rows.append((EventKind.BOOK_LEVEL, side, ts, px * tick, sz))
