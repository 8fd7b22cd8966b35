"""The journal: an append-only record of runs, orders, fills, quotes, risk events and PnL.

SQLite (WAL) by default. :func:`open_journal` is the one entry point the drivers use, so a
PostgreSQL backend can be added behind it later without changing callers.
"""

from __future__ import annotations

import os
from pathlib import Path

from thalex_mm.errors import ConfigError
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
    "config_hash",
    "journal_file",
    "open_journal",
    "scrub_secrets",
    "scrub_text",
]

_POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_SQLITE_SCHEME = "sqlite:///"


def journal_file(url_or_path: str | os.PathLike[str]) -> Path:
    """The SQLite file named by a journal location (a path or a ``sqlite:///`` URL).

    Args:
        url_or_path: ``monitoring.journal_path``: a file path, ``sqlite:///relative/path`` or
            ``sqlite:////absolute/path``.

    Returns:
        The file path.

    Raises:
        ConfigError: the location is a PostgreSQL URL (not supported yet) or another URL.
    """
    text = os.fspath(url_or_path)
    if text.startswith(_POSTGRES_SCHEMES):
        raise ConfigError([(
            "monitoring.journal_path", "<postgresql URL>",
            "a SQLite file path (PostgreSQL journals are not supported yet)",
        )])
    if text.startswith(_SQLITE_SCHEME):
        return Path(text[len(_SQLITE_SCHEME):])
    if "://" in text:
        raise ConfigError([(
            "monitoring.journal_path", text.split("://", 1)[0] + "://...",
            "a SQLite file path or a sqlite:/// URL",
        )])
    return Path(text)


def open_journal(url_or_path: str | os.PathLike[str], *, flush_interval_s: float = 0.2) -> Journal:
    """Open (creating if needed) the journal named by ``monitoring.journal_path``.

    Args:
        url_or_path: a SQLite file path or ``sqlite:///`` URL.
        flush_interval_s: writer interval, seconds (> 0).

    Returns:
        A running :class:`Journal`; call ``close()`` when done.

    Raises:
        ConfigError: unsupported location (see :func:`journal_file`).
    """
    return Journal(journal_file(url_or_path), flush_interval_s=flush_interval_s)
