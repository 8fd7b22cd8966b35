"""Converters for Tardis.dev downloadable CSV files (``.csv`` or ``.csv.gz``).

Supported data types (detected from the header row):

- ``incremental_book_L2``: ``exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,
  amount``. ``amount`` is the new absolute size at that level (``0`` deletes). A run of
  ``is_snapshot=true`` rows at the start of the file, or after non-snapshot rows, is a new full
  snapshot and is preceded by a ``BOOK_CLEAR``.
- ``trades``: ``exchange,symbol,timestamp,local_timestamp,id,side,price,amount``; ``side`` is
  the aggressor (``buy`` → +1, ``sell`` → -1, anything else → 0).
- ``book_snapshot_N``: ``...,asks[i].price,asks[i].amount,bids[i].price,bids[i].amount``; each
  row becomes a ``BOOK_CLEAR`` plus its non-empty levels.

Timestamps are µs since the epoch in the files and ns in the output. Amounts keep the source
unit (e.g. USD contracts for Deribit BTC-PERPETUAL and BitMEX XBTUSD).
"""

from __future__ import annotations

import csv
import gzip
import io
import math
import zlib
from collections.abc import Callable, Iterator, Sequence
from os import PathLike
from pathlib import Path

import numpy as np

from thalex_mm.data.events import EventKind, concat_sorted, empty_events, events_from_columns
from thalex_mm.errors import DataFileError

__all__ = ["convert_tardis", "convert_tardis_file", "tardis_kind"]

_BOOK_COLS = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "is_snapshot",
    "side",
    "price",
    "amount",
]
_TRADE_COLS = [
    "exchange",
    "symbol",
    "timestamp",
    "local_timestamp",
    "id",
    "side",
    "price",
    "amount",
]
_SIDES = {"bid": 1, "buy": 1, "ask": -1, "sell": -1}
_TRADE_SIDES = {"buy": 1, "sell": -1}
_US = 1000  # ns per µs


def _open_binary(path: str) -> io.BufferedIOBase:
    if path.endswith(".gz"):
        return gzip.open(path, "rb")
    return open(path, "rb")


def _decoded_lines(path: str, fh: io.BufferedIOBase) -> Iterator[str]:
    """The file's lines as text, decoded one line at a time so that a byte that is not UTF-8
    is reported on its own line (a text wrapper decodes ahead, in 8 KiB chunks)."""
    for line_no, raw in enumerate(fh, start=1):
        try:
            yield raw.decode("utf-8-sig" if line_no == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            bad = raw[exc.start:exc.start + 1]
            raise DataFileError(path, line_no, f"not UTF-8 text (byte {bad!r} at column {exc.start + 1})") from None


def tardis_kind(header: Sequence[str]) -> str | None:
    """Name the Tardis data type of a CSV header row.

    Returns:
        ``"incremental_book_L2"``, ``"trades"``, ``"book_snapshot"`` or ``None`` if unknown.
    """
    cols = [c.strip() for c in header]
    if cols == _BOOK_COLS:
        return "incremental_book_L2"
    if cols == _TRADE_COLS:
        return "trades"
    if cols[:4] == _BOOK_COLS[:4] and len(cols) > 4 and cols[4] == "asks[0].price":
        return "book_snapshot"
    return None


def _book_rows(rows: list[tuple[int, list[str]]], path: str) -> np.ndarray:
    kind, side, exch, local, price, qty = [], [], [], [], [], []
    in_snapshot = False
    for line_no, r in rows:
        is_snap = r[4] == "true"
        if r[4] not in ("true", "false"):
            raise ValueError(f"is_snapshot: got {r[4]!r}, expected 'true' or 'false'")
        t = int(r[2]) * _US
        lt = int(r[3]) * _US
        if is_snap and not in_snapshot:
            kind.append(EventKind.BOOK_CLEAR)
            side.append(0)
            exch.append(t)
            local.append(lt)
            price.append(0.0)
            qty.append(0.0)
        in_snapshot = is_snap
        s = _SIDES.get(r[5])
        if s is None:
            raise DataFileError(path, line_no, f"side: got {r[5]!r}, expected 'bid' or 'ask'")
        kind.append(EventKind.BOOK_LEVEL)
        side.append(s)
        exch.append(t)
        local.append(lt)
        price.append(float(r[6]))
        qty.append(float(r[7]))
    return events_from_columns(kind, side, exch, local, price, qty)


def _trade_rows(rows: list[tuple[int, list[str]]], path: str) -> np.ndarray:
    """Trades with a known aggressor. Tardis writes ``unknown`` where the venue did not say;
    such a trade cannot feed the intensity estimate or a fill model, so it is left out."""
    sides = []
    kept = []
    for line_no, r in rows:
        s = _TRADE_SIDES.get(r[5])
        if s is None:
            if r[5] == "unknown":
                continue
            raise DataFileError(path, line_no, f"side: got {r[5]!r}, expected 'buy', 'sell' or 'unknown'")
        sides.append(s)
        kept.append((line_no, r))
    rows = kept
    out = empty_events(len(rows))
    out["kind"] = EventKind.TRADE
    out["side"] = sides
    out["exch_ts"] = [int(r[2]) * _US for _, r in rows]
    out["local_ts"] = [int(r[3]) * _US for _, r in rows]
    out["price"] = [float(r[6]) for _, r in rows]
    out["qty"] = [float(r[7]) for _, r in rows]
    return out


def _snapshot_rows(header: list[str], rows: list[tuple[int, list[str]]]) -> np.ndarray:
    levels = []  # (side, price col, amount col)
    for i, name in enumerate(header):
        if name.endswith(".price"):
            s = 1 if name.startswith("bids[") else -1
            levels.append((s, i, i + 1))
    kind, side, exch, local, price, qty = [], [], [], [], [], []
    for _, r in rows:
        t = int(r[2]) * _US
        lt = int(r[3]) * _US
        kind.append(EventKind.BOOK_CLEAR)
        side.append(0)
        exch.append(t)
        local.append(lt)
        price.append(0.0)
        qty.append(0.0)
        for s, pi, ai in levels:
            if r[pi] == "" or r[ai] == "":
                continue
            kind.append(EventKind.BOOK_LEVEL)
            side.append(s)
            exch.append(t)
            local.append(lt)
            price.append(float(r[pi]))
            qty.append(float(r[ai]))
    return events_from_columns(kind, side, exch, local, price, qty)


_MAX_TS_US = (2**63 - 1) // _US  # a larger microsecond time does not fit int64 nanoseconds


def _check_row(kind: str, r: list[str]) -> None:
    """Raise ValueError naming the first field of row ``r`` the converters cannot use:
    a timestamp that is not a microsecond count within int64 nanoseconds, or a price or amount
    that is not a finite, non-negative number."""
    for col, name in ((2, "timestamp"), (3, "local_timestamp")):
        t = int(r[col])
        if not 0 <= t <= _MAX_TS_US:
            raise ValueError(f"{name}: got {r[col]!r}, expected microseconds since 1970 (0..{_MAX_TS_US})")
    if kind == "incremental_book_L2" and r[4] not in ("true", "false"):
        raise ValueError(f"is_snapshot: got {r[4]!r}, expected 'true' or 'false'")
    cols = [i for i in range(4, len(r)) if r[i] != ""] if kind == "book_snapshot" else [6, 7]
    for i in cols:
        x = float(r[i])
        if not (math.isfinite(x) and x >= 0):
            raise ValueError(f"column {i + 1}: got {r[i]!r}, expected a finite number >= 0")


def convert_tardis_file(path: str | PathLike[str]) -> np.ndarray:
    """Convert one Tardis CSV file into an event array (in file order, not re-sorted).

    Args:
        path: a ``.csv`` or ``.csv.gz`` file of a supported data type.

    Returns:
        A ``MARKET_EVENT_DTYPE`` array.

    Raises:
        DataFileError: unknown header, wrong column count, non-numeric field, bad side,
            corrupt gzip.
    """
    p = str(Path(path))
    rows: list[tuple[int, list[str]]] = []
    line_no = 1
    try:
        with _open_binary(p) as fh:
            reader = csv.reader(_decoded_lines(p, fh))
            try:
                header = next(reader)
            except StopIteration:
                raise DataFileError(p, 1, "empty file: expected a Tardis CSV header") from None
            kind = tardis_kind(header)
            if kind is None:
                raise DataFileError(p, 1, f"unknown Tardis CSV header: {','.join(header)[:120]}")
            width = len(header)
            while True:
                # physical line where this row starts: a quoted field may span lines
                line_no = reader.line_num + 1
                try:
                    row = next(reader)
                except StopIteration:
                    break
                except csv.Error as exc:
                    raise DataFileError(p, line_no, f"malformed CSV ({exc})") from None
                if not row:
                    continue
                if len(row) != width:
                    raise DataFileError(p, line_no, f"expected {width} columns, got {len(row)}")
                rows.append((line_no, row))
    except (EOFError, OSError, zlib.error, UnicodeDecodeError, csv.Error) as exc:
        raise DataFileError(p, line_no, f"truncated or corrupt file ({exc})") from exc
    failure: Exception | None = None
    try:
        if kind == "incremental_book_L2":
            out = _book_rows(rows, p)
        elif kind == "trades":
            out = _trade_rows(rows, p)
        else:
            out = _snapshot_rows([c.strip() for c in header], rows)
        values = np.concatenate((out["price"], out["qty"]))
        if np.isfinite(values).all() and (values >= 0).all():
            return out
    except (ValueError, OverflowError) as exc:
        failure = exc
    # find the offending row for the message (rare path: re-parse row by row)
    for ln, r in rows:
        try:
            _check_row(kind, r)
        except ValueError as exc:
            raise DataFileError(p, ln, f"bad value: {exc}") from None
    if failure is not None:
        raise failure  # no row explains it: our bug, not the file's
    raise DataFileError(p, 1, "a price or amount is negative or not finite")


def convert_tardis(paths: Sequence[str | PathLike[str]],
                   on_file: Callable[[], None] | None = None) -> np.ndarray:
    """Convert and merge several Tardis CSV files (book and trades) by exchange time.

    Ties keep the order of ``paths`` (list book files before trade files to have book updates
    first at equal timestamps).

    Args:
        paths: Tardis CSV files.

    Returns:
        One event array sorted by ``exch_ts``.

    Raises:
        DataFileError: see ``convert_tardis_file``.
    """
    parts = []
    for p in paths:
        parts.append(convert_tardis_file(p))
        if on_file is not None:
            on_file()
    return concat_sorted(parts)
