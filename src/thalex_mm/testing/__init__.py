"""Test and soak tooling: the real quoter against the simulated exchange, with fault injection
and invariant checks (``chaos``) and a seeded random fault scheduler (``soak``)."""

from thalex_mm.testing.chaos import (
    ChaosHarness,
    InvariantReport,
    SentCommand,
    chaos_config,
    check_invariants,
    risk_violation,
)

__all__ = [
    "ChaosHarness",
    "InvariantReport",
    "SentCommand",
    "chaos_config",
    "check_invariants",
    "risk_violation",
]
