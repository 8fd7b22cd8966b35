"""Binance raw capture conversion: real shared files (counts from SOURCE.md) and corrupt inputs."""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.data import (
    EventKind,
    convert_binance,
    median_clock_offset_ns,
    read_binance_session,
    validate_book_uncrossed,
    validate_events,
)
from thalex_mm.errors import DataFileError

# tests here that need the shared data skip without it (fail under CI=true)
pytestmark = pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")

REPO = Path(__file__).resolve().parents[2]
DATA_DIR = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO / ".." / "shared" / "data"))
BINANCE = DATA_DIR / "binance_usdm_btcusdt_perp_l2_trades"
F_0404 = BINANCE / "usdm_btcusdt_20230404.dat.gz"
F_0405 = BINANCE / "usdm_btcusdt_20230405.dat.gz"
F_0718 = BINANCE / "usdm_btcusdt_20240718.gz"
F_0719 = BINANCE / "usdm_btcusdt_20240719.gz"

needs_data = pytest.mark.skipif(
    not all(f.is_file() for f in (F_0404, F_0405, F_0718, F_0719)),
    reason=f"shared Binance capture not found in {BINANCE} (set THALEX_MM_DATA_DIR)",
)


def _independent_counts(path: Path) -> dict[str, int]:
    """Recount one file with the stdlib only (SOURCE.md's recipe), no thalex_mm code."""
    counts = {"depth_levels": 0, "trades": 0, "snapshot_levels": 0, "lid": -1}
    diffs = []
    with gzip.open(path, "rt") as f:
        for line in f:
            _ts, payload = line.split(" ", 1)
            msg = json.loads(payload)
            if "stream" not in msg:
                counts["lid"] = msg["lastUpdateId"]
                counts["snapshot_levels"] = len(msg["bids"]) + len(msg["asks"])
                continue
            kind = msg["stream"].split("@", 1)[1]
            d = msg["data"]
            if kind.startswith("depth"):
                n = len(d["b"]) + len(d["a"])
                counts["depth_levels"] += n
                diffs.append((d["u"], n))
            elif kind == "trade":
                counts["trades"] += 1
    counts["dropped"] = sum(n for u, n in diffs if u < counts["lid"])
    return counts


@pytest.fixture(scope="module")
def session_2023() -> tuple[np.ndarray, object]:
    return read_binance_session([F_0404, F_0405])


@pytest.fixture(scope="module")
def session_2024() -> tuple[np.ndarray, object]:
    return read_binance_session([F_0718, F_0719])


@needs_data
def test_binance_20230404_when_converted_counts_match_source_md_and_recount() -> None:
    arr, stats = read_binance_session([F_0404])
    ref = _independent_counts(F_0404)
    # SOURCE.md table: 13,384 lines, 4,322 depth msgs, 66,278 level updates, 2,197 trades, 99 mark
    assert (stats.lines, stats.depth_msgs, stats.depth_levels) == (13_384, 4_322, 66_278)
    assert (stats.trades, stats.mark_msgs, stats.snapshots) == (2_197, 99, 1)
    assert stats.depth_levels == ref["depth_levels"]
    assert stats.depth_levels_dropped == ref["dropped"]
    assert stats.snapshot_levels == ref["snapshot_levels"]
    kinds = np.bincount(arr["kind"], minlength=8)
    # level events = applied diff levels + snapshot levels (the snapshot is part of the book)
    assert (
        kinds[EventKind.BOOK_LEVEL] == ref["depth_levels"] - ref["dropped"] + ref["snapshot_levels"]
    )
    assert kinds[EventKind.BOOK_CLEAR] == 1
    assert kinds[EventKind.TRADE] == ref["trades"] == 2_197
    assert kinds[EventKind.MARK] == kinds[EventKind.INDEX] == 99
    assert kinds[EventKind.BEST_BID_ASK] == 0


@needs_data
@pytest.mark.parametrize("which", ["session_2023", "session_2024"])
def test_binance_session_when_synced_is_valid_sorted_and_never_crossed(
    which: str, request: pytest.FixtureRequest
) -> None:
    arr, stats = request.getfixturevalue(which)
    validate_events(arr)  # includes exch_ts non-decreasing, finite, qty >= 0
    validate_book_uncrossed(arr)
    first_clear = int(np.flatnonzero(arr["kind"] == EventKind.BOOK_CLEAR)[0])
    assert not np.any(arr["kind"][:first_clear] == EventKind.BOOK_LEVEL)
    assert np.count_nonzero(arr["kind"] == EventKind.BOOK_CLEAR) == 1
    levels = np.count_nonzero(arr["kind"] == EventKind.BOOK_LEVEL)
    assert levels == stats.depth_levels - stats.depth_levels_dropped + stats.snapshot_levels
    # local timestamps are ns after conversion (2023 files store µs)
    assert np.all(np.abs(arr["local_ts"] - arr["exch_ts"]) < 5 * 10**9)


@needs_data
def test_binance_sessions_when_paired_totals_match_source_md(session_2023, session_2024) -> None:
    s23, s24 = session_2023[1], session_2024[1]
    assert s23.depth_levels == 66_278 + 256_404
    assert s24.depth_levels == 75_704 + 325_155
    assert s23.trades + s24.trades == 23_636
    assert s23.lines + s24.lines == 145_749
    # 2024: the first applied diff precedes the snapshot line, and some earlier diffs are dropped
    ref = _independent_counts(F_0718)
    assert s24.depth_levels_dropped == ref["dropped"] > 0


@needs_data
def test_binance_clock_offset_when_2024_is_about_minus_1520ms(session_2023, session_2024) -> None:
    off23 = median_clock_offset_ns(session_2023[0]) / 1e6
    off24 = median_clock_offset_ns(session_2024[0]) / 1e6
    assert -20 < off23 < 40
    assert -1_600 < off24 < -1_450


# --- corrupt inputs -------------------------------------------------------------------------

LID = 1000


def _depth(
    U: int, u: int, pu: int, t_ms: int, bids=(("100.0", "1.000"),), asks=(("101.0", "2.000"),)
) -> str:
    data = {
        "e": "depthUpdate",
        "E": t_ms,
        "T": t_ms,
        "U": U,
        "u": u,
        "pu": pu,
        "b": bids,
        "a": asks,
    }
    return json.dumps({"stream": "btcusdt@depth@0ms", "data": data})


def _lines(n_diffs: int = 5) -> list[str]:
    """A tiny valid session: 2 pre-snapshot diffs (one dropped), snapshot, n diffs, a trade."""
    t0 = 1_700_000_000_000
    snap = {
        "lastUpdateId": LID,
        "E": t0 + 5,
        "T": t0 + 5,
        "bids": [["99.0", "1.0"], ["98.0", "2.0"]],
        "asks": [["102.0", "1.0"]],
    }
    trade = {
        "e": "trade",
        "E": t0 + 7,
        "T": t0 + 7,
        "t": 1,
        "p": "100.5",
        "q": "0.010",
        "X": "MARKET",
        "m": True,
    }
    rows = [
        _depth(900, 950, 899, t0),  # dropped: u < lastUpdateId
        _depth(951, 1005, 950, t0 + 6),  # first applied: U <= LID <= u, before snapshot in file
        json.dumps(snap),
        json.dumps({"stream": "btcusdt@trade", "data": trade}),
    ]
    prev = 1005
    for i in range(n_diffs):
        bids = ((f"{100 - i % 7}.0", f"{i % 13}.000"),)
        rows.append(_depth(prev + 1, prev + 10, prev, t0 + 10 + i, bids=bids))
        prev += 10
    return [f"{(t0 + 10 + i) * 1000} {r}" for i, r in enumerate(rows)]


def _write(path: Path, lines: list[str]) -> Path:
    with gzip.open(path, "wt") as f:
        f.write("\n".join(lines) + "\n")
    return path


def test_binance_tiny_session_when_valid_syncs_like_binance(tmp_path: Path) -> None:
    arr, stats = read_binance_session([_write(tmp_path / "ok.gz", _lines())])
    assert stats.depth_levels_dropped == 2
    kinds = arr["kind"].tolist()
    assert kinds.count(EventKind.BOOK_CLEAR) == 1
    assert kinds.count(EventKind.BOOK_LEVEL) == 3 + 6 * 2  # snapshot + 6 applied diffs
    validate_book_uncrossed(arr)
    assert kinds.count(EventKind.TRADE) == 1
    trade = arr[arr["kind"] == EventKind.TRADE][0]
    assert trade["side"] == -1 and trade["qty"] == pytest.approx(0.01)
    assert trade["local_ts"] == (1_700_000_000_000 + 13) * 1_000_000  # µs converted to ns
    validate_events(arr)


def test_binance_when_second_file_continues_chain_is_one_session(tmp_path: Path) -> None:
    lines = _lines()
    a = _write(tmp_path / "a.gz", lines[:6])
    b = _write(tmp_path / "b.gz", lines[6:])
    one = convert_binance([_write(tmp_path / "all.gz", lines)])
    two = convert_binance([a, b])
    assert np.array_equal(one, two)


@pytest.mark.parametrize(
    ("line_no", "content", "reason"),
    [
        (7, "1700000000000000 {bad json", "bad JSON"),
        (7, "1700000000000000 " + _depth(1026, 1035, 1024, 1_700_000_000_050), "gap"),
        (
            7,
            "1700000000000000 "
            + json.dumps({"stream": "btcusdt@trade", "data": {"T": 5, "p": "1"}}),
            "missing field",
        ),
        (
            7,
            "1700000000000000 " + _depth(1026, 1035, 1025, 1_700_000_000_050, bids=(("abc", "1"),)),
            "bad value",
        ),
        (7, "notanumber {}", "not an integer"),
    ],
)
def test_binance_when_line_is_corrupt_raises_naming_file_and_line(
    tmp_path: Path, line_no: int, content: str, reason: str
) -> None:
    lines = _lines()
    lines[line_no - 1] = content
    path = _write(tmp_path / "bad.gz", lines)
    with pytest.raises(DataFileError) as info:
        convert_binance([path])
    assert info.value.path == str(path)
    assert info.value.line == line_no
    assert reason in info.value.reason
    assert f"{path}:{line_no}" in str(info.value)


def test_binance_when_gzip_truncated_raises_naming_file(tmp_path: Path) -> None:
    good = _write(tmp_path / "good.gz", _lines(n_diffs=5000))
    data = good.read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(data[: len(data) // 2])
    with pytest.raises(DataFileError) as info:
        convert_binance([cut])
    assert info.value.path == str(cut)
    assert "gzip" in info.value.reason
    assert info.value.line > 1


def test_binance_when_no_snapshot_raises(tmp_path: Path) -> None:
    lines = [ln for ln in _lines() if "lastUpdateId" not in ln]
    path = _write(tmp_path / "nosnap.gz", lines)
    with pytest.raises(DataFileError, match="no REST depth snapshot"):
        convert_binance([path])


def test_binance_when_first_diff_skips_snapshot_id_raises(tmp_path: Path) -> None:
    lines = _lines()
    del lines[1]  # the diff covering lastUpdateId is lost: next diff starts at U=1006 > 1000
    path = _write(tmp_path / "skip.gz", lines)
    with pytest.raises(DataFileError, match="cannot synchronise") as info:
        convert_binance([path])
    assert info.value.line == 4


def _side_totals(arr: np.ndarray) -> dict[int, float]:
    book: dict[int, dict[float, float]] = {1: {}, -1: {}}
    for k, s, p, q in zip(
        arr["kind"].tolist(),
        arr["side"].tolist(),
        arr["price"].tolist(),
        arr["qty"].tolist(),
        strict=True,
    ):
        if k == EventKind.BOOK_CLEAR:
            book = {1: {}, -1: {}}
        elif k == EventKind.BOOK_LEVEL:
            if q > 0:
                book[s][p] = q
            else:
                book[s].pop(p, None)
    return {s: sum(levels.values()) for s, levels in book.items()}


@needs_data
def test_binance_session_when_mapped_to_thalex_grid_stays_valid_and_keeps_size(
    session_2023,
) -> None:
    from thalex_mm.data import map_events

    src = session_2023[0]
    out = map_events(src, target_tick=1.0, target_volume_tick=0.001)
    validate_events(out)
    validate_book_uncrossed(out)
    levels = out[out["kind"] == EventKind.BOOK_LEVEL]
    assert np.all(levels["price"] == np.round(levels["price"]))
    src_tot, out_tot = _side_totals(src), _side_totals(out)
    for side in (1, -1):
        assert out_tot[side] == pytest.approx(src_tot[side], rel=1e-9)
    assert np.count_nonzero(out["kind"] == EventKind.TRADE) == np.count_nonzero(
        (src["kind"] == EventKind.TRADE) & (src["qty"] >= 0.0005)
    )


def _with_symbol(lines: list[str], symbol: str) -> list[str]:
    """The tiny session with every stream message's data naming ``symbol`` (field ``s``)."""
    out = []
    for line in lines:
        ts, payload = line.split(" ", 1)
        msg = json.loads(payload)
        if "stream" in msg:
            msg["data"]["s"] = symbol
        out.append(f"{ts} {json.dumps(msg)}")
    return out


@pytest.mark.parametrize(("symbol", "contract_usd"), [("ETHUSD_PERP", 10.0), ("BTCUSD_PERP", 100.0)])
def test_binance_when_coinm_symbol_sizes_become_base_currency_at_row_price(tmp_path: Path, symbol, contract_usd) -> None:
    arr, _ = read_binance_session([_write(tmp_path / "cm.gz", _with_symbol(_lines(), symbol))])
    trade = arr[arr["kind"] == EventKind.TRADE][0]
    assert trade["qty"] == pytest.approx(0.01 * contract_usd / 100.5)  # 0.01 contracts at 100.5
    levels = arr[(arr["kind"] == EventKind.BOOK_LEVEL) & (arr["price"] == 102.0)]
    assert levels["qty"][0] == pytest.approx(1.0 * contract_usd / 102.0)


def test_binance_when_usdm_symbol_sizes_stay_in_base_currency(tmp_path: Path) -> None:
    arr, _ = read_binance_session([_write(tmp_path / "um.gz", _with_symbol(_lines(), "ETHUSDT"))])
    trade = arr[arr["kind"] == EventKind.TRADE][0]
    assert trade["qty"] == pytest.approx(0.01)
