"""The rows the journal gives back: one frozen dataclass per table.

Field names match the column names (see ``thalex_mm.store.schema``). Prices are in the
instrument's quote currency (USD for Thalex perpetuals), amounts in contracts, times are
nanoseconds since the Unix epoch (simulated time in a backtest).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ErrorRecord",
    "FillRecord",
    "OrderRecord",
    "PnlSnapshot",
    "QuoteRecord",
    "RiskEventRecord",
    "RunInfo",
    "RunMode",
    "RunTotals",
]


class RunMode(StrEnum):
    """How a run traded."""

    PAPER = "paper"
    LIVE = "live"
    BACKTEST = "backtest"


@dataclass(frozen=True, slots=True, kw_only=True)
class RunInfo:
    """One run. ``stopped_ns``/``exit_reason`` are None while running (or after a crash).

    ``pid``/``host``/``account``: the process id and host name that ran it and the account
    traded (None for runs journaled before schema version 4, or when unknown); crash recovery
    uses them to tell a dead run from one still running.
    """

    run_id: str
    mode: str
    started_ns: int
    stopped_ns: int | None
    exit_reason: str | None
    version: str
    config_json: str
    config_hash: str
    instrument: str | None
    network: str | None
    fill_count: int
    pid: int | None = None
    host: str | None = None
    account: str | None = None

    @property
    def duration_s(self) -> float | None:
        """Seconds from start to stop, None when the run never finished."""
        if self.stopped_ns is None:
            return None
        return (self.stopped_ns - self.started_ns) / 1e9


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRecord:
    """One order state change; ``event`` is e.g. sent / acked / rejected / updated."""

    run_id: str
    ts_ns: int
    event: str
    client_order_id: int | None
    order_id: str | None
    side: str | None
    price: float | None
    amount: float | None
    filled_amount: float | None
    status: str | None
    change_reason: str | None
    delete_reason: str | None
    detail: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class FillRecord:
    """One fill of ours. ``fee`` in quote currency (negative = rebate)."""

    run_id: str
    ts_ns: int
    trade_id: str
    client_order_id: int | None
    order_id: str | None
    side: str
    price: float
    amount: float
    fee: float
    maker_taker: str | None
    position_after: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class QuoteRecord:
    """One sampled quote: model inputs and the prices/sizes it produced."""

    run_id: str
    ts_ns: int
    mid: float | None
    fair_value: float | None
    reservation: float | None
    bid: float | None
    ask: float | None
    bid_size: float | None
    ask_size: float | None
    sigma: float | None
    A: float | None  # the Avellaneda-Stoikov arrival intensity, named as in the paper
    k: float | None
    gamma: float | None


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskEventRecord:
    """One trading-state change (ACTIVE / REDUCING / HALTED) with its reason."""

    run_id: str
    ts_ns: int
    state: str
    previous: str | None
    reason: str
    detail: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PnlSnapshot:
    """Position and PnL at one moment; money in quote currency, position in contracts."""

    run_id: str
    ts_ns: int
    position: float
    avg_price: float | None
    mark: float | None
    realised: float
    unrealised: float
    fees: float
    funding: float
    equity: float


@dataclass(frozen=True, slots=True, kw_only=True)
class ErrorRecord:
    """An error seen during a run: ``source`` e.g. exchange/transport/core, ``code`` if any."""

    run_id: str
    ts_ns: int
    source: str
    code: str | None
    message: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunTotals:
    """What a run did, for ``thalex-mm runs``.

    Attributes:
        volume: contracts traded (sum of fill amounts).
        pnl_total: total PnL after fees and funding at the last PnL snapshot, quote currency;
            None when the run journaled no snapshot (e.g. a backtest).
        max_abs_position: largest |position| seen, contracts: the fills' running position
            (exact; from 0 or their ``position_after``) and the PnL snapshots (sampled).
    """

    volume: float
    pnl_total: float | None
    max_abs_position: float
