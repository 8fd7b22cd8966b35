"""The simulated Thalex exchange: a WebSocket JSON-RPC server around the pure matching engine.

One ``SimExchange`` serves any Thalex client on 127.0.0.1 (the bot, the official ``thalex``
package, its examples). It speaks the protocol of ``thalex_protocol.md`` through the shared
codec (``thalex_mm.protocol``), so the bot and the simulator cannot drift apart silently:

- login with real RS512 JWT verification against registered public keys (``kid``), ``iat``
  within 30 s and strictly increasing per key; private calls before login are refused (code 7);
- per-connection rate limits (10 matching-engine msgs/s, 50/s after cancel-on-disconnect,
  1000 cancels/s; a breach gives code 4 and a lockout);
- cancel-on-disconnect: the server pings every second and drops a connection whose pongs stop
  for ``timeout_secs``; non-persistent orders are then deleted (``session_end``), persistent
  orders survive;
- market data from a market source (synthetic A–S world or replay), published on ``book``,
  ``ticker``, ``lwt``, ``price_index`` and ``recent_trades``; a ``system`` reconnect event;
- fault injection (``FaultPlan``).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from thalex_mm.core.types import Instrument, Side
from thalex_mm.protocol import server_codec as sc
from thalex_mm.protocol.auth import verify_login_token
from thalex_mm.protocol.constants import Channel, Method
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.params import (
    read_amend_params,
    read_cancel_mass_quote_params,
    read_cancel_on_disconnect_params,
    read_cancel_params,
    read_channels_params,
    read_insert_params,
    read_instrument_name_param,
    read_login_params,
    read_mass_quote_params,
    read_set_mmp_params,
    read_underlying_param,
)
from thalex_mm.protocol.rejections import RequestRejected
from thalex_mm.sim.engine import Collar
from thalex_mm.sim.faults import FaultPlan
from thalex_mm.sim.market_feed import MarketFeed
from thalex_mm.sim.rate_limit import ConnectionRateLimiter, RateLimits

__all__ = ["ClientConnection", "SimExchange", "SimServerConfig"]

log = logging.getLogger("thalex_mm.sim")

_TRADE_HISTORY_KEPT = 1000  # private/trade_history returns the most recent trades, newest last
_ME_METHODS = frozenset({Method.INSERT, Method.BUY, Method.SELL, Method.AMEND, Method.MASS_QUOTE})
_CANCEL_METHODS = frozenset({Method.CANCEL, Method.CANCEL_ALL, Method.CANCEL_SESSION, Method.CANCEL_MASS_QUOTE})
_PRIVATE_CHANNELS = frozenset(
    {
        Channel.SESSION_ORDERS, Channel.ACCOUNT_ORDERS, Channel.ACCOUNT_PORTFOLIO,
        Channel.ACCOUNT_TRADE_HISTORY, Channel.ACCOUNT_SUMMARY, Channel.SESSION_MM_PROTECTION,
    }
)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimServerConfig:
    """Server settings (not the market's: see ``MarketFeed``).

    Attributes:
        host: bind address (loopback by default).
        port: TCP port; 0 = ephemeral.
        rate_limits: per-connection message budgets.
        ping_interval_s: how often the server pings each client, seconds.
        default_timeout_s: pong timeout for connections without cancel-on-disconnect, seconds.
    """

    host: str = "127.0.0.1"
    port: int = 0
    rate_limits: RateLimits = field(default_factory=RateLimits)
    ping_interval_s: float = 1.0
    default_timeout_s: float = 30.0


@dataclass
class ClientConnection:
    """Server-side state of one WebSocket client."""

    ws: ServerConnection
    session_id: str
    limiter: ConnectionRateLimiter
    account: str | None = None
    cod_timeout_s: int | None = None
    subscriptions: set[str] = field(default_factory=set)
    requests_seen: int = 0
    held_response: bytes | None = None
    last_pong_ns: int = 0
    outbox: asyncio.Queue[bytes] = field(default_factory=asyncio.Queue)

    def send_nowait(self, frame: bytes) -> None:
        """Queue a frame; one writer task per connection keeps frames in order."""
        self.outbox.put_nowait(frame)


class SimExchange:
    """The simulated exchange. ``await start()`` returns the URL; ``await stop()`` ends it.

    Args:
        feed: the market (engine + market source + public feeds).
        public_keys: ``kid → (public key PEM, account number)``.
        config: server settings.
        faults: fault plan (a healthy one by default).
        clock_ns: wall clock, ns.
    """

    def __init__(
        self,
        feed: MarketFeed,
        public_keys: dict[str, tuple[str, str]] | None = None,
        *,
        config: SimServerConfig | None = None,
        faults: FaultPlan | None = None,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        self.feed = feed
        self.engine = feed.engine
        self.config = config or SimServerConfig()
        self.faults = faults or FaultPlan()
        self.public_keys = dict(public_keys or {})
        self._clock_ns = clock_ns
        self._last_iat: dict[str, float] = {}
        self._clients: dict[str, ClientConnection] = {}
        self._session_ids = itertools.count(1)
        self._server: Server | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._started_ns = 0
        self._trades_by_account: dict[str, deque[Any]] = {}
        self._frozen_clients: set[str] = set()  # sessions that missed market frames (freeze)
        self.url = ""
        feed.publish = self._publish_market
        feed.publish_private = self._fan_out

    # ------------------------------------------------------------------ lifecycle

    def add_key(self, kid: str, public_pem: str, account: str) -> None:
        self.public_keys[kid] = (public_pem, account)

    async def start(self) -> str:
        self._started_ns = self._clock_ns()
        self._server = await serve(
            self._handle_connection,
            self.config.host,
            self.config.port,
            ping_interval=None,
            close_timeout=1.0,
            max_size=2**20,
        )
        port = next(iter(self._server.sockets)).getsockname()[1]
        self.url = f"ws://{self.config.host}:{port}/ws/api/v2"
        self._tasks.append(asyncio.create_task(self.feed.run(self._clock_ns), name="sim-market"))
        self._tasks.append(asyncio.create_task(self._watchdog(), name="sim-watchdog"))
        return self.url

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 2.0)
            self._server = None

    async def __aenter__(self) -> SimExchange:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # ------------------------------------------------------------------ test hooks

    async def drop_all_connections(self) -> None:
        for client in list(self._clients.values()):
            await client.ws.close(code=1011, reason="injected disconnect")

    async def announce_reconnect(self) -> None:
        """Send the ``system`` reconnect event to its subscribers."""
        frame = sc.encode_notification(Channel.SYSTEM.value, {"event": "reconnect"})
        for client in list(self._clients.values()):
            if Channel.SYSTEM.value in client.subscriptions:
                client.send_nowait(frame)

    async def restart(self, keep_persistent: bool = True) -> None:
        """Simulate a venue restart (failover): non-persistent orders are deleted (reason
        ``failover``; persistent ones too unless ``keep_persistent``), then every connection
        drops. Logins, subscriptions and rate-limit state are gone with the connections."""
        self._fan_out(self.engine.failover(keep_persistent=keep_persistent, ts_ns=self._clock_ns()))
        await asyncio.sleep(0.01)  # let the writers send the deletion notifications
        await self.drop_all_connections()

    def admin_cancel(self, account: str) -> int:
        """The exchange deletes every live order of ``account`` (``admin_cancel``); returns
        how many."""
        out = self.engine.admin_cancel(account, ts_ns=self._clock_ns())
        self._fan_out(out)
        return int(out.response)

    def open_orders(self, account: str):
        return self.engine.open_orders(account=account)

    def position(self, account: str, instrument: str) -> float:
        """The account's position in ``instrument``, contracts (0 when flat)."""
        for entry in self.engine.portfolio(account):
            if entry.instrument == instrument:
                return entry.position
        return 0.0

    # ------------------------------------------------------------------ connection loop

    async def _handle_connection(self, ws: ServerConnection) -> None:
        session_id = f"s{next(self._session_ids)}"
        client = ClientConnection(ws=ws, session_id=session_id, limiter=ConnectionRateLimiter(self.config.rate_limits), last_pong_ns=self._clock_ns())
        self._clients[session_id] = client
        writer = asyncio.create_task(self._writer(client), name=f"sim-writer-{session_id}")
        try:
            async for data in ws:
                client.last_pong_ns = self._clock_ns()
                await self._on_frame(client, data)
        except ConnectionClosed:
            pass
        finally:
            writer.cancel()
            self._clients.pop(session_id, None)
            if client.account is not None:
                self._fan_out(self.engine.disconnect_session(session_id, ts_ns=self._clock_ns()))

    async def _watchdog(self) -> None:
        """Ping every client; drop those silent past their timeout (cancel-on-disconnect);
        execute time-based faults."""
        interval = self.config.ping_interval_s
        while True:
            await asyncio.sleep(interval)
            now = self._clock_ns()
            if self.faults.drop_at_s is not None and (now - self._started_ns) / 1e9 >= self.faults.drop_at_s:
                self.faults.drop_at_s = None
                await self.drop_all_connections()
            for client in list(self._clients.values()):
                if client.held_response is not None and not self.faults.reorder_responses:
                    client.send_nowait(client.held_response)  # reordering is off: release it
                    client.held_response = None
                timeout = client.cod_timeout_s or self.config.default_timeout_s
                if (now - client.last_pong_ns) / 1e9 > timeout:
                    # A silent peer cannot complete a close handshake: drop the TCP connection;
                    # the handler's cleanup then deletes its non-persistent orders.
                    log.info("session %s timed out: dropping (cancel-on-disconnect)",
                             client.session_id)
                    client.ws.transport.abort()
                    continue
                try:
                    pong = await client.ws.ping()
                except ConnectionClosed:
                    continue
                pong.add_done_callback(
                    lambda _f, c=client: setattr(c, "last_pong_ns", self._clock_ns())
                )

    async def _writer(self, client: ClientConnection) -> None:
        with contextlib.suppress(ConnectionClosed):
            while True:
                frame = await client.outbox.get()
                await client.ws.send(frame, text=True)

    async def _send(self, client: ClientConnection, frame: bytes) -> None:
        client.send_nowait(frame)

    async def _on_frame(self, client: ClientConnection, data: str | bytes) -> None:
        client.requests_seen += 1
        faults = self.faults
        if faults.drop_after_messages is not None and client.requests_seen > faults.drop_after_messages:
            faults.drop_after_messages = None
            await client.ws.close(code=1011, reason="injected disconnect")
            return
        if faults.roll(faults.drop_probability):
            await client.ws.close(code=1011, reason="injected disconnect")
            return
        req = sc.parse_request(data)
        if isinstance(req, sc.BadRequest):
            await self._respond(client, sc.encode_error(req.id, req.code, req.message))
            return
        try:
            result = self._dispatch(client, req)
        except RequestRejected as exc:
            await self._respond(client, sc.encode_error(req.id, int(exc.code), exc.message))
            return
        await self._respond(client, sc.encode_response(req.id, result))

    async def _respond(self, client: ClientConnection, frame: bytes) -> None:
        if self.faults.response_delay_s > 0:
            asyncio.get_running_loop().call_later(self.faults.response_delay_s, client.send_nowait, frame)
            return
        if self.faults.reorder_responses:
            held, client.held_response = client.held_response, frame
            if held is None:
                return
            client.held_response = None
            client.send_nowait(frame)
            client.send_nowait(held)
            return
        client.send_nowait(frame)
        if client.held_response is not None:  # reordering was switched off: release the held one
            client.send_nowait(client.held_response)
            client.held_response = None

    # ------------------------------------------------------------------ dispatch

    def _dispatch(self, client: ClientConnection, req: sc.Request) -> Any:
        method, params = req.method, req.params
        handler = _HANDLERS.get(method)
        if handler is None:
            raise RequestRejected(ErrorCode.UNKNOWN_METHOD, f"method: unknown method {method!r}")
        if method.startswith("private/") and client.account is None:
            raise RequestRejected(ErrorCode.NOT_LOGGED_IN, f"{method}: log in first (public/login)")
        now = self._clock_ns()
        if method in _ME_METHODS or method in _CANCEL_METHODS:
            if self.faults.throttle_everything and method in _ME_METHODS:
                raise RequestRejected(ErrorCode.THROTTLE_EXCEEDED, "throttle exceeded")
            kind = "cancel" if method in _CANCEL_METHODS else "me"
            if not client.limiter.admit(kind, now):
                raise RequestRejected(ErrorCode.THROTTLE_EXCEEDED, "throttle exceeded")
        if method.startswith("private/") and self.faults.roll(self.faults.error_share):
            raise RequestRejected(self.faults.error_code, "injected failure")
        return handler(self, client, params, now)

    def _engine_result(self, out: Any) -> Any:
        self._fan_out(out)
        if out.error is not None:
            raise RequestRejected(out.error.code, out.error.message)
        return out.response

    # public -----------------------------------------------------------------------

    def _login(self, client: ClientConnection, params: dict, now: int) -> Any:
        token, account = read_login_params(params)
        keys = {kid: pem for kid, (pem, _acct) in self.public_keys.items()}
        kid, iat = verify_login_token(token, keys, now / 1e9, self._last_iat)
        self._last_iat[kid] = iat
        default_account = self.public_keys[kid][1]
        if account is not None and account != default_account:
            raise RequestRejected(ErrorCode.UNAUTHORIZED, f"account: {account!r} is not accessible with key {kid!r}")
        client.account = default_account
        self.engine.open_session(client.session_id, default_account)
        return {"account_number": default_account}

    def _instruments(self, client: ClientConnection, params: dict, now: int) -> Any:
        return [sc.instrument_to_wire(i) for i in self.feed.instruments.values()]

    def _instrument(self, client: ClientConnection, params: dict, now: int) -> Any:
        return sc.instrument_to_wire(self._lookup_instrument(read_instrument_name_param(params)))

    def _ticker(self, client: ClientConnection, params: dict, now: int) -> Any:
        name = self._lookup_instrument(read_instrument_name_param(params)).name
        return sc.ticker_to_wire(self.feed.ticker(name))

    def _index(self, client: ClientConnection, params: dict, now: int) -> Any:
        underlying = read_underlying_param(params)
        idx = self.feed.index(underlying)
        if idx is None:
            raise RequestRejected(ErrorCode.UNKNOWN_UNDERLYING, f"underlying: unknown {underlying!r}")
        return sc.index_to_wire(idx)

    def _book(self, client: ClientConnection, params: dict, now: int) -> Any:
        name = self._lookup_instrument(read_instrument_name_param(params)).name
        bids, asks = self.engine.book_levels(name, 5)
        return {"bids": [[p, a, a] for p, a in bids], "asks": [[p, a, a] for p, a in asks], "last": self.feed.last_price(name), "time": now / 1e9}

    def _system_info(self, client: ClientConnection, params: dict, now: int) -> Any:
        return {"environment": "thalex-mm-sim", "api_version": "2", "banners": []}

    def _lookup_instrument(self, name: str) -> Instrument:
        inst = self.feed.instruments.get(name)
        if inst is None:
            raise RequestRejected(ErrorCode.UNKNOWN_INSTRUMENT, f"instrument_name: unknown instrument {name!r}")
        return inst

    def _subscribe(self, client: ClientConnection, params: dict, now: int, private: bool) -> Any:
        accepted: list[str] = []
        for name in read_channels_params(params):
            if name in client.subscriptions:
                accepted.append(name)
                continue
            is_private = name in _PRIVATE_CHANNELS
            if is_private != private:
                continue  # per the spec, invalid channels are simply left out of the result
            if not is_private and not self.feed.is_valid_channel(name):
                continue
            client.subscriptions.add(name)
            accepted.append(name)
            asyncio.get_running_loop().call_soon(self._send_snapshot_soon, client, name)
        return accepted

    def _send_snapshot_soon(self, client: ClientConnection, channel: str) -> None:
        """Snapshots go out right after the subscribe response (queued behind it)."""
        for frame in self._snapshot_frames(client, channel):
            client.send_nowait(frame)

    def _snapshot_frames(self, client: ClientConnection, channel: str) -> list[bytes]:
        acct, sess = client.account, client.session_id
        if channel == Channel.SESSION_ORDERS:
            orders = self.engine.open_orders(session=sess)
            return [sc.encode_notification(channel, [sc.order_report_to_wire(o) for o in orders], snapshot=True)]
        if channel == Channel.ACCOUNT_ORDERS:
            orders = self.engine.open_orders(account=acct)
            return [sc.encode_notification(channel, [sc.order_report_to_wire(o) for o in orders], snapshot=True)]
        if channel == Channel.ACCOUNT_PORTFOLIO:
            lines = self.engine.portfolio(acct)
            return [sc.encode_notification(channel, [sc.portfolio_entry_to_wire(e) for e in lines], snapshot=True)]
        if channel == Channel.ACCOUNT_SUMMARY:
            return [sc.encode_notification(channel, sc.account_summary_to_wire(self.engine.account_summary(acct)))]
        if channel in _PRIVATE_CHANNELS:
            return []
        return self.feed.snapshot_frames(channel)

    def _unsubscribe(self, client: ClientConnection, params: dict, now: int) -> Any:
        removed = [c for c in read_channels_params(params) if c in client.subscriptions]
        client.subscriptions.difference_update(removed)
        return removed

    # private ----------------------------------------------------------------------

    def _set_cod(self, client: ClientConnection, params: dict, now: int) -> Any:
        client.cod_timeout_s = read_cancel_on_disconnect_params(params)
        client.limiter.enable_cod_rate()
        self.engine.set_session_persistent(client.session_id, False)
        return {"message_rate": self.config.rate_limits.me_cod_per_s}

    def _cancel_session(self, client: ClientConnection, params: dict, now: int) -> Any:
        if client.cod_timeout_s is None:
            raise RequestRejected(ErrorCode.PERSISTENT_SESSION, "cancel_session: only allowed after set_cancel_on_disconnect")
        return self._engine_result(self.engine.cancel_session(client.session_id, ts_ns=now))

    def _insert(self, client: ClientConnection, params: dict, now: int, direction: Side | None = None) -> Any:
        p = read_insert_params(params, direction)
        out = self.engine.insert(
            client.session_id, p.instrument_name, p.direction, p.amount, p.price, ts_ns=now,
            order_type=p.order_type, time_in_force=p.time_in_force,
            client_order_id=p.client_order_id, label=p.label, post_only=p.post_only,
            reject_post_only=p.reject_post_only, reduce_only=p.reduce_only,
            collar=Collar(p.collar) if p.collar else None,
        )
        return sc.order_report_to_wire(self._engine_result(out))

    def _amend(self, client: ClientConnection, params: dict, now: int) -> Any:
        p = read_amend_params(params)
        out = self.engine.amend(
            client.session_id, p.amount, p.price, ts_ns=now, order_id=p.order_id,
            client_order_id=p.client_order_id, collar=Collar(p.collar) if p.collar else None,
        )
        return sc.order_report_to_wire(self._engine_result(out))

    def _cancel(self, client: ClientConnection, params: dict, now: int) -> Any:
        p = read_cancel_params(params)
        out = self.engine.cancel(client.session_id, ts_ns=now, order_id=p.order_id, client_order_id=p.client_order_id)
        return sc.order_report_to_wire(self._engine_result(out))

    def _cancel_all(self, client: ClientConnection, params: dict, now: int) -> Any:
        return self._engine_result(self.engine.cancel_all(client.session_id, ts_ns=now))

    def _mass_quote(self, client: ClientConnection, params: dict, now: int) -> Any:
        p = read_mass_quote_params(params)
        items = [(q.instrument, q.bids, q.asks) for q in p.quotes]
        res = self._engine_result(
            self.engine.mass_quote(client.session_id, items, ts_ns=now, label=p.label, post_only=p.post_only, reject_post_only=p.reject_post_only)
        )
        return {
            "n_success": res.n_success,
            "n_fail": res.n_fail,
            "errors": [_mq_error(e) for e in res.errors],
        }

    def _cancel_mass_quote(self, client: ClientConnection, params: dict, now: int) -> Any:
        product = read_cancel_mass_quote_params(params)
        return self._engine_result(self.engine.cancel_mass_quote(client.session_id, product, ts_ns=now))

    def _set_mmp(self, client: ClientConnection, params: dict, now: int) -> Any:
        p = read_set_mmp_params(params)
        return self._engine_result(self.engine.set_mmp(client.session_id, p.product, p.trade_amount, p.quote_amount, ts_ns=now))

    def _open_orders(self, client: ClientConnection, params: dict, now: int) -> Any:
        return [sc.order_report_to_wire(o) for o in self.engine.open_orders(account=client.account)]

    def _portfolio(self, client: ClientConnection, params: dict, now: int) -> Any:
        return [sc.portfolio_entry_to_wire(e) for e in self.engine.portfolio(client.account)]

    def _account_summary(self, client: ClientConnection, params: dict, now: int) -> Any:
        return sc.account_summary_to_wire(self.engine.account_summary(client.account))

    def _trade_history(self, client: ClientConnection, params: dict, now: int) -> Any:
        trades = self._trades_by_account.get(client.account or "", ())
        return {"trades": [sc.account_trade_to_wire(t) for t in trades], "bookmark": None}

    # ------------------------------------------------------------------ fan-out

    def _publish_market(self, channel_frames: dict[str, bytes]) -> None:
        """Send market frames (channel → encoded frame) to their subscribers."""
        if self.faults.freeze_market:
            self._frozen_clients.update(self._clients)
            return
        if self._frozen_clients:
            # The book deltas published while frozen never went out: a subscriber must get a
            # fresh book snapshot first, or its local book silently keeps deleted levels.
            for sid in list(self._frozen_clients):
                client = self._clients.get(sid)
                if client is not None:
                    for channel in [c for c in client.subscriptions if c.startswith("book.")]:
                        for frame in self.feed.snapshot_frames(channel):
                            client.send_nowait(frame)
            self._frozen_clients.clear()
        for client in list(self._clients.values()):
            for channel in [c for c in client.subscriptions if c in channel_frames]:
                client.send_nowait(channel_frames[channel])

    def _fan_out(self, out: Any) -> None:
        """Deliver an engine output's private notifications (and queue its book changes)."""
        if out is None:
            return
        self.feed.note_book_changes(out.book_changes, out.public_trades)
        for t in out.account_trades:
            trades = self._trades_by_account.get(t.account)
            if trades is None:
                trades = self._trades_by_account[t.account] = deque(maxlen=_TRADE_HISTORY_KEPT)
            trades.append(t.trade)
        if not (out.order_updates or out.account_trades or out.portfolio_changes or out.mmp_updates):
            return
        for client in list(self._clients.values()):
            for frame in self._private_frames(client, out):
                client.send_nowait(frame)

    def _private_frames(self, client: ClientConnection, out: Any) -> list[bytes]:
        subs, acct, sess = client.subscriptions, client.account, client.session_id
        if acct is None:
            return []
        # (channel, records, owner attribute, owner value, payload builder) per private feed.
        feeds = (
            (Channel.SESSION_ORDERS, out.order_updates, "session", sess, lambda u: sc.order_report_to_wire(u.report)),
            (Channel.ACCOUNT_ORDERS, out.order_updates, "account", acct, lambda u: sc.order_report_to_wire(u.report)),
            (Channel.ACCOUNT_PORTFOLIO, out.portfolio_changes, "account", acct, lambda p: sc.portfolio_entry_to_wire(p.entry)),
            (Channel.ACCOUNT_TRADE_HISTORY, out.account_trades, "account", acct, lambda t: sc.account_trade_to_wire(t.trade)),
            (Channel.SESSION_MM_PROTECTION, out.mmp_updates, "session", sess, lambda m: sc.mmp_status_to_wire(m.status)),
        )
        frames: list[bytes] = []
        for channel, records, owner, me, to_wire in feeds:
            if records and channel in subs:
                payload = [to_wire(r) for r in records if getattr(r, owner) == me]
                if payload:
                    frames.append(sc.encode_notification(channel.value, payload))
        faults = self.faults
        if faults.duplicate_notifications:
            frames = [f for f in frames for _ in (0, 1)]
        if faults.malformed_share > 0:
            frames = [b'{"channel_name": "session.orders", "notification": [{"order_id": ' if faults.roll(faults.malformed_share) else f for f in frames]
        return frames


def _mq_error(e: Any) -> dict[str, Any]:
    d: dict[str, Any] = {"code": int(e.code), "message": e.message}
    if e.side is not None:
        d["side"] = e.side.value
    if e.price is not None:
        d["price"] = e.price
    return d


_HANDLERS: dict[str, Callable[..., Any]] = {
    Method.LOGIN: SimExchange._login,
    Method.INSTRUMENTS: SimExchange._instruments,
    Method.INSTRUMENT: SimExchange._instrument,
    Method.TICKER: SimExchange._ticker,
    Method.INDEX: SimExchange._index,
    Method.BOOK: SimExchange._book,
    Method.SYSTEM_INFO: SimExchange._system_info,
    Method.PUBLIC_SUBSCRIBE: lambda s, c, p, n: s._subscribe(c, p, n, private=False),
    Method.PRIVATE_SUBSCRIBE: lambda s, c, p, n: s._subscribe(c, p, n, private=True),
    Method.UNSUBSCRIBE: SimExchange._unsubscribe,
    Method.SET_CANCEL_ON_DISCONNECT: SimExchange._set_cod,
    Method.CANCEL_SESSION: SimExchange._cancel_session,
    Method.INSERT: SimExchange._insert,
    Method.BUY: lambda s, c, p, n: s._insert(c, p, n, Side.BUY),
    Method.SELL: lambda s, c, p, n: s._insert(c, p, n, Side.SELL),
    Method.AMEND: SimExchange._amend,
    Method.CANCEL: SimExchange._cancel,
    Method.CANCEL_ALL: SimExchange._cancel_all,
    Method.MASS_QUOTE: SimExchange._mass_quote,
    Method.CANCEL_MASS_QUOTE: SimExchange._cancel_mass_quote,
    Method.SET_MM_PROTECTION: SimExchange._set_mmp,
    Method.OPEN_ORDERS: SimExchange._open_orders,
    Method.PORTFOLIO: SimExchange._portfolio,
    Method.ACCOUNT_SUMMARY: SimExchange._account_summary,
    Method.TRADE_HISTORY: SimExchange._trade_history,
}
