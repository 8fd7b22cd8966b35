"""Read access to a journal: runs and per-run records as dataclasses or numpy arrays.

A journal is a SQLite file or a PostgreSQL database (``thalex_mm.store.backend``). A reader
opens it read-only (SQLite ``mode=ro``; PostgreSQL ``default_transaction_read_only``): it never
creates a file, never creates or upgrades the schema — so a newer ``thalex-mm runs`` / ``report``
cannot change the journal under a running older bot — and refuses a journal whose schema
version is not the one this thalex-mm reads. Only the writer (``thalex_mm.store.journal``)
creates and upgrades (``thalex_mm.store.schema``).
"""

from __future__ import annotations

import os
import threading
from typing import Any, Self

import numpy as np

from thalex_mm.errors import DataFileError, InvalidState
from thalex_mm.store.backend import Connection, is_postgres_url, open_connection, redact_url
from thalex_mm.store.dialect import DbError, DbIntegrityError
from thalex_mm.store.records import (
    ErrorRecord,
    FillRecord,
    OrderRecord,
    PnlSnapshot,
    QuoteRecord,
    RiskEventRecord,
    RunInfo,
    RunTotals,
)
from thalex_mm.store.schema import SCHEMA_VERSION, TABLE_COLUMNS, current_version, migrate

__all__ = ["PNL_DTYPE", "QUOTE_DTYPE", "JournalReader"]

_RUN_COLUMNS = (
    "r.run_id, r.mode, r.started_ns, r.stopped_ns, r.exit_reason, r.version, r.config_json, "
    "r.config_hash, r.instrument, r.network, r.pid, r.host, r.account, "
    "(SELECT COUNT(*) FROM fills f WHERE f.run_id = r.run_id)"
)

_RECORD_TABLES = ("orders", "fills", "quotes", "risk_events", "pnl_snapshots", "errors")

#: Structured dtype of :meth:`JournalReader.quotes_array` (NaN where a value was None).
QUOTE_DTYPE = np.dtype(
    [("ts_ns", "i8")]
    + [(c, "f8") for c in TABLE_COLUMNS["quotes"][2:]]
)
#: Structured dtype of :meth:`JournalReader.pnl_array` (NaN where a value was None).
PNL_DTYPE = np.dtype(
    [("ts_ns", "i8")]
    + [(c, "f8") for c in TABLE_COLUMNS["pnl_snapshots"][2:]]
)


class JournalReader:
    """Read access to a journal, read-only (see the module docstring).

    Args:
        location: a SQLite file path, a ``sqlite:///`` URL or a ``postgresql://`` URL.
        create: for the writer (:class:`~thalex_mm.store.journal.Journal`): open read-write,
            create a missing SQLite file (and its directory) and create or upgrade the schema.
            False (a reader): read-only; a missing file raises ``FileNotFoundError`` and a
            schema version other than :data:`~thalex_mm.store.schema.SCHEMA_VERSION` raises
            ``DataFileError`` naming both versions.

    Attributes:
        path: where the journal is, safe to print (the file, or the URL without password).
        schema_version: the schema version after opening.

    Raises:
        FileNotFoundError: a SQLite file does not exist and ``create`` is false.
        ConfigError: an unsupported URL, or asyncpg missing for a PostgreSQL URL.
        TransportError: the PostgreSQL server cannot be reached or refused the login.
        DataFileError: the database is not a journal this version can read.
    """

    def __init__(self, location: str | os.PathLike[str], *, create: bool = False) -> None:
        self._lock = threading.Lock()
        try:
            conn = open_connection(location, create=create, read_only=not create)
        except DbError as exc:
            where = redact_url(location) if is_postgres_url(location) else os.fspath(location)
            raise DataFileError(where, 0, f"not a journal database: {exc}") from exc
        self.path = conn.display
        self._conn: Connection | None = conn
        try:
            if create:
                self._version_before, self.schema_version = migrate(conn)
            else:
                self._version_before = self.schema_version = _check_version(conn)
        except DbError as exc:
            conn.close()
            raise DataFileError(self.path, 0, f"not a journal database: {exc}") from exc
        except BaseException:
            conn.close()
            raise

    # -- reading ---------------------------------------------------------------------------

    def _select(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        try:
            return self._on_conn(lambda conn: conn.query(sql, params))
        except DbError as exc:
            raise DataFileError(self.path, 0, f"journal read failed: {exc}") from exc

    def _on_conn(self, call: Any) -> Any:
        """``call(connection)`` under the lock; when the server dropped the connection
        (restart, network blip) it is reopened once and ``call`` retried.

        Raises:
            InvalidState: the journal is closed.
            DbError: the statement failed (again, after a reconnect).
        """
        with self._lock:
            if self._conn is None:
                raise InvalidState(f"journal {self.path} is closed")
            try:
                return call(self._conn)
            except DbIntegrityError:
                raise
            except DbError:
                if self._conn.alive():
                    raise
            old = self._conn
            self._conn = old.reopen()  # TransportError when the server is still away
            old.close()
            return call(self._conn)

    def _rows(self, table: str, run_id: str) -> list[tuple[Any, ...]]:
        cols = ", ".join(TABLE_COLUMNS[table])
        return self._select(
            f"SELECT {cols} FROM {table} WHERE run_id = ? ORDER BY ts_ns, rowid", (run_id,)
        )

    def list_runs(self) -> list[RunInfo]:
        """Every run, newest (latest ``started_ns``) first."""
        rows = self._select(
            f"SELECT {_RUN_COLUMNS} FROM runs r ORDER BY r.started_ns DESC, r.rowid DESC"
        )
        return [_run_info(row) for row in rows]

    def get_run(self, run_id: str) -> RunInfo:
        """One run.

        Raises:
            KeyError: no run with that id.
        """
        rows = self._select(f"SELECT {_RUN_COLUMNS} FROM runs r WHERE r.run_id = ?", (run_id,))
        if not rows:
            raise KeyError(f"no run {run_id!r} in journal {self.path}")
        return _run_info(rows[0])

    def last_record_ns(self, run_id: str) -> int | None:
        """Time of the run's latest journaled record of any kind (ns), None when it has none."""
        union = " UNION ALL ".join(
            f"SELECT MAX(ts_ns) AS m FROM {t} WHERE run_id = ?" for t in _RECORD_TABLES)
        rows = self._select(f"SELECT MAX(m) FROM ({union}) AS u", (run_id,) * len(_RECORD_TABLES))
        value = rows[0][0] if rows else None
        return None if value is None else int(value)

    def run_totals(self, run_id: str) -> RunTotals:
        """Volume, last total PnL and max |position| of a run (see :class:`RunTotals`)."""
        running = peak = 0.0
        volume = 0.0
        for side, amount, after in self._select(
            "SELECT side, amount, position_after FROM fills WHERE run_id = ? ORDER BY ts_ns, rowid",
            (run_id,),
        ):
            volume += float(amount)
            running += float(amount) if str(side).lower() in ("buy", "bid") else -float(amount)
            if after is not None:
                running = float(after)  # the exchange's own figure wins
            peak = max(peak, abs(running))
        rows = self._select("SELECT MAX(ABS(position)) FROM pnl_snapshots WHERE run_id = ?", (run_id,))
        if rows and rows[0][0] is not None:
            peak = max(peak, float(rows[0][0]))
        last = self._select(
            "SELECT equity FROM pnl_snapshots WHERE run_id = ? ORDER BY ts_ns DESC, rowid DESC LIMIT 1",
            (run_id,),
        )
        pnl = float(last[0][0]) if last else None
        return RunTotals(volume=volume, pnl_total=pnl, max_abs_position=peak)

    def orders(self, run_id: str) -> list[OrderRecord]:
        """Order state changes of a run, in time order."""
        return [OrderRecord(**dict(zip(TABLE_COLUMNS["orders"], r, strict=True)))
                for r in self._rows("orders", run_id)]

    def fills(self, run_id: str) -> list[FillRecord]:
        """Fills of a run, in time order (a duplicated ``trade_id`` appears once)."""
        return [FillRecord(**dict(zip(TABLE_COLUMNS["fills"], r, strict=True)))
                for r in self._rows("fills", run_id)]

    def trade_ids(self, since_ns: int = 0) -> set[str]:
        """Trade ids of every run's fills at or after ``since_ns`` (ns since the epoch)."""
        return {r[0] for r in self._select("SELECT trade_id FROM fills WHERE ts_ns >= ?", (int(since_ns),))}

    def quotes(self, run_id: str) -> list[QuoteRecord]:
        """Quote samples of a run, in time order."""
        return [QuoteRecord(**dict(zip(TABLE_COLUMNS["quotes"], r, strict=True)))
                for r in self._rows("quotes", run_id)]

    def risk_events(self, run_id: str) -> list[RiskEventRecord]:
        """Trading-state changes of a run, in time order."""
        return [RiskEventRecord(**dict(zip(TABLE_COLUMNS["risk_events"], r, strict=True)))
                for r in self._rows("risk_events", run_id)]

    def pnl_snapshots(self, run_id: str) -> list[PnlSnapshot]:
        """PnL snapshots of a run, in time order."""
        return [PnlSnapshot(**dict(zip(TABLE_COLUMNS["pnl_snapshots"], r, strict=True)))
                for r in self._rows("pnl_snapshots", run_id)]

    def errors(self, run_id: str) -> list[ErrorRecord]:
        """Errors recorded during a run, in time order."""
        return [ErrorRecord(**dict(zip(TABLE_COLUMNS["errors"], r, strict=True)))
                for r in self._rows("errors", run_id)]

    def quotes_array(self, run_id: str) -> np.ndarray:
        """Quote samples as a :data:`QUOTE_DTYPE` array (for plots)."""
        return _to_array(self._rows("quotes", run_id), QUOTE_DTYPE)

    def pnl_array(self, run_id: str) -> np.ndarray:
        """PnL snapshots as a :data:`PNL_DTYPE` array (for plots)."""
        return _to_array(self._rows("pnl_snapshots", run_id), PNL_DTYPE)

    def close(self) -> None:
        """Close the connection. Idempotent."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_version(conn: Connection) -> int:
    """The schema version of a journal opened read-only; it must be :data:`SCHEMA_VERSION`.

    Raises:
        DataFileError: the database is empty / not a journal, or its version differs.
    """
    version = current_version(conn)
    if version == SCHEMA_VERSION:
        return version
    if version == 0:
        why = "the database is empty or not a journal (no schema_version table)"
    elif version < SCHEMA_VERSION:
        why = (f"journal schema version {version} is older than version {SCHEMA_VERSION}, the "
               "one this thalex-mm reads; a bot (paper/live/backtest) of this version upgrades "
               "it when it opens the journal (readers never change a journal)")
    else:
        why = (f"journal schema version {version} is newer than version {SCHEMA_VERSION}, "
               "the one this thalex-mm reads; upgrade thalex-mm")
    raise DataFileError(conn.display, 0, f"cannot read the journal: {why}")


def _run_info(row: tuple[Any, ...]) -> RunInfo:
    (run_id, mode, started_ns, stopped_ns, exit_reason, version, config_json, chash,
     instrument, network, pid, host, account, fill_count) = row
    return RunInfo(
        run_id=run_id, mode=mode, started_ns=started_ns, stopped_ns=stopped_ns,
        exit_reason=exit_reason, version=version, config_json=config_json, config_hash=chash,
        instrument=instrument, network=network, fill_count=fill_count, pid=pid, host=host,
        account=account,
    )


def _to_array(rows: list[tuple[Any, ...]], dtype: np.dtype) -> np.ndarray:
    out = np.empty(len(rows), dtype=dtype)
    if rows:
        names = dtype.names or ()
        out["ts_ns"] = [r[1] for r in rows]
        for i, name in enumerate(names[1:], start=2):
            out[name] = [np.nan if r[i] is None else r[i] for r in rows]
    return out
