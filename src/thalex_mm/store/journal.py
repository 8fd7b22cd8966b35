"""The journal: an append-only record of what the bot did (SQLite file or PostgreSQL).

Writes happen off the hot path. A record method (:meth:`Journal.order`, :meth:`Journal.fill`,
...) only appends a tuple to an in-memory deque: no I/O, no lock, no formatting. A background
writer thread, with its own connection, drains the deque every ``flush_interval_s`` (default
0.2 s) and writes each batch with ``executemany`` inside one transaction. The database runs in
WAL mode with ``synchronous=NORMAL``: a committed batch survives a ``kill -9`` of the process
(WAL recovery on the next open), so a crash loses at most the records queued in the last
interval.

Loss bound on ``kill -9``: a record is at risk from the moment it happens until its batch
commits. The live driver hands the core's notices (fills, risk events, rejections) to the
journal as they happen and its quote/PnL samples at least every ``JOURNAL_HANDOVER_S`` = 0.5 s
(``thalex_mm.drivers.live``), and the writer commits every
:data:`DEFAULT_FLUSH_INTERVAL_S` = 0.2 s, so a ``kill -9`` loses at most the records of the
last ~0.7 s (plus one commit's duration, milliseconds) — under a second. Fills missed that way
are recovered from the exchange's trade history when live restarts. A power loss can also lose
the last commits (``synchronous=NORMAL``). A dropped database connection (PostgreSQL restart,
network blip) loses nothing: the records stay queued (up to ``max_pending_rows``, then the
oldest are dropped, counted and warned once) while the writer reconnects with backoff.

A thread (not an asyncio task) is used so the same journal serves the asyncio drivers
and the synchronous backtester. With a ``postgresql://`` location the same writer runs against
PostgreSQL (``thalex_mm.store.postgres``): a committed batch is on the server, duplicate fills
are skipped with ``ON CONFLICT DO NOTHING``; the SQL differences live in
``thalex_mm.store.dialect``.

Every string is passed through :func:`thalex_mm.store.scrub.scrub_text` on the writer thread
before it is written, so a PEM block or a JWT never reaches the file.

Reading (:class:`thalex_mm.store.reader.JournalReader`, inherited) returns frozen dataclasses (``thalex_mm.store.records``) or
numpy structured arrays for plotting.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thalex_mm import __version__
from thalex_mm.errors import InvalidState
from thalex_mm.store.backend import Connection
from thalex_mm.store.dialect import DbError, DbIntegrityError
from thalex_mm.store.reader import JournalReader
from thalex_mm.store.records import RunMode
from thalex_mm.store.scrub import scrub_secrets, scrub_text

__all__ = [
    "DEFAULT_FLUSH_INTERVAL_S",
    "MAX_PENDING_ROWS",
    "RECONNECT_MAX_DELAY_S",
    "Journal",
    "JournalStats",
    "canonical_config_json",
    "config_hash",
]

_log = logging.getLogger(__name__)

#: How often the writer commits the queued records, seconds.
DEFAULT_FLUSH_INTERVAL_S = 0.2
#: Records kept in memory while the database is unreachable; beyond it the oldest are dropped.
MAX_PENDING_ROWS = 200_000
#: Longest wait between two reconnect attempts, seconds (the wait doubles from 0.1 s).
RECONNECT_MAX_DELAY_S = 5.0

def canonical_config_json(config: Any) -> str:
    """The canonical JSON of a config snapshot, secrets scrubbed.

    Args:
        config: a ``BotConfig`` (anything with ``model_dump``), a mapping, or a JSON string.

    Returns:
        Compact JSON with sorted keys, every string passed through the scrubber.

    Raises:
        TypeError: ``config`` is none of the accepted types.
        ValueError: ``config`` is a string that is not valid JSON.
    """
    if hasattr(config, "model_dump"):
        data = config.model_dump(mode="json")
    elif isinstance(config, Mapping):
        data = dict(config)
    elif isinstance(config, str):
        data = json.loads(config)
    else:
        raise TypeError(
            f"config: got {type(config).__name__}, expected a BotConfig, a mapping or JSON text"
        )
    return json.dumps(scrub_secrets(data), sort_keys=True, separators=(",", ":"),
                      ensure_ascii=False)


def config_hash(config: Any) -> str:
    """SHA-256 (hex) of :func:`canonical_config_json` — the hash saved with every run."""
    return hashlib.sha256(canonical_config_json(config).encode()).hexdigest()


@dataclass(frozen=True, slots=True, kw_only=True)
class JournalStats:
    """Writer counters.

    Attributes:
        queued: records waiting in memory.
        written: records written (duplicate fills included, they are counted as ignored).
        transactions: batches committed by the writer.
        duplicate_fills: fills ignored because their ``trade_id`` was already stored.
        dropped: records lost: refused by the database (logged each), beyond
            ``max_pending_rows`` during an outage (warned once), or still waiting when the
            journal closed with the database unreachable; 0 in a healthy run.
        reconnects: times the writer reopened its database connection after losing it.
    """

    queued: int
    written: int
    transactions: int
    duplicate_fills: int
    dropped: int
    reconnects: int = 0


class Journal(JournalReader):
    """The append-only journal: cheap record methods, a background writer, the reading API.

    Args:
        location: a SQLite file path (created, with its directory, when missing), a
            ``sqlite:///`` URL or a ``postgresql://user:password@host:port/db`` URL (the
            database must exist; the tables are created).
        flush_interval_s: how often the writer drains the queue, seconds (> 0). A crash loses
            at most the records queued during the last interval.
        clock_ns: wall clock for run ids and default start/stop times, ns since the epoch.
        max_pending_rows: records kept while the database is unreachable (> 0); beyond it
            the oldest are dropped (one warning, counted in ``stats().dropped``).
        close_timeout_s: at :meth:`close`, how long to keep trying to write records still
            waiting for an unreachable database before dropping them, seconds.

    Raises:
        ValueError: ``flush_interval_s`` is not > 0.
        ConfigError: an unsupported URL, or asyncpg missing for a PostgreSQL URL.
        TransportError: the PostgreSQL server cannot be reached or refused the login.
        DataFileError: the database is not a journal this version can read.
    """

    def __init__(
        self,
        location: str | os.PathLike[str],
        *,
        flush_interval_s: float = DEFAULT_FLUSH_INTERVAL_S,
        clock_ns: Callable[[], int] = time.time_ns,
        max_pending_rows: int = MAX_PENDING_ROWS,
        close_timeout_s: float = 10.0,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s: got {flush_interval_s!r}, expected a number > 0")
        if not max_pending_rows > 0:
            raise ValueError(f"max_pending_rows: got {max_pending_rows!r}, expected an int > 0")
        super().__init__(location, create=True)
        self._clock_ns = clock_ns
        self._interval_s = float(flush_interval_s)
        self._max_pending = int(max_pending_rows)
        self._close_timeout_s = float(close_timeout_s)
        self._queue: deque[tuple[str, tuple[Any, ...]] | _Marker] = deque()
        # Writer-thread state: rows taken off the queue and not committed yet (kept across an
        # outage), flush markers waiting for them, and the reconnect backoff.
        self._pending: deque[tuple[str, tuple[Any, ...]]] = deque()
        self._markers: list[_Marker] = []
        self._lost_conn: Connection | None = None
        self._down_since = 0.0
        self._retry_at = 0.0
        self._retry_delay_s = 0.0
        self._reconnects = 0
        self._overflow = 0
        self._overflow_warned = False
        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._written = 0
        self._transactions = 0
        self._duplicates = 0
        self._dropped = 0
        assert self._conn is not None
        try:
            self._wconn: Connection | None = self._conn.reopen()
        except BaseException:
            super().close()
            raise
        self._thread = threading.Thread(target=self._run_writer, name="journal-writer",
                                        daemon=True)
        self._thread.start()
        atexit.register(self.close)

    # -- runs (synchronous: not on the hot path) -------------------------------------------

    def start_run(
        self,
        mode: RunMode | str,
        config: Any,
        *,
        instrument: str | None = None,
        network: str | None = None,
        version: str = __version__,
        started_ns: int | None = None,
        account: str | None = None,
    ) -> str:
        """Open a run and return its id (``YYYYmmddTHHMMSSZ-xxxxxx``: UTC time + random hex).

        Args:
            mode: paper, live or backtest.
            config: the effective config (a ``BotConfig``, a mapping or JSON text); stored
                scrubbed as canonical JSON with its SHA-256.
            instrument: defaults to ``config.market.instrument`` when ``config`` is a BotConfig.
            network: defaults to ``config.market.network`` when ``config`` is a BotConfig.
            version: thalex-mm version string.
            started_ns: start time, ns since the epoch (simulated time in a backtest);
                defaults to the clock.
            account: defaults to ``config.market.account`` when ``config`` is a BotConfig.

        The run row also records this process's id and host name (crash recovery checks
        whether that process still lives: ``thalex_mm.store.recovery``).

        Returns:
            The new run id.

        Raises:
            ValueError: ``mode`` is not paper/live/backtest.
        """
        mode = RunMode(mode)
        cfg_json = canonical_config_json(config)
        market = getattr(config, "market", None)
        if instrument is None and market is not None:
            instrument = str(market.instrument)
        if network is None and market is not None:
            network = str(getattr(market.network, "value", market.network))
        now_ns = self._clock_ns()
        started = now_ns if started_ns is None else int(started_ns)
        digest = hashlib.sha256(cfg_json.encode()).hexdigest()
        stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(now_ns // 1_000_000_000))
        if account is None and market is not None:
            account = getattr(market, "account", None)
        for _ in range(8):
            run_id = f"{stamp}-{secrets.token_hex(3)}"
            params = (run_id, mode.value, started, scrub_text(version), cfg_json, digest,
                      None if instrument is None else scrub_text(instrument),
                      None if network is None else scrub_text(network),
                      os.getpid(), socket.gethostname(),
                      None if account is None else scrub_text(str(account)))
            try:
                self._require_open()
                self._on_conn(lambda conn, p=params: conn.execute(
                    "INSERT INTO runs (run_id, mode, started_ns, version, config_json, "
                    "config_hash, instrument, network, pid, host, account) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", p))
                return run_id
            except DbIntegrityError:
                continue
        raise InvalidState("could not allocate a unique run id after 8 tries")

    def finish_run(self, run_id: str, exit_reason: str, stopped_ns: int | None = None) -> None:
        """Close a run: flush its records, then store its stop time and exit reason.

        Args:
            run_id: from :meth:`start_run`.
            exit_reason: why the run ended (e.g. ``signal``, ``halted``, ``end_of_data``).
            stopped_ns: stop time, ns since the epoch; defaults to the clock.

        Raises:
            KeyError: no run with that id.
        """
        self.flush()
        stopped = self._clock_ns() if stopped_ns is None else int(stopped_ns)
        self._require_open()
        changed = self._on_conn(lambda conn: conn.execute(
            "UPDATE runs SET stopped_ns = ?, exit_reason = ? WHERE run_id = ?",
            (stopped, scrub_text(str(exit_reason)), run_id),
        ))
        if changed == 0:
            raise KeyError(f"no run {run_id!r} in journal {self.path}")

    # -- record methods (hot path: append only) --------------------------------------------

    def order(
        self, run_id: str, *, ts_ns: int, event: str, client_order_id: int | None = None,
        order_id: str | None = None, side: str | None = None, price: float | None = None,
        amount: float | None = None, filled_amount: float | None = None,
        status: str | None = None, change_reason: str | None = None,
        delete_reason: str | None = None, detail: str | None = None,
    ) -> None:
        """Queue one order state change (``event``: sent / acked / rejected / updated / ...)."""
        if self._closed:
            self._require_open()
        self._queue.append(("orders", (
            run_id, ts_ns, event, client_order_id, order_id, side, price, amount, filled_amount,
            status, change_reason, delete_reason, detail,
        )))

    def fill(
        self, run_id: str, *, ts_ns: int, trade_id: str, side: str, price: float, amount: float,
        fee: float = 0.0, maker_taker: str | None = None, client_order_id: int | None = None,
        order_id: str | None = None, position_after: float | None = None,
    ) -> None:
        """Queue one fill; a second fill with the same ``trade_id`` in a run is ignored."""
        if self._closed:
            self._require_open()
        self._queue.append(("fills", (
            run_id, ts_ns, trade_id, client_order_id, order_id, side, price, amount, fee,
            maker_taker, position_after,
        )))

    def quote(
        self, run_id: str, *, ts_ns: int, mid: float | None = None,
        fair_value: float | None = None, reservation: float | None = None,
        bid: float | None = None, ask: float | None = None, bid_size: float | None = None,
        ask_size: float | None = None, sigma: float | None = None, A: float | None = None,
        k: float | None = None, gamma: float | None = None,
    ) -> None:
        """Queue one quote sample (prices in quote currency, sizes in contracts)."""
        if self._closed:
            self._require_open()
        self._queue.append(("quotes", (
            run_id, ts_ns, mid, fair_value, reservation, bid, ask, bid_size, ask_size, sigma,
            A, k, gamma,
        )))

    def risk_event(
        self, run_id: str, *, ts_ns: int, state: str, reason: str, previous: str | None = None,
        detail: str | None = None,
    ) -> None:
        """Queue one trading-state change (e.g. ACTIVE -> REDUCING) with its reason."""
        if self._closed:
            self._require_open()
        self._queue.append(("risk_events", (run_id, ts_ns, state, previous, reason, detail)))

    def pnl(
        self, run_id: str, *, ts_ns: int, position: float, realised: float,
        unrealised: float, equity: float, avg_price: float | None = None,
        mark: float | None = None, fees: float = 0.0, funding: float = 0.0,
    ) -> None:
        """Queue one PnL snapshot (money in quote currency, position in contracts)."""
        if self._closed:
            self._require_open()
        self._queue.append(("pnl_snapshots", (
            run_id, ts_ns, position, avg_price, mark, realised, unrealised, fees, funding, equity,
        )))

    def error(
        self, run_id: str, *, ts_ns: int, source: str, message: str, code: str | int | None = None,
    ) -> None:
        """Queue one error (``source``: exchange / transport / core / ...)."""
        if self._closed:
            self._require_open()
        self._queue.append(("errors", (
            run_id, ts_ns, source, None if code is None else str(code), message,
        )))

    # -- writer control ----------------------------------------------------------------------

    def flush(self, timeout_s: float = 30.0) -> bool:
        """Wait until every record queued so far is committed.

        Args:
            timeout_s: give up after this many seconds.

        Returns:
            True when everything queued before the call is committed; False on timeout
            (e.g. the database is unreachable: the records stay queued) or when some of
            them were dropped.
        """
        if self._closed or not self._thread.is_alive():
            return not self._queue and not self._pending
        marker = _Marker()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout_s) and marker.ok

    def stats(self) -> JournalStats:
        """Writer counters (see :class:`JournalStats`)."""
        return JournalStats(
            queued=len(self._pending)
            + sum(1 for item in tuple(self._queue) if not isinstance(item, _Marker)),
            written=self._written, transactions=self._transactions,
            duplicate_fills=self._duplicates, dropped=self._dropped,
            reconnects=self._reconnects,
        )

    def close(self) -> None:
        """Drain the queue, stop the writer, close both connections. Idempotent."""
        if self._closed:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._closed = True
        for conn in (self._wconn, self._lost_conn):
            if conn is not None:
                conn.close()
        atexit.unregister(self.close)
        super().close()

    def _select(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        # Reads through a live journal see everything recorded so far.
        if not self._closed:
            self.flush()
        return super()._select(sql, params)

    def _require_open(self) -> None:
        if self._closed:
            raise InvalidState(f"journal {self.path} is closed")

    # -- the writer thread -------------------------------------------------------------------

    def _run_writer(self) -> None:
        give_up_at: float | None = None
        while True:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            stopping = self._stopping
            try:
                self._drain()
            except Exception as exc:  # keep the writer alive: a lost batch is logged, not fatal
                if self._wconn is not None and not self._wconn.alive():
                    self._connection_lost(exc)  # keep the records, reconnect
                else:
                    _log.exception("journal %s: writer failed on a batch", self.path)
                    self._give_up("the writer failed")
            if not stopping:
                continue
            if not self._queue and not self._pending:
                return
            if give_up_at is None:
                give_up_at = time.monotonic() + self._close_timeout_s
            elif time.monotonic() >= give_up_at:
                self._give_up(f"the database stayed unreachable for {self._close_timeout_s:g} s "
                              "at close")
                return

    def _drain(self) -> None:
        queue = self._queue
        pending = self._pending
        while queue:
            item = queue.popleft()
            if isinstance(item, _Marker):
                self._markers.append(item)
            else:
                pending.append(item)
        excess = len(pending) - self._max_pending
        if excess > 0:
            for _ in range(excess):
                pending.popleft()
            self._dropped += excess
            self._overflow += excess
            for marker in self._markers:
                marker.ok = False
            if not self._overflow_warned:
                self._overflow_warned = True
                _log.warning("journal %s: more than %d records waiting for the database; "
                             "dropping the oldest (counted in stats().dropped, warned once)",
                             self.path, self._max_pending)
        if pending:
            if not self._connected():
                return
            rows = list(pending)
            left = self._write(rows)
            pending.clear()
            if left:  # the connection dropped mid-way: keep what is not committed, in order
                pending.extend(left)
                return
        markers, self._markers = self._markers, []
        for marker in markers:
            marker.set()

    def _give_up(self, why: str) -> None:
        """Drop every waiting record (counted, logged once) and release the flush waiters."""
        lost = len(self._pending)
        self._pending.clear()
        while self._queue:
            item = self._queue.popleft()
            if isinstance(item, _Marker):
                self._markers.append(item)
            else:
                lost += 1
        if lost:
            self._dropped += lost
            _log.error("journal %s: %d records dropped: %s", self.path, lost, why)
        markers, self._markers = self._markers, []
        for marker in markers:
            marker.ok = lost == 0
            marker.set()

    def _connected(self) -> bool:
        """True when the writer has a connection; while it has none, reopen one with
        exponential backoff (0.1 s doubling to :data:`RECONNECT_MAX_DELAY_S`)."""
        if self._wconn is not None:
            return True
        now = time.monotonic()
        if now < self._retry_at:
            return False
        assert self._lost_conn is not None
        try:
            conn = self._lost_conn.reopen()
        except Exception as exc:  # TransportError, DbError, OSError: the server is still away
            self._retry_delay_s = min(max(2 * self._retry_delay_s, 0.1), RECONNECT_MAX_DELAY_S)
            self._retry_at = time.monotonic() + self._retry_delay_s
            _log.debug("journal %s: reconnect failed (%s); next try in %.1f s",
                       self.path, exc, self._retry_delay_s)
            return False
        lost, self._lost_conn = self._lost_conn, None
        lost.close()
        self._wconn = conn
        self._reconnects += 1
        self._retry_delay_s = 0.0
        _log.warning("journal %s: reconnected after %.1f s; writing %d waiting records",
                     self.path, now - self._down_since, len(self._pending))
        return True

    def _connection_lost(self, exc: Exception) -> None:
        assert self._wconn is not None
        self._lost_conn, self._wconn = self._wconn, None
        self._down_since = time.monotonic()
        self._retry_at = self._down_since
        _log.warning("journal %s: database connection lost (%s); keeping the records queued "
                     "(up to %d) and reconnecting", self.path, exc, self._max_pending)

    def _write(self, rows: list[tuple[str, tuple[Any, ...]]]) -> list[tuple[str, tuple[Any, ...]]]:
        """Write ``rows`` ((table, row) in queue order) in one transaction.

        Returns:
            The rows not written because the connection dropped (empty when all are done;
            rows the database refused are dropped and counted, not returned).
        """
        clean: dict[str, list[tuple[Any, ...]]] = {}
        for table, row in rows:
            clean.setdefault(table, []).append(_scrub_row(row))
        conn = self._wconn
        assert conn is not None
        try:
            with conn.write_transaction():
                changed_fills = 0
                for table, table_rows in clean.items():
                    inserted = conn.insert_rows(table, table_rows)
                    if table == "fills":
                        changed_fills = inserted
        except DbError as exc:
            if not conn.alive():
                self._connection_lost(exc)
                return rows
            _log.error("journal %s: batch write failed (%s); writing row by row", self.path, exc)
            return self._write_rows(rows)
        self._transactions += 1
        self._written += len(rows)
        if "fills" in clean:
            self._duplicates += len(clean["fills"]) - changed_fills
        return []

    def _write_rows(
        self, rows: list[tuple[str, tuple[Any, ...]]]
    ) -> list[tuple[str, tuple[Any, ...]]]:
        conn = self._wconn
        assert conn is not None
        for i, (table, row) in enumerate(rows):
            try:
                inserted = conn.insert_rows(table, [_scrub_row(row)])
            except DbError as exc:
                if not conn.alive():
                    self._connection_lost(exc)
                    return rows[i:]
                self._dropped += 1
                _log.error("journal %s: dropped a %s record: %s", self.path, table, exc)
                continue
            self._transactions += 1
            self._written += 1
            if table == "fills" and inserted == 0:
                self._duplicates += 1
        return []


class _Marker(threading.Event):
    """A flush marker; ``ok`` is False when records queued before it were dropped."""

    ok = True


def _scrub_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(scrub_text(v) if isinstance(v, str) else v for v in row)
