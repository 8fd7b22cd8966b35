"""Tardis CSV converters: the shared format fixtures and hand-written edge cases."""

from __future__ import annotations

import csv
import gzip
import os
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.data import EventKind, convert_tardis, convert_tardis_file, validate_events
from thalex_mm.errors import DataFileError

# tests here that need the shared data skip without it (fail under CI=true)
pytestmark = pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
TARDIS = DATA_DIR / "tardis_csv_format_samples_btc_perps"
BOOK = TARDIS / "deribit_incremental_book_L2_BTC-PERPETUAL.csv"
TRADES = TARDIS / "bitmex_trades_XBTUSD.csv"
SNAP5 = TARDIS / "binance-futures_book_snapshot_5_BTCUSDT.csv"
SNAP25 = TARDIS / "binance-futures_book_snapshot_25_BTCUSDT.csv"

needs_data = pytest.mark.skipif(
    not all(f.is_file() for f in (BOOK, TRADES, SNAP5, SNAP25)),
    reason=f"Tardis fixtures not found in {TARDIS} (set THALEX_MM_DATA_DIR)",
)

HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@needs_data
def test_tardis_book_fixture_when_all_snapshot_rows_gives_one_clear_and_levels() -> None:
    rows = _rows(BOOK)
    arr = convert_tardis_file(BOOK)
    assert arr["kind"][0] == EventKind.BOOK_CLEAR
    assert np.count_nonzero(arr["kind"] == EventKind.BOOK_CLEAR) == 1
    levels = arr[arr["kind"] == EventKind.BOOK_LEVEL]
    assert len(levels) == len(rows) == 15
    assert np.all(levels["side"] == -1)  # every row is an ask
    assert levels["price"].tolist() == [float(r["price"]) for r in rows]
    assert levels["qty"].sum() == sum(float(r["amount"]) for r in rows)
    assert levels["exch_ts"][0] == int(rows[0]["timestamp"]) * 1000
    assert levels["local_ts"][0] == int(rows[0]["local_timestamp"]) * 1000


@needs_data
def test_tardis_trades_fixture_when_converted_keeps_aggressor_side_and_amounts() -> None:
    rows = _rows(TRADES)
    arr = convert_tardis_file(TRADES)
    assert len(arr) == len(rows) == 10
    assert np.all(arr["kind"] == EventKind.TRADE)
    assert arr["side"].tolist() == [1 if r["side"] == "buy" else -1 for r in rows]
    assert arr["qty"].sum() == sum(float(r["amount"]) for r in rows)


@needs_data
@pytest.mark.parametrize(("path", "depth"), [(SNAP5, 5), (SNAP25, 25)])
def test_tardis_snapshot_fixture_when_converted_has_clear_per_row(path: Path, depth: int) -> None:
    rows = _rows(path)
    arr = convert_tardis_file(path)
    assert np.count_nonzero(arr["kind"] == EventKind.BOOK_CLEAR) == len(rows)
    assert np.count_nonzero(arr["kind"] == EventKind.BOOK_LEVEL) == len(rows) * 2 * depth
    best_ask = arr[(arr["kind"] == EventKind.BOOK_LEVEL) & (arr["side"] == -1)][0]
    assert best_ask["price"] == float(rows[0]["asks[0].price"])


@needs_data
def test_tardis_merge_when_book_and_trades_sorted_by_exchange_time() -> None:
    arr = convert_tardis([BOOK, TRADES])
    validate_events(arr)
    assert len(arr) == 16 + 10
    assert np.all(np.diff(arr["exch_ts"]) >= 0)


def test_tardis_book_when_snapshot_run_follows_updates_emits_new_clear(tmp_path: Path) -> None:
    body = [
        "x,S,1000,1001,true,bid,10,1",
        "x,S,1000,1001,true,ask,11,1",
        "x,S,2000,2001,false,bid,10,0",
        "x,S,3000,3001,true,bid,9,2",
        "x,S,3000,3001,true,ask,12,3",
        "x,S,4000,4001,false,ask,12,4",
    ]
    path = tmp_path / "b.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write(HEADER + "\n".join(body) + "\n")
    arr = convert_tardis_file(path)
    assert arr["kind"].tolist() == [1, 2, 2, 2, 1, 2, 2, 2]
    assert arr["exch_ts"][4] == 3_000_000  # the second clear sits at the new snapshot's time


def test_tardis_when_amount_not_numeric_raises_naming_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "x,S,1000,1001,true,bid,10,1\nx,S,1000,1001,true,ask,11,lots\n")
    with pytest.raises(DataFileError) as info:
        convert_tardis_file(path)
    assert (info.value.path, info.value.line) == (str(path), 3)


@pytest.mark.parametrize(
    ("row", "names"),
    [
        ("x,S,1000,1001,false,ask,11,-1", "column 8"),  # a '-' slipped in before an amount
        ("x,S,10000000000000000000,1001,false,ask,11,1", "timestamp"),  # too large for int64 ns
    ],
)
def test_tardis_when_value_out_of_range_raises_naming_line_and_field(tmp_path: Path, row: str, names: str) -> None:
    """Found by the fuzz test: both used to escape as a bare ValueError / OverflowError."""
    path = tmp_path / "bad.csv"
    path.write_text(HEADER + "x,S,1000,1001,true,bid,10,1\n" + row + "\n")
    with pytest.raises(DataFileError, match=names) as info:
        convert_tardis_file(path)
    assert (info.value.path, info.value.line) == (str(path), 3)


def test_tardis_when_header_unknown_raises(tmp_path: Path) -> None:
    path = tmp_path / "x.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(DataFileError, match="unknown Tardis CSV header"):
        convert_tardis_file(path)


def test_tardis_when_quoted_field_spans_lines_names_physical_line_of_later_error(tmp_path: Path) -> None:
    # line 2 holds a quoted field with a newline (two physical lines); the short row is line 4
    path = tmp_path / "multi.csv"
    path.write_text(HEADER + 'x,"S\nS",1000,1001,true,bid,10,1\nx,S,1000\n')
    with pytest.raises(DataFileError) as info:
        convert_tardis_file(path)
    assert info.value.line == 4, info.value


@pytest.mark.parametrize("bad", ["x,S,1000,1001,true,bid,1\r0,1\n", 'x,S,1000,1001,true,bid,"10,1\n'])
def test_tardis_when_row_is_malformed_csv_raises_data_file_error_naming_line(tmp_path: Path, bad: str) -> None:
    path = tmp_path / "bad.csv"
    path.write_bytes((HEADER + "x,S,1000,1001,true,bid,10,1\n" + bad).encode())
    with pytest.raises(DataFileError) as info:
        convert_tardis_file(path)
    assert info.value.line == 3, info.value


def test_tardis_trades_when_side_unknown_drops_row_and_when_junk_names_line(tmp_path: Path) -> None:
    ok = tmp_path / "trades.csv"
    rows = ["x,S,1000,1001,t1,buy,10,1\n", "x,S,1000,1001,t2,unknown,10,1\n", "x,S,1002,1003,t3,sell,11,2\n"]
    ok.write_text(HEADER.replace("is_snapshot,side,price,amount", "id,side,price,amount") + "".join(rows))
    arr = convert_tardis_file(ok)
    assert arr["side"].tolist() == [1, -1] and arr["price"].tolist() == [10.0, 11.0]
    bad = tmp_path / "bad.csv"
    bad.write_text(HEADER.replace("is_snapshot,side,price,amount", "id,side,price,amount") + rows[0] + "x,S,1,1,t,\x00,1,1\n")
    with pytest.raises(DataFileError, match="side") as info:
        convert_tardis_file(bad)
    assert info.value.line == 3
