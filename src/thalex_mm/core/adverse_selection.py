"""Adverse-selection defence: trade-flow toxicity, a fade on the side just filled, and an
online monitor of our own markouts. Each part is switchable (``quoting`` section).

Why (issue 13, measured on the shared Binance sessions): most losing fills come in bursts. On
BTCUSDT 2024, 71 % of the fills followed a fill on the same side within 2 s, and fills taken
while the last 2 s of public flow ran against us (imbalance beyond 0.3) marked out at −125
ticks after 10 s against −12 for the rest. Each part answers one of those facts:

* **Toxicity** (``toxicity_enabled``): I = EW(signed taker volume) / EW(|taker volume|) with
  half-life ``toxicity_halflife_s``, in −1..1 (+1 = only buyers). The quote centre moves by
  ``toxicity_skew``·I·h and the side facing the flow (the ask when buyers press) moves out by
  ``toxicity_widen``·|I|·h, h the model half-spread (quote currency). Units cancel: I is
  dimensionless, so the shift scales with the instrument's own spread.
* **Fade** (``fade_enabled``): each fill adds ``fade_halfspreads``·h to the distance of the side
  that was filled, decaying with half-life ``fade_halflife_s``: a sweep that just took our bid
  does not find the next bid one requote later at the same place.
* **Markout monitor** (``markout_monitor_enabled``): each own fill is marked ``markout_horizon_s``
  later against the mid then: m = side·(mid − price), quote currency per contract (> 0 = good).
  The EW mean m̄ over the last ~``markout_halflife_fills`` fills widens both sides by
  max(0, −m̄)·``markout_widen``: the bot pays for its own recent adverse selection with
  distance, and returns to the model's spread when its fills stop losing.

Pure: time comes in as ns arguments; no clock.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from thalex_mm.config.models import QuotingConfig
from thalex_mm.core.types import Side

__all__ = ["AdverseSelectionGuard", "QuoteAdjustment"]

_NS = 1_000_000_000


@dataclass(slots=True, unsafe_hash=True)
class QuoteAdjustment:
    """What the guard adds to the model quote, quote currency.

    Attributes:
        center_shift: added to the fair value (> 0 moves both quotes up).
        widen_bid: extra distance of the bid below the centre, >= 0.
        widen_ask: extra distance of the ask above the centre, >= 0.
        toxicity: the flow imbalance I, −1..1 (0 when off).
        markout: EW mean of our marked-out fills, quote currency per contract (nan: none yet).
    """

    center_shift: float = 0.0
    widen_bid: float = 0.0
    widen_ask: float = 0.0
    toxicity: float = 0.0
    markout: float = math.nan

    def __init__(self, center_shift: float = 0.0, widen_bid: float = 0.0, widen_ask: float = 0.0,
                 toxicity: float = 0.0, markout: float = math.nan) -> None:
        # A written __init__: mypyc compiles it (docs/build.md, "Per-event value objects").
        self.center_shift = center_shift
        self.widen_bid = widen_bid
        self.widen_ask = widen_ask
        self.toxicity = toxicity
        self.markout = markout


NO_ADJUSTMENT = QuoteAdjustment()


class AdverseSelectionGuard:
    """The three defences behind one call (see the module docstring).

    Args:
        config: the ``quoting`` section.
    """

    def __init__(self, config: QuotingConfig) -> None:
        self.config = config
        self.toxicity_on = config.toxicity_enabled
        self.fade_on = config.fade_enabled
        self.monitor_on = config.markout_monitor_enabled
        self._flow_signed = 0.0
        self._flow_abs = 0.0
        self._flow_ts_ns: int | None = None
        self._fade = {Side.BUY: 0.0, Side.SELL: 0.0}  # in half-spreads, at _fade_ts_ns
        self._fade_ts_ns = 0
        self._pending: deque[tuple[int, Side, float]] = deque(maxlen=10_000)
        self._mk_sum = 0.0
        self._mk_w = 0.0

    @property
    def enabled(self) -> bool:
        """True when any part is on."""
        return self.toxicity_on or self.fade_on or self.monitor_on

    # ---------------------------------------------------------------- inputs

    def _decay_flow(self, now_ns: int) -> None:
        last = self._flow_ts_ns
        if last is not None and now_ns > last:
            f = 0.5 ** ((now_ns - last) / _NS / self.config.toxicity_halflife_s)
            self._flow_signed *= f
            self._flow_abs *= f
        if last is None or now_ns > last:
            self._flow_ts_ns = now_ns

    def on_public_trade(self, ts_ns: int, amount: float, aggressor: Side) -> None:
        """A public trade of ``amount`` contracts whose taker was ``aggressor``."""
        if not self.toxicity_on or not amount > 0.0:
            return
        self._decay_flow(ts_ns)
        self._flow_signed += amount if aggressor is Side.BUY else -amount
        self._flow_abs += amount

    def on_fill(self, ts_ns: int, side: Side, price: float) -> None:
        """One of our orders on ``side`` filled at ``price`` (quote currency) at ``ts_ns``."""
        if self.fade_on:
            self._decay_fade(ts_ns)
            self._fade[side] += self.config.fade_halfspreads
        if self.monitor_on:
            self._pending.append((ts_ns, side, price))

    def _decay_fade(self, now_ns: int) -> None:
        if now_ns > self._fade_ts_ns:
            f = 0.5 ** ((now_ns - self._fade_ts_ns) / _NS / self.config.fade_halflife_s)
            self._fade[Side.BUY] *= f
            self._fade[Side.SELL] *= f
            self._fade_ts_ns = now_ns

    def _mark(self, now_ns: int, mid: float | None) -> None:
        """Mark the fills whose horizon has passed against ``mid`` (the mid now)."""
        if mid is None or not self._pending:
            return
        horizon_ns = int(self.config.markout_horizon_s * _NS)
        lam = 0.5 ** (1.0 / self.config.markout_halflife_fills)
        while self._pending and self._pending[0][0] + horizon_ns <= now_ns:
            _, side, price = self._pending.popleft()
            m = (mid - price) if side is Side.BUY else (price - mid)
            self._mk_sum = lam * self._mk_sum + m
            self._mk_w = lam * self._mk_w + 1.0

    # ---------------------------------------------------------------- output

    def toxicity(self, now_ns: int) -> float:
        """Flow imbalance I at ``now_ns``, −1..1 (0 with no flow or when off)."""
        if not self.toxicity_on:
            return 0.0
        self._decay_flow(now_ns)
        return self._flow_signed / self._flow_abs if self._flow_abs > 1e-12 else 0.0

    def markout(self) -> float:
        """EW mean markout of our fills, quote currency per contract; nan before the first."""
        return self._mk_sum / self._mk_w if self._mk_w > 0.0 else math.nan

    def adjust(self, now_ns: int, half_spread: float, mid: float | None) -> QuoteAdjustment:
        """The adjustment for a quote step at ``now_ns``.

        Args:
            now_ns: now, ns since epoch.
            half_spread: the model half-spread h, quote currency (> 0).
            mid: the market mid now, quote currency (marks due fills), or None.
        """
        if not self.enabled:
            return NO_ADJUSTMENT
        cfg = self.config
        shift = wb = wa = 0.0
        tox = 0.0
        if self.toxicity_on:
            tox = self.toxicity(now_ns)
            shift = cfg.toxicity_skew * tox * half_spread
            if tox > 0.0:
                wa += cfg.toxicity_widen * tox * half_spread
            else:
                wb += cfg.toxicity_widen * -tox * half_spread
        if self.fade_on:
            self._decay_fade(now_ns)
            wb += self._fade[Side.BUY] * half_spread
            wa += self._fade[Side.SELL] * half_spread
        mk = math.nan
        if self.monitor_on:
            self._mark(now_ns, mid)
            mk = self.markout()
            if mk < 0.0:
                extra = -mk * cfg.markout_widen
                wb += extra
                wa += extra
        return QuoteAdjustment(shift, wb, wa, tox, mk)
