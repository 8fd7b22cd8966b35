"""The thalex-mm recording format (written by ``thalex-mm record``) and its converter.

Format: a directory of files named ``<prefix>-<first_ts_ns>[-<n>].jsonl.gz``. Each file is a
*multi-member gzip* stream (``zcat`` reads it); every member holds whole lines, one record per
line::

    {"ts": <local receive time, ns>, "ch": "<channel_name>", "msg": <notification payload>}

plus ``"snap": true`` when the Thalex frame carried ``"snapshot": true``. ``msg`` is the value of
the frame's ``notification`` exactly as received (thalex_protocol.md §4.3).

Why this shape: the writer buffers records and appends one complete gzip member per flush, so
a crash can only truncate the *last* member; the reader decompresses member by member, keeps
every complete line of a truncated last member and silently drops the partial line. Each new
writer starts a new file (never rewrites an old one) and files rotate by compressed size or by
recorded time span.

Thalex payloads → ``MARKET_EVENT_DTYPE`` (``read_recording``):

- ``book.<instrument>.…``: ``"snap"`` → ``BOOK_CLEAR`` first; ``bid_changes`` /
  ``ask_changes`` ``[price, amount, outright_amount]`` → ``BOOK_LEVEL`` (amount, 0 = delete) at
  ``time``; ``trades`` ``[price, amount, direction, timestamp, implied_taker]`` → ``TRADE`` at
  ``timestamp`` with side from ``direction`` (skipped in snapshots: those are old trades).
- ``ticker.<instrument>.…``: ``mark_price`` → ``MARK``, ``index`` → ``INDEX``,
  ``funding_rate`` → ``FUNDING_RATE`` at ``mark_timestamp``; best bid/ask → ``BEST_BID_ASK``.
- ``price_index.<underlying>``: ``price`` → ``INDEX`` at ``timestamp``.
- ``lwt.<instrument>.…``: ``m`` → ``MARK``; ``b``/``a`` → ``BEST_BID_ASK`` (no exchange time in
  the payload: ``exch_ts = local_ts``).
- other channels are ignored. Exchange times are seconds (float) on the wire, ns here.

This module reads the few payload fields it needs itself; it can switch to the protocol codec
in ``thalex_mm.protocol`` once that exists.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from os import PathLike
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import orjson

from thalex_mm.data.events import EventKind, empty_events, events_from_columns
from thalex_mm.errors import DataFileError

__all__ = [
    "RECORDING_SUFFIX",
    "Record",
    "RecordingReader",
    "RecordingWriter",
    "read_recording",
]

RECORDING_SUFFIX = ".jsonl.gz"
_READ_CHUNK = 1 << 16
_SIDES = {"buy": 1, "sell": -1}


@dataclass(frozen=True, slots=True, kw_only=True)
class Record:
    """One recorded notification.

    Attributes:
        ts_ns: local receive time, ns since the epoch.
        channel: Thalex channel name.
        msg: the frame's ``notification`` payload.
        snapshot: the frame had ``"snapshot": true``.
    """

    ts_ns: int
    channel: str
    msg: Any
    snapshot: bool = False


class RecordingWriter:
    """Append recorded notifications to rotating multi-member gzip files.

    The writer never reads a clock: rotation by time uses the timestamps it is given.

    Args:
        directory: where files go (created if missing).
        rotate_bytes: start a new file once the current one reaches this many compressed bytes.
        rotate_s: start a new file once a record is this many seconds (by ``ts_ns``) after the
            current file's first record; ``None`` = never.
        flush_records: write a gzip member after this many buffered records.
        flush_s: write a gzip member once the buffered records span this many seconds.
        prefix: file name prefix.
        compresslevel: gzip level 1–9.
    """

    def __init__(
        self,
        directory: str | PathLike[str],
        *,
        rotate_bytes: int = 16 << 20,
        rotate_s: float | None = 3600.0,
        flush_records: int = 1000,
        flush_s: float = 1.0,
        prefix: str = "thalex",
        compresslevel: int = 6,
    ) -> None:
        if rotate_bytes <= 0 or flush_records <= 0:
            raise ValueError("rotate_bytes and flush_records must be > 0")
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.rotate_bytes = rotate_bytes
        self.rotate_ns = None if rotate_s is None else int(rotate_s * 1e9)
        self.flush_records = flush_records
        self.flush_ns = int(flush_s * 1e9)
        self.prefix = prefix
        self.compresslevel = compresslevel
        self.paths: list[Path] = []
        self._fh: BinaryIO | None = None
        self._file_bytes = 0
        self._file_first_ts: int | None = None
        self._buf: list[bytes] = []
        self._buf_first_ts: int | None = None

    def __enter__(self) -> RecordingWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, ts_ns: int) -> None:
        n = 0
        while True:
            name = f"{self.prefix}-{ts_ns}{'' if n == 0 else f'-{n}'}{RECORDING_SUFFIX}"
            path = self.directory / name
            try:
                self._fh = open(path, "xb")  # noqa: SIM115 - kept open across calls
                break
            except FileExistsError:
                n += 1
        self.paths.append(path)
        self._file_bytes = 0
        self._file_first_ts = ts_ns

    def write(self, ts_ns: int, channel: str, msg: Any, *, snapshot: bool = False) -> None:
        """Buffer one record.

        Args:
            ts_ns: local receive time, ns.
            channel: the frame's ``channel_name``.
            msg: the frame's ``notification`` (any JSON value).
            snapshot: the frame's ``snapshot`` flag.
        """
        if (
            self._fh is not None
            and self.rotate_ns is not None
            and self._file_first_ts is not None
            and ts_ns - self._file_first_ts >= self.rotate_ns
        ):
            self._rotate()
        rec: dict[str, Any] = {"ts": int(ts_ns), "ch": channel, "msg": msg}
        if snapshot:
            rec["snap"] = True
        self._buf.append(orjson.dumps(rec) + b"\n")
        if self._buf_first_ts is None:
            self._buf_first_ts = int(ts_ns)
        if len(self._buf) >= self.flush_records or ts_ns - self._buf_first_ts >= self.flush_ns:
            self.flush()

    def write_frame(self, ts_ns: int, frame: Mapping[str, Any] | bytes | str) -> None:
        """Buffer one raw Thalex notification frame ``{"channel_name", "notification", ...}``."""
        if not isinstance(frame, Mapping):
            frame = orjson.loads(frame)
        self.write(
            ts_ns,
            frame["channel_name"],
            frame["notification"],
            snapshot=bool(frame.get("snapshot", False)),
        )

    def flush(self) -> None:
        """Append the buffered records as one gzip member and flush it to the OS."""
        if not self._buf:
            return
        if self._fh is None:
            assert self._buf_first_ts is not None
            self._open(self._buf_first_ts)
        assert self._fh is not None
        member = gzip.compress(b"".join(self._buf), compresslevel=self.compresslevel, mtime=0)
        self._fh.write(member)
        self._fh.flush()
        self._file_bytes += len(member)
        self._buf.clear()
        self._buf_first_ts = None
        if self._file_bytes >= self.rotate_bytes:
            self._close_file()

    def _rotate(self) -> None:
        self.flush()
        self._close_file()

    def _close_file(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
            self._file_first_ts = None

    def close(self) -> None:
        """Flush and close; idempotent."""
        self.flush()
        self._close_file()


class RecordingReader:
    """Iterate ``(line_no, Record)`` over one recording file, tolerating a truncated tail.

    After iteration, ``truncated`` tells whether the last gzip member or line was cut short.

    Raises (while iterating):
        DataFileError: a complete line is not a valid record, or the gzip data is corrupt.
    """

    def __init__(self, path: str | PathLike[str]) -> None:
        self.path = str(Path(path))
        self.truncated = False

    def _decompressed(self) -> Iterator[bytes]:
        d = zlib.decompressobj(wbits=31)
        started = False
        with open(self.path, "rb") as fh:
            while chunk := fh.read(_READ_CHUNK):
                buf = chunk
                while buf:
                    try:
                        out = d.decompress(buf)
                    except zlib.error as exc:
                        raise DataFileError(self.path, 0, f"corrupt gzip data ({exc})") from None
                    started = True
                    if out:
                        yield out
                    if d.eof:
                        buf = d.unused_data
                        d = zlib.decompressobj(wbits=31)
                        started = False
                    else:
                        buf = b""
        if started:
            self.truncated = True
            tail = d.flush()
            if tail:
                yield tail

    def __iter__(self) -> Iterator[tuple[int, Record]]:
        line_no = 0
        pending = b""
        for out in self._decompressed():
            lines = (pending + out).split(b"\n")
            pending = lines.pop()
            for raw in lines:
                line_no += 1
                if raw.strip():
                    yield line_no, self._parse(line_no, raw)
        if pending.strip():
            self.truncated = True  # a partial last line: the writer crashed mid-member

    def _parse(self, line_no: int, raw: bytes) -> Record:
        try:
            rec = orjson.loads(raw)
            return Record(
                ts_ns=int(rec["ts"]),
                channel=str(rec["ch"]),
                msg=rec["msg"],
                snapshot=bool(rec.get("snap", False)),
            )
        except orjson.JSONDecodeError as exc:
            raise DataFileError(self.path, line_no, f"bad JSON: {exc}") from None
        except KeyError as exc:
            raise DataFileError(self.path, line_no, f"record misses field {exc}") from None
        except (TypeError, ValueError) as exc:
            raise DataFileError(self.path, line_no, f"bad record: {exc}") from None


def _s_to_ns(t: float) -> int:
    return round(float(t) * 1e9)


class _Cols:
    __slots__ = ("rows",)

    def __init__(self) -> None:
        self.rows: list[tuple[int, int, int, int, float, float]] = []

    def add(self, kind: EventKind, side: int, exch: int, local: int, price: Any, qty: Any) -> None:
        self.rows.append((int(kind), side, exch, local, float(price), float(qty)))

    def to_array(self) -> np.ndarray:
        if not self.rows:
            return empty_events()
        return events_from_columns(*zip(*self.rows, strict=True))


def _convert_record(rec: Record, cols: _Cols, instrument: str | None) -> None:
    ch = rec.channel
    parts = ch.split(".")
    kind = parts[0]
    msg = rec.msg
    local = rec.ts_ns
    if kind == "price_index":
        cols.add(EventKind.INDEX, 0, _s_to_ns(msg["timestamp"]), local, msg["price"], 0.0)
        return
    if kind not in ("book", "ticker", "lwt") or (
        instrument is not None and (len(parts) < 2 or parts[1] != instrument)
    ):
        return
    if kind == "book":
        t = _s_to_ns(msg["time"])
        if rec.snapshot:
            cols.add(EventKind.BOOK_CLEAR, 0, t, local, 0.0, 0.0)
        for lv in msg.get("bid_changes") or ():
            cols.add(EventKind.BOOK_LEVEL, 1, t, local, lv[0], lv[1])
        for lv in msg.get("ask_changes") or ():
            cols.add(EventKind.BOOK_LEVEL, -1, t, local, lv[0], lv[1])
        if not rec.snapshot:
            for tr in msg.get("trades") or ():
                side = _SIDES.get(tr[2], 0)
                cols.add(EventKind.TRADE, side, _s_to_ns(tr[3]), local, tr[0], tr[1])
    elif kind == "ticker":
        t = _s_to_ns(msg["mark_timestamp"])
        cols.add(EventKind.MARK, 0, t, local, msg["mark_price"], 0.0)
        cols.add(EventKind.INDEX, 0, t, local, msg["index"], 0.0)
        if msg.get("funding_rate") is not None:
            cols.add(EventKind.FUNDING_RATE, 0, t, local, msg["funding_rate"], 0.0)
        for side, pk, ak in (
            (1, "best_bid_price", "best_bid_amount"),
            (-1, "best_ask_price", "best_ask_amount"),
        ):
            if msg.get(pk) is not None:
                cols.add(EventKind.BEST_BID_ASK, side, t, local, msg[pk], msg.get(ak) or 0.0)
    else:  # lwt
        if msg.get("m") is not None:
            cols.add(EventKind.MARK, 0, local, local, msg["m"], 0.0)
        for side, key in ((1, "b"), (-1, "a")):
            lv = msg.get(key)
            if lv:
                cols.add(EventKind.BEST_BID_ASK, side, local, local, lv[0], lv[1])


def read_recording(
    paths: Sequence[str | PathLike[str]], *, instrument: str | None = None,
    on_file: Callable[[], None] | None = None,
) -> np.ndarray:
    """Convert recording files into one event array sorted by ``exch_ts``.

    Args:
        paths: recording files (any order; ties keep file then line order).
        instrument: keep only ``book``/``ticker``/``lwt`` channels of this instrument
            (``price_index`` is always kept); ``None`` keeps all.

    Returns:
        A sorted ``MARKET_EVENT_DTYPE`` array.

    Raises:
        DataFileError: a record is corrupt or a payload misses a field the converter needs.
    """
    cols = _Cols()
    for p in paths:
        reader = RecordingReader(p)
        for line_no, rec in reader:
            try:
                _convert_record(rec, cols, instrument)
            except (KeyError, IndexError, TypeError, ValueError) as exc:
                raise DataFileError(
                    reader.path, line_no, f"channel {rec.channel}: bad payload ({exc!r})"
                ) from None
        if on_file is not None:
            on_file()
    arr = cols.to_array()
    return arr[np.argsort(arr["exch_ts"], kind="stable")]
