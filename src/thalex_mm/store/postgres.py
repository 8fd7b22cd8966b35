"""A PostgreSQL journal connection, on asyncpg (``pip install 'thalex-mm[postgres]'``).

asyncpg is asynchronous; the journal's reader and writer are synchronous (the writer is a
thread so one journal serves the asyncio drivers and the synchronous backtester alike). So each
journal runs one small event loop in a daemon thread (``journal-postgres``) that owns its
asyncpg connections, and :class:`PostgresConnection` hands it coroutines with
:func:`asyncio.run_coroutine_threadsafe`. The caller's thread — and the bot's own event loop —
never runs database I/O.

The URL may hold a password: it is passed to asyncpg and otherwise only shown through
:func:`~thalex_mm.store.backend.redact_url`; driver messages are cleaned of it too.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

from thalex_mm.errors import ConfigError, TransportError
from thalex_mm.store.backend import Connection, redact_url
from thalex_mm.store.dialect import POSTGRES, DbError, DbIntegrityError
from thalex_mm.store.schema import TABLE_COLUMNS, UNIQUE_TABLES

__all__ = ["CONNECT_TIMEOUT_S", "STATEMENT_TIMEOUT_S", "PostgresConnection"]

#: Seconds to wait for the server to accept a login.
CONNECT_TIMEOUT_S = 10.0
#: Seconds one statement may take before it fails (asyncpg ``command_timeout``).
STATEMENT_TIMEOUT_S = 30.0

_T = TypeVar("_T")


class _LoopThread:
    """An event loop in a daemon thread, shared by a journal's connections (ref-counted)."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._users = 0
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._main, name="journal-postgres", daemon=True)
        self._thread.start()

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        try:
            self.loop.run_forever()
        finally:
            self.loop.close()

    def acquire(self) -> None:
        with self._lock:
            self._users += 1

    def release(self) -> None:
        with self._lock:
            self._users -= 1
            last = self._users == 0
        if last:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(timeout=STATEMENT_TIMEOUT_S)

    def run(self, coro: Coroutine[Any, Any, _T], timeout_s: float) -> _T:
        future = asyncio.run_coroutine_threadsafe(coro, self.loop)
        try:
            return future.result(timeout_s)
        except TimeoutError:
            future.cancel()
            raise


def _clean(exc: BaseException, url: str) -> str:
    """``Type: message`` of a driver error, with the URL and its password taken out."""
    text = f"{type(exc).__name__}: {exc}"
    text = text.replace(url, redact_url(url))
    try:
        password = urlsplit(url).password
    except ValueError:
        password = None
    for secret in {password, unquote(password or "")} - {None, ""}:
        text = text.replace(str(secret), "***")
    return text


def _rowcount(status: str) -> int:
    """Rows changed, from a command status such as ``INSERT 0 3`` or ``UPDATE 1``."""
    last = status.rsplit(" ", 1)[-1] if status else ""
    return int(last) if last.isdigit() else 0


class PostgresConnection(Connection):
    """One asyncpg connection driven synchronously through the journal's loop thread.

    Open with :meth:`connect`, not the constructor.
    """

    dialect = POSTGRES

    def __init__(
        self, url: str, loop: _LoopThread, conn: Any, asyncpg: Any, *, read_only: bool = False
    ) -> None:
        self._url = url
        self.read_only = read_only
        self.display = redact_url(url)
        self._loop = loop
        self._conn = conn
        self._asyncpg = asyncpg
        self._closed = False
        self._poisoned = False

    @classmethod
    def connect(
        cls, url: str, *, read_only: bool = False, _loop: _LoopThread | None = None
    ) -> PostgresConnection:
        """Log in to the server named by ``url``.

        Args:
            url: ``postgresql://user:password@host:port/database`` (asyncpg's DSN: query
                parameters such as ``sslmode`` or server settings are accepted).
            read_only: every transaction of the session is ``READ ONLY`` (the server refuses
                any write).

        Raises:
            ConfigError: asyncpg is not installed.
            TransportError: the server cannot be reached or refused the login (the message
                holds the URL without its password).
        """
        try:
            import asyncpg
        except ImportError:
            raise ConfigError([(
                "monitoring.journal_path", redact_url(url),
                "asyncpg installed for a PostgreSQL journal (pip install 'thalex-mm[postgres]')",
            )]) from None
        loop = _LoopThread() if _loop is None else _loop
        loop.acquire()
        try:
            settings = {"default_transaction_read_only": "on"} if read_only else None
            conn = loop.run(
                asyncpg.connect(url, timeout=CONNECT_TIMEOUT_S,
                                command_timeout=STATEMENT_TIMEOUT_S, server_settings=settings),
                CONNECT_TIMEOUT_S + 5.0,
            )
        except BaseException as exc:
            loop.release()
            if not isinstance(exc, Exception):
                raise
            # "from None": the driver's exception chain is not shown (it may quote the DSN).
            raise TransportError(
                f"journal {redact_url(url)}: cannot connect: {_clean(exc, url)}"
            ) from None
        return cls(url, loop, conn, asyncpg, read_only=read_only)

    # -- Connection ----------------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        rows = self._call(self._conn.fetch(self.dialect.sql(sql), *params))
        return [tuple(row) for row in rows]

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        return _rowcount(self._call(self._conn.execute(self.dialect.sql(sql), *params)))

    def insert_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
        unique = table in UNIQUE_TABLES
        sql = self.dialect.insert_sql(table, TABLE_COLUMNS[table], ignore_duplicates=unique)
        return self._call(self._insert(sql, rows, count_each=unique))

    async def _insert(self, sql: str, rows: Sequence[tuple[Any, ...]], *, count_each: bool) -> int:
        if not rows:
            return 0
        if not count_each:
            await self._conn.executemany(sql, rows)
            return len(rows)
        # executemany reports no row counts; rows with a unique key are rare (fills), so
        # insert them one by one to count the ones ON CONFLICT DO NOTHING skipped.
        inserted = 0
        for row in rows:
            inserted += _rowcount(await self._conn.execute(sql, *row))
        return inserted

    def reopen(self) -> PostgresConnection:
        return PostgresConnection.connect(self._url, read_only=self.read_only, _loop=self._loop)

    def is_broken(self) -> bool:
        # asyncpg marks a connection closed once the server or the network dropped it.
        return self._closed or self._poisoned or bool(self._conn.is_closed())

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        try:
            self._loop.run(self._conn.close(timeout=CONNECT_TIMEOUT_S), CONNECT_TIMEOUT_S + 5.0)
        except Exception:  # closing a broken connection: nothing left to save
            self._conn.terminate()
        finally:
            self._loop.release()

    # -- helpers -----------------------------------------------------------------------------

    def _call(self, coro: Coroutine[Any, Any, _T]) -> _T:
        if self._closed:
            coro.close()
            raise DbError(f"journal {self.display}: connection closed")
        asyncpg = self._asyncpg
        try:
            return self._loop.run(coro, STATEMENT_TIMEOUT_S + 5.0)
        except asyncpg.IntegrityConstraintViolationError as exc:
            raise DbIntegrityError(_clean(exc, self._url)) from None
        except (asyncpg.PostgresError, asyncpg.InterfaceError, OSError, TimeoutError) as exc:
            raise DbError(_clean(exc, self._url)) from None
        except asyncpg.InternalClientError as exc:
            # e.g. "another operation is in progress" on a connection the server just dropped:
            # the connection is unusable from here on.
            self._poisoned = True
            raise DbError(_clean(exc, self._url)) from None
