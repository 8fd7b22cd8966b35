"""Recording format: writer/reader round trip, truncated tail, rotation, Thalex payloads."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import orjson
import pytest

from thalex_mm.data import EventKind, RecordingReader, RecordingWriter, read_recording
from thalex_mm.errors import DataFileError

T0 = 1_716_200_000_000_000_000  # ns


def _frames() -> list[tuple[int, dict]]:
    """Thalex notification frames as in thalex_protocol.md §4.3."""
    return [
        (
            T0 + 1,
            {
                "channel_name": "book.BTC-PERPETUAL.none.all.raw",
                "snapshot": True,
                "notification": {
                    "bid_changes": [[64990, 0.5, 0.5], [64980, 1.2, 1.2]],
                    "ask_changes": [[65010, 0.2, 0.2]],
                    "trades": [[65000, 0.1, "buy", 1716199990.1, False]],
                    "total_bid_amount": 1.7,
                    "total_ask_amount": 0.2,
                    "time": 1716200000.2,
                },
            },
        ),
        (
            T0 + 2,
            {
                "channel_name": "ticker.BTC-PERPETUAL.raw",
                "notification": {
                    "best_bid_price": 64990,
                    "best_bid_amount": 0.5,
                    "best_ask_price": None,
                    "best_ask_amount": None,
                    "mark_price": 65001.3,
                    "mark_timestamp": 1716200000.51,
                    "delta": 1,
                    "index": 64980.2,
                    "funding_rate": 0.00001,
                },
            },
        ),
        (
            T0 + 3,
            {
                "channel_name": "price_index.BTCUSD",
                "notification": {
                    "index_name": "BTCUSD",
                    "price": 64980.2,
                    "timestamp": 1716200000.4,
                },
            },
        ),
        (
            T0 + 4,
            {
                "channel_name": "book.BTC-PERPETUAL.none.all.raw",
                "notification": {
                    "bid_changes": [[64990, 0, 0]],
                    "ask_changes": [],
                    "trades": [[65010, 0.2, "buy", 1716200000.65, False]],
                    "total_bid_amount": 1.2,
                    "total_ask_amount": 0.2,
                    "time": 1716200000.7,
                },
            },
        ),
        (
            T0 + 5,
            {
                "channel_name": "book.BTC-28JUN24.none.all.raw",
                "notification": {
                    "bid_changes": [[1, 1, 1]],
                    "ask_changes": [],
                    "trades": [],
                    "time": 1716200000.8,
                },
            },
        ),
        (T0 + 6, {"channel_name": "account.portfolio", "notification": [{"position": 1}]}),
    ]


def test_recording_when_written_and_read_back_converts_thalex_payloads(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path) as w:
        for ts, frame in _frames():
            w.write_frame(ts, frame)
    arr = read_recording(w.paths, instrument="BTC-PERPETUAL")
    K = EventKind
    got = [
        (K(int(e["kind"])).name, int(e["side"]), float(e["price"]), float(e["qty"])) for e in arr
    ]
    assert got == [
        ("BOOK_CLEAR", 0, 0.0, 0.0),
        ("BOOK_LEVEL", 1, 64990.0, 0.5),
        ("BOOK_LEVEL", 1, 64980.0, 1.2),
        ("BOOK_LEVEL", -1, 65010.0, 0.2),
        ("INDEX", 0, 64980.2, 0.0),  # price_index at .4 s
        ("MARK", 0, 65001.3, 0.0),  # ticker at .51 s
        ("INDEX", 0, 64980.2, 0.0),
        ("FUNDING_RATE", 0, 0.00001, 0.0),
        ("BEST_BID_ASK", 1, 64990.0, 0.5),
        ("TRADE", 1, 65010.0, 0.2),  # at .65 s; the snapshot's old trade is skipped
        ("BOOK_LEVEL", 1, 64990.0, 0.0),
    ]
    assert arr["exch_ts"][0] == 1_716_200_000_200_000_000
    assert arr["local_ts"][0] == T0 + 1
    # without the instrument filter the other instrument's book level is kept too
    assert len(read_recording(w.paths)) == len(arr) + 1


def test_recording_when_file_truncated_reads_up_to_last_good_record(tmp_path: Path) -> None:
    n = 200
    with RecordingWriter(tmp_path, flush_records=10) as w:
        for i in range(n):
            w.write(T0 + i, "price_index.BTCUSD", {"price": 60000 + i, "timestamp": 1.7e9 + i})
    (path,) = w.paths
    data = path.read_bytes()
    counts = {}
    for cut in (len(data) - 7, len(data) - 40, len(data) // 2, 25):
        p = tmp_path / f"cut{cut}.jsonl.gz"
        p.write_bytes(data[:cut])
        reader = RecordingReader(p)
        recs = [r for _, r in reader]
        assert reader.truncated
        assert [r.msg["price"] for r in recs] == list(range(60000, 60000 + len(recs)))
        counts[cut] = len(recs)
    assert counts[len(data) - 7] == n  # only the gzip trailer (CRC, size) lost
    assert n - 10 <= counts[len(data) - 40] < n  # complete members all survive
    assert 0 < counts[len(data) // 2] < n
    assert counts[25] == 0  # not even one record's line complete
    whole = RecordingReader(path)
    assert sum(1 for _ in whole) == n and not whole.truncated


def test_recording_when_file_is_multi_member_gzip_zcat_reads_it(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path, flush_records=3) as w:
        for i in range(10):
            w.write(T0 + i, "x", i)
    lines = gzip.decompress(w.paths[0].read_bytes()).splitlines()
    assert [orjson.loads(x)["msg"] for x in lines] == list(range(10))


def test_recording_when_rotating_by_time_and_size_starts_new_files(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path / "t", rotate_s=10.0, flush_records=1) as w:
        for i in range(30):
            w.write(T0 + i * 1_000_000_000, "x", i)  # one record per second
    assert len(w.paths) == 3
    with RecordingWriter(tmp_path / "b", rotate_bytes=200, flush_records=5) as wb:
        for i in range(100):
            wb.write(T0 + i, "x", {"v": i, "pad": "y" * (i % 17)})
    assert len(wb.paths) > 3
    values = [r.msg["v"] for p in wb.paths for _, r in RecordingReader(p)]
    assert values == list(range(100))


def test_recording_when_new_writer_never_overwrites(tmp_path: Path) -> None:
    for _ in range(2):
        with RecordingWriter(tmp_path) as w:
            w.write(T0, "x", 1)
    assert len(list(tmp_path.iterdir())) == 2


def test_recording_when_complete_line_is_bad_raises_naming_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl.gz"
    good = orjson.dumps({"ts": 1, "ch": "x", "msg": 1})
    path.write_bytes(gzip.compress(good + b"\n" + good + b"\n{oops\n" + good + b"\n"))
    with pytest.raises(DataFileError) as info:
        list(RecordingReader(path))
    assert (info.value.path, info.value.line) == (str(path), 3)


def test_recording_when_payload_misses_field_raises_naming_line(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path) as w:
        w.write(T0, "price_index.BTCUSD", {"price": 1.0, "timestamp": 1.0})
        w.write(T0, "price_index.BTCUSD", {"price": 1.0})
    with pytest.raises(DataFileError, match="timestamp") as info:
        read_recording(w.paths)
    assert info.value.line == 2


def test_recording_when_empty_gives_empty_array(tmp_path: Path) -> None:
    with RecordingWriter(tmp_path) as w:
        pass
    assert w.paths == []
    assert read_recording([]).size == 0
    assert np.asarray(read_recording([])).dtype.names[0] == "kind"
