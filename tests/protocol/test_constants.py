"""Channel-name builders and URLs (thalex_protocol.md §1, §4.2)."""

from __future__ import annotations

import pytest

from thalex_mm.protocol.constants import (
    PROD_URL,
    TEST_URL,
    book_channel,
    lwt_channel,
    network_url,
    price_index_channel,
    recent_trades_channel,
    ticker_channel,
)


def test_channel_builders_when_given_defaults_spell_reference_names():
    assert ticker_channel("BTC-PERPETUAL") == "ticker.BTC-PERPETUAL.raw"
    assert lwt_channel("BTC-PERPETUAL", "1000ms") == "lwt.BTC-PERPETUAL.1000ms"
    assert book_channel("BTC-PERPETUAL") == "book.BTC-PERPETUAL.none.all.raw"
    assert book_channel("BTC-PERPETUAL", "5", 10, "100ms") == "book.BTC-PERPETUAL.5.10.100ms"
    assert price_index_channel("BTCUSD") == "price_index.BTCUSD"
    assert recent_trades_channel("BTCUSD", "all") == "recent_trades.BTCUSD.all"
    assert recent_trades_channel("BTC-PERPETUAL", "single") == "recent_trades.BTC-PERPETUAL.single"


@pytest.mark.parametrize(("build", "message"), [
    (lambda: ticker_channel("BTC-PERPETUAL", "1s"), "delay: got '1s'"),
    (lambda: ticker_channel(""), "instrument"),
    (lambda: book_channel("X", nlevels=0), "nlevels: got 0"),
    (lambda: book_channel("X", grouping="-1"), "grouping: got '-1'"),
    (lambda: recent_trades_channel("BTCUSD", "some"), "category: got 'some'"),
    (lambda: price_index_channel("A.B"), "underlying"),
])
def test_channel_builders_when_argument_bad_raise_naming_it(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_network_url_when_test_or_prod_gives_official_urls():
    assert network_url("test") == TEST_URL == "wss://testnet.thalex.com/ws/api/v2"
    assert network_url("prod") == PROD_URL == "wss://thalex.com/ws/api/v2"
    with pytest.raises(ValueError, match="network: got 'dev'"):
        network_url("dev")
