"""ChaosHarness: the real quoter against the simulated exchange over loopback, and the invariants.

One asyncio loop runs both the simulated exchange and ``AvellanedaQuoter`` (with the real
``MarketMakerCore``), so the harness can read the exchange's own state (``sim.engine``) at the
instant the bot sends a command. Tests and the soak inject faults through ``sim.faults`` and the
sim's test hooks, then call :func:`check_invariants`:

1. our open orders equal the exchange's (by client order id, price and remaining amount; in
   mass-quote mode by side and price of the last quotes sent), after a settle period;
2. our position equals the exchange's;
3. no command that broke a risk limit was ever sent (each insert/amend/mass quote is checked
   when sent, against the exchange's position and open orders: max order size, position room
   ``side·position + same-side open size <= hard limit``, price band vs the exchange's mark);
4. the quoter did not crash (``run()`` still running, no internal task failure);
5. quoting resumed within ``resume_within_s``;

and :meth:`ChaosHarness.stop` checks the last one: after shutdown the exchange lists zero open
orders of ours. Prices in quote currency, amounts in contracts, times in seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from thalex_mm.config.models import BotConfig, RiskConfig
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.core.commands import AmendOrder, Command, InsertOrder, MassQuote
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_ids import run_base_from_wall_clock
from thalex_mm.core.step import Notice
from thalex_mm.core.types import OrderType, Side, TimeInForce
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.sim.server import SimExchange

__all__ = [
    "ChaosHarness",
    "InvariantReport",
    "SentCommand",
    "chaos_config",
    "check_invariants",
    "risk_violation",
]

_EPS = 1e-9

#: Short timers so a fault and its recovery fit in a few seconds.
CHAOS_DEFAULTS: dict[str, dict[str, Any]] = {
    "connection": {
        "cancel_on_disconnect_timeout_s": 2,
        "ping_interval_s": 0.5,
        "request_timeout_s": 3.0,
        "reconnect_initial_s": 0.1,
        "reconnect_cap_s": 0.5,
        "stale_reconnect_s": 3.0,
        "throttle_cooldown_initial_s": 0.2,
        "throttle_cooldown_cap_s": 1.0,
        "throttle_quiet_reset_s": 5.0,
    },
    "risk": {"stale_data_timeout_s": 1.0, "pause_cooldown_s": 2.0},
}


def chaos_config(**sections: dict[str, Any]) -> BotConfig:
    """BOT_CONFIG with :data:`CHAOS_DEFAULTS`, then ``sections`` (e.g. ``risk={...}``) on top."""
    merged: dict[str, dict[str, Any]] = {k: dict(v) for k, v in CHAOS_DEFAULTS.items()}
    for name, values in sections.items():
        merged.setdefault(name, {}).update(values)
    return BotConfig.model_validate(merged)


@dataclass(frozen=True, slots=True, kw_only=True)
class SentCommand:
    """One command as it left the bot, with the exchange state it was checked against."""

    request_id: int
    command: Command
    ts_ns: int
    position: float
    mark: float | None
    violation: str | None


@dataclass
class InvariantReport:
    """Result of :func:`check_invariants`; ``ok`` when ``violations`` is empty."""

    violations: list[str] = field(default_factory=list)
    resume_s: float | None = None
    settle_s: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.violations


def risk_violation(
    cmd: Command,
    risk: RiskConfig,
    *,
    position: float,
    same_side_open: float,
    mark: float | None,
    filled: float = 0.0,
    band_slack_bps: float = 10.0,
) -> str | None:
    """Why ``cmd`` broke a risk limit, or None.

    Args:
        cmd: an InsertOrder, AmendOrder or MassQuote (others always pass).
        risk: the limits.
        position: the exchange's position when the command left, contracts.
        same_side_open: remaining size of our other open/in-flight orders on the command's side
            (for a mass quote: ignored, a side replaces all its levels), contracts.
        mark: the exchange's mark price then (None: band not checked).
        filled: already filled amount of the amended order (an amend sets the total amount).
        band_slack_bps: tolerance on the band for the mark moving between bot and exchange.
    """
    hard = risk.position_hard_limit + _EPS
    band = risk.price_band_bps + band_slack_bps

    def out_of_band(price: float | None) -> bool:
        return price is not None and bool(mark) and abs(price / mark - 1.0) * 1e4 > band

    if isinstance(cmd, InsertOrder | AmendOrder):
        if isinstance(cmd, InsertOrder):
            side = cmd.side
            if cmd.reduce_only and cmd.time_in_force is TimeInForce.IOC:
                return None  # the flatten order: exempt from size and room by design
            remaining = cmd.amount
        else:
            side = None
            remaining = max(0.0, cmd.amount - filled)
        if cmd.amount > risk.max_order_size + _EPS:
            return f"{type(cmd).__name__} amount {cmd.amount} > max_order_size {risk.max_order_size}"
        if out_of_band(cmd.price):
            return f"{type(cmd).__name__} price {cmd.price} outside {risk.price_band_bps} bps of mark {mark}"
        if side is not None:
            exposure = side.sign * position + same_side_open + remaining
            if exposure > hard:
                return (
                    f"{type(cmd).__name__} {side.value} {remaining}: position {position:+.4f} + "
                    f"open {same_side_open:.4f} -> {exposure:.4f} > hard limit "
                    f"{risk.position_hard_limit}"
                )
        return None
    if isinstance(cmd, MassQuote):
        for q in cmd.quotes:
            for s, levels in ((Side.BUY, q.bids), (Side.SELL, q.asks)):
                if not levels:
                    continue
                for price, amount in levels:
                    if amount > risk.max_order_size + _EPS:
                        return f"MassQuote {s.value} level {amount} > max_order_size"
                    if out_of_band(price):
                        return f"MassQuote {s.value} price {price} outside band of mark {mark}"
                total = sum(a for _, a in levels)
                if s.sign * position + total > hard:
                    return (
                        f"MassQuote {s.value} total {total}: position {position:+.4f} -> "
                        f"{s.sign * position + total:.4f} > hard limit {risk.position_hard_limit}"
                    )
    return None


class ChaosHarness:
    """The quoter and a running simulated exchange in one loop.

    Args:
        sim: a started ``SimExchange`` (``running_simulated_exchange``).
        keys: its ``SimKeys``.
        config: BOT_CONFIG (see :func:`chaos_config`).
        seed: seed of the quoter's backoff jitter.
    """

    def __init__(self, sim: SimExchange, keys: Any, config: BotConfig, *, seed: int = 0) -> None:
        self.sim = sim
        self.keys = keys
        self.account: str = keys.account
        self.config = config
        self.instrument = config.market.instrument
        self.core = MarketMakerCore(config, first_client_order_id=run_base_from_wall_clock(time.time_ns()))
        creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
        self.quoter = AvellanedaQuoter(
            config, sim.url, creds, self.core, on_command=self._on_command, on_notices=self._on_notices,
            rng=random.Random(seed),
        )
        self.notices: list[Notice] = []  # the core's notices since the owner last cleared them
        self.sent: list[SentCommand] = []
        self.sent_at_ns: dict[int, int] = {}  # request id -> send time, pruned by the checks
        self.risk_violations: list[SentCommand] = []
        self.counts: dict[str, int] = {}
        self._triggers: list[tuple[Callable[[Command], bool], Callable[[Command], None]]] = []
        self._runner: asyncio.Task[str] | None = None
        self.exit_reason: str | None = None
        self.keep_sent = True

    # ------------------------------------------------------------------ lifecycle

    async def start(self, *, quoting_within_s: float = 5.0) -> float:
        """Start the quoter; wait until it quotes. Returns seconds until it did.

        Raises:
            TimeoutError: no open order on the exchange within ``quoting_within_s``.
        """
        self._runner = asyncio.create_task(self.quoter.run(), name="chaos-quoter")
        waited = await self.wait_quoting(quoting_within_s)
        if waited is None:
            raise TimeoutError(f"the bot did not quote within {quoting_within_s} s")
        return waited

    async def stop(self, *, timeout_s: float = 10.0) -> list[str]:
        """Clean shutdown; returns violations: fatal exit, task failures, open orders left."""
        problems: list[str] = []
        if self._runner is None:
            return problems
        self.quoter.request_stop("chaos harness stop")
        try:
            self.exit_reason = await asyncio.wait_for(self._runner, timeout_s)
        except TimeoutError:
            problems.append(f"quoter did not stop within {timeout_s} s")
            self._runner.cancel()
            with contextlib.suppress(BaseException):
                await self._runner
        if self.exit_reason is not None and self.exit_reason.startswith("fatal"):
            problems.append(f"quoter exited with {self.exit_reason}")
        if self.quoter.stats.task_failures:
            problems.append(f"{self.quoter.stats.task_failures} internal task failure(s): {list(self.quoter.stats.errors)}")
        left = self.sim.open_orders(self.account)
        if left:
            problems.append(f"{len(left)} open order(s) left after shutdown: {[_brief(o) for o in left]}")
        return problems

    @property
    def running(self) -> bool:
        return self._runner is not None and not self._runner.done()

    # ------------------------------------------------------------------ triggers

    def on_next(self, predicate: Callable[[Command], bool], action: Callable[[Command], None]) -> None:
        """Run ``action(cmd)`` (once) when the bot next sends a command matching ``predicate``.
        The command has been handed to the core but not yet written to the socket."""
        self._triggers.append((predicate, action))

    def clear_triggers(self) -> None:
        self._triggers.clear()

    def _on_notices(self, notices: tuple[Notice, ...], ts_ns: int) -> None:
        self.notices.extend(notices)

    def _on_command(self, request_id: int, cmd: Command, ts_ns: int) -> None:
        kind = type(cmd).__name__
        self.counts[kind] = self.counts.get(kind, 0) + 1
        self.sent_at_ns[request_id] = ts_ns
        position = self.sim.position(self.account, self.instrument)
        mark = self.sim.feed.ticker(self.instrument).mark_price
        violation = None
        if isinstance(cmd, InsertOrder | AmendOrder | MassQuote):
            side, key, filled = self._side_key(cmd)
            same = self._same_side_open(side, exclude=key) if side is not None else 0.0
            violation = risk_violation(
                cmd, self.core.config.risk, position=position, same_side_open=same, mark=mark, filled=filled
            )
        rec = SentCommand(request_id=request_id, command=cmd, ts_ns=ts_ns, position=position, mark=mark, violation=violation)
        if self.keep_sent:
            self.sent.append(rec)
        if violation is not None:
            self.risk_violations.append(rec)
        for i, (pred, action) in enumerate(self._triggers):
            if pred(cmd):
                del self._triggers[i]
                action(cmd)
                break

    def _side_key(self, cmd: Command) -> tuple[Side | None, Any, float]:
        if isinstance(cmd, InsertOrder):
            return cmd.side, cmd.client_order_id, 0.0
        if isinstance(cmd, AmendOrder):
            key = cmd.client_order_id if cmd.client_order_id is not None else cmd.order_id
            tracked = self.core.orders.get(key) if key is not None else None
            if tracked is None:
                return None, key, 0.0
            return tracked.side, key, tracked.filled_amount
        return None, None, 0.0

    def _same_side_open(self, side: Side, *, exclude: Any) -> float:
        """Remaining size on ``side``: our tracked live/in-flight orders and the exchange's
        open orders, each order counted once (the larger of the two views)."""
        sizes: dict[Any, float] = {}
        for o in self.core.orders.active_orders(self.instrument):
            if o.side is side:
                sizes[o.key] = o.remaining_amount
        for r in self.sim.open_orders(self.account):
            if r.side is side and r.instrument == self.instrument:
                key = r.client_order_id if r.client_order_id is not None else r.order_id
                sizes[key] = max(sizes.get(key, 0.0), r.remaining_amount)
        sizes.pop(exclude, None)
        return sum(sizes.values())

    # ------------------------------------------------------------------ outside trader

    EXTERNAL_SESSION = "chaos-external"
    EXTERNAL_ACCOUNT = "A-EXTERNAL"

    def external_session(self) -> str:
        """A persistent session of another account on the exchange (an outside trader)."""
        engine = self.sim.engine
        if self.EXTERNAL_SESSION not in engine._sessions:
            engine.open_session(self.EXTERNAL_SESSION, self.EXTERNAL_ACCOUNT, persistent=True)
        return self.EXTERNAL_SESSION

    def hit_order(
        self,
        client_order_id: int | None,
        fraction: float = 1.0,
        *,
        order_id: str | None = None,
        amount: float | None = None,
    ) -> float:
        """An outside trader takes ``fraction`` (or ``amount`` contracts) of our order
        ``client_order_id`` (or ``order_id``: mass quotes have no client id) at its price, IOC.
        Returns the amount that traded against us (0 if the order is not on the exchange, or
        better prices of others stood in front of it)."""
        ours = [
            o for o in self.exchange_orders()
            if (o.client_order_id == client_order_id if client_order_id is not None else o.order_id == order_id)
        ]
        if not ours:
            return 0.0
        o = ours[0]
        size = amount if amount is not None else o.remaining_amount * fraction
        size = round(max(0.001, min(size, o.remaining_amount)), 3)
        before = self.exchange_position()
        out = self.sim.engine.insert(
            self.external_session(), self.instrument, Side.SELL if o.side is Side.BUY else Side.BUY,
            size, o.price, ts_ns=time.time_ns(), order_type=OrderType.LIMIT,
            time_in_force=TimeInForce.IOC,
        )
        self.sim._fan_out(out)
        return abs(self.exchange_position() - before)

    # ------------------------------------------------------------------ observations

    def exchange_orders(self) -> tuple[Any, ...]:
        return tuple(o for o in self.sim.open_orders(self.account) if o.instrument == self.instrument)

    def exchange_position(self) -> float:
        return self.sim.position(self.account, self.instrument)

    def quoting(self) -> bool:
        """Connected, synchronised, and at least one order of ours rests on the exchange."""
        return self.quoter.ready and bool(self.exchange_orders())

    async def wait_quoting(self, timeout_s: float) -> float | None:
        """Seconds until :meth:`quoting` held, or None after ``timeout_s``."""
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if self.quoting():
                return time.monotonic() - t0
            if not self.running:
                return None
            await asyncio.sleep(0.02)
        return None

    async def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        t0 = time.monotonic()
        while time.monotonic() - t0 < timeout_s:
            if predicate():
                return True
            await asyncio.sleep(0.02)
        return predicate()

    def order_mismatch(self) -> str | None:
        """How our open orders differ from the exchange's now, or None."""
        exch = self.exchange_orders()
        if self.config.order.use_mass_quote:
            last = self.core.orders._last_mq.get(self.instrument, ((), ()))
            ours = {(Side.BUY, p) for p, _ in last[0]} | {(Side.SELL, p) for p, _ in last[1]}
            theirs = {(o.side, o.price) for o in exch}
            if ours != theirs:
                return f"mass quotes: ours {sorted(ours)} vs exchange {sorted(theirs)}"
            return None
        mine = {o.key: o for o in self.core.orders.active_orders(self.instrument)}
        theirs_by = {(o.client_order_id if o.client_order_id is not None else o.order_id): o for o in exch}
        if set(mine) != set(theirs_by):
            return (
                f"orders: ours {sorted(map(str, mine))} vs exchange {sorted(map(str, theirs_by))}"
            )
        for key, o in mine.items():
            r = theirs_by[key]
            if o.state.is_pending:
                continue
            if r.price is not None and abs(o.price - r.price) > _EPS:
                return f"order {key}: our price {o.price} vs exchange {r.price}"
            if abs(o.remaining_amount - r.remaining_amount) > 1e-6:
                return f"order {key}: our remaining {o.remaining_amount} vs exchange {r.remaining_amount}"
        return None

    def stuck_requests(self, older_than_s: float) -> list[str]:
        """Order requests still unanswered after ``older_than_s`` (a lost response leaves the
        order pending for ever: the bot would never touch it again)."""
        pending = self.core.orders._requests
        self.sent_at_ns = {rid: t for rid, t in self.sent_at_ns.items() if rid in pending}
        now = time.time_ns()
        return [
            f"request {rid} ({type(pending[rid]).__name__}) unanswered for {(now - t) / 1e9:.1f} s"
            for rid, t in self.sent_at_ns.items()
            if now - t > older_than_s * 1e9
        ]

    def position_mismatch(self) -> str | None:
        ours, theirs = self.core.position.position, self.exchange_position()
        if abs(ours - theirs) > 1e-6:
            return f"position: ours {ours:+.6f} vs exchange {theirs:+.6f}"
        return None


async def check_invariants(
    h: ChaosHarness,
    *,
    settle_s: float = 3.0,
    resume_within_s: float | None = 5.0,
    expect_quoting: bool = True,
    stuck_after_s: float = 5.0,
) -> InvariantReport:
    """Check the invariants (module docstring) against the exchange's own state.

    Orders and position are compared repeatedly for up to ``settle_s`` (requests in flight
    settle); a mismatch that never clears is a violation. With ``expect_quoting``, the bot must
    have an order on the exchange within ``resume_within_s``. No order request may stay
    unanswered longer than ``stuck_after_s``.
    """
    rep = InvariantReport()
    if not h.running:
        rep.violations.append(f"quoter not running (exit: {h.exit_reason or _exit_of(h)})")
    if h.quoter.stats.task_failures:
        rep.violations.append(f"internal task failures: {list(h.quoter.stats.errors)}")
    if expect_quoting:
        rep.resume_s = await h.wait_quoting(resume_within_s or 0.0)
        if rep.resume_s is None:
            rep.violations.append(
                f"quoting did not resume within {resume_within_s} s "
                f"(ready={h.quoter.ready}, state={h.core.risk.state.value}:{h.core.risk.reason})"
            )
    t0 = time.monotonic()
    orders = position = "not checked"
    while True:
        orders, position = h.order_mismatch(), h.position_mismatch()
        if (orders is None and position is None) or time.monotonic() - t0 >= settle_s:
            break
        await asyncio.sleep(0.02)
    rep.settle_s = time.monotonic() - t0
    rep.violations.extend(v for v in (orders, position) if v is not None)
    # Requests in flight now must be answered before they are ``stuck_after_s`` old.
    h.stuck_requests(0.0)
    waiting = set(h.sent_at_ns)
    oldest = min(h.sent_at_ns.values(), default=time.time_ns())
    deadline = oldest / 1e9 + stuck_after_s + 0.1
    while waiting & set(h.core.orders._requests) and time.time() < deadline:
        await asyncio.sleep(0.05)
    rep.violations.extend(h.stuck_requests(stuck_after_s))
    rep.violations.extend(
        f"risk: request {s.request_id}: {s.violation}" for s in h.risk_violations
    )
    return rep


def _exit_of(h: ChaosHarness) -> str:
    runner = h._runner
    if runner is None or not runner.done():
        return "-"
    if runner.cancelled():
        return "cancelled"
    exc = runner.exception()
    return repr(exc) if exc is not None else str(runner.result())


def _brief(report: Any) -> str:
    return f"{report.side.value} {report.remaining_amount}@{report.price} cid={report.client_order_id}"
