"""The journal's schema and its migrations (written once, for SQLite and PostgreSQL).

Statements are spelled for SQLite; ``thalex_mm.store.dialect`` turns them into PostgreSQL
(``BIGINT`` / ``DOUBLE PRECISION`` columns, an explicit ``rowid``).

The schema is a list of migration steps. Step *n* upgrades a database at version *n - 1* to
version *n*; a new database runs every step from version 0. The version lives in the
``schema_version`` table (one row per applied step, with the wall-clock time it was applied).
Each step runs in its own transaction together with its version row, so a crash mid-upgrade
leaves the database at the previous version, never half-way.

Never edit a released step: append a new one.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from thalex_mm.errors import DataFileError
from thalex_mm.store.dialect import DbError

if TYPE_CHECKING:
    from thalex_mm.store.backend import Connection

__all__ = [
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TABLE_COLUMNS",
    "UNIQUE_TABLES",
    "current_version",
    "migrate",
]

# Version 1: the first released layout.
_V1: tuple[str, ...] = (
    """CREATE TABLE IF NOT EXISTS schema_version (
        version INTEGER PRIMARY KEY,
        applied_ns INTEGER NOT NULL
    )""",
    """CREATE TABLE runs (
        run_id TEXT PRIMARY KEY,
        mode TEXT NOT NULL,
        started_ns INTEGER NOT NULL,
        stopped_ns INTEGER,
        exit_reason TEXT,
        version TEXT NOT NULL,
        config_json TEXT NOT NULL,
        config_hash TEXT NOT NULL
    )""",
    """CREATE TABLE orders (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        event TEXT NOT NULL,
        client_order_id INTEGER,
        order_id TEXT,
        side TEXT,
        price REAL,
        amount REAL,
        filled_amount REAL,
        status TEXT,
        change_reason TEXT,
        delete_reason TEXT,
        detail TEXT
    )""",
    """CREATE TABLE fills (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        trade_id TEXT NOT NULL,
        client_order_id INTEGER,
        order_id TEXT,
        side TEXT NOT NULL,
        price REAL NOT NULL,
        amount REAL NOT NULL,
        fee REAL NOT NULL,
        maker_taker TEXT,
        position_after REAL,
        UNIQUE (run_id, trade_id)
    )""",
    """CREATE TABLE quotes (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        mid REAL, fair_value REAL, reservation REAL,
        bid REAL, ask REAL, bid_size REAL, ask_size REAL,
        sigma REAL, A REAL, k REAL, gamma REAL
    )""",
    """CREATE TABLE risk_events (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        state TEXT NOT NULL,
        previous TEXT,
        reason TEXT NOT NULL,
        detail TEXT
    )""",
    """CREATE TABLE pnl_snapshots (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        position REAL NOT NULL,
        avg_price REAL,
        mark REAL,
        realised REAL NOT NULL,
        unrealised REAL NOT NULL,
        fees REAL NOT NULL,
        funding REAL NOT NULL,
        equity REAL NOT NULL
    )""",
)

# Version 2: runs learn their instrument and network; an errors table.
_V2: tuple[str, ...] = (
    "ALTER TABLE runs ADD COLUMN instrument TEXT",
    "ALTER TABLE runs ADD COLUMN network TEXT",
    """CREATE TABLE errors (
        run_id TEXT NOT NULL,
        ts_ns INTEGER NOT NULL,
        source TEXT NOT NULL,
        code TEXT,
        message TEXT NOT NULL
    )""",
)

# Version 3: indexes for the per-run reads the reports make.
_V3: tuple[str, ...] = (
    *(
        f"CREATE INDEX IF NOT EXISTS ix_{table}_run_ts ON {table} (run_id, ts_ns)"
        for table in ("orders", "fills", "quotes", "risk_events", "pnl_snapshots", "errors")
    ),
    "CREATE INDEX IF NOT EXISTS ix_runs_started ON runs (started_ns)",
)

# Version 4: who ran a run (process id, host name) and the account it traded, so crash
# recovery can tell a dead run from one still running in another process.
_V4: tuple[str, ...] = (
    "ALTER TABLE runs ADD COLUMN pid INTEGER",
    "ALTER TABLE runs ADD COLUMN host TEXT",
    "ALTER TABLE runs ADD COLUMN account TEXT",
)

#: Migration steps; ``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``.
MIGRATIONS: tuple[tuple[str, ...], ...] = (_V1, _V2, _V3, _V4)

#: The version this code writes and reads.
SCHEMA_VERSION: int = len(MIGRATIONS)

#: Insert column order of every record table, as the journal writes them (after ``run_id``).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "orders": (
        "run_id", "ts_ns", "event", "client_order_id", "order_id", "side", "price", "amount",
        "filled_amount", "status", "change_reason", "delete_reason", "detail",
    ),
    "fills": (
        "run_id", "ts_ns", "trade_id", "client_order_id", "order_id", "side", "price", "amount",
        "fee", "maker_taker", "position_after",
    ),
    "quotes": (
        "run_id", "ts_ns", "mid", "fair_value", "reservation", "bid", "ask", "bid_size",
        "ask_size", "sigma", "A", "k", "gamma",
    ),
    "risk_events": ("run_id", "ts_ns", "state", "previous", "reason", "detail"),
    "pnl_snapshots": (
        "run_id", "ts_ns", "position", "avg_price", "mark", "realised", "unrealised", "fees",
        "funding", "equity",
    ),
    "errors": ("run_id", "ts_ns", "source", "code", "message"),
}

#: Record tables with a unique key, where a repeated row is ignored (fills: run_id, trade_id).
UNIQUE_TABLES: frozenset[str] = frozenset({"fills"})


def current_version(conn: Connection) -> int:
    """The schema version of an open database (0 for an empty one).

    Args:
        conn: an open connection (``thalex_mm.store.backend``).

    Returns:
        The highest applied migration step, 0 when there is no ``schema_version`` table.
    """
    if not conn.query(conn.dialect.table_exists_sql, ("schema_version",)):
        return 0
    ((version,),) = conn.query("SELECT COALESCE(MAX(version), 0) FROM schema_version")
    return int(version)


def migrate(conn: Connection) -> tuple[int, int]:
    """Upgrade a database to :data:`SCHEMA_VERSION`, one transaction per step.

    Args:
        conn: an open connection, not inside a transaction.

    Returns:
        ``(version_before, version_after)``.

    Raises:
        DataFileError: the database was written by a newer thalex-mm (its version is higher
            than :data:`SCHEMA_VERSION`), or a migration step failed.
    """
    where = conn.display
    before = current_version(conn)
    if before > SCHEMA_VERSION:
        raise DataFileError(
            where, 0,
            f"journal schema version {before} is newer than this thalex-mm supports "
            f"({SCHEMA_VERSION}); upgrade thalex-mm",
        )
    dialect = conn.dialect
    for step in range(before, SCHEMA_VERSION):
        try:
            with conn.write_transaction():
                if dialect.migration_lock is not None:
                    conn.query(dialect.migration_lock)
                # Re-check under the write lock: another process may have migrated meanwhile.
                if current_version(conn) > step:
                    continue
                for sql in MIGRATIONS[step]:
                    conn.execute(dialect.ddl(sql))
                conn.execute(
                    "INSERT INTO schema_version (version, applied_ns) VALUES (?, ?)",
                    (step + 1, time.time_ns()),
                )
        except DbError as exc:
            raise DataFileError(
                where, 0, f"journal migration to schema version {step + 1} failed: {exc}"
            ) from exc
    return before, SCHEMA_VERSION
