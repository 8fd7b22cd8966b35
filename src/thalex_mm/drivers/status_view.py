"""The live terminal status (rich): market, model figures, our quotes, position, PnL, risk."""

from __future__ import annotations

from typing import Any

from rich.table import Table

from thalex_mm.core.market_maker import CoreStatus

__all__ = ["render_status"]


def _f(x: float | None, digits: int = 2) -> str:
    return "-" if x is None else f"{x:,.{digits}f}"


def _intensity_text(s: CoreStatus) -> str:
    """A, k (per quote currency and per tick), source, confidence and time on fitted values."""
    conf = getattr(s, "intensity_confidence", None)
    frac = getattr(s, "intensity_fitted_fraction", None)
    parts = [f"{_f(s.A, 3)} · {_f(s.k, 4)}, {_f(getattr(s, 'k_per_tick', None), 3)}/tick ({s.intensity_source}"]
    if conf is not None:
        parts.append(f", conf {conf:.2f}")
    if frac is not None:
        parts.append(f", {100 * frac:.0f}% fitted")
    return "".join(parts) + ")"


def render_status(s: CoreStatus, stats: Any, totals: Any) -> Table:
    """One table with everything a trader checks at a glance."""
    t = Table(title=f"thalex-mm · {s.instrument} · {'connected' if s.connected else 'DISCONNECTED'}", show_header=False, expand=False)
    t.add_column("what", style="bold")
    t.add_column("value")
    t.add_column("what", style="bold")
    t.add_column("value")
    colour = {"active": "green", "reducing": "yellow", "halted": "red"}.get(s.trading_state, "white")
    rows = [
        ("market bid / ask", f"{_f(s.best_bid, 1)} / {_f(s.best_ask, 1)}", "state", f"[{colour}]{s.trading_state.upper()}[/] ({s.state_reason})"),
        ("mid · mark · index", f"{_f(s.mid, 1)} · {_f(s.mark, 1)} · {_f(s.index, 1)}", "position", f"{s.position:+.3f} @ {_f(s.average_price, 1)}"),
        ("fair value", _f(s.fair_value), "PnL total", f"{s.pnl_total:+,.2f} USD"),
        ("reservation price", _f(s.reservation), "realised / unrealised", f"{s.pnl_realised:+,.2f} / {s.pnl_unrealised:+,.2f}"),
        ("half-spread", _f(s.half_spread), "fees", f"{s.fees:,.2f}"),
        ("our bid", f"{_f(s.our_bid, 1)} × {_f(s.our_bid_size, 3)}", "fills / volume", f"{s.fills} / {s.volume:.3f}"),
        ("our ask", f"{_f(s.our_ask, 1)} × {_f(s.our_ask_size, 3)}", "quote steps", str(s.quote_steps)),
        ("σ (USD/√s)", f"{_f(s.sigma, 3)}{'' if s.sigma_warm else ' (prior)'}", "inserts/amends/cancels", f"{totals.inserts}/{totals.amends}/{totals.cancels}"),
        ("A (1/s) · k (1/USD, 1/tick)", _intensity_text(s), "rejects / throttles", f"{s.rejects} / {s.throttles}"),
        ("γ", "-" if s.gamma is None else f"{s.gamma:g}", "reconnects", str(stats.reconnects)),
        ("open orders", str(len(s.open_orders)), "budget (msgs/s)", f"{s.budget_used} / {s.budget_limit}"),
        ("", "", "last error", stats.last_error[-60:] or "-"),
    ]
    for r in rows:
        t.add_row(*r)
    return t
