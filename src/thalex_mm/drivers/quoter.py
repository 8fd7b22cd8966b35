"""AvellanedaQuoter: the async shell around the pure core for live and paper trading.

Per connection it runs the whole start-up sequence (connect → login → cancel-on-disconnect →
MMP (mass quoting) → subscribe → instruments → open orders and portfolio snapshot → reconcile)
and only then lets the core quote. Three tasks share one ``asyncio.TaskGroup``:

- ``listen`` (``WsSession.listen``): read, decode, feed the core; never blocks;
- ``quote``: woken when the core has commands or a deadline; sends commands in order;
- ``heartbeat``: a ``TimerFired`` every second and the timeout of unanswered order requests.

The core decides when to resynchronise (stale or crossed book, an escalating error, a lost
frame, the exchange's ``reconnect``): on its ``Resynchronise`` the quoter cancels the session's
orders and reconnects at once.

WebSocket pings are the heartbeat towards the exchange (they also keep cancel-on-disconnect
alive). Reconnects use exponential backoff with jitter, reset after a stable period.

Latencies (``time.perf_counter``, driver side only) go to an optional ``latency`` observer
(``thalex_mm.monitoring.metrics.Metrics`` fits): the round trip of every request with an id
(request sent -> its answer arrived) and tick-to-order: from the arrival of the first
market-data frame since the previous quote step (the one that made the core want to requote)
to the sending of the first order request of the quote step that followed. A step the core
deferred to its ``min_requote_interval_ms`` deadline includes that wait; steps with no market
frame since the previous step (fills, order updates only) are not counted.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
import traceback
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from thalex_mm.config.models import BotConfig
from thalex_mm.config.secrets import Credentials
from thalex_mm.core.commands import Command, Halt, Resynchronise
from thalex_mm.core.events import (
    MARKET_DATA_EVENTS,
    Connected,
    Disconnected,
    ErrorReceived,
    Event,
    InstrumentsUpdated,
    KillSwitchPressed,
    OrdersUpdated,
    PortfolioUpdated,
    ResponseReceived,
    ShutdownRequested,
    TimerFired,
)
from thalex_mm.core.step import CoreLike, Notice, Step
from thalex_mm.drivers.backoff import FatalConnectionError, backoff_from_config, classify_error
from thalex_mm.drivers.ws_session import WsSession
from thalex_mm.protocol import constants as ch
from thalex_mm.protocol import requests as rq
from thalex_mm.protocol.auth import IatSequencer, make_login_token
from thalex_mm.protocol.decoder import parse_instrument, parse_order_status, parse_portfolio_entry
from thalex_mm.protocol.rejections import RequestRejected

__all__ = ["AvellanedaQuoter", "CoreLike", "LatencyObserver", "QuoterStats"]

log = logging.getLogger("thalex_mm.quoter")


class LatencyObserver(Protocol):
    """Receives the driver's latency measurements, in seconds (``Metrics`` satisfies it)."""

    def observe_tick_to_order(self, seconds: float) -> None: ...
    def observe_round_trip(self, seconds: float) -> None: ...


@dataclass
class QuoterStats:
    """Connection-level counters for the status line and the summary.

    ``connects`` counts connections opened; ``reconnects`` every connection after the first
    (a lost socket, the core's ``Resynchronise``, an unanswered request); ``backoff_waits`` the
    reconnects that first waited out a backoff delay (a resynchronisation reconnects at once).

    ``task_failures`` counts the internal errors of the run (an exception in a quoter task, e.g.
    a bug in the core: the connection is closed, which pulls the quotes, and restarted);
    ``consecutive_task_failures`` those since the last connection that stayed up
    ``connection.stable_reset_s`` (more than ``connection.max_task_failures`` is fatal);
    ``tracebacks`` the formatted tracebacks of the last few, oldest first.
    """

    connects: int = 0
    reconnects: int = 0
    backoff_waits: int = 0
    commands_sent: int = 0
    task_failures: int = 0
    consecutive_task_failures: int = 0
    last_error: str = ""
    connected: bool = False
    errors: deque[str] = field(default_factory=lambda: deque(maxlen=20))
    tracebacks: deque[str] = field(default_factory=lambda: deque(maxlen=5))


class AvellanedaQuoter:
    """Runs a core against one Thalex-protocol endpoint until stopped.

    Args:
        config: the effective BOT_CONFIG.
        url: WebSocket endpoint.
        credentials: API key (None only for public-data use).
        core: the pure core.
        on_command: observer of every command sent (journal, metrics); must not block.
        on_event: observer of every event fed to the core; must not block.
        on_notices: the one sink of the core's notices, called with ``(notices, local_ts_ns)``
            after every step that has any (journal, dashboard); must not block.
        rng: jitter source for reconnect backoff.
        clock_ns: wall clock.
        monotonic_s: monotonic clock, seconds (how long a connection stayed up).
        latency: observer of request round trips and tick-to-order latencies (s), e.g. the
            dashboard's ``Metrics``; must not block. Also settable later as ``quoter.latency``.
    """

    def __init__(
        self,
        config: BotConfig,
        url: str,
        credentials: Credentials | None,
        core: CoreLike,
        *,
        on_command: Callable[[int, Command, int], None] | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_notices: Callable[[tuple[Notice, ...], int], None] | None = None,
        rng: random.Random | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
        latency: LatencyObserver | None = None,
        monotonic_s: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.latency = latency
        self.url = url
        self.credentials = credentials
        self.core = core
        self.stats = QuoterStats()
        self._on_command = on_command
        self._on_event_observer = on_event
        self._on_notices = on_notices
        self._rng = rng or random.Random()
        self._clock_ns = clock_ns
        self._monotonic_s = monotonic_s
        self._iat = IatSequencer()
        self._session: WsSession | None = None
        # (request id, command, perf_counter stamp of the market frame that caused it or None);
        # request id 0 = planned while no session was open, never sent.
        self._outbox: deque[tuple[int, Command, float | None]] = deque()
        self._unanswered: dict[int, int] = {}  # request id -> send time (ns) of order commands
        # perf_counter (s) at the arrival of the first market frame since the last quote step.
        self._tick_perf_s: float | None = None
        self._wake = asyncio.Event()
        self._stop = asyncio.Event()
        self._reconnect_now = asyncio.Event()
        self._ready = False
        self._opened = False  # the last connection attempt got as far as an open socket
        self._stop_reason = ""

    # ------------------------------------------------------------------ public control

    def request_stop(self, reason: str = "shutdown") -> None:
        """Ask the quoter to shut down cleanly (safe from signal handlers)."""
        self._stop_reason = self._stop_reason or reason
        self._stop.set()
        self._wake.set()

    def press_kill_switch(self, source: str = "operator") -> None:
        self._feed(KillSwitchPressed(local_ts_ns=self._clock_ns(), source=source))

    def resume_trading(self, source: str = "operator") -> None:
        """An operator lifts a kill switch or sticky risk halt (``core.reset_risk``: limits are
        re-based at the current PnL); quoting resumes at the step this timer event runs."""
        log.warning("trading resumed by %s", source)
        reset = getattr(self.core, "reset_risk", None)
        if reset is not None:
            now = self._clock_ns()
            notices = reset(now)
            if notices and self._on_notices is not None:
                self._on_notices(notices, now)  # the reset's state change reaches the journal
        self._feed(TimerFired(local_ts_ns=self._clock_ns()))

    @property
    def ready(self) -> bool:
        """Connected, synchronised and quoting allowed."""
        return self._ready

    async def run(self) -> str:
        """Connect, quote, reconnect on failures, until :meth:`request_stop`. Returns the exit reason.

        An exception in a quoter task ends its connection (closed first: cancel-on-disconnect
        pulls the quotes), is logged with its traceback and restarts the connection; more than
        ``connection.max_task_failures`` of them without a connection that stayed up
        ``connection.stable_reset_s`` in between end the run (``"fatal: ..."``).
        """
        conn = self.config.connection
        delays = backoff_from_config(self._rng, conn)
        while not self._stop.is_set():
            started = self._monotonic_s()
            failure: Exception | None = None
            try:
                await self._run_connection()
            except Exception as exc:
                failure = exc
            if self._monotonic_s() - started > conn.stable_reset_s:
                # A stable connection: what went wrong before it is history.
                delays = backoff_from_config(self._rng, conn)
                self.stats.consecutive_task_failures = 0
            if failure is not None and self._on_failure(failure):
                break
            if self._stop.is_set():
                break
            if self._reconnect_now.is_set():
                self._reconnect_now.clear()
                continue
            self.stats.backoff_waits += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), next(delays))
        return self._stop_reason or "stopped"

    def _on_failure(self, failure: Exception) -> bool:
        """Record why a connection ended; True when the run must stop (fatal)."""
        exc: BaseException = failure
        while isinstance(exc, BaseExceptionGroup):
            exc = exc.exceptions[0]
        self.stats.last_error = f"{type(exc).__name__}: {exc}"
        self.stats.errors.append(self.stats.last_error)
        if isinstance(exc, FatalConnectionError):
            log.error("fatal: %s", exc)
            self._stop_reason = f"fatal: {self.stats.last_error}"
            return True
        if classify_error(exc) is None or isinstance(exc, RequestRejected):
            if self._opened:
                log.warning("connection lost: %s", self.stats.last_error)
            else:
                log.warning("could not connect to %s: %s", self.url, self.stats.last_error)
            return False
        # An internal error (a bug): the connection is already closed, quotes pulled.
        self.stats.task_failures += 1
        self.stats.consecutive_task_failures += 1
        self.stats.tracebacks.append("".join(traceback.format_exception(exc)))
        limit = self.config.connection.max_task_failures
        if self.stats.consecutive_task_failures > limit:
            log.error("quoter task failed %d times in a row (limit %d): stopping",
                      self.stats.consecutive_task_failures, limit, exc_info=exc)
            self._stop_reason = f"fatal: {self.stats.last_error}"
            return True
        log.error("quoter task failed; quotes pulled, restarting", exc_info=exc)
        return False

    # ------------------------------------------------------------------ one connection

    async def _run_connection(self) -> None:
        cfg = self.config
        session = WsSession(
            self.url,
            self._feed,
            request_timeout_s=cfg.connection.request_timeout_s,
            ping_interval_s=cfg.connection.ping_interval_s,
            clock_ns=self._clock_ns,
            on_round_trip=self._observe_round_trip,
        )
        self._session = session
        self._ready = False
        self._outbox.clear()
        self._unanswered.clear()
        self._tick_perf_s = None
        self._opened = False
        try:
            await session.open()
            self._opened = True
            self.stats.connects += 1
            if self.stats.connects > 1:
                self.stats.reconnects += 1
            self.stats.connected = True
            async with asyncio.TaskGroup() as tg:
                listener = tg.create_task(session.listen(), name="listen")
                await self._synchronise(session)
                self._ready = True
                if self.stats.connects > 1:
                    log.warning("reconnected (connection %d): synchronised, quoting resumes", self.stats.connects)
                self.stats.last_error = ""  # synchronised again: the last failure is history
                quote = tg.create_task(self._quote_task(session), name="quote")
                heartbeat = tg.create_task(self._heartbeat_task(session), name="heartbeat")
                stop = tg.create_task(self._stop.wait(), name="stop")
                recon = tg.create_task(self._reconnect_now.wait(), name="reconnect")
                await asyncio.wait({listener, stop, recon}, return_when=asyncio.FIRST_COMPLETED)
                if self._stop.is_set():
                    await self._shutdown(session)
                elif self._reconnect_now.is_set():
                    await self._cancel_session_quietly(session)
                # this connection's tasks end with it (an exception above: the group cancels them)
                for task in (listener, quote, heartbeat, stop, recon):
                    task.cancel()
        finally:
            self._ready = False
            self.stats.connected = False
            self._session = None
            try:
                # Close first: whatever failed (a task, the core), the socket must not outlive
                # its connection, or it keeps answering pings and cancel-on-disconnect never
                # pulls the quotes. Only then tell the core, which may raise too.
                await session.close()
            finally:
                self._feed(Disconnected(local_ts_ns=self._clock_ns(), reason=self.stats.last_error or "closed"))

    async def _synchronise(self, session: WsSession) -> None:
        """The start-up sequence; the core quotes only after ``Connected``."""
        cfg = self.config
        instrument = cfg.market.instrument
        if self.credentials is not None:
            token = make_login_token(
                self.credentials.key_id,
                self.credentials.private_key.reveal(),
                self._iat.next_iat(self.credentials.key_id, self._clock_ns() / 1e9),
            )
            try:
                await session.call(rq.login, token, cfg.market.account)
            except RequestRejected as exc:
                raise FatalConnectionError(f"login refused: [{int(exc.code)}] {exc.message}") from None
            del token
            await session.call(rq.set_cancel_on_disconnect, cfg.connection.cancel_on_disconnect_timeout_s)
        cod = self.credentials is not None
        now = self._clock_ns()
        raw = await session.call(rq.instruments)
        found = tuple(parse_instrument(d) for d in raw or ())
        self._feed(InstrumentsUpdated(local_ts_ns=now, added=found, snapshot=True))
        if not any(i.name == instrument for i in found):
            raise FatalConnectionError(f"market.instrument: {instrument!r} is not listed by the exchange")
        product = next(i.product for i in found if i.name == instrument)
        mmp = cfg.order.use_mass_quote and cod
        if mmp:
            await session.call(rq.set_mm_protection, product, cfg.order.mmp_trade_amount, cfg.order.mmp_quote_amount)
        public = [ch.ticker_channel(instrument), ch.book_channel(instrument), ch.price_index_channel(cfg.market.underlying),
                  ch.recent_trades_channel(instrument, "single"), ch.Channel.SYSTEM.value]
        got = await session.call(rq.public_subscribe, public)
        self._check_subscribed(public, got)
        if self.credentials is not None:
            private = [c.value for c in (ch.Channel.SESSION_ORDERS, ch.Channel.ACCOUNT_PORTFOLIO,
                                         ch.Channel.ACCOUNT_TRADE_HISTORY, ch.Channel.ACCOUNT_SUMMARY,
                                         ch.Channel.SESSION_MM_PROTECTION)]
            got = await session.call(rq.private_subscribe, private)
            self._check_subscribed(private, got)
            now = self._clock_ns()
            orders = await session.call(rq.open_orders)
            self._feed(OrdersUpdated(local_ts_ns=now, orders=tuple(parse_order_status(d) for d in orders or ()), snapshot=True, scope="account"))
            lines = await session.call(rq.portfolio)
            self._feed(PortfolioUpdated(local_ts_ns=now, entries=tuple(parse_portfolio_entry(d) for d in lines or ()), snapshot=True))
        self._feed(Connected(local_ts_ns=self._clock_ns(), cancel_on_disconnect=cod, mass_quote_ready=mmp))

    @staticmethod
    def _check_subscribed(wanted: list[str], got: Any) -> None:
        missing = sorted(set(wanted) - set(got or ()))
        if missing:
            raise FatalConnectionError(f"subscription refused for channels {missing}")

    # ------------------------------------------------------------------ tasks

    def _feed(self, event: Event) -> None:
        """Give one event to the core and queue what it wants sent (listen task; never blocks)."""
        if isinstance(event, ResponseReceived | ErrorReceived):
            self._unanswered.pop(event.request_id, None)  # type: ignore[arg-type]
        if self._on_event_observer is not None:
            self._on_event_observer(event)
        session = self._session
        if self._tick_perf_s is None and session is not None and isinstance(event, MARKET_DATA_EVENTS):
            self._tick_perf_s = session.last_frame_perf_s or None
        step = self._step(event)
        # A quote step acted on the market frames seen so far: its orders carry the first
        # one's arrival stamp.
        stamp = None
        if step.quoted:
            stamp, self._tick_perf_s = self._tick_perf_s, None
        if step.commands:
            for cmd in step.commands:
                if isinstance(cmd, Resynchronise):
                    self._resynchronise(cmd)
                    continue
                if isinstance(cmd, Halt) or session is None:
                    self._outbox.append((0, cmd, None))
                    continue
                # Tell the core now, not when the quote task gets to send: the next event may
                # run another quote step first, and it must see these orders as in flight
                # (else it plans a second insert for the same level, or a second amend of an
                # order whose amend is still queued).
                rid = session.next_request_id()
                self.core.on_sent(rid, cmd)
                self._outbox.append((rid, cmd, stamp))
        self._wake.set()

    def _resynchronise(self, cmd: Resynchronise) -> None:
        """Carry out the core's decision: the connection ends at once (its orders are cancelled
        first) and a fresh one starts without a backoff wait."""
        self.stats.last_error = f"{cmd.reason.value}: {cmd.detail}" if cmd.detail else cmd.reason.value
        log.warning("resynchronising: %s", self.stats.last_error)
        self._reconnect_now.set()

    def _step(self, event: Event) -> Step:
        """The core handles ``event``; its notices go to the sink at once."""
        step = self.core.handle(event)
        if step.notices and self._on_notices is not None:
            self._on_notices(step.notices, event.local_ts_ns)
        return step

    async def _quote_task(self, session: WsSession) -> None:
        """Send queued commands; deliver ``TimerFired`` at the core's deadline (coalesces bursts:
        the core decides when to requote, subject to its minimum requote interval)."""
        last_stamp: float | None = None
        while True:
            while self._outbox:
                rid, cmd, stamp = self._outbox.popleft()
                if isinstance(cmd, Halt):
                    continue  # the state change itself is the console line (SessionLog)
                if rid == 0:
                    continue  # planned while no session was open: never sent
                if self._on_command is not None:
                    self._on_command(rid, cmd, self._clock_ns())
                self._unanswered[rid] = self._clock_ns()
                await session.send(rq.command_to_request(cmd, rid))
                self.stats.commands_sent += 1
                if stamp is not None and stamp != last_stamp and self.latency is not None:
                    # First order request of the quote step this market frame caused.
                    last_stamp = stamp
                    self.latency.observe_tick_to_order(time.perf_counter() - stamp)
            self._wake.clear()
            deadline = self.core.next_deadline_ns()
            timeout = None if deadline is None else max(0.0, (deadline - self._clock_ns()) / 1e9)
            try:
                # asyncio.timeout, not wait_for: wait_for can swallow a cancellation that races
                # with the wake-up (Python 3.11), which would leave this task running forever.
                async with asyncio.timeout(timeout):
                    await self._wake.wait()
            except TimeoutError:
                self._feed(TimerFired(local_ts_ns=self._clock_ns()))

    async def _heartbeat_task(self, session: WsSession) -> None:
        """Wake the core every second (it checks its feeds and may ask to resynchronise); time
        out order requests the exchange never answered."""
        while True:
            await asyncio.sleep(1.0)
            now = self._clock_ns()
            self._feed(TimerFired(local_ts_ns=now))
            oldest = min(self._unanswered.values(), default=now)
            if (now - oldest) / 1e9 > self.config.connection.request_timeout_s:
                # An order request the exchange never answered leaves its order (or the MMP
                # arming) pending for ever, and the core will not touch it again: resync.
                log.warning("an order request is unanswered after %.1f s: reconnecting", (now - oldest) / 1e9)
                self.stats.last_error = "request unanswered"
                self._unanswered.clear()
                self._reconnect_now.set()

    def _observe_round_trip(self, seconds: float) -> None:
        if self.latency is not None:
            self.latency.observe_round_trip(seconds)

    # ------------------------------------------------------------------ shutdown

    async def _shutdown(self, session: WsSession) -> None:
        """Cancel everything and wait for the confirmation (bounded), then return."""
        self._ready = False
        # The core stops quoting; the cancel itself is sent here and awaited (bounded by the
        # request timeout), so we know the exchange confirmed it before closing.
        self._step(ShutdownRequested(local_ts_ns=self._clock_ns(), reason=self._stop_reason or "shutdown"))
        self._outbox.clear()
        await self._cancel_session_quietly(session)

    async def _cancel_session_quietly(self, session: WsSession) -> None:
        if self.credentials is None:
            return
        try:
            await session.call(rq.cancel_session)
        except (RequestRejected, TimeoutError, Exception) as exc:
            log.warning("cancel_session failed: %s; falling back to cancel_all", exc)
            with contextlib.suppress(Exception):
                await session.call(rq.cancel_all)

