"""Reproductions of published model results (numpy simulations; not part of the pure core)."""

from thalex_mm.validate.as2008 import (
    PAPER_TABLES,
    AsWorld,
    StrategyStats,
    format_table,
    run,
    simulate,
)

__all__ = ["PAPER_TABLES", "AsWorld", "StrategyStats", "format_table", "run", "simulate"]
