"""The journal: an append-only record of what the bot did (SQLite file or PostgreSQL).

Writes happen off the hot path. A record method (:meth:`Journal.order`, :meth:`Journal.fill`,
...) only appends a tuple to an in-memory deque: no I/O, no lock, no formatting. A background
writer thread, with its own connection, drains the deque every ``flush_interval_s`` (default
0.2 s) and writes each batch with ``executemany`` inside one transaction. The database runs in
WAL mode with ``synchronous=NORMAL``: a committed batch survives a ``kill -9`` of the process
(WAL recovery on the next open), so a crash loses at most the records queued in the last
interval. A thread (not an asyncio task) is used so the same journal serves the asyncio drivers
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
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from thalex_mm import __version__
from thalex_mm.errors import InvalidState
from thalex_mm.store.dialect import DbError, DbIntegrityError
from thalex_mm.store.reader import JournalReader
from thalex_mm.store.records import RunMode
from thalex_mm.store.scrub import scrub_secrets, scrub_text

__all__ = ["Journal", "JournalStats", "canonical_config_json", "config_hash"]

_log = logging.getLogger(__name__)

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
        dropped: records the database refused (logged); 0 in a healthy run.
    """

    queued: int
    written: int
    transactions: int
    duplicate_fills: int
    dropped: int


class Journal(JournalReader):
    """The append-only journal: cheap record methods, a background writer, the reading API.

    Args:
        location: a SQLite file path (created, with its directory, when missing), a
            ``sqlite:///`` URL or a ``postgresql://user:password@host:port/db`` URL (the
            database must exist; the tables are created).
        flush_interval_s: how often the writer drains the queue, seconds (> 0). A crash loses
            at most the records queued during the last interval.
        clock_ns: wall clock for run ids and default start/stop times, ns since the epoch.

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
        flush_interval_s: float = 0.2,
        clock_ns: Callable[[], int] = time.time_ns,
    ) -> None:
        if not flush_interval_s > 0:
            raise ValueError(f"flush_interval_s: got {flush_interval_s!r}, expected a number > 0")
        super().__init__(location, create=True)
        self._clock_ns = clock_ns
        self._interval_s = float(flush_interval_s)
        self._queue: deque[tuple[str, tuple[Any, ...]] | threading.Event] = deque()
        self._wake = threading.Event()
        self._stopping = False
        self._closed = False
        self._written = 0
        self._transactions = 0
        self._duplicates = 0
        self._dropped = 0
        assert self._conn is not None
        try:
            self._wconn = self._conn.reopen()
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
        for _ in range(8):
            run_id = f"{stamp}-{secrets.token_hex(3)}"
            try:
                with self._lock:
                    self._require_open()
                    assert self._conn is not None
                    self._conn.execute(
                        "INSERT INTO runs (run_id, mode, started_ns, version, config_json, "
                        "config_hash, instrument, network) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (run_id, mode.value, started, scrub_text(version), cfg_json, digest,
                         None if instrument is None else scrub_text(instrument),
                         None if network is None else scrub_text(network)),
                    )
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
        with self._lock:
            self._require_open()
            assert self._conn is not None
            changed = self._conn.execute(
                "UPDATE runs SET stopped_ns = ?, exit_reason = ? WHERE run_id = ?",
                (stopped, scrub_text(str(exit_reason)), run_id),
            )
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
            True when everything queued before the call is on disk, False on timeout.
        """
        if self._closed or not self._thread.is_alive():
            return not self._queue
        marker = threading.Event()
        self._queue.append(marker)
        self._wake.set()
        return marker.wait(timeout_s)

    def stats(self) -> JournalStats:
        """Writer counters (see :class:`JournalStats`)."""
        return JournalStats(
            queued=sum(1 for item in tuple(self._queue) if not isinstance(item, threading.Event)),
            written=self._written, transactions=self._transactions,
            duplicate_fills=self._duplicates, dropped=self._dropped,
        )

    def close(self) -> None:
        """Drain the queue, stop the writer, close both connections. Idempotent."""
        if self._closed:
            return
        self._stopping = True
        self._wake.set()
        self._thread.join()
        self._closed = True
        self._wconn.close()
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
        while True:
            self._wake.wait(self._interval_s)
            self._wake.clear()
            stopping = self._stopping
            try:
                self._drain()
            except Exception:  # keep the writer alive: a lost batch is logged, not fatal
                _log.exception("journal %s: writer failed on a batch", self.path)
            if stopping and not self._queue:
                return

    def _drain(self) -> None:
        batch: dict[str, list[tuple[Any, ...]]] = {}
        markers: list[threading.Event] = []
        queue = self._queue
        while queue:
            item = queue.popleft()
            if isinstance(item, threading.Event):
                markers.append(item)
                continue
            table, row = item
            batch.setdefault(table, []).append(row)
        try:
            if batch:
                self._write(batch)
        finally:
            for marker in markers:
                marker.set()

    def _write(self, batch: dict[str, list[tuple[Any, ...]]]) -> None:
        clean = {table: [_scrub_row(r) for r in rows] for table, rows in batch.items()}
        conn = self._wconn
        try:
            with conn.write_transaction():
                changed_fills = 0
                for table, rows in clean.items():
                    inserted = conn.insert_rows(table, rows)
                    if table == "fills":
                        changed_fills = inserted
        except DbError as exc:
            _log.error("journal %s: batch write failed (%s); writing row by row", self.path, exc)
            self._write_rows(clean)
            return
        self._transactions += 1
        self._written += sum(len(rows) for rows in clean.values())
        if "fills" in clean:
            self._duplicates += len(clean["fills"]) - changed_fills

    def _write_rows(self, clean: dict[str, list[tuple[Any, ...]]]) -> None:
        conn = self._wconn
        for table, rows in clean.items():
            for row in rows:
                try:
                    inserted = conn.insert_rows(table, [row])
                except DbError as exc:
                    self._dropped += 1
                    _log.error("journal %s: dropped a %s record: %s", self.path, table, exc)
                    continue
                self._transactions += 1
                self._written += 1
                if table == "fills" and inserted == 0:
                    self._duplicates += 1


def _scrub_row(row: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(scrub_text(v) if isinstance(v, str) else v for v in row)
