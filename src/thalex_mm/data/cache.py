"""Load market data files of any supported format, converting once into a columnar cache.

``load_events`` detects each file's format from its first bytes:

- Binance raw capture (gzip, lines ``<local_ts> {json}``) → ``thalex_mm.data.binance``; all
  Binance files passed together form ONE session, in the order given (load two sessions with
  two calls: their depth sequences do not join);
- Tardis.dev CSV (``exchange,symbol,...`` header, plain or gzip) → ``thalex_mm.data.tardis``;
- thalex-mm recording (gzip, lines ``{"ts": ...}``) → ``thalex_mm.data.recording``.

The converted array is stored as ``events-<key>.npz`` in the cache directory
(``cache_dir`` argument, else ``$THALEX_MM_CACHE_DIR``, else ``~/.cache/thalex-mm``). The key
hashes the converter version, the options and each file's absolute path, size and mtime, so a
changed file or converter is converted again.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
import tempfile
import zlib
from collections.abc import Callable, Sequence
from enum import StrEnum
from os import PathLike
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from thalex_mm.data.binance import convert_binance
from thalex_mm.data.events import MARKET_EVENT_DTYPE, concat_sorted
from thalex_mm.data.recording import read_recording
from thalex_mm.data.tardis import convert_tardis
from thalex_mm.data.validation import validate_events
from thalex_mm.errors import DataFileError

__all__ = [
    "CONVERTER_VERSION",
    "DataFormat",
    "cache_path_for",
    "default_cache_dir",
    "detect_format",
    "load_events",
]

#: Bump when any converter's output changes, to invalidate old cache entries.
CONVERTER_VERSION = 2  # 2: COIN-M contract sizes converted to the base currency

_BINANCE_RE = re.compile(rb"^\d+ \{")


class DataFormat(StrEnum):
    """Market data file formats ``load_events`` understands."""

    BINANCE_RAW = "binance_raw"
    TARDIS_CSV = "tardis_csv"
    RECORDING = "recording"


def _head(path: Path, n: int = 256) -> bytes:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    try:
        if magic == b"\x1f\x8b":
            with gzip.open(path, "rb") as gz:
                return gz.read(n)
        with open(path, "rb") as fh:
            return fh.read(n)
    except (EOFError, OSError, zlib.error) as exc:
        raise DataFileError(str(path), 1, f"cannot read the start of the file ({exc})") from exc


def detect_format(path: str | PathLike[str]) -> DataFormat:
    """Detect a data file's format from its first bytes.

    Raises:
        DataFileError: unreadable or unknown format.
    """
    p = Path(path)
    try:
        head = _head(p).lstrip(b"\xef\xbb\xbf")
    except FileNotFoundError:
        raise DataFileError(str(p), 0, "file not found") from None
    if head.startswith(b'{"ts":'):
        return DataFormat.RECORDING
    if _BINANCE_RE.match(head):
        return DataFormat.BINANCE_RAW
    if head.startswith(b"exchange,symbol,"):
        return DataFormat.TARDIS_CSV
    raise DataFileError(
        str(p),
        1,
        "unknown data format: expected a Binance raw capture, a Tardis CSV or a "
        f"thalex-mm recording, file starts with {head[:40]!r}",
    )


def default_cache_dir() -> Path:
    """``$THALEX_MM_CACHE_DIR`` if set, else ``~/.cache/thalex-mm``."""
    env = os.environ.get("THALEX_MM_CACHE_DIR")
    return Path(env) if env else Path.home() / ".cache" / "thalex-mm"


def cache_path_for(
    paths: Sequence[str | PathLike[str]],
    cache_dir: str | PathLike[str] | None = None,
    **options: object,
) -> Path:
    """The cache file ``load_events`` uses for these files and options.

    Args:
        paths: the data files, in load order.
        cache_dir: cache directory (see ``default_cache_dir``).
        **options: converter options (part of the key).
    """
    files = []
    for p in paths:
        ap = Path(p).resolve()
        st = ap.stat()
        files.append([str(ap), st.st_size, st.st_mtime_ns])
    blob = orjson.dumps(
        {"v": CONVERTER_VERSION, "opts": options, "files": files}, option=orjson.OPT_SORT_KEYS
    )
    key = hashlib.sha256(blob).hexdigest()[:32]
    base = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return base / f"events-{key}.npz"


def _convert(
    paths: Sequence[Path], *, include_book_ticker: bool, instrument: str | None,
    on_file: Callable[[], None] | None = None,
) -> np.ndarray:
    groups: dict[DataFormat, list[Path]] = {}
    for p in paths:
        groups.setdefault(detect_format(p), []).append(p)
    parts = []
    for fmt, files in groups.items():
        if fmt is DataFormat.BINANCE_RAW:
            parts.append(convert_binance(files, include_book_ticker=include_book_ticker,
                                         on_file=on_file))
        elif fmt is DataFormat.TARDIS_CSV:
            parts.append(convert_tardis(files, on_file=on_file))
        else:
            parts.append(read_recording(files, instrument=instrument, on_file=on_file))
    return parts[0] if len(parts) == 1 else concat_sorted(parts)


def _save(path: Path, arr: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=".npz", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            np.savez(fh, events=arr)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _load(path: Path) -> np.ndarray | None:
    try:
        with np.load(path, allow_pickle=False) as z:
            arr = z["events"]
    except (OSError, KeyError, ValueError):
        return None  # missing or damaged cache entry: convert again
    return arr if arr.dtype == MARKET_EVENT_DTYPE else None


def load_events(
    paths: Sequence[str | PathLike[str]] | str | PathLike[str],
    cache_dir: str | PathLike[str] | None = None,
    *,
    use_cache: bool = True,
    include_book_ticker: bool = False,
    instrument: str | None = None,
    progress: Callable[..., Any] | None = None,
) -> np.ndarray:
    """Load market events from data files, through the cache.

    Args:
        paths: one file or several (a Binance session's files in time order).
        cache_dir: cache directory (see ``default_cache_dir``).
        use_cache: ``False`` converts without reading or writing the cache.
        include_book_ticker: Binance only: keep ``bookTicker`` as ``BEST_BID_ASK`` rows.
        instrument: recordings only: keep this instrument's channels.
        progress: makes a progress reporter ``progress(title, total, unit="files")`` (e.g.
            ``thalex_mm.progress.Progress``), used only when files are converted (a cache
            hit is instant); None = silent.

    Returns:
        A validated ``MARKET_EVENT_DTYPE`` array sorted by ``exch_ts``.

    Raises:
        DataFileError: a file is missing, of unknown format or corrupt.
        ValueError: the converted events break a rule of ``validate_events``.
    """
    if isinstance(paths, (str, PathLike)):
        paths = [paths]
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("load_events: no paths given")
    for f in files:
        if not f.is_file():
            raise DataFileError(str(f), 0, "file not found")
    opts = {"include_book_ticker": include_book_ticker, "instrument": instrument}
    target = cache_path_for(files, cache_dir, **opts) if use_cache else None
    if target is not None and target.exists():
        cached = _load(target)
        if cached is not None:
            return cached
    bar = progress("convert", len(files), unit="files") if progress is not None else None
    try:
        arr = _convert(files, include_book_ticker=include_book_ticker, instrument=instrument,
                       on_file=None if bar is None else bar.advance)
    finally:
        if bar is not None:
            bar.close()
    validate_events(arr)
    if target is not None:
        _save(target, arr)
    return arr
