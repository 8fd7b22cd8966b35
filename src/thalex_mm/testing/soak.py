"""Soak: the quoter against the simulated exchange for a long time, with seeded random faults.

A seeded scheduler picks a fault (sometimes two at once) from :data:`FAULT_KINDS`, holds it for
a random while, clears it, and then checks the invariants (``chaos.check_invariants``: orders
and position equal the exchange's, no risk-breaking command, no crash, quoting resumed, no
stuck request). At the end the quoter shuts down and the exchange must list zero open orders.
Memory growth is the process RSS (``/proc/self/status``) after warm-up vs at the end.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from thalex_mm.config.models import BotConfig
from thalex_mm.core.commands import AmendOrder, Command, InsertOrder
from thalex_mm.core.reasons import TradingStateChanged
from thalex_mm.sim.app import default_synthetic_params, running_simulated_exchange
from thalex_mm.testing.chaos import ChaosHarness, chaos_config, check_invariants

__all__ = ["FAULT_KINDS", "MASS_QUOTE_KINDS", "SoakResult", "read_rss_kb", "run_soak", "soak_config"]

log = logging.getLogger("thalex_mm.soak")

#: Every fault the scheduler draws from.
FAULT_KINDS: tuple[str, ...] = (
    "disconnect",
    "disconnect_during_insert",
    "disconnect_during_amend",
    "restart",
    "response_delay",
    "reorder",
    "errors_20pct",
    "throttle_storm",
    "malformed",
    "duplicates",
    "stale_feed",
    "system_reconnect",
    "admin_cancel",
    "fill_during_amend",
)
#: Only in mass-quote mode: an outside trade of the MMP trade amount pulls all our quotes.
MASS_QUOTE_KINDS: tuple[str, ...] = ("mmp_trip",)


def soak_config(*, mass_quote: bool = False) -> BotConfig:
    """Chaos timers; loss limits out of the way (the soak tests faults, not PnL). With
    ``mass_quote``, quotes go through ``private/mass_quote`` under MMP."""
    order = {"use_mass_quote": True, "mmp_trade_amount": 0.02, "mmp_quote_amount": 0.02} if mass_quote else {}
    return chaos_config(
        order=order,
        risk={
            "max_drawdown_usd": 1e9,
            "session_loss_limit_usd": 1e9,
            "daily_loss_limit_usd": 1e9,
            "max_consecutive_losses": 1000,
        }
    )


def read_rss_kb() -> int:
    """Resident set size of this process, kB (0 where /proc is unavailable)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclass
class SoakResult:
    """Figures of one soak run. Times in seconds, memory in kB."""

    seed: int
    duration_s: float = 0.0
    faults: Counter[str] = field(default_factory=Counter)
    recoveries: int = 0
    recovery_max_s: float = 0.0
    recovery_total_s: float = 0.0
    checks: int = 0
    violations: list[str] = field(default_factory=list)
    commands: Counter[str] = field(default_factory=Counter)
    fills: int = 0
    rejects: int = 0
    reconnects: int = 0
    connects: int = 0
    backoff_waits: int = 0
    state_changes: Counter[str] = field(default_factory=Counter)
    max_abs_position: float = 0.0
    rss_start_kb: int = 0
    rss_end_kb: int = 0
    exit_reason: str = ""

    def lines(self) -> list[str]:
        orders = sum(self.commands.values())
        mean = self.recovery_total_s / self.recoveries if self.recoveries else 0.0
        faults = ", ".join(f"{k} {v}" for k, v in sorted(self.faults.items()))
        cmds = ", ".join(f"{k} {v}" for k, v in sorted(self.commands.items()))
        return [
            f"seed                 {self.seed}",
            f"duration             {self.duration_s:.1f} s",
            f"faults injected      {sum(self.faults.values())} ({faults})",
            f"recoveries           {self.recoveries} (quoting again after mean {mean:.2f} s, max {self.recovery_max_s:.2f} s)",
            f"invariant checks     {self.checks}",
            f"invariant violations {len(self.violations)}",
            *(f"  - {v}" for v in self.violations[:20]),
            f"orders sent          {orders} ({cmds})",
            f"fills                {self.fills} (max |position| at checks {self.max_abs_position:.3f} contracts)",
            f"rejects              {self.rejects}",
            f"reconnects           {self.reconnects} (connections {self.connects}, backoff waits {self.backoff_waits})",
            f"memory (RSS)         {self.rss_start_kb} kB -> {self.rss_end_kb} kB ({self.rss_end_kb - self.rss_start_kb:+d} kB)",
            f"exit reason          {self.exit_reason}",
        ]


class _Scheduler:
    """Applies and clears faults on the harness; all choices from one seeded ``random.Random``."""

    def __init__(self, h: ChaosHarness, rng: random.Random) -> None:
        self.h = h
        self.rng = rng

    def _arm(self, kind: type, action: Callable[[Command], None]) -> None:
        self.h.on_next(lambda c: isinstance(c, kind), action)

    def _drop_soon(self, delay_s: float = 0.0) -> None:
        loop = asyncio.get_running_loop()
        loop.call_later(delay_s, lambda: asyncio.ensure_future(self.h.sim.drop_all_connections()))

    def _hit_one(self, amount: float | None = None) -> None:
        """An outside trader takes one of our orders (whole, or ``amount`` contracts)."""
        orders = self.h.exchange_orders()
        if orders:
            o = self.rng.choice(orders)
            self.h.hit_order(o.client_order_id, 1.0, order_id=o.order_id, amount=amount)

    async def apply(self, kind: str) -> None:
        h, f, rng = self.h, self.h.sim.faults, self.rng
        if kind == "disconnect":
            await h.sim.drop_all_connections()
        elif kind == "disconnect_during_insert":
            self._arm(InsertOrder, lambda _c: self._drop_soon(rng.choice((0.0, 0.05))))
            self._hit_one()  # a fill makes the bot insert
        elif kind == "disconnect_during_amend":
            self._arm(AmendOrder, lambda _c: self._drop_soon(rng.choice((0.0, 0.05))))
        elif kind == "restart":
            await h.sim.restart(keep_persistent=True)
        elif kind == "response_delay":
            f.response_delay_s = rng.choice((0.2, 0.5, 1.0, 2.0))
        elif kind == "reorder":
            f.reorder_responses = True
        elif kind == "errors_20pct":
            f.error_share = 0.2
        elif kind == "throttle_storm":
            f.throttle_everything = True
        elif kind == "malformed":
            f.malformed_share = rng.choice((0.1, 0.3))
        elif kind == "duplicates":
            f.duplicate_notifications = True
            self._hit_one()
        elif kind == "stale_feed":
            f.freeze_market = True
        elif kind == "system_reconnect":
            await h.sim.announce_reconnect()
        elif kind == "admin_cancel":
            h.sim.admin_cancel(h.account)
        elif kind == "mmp_trip":
            self._hit_one(amount=self.h.config.order.mmp_trade_amount)
        elif kind == "fill_during_amend":
            f.response_delay_s = max(f.response_delay_s, 0.5)
            fraction = rng.choice((0.5, 1.0))
            self._arm(AmendOrder, lambda c: h.hit_order(getattr(c, "client_order_id", None), fraction))
        else:
            raise ValueError(f"fault kind: {kind!r} is not one of {', '.join(FAULT_KINDS)}")

    def clear(self) -> None:
        self.h.sim.faults.reset()
        self.h.clear_triggers()


async def run_soak(
    duration_s: float,
    seed: int = 0,
    *,
    config: BotConfig | None = None,
    hold_s: tuple[float, float] = (0.5, 3.0),
    quiet_s: tuple[float, float] = (0.5, 2.0),
    combine_probability: float = 0.25,
    resume_within_s: float = 10.0,
    settle_s: float = 3.0,
    mass_quote: bool = False,
    progress: Callable[[SoakResult, float], None] | None = None,
) -> SoakResult:
    """Run the soak for ``duration_s`` seconds; returns its figures.

    Args:
        duration_s: wall time of the fault loop, seconds.
        seed: seeds the scheduler, the synthetic market, the fault plan and the backoff.
        config: BOT_CONFIG (default :func:`soak_config` with ``mass_quote``).
        hold_s: range of how long a fault stays on, seconds.
        quiet_s: range of the healthy pause after a recovery check, seconds.
        combine_probability: chance that two faults are on at once.
        resume_within_s: quoting must resume this soon after a fault is cleared, seconds.
        settle_s: how long orders/position may take to agree with the exchange, seconds.
        mass_quote: quote with mass quotes under MMP (adds the ``mmp_trip`` fault).
        progress: called after every check with ``(result, elapsed_s)``.
    """
    rng = random.Random(seed)
    res = SoakResult(seed=seed)
    synthetic = default_synthetic_params(background_offset_ticks=20)
    async with running_simulated_exchange(seed=seed, synthetic=synthetic) as (sim, keys):
        sim.faults.rng.seed(seed)
        h = ChaosHarness(sim, keys, config or soak_config(mass_quote=mass_quote), seed=seed)
        kinds_pool = FAULT_KINDS + (MASS_QUOTE_KINDS if h.config.order.use_mass_quote else ())
        h.keep_sent = False
        sched = _Scheduler(h, rng)
        t0 = time.monotonic()
        try:
            await h.start(quoting_within_s=10.0)
            await asyncio.sleep(1.0)
            res.rss_start_kb = read_rss_kb()
            while time.monotonic() - t0 < duration_s:
                kinds = [rng.choice(kinds_pool)]
                if rng.random() < combine_probability:
                    kinds.append(rng.choice(kinds_pool))
                for kind in kinds:
                    res.faults[kind] += 1
                    await sched.apply(kind)
                await asyncio.sleep(rng.uniform(*hold_s))
                sched.clear()
                rep = await check_invariants(h, settle_s=settle_s, resume_within_s=resume_within_s)
                res.checks += 1
                res.max_abs_position = max(res.max_abs_position, abs(h.exchange_position()))
                if rep.resume_s is not None:
                    res.recoveries += 1
                    res.recovery_total_s += rep.resume_s
                    res.recovery_max_s = max(res.recovery_max_s, rep.resume_s)
                elapsed = time.monotonic() - t0
                res.violations.extend(f"t={elapsed:.1f}s after {'+'.join(kinds)}: {v}" for v in rep.violations)
                h.risk_violations.clear()  # reported once
                _drain(h, res)
                if progress is not None:
                    progress(res, elapsed)
                await asyncio.sleep(rng.uniform(*quiet_s))
        finally:
            sched.clear()
            problems = await h.stop()
            res.violations.extend(f"shutdown: {p}" for p in problems)
            res.exit_reason = h.exit_reason or ""
            _drain(h, res)
            res.duration_s = time.monotonic() - t0
            res.rss_end_kb = read_rss_kb()
            st = h.core.status()
            res.fills, res.rejects = st.fills, st.rejects
            res.commands = Counter(h.counts)
            res.connects = h.quoter.stats.connects
            res.reconnects = h.quoter.stats.reconnects
            res.backoff_waits = h.quoter.stats.backoff_waits
    return res


def _drain(h: ChaosHarness, res: SoakResult) -> None:
    notices, h.notices = h.notices, []
    for rec in notices:
        if isinstance(rec, TradingStateChanged):
            res.state_changes[f"{rec.state.value}:{rec.reason.value}"] += 1

