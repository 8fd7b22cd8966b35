"""Market sessions for a backtest: grouping data files, time windows, synthetic data.

A Binance capture of one continuous recording is split over files named by day
(``usdm_btcusdt_20230404.dat.gz`` + ``usdm_btcusdt_20230405.dat.gz``); their depth sequences
join, files of different recordings do not. :func:`group_sessions` puts files whose names carry
*consecutive* dates (``YYYYMMDD``) into one session and starts a new session at a gap; files
without a date in the name are a session each. ``synthetic:SECONDS[:SEED]`` stands for the
synthetic Avellaneda–Stoikov market.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from thalex_mm.data import EventKind, empty_events, load_events
from thalex_mm.data.events import MARKET_EVENT_DTYPE

__all__ = [
    "SYNTHETIC_PREFIX",
    "SessionData",
    "group_sessions",
    "load_session",
    "parse_time_ns",
    "synthetic_events",
    "window_events",
]

SYNTHETIC_PREFIX = "synthetic:"
_DATE_RE = re.compile(r"(20\d{2})(\d{2})(\d{2})")


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionData:
    """One session: a label (for report folders) and its data sources."""

    label: str
    paths: tuple[str, ...]


def _file_date(path: str) -> date | None:
    m = _DATE_RE.search(Path(path).name)
    if m is None:
        return None
    try:
        return date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        return None


def group_sessions(paths: Sequence[str]) -> list[SessionData]:
    """Group data files into sessions (consecutive dates belong together), in time order.

    Args:
        paths: data files (any order) or ``synthetic:SECONDS[:SEED]`` specs.

    Returns:
        Sessions ordered by first date (undated files and synthetic specs keep their order,
        after the dated ones).
    """
    dated: list[tuple[date, str]] = []
    other: list[SessionData] = []
    for p in paths:
        d = None if p.startswith(SYNTHETIC_PREFIX) else _file_date(p)
        if d is None:
            label = p.replace(":", "-") if p.startswith(SYNTHETIC_PREFIX) else Path(p).stem
            other.append(SessionData(label=label.replace(".", "-"), paths=(p,)))
        else:
            dated.append((d, p))
    dated.sort()
    groups: list[list[tuple[date, str]]] = []
    for d, p in dated:
        if groups and (d - groups[-1][-1][0]) <= timedelta(days=1):
            groups[-1].append((d, p))
        else:
            groups.append([(d, p)])
    out = []
    for g in groups:
        first, last = g[0][0], g[-1][0]
        label = first.strftime("%Y%m%d") + ("" if first == last else "-" + last.strftime("%Y%m%d"))
        out.append(SessionData(label=label, paths=tuple(p for _, p in g)))
    return out + other


def parse_time_ns(text: str) -> int:
    """ISO-8601 (UTC unless an offset is given) or epoch seconds → ns since the epoch.

    Raises:
        ValueError: neither form; the message shows the value and the expected forms.
    """
    s = text.strip()
    try:
        return round(float(s) * 1e9)
    except ValueError:
        pass
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(
            f"time: got {text!r}, expected ISO-8601 (e.g. 2023-04-05T00:10:00Z) or epoch "
            "seconds (e.g. 1680653400)"
        ) from None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp()) * 1_000_000_000 + dt.microsecond * 1000


def synthetic_events(spec: str, seed: int = 0) -> np.ndarray:
    """Events of the synthetic A–S market for ``synthetic:SECONDS[:SEED]``.

    Raises:
        ValueError: malformed spec.
    """
    from thalex_mm.sim.sources import SyntheticMarket, SyntheticParams

    parts = spec[len(SYNTHETIC_PREFIX):].split(":")
    try:
        seconds = float(parts[0])
        if len(parts) > 1:
            seed = int(parts[1])
        if len(parts) > 2 or not seconds > 0:
            raise ValueError
    except ValueError:
        raise ValueError(
            f"--data {spec!r}: expected synthetic:SECONDS or synthetic:SECONDS:SEED with "
            "SECONDS > 0"
        ) from None
    return SyntheticMarket(SyntheticParams(), seed=seed).generate(seconds)


def load_session(session: SessionData, seed: int = 0) -> np.ndarray:
    """The events of one session (through the data cache for files)."""
    if len(session.paths) == 1 and session.paths[0].startswith(SYNTHETIC_PREFIX):
        return synthetic_events(session.paths[0], seed)
    return load_events(list(session.paths))


def window_events(events: np.ndarray, start_ns: int | None, end_ns: int | None) -> np.ndarray:
    """Rows with ``start_ns <= exch_ts <= end_ns``; the book at ``start_ns`` is kept.

    When rows before ``start_ns`` are cut, the book they built is prepended as a snapshot
    (``BOOK_CLEAR`` + one ``BOOK_LEVEL`` per level) stamped with ``start_ns``, so the window
    starts with the true book. A window that selects no rows returns an empty array.
    """
    ts = events["exch_ts"]
    i0 = 0 if start_ns is None else int(np.searchsorted(ts, start_ns, "left"))
    i1 = ts.size if end_ns is None else int(np.searchsorted(ts, end_ns, "right"))
    body = events[i0:i1]
    if i0 == 0 or start_ns is None or body.size == 0:
        return body  # an empty window stays empty (no snapshot-only phantom session)
    before = events[:i0]
    kinds = before["kind"]
    clears = np.flatnonzero(kinds == EventKind.BOOK_CLEAR)
    c = int(clears[-1]) if clears.size else 0
    lv = before[c:][before[c:]["kind"] == EventKind.BOOK_LEVEL]
    key = lv["side"].astype(np.int64) * (1 << 40) + np.rint(lv["price"] * 1e6).astype(np.int64)
    order = np.argsort(key, kind="stable")
    ks = key[order]
    last = np.r_[ks[1:] != ks[:-1], True] if ks.size else np.zeros(0, dtype=bool)
    levels = lv[order[last]]
    levels = levels[levels["qty"] > 0]
    head = empty_events(levels.size + 1)
    head[0]["kind"] = EventKind.BOOK_CLEAR
    head[1:] = levels
    head["exch_ts"] = start_ns
    lt = before["local_ts"][-1] - before["exch_ts"][-1] + start_ns
    head["local_ts"] = lt
    out = np.concatenate([head, body]).astype(MARKET_EVENT_DTYPE)
    return out
