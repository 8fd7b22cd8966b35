"""Market-making model formulas: Avellaneda–Stoikov (finite horizon) and GLFT (infinite horizon).

Pure functions of plain floats (the AS price formulas also accept numpy arrays for ``s`` and
``q``, which the paper reproduction in :mod:`thalex_mm.validate.as2008` relies on). The exact
formulas, with references, are in docs/model.md §1–§2.

Units (the same in every function):

* ``s``: mid / fair value, quote currency (USD).
* ``q``: inventory in model units, dimensionless (position in contracts / ``unit_size``).
* ``gamma`` (γ): risk aversion, 1 / (quote currency · unit).
* ``sigma`` (σ): volatility of the price, quote currency per √second (σ_price, not log-return σ).
* ``tau_s`` (T − t): time to the horizon, seconds.
* ``A``: order arrival rate at depth 0, per second per side.
* ``k``: arrival decay, 1 / quote currency (λ(δ) = A·e^(−kδ)).

References: M. Avellaneda, S. Stoikov, "High-frequency trading in a limit order book",
Quantitative Finance 8(3), 2008. O. Guéant, C.-A. Lehalle, J. Fernandez-Tapia, "Dealing with
the inventory risk: a solution to the market making problem", Math. Fin. Econ. 7, 2013.
O. Guéant, "Optimal market making", Applied Mathematical Finance 24(2), 2017.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

__all__ = [
    "SECONDS_PER_DAY",
    "ModelQuote",
    "as_half_spread",
    "as_quote",
    "as_reservation_price",
    "as_spread",
    "glft_coefficients",
    "glft_quote",
    "parse_session_end_utc",
    "seconds_to_session_end",
]

SECONDS_PER_DAY = 86_400
_NS_PER_S = 1_000_000_000
_NS_PER_DAY = SECONDS_PER_DAY * _NS_PER_S


@dataclass(frozen=True, slots=True)
class ModelQuote:
    """Unrounded model output (quote currency).

    Attributes:
        center: the price the quotes are centred on (AS reservation price r; GLFT s − skew·q).
        half_spread: distance from ``center`` to each quote, quote currency.
        skew: centre shift per unit of inventory, quote currency per unit
            (AS: γσ²(T − t); GLFT: σ·c₂ times the skew multiplier).
        bid: center − half_spread.
        ask: center + half_spread.
    """

    center: float
    half_spread: float
    skew: float
    bid: float
    ask: float


# ---------------------------------------------------------------- horizon


def parse_session_end_utc(hhmm: str) -> int:
    """``"HH:MM"`` (UTC) → seconds after midnight UTC, 0..86399.

    Raises:
        ValueError: naming the value and the expected format.
    """
    try:
        hh, mm = hhmm.split(":")
        h, m = int(hh), int(mm)
    except (ValueError, AttributeError):
        raise ValueError(f"session_end_utc: got {hhmm!r}, expected HH:MM") from None
    if not (0 <= h < 24 and 0 <= m < 60):
        raise ValueError(f"session_end_utc: got {hhmm!r}, expected HH in 00-23 and MM in 00-59")
    return h * 3600 + m * 60


def seconds_to_session_end(ts_ns: int, session_end_s: int) -> float:
    """Time to the next daily session end, T − t, seconds in (0, 86400].

    Pure arithmetic on the epoch timestamp (UTC days are exactly 86400 s in Unix time). At the
    session end instant itself the next session has started, so the result is 86400, not 0.

    Args:
        ts_ns: now, ns since the Unix epoch.
        session_end_s: session end, seconds after midnight UTC (see :func:`parse_session_end_utc`).
    """
    rem_ns = (session_end_s * _NS_PER_S - ts_ns) % _NS_PER_DAY
    return (rem_ns or _NS_PER_DAY) / _NS_PER_S


# ---------------------------------------------------------------- Avellaneda–Stoikov


def as_reservation_price(s, q, gamma: float, sigma: float, tau_s: float):
    """AS reservation (indifference) price r = s − q·γ·σ²·(T − t), quote currency.

    Args:
        s: mid, quote currency (float or numpy array).
        q: inventory, units (float or numpy array).
        gamma: risk aversion, 1/(quote currency · unit).
        sigma: σ, quote currency per √second (enters squared).
        tau_s: T − t, seconds.
    """
    return s - q * (gamma * sigma * sigma * tau_s)


def as_spread(gamma: float, sigma: float, tau_s: float, k: float) -> float:
    """AS total optimal spread δ^a + δ^b = γ·σ²·(T − t) + (2/γ)·ln(1 + γ/k), quote currency.

    Args:
        gamma: risk aversion, 1/(quote currency · unit), > 0.
        sigma: σ, quote currency per √second.
        tau_s: T − t, seconds.
        k: arrival decay, 1/quote currency, > 0.
    """
    return gamma * sigma * sigma * tau_s + (2.0 / gamma) * math.log1p(gamma / k)


def as_half_spread(gamma: float, sigma: float, tau_s: float, k: float) -> float:
    """Half of :func:`as_spread`, quote currency."""
    return 0.5 * gamma * sigma * sigma * tau_s + math.log1p(gamma / k) / gamma


def as_quote(s: float, q: float, gamma: float, sigma: float, tau_s: float, k: float) -> ModelQuote:
    """AS bid and ask: r ∓ spread/2 (units as in the module docstring)."""
    skew = gamma * sigma * sigma * tau_s
    r = s - q * skew
    half = 0.5 * skew + math.log1p(gamma / k) / gamma
    return ModelQuote(r, half, skew, r - half, r + half)


# ---------------------------------------------------------------- GLFT


def glft_coefficients(gamma: float, k: float, A: float, delta: float = 1.0, xi: float | None = None) -> tuple[float, float]:
    """GLFT closed-form coefficients (Guéant 2017, with lot size Δ).

    c₁ = (1/(ξΔ))·ln(1 + ξΔ/k)                                    [quote currency]
    c₂ = sqrt( γ / (2·A·Δ·k) · (1 + ξΔ/k)^(k/(ξΔ) + 1) )           [√second / unit]

    so that σ·c₂ is quote currency per unit of inventory. As ξΔ → 0: c₁ → 1/k and
    (1 + ξΔ/k)^(k/(ξΔ)+1) → e.

    Args:
        gamma: risk aversion γ, 1/(quote currency · unit), > 0.
        k: arrival decay, 1/quote currency, > 0.
        A: arrival rate at depth 0, per second per side, > 0.
        delta: lot size Δ in inventory units (1 when q is counted in lots). Default 1.
        xi: ξ; None means ξ = γ (the usual choice; ξ = 0 is the risk-neutral-objective variant).

    Returns:
        ``(c1, c2)``.
    """
    if not (gamma > 0.0 and k > 0.0 and A > 0.0 and delta > 0.0):
        raise ValueError(f"glft: got gamma={gamma!r} k={k!r} A={A!r} delta={delta!r}, expected all > 0")
    x = (gamma if xi is None else xi) * delta
    if x < 1e-12:
        c1 = 1.0 / k
        power = math.e
    else:
        lp = math.log1p(x / k)
        c1 = lp / x
        power = math.exp((k / x + 1.0) * lp)
    c2 = math.sqrt(gamma / (2.0 * A * delta * k) * power)
    return c1, c2


def glft_quote(
    s: float,
    q: float,
    gamma: float,
    sigma: float,
    k: float,
    A: float,
    *,
    delta: float = 1.0,
    xi: float | None = None,
    half_spread_multiplier: float = 1.0,
    skew_multiplier: float = 1.0,
) -> ModelQuote:
    """GLFT infinite-horizon quotes (Guéant 2017, eq. for δ^b, δ^a with Δ):

    half_spread = m_h · (c₁ + (Δ/2)·σ·c₂)          skew = m_s · σ·c₂
    δ^b = half_spread + skew·q     δ^a = half_spread − skew·q
    bid = s − δ^b,  ask = s + δ^a  (so the centre is s − skew·q).

    Units as in the module docstring; ``half_spread_multiplier`` (m_h) and ``skew_multiplier``
    (m_s) are dimensionless (1 = the paper).
    """
    c1, c2 = glft_coefficients(gamma, k, A, delta, xi)
    sc2 = sigma * c2
    half = half_spread_multiplier * (c1 + 0.5 * delta * sc2)
    skew = skew_multiplier * sc2
    center = s - skew * q
    return ModelQuote(center, half, skew, center - half, center + half)
