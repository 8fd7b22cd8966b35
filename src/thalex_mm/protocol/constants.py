"""Thalex wire constants: URLs, method names and channel names (thalex_protocol.md §1, §4, §5).

Together with the other modules of :mod:`thalex_mm.protocol` this is the only place that spells
Thalex wire strings. The bot and the simulated exchange both import from here, so the two
cannot drift apart silently.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "DELAYS",
    "PROD_URL",
    "TEST_URL",
    "Channel",
    "Method",
    "book_channel",
    "channel_prefix",
    "lwt_channel",
    "network_url",
    "price_index_channel",
    "recent_trades_channel",
    "ticker_channel",
]

PROD_URL = "wss://thalex.com/ws/api/v2"
"""Production WebSocket endpoint (§1)."""
TEST_URL = "wss://testnet.thalex.com/ws/api/v2"
"""Testnet WebSocket endpoint (§1)."""

DELAYS = ("100ms", "200ms", "500ms", "1000ms", "5000ms", "60000ms", "raw")
"""Allowed ``<delay>`` values of public channels (§4.2)."""

_RECENT_TRADES_CATEGORIES = ("single", "all", "options", "future_rolls")


def network_url(network: str) -> str:
    """Return the WebSocket URL for ``"test"`` or ``"prod"``.

    Raises:
        ValueError: for any other network name.
    """
    if network == "test":
        return TEST_URL
    if network == "prod":
        return PROD_URL
    raise ValueError(f"network: got {network!r}, expected 'test' or 'prod'")


class Method(StrEnum):
    """JSON-RPC method names (§2–§6)."""

    LOGIN = "public/login"
    SET_CANCEL_ON_DISCONNECT = "private/set_cancel_on_disconnect"
    CANCEL_SESSION = "private/cancel_session"
    INSTRUMENTS = "public/instruments"
    ALL_INSTRUMENTS = "public/all_instruments"
    INSTRUMENT = "public/instrument"
    TICKER = "public/ticker"
    INDEX = "public/index"
    BOOK = "public/book"
    SYSTEM_INFO = "public/system_info"
    PUBLIC_SUBSCRIBE = "public/subscribe"
    PRIVATE_SUBSCRIBE = "private/subscribe"
    UNSUBSCRIBE = "unsubscribe"
    INSERT = "private/insert"
    BUY = "private/buy"
    SELL = "private/sell"
    AMEND = "private/amend"
    CANCEL = "private/cancel"
    CANCEL_ALL = "private/cancel_all"
    MASS_QUOTE = "private/mass_quote"
    CANCEL_MASS_QUOTE = "private/cancel_mass_quote"
    SET_MM_PROTECTION = "private/set_mm_protection"
    OPEN_ORDERS = "private/open_orders"
    PORTFOLIO = "private/portfolio"
    ACCOUNT_SUMMARY = "private/account_summary"
    TRADE_HISTORY = "private/trade_history"
    ORDER_HISTORY = "private/order_history"


class Channel(StrEnum):
    """Channel names without parameters, and the prefixes of parameterised ones (§4.2, §5.4)."""

    # private, fixed names
    SESSION_ORDERS = "session.orders"
    ACCOUNT_ORDERS = "account.orders"
    ACCOUNT_PORTFOLIO = "account.portfolio"
    ACCOUNT_TRADE_HISTORY = "account.trade_history"
    ACCOUNT_SUMMARY = "account.summary"
    SESSION_MM_PROTECTION = "session.mm_protection"
    # public, fixed names
    SYSTEM = "system"
    INSTRUMENTS = "instruments"
    # public prefixes (text before the first '.')
    TICKER = "ticker"
    LWT = "lwt"
    BOOK = "book"
    PRICE_INDEX = "price_index"
    RECENT_TRADES = "recent_trades"


def _check_delay(delay: str) -> str:
    if delay not in DELAYS:
        raise ValueError(f"delay: got {delay!r}, expected one of {', '.join(DELAYS)}")
    return delay


def _check_name(what: str, value: str) -> str:
    if not isinstance(value, str) or not value or "." in value:
        raise ValueError(f"{what}: got {value!r}, expected a non-empty name without '.'")
    return value


def ticker_channel(instrument: str, delay: str = "raw") -> str:
    """``ticker.<instrument>.<delay>`` (full Ticker payload, §4.3).

    Raises:
        ValueError: on an empty instrument or an unknown delay.
    """
    return f"ticker.{_check_name('instrument', instrument)}.{_check_delay(delay)}"


def lwt_channel(instrument: str, delay: str = "raw") -> str:
    """``lwt.<instrument>.<delay>`` (lightweight ticker, §4.2)."""
    return f"lwt.{_check_name('instrument', instrument)}.{_check_delay(delay)}"


def book_channel(
    instrument: str, grouping: str = "none", nlevels: str | int = "all", delay: str = "raw"
) -> str:
    """``book.<instrument>.<grouping>.<nlevels>.<delay>`` (§4.2).

    Args:
        instrument: e.g. ``BTC-PERPETUAL``.
        grouping: ``none`` or a USD price step aligned to the tick (e.g. ``"5"``).
        nlevels: a positive number of levels or ``all``.
        delay: one of :data:`DELAYS`.
    """
    text = str(nlevels)
    if isinstance(nlevels, bool) or not (text == "all" or (text.isdigit() and int(text) > 0)):
        raise ValueError(f"nlevels: got {nlevels!r}, expected a positive integer or 'all'")
    grouping = str(grouping)
    if grouping != "none":
        try:
            if float(grouping) <= 0:
                raise ValueError
        except ValueError:
            raise ValueError(
                f"grouping: got {grouping!r}, expected 'none' or a positive price step"
            ) from None
    return (
        f"book.{_check_name('instrument', instrument)}.{grouping}.{nlevels}.{_check_delay(delay)}"
    )


def price_index_channel(underlying: str) -> str:
    """``price_index.<underlying>``, e.g. ``price_index.BTCUSD`` (§4.2)."""
    return f"price_index.{_check_name('underlying', underlying)}"


def recent_trades_channel(target: str, category: str = "all") -> str:
    """``recent_trades.<target>.<category>`` (§4.2).

    Args:
        target: an underlying (``BTCUSD``) or an instrument name.
        category: ``single`` (instrument targets) or ``all``/``options``/``future_rolls``
            (underlying targets).
    """
    if category not in _RECENT_TRADES_CATEGORIES:
        raise ValueError(
            f"category: got {category!r}, expected one of {', '.join(_RECENT_TRADES_CATEGORIES)}"
        )
    return f"recent_trades.{_check_name('target', target)}.{category}"


def channel_prefix(channel_name: str) -> str:
    """The text before the first ``.`` (the whole name when there is none)."""
    head, _, _ = channel_name.partition(".")
    return head
