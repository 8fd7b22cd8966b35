"""The data loaders on truncated / corrupted copies of the real shared files and on random
bytes: the only error that escapes is ``DataFileError``, naming the file (and, for a bad line,
its 1-based line number). The real files stay read-only; mutated copies live in tmp dirs."""

from __future__ import annotations

import functools
import gzip
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from thalex_mm.data import load_events
from thalex_mm.errors import DataFileError

# tests here that need the shared data skip without it (fail under CI=true)
pytestmark = pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO.parent / "shared" / "data"))
BINANCE = DATA_DIR / "binance_usdm_btcusdt_perp_l2_trades" / "usdm_btcusdt_20240718.gz"
TARDIS_DIR = DATA_DIR / "tardis_csv_format_samples_btc_perps"
HEAD_LINES = 300  # a prefix of the Binance capture keeps each example fast


def _need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"shared market data not found at {path} (set THALEX_MM_DATA_DIR)")
    return path


@functools.cache
def _binance_lines() -> list[bytes]:
    with gzip.open(BINANCE, "rb") as fh:
        return [fh.readline() for _ in range(HEAD_LINES)]


@functools.cache
def _tardis_files() -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(TARDIS_DIR.glob("*.csv"))}


# Plain fixtures (not parameters of the hypothesis examples, so a failure report stays short).
@pytest.fixture(scope="module")
def binance() -> None:
    _need(BINANCE)


@pytest.fixture(scope="module")
def tardis() -> None:
    _need(TARDIS_DIR)


def _load_only_data_file_error(path: Path) -> DataFileError | None:
    """Load with the cache off; return the DataFileError (None if the file loaded)."""
    try:
        arr = load_events(path, use_cache=False)
    except DataFileError as exc:
        assert exc.path == str(path), exc
        assert str(path) in str(exc)
        assert exc.reason.strip()
        return exc
    assert arr.ndim == 1
    return None


def _write(data: bytes, name: str) -> Path:
    path = Path(tempfile.mkdtemp(prefix="fuzz-data-")) / name
    path.write_bytes(data)
    return path


def test_binance_prefix_loads_cleanly(binance):
    # the baseline the mutations start from is itself valid
    path = _write(gzip.compress(b"".join(_binance_lines())), "capture.gz")
    assert _load_only_data_file_error(path) is None


@FUZZ
@given(st.floats(min_value=0.0, max_value=0.999))
def test_binance_when_gzip_truncated_raises_data_file_error(binance, frac):
    blob = gzip.compress(b"".join(_binance_lines()))
    path = _write(blob[: int(len(blob) * frac)], "capture.gz")
    exc = _load_only_data_file_error(path)
    assert exc is not None, "a truncated gzip stream was accepted"


@FUZZ
@given(st.integers(min_value=0), st.integers(min_value=0, max_value=255), st.integers(min_value=1, max_value=8))
def test_binance_when_gzip_bytes_flipped_raises_only_data_file_error(binance, where, value, width):
    blob = bytearray(gzip.compress(b"".join(_binance_lines())))
    at = 10 + where % (len(blob) - 10)  # after the gzip header
    blob[at: at + width] = bytes([value]) * len(blob[at: at + width])
    _load_only_data_file_error(_write(bytes(blob), "capture.gz"))


@FUZZ
@given(st.integers(min_value=0, max_value=HEAD_LINES - 1), st.sampled_from(["cut", "junk", "drop_json", "bytes"]),
       st.integers(min_value=0), st.binary(min_size=1, max_size=6))
def test_binance_when_one_line_corrupted_names_file_and_line(binance, index, how, cut, junk):
    lines = list(_binance_lines())
    line = lines[index].rstrip(b"\n")
    if how == "cut":
        line = line[: cut % max(1, len(line))]
    elif how == "junk":
        at = cut % max(1, len(line))
        line = line[:at] + junk + line[at:]
    elif how == "drop_json":
        line = line.split(b" ", 1)[0] + b" {"
    else:
        line = junk
    lines[index] = line + b"\n"
    exc = _load_only_data_file_error(_write(gzip.compress(b"".join(lines)), "capture.gz"))
    if exc is not None:
        assert exc.line >= 1, f"no line number: {exc}"
        assert exc.line <= HEAD_LINES + 1, exc


@pytest.mark.parametrize("name", ["deribit_incremental_book_L2_BTC-PERPETUAL.csv",
                                  "binance-futures_book_snapshot_5_BTCUSDT.csv", "bitmex_trades_XBTUSD.csv"])
def test_tardis_when_file_truncated_mid_line_names_file_and_last_line(tardis, name):
    data = _tardis_files()[name]
    lines = data.splitlines(keepends=True)
    keep = b"".join(lines[:-1]) + lines[-1][: len(lines[-1]) // 2].rstrip(b"\n")
    path = _write(keep, name)
    exc = _load_only_data_file_error(path)
    # a half line either still parses (a shorter number) or names the last line
    if exc is not None:
        assert exc.line == len(lines), exc


@FUZZ
@given(st.sampled_from(["deribit_incremental_book_L2_BTC-PERPETUAL.csv", "bitmex_trades_XBTUSD.csv",
                        "binance-futures_book_snapshot_25_BTCUSDT.csv"]),
       st.integers(min_value=1), st.sampled_from(["cut", "junk", "swap", "extra_col", "empty"]),
       st.integers(min_value=0), st.binary(min_size=1, max_size=6), st.booleans())
def test_tardis_when_one_line_corrupted_names_file_and_line(tardis, name, index, how, cut, junk, gz):
    lines = _tardis_files()[name].splitlines(keepends=True)
    i = 1 + index % (len(lines) - 1)  # never the header
    line = lines[i].rstrip(b"\n")
    if how == "cut":
        line = line[: cut % max(1, len(line))]
    elif how == "junk":
        at = cut % max(1, len(line))
        line = line[:at] + junk + line[at:]
    elif how == "swap":
        parts = line.split(b",")
        parts[cut % len(parts)] = junk
        line = b",".join(parts)
    elif how == "extra_col":
        line = line + b"," + junk
    else:
        line = b""
    lines[i] = line + b"\n"
    data = b"".join(lines)
    path = _write(gzip.compress(data) if gz else data, name + (".gz" if gz else ""))
    exc = _load_only_data_file_error(path)
    if exc is not None and how != "empty":
        # junk holding a newline splits the line: the error may name any of the pieces
        first, last = i + 1, i + 1 + (junk.count(b"\n") if how != "cut" else 0)
        assert first <= exc.line <= last, f"corrupted lines {first}..{last}, error names {exc}"


@FUZZ
@given(st.binary(max_size=400), st.booleans())
def test_load_events_when_bytes_are_random_raises_only_data_file_error(data, gz):
    path = _write(gzip.compress(data) if gz else data, "random.bin")
    exc = _load_only_data_file_error(path)
    if not data.strip():
        assert exc is not None, "an empty file was accepted as market data"


@FUZZ
@given(st.sampled_from([b"exchange,symbol,", b'{"ts":', b"1721347020984480942 {"]), st.binary(max_size=300))
def test_load_events_when_header_is_right_but_body_is_random_raises_only_data_file_error(head, body):
    _load_only_data_file_error(_write(head + body, "data.csv"))
