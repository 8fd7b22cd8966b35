"""What a driver needs from a journal, as a Protocol, and a journal that records nothing.

The quoter driver and the backtester type their journal as :class:`JournalSink`, so the
:class:`thalex_mm.store.journal.Journal` (SQLite or PostgreSQL) or :class:`NullJournal`
(journaling switched off, or tests) can be passed in unchanged.
"""

from __future__ import annotations

import itertools
from typing import Any, Protocol, runtime_checkable

from thalex_mm.store.records import RunMode

__all__ = ["JournalSink", "NullJournal"]


@runtime_checkable
class JournalSink(Protocol):
    """The writing side of a journal. Record methods must not block (no I/O on the caller)."""

    def start_run(self, mode: RunMode | str, config: Any, *, instrument: str | None = None,
                  network: str | None = None, version: str = ...,
                  started_ns: int | None = None) -> str: ...

    def finish_run(self, run_id: str, exit_reason: str,
                   stopped_ns: int | None = None) -> None: ...

    def order(self, run_id: str, *, ts_ns: int, event: str, **fields: Any) -> None: ...

    def fill(self, run_id: str, *, ts_ns: int, trade_id: str, side: str, price: float,
             amount: float, **fields: Any) -> None: ...

    def quote(self, run_id: str, *, ts_ns: int, **fields: Any) -> None: ...

    def risk_event(self, run_id: str, *, ts_ns: int, state: str, reason: str,
                   **fields: Any) -> None: ...

    def pnl(self, run_id: str, *, ts_ns: int, position: float, realised: float,
            unrealised: float, equity: float, **fields: Any) -> None: ...

    def error(self, run_id: str, *, ts_ns: int, source: str, message: str,
              **fields: Any) -> None: ...

    def flush(self, timeout_s: float = 30.0) -> bool: ...

    def close(self) -> None: ...


class NullJournal:
    """A :class:`JournalSink` that keeps nothing; run ids are ``null-1``, ``null-2``, ..."""

    def __init__(self) -> None:
        self._ids = itertools.count(1)

    def start_run(self, mode: RunMode | str, config: Any, **_: Any) -> str:
        RunMode(mode)  # same validation as the real journal
        return f"null-{next(self._ids)}"

    def finish_run(self, run_id: str, exit_reason: str, stopped_ns: int | None = None) -> None:
        return None

    def order(self, run_id: str, **_: Any) -> None:
        return None

    def fill(self, run_id: str, **_: Any) -> None:
        return None

    def quote(self, run_id: str, **_: Any) -> None:
        return None

    def risk_event(self, run_id: str, **_: Any) -> None:
        return None

    def pnl(self, run_id: str, **_: Any) -> None:
        return None

    def error(self, run_id: str, **_: Any) -> None:
        return None

    def flush(self, timeout_s: float = 30.0) -> bool:
        return True

    def close(self) -> None:
        return None
