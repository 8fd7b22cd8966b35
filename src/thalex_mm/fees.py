"""Fee rates: one source of truth for the model, the simulated exchange and the summaries.

The config's ``avellaneda.maker_fee_rate`` / ``taker_fee_rate`` tell the model what a fill
costs (it keeps the half-spread above the maker fee). In paper mode the simulated exchange must
charge the *same* rates, or paper PnL quietly differs from what the model planned for; the
defaults below are shared by the config and the simulator for that reason, and
:func:`paper_fee_rates` makes a ``--sim maker_fee_rate=...`` override reach the model too.
Every summary names the rates that applied (:meth:`FeeRates.describe`).

Rates are fractions of notional (price × amount); negative = rebate. ``bp`` = 1e-4.
Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_MAKER_FEE_RATE", "DEFAULT_TAKER_FEE_RATE", "FeeRates", "paper_fee_rates"]

#: Maker fee, fraction of notional (0 = none; negative = rebate). Config and simulator default.
DEFAULT_MAKER_FEE_RATE = 0.0
#: Taker fee, fraction of notional (0.0005 = 5 bp). Config and simulator default.
DEFAULT_TAKER_FEE_RATE = 0.0005


@dataclass(frozen=True, slots=True, kw_only=True)
class FeeRates:
    """The fee rates of a run and where they came from.

    Attributes:
        maker: maker fee, fraction of notional (negative = rebate).
        taker: taker fee, fraction of notional.
        source: where they came from, e.g. ``"config avellaneda.*"`` or ``"--sim override"``.
    """

    maker: float
    taker: float
    source: str = "config avellaneda.*"

    def describe(self) -> str:
        """``maker 0.00 bp, taker 5.00 bp of notional (config avellaneda.*)``."""
        return (f"maker {self.maker * 1e4:.2f} bp, taker {self.taker * 1e4:.2f} bp of notional "
                f"({self.source})")

    def as_dict(self) -> dict[str, Any]:
        """For summaries: ``{"maker_fee_rate", "taker_fee_rate", "source"}``."""
        return {"maker_fee_rate": self.maker, "taker_fee_rate": self.taker, "source": self.source}


def paper_fee_rates(config: Any, sim_kwargs: Mapping[str, Any] | None) -> tuple[Any, dict[str, Any], FeeRates]:
    """The one set of rates a paper run uses, given to both the model and the simulator.

    A ``maker_fee_rate`` / ``taker_fee_rate`` in ``sim_kwargs`` (the CLI's ``--sim``) wins
    over the config and is written into the config the core gets, so the model quotes for the
    fees it will be charged.

    Args:
        config: the BOT_CONFIG (a pydantic model with ``avellaneda``).
        sim_kwargs: extra arguments for the simulated exchange, or None.

    Returns:
        ``(config for the core, kwargs for the simulator, the rates)``.
    """
    av = config.avellaneda
    extra = dict(sim_kwargs or {})
    maker = float(extra.get("maker_fee_rate", av.maker_fee_rate))
    taker = float(extra.get("taker_fee_rate", av.taker_fee_rate))
    overridden = [k for k in ("maker_fee_rate", "taker_fee_rate") if k in extra]
    source = "--sim override of " + ", ".join(overridden) if overridden else "config avellaneda.*"
    rates = FeeRates(maker=maker, taker=taker, source=source)
    if overridden:
        av = av.model_copy(update={"maker_fee_rate": maker, "taker_fee_rate": taker})
        config = config.model_copy(update={"avellaneda": av})
    extra["maker_fee_rate"] = maker
    extra["taker_fee_rate"] = taker
    return config, extra, rates
