"""The restart matrix (issue 12): every way a run ends × everything left on the account, then a
restart on the same account, over loopback against the simulated exchange.

Ways a run ends (the first quoter, in this process, against a real simulator):

- ``clean_stop``: ``request_stop`` (cancel_session, confirmed, then close);
- ``sigint``: a real SIGINT to this process, handled as ``thalex-mm live`` handles it
  (``loop.add_signal_handler(SIGINT, quoter.request_stop)``);
- ``kill_9_quoting``: the quoter's task is cancelled mid-run: the socket closes without any
  cancel (what the exchange sees of a kill -9; the subprocess kill -9 itself is covered by
  tests/recovery/test_crash_recovery.py);
- ``kill_9_fill_in_flight``: the same, the moment the exchange has filled one of our orders
  (the dead run may never have seen it);
- ``network_cut``: the quoter runs through a TCP relay that stops carrying bytes (no pongs)
  for longer than the cancel-on-disconnect timeout; the exchange drops the session; the run dies.

Things left on the account before the restart (made through a second session of the same key):

- ``nothing``;
- ``other_session_orders``: a still-connected session with live orders of client ids 1..3;
- ``persistent_orders``: orders of a session without cancel-on-disconnect that has gone;
- ``long_at_loss`` / ``short_at_loss``: a position of 0.08 (above the soft limit) bought (sold)
  1 % worse than the mark, booked in the exchange's ledger, with the loss limits set below
  that loss.

After the restart: no crash and no reconnect loop; leftovers cancelled by order id (or kept and
counted under ``order.leftover_orders = keep``); none of our orders shares a client id with
another live order of the account; the hard limit holds counting every resting order of the
account; quoting two-sided (one-sided on the reducing side while REDUCING) within 10 s.

Each case gets its own in-process simulator: starting one costs milliseconds, and a case's
account state (position, leftovers) must not leak into the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import tempfile
import time
from dataclasses import dataclass
from typing import Any

import pytest
from e2e_harness import INSTRUMENT, fast_config, run

from thalex_mm.config.models import BotConfig, LeftoverPolicy
from thalex_mm.config.secrets import Credentials, Secret
from thalex_mm.core.market_maker import MarketMakerCore
from thalex_mm.core.order_ids import run_base_from_wall_clock
from thalex_mm.core.types import Side
from thalex_mm.drivers.quoter import AvellanedaQuoter
from thalex_mm.drivers.ws_session import WsSession
from thalex_mm.protocol import requests as rq
from thalex_mm.protocol.auth import make_login_token
from thalex_mm.sim.app import SimKeys, running_simulated_exchange
from thalex_mm.sim.server import SimExchange

ENDS = ("clean_stop", "sigint", "kill_9_quoting", "kill_9_fill_in_flight", "network_cut")
LEFTOVERS = ("nothing", "other_session_orders", "persistent_orders", "long_at_loss", "short_at_loss")
RESUME_S = 10.0
SOFT, HARD = 0.05, 0.1
_EPS = 1e-9


def config(**risk: Any) -> BotConfig:
    return fast_config(
        order={"sizes": (0.01,)},
        risk={"position_soft_limit": SOFT, "position_hard_limit": HARD, "stale_data_timeout_s": 1.0, **risk},
        # the synthetic market trades often enough that a fill comes within seconds
        avellaneda={"estimate_intensity": False, "gamma": 0.01},
    )


@dataclass
class Bot:
    core: MarketMakerCore
    quoter: AvellanedaQuoter
    runner: asyncio.Task[str]

    def our_order_ids(self) -> set[str]:
        return {o.order_id for o in self.core.orders.active_orders(INSTRUMENT) if o.order_id and not o.inherited}


def start_bot(cfg: BotConfig, url: str, keys: SimKeys) -> Bot:
    """A quoter as ``thalex-mm live`` builds it (client ids from the wall clock at start)."""
    core = MarketMakerCore(cfg, first_client_order_id=run_base_from_wall_clock(time.time_ns()))
    creds = Credentials(key_id=keys.kid, private_key=Secret(keys.private_key_pem()))
    quoter = AvellanedaQuoter(cfg, url, creds, core)
    return Bot(core, quoter, asyncio.create_task(quoter.run()))


async def until(pred, timeout_s: float, what: str, bot: Bot | None = None) -> Any:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        got = pred()
        if got:
            return got
        if bot is not None and bot.runner.done():
            raise AssertionError(f"the quoter ended while waiting for {what}: {bot.runner.result()!r}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last {got!r})")
        await asyncio.sleep(0.02)


class TcpRelay:
    """A byte relay 127.0.0.1:port -> the simulator; ``cut()`` stops carrying bytes (both ways,
    sockets left open): pings and pongs stop, as on a dead network path."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.cut_now = False
        self.server: asyncio.Server | None = None
        self._tasks: list[asyncio.Task] = []
        self._writers: list[asyncio.StreamWriter] = []

    async def start(self) -> int:
        self.server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        return self.server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_r, up_w = await asyncio.open_connection("127.0.0.1", self.target_port)

        async def pump(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await src.read(65536):
                    if self.cut_now:
                        continue  # swallowed: the path is dead
                    dst.write(data)
                    await dst.drain()

        self._tasks += [asyncio.create_task(pump(reader, up_w)), asyncio.create_task(pump(up_r, writer))]
        self._writers += [writer, up_w]

    def cut(self) -> None:
        self.cut_now = True

    async def close(self) -> None:
        """Reset every relayed connection (the dead process's sockets go with it)."""
        for t in self._tasks:
            t.cancel()
        for w in self._writers:
            w.transport.abort()
        if self.server is not None:
            self.server.close()


class OtherSession:
    """A second session of the same account (our codec), to leave things behind."""

    def __init__(self, url: str, keys: SimKeys) -> None:
        self.ws = WsSession(url, lambda _e: None, request_timeout_s=5.0, ping_interval_s=0.5)
        self.keys = keys
        self.listener: asyncio.Task | None = None

    async def open(self, *, cancel_on_disconnect: bool) -> None:
        await self.ws.open()
        self.listener = asyncio.create_task(self.ws.listen())
        await self.ws.call(rq.login, make_login_token(self.keys.kid, self.keys.private_key_pem(), time.time() + 0.0007))
        if cancel_on_disconnect:
            await self.ws.call(rq.set_cancel_on_disconnect, 30)

    async def touch(self) -> tuple[float, float, float]:
        t = await self.ws.call(rq.ticker, INSTRUMENT)
        return float(t["best_bid_price"]), float(t["best_ask_price"]), float(t["mark_price"])

    async def rest(self, cids: range, side: str, price: float) -> list[str]:
        out = []
        for i, cid in enumerate(cids):
            step = -i if side == "buy" else i
            r = await self.ws.call(rq.insert, side, INSTRUMENT, 0.01, client_order_id=cid, price=price + step,
                                   post_only=True)
            out.append(r["order_id"])
        return out

    async def close(self) -> None:
        if self.listener is not None:
            self.listener.cancel()
        await self.ws.close()


def ours_and_others(sim: SimExchange, keys: SimKeys, bot: Bot) -> tuple[list, list]:
    ours_ids = bot.our_order_ids()
    live = list(sim.open_orders(keys.account))
    return [o for o in live if o.order_id in ours_ids], [o for o in live if o.order_id not in ours_ids]


def hard_limit_holds(sim: SimExchange, keys: SimKeys) -> bool:
    """Position plus every resting order of the account on a side stays within the hard limit."""
    pos = sim.position(keys.account, INSTRUMENT)
    live = list(sim.open_orders(keys.account))
    buys = sum(o.remaining_amount for o in live if o.side is Side.BUY)
    sells = sum(o.remaining_amount for o in live if o.side is Side.SELL)
    return pos + buys <= HARD + 1e-6 and -pos + sells <= HARD + 1e-6


async def end_run(end: str, bot: Bot, sim: SimExchange, keys: SimKeys, relay: TcpRelay | None) -> None:
    loop = asyncio.get_running_loop()
    if end == "clean_stop":
        bot.quoter.request_stop("test")
        await asyncio.wait_for(bot.runner, 10)
    elif end == "sigint":
        loop.add_signal_handler(signal.SIGINT, bot.quoter.request_stop, "signal")
        try:
            os.kill(os.getpid(), signal.SIGINT)
            assert await asyncio.wait_for(bot.runner, 10) == "signal"
        finally:
            loop.remove_signal_handler(signal.SIGINT)
    elif end in ("kill_9_quoting", "kill_9_fill_in_flight"):
        if end == "kill_9_fill_in_flight":
            await until(lambda: abs(sim.position(keys.account, INSTRUMENT)) > _EPS, 20, "a fill of ours", bot)
        bot.runner.cancel()  # no cancel_session: the exchange only sees the socket go
        with contextlib.suppress(asyncio.CancelledError):
            await bot.runner
    elif end == "network_cut":
        assert relay is not None
        relay.cut()
        # the exchange drops the silent session after the cancel-on-disconnect timeout
        await until(lambda: not ours_and_others(sim, keys, bot)[0], 10, "the exchange to drop the cut session")
        await relay.close()  # the process dies: its sockets are reset
        bot.runner.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await bot.runner
    else:
        raise AssertionError(end)


async def leave(kind: str, sim: SimExchange, keys: SimKeys) -> tuple[OtherSession | None, list[str]]:
    """Leave ``kind`` on the account; returns (a session to keep open, leftover order ids)."""
    if kind == "nothing":
        return None, []
    other = OtherSession(sim.url, keys)
    await other.open(cancel_on_disconnect=kind == "other_session_orders")
    bid, _ask, mark = await other.touch()
    if kind in ("other_session_orders", "persistent_orders"):
        ids = await other.rest(range(1, 4), "buy", round(bid - 200))
        if kind == "persistent_orders":
            await other.close()  # a persistent session's orders outlive it
            return None, ids
        return other, ids
    await other.close()
    # an earlier life of the account traded 0.08 at 1 % worse than today's mark: booked in the
    # exchange's ledger (the venue's state, which the restart then reads through the protocol)
    sign = 1 if kind == "long_at_loss" else -1
    sim.engine.ledger.apply_fill(keys.account, INSTRUMENT, sign, mark * (1 + 0.01 * sign), 0.08, maker=False)
    return None, []


def inherited_loss_usd(sim: SimExchange, keys: SimKeys) -> float:
    """What the account's position is down at the mark (from the exchange's portfolio)."""
    line = next(e for e in sim.engine.portfolio(keys.account) if e.instrument == INSTRUMENT)
    return -(line.mark_price - line.average_price) * line.position


@pytest.mark.parametrize("leftover", LEFTOVERS)
@pytest.mark.parametrize("end", ENDS)
def test_restart_when_run_ended_and_account_has_leftovers_resumes_safely(end: str, leftover: str) -> None:
    async def scenario() -> None:
        with tempfile.TemporaryDirectory(prefix="thalex-mm-restart-") as key_dir:
            async with running_simulated_exchange(seed=7, key_dir=key_dir, publish_interval_s=0.02,
                                                  ping_interval_s=0.25) as (sim, keys):
                relay = None
                url1 = sim.url
                if end == "network_cut":
                    relay = TcpRelay(int(sim.url.rsplit(":", 1)[1].split("/")[0]))
                    url1 = sim.url.replace(str(relay.target_port), str(await relay.start()))
                bot1 = start_bot(config(), url1, keys)
                await until(lambda: len(ours_and_others(sim, keys, bot1)[0]) >= 2, 10, "the first run to quote", bot1)
                await end_run(end, bot1, sim, keys, relay)
                other, leftover_ids = await leave(leftover, sim, keys)
                try:
                    await restart_and_check(sim, keys, leftover, leftover_ids)
                finally:
                    if other is not None:
                        await other.close()
                    if relay is not None:
                        await relay.close()

    run(scenario(), timeout_s=60.0)


async def restart_and_check(sim: SimExchange, keys: SimKeys, leftover: str, leftover_ids: list[str]) -> None:
    cfg = config()
    pos = sim.position(keys.account, INSTRUMENT)
    if leftover.endswith("at_loss"):
        loss = inherited_loss_usd(sim, keys)
        assert loss > 0, "the inherited position must be at a loss"
        # limits below the inherited loss: measured from zero they would halt at once
        cfg = config(session_loss_limit_usd=loss / 2, max_drawdown_usd=loss / 2, daily_loss_limit_usd=loss / 2)
    bot = start_bot(cfg, sim.url, keys)
    try:
        reducing = abs(pos) > SOFT

        def resumed() -> bool:
            ours, _ = ours_and_others(sim, keys, bot)
            sides = {o.side for o in ours}
            if reducing:
                return sides == {Side.SELL if pos > 0 else Side.BUY}
            return sides == {Side.BUY, Side.SELL}

        await until(resumed, RESUME_S, "quoting to resume (one-sided while reducing)", bot)
        status = bot.core.status()
        assert status.trading_state == ("reducing" if reducing else "active"), status.state_reason
        # the position is the exchange's (inherited, then maybe reduced by a fill since)
        await until(lambda: abs(bot.core.status().position - sim.position(keys.account, INSTRUMENT)) < 1e-9,
                    RESUME_S, "the core's position to equal the exchange's", bot)
        # leftovers are cancelled by order id (default policy)
        await until(lambda: not (set(leftover_ids) & {o.order_id for o in sim.open_orders(keys.account)}),
                    RESUME_S, "the leftovers to be cancelled", bot)
        # for a while: no client id shared with another live order, hard limit, no reconnect
        loop = asyncio.get_running_loop()
        until_t = loop.time() + 1.0
        while loop.time() < until_t:
            ours, others = ours_and_others(sim, keys, bot)
            ours_cids = {o.client_order_id for o in ours}
            assert not ours_cids & {o.client_order_id for o in others if o.client_order_id is not None}
            assert hard_limit_holds(sim, keys)
            await asyncio.sleep(0.05)
        st = bot.quoter.stats
        assert st.connects == 1 and st.task_failures == 0 and not bot.runner.done(), list(st.errors)
    finally:
        bot.quoter.request_stop("test end")
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(bot.runner, 10)


def test_restart_when_policy_keeps_leftovers_leaves_them_and_counts_them_against_the_hard_limit() -> None:
    """``order.leftover_orders = keep``: another session's bids of 0.08 stay; our bids may add
    at most 0.02 (hard limit 0.1) and never share a client id with them."""

    async def scenario() -> None:
        with tempfile.TemporaryDirectory(prefix="thalex-mm-restart-") as key_dir:
            async with running_simulated_exchange(seed=7, key_dir=key_dir, publish_interval_s=0.02,
                                                  ping_interval_s=0.25) as (sim, keys):
                other = OtherSession(sim.url, keys)
                await other.open(cancel_on_disconnect=True)
                bid, _, _ = await other.touch()
                kept = []
                for i in range(8):
                    r = await other.ws.call(rq.insert, "buy", INSTRUMENT, 0.01, client_order_id=i + 1,
                                            price=round(bid - 200 - i), post_only=True)
                    kept.append(r["order_id"])
                cfg = config().model_copy(update={"order": config().order.model_copy(update={"leftover_orders": LeftoverPolicy.KEEP})})
                bot = start_bot(cfg, sim.url, keys)
                try:
                    await until(lambda: len(ours_and_others(sim, keys, bot)[0]) >= 2, RESUME_S, "quoting", bot)
                    loop = asyncio.get_running_loop()
                    end = loop.time() + 1.0
                    while loop.time() < end:
                        live = {o.order_id for o in sim.open_orders(keys.account)}
                        assert set(kept) <= live  # never touched
                        assert hard_limit_holds(sim, keys)
                        ours, others = ours_and_others(sim, keys, bot)
                        assert not {o.client_order_id for o in ours} & {o.client_order_id for o in others}
                        await asyncio.sleep(0.05)
                    assert bot.quoter.stats.connects == 1
                finally:
                    bot.quoter.request_stop("test end")
                    with contextlib.suppress(Exception, asyncio.CancelledError):
                        await asyncio.wait_for(bot.runner, 10)
                    await other.close()

    run(scenario(), timeout_s=40.0)
