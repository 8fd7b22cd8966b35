"""Crash recovery of live runs: a ``kill -9`` (or a power loss) leaves a run unfinished and
loses what the journal writer had not committed; before a new live run starts, the exchange's
``private/trade_history`` fills the gap and those runs are closed."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials
from thalex_mm.core.events import AccountTrade
from thalex_mm.drivers.ws_session import WsSession
from thalex_mm.protocol import requests as rq
from thalex_mm.protocol.auth import make_login_token
from thalex_mm.protocol.parsers import parse_trade_history
from thalex_mm.store.recovery import config_identity, crashed_runs

__all__ = ["recover_crashed_runs"]

log = logging.getLogger("thalex_mm.live")


async def recover_crashed_runs(
    journal: Any,
    config: BotConfig,
    url: str,
    creds: Credentials | None,
    *,
    network: str | None = None,
    clock_ns: Callable[[], int] = time.time_ns,
) -> None:
    """Close the live runs of this journal whose process died and journal the fills they missed.

    Only runs of the same instrument, account and ``network`` whose process is gone count
    (:func:`thalex_mm.store.recovery.crashed_runs`); another bot still running on the same
    journal keeps its run open. Every trade of the instrument since the oldest such run started
    that the journal does not hold yet goes to the run that was running at its time; each run is
    then finished as ``crashed``, stopped at its last journaled record. A failure to read the
    exchange is logged and skipped: recovery bookkeeping must not stop trading. ``clock_ns``
    (wall clock, ns) dates the login token.
    """
    ident = config_identity(config)
    if network is not None:
        ident["network"] = network
    crashed = crashed_runs(journal, mode="live", **ident)
    if not crashed:
        return
    known = journal.trade_ids(since_ns=0)
    recovered: dict[str, int] = {r.run_id: 0 for r in crashed}
    try:
        for trade in await _trade_history(config, url, creds, since_ns=crashed[0].started_ns, clock_ns=clock_ns):
            if trade.instrument != config.market.instrument or trade.trade_type != "normal" or trade.trade_id in known:
                continue
            owner = [r for r in crashed if r.started_ns <= trade.ts_ns]
            if not owner:
                continue
            known.add(trade.trade_id)
            recovered[owner[-1].run_id] += 1
            journal.fill(owner[-1].run_id, ts_ns=trade.ts_ns, trade_id=trade.trade_id, side=trade.side.value,
                         price=trade.price, amount=trade.amount, fee=trade.fee, maker_taker=trade.maker_taker,
                         client_order_id=trade.client_order_id, order_id=trade.order_id,
                         position_after=trade.position_after)
    except Exception as exc:  # never let bookkeeping stop the bot; the runs still get closed
        log.warning("crash recovery: could not read the exchange's trade history: %s: %s", type(exc).__name__, exc)
    for r in crashed:
        last = journal.last_record_ns(r.run_id)
        journal.finish_run(r.run_id, f"crashed (process {r.pid} gone; {recovered[r.run_id]} missed fills "
                                     "recovered from the exchange's trade history)",
                           stopped_ns=r.started_ns if last is None else max(last, r.started_ns))
        print(f"recovered   run {r.run_id}: crashed, {recovered[r.run_id]} missed fills journaled")


async def _trade_history(
    config: BotConfig, url: str, creds: Credentials | None, *, since_ns: int, clock_ns: Callable[[], int]
) -> tuple[AccountTrade, ...]:
    """The account's trades of the instrument since ``since_ns`` (oldest first, at most 1000)."""
    if creds is None:
        raise ValueError("no API key: the trade history is private")
    session = WsSession(url, lambda _event: None, request_timeout_s=config.connection.request_timeout_s,
                        ping_interval_s=config.connection.ping_interval_s)
    await session.open()
    listener = asyncio.create_task(session.listen())
    try:
        token = make_login_token(creds.key_id, creds.private_key.reveal(), clock_ns() / 1e9)
        await session.call(rq.login, token, config.market.account)
        del token
        result = await session.call(rq.trade_history, limit=1000, time_low=since_ns / 1e9,
                                    sort="ascending", instrument_names=config.market.instrument)
    finally:
        listener.cancel()
        await session.close()
    return parse_trade_history(result)
