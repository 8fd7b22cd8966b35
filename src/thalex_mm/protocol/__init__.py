"""The Thalex protocol codec: the only code that spells Thalex JSON field names.

Pure (no sockets, no clock). Bot side: :mod:`.requests` (request frames), :mod:`.auth` (login
JWT), :mod:`.decoder` (frames -> core events). Simulator side: :mod:`.server_codec`
(requests in, replies and notifications out) and :mod:`.params` (request-param readers).
See ``thalex_protocol.md``.
"""

from thalex_mm.protocol import requests
from thalex_mm.protocol.auth import (
    IatSequencer,
    generate_rsa_keypair,
    make_login_token,
    verify_login_token,
)
from thalex_mm.protocol.constants import (
    PROD_URL,
    TEST_URL,
    Channel,
    Method,
    book_channel,
    lwt_channel,
    network_url,
    price_index_channel,
    recent_trades_channel,
    ticker_channel,
)
from thalex_mm.protocol.decoder import decode_frame
from thalex_mm.protocol.error_codes import ErrorCode
from thalex_mm.protocol.params import (
    AmendParams,
    CancelParams,
    InsertParams,
    MassQuoteParams,
    SetMmpParams,
)
from thalex_mm.protocol.parsers import (
    parse_account_summary,
    parse_account_trade,
    parse_instrument,
    parse_mmp_status,
    parse_order_status,
    parse_portfolio_entry,
)
from thalex_mm.protocol.rejections import LoginRejected, RequestRejected
from thalex_mm.protocol.requests import command_to_request, encode_frame, mass_quote_item
from thalex_mm.protocol.server_codec import (
    BadRequest,
    Request,
    encode_error,
    encode_notification,
    encode_response,
    parse_request,
)

__all__ = [
    "PROD_URL",
    "TEST_URL",
    "AmendParams",
    "BadRequest",
    "CancelParams",
    "Channel",
    "ErrorCode",
    "IatSequencer",
    "InsertParams",
    "LoginRejected",
    "MassQuoteParams",
    "Method",
    "Request",
    "RequestRejected",
    "SetMmpParams",
    "book_channel",
    "command_to_request",
    "decode_frame",
    "encode_error",
    "encode_frame",
    "encode_notification",
    "encode_response",
    "generate_rsa_keypair",
    "lwt_channel",
    "make_login_token",
    "mass_quote_item",
    "network_url",
    "parse_account_summary",
    "parse_account_trade",
    "parse_instrument",
    "parse_mmp_status",
    "parse_order_status",
    "parse_portfolio_entry",
    "parse_request",
    "price_index_channel",
    "recent_trades_channel",
    "requests",
    "ticker_channel",
    "verify_login_token",
]
