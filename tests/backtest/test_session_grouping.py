"""Sessions are grouped by the time continuity of file contents, not by file names."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest

from thalex_mm.backtest.sessions import file_span, group_sessions
from thalex_mm.cli import main
from thalex_mm.data import RecordingWriter
from thalex_mm.errors import DataFileError

# tests here that need the shared data skip without it (fail under CI=true)
pytestmark = pytest.mark.real_part("the shared market data (THALEX_MM_DATA_DIR or ../shared/data)")

S = 1_000_000_000
# 2024-07-06T04:28:31Z; the digits "20240111" inside the ns number look like a date.
T0_NS = 1_720_240_111 * S
REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("THALEX_MM_CACHE_DIR", str(tmp_path / "cache"))


def _tardis(path: Path, kind: str, t0_us: int, seconds: int, symbol: str = "BTC-PERPETUAL"):
    if kind == "book":
        rows = ["exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount"]
        rows += [f"deribit,{symbol},{t0_us},{t0_us + 50},true,bid,{60000 - i},{10 + i}"
                 for i in range(3)]
        rows += [f"deribit,{symbol},{t0_us},{t0_us + 50},true,ask,{60001 + i},{10 + i}"
                 for i in range(3)]
        rows += [f"deribit,{symbol},{t0_us + k * S // 1000},{t0_us + k * S // 1000 + 50},"
                 f"false,bid,{60000 - k % 3},{20 + k}" for k in range(1, seconds + 1)]
    else:
        rows = ["exchange,symbol,timestamp,local_timestamp,id,side,price,amount"]
        rows += [f"deribit,{symbol},{t0_us + k * S // 1000 + 7},{t0_us + k * S // 1000 + 60},"
                 f"t{k},{'buy' if k % 2 else 'sell'},60000.5,10" for k in range(seconds)]
    path.write_text("\n".join(rows) + "\n")
    return str(path)


def test_tardis_book_and_trades_of_one_day_form_one_session(tmp_path):
    t0_us = 1_721_260_800 * 1_000_000  # 2024-07-18T00:00:00Z
    book = _tardis(tmp_path / "deribit_incremental_book_L2_2024-07-18_BTC-PERPETUAL.csv",
                   "book", t0_us, 30)
    trades = _tardis(tmp_path / "deribit_trades_2024-07-18_BTC-PERPETUAL.csv",
                     "trades", t0_us, 30)
    other = _tardis(tmp_path / "deribit_trades_2024-07-18_ETH-PERPETUAL.csv",
                    "trades", t0_us, 30, symbol="ETH-PERPETUAL")
    later = _tardis(tmp_path / "deribit_trades_2024-07-20_BTC-PERPETUAL.csv",
                    "trades", t0_us + 2 * 86_400 * 1_000_000, 10)
    g = group_sessions([trades, later, book, other])
    assert [sorted(s.paths) for s in g[:1]] == [sorted([book, trades])]
    assert [s.paths for s in g[1:]] == [(other,), (later,)]
    assert [s.label for s in g] == ["20240718T000000", "20240718T000000-2", "20240720"]


def test_gap_threshold_splits_and_joins(tmp_path):
    t0_us = 1_721_260_800 * 1_000_000
    a = _tardis(tmp_path / "a.csv", "trades", t0_us, 10)  # ends at t0 + 9 s
    b = _tardis(tmp_path / "b.csv", "trades", t0_us + 40 * 1_000_000, 10)  # 31 s later
    assert len(group_sessions([a, b])) == 1
    assert len(group_sessions([a, b], max_gap_s=30.0)) == 2
    span = file_span(a)
    assert span.first_ns == t0_us * 1000 + 7000 and span.last_ns == (t0_us + 9_000_007) * 1000


def _record(directory: Path, seconds: int, rotate_s: float) -> list[Path]:
    """A thalex-mm recording of a small moving market (book, trades, ticker)."""
    rng = np.random.default_rng(3)
    mid = 60000.0
    with RecordingWriter(directory, rotate_s=rotate_s, flush_records=50) as w:
        for k in range(seconds * 5):
            ts = T0_NS + k * S // 5
            t_s = ts / S
            old = round(mid)
            mid += float(rng.normal(0, 2.0))
            new = round(mid)
            bids = [[new - 1 - i, 1.0 + i, 1.0 + i] for i in range(5)]
            asks = [[new + 1 + i, 1.0 + i, 1.0 + i] for i in range(5)]
            if k:  # delete the previous levels that are not set again
                bids += [[p, 0, 0] for p in sorted({old - 1 - i for i in range(5)}
                                                   - {new - 1 - i for i in range(5)})]
                asks += [[p, 0, 0] for p in sorted({old + 1 + i for i in range(5)}
                                                   - {new + 1 + i for i in range(5)})]
            trades = [[new + (1 if k % 2 else -1), 0.1, "buy" if k % 2 else "sell", t_s,
                       False]] if k % 3 == 0 else []
            w.write_frame(ts, {"channel_name": "book.BTC-PERPETUAL.none.all.raw",
                               "snapshot": k == 0,
                               "notification": {"bid_changes": bids, "ask_changes": asks,
                                                "trades": trades, "time": t_s}})
            if k % 5 == 0:
                w.write_frame(ts + 1, {"channel_name": "ticker.BTC-PERPETUAL.raw",
                                       "notification": {"mark_price": mid,
                                                        "mark_timestamp": t_s, "index": mid,
                                                        "funding_rate": 0.0,
                                                        "best_bid_price": new - 1,
                                                        "best_bid_amount": 1.0,
                                                        "best_ask_price": new + 1,
                                                        "best_ask_amount": 1.0}})
        paths = list(w.paths)
    return paths


def test_rotated_recording_files_are_one_session_labelled_by_content(tmp_path):
    rec = tmp_path / "rec"
    files = _record(rec, seconds=60, rotate_s=15.0)
    assert len(files) >= 4
    (rec / "SOURCE.md").write_text("not data\n")
    g = group_sessions([str(rec)])
    assert len(g) == 1
    assert g[0].label == "20240706"  # not "20240111" read from the ns number in the name
    assert list(g[0].paths) == [str(p) for p in sorted(files)]
    # individual files in shuffled order: same one session, files in time order
    g2 = group_sessions([str(p) for p in reversed(files)])
    assert g2 == g


def test_empty_directory_is_a_clear_error(tmp_path):
    (tmp_path / "README").write_text("x")
    with pytest.raises(DataFileError, match="no supported data file"):
        group_sessions([str(tmp_path)])


def test_cli_backtest_over_a_recording_directory(tmp_path, capsys):
    rec = tmp_path / "rec"
    _record(rec, seconds=60, rotate_s=15.0)
    out = tmp_path / "out"
    rc = main(["backtest", "--data", str(rec), "--out", str(out), "--strip-timing"])
    assert rc == 0, capsys.readouterr().err
    s = json.loads((out / "summary.json").read_text())
    assert "sessions" not in s  # one session, not one per rotated file
    assert s["events"] > 300
    assert s["end_ts_ns"] - s["start_ts_ns"] > 50 * S
    assert len(s["settings"]["data"]) >= 4


def _shared_binance() -> Path:
    base = Path(os.environ.get("THALEX_MM_DATA_DIR", REPO.parent / "shared" / "data"))
    d = base / "binance_usdm_btcusdt_perp_l2_trades"
    if not d.is_dir():
        pytest.skip(f"shared Binance captures not found at {d} (set THALEX_MM_DATA_DIR)")
    return d


def test_shared_binance_captures_keep_two_files_per_session():
    d = _shared_binance()
    names = ["usdm_btcusdt_20240719.gz", "usdm_btcusdt_20230405.dat.gz",
             "usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20240718.gz"]
    g = group_sessions([str(d / n) for n in names])
    assert [s.label for s in g] == ["20230404-20230405", "20240718-20240719"]
    assert [[Path(p).name for p in s.paths] for s in g] == [
        ["usdm_btcusdt_20230404.dat.gz", "usdm_btcusdt_20230405.dat.gz"],
        ["usdm_btcusdt_20240718.gz", "usdm_btcusdt_20240719.gz"]]
    assert group_sessions([str(d)]) == g  # the directory expands to the same sessions


def _binance(path: Path, symbol: str, t0_ns: int, seconds: int) -> str:
    lines = [f'{t0_ns + k * S} {{"stream":"{symbol.lower()}@trade","data":{{"e":"trade",'
             f'"E":{(t0_ns + k * S) // 1_000_000},"s":"{symbol}","t":{k},"p":"100.0",'
             f'"q":"1.0","T":{(t0_ns + k * S) // 1_000_000},"m":false}}}}'
             for k in range(seconds)]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_binance_captures_of_two_symbols_at_the_same_time_are_two_sessions(tmp_path):
    t0 = 1_723_161_255 * S
    eth = _binance(tmp_path / "usdm_ethusdt.gz", "ETHUSDT", t0, 30)
    coin = _binance(tmp_path / "cm_ethusd_perp.gz", "ETHUSD_PERP", t0 + 5 * S, 30)
    g = group_sessions([eth, coin])
    assert sorted(s.paths for s in g) == sorted([(eth,), (coin,)])
    assert file_span(eth).stream != file_span(coin).stream
