"""The journal: an append-only record of runs, orders, fills, quotes, risk events and PnL.

SQLite (WAL) by default; a ``postgresql://`` URL selects PostgreSQL (asyncpg, the ``postgres``
extra) with the same schema, behaviour and reading API. :func:`open_journal` is the entry point
the drivers use; :class:`JournalReader` (or :func:`open_reader`) reads either kind.
"""

from __future__ import annotations

import os
from pathlib import Path

from thalex_mm.store.backend import is_postgres_url, redact_url, sqlite_file
from thalex_mm.store.journal import Journal, JournalStats, canonical_config_json, config_hash
from thalex_mm.store.reader import PNL_DTYPE, QUOTE_DTYPE, JournalReader
from thalex_mm.store.records import (
    ErrorRecord,
    FillRecord,
    OrderRecord,
    PnlSnapshot,
    QuoteRecord,
    RiskEventRecord,
    RunInfo,
    RunMode,
)
from thalex_mm.store.recovery import close_crashed_runs, crashed_runs
from thalex_mm.store.schema import SCHEMA_VERSION
from thalex_mm.store.scrub import scrub_secrets, scrub_text
from thalex_mm.store.sink import JournalSink, NullJournal

__all__ = [
    "PNL_DTYPE",
    "QUOTE_DTYPE",
    "SCHEMA_VERSION",
    "ErrorRecord",
    "FillRecord",
    "Journal",
    "JournalReader",
    "JournalSink",
    "JournalStats",
    "NullJournal",
    "OrderRecord",
    "PnlSnapshot",
    "QuoteRecord",
    "RiskEventRecord",
    "RunInfo",
    "RunMode",
    "canonical_config_json",
    "close_crashed_runs",
    "config_hash",
    "crashed_runs",
    "describe_location",
    "is_postgres_url",
    "journal_file",
    "open_journal",
    "open_reader",
    "redact_url",
    "scrub_secrets",
    "scrub_text",
]


def journal_file(url_or_path: str | os.PathLike[str]) -> Path:
    """The SQLite file named by a journal location (a path or a ``sqlite:///`` URL).

    Args:
        url_or_path: ``monitoring.journal_path``: a file path, ``sqlite:///relative/path`` or
            ``sqlite:////absolute/path``.

    Returns:
        The file path.

    Raises:
        ConfigError: the location is a PostgreSQL URL (it has no file: check
            :func:`is_postgres_url` first) or another URL. The error shows the URL without
            its password.
    """
    return sqlite_file(url_or_path)


def describe_location(url_or_path: str | os.PathLike[str]) -> str:
    """A journal location safe to print: a file path as is, a URL without its password."""
    if is_postgres_url(url_or_path):
        return redact_url(str(url_or_path))
    return os.fspath(url_or_path)


def open_journal(url_or_path: str | os.PathLike[str], *, flush_interval_s: float = 0.2) -> Journal:
    """Open (creating if needed) the journal named by ``monitoring.journal_path``.

    Args:
        url_or_path: a SQLite file path, a ``sqlite:///`` URL or a
            ``postgresql://user:password@host:port/database`` URL (the database must exist;
            its tables are created or upgraded).
        flush_interval_s: writer interval, seconds (> 0).

    Returns:
        A running :class:`Journal`; call ``close()`` when done.

    Raises:
        ConfigError: unsupported location, or asyncpg missing for a PostgreSQL URL.
        TransportError: the PostgreSQL server cannot be reached or refused the login.
        DataFileError: the database is not a journal this version can read.
    """
    return Journal(url_or_path, flush_interval_s=flush_interval_s)


def open_reader(url_or_path: str | os.PathLike[str]) -> JournalReader:
    """Open an existing journal for reading (what ``thalex-mm runs`` / ``report`` need).

    Args:
        url_or_path: a SQLite file path, a ``sqlite:///`` URL or a ``postgresql://`` URL.

    Returns:
        A :class:`JournalReader`; close it (or use it as a context manager).

    Raises:
        FileNotFoundError: a SQLite file does not exist (nothing is created).
        ConfigError: unsupported location, or asyncpg missing for a PostgreSQL URL.
        TransportError: the PostgreSQL server cannot be reached or refused the login.
        DataFileError: the database is not a journal this version can read.
    """
    return JournalReader(url_or_path)
