"""Connections to a journal database: one small synchronous interface, two backends.

:class:`Connection` is what the reader, the writer and the migrations use. SQL is written with
``?`` placeholders and translated by the connection's :class:`~thalex_mm.store.dialect.Dialect`;
driver errors come out as :class:`~thalex_mm.store.dialect.DbError`. :class:`SqliteConnection`
wraps :mod:`sqlite3` (WAL, ``synchronous=NORMAL``); ``thalex_mm.store.postgres`` wraps asyncpg.

A location is a SQLite file path, a ``sqlite:///`` URL or a ``postgresql://`` URL. A PostgreSQL
URL may hold a password, so it is only ever shown through :func:`redact_url`.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from thalex_mm.errors import ConfigError
from thalex_mm.store.dialect import SQLITE, DbError, DbIntegrityError, Dialect
from thalex_mm.store.schema import TABLE_COLUMNS, UNIQUE_TABLES

__all__ = [
    "Connection",
    "SqliteConnection",
    "is_postgres_url",
    "open_connection",
    "redact_url",
    "sqlite_file",
]

_log = logging.getLogger(__name__)

POSTGRES_SCHEMES = ("postgresql://", "postgres://")
SQLITE_SCHEME = "sqlite:///"


def is_postgres_url(location: str | os.PathLike[str]) -> bool:
    """True when ``location`` is a ``postgresql://`` (or ``postgres://``) URL."""
    return isinstance(location, str) and location.startswith(POSTGRES_SCHEMES)


def redact_url(url: str) -> str:
    """A database URL safe to show: no password, no query string.

    Args:
        url: e.g. ``postgresql://user:secret@host:5432/db?sslmode=require``.

    Returns:
        e.g. ``postgresql://user@host:5432/db``; ``<unparsable URL>`` when it cannot be parsed.
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        port = parts.port
    except ValueError:
        return "<unparsable URL>"
    user = f"{parts.username}@" if parts.username else ""
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    netloc = f"{user}{host}" + (f":{port}" if port is not None else "")
    return f"{parts.scheme}://{netloc}{parts.path}"


def sqlite_file(location: str | os.PathLike[str]) -> Path:
    """The SQLite file named by a location (a path or a ``sqlite:///`` URL).

    Raises:
        ConfigError: ``location`` is another kind of URL (PostgreSQL included).
    """
    text = os.fspath(location)
    if text.startswith(POSTGRES_SCHEMES):
        raise ConfigError([(
            "monitoring.journal_path", redact_url(text),
            "a SQLite file path here (PostgreSQL journals open with open_journal / "
            "JournalReader)",
        )])
    if text.startswith(SQLITE_SCHEME):
        return Path(text[len(SQLITE_SCHEME):])
    if "://" in text:
        raise ConfigError([(
            "monitoring.journal_path", text.split("://", 1)[0] + "://...",
            "a SQLite file path, a sqlite:/// URL or a postgresql:// URL",
        )])
    return Path(text)


class Connection(ABC):
    """A synchronous connection to a journal database, safe to share behind a lock.

    Attributes:
        dialect: how this backend spells SQL.
        display: where the database is, safe to print (a path, or a URL without password).
    """

    dialect: Dialect
    display: str

    @abstractmethod
    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        """Run a statement (``?`` placeholders) and return every row as a tuple."""

    @abstractmethod
    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run a statement (``?`` placeholders); return the number of rows it changed."""

    @abstractmethod
    def insert_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
        """Insert record rows (columns as in ``TABLE_COLUMNS[table]``) in the current
        transaction; rows breaking a unique key are skipped. Returns the rows inserted."""

    @abstractmethod
    def reopen(self) -> Connection:
        """A second, independent connection to the same database."""

    @abstractmethod
    def close(self) -> None:
        """Close the connection. Idempotent."""

    def is_broken(self) -> bool:
        """True when the connection is known to be unusable (the server closed it); a
        broken connection is replaced with :meth:`reopen`, never retried."""
        return False

    def alive(self) -> bool:
        """True when the connection answers ``SELECT 1`` (a cheap round trip)."""
        if self.is_broken():
            return False
        try:
            self.query("SELECT 1")
        except Exception:  # any failure of a round trip means: not usable
            return False
        return True

    @contextmanager
    def write_transaction(self) -> Iterator[None]:
        """``BEGIN`` (immediate on SQLite) ... ``COMMIT``, or ``ROLLBACK`` on an exception."""
        self.execute(self.dialect.begin_write)
        try:
            yield
        except BaseException:
            try:
                self.execute("ROLLBACK")
            except DbError as exc:  # the original error matters more
                _log.error("journal %s: rollback failed: %s", self.display, exc)
            raise
        self.execute("COMMIT")


class SqliteConnection(Connection):
    """A SQLite file in autocommit mode with WAL, ``synchronous=NORMAL``, 10 s busy timeout.

    Args:
        path: the database file (created when missing, unless ``read_only``).
        read_only: open with SQLite's ``mode=ro``: nothing is created or written (no schema,
            no WAL switch); the file must exist.

    Raises:
        DbError: the file is not a SQLite database (or, read-only, cannot be opened).
    """

    dialect = SQLITE

    def __init__(self, path: str | os.PathLike[str], *, read_only: bool = False) -> None:
        self.path = os.fspath(path)
        self.display = self.path
        self.read_only = read_only
        if read_only:
            uri = Path(self.path).absolute().as_uri() + "?mode=ro"
            try:
                self._conn = sqlite3.connect(uri, uri=True, isolation_level=None,
                                             check_same_thread=False, timeout=10.0)
                self._conn.execute("PRAGMA busy_timeout=10000")
            except sqlite3.Error as exc:
                raise DbError(str(exc)) from exc
            return
        self._conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False,
                                     timeout=10.0)
        try:
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
            if str(mode).lower() != "wal":  # pragma: no cover - filesystems without WAL
                _log.warning("journal %s: WAL unavailable, journal_mode=%s", self.path, mode)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA busy_timeout=10000")
        except sqlite3.Error as exc:
            self._conn.close()
            raise DbError(str(exc)) from exc

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._conn.execute(sql, params).fetchall()
        except sqlite3.IntegrityError as exc:
            raise DbIntegrityError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise DbError(str(exc)) from exc

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        try:
            return self._conn.execute(sql, params).rowcount
        except sqlite3.IntegrityError as exc:
            raise DbIntegrityError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise DbError(str(exc)) from exc

    def insert_rows(self, table: str, rows: Sequence[tuple[Any, ...]]) -> int:
        sql = self.dialect.insert_sql(table, TABLE_COLUMNS[table],
                                      ignore_duplicates=table in UNIQUE_TABLES)
        try:
            return self._conn.executemany(sql, rows).rowcount
        except sqlite3.IntegrityError as exc:
            raise DbIntegrityError(str(exc)) from exc
        except sqlite3.Error as exc:
            raise DbError(str(exc)) from exc

    def reopen(self) -> SqliteConnection:
        return SqliteConnection(self.path, read_only=self.read_only)

    def close(self) -> None:
        self._conn.close()


def open_connection(
    location: str | os.PathLike[str], *, create: bool = False, read_only: bool = False
) -> Connection:
    """Connect to the journal database at ``location`` (no schema check: see ``migrate``).

    Args:
        location: a SQLite file path, a ``sqlite:///`` URL or a ``postgresql://`` URL.
        create: SQLite only: create the file and its directory when missing.
        read_only: SQLite: open with ``mode=ro``; PostgreSQL: every transaction of the
            session is ``READ ONLY``. Nothing is created or written.

    Returns:
        An open :class:`Connection`.

    Raises:
        FileNotFoundError: a SQLite file is missing and ``create`` is false.
        ConfigError: an unsupported URL, or asyncpg is not installed for a PostgreSQL URL.
        TransportError: the PostgreSQL server cannot be reached or refused the login.
        DbError: the file is not a SQLite database.
    """
    if is_postgres_url(location):
        from thalex_mm.store.postgres import PostgresConnection

        return PostgresConnection.connect(str(location), read_only=read_only)
    path = sqlite_file(location)
    if (read_only or not create) and not path.exists():
        raise FileNotFoundError(f"no journal at {path}")
    if create and not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    return SqliteConnection(path, read_only=read_only)
