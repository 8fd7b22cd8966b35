"""The SQL differences between the journal's backends, in one place.

The journal's SQL is written once, in SQLite's spelling (``?`` placeholders, ``INTEGER`` /
``REAL`` columns, the implicit ``rowid``). A :class:`Dialect` turns it into what a backend
runs:

============================  ==================================  ==============================
                              SQLite (:data:`SQLITE`)             PostgreSQL (:data:`POSTGRES`)
============================  ==================================  ==============================
placeholders                  ``?``                               ``$1, $2, ...``
duplicate fills               ``INSERT OR IGNORE``                ``ON CONFLICT DO NOTHING``
integer / float columns       ``INTEGER`` / ``REAL``              ``BIGINT`` / ``DOUBLE PRECISION``
insertion order               implicit ``rowid``                  an explicit ``rowid BIGSERIAL``
write transaction             ``BEGIN IMMEDIATE``                 ``BEGIN``
migration lock                (``BEGIN IMMEDIATE`` locks)         ``pg_advisory_xact_lock``
"does table exist"            ``sqlite_master``                   ``information_schema.tables``
============================  ==================================  ==============================

Connection setup (SQLite's ``PRAGMA`` s) lives with the connection classes, in
``thalex_mm.store.backend``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache, lru_cache

__all__ = ["POSTGRES", "SQLITE", "DbError", "DbIntegrityError", "Dialect"]

_QMARK = re.compile(r"\?")
_CREATE_TABLE = re.compile(r"^(\s*CREATE TABLE (?!IF NOT EXISTS)\w+ \()", re.IGNORECASE)
_INTEGER = re.compile(r"\bINTEGER\b")
_REAL = re.compile(r"\bREAL\b")

# An arbitrary constant: the advisory lock that serialises journal migrations on one server.
_MIGRATION_LOCK_KEY = 0x7468_6D6D_6A6E_6C  # "thmmjnl"


class DbError(Exception):
    """A database error from either backend; the message never holds a password."""


class DbIntegrityError(DbError):
    """A constraint (e.g. a primary key) refused a row."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Dialect:
    """How one backend spells the journal's SQL.

    Attributes:
        name: ``sqlite`` or ``postgresql``.
        numbered_params: placeholders are ``$1, $2, ...`` rather than ``?``.
        begin_write: the statement that opens a write transaction.
        migration_lock: run first inside a migration transaction (None: nothing needed).
        table_exists_sql: one ``?`` parameter (the table name); returns a row if it exists.
    """

    name: str
    numbered_params: bool
    begin_write: str
    migration_lock: str | None
    table_exists_sql: str

    def sql(self, text: str) -> str:
        """``text`` (written with ``?`` placeholders) in this dialect's spelling."""
        return _numbered(text) if self.numbered_params else text

    def insert_sql(
        self, table: str, columns: tuple[str, ...], *, ignore_duplicates: bool = False
    ) -> str:
        """The insert of one row into ``table``.

        Args:
            table: table name.
            columns: the columns given, in parameter order.
            ignore_duplicates: a row that breaks a unique constraint is skipped silently
                (``INSERT OR IGNORE`` / ``ON CONFLICT DO NOTHING``).
        """
        return _insert_sql(self, table, columns, ignore_duplicates)

    def ddl(self, statement: str) -> str:
        """A schema statement (written for SQLite) in this dialect's spelling."""
        if self.name == "sqlite":
            return statement
        statement = _INTEGER.sub("BIGINT", statement)
        statement = _REAL.sub("DOUBLE PRECISION", statement)
        # SQLite numbers rows implicitly; the reader orders by rowid, so give PG one too.
        return _CREATE_TABLE.sub(r"\1\n        rowid BIGSERIAL,", statement, count=1)


@lru_cache(maxsize=256)
def _numbered(text: str) -> str:
    counter = iter(range(1, 1 << 16))
    return _QMARK.sub(lambda _: f"${next(counter)}", text)


@cache
def _insert_sql(dialect: Dialect, table: str, cols: tuple[str, ...], unique: bool) -> str:
    if dialect.numbered_params:
        values = ", ".join(f"${i}" for i in range(1, len(cols) + 1))
        tail = " ON CONFLICT DO NOTHING" if unique else ""
        return f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({values}){tail}"
    verb = "INSERT OR IGNORE" if unique else "INSERT"
    return f"{verb} INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"


SQLITE = Dialect(
    name="sqlite",
    numbered_params=False,
    begin_write="BEGIN IMMEDIATE",
    migration_lock=None,
    table_exists_sql="SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
)

POSTGRES = Dialect(
    name="postgresql",
    numbered_params=True,
    begin_write="BEGIN",
    migration_lock=f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK_KEY})",
    table_exists_sql=(
        "SELECT table_name FROM information_schema.tables "
        "WHERE table_schema = current_schema() AND table_name = ?"
    ),
)
