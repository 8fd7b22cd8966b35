"""Price and amount checks of insert/amend/mass_quote (thalex_protocol.md §1, §5.2, §8).

Values are first rounded to 8 decimals (the exchange does so), then checked against the
instrument's ``tick_size``, ``volume_tick_size`` and ``min_order_amount``.
"""

from __future__ import annotations

from thalex_mm.core.types import Instrument
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.sim.engine.outputs import EngineError

__all__ = ["check_amount", "check_price"]

_ALIGN_EPS = 1e-6
_MEMO_MAX = 8192
# Results of valid float inputs, per grid: prices and amounts repeat a lot on a quoting
# engine, and a checked value is a pure function of (grid, value). Bounded; cleared when full.
_price_memo: dict[tuple[float, float], tuple[int, float]] = {}
_amount_memo: dict[tuple[float, float, float], float] = {}


def check_price(inst: Instrument, price: float | None) -> tuple[int, float] | EngineError:
    """Return ``(ticks, price)`` or the error (INVALID_PRICE / PRICE_NOT_ALIGNED)."""
    if type(price) is float:
        key = (inst.tick_size, price)
        hit = _price_memo.get(key)
        if hit is not None:
            return hit
        res = _check_price(inst, price)
        if not isinstance(res, EngineError):
            if len(_price_memo) >= _MEMO_MAX:
                _price_memo.clear()
            _price_memo[key] = res
        return res
    return _check_price(inst, price)


def _check_price(inst: Instrument, price: float | None) -> tuple[int, float] | EngineError:
    if price is None:
        return EngineError(ErrorCode.INVALID_PRICE, "a limit order needs a price")
    try:
        p = round(float(price), 8)
    except (TypeError, ValueError):
        return EngineError(ErrorCode.INVALID_PRICE, f"price {price!r} is not a number")
    if not p > 0.0 or p != p or p == float("inf"):
        return EngineError(ErrorCode.INVALID_PRICE, f"price {p} must be > 0")
    tick = inst.tick_size
    steps = p / tick
    ticks = round(steps)
    if abs(steps - ticks) >= _ALIGN_EPS:
        return EngineError(
            ErrorCode.PRICE_NOT_ALIGNED,
            f"price {p} is not a multiple of tick_size {tick}",
        )
    return ticks, round(ticks * tick, 8)


def check_amount(inst: Instrument, amount: float, *, allow_zero: bool = False) -> float | EngineError:
    """Return the rounded amount or the error (INVALID_QUANTITY)."""
    if type(amount) is float and amount > 0.0:  # > 0: allow_zero cannot matter
        key = (inst.volume_tick_size, inst.min_order_amount, amount)
        hit = _amount_memo.get(key)
        if hit is not None:
            return hit
        res = _check_amount(inst, amount, allow_zero)
        if not isinstance(res, EngineError):
            if len(_amount_memo) >= _MEMO_MAX:
                _amount_memo.clear()
            _amount_memo[key] = res
        return res
    return _check_amount(inst, amount, allow_zero)


def _check_amount(inst: Instrument, amount: float, allow_zero: bool) -> float | EngineError:
    try:
        a = round(float(amount), 8)
    except (TypeError, ValueError):
        return EngineError(ErrorCode.INVALID_QUANTITY, f"amount {amount!r} is not a number")
    if allow_zero and a == 0.0:
        return 0.0
    if not a > 0.0 or a == float("inf"):
        return EngineError(ErrorCode.INVALID_QUANTITY, f"amount {a} must be > 0")
    steps = a / inst.volume_tick_size
    if abs(steps - round(steps)) >= _ALIGN_EPS:
        return EngineError(
            ErrorCode.INVALID_QUANTITY,
            f"amount {a} is not a multiple of volume_tick_size {inst.volume_tick_size}",
        )
    if a < inst.min_order_amount - 1e-12:
        return EngineError(
            ErrorCode.INVALID_QUANTITY,
            f"amount {a} is below min_order_amount {inst.min_order_amount}",
        )
    return a
