"""load_events: format detection, conversion once, cache reuse and invalidation."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.data import (
    DataFormat,
    RecordingWriter,
    cache_path_for,
    default_cache_dir,
    detect_format,
    load_events,
)
from thalex_mm.data import cache as cache_mod
from thalex_mm.errors import DataFileError

TARDIS_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"


def _binance(path: Path) -> Path:
    t0 = 1_700_000_000_000
    snap = {
        "lastUpdateId": 10,
        "E": t0,
        "T": t0,
        "bids": [["99.0", "1.0"]],
        "asks": [["101.0", "1.0"]],
    }
    diff = {"E": t0 + 1, "T": t0 + 1, "U": 5, "u": 12, "pu": 4, "b": [["100.0", "1.0"]], "a": []}
    lines = [
        f"{t0 * 1000} {json.dumps(snap)}",
        f"{t0 * 1000 + 5} {json.dumps({'stream': 'btcusdt@depth@0ms', 'data': diff})}",
    ]
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def _tardis(path: Path) -> Path:
    path.write_text(TARDIS_HEADER + "x,S,1000,1001,true,bid,10,1\nx,S,1000,1001,true,ask,11,2\n")
    return path


def _recording(directory: Path) -> Path:
    with RecordingWriter(directory) as w:
        w.write(5, "price_index.BTCUSD", {"price": 1.5, "timestamp": 0.000002})
    return w.paths[0]


def test_detect_format_when_each_kind_given_names_it(tmp_path: Path) -> None:
    assert detect_format(_binance(tmp_path / "b.dat.gz")) is DataFormat.BINANCE_RAW
    assert detect_format(_tardis(tmp_path / "t.csv")) is DataFormat.TARDIS_CSV
    assert detect_format(_recording(tmp_path / "rec")) is DataFormat.RECORDING
    (tmp_path / "junk.txt").write_text("hello")
    with pytest.raises(DataFileError, match="unknown data format"):
        detect_format(tmp_path / "junk.txt")


def test_load_events_when_loaded_twice_converts_once(tmp_path: Path, monkeypatch) -> None:
    calls = []
    real = cache_mod._convert

    def counting(*a, **k):
        calls.append(1)
        return real(*a, **k)

    monkeypatch.setattr(cache_mod, "_convert", counting)
    files = [_binance(tmp_path / "b.gz"), _tardis(tmp_path / "t.csv"), _recording(tmp_path / "r")]
    cdir = tmp_path / "cache"
    first = load_events(files, cdir)
    assert len(calls) == 1
    assert cache_path_for(files, cdir, include_book_ticker=False, instrument=None).is_file()
    second = load_events(files, cdir)
    assert len(calls) == 1
    assert np.array_equal(first, second)
    # binance: clear + 2 snapshot levels + 1 diff level; tardis: clear + 2 levels; recording: 1
    assert len(first) == 4 + 3 + 1
    # a changed file (new mtime) is converted again
    st = files[1].stat()
    os.utime(files[1], ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    load_events(files, cdir)
    assert len(calls) == 2
    # a different option is a different cache entry
    load_events(files, cdir, include_book_ticker=True)
    assert len(calls) == 3
    # use_cache=False always converts
    load_events(files, cdir, use_cache=False)
    assert len(calls) == 4


def test_load_events_when_cache_entry_damaged_reconverts(tmp_path: Path) -> None:
    f = _tardis(tmp_path / "t.csv")
    cdir = tmp_path / "c"
    a = load_events(f, cdir)
    target = cache_path_for([f], cdir, include_book_ticker=False, instrument=None)
    target.write_bytes(b"garbage")
    b = load_events(f, cdir)
    assert np.array_equal(a, b)
    assert target.stat().st_size > 100


def test_default_cache_dir_when_env_set_uses_it(monkeypatch, tmp_path: Path) -> None:
    monkeypatch.setenv("THALEX_MM_CACHE_DIR", str(tmp_path))
    assert default_cache_dir() == tmp_path
    monkeypatch.delenv("THALEX_MM_CACHE_DIR")
    assert default_cache_dir() == Path.home() / ".cache" / "thalex-mm"


def test_load_events_when_file_missing_raises(tmp_path: Path) -> None:
    with pytest.raises(DataFileError, match="file not found"):
        load_events([tmp_path / "nope.gz"], tmp_path)
