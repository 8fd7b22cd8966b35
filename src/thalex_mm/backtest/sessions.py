"""Market sessions for a backtest: grouping data files, time windows, synthetic data.

A *session* is one continuous capture: its files are loaded together (a Binance capture split
over day files only joins its depth sequences when loaded as one), and each session runs with
a fresh core and engine. :func:`group_sessions` groups by **time continuity of the files'
contents**, never by file name:

* a directory given as data expands to the supported data files directly inside it (sorted by
  name; other files such as ``SOURCE.md`` are skipped), so ``--data DIR`` reads what
  ``thalex-mm record --out DIR`` wrote;
* each file's time span ``[first_ns, last_ns]`` is read from its contents (:func:`file_span`:
  Binance local receive times, Tardis ``timestamp`` column, recording ``ts``), remembered in
  the data cache directory (keyed by path, size and mtime) so it is read once;
* files of the same *stream* (same format; for Tardis also the same ``exchange,symbol``, for
  Binance the same symbol) whose
  spans overlap or are at most ``max_gap_s`` (default :data:`DEFAULT_SESSION_GAP_S`) apart form
  one session; a longer gap starts a new one. Files of different formats or markets never
  share a session.

Labels are the UTC dates covered (``20230404-20230405``, or ``20240718`` for one day), with the
start time appended (``20240718T101500``) when two sessions would otherwise share a label (and
``-2``, ``-3`` … if they start in the same second).
``synthetic:SECONDS[:SEED]`` stands for the synthetic Avellaneda–Stoikov market (a session of
its own, after the file sessions, in the order given).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from thalex_mm.data import (
    DataFormat,
    EventKind,
    default_cache_dir,
    detect_format,
    empty_events,
    load_events,
)
from thalex_mm.data.events import MARKET_EVENT_DTYPE
from thalex_mm.data.recording import RecordingReader
from thalex_mm.errors import DataFileError

__all__ = [
    "DEFAULT_SESSION_GAP_S",
    "SYNTHETIC_PREFIX",
    "FileSpan",
    "SessionData",
    "expand_data_paths",
    "file_span",
    "group_sessions",
    "load_session",
    "parse_time_ns",
    "synthetic_events",
    "window_events",
]

SYNTHETIC_PREFIX = "synthetic:"
#: Files of one stream at most this many seconds apart belong to one session.
DEFAULT_SESSION_GAP_S = 60.0
_SPAN_VERSION = 2  # 2: Binance streams carry the symbol
_BINANCE_SYMBOL = re.compile(rb'"s":"([^"]+)"')
_NS_THRESHOLD = 10**17  # Binance local timestamps above this are ns, below µs
_US = 1000


@dataclass(frozen=True, slots=True, kw_only=True)
class SessionData:
    """One session: a label (for report folders) and its data sources."""

    label: str
    paths: tuple[str, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class FileSpan:
    """What a data file covers.

    Attributes:
        stream: grouping key: the format, plus ``exchange,symbol`` for Tardis files and the
            symbol (``"s"`` of the first message that has one) for Binance captures.
        first_ns / last_ns: earliest / latest timestamp in the file, ns since the epoch
            (``None`` for a file without rows).
    """

    stream: str
    first_ns: int | None
    last_ns: int | None


def _is_synthetic(p: str) -> bool:
    return p.startswith(SYNTHETIC_PREFIX)


def expand_data_paths(paths: Sequence[str]) -> list[str]:
    """Replace each directory by the supported data files directly inside it (sorted).

    Files that are not market data (unknown format, hidden files) are skipped inside a
    directory; a file named explicitly is kept as given (its format is checked on load).

    Raises:
        DataFileError: a directory holds no supported data file.
    """
    out: list[str] = []
    for p in paths:
        if _is_synthetic(p) or not Path(p).is_dir():
            out.append(p)
            continue
        found = []
        for f in sorted(Path(p).iterdir()):
            if f.name.startswith(".") or not f.is_file():
                continue
            try:
                detect_format(f)
            except DataFileError:
                continue
            found.append(str(f))
        if not found:
            raise DataFileError(
                p, 0, "directory holds no supported data file (Binance raw capture, Tardis "
                "CSV or thalex-mm recording)")
        out += found
    return out


def _open_lines(path: Path) -> Iterator[bytes]:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    try:
        with opener(path, "rb") as fh:
            yield from fh
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(str(path), 0, f"truncated or corrupt data ({exc})") from exc


def _scan_binance(path: Path) -> tuple[str, int | None, int | None]:
    lo = hi = None
    symbol = ""
    for raw in _open_lines(path):
        head = raw.partition(b" ")[0]
        if not head.strip().isdigit():
            continue
        if not symbol:
            found = _BINANCE_SYMBOL.search(raw)
            symbol = found.group(1).decode("ascii", "replace") if found else ""
        t = int(head)
        t = t if t > _NS_THRESHOLD else t * _US
        lo = t if lo is None or t < lo else lo
        hi = t if hi is None or t > hi else hi
    return symbol, lo, hi


def _scan_tardis(path: Path) -> tuple[str, int | None, int | None]:
    lo = hi = None
    market = ""
    for i, raw in enumerate(_open_lines(path)):
        if i == 0:
            continue
        parts = raw.split(b",", 3)
        if len(parts) < 4 or not parts[2].strip().isdigit():
            continue
        if not market:
            market = (parts[0] + b"," + parts[1]).decode("utf-8", "replace")
        t = int(parts[2]) * _US
        lo = t if lo is None or t < lo else lo
        hi = t if hi is None or t > hi else hi
    return market, lo, hi


def _scan_recording(path: Path) -> tuple[int | None, int | None]:
    lo = hi = None
    for _, rec in RecordingReader(path):
        t = rec.ts_ns
        lo = t if lo is None or t < lo else lo
        hi = t if hi is None or t > hi else hi
    return lo, hi


def _span_cache_file(path: Path, cache_dir: Path) -> Path:
    st = path.stat()
    blob = orjson.dumps([_SPAN_VERSION, str(path), st.st_size, st.st_mtime_ns])
    return cache_dir / "spans" / f"{hashlib.sha256(blob).hexdigest()[:32]}.json"


def file_span(path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None
              ) -> FileSpan:
    """The stream and time span of one data file, read from its contents (cached).

    Binance captures give their local receive times (µs or ns on disk, ns here), Tardis CSVs
    their ``timestamp`` column (exchange time), recordings their ``ts`` (local receive time).

    Args:
        path: a data file.
        cache_dir: where spans are remembered (default: the data cache directory).

    Raises:
        DataFileError: missing, unreadable or of unknown format.
    """
    p = Path(path).resolve()
    if not p.is_file():
        raise DataFileError(str(path), 0, "file not found")
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    memo = _span_cache_file(p, base)
    try:
        d = orjson.loads(memo.read_bytes())
        return FileSpan(stream=d["stream"], first_ns=d["first_ns"], last_ns=d["last_ns"])
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError):
        pass
    fmt = detect_format(p)
    if fmt is DataFormat.BINANCE_RAW:
        symbol, lo, hi = _scan_binance(p)
        stream = f"{fmt.value}:{symbol}"
    elif fmt is DataFormat.TARDIS_CSV:
        market, lo, hi = _scan_tardis(p)
        stream = f"{fmt.value}:{market}"
    else:
        stream, (lo, hi) = fmt.value, _scan_recording(p)
    span = FileSpan(stream=stream, first_ns=lo, last_ns=hi)
    try:
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".tmp{os.getpid()}")
        tmp.write_bytes(orjson.dumps({"stream": stream, "first_ns": lo, "last_ns": hi}))
        os.replace(tmp, memo)
    except OSError:
        pass  # a read-only cache only costs a rescan next time
    return span


def _day(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).strftime("%Y%m%d")


def _stamp(ts_ns: int) -> str:
    return datetime.fromtimestamp(ts_ns // 1_000_000_000, tz=UTC).strftime("%Y%m%dT%H%M%S")


def group_sessions(
    paths: Sequence[str],
    *,
    max_gap_s: float = DEFAULT_SESSION_GAP_S,
    cache_dir: str | os.PathLike[str] | None = None,
) -> list[SessionData]:
    """Group data files into sessions by the time continuity of their contents.

    Args:
        paths: data files or directories (any order) or ``synthetic:SECONDS[:SEED]`` specs.
        max_gap_s: files of one stream whose spans are at most this far apart (seconds) join.
        cache_dir: where file spans are remembered (default: the data cache directory).

    Returns:
        File sessions ordered by start time (files inside a session in time order), then the
        synthetic specs in the order given.

    Raises:
        DataFileError: a file is missing, unreadable or of unknown format; an empty directory.
    """
    if not max_gap_s >= 0:
        raise ValueError(f"max_gap_s: got {max_gap_s}, expected >= 0")
    gap_ns = int(max_gap_s * 1e9)
    synthetic: list[SessionData] = []
    spans: list[tuple[str, int, int, str]] = []
    empty: list[str] = []
    seen: set[str] = set()
    for p in expand_data_paths(list(paths)):
        if _is_synthetic(p):
            synthetic.append(SessionData(label=p.replace(":", "-").replace(".", "-"),
                                         paths=(p,)))
            continue
        if p in seen:
            continue
        seen.add(p)
        s = file_span(p, cache_dir)
        if s.first_ns is None or s.last_ns is None:
            empty.append(p)
        else:
            spans.append((s.stream, s.first_ns, s.last_ns, p))
    spans.sort()
    groups: list[tuple[int, int, list[str]]] = []  # (first, last, paths)
    prev_stream = None
    for stream, lo, hi, p in spans:
        if groups and stream == prev_stream and lo <= groups[-1][1] + gap_ns:
            first, last, members = groups[-1]
            groups[-1] = (first, max(last, hi), [*members, p])
        else:
            groups.append((lo, hi, [p]))
        prev_stream = stream
    groups.sort(key=lambda g: (g[0], g[1]))
    labels = [_day(lo) if _day(lo) == _day(hi) else f"{_day(lo)}-{_day(hi)}"
              for lo, hi, _ in groups]
    out = []
    used: set[str] = set()
    for (lo, hi, members), label in zip(groups, labels, strict=True):
        if labels.count(label) > 1:
            label = _stamp(lo) if _day(lo) == _day(hi) else f"{_stamp(lo)}-{_day(hi)}"
        unique, n = label, 1
        while unique in used:
            n += 1
            unique = f"{label}-{n}"
        used.add(unique)
        out.append(SessionData(label=unique, paths=tuple(members)))
    out += [SessionData(label=Path(p).name.replace(".", "-"), paths=(p,)) for p in empty]
    return out + synthetic


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


def load_session(session: SessionData, seed: int = 0, progress: Callable[..., Any] | None = None
                 ) -> np.ndarray:
    """The events of one session (through the data cache for files; ``progress`` as for
    ``load_events``: shown while files are converted)."""
    if len(session.paths) == 1 and session.paths[0].startswith(SYNTHETIC_PREFIX):
        return synthetic_events(session.paths[0], seed)
    return load_events(list(session.paths), progress=progress)


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
