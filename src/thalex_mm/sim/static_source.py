"""A market that is set once and then only changes when pushed: for tests and examples."""

from __future__ import annotations

import numpy as np

from thalex_mm.data.events import MARKET_EVENT_DTYPE, EventKind

__all__ = ["StaticSource"]


class StaticSource:
    """A market that is set once: a few levels each side, a mark and an index."""

    def __init__(self, mid: float = 65_000.0, levels: int = 5, size: float = 1.0) -> None:
        rows = [(EventKind.BOOK_CLEAR, 0, 0.0, 0.0)]
        for i in range(1, levels + 1):
            rows.append((EventKind.BOOK_LEVEL, 1, mid - 5 * i, size))
            rows.append((EventKind.BOOK_LEVEL, -1, mid + 5 * i, size))
        rows += [(EventKind.MARK, 0, mid, 0.0), (EventKind.INDEX, 0, mid - 2, 0.0)]
        self.rows = np.zeros(len(rows), dtype=MARKET_EVENT_DTYPE)
        for i, (k, s, p, q) in enumerate(rows):
            self.rows[i] = (k, s, 0, 0, p, q)
        self.extra: list[np.ndarray] = []
        self._sent = False

    def push(self, rows: np.ndarray) -> None:
        self.extra.append(rows)

    def due_until(self, now_ns: int) -> np.ndarray:
        out = []
        if not self._sent:
            self._sent = True
            out.append(self.rows)
        out += self.extra
        self.extra = []
        return np.concatenate(out) if out else np.zeros(0, dtype=MARKET_EVENT_DTYPE)
