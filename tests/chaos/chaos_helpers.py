"""Run one chaos scenario: start the simulated exchange and the quoter, warm up, inject a fault,
recover, check the invariants (``thalex_mm.testing.chaos``), shut down, check again."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from thalex_mm.config.models import BotConfig
from thalex_mm.sim.app import running_simulated_exchange
from thalex_mm.testing import ChaosHarness, InvariantReport, chaos_config, check_invariants


@dataclass
class ScenarioResult:
    report: InvariantReport
    shutdown_problems: list[str]
    counts: dict[str, int]
    connects: int
    reconnects: int
    fills: int
    rejects: int
    notes: dict[str, Any] = field(default_factory=dict)

    @property
    def violations(self) -> list[str]:
        return self.report.violations + self.shutdown_problems


Inject = Callable[[ChaosHarness, dict[str, Any]], Awaitable[None]]


def run_scenario(
    inject: Inject,
    *,
    config: BotConfig | None = None,
    seed: int = 1,
    warmup_s: float = 1.0,
    settle_s: float = 3.0,
    resume_within_s: float = 5.0,
    sim_kwargs: dict[str, Any] | None = None,
) -> ScenarioResult:
    """Run ``inject(harness, notes)`` between warm-up and the invariant check."""
    logging.getLogger("thalex_mm").setLevel(logging.CRITICAL)

    async def main() -> ScenarioResult:
        async with running_simulated_exchange(seed=seed, **(sim_kwargs or {})) as (sim, keys):
            h = ChaosHarness(sim, keys, config or chaos_config(), seed=seed)
            notes: dict[str, Any] = {}
            try:
                await h.start()
                await asyncio.sleep(warmup_s)
                await inject(h, notes)
                sim.faults.reset()
                report = await check_invariants(h, settle_s=settle_s, resume_within_s=resume_within_s)
            finally:
                sim.faults.reset()
                problems = await h.stop()
            st = h.core.status()
            return ScenarioResult(
                report=report, shutdown_problems=problems, counts=dict(h.counts),
                connects=h.quoter.stats.connects, reconnects=h.quoter.stats.reconnects,
                fills=st.fills, rejects=st.rejects, notes=notes,
            )

    return asyncio.run(main())


def external_session(h: ChaosHarness) -> str:
    return h.external_session()


def hit_our_order(h: ChaosHarness, client_order_id: int | None, fraction: float = 1.0) -> float:
    return h.hit_order(client_order_id, fraction)


__all__ = ["ScenarioResult", "chaos_config", "external_session", "hit_our_order", "run_scenario"]
