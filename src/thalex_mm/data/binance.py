"""Converter for raw Binance USDⓈ-M futures captures (hftbacktest collector format).

File format (see ``/work/shared/data/binance_usdm_btcusdt_perp_l2_trades/SOURCE.md``): gzip
text, one message per line, ``<local_receive_ts> <json>``. ``local_receive_ts`` is µs since the
epoch in older captures and ns in newer ones (detected per line by magnitude). The JSON is a
combined-stream message ``{"stream": ..., "data": {...}}`` or, at a session start, a REST depth
snapshot ``{"lastUpdateId", "E", "T", "bids", "asks"}``.

The book is synchronised the Binance way: diffs are buffered until the snapshot arrives; diffs
with ``u < lastUpdateId`` are dropped; the first applied diff must have
``U <= lastUpdateId <= u`` (it may precede the snapshot line in file order); after that every
diff must have ``pu`` equal to the previous ``u``. Several files of one session (e.g.
``20230404`` + ``20230405``) are read in the order given as one continuous stream.

Exchange timestamps: depth and trades use the transaction time ``T``; markPrice uses the event
time ``E``; the snapshot uses its ``T`` (moved back to the first applied diff's ``T`` if that is
earlier, so the snapshot never sorts after its first diff). Local timestamps are kept as
recorded (converted to ns).

Mapping to ``MARKET_EVENT_DTYPE``:

- snapshot → one ``BOOK_CLEAR`` plus one ``BOOK_LEVEL`` per snapshot level;
- ``depth`` → one ``BOOK_LEVEL`` per ``[price, qty]`` (absolute size; ``0`` deletes);
- ``trade`` → ``TRADE`` with side ``-1`` if ``m`` (buyer is maker, the aggressor sold) else
  ``+1``;
- ``markPrice`` → ``MARK`` (``p``), ``INDEX`` (``i``) and ``FUNDING_RATE`` (``r``);
- ``bookTicker`` → two ``BEST_BID_ASK`` rows when ``include_book_ticker`` (skipped by default);
- other streams are ignored.

Sizes are in the **base currency** (BTC, ETH). USDⓈ-M captures already are. COIN-M (inverse)
captures (symbols ``<PAIR>_PERP`` or ``<PAIR>_<YYMMDD>``, e.g. ``ETHUSD_PERP``) quote sizes in
contracts of a fixed USD value (:func:`coinm_contract_usd`: 100 USD for BTCUSD, 10 USD for
every other pair, per Binance's contract specifications); each row's size becomes
``contracts · contract_usd / price`` at that row's own price, so an ETHUSD_PERP book compares
with an ETHUSDT one.
"""

from __future__ import annotations

import gzip
import re
import zlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path

import numpy as np
import orjson

from thalex_mm.data.events import EventKind, empty_events, events_from_columns
from thalex_mm.errors import DataFileError

__all__ = [
    "BinanceStats",
    "coinm_contract_usd",
    "convert_binance",
    "median_clock_offset_ns",
    "read_binance_session",
]

_NS_THRESHOLD = 10**17  # local timestamps above this are ns, below are µs
_MS = 1_000_000  # ns per ms

_CLEAR = int(EventKind.BOOK_CLEAR)
_LEVEL = int(EventKind.BOOK_LEVEL)
_TRADE = int(EventKind.TRADE)
_MARK = int(EventKind.MARK)
_INDEX = int(EventKind.INDEX)
_FUNDING = int(EventKind.FUNDING_RATE)
_BBA = int(EventKind.BEST_BID_ASK)


@dataclass(slots=True, kw_only=True)
class BinanceStats:
    """Counts from one converted session (all raw counts, before synchronisation).

    Attributes:
        lines: lines read.
        depth_msgs: depth diff messages read.
        depth_levels: ``[price, qty]`` entries in all depth diffs read.
        depth_levels_dropped: entries in diffs dropped because they precede the snapshot
            (``u < lastUpdateId``).
        snapshot_levels: levels in the applied REST snapshot(s).
        snapshots: REST snapshots seen (a snapshot while already in sync is ignored).
        trades: trade messages.
        mark_msgs: markPrice messages.
        book_ticker_msgs: bookTicker messages.
    """

    lines: int = 0
    depth_msgs: int = 0
    depth_levels: int = 0
    depth_levels_dropped: int = 0
    snapshot_levels: int = 0
    snapshots: int = 0
    trades: int = 0
    mark_msgs: int = 0
    book_ticker_msgs: int = 0


def _require(d: dict, *keys: str) -> None:
    """Raise ``KeyError`` naming the first of ``keys`` missing from ``d``."""
    for key in keys:
        if key not in d:
            raise KeyError(key)


class _Columns:
    """Growing event columns (plain lists: appends are the fast path in CPython)."""

    __slots__ = ("exch", "kind", "local", "price", "qty", "side")

    def __init__(self) -> None:
        self.kind: list[int] = []
        self.side: list[int] = []
        self.exch: list[int] = []
        self.local: list[int] = []
        self.price: list[float] = []
        self.qty: list[float] = []

    def add(self, kind: int, side: int, exch: int, local: int, price: float, qty: float) -> None:
        self.kind.append(kind)
        self.side.append(side)
        self.exch.append(exch)
        self.local.append(local)
        self.price.append(price)
        self.qty.append(qty)

    def add_levels(self, side: int, exch: int, local: int, levels: list) -> None:
        n = len(levels)
        if not n:
            return
        self.kind.extend([_LEVEL] * n)
        self.side.extend([side] * n)
        self.exch.extend([exch] * n)
        self.local.extend([local] * n)
        self.price.extend([float(lv[0]) for lv in levels])
        self.qty.extend([float(lv[1]) for lv in levels])

    def to_array(self) -> np.ndarray:
        if not self.kind:
            return empty_events()
        return events_from_columns(
            np.array(self.kind, dtype=np.uint8),
            np.array(self.side, dtype=np.int8),
            np.array(self.exch, dtype=np.int64),
            np.array(self.local, dtype=np.int64),
            np.array(self.price, dtype=np.float64),
            np.array(self.qty, dtype=np.float64),
        )


class _Session:
    """Book synchronisation state carried across the files of one session."""

    def __init__(self, cols: _Columns, stats: BinanceStats, include_book_ticker: bool) -> None:
        self.cols = cols
        self.stats = stats
        self.include_book_ticker = include_book_ticker
        self.synced = False
        self.last_u: int | None = None
        self.snapshot: tuple[str, int, int, dict] | None = None  # path, line, local_ns, msg
        self.symbol: str | None = None  # the "s" field of the first stream message
        self.buffer: list[tuple[str, int, int, dict]] = []  # diffs waiting for the snapshot

    # -- depth -------------------------------------------------------------------------
    def _apply_diff(self, path: str, line_no: int, local_ns: int, d: dict) -> None:
        pu = d["pu"]
        if pu != self.last_u:
            raise DataFileError(
                path, line_no, f"depth sequence gap: pu={pu} but previous u={self.last_u}"
            )
        self.last_u = d["u"]
        exch = d["T"] * _MS
        self.cols.add_levels(1, exch, local_ns, d["b"])
        self.cols.add_levels(-1, exch, local_ns, d["a"])

    def _emit_snapshot(self, first_diff_t_ms: int) -> None:
        assert self.snapshot is not None
        _path, _line, local_ns, snap = self.snapshot
        exch = min(snap["T"], first_diff_t_ms) * _MS
        self.cols.add(_CLEAR, 0, exch, local_ns, 0.0, 0.0)
        self.cols.add_levels(1, exch, local_ns, snap["bids"])
        self.cols.add_levels(-1, exch, local_ns, snap["asks"])
        self.stats.snapshot_levels += len(snap["bids"]) + len(snap["asks"])

    def _try_sync(self, path: str, line_no: int, local_ns: int, d: dict | None) -> None:
        """Feed one diff (or ``None`` when the snapshot just arrived) while not in sync."""
        if d is not None:
            self.buffer.append((path, line_no, local_ns, d))
        if self.snapshot is None:
            return
        lid = self.snapshot[3]["lastUpdateId"]
        keep = []
        for item in self.buffer:
            if item[3]["u"] < lid:
                self.stats.depth_levels_dropped += len(item[3]["b"]) + len(item[3]["a"])
            else:
                keep.append(item)
        self.buffer = keep
        if not keep:
            return
        fpath, fline, _fl, first = keep[0]
        if not first["U"] <= lid <= first["u"]:
            raise DataFileError(
                fpath,
                fline,
                f"cannot synchronise with snapshot lastUpdateId={lid}: first diff after it has "
                f"U={first['U']} u={first['u']} (expected U <= lastUpdateId <= u)",
            )
        self._emit_snapshot(first["T"])
        self.synced = True
        self.last_u = first["pu"]
        for bpath, bline, blocal, bd in keep:
            try:
                self._apply_diff(bpath, bline, blocal, bd)
            except (KeyError, ValueError, TypeError, IndexError) as exc:
                raise DataFileError(bpath, bline, f"bad depth diff: {exc!r}") from None
        self.buffer = []

    def depth(self, path: str, line_no: int, local_ns: int, d: dict) -> None:
        self.stats.depth_msgs += 1
        self.stats.depth_levels += len(d["b"]) + len(d["a"])
        if self.synced:
            self._apply_diff(path, line_no, local_ns, d)
        else:
            _require(d, "U", "u", "pu", "T", "b", "a")  # report a bad diff at its own line
            self._try_sync(path, line_no, local_ns, d)

    def rest_snapshot(self, path: str, line_no: int, local_ns: int, msg: dict) -> None:
        self.stats.snapshots += 1
        if self.synced:
            return  # the diff chain is continuous (pu-checked); a later snapshot adds nothing
        _require(msg, "lastUpdateId", "T", "bids", "asks")
        self.snapshot = (path, line_no, local_ns, msg)
        self._try_sync(path, line_no, local_ns, None)

    # -- other streams -----------------------------------------------------------------
    def trade(self, local_ns: int, d: dict) -> None:
        self.stats.trades += 1
        side = -1 if d["m"] else 1
        self.cols.add(_TRADE, side, d["T"] * _MS, local_ns, float(d["p"]), float(d["q"]))

    def mark(self, local_ns: int, d: dict) -> None:
        self.stats.mark_msgs += 1
        exch = d["E"] * _MS
        self.cols.add(_MARK, 0, exch, local_ns, float(d["p"]), 0.0)
        self.cols.add(_INDEX, 0, exch, local_ns, float(d["i"]), 0.0)
        rate = d.get("r")
        if rate not in (None, ""):
            self.cols.add(_FUNDING, 0, exch, local_ns, float(rate), 0.0)

    def book_ticker(self, local_ns: int, d: dict) -> None:
        self.stats.book_ticker_msgs += 1
        if not self.include_book_ticker:
            return
        exch = d["T"] * _MS
        self.cols.add(_BBA, 1, exch, local_ns, float(d["b"]), float(d["B"]))
        self.cols.add(_BBA, -1, exch, local_ns, float(d["a"]), float(d["A"]))


def _iter_lines(path: str) -> Iterable[tuple[int, bytes]]:
    """Yield ``(1-based line number, raw line)``; gzip damage becomes ``DataFileError``."""
    line_no = 0
    try:
        with gzip.open(path, "rb") as fh:
            for line_no, raw in enumerate(fh, start=1):
                yield line_no, raw
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(path, line_no + 1, f"truncated or corrupt gzip stream ({exc})") from exc


def _read_file(path: str, session: _Session) -> None:
    stats = session.stats
    loads = orjson.loads
    for line_no, raw in _iter_lines(path):
        stats.lines += 1
        if not raw.strip():
            continue
        head, sep, payload = raw.partition(b" ")
        if not sep:
            raise DataFileError(path, line_no, "expected '<local_ts> <json>', found no space")
        try:
            local = int(head)
        except ValueError:
            raise DataFileError(
                path, line_no, f"local timestamp is not an integer: {head[:40]!r}"
            ) from None
        local_ns = local if local > _NS_THRESHOLD else local * 1000
        try:
            msg = loads(payload)
        except orjson.JSONDecodeError as exc:
            raise DataFileError(path, line_no, f"bad JSON: {exc}") from None
        try:
            if not isinstance(msg, dict):
                raise TypeError(f"expected a JSON object, got {type(msg).__name__}")
            stream = msg.get("stream")
            if stream is None:
                session.rest_snapshot(path, line_no, local_ns, msg)
                continue
            d = msg["data"]
            if session.symbol is None and isinstance(d, dict) and isinstance(d.get("s"), str):
                session.symbol = d["s"]
            kind = stream.partition("@")[2]
            if kind.startswith("depth"):
                session.depth(path, line_no, local_ns, d)
            elif kind == "trade":
                session.trade(local_ns, d)
            elif kind.startswith("markPrice"):
                session.mark(local_ns, d)
            elif kind == "bookTicker":
                session.book_ticker(local_ns, d)
        except DataFileError:
            raise
        except KeyError as exc:
            raise DataFileError(path, line_no, f"missing field {exc}") from None
        except (ValueError, TypeError, IndexError) as exc:
            raise DataFileError(path, line_no, f"bad value: {exc}") from None


def read_binance_session(
    paths: Sequence[str | PathLike[str]], *, include_book_ticker: bool = False,
    on_file: Callable[[], None] | None = None,
) -> tuple[np.ndarray, BinanceStats]:
    """Convert the files of one recording session into a sorted event array.

    Args:
        paths: the session's files in time order (the first must contain the REST snapshot,
            later ones continue the diff chain).
        include_book_ticker: also emit ``BEST_BID_ASK`` rows from ``bookTicker``.

    Returns:
        ``(events, stats)``: events sorted by ``exch_ts`` (stable), and raw counts.

    Raises:
        DataFileError: a line is corrupt (bad gzip, bad JSON, missing field, non-numeric value,
            gap in the ``pu`` chain), or the session never synchronises with a snapshot.
    """
    if not paths:
        raise ValueError("read_binance_session: paths is empty")
    cols = _Columns()
    stats = BinanceStats()
    session = _Session(cols, stats, include_book_ticker)
    for p in paths:
        _read_file(str(Path(p)), session)
        if on_file is not None:
            on_file()
    if not session.synced:
        last = str(Path(paths[-1]))
        if session.snapshot is None:
            reason = "no REST depth snapshot found: cannot build the book"
        else:
            reason = "no depth diff reaches the snapshot's lastUpdateId: cannot build the book"
        raise DataFileError(last, 0, reason)
    arr = cols.to_array()
    contract_usd = coinm_contract_usd(session.symbol or "")
    if contract_usd is not None:
        _contracts_to_base(arr, contract_usd)
    order = np.argsort(arr["exch_ts"], kind="stable")
    return arr[order], stats


_COINM = re.compile(r"^([A-Z0-9]+)USD_(PERP|\d{6})$")


def coinm_contract_usd(symbol: str) -> float | None:
    """USD value of one contract of a Binance COIN-M symbol, or None for any other symbol.

    ``BTCUSD_PERP`` / ``BTCUSD_240927``: 100 USD; every other COIN-M pair (``ETHUSD_PERP``,
    ...): 10 USD (Binance COIN-M contract specifications). USDⓈ-M symbols (``BTCUSDT``) are
    sized in the base currency: None.
    """
    m = _COINM.match(symbol.strip().upper())
    if m is None:
        return None
    return 100.0 if m.group(1) == "BTC" else 10.0


def _contracts_to_base(arr: np.ndarray, contract_usd: float) -> None:
    """In place: sizes of book, trade and best-bid/ask rows from contracts to base currency."""
    sized = np.isin(arr["kind"], (_LEVEL, _TRADE, _BBA)) & (arr["price"] > 0)
    arr["qty"][sized] = arr["qty"][sized] * contract_usd / arr["price"][sized]


def convert_binance(
    paths: Sequence[str | PathLike[str]], *, include_book_ticker: bool = False,
    on_file: Callable[[], None] | None = None,
) -> np.ndarray:
    """Convert one Binance session; see ``read_binance_session`` (events only)."""
    return read_binance_session(paths, include_book_ticker=include_book_ticker, on_file=on_file)[0]


def median_clock_offset_ns(events: np.ndarray) -> int:
    """Median of ``local_ts - exch_ts`` over all events, ns.

    Positive means the local clock is ahead of the exchange (or the feed is late); subtract it
    from ``local_ts`` to put both clocks on one scale and model latency separately.
    """
    if events.size == 0:
        return 0
    return int(np.median(events["local_ts"] - events["exch_ts"]))
