"""Typed refusals raised by the server side of the codec (request readers, login check).

The simulated exchange catches :class:`RequestRejected` and answers with
``encode_error(id, exc.code, exc.message)``. Messages name the offending field and never
contain key material or tokens.
"""

from __future__ import annotations

from thalex_mm.errors import ProtocolError
from thalex_mm.protocol.error_codes import ErrorCode

__all__ = ["LoginRejected", "RequestRejected"]


class RequestRejected(ProtocolError):
    """A client request the exchange refuses.

    Args:
        code: the Thalex error code to answer with.
        message: human text naming the field, the bad value and what is expected.
    """

    def __init__(self, code: ErrorCode | int, message: str) -> None:
        self.code = ErrorCode(code) if code in ErrorCode._value2member_map_ else int(code)
        self.message = message
        super().__init__(f"[{int(self.code)}] {message}")


class LoginRejected(RequestRejected):
    """``public/login`` refused: bad signature, unknown kid, stale or replayed ``iat``."""
