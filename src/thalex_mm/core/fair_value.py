"""Fair value: mid, microprice, mark, or index plus an EWMA basis; funding adjustment; inventory.

Units: prices in quote currency, timestamps in ns, half-life and horizon in seconds,
funding rate as a fraction of notional per funding period (Thalex ``funding_rate``).

Funding adjustment (perpetuals, docs/model.md §3): with funding rate f > 0 longs pay shorts
f·price per contract per funding period P. Holding one contract for the horizon H costs the
long f·price·H/P, so the value of the contract to a holder over that horizon is

    fv_adj = fv · (1 − f · H / P)

i.e. positive funding lowers fair value (we lean to sell), negative funding raises it.
P is ``funding_period_s`` (default 86,400 s: Thalex states funding on a 24 h basis; this is an
assumption to check against the exchange documentation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from thalex_mm.config.models import FairValueSource, QuotingConfig

__all__ = ["FairValue", "FairValueModel", "inventory_units"]

_NS_PER_S = 1_000_000_000


def inventory_units(position: float, unit_size: float) -> float:
    """Inventory q in model units: position (contracts, short < 0) / unit_size (contracts)."""
    if not unit_size > 0.0:
        raise ValueError(f"unit_size: got {unit_size!r}, expected > 0")
    return position / unit_size


@dataclass(slots=True, unsafe_hash=True)
class FairValue:
    """Attributes:
    price: fair value after the funding adjustment, quote currency.
    raw: fair value before the funding adjustment, quote currency.
    funding_shift: price − raw, quote currency.
    basis: the smoothed (mid − index) basis, quote currency (nan until the first sample).
    """

    price: float
    raw: float
    funding_shift: float
    basis: float

    def __init__(self, price: float, raw: float, funding_shift: float, basis: float) -> None:
        # A written __init__: mypyc compiles it (docs/build.md, "Per-event value objects").
        self.price = price
        self.raw = raw
        self.funding_shift = funding_shift
        self.basis = basis


class FairValueModel:
    """Computes fair value from one of four sources.

    Args:
        config: the ``quoting`` section (fair_value source, basis_halflife_s, funding_adjust).
        funding_period_s: period the funding rate refers to, seconds. Not in the config;
            default 86,400 (24 h basis).
    """

    __slots__ = ("_basis", "_basis_ts_ns", "config", "funding_period_s", "source")

    def __init__(self, config: QuotingConfig, *, funding_period_s: float = 86_400.0) -> None:
        if not funding_period_s > 0:
            raise ValueError(f"funding_period_s: got {funding_period_s!r}, expected > 0")
        self.config = config
        self.source = config.fair_value
        self.funding_period_s = funding_period_s
        self._basis = math.nan
        self._basis_ts_ns = 0

    @property
    def basis(self) -> float:
        """Smoothed basis (mid − index), quote currency; nan before the first sample."""
        return self._basis

    def update_basis(self, ts_ns: int, mid: float | None, index: float | None) -> None:
        """Feed a (mid, index) pair observed at ``ts_ns``: EWMA of mid − index.

        Time-weighted: the new sample gets weight 1 − 0.5^(Δt / basis_halflife_s), with Δt the
        time since the previous sample in seconds (the first sample sets the basis).
        """
        if mid is None or index is None:
            return
        b = mid - index
        if math.isnan(self._basis):
            self._basis = b
        else:
            dt_s = max(ts_ns - self._basis_ts_ns, 0) / _NS_PER_S
            w = 1.0 - 0.5 ** (dt_s / self.config.basis_halflife_s)
            self._basis += w * (b - self._basis)
        self._basis_ts_ns = ts_ns

    def compute(
        self,
        *,
        mid: float | None,
        microprice: float | None = None,
        mark: float | None = None,
        index: float | None = None,
        funding_rate: float | None = None,
        horizon_s: float = 0.0,
    ) -> FairValue | None:
        """Fair value from the configured source; None when that source has no input yet.

        Args:
            mid: book mid, quote currency.
            microprice: book microprice, quote currency.
            mark: mark price, quote currency.
            index: index price, quote currency (INDEX_BASIS uses index + smoothed basis; before
                the first basis sample it falls back to the mid).
            funding_rate: fraction of notional per funding period (None = no adjustment).
            horizon_s: H, seconds over which funding is expected to accrue (>= 0).
        """
        src = self.source
        if src is FairValueSource.MID:
            raw = mid
        elif src is FairValueSource.MICROPRICE:
            raw = microprice
        elif src is FairValueSource.MARK:
            raw = mark
        else:
            raw = index + self._basis if index is not None and not math.isnan(self._basis) else mid
        if raw is None:
            return None
        shift = 0.0
        if self.config.funding_adjust and funding_rate:
            shift = -raw * funding_rate * horizon_s / self.funding_period_s
        return FairValue(raw + shift, raw, shift, self._basis)
