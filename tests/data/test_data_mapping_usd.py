"""USD-sized markets (Deribit BTC-PERPETUAL, BitMEX XBTUSD): sizes become BTC per row, and
``sim``/``paper --replay`` detect them from Tardis files."""

from __future__ import annotations

import numpy as np
import pytest

from thalex_mm.data import EventKind, events_from_columns, map_events
from thalex_mm.data.mapping import usd_contract_market
from thalex_mm.errors import ConfigError
from thalex_mm.sim.app import ReplayMapping, build_simulated_exchange, replay_uses_usd_contracts

L, T = int(EventKind.BOOK_LEVEL), int(EventKind.TRADE)
BOOK_HEADER = "exchange,symbol,timestamp,local_timestamp,is_snapshot,side,price,amount\n"
TRADE_HEADER = "exchange,symbol,timestamp,local_timestamp,id,side,price,amount\n"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("THALEX_MM_CACHE_DIR", str(tmp_path / "cache"))


def _write(path, header: str, exchange: str, symbol: str, rows: list[str]) -> str:
    path.write_text(header + "".join(f"{exchange},{symbol},{r}\n" for r in rows))
    return str(path)


def _deribit_files(tmp_path, exchange="deribit", symbol="BTC-PERPETUAL") -> list[str]:
    book = _write(tmp_path / "book.csv", BOOK_HEADER, exchange, symbol, [
        "1700000000000000,1700000000000100,true,bid,65270,65270",    # 1 BTC
        "1700000000000000,1700000000000100,true,bid,65000,130000",   # 2 BTC
        "1700000000000000,1700000000000100,true,ask,65300,32650",    # 0.5 BTC
        "1700000000100000,1700000000100100,false,bid,65270,0",       # delete
    ])
    trades = _write(tmp_path / "trades.csv", TRADE_HEADER, exchange, symbol, [
        "1700000000050000,1700000000050100,t1,buy,65300,6530",       # 0.1 BTC
    ])
    return [book, trades]


@pytest.mark.parametrize(("exchange", "symbol", "usd"), [
    ("deribit", "BTC-PERPETUAL", True), ("deribit", "BTC-27DEC24", True),
    ("deribit", "BTC-27DEC24-60000-C", False), ("bitmex", "XBTUSD", True),
    ("bitmex", "XBTZ24", True), ("bitmex", "XBTUSDT", False),
    ("binance-futures", "BTCUSDT", False), ("Deribit", "btc-perpetual", True),
])
def test_usd_contract_market(exchange, symbol, usd):
    assert usd_contract_market(exchange, symbol) is usd


def test_usd_contracts_divides_each_row_by_its_own_price():
    arr = events_from_columns(
        [L, L, T], [1, -1, 1], [1, 2, 3], [1, 2, 3],
        [65_000.0, 70_000.0, 50_000.0], [130_000.0, 35_000.0, 10_000.0],
    )
    out = map_events(arr, usd_contracts=True)
    assert out["qty"].tolist() == [2.0, 0.5, 0.2]
    half = map_events(arr, usd_contracts=True, qty_scale=0.5)
    assert half["qty"].tolist() == [1.0, 0.25, 0.1]
    assert map_events(arr)["qty"].tolist() == [130_000.0, 35_000.0, 10_000.0]


def test_replayed_deribit_tardis_sizes_become_btc(tmp_path):
    files = _deribit_files(tmp_path)
    assert replay_uses_usd_contracts(files)
    sim, _keys = build_simulated_exchange(replay=files, speed=None, key_dir=tmp_path / "k")
    ev = sim.feed.source.events
    levels = {(int(e["side"]), float(e["price"])): float(e["qty"])
              for e in ev if e["kind"] == L}
    assert levels[(1, 65_000.0)] == 2.0 and levels[(-1, 65_300.0)] == 0.5
    assert levels[(1, 65_270.0)] == 0.0  # the later delete; it was 1 BTC before
    first = [float(e["qty"]) for e in ev if e["kind"] == L and e["price"] == 65_270.0]
    assert first == [1.0, 0.0]
    assert [float(e["qty"]) for e in ev if e["kind"] == T] == [0.1]
    assert float(np.max(ev["qty"])) <= 2.0  # no 65,270-"BTC" level


def test_explicit_unit_and_scales_override_the_detection(tmp_path):
    files = _deribit_files(tmp_path)
    base = ReplayMapping(qty_unit="base", qty_scale=1e-4).apply(files)
    assert [float(e["qty"]) for e in base if e["kind"] == T] == [0.653]
    shifted = ReplayMapping(price_scale=0.5, price_offset=10.0).apply(files)
    assert [float(e["price"]) for e in shifted if e["kind"] == T] == [32_660.0]
    (tmp_path / "o").mkdir()
    other = _deribit_files(tmp_path / "o", exchange="binance-futures", symbol="BTCUSDT")
    assert not replay_uses_usd_contracts(other)
    assert [float(e["qty"]) for e in ReplayMapping().apply(other) if e["kind"] == T] == [6530.0]


def test_mixed_usd_and_btc_files_need_an_explicit_unit(tmp_path):
    usd = _deribit_files(tmp_path)[1]
    (tmp_path / "b").mkdir()
    btc = _write(tmp_path / "b" / "t.csv", TRADE_HEADER, "binance-futures", "BTCUSDT",
                 ["1700000000060000,1700000000060100,t2,sell,65290,0.5"])
    with pytest.raises(ConfigError, match="--qty-unit"):
        ReplayMapping().apply([usd, btc])
    mixed = ReplayMapping(qty_unit="base").apply([usd, btc])
    assert [float(e["qty"]) for e in mixed if e["kind"] == T] == [6530.0, 0.5]


@pytest.mark.parametrize(("kwargs", "key"), [
    ({"qty_scale": 0.0}, "--qty-scale"), ({"price_scale": -1.0}, "--price-scale"),
    ({"qty_unit": "eur"}, "--qty-unit"), ({"price_offset": float("nan")}, "--price-offset"),
])
def test_bad_mapping_values_name_the_option(kwargs, key):
    with pytest.raises(ConfigError) as err:
        ReplayMapping(**kwargs)
    assert err.value.lines()[0].startswith(key)
