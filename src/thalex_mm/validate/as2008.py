"""Reproduction of Avellaneda & Stoikov (2008), §3.3 and Tables 1–3.

The AS world (the paper's simulation): mid s_0 = 100 moves each step by ±σ·√dt with
probability ½ each; over a step of dt, the bid at depth δ^b = s − bid is hit with probability
A·e^(−k·δ^b)·dt and the ask at δ^a = ask − s is lifted with probability A·e^(−k·δ^a)·dt
(clipped to [0, 1]), one unit each. T = 1, σ = 2, dt = 0.005 (200 steps), q_0 = 0, k = 1.5,
A = 140, 1000 paths.

* "inventory" strategy: our own :func:`thalex_mm.core.model.as_reservation_price` and
  :func:`thalex_mm.core.model.as_spread` with the finite horizon T − t = T − step·dt.
* "symmetric" strategy: the inventory strategy's average spread (over the steps; the spread
  does not depend on the path) centred on the mid.

Profit = cash + q_T·s_T. Both strategies see the same price steps and the same uniforms
(common random numbers). Vectorised across paths with numpy (this module is not in the
pure core; randomness comes from ``numpy.random.default_rng(seed)``).

The published figures (:data:`PAPER_TABLES`) are those of the journal version, Quantitative
Finance 8(3):217–224, 2008, Tables 1–3 (the 2006 preprint printed different numbers, e.g. an
average spread of 1.29 for γ = 0.1).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from thalex_mm.core.model import as_reservation_price, as_spread

__all__ = [
    "GAMMAS",
    "PAPER_TABLES",
    "AsWorld",
    "StrategyStats",
    "format_table",
    "run",
    "simulate",
]

GAMMAS: tuple[float, ...] = (0.1, 0.01, 1.0)
"""γ of Tables 1, 2 and 3."""

PAPER_TABLES: dict[float, dict[str, dict[str, float]]] = {
    0.1: {
        "inventory": {"spread": 1.49, "profit_mean": 65.0, "profit_sd": 6.6, "q_mean": 0.08, "q_sd": 2.9},
        "symmetric": {"spread": 1.49, "profit_mean": 68.4, "profit_sd": 12.7, "q_mean": 0.26, "q_sd": 8.4},
    },
    0.01: {
        "inventory": {"spread": 1.35, "profit_mean": 68.6, "profit_sd": 8.7, "q_mean": 0.12, "q_sd": 5.1},
        "symmetric": {"spread": 1.35, "profit_mean": 68.8, "profit_sd": 12.8, "q_mean": 0.09, "q_sd": 8.7},
    },
    1.0: {
        "inventory": {"spread": 3.02, "profit_mean": 31.4, "profit_sd": 5.0, "q_mean": 0.02, "q_sd": 1.7},
        "symmetric": {"spread": 3.02, "profit_mean": 44.0, "profit_sd": 11.0, "q_mean": 0.00, "q_sd": 5.1},
    },
}
"""Avellaneda & Stoikov (2008), Quantitative Finance 8(3), Tables 1–3: γ → strategy → figures."""


@dataclass(frozen=True, slots=True, kw_only=True)
class AsWorld:
    """Parameters of the paper's simulation (its §3.3 values by default).

    Attributes:
        s0: initial mid, price units.
        T: horizon, time units.
        sigma: σ, price per √time unit.
        dt: step, time units.
        k: arrival decay, 1/price.
        A: arrival rate at depth 0, per time unit per side.
        q0: initial inventory, units.
    """

    s0: float = 100.0
    T: float = 1.0
    sigma: float = 2.0
    dt: float = 0.005
    k: float = 1.5
    A: float = 140.0
    q0: float = 0.0

    @property
    def steps(self) -> int:
        return round(self.T / self.dt)


@dataclass(frozen=True, slots=True, kw_only=True)
class StrategyStats:
    """Figures of one strategy over the paths (the paper's table columns).

    Attributes:
        spread: average quoted spread (ask − bid), price units.
        profit_mean: mean of cash + q_T·s_T, price units.
        profit_sd: standard deviation of the profit over paths.
        q_mean: mean final inventory, units.
        q_sd: standard deviation of the final inventory.
    """

    spread: float
    profit_mean: float
    profit_sd: float
    q_mean: float
    q_sd: float


def simulate(gamma: float, *, paths: int = 1000, seed: int = 1, world: AsWorld = AsWorld()) -> dict[str, StrategyStats]:
    """Run both strategies for one γ.

    Args:
        gamma: risk aversion, 1/(price · unit), > 0.
        paths: Monte-Carlo paths, >= 2.
        seed: numpy seed (the same seed gives the same price paths for every γ).
        world: simulation parameters.

    Returns:
        ``{"inventory": StrategyStats, "symmetric": StrategyStats}``.
    """
    if paths < 2:
        raise ValueError(f"paths: got {paths!r}, expected >= 2")
    if not gamma > 0:
        raise ValueError(f"gamma: got {gamma!r}, expected > 0")
    w = world
    n = w.steps
    rng = np.random.default_rng(seed)
    moves = np.where(rng.random((n, paths)) < 0.5, -1.0, 1.0) * (w.sigma * math.sqrt(w.dt))
    u_bid = rng.random((n, paths))
    u_ask = rng.random((n, paths))
    taus = [w.T - i * w.dt for i in range(n)]
    spreads = [as_spread(gamma, w.sigma, tau, w.k) for tau in taus]
    avg_spread = math.fsum(spreads) / n

    out: dict[str, StrategyStats] = {}
    for name in ("inventory", "symmetric"):
        s = np.full(paths, w.s0)
        q = np.full(paths, w.q0)
        cash = np.zeros(paths)
        for i in range(n):
            if name == "inventory":
                center = as_reservation_price(s, q, gamma, w.sigma, taus[i])
                half = 0.5 * spreads[i]
            else:
                center = s
                half = 0.5 * avg_spread
            bid = center - half
            ask = center + half
            p_bid = np.minimum(w.A * np.exp(-w.k * (s - bid)) * w.dt, 1.0)
            p_ask = np.minimum(w.A * np.exp(-w.k * (ask - s)) * w.dt, 1.0)
            hit = u_bid[i] < p_bid
            lift = u_ask[i] < p_ask
            q = q + hit - lift
            cash = cash - np.where(hit, bid, 0.0) + np.where(lift, ask, 0.0)
            s = s + moves[i]
        profit = cash + q * s
        out[name] = StrategyStats(
            spread=avg_spread,
            profit_mean=float(profit.mean()),
            profit_sd=float(profit.std(ddof=1)),
            q_mean=float(q.mean()),
            q_sd=float(q.std(ddof=1)),
        )
    return out


def run(gammas: tuple[float, ...] = GAMMAS, *, paths: int = 1000, seed: int = 1) -> dict[str, dict[str, dict[str, float]]]:
    """All γ: ``{"<gamma>": {"inventory": {...}, "symmetric": {...}}}`` (plain dicts, JSON-ready)."""
    return {
        _key(g): {name: asdict(st) for name, st in simulate(g, paths=paths, seed=seed).items()}
        for g in gammas
    }


def _key(gamma: float) -> str:
    return f"{gamma:g}"


_COLUMNS = ("spread", "profit_mean", "profit_sd", "q_mean", "q_sd")


def format_table(results: dict[str, dict[str, dict[str, float]]], *, paths: int, seed: int) -> str:
    """Text table: ours beside the journal's figures (``ours (paper)``)."""
    lines = [
        f"Avellaneda & Stoikov (2008) reproduction: {paths} paths, seed {seed}; ours (paper: QF 8(3) Tables 1-3)",
        f"{'gamma':>6} {'strategy':<10} " + " ".join(f"{c:>17}" for c in _COLUMNS),
    ]
    paper_by_key = {_key(g): t for g, t in PAPER_TABLES.items()}
    for gk, by_strategy in results.items():
        for name, figs in by_strategy.items():
            paper = paper_by_key.get(gk, {}).get(name)
            cells = []
            for c in _COLUMNS:
                ref = f"({paper[c]:.2f})" if paper else "(-)"
                cells.append(f"{figs[c]:>8.2f} {ref:>8}")
            lines.append(f"{gk:>6} {name:<10} " + " ".join(cells))
    return "\n".join(lines) + "\n"
